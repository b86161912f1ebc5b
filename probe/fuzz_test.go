package probe

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"testing"

	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/keylog"
)

// FuzzWideFlight feeds arbitrary server bytes to the second look's reader
// of the server's first flight (record framing, handshake reassembly, the
// ServerHello, TLS 1.3 key derivation and decryption): it must never panic
// nor read past what it was given.
func FuzzWideFlight(f *testing.F) {
	f.Add([]byte("\x15\x03\x03\x00\x02\x02\x28"))
	// A ServerHello choosing TLS 1.3 with an x25519 share, then garbage
	// "encrypted" records.
	sh := []byte{2, 0, 0, 0x56, 3, 3}
	sh = append(sh, make([]byte, 32)...)
	sh = append(sh, 0, 0x13, 0x01, 0, 0, 0x2e, 0, 0x2b, 0, 2, 3, 4, 0, 0x33, 0, 0x24, 0, 0x1d, 0, 0x20)
	sh = append(sh, make([]byte, 32)...)
	f.Add(append(append([]byte{0x16, 3, 3, 0, byte(len(sh))}, sh...), 0x17, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20))
	f.Add([]byte("\x16\x03\x03\x00\x04\x0e\x00\x00\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		x, _ := ecdh.X25519().GenerateKey(rand.Reader)
		p, _ := ecdh.P256().GenerateKey(rand.Reader)
		l := &flight{ch: []byte{1, 0, 0, 0}, random: make([]byte, 32), keys: keylog.NewCollector(nil),
			privs: map[wire.NamedGroup]*ecdh.PrivateKey{wire.GroupX25519: x, wire.GroupSecp256r1: p}}
		r := bytes.NewReader(data)
		l.read(r)
		if len(l.hs) > len(data) {
			t.Fatalf("%d handshake bytes from %d input bytes", len(l.hs), len(data))
		}
	})
}
