package capture

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
)

// keepFrames writes a copy of a capture that holds only its first n
// frames, numbered as tshark numbers them: what a capture stopped at that
// frame holds.
func keepFrames(t *testing.T, in string, n int) string {
	t.Helper()
	path, kept := rewriteCapture(t, in, func(i int, _ *layers.TCP) bool { return i <= n })
	if kept < n {
		t.Fatalf("the capture has %d frames, not %d", kept, n)
	}
	return path
}

// tsharkFrames returns the numbers of the frames of a capture that match a
// tshark display filter, in order; extra arguments go before the filter
// (-d to decode a port as TLS).
func tsharkFrames(t *testing.T, path, filter string, extra ...string) []int {
	t.Helper()
	out := runTshark(t, append(append([]string{"-r", path}, extra...), "-Y", filter, "-T", "fields", "-e", "frame.number"))
	var frames []int
	for _, f := range strings.Fields(out) {
		n, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("tshark frame number %q", f)
		}
		frames = append(frames, n)
	}
	return frames
}

// TestLiveCaptureEndsMidHandshake records real handshakes on loopback
// with dumpcap (openssl s_client against openssl s_server: TLS 1.3, TLS
// 1.2 to a server that requires a client certificate, and DTLS 1.2) and
// cuts each capture short, as a capture stopped at that moment holds it.
// The oracle for what the cut capture holds is tshark reading it: the
// frame it ends with, and no FIN or RST in it. A capture that ends after
// the ClientHello, or after the server's first flight, holds no outcome
// of the handshake: tlskit called it FAILED ("The handshake failed",
// protocol.malformed); the verdict is unknown, with capture.incomplete
// saying where the capture stops. A capture that ends after the server's
// fatal alert, before any FIN, does hold the outcome: that stays failed.
func TestLiveCaptureEndsMidHandshake(t *testing.T) {
	if testing.Short() {
		t.Skip("live capture in -short mode")
	}
	peertest.Need(t, "dumpcap")
	peertest.Need(t, "tshark")
	cert, key := liveCert(t)
	plain := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-www")
	mtls := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-www", "-Verify", "1", "-CAfile", cert)
	dtls := peertest.OpenSSL(t, "-dtls", "-cert", cert, "-key", key)
	get := []string{"GET /unended HTTP/1.0\r\n\r\n"}
	cases := []liveCase{
		{name: "tls13", server: 0, prog: "openssl", args: []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-tls1_3", "-ign_eof"}, stdin: get},
		{name: "tls12-client-cert-required", server: 1, prog: "openssl", args: []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-tls1_2", "-ign_eof"}, stdin: get},
		{name: "dtls12", server: 2, prog: "openssl", args: []string{"s_client", "-dtls1_2", "-connect", "{addr}", "-keylogfile", "{keylog}"}, stdin: []string{"hello\n"}},
	}
	filter := "tcp port " + port(plain.Addr) + " or tcp port " + port(mtls.Addr) + " or udp port " + port(dtls.Addr)
	pcap, keys := recordLive(t, filter, []string{plain.Addr, mtls.Addr, dtls.Addr}, cases)

	// first returns the first frame tshark matches with filter.
	first := func(filter string) int {
		t.Helper()
		fr := tsharkFrames(t, pcap, filter)
		if len(fr) == 0 {
			t.Fatalf("tshark finds no frame for %q in the recording", filter)
		}
		return fr[0]
	}
	for _, c := range []struct {
		name    string
		server  string // the server's address
		cut     string // tshark filter of the frame the capture ends with
		last    string // tshark's Info column of that frame
		verdict diagnose.Verdict
		finding string
	}{
		{"tls13-client-hello", plain.Addr, "tls.handshake.type == 1 && tcp.port == " + port(plain.Addr), "Client Hello", diagnose.Unknown, finding.CaptureIncomplete},
		{"tls13-server-flight", plain.Addr, "tls.handshake.type == 2 && tcp.port == " + port(plain.Addr), "Server Hello", diagnose.Unknown, finding.CaptureIncomplete},
		{"dtls12-client-hello", dtls.Addr, "dtls.handshake.type == 1", "Client Hello", diagnose.Unknown, finding.CaptureIncomplete},
		{"tls12-server-alert", mtls.Addr, "tls.alert_message && tcp.srcport == " + port(mtls.Addr), "Alert", diagnose.Failed, finding.ClientCertRequired},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := first(c.cut)
			cut := keepFrames(t, pcap, n)
			// The oracle: tshark's reading of the cut capture.
			info := runTshark(t, []string{"-r", cut, "-Y", "frame.number == " + strconv.Itoa(n), "-T", "fields", "-e", "_ws.col.Info"})
			if !strings.Contains(info, c.last) {
				t.Fatalf("tshark reads the capture's last frame %d as %q, want %q", n, info, c.last)
			}
			if fr := tsharkFrames(t, cut, "(tcp.flags.fin == 1 || tcp.flags.reset == 1) && tcp.port == "+port(c.server)); len(fr) > 0 {
				t.Fatalf("tshark finds FIN or RST in frames %v of the connection", fr)
			}
			// The earlier connections of the recording are whole: leave them out.
			res := analyze(t, cut, "", Options{Keys: keys, Filter: func(_, server string) bool { return server == c.server }})
			if res.err != nil || len(res.conns) != 1 {
				t.Fatalf("%v, %d connections", res.err, len(res.conns))
			}
			conn := res.conns[0]
			if conn.ClosedBy != nil {
				t.Errorf("closed by %+v, want still open", conn.ClosedBy)
			}
			if conn.Verdict != c.verdict {
				t.Errorf("verdict %s, want %s; findings %v", conn.Verdict, c.verdict, ids(conn.Findings))
			}
			if !hasFinding(conn.Findings, c.finding) {
				t.Errorf("findings %v lack %s", ids(conn.Findings), c.finding)
			}
			if c.verdict == diagnose.Unknown {
				for _, f := range conn.Findings {
					if strings.HasPrefix(f.ID, "protocol.") || strings.HasPrefix(f.ID, "net.") {
						t.Errorf("%s: %s: the capture says nothing of the handshake's outcome", f.ID, f.Title)
					}
					if f.ID == finding.CaptureIncomplete && !strings.Contains(f.Title, "capture ends before the handshake did") {
						t.Errorf("capture.incomplete says %q", f.Title)
					}
				}
			}
		})
	}
}
