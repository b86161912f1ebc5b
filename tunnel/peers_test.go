package tunnel_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/trust"
)

// roundTrip writes msg, half-closes, and reads everything back.
func roundTrip(t testing.TB, addr, msg string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	must(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, msg)
	must(t, err)
	must(t, c.(*net.TCPConn).CloseWrite())
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading back: %v (got %q)", err, b)
	}
	return string(b)
}

// TestClientTunnelOpenSSL: plain client → client tunnel → openssl s_server -rev.
func TestClientTunnelOpenSSL(t *testing.T) {
	f := newFixture(t)
	srv := peertest.OpenSSL(t, "-cert", f.serverCert, "-key", f.serverKey, "-cert_chain", f.serverChain, "-rev", "-tls1_3")
	addr := serve(t, clientTunnel(t, f.clientPolicy(), srv.Addr))
	c, err := net.Dial("tcp", addr)
	must(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "hello tunnel\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	must(t, err)
	if strings.TrimSpace(line) != "lennut olleh" {
		t.Fatalf("got %q, want the reversed line", line)
	}
}

// TestCurlThroughClientTunnel: curl speaks plain HTTP to the client tunnel,
// which carries it over verified TLS to openssl s_server -www.
func TestCurlThroughClientTunnel(t *testing.T) {
	peertest.Need(t, "curl")
	f := newFixture(t)
	srv := peertest.OpenSSL(t, "-cert", f.serverCert, "-key", f.serverKey, "-cert_chain", f.serverChain, "-www")
	addr := serve(t, clientTunnel(t, f.clientPolicy(), srv.Addr))
	out, err := exec.Command("curl", "-sS", "--max-time", "10", "http://"+addr+"/").CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Ciphers supported") || !strings.Contains(string(out), "TLSv1.3") {
		t.Fatalf("curl got %.300q", out)
	}
}

// TestServerTunnelStunnelClient: plain → stunnel (client, verifying our
// chain and name, with a client certificate) → server tunnel (mTLS) → echo.
func TestServerTunnelStunnelClient(t *testing.T) {
	f := newFixture(t)
	var logs logBuf
	p := serverTunnel(t, f.serverPolicy(), echoServer(t))
	p.Logger = logs.logger()
	addr := serve(t, p)
	good := peertest.Stunnel(t, fmt.Sprintf("client = yes\nconnect = %s\nCAfile = %s\nverifyChain = yes\ncheckHost = good.lab.tlskit.test\nsni = good.lab.tlskit.test\ncert = %s\nkey = %s\n",
		addr, f.files.Root, f.clientCert, f.clientKey))
	if got := roundTrip(t, good, "through stunnel\n"); got != "through stunnel\n" {
		t.Fatalf("echo %q", got)
	}
	// A client certificate from a CA the tunnel does not trust.
	bad := peertest.Stunnel(t, fmt.Sprintf("client = yes\nconnect = %s\nCAfile = %s\nverifyChain = yes\ncert = %s\nkey = %s\n",
		addr, f.files.Root, f.files.BadClientCert, f.files.BadClientKey))
	c, err := net.Dial("tcp", bad)
	must(t, err)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.ReadAll(c)
	c.Close()
	logs.waitFinding(t, finding.ChainIncomplete)
}

// TestClientTunnelStunnelServer: plain → client tunnel (pinned) → stunnel
// server → echo.
func TestClientTunnelStunnelServer(t *testing.T) {
	f := newFixture(t)
	st := peertest.Stunnel(t, fmt.Sprintf("connect = %s\ncert = %s\nkey = %s\n", echoServer(t), f.serverCert, f.serverKey))
	pol := f.clientPolicy()
	pol.Pins = []string{trust.PinOf(f.pki.Intermediate).String(), trust.PinOf(f.pki.Root).String()}
	addr := serve(t, clientTunnel(t, pol, st))
	msg := strings.Repeat("0123456789abcdef", 20000) // 320 KB, several records
	if got := roundTrip(t, addr, msg); got != msg {
		t.Fatalf("echo of %d bytes returned %d bytes", len(msg), len(got))
	}
}

// TestServerTunnelOpenSSLClient: openssl s_client with a certificate on
// the allow-list reaches the target; one off the list is refused with
// name.mismatch in the log.
func TestServerTunnelOpenSSLClient(t *testing.T) {
	peertest.Need(t, "openssl")
	f := newFixture(t)
	var logs logBuf
	p := serverTunnel(t, f.serverPolicy(), echoServer(t))
	p.Logger = logs.logger()
	addr := serve(t, p)
	run := func(cert, key string) string {
		// stdin stays open a moment so that the echo arrives before
		// s_client quits at its end.
		cmd := exec.Command("sh", "-c", `(echo ping; sleep 0.5) | openssl s_client -quiet -no_ign_eof -connect "$0" -servername good.lab.tlskit.test -CAfile "$1" -verify_return_error -cert "$2" -key "$3"`,
			addr, f.files.Root, cert, key)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	if out := run(f.clientCert, f.clientKey); !strings.Contains(out, "ping") {
		t.Fatalf("s_client did not get its echo:\n%s", out)
	}
	run(f.strangerCert, f.strangerKey)
	r := logs.waitFinding(t, finding.NameMismatch)
	if r["side"] != "client" || !strings.Contains(fmt.Sprint(r["error"]), "batch.lab.tlskit.test") {
		t.Errorf("refusal record %v", r)
	}
}

// TestBadTargets: the client tunnel refuses targets with the right id.
func TestBadTargets(t *testing.T) {
	f := newFixture(t)
	expired, err := f.pki.Leaf(leafExpired(f))
	must(t, err)
	ec, ek, ech := writePair(t, f.dir, "expired", expired)
	good := peertest.OpenSSL(t, "-cert", f.serverCert, "-key", f.serverKey, "-cert_chain", f.serverChain, "-rev")
	exp := peertest.OpenSSL(t, "-cert", ec, "-key", ek, "-cert_chain", ech, "-rev")
	cases := []struct {
		name, target, want string
		edit               func(p *policyEdit)
	}{
		{"wrong CA", good.Addr, finding.ChainUntrustedRoot, func(p *policyEdit) { p.Trust = []string{"file:" + f.files.OtherRoot} }},
		{"pin mismatch", good.Addr, finding.PinMismatch, func(p *policyEdit) {
			p.Pins = []string{trust.PinOf(f.pki.OtherRoot).String(), trust.PinOf(f.pki.ClientCA).String()}
		}},
		{"expired", exp.Addr, finding.CertExpired, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pol := f.clientPolicy()
			if tc.edit != nil {
				tc.edit(pol)
			}
			var logs logBuf
			p := clientTunnel(t, pol, tc.target)
			p.Logger = logs.logger()
			addr := serve(t, p)
			c, err := net.Dial("tcp", addr)
			must(t, err)
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if got, _ := io.ReadAll(c); len(got) != 0 { // closed (or reset): refused
				t.Errorf("a refused target passed data back: %q", got)
			}
			c.Close()
			r := logs.waitFinding(t, tc.want)
			if r["side"] != "target" {
				t.Errorf("record %v", r)
			}
		})
	}
}

// TestSilentClientsCannotStarve: MaxConns silent TCP clients fill a tunnel
// server. A real client (openssl s_client) arriving then is refused at once
// (limit.max-conns), not left in the backlog; the silent clients are closed
// after the first-byte timeout (limit.first-byte) rather than the 10 s
// handshake timeout, and openssl s_client is then served.
func TestSilentClientsCannotStarve(t *testing.T) {
	peertest.Need(t, "openssl")
	f := newFixture(t)
	var logs logBuf
	p := serverTunnel(t, &tlskit.Policy{CertFile: f.serverCert, KeyFile: f.serverKey, Time: f.now}, echoServer(t))
	p.MaxConns, p.FirstByteTimeout, p.HandshakeTimeout, p.Logger = 4, 300*time.Millisecond, 10*time.Second, logs.logger()
	addr := serve(t, p)
	start := time.Now()
	for range 4 {
		c, err := net.Dial("tcp", addr)
		must(t, err)
		defer c.Close()
	}
	time.Sleep(50 * time.Millisecond) // let the proxy accept them
	sClient := func() (string, error) {
		cmd := exec.Command("openssl", "s_client", "-connect", addr, "-CAfile", f.files.Root, "-verify_return_error", "-brief")
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := sClient(); err == nil {
		t.Fatalf("s_client served while %d silent clients hold every slot:\n%s", 4, out)
	}
	logs.waitFinding(t, "limit.max-conns")
	for len(findings(&logs, "limit.first-byte")) < 4 {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("silent clients not refused by the first-byte timeout: %v", logs.records("refused"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	r := findings(&logs, "limit.first-byte")[0]
	if !strings.Contains(r["error"].(string), "sent nothing within 300ms") || r["side"] != "client" {
		t.Errorf("first-byte refusal logged as %v", r)
	}
	var out string
	var err error
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if out, err = sClient(); err == nil {
			break
		}
	}
	if err != nil || !strings.Contains(out, "Verification: OK") {
		t.Fatalf("s_client not served after the silent clients were dropped: %v\n%s", err, out)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a real client waited %v behind silent ones (handshake timeout 10s)", d)
	}
}

// findings returns the refused records with finding id.
func findings(l *logBuf, id string) []map[string]any {
	var out []map[string]any
	for _, r := range l.records("refused") {
		if r["finding"] == id {
			out = append(out, r)
		}
	}
	return out
}
