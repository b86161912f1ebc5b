package capture

import (
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/transcript"
)

// dropBefore writes a copy of a capture that starts at the first TCP
// segment for which first returns true (given the sender's port and the
// payload): what a capture started in the middle of the connection holds.
func dropBefore(t *testing.T, in string, first func(sport int, payload []byte) bool) string {
	t.Helper()
	started := false
	path, _ := rewriteCapture(t, in, func(_ int, tcp *layers.TCP) bool {
		if !started && tcp != nil && len(tcp.Payload) > 0 && first(int(tcp.SrcPort), tcp.Payload) {
			started = true
		}
		return started
	})
	if !started {
		t.Fatal("no segment matched: nothing kept")
	}
	return path
}

// TestLiveMidStream records openssl s_client fetching a page from openssl
// s_server -www over TLS 1.2 with dumpcap, and keeps only what follows the
// client's first application data record, as a capture started in the
// middle of the connection holds. Each side then sends one close_notify,
// a 26-byte protected alert record. tshark reads each as one "Encrypted
// Alert"; tlskit read them as plaintext, thirteen alerts of garbage each
// ("unknown(59) unknown(29)"), and said the server closed "after alert"
// one of them. Without a key log, records of the whole capture said that
// "the key log has no CLIENT_RANDOM line": no key log was given. With the
// capture's own key log, the summary asked whether it was "the key log of
// another capture"; it is found by the ClientHello, which is not there.
func TestLiveMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("live capture in -short mode")
	}
	peertest.Need(t, "dumpcap")
	peertest.Need(t, "tshark")
	cert, key := liveCert(t)
	srv := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-www")
	cases := []liveCase{{name: "tls12", prog: "openssl",
		args:  []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-tls1_2", "-ign_eof"},
		stdin: []string{"GET /mid HTTP/1.0\r\n\r\n"}}}
	pcap, keys := recordLive(t, "tcp port "+port(srv.Addr), []string{srv.Addr}, cases)
	sport := atoi(port(srv.Addr))

	t.Run("no-keylog", func(t *testing.T) {
		res := analyze(t, pcap, "", Options{})
		if len(res.conns) != 1 {
			t.Fatalf("%d connections", len(res.conns))
		}
		for _, e := range res.conns[0].Transcript {
			if e.Encrypted && strings.Contains(e.Note, "the key log") {
				t.Errorf("no key log was given, yet %s: %s", e.Type, e.Note)
			}
		}
	})

	t.Run("from-application-data", func(t *testing.T) {
		mid := dropBefore(t, pcap, func(p int, b []byte) bool { return p != sport && b[0] == 23 })
		// The oracle: tshark's reading of the same file.
		out := runTshark(t, []string{"-r", mid, "-Y", "tls.record.content_type == 21", "-T", "fields", "-e", "_ws.col.Info"})
		if n := strings.Count(out, "Encrypted Alert"); n != 2 {
			t.Fatalf("tshark shows %d encrypted alerts, want 2:\n%s", n, out)
		}
		for _, k := range []struct {
			name string
			opts Options
		}{{"without-keys", Options{}}, {"with-keys", Options{Keys: keys}}} {
			res := analyze(t, mid, "", k.opts)
			if len(res.conns) != 1 {
				t.Fatalf("%s: %d connections", k.name, len(res.conns))
			}
			c := res.conns[0]
			var alerts []transcript.Event
			for _, e := range c.Transcript {
				if e.Type == transcript.TypeAlert {
					alerts = append(alerts, e)
				}
			}
			if len(alerts) != 2 {
				t.Errorf("%s: %d alert events, want 2 (tshark's encrypted alerts)", k.name, len(alerts))
			}
			for _, a := range alerts {
				if !a.Encrypted || a.Decrypted || a.Description != "" {
					t.Errorf("%s: the %s's alert reads as %q %q (encrypted %v), want an encrypted alert", k.name, a.From, a.Level, a.Description, a.Encrypted)
				}
			}
			if k.opts.Keys != nil {
				// The key log is this capture's: it is not to blame.
				p := strings.Join(res.sum.Problems, "\n")
				if strings.Contains(p, "another capture") || !strings.Contains(p, "holds the ClientHello of none") {
					t.Errorf("problems %q", res.sum.Problems)
				}
			}
			if c.ClosedBy == nil || c.ClosedBy.AfterAlert != "" {
				t.Errorf("%s: closed by %+v, want a FIN after no alert that could be read", k.name, c.ClosedBy)
			}
		}
	})
}
