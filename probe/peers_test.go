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
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/schematest"
	"github.com/tlskit/tlskit/lab"
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
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{rsa}, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() { c.(*tls.Conn).Handshake(); c.Close() }()
			}
		}()
		addr := ln.Addr().String()
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
		ln := listen(t, func(c net.Conn) { time.Sleep(3 * time.Second); c.Close() })
		rep := w.check(t, ln, "x.peer.test", func(o *Options) { o.Timeout = 300 * time.Millisecond })
		expect(t, rep, diagnose.Failed, finding.NetTimeout, finding.Error)
	})
	t.Run("reset", func(t *testing.T) {
		ln := listen(t, func(c net.Conn) {
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

// listen serves handle on a loopback listener until the test ends.
func listen(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return l.Addr().String()
}

// TestOpenSSLHelloRetryRequest: openssl s_server accepting only P-256 answers
// tlskit's X25519 key shares with a HelloRetryRequest. The ChangeCipherSpecs
// around the second ClientHello are TLS 1.3 middlebox compatibility, not key
// changes: the second ClientHello must be read in the clear and the server's
// encrypted flight decrypted (they were shown as undecryptable records).
func TestOpenSSLHelloRetryRequest(t *testing.T) {
	w := getWorld(t)
	name := "hrr.peer.test"
	addr := w.openssl(t, "hrr", w.leaf(t, name, lab.LeafOptions{}), []*x509.Certificate{w.pki.Intermediate}, "-tls1_3", "-groups", "P-256")
	rep := w.check(t, addr, name)
	expect(t, rep, diagnose.Trusted, "", "")
	if !hasEvent(rep, "server", "hello_retry_request", false) {
		t.Fatal("no hello_retry_request: the server did not ask for another key share")
	}
	if n := len(eventsOf(rep, "client", "client_hello")); n != 2 {
		t.Errorf("%d client_hello events, want 2 (the second one in the clear)", n)
	}
	for _, typ := range []string{"encrypted_extensions", "certificate", "certificate_verify", "finished"} {
		if !hasEvent(rep, "server", typ, true) {
			t.Errorf("no decrypted server %s after the HelloRetryRequest", typ)
		}
	}
	for _, e := range rep.Transcript {
		if e.Type == "encrypted_record" {
			t.Errorf("undecrypted record: %+v", e)
		}
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
