package peertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Tshark returns a tshark command with args, reading a fresh configuration
// directory of its own (WIRESHARK_CONFIG_DIR, so the user's preferences do
// not change what a test sees) in which the dissectors that claim a port of
// the kernel's ephemeral range are disabled.
//
// On loopback both ends of a recorded connection have such ports: the
// client's is ephemeral, and so is the server's when a test asked the
// kernel for a free one, and servertest's servers listen from 20000 up.
// tshark tries a connection's lower port first, so a client that happened
// to get 48898 (AMS) or 44818 (EtherNet/IP), or a server on 30005
// (MRCPv2), was read as that protocol, not TLS: a test failed now and then
// with tshark seeing no ClientHello, or decrypting nothing of a connection
// tlskit decrypted. Without those dissectors,
// tshark finds TLS by its heuristic, as on any other high port. It skips
// (or fails, under TLSKIT_REQUIRE_PEERS=1) the test when tshark is not
// installed.
func Tshark(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	path := Need(t, "tshark")
	dir := t.TempDir()
	if protos := ephemeralDissectors(); len(protos) > 0 {
		if err := os.WriteFile(filepath.Join(dir, "disabled_protos"), []byte(strings.Join(protos, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+dir)
	return cmd
}

// ephemeralDissectors returns, once per test binary, the dissectors that
// tshark registers on a TCP or UDP port a test's server or client can
// have: from 20000 (where servertest takes its servers' ports) to the top
// of the kernel's ephemeral range. TLS and DTLS are left out.
var ephemeralDissectors = sync.OnceValue(func() []string {
	path, err := exec.LookPath("tshark")
	if err != nil {
		return nil
	}
	_, hi := ephemeralRange()
	return dissectorsOn(path, 20000, hi)
})

// dissectorsOn lists the dissectors tshark -G decodes registers on a TCP
// or UDP port in [lo, hi].
func dissectorsOn(tshark string, lo, hi int) []string {
	cmd := exec.Command(tshark, "-G", "decodes")
	cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+os.DevNull)
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	seen := map[string]bool{"tls": true, "dtls": true}
	var protos []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 || (f[0] != "tcp.port" && f[0] != "udp.port") {
			continue
		}
		if p, err := strconv.Atoi(f[1]); err != nil || p < lo || p > hi || seen[f[2]] {
			continue
		}
		seen[f[2]] = true
		protos = append(protos, f[2])
	}
	return protos
}

// ephemeralRange returns the kernel's ephemeral port range
// (ip_local_port_range), or IANA's 49152–65535 when it cannot be read.
func ephemeralRange() (lo, hi int) {
	lo, hi = 49152, 65535
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			l, err1 := strconv.Atoi(f[0])
			h, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil {
				lo, hi = l, h
			}
		}
	}
	return lo, hi
}
