package trust

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"testing"
)

// TestDNStringMatchesPkix holds dnString equal to pkix.Name.String on
// every certificate of the two conformance corpora, and on names with
// characters that need escaping and attributes crypto/x509 does not name.
func TestDNStringMatchesPkix(t *testing.T) {
	check := func(where string, n pkix.Name) {
		t.Helper()
		if got, want := dnString(n), n.String(); got != want {
			t.Errorf("%s: dnString = %q, pkix says %q", where, got, want)
		}
	}
	check("escapes", pkix.Name{CommonName: " a,b+c\"d\\e<f>g;h ", Organization: []string{"#x", "y#"}, Country: []string{"DE"},
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{1, 2, 3}, Value: "v"}, {Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: 7}}})
	check("empty", pkix.Name{})
	n := 0
	for _, tc := range loadLimbo(t) {
		for _, p := range append(append([]string{tc.Peer}, tc.TrustedCerts...), tc.Intermediates...) {
			c, err := x509.ParseCertificate(pemDER(p))
			if err != nil {
				continue
			}
			check(tc.ID+" subject", c.Subject)
			check(tc.ID+" issuer", c.Issuer)
			n++
		}
	}
	var suite betterTLS
	openGzipJSON(t, betterTLSPath, &suite)
	for name, s := range suite.Suites {
		for _, tc := range s.TestCases[:min(len(s.TestCases), 200)] {
			for _, b := range tc.Certificates {
				der, _ := base64.StdEncoding.DecodeString(b)
				if c, err := x509.ParseCertificate(der); err == nil {
					check(name, c.Subject)
					n++
				}
			}
		}
	}
	if n < 10000 {
		t.Errorf("only %d certificates compared", n)
	}
}
