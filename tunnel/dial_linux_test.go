//go:build linux

package tunnel_test

import (
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/tunnel"
)

// TestTargetAddresses: a client service whose target is a name with an
// AAAA and an A record (dnsmasq, Supervisor.Resolver). When [::1] refuses
// and openssl s_server answers at 127.0.0.1, connections go through, and
// the log says net.fallback once a minute, naming what [::1] did (a
// broken IPv6 route costs each connection unsaid otherwise). When no
// address connects ([::1] refused, 127.0.0.1 a black hole), the refusal's
// error names each address and what it did: Go's names the first alone.
// openssl s_client is the oracle of what each address does.
func TestTargetAddresses(t *testing.T) {
	f := newFixture(t)
	dns := peertest.DNS(t, "tunnel.test", "down.test", map[string]string{"fb.tunnel.test": "127.0.0.1 ::1", "none.tunnel.test": "127.0.0.1 ::1"})
	run := func(t *testing.T, target string) (string, *logBuf) {
		logs := &logBuf{}
		s := &tunnel.Supervisor{
			Services: []*tunnel.Service{{Name: "c", Mode: tunnel.ModeClient, Listen: "127.0.0.1:0", Target: target, Limits: tunnel.Limits{HandshakeTimeout: 2 * time.Second},
				Policy: func(io.Writer) (*tlskit.Policy, error) { return f.clientPolicy(), nil }}},
			Logger:   logs.logger(),
			Resolver: peertest.Resolver(dns.Addr),
		}
		addr, _ := runSupervisor(t, s, logs)
		return addr, logs
	}
	through := func(t *testing.T, addr string) {
		c, err := net.Dial("tcp", addr)
		must(t, err)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "hello\n")
		c.Close()
	}
	wait := func(logs *logBuf, msg string, n int) []map[string]any {
		deadline := time.Now().Add(5 * time.Second)
		for len(logs.records(msg)) < n && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		return logs.records(msg)
	}

	t.Run("fallback", func(t *testing.T) {
		srv := peertest.OpenSSL(t, "-cert", f.serverCert, "-key", f.serverKey, "-cert_chain", f.serverChain)
		_, port, _ := net.SplitHostPort(srv.Addr)
		addr6 := net.JoinHostPort("::1", port)
		if got := peertest.Reach(t, addr6); got != "refused" {
			t.Fatalf("openssl s_client at %s: %s, want refused", addr6, got)
		}
		addr, logs := run(t, "fb.tunnel.test:"+port)
		for range 3 {
			through(t, addr)
		}
		wait(logs, "closed", 3)
		if r := logs.records("refused"); len(r) > 0 {
			t.Fatalf("refused: %v", r)
		}
		fb := logs.records("target reached at another of its addresses")
		if len(fb) != 1 {
			t.Fatalf("%d net.fallback records for 3 connections, want 1 (once a minute):\n%s", len(fb), logs.String())
		}
		if r := fb[0]; r["finding"] != finding.NetFallback || r["address"] != srv.Addr || !strings.Contains(r["tried"].(string), addr6+" refused the connection") {
			t.Errorf("net.fallback record %v, want %s reached after %s refused", r, srv.Addr, addr6)
		}
	})

	t.Run("every-address-fails", func(t *testing.T) {
		port := peertest.FreePort(t)
		peertest.BlackHole(t, netip.AddrFrom4([4]byte{127, 0, 0, 1}), port)
		addr4, addr6 := net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), net.JoinHostPort("::1", strconv.Itoa(port))
		if got := peertest.Reach(t, addr6); got != "refused" {
			t.Fatalf("openssl s_client at %s: %s, want refused", addr6, got)
		}
		if got := peertest.Reach(t, addr4); got != "silent" {
			t.Fatalf("openssl s_client at the black hole %s: %s, want silent", addr4, got)
		}
		addr, logs := run(t, "none.tunnel.test:"+strconv.Itoa(port))
		through(t, addr)
		r := logs.waitFinding(t, finding.NetRefused) // the first address's
		if e, _ := r["error"].(string); !strings.Contains(e, "each of the name's addresses was tried: "+addr6+" refused the connection; "+addr4+" did not answer in time") || r["side"] != "target" {
			t.Errorf("refused record %v, want each address named", r)
		}
		if len(logs.records("target reached at another of its addresses")) != 0 {
			t.Errorf("net.fallback logged with no address connected")
		}
	})
}
