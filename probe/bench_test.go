package probe

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/trust"
)

// BenchmarkCheck measures one whole check (connect, handshake, record,
// decode, verify, diagnose) against a crypto/tls server on loopback.
// bench/check.sh compares the binary against openssl s_client.
func BenchmarkCheck(b *testing.B) {
	p, err := lab.NewPKI(time.Now())
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := p.Leaf(lab.LeafOptions{DNSNames: []string{"bench.test"}})
	if err != nil {
		b.Fatal(err)
	}
	addr := peertest.ServeTLS(b, &tls.Config{Certificates: []tls.Certificate{leaf}}, func(c *tls.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Read(make([]byte, 1)) // handshake, then wait for close_notify
	})
	opts := Options{
		Address: addr, ServerName: "bench.test",
		Verifier: &trust.Verifier{Anchors: trust.NewAnchors("lab root", p.Root)},
		Time:     func() time.Time { return p.Now },
	}
	b.ResetTimer()
	for b.Loop() {
		if rep := Run(context.Background(), opts); rep.Verdict != diagnose.Trusted {
			b.Fatalf("verdict %s: %+v", rep.Verdict, rep.Findings)
		}
	}
}
