//go:build linux

package scan

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
)

// TestEveryAddressFailsRealDNS: a scan of a name (dnsmasq: an A and an
// AAAA record) none of whose addresses connects, [::1] refused and
// 127.0.0.1 a black hole: the finding is the first address's, its title
// says the addresses failed differently, and dial_failures has each in
// order (openssl s_client is refused at [::1]; probe's
// TestEveryAddressFails checks the black hole with it too).
func TestEveryAddressFailsRealDNS(t *testing.T) {
	port := peertest.FreePort(t)
	peertest.BlackHole(t, netip.AddrFrom4([4]byte{127, 0, 0, 1}), port)
	addr4, addr6 := net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), net.JoinHostPort("::1", strconv.Itoa(port))
	if got := peertest.Reach(t, addr6); got != "refused" {
		t.Fatalf("openssl s_client at %s: %s, want refused", addr6, got)
	}
	dns := peertest.DNS(t, "scan.test", "down.test", map[string]string{"none.scan.test": "127.0.0.1 ::1"})
	d := &net.Dialer{Resolver: peertest.Resolver(dns.Addr)}
	rep, err := Run(context.Background(), Options{Address: "none.scan.test:" + strconv.Itoa(port), NoClients: true, Timeout: time.Second,
		Dial: func(ctx context.Context, a string) (net.Conn, error) { return d.DialContext(ctx, "tcp", a) }})
	if err != nil {
		t.Fatal(err)
	}
	wantFindings(t, rep, []string{finding.NetRefused}, nil)
	for _, f := range rep.Findings {
		if f.ID == finding.NetRefused && (!strings.Contains(f.Title, "not all failed alike") || !strings.Contains(f.Detail, addr6+" refused the connection; "+addr4+" did not answer in time")) {
			t.Errorf("net.refused: %q / %q", f.Title, f.Detail)
		}
	}
	if len(rep.DialFailures) != 2 || rep.DialFailures[0].Address != addr6 || rep.DialFailures[0].Outcome != "refused" ||
		rep.DialFailures[1].Address != addr4 || rep.DialFailures[1].Outcome != "timeout" || rep.Address != "" {
		t.Errorf("dial_failures %+v (address %q), want %s refused, %s timeout", rep.DialFailures, rep.Address, addr6, addr4)
	}
}
