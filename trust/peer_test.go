package trust

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/truststore"

	"github.com/tlskit/tlskit/internal/peertest"
)

// TestOpenSSLAgrees runs `openssl verify` on generated chains to prove the
// fixtures are what they claim: its exit status must match our verdict.
func TestOpenSSLAgrees(t *testing.T) {
	peertest.Need(t, "openssl")
	l := newLab(t)
	other := issue(t, spec{cn: "Other Root", ca: true}, nil)
	expired := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, from: t0.Add(-100 * day), to: t0.Add(-day)}, l.inter)
	client := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, l.inter)
	dir := t.TempDir()
	tests := []struct {
		name  string
		root  *node
		leaf  *node
		inter []*node
		want  string // our primary id, "" = trusted
	}{
		{"good", l.root, l.leaf, []*node{l.inter}, ""},
		{"missing-intermediate", l.root, l.leaf, nil, finding.ChainIncomplete},
		{"untrusted-root", other, l.leaf, []*node{l.inter}, finding.ChainUntrustedRoot},
		{"expired", l.root, expired, []*node{l.inter}, finding.CertExpired},
		{"wrong-eku", l.root, client, []*node{l.inter}, finding.CertWrongEKU},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rootPEM := writePEM(t, dir, tc.name+"-root.pem", tc.root.cert)
			leafPEM := writePEM(t, dir, tc.name+"-leaf.pem", tc.leaf.cert)
			args := []string{"verify", "-attime", fmt.Sprint(t0.Unix()), "-purpose", "sslserver", "-verify_hostname", "www.lab.example", "-CAfile", rootPEM}
			if len(tc.inter) > 0 {
				args = append(args, "-untrusted", writePEM(t, dir, tc.name+"-inter.pem", certs(tc.inter...)...))
			}
			out, err := exec.Command("openssl", append(args, leafPEM)...).CombinedOutput()
			opensslOK := err == nil

			r := (&Verifier{Anchors: NewAnchors("", certs(tc.root)...)}).Verify(certs(append([]*node{tc.leaf}, tc.inter...)...), "www.lab.example", t0)
			if r.Trusted != opensslOK {
				t.Fatalf("Trusted=%v but openssl verify: %v\n%s\n%s", r.Trusted, err, out, dump(r))
			}
			if tc.want != "" && r.Err().(*VerifyError).ID != tc.want {
				t.Errorf("ID = %s, want %s (openssl: %s)", r.Err().(*VerifyError).ID, tc.want, out)
			}
		})
	}
}

// handshake runs a real crypto/tls handshake on loopback: the server sends
// chain, the client verifies with p.
func handshake(t *testing.T, p *Verifier, chain []*node, serverName string) error {
	t.Helper()
	return handshakeStapled(t, p, chain, serverName, nil)
}

// handshakeStapled is handshake with an OCSP response the server staples.
func handshakeStapled(t *testing.T, p *Verifier, chain []*node, serverName string, staple []byte) error {
	t.Helper()
	cert := tls.Certificate{PrivateKey: chain[0].key, OCSPStaple: staple}
	for _, n := range chain {
		cert.Certificate = append(cert.Certificate, n.cert.Raw)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.(*tls.Conn).Handshake()
		c.Close()
	}()
	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	verify, err := p.VerifyServer(serverName, func() time.Time { return t0 })
	if err != nil {
		return err
	}
	tc := tls.Client(conn, &tls.Config{
		ServerName:         SNI(serverName),
		InsecureSkipVerify: true, // replaced by VerifyConnection, not skipped
		VerifyConnection:   verify,
	})
	return tc.Handshake()
}

func TestVerifyConnectionHandshake(t *testing.T) {
	l := newLab(t)
	if err := handshake(t, l.policy(), []*node{l.leaf, l.inter}, "www.lab.example"); err != nil {
		t.Fatalf("good chain: %v", err)
	}
	for _, tc := range []struct {
		chain []*node
		host  string
		id    string
	}{
		{[]*node{l.leaf}, "www.lab.example", finding.ChainIncomplete},
		{[]*node{l.leaf, l.inter}, "other.example", finding.NameMismatch},
		// An IP address is a name like any other: crypto/tls leaves
		// ConnectionState.ServerName empty for it, which once meant "check
		// no name" (issue #9).
		{[]*node{l.leaf, l.inter}, "127.0.0.1", finding.NameMismatch},
	} {
		err := handshake(t, l.policy(), tc.chain, tc.host)
		var ve *VerifyError
		if !errors.As(err, &ve) || ve.ID != tc.id {
			t.Errorf("handshake error = %v, want *VerifyError %s", err, tc.id)
		}
	}

	// "Trust only my CA": a chain to a (test-controlled) system root is
	// refused when System is false, and accepted when it is true.
	sys := issue(t, spec{cn: "Public Root", ca: true}, nil)
	pubInter := issue(t, spec{cn: "Public Intermediate", ca: true}, sys)
	pub := issue(t, spec{cn: "www.public.example", dns: []string{"www.public.example"}}, pubInter)
	fake := func() ([]*x509.Certificate, error) { return certs(sys), nil }
	mine := &Verifier{Anchors: &Anchors{Certs: certs(l.root), SystemRoots: fake}}
	err := handshake(t, mine, []*node{pub, pubInter}, "www.public.example")
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.ID != finding.ChainUntrustedRoot {
		t.Fatalf("System=false accepted a system root: %v", err)
	}
	if err := handshake(t, &Verifier{Anchors: &Anchors{System: true, SystemRoots: fake}}, []*node{pub, pubInter}, "www.public.example"); err != nil {
		t.Fatalf("System=true: %v", err)
	}
	if _, err := l.policy().VerifyServer("", nil); err == nil {
		t.Error("VerifyServer with no name: want an error, not \"check no name\"")
	}

	// The library's verifier validates the staple a crypto/tls client
	// asks for, and refuses a must-staple leaf without one.
	ms := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, mustStaple: true}, l.inter)
	if err := handshake(t, l.policy(), []*node{ms, l.inter}, "www.lab.example"); !errors.As(err, &ve) || ve.ID != finding.OCSPMustStaple {
		t.Errorf("must-staple without a staple: %v", err)
	}
	good := ocspFor(t, l.inter, nil, ms.cert, ocsp.Response{Status: ocsp.Good, ThisUpdate: t0.Add(-time.Hour), NextUpdate: t0.Add(day)})
	if err := handshakeStapled(t, l.policy(), []*node{ms, l.inter}, "www.lab.example", good); err != nil {
		t.Errorf("must-staple with a good staple: %v", err)
	}
	revoked := ocspFor(t, l.inter, nil, l.leaf.cert, ocsp.Response{Status: ocsp.Revoked, RevokedAt: t0.Add(-day), ThisUpdate: t0.Add(-time.Hour), NextUpdate: t0.Add(day)})
	if err := handshakeStapled(t, l.policy(), []*node{l.leaf, l.inter}, "www.lab.example", revoked); !errors.As(err, &ve) || ve.ID != finding.CertRevoked {
		t.Errorf("revoked staple: %v", err)
	}
}

func TestServerName(t *testing.T) {
	for _, tc := range []struct{ addr, configured, want, sni string }{
		{"example.com:443", "", "example.com", "example.com"},
		{"127.0.0.1:8443", "", "127.0.0.1", ""},
		{"[::1]:443", "", "::1", ""},
		{"10.0.0.7:443", "api.internal", "api.internal", "api.internal"},
		{"example.com.:443", "", "example.com", "example.com"},
		{"example.com", "", "example.com", "example.com"},
	} {
		got, err := ServerName(tc.addr, tc.configured)
		if err != nil || got != tc.want || SNI(got) != tc.sni {
			t.Errorf("ServerName(%q, %q) = %q (SNI %q), %v; want %q (SNI %q)", tc.addr, tc.configured, got, SNI(got), err, tc.want, tc.sni)
		}
	}
	for _, addr := range []string{":443", "", "[]:443"} {
		if got, err := ServerName(addr, ""); err == nil {
			t.Errorf("ServerName(%q) = %q, want an error", addr, got)
		}
	}
	// Not host names: they would go out in the server_name extension as
	// they are. Unicode letters pass (an IDN as typed).
	// IDNA's mapping drops characters that show nothing: a name of only
	// those is none (it was "", "check no name"); one with an empty label
	// after mapping is no host name.
	for _, name := range []string{"\u200b", "\u00ad", "\ufeff", "\u200b\u00ad.", "\u200b.example", "a.\u00ad.example", "．"} {
		var ne *ServerNameError
		if got, err := ServerName("192.0.2.1:443", name); !errors.As(err, &ne) {
			t.Errorf("ServerName(%q) = %q, %v; want a *ServerNameError", name, got, err)
		}
		if got, err := ServerName(name+":443", ""); err == nil {
			t.Errorf("ServerName(%q, \"\") = %q, want an error", name+":443", got)
		}
	}
	for _, name := range []string{"a b", "a/b", "x\x00y", "x\ty", "x\ry", "x\x7fy", "\xff\xfe", "a\u00a0b", "a\u2028b"} {
		var ne *ServerNameError
		if got, err := ServerName("192.0.2.1:443", name); !errors.As(err, &ne) {
			t.Errorf("ServerName(%q) = %q, %v; want a *ServerNameError", name, got, err)
		}
	}
	// An internationalised name is verified and sent in its A-labels, as
	// IDNA's lookup maps it (UTS #46: case, width); one that is not valid
	// IDNA is an error.
	for in, want := range map[string]string{
		"bücher.example":        "xn--bcher-kva.example",
		"BÜCHER.Example":        "xn--bcher-kva.example",
		"ａｂｃ.example":           "abc.example",
		"xn--bcher-kva.example": "xn--bcher-kva.example",
		"ß.example":             "xn--zca.example",
		"a\u200bb.example":      "ab.example", // an invisible character inside a name is dropped, as browsers do
	} {
		if got, err := ServerName("192.0.2.1:443", in); err != nil || got != want {
			t.Errorf("ServerName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, name := range []string{"-ä.example", "a\u200db.example", "\u06611.example"} {
		var ne *ServerNameError
		if got, err := ServerName("192.0.2.1:443", name); !errors.As(err, &ne) {
			t.Errorf("ServerName(%q) = %q, %v; want a *ServerNameError", name, got, err)
		}
	}
}

func TestVerifyConnectionClientAuth(t *testing.T) {
	l := newLab(t)
	p := l.policy()
	p.Usage = x509.ExtKeyUsageClientAuth
	vc := p.VerifyClient(false, func() time.Time { return t0 })
	if err := vc(tls.ConnectionState{}); err != nil {
		t.Errorf("no client certificate: %v (tls.Config.ClientAuth decides)", err)
	}
	var ve *VerifyError
	if err := p.VerifyClient(true, nil)(tls.ConnectionState{}); !errors.As(err, &ve) || ve.ID != finding.ClientCertRequired {
		t.Errorf("required, none sent: %v, want client-cert.required", err)
	}
	if err := vc(tls.ConnectionState{ServerName: "ignored.example", PeerCertificates: certs(l.leaf, l.inter)}); err == nil {
		t.Error("server certificate accepted as client certificate")
	}
}

// TestVerifyIDN: the verifier checks an internationalised name as its
// A-labels, which certificates carry (RFC 5280 §7.2, RFC 6125 §6.4.2), so
// that `tlskit verify --servername bücher.example` and library callers
// agree with a live check.
func TestVerifyIDN(t *testing.T) {
	l := newLab(t)
	leaf := issue(t, spec{cn: "xn--bcher-kva.example", dns: []string{"xn--bcher-kva.example"}}, l.inter)
	for _, name := range []string{"bücher.example", "BÜCHER.example", "xn--bcher-kva.example"} {
		res := l.policy().Check(Request{Chain: certs(leaf, l.inter), Name: name, Time: t0})
		if !res.Trusted {
			t.Errorf("%s: not trusted: %+v", name, res.Findings)
		}
	}
	if res := l.policy().Check(Request{Chain: certs(leaf, l.inter), Name: "bucher.example", Time: t0}); res.Trusted || !finding.Has(res.Findings, finding.NameMismatch) {
		t.Errorf("bucher.example (no umlaut) trusted for xn--bcher-kva.example")
	}
}

// TestPKCS7Bundle: ParseChain reads the PKCS#7 bundles openssl crl2pkcs7
// writes (.p7b, PEM and DER), with the certificates in the order
// openssl pkcs7 -print_certs lists them, the leaf put first whatever its
// place in the bundle. Before, a PEM bundle was "holds a PKCS7 but no
// CERTIFICATE" and a DER one was read as one certificate that does not
// parse (cert.unparseable).
func TestPKCS7Bundle(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	l := newLab(t)
	dir := t.TempDir()
	write := func(name string, ns ...*node) string {
		var b []byte
		for _, c := range certs(ns...) {
			b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name  string
		nodes []*node // in the bundle, in this order
	}{
		{"leaf-first", []*node{l.leaf, l.inter, l.root}},
		{"root-first", []*node{l.root, l.inter, l.leaf}},
		{"leaf-last", []*node{l.inter, l.leaf}},
	} {
		in := write(tc.name+".pem", tc.nodes...)
		for _, form := range []string{"PEM", "DER"} {
			t.Run(tc.name+"-"+form, func(t *testing.T) {
				p7 := filepath.Join(dir, tc.name+"."+form+".p7b")
				if out, err := exec.Command(openssl, "crl2pkcs7", "-nocrl", "-certfile", in, "-outform", form, "-out", p7).CombinedOutput(); err != nil {
					t.Fatalf("openssl crl2pkcs7: %v\n%s", err, out)
				}
				// openssl's own reading of the bundle: its certificates.
				out, err := exec.Command(openssl, "pkcs7", "-inform", form, "-in", p7, "-print_certs").Output()
				if err != nil {
					t.Fatalf("openssl pkcs7: %v", err)
				}
				var theirs [][]byte
				for rest := out; ; {
					var b *pem.Block
					if b, rest = pem.Decode(rest); b == nil {
						break
					}
					theirs = append(theirs, b.Bytes)
				}
				ders, err := ReadChainFile(p7)
				if err != nil {
					t.Fatal(err)
				}
				if len(ders) != len(theirs) {
					t.Fatalf("%d certificates, openssl pkcs7 lists %d", len(ders), len(theirs))
				}
				if !bytes.Equal(ders[0], l.leaf.cert.Raw) {
					t.Errorf("the leaf is not first")
				}
				for _, c := range theirs {
					if !slices.ContainsFunc(ders, func(d []byte) bool { return bytes.Equal(d, c) }) {
						t.Errorf("a certificate openssl lists is missing")
					}
				}
				// The same bundle as trust anchors (--ca-file).
				anchors, err := truststore.ReadCertificatesFile(p7)
				if err != nil {
					t.Fatal(err)
				}
				if len(anchors) != len(theirs) {
					t.Errorf("as anchors: %d certificates, openssl pkcs7 lists %d", len(anchors), len(theirs))
				}
				r := l.policy().Check(Request{DER: ders, Name: "www.lab.example", Time: t0})
				if !r.Trusted {
					t.Errorf("the bundle's chain is not trusted: %v", r.Findings)
				}
			})
		}
	}
}

// TestPrivateRootNotTrusted: a leaf of a private CA, sent alone, without an
// AIA URL, verified against roots that do not hold that CA. Nothing tells
// whether its issuer is an intermediate the server left out or a root
// nobody installed (openssl verify says only "unable to get local issuer
// certificate", error 20). The finding said "the server did not send the
// intermediate certificate" and told the server to send it, the wrong fix
// for the common case of an internal service under a corporate root; it
// now names both causes and both fixes.
func TestPrivateRootNotTrusted(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	l := newLab(t)
	corp := issue(t, spec{cn: "Corp Root", ca: true}, nil)
	leaf := issue(t, spec{cn: "api.corp.example", dns: []string{"api.corp.example"}}, corp)
	dir := t.TempDir()
	leafFile, rootFile := filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "root.pem")
	if err := os.WriteFile(leafFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rootFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.root.cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(openssl, "verify", "-CAfile", rootFile, leafFile).CombinedOutput()
	if !strings.Contains(string(out), "unable to get local issuer certificate") {
		t.Fatalf("openssl verify: %s", out)
	}
	r := l.policy().Check(Request{DER: [][]byte{leaf.cert.Raw}, Name: "api.corp.example", Time: t0})
	f := find(t, r, finding.ChainIncomplete)
	if strings.Contains(f.Title, "did not send the intermediate") {
		t.Errorf("the title claims an intermediate: %s", f.Title)
	}
	for _, s := range []string{"root of your private CA", "add it to the trust anchors", "if it is an intermediate, the server must send it"} {
		if !strings.Contains(f.Fix, s) {
			t.Errorf("the fix does not say %q: %s", s, f.Fix)
		}
	}
}

// TestSerialAsOpenSSL: a certificate's serial number reads as `openssl x509
// -serial` prints it, for serials whose hex starts with a zero, whose DER
// needs a leading zero byte (the high bit set), zero, one, and negative
// ones (which RFC 5280 forbids and certificates still carry).
func TestSerialAsOpenSSL(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	if out, err := exec.Command(openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key).CombinedOutput(); err != nil {
		t.Fatalf("openssl genpkey: %v\n%s", err, out)
	}
	for i, serial := range []string{"0x09BB33836D781861B5E36E06C920E6D81A5F9AEB", "0x0ABC", "0x80", "0xFF00", "0", "1", "-5", "-0x80", "0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"} {
		cert := filepath.Join(dir, fmt.Sprintf("c%d.pem", i))
		if out, err := exec.Command(openssl, "req", "-x509", "-key", key, "-subj", "/CN=serial", "-days", "1", "-set_serial", serial, "-out", cert).CombinedOutput(); err != nil {
			t.Fatalf("openssl req -set_serial %s: %v\n%s", serial, err, out)
		}
		out, err := exec.Command(openssl, "x509", "-serial", "-noout", "-in", cert).Output()
		if err != nil {
			t.Fatalf("openssl x509 -serial: %v", err)
		}
		want := strings.TrimPrefix(strings.TrimSpace(string(out)), "serial=")
		n, ok := new(big.Int).SetString(serial, 0)
		if !ok {
			t.Fatalf("%s is not a number", serial)
		}
		if got := SerialHex(n); got != want {
			t.Errorf("-set_serial %s: SerialHex = %s, openssl x509 -serial = %s", serial, got, want)
		}
		data, err := os.ReadFile(cert)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(data)
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			// Go refuses negative serials (unless x509negativeserial=1):
			// their formatting is checked above, on the number itself.
			if n.Sign() >= 0 {
				t.Fatalf("%s: %v", serial, err)
			}
			continue
		}
		if got := Describe(c).Serial; got != want {
			t.Errorf("-set_serial %s: Describe(c).Serial = %s, openssl x509 -serial = %s", serial, got, want)
		}
	}
}
