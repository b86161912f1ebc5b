package keysched

import "testing"

// BenchmarkOpen16K opens full 16 KiB records (the sequence number is
// rewound between iterations, so one sealed record serves them all).
func BenchmarkOpen16K(b *testing.B) {
	for _, c := range []struct {
		name    string
		id      uint16
		version uint16
	}{
		{"TLS13-AES128GCM", 0x1301, VersionTLS13},
		{"TLS12-AES128CBC-SHA256", 0xC027, VersionTLS12},
	} {
		b.Run(c.name, func(b *testing.B) {
			suite, _ := LookupSuite(c.id)
			s, o := newPair(b, pairConfig{suite, c.version, false})
			rec, err := s.Seal(TypeApplicationData, make([]byte, 16384))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(16384)
			for b.Loop() {
				o.st.seq = 0
				if _, _, err := o.Open(rec[:5], rec[5:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
