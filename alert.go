package tlskit

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"reflect"

	"github.com/tlskit/tlskit/trust"
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

// AnswersTLS reports whether the server on c answers a TLS ClientHello
// for serverName with TLS, a ServerHello or an alert, before ctx ends:
// whether the port speaks TLS from the first byte, where a protocol that
// upgrades in band was expected. Nothing is verified and nothing follows
// the handshake: the answer only says what the port speaks. It closes c.
func AnswersTLS(ctx context.Context, c net.Conn, serverName string) bool {
	defer c.Close()
	// Not trusted, only asked: no application data follows.
	tc := tls.Client(c, &tls.Config{ServerName: trust.SNI(serverName), InsecureSkipVerify: true, MinVersion: tls.VersionTLS10})
	err := tc.HandshakeContext(ctx)
	_, alerted := PeerAlert(err)
	return err == nil || alerted
}
