package tlskit

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tlskit/tlskit/trust"
)

// Dial connects to addr and completes a TLS handshake verified under p.
// The server name is p.ServerName, or else the host of addr, IP addresses
// included (see [trust.ServerName]). A refused server yields a
// [*VerifyError]; a handshake that fails otherwise a [*HandshakeError].
// The connection and the handshake take 10 seconds at most (as net/http's
// TLSHandshakeTimeout): a server that accepts and never answers is an
// error, not a hang.
func Dial(network, addr string, p *Policy) (*tls.Conn, error) {
	return DialContext(context.Background(), network, addr, p)
}

// DialContext is [Dial] with a context bounding the connection and the
// handshake; without a deadline, Dial's 10 seconds bound them.
func DialContext(ctx context.Context, network, addr string, p *Policy) (*tls.Conn, error) {
	cfg, err := p.DialConfig(addr)
	if err != nil {
		return nil, err
	}
	return dialTLS(ctx, network, addr, cfg)
}

// dialTLS connects to addr and makes the handshake under cfg; a failed
// handshake is a *VerifyError, or a *HandshakeError.
func dialTLS(ctx context.Context, network, addr string, cfg *tls.Config) (*tls.Conn, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, handshakeTimeout)
		defer cancel()
	}
	raw, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c := tls.Client(raw, cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		var ve *VerifyError
		if errors.As(err, &ve) || errors.Is(ctx.Err(), context.Canceled) {
			return nil, err
		}
		return nil, &HandshakeError{Addr: addr, ServerName: cfg.ServerName, Err: err}
	}
	return c, nil
}

// DialConfig is the client config for a connection to addr: the name to
// verify is decided once, by trust.ServerName.
func (p *Policy) DialConfig(addr string) (*tls.Config, error) {
	c, err := p.clients()
	if err != nil {
		return nil, err
	}
	return c.dialConfig(addr)
}

// dialConfig is DialConfig with the policy's client configs built.
func (c *clientConfigs) dialConfig(addr string) (*tls.Config, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("tlskit: address %q: want HOST:PORT: %w", addr, err)
	}
	name, err := trust.ServerName(addr, c.p.ServerName)
	if err != nil {
		return nil, err
	}
	return c.config(name)
}

// Listen returns a TLS listener on addr serving under p (see
// [Policy.ServerConfig]). Handshakes happen on the first Read or Write of an
// accepted connection, or an explicit Handshake.
func Listen(network, addr string, p *Policy) (net.Listener, error) {
	cfg, err := p.ServerConfig()
	if err != nil {
		return nil, err
	}
	return tls.Listen(network, addr, cfg)
}

// handshakeTimeout bounds a connection and its handshake (Dial's, a
// Transport's) when the context has no deadline.
const handshakeTimeout = 10 * time.Second

// Transport returns an *http.Transport whose TLS connections are verified
// under p. Each connection's name is decided from the address it dials (the
// request's host, IP addresses included) or p.ServerName, exactly as
// [Dial] does. It offers h2 and http/1.1 unless p.ALPN says otherwise.
// Proxy settings are not taken from the environment. The trust sources,
// pins and client certificate are read when the Transport is made, not
// for each connection; the CRL files and the client certificate's files
// are read again when they change on disk.
func (p *Policy) Transport() (*http.Transport, error) {
	q := *p
	if len(q.ALPN) == 0 {
		q.ALPN = []string{"h2", "http/1.1"}
	}
	// The policy checked as Validate checks it; the verifier, the client
	// certificate and the rest built then serve every connection (CRL
	// files are read again only when they change), the name decided per
	// connection.
	clients, err := q.validated()
	if err != nil {
		return nil, err
	}
	return &http.Transport{
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			// TLSHandshakeTimeout does not apply to DialTLSContext.
			ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
			defer cancel()
			cfg, err := clients.dialConfig(addr)
			if err != nil {
				return nil, err
			}
			c, err := dialTLS(ctx, network, addr, cfg)
			if err != nil {
				return nil, err // not a nil *tls.Conn in a non-nil net.Conn
			}
			return c, nil
		},
		ForceAttemptHTTP2: true,
		MaxIdleConns:      100,
		IdleConnTimeout:   90 * time.Second,
	}, nil
}
