package keysched

import (
	"bytes"
	"testing"
)

// fuzzConfigs are the record protections FuzzOpen exercises: one per
// kind (TLS 1.3 AEADs, TLS 1.2 explicit-nonce and ChaCha AEADs, CBC
// MAC-then-encrypt with chained and explicit IVs, encrypt-then-MAC, NULL,
// SSL 3.0).
func fuzzConfigs() []pairConfig {
	var out []pairConfig
	for _, c := range []struct {
		id      uint16
		version uint16
		etm     bool
	}{
		{0x1301, VersionTLS13, false}, {0x1303, VersionTLS13, false}, {0x1305, VersionTLS13, false},
		{0xC02F, VersionTLS12, false}, {0xCCA8, VersionTLS12, false}, {0xC0A4, VersionTLS12, false},
		{0xC027, VersionTLS12, false}, {0xC027, VersionTLS12, true}, {0x002F, VersionTLS10, false},
		{0x002F, VersionTLS10, true}, {0x000A, VersionTLS11, false}, {0x003B, VersionTLS12, false},
		{0x0035, VersionSSL30, false}, {0x000A, VersionSSL30, false},
	} {
		s, _ := LookupSuite(c.id)
		out = append(out, pairConfig{s, c.version, c.etm})
	}
	return out
}

// FuzzOpen feeds arbitrary records to Openers of every kind: Open must
// never panic, and a record that does open must be one the matching
// Sealer could have produced (re-sealing it opens to the same plaintext).
func FuzzOpen(f *testing.F) {
	cfgs := fuzzConfigs()
	for i, c := range cfgs {
		s, _ := newPair(f, c)
		for _, msg := range []string{"", "hello", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"} {
			rec, err := s.Seal(TypeApplicationData, []byte(msg))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), rec)
		}
	}
	f.Add(uint8(0), []byte{23, 3, 3, 0, 0})
	f.Add(uint8(6), []byte{23, 3, 3, 0xff, 0xff, 1, 2, 3})
	f.Fuzz(func(t *testing.T, which uint8, rec []byte) {
		c := cfgs[int(which)%len(cfgs)]
		_, o := newPair(t, c)
		var hdr, payload []byte
		if len(rec) >= 5 {
			hdr, payload = rec[:5], rec[5:]
		} else {
			hdr = rec
		}
		pt, typ, err := o.Open(hdr, payload)
		if err != nil {
			if o.Seq() != 0 {
				t.Fatalf("failed Open advanced the sequence number to %d", o.Seq())
			}
			return
		}
		if o.Seq() != 1 {
			t.Fatalf("Seq = %d after one record", o.Seq())
		}
		s2, o2 := newPair(t, c)
		again, err := s2.Seal(typ, pt)
		if err != nil {
			t.Fatal(err)
		}
		pt2, typ2, err := o2.Open(again[:5], again[5:])
		if err != nil || typ2 != typ || !bytes.Equal(pt2, pt) {
			t.Fatalf("re-sealed record does not round-trip: %v", err)
		}
	})
}
