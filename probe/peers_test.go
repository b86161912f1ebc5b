package probe

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/schematest"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/transcript"
	"github.com/tlskit/tlskit/trust"
)

// world is a test PKI plus files for real peers, shared by the tests of this
// file (generating keys is the slow part).
type world struct {
	pki   *lab.PKI
	dir   string
	files lab.Files
}

var worldOnce = sync.OnceValues(func() (*world, error) {
	dir, err := os.MkdirTemp("", "tlskit-probe-test-")
	if err != nil {
		return nil, err
	}
	// The PKI is made for this instant, and every verification below is
	// pinned to the same instant (never the wall clock).
	p, err := lab.NewPKI(time.Now().Truncate(time.Second))
	if err != nil {
		return nil, err
	}
	f, err := p.WriteFiles(dir)
	if err != nil {
		return nil, err
	}
	return &world{pki: p, dir: dir, files: f}, nil
})

func getWorld(t *testing.T) *world {
	t.Helper()
	w, err := worldOnce()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// serverFiles writes a leaf's key, the leaf, and the chain to send after it
// (PEM), for openssl s_server's -key, -cert and -cert_chain.
func (w *world) serverFiles(t *testing.T, name string, leaf tls.Certificate, chain ...*x509.Certificate) (certFile, keyFile, chainFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile = filepath.Join(dir, name+".pem")
	keyFile = filepath.Join(dir, name+".key")
	chainFile = filepath.Join(dir, name+"-chain.pem")
	writePEMs(t, certFile, "CERTIFICATE", leaf.Certificate[0])
	der, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEMs(t, keyFile, "PRIVATE KEY", der)
	var ders [][]byte
	for _, c := range chain {
		ders = append(ders, c.Raw)
	}
	writePEMs(t, chainFile, "CERTIFICATE", ders...)
	return
}

func writePEMs(t *testing.T, path, typ string, ders ...[]byte) {
	t.Helper()
	var b []byte
	for _, d := range ders {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d})...)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// check runs the probe against addr as name, trusting only the lab root,
// with verification pinned to the PKI's time.
func (w *world) check(t *testing.T, addr, name string, mod ...func(*Options)) *diagnose.Report {
	t.Helper()
	opts := Options{
		Address:    addr,
		ServerName: name,
		Verifier:   &trust.Verifier{Anchors: trust.NewAnchors("lab root", w.pki.Root)},
		Timeout:    5 * time.Second,
		Linger:     500 * time.Millisecond,
		Time:       func() time.Time { return w.pki.Now },
	}
	for _, m := range mod {
		m(&opts)
	}
	rep := Run(context.Background(), opts)
	b, err := json.Marshal(rep) // as check --json prints it
	if err != nil {
		t.Fatal(err)
	}
	schematest.Check(t, "check", b)
	if t.Failed() || testing.Verbose() {
		logReport(t, rep)
	}
	return rep
}

func logReport(t *testing.T, rep *diagnose.Report) {
	t.Helper()
	var b strings.Builder
	for _, e := range rep.Transcript {
		b.WriteString("  " + string(e.From) + " " + e.Type)
		if e.Description != "" {
			b.WriteString(" " + e.Level + " " + e.Description)
		}
		if e.Note != "" {
			b.WriteString(" (" + e.Note + ")")
		}
		b.WriteString("\n")
	}
	for _, f := range rep.Findings {
		b.WriteString("  finding " + f.ID + ": " + f.Title + " — " + f.Detail + "\n")
	}
	t.Logf("verdict %s\n%s", rep.Verdict, b.String())
}

// expect asserts the verdict and that a finding with id (if any) is present
// with the given severity.
func expect(t *testing.T, rep *diagnose.Report, verdict diagnose.Verdict, id string, sev finding.Severity) {
	t.Helper()
	ok := rep.Verdict == verdict
	if id != "" {
		found := false
		for _, f := range rep.Findings {
			if f.ID == id && f.Severity == sev {
				found = true
				if f.Title == "" || f.Fix == "" || f.Detail == "" {
					t.Errorf("finding %s lacks a title, detail or fix: %+v", id, f)
				}
			}
		}
		ok = ok && found
	}
	if !ok {
		logReport(t, rep)
		t.Fatalf("want verdict %s with %s finding %q", verdict, sev, id)
	}
}

func hasEvent(rep *diagnose.Report, from, typ string, decrypted bool) bool {
	for _, e := range rep.Transcript {
		if string(e.From) == from && e.Type == typ && e.Decrypted == decrypted {
			return true
		}
	}
	return false
}

// leaf issues a leaf for name from the intermediate, or as opts say.
func (w *world) leaf(t *testing.T, name string, opts lab.LeafOptions) tls.Certificate {
	t.Helper()
	opts.DNSNames = append(opts.DNSNames, name)
	c, err := w.pki.Leaf(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// openssl serves leaf (+ chain) with openssl s_server and extra args.
func (w *world) openssl(t *testing.T, name string, leaf tls.Certificate, chain []*x509.Certificate, args ...string) string {
	t.Helper()
	cert, key, chainFile := w.serverFiles(t, name, leaf, chain...)
	a := []string{"-cert", cert, "-key", key}
	if len(chain) > 0 {
		a = append(a, "-cert_chain", chainFile)
	}
	return peertest.OpenSSL(t, append(a, args...)...).Addr
}

func TestOpenSSLGood(t *testing.T) {
	w := getWorld(t)
	for _, v := range []string{"-tls1_3", "-tls1_2"} {
		t.Run(v, func(t *testing.T) {
			name := "good.peer.test"
			addr := w.openssl(t, "good", w.leaf(t, name, lab.LeafOptions{}), []*x509.Certificate{w.pki.Intermediate}, v)
			rep := w.check(t, addr, name)
			expect(t, rep, diagnose.Trusted, "", "")
			if len(rep.Findings) != 0 {
				t.Errorf("a healthy server has findings: %+v", rep.Findings)
			}
			if v == "-tls1_3" {
				for _, typ := range []string{"encrypted_extensions", "certificate", "certificate_verify", "finished"} {
					if !hasEvent(rep, "server", typ, true) {
						t.Errorf("no decrypted server %s in the transcript", typ)
					}
				}
				if !hasEvent(rep, "client", "finished", true) {
					t.Errorf("no decrypted client finished")
				}
				if rep.Version != "TLS 1.3" {
					t.Errorf("version %q", rep.Version)
				}
			} else {
				if !hasEvent(rep, "server", "certificate", false) || !hasEvent(rep, "server", "server_hello_done", false) {
					t.Errorf("TLS 1.2 plaintext server flight missing")
				}
				if !hasEvent(rep, "server", "finished", true) {
					t.Errorf("TLS 1.2 server Finished not decrypted")
				}
			}
			if len(rep.Chain) != 2 || len(rep.VerifiedPath) != 3 {
				t.Errorf("chain %d certs, verified path %d; want 2 and 3", len(rep.Chain), len(rep.VerifiedPath))
			}
			if rep.Closed == nil {
				t.Errorf("the transcript does not say who closed the connection")
			}
		})
	}
}

// TestOpenSSLCertificateFindings serves broken chains with openssl s_server
// and checks each is diagnosed with its id.
func TestOpenSSLCertificateFindings(t *testing.T) {
	w := getWorld(t)
	p := w.pki
	inter := []*x509.Certificate{p.Intermediate}
	weak := []string{"-cipher", "DEFAULT@SECLEVEL=0"} // let OpenSSL 3 serve weak keys and SHA-1
	otherLeaf, err := p.Leaf(lab.LeafOptions{DNSNames: []string{"untrusted.peer.test"}, Issuer: p.OtherRoot, IssuerKey: p.OtherRootKey})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		leaf    tls.Certificate
		chain   []*x509.Certificate
		args    []string
		verdict diagnose.Verdict
		id      string
		sev     finding.Severity
		mod     func(*Options)
	}{
		{name: "expired", leaf: w.leaf(t, "expired.peer.test", lab.LeafOptions{NotBefore: p.Now.AddDate(0, 0, -60), NotAfter: p.Now.AddDate(0, 0, -30)}), chain: inter,
			verdict: diagnose.Untrusted, id: finding.CertExpired, sev: finding.Error},
		{name: "not-yet-valid", leaf: w.leaf(t, "future.peer.test", lab.LeafOptions{NotBefore: p.Now.AddDate(0, 0, 30)}), chain: inter,
			verdict: diagnose.Untrusted, id: finding.CertNotYetValid, sev: finding.Error},
		{name: "self-signed", leaf: w.leaf(t, "self.peer.test", lab.LeafOptions{SelfSigned: true}),
			verdict: diagnose.Untrusted, id: finding.CertSelfSigned, sev: finding.Error},
		{name: "weak-key", leaf: w.leaf(t, "weak.peer.test", lab.LeafOptions{KeyType: lab.RSA, RSABits: 1024}), chain: inter, args: weak,
			verdict: diagnose.Untrusted, id: finding.CertWeakKey, sev: finding.Error},
		{name: "weak-signature", leaf: w.leaf(t, "sha1.peer.test", lab.LeafOptions{Issuer: p.RSAIntermediate, IssuerKey: p.RSAIntermediateKey, SignatureAlgorithm: x509.SHA1WithRSA}),
			chain: []*x509.Certificate{p.RSAIntermediate}, args: weak,
			verdict: diagnose.Untrusted, id: finding.CertWeakSignature, sev: finding.Error},
		{name: "wrong-eku", leaf: w.leaf(t, "eku.peer.test", lab.LeafOptions{EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}), chain: inter,
			verdict: diagnose.Untrusted, id: finding.CertWrongEKU, sev: finding.Error},
		{name: "name-mismatch", leaf: w.leaf(t, "other.peer.test", lab.LeafOptions{}), chain: inter,
			verdict: diagnose.Untrusted, id: finding.NameMismatch, sev: finding.Error,
			mod: func(o *Options) { o.ServerName = "name-mismatch.peer.test" }},
		{name: "chain-incomplete", leaf: w.leaf(t, "incomplete.peer.test", lab.LeafOptions{AIA: []string{lab.AIAURL}}),
			verdict: diagnose.Untrusted, id: finding.ChainIncomplete, sev: finding.Error},
		{name: "untrusted-root", leaf: otherLeaf, chain: []*x509.Certificate{p.OtherRoot},
			verdict: diagnose.Untrusted, id: finding.ChainUntrustedRoot, sev: finding.Error},
		{name: "wrong-order", leaf: w.leaf(t, "order.peer.test", lab.LeafOptions{}), chain: []*x509.Certificate{p.Root, p.Intermediate},
			verdict: diagnose.Trusted, id: finding.ChainWrongOrder, sev: finding.Warning},
		// An unrelated certificate in the list is not an ordering problem:
		// it is named as not on the path, to be removed (issue #10.8).
		{name: "unrelated-extra", leaf: w.leaf(t, "extra.peer.test", lab.LeafOptions{}), chain: []*x509.Certificate{otherLeaf.Leaf, p.Intermediate},
			verdict: diagnose.Trusted, id: finding.ChainUnneeded, sev: finding.Warning},
		{name: "expired-cross-sign", leaf: w.leaf(t, "cross.peer.test", lab.LeafOptions{}), chain: []*x509.Certificate{p.Intermediate, expiredCross(t, p)},
			verdict: diagnose.Trusted, id: finding.ChainExpiredCross, sev: finding.Warning},
		{name: "pin-mismatch", leaf: w.leaf(t, "pin.peer.test", lab.LeafOptions{}), chain: inter,
			verdict: diagnose.Untrusted, id: finding.PinMismatch, sev: finding.Error,
			mod: func(o *Options) { o.Verifier.Pins = []trust.Pin{trust.PinOf(p.OtherRoot)} }},
	}
	for _, tc := range cases {
		for _, v := range []string{"-tls1_3", "-tls1_2"} {
			t.Run(tc.name+v, func(t *testing.T) {
				t.Parallel()
				addr := w.openssl(t, tc.name, tc.leaf, tc.chain, append([]string{v}, tc.args...)...)
				name := tc.leaf.Leaf.DNSNames[0]
				mods := []func(*Options){}
				if tc.mod != nil {
					mods = append(mods, tc.mod)
				}
				rep := w.check(t, addr, name, mods...)
				expect(t, rep, tc.verdict, tc.id, tc.sev)
				if tc.id == finding.ChainUnneeded {
					if finding.Has(rep.Findings, finding.ChainWrongOrder) {
						t.Errorf("an unrelated certificate was called an ordering problem")
					}
					if d := findingOf(rep, tc.id); !strings.Contains(d.Title, "untrusted.peer.test") || !strings.Contains(strings.ToLower(d.Fix), "remove it") {
						t.Errorf("chain.unneeded-certificate does not name the certificate to remove: %s / %s", d.Title, d.Fix)
					}
				}
				if tc.id == finding.ChainIncomplete && !strings.Contains(findingDetail(rep, tc.id), lab.AIAURL) {
					t.Errorf("chain.incomplete does not name the AIA URL %s", lab.AIAURL)
				}
				if tc.id == finding.PinMismatch {
					pins := strings.Join(findingOf(rep, tc.id).Evidence, " ") + findingDetail(rep, tc.id)
					if !strings.Contains(pins, trust.PinOf(tc.leaf.Leaf).String()) {
						t.Errorf("pin.mismatch does not list the leaf's pin %s", trust.PinOf(tc.leaf.Leaf))
					}
				}
			})
		}
	}
}

func findingOf(rep *diagnose.Report, id string) finding.Finding {
	for _, f := range rep.Findings {
		if f.ID == id {
			return f
		}
	}
	return finding.Finding{}
}

func findingDetail(rep *diagnose.Report, id string) string { return findingOf(rep, id).Detail }

// expiredCross makes an expired cross-signed certificate of the lab root by
// an unrelated old root, as Let's Encrypt's ISRG Root X1 ← DST Root CA X3.
func expiredCross(t *testing.T, p *lab.PKI) *x509.Certificate {
	t.Helper()
	oldKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	oldTmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "tlskit Old Root"},
		NotBefore: p.Now.AddDate(-10, 0, 0), NotAfter: p.Now.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	oldDER, err := x509.CreateCertificate(rand.Reader, oldTmpl, oldTmpl, oldKey.Public(), oldKey)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := x509.ParseCertificate(oldDER)
	crossTmpl := &x509.Certificate{SerialNumber: big.NewInt(8), Subject: p.Root.Subject,
		NotBefore: p.Now.AddDate(-5, 0, 0), NotAfter: p.Now.AddDate(0, -2, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, SubjectKeyId: p.Root.SubjectKeyId}
	der, err := x509.CreateCertificate(rand.Reader, crossTmpl, old, p.Root.PublicKey, crypto.Signer(oldKey))
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOpenSSLProtocolFindings covers the failures that happen before any
// certificate matters, against openssl s_server.
func TestOpenSSLProtocolFindings(t *testing.T) {
	w := getWorld(t)
	p := w.pki
	good := w.leaf(t, "proto.peer.test", lab.LeafOptions{})
	rsa := w.leaf(t, "rsa.peer.test", lab.LeafOptions{KeyType: lab.RSA})
	inter := []*x509.Certificate{p.Intermediate}

	t.Run("version-mismatch", func(t *testing.T) {
		t.Parallel()
		addr := w.openssl(t, "v", good, inter, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
		rep := w.check(t, addr, "proto.peer.test")
		expect(t, rep, diagnose.Failed, finding.ProtocolVersionMismatch, finding.Error)
		if !strings.Contains(findingDetail(rep, finding.ProtocolVersionMismatch), "The client offered TLS 1.2 and 1.3") {
			t.Errorf("the finding does not list the versions offered: %s", findingDetail(rep, finding.ProtocolVersionMismatch))
		}
	})
	// A session at a deprecated version or with a legacy suite completes
	// and is trusted, with a warning (issue #9.4, #10.7): openssl s_server
	// serves what tlskit's client offered when told to.
	for _, tc := range []struct {
		name, id string
		args     []string
		min      uint16
	}{
		{"tls10", finding.ProtocolDeprecatedVersion, []string{"-tls1", "-cipher", "DEFAULT@SECLEVEL=0"}, tls.VersionTLS10},
		{"tls11", finding.ProtocolDeprecatedVersion, []string{"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"}, tls.VersionTLS10},
		{"cbc-sha", finding.ProtocolLegacySuite, []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"}, 0},
	} {
		t.Run("legacy-"+tc.name, func(t *testing.T) {
			t.Parallel()
			addr := w.openssl(t, "l"+tc.name, good, inter, tc.args...)
			rep := w.check(t, addr, "proto.peer.test", func(o *Options) { o.MinVersion = tc.min })
			expect(t, rep, diagnose.Trusted, tc.id, finding.Warning)
		})
	}
	t.Run("modern-no-legacy-warning", func(t *testing.T) {
		t.Parallel()
		for _, args := range [][]string{{"-tls1_2"}, {"-tls1_3"}} {
			rep := w.check(t, w.openssl(t, "m", good, inter, args...), "proto.peer.test")
			if finding.Has(rep.Findings, finding.ProtocolLegacySuite) || finding.Has(rep.Findings, finding.ProtocolDeprecatedVersion) {
				t.Errorf("%v: a modern session was called legacy", args)
				logReport(t, rep)
			}
		}
	})
	t.Run("no-shared-cipher", func(t *testing.T) {
		t.Parallel()
		// Only 3DES: no current client offers it (the real openssl
		// s_client, with its default list, cannot connect either).
		// OpenSSL 3 no longer serves 3DES at all, so crypto/tls does.
		rsa.Certificate = append(rsa.Certificate, p.Intermediate.Raw)
		addr := peertest.ServeTLS(t, &tls.Config{Certificates: []tls.Certificate{rsa}, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}}, func(c *tls.Conn) { c.Handshake() })
		rep := w.check(t, addr, "rsa.peer.test")
		expect(t, rep, diagnose.Failed, finding.ProtocolNoSharedCipher, finding.Error)
		if f := findingOf(rep, finding.ProtocolNoSharedCipher); !strings.Contains(f.Title, "TLS_RSA_WITH_3DES_EDE_CBC_SHA") {
			t.Errorf("the finding does not name the one suite the server accepts: %s", f.Title)
		}
		if finding.Has(rep.Findings, finding.ClientCertRequired) {
			t.Errorf("no-shared-cipher misread as a client certificate problem")
		}
		if ok, out := sClientConnects(t, addr, "rsa.peer.test", w.files.Root); ok {
			t.Errorf("openssl s_client connected to a 3DES-only server:\n%s", out)
		}
	})
	t.Run("nothing-usable", func(t *testing.T) {
		t.Parallel()
		// A TLS 1.2 server whose one suite is for ECDSA certificates and
		// whose certificate has an RSA key: it refuses every client with
		// handshake_failure (openssl s_client too). It speaks TLS 1.2
		// (it refuses the other versions with protocol_version): tlskit
		// called this a version mismatch, "the server speaks none of
		// them", and told the user to enable TLS 1.2.
		leaf := w.leaf(t, "nothing.peer.test", lab.LeafOptions{KeyType: lab.RSA})
		addr := w.openssl(t, "nothing", leaf, inter, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
		rep := w.check(t, addr, "nothing.peer.test")
		expect(t, rep, diagnose.Failed, finding.ProtocolNoSharedCipher, finding.Error)
		if finding.Has(rep.Findings, finding.ProtocolVersionMismatch) {
			t.Errorf("a TLS 1.2 server reported as sharing no version")
		}
		f := findingOf(rep, finding.ProtocolNoSharedCipher)
		for _, s := range []string{"refuses every ClientHello", "TLS 1.0, 1.1 and 1.3 with protocol_version", "TLS 1.2 with handshake_failure", "did not refuse TLS 1.2 as a version", "no shared cipher"} {
			if !strings.Contains(f.Title+" "+f.Detail+" "+f.Fix, s) {
				t.Errorf("the finding does not say %q:\n%s\n%s\n%s", s, f.Title, f.Detail, f.Fix)
			}
		}
		if ok, out := sClientConnects(t, addr, "nothing.peer.test", w.files.Root); ok {
			t.Errorf("openssl s_client connected to a server with no usable suite:\n%s", out)
		}
	})
	t.Run("client-ca-list-too-long", func(t *testing.T) {
		t.Parallel()
		// openssl s_server asking for client certificates from 420 CAs
		// whose names do not fit the 64 KiB of a CertificateRequest:
		// it accepts the hello and fails with internal_error before
		// its CertificateRequest (openssl s_client meets the same
		// alert). The server fails on its own side: the second look,
		// which asks what the server wants of a hello, has nothing to
		// tell, and said "what the server refused in the first hello
		// is something else (an extension, its size or order)".
		cas := filepath.Join(t.TempDir(), "cas.pem")
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		var pems []byte
		pad := strings.Repeat("x", 60)
		for i := range 420 {
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), IsCA: true, BasicConstraintsValid: true,
				Subject:   pkix.Name{CommonName: fmt.Sprintf("Client CA %d %s", i, pad[:40]), Organization: []string{pad}, OrganizationalUnit: []string{pad}},
				NotBefore: p.Now.Add(-time.Hour), NotAfter: p.Now.Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
			if err != nil {
				t.Fatal(err)
			}
			pems = append(pems, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
		}
		if err := os.WriteFile(cas, pems, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"-tls1_2", "-tls1_3"} {
			addr := w.openssl(t, "cas"+v, good, inter, v, "-Verify", "1", "-CAfile", cas)
			rep := w.check(t, addr, "proto.peer.test")
			expect(t, rep, diagnose.Failed, finding.ProtocolAlert, finding.Error)
			f := findingOf(rep, finding.ProtocolAlert)
			for _, s := range []string{"internal_error", "failed on its own side", "client CAs too long"} {
				if !strings.Contains(f.Title+" "+f.Detail+" "+f.Fix, s) {
					t.Errorf("%s: the finding does not say %q:\n%s\n%s\n%s", v, s, f.Title, f.Detail, f.Fix)
				}
			}
			if rep.SecondLook != nil || strings.Contains(f.Detail, "something else") {
				t.Errorf("%s: a second look at a server that accepted the hello: %s", v, f.Detail)
			}
			if _, out := sClientConnects(t, addr, "proto.peer.test", w.files.Root); !strings.Contains(out, "alert internal error") {
				t.Errorf("%s: openssl s_client did not meet internal_error:\n%s", v, out)
			}
		}
	})
	t.Run("unrecognized-name", func(t *testing.T) {
		t.Parallel()
		other := w.leaf(t, "known.peer.test", lab.LeafOptions{})
		cert2, key2, _ := w.serverFiles(t, "known", other)
		addr := w.openssl(t, "sni", good, inter, "-servername", "known.peer.test", "-cert2", cert2, "-key2", key2, "-servername_fatal")
		rep := w.check(t, addr, "unknown.peer.test")
		expect(t, rep, diagnose.Failed, finding.SNIUnrecognizedName, finding.Error)
		if !strings.Contains(findingDetail(rep, finding.SNIUnrecognizedName), "unknown.peer.test") {
			t.Errorf("the finding does not name the SNI sent")
		}
	})
	// Without -servername_fatal, s_server's SNI callback answers another
	// name with a warning unrecognized_name (in TLS 1.2; TLS 1.3 has no
	// warnings) and goes on with its default certificate, here one valid
	// for the name. openssl s_client verifies and connects: the warning
	// is not a failure, and check said UNTRUSTED with an error.
	t.Run("unrecognized-name-warning", func(t *testing.T) {
		t.Parallel()
		dflt := w.leaf(t, "unknown.peer.test", lab.LeafOptions{})
		other := w.leaf(t, "known.peer.test", lab.LeafOptions{})
		cert2, key2, _ := w.serverFiles(t, "knownw", other)
		for _, v := range []string{"-tls1_2", "-tls1_3"} {
			addr := w.openssl(t, "sniw"+v, dflt, inter, v, "-servername", "known.peer.test", "-cert2", cert2, "-key2", key2)
			if ok, out := sClientConnects(t, addr, "unknown.peer.test", w.files.Root); !ok {
				t.Fatalf("%s: openssl s_client did not connect and verify:\n%s", v, out)
			}
			rep := w.check(t, addr, "unknown.peer.test")
			if v == "-tls1_3" {
				expect(t, rep, diagnose.Trusted, "", "")
				if findingOf(rep, finding.SNIUnrecognizedName).ID != "" {
					t.Errorf("TLS 1.3: %s, without an alert", finding.SNIUnrecognizedName)
				}
				continue
			}
			expect(t, rep, diagnose.Trusted, finding.SNIUnrecognizedName, finding.Warning)
			if d := findingDetail(rep, finding.SNIUnrecognizedName); !strings.Contains(d, `"unknown.peer.test"`) || !strings.Contains(d, "went on") {
				t.Errorf("the warning does not name the SNI and that the server went on: %s", d)
			}
		}
	})
}

// TestStalledMidRecord: a server flight that stops inside a record, as a
// path that drops full-size packets leaves it (a path MTU black hole: the
// small first messages come, the certificates do not). The server is
// openssl s_server with an RSA-4096 leaf and its intermediate; an
// in-process forwarder (no real network here can be made to drop large
// segments) passes its first 600 bytes and drops the rest. check said
// "the server sent nothing after the server's encrypted_extensions" and
// "check that it is a TLS port", though 400 bytes of the next record had
// come. Passing everything, the same forwarder carries a good handshake.
func TestStalledMidRecord(t *testing.T) {
	w := getWorld(t)
	big := w.leaf(t, "big.peer.test", lab.LeafOptions{KeyType: lab.RSA, RSABits: 4096})
	addr := w.openssl(t, "big", big, []*x509.Certificate{w.pki.Intermediate}, "-tls1_3")
	forward := func(n int64) string {
		return peertest.Serve(t, func(c net.Conn) {
			s, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer s.Close()
			go func() { io.Copy(s, c); s.Close() }()
			io.Copy(c, io.LimitReader(s, n))
			io.Copy(io.Discard, s) // the rest is lost on the way
		})
	}
	if rep := w.check(t, forward(1<<20), "big.peer.test"); rep.Verdict != diagnose.Trusted {
		t.Fatalf("through the forwarder passing everything: %s", rep.Verdict)
	}
	rep := w.check(t, forward(600), "big.peer.test", func(o *Options) { o.Timeout = 2 * time.Second })
	expect(t, rep, diagnose.Failed, finding.NetTimeout, finding.Error)
	f := findingOf(rep, finding.NetTimeout)
	for _, s := range []string{"in the middle of a record", "path MTU black hole", "encrypted_extensions"} {
		if !strings.Contains(f.Title+" "+f.Detail, s) {
			t.Errorf("the finding does not say %q:\n%s\n%s", s, f.Title, f.Detail)
		}
	}
	if strings.Contains(f.Fix, "TLS port") {
		t.Errorf("the fix doubts the port speaks TLS: %s", f.Fix)
	}
	var u *transcript.Event
	for i, e := range rep.Transcript {
		if e.Type == transcript.TypeUnfinished {
			u = &rep.Transcript[i]
		}
	}
	if u == nil || u.From != transcript.Server || u.Bytes <= 0 || u.Bytes >= u.RecordLen {
		t.Errorf("unfinished record event %+v", u)
	}
}

// TestClientCertificates covers client-cert.required and client-cert.rejected
// against openssl s_server and gnutls-serv, in TLS 1.2 (alert 40, told apart
// from a cipher failure by the CertificateRequest) and TLS 1.3 (an encrypted
// alert after the handshake, decrypted).
func TestClientCertificates(t *testing.T) {
	w := getWorld(t)
	p := w.pki
	srv := w.leaf(t, "mtls.peer.test", lab.LeafOptions{})
	inter := []*x509.Certificate{p.Intermediate}
	bad := p.BadClient
	goodClient := p.Client
	for _, v := range []string{"-tls1_2", "-tls1_3"} {
		t.Run("openssl-required"+v, func(t *testing.T) {
			t.Parallel()
			addr := w.openssl(t, "m", srv, inter, v, "-Verify", "2", "-verify_return_error", "-CAfile", w.files.ClientCA)
			rep := w.check(t, addr, "mtls.peer.test")
			expect(t, rep, diagnose.Failed, finding.ClientCertRequired, finding.Error)
			f := findingOf(rep, finding.ClientCertRequired)
			if len(f.Evidence) == 0 || !strings.Contains(strings.Join(f.Evidence, ";"), p.ClientCA.Subject.CommonName) {
				t.Errorf("acceptable CA names %q do not include %q", f.Evidence, p.ClientCA.Subject.CommonName)
			}
			if v == "-tls1_3" && !hasEvent(rep, "server", "alert", true) {
				t.Errorf("the TLS 1.3 certificate_required alert was not decrypted")
			}
		})
		t.Run("openssl-rejected"+v, func(t *testing.T) {
			t.Parallel()
			addr := w.openssl(t, "m", srv, inter, v, "-Verify", "2", "-verify_return_error", "-CAfile", w.files.ClientCA)
			rep := w.check(t, addr, "mtls.peer.test", func(o *Options) { o.Certificate = &bad })
			expect(t, rep, diagnose.Failed, finding.ClientCertRejected, finding.Error)
		})
		t.Run("openssl-accepted"+v, func(t *testing.T) {
			t.Parallel()
			addr := w.openssl(t, "m", srv, inter, v, "-Verify", "2", "-verify_return_error", "-CAfile", w.files.ClientCA)
			rep := w.check(t, addr, "mtls.peer.test", func(o *Options) { o.Certificate = &goodClient })
			expect(t, rep, diagnose.Trusted, "", "")
		})
	}
	// gnutls-serv ends a TLS 1.2 handshake without a client certificate
	// with decode_error, not handshake_failure (issue #10.4): the
	// diagnosis rests on the CertificateRequest and the client's answer,
	// whatever the alert.
	for _, v := range []struct{ name, priority, alert string }{
		{"tls12", "NORMAL:-VERS-TLS1.3", "decode_error"},
		{"tls13", "NORMAL:-VERS-ALL:+VERS-TLS1.3", "certificate_required"},
	} {
		_, key, _ := w.serverFiles(t, "g", srv)
		cert := filepath.Join(t.TempDir(), "chain.pem") // gnutls-serv sends the whole file
		writePEMs(t, cert, "CERTIFICATE", srv.Certificate[0], p.Intermediate.Raw)
		gnutls := func(t *testing.T) string {
			return peertest.Start(t, "gnutls-serv", "-p", "{port}", "--x509certfile", cert, "--x509keyfile", key, "--priority", v.priority,
				"--x509cafile", w.files.ClientCA, "--require-client-cert", "--verify-client-cert").Addr
		}
		t.Run("gnutls-required-"+v.name, func(t *testing.T) {
			t.Parallel()
			rep := w.check(t, gnutls(t), "mtls.peer.test")
			expect(t, rep, diagnose.Failed, finding.ClientCertRequired, finding.Error)
			if finding.Has(rep.Findings, finding.ProtocolAlert) {
				t.Errorf("protocol.alert beside client-cert.required")
			}
			f := findingOf(rep, finding.ClientCertRequired)
			if !strings.Contains(f.Detail, v.alert) || !strings.Contains(strings.Join(f.Evidence, ";"), p.ClientCA.Subject.CommonName) {
				t.Errorf("the finding does not name the alert %s and the acceptable CA: %+v", v.alert, f)
			}
		})
		t.Run("gnutls-rejected-"+v.name, func(t *testing.T) {
			t.Parallel()
			rep := w.check(t, gnutls(t), "mtls.peer.test", func(o *Options) { o.Certificate = &bad })
			expect(t, rep, diagnose.Failed, finding.ClientCertRejected, finding.Error)
		})
		t.Run("gnutls-accepted-"+v.name, func(t *testing.T) {
			t.Parallel()
			rep := w.check(t, gnutls(t), "mtls.peer.test", func(o *Options) { o.Certificate = &goodClient })
			expect(t, rep, diagnose.Trusted, "", "")
		})
	}
}

// TestNetworkFindings covers failures of the TCP connection itself, with
// real sockets on loopback.
func TestNetworkFindings(t *testing.T) {
	w := getWorld(t)
	t.Run("refused", func(t *testing.T) {
		addr, release, err := lab.ReserveRefused("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		rep := w.check(t, addr, "x.peer.test")
		expect(t, rep, diagnose.Failed, finding.NetRefused, finding.Error)
	})
	t.Run("timeout", func(t *testing.T) {
		// A silent server is silence, however the deadline is reached: the
		// transcript ends with the server saying nothing more before it,
		// there is no second look (it would wait for the same silence once
		// per hello), and the check ends at its timeout. Before, the
		// handshake's context closed the connection at the deadline too;
		// when it came first the close read as the client's, the server as
		// one that hung up on the hello, and five more hellos followed.
		ln := peertest.Serve(t, func(c net.Conn) { time.Sleep(3 * time.Second); c.Close() })
		for range 5 {
			start := time.Now()
			rep := w.check(t, ln, "x.peer.test", func(o *Options) { o.Timeout = 300 * time.Millisecond })
			took := time.Since(start)
			expect(t, rep, diagnose.Failed, finding.NetTimeout, finding.Error)
			if rep.SecondLook != nil {
				t.Errorf("a second look at a silent server")
			}
			if c := rep.Closed; c == nil || c.By != transcript.Server || c.How != transcript.CloseTimeout {
				t.Errorf("the transcript ends with %+v, not the server's silence until the deadline", c)
			}
			if took > time.Second {
				t.Errorf("the check took %v with a timeout of 300ms", took)
			}
		}
	})
	t.Run("reset", func(t *testing.T) {
		ln := peertest.Serve(t, func(c net.Conn) {
			c.Read(make([]byte, 1024))
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		})
		rep := w.check(t, ln, "x.peer.test")
		expect(t, rep, diagnose.Failed, finding.NetReset, finding.Error)
	})
	t.Run("not-tls-http", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.NotFoundHandler()}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
		rep := w.check(t, l.Addr().String(), "x.peer.test")
		expect(t, rep, diagnose.Failed, finding.ProtocolNotTLS, finding.Error)
		if !strings.Contains(findingOf(rep, finding.ProtocolNotTLS).Title, "HTTP") {
			t.Errorf("not-tls finding does not say HTTP: %q", findingOf(rep, finding.ProtocolNotTLS).Title)
		}
	})
}

// TestHelloRetryRequest checks handshakes where the server answers the
// first ClientHello with a HelloRetryRequest (RFC 8446 §4.1.4) because it
// accepts none of the offered key shares (crypto/tls offers X25519MLKEM768
// and X25519): openssl s_server -groups P-384 and gnutls-serv limited to
// SECP384R1, each with and without a required client certificate. The
// second ClientHello and the real ServerHello decode in the clear, version
// and cipher are filled, both Finished messages check against the
// transcript hash with message_hash for the first ClientHello, the server's
// alerts are kept, and a server refusing the client is FAILED with
// client-cert.required, never TRUSTED.
func TestHelloRetryRequest(t *testing.T) {
	w := getWorld(t)
	name := "hrr.peer.test"
	leaf := w.leaf(t, name, lab.LeafOptions{})
	inter := []*x509.Certificate{w.pki.Intermediate}
	gnutls := func(t *testing.T, extra ...string) string {
		// gnutls-serv sends the chain from its certificate file.
		cert, key, chain := w.serverFiles(t, "hrr-g", leaf, inter...)
		full := filepath.Join(t.TempDir(), "fullchain.pem")
		a, _ := os.ReadFile(cert)
		b, _ := os.ReadFile(chain)
		if err := os.WriteFile(full, append(a, b...), 0o600); err != nil {
			t.Fatal(err)
		}
		cert = full
		args := append([]string{"-p", "{port}", "--x509certfile", cert, "--x509keyfile", key,
			"--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP384R1"}, extra...)
		return peertest.Start(t, "gnutls-serv", args...).Addr
	}
	cases := []struct {
		name     string
		addr     func(t *testing.T) string
		verdict  diagnose.Verdict
		id       string
		alert    string
		finished bool // the client's Finished was sent (and checked)
	}{
		{"openssl", func(t *testing.T) string {
			return w.openssl(t, "hrr", leaf, inter, "-tls1_3", "-groups", "P-384")
		}, diagnose.Trusted, "", "", true},
		{"openssl-client-cert-required", func(t *testing.T) string {
			return w.openssl(t, "hrr", leaf, inter, "-tls1_3", "-groups", "P-384", "-Verify", "1", "-CAfile", w.files.ClientCA)
		}, diagnose.Failed, finding.ClientCertRequired, "certificate_required", true},
		{"gnutls", func(t *testing.T) string { return gnutls(t) }, diagnose.Trusted, "", "", true},
		{"gnutls-client-cert-required", func(t *testing.T) string {
			return gnutls(t, "--x509cafile", w.files.ClientCA, "--require-client-cert", "--verify-client-cert")
		}, diagnose.Failed, finding.ClientCertRequired, "certificate_required", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rep := w.check(t, c.addr(t), name)
			expect(t, rep, c.verdict, c.id, finding.Error)
			if rep.Version != "TLS 1.3" || rep.CipherSuite == "" {
				t.Errorf("version %q, suite %q", rep.Version, rep.CipherSuite)
			}
			hrr := eventsOf(rep, "server", "hello_retry_request")
			if len(hrr) != 1 {
				t.Fatalf("%d hello_retry_request events, want 1", len(hrr))
			}
			if f := rep.Transcript[hrr[0]].Fields; len(f) == 0 || f[0].Name != "server asked for another key share" || f[0].Value != "group secp384r1" {
				t.Errorf("the HelloRetryRequest's ladder fields: %+v", f)
			}
			if hellos := eventsOf(rep, "client", "client_hello"); len(hellos) != 2 || rep.Transcript[hellos[1]].Encrypted {
				t.Errorf("client hellos at %v, want two in the clear", hellos)
			}
			if !hasEvent(rep, "server", "server_hello", false) {
				t.Error("no ServerHello in the clear after the HelloRetryRequest")
			}
			for _, e := range rep.Transcript {
				if e.Type == "encrypted_record" {
					t.Errorf("undecrypted record: %+v", e)
				}
				if e.Type == "finished" && !strings.Contains(e.Fields[0].Value, "matches the handshake messages") {
					t.Errorf("the %s's Finished: %+v, want it checked against the transcript hash", e.From, e.Fields)
				}
			}
			if c.alert != "" && !slices.ContainsFunc(rep.Transcript, func(e transcript.Event) bool {
				return e.From == "server" && e.Description == c.alert && e.Decrypted
			}) {
				t.Errorf("no decrypted alert %s from the server", c.alert)
			}
		})
	}
}

func eventsOf(rep *diagnose.Report, from, typ string) []int {
	var out []int
	for i, e := range rep.Transcript {
		if string(e.From) == from && e.Type == typ {
			out = append(out, i)
		}
	}
	return out
}

// staple makes openssl ocsp answer for leaf, from an index saying status
// ("V" or "R"), signed by the intermediate; it returns the response's file,
// for openssl s_server -status_file.
func (w *world) staple(t *testing.T, name string, leaf tls.Certificate, status string) string {
	t.Helper()
	p := w.pki
	dir := t.TempDir()
	interCert, interKey := filepath.Join(dir, "inter.pem"), filepath.Join(dir, "inter.key")
	writePEMs(t, interCert, "CERTIFICATE", p.Intermediate.Raw)
	der, err := x509.MarshalPKCS8PrivateKey(p.IntermediateKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEMs(t, interKey, "PRIVATE KEY", der)
	index := filepath.Join(dir, name+".idx")
	exp := leaf.Leaf.NotAfter.UTC().Format("060102150405Z")
	rev := ""
	if status == "R" {
		rev = p.Now.Add(-time.Hour).UTC().Format("060102150405Z") + ",keyCompromise"
	}
	line := fmt.Sprintf("%s\t%s\t%s\t%X\tunknown\t/CN=%s\n", status, exp, rev, leaf.Leaf.SerialNumber, leaf.Leaf.Subject.CommonName)
	if err := os.WriteFile(index, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	leafFile := filepath.Join(dir, name+"-leaf.pem")
	writePEMs(t, leafFile, "CERTIFICATE", leaf.Certificate[0])
	resp := filepath.Join(dir, name+".ocsp")
	out, err := exec.Command("openssl", "ocsp", "-index", index, "-CA", interCert, "-rsigner", interCert, "-rkey", interKey,
		"-issuer", interCert, "-cert", leafFile, "-respout", resp, "-ndays", "2").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl ocsp: %v\n%s", err, out)
	}
	return resp
}

// TestOpenSSLStapling: openssl s_server staples an OCSP response that
// `openssl ocsp` made from an index file (OpenSSL's own responder code):
// tlskit shows it and validates it, in TLS 1.3 (in the Certificate entry)
// and TLS 1.2 (CertificateStatus); a revoked status refuses the leaf; a
// must-staple leaf served without a staple is ocsp.must-staple.
func TestOpenSSLStapling(t *testing.T) {
	peertest.Need(t, "openssl")
	w := getWorld(t)
	p := w.pki
	respond := func(name string, leaf tls.Certificate, status string) string { return w.staple(t, name, leaf, status) }
	inter := []*x509.Certificate{p.Intermediate}
	for _, v := range []string{"-tls1_3", "-tls1_2"} {
		t.Run("good"+v, func(t *testing.T) {
			name := "stapled.peer.test"
			leaf := w.leaf(t, name, lab.LeafOptions{})
			addr := w.openssl(t, "stapled", leaf, inter, v, "-status_file", respond("good"+v, leaf, "V"))
			rep := w.check(t, addr, name, func(o *Options) { o.Time = func() time.Time { return time.Now() } })
			expect(t, rep, diagnose.Trusted, finding.OCSPStapled, finding.Info)
			if rep.OCSP == nil || rep.OCSP.Status != "good" || !strings.Contains(rep.OCSP.Responder, "tlskit Lab Intermediate CA") {
				t.Errorf("OCSP %+v", rep.OCSP)
			}
		})
		t.Run("revoked"+v, func(t *testing.T) {
			name := "revoked.peer.test"
			leaf := w.leaf(t, name, lab.LeafOptions{})
			addr := w.openssl(t, "revoked", leaf, inter, v, "-status_file", respond("revoked"+v, leaf, "R"))
			rep := w.check(t, addr, name, func(o *Options) { o.Time = func() time.Time { return time.Now() } })
			expect(t, rep, diagnose.Untrusted, finding.CertRevoked, finding.Error)
			if rep.OCSP == nil || rep.OCSP.Status != "revoked" || rep.OCSP.Reason != "keyCompromise" {
				t.Errorf("OCSP %+v", rep.OCSP)
			}
		})
	}
	t.Run("must-staple without a staple", func(t *testing.T) {
		name := "muststaple.peer.test"
		addr := w.openssl(t, "muststaple", w.leaf(t, name, lab.LeafOptions{MustStaple: true}), inter)
		rep := w.check(t, addr, name)
		expect(t, rep, diagnose.Untrusted, finding.OCSPMustStaple, finding.Error)
	})
}

// TestCommonNameOnly: a certificate whose only name is its Common Name is
// refused by tlskit (as by Go and the browsers), and the finding says which
// clients still accept it. That claim is checked against the real clients
// on this machine: OpenSSL's host check and Python's ssl accept it.
func TestCommonNameOnly(t *testing.T) {
	w := getWorld(t)
	const host = "cnonly.peer.test"
	leaf, err := w.pki.Leaf(lab.LeafOptions{CommonName: host})
	if err != nil {
		t.Fatal(err)
	}
	if len(leaf.Leaf.DNSNames) != 0 {
		t.Fatalf("the leaf has SANs %v", leaf.Leaf.DNSNames)
	}
	addr := w.openssl(t, "cnonly", leaf, []*x509.Certificate{w.pki.Intermediate})
	rep := w.check(t, addr, host)
	expect(t, rep, diagnose.Untrusted, finding.NameMismatch, finding.Error)
	d := findingDetail(rep, finding.NameMismatch)
	for _, want := range []string{"only its Common Name", "Go (since 1.15)", "refuse it", "OpenSSL's host check", "Python's ssl", "accept it"} {
		if !strings.Contains(d, want) {
			t.Errorf("name.mismatch detail lacks %q: %s", want, d)
		}
	}

	root := filepath.Join(t.TempDir(), "root.pem")
	writePEMs(t, root, "CERTIFICATE", w.pki.Root.Raw)
	_, port, _ := net.SplitHostPort(addr)
	// openssl s_client with host-name verification, failing on any error.
	out, err := exec.Command("openssl", "s_client", "-connect", addr, "-servername", host, "-CAfile", root,
		"-verify_hostname", host, "-verify_return_error", "-brief").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Errorf("openssl s_client -verify_hostname refused the CN-only certificate (the finding says it accepts it): %v\n%s", err, out)
	}
	// Python's ssl with check_hostname, as requests and urllib use it.
	py := peertest.Need(t, "python3")
	script := `import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as s:
    with ctx.wrap_socket(s, server_hostname=sys.argv[3]) as t:
        print("ok", t.version())`
	out, err = exec.Command(py, "-c", script, root, port, host).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ok") {
		t.Errorf("python3 ssl refused the CN-only certificate (the finding says it accepts it): %v\n%s", err, out)
	}
}

// TestTruncatedClose: a server (Python's ssl, OpenSSL) that sends data and
// closes the TCP connection without close_notify is TRUSTED with a
// protocol.truncated warning, in TLS 1.2 and 1.3 (issue #10.10); openssl
// s_server, which sends close_notify, gets none.
func TestTruncatedClose(t *testing.T) {
	w := getWorld(t)
	name := "truncated.peer.test"
	leaf := w.leaf(t, name, lab.LeafOptions{})
	for _, v := range []string{"1.2", "1.3"} {
		t.Run("python-"+v, func(t *testing.T) {
			t.Parallel()
			cert, key, chain := w.serverFiles(t, "trunc", leaf, w.pki.Intermediate)
			full := filepath.Join(t.TempDir(), "fullchain.pem")
			a, _ := os.ReadFile(cert)
			b, _ := os.ReadFile(chain)
			if err := os.WriteFile(full, append(a, b...), 0o600); err != nil {
				t.Fatal(err)
			}
			rep := w.check(t, peertest.NoCloseNotify(t, full, key, v).Addr, name)
			expect(t, rep, diagnose.Trusted, finding.ProtocolTruncated, finding.Warning)
		})
		t.Run("openssl-"+v, func(t *testing.T) {
			t.Parallel()
			rep := w.check(t, w.openssl(t, "trunc", leaf, []*x509.Certificate{w.pki.Intermediate}, "-tls"+strings.ReplaceAll(v, ".", "_")), name)
			expect(t, rep, diagnose.Trusted, "", "")
			if finding.Has(rep.Findings, finding.ProtocolTruncated) {
				t.Error("protocol.truncated for a server that sends close_notify")
			}
		})
	}
}

// TestShortNotTLS: a peer that sends a few bytes that cannot start a TLS
// record and closes (socat) is protocol.not-tls whatever their number
// (issue #10.9), named where the bytes say what it is; "-ERR" is POP3 or
// Redis, and the finding names both.
func TestShortNotTLS(t *testing.T) {
	peertest.Need(t, "socat")
	for _, c := range []struct{ name, send, what string }{
		{"220", "printf %s 220", "plaintext"},
		{"-ERR", "printf %s -ERR", "POP3 or Redis"},
		{"-ERR-line", "echo -ERR unknown command", "POP3 or Redis"},
		{"two-zero-bytes", "head -c 2 /dev/zero", "not TLS"},
		{"+OK", "printf %s +OK", "POP3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// Read all the client sends first: closing with bytes unread
			// would reset the connection, and a reset discards the bytes
			// sent. One read() may return only part of the ClientHello on
			// a loaded machine, so read until the client has been quiet
			// for a moment.
			s := peertest.Start(t, "socat", "TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork",
				"SYSTEM:timeout 0.3 cat >/dev/null; "+c.send)
			rep := getWorld(t).check(t, s.Addr, "short.peer.test")
			expect(t, rep, diagnose.Failed, finding.ProtocolNotTLS, finding.Error)
			if f := findingOf(rep, finding.ProtocolNotTLS); !strings.Contains(f.Title+f.Detail, c.what) {
				t.Errorf("not-tls finding %q / %q does not say %q", f.Title, f.Detail, c.what)
			}
			for _, p := range rep.Problems {
				if strings.Contains(p, "unfinished TLS record") {
					t.Errorf("problem %q", p)
				}
			}
		})
	}
}

// TestBadServerName: a server name that cannot be one (a space, a control
// character) is name.not-checked, an error, and nothing is sent: before, it
// was "net.unreachable: could not connect", sending the user to the
// network.
func TestBadServerName(t *testing.T) {
	w := getWorld(t)
	var accepted atomic.Int32
	addr := peertest.Serve(t, func(c net.Conn) { accepted.Add(1); c.Close() })
	for _, name := range []string{"a b", "x\x00y"} {
		rep := w.check(t, addr, name)
		expect(t, rep, diagnose.Failed, finding.NameNotChecked, finding.Error)
		if f := findingOf(rep, finding.NameNotChecked); f.Setting != finding.SettingServerName {
			t.Errorf("%q: the finding names setting %q", name, f.Setting)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections made with a server name that cannot be one", n)
	}
}

// TestIDNServerName: an internationalised name is sent and verified in its
// A-labels, as curl does. openssl s_server serves the certificate of
// xn--bcher-kva.example only to a hello whose SNI is that name (-servername,
// -cert2), and another certificate otherwise: a check of bücher.example is
// trusted only if the SNI went out as the A-labels and the name was
// verified as them. Before, the UTF-8 went out in SNI and the check was
// name.mismatch against the other certificate.
func TestIDNServerName(t *testing.T) {
	w := getWorld(t)
	const alabel = "xn--bcher-kva.example"
	cert2, key2, _ := w.serverFiles(t, "idn", w.leaf(t, alabel, lab.LeafOptions{}))
	addr := w.openssl(t, "other", w.leaf(t, "other.peer.test", lab.LeafOptions{}), []*x509.Certificate{w.pki.Intermediate},
		"-servername", alabel, "-cert2", cert2, "-key2", key2)
	// s_server sends -cert2 without a chain: the intermediate is trusted too.
	rep := w.check(t, addr, "bücher.example", func(o *Options) {
		o.Verifier = &trust.Verifier{Anchors: trust.NewAnchors("lab root and intermediate", w.pki.Root, w.pki.Intermediate)}
	})
	expect(t, rep, diagnose.Trusted, "", "")
	if rep.ServerName != alabel {
		t.Errorf("the report's server name is %q, want %q", rep.ServerName, alabel)
	}
	if len(rep.Chain) == 0 || !strings.Contains(rep.Chain[0].Subject, alabel) && !slices.Contains(rep.Chain[0].SANs.DNS, alabel) {
		t.Errorf("the server sent %+v, not the certificate of %s", rep.Chain, alabel)
	}
}

// TestIPVersions: a name with an A and an AAAA record (dnsmasq), each
// address a different server (openssl s_server on 127.0.0.1 and on ::1,
// the same port, each with its own certificate): tcp4 reaches the IPv4
// one and tcp6 the IPv6 one, told by the certificate served (its serial
// as openssl x509 prints it from the file the server was given) and the
// address reported. Asked for a version the target has no address of,
// the check says so and names the setting, without connecting.
func TestIPVersions(t *testing.T) {
	w := getWorld(t)
	const dual, v4only = "dual.peer.test", "v4.peer.test"
	inter := []*x509.Certificate{w.pki.Intermediate}
	leaf4 := w.leaf(t, dual, lab.LeafOptions{DNSNames: []string{v4only}})
	leaf6 := w.leaf(t, dual, lab.LeafOptions{})
	addr4 := w.openssl(t, "v4", leaf4, inter)
	_, port, _ := net.SplitHostPort(addr4)
	cert6, key6, chain6 := w.serverFiles(t, "v6", leaf6, inter...)
	addr6 := peertest.OpenSSLAt(t, "[::1]:"+port, "-cert", cert6, "-key", key6, "-cert_chain", chain6).Addr
	if addr6 != "[::1]:"+port {
		t.Fatalf("openssl s_server listens on %s, want [::1]:%s", addr6, port)
	}
	serial := func(leaf tls.Certificate) string {
		f := filepath.Join(t.TempDir(), "leaf.pem")
		writePEMs(t, f, "CERTIFICATE", leaf.Certificate[0])
		return peertest.X509Field(t, f, "serial=", "-serial")
	}
	serial4, serial6 := serial(leaf4), serial(leaf6)
	dns := peertest.DNS(t, "peer.test", "down.test", map[string]string{dual: "127.0.0.1 ::1", v4only: "127.0.0.1"})
	d := &net.Dialer{Resolver: peertest.Resolver(dns.Addr)}
	on := func(network string) func(*Options) {
		return func(o *Options) { o.Dialer, o.Network, o.Timeout = d.DialContext, network, 2*time.Second }
	}
	for _, tc := range []struct {
		network, addr, serial string
	}{
		{"tcp4", addr4, serial4},
		{"tcp6", addr6, serial6},
		{"", "", ""}, // either: the certificate is the one of the address reached
	} {
		rep := w.check(t, net.JoinHostPort(dual, port), "", on(tc.network))
		expect(t, rep, diagnose.Trusted, "", "")
		if len(rep.Chain) == 0 {
			t.Fatalf("%q: no chain", tc.network)
		}
		if tc.addr == "" {
			tc.addr, tc.serial = rep.Address, map[string]string{addr4: serial4, addr6: serial6}[rep.Address]
		}
		if rep.Address != tc.addr || rep.Chain[0].Serial != tc.serial {
			t.Errorf("%q: reached %s serving serial %s, want %s serving %s", tc.network, rep.Address, rep.Chain[0].Serial, tc.addr, tc.serial)
		}
	}
	for _, tc := range []struct {
		network, target, id, title, fix string
	}{
		{"tcp6", net.JoinHostPort(v4only, port), finding.NetDNS, `The name "v4.peer.test" has no IPv6 address`, "give the name an AAAA record"},
		{"tcp4", "[::1]:" + port, finding.NetUnreachable, "::1 is an IPv6 address, and only IPv4 was asked for", "Connect over IPv6"},
		{"tcp6", addr4, finding.NetUnreachable, "127.0.0.1 is an IPv4 address, and only IPv6 was asked for", "Connect over IPv4"},
	} {
		rep := w.check(t, tc.target, v4only, on(tc.network))
		expect(t, rep, diagnose.Failed, tc.id, finding.Error)
		f := findingOf(rep, tc.id)
		if f.Title != tc.title || !strings.Contains(f.Fix, tc.fix) || f.Setting != finding.SettingIPVersion {
			t.Errorf("%s over %s: %q / %q (setting %q), want %q, a fix saying %q, setting %s", tc.target, tc.network, f.Title, f.Fix, f.Setting, tc.title, tc.fix, finding.SettingIPVersion)
		}
		if len(rep.Transcript) != 0 || len(rep.Findings) != 1 {
			t.Errorf("%s over %s: findings %+v, transcript %d events: want that finding alone, nothing sent", tc.target, tc.network, rep.Findings, len(rep.Transcript))
		}
	}
	rep := w.check(t, addr4, "", on("udp"))
	if f := rep.Findings; len(f) != 1 || !strings.Contains(f[0].Detail, `network "udp": want tcp, tcp4 (IPv4 only) or tcp6 (IPv6 only)`) {
		t.Errorf("network udp: findings %+v", f)
	}
	if want := []string{"query[A] " + dual, "query[AAAA] " + dual, "query[AAAA] " + v4only}; !dns.Said(want...) {
		t.Errorf("dnsmasq was not asked all of %q:\n%s", want, dns.Output())
	}
}

// TestDNSFailures: a name that does not resolve is net.dns, an error, in
// each of the three ways Go's resolver reports it, as a real DNS server
// (dnsmasq) gives them: the name does not exist (NXDOMAIN), the lookup
// timed out (dnsmasq forwards it to servers that do not answer), and the
// server refused it (REFUSED, "server misbehaving" to Go). Before, all
// three were net.unreachable, the finding of a missing route, and a DNS
// timeout was "does not resolve". A name the server knows is checked as
// usual: resolved to the openssl s_server it names, its SNI and
// certificate that name.
func TestDNSFailures(t *testing.T) {
	w := getWorld(t)
	const good = "dns.peer.test"
	addr := w.openssl(t, "dns", w.leaf(t, good, lab.LeafOptions{}), []*x509.Certificate{w.pki.Intermediate})
	_, port, _ := net.SplitHostPort(addr)
	dns := peertest.DNS(t, "peer.test", "down.test", map[string]string{good: "127.0.0.1"})
	d := &net.Dialer{Resolver: peertest.Resolver(dns.Addr)}
	dial := func(o *Options) { o.Dialer = d.DialContext; o.Timeout = 2 * time.Second }

	rep := w.check(t, net.JoinHostPort(good, port), "", dial)
	expect(t, rep, diagnose.Trusted, "", "")
	if rep.ServerName != good {
		t.Errorf("server name %q, want %q", rep.ServerName, good)
	}
	for _, tc := range []struct{ host, title, detail string }{
		{"nope.peer.test", `The name "nope.peer.test" does not resolve: DNS has no address for it`, "no such host"},
		{"www.down.test", `The DNS lookup of "www.down.test" timed out`, "no DNS server answered in time"},
		{"elsewhere.example", `The DNS lookup of "elsewhere.example" failed`, "server misbehaving"},
	} {
		rep := w.check(t, net.JoinHostPort(tc.host, port), "", dial)
		expect(t, rep, diagnose.Failed, finding.NetDNS, finding.Error)
		if f := findingOf(rep, finding.NetDNS); f.Title != tc.title || !strings.Contains(f.Detail, tc.detail) {
			t.Errorf("%s: %q / %q, want %q and a detail saying %q", tc.host, f.Title, f.Detail, tc.title, tc.detail)
		}
		if len(rep.Findings) != 1 {
			t.Errorf("%s: findings %+v, want net.dns alone", tc.host, rep.Findings)
		}
	}
	// dnsmasq saw each question: the answers above are its.
	for _, q := range []string{"query[A] " + good, "query[A] nope.peer.test", "forwarded www.down.test", "query[A] elsewhere.example"} {
		if !strings.Contains(dns.Output(), q) {
			t.Errorf("dnsmasq's log lacks %q:\n%s", q, dns.Output())
		}
	}
}
