package tunnel_test

import (
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/tunnel"
)

// TestClientRefusesServerCert: clients that do not trust the tunnel's
// certificate refuse it, and the server tunnel must log
// server-cert.rejected (side=client). The oracle is the client's own
// account: openssl s_client -msg shows the alert it sent, curl exits 60
// ("SSL certificate problem"). In TLS 1.3 OpenSSL (and so curl) sends
// that alert unencrypted, before it switched to its handshake keys;
// crypto/tls, expecting an encrypted record, fails with bad_record_mac,
// and the tunnel logged protocol.alert "local error: tls: bad record
// MAC", blaming nobody.
func TestClientRefusesServerCert(t *testing.T) {
	f := newFixture(t)
	policy := func(io.Writer) (*tlskit.Policy, error) {
		return &tlskit.Policy{CertFile: f.serverCert, KeyFile: f.serverKey, Time: f.now}, nil
	}
	var logs logBuf
	s := &tunnel.Supervisor{
		Services: []*tunnel.Service{{Name: "s", Mode: tunnel.ModeServer, Listen: "127.0.0.1:0", Target: echoServer(t), Policy: policy}},
		Logger:   logs.logger(),
	}
	addr, _ := runSupervisor(t, s, &logs)
	_, port, _ := net.SplitHostPort(addr)
	for _, tc := range []struct {
		name string
		cmd  []string
		says string // in the client's output
	}{
		{"openssl-tls13", []string{"openssl", "s_client", "-msg", "-tls1_3", "-connect", addr, "-servername", "good.lab.tlskit.test", "-CAfile", f.files.OtherRoot, "-verify_return_error"}, "fatal unknown_ca"},
		{"openssl-tls12", []string{"openssl", "s_client", "-msg", "-tls1_2", "-connect", addr, "-servername", "good.lab.tlskit.test", "-CAfile", f.files.OtherRoot, "-verify_return_error"}, "fatal unknown_ca"},
		{"curl", []string{"curl", "-sS", "--max-time", "10", "--cacert", f.files.OtherRoot, "--resolve", "good.lab.tlskit.test:" + port + ":127.0.0.1", "https://good.lab.tlskit.test:" + port + "/"}, "SSL certificate problem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			peertest.Need(t, tc.cmd[0])
			before := len(findings(&logs, finding.ServerCertRejected))
			cmd := exec.Command(tc.cmd[0], tc.cmd[1:]...)
			cmd.Stdin = strings.NewReader("")
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), tc.says) {
				t.Fatalf("%s does not say %q:\n%s", tc.cmd[0], tc.says, out)
			}
			logs.waitFinding(t, finding.ServerCertRejected)
			rs := findings(&logs, finding.ServerCertRejected)
			if len(rs) != before+1 {
				t.Fatalf("%d server-cert.rejected records, want %d:\n%s", len(rs), before+1, logs.String())
			}
			if r := rs[len(rs)-1]; r["side"] != "client" {
				t.Errorf("side=%v, want client: %v", r["side"], r)
			}
		})
	}
	if n, m := len(logs.records("refused")), len(findings(&logs, finding.ServerCertRejected)); n != m {
		t.Errorf("%d refusals, %d of them server-cert.rejected:\n%s", n, m, logs.String())
	}
}
