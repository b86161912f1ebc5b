package trust

import (
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/truststore"
)

// badsslTime is inside the validity of the generated badssl test set, and
// after its one-day wildcard-expired certificate.
var badsslTime = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func loadTestdata(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	cs, err := truststore.ReadCertificatesFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestBadSSL(t *testing.T) {
	root := loadTestdata(t, "badssl/test-set/ca-root.crt")
	p := &Verifier{Anchors: NewAnchors("ca-root.crt", root...)}
	tests := []struct {
		chain, host string
		id          string // "" = trusted with no error
	}{
		{"wildcard-rsa2048", "badssl.com", ""},
		{"wildcard-rsa8192", "rsa8192.badssl.com", ""},
		{"wildcard-ecc256", "ecc256.badssl.com", ""},
		{"wildcard-ecc384", "ecc384.badssl.com", ""},
		{"wildcard-sha384", "sha384.badssl.com", ""},
		{"wildcard-rsa2048", "wrong.host.badssl.com", finding.NameMismatch},
		{"wildcard-expired", "expired.badssl.com", finding.CertExpired},
		{"wildcard-self-signed", "self-signed.badssl.com", finding.CertSelfSigned},
		{"wildcard-untrusted-root", "untrusted-root.badssl.com", finding.ChainUntrustedRoot},
		{"wildcard-incomplete-chain", "incomplete-chain.badssl.com", finding.ChainIncomplete},
		{"wildcard-sha1-intermediate", "sha1-intermediate.badssl.com", finding.CertWeakSignature},
		{"wildcard-sha1-2016", "sha1-2016.badssl.com", finding.CertWeakSignature},
		{"wildcard-md5", "md5.badssl.com", finding.CertWeakSignature},
		{"wildcard-rsa1024", "rsa1024.badssl.com", finding.CertWeakKey},
		{"wildcard-rsa512", "rsa512.badssl.com", finding.CertWeakKey},
		{"subdomain-reversed-chain", "reversed-chain.badssl.com", finding.ChainWrongOrder},
		{"subdomain-no-san", "no-san.badssl.com", finding.NameMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.chain+"/"+tc.host, func(t *testing.T) {
			chain := loadTestdata(t, "badssl/test-set/"+tc.chain+".pem")
			r := p.Verify(chain, tc.host, badsslTime)
			if tc.id == "" {
				if !r.Trusted || finding.Worst(r.Findings) == finding.Error {
					t.Fatalf("not trusted:\n%s", dump(r))
				}
				return
			}
			if r.Trusted {
				t.Fatalf("trusted, want %s:\n%s", tc.id, dump(r))
			}
			if got := r.Err().(*VerifyError).ID; got != tc.id {
				t.Errorf("ID = %s, want %s:\n%s", got, tc.id, dump(r))
			}
		})
	}
}

// TestBadSSLRealChainSystemRoots verifies a publicly issued chain against
// this machine's roots, and proves that an explicit root list excludes them.
func TestBadSSLRealChainSystemRoots(t *testing.T) {
	chain := loadTestdata(t, "badssl/real-prod/wildcard-rsa2048.pem")
	at := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	sys, err := DefaultSystemRoots()
	if err != nil {
		peertest.Skip(t, "this machine's roots: %v", err)
	}
	digicert := false
	for _, c := range sys {
		if c.Subject.CommonName == "DigiCert Global Root CA" {
			digicert = true
		}
	}
	if !digicert {
		peertest.Skip(t, "DigiCert Global Root CA is not among this machine's roots (Debian's ca-certificates has it)")
	}
	r := (&Verifier{Anchors: SystemAnchors()}).Verify(chain, "badssl.com", at)
	if !r.Trusted {
		t.Fatalf("system roots:\n%s", dump(r))
	}
	mine := &Verifier{Anchors: NewAnchors("ca-root.crt", loadTestdata(t, "badssl/test-set/ca-root.crt")...)}
	r = mine.Verify(chain, "badssl.com", at)
	if r.Trusted {
		t.Fatal("an explicit root list still trusted a system root")
	}
	f := find(t, r, finding.ChainUntrustedRoot)
	if want := "DigiCert Global Root CA"; !contains(f.Title, want) {
		t.Errorf("untrusted-root title %q lacks %q", f.Title, want)
	}
	// And at today's pinned date the real chain has long expired.
	r = (&Verifier{Anchors: SystemAnchors()}).Verify(chain, "badssl.com", badsslTime)
	find(t, r, finding.CertExpired)
}
