package trust

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/truststore"
)

func TestParsePin(t *testing.T) {
	l := newLab(t)
	p := PinOf(l.leaf.cert)
	b64 := base64.StdEncoding.EncodeToString(p.SHA256[:])
	for _, s := range []string{
		"sha256/" + b64, "sha256//" + b64, "sha256:" + b64, "SHA256/" + b64, " Sha256:" + strings.TrimRight(b64, "=") + " ",
	} {
		got, err := ParsePin(s)
		if err != nil || got != p {
			t.Errorf("ParsePin(%q) = %v, %v", s, got, err)
		}
	}
	if s := p.String(); s != "sha256/"+b64 {
		t.Errorf("String() = %q", s)
	}
	if back, err := ParsePin(p.String()); err != nil || back != p {
		t.Errorf("round trip: %v", err)
	}
	short := base64.StdEncoding.EncodeToString(make([]byte, 20))
	for s, want := range map[string]string{
		"sha256/" + short:                    "want sha256/<base64 of 32 bytes>, got 20 bytes",
		"sha1/" + short:                      "only SHA-256",
		"sha256=" + b64:                      `followed by "/", "//" or ":"`,
		"sha256/!!!":                         "invalid base64",
		"sha256/" + strings.Repeat("ab", 32): "got 48 bytes",
		"":                                   "want sha256/",
	} {
		_, err := ParsePin(s)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "trust: pin") {
			t.Errorf("ParsePin(%q) error = %v, want %q", s, err, want)
		}
	}
}

// TestPinOfKnownValue checks PinOf against the RFC 7469 recipe run by
// openssl on a badssl certificate.
func TestPinOfKnownValue(t *testing.T) {
	c := loadTestdata(t, "badssl/test-set/ca-root.crt")[0]
	// openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64
	const want = "sha256/UXjQFFOoOk/g0qXky3kTWwxypRjtQdHZiaOzYqbcdos="
	if got := PinOf(c).String(); got != want {
		t.Errorf("PinOf = %s, want %s", got, want)
	}
}

func TestParseUserCertificates(t *testing.T) {
	chain, err := os.ReadFile(filepath.Join("testdata", "badssl", "test-set", "wildcard-rsa2048.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := truststore.ParseCertificates(chain, "chain.pem")
	if err != nil || len(cs) != 2 {
		t.Fatalf("chain: %d certs, %v", len(cs), err)
	}
	der := append(append([]byte{}, cs[0].Raw...), cs[1].Raw...)
	if cs2, err := truststore.ParseCertificates(der, "chain.der"); err != nil || len(cs2) != 2 {
		t.Fatalf("DER: %d certs, %v", len(cs2), err)
	}
	trusted := pem.EncodeToMemory(&pem.Block{Type: "TRUSTED CERTIFICATE", Bytes: append(append([]byte{}, cs[0].Raw...), 0x30, 0x00)})
	if cs3, err := truststore.ParseCertificates(trusted, "trusted.pem"); err != nil || len(cs3) != 1 || !cs3[0].Equal(cs[0]) {
		t.Fatalf("TRUSTED CERTIFICATE: %v", err)
	}
	secret := "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
	keyPEM := []byte("-----BEGIN PRIVATE KEY-----\n" + secret + "\n-----END PRIVATE KEY-----\n")
	if cs4, err := truststore.ParseCertificates(append(append([]byte{}, chain...), keyPEM...), "combined.pem"); err != nil || len(cs4) != 2 {
		t.Errorf("cert+key file: %d certs, %v", len(cs4), err)
	}
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{keyPEM, "combined: file holds a private key (a PRIVATE KEY block), not a certificate (PEM inputs may have been switched)"},
		{[]byte("-----BEGIN EC PRIVATE KEY-----\n" + secret + "\n-----END EC PRIVATE KEY-----\n"), "(a EC PRIVATE KEY block), not a certificate"},
		{[]byte("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"), "a CSR"},
		{[]byte("hello world"), "no PEM block found, and not DER"},
		{nil, "empty"},
		{[]byte("-----BEGIN CERTIFICATE-----\nMIIB"), "no complete block"},
		{pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x03, 1, 2, 3}}), "PEM block 1"},
	} {
		_, err := truststore.ParseCertificates(tc.in, "combined")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "truststore: ") {
			t.Errorf("error = %v, want %q", err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks key material: %v", err)
		}
	}
	if _, err := truststore.ReadCertificatesFile(filepath.Join(t.TempDir(), "missing.pem")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: %v", err)
	}
}

func TestDescribe(t *testing.T) {
	cs := loadTestdata(t, "badssl/test-set/wildcard-ecc256.pem")
	info := Describe(cs[0])
	if info.Subject != "CN=*.badssl.com,O=BadSSL,L=San Francisco,ST=California,C=US" || info.Key != "ECDSA P-256" || info.IsCA || info.SelfSigned {
		t.Errorf("leaf: %+v", info)
	}
	if len(info.SANs.DNS) != 2 || info.SANs.DNS[0] != "*.badssl.com" || info.Pin != PinOf(cs[0]).String() {
		t.Errorf("leaf SANs/pin: %+v", info)
	}
	if info.NotAfter != "2028-11-22T05:57:51Z" || info.SHA256 != "65:35:D7:F2:09:56:41:1C:B0:2E:6F:1C:D6:0E:C2:36:22:E2:D2:12:37:4C:F4:A6:A2:35:13:0E:64:9B:4E:6A" {
		t.Errorf("dates/fingerprint: %+v", info)
	}
	root := Describe(loadTestdata(t, "badssl/test-set/ca-root.crt")[0])
	if !root.IsCA || !root.SelfSigned || root.Key != "RSA 4096" {
		t.Errorf("root: %+v", root)
	}
	l := newLab(t)
	li := Describe(l.leaf.cert)
	if len(li.CAIssuers) != 1 || li.CAIssuers[0] != labAIA || len(li.EKU) != 1 || li.EKU[0] != "serverAuth" {
		t.Errorf("lab leaf: %+v", li)
	}
	if _, err := json.Marshal(li); err != nil {
		t.Error(err)
	}
}

func TestSystemAnchorsEnv(t *testing.T) {
	l := newLab(t)
	dir := t.TempDir()
	bundle := writePEM(t, dir, "bundle.pem", l.root.cert, l.root.cert, l.inter.cert)
	d1, d2 := filepath.Join(dir, "d1"), filepath.Join(dir, "d2")
	os.Mkdir(d1, 0o755)
	os.Mkdir(d2, 0o755)
	writePEM(t, d1, "other.pem", l.leaf.cert)
	writePEM(t, d2, "dup.pem", l.root.cert)
	os.Symlink("other.pem", filepath.Join(d1, "abcd1234.0")) // a hash link: skipped
	t.Setenv("SSL_CERT_FILE", bundle)
	t.Setenv("SSL_CERT_DIR", d1+":"+d2)
	anchors, err := truststore.SystemRoots(truststore.ProcessEnv())
	if err != nil {
		t.Fatal(err)
	}
	if len(anchors) != 3 {
		t.Fatalf("%d anchors, want 3 (de-duplicated)", len(anchors))
	}
	if anchors[0].Source != bundle || anchors[2].Source != filepath.Join(d1, "other.pem") || !anchors[2].Cert.Equal(l.leaf.cert) {
		t.Errorf("sources: %v %v %v", anchors[0].Source, anchors[1].Source, anchors[2].Source)
	}
	roots, err := DefaultSystemRoots()
	if err != nil || len(roots) != 3 {
		t.Fatalf("DefaultSystemRoots: %d, %v", len(roots), err)
	}
	t.Setenv("SSL_CERT_FILE", filepath.Join(dir, "none.pem"))
	t.Setenv("SSL_CERT_DIR", filepath.Join(dir, "nodir"))
	if _, err := truststore.SystemRoots(truststore.ProcessEnv()); err == nil || !strings.Contains(err.Error(), "no system roots found") {
		t.Errorf("empty: %v", err)
	}
	r := (&Verifier{Anchors: SystemAnchors()}).Verify(certs(l.leaf, l.inter), "", t0)
	if f := find(t, r, "policy.invalid"); !strings.Contains(f.Detail, "none.pem") {
		t.Errorf("policy.invalid detail: %s", f.Detail)
	}
}

func FuzzParsePin(f *testing.F) {
	f.Add("sha256/gs6FuI11T9f+qyB3KXq+fLcEJ3S4pvxI4XeDh+wvJsk=")
	f.Add("sha256//gs6FuI11T9f+qyB3KXq+fLcEJ3S4pvxI4XeDh+wvJsk=")
	f.Add("SHA256:gs6FuI11T9f+qyB3KXq+fLcEJ3S4pvxI4XeDh+wvJsk")
	f.Add("sha1/abc")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePin(s)
		if err != nil {
			return
		}
		back, err := ParsePin(p.String())
		if err != nil || back != p {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}

func FuzzParseUserCertificates(f *testing.F) {
	for _, name := range []string{"wildcard-rsa2048.pem", "wildcard-ecc256.pem", "ca-root.crt"} {
		data, err := os.ReadFile(filepath.Join("testdata", "badssl", "test-set", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		if b, _ := pem.Decode(data); b != nil {
			f.Add(b.Bytes)
		}
	}
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN TRUSTED CERTIFICATE-----\nMAA=\n-----END TRUSTED CERTIFICATE-----\n"))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: []byte{0x30, 0x03, 0x06, 0x01, 0x00}}))
	f.Add([]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 1}) // a JKS header with one entry, cut short
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := truststore.ParseCertificates(data, "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "truststore: fuzz: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if len(cs) == 0 {
			t.Fatal("no certificates and no error")
		}
		for _, c := range cs {
			if c == nil || !bytes.Equal(c.Raw, c.Raw) {
				t.Fatal("nil certificate")
			}
			_ = Describe(c)
			(&Verifier{Anchors: NewAnchors("", c)}).Verify(cs, "fuzz.example", t0)
		}
	})
}
