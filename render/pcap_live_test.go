package render

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlskit/tlskit/capture"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/transcript"
)

// framesFrom writes a copy of a capture without its frames before frame n
// (numbered as tshark numbers them): what a capture started at that frame
// holds.
func framesFrom(t *testing.T, in string, n int) string {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := capture.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var w *pcapgo.Writer
	for i := 1; ; i++ {
		p, err := rd.Next()
		if err != nil {
			break
		}
		if i < n {
			continue
		}
		if w == nil {
			w = pcapgo.NewWriter(&out)
			if err := w.WriteFileHeader(262144, p.Link); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: len(p.Data)}, p.Data); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "mid.pcap")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tshark runs tshark over a capture and returns its output.
func tshark(t *testing.T, args ...string) string {
	t.Helper()
	cmd := peertest.Tshark(t, args...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %q: %v", args, err)
	}
	return string(out)
}

// TestLiveMidStreamWording records openssl s_client fetching a page from
// openssl s_server -www over TLS 1.2 with dumpcap, and keeps the capture
// from the client's first application data record on: a capture started
// after the handshake. tshark's reading of that file is the oracle: no
// hello in it, two "Encrypted Alert" records (the close_notifys). The
// verdict said the server "authenticated with a pre-shared key or resumed
// an earlier session", and the warning on the unread alerts said "the key
// log has no secret to open it" and to give one, even with this
// connection's own key log: neither is known, or true. The verdict says
// the handshake is not in the capture, and the warning says why the alert
// stayed encrypted: no ClientHello to find the key log entry by.
func TestLiveMidStreamWording(t *testing.T) {
	if testing.Short() {
		t.Skip("live capture in -short mode")
	}
	peertest.Need(t, "dumpcap")
	peertest.Need(t, "tshark")
	openssl := peertest.Need(t, "openssl")
	dir := t.TempDir()
	cert, key := peertest.SelfSigned(t, "/CN=localhost", "")
	srv := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-www")
	sport := srv.Addr[strings.LastIndex(srv.Addr, ":")+1:]
	lc := peertest.StartCapture(t, "tcp port "+sport)
	kl := filepath.Join(dir, "keys.txt")
	cmd := exec.Command(openssl, "s_client", "-connect", srv.Addr, "-keylogfile", kl, "-tls1_2", "-ign_eof")
	peertest.Typed(t, cmd, 300*time.Millisecond, "GET /mid HTTP/1.0\r\n\r\n")
	pcap := lc.Stop()
	keys, err := keylog.ParseFile(kl)
	if err != nil {
		t.Fatal(err)
	}

	first := strings.Fields(tshark(t, "-r", pcap, "-Y", "tls.record.content_type == 23 && tcp.dstport == "+sport, "-T", "fields", "-e", "frame.number"))
	if len(first) == 0 {
		t.Fatal("tshark finds no application data from the client")
	}
	n, _ := strconv.Atoi(first[0])
	mid := framesFrom(t, pcap, n)
	// The oracle: what tshark reads in the cut capture.
	if out := tshark(t, "-r", mid, "-Y", "tls.handshake", "-T", "fields", "-e", "frame.number"); strings.TrimSpace(out) != "" {
		t.Fatalf("tshark finds handshake messages in frames %q of the cut capture", out)
	}
	if out := tshark(t, "-r", mid, "-Y", "tls.record.content_type == 21", "-T", "fields", "-e", "_ws.col.Info"); strings.Count(out, "Encrypted Alert") != 2 {
		t.Fatalf("tshark reads the alerts as %q, want 2 encrypted alerts", out)
	}

	for _, k := range []struct {
		name string
		keys *keylog.Log
	}{{"without-keylog", nil}, {"with-its-keylog", keys}} {
		t.Run(k.name, func(t *testing.T) {
			f, err := os.Open(mid)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var conns []*capture.Connection
			if _, err := capture.Analyze(f, capture.Options{Keys: k.keys, OnConnection: func(c *capture.Connection) error {
				conns = append(conns, c)
				return nil
			}}); err != nil || len(conns) != 1 {
				t.Fatalf("%v, %d connections", err, len(conns))
			}
			c := conns[0]
			var text bytes.Buffer
			if err := CaptureConnection(&text, c, Options{Width: 1000}); err != nil {
				t.Fatal(err)
			}
			out := text.String()
			if c.Verdict != diagnose.Unverified || !strings.Contains(out, "the handshake is not in the capture") || strings.Contains(out, "pre-shared key") {
				t.Errorf("verdict %s, said:\n%s", c.Verdict, out)
			}
			var warned bool
			for _, fd := range c.Findings {
				if fd.ID != finding.ProtocolAlert {
					continue
				}
				warned = true
				if !strings.Contains(fd.Detail, "no ClientHello was seen") || strings.Contains(fd.Detail, "the key log has no") {
					t.Errorf("detail %q: want the reason, no ClientHello", fd.Detail)
				}
				if strings.Contains(fd.Fix, "Give tlskit the key log") || fd.Setting == finding.SettingKeyLog {
					t.Errorf("fix %q (setting %q): no key log can open it", fd.Fix, fd.Setting)
				}
			}
			if !warned {
				t.Errorf("no protocol.alert warning about the unread alerts: %v", c.Findings)
			}
			for _, e := range c.Transcript {
				if e.Type == transcript.TypeAlert && e.Description != "" {
					t.Errorf("the %s's alert reads as %s", e.From, e.Description)
				}
			}
		})
	}
}
