package transcript

import (
	"bytes"
	"crypto/tls"
	"testing"
	"time"
)

// BenchmarkDecode decodes a recorded crypto/tls connection in which the
// server sends 4 MiB in 16 KiB writes, with its key log: the handshake, then
// full-size application data records, as the pcap path meets them. "writes"
// feeds the bytes as each side wrote them (whole records, as probe does);
// "segments" feeds them in 1448-byte pieces, as TCP segments of a capture
// arrive, so records are completed across calls.
func BenchmarkDecode(b *testing.B) {
	msgs := make([][]byte, 256)
	for i := range msgs {
		msgs[i] = bytes.Repeat([]byte{byte('a' + i%26)}, 16384)
	}
	for _, tc := range []struct {
		name string
		cfg  *tls.Config
	}{
		{"TLS13-AES128GCM", &tls.Config{MinVersion: tls.VersionTLS13}},
		{"TLS12-AES128GCM", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}},
		{"TLS12-AES128CBC-SHA256", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}}},
	} {
		chunks, keys := converseMsgs(b, tc.cfg, msgs)
		var total int64
		for _, c := range chunks {
			total += int64(len(c.data))
		}
		for _, feed := range []string{"writes", "segments"} {
			b.Run(tc.name+"/"+feed, func(b *testing.B) {
				b.SetBytes(total)
				for b.Loop() {
					d := NewDecoder(Options{Keys: keys, OnData: func(Side, time.Time, []byte) {}})
					for _, c := range chunks {
						if feed == "writes" {
							d.Data(c.from, time.Time{}, c.data)
							continue
						}
						for p := c.data; len(p) > 0; {
							n := min(len(p), 1448)
							d.Data(c.from, time.Time{}, p[:n])
							p = p[n:]
						}
					}
					if tr := d.Transcript(); len(tr.Problems) > 0 {
						b.Fatalf("problems: %q", tr.Problems)
					}
				}
			})
		}
	}
}
