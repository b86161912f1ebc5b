package trust

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tlskit/tlskit/finding"
)

// crlOf issues a CRL of issuer revoking serials, with edits applied to the
// template first.
func crlOf(t testing.TB, issuer *node, edit func(*x509.RevocationList), serials ...*big.Int) *CRL {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: t0.Add(-day), NextUpdate: t0.Add(6 * day)}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: t0.Add(-2 * day), ReasonCode: 4})
	}
	if edit != nil {
		edit(tmpl)
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer.cert, issuer.key)
	if err != nil {
		t.Fatal(err)
	}
	crls, err := ParseCRLs(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), "test.crl")
	if err != nil {
		t.Fatal(err)
	}
	return crls[0]
}

// TestCRL checks revocation against CRLs per RFC 5280 §6.3: a revoked
// leaf or intermediate, a CRL that cannot be used (another key, stale,
// critical extension, no number, a delta CRL), and a leaf no CRL covers.
func TestCRL(t *testing.T) {
	l := newLab(t)
	chain := certs(l.leaf, l.inter)
	other := issue(t, spec{cn: "Lab Intermediate", ca: true}, l.root) // same name, another key
	verify := func(crls ...*CRL) *Result {
		p := l.policy()
		p.CRLs = crls
		return p.Verify(chain, "www.lab.example", t0)
	}
	tests := []struct {
		name  string
		crls  []*CRL
		id    string // the primary finding; "" trusted
		words string
	}{
		{"not revoked", []*CRL{crlOf(t, l.inter, nil, big.NewInt(1))}, "", ""},
		{"leaf revoked", []*CRL{crlOf(t, l.inter, nil, l.leaf.cert.SerialNumber)}, finding.CertRevoked, "reason superseded (CRL test.crl)"},
		{"intermediate revoked", []*CRL{crlOf(t, l.root, nil, l.inter.cert.SerialNumber)}, finding.CertRevoked, "certificate #2"},
		{"another key's CRL is not the issuer's", []*CRL{crlOf(t, other, nil, l.leaf.cert.SerialNumber)}, finding.RevocationUnknown, "another key than the issuer's signed it"},
		{"stale", []*CRL{crlOf(t, l.inter, func(c *x509.RevocationList) { c.ThisUpdate, c.NextUpdate = t0.Add(-9*day), t0.Add(-day) }, big.NewInt(1))}, finding.CRLInvalid, "stale"},
		{"future", []*CRL{crlOf(t, l.inter, func(c *x509.RevocationList) { c.ThisUpdate, c.NextUpdate = t0.Add(day), t0.Add(9*day) }, big.NewInt(1))}, finding.CRLInvalid, "after the verification time"},
		{"unknown critical extension", []*CRL{crlOf(t, l.inter, func(c *x509.RevocationList) {
			c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}}}
		}, big.NewInt(1))}, finding.CRLInvalid, "critical extension tlskit does not process (1.2.3.4)"},
		{"delta CRL", []*CRL{crlOf(t, l.inter, func(c *x509.RevocationList) {
			c.ExtraExtensions = []pkix.Extension{{Id: oidDeltaCRL, Critical: true, Value: []byte{2, 1, 1}}}
		}, big.NewInt(1))}, finding.CRLInvalid, "delta CRL"},
		{"a usable CRL beats an unusable one", []*CRL{
			crlOf(t, l.inter, func(c *x509.RevocationList) { c.ThisUpdate, c.NextUpdate = t0.Add(-9*day), t0.Add(-day) }),
			crlOf(t, l.inter, nil)}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := verify(tc.crls...)
			if tc.id == "" {
				if !r.Trusted {
					t.Fatalf("not trusted:\n%s", dump(r))
				}
				return
			}
			if r.Trusted || r.Err().(*VerifyError).ID != tc.id {
				t.Fatalf("want %s first:\n%s", tc.id, dump(r))
			}
			f := find(t, r, tc.id)
			if !strings.Contains(strings.ToLower(f.Title+" "+f.Detail), strings.ToLower(tc.words)) {
				t.Errorf("%s lacks %q: %s / %s", tc.id, tc.words, f.Title, f.Detail)
			}
		})
	}
	// CRLs given and none of them the leaf's issuer's: the leaf's
	// revocation cannot be told, and the chain is refused (openssl
	// -crl_check and curl --crlfile refuse it too). A CA above it that no
	// CRL covers is an info: its CRL is often not at hand.
	r := verify(crlOf(t, l.root, nil))
	if f := find(t, r, finding.RevocationUnknown); r.Trusted || f.Severity != finding.Error || !strings.Contains(f.Title, "the leaf") || !strings.Contains(f.Detail, "fails closed") {
		t.Errorf("uncovered leaf:\n%s", dump(r))
	}
	r = verify(crlOf(t, l.inter, nil))
	if f := find(t, r, finding.RevocationUnknown); !r.Trusted || f.Severity != finding.Info || !strings.Contains(f.Title, "certificate #2") {
		t.Errorf("uncovered intermediate:\n%s", dump(r))
	}
	// With CRLs only fetched (--fetch), an uncovered leaf stays an info:
	// no fetching, here, and no CRL given.
	p := l.policy()
	p.Fetch = &Fetcher{}
	if r := p.Verify(chain, "www.lab.example", t0); !r.Trusted {
		t.Errorf("--fetch without a CRL distribution point:\n%s", dump(r))
	}
}

// ocspFor signs an OCSP response for leaf by signer (the issuer itself
// when responder is nil).
func ocspFor(t *testing.T, issuer, responder *node, leaf *x509.Certificate, tmpl ocsp.Response) []byte {
	t.Helper()
	tmpl.SerialNumber = leaf.SerialNumber
	signer, cert := issuer, issuer.cert
	if responder != nil {
		signer, cert = responder, responder.cert
		tmpl.Certificate = responder.cert
	}
	der, err := ocsp.CreateResponse(issuer.cert, cert, tmpl, signer.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestOCSPStaple validates stapled responses: good, revoked, unknown,
// stale, for another certificate, garbage, signed by a delegated responder
// with and without the OCSPSigning usage; and a must-staple leaf without a
// staple when the client asked for one.
func TestOCSPStaple(t *testing.T) {
	l := newLab(t)
	chain := certs(l.leaf, l.inter)
	fresh := ocsp.Response{ThisUpdate: t0.Add(-time.Hour), NextUpdate: t0.Add(3 * day)}
	with := func(status int) ocsp.Response { r := fresh; r.Status = status; r.RevokedAt = t0.Add(-day); return r }
	responder := issue(t, spec{cn: "Lab OCSP", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}, l.inter)
	impostor := issue(t, spec{cn: "www2.lab.example", dns: []string{"www2.lab.example"}}, l.inter) // serverAuth only
	stranger := issue(t, spec{cn: "x", dns: []string{"x.lab.example"}}, l.inter)
	tests := []struct {
		name   string
		staple []byte
		id     string
		status string
		words  string
	}{
		{"good", ocspFor(t, l.inter, nil, l.leaf.cert, with(ocsp.Good)), finding.OCSPStapled, "good", "signed by the issuer"},
		{"revoked", ocspFor(t, l.inter, nil, l.leaf.cert, with(ocsp.Revoked)), finding.CertRevoked, "revoked", "says the OCSP response"},
		{"unknown", ocspFor(t, l.inter, nil, l.leaf.cert, with(ocsp.Unknown)), finding.OCSPInvalid, "unknown", "is unknown"},
		{"stale", ocspFor(t, l.inter, nil, l.leaf.cert, ocsp.Response{ThisUpdate: t0.Add(-5 * day), NextUpdate: t0.Add(-day)}), finding.OCSPInvalid, "invalid", "stale"},
		{"no nextUpdate, old", ocspFor(t, l.inter, nil, l.leaf.cert, ocsp.Response{ThisUpdate: t0.Add(-30 * day)}), finding.OCSPInvalid, "invalid", "no nextUpdate"},
		{"another certificate", ocspFor(t, l.inter, nil, stranger.cert, with(ocsp.Good)), finding.OCSPInvalid, "invalid", "does not verify"},
		{"garbage", []byte{0x30, 0x03, 0x0a, 0x01, 0x00}, finding.OCSPInvalid, "invalid", "does not verify"},
		{"delegated responder", ocspFor(t, l.inter, responder, l.leaf.cert, with(ocsp.Good)), finding.OCSPStapled, "good", "delegated by"},
		{"responder without OCSPSigning", ocspFor(t, l.inter, impostor, l.leaf.cert, with(ocsp.Good)), finding.OCSPInvalid, "invalid", "without the OCSPSigning"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := l.policy().Check(Request{Chain: chain, Name: "www.lab.example", Time: t0, OCSP: tc.staple, Stapling: true})
			f := find(t, r, tc.id)
			if !strings.Contains(strings.ToLower(f.Title+" "+f.Detail), strings.ToLower(tc.words)) {
				t.Errorf("%s lacks %q: %s / %s", tc.id, tc.words, f.Title, f.Detail)
			}
			if r.OCSP == nil || r.OCSP.Status != tc.status {
				t.Errorf("OCSP status %+v, want %s", r.OCSP, tc.status)
			}
			if r.Trusted != (tc.id == finding.OCSPStapled) {
				t.Errorf("trusted = %v\n%s", r.Trusted, dump(r))
			}
		})
	}
	ms := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, mustStaple: true}, l.inter)
	r := l.policy().Check(Request{Chain: certs(ms, l.inter), Name: "www.lab.example", Time: t0, Stapling: true})
	if r.Trusted || r.Err().(*VerifyError).ID != finding.OCSPMustStaple {
		t.Errorf("must-staple without a staple:\n%s", dump(r))
	}
	// Not asked for a staple (tlskit verify, a capture without
	// status_request): nothing to say.
	if r := l.policy().Check(Request{Chain: certs(ms, l.inter), Name: "www.lab.example", Time: t0}); !r.Trusted {
		t.Errorf("must-staple, no staple asked:\n%s", dump(r))
	}
}

// TestCRLOtherKey checks CRLs signed by another key of the issuing CA (RFC
// 5280 §6.3.3 (f)): used when that key's certificate is sent and vouched
// for by the key that issued the issuer, and not used when nothing vouches
// for it (a certificate of the CA's name that the peer made itself): the
// leaf's revocation is then unknown, which refuses the chain.
func TestCRLOtherKey(t *testing.T) {
	l := newLab(t)
	sibling := issue(t, spec{cn: "Lab Intermediate", ca: true}, l.root) // the CA's CRL-signing certificate, from the root
	forged := issue(t, spec{cn: "Lab Intermediate", ca: true}, nil)     // self-signed: nothing vouches for it
	for _, tc := range []struct {
		name    string
		signer  *node
		trusted bool
		id      string
	}{
		{"a CRL-signing certificate from the same parent", sibling, false, finding.CertRevoked},
		{"a certificate nothing vouches for", forged, false, finding.RevocationUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := l.policy()
			p.CRLs = []*CRL{crlOf(t, tc.signer, nil, l.leaf.cert.SerialNumber)}
			r := p.Verify(certs(l.leaf, l.inter, tc.signer), "www.lab.example", t0)
			if r.Trusted != tc.trusted {
				t.Fatalf("trusted=%v, want %v\n%s", r.Trusted, tc.trusted, dump(r))
			}
			if f := find(t, r, tc.id); tc.id == finding.RevocationUnknown && !strings.Contains(f.Detail, "another key than the issuer's signed it") {
				t.Errorf("revocation.unknown does not say why: %s", f.Detail)
			}
		})
	}
}

// TestCRLShared consults one CRL from many verifications at once, as a
// tunnel's or an exporter's long-lived verifier does: of another
// certificate, and with another key of the same name (which must not
// borrow the issuer's checked signature), the answers are those of a
// verification alone: the revoked leaf revoked, the other leaf trusted, the
// leaf of the other key uncovered.
func TestCRLShared(t *testing.T) {
	l := newLab(t)
	other := issue(t, spec{cn: "Lab Intermediate", ca: true}, l.root) // same name, another key
	revoked := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}}, l.inter)
	otherLeaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}}, other)
	p := l.policy()
	p.CRLs = []*CRL{crlOf(t, l.inter, nil, revoked.cert.SerialNumber, big.NewInt(7))}
	tests := []struct {
		chain []*x509.Certificate
		id    string // the primary finding; "" trusted
	}{
		{certs(otherLeaf, other), finding.RevocationUnknown},
		{certs(l.leaf, l.inter), ""},
		{certs(revoked, l.inter), finding.CertRevoked},
	}
	var wg sync.WaitGroup
	for range 8 {
		for _, tc := range tests {
			wg.Go(func() {
				r := p.Verify(tc.chain, "www.lab.example", t0)
				switch {
				case tc.id == "" && !r.Trusted:
					t.Errorf("%s not trusted:\n%s", tc.chain[0].Subject, dump(r))
				case tc.id != "" && (r.Trusted || r.Err().(*VerifyError).ID != tc.id):
					t.Errorf("want %s first:\n%s", tc.id, dump(r))
				}
			})
		}
	}
	wg.Wait()
}

// TestCRLWrongKeysBounded: the keys a CRL remembers failing with are
// bounded (a peer can send certificates of any key in its issuer's name),
// and the key that signed it is remembered whatever came before.
func TestCRLWrongKeysBounded(t *testing.T) {
	l := newLab(t)
	crl := crlOf(t, l.inter, nil)
	for range maxCRLWrongKeys + 4 {
		if crl.signedBy(issue(t, spec{cn: "Lab Intermediate", ca: true}, l.root).cert) == nil {
			t.Fatal("another key verified the CRL")
		}
	}
	if err := crl.signedBy(l.inter.cert); err != nil {
		t.Fatal(err)
	}
	if len(crl.signers) != maxCRLWrongKeys+1 || crl.failures != maxCRLWrongKeys {
		t.Errorf("%d keys remembered, %d of them failures; want %d and %d", len(crl.signers), crl.failures, maxCRLWrongKeys+1, maxCRLWrongKeys)
	}
}

// TestCRLEntriesIndex: an indirect CRL's entries belong to the certificate
// issuer the last certificateIssuer extension named (RFC 5280 §5.3.3; the
// CRL's issuer before any), a certificate is found by its issuer and
// serial number together, and of two entries for one certificate the later
// stands (as a scan of the list, which tlskit did before, finds it). A
// CRL not marked indirect whose entry names another issuer is unusable.
func TestCRLEntriesIndex(t *testing.T) {
	name := func(cn string) []byte {
		der, err := asn1.Marshal(pkix.Name{CommonName: cn}.ToRDNSequence())
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	names := func(n []byte) pkix.Extension { // GeneralNames with one directoryName
		v, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true,
			Bytes: append([]byte{0xa4, byte(len(n))}, n...)})
		if err != nil {
			t.Fatal(err)
		}
		return pkix.Extension{Id: oidCertIssuer, Critical: true, Value: v}
	}
	a, b := name("A"), name("B")
	entry := func(serial int64, exts ...pkix.Extension) x509.RevocationListEntry {
		return x509.RevocationListEntry{SerialNumber: big.NewInt(serial), Extensions: exts}
	}
	l := &x509.RevocationList{RawIssuer: a, RevokedCertificateEntries: []x509.RevocationListEntry{
		entry(5), entry(7, names(b)), entry(5), entry(5, names(a)), entry(-3),
	}}
	x := readEntries(l, true)
	if x.why != "" {
		t.Fatal(x.why)
	}
	for _, tc := range []struct {
		issuer []byte
		serial int64
		want   int // the entry's index; -1 none
	}{
		{a, 5, 3}, {b, 5, 2}, {b, 7, 1}, {a, 7, -1}, {a, -3, 4}, {b, -3, -1}, {name("C"), 5, -1}, {a, 6, -1},
	} {
		got := x.find(l, &x509.Certificate{RawIssuer: tc.issuer, SerialNumber: big.NewInt(tc.serial)})
		switch {
		case tc.want < 0 && got != nil, tc.want >= 0 && got != &l.RevokedCertificateEntries[tc.want]:
			t.Errorf("issuer %x serial %d: got %v, want entry %d", tc.issuer, tc.serial, got, tc.want)
		}
	}
	if x := readEntries(l, false); !strings.Contains(x.why, "not marked indirect") {
		t.Errorf("a CRL not marked indirect: %q", x.why)
	}
}

// BenchmarkVerifyCRL verifies the lab chain with a large CRL of its
// intermediate (100,000 entries, 3.6 MB) and the root's CRL.
func BenchmarkVerifyCRL(b *testing.B) {
	l := newLab(b)
	serials := make([]*big.Int, 100_000)
	for i := range serials {
		serials[i] = big.NewInt(int64(i) + 1_000_000)
	}
	p := l.policy()
	p.CRLs = []*CRL{crlOf(b, l.inter, nil, serials...), crlOf(b, l.root, nil)}
	chain := certs(l.leaf, l.inter)
	for b.Loop() {
		if r := p.Verify(chain, "www.lab.example", t0); !r.Trusted {
			b.Fatalf("untrusted:\n%s", dump(r))
		}
	}
}
