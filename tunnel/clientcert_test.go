package tunnel_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/tunnel"
)

// TestTargetRefusesClientCert: a client service (run by a Supervisor, as
// `tlskit tunnel client` runs it) to openssl s_server -Verify 1 (and
// gnutls-serv --require-client-cert in TLS 1.2), which
// requires a client certificate from the client CA (-verify_return_error:
// and refuses one it cannot verify), in TLS 1.2 and 1.3:
// without a client certificate and with one from a CA the server does not
// trust. The oracle is the server's own account of why it refused, on its
// stderr; the tunnel must log the refusal with the matching finding id,
// side=target, and count it. Before, TLS 1.2 without a certificate was
// protocol.no-shared-cipher (OpenSSL's handshake_failure alert read as
// "nothing in common") and in TLS 1.3 nothing was logged or counted at
// all: the server's alert comes after the client's side of the handshake
// is over, while the tunnel already forwards.
func TestTargetRefusesClientCert(t *testing.T) {
	f := newFixture(t)
	openssl := func(version string) func(t *testing.T) *peertest.Server {
		return func(t *testing.T) *peertest.Server {
			return peertest.OpenSSL(t, "-cert", f.serverCert, "-key", f.serverKey, "-cert_chain", f.serverChain,
				"-Verify", "1", "-verify_return_error", "-CAfile", f.files.ClientCA, version, "-rev")
		}
	}
	// gnutls-serv answers a missing certificate with decode_error.
	gnutls := func(t *testing.T) *peertest.Server {
		return peertest.Start(t, "gnutls-serv", "-p", "{port}", "--x509certfile", f.serverCert, "--x509keyfile", f.serverKey,
			"--x509cafile", f.files.ClientCA, "--require-client-cert", "--priority", "NORMAL:-VERS-TLS1.3")
	}
	for _, tc := range []struct {
		name      string
		server    func(t *testing.T) *peertest.Server
		cert, key string
		says      string // what the server says
		want      string
	}{
		{"openssl-tls12-none", openssl("-tls1_2"), "", "", "peer did not return a certificate", finding.ClientCertRequired},
		{"openssl-tls13-none", openssl("-tls1_3"), "", "", "peer did not return a certificate", finding.ClientCertRequired},
		{"openssl-tls12-untrusted", openssl("-tls1_2"), f.files.BadClientCert, f.files.BadClientKey, "certificate verify failed", finding.ClientCertRejected},
		{"openssl-tls13-untrusted", openssl("-tls1_3"), f.files.BadClientCert, f.files.BadClientKey, "certificate verify failed", finding.ClientCertRejected},
		{"gnutls-tls12-none", gnutls, "", "", "No certificate was found", finding.ClientCertRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.server(t)
			policy := func(io.Writer) (*tlskit.Policy, error) {
				p := f.clientPolicy()
				p.CertFile, p.KeyFile = tc.cert, tc.key
				return p, nil
			}
			var logs logBuf
			s := &tunnel.Supervisor{
				Services: []*tunnel.Service{{Name: "c", Mode: tunnel.ModeClient, Listen: "127.0.0.1:0", Target: srv.Addr, Policy: policy}},
				Logger:   logs.logger(),
			}
			addr, _ := runSupervisor(t, s, &logs)
			c, err := net.Dial("tcp", addr)
			must(t, err)
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "hello\n")
			b, _ := io.ReadAll(c)
			c.Close()
			if len(b) > 0 {
				t.Fatalf("the plaintext client got %q from a server that refused the tunnel", b)
			}
			r := logs.waitFinding(t, tc.want)
			if r["side"] != "target" {
				t.Errorf("side=%v, want target: %v", r["side"], r)
			}
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(srv.Output(), tc.says) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if !strings.Contains(srv.Output(), tc.says) {
				t.Errorf("the server does not say %q; its output:\n%s", tc.says, srv.Output())
			}
			if n := len(logs.records("refused")); n != 1 {
				t.Errorf("%d refused records, want 1:\n%s", n, logs.String())
			}
		})
	}
}
