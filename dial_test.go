package tlskit_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
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
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/trust"
)

// sServer starts openssl s_server with the given leaf files.
func sServer(t *testing.T, cert, key, chain string, extra ...string) *peertest.Server {
	args := []string{"-cert", cert, "-key", key}
	if chain != "" {
		args = append(args, "-cert_chain", chain)
	}
	return peertest.OpenSSL(t, append(args, extra...)...)
}

func TestDialOpenSSL(t *testing.T) {
	f := newFixture(t)
	expired := f.leaf(t, lab.LeafOptions{DNSNames: []string{"good.lab.tlskit.test"}, NotBefore: f.now().Add(-48 * time.Hour), NotAfter: f.now().Add(-24 * time.Hour)})
	ec, ek, ech := writePair(t, f.dir, "expired", expired)
	other := f.leaf(t, lab.LeafOptions{DNSNames: []string{"good.lab.tlskit.test"}, Issuer: f.pki.OtherRoot, IssuerKey: f.pki.OtherRootKey})
	other.Certificate = append(other.Certificate, f.pki.OtherRoot.Raw) // a complete chain to a root nobody trusts
	oc, ok, och := writePair(t, f.dir, "other", other)

	good := sServer(t, f.serverCert, f.serverKey, f.serverChain)
	bad := sServer(t, ec, ek, ech)
	otherSrv := sServer(t, oc, ok, och)

	interPin := trust.PinOf(f.pki.Intermediate).String()
	rootPin := trust.PinOf(f.pki.Root).String()
	otherPin := trust.PinOf(f.pki.OtherRoot).String()
	base := tlskit.Policy{Trust: []string{"file:" + f.files.Root}, ServerName: "good.lab.tlskit.test", Time: f.now}

	t.Setenv("SSL_CERT_FILE", f.files.Root) // "system" is the lab root here
	t.Setenv("SSL_CERT_DIR", f.dir+"/none")

	cases := []struct {
		name   string
		addr   string
		edit   func(p *tlskit.Policy)
		wantID string
	}{
		{"trusted", good.Addr, nil, ""},
		{"pins match (intermediate, with a backup)", good.Addr, func(p *tlskit.Policy) { p.Pins = []string{otherPin, interPin} }, ""},
		{"pins match the root", good.Addr, func(p *tlskit.Policy) { p.Pins = []string{rootPin}; p.AllowSinglePin = true }, ""},
		{"pin mismatch", good.Addr, func(p *tlskit.Policy) { p.Pins = []string{otherPin, trust.PinOf(f.pki.ClientCA).String()} }, finding.PinMismatch},
		{"pins expired", good.Addr, func(p *tlskit.Policy) {
			p.Pins = []string{otherPin, trust.PinOf(f.pki.ClientCA).String()}
			p.PinsExpire = f.now().Add(-time.Hour)
		}, finding.PinExpired},
		{"wrong name", good.Addr, func(p *tlskit.Policy) { p.ServerName = "api.lab.tlskit.test" }, finding.NameMismatch},
		{"extra allowed name", good.Addr, func(p *tlskit.Policy) {
			p.ServerName = "api.lab.tlskit.test"
			p.Names = []string{"good.lab.tlskit.test"}
		}, ""},
		{"expired", bad.Addr, nil, finding.CertExpired},
		{"only my CA: other root refused", otherSrv.Addr, nil, finding.ChainUntrustedRoot},
		{"only my CA: the other CA alone", good.Addr, func(p *tlskit.Policy) { p.Trust = []string{"file:" + f.files.OtherRoot} }, finding.ChainUntrustedRoot},
		{"system token", good.Addr, func(p *tlskit.Policy) { p.Trust = []string{"system"} }, ""},
		{"system plus my CA", otherSrv.Addr, func(p *tlskit.Policy) { p.Trust = []string{"system", "file:" + f.files.OtherRoot} }, ""},
		{"max intermediates", good.Addr, func(p *tlskit.Policy) { p.MaxIntermediates = 1 }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := base
			if tc.edit != nil {
				tc.edit(&p)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := tlskit.DialContext(ctx, "tcp", tc.addr, &p)
			if tc.wantID == "" {
				if err != nil {
					t.Fatalf("DialContext: %v", err)
				}
				c.Close()
				return
			}
			if err == nil {
				c.Close()
				t.Fatalf("DialContext succeeded, want %s", tc.wantID)
			}
			var ve *tlskit.VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v (%T) is not a *VerifyError", err, err)
			}
			if ve.ID != tc.wantID {
				t.Fatalf("ID = %s, want %s (%v)", ve.ID, tc.wantID, err)
			}
			if len(ve.Chain) == 0 || !strings.Contains(err.Error(), tc.wantID) {
				t.Errorf("error %q lacks the chain or the id", err)
			}
		})
	}
}

// TestDialHandshakeErrors: a handshake that fails for another reason than
// the certificate is a *HandshakeError that says why in words, naming the
// Policy field, against openssl s_server configured to refuse each way
// (openssl s_client, the oracle, is refused with the same alert number).
// It was crypto/tls's "remote error: tls: protocol version not supported".
func TestDialHandshakeErrors(t *testing.T) {
	f := newFixture(t)
	other := f.leaf(t, lab.LeafOptions{DNSNames: []string{"other.lab.tlskit.test"}})
	oc, ok, _ := writePair(t, f.dir, "other", other)
	base := tlskit.Policy{Trust: []string{"file:" + f.files.Root}, ServerName: "good.lab.tlskit.test", Time: f.now}
	for _, tc := range []struct {
		name   string
		server []string
		policy func(p *tlskit.Policy)
		client []string // s_client's arguments for the same refusal
		alert  uint8
		words  []string
	}{
		{"version", []string{"-tls1_2"}, func(p *tlskit.Policy) { p.MinVersion = tls.VersionTLS13 }, []string{"-tls1_3"}, 70,
			[]string{"protocol_version (70)", "Policy.MinVersion"}},
		{"name", []string{"-servername", "other.lab.tlskit.test", "-cert2", oc, "-key2", ok, "-servername_fatal"}, nil, nil, 112,
			[]string{"unrecognized_name (112)", `does not serve the name "good.lab.tlskit.test"`}},
		{"client certificate", []string{"-tls1_2", "-Verify", "1", "-CAfile", f.files.Root}, nil, []string{"-tls1_2"}, 40,
			[]string{"handshake_failure (40)", "client certificate"}},
		{"alpn", []string{"-alpn", "h2"}, func(p *tlskit.Policy) { p.ALPN = []string{"imap"} }, []string{"-alpn", "imap"}, 120,
			[]string{"no_application_protocol (120)", "Policy.ALPN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := sServer(t, f.serverCert, f.serverKey, f.serverChain, tc.server...)
			out, _ := exec.Command("openssl", append([]string{"s_client", "-connect", srv.Addr, "-servername", "good.lab.tlskit.test"}, tc.client...)...).CombinedOutput()
			if !strings.Contains(string(out), fmt.Sprintf("alert number %d", tc.alert)) {
				t.Fatalf("s_client was not refused with alert %d:\n%s", tc.alert, out)
			}
			p := base
			if tc.policy != nil {
				tc.policy(&p)
			}
			_, err := tlskit.Dial("tcp", srv.Addr, &p)
			var he *tlskit.HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("err = %v (%T), want a *HandshakeError", err, err)
			}
			if code, ok := tlskit.PeerAlert(err); !ok || code != tc.alert {
				t.Errorf("PeerAlert = %d %v, want %d", code, ok, tc.alert)
			}
			for _, w := range append(tc.words, srv.Addr) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			if !strings.Contains(he.Hint(), "tlskit check --servername good.lab.tlskit.test "+srv.Addr) {
				t.Errorf("hint %q", he.Hint())
			}
			// Policy.Transport fails the same way, under net/http's *url.Error.
			if tc.policy == nil {
				tr, err := p.Transport()
				if err != nil {
					t.Fatal(err)
				}
				_, err = (&http.Client{Transport: tr}).Get("https://" + srv.Addr + "/")
				if !errors.As(err, &he) {
					t.Errorf("Transport: err = %v, want a *HandshakeError", err)
				}
			}
		})
	}
}

// TestDialSilentServer: a server that accepts and never answers (a port
// whose service waits for the client to speak) is a *HandshakeError that
// says so when the context's deadline passes, not a hang; errors.Is sees
// the deadline through it. (An in-process listener: the failure is the
// absence of any answer.)
func TestDialSilentServer(t *testing.T) {
	addr := peertest.Serve(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := tlskit.DialContext(ctx, "tcp", addr, &tlskit.Policy{Trust: []string{"system"}, ServerName: "silent.example"})
	var he *tlskit.HandshakeError
	if !errors.As(err, &he) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not finish the handshake in time") {
		t.Fatalf("err = %v (%T), want a *HandshakeError saying the server did not answer in time", err, err)
	}
}

func TestPolicyErrors(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		p    tlskit.Policy
		want string
	}{
		{tlskit.Policy{ServerName: "x"}, "no trust sources"},
		{tlskit.Policy{Trust: []string{f.files.Root}, ServerName: "x"}, `write "file:`},
		{tlskit.Policy{Trust: []string{"file:" + f.dir + "/missing.pem"}, ServerName: "x"}, "missing.pem"},
		{tlskit.Policy{Trust: []string{"file:" + f.files.ClientKey}, ServerName: "x"}, "client.key"},
		{tlskit.Policy{Trust: []string{"pem:garbage"}, ServerName: "x"}, "inline PEM"},
		{tlskit.Policy{Trust: []string{"dir:" + t.TempDir()}, ServerName: "x"}, "no .pem"},
		{tlskit.Policy{Trust: []string{"system:x"}, ServerName: "x"}, "takes no argument"},
		{tlskit.Policy{Trust: []string{"system"}, ServerName: "x", Pins: []string{"sha256/" + strings.Repeat("A", 43) + "="}}, "single pin has no backup"},
		{tlskit.Policy{Trust: []string{"system"}, ServerName: "x", Pins: []string{"md5/abc", "sha256/x"}}, "only SHA-256"},
		{tlskit.Policy{Trust: []string{"system"}}, "no server name"},
		{tlskit.Policy{Trust: []string{"system"}, ServerName: "\u200b"}, "characters that show nothing"}, // IDNA maps it to ""
		{tlskit.Policy{Trust: []string{"system"}, ServerName: "x", CertFile: f.serverCert}, "give both files"},
		{tlskit.Policy{Trust: []string{"system"}, ServerName: "x", CertFile: f.serverCert, KeyFile: f.files.ClientKey}, "is not the key of the certificate in"},
	}
	for _, tc := range cases {
		_, err := tc.p.ClientConfig("")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !hasPackagePrefix(err) {
			t.Errorf("%+v: err = %v, want it to contain %q and start with its package's name", tc.p.Trust, err, tc.want)
		}
	}
	server := []struct {
		p    tlskit.Policy
		want string
	}{
		{tlskit.Policy{}, "a server needs a certificate"},
		{tlskit.Policy{CertFile: f.serverCert, KeyFile: f.serverKey, RequireClientCert: true}, "no client trust source"},
		{tlskit.Policy{CertFile: f.serverCert, KeyFile: f.serverKey, AllowedClients: []string{"a"}}, "needs the CA"},
		{tlskit.Policy{CertFile: f.serverCert, KeyFile: f.serverKey, ClientTrust: []string{"file:" + f.files.Root}, AllowedClients: []string{"batch.internal", "\u200b"}}, `allowed client "\u200b" is not a DNS name`},
		{tlskit.Policy{CertFile: f.serverCert, KeyFile: f.serverKey, ClientTrust: []string{"file:" + f.files.Root}, AllowedClients: []string{""}}, `allowed client "" is not`},
	}
	for _, tc := range server {
		_, err := tc.p.ServerConfig()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ServerConfig: err = %v, want %q", err, tc.want)
		}
	}
}

// TestListenOpenSSLClients runs openssl s_client against a tlskit server
// requiring client certificates from the client CA with an allow-list.
func TestListenOpenSSLClients(t *testing.T) {
	peertest.Need(t, "openssl")
	f := newFixture(t)
	clientEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	allowed := f.leaf(t, lab.LeafOptions{DNSNames: []string{"batch.lab.tlskit.test"}, Issuer: f.pki.ClientCA, IssuerKey: f.pki.ClientCAKey, EKU: clientEKU})
	ac, ak, _ := writePair(t, f.dir, "allowed", allowed)
	stranger := f.leaf(t, lab.LeafOptions{DNSNames: []string{"web.lab.tlskit.test"}, Issuer: f.pki.ClientCA, IssuerKey: f.pki.ClientCAKey, EKU: clientEKU})
	sc, sk, _ := writePair(t, f.dir, "stranger", stranger)

	p := &tlskit.Policy{
		CertFile: f.serverCert, KeyFile: f.serverKey,
		ClientTrust: []string{"file:" + f.files.ClientCA}, RequireClientCert: true,
		AllowedClients: []string{"batch.lab.tlskit.test"}, Time: f.now,
	}
	ln, err := tlskit.Listen("tcp", "127.0.0.1:0", p)
	must(t, err)
	defer ln.Close()
	cases := []struct {
		name, cert, key string
		wantID          string // "" accepted; "-" refused without a VerifyError
	}{
		{"allowed", ac, ak, ""},
		{"not on the allow-list", sc, sk, finding.NameMismatch},
		{"other CA, root not sent", f.files.BadClientCert, f.files.BadClientKey, finding.ChainIncomplete},
		{"no certificate", "", "", "-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"s_client", "-connect", ln.Addr().String(), "-servername", "good.lab.tlskit.test", "-CAfile", f.files.Root}
			if tc.cert != "" {
				args = append(args, "-cert", tc.cert, "-key", tc.key)
			}
			cmd := exec.Command("openssl", args...)
			cmd.Stdin = strings.NewReader("ping\n")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			must(t, cmd.Start())
			defer cmd.Wait()
			c, err := ln.Accept()
			must(t, err)
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			err = c.(*tls.Conn).Handshake()
			switch tc.wantID {
			case "":
				if err != nil {
					t.Fatalf("handshake: %v", err)
				}
				buf := make([]byte, 5)
				if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping\n" {
					t.Fatalf("read %q, %v", buf, err)
				}
			case "-":
				var ve *tlskit.VerifyError
				if err == nil || errors.As(err, &ve) {
					t.Fatalf("handshake: %v, want a plain refusal", err)
				}
			default:
				var ve *tlskit.VerifyError
				if !errors.As(err, &ve) || ve.ID != tc.wantID {
					t.Fatalf("handshake: %v, want %s", err, tc.wantID)
				}
			}
		})
	}
}

// TestTransportOpenSSLWWW fetches a page from openssl s_server -www.
func TestTransportOpenSSLWWW(t *testing.T) {
	f := newFixture(t)
	srv := sServer(t, f.serverCert, f.serverKey, f.serverChain, "-www")
	p := &tlskit.Policy{Trust: []string{"file:" + f.files.Root}, ServerName: "good.lab.tlskit.test", Time: f.now}
	tr, err := p.Transport()
	must(t, err)
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + srv.Addr + "/")
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("Ciphers supported")) {
		t.Fatalf("status %d, body %.200q", resp.StatusCode, body)
	}
	// A transport with another CA refuses the same server, with the id.
	p.Trust = []string{"file:" + f.files.OtherRoot}
	tr2, err := p.Transport()
	must(t, err)
	_, err = (&http.Client{Transport: tr2, Timeout: 5 * time.Second}).Get("https://" + srv.Addr + "/")
	var ve *tlskit.VerifyError
	if !errors.As(err, &ve) || ve.ID != finding.ChainUntrustedRoot {
		t.Fatalf("err = %v, want chain.untrusted-root", err)
	}
}

// reloads records what Policy.OnReload is told.
type reloads struct {
	mu  sync.Mutex
	all []tlskit.Reload
}

func (r *reloads) add(e tlskit.Reload) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, e)
}

// take returns what was told since the last take.
func (r *reloads) take() []tlskit.Reload {
	r.mu.Lock()
	defer r.mu.Unlock()
	all := r.all
	r.all = nil
	return all
}

// opensslReads reports whether openssl reads the file as cmd (crl, pkey,
// x509) reads it, PEM or DER: the oracle for "this file no longer reads".
func opensslReads(t *testing.T, cmd, path string) bool {
	t.Helper()
	openssl := peertest.Need(t, "openssl")
	for _, form := range []string{"PEM", "DER"} {
		if exec.Command(openssl, cmd, "-inform", form, "-in", path, "-noout").Run() == nil {
			return true
		}
	}
	return false
}

// opensslCRLNumber is the number of the DER CRL in path as openssl reads
// it, in decimal.
func opensslCRLNumber(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command(peertest.Need(t, "openssl"), "crl", "-inform", "DER", "-in", path, "-noout", "-crlnumber").Output()
	must(t, err)
	hex, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "crlNumber=0x")
	n, okN := new(big.Int).SetString(hex, 16)
	if !ok || !okN {
		t.Fatalf("openssl crl -crlnumber: %q", out)
	}
	return n.String()
}

// TestCertificateReload replaces the server's files on disk: the next
// handshake presents the new certificate, a broken pair keeps the last one,
// and OnReload hears of each.
func TestCertificateReload(t *testing.T) {
	f := newFixture(t)
	var heard reloads
	p := &tlskit.Policy{CertFile: f.serverCert, KeyFile: f.serverKey, OnReload: heard.add}
	ln, err := tlskit.Listen("tcp", "127.0.0.1:0", p)
	must(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	cn := func() string {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		must(t, err)
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := cn(); got != "good.lab.tlskit.test" {
		t.Fatalf("CN %q", got)
	}
	next := f.leaf(t, lab.LeafOptions{DNSNames: []string{"next.lab.tlskit.test"}})
	time.Sleep(10 * time.Millisecond) // a distinct modification time
	writePair(t, f.dir, "server", next)
	if got := cn(); got != "next.lab.tlskit.test" {
		t.Fatalf("after reload CN %q", got)
	}
	files := []string{f.serverCert, f.serverKey}
	if got := heard.take(); len(got) != 1 || got[0].What != tlskit.ReloadCertificate || !slices.Equal(got[0].Files, files) || got[0].Err() != nil {
		t.Fatalf("after reload: heard %+v, want one certificate reload without error", got)
	}
	must(t, os.WriteFile(f.serverKey, []byte("not a key"), 0o600))
	if opensslReads(t, "pkey", f.serverKey) {
		t.Fatal("openssl reads the broken key")
	}
	if got := cn(); got != "next.lab.tlskit.test" {
		t.Fatalf("after a broken reload CN %q, want the last good one", got)
	}
	got := heard.take()
	if len(got) != 1 || !slices.Equal(got[0].Failed(), files) || got[0].Err() == nil || !strings.Contains(got[0].Err().Error(), f.serverKey) {
		t.Fatalf("after a broken reload: heard %+v, want the pair failed, naming %s", got, f.serverKey)
	}
	if got := cn(); got != "next.lab.tlskit.test" || len(heard.take()) != 0 {
		t.Fatalf("unchanged files: CN %q, or read again", got)
	}
}

// TestKeyLog checks that secrets are written on request.
func TestKeyLog(t *testing.T) {
	f := newFixture(t)
	srv := sServer(t, f.serverCert, f.serverKey, f.serverChain)
	var kl bytes.Buffer
	p := &tlskit.Policy{Trust: []string{"file:" + f.files.Root}, ServerName: "good.lab.tlskit.test", Time: f.now, KeyLog: &kl}
	c, err := tlskit.Dial("tcp", srv.Addr, p)
	must(t, err)
	c.Close()
	if !strings.Contains(kl.String(), "CLIENT_HANDSHAKE_TRAFFIC_SECRET ") {
		t.Fatalf("key log %q", kl.String())
	}
}

// hasPackagePrefix reports whether err's message starts with the name of
// the package that made it: tlskit's own, or trust's passed on unchanged.
func hasPackagePrefix(err error) bool {
	return strings.HasPrefix(err.Error(), "tlskit: ") || strings.HasPrefix(err.Error(), "trust: ")
}

// TestCRLReload: a long-lived config reads its CRL files again when one
// changes on disk, on the client side (against openssl s_server) and on
// the server side (the client certificate): a CA publishes a new CRL before
// the last one's next update, and a server that went on with the old one
// would refuse everyone once it turned stale. A file that no longer reads
// keeps the last good CRL.
func TestCRLReload(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "current.crl")
	number := int64(0)
	publishTo := func(path string, issuer *x509.Certificate, key crypto.Signer, revoked ...*big.Int) {
		t.Helper()
		number++
		tmpl := &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: f.now().Add(-time.Hour), NextUpdate: f.now().Add(24 * time.Hour)}
		for _, s := range revoked {
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: f.now().Add(-time.Minute)})
		}
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer, key)
		must(t, err)
		time.Sleep(10 * time.Millisecond) // a distinct modification time
		must(t, os.WriteFile(path, der, 0o644))
	}
	publish := func(issuer *x509.Certificate, key crypto.Signer, revoked ...*big.Int) {
		t.Helper()
		publishTo(path, issuer, key, revoked...)
	}
	refusal := func(err error) string {
		var ve *tlskit.VerifyError
		if errors.As(err, &ve) {
			return ve.ID
		}
		if err != nil {
			return err.Error()
		}
		return ""
	}

	// dialer dials srv with one client config checking the CRL files
	// (OnReload told to heard), and returns the refusal's id.
	dialer := func(t *testing.T, srv *peertest.Server, heard *reloads, files ...string) func() string {
		p := &tlskit.Policy{Trust: []string{"file:" + f.files.Root}, ServerName: "good.lab.tlskit.test", Time: f.now, CRLFiles: files, OnReload: heard.add}
		cfg, err := p.ClientConfig("")
		must(t, err)
		return func() string {
			c, err := tls.Dial("tcp", srv.Addr, cfg)
			if err == nil {
				c.Close()
			}
			return refusal(err)
		}
	}

	t.Run("client", func(t *testing.T) {
		srv := sServer(t, f.serverCert, f.serverKey, f.serverChain)
		publish(f.pki.Intermediate, f.pki.IntermediateKey)
		var heard reloads
		dial := dialer(t, srv, &heard, path)
		// The CRL number a reload says is in use, as openssl reads it
		// from the file published last.
		inUse := ""
		for _, step := range []struct {
			name   string
			change func()
			want   string
			heard  string // what OnReload is told: "" nothing, "read", "failed"
		}{
			{"not revoked", func() {}, "", ""},
			{"revoked by the next CRL", func() { publish(f.pki.Intermediate, f.pki.IntermediateKey, f.server.Leaf.SerialNumber) }, finding.CertRevoked, "read"},
			{"the file broken", func() { must(t, os.WriteFile(path, []byte("not a CRL"), 0o644)) }, finding.CertRevoked, "failed"},
			{"still broken", func() {}, finding.CertRevoked, ""},
			{"taken off by the next CRL", func() { publish(f.pki.Intermediate, f.pki.IntermediateKey) }, "", "read"},
		} {
			step.change()
			if step.heard == "read" {
				inUse = opensslCRLNumber(t, path)
			}
			if got := dial(); got != step.want {
				t.Errorf("%s: got %q, want %q", step.name, got, step.want)
			}
			got := heard.take()
			switch {
			case step.heard == "" && len(got) != 0:
				t.Errorf("%s: heard %+v, want nothing", step.name, got)
			case step.heard != "" && (len(got) != 1 || got[0].What != tlskit.ReloadCRL || !slices.Equal(got[0].Files, []string{path})):
				t.Errorf("%s: heard %+v, want one CRL reload of %s", step.name, got, path)
			case step.heard == "read" && got[0].Err() != nil:
				t.Errorf("%s: the file reads (openssl), but heard %v", step.name, got[0].Err())
			case step.heard == "failed" && (opensslReads(t, "crl", path) || !slices.Equal(got[0].Failed(), []string{path})):
				t.Errorf("%s: heard %+v, want %s failed (openssl reads it: %v)", step.name, got, path, opensslReads(t, "crl", path))
			case step.heard != "" && (len(got[0].CRLs) != 1 || got[0].CRLs[0].List.Number.String() != inUse):
				t.Errorf("%s: heard CRLs %v in use, want the one numbered %s", step.name, got[0].CRLs, inUse)
			}
		}
	})

	t.Run("two files", func(t *testing.T) {
		// Each file that no longer reads keeps its own last good CRLs,
		// while the others are read anew: the Intermediate's CRL, which
		// revokes the server's certificate, stays when its file breaks as
		// the Root's file is replaced.
		srv := sServer(t, f.serverCert, f.serverKey, f.serverChain)
		inter, root := filepath.Join(t.TempDir(), "inter.crl"), filepath.Join(t.TempDir(), "root.crl")
		publishTo(inter, f.pki.Intermediate, f.pki.IntermediateKey, f.server.Leaf.SerialNumber)
		publishTo(root, f.pki.Root, f.pki.RootKey)
		interNumber := opensslCRLNumber(t, inter)
		var heard reloads
		dial := dialer(t, srv, &heard, inter, root)
		if got := dial(); got != finding.CertRevoked {
			t.Fatalf("revoked: got %q", got)
		}
		must(t, os.WriteFile(inter, []byte("not a CRL"), 0o644))
		publishTo(root, f.pki.Root, f.pki.RootKey)
		if got := dial(); got != finding.CertRevoked {
			t.Errorf("the Intermediate's CRL broken, the Root's replaced: got %q, want the server's certificate still revoked", got)
		}
		got := heard.take()
		if len(got) != 1 || !slices.Equal(got[0].Failed(), []string{inter}) || opensslReads(t, "crl", inter) {
			t.Fatalf("heard %+v, want %s failed", got, inter)
		}
		var numbers []string
		for _, c := range got[0].CRLs {
			numbers = append(numbers, c.List.Number.String())
		}
		if want := []string{interNumber, opensslCRLNumber(t, root)}; !slices.Equal(numbers, want) {
			t.Errorf("CRLs in use numbered %v, want %v: the Intermediate's last good and the Root's new one", numbers, want)
		}
	})

	t.Run("transport", func(t *testing.T) {
		// A Transport reads its trust sources once (the copy of the
		// root is gone before its first connection) and its CRL files
		// again when they change, for its next connection.
		srv := sServer(t, f.serverCert, f.serverKey, f.serverChain, "-www")
		root := filepath.Join(t.TempDir(), "root.pem")
		rootPEM, err := os.ReadFile(f.files.Root)
		must(t, err)
		must(t, os.WriteFile(root, rootPEM, 0o644))
		publish(f.pki.Intermediate, f.pki.IntermediateKey)
		p := &tlskit.Policy{Trust: []string{"file:" + root}, ServerName: "good.lab.tlskit.test", Time: f.now, CRLFiles: []string{path}}
		tr, err := p.Transport()
		must(t, err)
		must(t, os.Remove(root))
		get := func() string {
			tr.CloseIdleConnections() // a new connection, a new handshake
			resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + srv.Addr + "/")
			if err == nil {
				resp.Body.Close()
			}
			return refusal(err)
		}
		if got := get(); got != "" {
			t.Fatalf("not revoked: %q", got)
		}
		publish(f.pki.Intermediate, f.pki.IntermediateKey, f.server.Leaf.SerialNumber)
		if got := get(); got != finding.CertRevoked {
			t.Errorf("revoked by the next CRL: %q", got)
		}
	})

	t.Run("server", func(t *testing.T) {
		clientEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		client := f.leaf(t, lab.LeafOptions{DNSNames: []string{"batch.lab.tlskit.test"}, Issuer: f.pki.ClientCA, IssuerKey: f.pki.ClientCAKey, EKU: clientEKU})
		publish(f.pki.ClientCA, f.pki.ClientCAKey)
		p := &tlskit.Policy{CertFile: f.serverCert, KeyFile: f.serverKey, ClientTrust: []string{"file:" + f.files.ClientCA}, RequireClientCert: true, Time: f.now, CRLFiles: []string{path}}
		ln, err := tlskit.Listen("tcp", "127.0.0.1:0", p)
		must(t, err)
		defer ln.Close()
		accept := func() string {
			done := make(chan error, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					done <- err
					return
				}
				defer c.Close()
				done <- c.(*tls.Conn).Handshake()
			}()
			roots := x509.NewCertPool()
			roots.AddCert(f.pki.Root)
			c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "good.lab.tlskit.test", Certificates: []tls.Certificate{client}})
			if err == nil {
				c.Read(make([]byte, 1)) // TLS 1.3: the server's verdict comes after the client's Finished
				c.Close()
			}
			return refusal(<-done)
		}
		if got := accept(); got != "" {
			t.Fatalf("not revoked: %q", got)
		}
		publish(f.pki.ClientCA, f.pki.ClientCAKey, client.Leaf.SerialNumber)
		if got := accept(); got != finding.CertRevoked {
			t.Errorf("revoked by the next CRL: %q", got)
		}
	})
}
