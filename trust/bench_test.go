package trust

import (
	"crypto/x509"
	"testing"
	"time"
)

// benchCase is a limbo case parsed ahead of time, so that the benchmarks
// below time verification only, for tlskit and crypto/x509 alike.
type benchCase struct {
	roots, inters []*x509.Certificate
	leaf          *x509.Certificate
	name          string
	at            time.Time
	usage         x509.ExtKeyUsage
	depth         int
	crls          []*CRL
	webpki        bool
}

// limboBenchCases parses every limbo case whose certificates all parse
// (the same set for both verifiers).
func limboBenchCases(b *testing.B) []benchCase {
	var out []benchCase
	parse := func(pems []string) ([]*x509.Certificate, bool) {
		var cs []*x509.Certificate
		for _, p := range pems {
			c, err := x509.ParseCertificate(pemDER(p))
			if err != nil {
				return nil, false
			}
			cs = append(cs, c)
		}
		return cs, true
	}
	for _, tc := range loadLimbo(b) {
		r := tc.prepare()
		if r.err != nil {
			continue
		}
		roots, ok1 := parse(tc.TrustedCerts)
		inters, ok2 := parse(tc.Intermediates)
		leaf, ok3 := parse([]string{tc.Peer})
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		out = append(out, benchCase{roots: roots, inters: inters, leaf: leaf[0], name: r.req.Name, at: r.req.Time,
			usage: r.v.usage(), depth: r.v.MaxIntermediates, crls: r.v.CRLs, webpki: r.v.Profile == ProfileWebPKI})
	}
	return out
}

// BenchmarkLimboTlskit verifies every limbo case with tlskit's verifier,
// findings and all: what `tlskit check` and `tlskit verify` run. See
// bench/verify.sh for the ratio to crypto/x509.
func BenchmarkLimboTlskit(b *testing.B) {
	cases := limboBenchCases(b)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, c := range cases {
			v := &Verifier{Anchors: NewAnchors("", c.roots...), Usage: c.usage, MaxIntermediates: c.depth, CRLs: c.crls}
			if c.webpki {
				v.Profile = ProfileWebPKI
			}
			chain := append([]*x509.Certificate{c.leaf}, c.inters...)
			v.Check(Request{Chain: chain, Name: c.name, Time: c.at})
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "cases/s")
	b.ReportMetric(float64(len(cases)), "cases")
}

// BenchmarkLimboCryptoX509 verifies the same cases with crypto/x509's
// Verify (name, time and usage, as its limbo harness does).
func BenchmarkLimboCryptoX509(b *testing.B) {
	cases := limboBenchCases(b)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, c := range cases {
			opts := x509.VerifyOptions{Roots: x509.NewCertPool(), Intermediates: x509.NewCertPool(), CurrentTime: c.at,
				DNSName: c.name, KeyUsages: []x509.ExtKeyUsage{c.usage}}
			for _, r := range c.roots {
				opts.Roots.AddCert(r)
			}
			for _, i := range c.inters {
				opts.Intermediates.AddCert(i)
			}
			c.leaf.Verify(opts)
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "cases/s")
	b.ReportMetric(float64(len(cases)), "cases")
}
