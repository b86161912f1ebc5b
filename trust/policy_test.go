package trust

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
)

// The extensions of certificate policies (RFC 5280 §4.2.1.4 and .5; policy
// constraints are facts.go's oidPolicyCons).
var (
	oidCertificatePolicies = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidPolicyMappings      = asn1.ObjectIdentifier{2, 5, 29, 33}
)

// policiesExt is a certificatePolicies extension of the given policies.
func policiesExt(t testing.TB, oids ...asn1.ObjectIdentifier) pkix.Extension {
	t.Helper()
	type info struct{ ID asn1.ObjectIdentifier }
	var infos []info
	for _, o := range oids {
		infos = append(infos, info{o})
	}
	der, err := asn1.Marshal(infos)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oidCertificatePolicies, Value: der}
}

// testPolicy is a policy of the test's own arc.
func testPolicy(set, i int) asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, set, i}
}

// TestPolicyRequiredExplicit checks the policy processing on chains of
// the test PKI against openssl verify -policy_check -policy anyPolicy
// (RFC 5280's default initial settings, as tlskit's; without -policy
// OpenSSL's initial policy set is empty, and every path that requires an
// explicit policy fails there): a CA that requires an explicit policy
// and maps its policy to another accepts a leaf under the mapped policy
// or anyPolicy, and refuses a leaf without policies or under the unmapped
// one; tlskit's refusal names both certificates.
func TestPolicyRequiredExplicit(t *testing.T) {
	peertest.Need(t, "openssl")
	dir := t.TempDir()
	pemFile := func(name string, n *node) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: n.cert.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	root := issue(t, spec{cn: "Policy Root", ca: true, to: t0.Add(3650 * day)}, nil)
	requireExplicit := pkix.Extension{Id: oidPolicyCons, Critical: true, Value: []byte{0x30, 0x03, 0x80, 0x01, 0x00}}
	mappings, err := asn1.Marshal([]struct{ From, To asn1.ObjectIdentifier }{{testPolicy(1, 1), testPolicy(2, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	inter := issue(t, spec{cn: "Policy Intermediate", ca: true, extra: []pkix.Extension{
		policiesExt(t, testPolicy(1, 1)), requireExplicit, {Id: oidPolicyMappings, Critical: true, Value: mappings}}}, root)
	v := &Verifier{Anchors: NewAnchors("policy-root.pem", root.cert)}
	for _, tc := range []struct {
		name    string
		leaf    []pkix.Extension
		trusted bool
		says    string
	}{
		{"the mapped policy", []pkix.Extension{policiesExt(t, testPolicy(2, 1))}, true, ""},
		{"anyPolicy", []pkix.Extension{policiesExt(t, asn1.ObjectIdentifier{2, 5, 29, 32, 0})}, true, ""},
		{"no policies", nil, false, `"CN=policy.example,O=tlskit lab" has no certificate policies extension`},
		// The intermediate's own policy is mapped away: below it, only
		// the policy it maps to is expected.
		{"the unmapped policy", []pkix.Extension{policiesExt(t, testPolicy(1, 1))}, false, "(1.3.6.1.4.1.55555.1.1) of which none is one the CAs above it allow (1.3.6.1.4.1.55555.2.1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf := issue(t, spec{cn: "policy.example", dns: []string{"policy.example"}, extra: tc.leaf}, inter)
			out, err := exec.Command("openssl", "verify", "-policy_check", "-policy", "2.5.29.32.0", "-purpose", "sslserver", "-attime", fmt.Sprint(t0.Unix()),
				"-CAfile", pemFile("root.pem", root), "-untrusted", pemFile("inter.pem", inter), pemFile("leaf.pem", leaf)).CombinedOutput()
			if (err == nil) != tc.trusted {
				t.Fatalf("openssl verify -policy_check -policy anyPolicy says %v, the test expects %v: %s", err == nil, tc.trusted, out)
			}
			r := v.Verify(certs(leaf, inter), "policy.example", t0)
			if r.Trusted != tc.trusted {
				t.Fatalf("trusted=%v, want %v\n%s", r.Trusted, tc.trusted, dump(r))
			}
			if tc.trusted {
				return
			}
			f := find(t, r, finding.ChainPolicy)
			if !strings.Contains(f.Title, `"CN=Policy Intermediate,O=tlskit lab" requires one`) || !strings.Contains(f.Detail, tc.says) {
				t.Errorf("chain.policy says:\n%s\n%s\nwant %q", f.Title, f.Detail, tc.says)
			}
		})
	}
}

// TestPolicyHostile checks that a chain whose certificates carry tens of
// thousands of policies and mappings costs time in proportion to them
// (each step looks policies up in sets, never one list against another)
// and that the refusal's words stay short.
func TestPolicyHostile(t *testing.T) {
	const n = 20000
	var own, leafs []asn1.ObjectIdentifier
	var maps []struct{ From, To asn1.ObjectIdentifier }
	for i := range n {
		own = append(own, testPolicy(1, i))
		leafs = append(leafs, testPolicy(3, i))
		maps = append(maps, struct{ From, To asn1.ObjectIdentifier }{testPolicy(1, i), testPolicy(2, i)})
	}
	mappings, err := asn1.Marshal(maps)
	if err != nil {
		t.Fatal(err)
	}
	root := issue(t, spec{cn: "Policy Root", ca: true, to: t0.Add(3650 * day)}, nil)
	inter := issue(t, spec{cn: "Policy Intermediate", ca: true, extra: []pkix.Extension{policiesExt(t, own...),
		{Id: oidPolicyCons, Critical: true, Value: []byte{0x30, 0x03, 0x80, 0x01, 0x00}},
		{Id: oidPolicyMappings, Critical: true, Value: mappings}}}, root)
	leaf := issue(t, spec{cn: "policy.example", dns: []string{"policy.example"}, extra: []pkix.Extension{policiesExt(t, leafs...)}}, inter)
	r := (&Verifier{Anchors: NewAnchors("policy-root.pem", root.cert)}).Verify(certs(leaf, inter), "policy.example", t0)
	f := find(t, r, finding.ChainPolicy)
	if r.Trusted || f.Severity != finding.Error {
		t.Fatalf("trusted=%v, chain.policy %s", r.Trusted, f.Severity)
	}
	if more := fmt.Sprintf("and %d more", n-8); !strings.Contains(f.Detail, more) || len(f.Detail) > 2000 {
		t.Errorf("the detail is %d bytes, want the lists cut (%q):\n%.600s", len(f.Detail), more, f.Detail)
	}
}

// FuzzPolicies runs the policy processing over the certificates of a chain
// file, leaf first, below a fixed anchor, whatever their extensions say
// (no signature stands in the way): it ends, and nothing panics.
func FuzzPolicies(f *testing.F) {
	root := issue(f, spec{cn: "Policy Root", ca: true, to: t0.Add(3650 * day)}, nil)
	mappings, err := asn1.Marshal([]struct{ From, To asn1.ObjectIdentifier }{{testPolicy(1, 1), testPolicy(2, 1)}, {testPolicy(1, 2), testPolicy(1, 1)}})
	if err != nil {
		f.Fatal(err)
	}
	constraints := []byte{0x30, 0x06, 0x80, 0x01, 0x00, 0x81, 0x01, 0x01} // requireExplicitPolicy 0, inhibitPolicyMapping 1
	inter := issue(f, spec{cn: "Policy Intermediate", ca: true, extra: []pkix.Extension{policiesExt(f, testPolicy(1, 1), testPolicy(1, 2)),
		{Id: oidPolicyCons, Critical: true, Value: constraints}, {Id: oidPolicyMappings, Critical: true, Value: mappings},
		{Id: asn1.ObjectIdentifier{2, 5, 29, 54}, Critical: true, Value: []byte{0x02, 0x01, 0x00}}}}, root) // inhibitAnyPolicy 0
	sub := issue(f, spec{cn: "Policy Sub", ca: true, extra: []pkix.Extension{policiesExt(f, asn1.ObjectIdentifier{2, 5, 29, 32, 0}, testPolicy(2, 1))}}, inter)
	leaf := issue(f, spec{cn: "policy.example", dns: []string{"policy.example"}, extra: []pkix.Extension{policiesExt(f, testPolicy(2, 1))}}, sub)
	var chain []byte
	for _, n := range []*node{leaf, sub, inter} {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: n.cert.Raw})...)
	}
	f.Add(chain)
	f.Add(inter.cert.Raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		ders, err := ParseChain(data, "fuzz.pem")
		if err != nil {
			return
		}
		var path []*x509.Certificate
		for _, der := range ders {
			if c, err := x509.ParseCertificate(der); err == nil {
				path = append(path, c)
			}
		}
		path = append(path, root.cert)
		if pf := (&verifier{}).checkPolicies(path); pf != nil && pf.cert == nil {
			t.Fatalf("a failure without the certificate at fault: %+v", pf)
		}
	})
}
