package tunnel_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"testing"

	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/tunnel"
)

// sinkServer reads every connection to the end and answers the byte
// count's low byte, so that a client knows all its data arrived.
func sinkServer(tb testing.TB) string {
	tb.Helper()
	return peertest.Serve(tb, func(c net.Conn) {
		n, _ := io.Copy(io.Discard, c)
		c.Write([]byte{byte(n)})
	})
}

// BenchmarkProxyThroughput measures the copy path over loopback TCP: one
// stream of 1 MiB writes through a plain proxy, and through a TLS 1.3
// server tunnel (client side in the benchmark process too).
func BenchmarkProxyThroughput(b *testing.B) {
	const chunk = 1 << 20
	data := make([]byte, chunk)
	for _, mode := range []string{"plain", "tls"} {
		b.Run(mode, func(b *testing.B) {
			target := sinkServer(b)
			var p *tunnel.Proxy
			dial := func() (net.Conn, error) { return net.Dial("tcp", target) }
			if mode == "plain" {
				p = &tunnel.Proxy{Dial: func(ctx context.Context, _ net.Conn) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, "tcp", target)
				}}
			} else {
				f := newFixture(b)
				p = serverTunnel(b, &policyEdit{CertFile: f.serverCert, KeyFile: f.serverKey}, target)
			}
			addr := serve(b, p)
			if mode == "plain" {
				dial = func() (net.Conn, error) { return net.Dial("tcp", addr) }
			} else {
				dial = func() (net.Conn, error) {
					return tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}) // the certificate is not under test
				}
			}
			c, err := dial()
			must(b, err)
			defer c.Close()
			b.SetBytes(chunk)
			b.ResetTimer()
			for b.Loop() {
				if _, err := c.Write(data); err != nil {
					b.Fatal(err)
				}
			}
			// All data must have gone through before the clock stops.
			must(b, c.(interface{ CloseWrite() error }).CloseWrite())
			var ack [1]byte
			if _, err := io.ReadFull(c, ack[:]); err != nil {
				b.Fatalf("no answer from the target after half-close: %v", err)
			}
			if want := byte(int64(b.N) * chunk); ack[0] != want {
				b.Fatalf("the target counted a different number of bytes (low byte %d, want %d)", ack[0], want)
			}
		})
	}
}
