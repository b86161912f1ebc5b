package peertest

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestTsharkReadsTLSOnAClaimedPort records openssl s_client connecting
// from a port that one of tshark's dissectors claims (48898, AMS; 44818,
// EtherNet/IP; 34980, EtherCAT) to openssl s_server, and reads the capture
// with [Tshark]: the ClientHello is TLS, as it would be from any other
// client port. Read as tshark reads it by default, the same segment is
// that protocol's request, which made live-capture tests fail whenever the
// kernel happened to give a client such a port.
func TestTsharkReadsTLSOnAClaimedPort(t *testing.T) {
	if testing.Short() {
		t.Skip("live capture in -short mode")
	}
	Need(t, "dumpcap")
	openssl := Need(t, "openssl")
	cert, key := SelfSigned(t, "/CN=localhost", "")
	srv := OpenSSL(t, "-cert", cert, "-key", key, "-www")
	_, port, _ := strings.Cut(srv.Addr, ":")
	c := StartCapture(t, "tcp port "+port)
	from := 0
	for _, p := range []int{48898, 44818, 34980} {
		cmd := exec.Command(openssl, "s_client", "-connect", srv.Addr, "-bind", "127.0.0.1:"+strconv.Itoa(p))
		cmd.Stdin = strings.NewReader("")
		if err := cmd.Run(); err == nil {
			from = p
			break
		}
	}
	if from == 0 {
		t.Skip("none of the claimed ports was free for the client")
	}
	pcap := c.Stop()
	filter := "tcp.srcport == " + strconv.Itoa(from) + " && tcp.len > 0"
	out, err := Tshark(t, "-r", pcap, "-Y", filter, "-T", "fields", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	if first, _, _ := strings.Cut(string(out), "\n"); !strings.Contains(first, "Client Hello") {
		def, _ := exec.Command(Need(t, "tshark"), "-r", pcap, "-Y", filter).Output()
		t.Errorf("tshark reads the client's first segment from port %d as %q, want a TLS Client Hello (its default reading: %.300s)", from, first, def)
	}
}
