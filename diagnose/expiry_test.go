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

// TestParseDays: the expiry window as users write it. The days are plain
// decimals; before this table, fmt.Sscanf's %g took "NaNd" (a negative
// window, so that nothing was ever "expiring soon"), "5dd" and "1_0d".
func TestParseDays(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		in   string
		want time.Duration
		err  string // part of the error; "" when s parses
	}{
		{"30d", 30 * day, ""},
		{"1.5d", 36 * time.Hour, ""},
		{".5d", 12 * time.Hour, ""},
		{"7.d", 7 * day, ""},
		{"0d", 0, ""},
		{"100000d", 100000 * day, ""},
		{"720h", 720 * time.Hour, ""},
		{"0", 0, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"100001d", 0, "not a number of days"},
		{"NaNd", 0, "not a number of days"},
		{"nand", 0, "not a number of days"},
		{"Infd", 0, "not a number of days"},
		{"-1d", 0, "not a number of days"},
		{"+5d", 0, "not a number of days"},
		{"1e3d", 0, "not a number of days"},
		{"0x10d", 0, "not a number of days"},
		{"1_0d", 0, "not a number of days"},
		{"5dd", 0, "not a number of days"},
		{"1.2.3d", 0, "not a number of days"},
		{".d", 0, "not a number of days"},
		{"d", 0, "not a number of days"},
		{" 5d", 0, "not a number of days"},
		{"5 d", 0, "not a number of days"},
		{"", 0, "not a duration"},
		{"30", 0, "not a duration"},
		{"30days", 0, "not a duration"},
		{"-1h", 0, "negative"},
	} {
		got, err := ParseDays(c.in)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("ParseDays(%q): %v", c.in, err)
		case c.err == "" && got != c.want:
			t.Errorf("ParseDays(%q) = %v, want %v", c.in, got, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParseDays(%q) = %v, %v; want an error saying %q", c.in, got, err, c.err)
		}
	}
}

// FuzzParseDays: whatever the text, no panic, and a window that parses
// is never negative nor longer than 100000 days.
func FuzzParseDays(f *testing.F) {
	for _, s := range []string{"30d", "1.5d", ".5d", "720h", "NaNd", "1e309d", "99999.99999d", "-0d", "9223372036854775807ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDays(s)
		if err == nil && (d < 0 || (strings.HasSuffix(s, "d") && d > maxDays*24*time.Hour)) {
			t.Fatalf("ParseDays(%q) = %v", s, d)
		}
	})
}
