package starttls

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
)

// AppGreeting returns what a tunnel in client mode sends its plaintext
// client once the upgrade towards the server is done, so that the client
// finds the conversation where it expects it: the server's greeting (SMTP,
// LMTP, POP3, FTP, NNTP), IMAP's without its capability response code (it
// listed STARTTLS, which inside TLS is gone: the client asks again), and
// MySQL's with the SSL capability cleared (the client must not ask for
// TLS again; see [MySQLRelay]). Protocols where the client speaks first
// (LDAP, PostgreSQL, XMPP, IRC) get nothing, and neither does ManageSieve,
// whose server sends its capabilities again by itself after TLS.
func AppGreeting(p Protocol, res *Result) []byte {
	g := res.Greeting
	switch p {
	case SMTP, LMTP, POP3, FTP, NNTP:
		return g
	case IMAP:
		line := strings.TrimRight(string(g), "\r\n")
		if i := strings.Index(asciiUpper(line), "[CAPABILITY "); i >= 0 {
			if j := strings.IndexByte(line[i:], ']'); j >= 0 {
				line = strings.TrimRight(line[:i], " ") + " " + strings.TrimLeft(line[i+j+1:], " ")
			}
		}
		return []byte(strings.TrimRight(line, " ") + "\r\n")
	case MySQL:
		if len(g) < 5 {
			return nil
		}
		out := append([]byte(nil), g...)
		gr, err := parseMyGreeting(out[4:])
		if err != nil {
			return nil
		}
		off := 4 + 1 + len(gr.rawVer) + 1 + 4 + 8 + 1
		caps := binary.LittleEndian.Uint16(out[off:]) &^ mySSL
		binary.LittleEndian.PutUint16(out[off:], caps)
		return out
	}
	return nil
}

// PostgresStartup reads a plaintext PostgreSQL client's first message in a
// tunnel's client mode: an SSLRequest or GSSENCRequest is declined with
// 'N' (the tunnel does the TLS), and the first 8 bytes of the real startup
// message are returned, for the caller to forward to the server.
func PostgresStartup(ctx context.Context, app net.Conn) ([]byte, error) {
	stop := bind(ctx, app)
	defer stop()
	b := make([]byte, 8)
	for n := 0; n < 3; n++ {
		if _, err := io.ReadFull(app, b); err != nil {
			return nil, fmt.Errorf("starttls: reading the PostgreSQL client's startup: %w", err)
		}
		size := binary.BigEndian.Uint32(b)
		code := binary.BigEndian.Uint32(b[4:])
		if size != 8 || (code != pgSSLCode && code != pgGSSCode) {
			return b, nil
		}
		if _, err := app.Write([]byte("N")); err != nil {
			return nil, err
		}
	}
	return nil, &Error{Protocol: Postgres, Outcome: Unexpected, Err: errors.New("the client sent three encryption requests")}
}

// MySQLUpgrade performs MySQL's upgrade for a tunnel in client mode. The
// server takes the client's capabilities from the SSL request, not from
// the login that follows it inside TLS, so the request must carry the
// plaintext client's own capabilities: MySQLUpgrade reads the server's
// greeting, passes it to the client with the SSL capability cleared
// ([AppGreeting]), reads the client's login (HandshakeResponse), and sends
// the server an SSL request made of the login's first 32 bytes with the
// SSL capability set. It returns the login packet, which the caller sends
// inside TLS through a [MySQLRelay] with shift +1 once the handshake is
// done.
func MySQLUpgrade(ctx context.Context, server, app net.Conn) (*Result, []byte, error) {
	stop := bind(ctx, server)
	defer stop()
	stopApp := bind(ctx, app)
	defer stopApp()
	s := newSession(server, MySQL, Server, nil)
	seq, p, _, err := s.readMyPacket()
	if err != nil {
		return s.res, nil, s.netFail("reading the greeting", err)
	}
	s.res.Greeting = append([]byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), seq}, p...)
	g, err := parseMyGreeting(p)
	if err != nil {
		if len(p) > 0 && p[0] == 0xff {
			return s.res, nil, s.fail(Refused, myErr(p), nil)
		}
		return s.res, nil, s.fail(Unexpected, "", err)
	}
	s.offered(myCaps(g.caps), g.caps&mySSL != 0)
	if g.caps&mySSL == 0 {
		return s.res, nil, s.fail(NotOffered, "", errors.New("the greeting's capabilities have no SSL flag: the server has no TLS configured"))
	}
	if _, err := app.Write(AppGreeting(MySQL, s.res)); err != nil {
		return s.res, nil, fmt.Errorf("starttls: passing the greeting to the client: %w", err)
	}
	a := newSession(app, MySQL, Client, nil)
	aseq, login, _, err := a.readMyPacket()
	if err != nil {
		return s.res, nil, fmt.Errorf("starttls: reading the client's login: %w", err)
	}
	if len(login) < 32 || aseq != seq+1 {
		return s.res, nil, &Error{Protocol: MySQL, Outcome: Unexpected, Err: fmt.Errorf("the client's login is %d bytes with sequence id %d", len(login), aseq)}
	}
	if a.r.Buffered() > 0 {
		return s.res, nil, &Error{Protocol: MySQL, Outcome: Pipelined, Err: errors.New("the client sent more than its login before the server answered")}
	}
	req := make([]byte, 4+32)
	req[0], req[3] = 32, seq+1
	copy(req[4:], login[:32])
	binary.LittleEndian.PutUint32(req[4:], binary.LittleEndian.Uint32(login)|mySSL)
	s.res.Command = "SSL request packet"
	if err := s.send(StageUpgrade, "SSL request: capabilities "+strings.Join(myCaps(binary.LittleEndian.Uint32(req[4:])), " "), req); err != nil {
		return s.res, nil, s.netFail("sending the SSL request", err)
	}
	if s.r.Buffered() > 0 {
		s.pipelined()
		return s.res, nil, &Error{Protocol: MySQL, Outcome: Pipelined, Reply: string(s.res.Pipelined), Err: errors.New("the server sent more than its greeting")}
	}
	s.res.Outcome = Upgraded
	packet := append([]byte{byte(len(login)), byte(len(login) >> 8), byte(len(login) >> 16), aseq}, login...)
	return s.res, packet, nil
}
