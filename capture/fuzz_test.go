package capture

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// seedCaptures adds small real captures as seeds.
func seedCaptures(f *testing.F) {
	for _, rel := range []string{"tls12-dsb.pcapng", "tls13-rfc8446.pcap", "dhe1.pcapng.gz", "retrans-tls.pcap", "tls12-aes128ccm.pcap", "dtls12-aes128ccm8-dsb.pcapng"} {
		if b, err := os.ReadFile(filepath.Join("..", "..", "shared", "corpora", "wireshark", "captures", rel)); err == nil {
			f.Add(b)
		}
	}
	var pk packets
	pk.syn()
	pk.data(true, tlsRecord(22, []byte{1, 0, 0, 0}))
	pk.fin(true)
	f.Add(pk.pcap())
}

// FuzzReadCapture feeds arbitrary files to the pcap/pcapng reader (with
// the DSB scanner) and the whole analysis: errors are fine, panics and
// runaway allocations are not.
func FuzzReadCapture(f *testing.F) {
	seedCaptures(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		Analyze(bytes.NewReader(b), Options{OnConnection: func(c *Connection) error {
			if c.Client == "" || c.Server == "" {
				t.Errorf("connection %d without endpoints", c.Index)
			}
			return nil
		}})
	})
}

// FuzzReassembly sends random TCP segments (direction, flags, sequence
// offset, payload) of one connection through reassembly and the decoder.
func FuzzReassembly(f *testing.F) {
	f.Add([]byte{0, 0x02, 0, 0, 1, 0x12, 0, 0, 0, 0x18, 0, 5, 22, 3, 3, 0, 4, 1, 0, 0, 0, 1, 0x11, 0, 0})
	f.Add(append([]byte{1, 0x18, 0, 69}, tlsRecord(23, make([]byte, 64))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var pk packets
		pk.seq = [2]uint32{1000, 5000}
		// Each segment: dir, flags, seq delta (int8), length, payload.
		for len(b) >= 4 {
			fromClient := b[0]&1 == 0
			flags := b[1]
			d := 1
			if fromClient {
				d = 0
			}
			pk.seq[d] += uint32(int32(int8(b[2])))
			n := min(int(b[3]), len(b)-4)
			pk.frame(fromClient, flags, b[4:4+n])
			b = b[4+n:]
		}
		data := pk.pcap()
		// Also vary the link type: Ethernet needs a header, the rest is raw.
		binary.LittleEndian.PutUint32(data[20:], 101)
		Analyze(bytes.NewReader(data), Options{})
	})
}
