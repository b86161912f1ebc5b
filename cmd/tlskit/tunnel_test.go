package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/lab"
)

// tunnelProc is a `tlskit tunnel` child process logging JSON to logs.
type tunnelProc struct {
	addr string
	logs *peertest.SyncBuffer
}

// startTunnel runs `tlskit tunnel ARGS --listen 127.0.0.1:0 --log-format
// json` and waits for its listening line; it is stopped with SIGTERM when
// the test ends.
func startTunnel(t *testing.T, args ...string) *tunnelProc {
	t.Helper()
	cmd := exec.Command(tlskitBinary(t), append(args, "--listen", "127.0.0.1:0", "--log-format", "json")...)
	p := &tunnelProc{logs: &peertest.SyncBuffer{}}
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(p.logs.String(), "\n") {
			var l struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "listening" {
				p.addr = l.Addr
				return p
			}
		}
		select {
		case <-done:
			t.Fatalf("tlskit tunnel exited: %s", p.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("tlskit tunnel did not listen: %s", p.logs.String())
	return nil
}

// refusals returns the tunnel's msg=refused log lines, parsed.
func (p *tunnelProc) refusals() []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(p.logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "refused" {
			out = append(out, m)
		}
	}
	return out
}

// waitRefusal waits for the n-th refusal line.
func (p *tunnelProc) waitRefusal(t *testing.T, n int) map[string]any {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if r := p.refusals(); len(r) >= n {
			return r[n-1]
		}
	}
	t.Fatalf("no refusal #%d logged: %s", n, p.logs.String())
	return nil
}

// greeter is a plain TCP target that says hello and closes.
func greeter(t *testing.T) string {
	t.Helper()
	return serveConns(t, func(c net.Conn) { io.WriteString(c, "hello from the target\n") })
}

// tunnelPKI writes the lab PKI and a server leaf for 127.0.0.1 into a
// temporary directory.
func tunnelPKI(t *testing.T) (lab.Files, string, string) {
	t.Helper()
	pki, err := lab.NewPKI(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := pki.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := pki.Leaf(lab.LeafOptions{DNSNames: []string{"tunnel.lab.tlskit.test"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	var chain []byte
	for _, der := range leaf.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(dir, "tunnel.pem"), filepath.Join(dir, "tunnel.key")
	if err := os.WriteFile(cert, chain, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return files, cert, key
}

// sClient runs openssl s_client against addr with args until the
// connection ends, and returns its output.
func sClient(t *testing.T, addr string, args ...string) string {
	t.Helper()
	peertest.Need(t, "openssl")
	cmd := exec.Command("openssl", append([]string{"s_client", "-connect", addr, "-quiet"}, args...)...)
	var out peertest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	return out.String()
}

// TestTunnelServerNamesTheClientSide: `tlskit tunnel server` refusing what
// real openssl s_client clients present logs findings about the client,
// in the client's words. A client certificate from an unknown CA used to
// be logged as chain.incomplete "the server did not send the intermediate";
// a client that refuses the tunnel's certificate as client-cert.rejected.
func TestTunnelServerNamesTheClientSide(t *testing.T) {
	files, cert, key := tunnelPKI(t)
	tun := startTunnel(t, "tunnel", "server", "--target", greeter(t), "--cert", cert, "--key", key, "--client-ca", files.ClientCA)

	// A good client gets through: the tunnel works.
	if out := sClient(t, tun.addr, "-CAfile", files.Root, "-verify_return_error", "-cert", files.ClientCert, "-key", files.ClientKey); !strings.Contains(out, "hello from the target") {
		t.Fatalf("the good client's line did not come back: %s\n%s", out, tun.logs.String())
	}

	// A client certificate issued by a CA the tunnel does not trust.
	sClient(t, tun.addr, "-CAfile", files.Root, "-cert", files.BadClientCert, "-key", files.BadClientKey)
	r := tun.waitRefusal(t, 1)
	msg, _ := r["error"].(string)
	if r["finding"] != "chain.incomplete" || r["side"] != "client" ||
		!strings.Contains(msg, "the client's certificate is issued by \"CN=tlskit Lab Other Root CA") || !strings.Contains(msg, "not a trusted client CA") {
		t.Errorf("unknown-CA client logged as %v", r)
	}
	if strings.Contains(msg, "server") {
		t.Errorf("a client's certificate problem is worded about the server: %s", msg)
	}

	// A client that does not trust the tunnel's certificate (its CA file
	// is another root) refuses it with an alert: that is the client
	// rejecting the server's certificate. (TLS 1.2: in TLS 1.3, crypto/tls
	// could not read OpenSSL's alert sent at that point and reported a bad
	// record MAC, logged as protocol.alert.)
	sClient(t, tun.addr, "-tls1_2", "-CAfile", files.OtherRoot, "-verify_return_error", "-cert", files.ClientCert, "-key", files.ClientKey)
	r = tun.waitRefusal(t, 2)
	if r["finding"] != "server-cert.rejected" || r["side"] != "client" {
		t.Errorf("a client refusing the tunnel's certificate logged as %v", r)
	}
}

// TestTunnelTimeout: --timeout bounds the handshake of `tlskit tunnel`
// (the shared flag of every command that connects); --handshake-timeout,
// its old name, still works and says it is deprecated. A client that
// starts a ClientHello and never finishes it is refused with net.timeout
// after the timeout, not after the default 10s.
func TestTunnelTimeout(t *testing.T) {
	_, cert, key := tunnelPKI(t)
	for _, flag := range []string{"--timeout", "--handshake-timeout"} {
		t.Run(flag, func(t *testing.T) {
			tun := startTunnel(t, "tunnel", "server", "--target", greeter(t), "--cert", cert, "--key", key, flag, "300ms", "--first-byte-timeout", "-1s")
			c, err := net.Dial("tcp", tun.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}) // a ClientHello that never ends
			r := tun.waitRefusal(t, 1)
			if took := time.Since(start); r["finding"] != "net.timeout" || took < 250*time.Millisecond || took > 5*time.Second {
				t.Errorf("refused as %v after %v, want net.timeout after about 300ms", r["finding"], took)
			}
			deprecated := strings.Contains(tun.logs.String(), "tlskit: warning: --handshake-timeout is deprecated: use --timeout")
			if deprecated != (flag == "--handshake-timeout") {
				t.Errorf("%s: deprecation notice %v: %s", flag, deprecated, tun.logs.String())
			}
		})
	}
}

// TestTunnelClientSilentTarget: a target that accepts the connection and
// never answers the ClientHello is refused with net.timeout after
// --timeout, and the log says what did not complete: it said only
// "context deadline exceeded". (A listener that never answers is what a
// silent server is; no TLS server can be made to show it.)
func TestTunnelClientSilentTarget(t *testing.T) {
	silent := peertest.Serve(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	tun := startTunnel(t, "tunnel", "client", "--target", silent, "--servername", "silent.test", "--timeout", "300ms")
	c, err := net.Dial("tcp", tun.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hello\n"))
	r := tun.waitRefusal(t, 1)
	msg, _ := r["error"].(string)
	if r["finding"] != "net.timeout" || r["side"] != "target" || !strings.Contains(msg, "the TLS handshake with "+silent+" did not complete within the timeout (300ms)") {
		t.Errorf("a silent target logged as %v", r)
	}
}

// TestTunnelClientNamesWhatTheTargetSpeaks: a target that speaks only
// what Go's crypto/tls client does not offer (RSA key exchange, finite-
// field DHE) refuses the tunnel's hello with a bare handshake_failure,
// which alone reads as "no cipher suite in common". `tlskit check` tells
// the two apart with its second look and says protocol.client-unsupported;
// the tunnel, whose log promises check's finding ids, said
// protocol.no-shared-cipher. The oracle that the server does speak the
// suite is OpenSSL's own client, which connects with it. Two connections
// get the same answer (the second from the explanation kept a minute).
func TestTunnelClientNamesWhatTheTargetSpeaks(t *testing.T) {
	cert, key := peertest.SelfSigned(t, "/CN=localhost", "DNS:localhost", "-newkey", "rsa:2048")
	for _, tc := range []struct{ name, suite string }{
		{"rsa-key-exchange", "AES128-SHA256"},
		{"ffdhe", "DHE-RSA-AES128-GCM-SHA256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-tls1_2", "-cipher", tc.suite)
			// Not sClient: its -quiet waits for the server to close.
			out, _ := exec.Command("openssl", "s_client", "-connect", srv.Addr, "-brief", "-tls1_2", "-cipher", tc.suite,
				"-CAfile", cert, "-verify_return_error", "-servername", "localhost").CombinedOutput()
			if !strings.Contains(string(out), "CONNECTION ESTABLISHED") {
				t.Fatalf("openssl s_client -cipher %s does not connect: the server is not what the test needs:\n%s", tc.suite, out)
			}
			tun := startTunnel(t, "tunnel", "client", "--target", srv.Addr, "--servername", "localhost", "--ca-file", cert)
			for i := 1; i <= 2; i++ {
				c, err := net.Dial("tcp", tun.addr)
				if err != nil {
					t.Fatal(err)
				}
				c.Write([]byte("hello\n"))
				r := tun.waitRefusal(t, i)
				c.Close()
				if r["finding"] != "protocol.client-unsupported" || r["side"] != "target" {
					t.Errorf("connection %d: refused as %v, want protocol.client-unsupported on the target side", i, r)
				}
			}
		})
	}
}
