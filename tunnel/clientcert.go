package tunnel

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/tlskit/tlskit"
)

// clientHandshake runs a TLS client handshake on raw under cfg. When the
// server refuses the handshake with an alert after it asked for a client
// certificate, the error is a [*certRequestedError] saying whether one was
// sent: in TLS 1.2 OpenSSL answers a missing certificate with
// handshake_failure, the alert it also sends when nothing in the
// ClientHello suits it, and only the CertificateRequest tells them apart.
func clientHandshake(ctx context.Context, raw net.Conn, cfg *tls.Config) (*tls.Conn, error) {
	req := &certRequestedError{}
	cfg = cfg.Clone()
	get, certs := cfg.GetClientCertificate, cfg.Certificates
	cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		req.requested = true
		if get != nil {
			c, err := get(cri)
			req.sent = err == nil && c != nil && len(c.Certificate) > 0
			return c, err
		}
		// crypto/tls's own choice when GetClientCertificate is nil.
		for i := range certs {
			if cri.SupportsCertificate(&certs[i]) == nil {
				req.sent = true
				return &certs[i], nil
			}
		}
		return new(tls.Certificate), nil
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		if _, alert := tlskit.PeerAlert(err); alert && req.requested {
			req.err = err
			return nil, req
		}
		return nil, err
	}
	return tc, nil
}

// certRequestedError is a handshake the server refused with an alert after
// it asked for a client certificate.
type certRequestedError struct {
	requested, sent bool
	err             error
}

func (e *certRequestedError) Error() string {
	if e.sent {
		return "tunnel: the server asked for a client certificate and refused the handshake after it was sent: " + e.err.Error()
	}
	return "tunnel: the server asked for a client certificate, none was sent, and it refused the handshake: " + e.err.Error()
}

func (e *certRequestedError) Unwrap() error { return e.err }
