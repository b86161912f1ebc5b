package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/trust"
)

// sClientConnects runs the real `openssl s_client` with its defaults,
// trusting caFile, and reports whether the handshake completed and the
// chain verified.
func sClientConnects(t *testing.T, addr, name, caFile string) (bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", "s_client", "-connect", addr, "-servername", name, "-CAfile", caFile, "-verify_return_error")
	cmd.Stdin = strings.NewReader("")
	out, _ := cmd.CombinedOutput()
	s := string(out)
	return strings.Contains(s, "Verify return code: 0 (ok)") && !strings.Contains(s, "Cipher is (NONE)"), s
}

// curlConnects runs the real curl against an `openssl s_server -www`,
// trusting caFile, and reports whether it fetched the page.
func curlConnects(t *testing.T, addr, name, caFile string) (bool, string) {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "curl", "-sS", "-o", "/dev/null", "--cacert", caFile,
		"--resolve", fmt.Sprintf("%s:%s:127.0.0.1", name, port), fmt.Sprintf("https://%s:%s/", name, port)).CombinedOutput()
	return err == nil, string(out)
}

// pssCert makes a self-signed certificate with an RSA-PSS key
// (id-RSASSA-PSS) for name with the real openssl, as `openssl req -newkey
// rsa-pss` does.
func pssCert(t *testing.T, name string) (cert, key string) {
	t.Helper()
	return peertest.SelfSigned(t, "/CN="+name, "DNS:"+name, "-newkey", "rsa-pss", "-pkeyopt", "rsa_keygen_bits:2048")
}

// TestClientUnsupported: a server that only offers what tlskit's TLS client
// (Go's crypto/tls) does not speak is protocol.client-unsupported, naming
// what the server wants (found by the second look), not no-shared-cipher;
// and the claim that OpenSSL clients can connect is checked with the real
// openssl s_client and curl (issue #10.5). TLS 1.2 and 1.3 where they
// apply: RSA key exchange and finite-field DHE suites exist only up to
// TLS 1.2.
func TestClientUnsupported(t *testing.T) {
	peertest.Need(t, "curl")
	w := getWorld(t)
	rsa := w.leaf(t, "rsa.peer.test", lab.LeafOptions{KeyType: lab.RSA})
	inter := []*x509.Certificate{w.pki.Intermediate}
	peertest.Need(t, "openssl")
	pssPEM, pssKey := pssCert(t, "pss.peer.test")
	for _, tc := range []struct {
		name  string
		args  []string
		pss   bool
		about []string // in the title or detail
	}{
		{"pss-tls13", []string{"-tls1_3"}, true, []string{"RSASSA-PSS", "rsa_pss_pss_sha256", "TLS 1.3"}},
		{"pss-tls12", []string{"-tls1_2"}, true, []string{"RSASSA-PSS", "rsa_pss_pss_sha256", "TLS 1.2"}},
		{"dhe-only-tls12", []string{"-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256"}, false, []string{"TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "finite-field Diffie-Hellman"}},
		{"rsa-kex-only-tls12", []string{"-tls1_2", "-cipher", "AES128-GCM-SHA256:AES128-SHA"}, false, []string{"TLS_RSA_WITH_AES_128_GCM_SHA256", "Go 1.22"}},
		{"ffdhe2048-only-tls13", []string{"-tls1_3", "-groups", "ffdhe2048"}, false, []string{"ffdhe2048", "HelloRetryRequest", "RFC 7919"}},
		{"ffdhe2048-only-tls12", []string{"-tls1_2", "-groups", "ffdhe2048"}, false, []string{"TLS_DHE_RSA_WITH", "finite-field Diffie-Hellman"}},
		// The wide hello gets a HelloRetryRequest for P-384, which Go
		// offers; the suite it names is the cause (it was reported as no
		// shared cipher, "the group is not the cause").
		{"ccm-only-hrr-tls13", []string{"-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256", "-groups", "P-384"}, false, []string{"TLS_AES_128_CCM_SHA256", "asked for another key share, group secp384r1", "AES-CCM"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name, ca := "rsa.peer.test", w.files.Root
			var addr string
			if tc.pss {
				name, ca = "pss.peer.test", pssPEM
				addr = peertest.OpenSSL(t, append([]string{"-cert", pssPEM, "-key", pssKey, "-www"}, tc.args...)...).Addr
			} else {
				addr = w.openssl(t, "u", rsa, inter, append([]string{"-www"}, tc.args...)...)
			}
			rep := w.check(t, addr, name)
			expect(t, rep, diagnose.Failed, finding.ProtocolClientUnsupported, finding.Error)
			f := findingOf(rep, finding.ProtocolClientUnsupported)
			for _, s := range tc.about {
				if !strings.Contains(f.Title+" "+f.Detail, s) {
					t.Errorf("the finding does not say %q:\n%s\n%s", s, f.Title, f.Detail)
				}
			}
			if finding.Has(rep.Findings, finding.ProtocolNoSharedCipher) {
				t.Errorf("protocol.no-shared-cipher beside protocol.client-unsupported")
			}
			if rep.SecondLook == nil || rep.SecondLook.Version == "" {
				t.Errorf("no second look in the report: %+v", rep.SecondLook)
			}
			// The finding says OpenSSL clients can connect: they can.
			if strings.Contains(f.Detail, "openssl s_client") {
				if ok, out := sClientConnects(t, addr, name, ca); !ok {
					t.Errorf("openssl s_client did not connect:\n%s", out)
				}
				if ok, out := curlConnects(t, addr, name, ca); !ok {
					t.Errorf("curl did not connect: %s", out)
				}
			}
		})
	}
}

// TestTinyRSAKey: a server whose certificate has a 768-bit RSA key
// (openssl s_server at security level 0). Go's crypto/rsa refuses the key,
// so tlskit's handshake ends with its own decrypt_error after the server's
// Finished; check called that protocol.hello-rejected, "the server
// refuses the client's ClientHello", of a server that had answered it.
// The real clients refuse the key too: openssl s_client completes the
// handshake but fails verification ("EE certificate key too weak"), curl
// exits 60.
func TestTinyRSAKey(t *testing.T) {
	peertest.Need(t, "curl")
	w := getWorld(t)
	cert, key := peertest.SelfSigned(t, "/CN=tiny.peer.test", "DNS:tiny.peer.test", "-newkey", "rsa:768")
	for _, v := range []string{"-tls1_3", "-tls1_2"} {
		addr := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-www", "-cipher", "DEFAULT@SECLEVEL=0", v).Addr
		if ok, out := sClientConnects(t, addr, "tiny.peer.test", cert); ok || !strings.Contains(out, "EE certificate key too weak") {
			t.Fatalf("%s: openssl s_client verified, or not for the key:\n%s", v, out)
		}
		if ok, out := curlConnects(t, addr, "tiny.peer.test", cert); ok {
			t.Fatalf("%s: curl connected: %s", v, out)
		}
		rep := w.check(t, addr, "tiny.peer.test", func(o *Options) { o.Verifier = verifierFor(t, cert) })
		expect(t, rep, diagnose.Failed, finding.ProtocolClientUnsupported, finding.Error)
		if f := findingOf(rep, finding.ProtocolClientUnsupported); !strings.Contains(f.Title, "768-bit RSA key") {
			t.Errorf("%s: the finding does not name the key: %s", v, f.Title)
		}
		if finding.Has(rep.Findings, finding.ProtocolHelloRejected) || !finding.Has(rep.Findings, finding.CertWeakKey) {
			t.Errorf("%s: findings %v, want cert.weak-key and not protocol.hello-rejected", v, rep.Findings)
		}
	}
}

// verifierFor is a verifier that trusts the certificates in a PEM file, as
// a policy's "file:" trust source reads them.
func verifierFor(t *testing.T, file string) *trust.Verifier {
	t.Helper()
	v, err := (&tlskit.Policy{Trust: []string{"file:" + file}}).Verifier()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestVersionRanges: a version failure names both sides' ranges, found by
// offering each version alone, and when the user's own restriction is what
// failed, the setting to change (the CLI names its flag) (issue #10.6).
func TestVersionRanges(t *testing.T) {
	w := getWorld(t)
	good := w.leaf(t, "proto.peer.test", lab.LeafOptions{})
	inter := []*x509.Certificate{w.pki.Intermediate}
	for _, tc := range []struct {
		name     string
		args     []string
		min, max uint16
		setting  string
		about    []string
	}{
		{"min13-vs-tls12-server", []string{"-tls1_2"}, 0x0304, 0, finding.SettingMinVersion, []string{"the client offered TLS 1.3", "the server speaks TLS 1.2 only", "minimum version (TLS 1.3)"}},
		{"max12-vs-tls13-server", []string{"-tls1_3"}, 0, 0x0303, finding.SettingMaxVersion, []string{"the client offered TLS 1.2", "the server speaks TLS 1.3 only", "maximum version (TLS 1.2)"}},
		{"tls10-only-server", []string{"-tls1", "-cipher", "DEFAULT@SECLEVEL=0"}, 0, 0, finding.SettingMinVersion, []string{"the client offered TLS 1.2 and 1.3", "the server speaks TLS 1.0 only", "RFC 8996"}},
		{"tls10-11-server", []string{"-no_tls1_2", "-no_tls1_3", "-cipher", "DEFAULT@SECLEVEL=0"}, 0, 0, finding.SettingMinVersion, []string{"the server speaks TLS 1.0 and 1.1", "lower the client's minimum version to TLS 1.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := w.openssl(t, "v", good, inter, tc.args...)
			rep := w.check(t, addr, "proto.peer.test", func(o *Options) { o.MinVersion, o.MaxVersion = tc.min, tc.max })
			expect(t, rep, diagnose.Failed, finding.ProtocolVersionMismatch, finding.Error)
			f := findingOf(rep, finding.ProtocolVersionMismatch)
			for _, s := range tc.about {
				if !strings.Contains(f.Title+" "+f.Detail+" "+f.Fix, s) {
					t.Errorf("the finding does not say %q:\n%s\n%s\n%s", s, f.Title, f.Detail, f.Fix)
				}
			}
			if f.Setting != tc.setting {
				t.Errorf("setting %q, want %q", f.Setting, tc.setting)
			}
			if finding.Has(rep.Findings, finding.ProtocolNoSharedCipher) {
				t.Errorf("a version restriction reported as no shared cipher")
			}
		})
	}
}

// TestSecondLookSameServer: the second look asks the server that refused
// the first hello, not whichever server the name leads to next. The name's
// two addresses (round-robin DNS, the dialer handing them out in turn, as
// a resolver that rotates its answers does) are a real openssl s_server
// that speaks TLS 1.0 only and a healthy one; the first connection reaches
// the old one. Were the look to go by the name again it would meet the
// healthy server and say nothing of the refusal; it must find what
// TestVersionRanges finds of that server alone.
func TestSecondLookSameServer(t *testing.T) {
	w := getWorld(t)
	good := w.leaf(t, "pool.peer.test", lab.LeafOptions{})
	inter := []*x509.Certificate{w.pki.Intermediate}
	old := w.openssl(t, "old", good, inter, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0")
	healthy := w.openssl(t, "healthy", good, inter)
	var d net.Dialer
	var asked []string
	next := 0
	rep := w.check(t, "pool.peer.test:443", "pool.peer.test", func(o *Options) {
		o.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			asked = append(asked, addr) // the looks run one after the other
			if addr == "pool.peer.test:443" {
				addr = []string{old, healthy}[next%2]
				next++
			}
			return d.DialContext(ctx, network, addr)
		}
	})
	expect(t, rep, diagnose.Failed, finding.ProtocolVersionMismatch, finding.Error)
	if f := findingOf(rep, finding.ProtocolVersionMismatch); !strings.Contains(f.Title+" "+f.Detail, "the server speaks TLS 1.0 only") {
		t.Errorf("the finding is not about the server that refused:\n%s\n%s", f.Title, f.Detail)
	}
	if len(asked) < 2 || asked[0] != "pool.peer.test:443" {
		t.Fatalf("connections asked for %q, want the name and then the second look", asked)
	}
	for _, a := range asked[1:] {
		if a != old {
			t.Errorf("the second look connected to %s, want %s (the server that refused; connections %q)", a, old, asked)
		}
	}
	if rep.Address != old {
		t.Errorf("report address %s, want %s", rep.Address, old)
	}
}

// TestSecondLookSilence: a server that hangs up on the first hello and
// then accepts connections without ever answering (its accept queue holds
// them) gets one second look, not one more per version: silence to the
// widest hello says nothing a narrower one would change, and each look
// would wait the whole timeout. Nor is silence reported as refusing any
// version. Before, the check took six times its timeout and listed every
// version as refused.
func TestSecondLookSilence(t *testing.T) {
	w := getWorld(t)
	addr := peertest.ServeOne(t, func(c net.Conn) {
		c.Read(make([]byte, 4096))
		c.Close()
	})
	start := time.Now()
	rep := w.check(t, addr, "x.peer.test", func(o *Options) { o.Timeout = 300 * time.Millisecond })
	took := time.Since(start)
	if rep.Verdict != diagnose.Failed {
		t.Errorf("verdict %s", rep.Verdict)
	}
	l := rep.SecondLook
	if l == nil {
		t.Fatal("no second look after a server hung up on the hello")
	}
	if len(l.ServerVersions)+len(l.RefusedVersions) > 0 {
		t.Errorf("versions accepted %v and refused %v by a server that said nothing", l.ServerVersions, l.RefusedVersions)
	}
	if took > 900*time.Millisecond {
		t.Errorf("the check took %v with a timeout of 300ms (one for the second look)", took)
	}
}

// TestSecondLookDeadline: with Options.Deadline the second look fits in
// what is left of the check's time. Against a server that reads each
// hello and hangs up 200 ms later, a check with a timeout and a deadline
// of 500 ms takes its wide look (300 ms were left) and no look per version
// (100 ms, less than a quarter of the timeout, were left): about 400 ms
// in all instead of 1.2 s, and no version is called refused untried.
// Without a deadline it takes every look, as `tlskit check` does.
func TestSecondLookDeadline(t *testing.T) {
	w := getWorld(t)
	addr := peertest.Serve(t, func(c net.Conn) {
		c.Read(make([]byte, 4096))
		time.Sleep(200 * time.Millisecond)
		c.Close()
	})
	start := time.Now()
	rep := w.check(t, addr, "x.peer.test", func(o *Options) {
		o.Timeout = 500 * time.Millisecond
		o.Deadline = start.Add(o.Timeout)
	})
	took := time.Since(start)
	l := rep.SecondLook
	if l == nil || len(l.Transcript) == 0 {
		t.Fatalf("no wide look with 300 ms left: %+v", l)
	}
	if len(l.ServerVersions)+len(l.RefusedVersions) > 0 {
		t.Errorf("versions accepted %v and refused %v with no time left to try them", l.ServerVersions, l.RefusedVersions)
	}
	if took > 800*time.Millisecond { // the deadline, and room for a loaded machine
		t.Errorf("the check took %v with a deadline of 500ms", took)
	}

	start = time.Now()
	rep = w.check(t, addr, "x.peer.test", func(o *Options) { o.Timeout = 500 * time.Millisecond })
	if l := rep.SecondLook; l == nil || len(l.RefusedVersions) != 4 {
		t.Errorf("without a deadline, not every version was tried: %+v", l)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("without a deadline the check took %v: the looks were cut", took)
	}
}

// TestVersionsNotKnown: when some versions cannot be offered alone, the
// versions that were are not taken for all of them. The server is a real
// openssl s_server that speaks TLS 1.2 only and refuses every hello (its
// ECDSA certificate and its RSA-only cipher list exclude each other):
// handshake_failure to any hello that offers TLS 1.2, protocol_version to
// TLS 1.3 alone, as openssl s_client shows. After the third connection
// (the check, the wide hello, TLS 1.3 alone) the dialer reaches a closed
// port, as a server that limits connections refuses them. tlskit said
// "the server speaks none of" TLS 1.0 to 1.3 from TLS 1.3 alone
// (protocol.version-mismatch, found against the same s_server with
// -naccept 3); the server refuses every hello (protocol.no-shared-cipher),
// and the versions not offered are listed as not known, with why.
func TestVersionsNotKnown(t *testing.T) {
	w := getWorld(t)
	name := "limits.peer.test"
	addr := w.openssl(t, "limits", w.leaf(t, name, lab.LeafOptions{}), []*x509.Certificate{w.pki.Intermediate},
		"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
	// The oracle: TLS 1.2 gets past the version, TLS 1.3 does not.
	for v, alert := range map[string]string{"-tls1_2": "alert handshake failure", "-tls1_3": "alert protocol version"} {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		cmd := exec.CommandContext(ctx, "openssl", "s_client", "-connect", addr, "-servername", name, v)
		cmd.Stdin = strings.NewReader("")
		out, _ := cmd.CombinedOutput()
		cancel()
		if !strings.Contains(string(out), alert) {
			t.Fatalf("openssl s_client %s: no %q:\n%s", v, alert, out)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	var d net.Dialer
	n := 0
	rep := w.check(t, addr, name, func(o *Options) {
		o.Dialer = func(ctx context.Context, network, a string) (net.Conn, error) {
			if n++; n > 3 {
				a = closed
			}
			return d.DialContext(ctx, network, a)
		}
	})
	expect(t, rep, diagnose.Failed, finding.ProtocolNoSharedCipher, finding.Error)
	if finding.Has(rep.Findings, finding.ProtocolVersionMismatch) {
		t.Errorf("a server that speaks TLS 1.2 called one that speaks none of TLS 1.0 to 1.3")
	}
	l := rep.SecondLook
	if l == nil || !slices.Equal(l.RefusedVersions, []string{"TLS 1.3"}) || len(l.ServerVersions) > 0 {
		t.Fatalf("second look %+v: want TLS 1.3 refused alone and nothing accepted", l)
	}
	var unknown []string
	for _, u := range l.UnknownVersions {
		unknown = append(unknown, u.Version)
		if !strings.Contains(u.Why, "could not be offered alone") || !strings.Contains(u.Why, "refused") {
			t.Errorf("%s not known because %q, want the refused connection", u.Version, u.Why)
		}
	}
	if !slices.Equal(unknown, []string{"TLS 1.2", "TLS 1.1", "TLS 1.0"}) {
		t.Errorf("versions not known %v, want TLS 1.2, 1.1 and 1.0", unknown)
	}
	if f := findingOf(rep, finding.ProtocolNoSharedCipher); !strings.Contains(f.Detail, "Whether the server speaks each version is not known: TLS 1.0, 1.1 and 1.2 could not be offered alone") {
		t.Errorf("the finding does not say which versions are not known:\n%s", f.Detail)
	}
}

// sClient runs openssl s_client against addr with args and returns what
// it printed.
func sClient(t *testing.T, addr string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", append([]string{"s_client", "-connect", addr}, args...)...)
	cmd.Stdin = strings.NewReader("")
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// TestVersionIntolerance: a server that refuses every hello offering TLS
// 1.3, though it answers TLS 1.2 offered alone, is
// protocol.version-intolerance, with --max-version as the client's way
// past it. It was protocol.no-shared-cipher ("it accepts nothing a TLS
// 1.0 to 1.3 client can offer"), beside a second look that showed TLS 1.2
// accepted alone.
//
// Here openssl s_server with a 512-bit RSA key, and gnutls-serv allowed
// only SHA-1 signatures (below). The first chooses TLS 1.3 and
// then cannot sign (RSA-PSS with SHA-256 needs 528 bits): openssl
// s_client, which offers TLS 1.3, gets handshake_failure; with -tls1_2 it
// connects. The classic kind (a server that closes the connection on a
// hello offering TLS 1.3, as stacks and middleboxes did when TLS 1.3
// came; no server on this machine does) is the lab's version-intolerance
// case, checked in cmd/tlskit's check_versions script.
func TestVersionIntolerance(t *testing.T) {
	w := getWorld(t)
	t.Run("openssl-rsa512", func(t *testing.T) {
		t.Parallel()
		name := "weak.peer.test"
		cert, key := peertest.SelfSigned(t, "/CN="+name, "DNS:"+name, "-newkey", "rsa:512")
		addr := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-cipher", "DEFAULT:@SECLEVEL=0").Addr
		if out := sClient(t, addr, "-servername", name, "-cipher", "ALL:@SECLEVEL=0"); !strings.Contains(out, "alert handshake failure") {
			t.Fatalf("openssl s_client offering TLS 1.3 was not refused with handshake_failure:\n%s", out)
		}
		if out := sClient(t, addr, "-servername", name, "-tls1_2", "-cipher", "ALL:@SECLEVEL=0"); !strings.Contains(out, "New, TLSv1.2, Cipher is ECDHE-RSA") {
			t.Fatalf("openssl s_client -tls1_2 did not connect:\n%s", out)
		}
		rep := w.check(t, addr, name)
		expect(t, rep, diagnose.Failed, finding.ProtocolVersionIntolerance, finding.Error)
		f := findingOf(rep, finding.ProtocolVersionIntolerance)
		for _, s := range []string{"offers TLS 1.3, though it speaks TLS 1.2", "Offered alone, it refused TLS 1.3 with handshake_failure", "RSA 512 (as it sent it for TLS 1.2)"} {
			if !strings.Contains(f.Title+" "+f.Detail, s) {
				t.Errorf("the finding does not say %q:\n%s\n%s", s, f.Title, f.Detail)
			}
		}
		if f.Setting != finding.SettingMaxVersion || !strings.Contains(f.Fix, "limited to TLS 1.2") {
			t.Errorf("setting %q, fix %q: want the maximum version, TLS 1.2", f.Setting, f.Fix)
		}
		if l := rep.SecondLook; l == nil || !slices.Contains(l.ServerVersions, "TLS 1.2") || !slices.Equal(l.RefusedVersions, []string{"TLS 1.3"}) {
			t.Errorf("second look %+v: want TLS 1.2 accepted and TLS 1.3 refused", l)
		}
		if finding.Has(rep.Findings, finding.ProtocolNoSharedCipher) {
			t.Errorf("reported as no shared cipher too")
		}
	})
	// gnutls-serv allowed only RSA-SHA1 signatures takes TLS 1.3 and has
	// nothing to sign it with (TLS 1.3 allows no PKCS #1 v1.5 or SHA-1
	// handshake signature): s_client offering TLS 1.3 gets
	// handshake_failure, with TLS 1.2 and SHA-1 it connects.
	t.Run("gnutls-sha1-signatures", func(t *testing.T) {
		t.Parallel()
		name := "sha1.peer.test"
		cert, key := peertest.SelfSigned(t, "/CN="+name, "DNS:"+name, "-newkey", "rsa:2048")
		addr := peertest.Start(t, "gnutls-serv", "-p", "{port}", "--x509certfile", cert, "--x509keyfile", key,
			"--priority", "NORMAL:-SIGN-ALL:+SIGN-RSA-SHA1:%VERIFY_ALLOW_SIGN_WITH_SHA1").Addr
		if out := sClient(t, addr, "-servername", name); !strings.Contains(out, "alert handshake failure") {
			t.Fatalf("openssl s_client offering TLS 1.3 was not refused with handshake_failure:\n%s", out)
		}
		if out := sClient(t, addr, "-servername", name, "-tls1_2", "-sigalgs", "RSA+SHA1", "-cipher", "ALL:@SECLEVEL=0"); !strings.Contains(out, "Peer signing digest: SHA1") {
			t.Fatalf("openssl s_client with TLS 1.2 and SHA-1 did not connect:\n%s", out)
		}
		rep := w.check(t, addr, name)
		expect(t, rep, diagnose.Failed, finding.ProtocolVersionIntolerance, finding.Error)
		f := findingOf(rep, finding.ProtocolVersionIntolerance)
		for _, s := range []string{"For TLS 1.2 it signed with rsa_pkcs1_sha1", "Allow RSA-PSS"} {
			if !strings.Contains(f.Detail+" "+f.Fix, s) {
				t.Errorf("the finding does not say %q:\n%s\n%s", s, f.Detail, f.Fix)
			}
		}
	})
}

// TestHelloRejected: a server that refuses the client's hello but answers
// tlskit's own, which offers the same and more, is
// protocol.hello-rejected, and the padded look says whether the size is
// the cause. This in-process server refuses, with handshake_failure, any
// hello that carries an X25519MLKEM768 key share, whatever its size (a
// middlebox that chokes on the new share; no server on this machine does
// it): tlskit's hello, which lists the group without a share for it, gets
// a HelloRetryRequest, and padded to the client's size it is answered
// too, so the finding says the size is not the cause. The size itself is
// the lab's large-hello case (check_versions script).
func TestHelloRejected(t *testing.T) {
	w := getWorld(t)
	name := "share.peer.test"
	cfg := &tls.Config{Certificates: []tls.Certificate{w.leaf(t, name, lab.LeafOptions{})}}
	addr := peertest.Serve(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(c, hdr); err != nil {
			return
		}
		body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
		if _, err := io.ReadFull(c, body); err != nil || len(body) < 4 {
			return
		}
		if m, err := wire.ParseMessage(wire.TypeClientHello, body[4:], wire.Context{}); err != nil || m.(*wire.ClientHello).HasKeyShare(wire.GroupX25519MLKEM768) {
			c.Write([]byte{21, 3, 3, 0, 2, 2, 40})
			return
		}
		tc := tls.Server(peertest.Replay(c, append(hdr, body...)), cfg)
		tc.Handshake()
		tc.Close()
	})
	rep := w.check(t, addr, name)
	expect(t, rep, diagnose.Failed, finding.ProtocolHelloRejected, finding.Error)
	f := findingOf(rep, finding.ProtocolHelloRejected)
	for _, s := range []string{"The server refuses the client's ClientHello, though it answers one that offers the same",
		"tlskit's hello was answered too, so the size is not the cause either"} {
		if !strings.Contains(f.Title+" "+f.Detail, s) {
			t.Errorf("the finding does not say %q:\n%s\n%s", s, f.Title, f.Detail)
		}
	}
	if finding.Has(rep.Findings, finding.ProtocolNoSharedCipher) {
		t.Errorf("reported as no shared cipher")
	}
}

// TestNoApplicationProtocol: a server that answers the client's ALPN list
// with no_application_protocol has said what it wants. openssl s_server
// -alpn h2 does so to a client offering http/1.1 (openssl s_client shows
// the alert), and answers h2. tlskit took a second look, which offers the
// same list, and added "it accepts nothing a TLS 1.0 to 1.3 client can
// offer"; the finding now names the protocols offered and --alpn, with no
// second look.
func TestNoApplicationProtocol(t *testing.T) {
	w := getWorld(t)
	name := "alpn.peer.test"
	addr := w.openssl(t, "alpn", w.leaf(t, name, lab.LeafOptions{}), []*x509.Certificate{w.pki.Intermediate}, "-alpn", "h2")
	if out := sClient(t, addr, "-servername", name, "-alpn", "http/1.1"); !strings.Contains(out, "no application protocol") {
		t.Fatalf("openssl s_client -alpn http/1.1 was not refused with no_application_protocol:\n%s", out)
	}
	if out := sClient(t, addr, "-servername", name, "-alpn", "h2"); !strings.Contains(out, "ALPN protocol: h2") {
		t.Fatalf("openssl s_client -alpn h2 did not get h2:\n%s", out)
	}
	rep := w.check(t, addr, name, func(o *Options) { o.ALPN = []string{"http/1.1"} })
	expect(t, rep, diagnose.Failed, finding.ProtocolAlert, finding.Error)
	f := findingOf(rep, finding.ProtocolAlert)
	if !strings.Contains(f.Title, "no_application_protocol") || !strings.Contains(f.Detail, "The client offered http/1.1.") || f.Setting != finding.SettingALPN {
		t.Errorf("finding %q, detail %q, setting %q", f.Title, f.Detail, f.Setting)
	}
	if rep.SecondLook != nil || strings.Contains(f.Detail, "accepts nothing") {
		t.Errorf("a second look after no_application_protocol: %+v\n%s", rep.SecondLook, f.Detail)
	}
	if rep := w.check(t, addr, name, func(o *Options) { o.ALPN = []string{"h2"} }); rep.Verdict != diagnose.Trusted || rep.ALPN != "h2" {
		t.Errorf("offering h2: %s, ALPN %q", rep.Verdict, rep.ALPN)
	}
}

// TestNoServerName: a Go server that has certificates only for names
// (Caddy and Traefik are built so) ends a hello without a server name with
// internal_error, and so every hello of a check made at its IP address
// without --servername. The finding says the client sent no name and
// points at the setting, and with the name the check is trusted.
func TestNoServerName(t *testing.T) {
	w := getWorld(t)
	name := "named.peer.test"
	cert := w.leaf(t, name, lab.LeafOptions{})
	addr := peertest.ServeTLS(t, &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if h.ServerName != name {
			return nil, fmt.Errorf("no certificate for %q", h.ServerName)
		}
		return &cert, nil
	}}, func(c *tls.Conn) {
		c.Handshake()
		c.Close()
	})
	host, _, _ := net.SplitHostPort(addr)
	rep := w.check(t, addr, host)
	expect(t, rep, diagnose.Failed, finding.ProtocolAlert, finding.Error)
	f := findingOf(rep, finding.ProtocolAlert)
	if !strings.Contains(f.Detail, "The client sent no server name (SNI)") || f.Setting != finding.SettingServerName || !strings.Contains(f.Detail, "the missing server name, for one") {
		t.Errorf("detail %q, setting %q", f.Detail, f.Setting)
	}
	if rep := w.check(t, addr, name); rep.Verdict != diagnose.Trusted {
		t.Errorf("with the name: %s %+v", rep.Verdict, rep.Findings)
	}
}
