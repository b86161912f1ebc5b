package tunnel

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"

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
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return finding.ProtocolNotTLS
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
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return finding.NetUnreachable
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "client didn't provide a certificate"), strings.Contains(msg, "remote error: tls: certificate required"):
		return finding.ClientCertRequired
	case strings.Contains(msg, "remote error: tls: bad certificate"), strings.Contains(msg, "remote error: tls: unknown certificate authority"),
		strings.Contains(msg, "remote error: tls: certificate unknown"), strings.Contains(msg, "remote error: tls: unsupported certificate"),
		strings.Contains(msg, "remote error: tls: certificate expired"), strings.Contains(msg, "remote error: tls: certificate revoked"):
		if server {
			return finding.ServerCertRejected
		}
		return finding.ClientCertRejected
	case strings.Contains(msg, "protocol version not supported"):
		return finding.ProtocolVersionMismatch
	case strings.Contains(msg, "no cipher suite supported"), strings.Contains(msg, "handshake failure"):
		return finding.ProtocolNoSharedCipher
	case strings.Contains(msg, "unrecognized name"):
		return finding.SNIUnrecognizedName
	case errors.Is(err, net.ErrClosed), strings.Contains(msg, "EOF"):
		return finding.NetReset
	}
	return finding.ProtocolAlert
}
