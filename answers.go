package tlskit

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/tlskit/tlskit/trust"
)

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
