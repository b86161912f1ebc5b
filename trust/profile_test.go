package trust

import (
	"crypto/x509"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/finding"
)

// TestProfileChosenByAnchor: a path to a system root is judged by the
// webpki profile, one to an anchor given explicitly by rfc5280, and
// Verifier.Profile overrides both. A leaf without an extended key usage
// tells them apart (the Baseline Requirements require serverAuth).
func TestProfileChosenByAnchor(t *testing.T) {
	root := issue(t, spec{cn: "Some Root", ca: true, to: t0.Add(3650 * day)}, nil)
	inter := issue(t, spec{cn: "Some Intermediate", ca: true}, root)
	leaf := issue(t, spec{cn: "www.some.example", dns: []string{"www.some.example"}, noEKU: true}, inter)
	system := &Anchors{System: true, SystemRoots: func() ([]*x509.Certificate, error) { return certs(root), nil }}
	explicit := NewAnchors("root.pem", root.cert)
	for _, tc := range []struct {
		name    string
		anchors *Anchors
		profile Profile
		want    Profile
		trusted bool
	}{
		{"system root: webpki", system, ProfileAuto, ProfileWebPKI, false},
		{"explicit root: rfc5280", explicit, ProfileAuto, ProfileRFC5280, true},
		{"explicit root, --profile webpki", explicit, ProfileWebPKI, ProfileWebPKI, false},
		{"system root, --profile rfc5280", system, ProfileRFC5280, ProfileRFC5280, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := (&Verifier{Anchors: tc.anchors, Profile: tc.profile}).Verify(certs(leaf, inter), "www.some.example", t0)
			if r.Profile != tc.want || r.Trusted != tc.trusted {
				t.Fatalf("profile %s trusted %v, want %s %v\n%s", r.Profile, r.Trusted, tc.want, tc.trusted, dump(r))
			}
			if !tc.trusted {
				f := find(t, r, finding.CertWrongEKU)
				if !strings.Contains(f.Detail, "Baseline Requirements (7.1.2.7.6)") {
					t.Errorf("detail: %s", f.Detail)
				}
			}
		})
	}
}

// TestCAAsLeaf: a CA certificate as the leaf is a warning under rfc5280
// (RFC 5280 allows it) and an error under webpki; a leaf that may sign
// certificates without being a CA is an error under both.
func TestCAAsLeaf(t *testing.T) {
	l := newLab(t)
	caLeaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, ca: true, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, l.inter)
	signer := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, certSign: true}, l.inter)
	for _, tc := range []struct {
		name    string
		leaf    *node
		profile Profile
		sev     finding.Severity
	}{
		{"CA leaf, rfc5280", caLeaf, ProfileRFC5280, finding.Warning},
		{"CA leaf, webpki", caLeaf, ProfileWebPKI, finding.Error},
		{"keyCertSign leaf, rfc5280", signer, ProfileRFC5280, finding.Error},
		{"keyCertSign leaf, webpki", signer, ProfileWebPKI, finding.Error},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := l.policy()
			p.Profile = tc.profile
			r := p.Verify(certs(tc.leaf, l.inter), "www.lab.example", t0)
			f := find(t, r, finding.CertCAAsLeaf)
			if f.Severity != tc.sev || r.Trusted != (tc.sev != finding.Error) {
				t.Errorf("severity %s, trusted %v\n%s", f.Severity, r.Trusted, dump(r))
			}
		})
	}
}

// TestPathShapes: a leaf trusted directly, the depth limit with 0 (none)
// and a self-issued key rollover (not counted), an issuer loop, an
// intermediate that does not parse, and a pin satisfied by the second of
// two valid paths.
func TestPathShapes(t *testing.T) {
	l := newLab(t)
	t.Run("leaf is an anchor", func(t *testing.T) {
		self := issue(t, spec{cn: "pinned.lab.example", dns: []string{"pinned.lab.example"}}, nil)
		r := (&Verifier{Anchors: NewAnchors("pinned.pem", self.cert)}).Verify(certs(self), "pinned.lab.example", t0)
		if !r.Trusted || len(r.Verified) != 1 || len(r.Verified[0]) != 1 {
			t.Fatalf("a self-signed leaf trusted directly:\n%s", dump(r))
		}
	})
	t.Run("depth", func(t *testing.T) {
		p := l.policy()
		p.MaxIntermediates = NoIntermediates
		r := p.Verify(certs(l.leaf, l.inter), "www.lab.example", t0)
		if f := find(t, r, finding.ChainTooLong); r.Trusted || !strings.Contains(f.Title, "1 intermediate, more than the policy allows (0)") {
			t.Errorf("NoIntermediates:\n%s", dump(r))
		}
		p.MaxIntermediates = 1
		if r := p.Verify(certs(l.leaf, l.inter), "www.lab.example", t0); !r.Trusted {
			t.Errorf("one intermediate allowed:\n%s", dump(r))
		}
	})
	t.Run("cycle", func(t *testing.T) {
		a := issue(t, spec{cn: "Loop A", ca: true}, nil)
		b := issue(t, spec{cn: "Loop B", ca: true}, a)
		aByB := issue(t, spec{ca: true, subjectOf: a}, b)
		leaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}}, aByB)
		r := l.policy().Verify(certs(leaf, b, aByB), "www.lab.example", t0)
		if f := find(t, r, finding.ChainCycle); r.Trusted || !strings.Contains(f.Detail, "already on the path") {
			t.Errorf("issuer loop:\n%s", dump(r))
		}
	})
	t.Run("unparseable intermediate", func(t *testing.T) {
		garbled := append([]byte(nil), l.inter.cert.Raw...)
		garbled[len(garbled)/2] ^= 0xff
		garbled = garbled[:len(garbled)-7]
		r := l.policy().Check(Request{DER: [][]byte{l.leaf.cert.Raw, garbled}, Name: "www.lab.example", Time: t0})
		f := find(t, r, finding.CertUnparseable)
		if r.Trusted || !strings.Contains(f.Title, "Certificate #2") || len(r.Unparsed) != 1 || r.Unparsed[0].Index != 1 {
			t.Errorf("garbled intermediate:\n%s", dump(r))
		}
		find(t, r, finding.ChainIncomplete) // and the path it would have been on is incomplete
	})
	t.Run("pin on the second path", func(t *testing.T) {
		root2 := issue(t, spec{cn: "Second Root", ca: true, to: t0.Add(3650 * day)}, nil)
		cross := issue(t, spec{ca: true, subjectOf: l.inter}, root2) // the intermediate, cross-signed by another root
		p := &Verifier{Anchors: NewAnchors("", l.root.cert, root2.cert), Pins: []Pin{PinOf(root2.cert)}}
		r := p.Verify(certs(l.leaf, l.inter, cross), "www.lab.example", t0)
		if !r.Trusted || len(r.Verified) < 2 {
			t.Errorf("the pin matches the path through the cross-sign:\n%s", dump(r))
		}
	})
}
