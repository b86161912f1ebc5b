//go:build linux

package probe

import (
	"crypto/x509"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/lab"
)

// TestFallback: a name with an AAAA and an A record (dnsmasq) whose IPv6
// address does not take the connection and whose IPv4 address is openssl
// s_server. Go's dialer tries ::1 first (RFC 6724) and goes on to
// 127.0.0.1; the check is trusted, with net.fallback saying what happened
// at the first address: refused (nothing listens on [::1]:PORT; openssl
// s_client is refused there too and connects at 127.0.0.1), or no answer
// before the IPv4 attempt, started 300 ms later, connected (a black hole).
func TestFallback(t *testing.T) {
	w := getWorld(t)
	const name = "fb.peer.test"
	addr4 := w.openssl(t, "fb", w.leaf(t, name, lab.LeafOptions{}), []*x509.Certificate{w.pki.Intermediate})
	_, port, _ := net.SplitHostPort(addr4)
	addr6 := "[::1]:" + port
	for a, want := range map[string]string{addr6: "Connection refused", addr4: "CONNECTED"} {
		out, _ := exec.Command("openssl", "s_client", "-connect", a).CombinedOutput()
		if !strings.Contains(string(out), want) {
			t.Fatalf("openssl s_client -connect %s does not say %q:\n%s", a, want, out)
		}
	}
	dns := peertest.DNS(t, "peer.test", "down.test", map[string]string{name: "127.0.0.1 ::1"})
	d := &net.Dialer{Resolver: peertest.Resolver(dns.Addr)}
	check := func(t *testing.T, why string) {
		t.Helper()
		rep := w.check(t, net.JoinHostPort(name, port), "", func(o *Options) { o.Dialer = d.DialContext })
		expect(t, rep, diagnose.Trusted, finding.NetFallback, finding.Warning)
		f := findingOf(rep, finding.NetFallback)
		if rep.Address != addr4 || !strings.Contains(f.Title, "did not connect at "+addr6+"; tlskit connected to "+addr4) || !strings.Contains(f.Detail, addr6+" "+why) {
			t.Errorf("reached %s; %q / %q, want %s reached and %s %s", rep.Address, f.Title, f.Detail, addr4, addr6, why)
		}
	}
	t.Run("refused", func(t *testing.T) { check(t, "refused the connection") })
	t.Run("black-hole", func(t *testing.T) {
		p, _ := strconv.Atoi(port)
		peertest.BlackHole(t, netip.IPv6Loopback(), p)
		check(t, "had not connected when the next address")
	})
	// One address, no fallback: no finding.
	rep := w.check(t, addr4, name)
	if finding.Has(rep.Findings, finding.NetFallback) {
		t.Errorf("net.fallback with one address: %+v", rep.Findings)
	}
}
