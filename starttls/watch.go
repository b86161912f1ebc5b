package starttls

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Watcher follows a recorded connection's plaintext preamble passively,
// for captures: fed each side's bytes in the order they were seen, it
// recognises the protocol from the preamble itself (the port is only a
// hint), turns the plaintext into [Message]s, and says where TLS begins on
// each side: after the upgrade command and its go-ahead. Bytes a side sent
// between the go-ahead and its first TLS record are pipelined plaintext.
//
// A Watcher holds at most [MaxPreamble] bytes; a preamble it cannot follow
// (an unknown protocol, a line too long, a bound reached) makes it give
// up: it hands every byte it held back as not TLS, for the decoder to
// describe. It is not safe for concurrent use.
type Watcher struct {
	hint  Protocol
	proto Protocol
	res   Result
	sides [2]watchSide
	state watchState
	total int
	spoke bool // anyone sent anything
	tag   string
	ldap  int // messageID of the LDAP StartTLS request
	out   []Message
	cur   *Message // the message being gathered (one side's run)
}

type watchState int

const (
	watchPreamble  watchState = iota // before the upgrade command
	watchCommanded                   // the command was sent; waiting for the answer
	watchUpgraded                    // TLS from here, both sides
	watchDone                        // not upgraded and no longer watched: plaintext
	watchGaveUp                      // not a preamble this watcher follows
)

// watchSide is what the watcher holds of one side.
type watchSide struct {
	buf  []byte // bytes not yet consumed
	tls  bool   // TLS started on this side: bytes go to the decoder
	at   time.Time
	pipe []byte // plaintext after the go-ahead, before TLS (kept up to MaxPipelined)
	npip int    // its size
}

func sideIndex(s Side) int {
	if s == Client {
		return 0
	}
	return 1
}

// NewWatcher returns a watcher. hint is the protocol of the server's port
// ([ForPort]), used only where the preamble alone cannot tell (SMTP and
// FTP both greet with 220 until the client speaks).
func NewWatcher(hint Protocol) *Watcher {
	return &Watcher{hint: hint}
}

// Feed takes bytes that from sent at t. It returns the messages completed
// so far and the bytes of from's side that are TLS (to feed the decoder),
// and, once the watcher gave up, everything it held of that side.
func (w *Watcher) Feed(from Side, t time.Time, b []byte) (msgs []Message, tls []byte) {
	i := sideIndex(from)
	s := &w.sides[i]
	if s.tls || w.state == watchGaveUp {
		return w.take(), b
	}
	if w.state == watchDone {
		return w.take(), nil
	}
	w.total += len(b)
	if w.total > MaxPreamble {
		return w.giveUp(from, b)
	}
	s.buf = append(s.buf, b...)
	s.at = t
	if w.state == watchUpgraded {
		// This side had too few bytes to tell at the go-ahead.
		w.startTLS(i)
		if !s.tls {
			return w.take(), nil
		}
		rest := s.buf
		s.buf = nil
		return w.take(), rest
	}
	if w.proto == "" {
		if !w.detect(from) {
			if w.state == watchGaveUp {
				return w.giveUp(from, nil)
			}
			return w.take(), nil // need more bytes
		}
	}
	if !w.consume(from, t) {
		return w.giveUp(from, nil)
	}
	if s.tls {
		rest := s.buf
		s.buf = nil
		return w.take(), rest
	}
	return w.take(), nil
}

// Protocol returns the protocol recognised, "" while none is.
func (w *Watcher) Protocol() Protocol { return w.proto }

// Attempted reports whether the client asked for the upgrade: only then
// is the connection a STARTTLS connection worth reporting (a plaintext
// session that never asked is not).
func (w *Watcher) Attempted() bool { return w.res.Command != "" }

// GaveUp reports whether the watcher stopped following: the bytes are not
// a preamble it knows.
func (w *Watcher) GaveUp() bool { return w.state == watchGaveUp }

// Result returns what the preamble established so far. Its Outcome is
// Upgraded once both sides went on to TLS, else the outcome of the
// upgrade's answer, else Failed (the client asked and no answer came).
func (w *Watcher) Result() *Result {
	r := w.res
	r.Protocol = w.proto
	r.Messages = nil
	if r.Outcome == "" && r.Command != "" {
		r.Outcome = Failed
	}
	return &r
}

// Flush returns the message still being gathered and what a side left
// unfinished, at the end of the capture.
func (w *Watcher) Flush() []Message {
	w.flush()
	for i := range w.sides {
		w.endPipe(i)
	}
	for i, s := range w.sides {
		if len(s.buf) > 0 && !s.tls && w.state != watchGaveUp {
			side := Client
			if i == 1 {
				side = Server
			}
			w.out = append(w.out, Message{From: side, At: s.at, Stage: w.stage(side), Text: escape(s.buf[:min(len(s.buf), maxText)]) + " (unfinished)", Bytes: len(s.buf)})
			w.sides[i].buf = nil
		}
	}
	return w.take()
}

func (w *Watcher) take() []Message {
	out := w.out
	w.out = nil
	return out
}

// giveUp stops following and hands back what the watcher held of from's
// side (the other side's bytes come back with its next Feed).
func (w *Watcher) giveUp(from Side, b []byte) ([]Message, []byte) {
	w.state = watchGaveUp
	s := &w.sides[sideIndex(from)]
	held := append(s.buf, b...)
	s.buf = nil
	w.flush()
	return w.take(), held
}

// Held returns, once the watcher gave up, the bytes it still holds of a
// side, for the decoder.
func (w *Watcher) Held(from Side) []byte {
	if w.state != watchGaveUp {
		return nil
	}
	s := &w.sides[sideIndex(from)]
	b := s.buf
	s.buf = nil
	return b
}

// detect recognises the protocol from the first bytes; it reports false
// while more are needed (or after giving up).
func (w *Watcher) detect(from Side) bool {
	b := w.sides[sideIndex(from)].buf
	has := func(p string) bool { return bytes.HasPrefix(b, []byte(p)) }
	upper := asciiUpper(string(b[:min(len(b), 64)]))
	if len(b) >= 3 && (b[0] == 0x16 || b[0] == 0x15) && b[1] == 3 {
		w.state = watchGaveUp // TLS from the first byte
		return false
	}
	if from == Server {
		switch {
		case has("220"):
			// SMTP, LMTP or FTP: the client's first command tells.
			switch w.hint {
			case SMTP, LMTP, FTP:
				w.proto = w.hint
			default:
				if strings.Contains(upper, "FTP") {
					w.proto = FTP
				} else {
					w.proto = SMTP
				}
			}
		case has("* OK"), has("* PREAUTH"), has("* BYE"):
			w.proto = IMAP
		case has("+OK"), has("-ERR"):
			w.proto = POP3
		case has("200 "), has("201 "):
			w.proto = NNTP
		case has("\""):
			w.proto = Sieve
		case len(b) >= 5 && b[3] == 0 && b[4] == 10:
			w.proto = MySQL
		case has(":"), has("NOTICE"):
			w.proto = IRC
		case len(b) < 5:
			return false
		default:
			w.state = watchGaveUp
			return false
		}
		return true
	}
	switch {
	case len(b) < 8 && (len(b) == 0 || b[0] == 0):
		return false
	case len(b) >= 8 && binary.BigEndian.Uint32(b) == 8 && (binary.BigEndian.Uint32(b[4:]) == pgSSLCode || binary.BigEndian.Uint32(b[4:]) == pgGSSCode):
		w.proto = Postgres
	case b[0] == tagSequence:
		w.proto = LDAP
	case has("<?xml"), has("<stream"):
		if len(b) < 64 && !bytes.Contains(b, []byte("jabber:")) {
			return false
		}
		w.proto = XMPP
		if bytes.Contains(b, []byte("'jabber:server'")) || bytes.Contains(b, []byte(`"jabber:server"`)) {
			w.proto = XMPPServer
		}
	case strings.HasPrefix(upper, "CAP "), strings.HasPrefix(upper, "NICK "), strings.HasPrefix(upper, "STARTTLS"), strings.HasPrefix(upper, "USER "):
		w.proto = IRC
	case len(b) < 8:
		return false
	default:
		w.state = watchGaveUp
		return false
	}
	return true
}

// emit adds text from a side to the message being gathered: a side's run
// of messages until the other side speaks is one message.
func (w *Watcher) emit(from Side, t time.Time, stage Stage, text string, n int) {
	w.spoke = true
	if w.cur != nil && (w.cur.From != from || w.cur.Stage != stage) {
		w.flush()
	}
	if w.cur == nil {
		w.cur = &Message{From: from, At: t, Stage: stage}
	} else {
		w.cur.Text += "\n"
	}
	w.cur.Text = clip(w.cur.Text + text)
	w.cur.Bytes += n
}

func (w *Watcher) flush() {
	if w.cur != nil {
		w.out = append(w.out, *w.cur)
		w.cur = nil
	}
}

// stage is the stage of a message from side in the current state.
func (w *Watcher) stage(from Side) Stage {
	switch {
	case w.state == watchCommanded && from == Server:
		return StageUpgrade
	case !w.spoke:
		return StageGreeting
	}
	return StageCapabilities
}

// consume parses what from's side holds; false means give up.
func (w *Watcher) consume(from Side, t time.Time) bool {
	switch w.proto {
	case Postgres:
		return w.consumePostgres(from, t)
	case LDAP:
		return w.consumeLDAP(from, t)
	case MySQL:
		return w.consumeMySQL(from, t)
	case XMPP, XMPPServer:
		return w.consumeXMPP(from, t)
	}
	return w.consumeLines(from, t)
}

// consumeLines handles the line protocols.
func (w *Watcher) consumeLines(from Side, t time.Time) bool {
	s := &w.sides[sideIndex(from)]
	for !s.tls && w.state != watchDone {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			return len(s.buf) <= MaxLine
		}
		raw := s.buf[:i+1]
		line := strings.TrimRight(string(raw), "\r\n")
		s.buf = s.buf[i+1:]
		if from == Client {
			w.clientLine(line, len(raw), t)
		} else {
			w.serverLine(line, len(raw), t)
		}
	}
	return true
}

// clientLine looks at a client line: the protocol's first command settles
// SMTP versus LMTP versus FTP; the upgrade command changes the state.
func (w *Watcher) clientLine(line string, n int, t time.Time) {
	upper := asciiUpper(line)
	verb, _, _ := strings.Cut(upper, " ")
	if w.proto == SMTP || w.proto == LMTP || w.proto == FTP {
		switch verb {
		case "EHLO", "HELO":
			w.proto = SMTP
		case "LHLO":
			w.proto = LMTP
		case "FEAT", "AUTH", "USER", "SYST", "OPTS", "PBSZ":
			w.proto = FTP
		}
	}
	cmd := false
	switch w.proto {
	case SMTP, LMTP, NNTP, Sieve, IRC:
		cmd = verb == "STARTTLS"
	case POP3:
		cmd = verb == "STLS"
	case FTP:
		cmd = upper == "AUTH TLS" || upper == "AUTH SSL" || upper == "AUTH TLS-C"
	case IMAP:
		tag, rest, _ := strings.Cut(line, " ")
		if asciiEqualFold(strings.TrimSpace(rest), "STARTTLS") {
			cmd, w.tag = true, tag
		}
	}
	if cmd && w.state == watchPreamble {
		w.res.Command = printable(line)
		w.emit(Client, t, StageUpgrade, printable(line), n)
		w.state = watchCommanded
		return
	}
	w.emit(Client, t, w.stage(Client), printable(line), n)
}

// listsUpgrade reports whether a server line of a line-based protocol's
// preamble names the upgrade as a capability, as the protocol lists it:
// the keyword of an SMTP/LMTP EHLO line (250-STARTTLS, RFC 3207), an atom
// of an IMAP capability list (RFC 3501, in its CAPABILITY response or its
// greeting's code), POP3's STLS (RFC 2595) and NNTP's STARTTLS (RFC 4642)
// as a line of their capability lists, FTP's AUTH feature naming TLS (RFC
// 4217), ManageSieve's "STARTTLS" (RFC 5804), IRC's tls capability. A
// greeting that only mentions TLS in its text is not a capability.
func listsUpgrade(p Protocol, line string) bool {
	word := func(s string) string { w, _, _ := strings.Cut(strings.TrimSpace(s), " "); return w }
	switch p {
	case SMTP, LMTP:
		code, rest := line[:min(len(line), 4)], line[min(len(line), 4):]
		return (code == "250-" || code == "250 ") && asciiEqualFold(word(rest), "STARTTLS")
	case IMAP:
		// The client's own reading: a CAPABILITY response or response code.
		return slices.ContainsFunc(imapCaps(line), func(c string) bool { return asciiEqualFold(c, "STARTTLS") })
	case POP3:
		return asciiEqualFold(word(line), "STLS")
	case NNTP:
		return asciiEqualFold(word(line), "STARTTLS")
	case FTP:
		// A FEAT line is " AUTH TLS" (or "211-AUTH TLS;SSL" from some).
		return ftpAuthTLS(strings.TrimPrefix(line, "211-"))
	case Sieve:
		name, _ := sieveString(line)
		return asciiEqualFold(name, "STARTTLS")
	case IRC:
		m, ok := parseIRC(line)
		if !ok || m.command != "CAP" || len(m.params) < 3 || !asciiEqualFold(m.params[1], "LS") {
			return false
		}
		return slices.ContainsFunc(strings.Fields(m.params[len(m.params)-1]), func(c string) bool {
			name, _, _ := strings.Cut(c, "=")
			return asciiEqualFold(name, "tls")
		})
	}
	return false
}

// serverLine looks at a server line: the capabilities before the
// command, the answer to it after.
func (w *Watcher) serverLine(line string, n int, t time.Time) {
	stage := w.stage(Server)
	w.emit(Server, t, stage, printable(line), n)
	if w.state != watchCommanded {
		if listsUpgrade(w.proto, line) {
			w.res.Offered = true
		}
		if w.res.Greeting == nil && stage == StageGreeting {
			w.res.Greeting = []byte(line + "\r\n")
		}
		return
	}
	ok, final := false, false
	switch w.proto {
	case SMTP, LMTP, NNTP, FTP:
		code, more, _, valid := codeLine(line)
		if !valid {
			if w.proto == FTP {
				return // the middle of a multi-line FTP reply
			}
			final = true
			break
		}
		if more {
			return
		}
		final = true
		want := map[Protocol]int{SMTP: 220, LMTP: 220, NNTP: 382, FTP: 234}[w.proto]
		ok = code == want
		if !ok && code/100 != 4 && code/100 != 5 {
			w.answer(Unexpected, line)
			return
		}
	case IMAP:
		tag, rest, _ := strings.Cut(line, " ")
		if tag != w.tag {
			return // untagged data
		}
		status, _, _ := strings.Cut(asciiUpper(rest), " ")
		final, ok = true, status == "OK"
	case POP3:
		final, ok = true, strings.HasPrefix(line, "+OK")
	case Sieve:
		word, _, _ := strings.Cut(line, " ")
		final, ok = true, asciiUpper(word) == "OK"
	case IRC:
		m, valid := parseIRC(line)
		if !valid {
			return
		}
		switch m.command {
		case "670":
			final, ok = true, true
		case "691", "421", "451":
			final = true
		}
	}
	if !final {
		return
	}
	if ok {
		w.upgraded(line)
		return
	}
	w.answer(Refused, line)
}

// answer records a refusal (or odd answer) to the upgrade command; the
// session goes on in plaintext, no longer watched.
func (w *Watcher) answer(o Outcome, reply string) {
	w.res.Reply = printable(reply)
	w.res.Outcome = o
	w.state = watchDone
	w.flush()
}

// upgraded records the go-ahead: from here each side's bytes are TLS,
// after any plaintext it pipelined.
func (w *Watcher) upgraded(reply string) {
	w.res.Reply = printable(reply)
	w.res.Outcome = Upgraded
	w.state = watchUpgraded
	w.flush()
	for i := range w.sides {
		w.startTLS(i)
	}
}

// startTLS switches side i to TLS at its first TLS record header; what it
// holds before one is pipelined plaintext. It stays unswitched while its
// bytes could still be the start of a header.
func (w *Watcher) startTLS(i int) {
	s := &w.sides[i]
	if cut := tlsStart(s.buf); cut >= 0 {
		w.pipelined(i, s.buf[:cut])
		s.buf = s.buf[cut:]
		w.endPipe(i)
		s.tls = true
		return
	}
	// No header yet: keep a last byte or two that may begin one.
	keep := 0
	n := len(s.buf)
	if n >= 1 && (s.buf[n-1] == 0x16 || s.buf[n-1] == 0x15) {
		keep = 1
	}
	if n >= 2 && (s.buf[n-2] == 0x16 || s.buf[n-2] == 0x15) && s.buf[n-1] == 3 {
		keep = 2
	}
	w.pipelined(i, s.buf[:n-keep])
	s.buf = s.buf[n-keep:]
}

// pipelined gathers plaintext side i sent between the go-ahead and TLS.
func (w *Watcher) pipelined(i int, b []byte) {
	if len(b) == 0 {
		return
	}
	s := &w.sides[i]
	s.npip += len(b)
	if room := MaxPipelined - len(s.pipe); room > 0 {
		s.pipe = append(s.pipe, b[:min(len(b), room)]...)
	}
	if i == 1 {
		w.res.Pipelined = s.pipe
	}
}

// endPipe reports side i's pipelined plaintext as one message.
func (w *Watcher) endPipe(i int) {
	s := &w.sides[i]
	if s.npip == 0 {
		return
	}
	side := Client
	if i == 1 {
		side = Server
	}
	w.out = append(w.out, Message{From: side, At: s.at, Stage: StagePipelined,
		Text: fmt.Sprintf("%d bytes before the TLS handshake: %s", s.npip, escape(s.pipe)), Bytes: s.npip})
	s.npip = 0
	s.pipe = append([]byte(nil), s.pipe...) // keep the evidence; a new run starts empty
}

// tlsStart returns the offset of the first plausible TLS record header in
// b, or -1.
func tlsStart(b []byte) int {
	for i := 0; i+3 <= len(b); i++ {
		if (b[i] == 0x16 || b[i] == 0x15) && b[i+1] == 3 && b[i+2] <= 4 {
			return i
		}
	}
	return -1
}

// consumePostgres handles SSLRequest (and GSSENCRequest) and the one-byte
// answers.
func (w *Watcher) consumePostgres(from Side, t time.Time) bool {
	s := &w.sides[sideIndex(from)]
	for len(s.buf) > 0 && !s.tls && w.state != watchDone {
		if from == Client {
			if len(s.buf) < 8 {
				return true
			}
			code := binary.BigEndian.Uint32(s.buf[4:])
			if binary.BigEndian.Uint32(s.buf) != 8 || (code != pgSSLCode && code != pgGSSCode) {
				// A startup in plaintext: not an upgrade (any more).
				w.emit(Client, t, StageCapabilities, fmt.Sprintf("a startup message in plaintext (%d bytes)", len(s.buf)), len(s.buf))
				s.buf = nil
				w.state = watchDone
				w.flush()
				return true
			}
			s.buf = s.buf[8:]
			if code == pgGSSCode {
				w.emit(Client, t, StageCapabilities, "GSSENCRequest (code 80877104)", 8)
				continue
			}
			w.res.Command = "SSLRequest"
			w.emit(Client, t, StageUpgrade, "SSLRequest (code 80877103)", 8)
			w.state = watchCommanded
			continue
		}
		c := s.buf[0]
		s.buf = s.buf[1:]
		switch {
		case w.state != watchCommanded:
			w.emit(Server, t, StageCapabilities, fmt.Sprintf("%q (answer to GSSENCRequest)", c), 1)
		case c == 'S':
			w.emit(Server, t, StageUpgrade, "S (willing to perform SSL)", 1)
			w.res.Offered = true
			w.upgraded("S")
		case c == 'N':
			w.emit(Server, t, StageUpgrade, "N (unwilling to perform SSL: ssl is off)", 1)
			w.answer(NotOffered, "N")
		default:
			w.emit(Server, t, StageUpgrade, fmt.Sprintf("byte 0x%02x", c), 1)
			w.answer(Refused, fmt.Sprintf("0x%02x", c))
		}
	}
	return true
}

// consumeLDAP handles LDAP messages up to the StartTLS response.
func (w *Watcher) consumeLDAP(from Side, t time.Time) bool {
	s := &w.sides[sideIndex(from)]
	for len(s.buf) >= 2 && !s.tls && w.state != watchDone {
		if s.buf[0] != tagSequence {
			return false
		}
		n, hdr, err := berLength(s.buf[1:])
		if err != nil {
			return len(s.buf) < 6 // a length cut short waits; a bad one gives up
		}
		if len(s.buf) < 1+hdr+n {
			return true
		}
		msg := s.buf[:1+hdr+n]
		s.buf = s.buf[1+hdr+n:]
		if from == Client {
			id, name, err := parseLDAPExtendedRequest(msg)
			if err == nil && name == oidStartTLS && w.state == watchPreamble {
				w.ldap = id
				w.res.Command = "StartTLS extended request (" + oidStartTLS + ")"
				w.emit(Client, t, StageUpgrade, fmt.Sprintf("ExtendedRequest (messageID %d): StartTLS %s", id, oidStartTLS), len(msg))
				w.state = watchCommanded
				continue
			}
			w.emit(Client, t, StageCapabilities, fmt.Sprintf("LDAP message of %d bytes (messageID %d)", len(msg), id), len(msg))
			continue
		}
		r, err := parseLDAPExtendedResponse(msg)
		if err != nil || w.state != watchCommanded || r.messageID != w.ldap {
			w.emit(Server, t, w.stage(Server), fmt.Sprintf("LDAP message of %d bytes", len(msg)), len(msg))
			continue
		}
		w.emit(Server, t, StageUpgrade, r.String(), len(msg))
		switch {
		case r.code == 0:
			w.res.Offered = true
			w.upgraded(r.String())
		case r.code == 2:
			w.answer(NotOffered, r.String())
		default:
			w.answer(Refused, r.String())
		}
	}
	return true
}

// consumeMySQL handles the greeting and the client's SSL request.
func (w *Watcher) consumeMySQL(from Side, t time.Time) bool {
	s := &w.sides[sideIndex(from)]
	for len(s.buf) >= 4 && !s.tls && w.state != watchDone {
		size := int(s.buf[0]) | int(s.buf[1])<<8 | int(s.buf[2])<<16
		if size > maxMyPacket {
			return false
		}
		if len(s.buf) < 4+size {
			return true
		}
		p := s.buf[4 : 4+size]
		s.buf = s.buf[4+size:]
		if from == Server {
			g, err := parseMyGreeting(p)
			if err != nil {
				w.emit(Server, t, StageGreeting, fmt.Sprintf("%d-byte packet: %s", len(p), escape(p[:min(len(p), 128)])), 4+size)
				continue
			}
			w.res.Offered = g.caps&mySSL != 0
			w.res.Capabilities = myCaps(g.caps)
			w.emit(Server, t, StageGreeting, fmt.Sprintf("handshake v10: server %s, connection %d, capabilities %s", g.version, g.conn, strings.Join(myCaps(g.caps), " ")), 4+size)
			continue
		}
		if len(p) < 4 {
			return false
		}
		caps := binary.LittleEndian.Uint32(p)
		if caps&mySSL == 0 || len(p) != 32 {
			w.emit(Client, t, StageCapabilities, fmt.Sprintf("a login in plaintext (%d bytes)", len(p)), 4+size)
			w.state = watchDone
			w.flush()
			return true
		}
		w.res.Command = "SSL request packet"
		w.emit(Client, t, StageUpgrade, "SSL request: capabilities "+strings.Join(myCaps(caps), " "), 4+size)
		// TLS starts at once, without an answer.
		w.upgraded("")
	}
	return true
}

// consumeXMPP handles the stream headers, features, <starttls/> and
// <proceed/> or <failure/>, by their text.
func (w *Watcher) consumeXMPP(from Side, t time.Time) bool {
	s := &w.sides[sideIndex(from)]
	if from == Client {
		if w.state == watchPreamble {
			i := bytes.Index(s.buf, []byte("<starttls"))
			if i < 0 {
				if len(s.buf) > 0 && bytes.HasSuffix(bytes.TrimSpace(s.buf), []byte(">")) {
					w.emit(Client, t, w.stage(Client), escape(s.buf), len(s.buf))
					s.buf = nil
				}
				return true
			}
			end := elementEnd(s.buf[i:], "starttls")
			if end < 0 {
				return true
			}
			if i > 0 {
				w.emit(Client, t, w.stage(Client), escape(s.buf[:i]), i)
			}
			w.res.Command = "<starttls/>"
			w.emit(Client, t, StageUpgrade, escape(s.buf[i:i+end]), end)
			s.buf = s.buf[i+end:]
			w.state = watchCommanded
		}
		return true
	}
	if w.state == watchPreamble {
		if bytes.Contains(s.buf, []byte("</stream:features>")) || bytes.Contains(s.buf, []byte("<stream:features/>")) {
			if bytes.Contains(s.buf, []byte("<starttls")) {
				w.res.Offered = true
			}
			w.emit(Server, t, StageCapabilities, escape(s.buf), len(s.buf))
			s.buf = nil
		}
		return true
	}
	for _, name := range []string{"proceed", "failure"} {
		i := bytes.Index(s.buf, []byte("<"+name))
		if i < 0 {
			continue
		}
		end := elementEnd(s.buf[i:], name)
		if end < 0 {
			return true
		}
		text := escape(s.buf[:i+end])
		w.emit(Server, t, StageUpgrade, text, i+end)
		s.buf = s.buf[i+end:]
		if name == "proceed" {
			w.upgraded(text)
		} else {
			w.answer(Refused, text)
		}
		return true
	}
	return true
}

// elementEnd returns the offset just past the element named name that b
// starts with (self-closing or with its end tag), or -1.
func elementEnd(b []byte, name string) int {
	gt := bytes.IndexByte(b, '>')
	if gt < 0 {
		return -1
	}
	if gt > 0 && b[gt-1] == '/' {
		return gt + 1
	}
	end := []byte("</" + name + ">")
	if j := bytes.Index(b, end); j >= 0 {
		return j + len(end)
	}
	return -1
}
