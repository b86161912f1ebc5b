package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// rewriteCapture writes, as pcap, a copy of the capture at in that holds
// the frames keep returns true for, given each frame's number (from 1, as
// tshark numbers them) and its TCP layer (nil when it has none); it
// returns the copy's path and how many frames were kept.
func rewriteCapture(t *testing.T, in string, keep func(n int, tcp *layers.TCP) bool) (string, int) {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var w *pcapgo.Writer
	kept := 0
	for n := 1; ; n++ {
		p, err := rd.Next()
		if err != nil {
			break
		}
		if w == nil {
			w = pcapgo.NewWriter(&out)
			if err := w.WriteFileHeader(262144, p.Link); err != nil {
				t.Fatal(err)
			}
		}
		tcp, _ := gopacket.NewPacket(p.Data, p.Link, gopacket.NoCopy).Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !keep(n, tcp) {
			continue
		}
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: len(p.Data)}, p.Data); err != nil {
			t.Fatal(err)
		}
		kept++
	}
	path := filepath.Join(t.TempDir(), "rewritten.pcap")
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, kept
}
