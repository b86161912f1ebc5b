package diagnose

import (
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/trust"
)

// TestExpiringSoon checks cert.expiring-soon against the certificates'
// own dates: the lab PKI's root and intermediate are valid for ten years
// from a day before now, its leaves for the days each case gives, and a
// certificate is "expiring soon" exactly when now < NotAfter <= now+d.
func TestExpiringSoon(t *testing.T) {
	now := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	p, err := lab.NewPKI(now)
	if err != nil {
		t.Fatal(err)
	}
	name := "www.expiry.test"
	leafIn := func(days int) *x509.Certificate {
		c, err := p.Leaf(lab.LeafOptions{DNSNames: []string{name}, NotBefore: now.AddDate(0, 0, -30), NotAfter: now.AddDate(0, 0, days)})
		if err != nil {
			t.Fatal(err)
		}
		return c.Leaf
	}
	client, err := p.Leaf(lab.LeafOptions{DNSNames: []string{"client.expiry.test"}, NotAfter: now.AddDate(0, 0, 5), EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	v := &trust.Verifier{Anchors: trust.NewAnchors("lab root", p.Root)}
	tests := []struct {
		name   string
		leaf   *x509.Certificate
		client *x509.Certificate
		within time.Duration
		want   []string // subjects warned about, in order
	}{
		{"off", leafIn(10), nil, 0, nil},
		{"leaf inside", leafIn(10), nil, 30 * 24 * time.Hour, []string{name}},
		{"leaf at the threshold", leafIn(30), nil, 30 * 24 * time.Hour, []string{name}},
		{"leaf outside", leafIn(31), nil, 30 * 24 * time.Hour, nil},
		{"expired leaf is cert.expired, not expiring", leafIn(-1), nil, 30 * 24 * time.Hour, nil},
		{"client certificate", leafIn(60), client.Leaf, 30 * 24 * time.Hour, []string{"client.expiry.test"}},
		{"the whole path", leafIn(60), nil, 11 * 365 * 24 * time.Hour, []string{name, "tlskit Lab Intermediate CA", "tlskit Lab Root CA"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := Analyze(Analysis{
				Input:             Input{Target: name + ":443", HandshakeDone: true},
				Verifier:          v,
				ServerName:        name,
				Time:              now,
				Fallback:          []*x509.Certificate{tc.leaf, p.Intermediate},
				ExpiringWithin:    tc.within,
				ClientCertificate: tc.client,
			})
			var got []string
			for _, f := range rep.Findings {
				if f.ID != finding.CertExpiringSoon {
					continue
				}
				if f.Severity != finding.Warning {
					t.Errorf("%s: severity %s, want warning", f.Title, f.Severity)
				}
				for _, s := range []string{"CN=www.expiry.test", "CN=client.expiry.test", "CN=tlskit Lab Intermediate CA", "CN=tlskit Lab Root CA"} {
					if strings.Contains(f.Title, s) {
						got = append(got, strings.TrimPrefix(s, "CN="))
					}
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("warned about %q, want %q", got, tc.want)
			}
			wantVerdict := Trusted
			if tc.leaf.NotAfter.Before(now) {
				wantVerdict = Untrusted
			}
			if rep.Verdict != wantVerdict {
				t.Errorf("verdict %s, want %s: a warning does not change it", rep.Verdict, wantVerdict)
			}
		})
	}
}
