//go:build linux

package exporter

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
)

// TestDialEachBlackHole: a name whose first address drops packets (a
// broken IPv6 route, a dead A record) and whose second answers is probed
// through the second, as Go's dialer (and so tlskit check) connects: the
// first address gets its share of the time, not all of it.
func TestDialEachBlackHole(t *testing.T) {
	good, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	port := good.Addr().(*net.TCPAddr).Port
	peertest.BlackHole(t, netip.AddrFrom4([4]byte{127, 0, 0, 2}), port)
	ips := []net.IPAddr{{IP: net.IPv4(127, 0, 0, 2)}, {IP: net.IPv4(127, 0, 0, 1)}}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	start := time.Now()
	c, err := dialEach(ctx, &net.Dialer{}, "tcp", ips, strconv.Itoa(port))
	if err != nil {
		t.Fatalf("dialEach: %v after %v; the second address answers", err, time.Since(start))
	}
	defer c.Close()
	if got := c.RemoteAddr().String(); got != good.Addr().String() {
		t.Errorf("connected to %s, want %s", got, good.Addr())
	}
	if took := time.Since(start); took < 1900*time.Millisecond || took > 2900*time.Millisecond {
		t.Errorf("connected after %v: the first address should have had 2 s of the 3", took)
	}
}
