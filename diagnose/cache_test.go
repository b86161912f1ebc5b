package diagnose

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/trust"
)

// TestChainCacheBoundaries: a remembered verification is never used across
// a certificate's not-after or not-before, nor past the TTL, nor for
// another name: the verdicts equal those of an uncached analysis.
func TestChainCacheBoundaries(t *testing.T) {
	now := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	p, err := lab.NewPKI(now)
	if err != nil {
		t.Fatal(err)
	}
	name := "cache.test"
	leaf, err := p.Leaf(lab.LeafOptions{DNSNames: []string{name}, NotBefore: now.Add(10 * time.Second), NotAfter: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	v := &trust.Verifier{Anchors: trust.NewAnchors("lab root", p.Root)}
	cache := NewChainCache(16, time.Hour)
	analyze := func(at time.Time, sni string, c *ChainCache) *Report {
		return Analyze(Analysis{Input: Input{Target: "x:443", HandshakeDone: true}, Verifier: v, ServerName: sni, Time: at,
			Fallback: []*x509.Certificate{leaf.Leaf, p.Intermediate}, Chains: c})
	}
	for _, step := range []struct {
		at   time.Time
		name string
		want string // a finding id, or "" for trusted
	}{
		{now, name, finding.CertNotYetValid},
		{now.Add(5 * time.Second), name, finding.CertNotYetValid},
		{now.Add(10 * time.Second), name, ""},
		{now.Add(30 * time.Second), name, ""},
		{now.Add(30 * time.Second), "other.test", finding.NameMismatch},
		{now.Add(60 * time.Second), name, ""},
		{now.Add(61 * time.Second), name, finding.CertExpired},
	} {
		got, want := analyze(step.at, step.name, cache), analyze(step.at, step.name, nil)
		if got.Verdict != want.Verdict || len(got.Findings) != len(want.Findings) {
			t.Fatalf("at %v for %s: cached %s %v, uncached %s %v", step.at.Sub(now), step.name, got.Verdict, got.Findings, want.Verdict, want.Findings)
		}
		if step.want == "" && got.Verdict != Trusted || step.want != "" && !finding.Has(got.Findings, step.want) {
			t.Errorf("at %v for %s: %s %v, want %q", step.at.Sub(now), step.name, got.Verdict, got.Findings, step.want)
		}
	}
	if len(cache.res) != 2 { // one per name: each boundary replaced the entry
		t.Errorf("%d verifications remembered, want 2", len(cache.res))
	}
}
