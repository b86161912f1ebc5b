package lab

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tlskit/tlskit/finding"

	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/starttls"
)

// startLab starts a lab in a temporary directory and closes it when the
// test ends.
func startLab(t *testing.T) *Lab {
	t.Helper()
	l, err := Start(t.Context(), Options{Dir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// mustCase returns the running case called name.
func mustCase(t *testing.T, l *Lab, name string) Case {
	t.Helper()
	c, ok := l.Case(name)
	if !ok {
		t.Fatalf("no case %q", name)
	}
	return c
}

func TestCatalog(t *testing.T) {
	cat := Catalog()
	if len(cat) < 25 {
		t.Fatalf("Catalog has %d cases, want at least 25", len(cat))
	}
	seen := map[string]bool{}
	for _, c := range cat {
		if seen[c.Name] {
			t.Errorf("duplicate case %q", c.Name)
		}
		seen[c.Name] = true
		if c.Addr != "" || !reflect.DeepEqual(c.Client, Client{}) {
			t.Errorf("%s: Catalog case has Addr %q Client %+v; want none", c.Name, c.Addr, c.Client)
		}
		if c.Title == "" {
			t.Errorf("%s: no title", c.Name)
		}
		warning := c.Finding == finding.ChainWrongOrder || c.Finding == finding.ChainExpiredCross || c.Finding == finding.OCSPStapled ||
			c.Finding == finding.CertExpiringSoon || c.Finding == finding.ProtocolDeprecatedVersion
		if (c.Finding == "") != (c.ExitCode == 0) && !warning {
			t.Errorf("%s: finding %q with exit code %d", c.Name, c.Finding, c.ExitCode)
		}
	}
	for _, id := range []string{
		finding.NetRefused, finding.NetTimeout, finding.NetReset, finding.ProtocolNotTLS,
		finding.ProtocolVersionMismatch, finding.ProtocolNoSharedCipher, finding.SNIUnrecognizedName,
		finding.CertExpired, finding.CertNotYetValid, finding.CertExpiringSoon, finding.CertSelfSigned, finding.CertWeakKey,
		finding.CertWeakSignature, finding.CertWrongEKU, finding.NameMismatch, finding.ChainIncomplete,
		finding.ChainUntrustedRoot, finding.ChainWrongOrder, finding.ChainExpiredCross, finding.PinMismatch,
		finding.ClientCertRequired, finding.ClientCertRejected,
		finding.ProtocolDeprecatedVersion, finding.ProtocolClientUnsupported,
	} {
		if !slices.ContainsFunc(cat, func(c Case) bool { return c.Finding == id }) {
			t.Errorf("no case produces %s", id)
		}
	}
}

func TestStartRequiresDir(t *testing.T) {
	_, err := Start(t.Context(), Options{})
	if err == nil || !strings.Contains(err.Error(), "Options.Dir") {
		t.Fatalf("Start without Dir: err = %v, want one naming Options.Dir", err)
	}
}

// TestCloseNoLeak starts a lab, leaves connections open on several kinds of
// server, closes it and checks every goroutine it started has returned.
func TestCloseNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	l, err := Start(context.Background(), Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var open []net.Conn
	for _, name := range []string{"timeout", "good", "not-tls-ssh", "reset", "client-cert-required-tls13"} {
		c, err := net.Dial("tcp", mustCase(t, l, name).Addr)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		open = append(open, c)
	}
	if runtime.NumGoroutine() <= before {
		t.Fatalf("no goroutines running after Start")
	}
	done := make(chan error)
	go func() { done <- l.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5s with client connections open")
	}
	for _, c := range open {
		c.Close()
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	waitGoroutines(t, before)
	for _, c := range l.Cases() {
		if c.Addr == "" {
			continue
		}
		if conn, err := net.DialTimeout("tcp", c.Addr, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s: %s still accepts after Close", c.Name, c.Addr)
		}
	}
}

// TestContextCancelCloses checks that the lab stops when Start's context is
// done.
func TestContextCancelCloses(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	l, err := Start(ctx, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	waitGoroutines(t, before)
	if err := l.Close(); err != nil {
		t.Errorf("Close after cancel: %v", err)
	}
}

// waitGoroutines waits up to 3s for the goroutine count to drop to want.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestFilesWritten(t *testing.T) {
	l := startLab(t)
	f := l.Files()
	for _, tc := range []struct {
		path string
		mode os.FileMode
		typ  string
	}{
		{f.Root, 0o644, "CERTIFICATE"},
		{f.Intermediate, 0o644, "CERTIFICATE"},
		{f.ClientCert, 0o644, "CERTIFICATE"},
		{f.ClientKey, 0o600, "PRIVATE KEY"},
		{f.BadClientCert, 0o644, "CERTIFICATE"},
		{f.BadClientKey, 0o600, "PRIVATE KEY"},
		{f.OtherRoot, 0o644, "CERTIFICATE"},
		{f.ClientCA, 0o644, "CERTIFICATE"},
	} {
		st, err := os.Stat(tc.path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if st.Mode().Perm() != tc.mode {
			t.Errorf("%s: mode %v, want %v", tc.path, st.Mode().Perm(), tc.mode)
		}
		data, _ := os.ReadFile(tc.path)
		if !bytes.HasPrefix(data, []byte("-----BEGIN "+tc.typ+"-----\n")) {
			t.Errorf("%s: not a %s PEM file", tc.path, tc.typ)
		}
	}
	if _, err := tls.LoadX509KeyPair(f.ClientCert, f.ClientKey); err != nil {
		t.Errorf("client.pem/client.key: %v", err)
	}
	if _, err := tls.LoadX509KeyPair(f.BadClientCert, f.BadClientKey); err != nil {
		t.Errorf("badclient.pem/badclient.key: %v", err)
	}
	for _, c := range l.Cases() {
		if got := c.Client.ServerName; got != c.Name+".lab.tlskit.test" {
			t.Errorf("%s: Client.ServerName %q", c.Name, got)
		}
		if got := c.Client.CAFile; got != f.Root {
			t.Errorf("%s: Client.CAFile %q, want %q", c.Name, got, f.Root)
		}
		if c.Addr == "" {
			t.Errorf("%s: no address", c.Name)
		}
	}
}

// probe is the outcome of one Go crypto/tls client connection.
type probe struct {
	state *tls.ConnectionState
	err   error  // dial, handshake or read error
	reply []byte // what the server answered to a GET after the handshake
}

// dialGo connects to c with a Go client that trusts only the lab root and
// verifies at the PKI's own time, then sends a GET and reads the answer
// (which is where TLS 1.3 client-certificate alerts arrive).
func dialGo(t *testing.T, l *Lab, c Case, edit func(*tls.Config)) probe {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(l.PKI().Root)
	cfg := &tls.Config{
		RootCAs:    roots,
		ServerName: c.ServerName(),
		Time:       func() time.Time { return l.PKI().Now.Add(time.Minute) },
	}
	if edit != nil {
		edit(cfg)
	}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 3 * time.Second}, Config: cfg}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return probe{err: err}
	}
	defer conn.Close()
	tc := conn.(*tls.Conn)
	st := tc.ConnectionState()
	tc.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(tc, "GET / HTTP/1.1\r\nHost: "+c.ServerName()+"\r\n\r\n"); err != nil {
		return probe{state: &st, err: err}
	}
	reply, err := io.ReadAll(tc)
	return probe{state: &st, err: err, reply: reply}
}

// dialStartTLS upgrades a connection to c with SMTP's STARTTLS, then
// completes a TLS handshake like dialGo when the server agreed.
func dialStartTLS(t *testing.T, l *Lab, c Case) (*starttls.Result, probe) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", c.Addr, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	res, err := starttls.Negotiate(ctx, conn, starttls.Config{Protocol: starttls.SMTP})
	if err != nil {
		return res, probe{err: err}
	}
	roots := x509.NewCertPool()
	roots.AddCert(l.PKI().Root)
	tc := tls.Client(conn, &tls.Config{RootCAs: roots, ServerName: c.ServerName(),
		Time: func() time.Time { return l.PKI().Now.Add(time.Minute) }})
	tc.SetDeadline(time.Now().Add(3 * time.Second))
	if err := tc.HandshakeContext(ctx); err != nil {
		return res, probe{err: err}
	}
	st := tc.ConnectionState()
	if _, err := io.WriteString(tc, "EHLO tlskit.invalid\r\nQUIT\r\n"); err != nil {
		return res, probe{state: &st, err: err}
	}
	reply, err := io.ReadAll(tc)
	return res, probe{state: &st, err: err, reply: reply}
}

// wantEHLO checks a verified handshake after STARTTLS and the server's
// EHLO reply inside TLS, without STARTTLS now.
func wantEHLO(t *testing.T, c Case, p probe) {
	t.Helper()
	if p.err != nil {
		t.Fatalf("err = %v, want a verified handshake", p.err)
	}
	if !bytes.HasPrefix(p.reply, []byte("250-"+c.ServerName()+"\r\n")) || bytes.Contains(p.reply, []byte("STARTTLS")) || !bytes.Contains(p.reply, []byte("221 ")) {
		t.Fatalf("reply %q, want the EHLO reply inside TLS and 221", p.reply)
	}
}

func wantRemoteAlert(t *testing.T, p probe, alert string) {
	t.Helper()
	if p.err == nil || !strings.Contains(p.err.Error(), "remote error: tls: "+alert) {
		t.Fatalf("err = %v, want remote alert %q", p.err, alert)
	}
}

func wantOK(t *testing.T, p probe) {
	t.Helper()
	if p.err != nil {
		t.Fatalf("err = %v, want a verified handshake", p.err)
	}
	if !bytes.HasPrefix(p.reply, []byte("HTTP/1.1 200 OK")) {
		t.Fatalf("reply %q, want HTTP 200", p.reply)
	}
}

func wantInvalid(t *testing.T, p probe, reason x509.InvalidReason) {
	t.Helper()
	var ce x509.CertificateInvalidError
	if !errors.As(p.err, &ce) || ce.Reason != reason {
		t.Fatalf("err = %v, want x509.CertificateInvalidError reason %d", p.err, reason)
	}
}

func wantUnknownAuthority(t *testing.T, p probe) *x509.Certificate {
	t.Helper()
	var ua x509.UnknownAuthorityError
	if !errors.As(p.err, &ua) {
		t.Fatalf("err = %v, want x509.UnknownAuthorityError", p.err)
	}
	return ua.Cert
}

// peerChain connects without verification and returns what the server sent.
func peerChain(t *testing.T, l *Lab, c Case) []*x509.Certificate {
	t.Helper()
	p := dialGo(t, l, c, func(cfg *tls.Config) { cfg.InsecureSkipVerify = true })
	if p.state == nil {
		t.Fatalf("handshake without verification: %v", p.err)
	}
	return p.state.PeerCertificates
}

// TestGoClient probes every case with a Go crypto/tls client and checks the
// server produces exactly the failure the case is named for, and (where it
// makes sense) that a client without that problem succeeds, so the server
// is not simply broken.
func TestGoClient(t *testing.T) {
	l := startLab(t)
	p := l.PKI()
	tests := map[string]func(t *testing.T, c Case){
		"good": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			wantOK(t, r)
			if r.state.Version != tls.VersionTLS13 || len(r.state.VerifiedChains[0]) != 3 {
				t.Errorf("version %x, chain length %d; want TLS 1.3 and leaf+intermediate+root", r.state.Version, len(r.state.VerifiedChains[0]))
			}
		},
		"good-tls12": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			wantOK(t, r)
			if r.state.Version != tls.VersionTLS12 {
				t.Errorf("version %x, want TLS 1.2", r.state.Version)
			}
		},
		"refused": func(t *testing.T, c Case) {
			if r := dialGo(t, l, c, nil); !errors.Is(r.err, syscall.ECONNREFUSED) {
				t.Fatalf("err = %v, want ECONNREFUSED", r.err)
			}
		},
		"timeout": func(t *testing.T, c Case) {
			if c.Client.Timeout != time.Second {
				t.Errorf("Client.Timeout %v, want 1s", c.Client.Timeout)
			}
			start := time.Now()
			r := dialGo(t, l, c, nil)
			var ne net.Error
			if !errors.As(r.err, &ne) || !ne.Timeout() {
				t.Fatalf("err = %v, want a timeout", r.err)
			}
			if time.Since(start) < 2*time.Second {
				t.Errorf("gave up after %v; the server answered something", time.Since(start))
			}
		},
		"reset": func(t *testing.T, c Case) {
			if r := dialGo(t, l, c, nil); !errors.Is(r.err, syscall.ECONNRESET) {
				t.Fatalf("err = %v, want ECONNRESET", r.err)
			}
		},
		"not-tls-http": func(t *testing.T, c Case) {
			wantNotTLS(t, dialGo(t, l, c, nil))
			conn, err := net.Dial("tcp", c.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(3 * time.Second))
			io.WriteString(conn, "\x16\x03\x01\x00\x04\x01\x00\x00\x00")
			got, err := io.ReadAll(conn)
			if err != nil || !bytes.HasPrefix(got, []byte("HTTP/1.1 400 Bad Request\r\n")) {
				t.Fatalf("got %q, %v; want a plaintext HTTP 400 then EOF", got, err)
			}
		},
		"not-tls-ssh": func(t *testing.T, c Case) {
			wantNotTLS(t, dialGo(t, l, c, nil))
			wantBanner(t, c, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
		},
		"not-tls-smtp": func(t *testing.T, c Case) {
			wantNotTLS(t, dialGo(t, l, c, nil))
			wantBanner(t, c, "220 mail.lab.tlskit.test ESMTP\r\n")
		},
		"version-mismatch": func(t *testing.T, c Case) {
			wantRemoteAlert(t, dialGo(t, l, c, nil), "protocol version not supported")
			r := dialGo(t, l, c, func(cfg *tls.Config) { cfg.MinVersion = tls.VersionTLS10 })
			wantOK(t, r)
			if r.state.Version != tls.VersionTLS11 {
				t.Errorf("version %x, want TLS 1.1", r.state.Version)
			}
		},
		"version-intolerance": func(t *testing.T, c Case) {
			// Go offers TLS 1.3: the connection closes under it.
			if r := dialGo(t, l, c, nil); r.err == nil || !errors.Is(r.err, io.EOF) {
				t.Fatalf("err = %v, want EOF", r.err)
			}
			r := dialGo(t, l, c, func(cfg *tls.Config) { cfg.MaxVersion = tls.VersionTLS12 })
			wantOK(t, r)
			if r.state.Version != tls.VersionTLS12 {
				t.Errorf("version %x, want TLS 1.2", r.state.Version)
			}
		},
		"large-hello": func(t *testing.T, c Case) {
			// Go's hello, with its X25519MLKEM768 key share, is larger
			// than the server's one read; without it, it fits.
			if r := dialGo(t, l, c, nil); r.err == nil {
				t.Fatalf("a hello with the hybrid key share connected")
			}
			wantOK(t, dialGo(t, l, c, func(cfg *tls.Config) { cfg.CurvePreferences = []tls.CurveID{tls.X25519} }))
		},
		"no-shared-cipher": func(t *testing.T, c Case) {
			wantRemoteAlert(t, dialGo(t, l, c, nil), "handshake failure")
			r := dialGo(t, l, c, func(cfg *tls.Config) {
				cfg.CipherSuites = []uint16{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}
			})
			wantOK(t, r)
			if r.state.CipherSuite != tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA {
				t.Errorf("cipher %s", tls.CipherSuiteName(r.state.CipherSuite))
			}
		},
		"legacy-version": func(t *testing.T, c Case) {
			wantRemoteAlert(t, dialGo(t, l, c, nil), "protocol version not supported")
			if c.Client.MinVersion != tls.VersionTLS10 {
				t.Errorf("Client.MinVersion %x, want TLS 1.0", c.Client.MinVersion)
			}
			r := dialGo(t, l, c, func(cfg *tls.Config) { cfg.MinVersion = c.Client.MinVersion })
			wantOK(t, r)
			if r.state.Version != tls.VersionTLS10 {
				t.Errorf("version %x, want TLS 1.0", r.state.Version)
			}
		},
		"rsa-key-exchange-only": func(t *testing.T, c Case) {
			wantRemoteAlert(t, dialGo(t, l, c, nil), "handshake failure")
			r := dialGo(t, l, c, func(cfg *tls.Config) { cfg.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256} })
			wantOK(t, r)
		},
		"pss-key": func(t *testing.T, c Case) {
			// Go offers no rsa_pss_pss_* scheme: handshake_failure, as
			// from OpenSSL; openssl and curl connect (TestOpenSSL,
			// TestCurl).
			wantRemoteAlert(t, dialGo(t, l, c, nil), "handshake failure")
		},
		"unrecognized-name": func(t *testing.T, c Case) {
			wantRemoteAlert(t, dialGo(t, l, c, nil), "unrecognized name")
		},
		"unknown-name-go": func(t *testing.T, c Case) {
			wantRemoteAlert(t, dialGo(t, l, c, nil), "internal error")
			// The name it has a certificate for is served.
			wantOK(t, dialGo(t, l, c, func(cfg *tls.Config) { cfg.ServerName = "other." + Domain }))
		},
		"expired": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			wantInvalid(t, r, x509.Expired)
			if !strings.Contains(r.err.Error(), "is after") {
				t.Errorf("err = %v, want 'is after'", r.err)
			}
		},
		"not-yet-valid": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			wantInvalid(t, r, x509.Expired)
			if !strings.Contains(r.err.Error(), "is before") {
				t.Errorf("err = %v, want 'is before'", r.err)
			}
		},
		"expiring-soon": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			wantOK(t, r)
			// Certificates keep whole seconds.
			if left := r.state.PeerCertificates[0].NotAfter.Sub(p.Now); (left - 10*24*time.Hour).Abs() > time.Second {
				t.Errorf("leaf expires %v after the lab's start, want 10 days", left)
			}
		},
		"self-signed": func(t *testing.T, c Case) {
			wantUnknownAuthority(t, dialGo(t, l, c, nil))
			chain := peerChain(t, l, c)
			if len(chain) != 1 || chain[0].CheckSignature(chain[0].SignatureAlgorithm, chain[0].RawTBSCertificate, chain[0].Signature) != nil || chain[0].IsCA {
				t.Errorf("want one self-signed non-CA leaf, got %d certificates", len(chain))
			}
		},
		"weak-key": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			wantOK(t, r) // Go still accepts 1024-bit RSA; the finding is tlskit's
			pub, ok := r.state.PeerCertificates[0].PublicKey.(*rsa.PublicKey)
			if !ok || pub.N.BitLen() != 1024 {
				t.Errorf("leaf key %T, want 1024-bit RSA", r.state.PeerCertificates[0].PublicKey)
			}
		},
		"weak-signature": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			if r.err == nil || !strings.Contains(r.err.Error(), "SHA1-RSA") {
				t.Fatalf("err = %v, want an insecure SHA1-RSA signature error", r.err)
			}
			chain := peerChain(t, l, c)
			if chain[0].SignatureAlgorithm != x509.SHA1WithRSA || len(chain) != 2 || chain[1].SignatureAlgorithm == x509.SHA1WithRSA {
				t.Errorf("want a SHA-1 leaf under a SHA-256 intermediate")
			}
		},
		"wrong-eku": func(t *testing.T, c Case) {
			wantInvalid(t, dialGo(t, l, c, nil), x509.IncompatibleUsage)
		},
		"name-mismatch": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			var he x509.HostnameError
			if !errors.As(r.err, &he) || he.Host != c.ServerName() {
				t.Fatalf("err = %v, want HostnameError for %s", r.err, c.ServerName())
			}
			// Valid for its own name: only the name is wrong.
			wantOK(t, dialGo(t, l, c, func(cfg *tls.Config) { cfg.ServerName = "elsewhere.lab.tlskit.test" }))
		},
		"chain-incomplete": func(t *testing.T, c Case) {
			wantUnknownAuthority(t, dialGo(t, l, c, nil))
			chain := peerChain(t, l, c)
			if len(chain) != 1 || !slices.Equal(chain[0].IssuingCertificateURL, []string{AIAURL}) {
				t.Fatalf("sent %d certificates, AIA %q; want the leaf alone with AIA %s", len(chain), chain[0].IssuingCertificateURL, AIAURL)
			}
			// With the intermediate supplied the chain verifies.
			wantOK(t, dialGo(t, l, c, func(cfg *tls.Config) {
				cfg.RootCAs.AddCert(p.Intermediate)
			}))
		},
		"untrusted-root": func(t *testing.T, c Case) {
			wantUnknownAuthority(t, dialGo(t, l, c, nil))
			chain := peerChain(t, l, c)
			last := chain[len(chain)-1]
			if !last.Equal(p.OtherRoot) || last.CheckSignatureFrom(last) != nil {
				t.Fatalf("last certificate %q, want the self-signed other root", last.Subject)
			}
			wantOK(t, dialGo(t, l, c, func(cfg *tls.Config) { cfg.RootCAs.AddCert(p.OtherRoot) }))
		},
		"wrong-order": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			wantOK(t, r)
			sent := r.state.PeerCertificates
			if len(sent) != 3 || sent[0].CheckSignatureFrom(sent[1]) == nil || sent[0].CheckSignatureFrom(sent[2]) != nil || sent[2].CheckSignatureFrom(sent[1]) != nil {
				t.Fatalf("want leaf, its issuer's issuer, its issuer; got %d certificates", len(sent))
			}
		},
		"expired-cross-sign": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			wantOK(t, r)
			sent := r.state.PeerCertificates
			cross := sent[len(sent)-1]
			if len(sent) != 3 || !cross.NotAfter.Before(p.Now) || !bytes.Equal(cross.RawSubject, p.Root.RawSubject) ||
				!bytes.Equal(cross.RawSubjectPublicKeyInfo, p.Root.RawSubjectPublicKeyInfo) || cross.CheckSignatureFrom(cross) == nil {
				t.Fatalf("last certificate sent is not an expired cross-sign of the root")
			}
			if got := r.state.VerifiedChains[0]; !got[len(got)-1].Equal(p.Root) {
				t.Errorf("verified chain ends at %q", got[len(got)-1].Subject)
			}
		},
		"pin-mismatch": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			wantOK(t, r)
			if len(c.Client.Pins) != 1 || !strings.HasPrefix(c.Client.Pins[0], "sha256/") {
				t.Fatalf("Client.Pins %q, want one sha256/... pin", c.Client.Pins)
			}
			pin := c.Client.Pins[0]
			for _, cert := range r.state.VerifiedChains[0] {
				if got, _ := Pin(cert.PublicKey); got == pin {
					t.Errorf("pin %s matches %q", pin, cert.Subject)
				}
			}
		},
		"client-cert-required-tls12": func(t *testing.T, c Case) {
			testClientCert(t, l, c, tls.VersionTLS12, "handshake failure")
		},
		"client-cert-required-tls13": func(t *testing.T, c Case) {
			testClientCert(t, l, c, tls.VersionTLS13, "certificate required")
		},
		"client-cert-rejected-tls12": func(t *testing.T, c Case) {
			testClientCert(t, l, c, tls.VersionTLS12, "unknown certificate authority")
		},
		"client-cert-rejected-tls13": func(t *testing.T, c Case) {
			testClientCert(t, l, c, tls.VersionTLS13, "unknown certificate authority")
		},
		"revoked": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			wantOK(t, r) // Go checks no revocation; the CRL is what says no
			crl := clientCRL(t, c, p)
			leaf := r.state.PeerCertificates[0]
			if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.SerialNumber) != 0 {
				t.Errorf("the CRL does not revoke the served leaf")
			}
			if len(leaf.CRLDistributionPoints) != 1 || httpGet(t, leaf.CRLDistributionPoints[0]) == nil {
				t.Errorf("the leaf's CRL distribution point %q does not serve the CRL", leaf.CRLDistributionPoints)
			}
		},
		"crl-stale": func(t *testing.T, c Case) {
			wantOK(t, dialGo(t, l, c, nil)) // Go checks no revocation; the stale CRL is what says no
			if crl := clientCRL(t, c, p); !crl.NextUpdate.Before(p.Now) {
				t.Fatalf("the CRL is not stale: next update %v", crl.NextUpdate)
			}
		},
		"ocsp-good":    func(t *testing.T, c Case) { wantStaple(t, dialGo(t, l, c, nil), p, ocsp.Good, false) },
		"ocsp-revoked": func(t *testing.T, c Case) { wantStaple(t, dialGo(t, l, c, nil), p, ocsp.Revoked, false) },
		"ocsp-stale":   func(t *testing.T, c Case) { wantStaple(t, dialGo(t, l, c, nil), p, ocsp.Good, true) },
		"must-staple": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			wantOK(t, r)
			if len(r.state.OCSPResponse) != 0 {
				t.Errorf("a staple came")
			}
			found := false
			for _, e := range r.state.PeerCertificates[0].Extensions {
				found = found || e.Id.Equal(oidTLSFeature) && bytes.Equal(e.Value, mustStaple)
			}
			if !found {
				t.Errorf("the leaf has no must-staple TLS feature extension")
			}
		},
		"aia-fetch": func(t *testing.T, c Case) {
			wantUnknownAuthority(t, dialGo(t, l, c, nil))
			chain := peerChain(t, l, c)
			if len(chain) != 1 || len(chain[0].IssuingCertificateURL) != 1 || !bytes.Equal(httpGet(t, chain[0].IssuingCertificateURL[0]), p.Intermediate.Raw) {
				t.Fatalf("want the leaf alone, its AIA URL serving the Intermediate")
			}
		},
		"aia-wrong": func(t *testing.T, c Case) {
			wantUnknownAuthority(t, dialGo(t, l, c, nil))
			chain := peerChain(t, l, c)
			if len(chain) != 1 || !bytes.Equal(httpGet(t, chain[0].IssuingCertificateURL[0]), p.OtherRoot.Raw) {
				t.Fatalf("want the leaf alone, its AIA URL serving the other root")
			}
		},
		"name-constraints": func(t *testing.T, c Case) {
			wantInvalid(t, dialGo(t, l, c, nil), x509.CANotAuthorizedForThisName)
		},
		"policy-required": func(t *testing.T, c Case) {
			// crypto/x509 processes certificate policies (Go 1.22+).
			if r := dialGo(t, l, c, nil); r.err == nil || !strings.Contains(r.err.Error(), "invalid policies") {
				t.Fatalf("err = %v, want crypto/x509's invalid policies", r.err)
			}
		},
		"serial-zero": func(t *testing.T, c Case) {
			r := dialGo(t, l, c, nil)
			wantOK(t, r) // Go accepts it: tlskit is stricter
			if r.state.PeerCertificates[0].SerialNumber.Sign() != 0 {
				t.Errorf("serial %v", r.state.PeerCertificates[0].SerialNumber)
			}
		},
		"hrr-client-cert-required": func(t *testing.T, c Case) {
			testClientCert(t, l, c, tls.VersionTLS13, "certificate required")
		},
		"starttls-good": func(t *testing.T, c Case) {
			res, r := dialStartTLS(t, l, c)
			wantEHLO(t, c, r)
			if !res.Offered || len(res.Pipelined) > 0 {
				t.Errorf("offered %v, pipelined %q", res.Offered, res.Pipelined)
			}
		},
		"starttls-not-offered": func(t *testing.T, c Case) {
			res, _ := dialStartTLS(t, l, c)
			if res.Outcome != starttls.NotOffered || slices.Contains(res.Capabilities, "STARTTLS") || !slices.Contains(res.Capabilities, "PIPELINING") {
				t.Errorf("outcome %s, capabilities %q", res.Outcome, res.Capabilities)
			}
		},
		"starttls-refused": func(t *testing.T, c Case) {
			res, _ := dialStartTLS(t, l, c)
			if res.Outcome != starttls.Refused || !strings.HasPrefix(res.Reply, "454 4.7.0") {
				t.Errorf("outcome %s, reply %q", res.Outcome, res.Reply)
			}
		},
		"starttls-expired": func(t *testing.T, c Case) {
			_, r := dialStartTLS(t, l, c)
			wantInvalid(t, r, x509.Expired)
		},
		"starttls-pipelined": func(t *testing.T, c Case) {
			res, r := dialStartTLS(t, l, c)
			wantEHLO(t, c, r)
			if string(res.Pipelined) != "250 2.1.0 Ok, sent before TLS\r\n" {
				t.Errorf("pipelined %q", res.Pipelined)
			}
		},
	}
	for _, c := range l.Cases() {
		test, ok := tests[c.Name]
		if !ok {
			t.Errorf("case %s has no Go client test", c.Name)
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			test(t, c)
		})
	}
}

// testClientCert checks a client-certificate case: the CertificateRequest
// names the lab's client CA, the client the case's Client describes gets
// alert, and the trusted client certificate is accepted.
func testClientCert(t *testing.T, l *Lab, c Case, vers uint16, alert string) {
	var client *tls.Certificate
	if certFile := c.Client.CertFile; certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, c.Client.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		client = &cert
	}
	var acceptable [][]byte
	r := dialGo(t, l, c, func(cfg *tls.Config) {
		cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			acceptable = cri.AcceptableCAs
			if client != nil {
				return client, nil
			}
			return &tls.Certificate{}, nil
		}
	})
	wantRemoteAlert(t, r, alert)
	if vers == tls.VersionTLS13 && r.state == nil {
		t.Errorf("TLS 1.3: the client's handshake should complete before the alert arrives")
	}
	if len(acceptable) != 1 || !bytes.Equal(acceptable[0], l.PKI().ClientCA.RawSubject) {
		t.Errorf("CertificateRequest lists %d names, want the lab client CA", len(acceptable))
	}
	good := dialGo(t, l, c, func(cfg *tls.Config) { cfg.Certificates = []tls.Certificate{l.PKI().Client} })
	wantOK(t, good)
	if good.state.Version != vers {
		t.Errorf("version %x, want %x", good.state.Version, vers)
	}
}

func wantNotTLS(t *testing.T, p probe) {
	t.Helper()
	var rhe tls.RecordHeaderError
	if !errors.As(p.err, &rhe) {
		t.Fatalf("err = %v, want tls.RecordHeaderError", p.err)
	}
}

func wantBanner(t *testing.T, c Case, banner string) {
	t.Helper()
	conn, err := net.Dial("tcp", c.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	got := make([]byte, len(banner))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != banner {
		t.Fatalf("got %q, %v; want %q", got, err, banner)
	}
}

// TestCurl checks one case end to end with curl: an expired certificate
// is a verification failure, exit 60, while the good case fetches.
func TestCurl(t *testing.T) {
	peertest.Need(t, "curl")
	l := startLab(t)
	curl := func(name string) (string, int) {
		c := mustCase(t, l, name)
		_, port, _ := net.SplitHostPort(c.Addr)
		url := "https://" + c.ServerName() + ":" + port + "/"
		cmd := exec.CommandContext(t.Context(), "curl", "-sS", "--max-time", "5", "--cacert", l.Files().Root,
			"--resolve", c.ServerName()+":"+port+":127.0.0.1", url)
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := curl("expired"); code != 60 || !strings.Contains(out, "certificate has expired") {
		t.Errorf("curl expired: exit %d, %s; want 60, certificate has expired", code, out)
	}
	if out, code := curl("good"); code != 0 || out != "tlskit lab: good\n" {
		t.Errorf("curl good: exit %d, %q", code, out)
	}
	// The servers Go's crypto/tls cannot talk to: curl (OpenSSL) can.
	for _, name := range []string{"pss-key", "rsa-key-exchange-only"} {
		if out, code := curl(name); code != 0 || out != "tlskit lab: "+name+"\n" {
			t.Errorf("curl %s: exit %d, %q", name, code, out)
		}
	}
}

// clientCRL is the one CRL the case's client checks, which must be the
// Intermediate's.
func clientCRL(t *testing.T, c Case, p *PKI) *x509.RevocationList {
	t.Helper()
	if len(c.Client.CRLFiles) != 1 {
		t.Fatalf("the client checks CRLs %q, want one", c.Client.CRLFiles)
	}
	der, err := os.ReadFile(c.Client.CRLFiles[0])
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil || crl.CheckSignatureFrom(p.Intermediate) != nil {
		t.Fatalf("the CRL does not parse or is not the Intermediate's: %v", err)
	}
	return crl
}

// TestOpenSSL probes the cases with `openssl s_client` and checks that its
// output shows the condition each case is named for.
func TestOpenSSL(t *testing.T) {
	peertest.Need(t, "openssl")
	l := startLab(t)
	f, p := l.Files(), l.PKI()
	tests := []struct {
		name  string
		flags []string
		want  []string // substrings of s_client's combined output
	}{
		{"good", nil, []string{"New, TLSv1.3, ", "Verify return code: 0 (ok)"}},
		{"good-tls12", []string{"-tls1_2"}, []string{"New, TLSv1.2, ", "Verify return code: 0 (ok)"}},
		{"refused", nil, []string{"Connection refused"}},
		{"reset", nil, []string{"errno=104"}},
		{"not-tls-http", nil, []string{"wrong version number"}},
		{"not-tls-ssh", nil, []string{"wrong version number"}},
		{"not-tls-smtp", nil, []string{"wrong version number"}},
		{"version-mismatch", []string{"-no_tls1", "-no_tls1_1"}, []string{"alert protocol version", "alert number 70"}},
		{"version-intolerance", nil, []string{"unexpected eof while reading"}},
		{"version-intolerance", []string{"-tls1_2"}, []string{"New, TLSv1.2, ", "Verify return code: 0 (ok)", "HTTP/1.1 200 OK"}},
		// OpenSSL 3.0's hello (no post-quantum share) fits in the server's
		// one read; made larger by a long ALPN list, it does not.
		{"large-hello", nil, []string{"New, TLSv1.3, ", "Verify return code: 0 (ok)", "HTTP/1.1 200 OK"}},
		{"large-hello", []string{"-alpn", longALPN}, []string{"errno=104", "Cipher is (NONE)"}},
		{"no-shared-cipher", nil, []string{"alert handshake failure", "alert number 40"}},
		{"legacy-version", []string{"-tls1", "-cipher", "DEFAULT@SECLEVEL=0"}, []string{"New, TLSv1.0, ", "Verify return code: 0 (ok)"}},
		{"rsa-key-exchange-only", nil, []string{"New, TLSv1.2, Cipher is AES128-GCM-SHA256", "Verify return code: 0 (ok)", "HTTP/1.1 200 OK"}},
		{"pss-key", nil, []string{"Peer signature type: RSA-PSS", "Verify return code: 0 (ok)", "tlskit lab: pss-key"}},
		{"unrecognized-name", nil, []string{"unrecognized name", "alert number 112"}},
		{"unknown-name-go", nil, []string{"alert internal error", "alert number 80"}},
		{"expired", nil, []string{"verify error:num=10:certificate has expired"}},
		{"not-yet-valid", nil, []string{"verify error:num=9:certificate is not yet valid"}},
		{"self-signed", nil, []string{"verify error:num=18:self-signed certificate"}},
		{"weak-key", nil, []string{"verify error:num=66:EE certificate key too weak"}},
		{"weak-signature", nil, []string{"verify error:num=68:CA signature digest algorithm too weak"}},
		{"wrong-eku", nil, []string{"verify error:num=26:unsuitable certificate purpose"}},
		{"name-mismatch", []string{"-verify_hostname", "name-mismatch.lab.tlskit.test"}, []string{"verify error:num=62:hostname mismatch"}},
		{"chain-incomplete", nil, []string{"verify error:num=20:unable to get local issuer certificate"}},
		{"untrusted-root", nil, []string{"verify error:num=19:self-signed certificate in certificate chain"}},
		{"wrong-order", nil, []string{"Verify return code: 0 (ok)"}},
		{"expiring-soon", nil, []string{"Verify return code: 0 (ok)"}},
		{"expired-cross-sign", nil, []string{"Verify return code: 0 (ok)"}},
		{"pin-mismatch", nil, []string{"Verify return code: 0 (ok)"}},
		{"client-cert-required-tls12", []string{"-tls1_2"}, []string{"Acceptable client certificate CA names", "tlskit Lab Client CA", "alert handshake failure", "alert number 40"}},
		{"client-cert-required-tls13", []string{"-tls1_3"}, []string{"Acceptable client certificate CA names", "tlskit Lab Client CA", "alert certificate required", "alert number 116"}},
		{"client-cert-rejected-tls12", []string{"-tls1_2", "-cert", f.BadClientCert, "-key", f.BadClientKey}, []string{"alert unknown ca", "alert number 48"}},
		{"client-cert-rejected-tls13", []string{"-tls1_3", "-cert", f.BadClientCert, "-key", f.BadClientKey}, []string{"alert unknown ca", "alert number 48"}},
		{"client-cert-required-tls13", []string{"-tls1_3", "-cert", f.ClientCert, "-key", f.ClientKey}, []string{"Verify return code: 0 (ok)", "HTTP/1.1 200 OK"}},
		{"revoked", []string{"-CRL", f.CRL, "-CRLform", "DER", "-crl_check"}, []string{"verify error:num=23:certificate revoked"}},
		// -attime: openssl judges the CRL at the lab's time, as tlskit does.
		{"crl-stale", []string{"-CRL", f.StaleCRL, "-CRLform", "DER", "-crl_check", "-attime", strconv.FormatInt(p.Now.Unix(), 10)}, []string{"verify error:num=12:CRL has expired"}},
		{"crl-stale", []string{"-CRL", f.CRL, "-CRLform", "DER", "-crl_check", "-attime", strconv.FormatInt(p.Now.Unix(), 10)}, []string{"Verify return code: 0 (ok)"}},
		{"ocsp-good", []string{"-status"}, []string{"OCSP Response Status: successful", "Cert Status: good", "Verify return code: 0 (ok)"}},
		{"ocsp-revoked", []string{"-status"}, []string{"OCSP Response Status: successful", "Cert Status: revoked", "Revocation Reason: keyCompromise"}},
		{"must-staple", []string{"-status"}, []string{"OCSP response: no response sent"}},
		{"name-constraints", nil, []string{"verify error:num=47:permitted subtree violation"}},
		// OpenSSL processes policies only when asked, from anyPolicy.
		{"policy-required", []string{"-policy_check", "-policy", "2.5.29.32.0"}, []string{"verify error:num=43:no explicit policy"}},
		{"policy-required", nil, []string{"Verify return code: 0 (ok)"}},
		{"serial-zero", []string{"-verify_hostname", "serial-zero.lab.tlskit.test"}, []string{"Verify return code: 0 (ok)"}},
		// s_client's first key share is X25519: the server asks for P-384.
		{"hrr-client-cert-required", []string{"-tls1_3"}, []string{"Server Temp Key: ECDH, secp384r1", "Acceptable client certificate CA names", "alert certificate required", "alert number 116"}},
		{"hrr-client-cert-required", []string{"-tls1_3", "-cert", f.ClientCert, "-key", f.ClientKey}, []string{"Server Temp Key: ECDH, secp384r1", "Verify return code: 0 (ok)", "HTTP/1.1 200 OK"}},
		{"starttls-good", []string{"-starttls", "smtp"}, []string{"Verify return code: 0 (ok)", "502 5.5.2"}},
		{"starttls-not-offered", []string{"-starttls", "smtp"}, []string{"Didn't find STARTTLS in server response"}},
		{"starttls-refused", []string{"-starttls", "smtp"}, []string{"wrong version number"}},
		{"starttls-expired", []string{"-starttls", "smtp"}, []string{"verify error:num=10:certificate has expired"}},
	}
	for _, tc := range tests {
		c := mustCase(t, l, tc.name)
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"s_client", "-connect", c.Addr, "-servername", c.ServerName(),
				"-CAfile", f.Root, "-verify_return_error", "-ign_eof"}, tc.flags...)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "openssl", args...)
			cmd.Stdin = strings.NewReader("GET / HTTP/1.1\r\nHost: " + c.ServerName() + "\r\n\r\n")
			out, _ := cmd.CombinedOutput()
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("openssl %s\noutput lacks %q:\n%s", strings.Join(args, " "), w, out)
				}
			}
		})
	}
}

// httpGet fetches url from the lab's PKI server, or fails the test.
func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, resp.Status, err)
	}
	return body
}

// wantStaple checks that the handshake completed with a stapled OCSP
// response from the Intermediate for the leaf, of the given status, stale
// (nextUpdate passed) or not.
func wantStaple(t *testing.T, r probe, p *PKI, status int, stale bool) {
	t.Helper()
	wantOK(t, r)
	resp, err := ocsp.ParseResponseForCert(r.state.OCSPResponse, r.state.PeerCertificates[0], p.Intermediate)
	if err != nil {
		t.Fatalf("staple: %v", err)
	}
	if resp.Status != status || resp.NextUpdate.Before(p.Now) != stale {
		t.Errorf("staple status %d, next update %v; want status %d, stale %v", resp.Status, resp.NextUpdate, status, stale)
	}
}

// TestStricterThanClients: the real clients on this machine accept the
// serial-zero case, which tlskit refuses (cert.nonconforming): the claim
// "a client on this stack connects" that check --stacks and truststore
// --verify make for it is true of curl, gnutls-cli and Python's ssl (the
// Go client and openssl s_client are checked above).
func TestStricterThanClients(t *testing.T) {
	l := startLab(t)
	c := mustCase(t, l, "serial-zero")
	_, port, _ := net.SplitHostPort(c.Addr)
	root := l.Files().Root
	clients := []struct {
		prog string
		args []string
	}{
		{"curl", []string{"-sS", "--max-time", "5", "--cacert", root, "--resolve", c.ServerName() + ":" + port + ":127.0.0.1", "https://" + c.ServerName() + ":" + port + "/"}},
		{"gnutls-cli", []string{"--x509cafile", root, "--port", port, "--sni-hostname", c.ServerName(), "--verify-hostname", c.ServerName(), "127.0.0.1"}},
		{"python3", []string{"-c", `import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
with socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=5) as s:
    with ctx.wrap_socket(s, server_hostname=sys.argv[3]) as t:
        print("verified", t.version())`, root, port, c.ServerName()}},
	}
	for _, cl := range clients {
		t.Run(cl.prog, func(t *testing.T) {
			peertest.Need(t, cl.prog)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, cl.prog, cl.args...)
			cmd.Stdin = strings.NewReader("GET / HTTP/1.0\r\n\r\n")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s refuses the serial-zero leaf (then tlskit's claim that this stack accepts it would be wrong): %v\n%s", cl.prog, err, out)
			}
		})
	}
}

// longALPN is an ALPN list of about 750 bytes, which makes openssl
// s_client's hello larger than the large-hello case's one read.
var longALPN = strings.TrimSuffix(strings.Repeat("protocol-"+strings.Repeat("x", 50)+",", 12), ",")
