package starttls

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
)

// Pipelined is the outcome of a peer that sent plaintext after the upgrade
// command or reply and before the TLS handshake: a client pipelining
// commands after STARTTLS (which a server must not execute inside TLS,
// CVE-2011-0411 and its kind), or a server's bytes after its go-ahead.
const Pipelined Outcome = "plaintext-after-upgrade"

// ServerProtocols lists the protocols [Offer] serves.
func ServerProtocols() []Protocol {
	return []Protocol{SMTP, LMTP, IMAP, POP3, LDAP, Postgres, MySQL}
}

// ServerConfig describes the server side of one dialogue: a tunnel that
// offers the upgrade to plaintext clients and terminates TLS in front of a
// plaintext service.
type ServerConfig struct {
	// Protocol is the protocol to speak; one of [ServerProtocols].
	Protocol Protocol
	// Hostname names this server in replies (SMTP's 250 line).
	Hostname string
	// Greeting is the backend's greeting as [ReadGreeting] returned it,
	// passed on to the client (protocols where the server speaks first:
	// SMTP, LMTP, IMAP, POP3, MySQL). It is required for MySQL, whose
	// greeting carries the backend's authentication challenge.
	Greeting []byte
	// Trace, if set, receives each message as it is sent or received.
	Trace func(Message)
}

// maxCommands bounds the commands a client may send before the upgrade.
const maxCommands = 32

// Greets reports whether the server speaks first in p, so that a tunnel
// must read the backend's greeting (with [ReadGreeting]) before offering
// the upgrade to its client.
func Greets(p Protocol) bool {
	switch p {
	case LDAP, Postgres, XMPP, XMPPServer, IRC:
		return false
	}
	return true
}

// ReadGreeting reads a plaintext server's greeting (the backend behind a
// tunnel), raw, for [ServerConfig.Greeting].
func ReadGreeting(ctx context.Context, c net.Conn, p Protocol) ([]byte, error) {
	stop := bind(ctx, c)
	defer stop()
	s := newSession(c, p, Server, nil)
	var raw []byte
	var err error
	switch p {
	case SMTP, LMTP, FTP, NNTP:
		var r reply
		if r, err = s.codeReply(StageGreeting, p == FTP); err == nil {
			raw = []byte(strings.Join(r.lines, "\r\n") + "\r\n")
			if r.code/100 != 2 {
				err = s.fail(Refused, r.text(), errors.New("the backend greeted with an error"))
			}
		}
	case IMAP, POP3:
		var line string
		if line, _, err = s.line(); err == nil {
			raw = []byte(line + "\r\n")
			if !strings.HasPrefix(line, "* OK") && !strings.HasPrefix(line, "+OK") {
				err = s.fail(Refused, line, errors.New("the backend greeted with an error"))
			}
		}
	case MySQL:
		var seq byte
		var p []byte
		if seq, p, _, err = s.readMyPacket(); err == nil {
			raw = append([]byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), seq}, p...)
			if _, gerr := parseMyGreeting(p); gerr != nil {
				err = s.fail(Refused, myErr(p), gerr)
			}
		}
	default:
		return nil, fmt.Errorf("starttls: %s has no server greeting", p.Name())
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			err = &Error{Protocol: p, Outcome: Failed, Err: fmt.Errorf("reading the backend's greeting: %w", err)}
		}
		return raw, err
	}
	if s.r.Buffered() > 0 {
		return raw, &Error{Protocol: p, Outcome: Unexpected, Err: errors.New("the backend sent more than its greeting before the client spoke")}
	}
	return raw, nil
}

// Offer speaks the server side of cfg.Protocol's upgrade on c: it greets
// the client (with the backend's greeting), answers its capability
// requests with a list that offers the upgrade and nothing else, refuses
// every other command until the upgrade (TLS first), and accepts the
// upgrade. It returns when the client's TLS handshake is next, with the
// connection to read that handshake from: c itself, or, for MySQL, c
// behind the bytes of the handshake the client already sent (a MySQL
// client starts TLS right after its SSL request, with no reply to wait
// for, so its ClientHello often arrives in the same read).
//
// A client that pipelines bytes after its upgrade command is refused with
// the [Pipelined] outcome (for MySQL, bytes after the SSL request that
// are not a TLS handshake record); one that quits, logs in or sends
// something else the protocol does not allow before TLS, with
// [Unexpected]. Reads are bounded as in [Negotiate] and end at ctx's
// deadline.
func Offer(ctx context.Context, c net.Conn, cfg ServerConfig) (net.Conn, *Result, error) {
	stop := bind(ctx, c)
	defer stop()
	s := newSession(c, cfg.Protocol, Client, cfg.Trace)
	s.res.Greeting = cfg.Greeting
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	var err error
	switch cfg.Protocol {
	case SMTP, LMTP:
		err = s.offerSMTP(cfg)
	case IMAP:
		err = s.offerIMAP(cfg)
	case POP3:
		err = s.offerPOP3(cfg)
	case LDAP:
		err = s.offerLDAP()
	case Postgres:
		err = s.offerPostgres()
	case MySQL:
		err = s.offerMySQL(cfg)
	default:
		s.res.Outcome = Failed
		return nil, s.res, fmt.Errorf("starttls: the server side of %s is not implemented (it serves %v)", cfg.Protocol.Name(), ServerProtocols())
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			err = s.netFail("talking to the client", err)
		}
		if s.res.Outcome == "" || s.res.Outcome == Upgraded {
			s.res.Outcome = OutcomeOf(err)
		}
		return nil, s.res, err
	}
	s.res.Outcome = Upgraded
	if len(s.tlsStart) > 0 {
		return &startedConn{Conn: c, start: s.tlsStart}, s.res, nil
	}
	return c, s.res, nil
}

// upgradeOK records the accepted upgrade, refusing a client that already
// pipelined more bytes after its command. With no reply to send (raw nil:
// MySQL) the client's TLS handshake may already have begun: bytes that
// start a TLS handshake record are kept for it, not refused.
func (s *session) upgradeOK(stage Stage, text string, raw []byte) error {
	if raw == nil && len(s.held) == 0 && s.r.Buffered() > 0 {
		if b, _ := s.r.Peek(s.r.Buffered()); b[0] == 0x16 && (len(b) == 1 || b[1] == 3) { // a handshake record, TLS's major version
			s.tlsStart = append([]byte(nil), b...)
			s.r.Discard(len(b))
			return nil
		}
	}
	if n := s.r.Buffered() + len(s.held); n > 0 {
		b, _ := s.r.Peek(s.r.Buffered())
		all := append(append([]byte(nil), s.held...), b...)
		kept := all[:min(len(all), MaxPipelined)]
		s.res.Pipelined = append([]byte(nil), kept...)
		s.emit(Client, StagePipelined, fmt.Sprintf("%d bytes after the upgrade command: %s", len(all), escape(kept)), len(all))
		return s.fail(Pipelined, escape(kept), errors.New("the client sent commands after the upgrade command, before TLS; they would run inside TLS"))
	}
	if raw == nil { // MySQL: TLS starts without a reply
		return nil
	}
	return s.send(stage, text, raw)
}

// reply sends a line the server writes.
func (s *session) replyLine(stage Stage, lines ...string) error {
	raw := strings.Join(lines, "\r\n") + "\r\n"
	return s.send(stage, strings.Join(lines, "\n"), []byte(raw))
}

// command reads the client's next command line, counting against the
// bound.
func (s *session) command(n *int) (string, error) {
	*n++
	if *n > maxCommands {
		return "", s.fail(Unexpected, "", fmt.Errorf("the client sent %d commands without upgrading", maxCommands))
	}
	line, size, err := s.line()
	if err != nil {
		return "", err
	}
	s.emit(Client, StageCapabilities, printable(line), size)
	return line, nil
}

// offerSMTP is the server side of SMTP and LMTP (RFC 3207).
func (s *session) offerSMTP(cfg ServerConfig) error {
	greeting := cfg.Greeting
	if greeting == nil {
		greeting = []byte("220 " + cfg.Hostname + " ESMTP\r\n")
	}
	if err := s.send(StageGreeting, strings.TrimRight(string(greeting), "\r\n"), greeting); err != nil {
		return err
	}
	hello := "EHLO"
	if cfg.Protocol == LMTP {
		hello = "LHLO"
	}
	for n := 0; ; {
		line, err := s.command(&n)
		if err != nil {
			return err
		}
		verb, _, _ := strings.Cut(line, " ")
		switch asciiUpper(verb) {
		case hello:
			s.res.Offered = true
			err = s.replyLine(StageCapabilities, "250-"+cfg.Hostname, "250 STARTTLS")
		case "HELO":
			if cfg.Protocol == LMTP {
				err = s.replyLine(StageCapabilities, "500 5.5.1 LMTP speaks LHLO")
				break
			}
			err = s.replyLine(StageCapabilities, "250 "+cfg.Hostname)
		case "STARTTLS":
			s.res.Command = line
			return s.upgradeOK(StageUpgrade, "220 2.0.0 Ready to start TLS", []byte("220 2.0.0 Ready to start TLS\r\n"))
		case "NOOP", "RSET":
			err = s.replyLine(StageCapabilities, "250 2.0.0 Ok")
		case "QUIT":
			s.replyLine(StageCapabilities, "221 2.0.0 Bye")
			return s.fail(Unexpected, line, errors.New("the client quit without upgrading"))
		default:
			err = s.replyLine(StageCapabilities, "530 5.7.0 Must issue a STARTTLS command first")
		}
		if err != nil {
			return err
		}
	}
}

// imapCapability is what the tunnel's IMAP side offers before TLS.
const imapCapability = "IMAP4rev1 STARTTLS LOGINDISABLED"

// offerIMAP is the server side of IMAP (RFC 3501, Section 6.2.1).
func (s *session) offerIMAP(cfg ServerConfig) error {
	text := "ready"
	if g := strings.TrimRight(string(cfg.Greeting), "\r\n"); strings.HasPrefix(g, "* OK") {
		text = strings.TrimSpace(strings.TrimPrefix(g, "* OK"))
		if strings.HasPrefix(text, "[") { // the backend's own response code
			if i := strings.IndexByte(text, ']'); i >= 0 {
				text = strings.TrimSpace(text[i+1:])
			}
		}
	}
	greeting := "* OK [CAPABILITY " + imapCapability + "] " + text
	if err := s.replyLine(StageGreeting, greeting); err != nil {
		return err
	}
	s.res.Offered = true
	for n := 0; ; {
		line, err := s.command(&n)
		if err != nil {
			return err
		}
		tag, rest, _ := strings.Cut(line, " ")
		verb, _, _ := strings.Cut(rest, " ")
		if tag == "" || strings.ContainsAny(tag, "*+(){%\"\\]") {
			err = s.replyLine(StageCapabilities, "* BAD invalid tag")
		} else {
			switch asciiUpper(verb) {
			case "CAPABILITY":
				err = s.replyLine(StageCapabilities, "* CAPABILITY "+imapCapability, tag+" OK CAPABILITY completed")
			case "STARTTLS":
				s.res.Command = line
				return s.upgradeOK(StageUpgrade, tag+" OK Begin TLS negotiation now", []byte(tag+" OK Begin TLS negotiation now\r\n"))
			case "NOOP":
				err = s.replyLine(StageCapabilities, tag+" OK NOOP completed")
			case "LOGOUT":
				s.replyLine(StageCapabilities, "* BYE logging out", tag+" OK LOGOUT completed")
				return s.fail(Unexpected, line, errors.New("the client logged out without upgrading"))
			default:
				err = s.replyLine(StageCapabilities, tag+" NO [PRIVACYREQUIRED] TLS first: use STARTTLS")
			}
		}
		if err != nil {
			return err
		}
	}
}

// offerPOP3 is the server side of POP3 (RFC 2595, Section 4).
func (s *session) offerPOP3(cfg ServerConfig) error {
	greeting := cfg.Greeting
	if greeting == nil {
		greeting = []byte("+OK ready\r\n")
	}
	if err := s.send(StageGreeting, strings.TrimRight(string(greeting), "\r\n"), greeting); err != nil {
		return err
	}
	s.res.Offered = true
	for n := 0; ; {
		line, err := s.command(&n)
		if err != nil {
			return err
		}
		verb, _, _ := strings.Cut(line, " ")
		switch asciiUpper(verb) {
		case "CAPA":
			err = s.replyLine(StageCapabilities, "+OK capability list follows", "STLS", ".")
		case "STLS":
			s.res.Command = line
			return s.upgradeOK(StageUpgrade, "+OK Begin TLS negotiation now", []byte("+OK Begin TLS negotiation now\r\n"))
		case "NOOP":
			err = s.replyLine(StageCapabilities, "+OK")
		case "QUIT":
			s.replyLine(StageCapabilities, "+OK bye")
			return s.fail(Unexpected, line, errors.New("the client quit without upgrading"))
		default:
			err = s.replyLine(StageCapabilities, "-ERR TLS first: use STLS")
		}
		if err != nil {
			return err
		}
	}
}

// ldapExtendedResponse encodes an ExtendedResponse with resultCode code.
func ldapExtendedResponse(id, code int, diag string) []byte {
	op := []byte{tagEnumerated, 1, byte(code), tagOctetString, 0, tagOctetString, byte(len(diag))}
	op = append(op, diag...)
	if code == 0 {
		op = append(op, tagRespName, byte(len(oidStartTLS)))
		op = append(op, oidStartTLS...)
	}
	body := berAppendInt(nil, id)
	body = append(body, tagExtendedRes, byte(len(op)))
	body = append(body, op...)
	return append([]byte{tagSequence, byte(len(body))}, body...)
}

// berAppendInt appends a small non-negative INTEGER.
func berAppendInt(b []byte, n int) []byte {
	var v []byte
	for x := n; ; x >>= 8 {
		v = append([]byte{byte(x)}, v...)
		if x < 0x80 {
			break
		}
	}
	if v[0]&0x80 != 0 {
		v = append([]byte{0}, v...)
	}
	return append(append(b, tagInteger, byte(len(v))), v...)
}

// offerLDAP is the server side of LDAP's StartTLS (RFC 4511, Section
// 4.14): the client's first operation must be the StartTLS request.
func (s *session) offerLDAP() error {
	raw, err := s.readLDAPMessage()
	if err != nil {
		if raw != nil {
			return s.fail(Unexpected, escape(raw), err)
		}
		return err
	}
	id, name, err := parseLDAPExtendedRequest(raw)
	if err != nil {
		s.emit(Client, StageUpgrade, fmt.Sprintf("%d bytes: %v", len(raw), err), len(raw))
		return s.fail(Unexpected, "", fmt.Errorf("the client's first LDAP operation is not StartTLS: %w", err))
	}
	s.emit(Client, StageUpgrade, fmt.Sprintf("ExtendedRequest (messageID %d): %s", id, name), len(raw))
	if name != oidStartTLS {
		resp := ldapExtendedResponse(id, 13, "TLS first: send StartTLS")
		s.send(StageUpgrade, fmt.Sprintf("ExtendedResponse (messageID %d): confidentialityRequired (13)", id), resp)
		return s.fail(Unexpected, name, errors.New("the client asked for another extended operation before StartTLS"))
	}
	s.res.Offered = true
	s.res.Command = "StartTLS extended request"
	return s.upgradeOK(StageUpgrade, fmt.Sprintf("ExtendedResponse (messageID %d): success (0)", id), ldapExtendedResponse(id, 0, ""))
}

// parseLDAPExtendedRequest decodes an LDAPMessage holding an
// ExtendedRequest and returns its messageID and requestName.
func parseLDAPExtendedRequest(msg []byte) (int, string, error) {
	tag, body, _, err := berElement(msg)
	if err != nil {
		return 0, "", err
	}
	if tag != tagSequence {
		return 0, "", fmt.Errorf("an LDAPMessage is a SEQUENCE, got tag 0x%02x", tag)
	}
	tag, idb, body, err := berElement(body)
	if err != nil {
		return 0, "", err
	}
	if tag != tagInteger {
		return 0, "", fmt.Errorf("the messageID is an INTEGER, got tag 0x%02x", tag)
	}
	id, err := berInt(idb)
	if err != nil {
		return 0, "", err
	}
	tag, op, _, err := berElement(body)
	if err != nil {
		return id, "", err
	}
	if tag != tagExtendedReq {
		return id, "", fmt.Errorf("operation tag 0x%02x (%s)", tag, ldapOpName(tag))
	}
	tag, name, _, err := berElement(op)
	if err != nil {
		return id, "", err
	}
	if tag != tagReqName {
		return id, "", fmt.Errorf("the requestName is [0], got tag 0x%02x", tag)
	}
	return id, printable(string(name)), nil
}

// ldapOpName names an LDAP protocolOp tag.
func ldapOpName(tag byte) string {
	switch tag {
	case 0x60:
		return "a BindRequest"
	case 0x42:
		return "an UnbindRequest"
	case 0x63:
		return "a SearchRequest"
	}
	return "not StartTLS"
}

// offerPostgres is the server side of PostgreSQL's SSLRequest: GSS
// encryption is declined ('N'), SSL accepted ('S'), a plaintext startup
// refused with an ErrorResponse.
func (s *session) offerPostgres() error {
	for n := 0; n < 3; n++ {
		b, err := s.full(8)
		if err != nil {
			return err
		}
		size := binary.BigEndian.Uint32(b)
		code := binary.BigEndian.Uint32(b[4:])
		switch {
		case size == 8 && code == pgSSLCode:
			s.emit(Client, StageUpgrade, "SSLRequest (code 80877103)", 8)
			s.res.Offered = true
			s.res.Command = "SSLRequest"
			return s.upgradeOK(StageUpgrade, "S (willing to perform SSL)", []byte("S"))
		case size == 8 && code == pgGSSCode:
			s.emit(Client, StageCapabilities, "GSSENCRequest (code 80877104)", 8)
			if err := s.send(StageCapabilities, "N (no GSS encryption)", []byte("N")); err != nil {
				return err
			}
		default:
			s.emit(Client, StageUpgrade, fmt.Sprintf("a startup message of %d bytes (protocol %d.%d), not SSLRequest", size, code>>16, code&0xffff), 8)
			msg := pgErrorResponse("FATAL", "28000", "TLS required: this server accepts only SSL connections (sslmode=require)")
			s.send(StageUpgrade, "ErrorResponse: FATAL 28000: TLS required", msg)
			return s.fail(Unexpected, "", errors.New("the client started a session without SSLRequest"))
		}
	}
	return s.fail(Unexpected, "", errors.New("the client sent three requests without SSLRequest"))
}

// pgErrorResponse encodes an ErrorResponse.
func pgErrorResponse(severity, code, msg string) []byte {
	var body bytes.Buffer
	for _, f := range []struct {
		t byte
		v string
	}{{'S', severity}, {'V', severity}, {'C', code}, {'M', msg}} {
		body.WriteByte(f.t)
		body.WriteString(f.v)
		body.WriteByte(0)
	}
	body.WriteByte(0)
	out := []byte{'E', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[1:], uint32(body.Len()+4))
	return append(out, body.Bytes()...)
}

// offerMySQL is the server side of MySQL's SSL upgrade: the backend's
// greeting, with the SSL capability added, then the client's SSL request.
// After TLS the rest of the connection phase needs a [MySQLRelay].
func (s *session) offerMySQL(cfg ServerConfig) error {
	if len(cfg.Greeting) < 4 {
		return s.fail(Failed, "", errors.New("starttls: MySQL needs the backend's greeting"))
	}
	g := append([]byte(nil), cfg.Greeting...)
	gr, err := parseMyGreeting(g[4:])
	if err != nil {
		return s.fail(Failed, "", fmt.Errorf("the backend's greeting: %w", err))
	}
	// The lower capability flags follow the version, the connection id,
	// 8 bytes of challenge and a filler.
	off := 4 + 1 + len(gr.rawVersion()) + 1 + 4 + 8 + 1
	caps := binary.LittleEndian.Uint16(g[off:]) | mySSL
	binary.LittleEndian.PutUint16(g[off:], caps)
	text := fmt.Sprintf("handshake v10: server %s, capabilities %s", gr.version, strings.Join(myCaps(gr.caps|mySSL), " "))
	if err := s.send(StageGreeting, text, g); err != nil {
		return err
	}
	s.res.Offered = true
	seq, p, n, err := s.readMyPacket()
	if err != nil {
		if p != nil {
			return s.fail(Unexpected, "", err)
		}
		return err
	}
	if len(p) < 4 {
		s.emit(Client, StageUpgrade, fmt.Sprintf("a %d-byte packet", len(p)), n)
		return s.fail(Unexpected, "", errors.New("the client's answer to the greeting is too short"))
	}
	clientCaps := binary.LittleEndian.Uint32(p)
	if clientCaps&mySSL == 0 || len(p) != 32 || seq != g[3]+1 {
		s.emit(Client, StageUpgrade, fmt.Sprintf("a login (%d bytes, capabilities %s), not an SSL request", len(p), strings.Join(myCaps(clientCaps), " ")), n)
		msg := myErrPacket(seq+1, 1045, "28000", "TLS required: this server accepts only SSL connections (--ssl-mode=REQUIRED)")
		s.send(StageUpgrade, "ERR 1045 (28000): TLS required", msg)
		return s.fail(Unexpected, "", errors.New("the client logged in without the SSL request"))
	}
	s.res.Command = "SSL request packet"
	s.emit(Client, StageUpgrade, "SSL request: capabilities "+strings.Join(myCaps(clientCaps), " "), n)
	return s.upgradeOK(StageUpgrade, "", nil)
}

// rawVersion returns the server version as it appears in the packet.
func (g myGreeting) rawVersion() string { return g.rawVer }

// myErrPacket encodes an ERR packet.
func myErrPacket(seq byte, code uint16, state, msg string) []byte {
	p := []byte{0xff, byte(code), byte(code >> 8), '#'}
	p = append(p, state...)
	p = append(p, msg...)
	return append([]byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), seq}, p...)
}

// MySQLRelay carries the rest of MySQL's connection phase across a tunnel
// that upgraded one side only. The side that spoke TLS counted the SSL
// request as packet 1 of the phase; the other did not, so every packet's
// sequence id is one apart until the server's OK or ERR ends the phase.
// c is the connection towards the MySQL server (the TLS connection in
// client mode, the plaintext backend in server mode). shift is added to
// the sequence id of what is written to c and subtracted from what is
// read from it: +1 in client mode (the plaintext client never sent the SSL
// request), -1 in server mode. The first packet written, the client's
// HandshakeResponse, gets the SSL capability set (+1) or cleared (-1) to
// match. After the phase, bytes pass untouched.
func MySQLRelay(c net.Conn, shift int) net.Conn {
	r := &myRelay{Conn: c}
	r.w = mySeq{shift: shift, flag: shift}
	r.r = mySeq{shift: -shift, watch: true, done: &r.done}
	r.w.done = &r.done
	return r
}

type myRelay struct {
	net.Conn
	done atomic.Bool
	w, r mySeq // writes (towards the server) and reads (from it)
}

// Write sends b towards the server, its sequence ids mended during the
// connection phase.
func (c *myRelay) Write(b []byte) (int, error) {
	if c.done.Load() {
		return c.Conn.Write(b)
	}
	buf := append([]byte(nil), b...)
	c.w.transform(buf)
	n, err := c.Conn.Write(buf)
	return min(n, len(b)), err
}

// Read reads from the server, its sequence ids mended during the
// connection phase.
func (c *myRelay) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.done.Load() {
		c.r.transform(b[:n])
	}
	return n, err
}

// mySeq is one direction of a MySQLRelay: where it is in the packets.
type mySeq struct {
	hdr     [4]byte
	nhdr    int // header bytes seen of the current packet
	left    int // payload bytes left in the current packet
	pos     int // payload bytes seen of the current packet
	packets int
	shift   int
	flag    int  // first packet: +1 set the SSL capability, -1 clear it
	watch   bool // end the phase at an OK or ERR packet
	last    bool // the current packet ends the phase
	done    *atomic.Bool
}

// transform rewrites b in place.
func (s *mySeq) transform(b []byte) {
	for i := 0; i < len(b); {
		if s.done.Load() {
			return
		}
		if s.left == 0 && s.nhdr < 4 {
			s.hdr[s.nhdr] = b[i]
			s.nhdr++
			if s.nhdr == 4 {
				b[i] = byte(int(b[i]) + s.shift)
				s.left = int(s.hdr[0]) | int(s.hdr[1])<<8 | int(s.hdr[2])<<16
				s.pos = 0
				s.packets++
				if s.left == 0 {
					s.nhdr = 0
				}
			}
			i++
			continue
		}
		if s.pos == 0 && s.watch && (b[i] == 0x00 || b[i] == 0xff) {
			s.last = true
		}
		if s.pos == 1 && s.packets == 1 && s.flag != 0 {
			if s.flag > 0 {
				b[i] |= mySSL >> 8
			} else {
				b[i] &^= mySSL >> 8
			}
		}
		// Skip the rest of the payload in one step.
		step := 1
		if s.pos >= 1 {
			step = min(s.left, len(b)-i)
		}
		s.pos += step
		s.left -= step
		i += step
		if s.left == 0 {
			s.nhdr = 0
			if s.last {
				s.done.Store(true)
				return
			}
		}
	}
}

// startedConn is a client connection whose TLS handshake began in bytes
// already read: they are read first.
type startedConn struct {
	net.Conn
	start []byte
}

func (c *startedConn) Read(b []byte) (int, error) {
	if len(c.start) > 0 {
		n := copy(b, c.start)
		c.start = c.start[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}
