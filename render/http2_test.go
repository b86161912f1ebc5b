package render

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tlskit/tlskit/capture"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/transcript"
)

// TestHTTP2Data decodes the HTTP/2 of Wireshark's two HTTP/2 captures
// (curl fetching a PNG from an HTTP/2 server; Firefox loading
// www.mozilla.org, whose server's encoder uses the larger HPACK table the
// client's SETTINGS allow) with pcap --data's printer, and compares every
// header field of every HEADERS frame, per direction and in order, with
// what tshark's http2 dissector decodes from the same capture.
func TestHTTP2Data(t *testing.T) {
	tshark := peertest.Need(t, "tshark")
	dir := peertest.Corpus(t, "wireshark")
	for _, c := range []struct {
		capture, keys string
		tshark        []string
		want          []string // in the output
	}{
		{"captures/http2-data-reassembly.pcap", "keys/http2-data-reassembly.keys",
			[]string{"-o", "tls.keylog_file:" + filepath.Join(dir, "keys/http2-data-reassembly.keys"), "-d", "tcp.port==8443,tls"},
			[]string{"HTTP/2 DATA stream 1, 16384 bytes", "HTTP/2 DATA stream 1, 0 bytes [END_STREAM]", "  | 0000  89 50 4e 47"}},
		{"captures/http2_follow_multistream.pcapng", "", []string{"-o", "tcp.reassemble_out_of_order:TRUE"},
			[]string{"HTTP/2 SETTINGS: HEADER_TABLE_SIZE=65536", "HTTP/2 HEADERS stream 13 [END_STREAM END_HEADERS PRIORITY]"}},
	} {
		t.Run(filepath.Base(c.capture), func(t *testing.T) {
			var out bytes.Buffer
			dp := &DataPrinter{W: &out}
			opts := capture.Options{
				OnData:       func(cn *capture.Conn, from transcript.Side, at time.Time, b []byte) { dp.Print(cn, from, at, b) },
				OnConnection: func(cn *capture.Connection) error { dp.End(cn); return nil },
			}
			if c.keys != "" {
				l, err := keylog.ParseFile(filepath.Join(dir, c.keys))
				if err != nil {
					t.Fatal(err)
				}
				opts.Keys = l
			}
			f, err := os.Open(filepath.Join(dir, c.capture))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := capture.Analyze(f, opts); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			if strings.Contains(text, "does not decode") {
				t.Errorf("a frame did not decode:\n%s", text)
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			got := headersOf(text)
			want := tsharkHeaders(t, tshark, filepath.Join(dir, c.capture), c.tshark)
			if len(want["client"]) == 0 || len(want["server"]) == 0 {
				t.Fatalf("tshark decoded no headers: %v", want)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("header fields (-tshark +tlskit):\n%s", diff)
			}
		})
	}
}

// headersOf collects the "name: value" lines under the HEADERS headings of
// DataPrinter's output, per direction.
func headersOf(text string) map[string][]string {
	out := map[string][]string{}
	side := ""
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.Contains(line, "HTTP/2 HEADERS") || strings.Contains(line, "HTTP/2 CONTINUATION"):
			side = "server"
			if strings.Contains(line, "client → server") {
				side = "client"
			}
		case strings.HasPrefix(line, "  | ") && side != "":
			out[side] = append(out[side], strings.TrimPrefix(line, "  | "))
		default:
			side = ""
		}
	}
	return out
}

// tsharkHeaders runs tshark's http2 dissector and returns the header
// fields of every HEADERS frame as "name: value", per direction (the
// client is the side whose frames carry :method).
func tsharkHeaders(t *testing.T, tshark, path string, opts []string) map[string][]string {
	args := append([]string{"-r", path}, opts...)
	args = append(args, "-Y", "http2.type == 1", "-T", "fields", "-E", "separator=\x1e", "-E", "aggregator=\x1f",
		"-e", "tcp.srcport", "-e", "http2.header.name", "-e", "http2.header.value")
	cmd := peertest.Tshark(t, args...)
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	bySrc := map[string][]string{}
	clientPort := ""
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, "\x1e")
		if len(f) < 3 {
			continue
		}
		names, values := strings.Split(f[1], "\x1f"), strings.Split(f[2], "\x1f")
		if len(names) != len(values) {
			t.Fatalf("tshark: %d names, %d values in %q", len(names), len(values), line)
		}
		for i := range names {
			if names[i] == ":method" {
				clientPort = f[0]
			}
			bySrc[f[0]] = append(bySrc[f[0]], names[i]+": "+values[i])
		}
	}
	out := map[string][]string{}
	for port, h := range bySrc {
		if port == clientPort {
			out["client"] = append(out["client"], h...)
		} else {
			out["server"] = append(out["server"], h...)
		}
	}
	return out
}

// FuzzHTTP2Data feeds arbitrary bytes, cut into records anywhere, to the
// HTTP/2 printer of a connection that started with the client preface: no
// panic, and the bytes held stay bounded.
func FuzzHTTP2Data(f *testing.F) {
	f.Add([]byte("\x00\x00\x06\x04\x00\x00\x00\x00\x00\x00\x01\x00\x00\x10\x00"), []byte("\x00\x00\x05\x01\x05\x00\x00\x00\x01\x82\x86\x84\x41\x8a"), uint8(3))
	f.Add([]byte("\x00\x00\x03\x00\x01\x00\x00\x00\x01abc"), []byte("\xff\xff\xff\x00\x00\x00\x00\x00\x00"), uint8(1))
	f.Fuzz(func(t *testing.T, client, server []byte, cut uint8) {
		dp := &DataPrinter{W: &bytes.Buffer{}}
		c := &capture.Conn{Index: 1}
		dp.Print(c, transcript.Client, time.Time{}, []byte(h2Preface))
		n := int(cut%16) + 1
		for len(client) > 0 || len(server) > 0 {
			a, b := min(n, len(client)), min(n, len(server))
			if a > 0 {
				dp.Print(c, transcript.Client, time.Time{}, client[:a])
			}
			if b > 0 {
				dp.Print(c, transcript.Server, time.Time{}, server[:b])
			}
			client, server = client[a:], server[b:]
		}
		for _, d := range dp.h2[connKey{false, 1}].dirs {
			if len(d.buf) > h2MaxFrame+9 {
				t.Fatalf("holds %d bytes", len(d.buf))
			}
		}
	})
}
