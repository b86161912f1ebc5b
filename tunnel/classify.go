package tunnel

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/trust"
)

// Classify returns the finding id that explains why a connection was
// refused or failed, seen from the TLS client's side (a tunnel client
// dialling its target): the id of a [*trust.VerifyError], else one derived
// from the TLS or network error (net.timeout, net.refused, net.reset,
// protocol.not-tls, client-cert.required, protocol.alert…). A certificate
// alert from the peer means the server refused our client certificate.
func Classify(err error) string {
	return classify(err, false)
}

// ClassifyServer is [Classify] seen from the TLS server's side (a tunnel
// server's handshake with a client): a certificate alert from the peer
// means the client refused the server's certificate
// ([finding.ServerCertRejected]), not that a client certificate was
// rejected.
func ClassifyServer(err error) string {
	return classify(err, true)
}

func classify(err error, server bool) string {
	if id := ClassifyStartTLS(err); id != "" {
		return id
	}
	var ve *trust.VerifyError
	if errors.As(err, &ve) {
		return ve.ID
	}
	var ee *explainedError
	if errors.As(err, &ee) && !server {
		return ee.id
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return finding.ProtocolNotTLS
	}
	// A name that did not resolve first: a DNS timeout is a net.Error
	// that timed out too, and its fix is not the target's.
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return finding.NetDNS
	}
	var ne net.Error
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return finding.NetTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return finding.NetRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return finding.NetReset
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return finding.NetUnreachable
	}
	if code, ok := tlskit.PeerAlert(err); ok {
		var cr *certRequestedError
		if errors.As(err, &cr) && !server {
			switch {
			case !cr.sent && (code == 40 || code == 42 || code == 50 || code == 116):
				// handshake_failure (OpenSSL, TLS 1.2), bad_certificate
				// (crypto/tls), decode_error (GnuTLS), certificate_required
				return finding.ClientCertRequired
			case cr.sent && code == 40:
				return finding.ClientCertRejected
			}
		}
		return alertFinding(code, server)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return finding.NetReset
	}
	// What crypto/tls decided itself, as a server, has no type: its own
	// words are all there is.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "client didn't provide a certificate"):
		return finding.ClientCertRequired
	case strings.Contains(msg, "client offered only unsupported versions"):
		return finding.ProtocolVersionMismatch
	case strings.Contains(msg, "no cipher suite supported"):
		return finding.ProtocolNoSharedCipher
	}
	return finding.ProtocolAlert
}

// alertFinding maps an alert from the peer (RFC 8446 §6) to a finding id.
// A certificate alert is about our client certificate when we are the
// client, about the tunnel's certificate when we are the server.
func alertFinding(code uint8, server bool) string {
	switch code {
	case 116: // certificate_required
		return finding.ClientCertRequired
	case 42, 43, 44, 45, 46, 48: // bad, unsupported, revoked, expired, unknown certificate; unknown_ca
		if server {
			return finding.ServerCertRejected
		}
		return finding.ClientCertRejected
	case 70: // protocol_version
		return finding.ProtocolVersionMismatch
	case 40, 71: // handshake_failure, insufficient_security
		return finding.ProtocolNoSharedCipher
	case 112: // unrecognized_name
		return finding.SNIUnrecognizedName
	}
	return finding.ProtocolAlert
}
