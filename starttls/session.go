package starttls

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds on what a dialogue reads, so that a hostile or broken peer cannot
// make it hold much memory or run for ever (the context's deadline bounds
// the time).
const (
	// MaxLine is the longest line a text protocol may send.
	MaxLine = 8 << 10
	// MaxLines is the most lines in one reply.
	MaxLines = 512
	// MaxPreamble is the most bytes a peer may send before the upgrade.
	MaxPreamble = 256 << 10
	// MaxPipelined is the most pipelined bytes kept as evidence.
	MaxPipelined = 4 << 10
	// maxText is the most of a message kept in its Text.
	maxText = 16 << 10
)

// errTooLong and friends are the bound errors; they make the outcome
// Unexpected.
var (
	errLineTooLong = fmt.Errorf("a line longer than %d KiB", MaxLine>>10)
	errTooMany     = fmt.Errorf("a reply of more than %d lines", MaxLines)
	errTooMuch     = fmt.Errorf("more than %d KiB before the upgrade", MaxPreamble>>10)
)

// session is one side of a dialogue over a connection: a bounded reader,
// the writer, and the result being built.
type session struct {
	c     net.Conn
	r     *bufio.Reader
	res   *Result
	trace func(Message)
	peer  Side   // the side we read from
	read  int    // bytes read so far, bounded by MaxPreamble
	held  []byte // bytes read beyond the last message (XML), still to be used
	// tlsStart is the start of the client's TLS handshake, read with its
	// upgrade request (MySQL: no reply comes between them).
	tlsStart []byte
	now      func() time.Time
}

func newSession(c net.Conn, p Protocol, peer Side, trace func(Message)) *session {
	return &session{
		c:     c,
		r:     bufio.NewReaderSize(c, 4096),
		res:   &Result{Protocol: p},
		trace: trace,
		peer:  peer,
		now:   time.Now,
	}
}

// bind makes the connection's reads and writes end at ctx's deadline, and
// at once when ctx is cancelled. The returned func undoes the latter.
func bind(ctx context.Context, c net.Conn) func() bool {
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	return context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
}

// cancelled reports whether err is the network timeout that bind caused
// when ctx was cancelled (a deadline in the past), which stands for the
// cancellation, not for a server that did not answer in time.
func cancelled(ctx context.Context, err error) bool {
	return errors.Is(ctx.Err(), context.Canceled) && isTimeout(err)
}

// interrupted is a dialogue step that ctx's cancellation cut short: the
// step's own words ("reading the greeting"), then "cancelled" where the
// network's timeout stood. It is ctx's error (errors.Is).
type interrupted struct {
	msg   string
	cause error
}

func (e *interrupted) Error() string { return e.msg }
func (e *interrupted) Unwrap() error { return e.cause }

// interrupt turns err, a network timeout that cancelled reports, into the
// cancellation it stands for.
func interrupt(ctx context.Context, err error) error {
	msg := err.Error()
	var op *net.OpError
	if errors.As(err, &op) {
		if i := strings.LastIndex(msg, op.Error()); i >= 0 {
			msg = msg[:i] + "cancelled"
		}
	} else {
		msg += " (cancelled)"
	}
	return &interrupted{msg: msg, cause: ctx.Err()}
}

// emit records a message and hands it to the trace.
func (s *session) emit(from Side, stage Stage, text string, n int) {
	m := Message{From: from, At: s.now(), Stage: stage, Text: clip(text), Bytes: n}
	s.res.Messages = append(s.res.Messages, m)
	if s.trace != nil {
		s.trace(m)
	}
}

// send writes raw to the peer and records it as text.
func (s *session) send(stage Stage, text string, raw []byte) error {
	us := Client
	if s.peer == Client {
		us = Server
	}
	s.emit(us, stage, text, len(raw))
	if _, err := s.c.Write(raw); err != nil {
		return fmt.Errorf("sending %s: %w", firstLine(text), err)
	}
	return nil
}

// sendLine sends a text line with CRLF.
func (s *session) sendLine(stage Stage, line string) error {
	return s.send(stage, line, []byte(line+"\r\n"))
}

// count adds n bytes read to the preamble bound.
func (s *session) count(n int) error {
	s.read += n
	if s.read > MaxPreamble {
		return errTooMuch
	}
	return nil
}

// checkTLS fails with ImplicitTLS when the first bytes the peer sends
// are a TLS record header: a server on an implicit-TLS port answering our
// plaintext with an alert, or a client starting a handshake at once.
func (s *session) checkTLS() error {
	b, err := s.r.Peek(1)
	if err != nil {
		return err
	}
	if b[0] != 0x15 && b[0] != 0x16 {
		return nil
	}
	b, err = s.r.Peek(3)
	if err != nil {
		return err
	}
	if b[1] == 3 && b[2] <= 4 {
		return &Error{Protocol: s.res.Protocol, Outcome: ImplicitTLS,
			Reply: fmt.Sprintf("a TLS record (% x…)", b)}
	}
	return nil
}

// line reads one line, without its line end (CRLF or a bare LF).
func (s *session) line() (string, int, error) {
	if s.read == 0 {
		if err := s.checkTLS(); err != nil {
			return "", 0, err
		}
	}
	var buf []byte
	for {
		frag, err := s.r.ReadSlice('\n')
		if cerr := s.count(len(frag)); cerr != nil {
			return "", 0, cerr
		}
		if len(buf)+len(frag) > MaxLine {
			return "", 0, errLineTooLong
		}
		buf = append(buf, frag...)
		switch {
		case err == nil:
			n := len(buf)
			return strings.TrimRight(string(buf), "\r\n"), n, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return "", 0, fmt.Errorf("the connection ended in the middle of a line (%q): %w", clip(string(buf)), io.ErrUnexpectedEOF)
		default:
			return "", 0, err
		}
	}
}

// full reads exactly n bytes.
func (s *session) full(n int) ([]byte, error) {
	if s.read == 0 {
		if err := s.checkTLS(); err != nil {
			return nil, err
		}
	}
	if err := s.count(n); err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.r, b); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("the connection ended in the middle of a packet: %w", err)
		}
		return nil, err
	}
	return b, nil
}

// pipelined collects what the peer sent beyond the reply just read, before
// the handshake: bytes already buffered. They are not part of TLS.
func (s *session) pipelined() {
	n := s.r.Buffered()
	if n == 0 && len(s.held) == 0 {
		return
	}
	b, _ := s.r.Peek(n)
	all := append(s.held, b...)
	s.held = nil
	kept := all[:min(len(all), MaxPipelined)]
	s.res.Pipelined = append([]byte(nil), kept...)
	text := fmt.Sprintf("%d bytes before the TLS handshake: %s", len(all), escape(kept))
	s.emit(s.peer, StagePipelined, text, len(all))
	s.r.Discard(n)
}

// isTimeout reports whether err is a deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// fail builds the error of an outcome and records the outcome.
func (s *session) fail(o Outcome, reply string, err error) error {
	s.res.Outcome = o
	if o == NotOffered && reply == "" && len(s.res.Capabilities) > 0 {
		reply = strings.Join(s.res.Capabilities, " ")
	}
	if s.res.Command == "" && s.res.Reply == "" && (o == Refused || o == NotOffered && len(s.res.Capabilities) == 0) {
		// The reply that ended the dialogue before the upgrade command
		// (an error greeting, EHLO rejected) is the evidence.
		s.res.Reply = clip(reply)
	}
	return &Error{Protocol: s.res.Protocol, Outcome: o, Reply: clip(reply), Command: s.res.Command, Err: err}
}

// netFail turns a read or write error into the dialogue's error: an
// [*Error] passes through (its outcome recorded), a bound is Unexpected,
// anything else (closed, reset, timeout) is Failed.
func (s *session) netFail(what string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		s.res.Outcome = e.Outcome
		return e
	}
	if errors.Is(err, errLineTooLong) || errors.Is(err, errTooMany) || errors.Is(err, errTooMuch) {
		return s.fail(Unexpected, "", fmt.Errorf("%s: the %s sent %w", what, s.peer, err))
	}
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("the %s closed the connection: %w", s.peer, err)
	}
	return s.fail(Failed, "", fmt.Errorf("%s: %w", what, err))
}

// clip bounds a text kept in a message or an error.
func clip(s string) string {
	if len(s) <= maxText {
		return s
	}
	cut := maxText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d more bytes)", len(s)-cut)
}

// firstLine returns the first line of s.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// escape renders bytes as text: printable UTF-8 as is, CR LF as \r\n,
// anything else as \xNN.
func escape(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\t':
			sb.WriteByte('\t')
		case r == utf8.RuneError && n <= 1, r < 0x20, r == 0x7f:
			fmt.Fprintf(&sb, `\x%02x`, b[0])
			n = 1
		default:
			sb.WriteRune(r)
		}
		b = b[n:]
	}
	return sb.String()
}

// printable returns a received line with control characters escaped.
func printable(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f || c >= 0x80 {
			return escape([]byte(s))
		}
	}
	return s
}

// asciiEqualFold reports whether s and t are equal under ASCII case
// folding only: the keywords of these protocols are ASCII, and
// strings.EqualFold takes "ſTARTTLS" (U+017F, a long s) for "STARTTLS".
func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'a' <= a && a <= 'z' {
			a -= 'a' - 'A'
		}
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// asciiUpper upper-cases the ASCII letters of s and leaves every other
// byte as it is, so that an index into the result is one into s: the
// keywords of these protocols are ASCII, and strings.ToUpper changes the
// length of what a server may send (an invalid UTF-8 byte becomes the
// three bytes of U+FFFD; "ſ" becomes "S").
func asciiUpper(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'a' <= b[j] && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
