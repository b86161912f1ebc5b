package tlskit_test

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/trust"
)

func TestParsePolicy(t *testing.T) {
	f := newFixture(t)
	pin1, pin2 := trust.PinOf(f.pki.Intermediate).String(), trust.PinOf(f.pki.Root).String()
	src := `# Trust only the lab CA, pinned, with a client certificate.
{
  "version": 1,
  // relative to the file
  "trust": ["file:root.pem"],
  "pins": {"keys": ["` + pin1 + `", "` + pin2 + `"], "expires": "2027-03-01"},
  "max_intermediates": 1,
  "cert_policies": {"acceptable": ["2.23.140.1.2.1", "1.3.6.1.4.1.00055555.1"], "require_explicit": true, "inhibit_mapping": true},
  "names": ["alt.lab.tlskit.test"],
  "server_name": "good.lab.tlskit.test",
  "cert": "client.pem", "key": "client.key",
  "alpn": ["h2"],
  "min_tls": "1.3",
  "clients": {"require": true, "trust": ["file:client-ca.pem"], "allow": ["batch.lab.tlskit.test"]}
}
`
	path := filepath.Join(f.dir, "policy.json")
	must(t, os.WriteFile(path, []byte(src), 0o644))
	p, err := tlskit.LoadPolicy(path)
	must(t, err)
	if p.Trust[0] != "file:"+f.files.Root || p.CertFile != f.files.ClientCert || p.ClientTrust[0] != "file:"+f.files.ClientCA {
		t.Errorf("paths not resolved against the file: %q %q %q", p.Trust, p.CertFile, p.ClientTrust)
	}
	if !p.PinsExpire.Equal(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)) || len(p.Pins) != 2 || p.MaxIntermediates != 1 ||
		p.MinVersion != tls.VersionTLS13 || !p.RequireClientCert || p.AllowedClients[0] != "batch.lab.tlskit.test" || p.ServerName != "good.lab.tlskit.test" {
		t.Errorf("policy %+v", p)
	}
	if _, err := p.ClientConfig(""); err != nil {
		t.Errorf("ClientConfig: %v", err)
	}
	if cp := p.CertPolicies; !cp.RequireExplicit || !cp.InhibitMapping || cp.InhibitAny || len(cp.Acceptable) != 2 {
		t.Errorf("cert_policies %+v", cp)
	}
	// The verifier compares the policies in their dotted form.
	if v, err := p.Verifier(); err != nil || !slices.Equal(v.CertPolicies.Acceptable, []string{"2.23.140.1.2.1", "1.3.6.1.4.1.55555.1"}) {
		t.Errorf("verifier's cert policies %+v, %v", v.CertPolicies, err)
	}

	bad := []struct {
		name, src, want string
	}{
		{"empty", ``, "empty policy"},
		{"typo", "{\n\"version\": 1,\n\"trust\": [\"system\"],\n\"pinz\": {}\n}", `policy.json:4: unknown key "pinz"`},
		{"date", "{\"version\": 1, \"trust\": [\"system\"],\n\n\"pins\": {\"keys\": [\"" + pin1 + "\", \"" + pin2 + "\"],\n \"expires\": \"01/03/2027\"}}", `policy.json:4: expires: want YYYY-MM-DD, got "01/03/2027"`},
		{"version", `{"trust": ["system"]}`, "policy.json:1: version: want 1, got 0"},
		{"no trust", "{\"version\": 1,\n \"trust\": []}", "policy.json:2: trust: missing or empty"},
		{"syntax", "{\"version\": 1,\n\"trust\": [\"system\",]}", "policy.json:2: invalid JSON"},
		{"type", "{\"version\": 1,\n\"trust\": \"system\"}", "policy.json:2: trust: want []string, got a JSON string"},
		{"tls", `{"version": 1, "trust": ["system"], "min_tls": "1.0"}`, `needs "legacy": true`},
		{"missing file", `{"version": 1, "trust": ["file:nope.pem"]}`, "policy.json: trust: source \"file:" + f.dir + "/nope.pem\""},
		{"trailing", `{"version": 1, "trust": ["system"]} {}`, "unexpected data"},
		{"single pin", `{"version": 1, "trust": ["system"], "pins": {"keys": ["` + pin1 + `"]}}`, "policy.json:1: keys: a single pin has no backup"},
		{"bad pin", "{\"version\": 1, \"trust\": [\"system\"],\n\"pins\": {\"keys\": [\"md5/x\", \"" + pin1 + "\"]}}", `policy.json:2: keys: trust: pin "md5/x"`},
		{"depth", "{\"version\": 1, \"trust\": [\"system\"],\n\n\"max_intermediates\": -2}", "policy.json:3: max_intermediates: want 0 (no limit), -1 (none) or more, got -2"},
		{"cert policy", "{\"version\": 1, \"trust\": [\"system\"],\n\"cert_policies\": {\n\"acceptable\": [\"2.23.140.1.2.1\", \"domain-validated\"]}}", `policy.json:3: acceptable: certificate policy "domain-validated" is not an OID in dotted form`},
		{"cert policy key", "{\"version\": 1, \"trust\": [\"system\"],\n\"cert_policies\": {\"explicit\": true}}", `policy.json:2: cert_policies: unknown key "explicit"`},
	}
	for _, tc := range bad {
		_, err := tlskit.ParsePolicy(path, []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v\nwant it to contain %q", tc.name, err, tc.want)
		}
		var pe *tlskit.PolicyError
		if err != nil && (!errors.As(err, &pe) || pe.File != path || !strings.HasPrefix(err.Error(), path+":")) {
			t.Errorf("%s: err %q is not a PolicyError starting with the file name", tc.name, err)
		}
	}
	_, err = tlskit.ParsePolicy(path, []byte(`{"version": 1, "trust": ["file:nope.pem"]}`))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v does not wrap fs.ErrNotExist", err)
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(`{"version": 1, "trust": ["system"], "pins": {"keys": ["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "sha256:x"], "expires": "2027-01-01"}}`))
	f.Add([]byte("# c\n{\"version\": 1, \"trust\": [\"pem:-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\"], \"min_tls\": \"1.3\"}"))
	f.Add([]byte(`{"version": 1, "trust": ["dir:/nonexistent"], "clients": {"require": true, "allow": ["a"]}, "max_intermediates": -1}`))
	f.Add([]byte(`{"version": 99999999999999999999}`))
	f.Add([]byte(`{"version": 1, "trust": ["system"], "cert_policies": {"acceptable": ["2.5.29.32.0", "1.2.x"], "inhibit_any": true}}`))
	f.Add([]byte("// x\n\n{\n\"names\": [1]\n}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte("/dev")) || bytes.Contains(data, []byte("/proc")) || bytes.Contains(data, []byte("/sys")) {
			return // device files such as /dev/zero never end
		}
		p, err := tlskit.ParsePolicy("fuzz/policy.json", data)
		if err != nil {
			var pe *tlskit.PolicyError
			if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "fuzz/policy.json:") {
				t.Fatalf("error %q is not a PolicyError starting with the file name", err)
			}
			return
		}
		if len(p.Trust) == 0 {
			t.Fatalf("accepted a policy with no trust: %q", data)
		}
	})
}

// TestPinStartingWithSlash: 1 pin in 64 has base64 starting with "/", which
// must not be mistaken for curl's "sha256//" separator.
func TestPinStartingWithSlash(t *testing.T) {
	p := &tlskit.Policy{Trust: []string{"system"}, ServerName: "x",
		Pins: []string{"sha256//" + strings.Repeat("A", 42) + "=", "sha256/" + strings.Repeat("B", 42) + "A="}}
	if _, err := p.ClientConfig(""); err != nil {
		t.Fatal(err)
	}
}

// TestPolicyRevocationKeys reads "crl" (relative to the file), "profile",
// "fetch" and "max_intermediates": -1 into a verifier that refuses a leaf
// the CRL revokes, and refuses files naming what is not there.
func TestPolicyRevocationKeys(t *testing.T) {
	f := newFixture(t)
	leaf := f.leaf(t, lab.LeafOptions{DNSNames: []string{"good.lab.tlskit.test"}})
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(7), ThisUpdate: f.now().Add(-time.Hour), NextUpdate: f.now().Add(24 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: leaf.Leaf.SerialNumber, RevocationTime: f.now().Add(-time.Minute)}},
	}, f.pki.Intermediate, f.pki.IntermediateKey)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(f.dir, "inter.crl"), crl, 0o644))
	src := `{"version": 1, "trust": ["file:root.pem"], "crl": ["inter.crl"], "profile": "rfc5280", "fetch": false, "max_intermediates": -1}`
	path := filepath.Join(f.dir, "policy.json")
	must(t, os.WriteFile(path, []byte(src), 0o644))
	p, err := tlskit.LoadPolicy(path)
	must(t, err)
	if len(p.CRLFiles) != 1 || p.CRLFiles[0] != filepath.Join(f.dir, "inter.crl") || p.Profile != "rfc5280" || p.Fetch || p.MaxIntermediates != trust.NoIntermediates {
		t.Fatalf("policy %+v", p)
	}
	p.MaxIntermediates = 0
	v, err := p.Verifier()
	must(t, err)
	chain := []*x509.Certificate{leaf.Leaf, f.pki.Intermediate}
	r := v.Verify(chain, "good.lab.tlskit.test", f.now())
	if r.Trusted || r.Err().(*tlskit.VerifyError).ID != finding.CertRevoked {
		t.Fatalf("revoked leaf: trusted=%v, %v", r.Trusted, r.Err())
	}
	good := f.server
	if r := v.Verify([]*x509.Certificate{good.Leaf, f.pki.Intermediate}, "good.lab.tlskit.test", f.now()); !r.Trusted {
		t.Fatalf("leaf not on the CRL: %v", r.Err())
	}
	for _, bad := range []struct{ src, want string }{
		{`{"version": 1, "trust": ["system"], "crl": ["nosuch.crl"]}`, "nosuch.crl"},
		{`{"version": 1, "trust": ["system"], "crl": ["root.pem"]}`, "no \"X509 CRL\" PEM block"},
		{`{"version": 1, "trust": ["system"], "profile": "strict"}`, `profile "strict"`},
		{`{"version": 1, "trust": ["system"], "max_intermediates": -2}`, "max_intermediates: want 0 (no limit), -1 (none) or more, got -2"},
	} {
		must(t, os.WriteFile(path, []byte(bad.src), 0o644))
		if _, err := tlskit.LoadPolicy(path); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err = %v, want %q", bad.src, err, bad.want)
		}
	}
}
