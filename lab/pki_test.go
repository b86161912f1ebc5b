package lab

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
)

// pkiTime is the pinned time the PKI unit tests generate for.
var pkiTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestPKI(t *testing.T) *PKI {
	t.Helper()
	p, err := NewPKI(pkiTime)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// verifyAt verifies cert against the PKI's root at the given time.
func verifyAt(p *PKI, leaf *x509.Certificate, inter *x509.Certificate, at time.Time, eku x509.ExtKeyUsage) error {
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(p.Root)
	roots.AddCert(p.ClientCA)
	if inter != nil {
		inters.AddCert(inter)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{eku}})
	return err
}

func TestNewPKI(t *testing.T) {
	p := newTestPKI(t)
	if err := verifyAt(p, p.Intermediate, nil, pkiTime, x509.ExtKeyUsageAny); err != nil {
		t.Errorf("Intermediate does not chain to Root: %v", err)
	}
	if err := verifyAt(p, p.RSAIntermediate, nil, pkiTime, x509.ExtKeyUsageAny); err != nil {
		t.Errorf("RSAIntermediate does not chain to Root: %v", err)
	}
	if _, ok := p.RSAIntermediateKey.(*rsa.PrivateKey); !ok {
		t.Errorf("RSAIntermediateKey is %T", p.RSAIntermediateKey)
	}
	if _, ok := p.RootKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("RootKey is %T, want ECDSA", p.RootKey)
	}
	if err := verifyAt(p, p.Client.Leaf, nil, pkiTime, x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("Client does not verify for clientAuth: %v", err)
	}
	var ua x509.UnknownAuthorityError
	if err := verifyAt(p, p.BadClient.Leaf, nil, pkiTime, x509.ExtKeyUsageClientAuth); !errors.As(err, &ua) {
		t.Errorf("BadClient: err = %v, want unknown authority", err)
	}
	if err := verifyAt(p, p.OtherRoot, nil, pkiTime, x509.ExtKeyUsageAny); !errors.As(err, &ua) {
		t.Errorf("OtherRoot: err = %v, want unknown authority", err)
	}
	if !p.Root.NotBefore.Before(pkiTime) || !p.Root.NotAfter.After(pkiTime.AddDate(5, 0, 0)) {
		t.Errorf("Root valid %v to %v; want around %v", p.Root.NotBefore, p.Root.NotAfter, pkiTime)
	}
}

func TestLeafDefaults(t *testing.T) {
	p := newTestPKI(t)
	cert, err := p.Leaf(LeafOptions{DNSNames: []string{"x.lab.tlskit.test"}})
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	if len(cert.Certificate) != 2 || !bytes.Equal(cert.Certificate[1], p.Intermediate.Raw) {
		t.Errorf("chain has %d certificates, want leaf + Intermediate", len(cert.Certificate))
	}
	if leaf.Subject.CommonName != "x.lab.tlskit.test" || leaf.IsCA {
		t.Errorf("CN %q, IsCA %v", leaf.Subject.CommonName, leaf.IsCA)
	}
	if !leaf.NotBefore.Equal(pkiTime.Add(-time.Hour)) || !leaf.NotAfter.Equal(pkiTime.Add(-time.Hour).AddDate(0, 0, 90)) {
		t.Errorf("validity %v to %v", leaf.NotBefore, leaf.NotAfter)
	}
	if err := verifyAt(p, leaf, p.Intermediate, pkiTime, x509.ExtKeyUsageServerAuth); err != nil {
		t.Errorf("default leaf does not verify: %v", err)
	}
	if err := leaf.VerifyHostname("x.lab.tlskit.test"); err != nil {
		t.Error(err)
	}
	// Pinned times: the same leaf is expired 91 days later.
	var ce x509.CertificateInvalidError
	if err := verifyAt(p, leaf, p.Intermediate, pkiTime.AddDate(0, 0, 91), x509.ExtKeyUsageServerAuth); !errors.As(err, &ce) || ce.Reason != x509.Expired {
		t.Errorf("91 days later: err = %v, want expired", err)
	}
}

func TestLeafOptions(t *testing.T) {
	p := newTestPKI(t)
	self, err := p.Leaf(LeafOptions{DNSNames: []string{"s.lab.tlskit.test"}, SelfSigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(self.Certificate) != 1 || !bytes.Equal(self.Leaf.RawIssuer, self.Leaf.RawSubject) {
		t.Errorf("self-signed leaf: %d certificates, issuer %q", len(self.Certificate), self.Leaf.Issuer)
	}
	weak, err := p.Leaf(LeafOptions{DNSNames: []string{"w.lab.tlskit.test"}, KeyType: RSA, RSABits: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if k := weak.Leaf.PublicKey.(*rsa.PublicKey); k.N.BitLen() != 1024 {
		t.Errorf("RSA leaf has %d bits", k.N.BitLen())
	}
	aia, err := p.Leaf(LeafOptions{DNSNames: []string{"a.lab.tlskit.test"}, AIA: []string{AIAURL}, EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	if len(aia.Leaf.IssuingCertificateURL) != 1 || aia.Leaf.IssuingCertificateURL[0] != AIAURL {
		t.Errorf("AIA %q", aia.Leaf.IssuingCertificateURL)
	}
	if len(aia.Leaf.ExtKeyUsage) != 1 || aia.Leaf.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("EKU %v", aia.Leaf.ExtKeyUsage)
	}
	if _, err := p.Leaf(LeafOptions{SignatureAlgorithm: x509.SHA1WithRSA}); err == nil || !strings.Contains(err.Error(), "RSA issuer") {
		t.Errorf("SHA-1 from the ECDSA intermediate: err = %v, want one asking for an RSA issuer", err)
	}
	if _, err := p.Leaf(LeafOptions{KeyType: KeyType(99)}); err == nil {
		t.Error("unknown key type accepted")
	}
}

// TestSHA1Leaf checks the re-signed SHA-1 leaf with Go and with OpenSSL:
// openssl must print sha1WithRSAEncryption and verify the signature once
// the security level allows SHA-1 (-auth_level 0), and refuse it at the
// level 1 (what s_client uses by default).
func TestSHA1Leaf(t *testing.T) {
	p := newTestPKI(t)
	cert, err := p.Leaf(LeafOptions{DNSNames: []string{"weak-signature.lab.tlskit.test"}, Issuer: p.RSAIntermediate, IssuerKey: p.RSAIntermediateKey, SignatureAlgorithm: x509.SHA1WithRSA})
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	if leaf.SignatureAlgorithm != x509.SHA1WithRSA {
		t.Fatalf("SignatureAlgorithm %v", leaf.SignatureAlgorithm)
	}
	// The signature is genuine: checking it by hand (bypassing x509's SHA-1
	// refusal) succeeds.
	if err := p.RSAIntermediate.CheckSignature(x509.SHA1WithRSA, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		t.Errorf("the SHA-1 signature does not check out: %v", err)
	}
	if err := leaf.CheckSignatureFrom(p.RSAIntermediate); err == nil || !strings.Contains(err.Error(), "SHA1") {
		t.Errorf("CheckSignatureFrom: %v, want an insecure-algorithm error", err)
	}

	peertest.Need(t, "openssl")
	dir := t.TempDir()
	write := func(name string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	leafPath, interPath, rootPath := write("leaf.pem", leaf.Raw), write("inter.pem", p.RSAIntermediate.Raw), write("root.pem", p.Root.Raw)
	out, err := exec.Command("openssl", "x509", "-in", leafPath, "-noout", "-text").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl x509: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "Signature Algorithm: sha1WithRSAEncryption"); n != 2 {
		t.Errorf("openssl x509 -text shows sha1WithRSAEncryption %d times, want 2 (TBS and outer):\n%s", n, out)
	}
	at := []string{"-attime", strconv.FormatInt(pkiTime.Unix(), 10)}
	verify := func(extra ...string) (string, error) {
		args := append([]string{"verify", "-CAfile", rootPath, "-untrusted", interPath}, at...)
		args = append(append(args, extra...), leafPath)
		out, err := exec.Command("openssl", args...).CombinedOutput()
		return string(out), err
	}
	if out, err := verify("-auth_level", "0"); err != nil || !strings.Contains(out, ": OK") {
		t.Errorf("openssl verify -auth_level 0: %v\n%s", err, out)
	}
	if out, err := verify("-auth_level", "1"); err == nil || !strings.Contains(out, "digest algorithm too weak") {
		t.Errorf("openssl verify -auth_level 1: %v\n%s; want 'digest algorithm too weak'", err, out)
	}
}

func TestPin(t *testing.T) {
	p := newTestPKI(t)
	pin, err := Pin(p.Root.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pin, "sha256/") || len(pin) != len("sha256/")+44 {
		t.Errorf("pin %q", pin)
	}
	if other, _ := Pin(p.OtherRoot.PublicKey); other == pin {
		t.Error("different keys, same pin")
	}
	if _, err := Pin(struct{}{}); err == nil {
		t.Error("Pin accepted a non-key")
	}
	peertest.Need(t, "openssl")
	// Cross-check with the openssl pipeline from RFC 7469 Appendix A.
	dir := t.TempDir()
	path := filepath.Join(dir, "root.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Root.Raw}), 0o644)
	out, err := exec.Command("sh", "-c", "openssl x509 -in "+path+" -noout -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl base64").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "sha256/" + strings.TrimSpace(string(out)); pin != want {
		t.Errorf("Pin = %s, openssl says %s", pin, want)
	}
}

func TestWriteFilesErrors(t *testing.T) {
	p := newTestPKI(t)
	if _, err := p.WriteFiles(""); err == nil {
		t.Error("WriteFiles(\"\") succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := p.WriteFiles(filepath.Join(file, "sub")); err == nil || !strings.HasPrefix(err.Error(), "lab: ") {
		t.Errorf("WriteFiles under a file: err = %v", err)
	}
}

func TestResignSHA1Garbage(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range [][]byte{nil, {0x30}, {0x30, 0x00}, {0x30, 0x03, 0x30, 0x01, 0x00}, bytes.Repeat([]byte{0x30, 0x84}, 8)} {
		if _, err := resignSHA1(in, key); err == nil {
			t.Errorf("resignSHA1(% x) succeeded", in)
		}
	}
}
