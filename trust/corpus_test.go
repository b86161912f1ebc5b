package trust

import (
	"compress/gzip"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
)

// The large external suites are read in place from the shared corpus
// (shared/corpora beside the repository), found by peertest.Corpus.
const (
	limboPath     = "x509-limbo/limbo.json.gz"
	betterTLSPath = "bettertls/bettertls-tests.json.gz"
)

func openGzipJSON(t *testing.T, rel string, v any) {
	t.Helper()
	f, err := os.Open(peertest.Corpus(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(zr).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// limboKnownDeviations are the x509-limbo server cases where our verdict
// differs from crypto/x509's on purpose: Policy rejects weak leaf keys
// (cert.weak-key) that crypto/x509 accepts. A weak root key is only a
// warning, so the *-in-root cases agree with crypto/x509; odd RSA sizes
// that are not weak (not divisible by 8) are accepted by both.
var limboKnownDeviations = []string{
	"webpki::forbidden-dsa-leaf",
	"webpki::forbidden-weak-rsa-in-leaf",
}

// TestLimbo runs x509-limbo's non-BetterTLS server cases through
// Policy.Verify and requires the same verdict as crypto/x509 with the same
// inputs: validation is delegated, so agreement is the bar.
func TestLimbo(t *testing.T) {
	var limbo struct {
		Testcases []struct {
			ID               string   `json:"id"`
			ValidationKind   string   `json:"validation_kind"`
			TrustedCerts     []string `json:"trusted_certs"`
			Intermediates    []string `json:"untrusted_intermediates"`
			Peer             string   `json:"peer_certificate"`
			ValidationTime   *string  `json:"validation_time"`
			ExpectedPeerName *struct {
				Kind  string `json:"kind"`
				Value string `json:"value"`
			} `json:"expected_peer_name"`
		} `json:"testcases"`
	}
	openGzipJSON(t, limboPath, &limbo)
	parse := func(pems ...string) ([]*x509.Certificate, bool) {
		var out []*x509.Certificate
		for _, s := range pems {
			b, _ := pem.Decode([]byte(s))
			if b == nil {
				return nil, false
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, false
			}
			out = append(out, c)
		}
		return out, true
	}
	var deviations []string
	ran := 0
	for _, tc := range limbo.Testcases {
		prefix, _, _ := strings.Cut(tc.ID, "::")
		if tc.ValidationKind != "SERVER" || !slices.Contains([]string{"rfc5280", "webpki", "pathlen", "pathological", "cve"}, prefix) {
			continue
		}
		host := ""
		if n := tc.ExpectedPeerName; n != nil {
			if n.Kind != "DNS" && n.Kind != "IP" {
				continue
			}
			host = n.Value
		}
		roots, ok1 := parse(tc.TrustedCerts...)
		inters, ok2 := parse(tc.Intermediates...)
		peer, ok3 := parse(tc.Peer)
		if !ok1 || !ok2 || !ok3 {
			continue // crypto/x509 cannot even parse it: nothing to compare
		}
		at := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
		if tc.ValidationTime != nil {
			var err error
			if at, err = time.Parse(time.RFC3339, *tc.ValidationTime); err != nil {
				t.Fatalf("%s: %v", tc.ID, err)
			}
		}
		ran++
		opts := x509.VerifyOptions{Roots: x509.NewCertPool(), Intermediates: x509.NewCertPool(), CurrentTime: at, DNSName: host,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		for _, c := range roots {
			opts.Roots.AddCert(c)
		}
		for _, c := range inters {
			opts.Intermediates.AddCert(c)
		}
		_, goErr := peer[0].Verify(opts)

		start := time.Now()
		r := (&Verifier{Anchors: NewAnchors("", roots...)}).Verify(append(peer, inters...), host, at)
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: Verify took %v", tc.ID, d)
		}
		if r.Trusted != (goErr == nil) {
			deviations = append(deviations, tc.ID)
			if !slices.Contains(limboKnownDeviations, tc.ID) {
				t.Errorf("%s: Trusted=%v, crypto/x509: %v\n%s", tc.ID, r.Trusted, goErr, dump(r))
			} else if !finding.Has(r.Findings, finding.CertWeakKey) {
				t.Errorf("%s: known deviation without cert.weak-key:\n%s", tc.ID, dump(r))
			}
		}
	}
	if ran < 150 {
		t.Fatalf("only %d limbo cases ran", ran)
	}
	for _, id := range limboKnownDeviations {
		if !slices.Contains(deviations, id) {
			t.Errorf("%s is listed as a known deviation but now agrees with crypto/x509", id)
		}
	}
	t.Logf("%d limbo server cases, %d known deviations", ran, len(deviations))
}

// TestBetterTLSPathBuilding checks the 81 BetterTLS path-building cases.
func TestBetterTLSPathBuilding(t *testing.T) {
	var suite struct {
		TrustRoot string `json:"trustRoot"`
		Suites    map[string]struct {
			TestCases []struct {
				ID           int      `json:"id"`
				Certificates []string `json:"certificates"`
				Hostname     string   `json:"hostname"`
				Expected     string   `json:"expected"`
			} `json:"testCases"`
		} `json:"suites"`
	}
	openGzipJSON(t, betterTLSPath, &suite)
	der := func(s string) *x509.Certificate {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(b)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	p := &Verifier{Anchors: NewAnchors("", der(suite.TrustRoot))}
	at := time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC)
	cases := suite.Suites["pathbuilding"].TestCases
	if len(cases) != 81 {
		t.Fatalf("%d pathbuilding cases, want 81", len(cases))
	}
	for _, tc := range cases {
		var chain []*x509.Certificate
		for _, s := range tc.Certificates {
			chain = append(chain, der(s))
		}
		r := p.Verify(chain, tc.Hostname, at)
		if want := tc.Expected == "ACCEPT"; r.Trusted != want {
			t.Errorf("pathbuilding #%d: Trusted=%v, want %s\n%s", tc.ID, r.Trusted, tc.Expected, dump(r))
		}
		if !r.Trusted && finding.Worst(r.Findings) != finding.Error {
			t.Errorf("pathbuilding #%d: rejected without an error finding", tc.ID)
		}
	}
}
