package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/starttls"
)

// This file is the tunnel's side of protocols that upgrade to TLS in band
// (stunnel's "protocol ="): the hooks of a [Proxy] whose TLS side speaks
// STARTTLS (or AUTH TLS, SSLRequest…) before its handshake.

// DialFunc opens a TCP connection, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// StartTLSDial returns the [Proxy.Dial] hook of a client-mode service whose
// target upgrades in band: it connects to target, performs the upgrade
// ([starttls.Negotiate]; domain is the XMPP domain), runs the TLS handshake
// with config() (whose verification is the policy's), and then shows the
// plaintext client what it expects, so that its conversation continues
// inside TLS: the server's greeting ([starttls.AppGreeting]), PostgreSQL's
// answer 'N' to the client's own SSLRequest, MySQL's connection phase
// carried with its sequence numbers mended ([starttls.MySQLRelay]).
//
// A server that does not offer the upgrade, refuses it or answers oddly
// refuses the connection with the starttls finding ids ([ClassifyStartTLS]);
// so does one that pipelines bytes after its go-ahead, which the tunnel
// never passes on.
func StartTLSDial(p starttls.Protocol, target, domain string, dial DialFunc, config func() *tls.Config) func(ctx context.Context, in net.Conn) (net.Conn, error) {
	return func(ctx context.Context, in net.Conn) (net.Conn, error) {
		var first []byte
		if p == starttls.Postgres {
			// libpq asks for TLS itself first (sslmode=prefer): decline,
			// the tunnel does it.
			b, err := starttls.PostgresStartup(ctx, in)
			if err != nil {
				return nil, &clientSideError{err}
			}
			first = b
		}
		raw, err := dial(ctx, "tcp", target)
		if err != nil {
			return nil, err
		}
		cfg := config()
		name := domain
		if name == "" {
			name = cfg.ServerName
		}
		if name == "" {
			name, _, _ = net.SplitHostPort(target)
		}
		var res *starttls.Result
		if p == starttls.MySQL {
			// The server takes the capabilities of the SSL request: make
			// it from the client's login (see starttls.MySQLUpgrade).
			res, first, err = starttls.MySQLUpgrade(ctx, raw, in)
		} else {
			res, err = starttls.Negotiate(ctx, raw, starttls.Config{Protocol: p, Domain: name})
		}
		if err == nil && len(res.Pipelined) > 0 {
			err = &starttls.Error{Protocol: p, Outcome: starttls.Pipelined, Reply: string(res.Pipelined),
				Err: errors.New("the server sent plaintext after its go-ahead, before TLS; the tunnel does not pass it on")}
		}
		if err != nil {
			raw.Close()
			return nil, err
		}
		tc, err := clientHandshake(ctx, raw, cfg)
		if err != nil {
			raw.Close()
			return nil, err
		}
		var out net.Conn = tc
		if p == starttls.MySQL {
			out = starttls.MySQLRelay(tc, +1)
		}
		if len(first) > 0 {
			// PostgreSQL's startup, MySQL's login: what the client said
			// before the upgrade, sent inside TLS.
			if _, err := out.Write(first); err != nil {
				tc.Close()
				return nil, err
			}
		}
		if g := starttls.AppGreeting(p, res); len(g) > 0 && p != starttls.MySQL {
			if dl, ok := ctx.Deadline(); ok {
				in.SetWriteDeadline(dl)
			}
			_, err := in.Write(g)
			in.SetWriteDeadline(time.Time{})
			if err != nil {
				tc.Close()
				return nil, &clientSideError{err}
			}
		}
		return out, nil
	}
}

// clientSideError is a failure on the plaintext client's side of a dial.
type clientSideError struct{ err error }

func (e *clientSideError) Error() string { return "tunnel: the plaintext client: " + e.err.Error() }
func (e *clientSideError) Unwrap() error { return e.err }

// StartTLSServe returns the [Proxy.Handshake] and [Proxy.Dial] hooks of a
// server-mode service that offers the upgrade to plaintext clients and
// terminates TLS with config() after it ([starttls.Offer]; p is one of
// [starttls.ServerProtocols]). Where the server speaks first (SMTP, IMAP,
// POP3, MySQL) the target is dialled before the client is greeted, and its
// greeting passed on; the client then gets the target's conversation
// inside TLS. A client that pipelines commands after STARTTLS, or tries
// to go on in plaintext, is refused with the starttls finding ids.
// hostname names the tunnel in SMTP's replies.
func StartTLSServe(p starttls.Protocol, target, hostname string, dial DialFunc, config func() *tls.Config) (
	handshake func(ctx context.Context, c net.Conn) (net.Conn, error),
	dialHook func(ctx context.Context, in net.Conn) (net.Conn, error)) {
	handshake = func(ctx context.Context, c net.Conn) (net.Conn, error) {
		var backend net.Conn
		var greeting []byte
		if starttls.Greets(p) {
			b, err := dial(ctx, "tcp", target)
			if err != nil {
				return nil, &targetError{err}
			}
			g, err := starttls.ReadGreeting(ctx, b, p)
			if err != nil {
				b.Close()
				return nil, &targetError{err}
			}
			backend, greeting = b, g
		}
		fail := func(err error) (net.Conn, error) {
			if backend != nil {
				backend.Close()
			}
			return nil, err
		}
		hc, _, err := starttls.Offer(ctx, c, starttls.ServerConfig{Protocol: p, Hostname: hostname, Greeting: greeting})
		if err != nil {
			return fail(err)
		}
		tc, err := serverHandshake(ctx, hc, config())
		if err != nil {
			return fail(err)
		}
		return &upgradedConn{Conn: tc, backend: backend}, nil
	}
	dialHook = func(ctx context.Context, in net.Conn) (net.Conn, error) {
		var out net.Conn
		if u, ok := in.(*upgradedConn); ok && u.backend != nil {
			out = u.backend
		} else {
			c, err := dial(ctx, "tcp", target)
			if err != nil {
				return nil, err
			}
			out = c
		}
		if p == starttls.MySQL {
			out = starttls.MySQLRelay(out, -1)
		}
		return out, nil
	}
	return handshake, dialHook
}

// upgradedConn is a client's TLS connection after an in-band upgrade,
// carrying the target connection that was opened to greet it.
type upgradedConn struct {
	*tls.Conn
	backend net.Conn
}

// targetError is a failure of the target while a server-mode handshake
// waited for its greeting.
type targetError struct{ err error }

func (e *targetError) Error() string { return "tunnel: the target: " + e.err.Error() }
func (e *targetError) Unwrap() error { return e.err }

// ClassifyStartTLS returns the finding id of an in-band upgrade that
// failed: starttls.not-offered, starttls.refused, starttls.unexpected-reply,
// starttls.plaintext-after-upgrade or starttls.implicit-tls; "" when err is
// not such a failure (a network error during the dialogue is classified
// as any other).
func ClassifyStartTLS(err error) string {
	var e *starttls.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Outcome {
	case starttls.NotOffered:
		return finding.StartTLSNotOffered
	case starttls.Refused:
		return finding.StartTLSRefused
	case starttls.Unexpected:
		return finding.StartTLSUnexpected
	case starttls.Pipelined:
		return finding.StartTLSPlaintext
	case starttls.ImplicitTLS:
		return finding.StartTLSImplicit
	}
	return ""
}

// ParseProtocol reads a service's protocol: "" (plain TLS) or one of
// [starttls.Protocols]; in server mode, one of [starttls.ServerProtocols].
func ParseProtocol(s string, server bool) (starttls.Protocol, error) {
	if s == "" {
		return "", nil
	}
	p, err := starttls.ParseProtocol(s)
	if err != nil {
		return "", err
	}
	if server {
		for _, sp := range starttls.ServerProtocols() {
			if sp == p {
				return p, nil
			}
		}
		return "", fmt.Errorf("tunnel: server mode offers the upgrade for %v, not %s", starttls.ServerProtocols(), p)
	}
	return p, nil
}
