//go:build linux

package peertest

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// BlackHole makes addr:port drop connections as a broken route does: it
// listens there with an accept queue of one and fills it, so that the
// kernel drops every further SYN and a connect waits until it is given
// up. addr is a loopback address, IPv4 or IPv6.
func BlackHole(t testing.TB, addr netip.Addr, port int) {
	t.Helper()
	family := syscall.AF_INET6
	var sa syscall.Sockaddr = &syscall.SockaddrInet6{Port: port, Addr: addr.As16()}
	if addr.Is4() {
		family, sa = syscall.AF_INET, &syscall.SockaddrInet4{Port: port, Addr: addr.As4()}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, sa); err != nil {
		Skip(t, "bind %v:%d for a black hole: %v", addr, port, err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	hole := netip.AddrPortFrom(addr, uint16(port)).String()
	c, err := net.DialTimeout("tcp", hole, time.Second) // fills the queue
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if c2, err := net.DialTimeout("tcp", hole, 200*time.Millisecond); err == nil {
		c2.Close()
		Skip(t, "the kernel did not drop the SYN at %s: no black hole here", hole)
	}
}
