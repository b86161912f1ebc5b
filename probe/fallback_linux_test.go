//go:build linux

package probe

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

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
	for a, want := range map[string]string{addr6: "refused", addr4: "connected"} {
		if got := peertest.Reach(t, a); got != want {
			t.Fatalf("openssl s_client at %s: %s, want %s", a, got, want)
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

// TestEveryAddressFails: a name with an AAAA and an A record (dnsmasq)
// where no address takes the connection. Go's dial error is the first
// address's alone; the finding's id is that one's, its detail says what
// became of each, and dial_failures lists them in order. Both refused
// (nothing listens on either: openssl s_client is refused at both), then
// [::1] refused and 127.0.0.1 a black hole (openssl s_client has not
// connected there after a second), where the title must not say that
// the server refused: its IPv4 address did not answer.
func TestEveryAddressFails(t *testing.T) {
	w := getWorld(t)
	const name = "none.peer.test"
	port := peertest.FreePort(t)
	addr4, addr6 := net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), net.JoinHostPort("::1", strconv.Itoa(port))
	dns := peertest.DNS(t, "peer.test", "down.test", map[string]string{name: "127.0.0.1 ::1"})
	d := &net.Dialer{Resolver: peertest.Resolver(dns.Addr)}
	for _, tc := range []struct {
		name     string
		hole     bool
		outcomes []string // of addr6, then addr4
		words    []string
		title    string
		reach4   string // what openssl s_client meets at addr4
	}{
		{"refused", false, []string{"refused", "refused"}, []string{"refused the connection", "refused the connection"},
			"Nothing accepts connections on " + name + ":" + strconv.Itoa(port), "refused"},
		{"black-hole", true, []string{"refused", "timeout"}, []string{"refused the connection", "did not answer in time"},
			"No address of " + name + ":" + strconv.Itoa(port) + " took the connection, and not all failed alike", "silent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.hole {
				peertest.BlackHole(t, netip.AddrFrom4([4]byte{127, 0, 0, 1}), port)
			}
			if got := peertest.Reach(t, addr6); got != "refused" {
				t.Fatalf("openssl s_client at %s: %s, want refused", addr6, got)
			}
			if got := peertest.Reach(t, addr4); got != tc.reach4 {
				t.Fatalf("openssl s_client at %s: %s, want %s", addr4, got, tc.reach4)
			}
			rep := w.check(t, net.JoinHostPort(name, strconv.Itoa(port)), "", func(o *Options) { o.Dialer = d.DialContext; o.Timeout = 2 * time.Second })
			expect(t, rep, diagnose.Failed, finding.NetRefused, finding.Error)
			f := findingOf(rep, finding.NetRefused)
			if f.Title != tc.title {
				t.Errorf("title %q, want %q", f.Title, tc.title)
			}
			if want := fmt.Sprintf("none took the connection: %s %s; %s %s.", addr6, tc.words[0], addr4, tc.words[1]); !strings.Contains(f.Detail, want) {
				t.Errorf("detail %q does not say %q", f.Detail, want)
			}
			if len(rep.DialFailures) != 2 || rep.Address != "" {
				t.Fatalf("dial_failures %+v (address %q), want %s and %s", rep.DialFailures, rep.Address, addr6, addr4)
			}
			for i, a := range []string{addr6, addr4} {
				if got := rep.DialFailures[i]; got.Address != a || got.Outcome != tc.outcomes[i] || !strings.Contains(got.Error, a) {
					t.Errorf("dial_failures[%d] = %+v, want %s %s", i, got, a, tc.outcomes[i])
				}
			}
		})
	}
	// An IP address is one attempt, which the finding names: no list.
	rep := w.check(t, addr4, name, func(o *Options) { o.Timeout = time.Second })
	if rep.DialFailures != nil {
		t.Errorf("dial_failures for an IP address: %+v", rep.DialFailures)
	}
}
