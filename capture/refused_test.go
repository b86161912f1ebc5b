package capture

import (
	"strings"
	"testing"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
)

// TestLiveVersionRefused records openssl s_client offering only TLS 1.2 to
// openssl s_server -tls1_3, which answers alert protocol_version, with
// dumpcap. The capture shows the refusal and nothing more: the finding
// names what the client offered, and its fix does not claim to know what
// the server accepts (it said "The server accepted no version from TLS 1.0
// to 1.3: it may speak only SSL 3.0", which only check's second look can
// find out, and which is false here: it speaks TLS 1.3).
func TestLiveVersionRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("live capture in -short mode")
	}
	peertest.Need(t, "dumpcap")
	cert, key := liveCert(t)
	srv := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-www", "-tls1_3")
	cases := []liveCase{{name: "tls12-only", prog: "openssl",
		args: []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-tls1_2"}, stdin: []string{"\n"}}}
	pcap, _ := recordLive(t, "tcp port "+port(srv.Addr), []string{srv.Addr}, cases)
	res := analyze(t, pcap, "", Options{})
	if len(res.conns) != 1 {
		t.Fatalf("%d connections", len(res.conns))
	}
	c := res.conns[0]
	var f *finding.Finding
	for i := range c.Findings {
		if c.Findings[i].ID == finding.ProtocolVersionMismatch {
			f = &c.Findings[i]
		}
	}
	if f == nil {
		t.Fatalf("no %s: %v", finding.ProtocolVersionMismatch, ids(c.Findings))
	}
	if !strings.Contains(f.Detail, "alert fatal protocol_version") || !strings.Contains(f.Title, "the client offered TLS 1.2") {
		t.Errorf("title %q, detail %q", f.Title, f.Detail)
	}
	for _, claim := range []string{"accepted no version", "SSL 3.0", "the server speaks"} {
		if strings.Contains(f.Fix+f.Title, claim) {
			t.Errorf("claims what the capture does not show (%q): %s / %s", claim, f.Title, f.Fix)
		}
	}
	if !strings.Contains(f.Fix, "not known") {
		t.Errorf("fix %q does not say what is not known", f.Fix)
	}
}
