// Package starttls speaks the plaintext part of the protocols that upgrade
// a connection to TLS in band: SMTP and LMTP (STARTTLS), IMAP (STARTTLS),
// POP3 (STLS), FTP (AUTH TLS), LDAP (the StartTLS extended operation),
// PostgreSQL (SSLRequest), MySQL and MariaDB (the SSL capability and the
// SSL request packet), XMPP client and server streams (<starttls/>), NNTP,
// ManageSieve and IRC (STARTTLS).
//
// [Negotiate] is the client side: it reads the greeting, asks for the
// capabilities, checks that the upgrade is offered, sends the upgrade
// command and reads the reply, and stops right before the TLS handshake.
// [Offer] is the server side, for a tunnel that terminates TLS in front of a
// plaintext service. Both are plain functions over a net.Conn: every read is
// bounded (a line, a reply, the whole preamble) and every wait ends at the
// context's deadline. What each side said is reported as [Message]s, in
// order, so that a caller can show the preamble next to the handshake.
//
// The package knows nothing of TLS itself, of findings or of rendering: it
// reports an [Outcome] (upgraded, not offered, refused, unexpected reply…)
// and the evidence (the capability list, the reply), and the layers above
// explain it.
package starttls

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Protocol names an application protocol that upgrades to TLS in band.
type Protocol string

// The protocols. XMPPServer is XMPP between servers (jabber:server, port
// 5269); XMPP is a client stream (jabber:client, port 5222).
const (
	SMTP       Protocol = "smtp"
	LMTP       Protocol = "lmtp"
	IMAP       Protocol = "imap"
	POP3       Protocol = "pop3"
	FTP        Protocol = "ftp"
	LDAP       Protocol = "ldap"
	Postgres   Protocol = "postgres"
	MySQL      Protocol = "mysql"
	XMPP       Protocol = "xmpp"
	XMPPServer Protocol = "xmpp-server"
	NNTP       Protocol = "nntp"
	Sieve      Protocol = "sieve"
	IRC        Protocol = "irc"
)

// Protocols returns every protocol, in the order of this package's
// documentation.
func Protocols() []Protocol {
	return []Protocol{SMTP, LMTP, IMAP, POP3, FTP, LDAP, Postgres, MySQL, XMPP, XMPPServer, NNTP, Sieve, IRC}
}

// Port is the port assigned to the protocol (IANA), the one a target given
// without a port is checked on: 25 for SMTP (mail between servers, as
// Postfix's posttls-finger; submission on 587 is given with its port), 24
// LMTP, 143 IMAP, 110 POP3, 21 FTP, 389 LDAP, 5432 PostgreSQL, 3306 MySQL,
// 5222 XMPP, 5269 XMPP between servers, 119 NNTP, 4190 ManageSieve, 6667
// IRC; 0 for a protocol it does not know.
func (p Protocol) Port() int {
	switch p {
	case SMTP:
		return 25
	case LMTP:
		return 24
	case IMAP:
		return 143
	case POP3:
		return 110
	case FTP:
		return 21
	case LDAP:
		return 389
	case Postgres:
		return 5432
	case MySQL:
		return 3306
	case XMPP:
		return 5222
	case XMPPServer:
		return 5269
	case NNTP:
		return 119
	case Sieve:
		return 4190
	case IRC:
		return 6667
	}
	return 0
}

// aliases are the other names ParseProtocol accepts.
var aliases = map[string]Protocol{
	"postgresql": Postgres, "pgsql": Postgres, "psql": Postgres,
	"mariadb": MySQL, "xmpp-client": XMPP, "jabber": XMPP,
	"managesieve": Sieve, "ftps": FTP,
}

// ParseProtocol reads a protocol name as a user gives it: "smtp",
// "postgres" (or "postgresql"), "mysql" (or "mariadb"), "xmpp",
// "xmpp-server", "sieve" (or "managesieve")…, in any case.
func ParseProtocol(s string) (Protocol, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	p := Protocol(s)
	if slices.Contains(Protocols(), p) {
		return p, nil
	}
	if a, ok := aliases[s]; ok {
		return a, nil
	}
	var names []string
	for _, p := range Protocols() {
		names = append(names, string(p))
	}
	return "", fmt.Errorf("starttls: unknown protocol %q (known: %s)", s, strings.Join(names, ", "))
}

// Name returns the protocol's usual written name: "SMTP", "PostgreSQL",
// "XMPP (server-to-server)"…
func (p Protocol) Name() string {
	switch p {
	case Postgres:
		return "PostgreSQL"
	case MySQL:
		return "MySQL"
	case XMPPServer:
		return "XMPP (server-to-server)"
	case Sieve:
		return "ManageSieve"
	case "":
		return "plain TLS"
	}
	return strings.ToUpper(string(p))
}

// Command returns how the protocol asks for the upgrade, for messages:
// "STARTTLS", "STLS", "AUTH TLS", "SSLRequest"…
func (p Protocol) Command() string {
	switch p {
	case POP3:
		return "STLS"
	case FTP:
		return "AUTH TLS"
	case LDAP:
		return "the StartTLS extended operation"
	case Postgres:
		return "SSLRequest"
	case MySQL:
		return "the SSL request packet"
	case XMPP, XMPPServer:
		return "<starttls/>"
	}
	return "STARTTLS"
}

// wellKnown maps the ports on which each protocol upgrades with STARTTLS.
var wellKnown = map[int]Protocol{
	25: SMTP, 587: SMTP, 2525: SMTP, 24: LMTP, 143: IMAP, 110: POP3, 21: FTP,
	389: LDAP, 5432: Postgres, 3306: MySQL, 5222: XMPP, 5269: XMPPServer,
	119: NNTP, 4190: Sieve, 6667: IRC,
}

// ForPort returns the protocol that upgrades with STARTTLS on the
// well-known port, or "" when the port is not one of them: 25, 587 and
// 2525 SMTP, 24 LMTP, 143 IMAP, 110 POP3, 21 FTP, 389 LDAP, 5432
// PostgreSQL, 3306 MySQL, 5222 XMPP, 5269 XMPP between servers, 119 NNTP,
// 4190 ManageSieve, 6667 IRC.
func ForPort(port int) Protocol { return wellKnown[port] }

// ImplicitPort describes a port that speaks TLS from the first byte, the
// "implicit TLS" twin of a STARTTLS port.
type ImplicitPort struct {
	// Port is the implicit-TLS port, e.g. 465.
	Port int
	// Service is its usual name, e.g. "SMTPS (submissions)".
	Service string
	// Protocol is the protocol spoken inside TLS.
	Protocol Protocol
	// StartTLSPort is the port of the same service that upgrades with
	// STARTTLS instead, e.g. 587.
	StartTLSPort int
}

var implicitPorts = []ImplicitPort{
	{465, "SMTPS (submissions, RFC 8314)", SMTP, 587},
	{993, "IMAPS", IMAP, 143},
	{995, "POP3S", POP3, 110},
	{636, "LDAPS", LDAP, 389},
	{990, "FTPS (implicit)", FTP, 21},
	{563, "NNTPS", NNTP, 119},
	{5223, "XMPP over TLS (RFC 7590)", XMPP, 5222},
	{5270, "XMPP over TLS between servers", XMPPServer, 5269},
	{6697, "IRC over TLS", IRC, 6667},
}

// ImplicitTLSPort reports whether port is a well-known implicit-TLS port (465,
// 993, 995, 636, 990, 563, 5223, 5270, 6697), where a STARTTLS dialogue
// cannot work because the server waits for a ClientHello.
func ImplicitTLSPort(port int) (ImplicitPort, bool) {
	for _, ip := range implicitPorts {
		if ip.Port == port {
			return ip, true
		}
	}
	return ImplicitPort{}, false
}

// ImplicitTLSAddress is [ImplicitTLSPort] for the port of addr
// (HOST:PORT).
func ImplicitTLSAddress(addr string) (ImplicitPort, bool) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ImplicitPort{}, false
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return ImplicitPort{}, false
	}
	return ImplicitTLSPort(n)
}

// Side names the peer that sent a message.
type Side string

// The two sides.
const (
	Client Side = "client"
	Server Side = "server"
)

// Stage says what part of the dialogue a message belongs to.
type Stage string

// The stages of a dialogue, in the order they happen.
const (
	// StageGreeting is what a server says first (SMTP's 220, IMAP's
	// "* OK", a MySQL handshake packet), or what a client opens with
	// where the client speaks first (an XMPP stream header).
	StageGreeting Stage = "greeting"
	// StageCapabilities is the request for capabilities and the list the
	// server answers with (EHLO and its reply, CAPABILITY, CAPA, FEAT…).
	StageCapabilities Stage = "capabilities"
	// StageUpgrade is the upgrade command and its reply.
	StageUpgrade Stage = "upgrade"
	// StagePipelined is bytes the server sent after its upgrade reply and
	// before the TLS handshake: a client reading them as TLS fails, one
	// reading them as replies can be fooled (the STARTTLS command
	// injection class of bugs).
	StagePipelined Stage = "pipelined"
	// StageAfterTLS is the first exchange inside TLS, for orientation
	// (EHLO again, CAPABILITY…).
	StageAfterTLS Stage = "after_tls"
)

// Message is one protocol message, as a person reads it: a line or a
// multi-line reply of a text protocol, or a binary packet described in
// words.
type Message struct {
	// From is the side that sent it.
	From Side
	// At is when it was sent or received.
	At time.Time
	// Stage is the part of the dialogue it belongs to.
	Stage Stage
	// Text is the message decoded: the lines of a text protocol without
	// their line ends (joined by "\n"), or a description of a binary
	// packet such as "SSLRequest (8 bytes)". Unprintable bytes are escaped.
	Text string
	// Bytes is its size on the wire.
	Bytes int
}

// Outcome is how an upgrade attempt ended.
type Outcome string

// The outcomes.
const (
	// Upgraded: the server agreed; the TLS handshake comes next.
	Upgraded Outcome = "upgraded"
	// NotOffered: the capabilities do not list the upgrade (or the
	// protocol's way of saying "no TLS here": PostgreSQL's 'N', LDAP's
	// unsupported extended operation, no SSL capability in MySQL's
	// greeting).
	NotOffered Outcome = "not-offered"
	// Refused: the server answered the upgrade command with an error, or
	// turned the session away before it could be sent (an error greeting,
	// SMTP's EHLO rejected by its policy): then Result.Command is empty
	// and whether the server offers the upgrade is not known.
	Refused Outcome = "refused"
	// Unexpected: the server said something the protocol does not allow
	// there (a bad greeting, a malformed reply, an unknown code).
	Unexpected Outcome = "unexpected-reply"
	// ImplicitTLS: the server answered with TLS bytes: the port speaks
	// TLS from the first byte.
	ImplicitTLS Outcome = "implicit-tls"
	// Failed: the connection failed (closed, reset, timed out) during the
	// dialogue.
	Failed Outcome = "failed"
)

// Result is what a dialogue established.
type Result struct {
	// Protocol is the protocol spoken.
	Protocol Protocol
	// Messages are the messages of both sides, in order.
	Messages []Message
	// Offered says the capabilities listed the upgrade (or the protocol
	// has no capability list to check).
	Offered bool
	// Capabilities is the capability list the server advertised, one
	// entry per capability, as sent; nil when the protocol has none or it
	// was not asked for.
	Capabilities []string
	// Command is the upgrade command as sent, and Reply the server's
	// answer to it (empty when none came). When the dialogue ended before
	// the command with a reply that refused the session or said the
	// upgrade is not there (an error greeting, EHLO answered with an
	// error), Command is empty and Reply is that reply.
	Command, Reply string
	// Outcome is how it ended.
	Outcome Outcome
	// Pipelined holds the bytes the server sent after its upgrade reply,
	// before the handshake (at most 4 KiB of them); see StagePipelined.
	Pipelined []byte
	// Greeting is the server's greeting as received, raw (for a tunnel
	// to pass on to its client); nil when the protocol has none.
	Greeting []byte
}

// Error is a dialogue that did not end in an upgrade. Its Outcome says
// why; Reply quotes the server.
type Error struct {
	Protocol Protocol
	Outcome  Outcome
	// Reply is the server's answer that decided the outcome, or the
	// capability list for NotOffered.
	Reply string
	// Command is the upgrade command, when it was sent; empty when the
	// dialogue ended before it (a Refused without it is a server that
	// turned the session away before the upgrade could be asked).
	Command string
	// Err is the underlying network or parse error, if any.
	Err error
}

// Error says what the dialogue established, quoting the server.
func (e *Error) Error() string {
	var s string
	switch e.Outcome {
	case NotOffered:
		s = fmt.Sprintf("%s: the server does not offer %s", e.Protocol.Name(), e.Protocol.Command())
	case Refused:
		s = fmt.Sprintf("%s: the server refused %s", e.Protocol.Name(), e.Protocol.Command())
		if e.Command == "" {
			s = fmt.Sprintf("%s: the server turned the session away before %s could be asked", e.Protocol.Name(), e.Protocol.Command())
		}
	case Unexpected:
		s = fmt.Sprintf("%s: unexpected reply from the server", e.Protocol.Name())
	case ImplicitTLS:
		s = fmt.Sprintf("%s: the server answered with TLS, not %s: this port speaks TLS from the first byte", e.Protocol.Name(), e.Protocol.Name())
	default:
		s = fmt.Sprintf("%s: the dialogue failed", e.Protocol.Name())
	}
	if e.Reply != "" {
		s += ": " + strconv.Quote(e.Reply)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return "starttls: " + s
}

// Unwrap returns the underlying network or parse error.
func (e *Error) Unwrap() error { return e.Err }

// OutcomeOf returns the outcome an error from this package stands for:
// the Outcome of an [*Error], Failed for anything else, Upgraded for nil.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return Upgraded
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Outcome
	}
	return Failed
}
