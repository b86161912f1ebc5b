// Package fleet checks many TLS endpoints at once: it reads target lists,
// runs [probe.Run] on each with bounded concurrency, a per-host limit and a
// rate, and hands the reports back in input order whatever finished first;
// [diagnose.Summarizer] sums them up.
//
// It knows nothing of flags or output formats: `tlskit check` with many
// targets drives it, and render prints what it returns.
package fleet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/trust"
)

// Target is one endpoint to check.
type Target struct {
	// Address is HOST:PORT, as [probe.SplitTarget] normalises it.
	Address string `json:"address"`
	// ServerName, if set, is the name to verify and send as SNI instead of
	// the host of Address.
	ServerName string `json:"server_name,omitempty"`
	// StartTLS names the protocol to upgrade with before the handshake
	// (smtp, imap…), or "none" for TLS from the first byte; "" leaves
	// the choice to [Options].
	StartTLS string `json:"starttls,omitempty"`
	// Via, if set, is the IP address and port to connect to instead of
	// resolving Address's host: one of its addresses (see [EachAddress]).
	// The report still names Address, and the name is verified and sent.
	Via string `json:"via,omitempty"`
	// Source says where the target was read, for messages: "targets.txt:12"
	// or "argument 2".
	Source string `json:"-"`
}

// MaxLineLength bounds a line of a targets file. A longer line is an error,
// never an unbounded read.
const MaxLineLength = 4096

// ParseTarget reads one target as a command-line argument gives it:
// HOST[:PORT] (port 443 by default; https:// URLs and IPv6 addresses too).
func ParseTarget(s, source string) (Target, error) { return ParseTargetPort(s, source, 443) }

// ParseTargetPort is [ParseTarget] with defaultPort for a target without a
// port: the port of the STARTTLS protocol the run speaks
// ([starttls.Protocol.Port]: --starttls smtp checks mail.example.com on 25).
func ParseTargetPort(s, source string, defaultPort int) (Target, error) {
	addr, err := probe.SplitTargetPort(s, defaultPort)
	if err != nil {
		return Target{}, &TargetError{Source: source, Err: err}
	}
	return Target{Address: addr, Source: source}, nil
}

// TargetError is a target that cannot be read, with where it was read.
type TargetError struct {
	// Source is "FILE:LINE" or "argument N".
	Source string
	// Err says what is wrong.
	Err error
}

func (e *TargetError) Error() string { return "fleet: " + e.Source + ": " + e.Err.Error() }
func (e *TargetError) Unwrap() error { return e.Err }

// Hint says what a line of a targets file looks like.
func (e *TargetError) Hint() string {
	return "a targets file has one target a line: HOST[:PORT] [SERVERNAME|-] [STARTTLS]; blank lines and lines starting with # are ignored"
}

// ReadTargets reads a targets file named name (for messages): one target a
// line, HOST[:PORT] followed optionally by the server name ("-" for the
// default) and the STARTTLS protocol, separated by spaces or tabs. Blank
// lines and lines starting with "#" are skipped. Its errors are
// [*TargetError]s naming the line. A target without a port is on 443, or
// on the port of the protocol its STARTTLS column names.
func ReadTargets(r io.Reader, name string) ([]Target, error) { return ReadTargetsPort(r, name, 443) }

// ReadTargetsPort is [ReadTargets] with defaultPort for a target without a
// port and without a STARTTLS column naming a protocol: the port of the
// protocol the run speaks.
func ReadTargetsPort(r io.Reader, name string, defaultPort int) ([]Target, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out []Target
	for n := 1; ; n++ {
		line, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, &TargetError{Source: fmt.Sprintf("%s:%d", name, n), Err: err}
		}
		if t, ok, perr := parseLine(line, fmt.Sprintf("%s:%d", name, n), defaultPort); perr != nil {
			return nil, perr
		} else if ok {
			out = append(out, t)
		}
		if err != nil {
			return out, nil
		}
	}
}

// errLongLine is a line over MaxLineLength.
var errLongLine = fmt.Errorf("the line is longer than %d bytes", MaxLineLength)

// readLine reads one line without its end, refusing lines over
// MaxLineLength. It returns io.EOF with the last line.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(b)+len(chunk) > MaxLineLength+2 { // room for "\r\n"
			return "", errLongLine
		}
		b = append(b, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		s := strings.TrimRight(string(b), "\r\n")
		if len(s) > MaxLineLength {
			return "", errLongLine
		}
		if err == nil {
			return s, nil
		}
		return s, err
	}
}

// parseLine reads one line of a targets file; ok is false for blank and
// comment lines. defaultPort is the port of a target without one, unless
// its STARTTLS column names a protocol (its port) or none (443).
func parseLine(line, source string, defaultPort int) (Target, bool, error) {
	s := strings.TrimSpace(line)
	if s == "" || strings.HasPrefix(s, "#") {
		return Target{}, false, nil
	}
	if !validText(s) {
		return Target{}, false, &TargetError{Source: source, Err: errors.New("the line has control characters or is not UTF-8")}
	}
	fields := strings.Fields(s)
	if len(fields) > 3 {
		return Target{}, false, &TargetError{Source: source, Err: fmt.Errorf("want HOST[:PORT] [SERVERNAME|-] [STARTTLS], got %d fields", len(fields))}
	}
	if len(fields) > 2 {
		if p, err := starttls.ParseProtocol(fields[2]); err == nil || strings.EqualFold(fields[2], "none") {
			defaultPort = probe.PortFor(p) // none: 443
		}
	}
	t, err := ParseTargetPort(fields[0], source, defaultPort)
	if err != nil {
		return Target{}, false, err
	}
	if len(fields) > 1 && fields[1] != "-" {
		t.ServerName = fields[1]
		if _, err := trust.ServerName("", t.ServerName); err != nil || strings.ContainsAny(t.ServerName, "[]@") {
			return Target{}, false, &TargetError{Source: source, Err: fmt.Errorf("%q is not a server name", t.ServerName)}
		}
	}
	if len(fields) > 2 {
		t.StartTLS = strings.ToLower(fields[2])
		if strings.Trim(t.StartTLS, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return Target{}, false, &TargetError{Source: source, Err: fmt.Errorf("%q is not a STARTTLS protocol name", fields[2])}
		}
	}
	return t, true, nil
}

// validText reports whether s is UTF-8 without control characters other
// than tabs.
func validText(s string) bool {
	for _, r := range s {
		if r == 0xFFFD || r < 0x20 && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}
