package tlskit

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"syscall"

	"github.com/tlskit/tlskit/internal/wire"
)

// PeerAlert returns the TLS alert the peer sent (RFC 8446 §6), when err,
// from crypto/tls, reports one: a [tls.AlertError] (what crypto/tls wraps
// for QUIC and may wrap elsewhere), or the *net.OpError "remote error"
// crypto/tls returns for a received alert, whose Err is its unexported
// alert type, a uint8. An alert crypto/tls sent itself is not the peer's.
func PeerAlert(err error) (code uint8, ok bool) {
	var ae tls.AlertError
	if errors.As(err, &ae) {
		return uint8(ae), true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" && op.Err != nil {
		if v := reflect.ValueOf(op.Err); v.Kind() == reflect.Uint8 {
			return uint8(v.Uint()), true
		}
	}
	return 0, false
}

// HandshakeError is a client handshake that failed for another reason than
// the server's certificate (that is a [*VerifyError]): the server's alert,
// or the connection's end, in words, naming the Policy field that changes
// it where one does. Err is crypto/tls's error; [PeerAlert] and errors.Is
// see through it.
type HandshakeError struct {
	// Addr is the address dialled and ServerName the name sent as SNI
	// ("" for none).
	Addr, ServerName string
	// Err is the handshake's error, as crypto/tls returned it.
	Err error
}

// Error says what failed and why, such as `tlskit: TLS handshake with
// 10.0.0.5:443 (server name "api.internal") failed: the server sent alert
// unrecognized_name (112): it does not serve the name "api.internal"
// (Policy.ServerName)`.
func (e *HandshakeError) Error() string {
	name := ""
	if e.ServerName != "" {
		name = fmt.Sprintf(" (server name %q)", e.ServerName)
	}
	return fmt.Sprintf("tlskit: TLS handshake with %s%s failed: %s", e.Addr, name, e.reason())
}

// Unwrap returns crypto/tls's error.
func (e *HandshakeError) Unwrap() error { return e.Err }

// Hint names the command that shows the handshake and diagnoses it.
func (e *HandshakeError) Hint() string {
	name := ""
	if e.ServerName != "" {
		name = "--servername " + e.ServerName + " "
	}
	return fmt.Sprintf("`tlskit check %s%s` shows the handshake and says why it failed", name, e.Addr)
}

// reason is the failure in words.
func (e *HandshakeError) reason() string {
	code, ok := PeerAlert(e.Err)
	if !ok && (errors.Is(e.Err, context.DeadlineExceeded) || errors.Is(e.Err, os.ErrDeadlineExceeded)) {
		return "the server did not finish the handshake in time (10 s unless the context said otherwise): it accepts connections but does not answer TLS on this port (a protocol that speaks first, or STARTTLS), or it is overloaded, or the path drops its larger packets"
	}
	if !ok {
		if errors.Is(e.Err, io.EOF) || errors.Is(e.Err, io.ErrUnexpectedEOF) || errors.Is(e.Err, syscall.ECONNRESET) {
			return fmt.Sprintf("the server ended the connection during the handshake without an alert (%v): it may not speak TLS on this port, or it refuses the client's hello silently", e.Err)
		}
		return e.Err.Error()
	}
	sent := fmt.Sprintf("the server sent alert %s (%d)", alertName(code), code)
	name := "no server name (Policy.ServerName; an IP address sends none)"
	if e.ServerName != "" {
		name = fmt.Sprintf("the name %q (Policy.ServerName)", e.ServerName)
	}
	switch code {
	case 40:
		return sent + ": it found nothing acceptable in the client's hello (usually no cipher suite, key exchange group or signature scheme in common), or it wants a client certificate (Policy.CertFile and KeyFile)"
	case 70:
		return sent + ": it speaks none of the TLS versions the client offered (Policy.MinVersion and MaxVersion)"
	case 71:
		return sent + ": it wants stronger parameters than the client offered"
	case 80:
		return sent + ": it failed on its own side; servers written in Go (Caddy, Traefik) send it when they have no certificate for " + name
	case 112:
		return sent + ": it does not serve " + name
	case 116:
		return sent + ": it requires a client certificate (Policy.CertFile and KeyFile)"
	case 42, 43, 44, 45, 46, 48, 49:
		return sent + ": it refused the client's certificate, or wanted one (Policy.CertFile and KeyFile)"
	case 120:
		return sent + ": it speaks none of the application protocols the client offered (Policy.ALPN)"
	}
	return sent
}

// alertName is an alert description's name (RFC 8446 §6).
func alertName(code uint8) string {
	return wire.AlertDescription(code).String()
}
