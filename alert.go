package tlskit

import (
	"crypto/tls"
	"errors"
	"net"
	"reflect"
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
