package tunnel_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/tunnel"
)

// fixture is a lab PKI on disk with a server leaf for 127.0.0.1 and
// good.lab.tlskit.test, and a client leaf (batch.lab.tlskit.test).
type fixture struct {
	pki                       *lab.PKI
	files                     lab.Files
	dir                       string
	serverCert, serverKey     string
	serverChain               string
	clientCert, clientKey     string
	strangerCert, strangerKey string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	pki, err := lab.NewPKI(time.Now())
	must(t, err)
	dir := t.TempDir()
	files, err := pki.WriteFiles(dir)
	must(t, err)
	f := &fixture{pki: pki, files: files, dir: dir}
	srv, err := pki.Leaf(lab.LeafOptions{DNSNames: []string{"good.lab.tlskit.test"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	must(t, err)
	f.serverCert, f.serverKey, f.serverChain = writePair(t, dir, "server", srv)
	eku := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	cl, err := pki.Leaf(lab.LeafOptions{DNSNames: []string{"batch.lab.tlskit.test"}, Issuer: pki.ClientCA, IssuerKey: pki.ClientCAKey, EKU: eku})
	must(t, err)
	f.clientCert, f.clientKey, _ = writePair(t, dir, "client", cl)
	st, err := pki.Leaf(lab.LeafOptions{DNSNames: []string{"web.lab.tlskit.test"}, Issuer: pki.ClientCA, IssuerKey: pki.ClientCAKey, EKU: eku})
	must(t, err)
	f.strangerCert, f.strangerKey, _ = writePair(t, dir, "stranger", st)
	return f
}

func (f *fixture) now() time.Time { return f.pki.Now }

// clientPolicy trusts the lab root for good.lab.tlskit.test.
func (f *fixture) clientPolicy() *tlskit.Policy {
	return &tlskit.Policy{Trust: []string{"file:" + f.files.Root}, ServerName: "good.lab.tlskit.test", Time: f.now}
}

// serverPolicy serves the server leaf and requires batch.lab.tlskit.test
// client certificates from the client CA.
func (f *fixture) serverPolicy() *tlskit.Policy {
	return &tlskit.Policy{
		CertFile: f.serverCert, KeyFile: f.serverKey, Time: f.now,
		ClientTrust: []string{"file:" + f.files.ClientCA}, RequireClientCert: true,
		AllowedClients: []string{"batch.lab.tlskit.test"},
	}
}

// writePair writes name.pem (full chain), name-chain.pem and name.key.
func writePair(t testing.TB, dir, name string, c tls.Certificate) (cert, key, chain string) {
	t.Helper()
	cert, key, chain = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key"), filepath.Join(dir, name+"-chain.pem")
	var all, rest []byte
	for i, der := range c.Certificate {
		b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		all = append(all, b...)
		if i > 0 {
			rest = append(rest, b...)
		}
	}
	kder, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	must(t, err)
	must(t, os.WriteFile(cert, all, 0o644))
	must(t, os.WriteFile(chain, rest, 0o644))
	must(t, os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	return cert, key, chain
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// logBuf collects JSON log records.
type logBuf struct {
	peertest.SyncBuffer
}

// records returns the records with msg.
func (l *logBuf) records(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil && r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// waitFinding waits until a refused record with finding id appears.
func (l *logBuf) waitFinding(t testing.TB, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range l.records("refused") {
			if r["finding"] == id {
				return r
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no refused record with finding=%s in the log:\n%s", id, l.String())
	return nil
}

func (l *logBuf) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// listen listens on a loopback port.
func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	return ln
}

// serve runs p on a new loopback listener and returns its address.
func serve(t testing.TB, p *tunnel.Proxy) string {
	t.Helper()
	ln := listen(t)
	go p.Serve(ln)
	t.Cleanup(func() { p.Close() })
	return ln.Addr().String()
}

// clientTunnel returns a proxy: plain in, TLS (under pol) to target.
func clientTunnel(t testing.TB, pol *tlskit.Policy, target string) *tunnel.Proxy {
	t.Helper()
	cfg, err := pol.ClientConfig("")
	must(t, err)
	return &tunnel.Proxy{
		Name: "client",
		Dial: func(ctx context.Context, _ net.Conn) (net.Conn, error) {
			return (&tls.Dialer{Config: cfg}).DialContext(ctx, "tcp", target)
		},
	}
}

// serverTunnel returns a proxy: TLS (under pol) in, plain to target.
func serverTunnel(t testing.TB, pol *tlskit.Policy, target string) *tunnel.Proxy {
	t.Helper()
	cfg, err := pol.ServerConfig()
	must(t, err)
	return &tunnel.Proxy{
		Name: "server",
		Handshake: func(ctx context.Context, c net.Conn) (net.Conn, error) {
			tc := tls.Server(c, cfg)
			return tc, tc.HandshakeContext(ctx)
		},
		Dial: func(ctx context.Context, _ net.Conn) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", target)
		},
	}
}

// echoServer echoes every connection until EOF, then half-closes.
func echoServer(t testing.TB) string {
	t.Helper()
	return peertest.Serve(t, func(c net.Conn) {
		io.Copy(c, c)
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
	})
}

// policyEdit is the policy type the table tests edit.
type policyEdit = tlskit.Policy

// leafExpired describes a good.lab.tlskit.test leaf that expired a day ago.
func leafExpired(f *fixture) lab.LeafOptions {
	return lab.LeafOptions{DNSNames: []string{"good.lab.tlskit.test"}, NotBefore: f.now().Add(-72 * time.Hour), NotAfter: f.now().Add(-24 * time.Hour)}
}
