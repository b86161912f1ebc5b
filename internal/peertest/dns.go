package peertest

import (
	"context"
	"net"
	"strings"
	"testing"
)

// DNS starts dnsmasq as a test's DNS server on a free loopback port, with
// no upstream server and without /etc/hosts. It answers each name of addrs
// with its addresses (IPv4 and IPv6, separated by spaces: "127.0.0.1 ::1"
// answers A and AAAA queries); any other name under zone does not exist
// (NXDOMAIN); names under silent are forwarded to a loopback port where
// nothing answers, so their lookups time out, as they do when a name's own
// servers are down; every other name is refused (REFUSED). Ask it through
// [Resolver].
func DNS(t testing.TB, zone, silent string, addrs map[string]string) *Server {
	t.Helper()
	args := []string{"--keep-in-foreground", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
		"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces", "--user=root", "--group=root", "--pid-file=",
		"--log-queries", "--log-facility=-", "--local=/" + zone + "/", "--server=/" + silent + "/127.0.0.1#9"}
	for name, list := range addrs {
		for _, addr := range strings.Fields(list) {
			args = append(args, "--address=/"+name+"/"+addr)
		}
	}
	return Start(t, "dnsmasq", args...)
}

// Resolver returns Go's own resolver asking only the DNS server at addr
// (over UDP, and TCP for long answers), whatever /etc/resolv.conf names.
func Resolver(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}
