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

// pemWriter returns a func that writes a certificate of the test PKI as
// PEM to a file of a temporary directory, for openssl, and returns its
// path.
func pemWriter(t *testing.T) func(name string, n *node) string {
	dir := t.TempDir()
	return func(name string, n *node) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: n.cert.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
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
	pemFile := pemWriter(t)
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
// (no signature stands in the way), under initial settings chosen by the
// bits of settings: it ends, and nothing panics.
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
	f.Add(chain, byte(0))
	f.Add(chain, byte(0x0f))
	f.Add(inter.cert.Raw, byte(0x09))
	f.Fuzz(func(t *testing.T, data []byte, settings byte) {
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
		set := CertPolicies{RequireExplicit: settings&1 != 0, InhibitMapping: settings&2 != 0, InhibitAny: settings&4 != 0}
		if settings&8 != 0 {
			set.Acceptable = []string{testPolicy(2, 1).String(), testPolicy(1, 2).String()}
		}
		if pf := (&verifier{p: &Verifier{CertPolicies: set}}).checkPolicies(path); pf != nil && pf.cert == nil {
			t.Fatalf("a failure without the certificate at fault: %+v", pf)
		}
	})
}

// TestInitialPolicySettings checks the verifier's initial policy settings
// (CertPolicies) against openssl verify's -policy, -explicit_policy,
// -inhibit_map and -inhibit_any on chains of the test PKI: an
// intermediate under policies P1 and P2 that maps P1 to Q1 over a leaf
// under Q1 (valid for P1, the anchor's domain, never for P2), and one
// whose only policy is anyPolicy over the same leaf, with and without the
// mapping of P1 to Q1. The acceptable set matters only where an explicit
// policy is required (RFC 5280 §6.1.5 (g)); inhibiting mapping drops Q1's
// parent; inhibiting anyPolicy leaves the anyPolicy CA without a policy.
func TestInitialPolicySettings(t *testing.T) {
	peertest.Need(t, "openssl")
	pemFile := pemWriter(t)
	p1, p2, q1 := testPolicy(1, 1), testPolicy(1, 2), testPolicy(2, 1)
	mappings, err := asn1.Marshal([]struct{ From, To asn1.ObjectIdentifier }{{p1, q1}})
	if err != nil {
		t.Fatal(err)
	}
	root := issue(t, spec{cn: "Policy Root", ca: true, to: t0.Add(3650 * day)}, nil)
	mapper := issue(t, spec{cn: "Policy Mapper", ca: true, extra: []pkix.Extension{policiesExt(t, p1, p2), {Id: oidPolicyMappings, Critical: true, Value: mappings}}}, root)
	anyCA := issue(t, spec{cn: "Policy Any", ca: true, extra: []pkix.Extension{policiesExt(t, asn1.ObjectIdentifier{2, 5, 29, 32, 0})}}, root)
	anyMapper := issue(t, spec{cn: "Policy Any Mapper", ca: true, extra: []pkix.Extension{policiesExt(t, asn1.ObjectIdentifier{2, 5, 29, 32, 0}),
		{Id: oidPolicyMappings, Critical: true, Value: mappings}}}, root)
	const any = "2.5.29.32.0"
	for _, tc := range []struct {
		name    string
		inter   *node
		set     CertPolicies
		trusted bool
		says    string // in chain.policy's detail
	}{
		{"P1 required", mapper, CertPolicies{Acceptable: []string{p1.String()}, RequireExplicit: true}, true, ""},
		{"P2 required", mapper, CertPolicies{Acceptable: []string{p2.String()}, RequireExplicit: true}, false,
			"is valid along the path for certificate policies (" + q1.String() + ") of which none is, or is mapped from, one the trust policy accepts (" + p2.String() + ")"},
		{"P1 or P2 required", mapper, CertPolicies{Acceptable: []string{p2.String(), p1.String()}, RequireExplicit: true}, true, ""},
		{"any policy required", mapper, CertPolicies{RequireExplicit: true}, true, ""},
		{"P2 not required", mapper, CertPolicies{Acceptable: []string{p2.String()}}, true, ""},
		{"mapping inhibited", mapper, CertPolicies{Acceptable: []string{p1.String()}, RequireExplicit: true, InhibitMapping: true}, false,
			"of which none is one the CAs above it allow"},
		{"mapping inhibited, nothing required", mapper, CertPolicies{InhibitMapping: true}, true, ""},
		{"anyPolicy CA", anyCA, CertPolicies{Acceptable: []string{q1.String()}, RequireExplicit: true}, true, ""},
		// anyPolicy mapped: P1 is of the node set (a child of anyPolicy,
		// RFC 5280 §6.1.4 (b)(1)), Q1 below it.
		{"anyPolicy mapped, P1 required", anyMapper, CertPolicies{Acceptable: []string{p1.String()}, RequireExplicit: true}, true, ""},
		{"anyPolicy mapped, P2 required", anyMapper, CertPolicies{Acceptable: []string{p2.String()}, RequireExplicit: true}, false,
			"is valid along the path for certificate policies (" + q1.String() + ") of which none is, or is mapped from, one the trust policy accepts (" + p2.String() + ")"},
		{"anyPolicy inhibited", anyCA, CertPolicies{Acceptable: []string{q1.String()}, RequireExplicit: true, InhibitAny: true}, false,
			`"CN=Policy Any,O=tlskit lab" has certificate policies (2.5.29.32.0) of which none is one the CAs above it allow (2.5.29.32.0)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf := issue(t, spec{cn: "policy.example", dns: []string{"policy.example"}, extra: []pkix.Extension{policiesExt(t, q1)}}, tc.inter)
			args := []string{"verify", "-policy_check", "-purpose", "sslserver", "-attime", fmt.Sprint(t0.Unix())}
			acceptable := tc.set.Acceptable
			if len(acceptable) == 0 {
				acceptable = []string{any} // OpenSSL's initial set is empty without -policy
			}
			for _, p := range acceptable {
				args = append(args, "-policy", p)
			}
			for flag, on := range map[string]bool{"-explicit_policy": tc.set.RequireExplicit, "-inhibit_map": tc.set.InhibitMapping, "-inhibit_any": tc.set.InhibitAny} {
				if on {
					args = append(args, flag)
				}
			}
			args = append(args, "-CAfile", pemFile("root.pem", root), "-untrusted", pemFile("inter.pem", tc.inter), pemFile("leaf.pem", leaf))
			out, err := exec.Command("openssl", args...).CombinedOutput()
			if (err == nil) != tc.trusted {
				t.Fatalf("openssl %s says %v, the test expects %v: %s", strings.Join(args, " "), err == nil, tc.trusted, out)
			}
			r := (&Verifier{Anchors: NewAnchors("policy-root.pem", root.cert), CertPolicies: tc.set}).Verify(certs(leaf, tc.inter), "policy.example", t0)
			if r.Trusted != tc.trusted {
				t.Fatalf("trusted=%v, want %v (openssl agrees)\n%s", r.Trusted, tc.trusted, dump(r))
			}
			if tc.trusted {
				return
			}
			f := find(t, r, finding.ChainPolicy)
			if f.Setting != finding.SettingCertPolicy || !strings.Contains(f.Title, "trust policy accepts") || !strings.Contains(f.Detail, tc.says) {
				t.Errorf("chain.policy (setting %q) says:\n%s\n%s\nwant %q", f.Setting, f.Title, f.Detail, tc.says)
			}
		})
	}
}
