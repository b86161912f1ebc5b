package starttls

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
)

// DefaultClientName is the name a client gives for itself where a protocol
// asks for one (SMTP's EHLO, IRC's nick): a reserved name (RFC 6761) that
// says who is asking.
const DefaultClientName = "tlskit.invalid"

// Config describes the client side of one dialogue.
type Config struct {
	// Protocol is the protocol to speak; required.
	Protocol Protocol
	// ClientName is the name the client gives where asked (EHLO, LHLO,
	// the 'from' of an XMPP server stream); DefaultClientName when empty.
	ClientName string
	// Domain is the XMPP domain to open the stream to ('to'); the server
	// picks the virtual host, and with it the certificate, from it.
	// Required for XMPP (callers default it to the host name).
	Domain string
	// Trace, if set, receives each message as it is sent or received.
	Trace func(Message)
}

// Negotiate speaks the client side of cfg.Protocol's upgrade on c: it
// reads the greeting, asks for the capabilities, checks the upgrade is
// offered, asks for it and reads the reply. It returns with the
// connection positioned at the start of the TLS handshake, which the
// caller runs (tls.Client(c, …)).
//
// The Result is never nil: it holds the messages exchanged and the
// outcome. The error is nil only when the server agreed to upgrade; else
// it is an [*Error] whose Outcome says why. Reads end at ctx's deadline;
// when ctx is cancelled they end at once, and the error is ctx's
// (errors.Is(err, context.Canceled)), not the network's timeout.
// Bytes the server sent after its upgrade reply are in Result.Pipelined
// and discarded, so that the handshake starts cleanly; reporting them is
// the caller's business.
func Negotiate(ctx context.Context, c net.Conn, cfg Config) (*Result, error) {
	stop := bind(ctx, c)
	defer stop()
	s := newSession(c, cfg.Protocol, Server, cfg.Trace)
	if cfg.ClientName == "" {
		cfg.ClientName = DefaultClientName
	}
	var err error
	switch cfg.Protocol {
	case SMTP, LMTP:
		err = s.smtp(cfg)
	case IMAP:
		err = s.imap()
	case POP3:
		err = s.pop3()
	case FTP:
		err = s.ftp()
	case NNTP:
		err = s.nntp()
	case Sieve:
		err = s.sieve()
	case IRC:
		err = s.irc(cfg)
	case LDAP:
		err = s.ldap()
	case Postgres:
		err = s.postgres()
	case MySQL:
		err = s.mysql()
	case XMPP, XMPPServer:
		err = s.xmpp(cfg)
	default:
		err = fmt.Errorf("starttls: unknown protocol %q", cfg.Protocol)
		s.res.Outcome = Failed
		return s.res, err
	}
	if err != nil {
		if s.res.Outcome == "" || s.res.Outcome == Upgraded {
			s.res.Outcome = Failed
		}
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Protocol: cfg.Protocol, Outcome: s.res.Outcome, Command: s.res.Command, Err: err}
			err = e
		}
		if cancelled(ctx, e.Err) {
			e.Err = interrupt(ctx, e.Err)
		}
		return s.res, err
	}
	s.res.Outcome = Upgraded
	s.pipelined()
	return s.res, nil
}

// upgradeReply records the reply to the upgrade command.
func (s *session) upgradeReply(text string) { s.res.Reply = text }

// offered records the capability list and whether it names the upgrade.
func (s *session) offered(caps []string, ok bool) {
	s.res.Capabilities = caps
	s.res.Offered = ok
}

// listed ends a capability request: a list (known) that does not name the
// upgrade (found) is [NotOffered]; when the server gave no list at all
// (it predates the request), the upgrade may still work and is tried.
func (s *session) listed(known bool, caps []string, found bool) error {
	if !known {
		s.res.Offered = true
		return nil
	}
	s.offered(caps, found)
	if !found {
		return s.fail(NotOffered, "", nil)
	}
	return nil
}

// codeLine splits a reply line of the SMTP family, "250-text" or
// "250 text", into its code, whether more lines follow, and the text.
func codeLine(line string) (code int, more bool, text string, ok bool) {
	if len(line) < 3 {
		return 0, false, "", false
	}
	for i := 0; i < 3; i++ {
		if line[i] < '0' || line[i] > '9' {
			return 0, false, "", false
		}
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if code < 100 || code > 599 {
		return 0, false, "", false
	}
	switch {
	case len(line) == 3:
		return code, false, "", true
	case line[3] == '-':
		return code, true, line[4:], true
	case line[3] == ' ':
		return code, false, line[4:], true
	}
	return 0, false, "", false
}

// reply is a reply of the SMTP family: its code and lines as received.
type reply struct {
	code  int
	lines []string // whole lines, as received
	texts []string // the text after the code of each line (SMTP only)
	bytes int
}

func (r reply) text() string { return strings.Join(r.lines, "\n") }

// codeReply reads an SMTP/LMTP/NNTP-style reply: lines "ddd-text" and a
// last "ddd text", all with the same code (RFC 5321, Section 4.2.1).
// Where ftp is set, the lines between the first "ddd-" and the last "ddd "
// may be anything (RFC 959, Section 4.2).
func (s *session) codeReply(stage Stage, ftp bool) (reply, error) {
	var r reply
	for {
		if len(r.lines) >= MaxLines {
			return r, errTooMany
		}
		line, n, err := s.line()
		if err != nil {
			return r, err
		}
		r.bytes += n
		r.lines = append(r.lines, printable(line))
		code, more, text, ok := codeLine(line)
		if len(r.lines) == 1 {
			if !ok {
				s.emit(s.peer, stage, r.text(), r.bytes)
				return r, s.fail(Unexpected, line, fmt.Errorf("%q is not a reply of the form \"250 text\"", clip(line)))
			}
			r.code = code
		} else if ftp {
			if ok && code == r.code && !more {
				r.texts = append(r.texts, text)
				break
			}
			r.texts = append(r.texts, line)
			continue
		} else if !ok || code != r.code {
			s.emit(s.peer, stage, r.text(), r.bytes)
			return r, s.fail(Unexpected, r.text(), fmt.Errorf("line %d of a %d reply is %q", len(r.lines), r.code, clip(line)))
		}
		r.texts = append(r.texts, text)
		if !more {
			break
		}
	}
	s.emit(s.peer, stage, r.text(), r.bytes)
	return r, nil
}

// smtp speaks SMTP (RFC 3207) or LMTP (RFC 2033): greeting, EHLO/LHLO,
// STARTTLS.
func (s *session) smtp(cfg Config) error {
	g, err := s.codeReply(StageGreeting, false)
	if err != nil {
		return s.netFail("reading the greeting", err)
	}
	s.res.Greeting = []byte(strings.Join(g.lines, "\r\n") + "\r\n")
	switch {
	case g.code == 554 || g.code/100 == 4 || g.code/100 == 5:
		return s.fail(Refused, g.text(), errors.New("the server greeted with an error: it does not accept this session"))
	case g.code != 220:
		return s.fail(Unexpected, g.text(), fmt.Errorf("the greeting's code is %d, not 220", g.code))
	}
	hello := "EHLO"
	if cfg.Protocol == LMTP {
		hello = "LHLO"
	}
	if err := s.sendLine(StageCapabilities, hello+" "+cfg.ClientName); err != nil {
		return s.netFail("sending "+hello, err)
	}
	caps, err := s.codeReply(StageCapabilities, false)
	if err != nil {
		return s.netFail("reading the reply to "+hello, err)
	}
	if caps.code != 250 {
		s.offered(nil, false)
		switch {
		case caps.code == 500 || caps.code == 502:
			// Not recognized, not implemented: a server without ESMTP.
			return s.fail(NotOffered, caps.text(), fmt.Errorf("%s was answered with %d: no extensions, so no STARTTLS", hello, caps.code))
		case caps.code/100 == 4 || caps.code/100 == 5:
			// Its policy (a rejected or deferred client or name, a
			// shutdown) says nothing of STARTTLS.
			return s.fail(Refused, caps.text(), fmt.Errorf("%s was rejected with %d: whether the server offers STARTTLS is not known", hello, caps.code))
		}
		return s.fail(Unexpected, caps.text(), fmt.Errorf("%s was answered with %d, not 250", hello, caps.code))
	}
	var list []string
	found := false
	for _, t := range caps.texts[1:] { // the first line names the server
		list = append(list, t)
		if kw, _, _ := strings.Cut(t, " "); asciiEqualFold(kw, "STARTTLS") {
			found = true
		}
	}
	s.offered(list, found)
	if !found {
		return s.fail(NotOffered, "", nil)
	}
	return s.upgradeCode("STARTTLS", 220)
}

// upgradeCode sends cmd and reads an SMTP-family reply: want is success,
// 4xx and 5xx are refusals, anything else is unexpected.
func (s *session) upgradeCode(cmd string, want int) error {
	s.res.Command = cmd
	if err := s.sendLine(StageUpgrade, cmd); err != nil {
		return s.netFail("sending "+cmd, err)
	}
	r, err := s.codeReply(StageUpgrade, s.res.Protocol == FTP)
	if err != nil {
		return s.netFail("reading the reply to "+cmd, err)
	}
	s.upgradeReply(r.text())
	switch {
	case r.code == want:
		return nil
	case r.code/100 == 4 || r.code/100 == 5:
		return s.fail(Refused, r.text(), nil)
	}
	return s.fail(Unexpected, r.text(), fmt.Errorf("%s was answered with %d, not %d", cmd, r.code, want))
}

// imap speaks IMAP (RFC 3501, Section 6.2.1; RFC 9051): greeting,
// CAPABILITY (unless the greeting lists them), STARTTLS.
func (s *session) imap() error {
	line, n, err := s.line()
	if err != nil {
		return s.netFail("reading the greeting", err)
	}
	s.emit(s.peer, StageGreeting, printable(line), n)
	s.res.Greeting = []byte(line + "\r\n")
	upper := asciiUpper(line)
	switch {
	case strings.HasPrefix(upper, "* OK"):
	case strings.HasPrefix(upper, "* PREAUTH"):
		s.offered(imapCaps(line), false)
		return s.fail(NotOffered, line, errors.New("the server greeted with PREAUTH: the session is already authenticated, where STARTTLS is no longer allowed"))
	case strings.HasPrefix(upper, "* BYE"):
		return s.fail(Refused, line, errors.New("the server greeted with BYE: it does not accept this session"))
	default:
		return s.fail(Unexpected, line, errors.New("an IMAP greeting starts with \"* OK\""))
	}
	caps := imapCaps(line)
	if caps == nil {
		if err := s.sendLine(StageCapabilities, "a1 CAPABILITY"); err != nil {
			return s.netFail("sending CAPABILITY", err)
		}
		status, lines, err := s.imapTagged("a1", StageCapabilities)
		if err != nil {
			return s.netFail("reading the reply to CAPABILITY", err)
		}
		for _, l := range lines {
			caps = append(caps, imapCaps(l)...)
		}
		if status != "OK" {
			return s.fail(Unexpected, strings.Join(lines, "\n"), fmt.Errorf("CAPABILITY was answered with %s", status))
		}
	}
	found := false
	for _, c := range caps {
		if asciiEqualFold(c, "STARTTLS") {
			found = true
		}
	}
	s.offered(caps, found)
	if !found {
		return s.fail(NotOffered, "", nil)
	}
	s.res.Command = "a2 STARTTLS"
	if err := s.sendLine(StageUpgrade, s.res.Command); err != nil {
		return s.netFail("sending STARTTLS", err)
	}
	status, lines, err := s.imapTagged("a2", StageUpgrade)
	if err != nil {
		return s.netFail("reading the reply to STARTTLS", err)
	}
	text := strings.Join(lines, "\n")
	s.upgradeReply(text)
	switch status {
	case "OK":
		return nil
	case "NO", "BAD":
		return s.fail(Refused, text, nil)
	}
	return s.fail(Unexpected, text, fmt.Errorf("STARTTLS was answered with %q", status))
}

// imapTagged reads untagged lines up to the tagged completion of tag, and
// returns its status (OK, NO, BAD) and every line, all as one message.
func (s *session) imapTagged(tag string, stage Stage) (string, []string, error) {
	var lines []string
	total := 0
	for {
		if len(lines) >= MaxLines {
			return "", lines, errTooMany
		}
		line, n, err := s.line()
		if err != nil {
			if len(lines) > 0 {
				s.emit(s.peer, stage, strings.Join(lines, "\n"), total)
			}
			return "", lines, err
		}
		total += n
		lines = append(lines, printable(line))
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			s.emit(s.peer, stage, strings.Join(lines, "\n"), total)
			status, _, _ := strings.Cut(rest, " ")
			return asciiUpper(status), lines, nil
		}
		if strings.HasPrefix(asciiUpper(line), "* BYE") {
			s.emit(s.peer, stage, strings.Join(lines, "\n"), total)
			return "BYE", lines, nil
		}
	}
}

// imapCaps returns the capabilities of a "* CAPABILITY …" line or of a
// "[CAPABILITY …]" response code, or nil.
func imapCaps(line string) []string {
	upper := asciiUpper(line)
	if rest, ok := strings.CutPrefix(upper, "* CAPABILITY "); ok {
		return strings.Fields(line[len(line)-len(rest):])
	}
	if i := strings.Index(upper, "[CAPABILITY "); i >= 0 {
		rest := line[i+len("[CAPABILITY "):]
		if j := strings.IndexByte(rest, ']'); j >= 0 {
			return strings.Fields(rest[:j])
		}
	}
	return nil
}

// pop3 speaks POP3 (RFC 2595, RFC 2449): greeting, CAPA, STLS.
func (s *session) pop3() error {
	line, n, err := s.line()
	if err != nil {
		return s.netFail("reading the greeting", err)
	}
	s.emit(s.peer, StageGreeting, printable(line), n)
	s.res.Greeting = []byte(line + "\r\n")
	switch {
	case strings.HasPrefix(line, "+OK"):
	case strings.HasPrefix(line, "-ERR"):
		return s.fail(Refused, line, errors.New("the server greeted with -ERR: it does not accept this session"))
	default:
		return s.fail(Unexpected, line, errors.New("a POP3 greeting starts with \"+OK\""))
	}
	// No CAPA (RFC 1939 servers): STLS may still work; it is asked.
	if err := s.capabilityList("CAPA", "STLS", func(first string) (bool, bool) {
		return strings.HasPrefix(first, "+OK"), strings.HasPrefix(first, "-ERR")
	}); err != nil {
		return err
	}
	s.res.Command = "STLS"
	if err := s.sendLine(StageUpgrade, "STLS"); err != nil {
		return s.netFail("sending STLS", err)
	}
	line, n, err = s.line()
	if err != nil {
		return s.netFail("reading the reply to STLS", err)
	}
	s.emit(s.peer, StageUpgrade, printable(line), n)
	s.upgradeReply(printable(line))
	switch {
	case strings.HasPrefix(line, "+OK"):
		return nil
	case strings.HasPrefix(line, "-ERR"):
		return s.fail(Refused, line, nil)
	}
	return s.fail(Unexpected, line, errors.New("a POP3 reply starts with +OK or -ERR"))
}

// capabilityList sends cmd and reads the dot-terminated list it answers
// (POP3's CAPA, NNTP's CAPABILITIES; status reads the first line): the
// upgrade is offered when a line's first word is keyword, and refused as
// not offered when none is. A server that refuses cmd itself (one older
// than the command) may still upgrade, so the upgrade is then tried.
func (s *session) capabilityList(cmd, keyword string, status func(first string) (ok, failed bool)) error {
	if err := s.sendLine(StageCapabilities, cmd); err != nil {
		return s.netFail("sending "+cmd, err)
	}
	ok, lines, err := s.dotReply(StageCapabilities, status)
	if err != nil {
		return s.netFail("reading the reply to "+cmd, err)
	}
	found := false
	for _, l := range lines[min(1, len(lines)):] {
		if kw, _, _ := strings.Cut(l, " "); asciiEqualFold(kw, keyword) {
			found = true
		}
	}
	return s.listed(ok, lines[min(1, len(lines)):], found)
}

// dotReply reads a reply whose first line says whether a multi-line block
// follows (status(first) returns ok, err), the block ending with a line
// holding a single dot (RFC 1939, Section 3; RFC 3977, Section 3.1.1).
// The lines are returned without the final dot and dot-unstuffed.
func (s *session) dotReply(stage Stage, status func(first string) (ok, failed bool)) (bool, []string, error) {
	first, n, err := s.line()
	if err != nil {
		return false, nil, err
	}
	lines := []string{printable(first)}
	total := n
	ok, failed := status(first)
	if !ok {
		s.emit(s.peer, stage, lines[0], total)
		if !failed {
			return false, lines, s.fail(Unexpected, first, fmt.Errorf("%q is not a status line", clip(first)))
		}
		return false, lines, nil
	}
	for {
		if len(lines) > MaxLines {
			return false, lines, errTooMany
		}
		line, n, err := s.line()
		if err != nil {
			return false, lines, err
		}
		total += n
		if line == "." {
			break
		}
		lines = append(lines, printable(strings.TrimPrefix(line, ".")))
	}
	s.emit(s.peer, stage, strings.Join(lines, "\n"), total)
	return true, lines, nil
}

// ftpAuthTLS reports whether a line of FTP's FEAT reply is the AUTH
// feature naming TLS among its mechanisms (" AUTH TLS", "AUTH SSL;TLS",
// TLS-C: RFC 4217 §6).
func ftpAuthTLS(feature string) bool {
	kw, mechs, _ := strings.Cut(strings.TrimSpace(feature), " ")
	if !asciiEqualFold(kw, "AUTH") {
		return false
	}
	for _, m := range strings.FieldsFunc(mechs, func(r rune) bool { return r == ';' || r == ' ' }) {
		if asciiEqualFold(m, "TLS") || asciiEqualFold(m, "TLS-C") {
			return true
		}
	}
	return false
}

// ftp speaks FTP (RFC 4217): greeting, FEAT, AUTH TLS.
func (s *session) ftp() error {
	g, err := s.codeReply(StageGreeting, true)
	if err != nil {
		return s.netFail("reading the greeting", err)
	}
	s.res.Greeting = []byte(strings.Join(g.lines, "\r\n") + "\r\n")
	switch {
	case g.code == 120:
		return s.fail(Refused, g.text(), errors.New("the server is not ready (120)"))
	case g.code/100 == 4 || g.code/100 == 5:
		return s.fail(Refused, g.text(), errors.New("the server greeted with an error: it does not accept this session"))
	case g.code != 220:
		return s.fail(Unexpected, g.text(), fmt.Errorf("the greeting's code is %d, not 220", g.code))
	}
	if err := s.sendLine(StageCapabilities, "FEAT"); err != nil {
		return s.netFail("sending FEAT", err)
	}
	feat, err := s.codeReply(StageCapabilities, true)
	if err != nil {
		return s.netFail("reading the reply to FEAT", err)
	}
	var list []string
	found := false
	hasFeat := feat.code == 211 && len(feat.lines) > 1
	if hasFeat {
		for _, l := range feat.lines[1 : len(feat.lines)-1] {
			list = append(list, strings.TrimSpace(l))
			found = found || ftpAuthTLS(l)
		}
	}
	// No FEAT (RFC 959 servers): AUTH TLS may still work; it is asked.
	if err := s.listed(hasFeat, list, found); err != nil {
		return err
	}
	return s.upgradeCode("AUTH TLS", 234)
}

// nntp speaks NNTP (RFC 4642, RFC 3977): greeting, CAPABILITIES, STARTTLS.
func (s *session) nntp() error {
	g, err := s.codeReply(StageGreeting, false)
	if err != nil {
		return s.netFail("reading the greeting", err)
	}
	s.res.Greeting = []byte(strings.Join(g.lines, "\r\n") + "\r\n")
	switch {
	case g.code == 400 || g.code == 502:
		return s.fail(Refused, g.text(), fmt.Errorf("the server greeted with %d: it does not accept this session", g.code))
	case g.code != 200 && g.code != 201:
		return s.fail(Unexpected, g.text(), fmt.Errorf("the greeting's code is %d, not 200 or 201", g.code))
	}
	if err := s.capabilityList("CAPABILITIES", "STARTTLS", func(first string) (bool, bool) {
		code, _, _, ok := codeLine(first)
		return ok && code == 101, ok && code != 101
	}); err != nil {
		return err
	}
	return s.upgradeCode("STARTTLS", 382)
}

// sieve speaks ManageSieve (RFC 5804): the greeting is the capability
// list, then STARTTLS.
func (s *session) sieve() error {
	status, lines, err := s.sieveResponse(StageGreeting)
	if err != nil {
		return s.netFail("reading the greeting", err)
	}
	s.res.Greeting = []byte(strings.Join(lines, "\r\n") + "\r\n")
	if status != "OK" {
		return s.fail(Refused, strings.Join(lines, "\n"), fmt.Errorf("the server greeted with %s", status))
	}
	var caps []string
	found := false
	for _, l := range lines[:len(lines)-1] {
		name, _ := sieveString(l)
		caps = append(caps, l)
		if asciiEqualFold(name, "STARTTLS") {
			found = true
		}
	}
	s.offered(caps, found)
	if !found {
		return s.fail(NotOffered, "", nil)
	}
	s.res.Command = "STARTTLS"
	if err := s.sendLine(StageUpgrade, "STARTTLS"); err != nil {
		return s.netFail("sending STARTTLS", err)
	}
	status, lines, err = s.sieveResponse(StageUpgrade)
	if err != nil {
		return s.netFail("reading the reply to STARTTLS", err)
	}
	text := strings.Join(lines, "\n")
	s.upgradeReply(text)
	switch status {
	case "OK":
		return nil
	case "NO", "BYE":
		return s.fail(Refused, text, nil)
	}
	return s.fail(Unexpected, text, nil)
}

// sieveResponse reads lines up to a line starting with OK, NO or BYE.
func (s *session) sieveResponse(stage Stage) (string, []string, error) {
	var lines []string
	total := 0
	for {
		if len(lines) >= MaxLines {
			return "", lines, errTooMany
		}
		line, n, err := s.line()
		if err != nil {
			return "", lines, err
		}
		total += n
		lines = append(lines, printable(line))
		word, _, _ := strings.Cut(line, " ")
		switch w := asciiUpper(word); w {
		case "OK", "NO", "BYE":
			s.emit(s.peer, stage, strings.Join(lines, "\n"), total)
			return w, lines, nil
		}
		if !strings.HasPrefix(line, "\"") {
			s.emit(s.peer, stage, strings.Join(lines, "\n"), total)
			return "", lines, s.fail(Unexpected, line, errors.New("a ManageSieve capability line starts with a quoted string"))
		}
	}
}

// sieveString returns the first quoted string of a ManageSieve line.
func sieveString(line string) (string, bool) {
	if !strings.HasPrefix(line, "\"") {
		return "", false
	}
	var sb strings.Builder
	for i := 1; i < len(line); i++ {
		switch c := line[i]; c {
		case '\\':
			if i+1 < len(line) {
				i++
				sb.WriteByte(line[i])
			}
		case '"':
			return sb.String(), true
		default:
			sb.WriteByte(c)
		}
	}
	return "", false
}

// irc speaks IRC with the IRCv3 tls extension (deprecated by IRCv3 but
// still served by InspIRCd, UnrealIRCd and others): CAP LS, STARTTLS,
// numeric 670 (go ahead) or 691 (failed).
func (s *session) irc(cfg Config) error {
	if err := s.sendLine(StageCapabilities, "CAP LS 302"); err != nil {
		return s.netFail("sending CAP LS", err)
	}
	var caps []string
	capable := false // the server answered CAP LS at all
	for done := false; !done; {
		m, err := s.ircLine(StageCapabilities)
		if err != nil {
			return s.netFail("reading the reply to CAP LS", err)
		}
		switch {
		case m.command == "CAP" && len(m.params) >= 3 && asciiEqualFold(m.params[1], "LS"):
			capable = true
			list := m.params[len(m.params)-1]
			caps = append(caps, strings.Fields(list)...)
			// "CAP * LS * :…" continues (CAP version 302).
			done = !(len(m.params) >= 4 && m.params[2] == "*")
		case m.command == "421" || m.command == "451": // unknown command, not registered
			done = true
		case m.command == "ERROR":
			return s.fail(Refused, m.raw, errors.New("the server ended the session"))
		case m.command == "PING":
			token := ""
			if len(m.params) > 0 {
				token = m.params[len(m.params)-1]
			}
			if err := s.sendLine(StageCapabilities, "PONG :"+token); err != nil {
				return s.netFail("answering PING", err)
			}
		}
	}
	found := false
	for _, c := range caps {
		name, _, _ := strings.Cut(c, "=")
		if asciiEqualFold(name, "tls") {
			found = true
		}
	}
	if err := s.listed(capable, caps, found); err != nil {
		return err
	}
	s.res.Command = "STARTTLS"
	if err := s.sendLine(StageUpgrade, "STARTTLS"); err != nil {
		return s.netFail("sending STARTTLS", err)
	}
	for {
		m, err := s.ircLine(StageUpgrade)
		if err != nil {
			return s.netFail("reading the reply to STARTTLS", err)
		}
		switch m.command {
		case "670":
			s.upgradeReply(m.raw)
			return nil
		case "691", "421", "451", "ERROR":
			s.upgradeReply(m.raw)
			return s.fail(Refused, m.raw, nil)
		case "NOTICE", "PING", "CAP":
			continue
		}
		if len(m.command) == 3 && m.command[0] >= '4' && m.command[0] <= '5' {
			s.upgradeReply(m.raw)
			return s.fail(Refused, m.raw, nil)
		}
		s.upgradeReply(m.raw)
		return s.fail(Unexpected, m.raw, errors.New("STARTTLS is answered with numeric 670 or 691"))
	}
}

// ircMessage is one IRC line: [":prefix "] command params… [":trailing"].
type ircMessage struct {
	raw     string
	prefix  string
	command string
	params  []string
}

// parseIRC splits an IRC line (RFC 1459, Section 2.3.1; IRCv3 tags are
// skipped).
func parseIRC(line string) (ircMessage, bool) {
	m := ircMessage{raw: line}
	rest := line
	if strings.HasPrefix(rest, "@") { // message tags
		_, rest, _ = strings.Cut(rest, " ")
	}
	if strings.HasPrefix(rest, ":") {
		m.prefix, rest, _ = strings.Cut(rest[1:], " ")
	}
	rest = strings.TrimLeft(rest, " ")
	m.command, rest, _ = strings.Cut(rest, " ")
	if m.command == "" {
		return m, false
	}
	if !ircCommand(m.command, m.prefix != "") {
		return m, false
	}
	m.command = asciiUpper(m.command)
	for rest != "" && len(m.params) < 32 {
		rest = strings.TrimLeft(rest, " ")
		if strings.HasPrefix(rest, ":") {
			m.params = append(m.params, rest[1:])
			break
		}
		var p string
		p, rest, _ = strings.Cut(rest, " ")
		if p != "" {
			m.params = append(m.params, p)
		}
	}
	return m, true
}

// ircCommand reports whether command can be an IRC server's: letters, or
// three digits (RFC 1459 §2.3.1) after the server's prefix, which a
// numeric reply must carry (RFC 2812 §2.4). So the greetings and replies
// of other protocols ("220 mail ESMTP", "+OK", "* OK") are not IRC, and
// the IRC dialogue ends at once instead of waiting for a reply that will
// never come.
func ircCommand(command string, prefixed bool) bool {
	if len(command) == 3 && strings.Trim(command, "0123456789") == "" {
		return prefixed
	}
	for _, r := range command {
		if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return true
}

// ircLine reads and records one IRC line.
func (s *session) ircLine(stage Stage) (ircMessage, error) {
	line, n, err := s.line()
	if err != nil {
		return ircMessage{}, err
	}
	s.emit(s.peer, stage, printable(line), n)
	m, ok := parseIRC(printable(line))
	if !ok {
		return m, s.fail(Unexpected, line, errors.New("not an IRC message (RFC 2812 §2.3)"))
	}
	return m, nil
}
