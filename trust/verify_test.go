package trust

import (
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
)

// find returns the first finding with id, failing the test if absent.
func find(t *testing.T, r *Result, id string) finding.Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no %s finding; got:\n%s", id, dump(r))
	return finding.Finding{}
}

func dump(r *Result) string {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString("  " + string(f.Severity) + " " + f.ID + ": " + f.Title + "\n      " + f.Detail + "\n")
	}
	return b.String()
}

// errorIDs lists the ids of error findings.
func errorIDs(r *Result) []string {
	var ids []string
	for _, f := range r.Findings {
		if f.Severity == finding.Error {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

func TestVerifyGood(t *testing.T) {
	l := newLab(t)
	r := l.policy().Verify(certs(l.leaf, l.inter), "www.lab.example", t0)
	if !r.Trusted || len(r.Findings) != 0 || r.Err() != nil {
		t.Fatalf("good chain: trusted=%v\n%s", r.Trusted, dump(r))
	}
	if len(r.Verified) != 1 || len(r.Verified[0]) != 3 || !r.Verified[0][2].Equal(l.root.cert) {
		t.Fatalf("verified paths = %v", r.Verified)
	}
	// The same leaf by IP, by an extra name, and with no name at all.
	ipLeaf := issue(t, spec{cn: "ip", ips: []net.IP{net.ParseIP("127.0.0.1")}}, l.inter)
	if r := l.policy().Verify(certs(ipLeaf, l.inter), "127.0.0.1", t0); !r.Trusted {
		t.Errorf("IP SAN: %s", dump(r))
	}
	p := l.policy()
	p.Names = []string{"lab.example"}
	if r := p.Verify(certs(l.leaf, l.inter), "10.1.1.1", t0); !r.Trusted {
		t.Errorf("extra name: %s", dump(r))
	}
	if r := l.policy().Verify(certs(l.leaf, l.inter), "", t0); !r.Trusted {
		t.Errorf("no host: %s", dump(r))
	}
}

func TestVerifyDiagnosis(t *testing.T) {
	l := newLab(t)
	other := issue(t, spec{cn: "Other Root", ca: true}, nil)
	expiredLeaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, from: t0.Add(-400 * day), to: t0.Add(-10 * day)}, l.inter)
	futureLeaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, from: t0.Add(5 * day)}, l.inter)
	expiredInter := issue(t, spec{cn: "Lab Intermediate", ca: true, subjectOf: l.inter, from: t0.Add(-400 * day), to: t0.Add(-1 * day)}, l.root)
	selfLeaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}}, nil)
	clientLeaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection}}, l.inter)
	weakLeaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, key: rsaKey(t, 1024)}, l.inter)
	cnOnly := issue(t, spec{cn: "cn.lab.example"}, l.inter)
	notCA := issue(t, spec{cn: "Not A CA", noBC: true, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, l.root)
	notCALeaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}}, notCA)
	rsaRoot := issue(t, spec{cn: "RSA Root", ca: true, key: rsaKey(t, 2048)}, nil)
	sha1Leaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, sha1: true}, rsaRoot)
	twin := issue(t, spec{cn: "Lab Intermediate", ca: true}, l.root) // same name, another key

	tests := []struct {
		name    string
		policy  *Verifier
		chain   []*node
		host    string
		trusted bool
		id      string           // the expected primary finding (Err().ID)
		sev     finding.Severity // its severity
		detail  []string         // substrings of Title+Detail
	}{
		{name: "root-sent", chain: []*node{l.leaf, l.inter, l.root}, trusted: true, id: finding.ChainRootSent, sev: finding.Info, detail: []string{"Lab Root"}},
		{name: "missing-intermediate", chain: []*node{l.leaf}, id: finding.ChainIncomplete, sev: finding.Error,
			detail: []string{`"CN=Lab Intermediate,O=tlskit lab"`, labAIA, "the server must send it"}},
		{name: "untrusted-root-not-sent", policy: &Verifier{Anchors: NewAnchors("/etc/other.pem", certs(other)...)}, chain: []*node{l.leaf, l.inter},
			id: finding.ChainUntrustedRoot, sev: finding.Error, detail: []string{"CN=Lab Root", "/etc/other.pem", "system roots not included"}},
		{name: "untrusted-root-sent", policy: &Verifier{Anchors: NewAnchors("", certs(other)...)}, chain: []*node{l.leaf, l.inter, l.root},
			id: finding.ChainUntrustedRoot, sev: finding.Error, detail: []string{`the root "CN=Lab Root`, "1 certificate; system roots not included"}},
		{name: "expired-leaf", chain: []*node{expiredLeaf, l.inter}, id: finding.CertExpired, sev: finding.Error,
			detail: []string{"the leaf", expiredLeaf.cert.NotAfter.Format(time.RFC3339), "2026-06-01T12:00:00Z", "10 days"}},
		{name: "not-yet-valid", chain: []*node{futureLeaf, l.inter}, id: finding.CertNotYetValid, sev: finding.Error, detail: []string{"5 days too early"}},
		{name: "expired-intermediate", chain: []*node{l.leaf, expiredInter}, id: finding.CertExpired, sev: finding.Error, detail: []string{"certificate #2", "outdated intermediate"}},
		{name: "self-signed", chain: []*node{selfLeaf}, id: finding.CertSelfSigned, sev: finding.Error, detail: []string{PinOf(selfLeaf.cert).String()}},
		{name: "wrong-eku", chain: []*node{clientLeaf, l.inter}, id: finding.CertWrongEKU, sev: finding.Error, detail: []string{"clientAuth, emailProtection", "serverAuth"}},
		{name: "weak-key", chain: []*node{weakLeaf, l.inter}, id: finding.CertWeakKey, sev: finding.Error, detail: []string{"RSA 1024"}},
		{name: "name-mismatch", chain: []*node{l.leaf, l.inter}, host: "mail.lab.example", id: finding.NameMismatch, sev: finding.Error,
			detail: []string{`"mail.lab.example"`, "DNS:www.lab.example, DNS:lab.example"}},
		{name: "cn-only", chain: []*node{cnOnly, l.inter}, host: "cn.lab.example", id: finding.NameMismatch, sev: finding.Error, detail: []string{"Common Name", "no subjectAltName"}},
		{name: "reversed", chain: []*node{l.inter, l.leaf}, id: finding.ChainWrongOrder, sev: finding.Error, detail: []string{"#2", "Sent order"}},
		{name: "out-of-order", chain: []*node{l.leaf, l.root, l.inter}, trusted: true, id: finding.ChainWrongOrder, sev: finding.Warning, detail: []string{"the order #1, #3, #2"}},
		{name: "not-ca", chain: []*node{notCALeaf, notCA}, id: finding.CertNotCA, sev: finding.Error, detail: []string{"certificate #2", "CA:TRUE"}},
		{name: "sha1-leaf", policy: &Verifier{Anchors: NewAnchors("", certs(rsaRoot)...)}, chain: []*node{sha1Leaf}, id: finding.CertWeakSignature, sev: finding.Error, detail: []string{"SHA1-RSA"}},
		{name: "no-depth-limit", policy: &Verifier{Anchors: NewAnchors("", certs(l.root)...), MaxIntermediates: 0}, chain: []*node{l.leaf, l.inter}, trusted: true},
		{name: "name-not-key", chain: []*node{l.leaf, twin}, id: finding.ChainIncomplete, sev: finding.Error, detail: []string{"another generation", PinOf(twin.cert).String()}},
		{name: "anchor-name-not-key", policy: &Verifier{Anchors: NewAnchors("", certs(l.root, twin)...)}, chain: []*node{l.leaf}, id: finding.ChainIncomplete, sev: finding.Error,
			detail: []string{"is among the trust anchors, but its key"}},
		{name: "zero-policy", policy: &Verifier{}, chain: []*node{l.leaf, l.inter}, id: finding.PolicyInvalid, sev: finding.Error, detail: []string{"no trust anchors"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.policy
			if p == nil {
				p = l.policy()
			}
			host := tc.host
			if host == "" && tc.name != "cn-only" {
				host = "www.lab.example"
			}
			r := p.Verify(certs(tc.chain...), host, t0)
			if r.Trusted != tc.trusted {
				t.Fatalf("trusted = %v, want %v\n%s", r.Trusted, tc.trusted, dump(r))
			}
			if tc.id == "" {
				if len(r.Findings) != 0 {
					t.Fatalf("unexpected findings:\n%s", dump(r))
				}
				return
			}
			f := find(t, r, tc.id)
			if f.Severity != tc.sev {
				t.Errorf("%s severity = %s, want %s", tc.id, f.Severity, tc.sev)
			}
			text := f.Title + "\n" + f.Detail + "\n" + f.Fix + "\n" + strings.Join(f.Evidence, "\n")
			for _, d := range tc.detail {
				// Sentence case is finding.Tidy's business; match the words.
				if !strings.Contains(strings.ToLower(text), strings.ToLower(d)) {
					t.Errorf("%s lacks %q:\n%s", tc.id, d, text)
				}
			}
			if f.Title == "" || f.Detail == "" || f.Fix == "" {
				t.Errorf("%s has an empty title, detail or fix: %+v", tc.id, f)
			}
			err := r.Err()
			if tc.trusted {
				if err != nil {
					t.Fatalf("trusted chain has Err() = %v", err)
				}
				return
			}
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Err() = %T %v, want *VerifyError", err, err)
			}
			if ve.ID != tc.id {
				t.Errorf("VerifyError.ID = %s, want %s (%v)\n%s", ve.ID, tc.id, err, dump(r))
			}
			if !strings.HasPrefix(err.Error(), "trust: "+tc.id+": ") {
				t.Errorf("Error() = %q", err)
			}
		})
	}
}

func TestIncompleteMessage(t *testing.T) {
	l := newLab(t)
	err := l.policy().Verify(certs(l.leaf), "www.lab.example", t0).Err()
	want := `trust: chain.incomplete: the server did not send the intermediate certificate "CN=Lab Intermediate,O=tlskit lab" (fetch it from ` + labAIA + `)`
	if err == nil || err.Error() != want {
		t.Fatalf("Error() =\n %v\nwant\n %s", err, want)
	}
}

func TestVerifyCollectsEveryProblem(t *testing.T) {
	l := newLab(t)
	leaf := issue(t, spec{cn: "x", dns: []string{"x.lab.example"}, to: t0.Add(-day), from: t0.Add(-300 * day), key: rsaKey(t, 1024)}, l.inter)
	r := l.policy().Verify(certs(leaf), "www.lab.example", t0)
	got := errorIDs(r)
	for _, id := range []string{finding.CertExpired, finding.ChainIncomplete, finding.CertWeakKey, finding.NameMismatch} {
		if !slices.Contains(got, id) {
			t.Errorf("missing %s in %v", id, got)
		}
	}
	if e := r.Err().Error(); !strings.Contains(e, "more problems") {
		t.Errorf("Error() = %q, want a count of the other problems", e)
	}
}

func TestTooLong(t *testing.T) {
	l := newLab(t)
	inter2 := issue(t, spec{cn: "Lab Issuing CA", ca: true}, l.inter)
	leaf := issue(t, spec{cn: "deep", dns: []string{"deep.lab.example"}}, inter2)
	p := l.policy()
	p.MaxIntermediates = 1
	r := p.Verify(certs(leaf, inter2, l.inter), "deep.lab.example", t0)
	if r.Trusted || len(r.Verified) != 0 {
		t.Fatalf("2 intermediates with MaxIntermediates=1 trusted:\n%s", dump(r))
	}
	f := find(t, r, finding.ChainTooLong)
	if !strings.Contains(f.Title, "2 intermediates") || !strings.Contains(f.Detail, "Lab Issuing CA") {
		t.Errorf("too-long finding: %+v", f)
	}
	p.MaxIntermediates = 2
	if r := p.Verify(certs(leaf, inter2, l.inter), "deep.lab.example", t0); !r.Trusted {
		t.Errorf("MaxIntermediates=2:\n%s", dump(r))
	}
}

// TestExpiredCrossSign reproduces the 2021 Let's Encrypt case: the server
// sends ISRG Root X1 cross-signed by DST Root CA X3, expired.
func TestExpiredCrossSign(t *testing.T) {
	oldRoot := issue(t, spec{cn: "DST Root CA X3", ca: true, from: t0.Add(-3000 * day), to: t0.Add(-200 * day)}, nil)
	newRoot := issue(t, spec{cn: "ISRG Root X1", ca: true, to: t0.Add(3000 * day)}, nil)
	cross := issue(t, spec{ca: true, subjectOf: newRoot, from: t0.Add(-1000 * day), to: t0.Add(-100 * day)}, oldRoot)
	r3 := issue(t, spec{cn: "R3", ca: true}, newRoot)
	leaf := issue(t, spec{cn: "le.example", dns: []string{"le.example"}}, r3)

	modern := &Verifier{Anchors: NewAnchors("", certs(newRoot)...)}
	r := modern.Verify(certs(leaf, r3, cross), "le.example", t0)
	if !r.Trusted {
		t.Fatalf("modern store:\n%s", dump(r))
	}
	f := find(t, r, finding.ChainExpiredCross)
	if f.Severity != finding.Warning || !strings.Contains(f.Title, "DST Root CA X3") || !strings.Contains(f.Detail, "the trust anchor") {
		t.Errorf("cross-sign finding: %+v", f)
	}
	// An old client trusting only DST Root CA X3 must fail on the dates.
	old := &Verifier{Anchors: NewAnchors("", certs(oldRoot)...)}
	r = old.Verify(certs(leaf, r3, cross), "le.example", t0)
	if r.Trusted {
		t.Fatal("old store trusted an expired cross-sign")
	}
	f = find(t, r, finding.CertExpired)
	if !strings.Contains(f.Title, "Certificate #3") {
		t.Errorf("old store: %s", dump(r))
	}
}

func TestPins(t *testing.T) {
	l := newLab(t)
	chain := certs(l.leaf, l.inter)
	stranger := issue(t, spec{cn: "Stranger"}, nil)
	expire := t0.Add(-day)

	p := l.policy()
	p.Pins = []Pin{PinOf(l.root.cert)} // CA pin: the root is not sent, but is on the verified path
	if r := p.Verify(chain, "www.lab.example", t0); !r.Trusted {
		t.Fatalf("root pin:\n%s", dump(r))
	}

	p.Pins = []Pin{PinOf(stranger.cert)}
	r := p.Verify(chain, "www.lab.example", t0)
	f := find(t, r, finding.PinMismatch)
	if r.Trusted || r.Err().(*VerifyError).ID != finding.PinMismatch {
		t.Fatalf("pin mismatch trusted:\n%s", dump(r))
	}
	ev := strings.Join(f.Evidence, "\n")
	for _, c := range []*node{stranger, l.leaf, l.inter, l.root} {
		if !strings.Contains(ev, PinOf(c.cert).String()) {
			t.Errorf("evidence lacks the pin of %s:\n%s", c.cert.Subject, ev)
		}
	}

	// CVE-2016-2402: a pinned certificate merely sent along is not enough.
	r = p.Verify(certs(l.leaf, l.inter, stranger), "www.lab.example", t0)
	if r.Trusted || !finding.Has(r.Findings, finding.PinMismatch) {
		t.Fatalf("a sent but unverified pinned certificate satisfied the pin:\n%s", dump(r))
	}

	p.PinsExpire = expire
	r = p.Verify(chain, "www.lab.example", t0)
	if f := find(t, r, finding.PinExpired); r.Trusted || f.Severity != finding.Error {
		t.Fatalf("expired pin set, no match:\n%s", dump(r))
	}
	p.Pins = []Pin{PinOf(stranger.cert), PinOf(l.leaf.cert)}
	r = p.Verify(chain, "www.lab.example", t0)
	if f := find(t, r, finding.PinExpired); !r.Trusted || f.Severity != finding.Warning {
		t.Fatalf("expired pin set that matches:\n%s", dump(r))
	}
}

func TestClientAuthUsage(t *testing.T) {
	l := newLab(t)
	client := issue(t, spec{cn: "alice", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, l.inter)
	p := l.policy()
	p.Usage = x509.ExtKeyUsageClientAuth
	if r := p.Verify(certs(client, l.inter), "", t0); !r.Trusted {
		t.Fatalf("client cert:\n%s", dump(r))
	}
	r := p.Verify(certs(l.leaf, l.inter), "", t0)
	if f := find(t, r, finding.CertWrongEKU); r.Trusted || !strings.Contains(f.Detail, "serverAuth") {
		t.Fatalf("server cert as client cert:\n%s", dump(r))
	}
}

func TestSystemRootsExcluded(t *testing.T) {
	l := newLab(t)
	sys := issue(t, spec{cn: "Public Root", ca: true}, nil)
	pub := issue(t, spec{cn: "www.public.example", dns: []string{"www.public.example"}}, sys)
	fake := func() ([]*x509.Certificate, error) { return certs(sys), nil }

	withSystem := &Verifier{Anchors: &Anchors{System: true, SystemRoots: fake}}
	if r := withSystem.Verify(certs(pub), "www.public.example", t0); !r.Trusted {
		t.Fatalf("System=true:\n%s", dump(r))
	}
	onlyMine := &Verifier{Anchors: &Anchors{Certs: certs(l.root), SystemRoots: fake}}
	r := onlyMine.Verify(certs(pub), "www.public.example", t0)
	if r.Trusted {
		t.Fatal("System=false still trusted a system root")
	}
	find(t, r, finding.ChainIncomplete)
	both := &Verifier{Anchors: &Anchors{System: true, Certs: certs(l.root), SystemRoots: fake}}
	for _, c := range [][]*node{{pub}, {l.leaf, l.inter}} {
		if r := both.Verify(certs(c...), "", t0); !r.Trusted {
			t.Errorf("System plus Roots:\n%s", dump(r))
		}
	}
	broken := &Verifier{Anchors: &Anchors{System: true, SystemRoots: func() ([]*x509.Certificate, error) { return nil, errors.New("boom") }}}
	r = broken.Verify(certs(pub), "", t0)
	if f := find(t, r, finding.PolicyInvalid); !strings.Contains(f.Detail, "Boom") {
		t.Errorf("loader failure: %+v", f)
	}
}

func TestEmptyChain(t *testing.T) {
	l := newLab(t)
	r := l.policy().Verify(nil, "x", t0)
	if r.Trusted || !finding.Has(r.Findings, finding.ChainInvalid) {
		t.Fatalf("empty chain:\n%s", dump(r))
	}
	r = l.policy().Verify([]*x509.Certificate{nil}, "x", t0)
	if r.Trusted {
		t.Fatal("nil certificate trusted")
	}
}

func BenchmarkVerify(b *testing.B) {
	l := newLab(b)
	p := l.policy()
	chain := certs(l.leaf, l.inter, l.root)
	for b.Loop() {
		if r := p.Verify(chain, "www.lab.example", t0); !r.Trusted {
			b.Fatal("untrusted")
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
