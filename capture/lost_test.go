package capture

import (
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/transcript"
)

// dropSegments writes a copy of a capture without the TCP segments for
// which drop returns true (given the sender's port and the payload), as a
// capture that lost them would be.
func dropSegments(t *testing.T, in string, drop func(sport int, payload []byte) bool) string {
	t.Helper()
	dropped := 0
	path, _ := rewriteCapture(t, in, func(_ int, tcp *layers.TCP) bool {
		if tcp != nil && len(tcp.Payload) > 0 && drop(int(tcp.SrcPort), tcp.Payload) {
			dropped++
			return false
		}
		return true
	})
	if dropped == 0 {
		t.Fatal("no segment matched: nothing dropped")
	}
	return path
}

// TestLostFlight records openssl s_client with a client certificate against
// openssl s_server -Verify 1 (TLS 1.2 and 1.3) with dumpcap, then removes
// the segment that carried one side's flight, as a lossy capture would
// (issue #10.3). Both handshakes completed (both Finished or protected
// data, application data and close_notify remain), so the verdict is not
// FAILED; capture.incomplete says which bytes are missing, between which
// messages; the records after the loss decrypt again (a lost TLS 1.2
// ChangeCipherSpec, a lost end of the TLS 1.3 handshake key); nothing
// claims the client sent no certificate, and no record is blamed on the
// key log.
func TestLostFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("live capture in -short mode")
	}
	peertest.Need(t, "dumpcap")
	cert, key := liveCert(t)
	ccert, ckey := liveCert(t)
	srv := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-www", "-Verify", "1", "-CAfile", ccert)
	get := []string{"GET /lost HTTP/1.0\r\n\r\n"}
	cases := []liveCase{
		{name: "tls12", prog: "openssl", args: []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-tls1_2", "-cert", ccert, "-key", ckey, "-ign_eof"}, stdin: get},
		{name: "tls13", prog: "openssl", args: []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-tls1_3", "-cert", ccert, "-key", ckey, "-ign_eof"}, stdin: get},
	}
	pcap, keys := recordLive(t, "tcp port "+port(srv.Addr), []string{srv.Addr}, cases)
	sport := atoi(port(srv.Addr))
	isServer := func(p int) bool { return p == sport }

	lost := []struct {
		name  string
		index int // tcp.stream
		drop  func(sport int, b []byte) bool
	}{
		// TLS 1.2: ServerHello … ServerHelloDone in one segment.
		{"tls12-server-flight", 0, func(p int, b []byte) bool { return isServer(p) && len(b) > 5 && b[0] == 22 && b[5] == 2 }},
		// TLS 1.2: Certificate, ClientKeyExchange, CertificateVerify,
		// ChangeCipherSpec, Finished in one segment.
		{"tls12-client-flight", 0, func(p int, b []byte) bool { return !isServer(p) && len(b) > 5 && b[0] == 22 && b[5] == 11 }},
		// TLS 1.3: ChangeCipherSpec, Certificate, CertificateVerify,
		// Finished (protected) in one segment.
		{"tls13-client-flight", 1, func(p int, b []byte) bool { return !isServer(p) && len(b) > 6 && b[0] == 20 && b[6] == 23 }},
	}
	for _, l := range lost {
		t.Run(l.name, func(t *testing.T) {
			res := analyze(t, dropSegments(t, pcap, l.drop), "", Options{Keys: keys})
			var c *Connection
			for _, x := range res.conns {
				if x.Index == l.index {
					c = x
				}
			}
			if c == nil {
				t.Fatal("connection not reported")
			}
			if c.Verdict == diagnose.Failed {
				t.Errorf("verdict FAILED for a handshake that completed; findings %v", ids(c.Findings))
			}
			f := findingOf(c.Findings, finding.CaptureIncomplete)
			if f.ID == "" || !strings.Contains(f.Detail, "bytes the") || !strings.Contains(f.Detail, "not known") {
				t.Errorf("capture.incomplete: %+v", f)
			}
			for _, x := range c.Findings {
				if strings.Contains(x.Detail, "sent no certificate") {
					t.Errorf("%s says the client sent no certificate: %s", x.ID, x.Detail)
				}
			}
			for _, e := range c.Transcript {
				if strings.Contains(e.Note, "key log has no") {
					t.Errorf("record %d of the %s blames the key log: %s", e.Record, e.From, e.Note)
				}
			}
			if l.name != "tls12-server-flight" {
				// The client's request after the lost flight decrypts.
				tr := &transcript.Transcript{Events: c.Transcript}
				if d := tr.First(transcript.Client, transcript.TypeApplicationData); d == nil || !d.Decrypted {
					t.Errorf("the client's application data after the loss: %+v", d)
				}
			}
		})
	}
}

func findingOf(fs []finding.Finding, id string) finding.Finding {
	for _, f := range fs {
		if f.ID == id {
			return f
		}
	}
	return finding.Finding{}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestLiveTruncatedClose records openssl s_client against a server that
// answers and closes the TCP connection without close_notify (Python's
// ssl), TLS 1.2 and 1.3, with dumpcap: each connection decrypts as tshark
// decrypts it and carries protocol.truncated (issue #10.10).
func TestLiveTruncatedClose(t *testing.T) {
	if testing.Short() {
		t.Skip("live capture in -short mode")
	}
	peertest.Need(t, "dumpcap")
	cert, key := liveCert(t)
	servers := []string{peertest.NoCloseNotify(t, cert, key, "1.2").Addr, peertest.NoCloseNotify(t, cert, key, "1.3").Addr}
	get := []string{"GET /cut HTTP/1.0\r\n\r\n"}
	cases := []liveCase{
		{name: "tls12", server: 0, prog: "openssl", args: []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-ign_eof"}, stdin: get},
		{name: "tls13", server: 1, prog: "openssl", args: []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-ign_eof"}, stdin: get},
	}
	pcap, keys, keyFile := recordLiveFiles(t, "tcp port "+port(servers[0])+" or tcp port "+port(servers[1]), servers, cases)
	crossCheck(t, pcap, keyFile)
	res := analyze(t, pcap, "", Options{Keys: keys})
	if len(res.conns) != 2 {
		t.Fatalf("%d connections, want 2", len(res.conns))
	}
	for _, c := range res.conns {
		if f := findingOf(c.Findings, finding.ProtocolTruncated); f.ID == "" || f.Severity != finding.Warning || !strings.Contains(f.Title, "server closed") {
			t.Errorf("%s: findings %v, want a protocol.truncated warning about the server", c.Stream(), ids(c.Findings))
		}
	}
}
