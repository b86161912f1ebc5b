package tlskit

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Dial connects to addr and completes a TLS handshake verified under p.
// The server name is p.ServerName, or else the host of addr. A refused
// server yields a [*VerifyError].
func Dial(network, addr string, p *Policy) (*tls.Conn, error) {
	return DialContext(context.Background(), network, addr, p)
}

// DialContext is [Dial] with a context bounding the connection and the
// handshake.
func DialContext(ctx context.Context, network, addr string, p *Policy) (*tls.Conn, error) {
	name := p.ServerName
	if name == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("tlskit: address %q: want HOST:PORT: %w", addr, err)
		}
		name = host
	}
	cfg, err := p.ClientConfig(name)
	if err != nil {
		return nil, err
	}
	d := &tls.Dialer{Config: cfg}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return c.(*tls.Conn), nil
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

// Transport returns an *http.Transport whose TLS connections are verified
// under p, for each request's host (or p.ServerName). It offers h2 and
// http/1.1 unless p.ALPN says otherwise. Proxy settings are not taken from
// the environment.
func (p *Policy) Transport() (*http.Transport, error) {
	cfg, err := p.clientConfig(p.ServerName)
	if err != nil {
		return nil, err
	}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	return &http.Transport{
		TLSClientConfig:     cfg, // net/http fills in ServerName per host
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConns:        100,
		IdleConnTimeout:     90 * time.Second,
	}, nil
}
