package tunnel_test

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/tunnel"
)

// TestExplainOncePerMinute: a target that refuses every hello of the
// tunnel with a bare handshake_failure (openssl s_server offering only
// AES-CCM, which Go's crypto/tls does not speak) costs one
// Supervisor.Explain for three refused connections, and every refusal is
// logged and counted with its answer. A refusal the alert does not leave
// open (here a chain the policy does not trust) never calls it.
func TestExplainOncePerMinute(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name   string
		suite  string
		trust  string
		calls  int32
		wantID string
	}{
		{"bare-handshake-failure", "ECDHE-ECDSA-AES128-CCM", f.files.Root, 1, finding.ProtocolClientUnsupported},
		{"untrusted-chain", "ECDHE-ECDSA-AES128-GCM-SHA256", f.files.OtherRoot, 0, finding.ChainUntrustedRoot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := peertest.OpenSSL(t, "-cert", f.serverCert, "-key", f.serverKey, "-cert_chain", f.serverChain, "-tls1_2", "-cipher", tc.suite)
			var calls atomic.Int32
			policy := func(io.Writer) (*tlskit.Policy, error) {
				p := f.clientPolicy()
				p.Trust = []string{"file:" + tc.trust}
				return p, nil
			}
			var logs logBuf
			s := &tunnel.Supervisor{
				Services: []*tunnel.Service{{Name: "c", Mode: tunnel.ModeClient, Listen: "127.0.0.1:0", Target: srv.Addr, Policy: policy}},
				Logger:   logs.logger(),
				Explain: func(ctx context.Context, target string, proto starttls.Protocol, p *tlskit.Policy) string {
					calls.Add(1)
					if target != srv.Addr || proto != "" || p.ServerName != "good.lab.tlskit.test" {
						t.Errorf("Explain(%q, server name %q): want the service's target and policy", target, p.ServerName)
					}
					if _, ok := ctx.Deadline(); !ok {
						t.Errorf("Explain's context has no deadline")
					}
					return finding.ProtocolClientUnsupported
				},
			}
			addr, _ := runSupervisor(t, s, &logs)
			for range 3 {
				c, err := net.Dial("tcp", addr)
				must(t, err)
				c.SetDeadline(time.Now().Add(5 * time.Second))
				io.WriteString(c, "hello\n")
				io.ReadAll(c)
				c.Close()
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(logs.records("refused")) < 3 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			refused := logs.records("refused")
			if len(refused) != 3 {
				t.Fatalf("%d refusals logged, want 3:\n%s", len(refused), logs.String())
			}
			for _, r := range refused {
				if r["finding"] != tc.wantID || r["side"] != "target" {
					t.Errorf("refused as %v, want %s on the target side", r, tc.wantID)
				}
			}
			if n := calls.Load(); n != tc.calls {
				t.Errorf("Explain called %d times, want %d", n, tc.calls)
			}
		})
	}
}

// TestExplainHangUps: a target that hangs up on the tunnel's hello, or
// ends it with internal_error, is named as `tlskit check` names it, by
// probe.Explain (what `tlskit tunnel` sets), not as the close or the alert
// alone says: the lab's large-hello (one read of 1,024 bytes; the tunnel's
// Go hello, with its hybrid key share, is larger), version-intolerance
// (closes on a hello offering TLS 1.3) and unknown-name-go (a Go server
// without a certificate for the name: internal_error). Before, the first
// two were net.reset and the last protocol.alert.
func TestExplainHangUps(t *testing.T) {
	l, err := lab.Start(context.Background(), lab.Options{Dir: t.TempDir()})
	must(t, err)
	t.Cleanup(func() { l.Close() })
	for name, want := range map[string]string{
		"large-hello":         finding.ProtocolHelloRejected,
		"version-intolerance": finding.ProtocolVersionIntolerance,
		"unknown-name-go":     finding.SNIUnrecognizedName,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, ok := l.Case(name)
			if !ok {
				t.Fatalf("no lab case %s", name)
			}
			policy := func(io.Writer) (*tlskit.Policy, error) {
				return &tlskit.Policy{Trust: []string{"file:" + l.Files().Root}, ServerName: c.ServerName()}, nil
			}
			var logs logBuf
			s := &tunnel.Supervisor{
				Services: []*tunnel.Service{{Name: "c", Mode: tunnel.ModeClient, Listen: "127.0.0.1:0", Target: c.Addr, Policy: policy}},
				Logger:   logs.logger(),
				Explain:  probe.Explain,
			}
			addr, _ := runSupervisor(t, s, &logs)
			conn, err := net.Dial("tcp", addr)
			must(t, err)
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			io.ReadAll(conn)
			if r := logs.waitFinding(t, want); r["side"] != "target" {
				t.Errorf("refusal %v, want the target side", r)
			}
		})
	}
}
