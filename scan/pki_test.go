package scan

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlskit/tlskit/trust"
)

// testPKI is an RSA and an ECDSA leaf for localhost and 127.0.0.1, each
// from its own CA, written to files for the real servers.
type testPKI struct {
	dir             string
	rsaCert, rsaKey string
	ecCert, ecKey   string
	cas             []*x509.Certificate
	verifier        *trust.Verifier
	// ecCAFile and ecCAKey are the ECDSA CA's certificate and key, for
	// signing an OCSP response.
	ecCAFile, ecCAKey string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	p := &testPKI{dir: dir}
	now := time.Now()
	// Each leaf has a CA of its own key type, so that its signature is
	// what Mozilla's profiles expect of it (sha256WithRSAEncryption for
	// RSA, ecdsa-with-SHA256 for ECDSA).
	newCA := func(name string, key crypto.Signer, serial int64) (*x509.Certificate, []byte) {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(89 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, der
	}
	leaf := func(name string, key crypto.Signer, serial int64, ca *x509.Certificate, caDER []byte, caKey crypto.Signer) (string, string) {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "localhost"},
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(89 * 24 * time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		// The chain file holds the leaf and its CA, as servers send it.
		chain := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
		cf := filepath.Join(dir, name+".pem")
		if err := os.WriteFile(cf, chain, 0o644); err != nil {
			t.Fatal(err)
		}
		return cf, writePEM(t, dir, name+".key", "PRIVATE KEY", kder)
	}
	rsaCAKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecCAKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaCA, rsaCADER := newCA("tlskit scan test RSA CA", rsaCAKey, 1)
	ecCA, ecCADER := newCA("tlskit scan test ECDSA CA", ecCAKey, 2)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p.rsaCert, p.rsaKey = leaf("rsa", rk, 3, rsaCA, rsaCADER, rsaCAKey)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.ecCert, p.ecKey = leaf("ecdsa", ek, 4, ecCA, ecCADER, ecCAKey)
	p.ecCAFile = writePEM(t, dir, "ecdsa-ca.pem", "CERTIFICATE", ecCADER)
	caKeyDER, err := x509.MarshalPKCS8PrivateKey(ecCAKey)
	if err != nil {
		t.Fatal(err)
	}
	p.ecCAKey = writePEM(t, dir, "ecdsa-ca.key", "PRIVATE KEY", caKeyDER)
	p.cas = []*x509.Certificate{rsaCA, ecCA}
	p.verifier = &trust.Verifier{Anchors: trust.NewAnchors("the test CAs", rsaCA, ecCA)}
	return p
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	// Readable by nginx's workers too.
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
