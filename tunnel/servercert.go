package tunnel

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
)

// serverHandshake runs a TLS server handshake on c under cfg. A client
// that refuses the tunnel's certificate in TLS 1.3 may send its alert
// unencrypted (OpenSSL does, and so curl: it has not switched to its
// handshake keys yet); crypto/tls then fails with bad_record_mac of its
// own. The last bytes read tell: such an error is a [*plainAlertError]
// that carries the client's alert.
func serverHandshake(ctx context.Context, c net.Conn, cfg *tls.Config) (*tls.Conn, error) {
	tc := &tailConn{Conn: c}
	s := tls.Server(tc, cfg)
	err := s.HandshakeContext(ctx)
	tc.off = true // the handshake is over: no more recording
	if err != nil {
		if code, ok := tc.alert(); ok && strings.Contains(err.Error(), "bad record MAC") {
			return nil, &plainAlertError{code: code, err: err}
		}
		return nil, err
	}
	return s, nil
}

// tailConn remembers the last bytes read during the handshake.
type tailConn struct {
	net.Conn
	tail [7]byte // an alert record: type, version, length (2), level, description
	n    int     // bytes of tail filled
	off  bool
}

func (c *tailConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if !c.off && n > 0 {
		if n >= len(c.tail) {
			copy(c.tail[:], b[n-len(c.tail):n])
			c.n = len(c.tail)
		} else {
			keep := min(c.n, len(c.tail)-n)
			copy(c.tail[:], c.tail[c.n-keep:c.n])
			copy(c.tail[keep:], b[:n])
			c.n = keep + n
		}
	}
	return n, err
}

// alert returns the description of a plaintext alert record that ends
// what was read, if it does.
func (c *tailConn) alert() (uint8, bool) {
	t := c.tail
	if c.n == len(t) && t[0] == 21 && t[1] == 3 && t[3] == 0 && t[4] == 2 && t[5] == 2 {
		return t[6], true
	}
	return 0, false
}

// plainAlertError is a handshake that failed on a fatal alert the client
// sent unencrypted.
type plainAlertError struct {
	code uint8
	err  error
}

func (e *plainAlertError) Error() string {
	return fmt.Sprintf("tunnel: the client sent alert %d (%v) unencrypted, as OpenSSL does in TLS 1.3 when it refuses the server's certificate; crypto/tls: %v", e.code, tls.AlertError(e.code), e.err)
}

// Unwrap returns the client's alert, as a [tls.AlertError], and the
// handshake's own error.
func (e *plainAlertError) Unwrap() []error { return []error{tls.AlertError(e.code), e.err} }
