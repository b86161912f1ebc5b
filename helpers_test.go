package tlskit_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlskit/tlskit/lab"
)

// pkiAt is the validation time of the tests' PKI.
var pkiAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a lab PKI written to disk, plus the leaves the tests use.
type fixture struct {
	pki   *lab.PKI
	files lab.Files
	dir   string
	// server leaf (good.lab.tlskit.test, 127.0.0.1), its key and chain
	// (intermediate) files
	serverCert, serverKey, serverChain string
	server                             tls.Certificate
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pki, err := lab.NewPKI(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := pki.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{pki: pki, files: files, dir: dir}
	f.server = f.leaf(t, lab.LeafOptions{DNSNames: []string{"good.lab.tlskit.test"}})
	f.serverCert, f.serverKey, f.serverChain = writePair(t, dir, "server", f.server)
	return f
}

// now is the fixture's validation time.
func (f *fixture) now() time.Time { return f.pki.Now }

func (f *fixture) leaf(t *testing.T, o lab.LeafOptions) tls.Certificate {
	t.Helper()
	c, err := f.pki.Leaf(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writePair writes name.pem (leaf), name-chain.pem (the rest) and name.key.
func writePair(t *testing.T, dir, name string, c tls.Certificate) (cert, key, chain string) {
	t.Helper()
	cert, key, chain = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key"), filepath.Join(dir, name+"-chain.pem")
	var leaf, rest []byte
	for i, der := range c.Certificate {
		b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		if i == 0 {
			leaf = b
		} else {
			rest = append(rest, b...)
		}
	}
	kder, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(cert, append(leaf, rest...), 0o644))
	must(t, os.WriteFile(chain, rest, 0o644))
	must(t, os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	return cert, key, chain
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
