package trust

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// t0 is the pinned verification time of the generated PKIs.
var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// serials makes serial numbers unique within a test binary.
var serials atomic.Int64

// node is a generated certificate and its key.
type node struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// spec describes a certificate to generate.
type spec struct {
	cn         string
	ca         bool
	noBC       bool // omit basicConstraints entirely
	dns        []string
	ips        []net.IP
	eku        []x509.ExtKeyUsage
	from, to   time.Time
	key        crypto.Signer // nil: a fresh ECDSA P-256 key
	aia        []string
	subjectOf  *node // reuse this certificate's subject and key (cross-sign)
	sha1       bool  // re-sign with SHA-1 (issuer must have an RSA key)
	mustStaple bool  // the TLS feature extension with status_request
	noEKU      bool  // no extended key usage extension at all
	certSign   bool  // keyUsage keyCertSign, CA or not
	serial     int64 // a fixed serial number (0: a fresh one)
	crldp      []string
	extra      []pkix.Extension // more extensions, as given
}

func ecKey(t testing.TB) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsaKey(t testing.TB, bits int) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue creates the certificate s describes, signed by parent (nil:
// self-signed).
func issue(t testing.TB, s spec, parent *node) *node {
	t.Helper()
	key := s.key
	if s.subjectOf != nil {
		key = s.subjectOf.key
	}
	if key == nil {
		key = ecKey(t)
	}
	if s.from.IsZero() {
		s.from = t0.Add(-30 * day)
	}
	if s.to.IsZero() {
		s.to = t0.Add(365 * day)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1000 + serials.Add(1)),
		Subject:               pkix.Name{CommonName: s.cn, Organization: []string{"tlskit lab"}},
		NotBefore:             s.from,
		NotAfter:              s.to,
		DNSNames:              s.dns,
		IPAddresses:           s.ips,
		ExtKeyUsage:           s.eku,
		BasicConstraintsValid: !s.noBC,
		IsCA:                  s.ca,
		IssuingCertificateURL: s.aia,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	if s.subjectOf != nil {
		tmpl.Subject = s.subjectOf.cert.Subject
	}
	if s.mustStaple {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidTLSFeature, Value: []byte{0x30, 0x03, 0x02, 0x01, 0x05}})
	}
	if s.serial != 0 {
		tmpl.SerialNumber = big.NewInt(s.serial)
	}
	tmpl.CRLDistributionPoints = s.crldp
	tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, s.extra...)
	if s.ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	if s.certSign {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if !s.ca && s.eku == nil && !s.noEKU {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	pc, pk := tmpl, key
	if parent != nil {
		pc, pk = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, pc, key.Public(), pk)
	if err != nil {
		t.Fatal(err)
	}
	if s.sha1 {
		der = resignSHA1(t, der, pk)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &node{cert: c, key: key}
}

// resignSHA1 swaps the AlgorithmIdentifier of a SHA256-RSA certificate for
// SHA1-RSA (same length in DER) and signs it again with SHA-1, because
// crypto/x509 refuses to create SHA-1 signatures.
func resignSHA1(t testing.TB, der []byte, key crypto.Signer) []byte {
	t.Helper()
	sha256RSA := []byte{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00}
	sha1RSA := []byte{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	tbs := bytes.Replace(c.RawTBSCertificate, sha256RSA, sha1RSA, 1)
	if bytes.Equal(tbs, c.RawTBSCertificate) {
		t.Fatal("resignSHA1: the issuer must have an RSA key")
	}
	sum := crypto.SHA1.New()
	sum.Write(tbs)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA1, sum.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	out, err := asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, asn1.RawValue{FullBytes: sha1RSA}, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// lab is the standard test PKI: root → intermediate → leaf.
type lab struct {
	root, inter, leaf *node
}

const labAIA = "http://pki.lab.example/lab-intermediate.crt"

func newLab(t testing.TB) *lab {
	t.Helper()
	root := issue(t, spec{cn: "Lab Root", ca: true, to: t0.Add(3650 * day)}, nil)
	inter := issue(t, spec{cn: "Lab Intermediate", ca: true, aia: []string{"http://pki.lab.example/lab-root.crt"}}, root)
	leaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example", "lab.example"}, aia: []string{labAIA}}, inter)
	return &lab{root: root, inter: inter, leaf: leaf}
}

func (l *lab) policy() *Verifier {
	return &Verifier{Anchors: NewAnchors("lab-root.pem", l.root.cert)}
}

func certs(ns ...*node) []*x509.Certificate {
	out := make([]*x509.Certificate, len(ns))
	for i, n := range ns {
		out[i] = n.cert
	}
	return out
}

// writePEM writes certificates to dir/name and returns the path.
func writePEM(t testing.TB, dir, name string, cs ...*x509.Certificate) string {
	t.Helper()
	var b bytes.Buffer
	for _, c := range cs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
