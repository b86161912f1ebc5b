package truststore

import (
	"os"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
)

// BenchmarkAuditEtcSSLCerts is a full audit of this machine (Root "/"):
// every location, every certificate parsed and hashed, every finding.
func BenchmarkAuditEtcSSLCerts(b *testing.B) {
	if _, err := os.Stat("/etc/ssl/certs"); err != nil {
		peertest.Skip(b, "no /etc/ssl/certs")
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	certs := 0
	for b.Loop() {
		a, err := Discover(Options{Root: "/", Time: func() time.Time { return now }})
		if err != nil {
			b.Fatal(err)
		}
		certs = 0
		for _, l := range a.Locations {
			certs += len(l.Certs)
		}
	}
	b.ReportMetric(float64(certs), "certs")
}
