package starttls

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// pgSSLRequest is PostgreSQL's SSLRequest message: length 8, code
// 80877103 (PostgreSQL documentation, "Message Formats").
var pgSSLRequest = []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}

// pgSSLCode is the request code of SSLRequest, and pgGSSCode that of
// GSSENCRequest.
const (
	pgSSLCode = 80877103
	pgGSSCode = 80877104
)

// maxPGError bounds an ErrorResponse read before the upgrade.
const maxPGError = 16 << 10

// postgres speaks PostgreSQL's SSLRequest (PostgreSQL documentation,
// "SSL Session Encryption"): one message, one byte in answer.
func (s *session) postgres() error {
	s.res.Offered = true
	s.res.Command = "SSLRequest"
	if err := s.send(StageUpgrade, "SSLRequest (code 80877103)", pgSSLRequest); err != nil {
		return s.netFail("sending SSLRequest", err)
	}
	b, err := s.full(1)
	if err != nil {
		return s.netFail("reading the answer to SSLRequest", err)
	}
	switch b[0] {
	case 'S':
		s.emit(s.peer, StageUpgrade, "S (willing to perform SSL)", 1)
		s.upgradeReply("S")
		return nil
	case 'N':
		s.emit(s.peer, StageUpgrade, "N (unwilling to perform SSL: ssl is off)", 1)
		s.upgradeReply("N")
		s.res.Offered = false
		return s.fail(NotOffered, "N", errors.New("the server answered N: it has SSL turned off"))
	case 'E':
		text, n, err := s.pgError()
		if err != nil {
			s.emit(s.peer, StageUpgrade, "E (an ErrorResponse, unreadable)", 1)
			return s.fail(Unexpected, "E", err)
		}
		s.emit(s.peer, StageUpgrade, text, 1+n)
		s.upgradeReply(text)
		return s.fail(Refused, text, nil)
	}
	s.emit(s.peer, StageUpgrade, fmt.Sprintf("byte 0x%02x", b[0]), 1)
	s.upgradeReply(fmt.Sprintf("0x%02x", b[0]))
	return s.fail(Unexpected, fmt.Sprintf("0x%02x", b[0]), errors.New("SSLRequest is answered with S, N or an ErrorResponse"))
}

// pgError reads the rest of an ErrorResponse whose 'E' was read and
// renders it as "ErrorResponse: FATAL 0A000: message".
func (s *session) pgError() (string, int, error) {
	hdr, err := s.full(4)
	if err != nil {
		return "", 0, err
	}
	n := int(binary.BigEndian.Uint32(hdr))
	if n < 4 || n > maxPGError {
		return "", 4, fmt.Errorf("an ErrorResponse of %d bytes", n)
	}
	body, err := s.full(n - 4)
	if err != nil {
		return "", 4, err
	}
	return "ErrorResponse: " + pgFields(body), n, nil
}

// pgFields renders the fields of an ErrorResponse or NoticeResponse:
// severity, SQLSTATE code and message.
func pgFields(body []byte) string {
	var sev, code, msg string
	for len(body) > 0 && body[0] != 0 {
		t := body[0]
		v, rest, ok := bytes.Cut(body[1:], []byte{0})
		if !ok {
			break
		}
		switch t {
		case 'S':
			sev = string(v)
		case 'V':
			if sev == "" {
				sev = string(v)
			}
		case 'C':
			code = string(v)
		case 'M':
			msg = string(v)
		}
		body = rest
	}
	return printable(strings.TrimSpace(strings.Join([]string{sev, code}, " ") + ": " + msg))
}

// MySQL capability flags (MySQL and MariaDB client/server protocol).
const (
	myLongPassword     = 1 << 0
	myProtocol41       = 1 << 9
	mySSL              = 1 << 11
	myTransactions     = 1 << 13
	mySecureConnection = 1 << 15
	myMultiResults     = 1 << 17
	myPluginAuth       = 1 << 19
)

// myCapNames names the capability flags, bit by bit.
var myCapNames = []string{
	"LONG_PASSWORD", "FOUND_ROWS", "LONG_FLAG", "CONNECT_WITH_DB", "NO_SCHEMA", "COMPRESS", "ODBC",
	"LOCAL_FILES", "IGNORE_SPACE", "PROTOCOL_41", "INTERACTIVE", "SSL", "IGNORE_SIGPIPE",
	"TRANSACTIONS", "RESERVED", "SECURE_CONNECTION", "MULTI_STATEMENTS", "MULTI_RESULTS",
	"PS_MULTI_RESULTS", "PLUGIN_AUTH", "CONNECT_ATTRS", "PLUGIN_AUTH_LENENC_CLIENT_DATA",
	"CAN_HANDLE_EXPIRED_PASSWORDS", "SESSION_TRACK", "DEPRECATE_EOF", "OPTIONAL_RESULTSET_METADATA",
	"ZSTD_COMPRESSION", "QUERY_ATTRIBUTES", "MULTI_FACTOR_AUTHENTICATION", "CAPABILITY_EXTENSION",
	"SSL_VERIFY_SERVER_CERT", "REMEMBER_OPTIONS",
}

// myGreeting is the decoded initial handshake packet (protocol 10).
type myGreeting struct {
	rawVer  string // the version as sent
	version string
	conn    uint32
	caps    uint32
	charset byte
	plugin  string
}

// maxMyPacket bounds a MySQL packet read before the upgrade.
const maxMyPacket = 64 << 10

// readMyPacket reads one MySQL packet: a 3-byte length, a sequence id and
// the payload.
func (s *session) readMyPacket() (seq byte, payload []byte, n int, err error) {
	hdr, err := s.full(4)
	if err != nil {
		return 0, nil, 0, err
	}
	size := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if size > maxMyPacket {
		return hdr[3], hdr, 4, fmt.Errorf("a packet of %d bytes, beyond the %d KiB allowed before the upgrade", size, maxMyPacket>>10)
	}
	payload, err = s.full(size)
	if err != nil {
		return 0, nil, 4, err
	}
	return hdr[3], payload, 4 + size, nil
}

// parseMyGreeting decodes the initial handshake packet, or an ERR packet.
func parseMyGreeting(p []byte) (myGreeting, error) {
	var g myGreeting
	if len(p) == 0 {
		return g, errors.New("an empty packet")
	}
	if p[0] == 0xff {
		return g, fmt.Errorf("the server sent an error instead of a greeting: %s", myErr(p))
	}
	if p[0] != 10 {
		return g, fmt.Errorf("protocol version %d, not 10", p[0])
	}
	v, rest, ok := bytes.Cut(p[1:], []byte{0})
	if !ok {
		return g, errors.New("the server version is not terminated")
	}
	g.rawVer, g.version = string(v), printable(string(v))
	if len(rest) < 4+8+1+2 {
		return g, errors.New("the greeting is cut short")
	}
	g.conn = binary.LittleEndian.Uint32(rest)
	rest = rest[4+8+1:]
	g.caps = uint32(binary.LittleEndian.Uint16(rest))
	rest = rest[2:]
	if len(rest) >= 1+2+2+1+10 {
		g.charset = rest[0]
		g.caps |= uint32(binary.LittleEndian.Uint16(rest[3:])) << 16
		authLen := int(rest[5])
		rest = rest[16:]
		if g.caps&mySecureConnection != 0 {
			skip := max(13, authLen-8)
			if skip > len(rest) {
				skip = len(rest)
			}
			rest = rest[skip:]
		}
		if g.caps&myPluginAuth != 0 {
			name, _, _ := bytes.Cut(rest, []byte{0})
			g.plugin = printable(string(name))
		}
	}
	return g, nil
}

// myErr renders an ERR packet: "1045 (28000): Access denied…".
func myErr(p []byte) string {
	if len(p) < 3 {
		return "a short ERR packet"
	}
	code := binary.LittleEndian.Uint16(p[1:])
	rest := p[3:]
	state := ""
	if len(rest) >= 6 && rest[0] == '#' {
		state = " (" + string(rest[1:6]) + ")"
		rest = rest[6:]
	}
	return fmt.Sprintf("%d%s: %s", code, printable(state), printable(string(rest)))
}

// myCaps lists the names of the flags set in caps.
func myCaps(caps uint32) []string {
	var out []string
	for i, n := range myCapNames {
		if caps&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// mySSLRequest builds the SSL request packet (a HandshakeResponse cut
// after the character set) with sequence id seq.
func mySSLRequest(seq byte, serverCaps uint32, charset byte) []byte {
	caps := uint32(myLongPassword|myProtocol41|myTransactions|mySecureConnection|myMultiResults|myPluginAuth)&serverCaps | mySSL
	if charset == 0 {
		charset = 0x21 // utf8_general_ci
	}
	p := make([]byte, 4+32)
	p[0], p[3] = 32, seq
	binary.LittleEndian.PutUint32(p[4:], caps)
	binary.LittleEndian.PutUint32(p[8:], 1<<24) // max packet size
	p[12] = charset
	return p
}

// mysql speaks the MySQL/MariaDB upgrade: the server's greeting advertises
// the SSL capability; the client answers with the SSL request packet and
// starts TLS at once, without a reply.
func (s *session) mysql() error {
	seq, p, n, err := s.readMyPacket()
	if err != nil {
		if p != nil {
			s.emit(s.peer, StageGreeting, fmt.Sprintf("packet header % x", p), n)
			return s.fail(Unexpected, "", err)
		}
		return s.netFail("reading the greeting", err)
	}
	s.res.Greeting = append([]byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), seq}, p...)
	g, err := parseMyGreeting(p)
	if err != nil {
		s.emit(s.peer, StageGreeting, fmt.Sprintf("%d-byte packet: %s", len(p), escape(p[:min(len(p), 128)])), n)
		if len(p) > 0 && p[0] == 0xff {
			return s.fail(Refused, myErr(p), nil)
		}
		return s.fail(Unexpected, "", err)
	}
	caps := myCaps(g.caps)
	text := fmt.Sprintf("handshake v10: server %s, connection %d, capabilities %s", g.version, g.conn, strings.Join(caps, " "))
	if g.plugin != "" {
		text += ", auth " + g.plugin
	}
	s.emit(s.peer, StageGreeting, text, n)
	s.offered(caps, g.caps&mySSL != 0)
	if g.caps&mySSL == 0 {
		return s.fail(NotOffered, "", errors.New("the greeting's capabilities have no SSL flag: the server has no TLS configured"))
	}
	s.res.Command = "SSL request packet"
	req := mySSLRequest(seq+1, g.caps, g.charset)
	if err := s.send(StageUpgrade, "SSL request: capabilities "+strings.Join(myCaps(binary.LittleEndian.Uint32(req[4:])), " "), req); err != nil {
		return s.netFail("sending the SSL request", err)
	}
	return nil
}
