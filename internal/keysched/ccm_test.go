package keysched

import (
	"bytes"
	"crypto/aes"
	"testing"
)

// TestCCMVectors checks AES-CCM against RFC 3610 §8 Packet Vector #1 and
// the four examples of NIST SP 800-38C Appendix C (Example 4 has 64 KiB
// of associated data, exercising the 0xFFFE length encoding).
func TestCCMVectors(t *testing.T) {
	spAD4 := make([]byte, 65536)
	for i := range spAD4 {
		spAD4[i] = byte(i)
	}
	seq := func(from, to int) []byte {
		var b []byte
		for i := from; i < to; i++ {
			b = append(b, byte(i))
		}
		return b
	}
	for _, tc := range []struct {
		name            string
		key, nonce, ad  []byte
		plaintext, want []byte
		tagLen          int
	}{
		{"RFC3610-1", seq(0xC0, 0xD0), unhex(t, "00000003020100a0a1a2a3a4a5"), seq(0, 8), seq(8, 0x1F),
			unhex(t, "588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0"), 8},
		{"SP800-38C-1", seq(0x40, 0x50), unhex(t, "10111213141516"), unhex(t, "0001020304050607"), unhex(t, "20212223"),
			unhex(t, "7162015b4dac255d"), 4},
		{"SP800-38C-2", seq(0x40, 0x50), unhex(t, "1011121314151617"), seq(0, 16), seq(0x20, 0x30),
			unhex(t, "d2a1f0e051ea5f62081a7792073d593d1fc64fbfaccd"), 6},
		{"SP800-38C-3", seq(0x40, 0x50), unhex(t, "101112131415161718191a1b"), seq(0, 20), seq(0x20, 0x38),
			unhex(t, "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951"), 8},
		{"SP800-38C-4", seq(0x40, 0x50), unhex(t, "101112131415161718191a1b1c"), spAD4, seq(0x20, 0x40),
			unhex(t, "69915dad1e84c6376a68c2967e4dab615ae0fd1faec44cc484828529463ccf72b4ac6bec93e8598e7f0dadbcea5b"), 14},
	} {
		b, err := aes.NewCipher(tc.key)
		if err != nil {
			t.Fatal(err)
		}
		a, err := NewCCM(b, len(tc.nonce), tc.tagLen)
		if err != nil {
			t.Fatal(err)
		}
		got := a.Seal(nil, tc.nonce, tc.plaintext, tc.ad)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%s: Seal = %x, want %x", tc.name, got, tc.want)
		}
		pt, err := a.Open(nil, tc.nonce, tc.want, tc.ad)
		if err != nil || !bytes.Equal(pt, tc.plaintext) {
			t.Errorf("%s: Open = %x, %v", tc.name, pt, err)
		}
		for i := range tc.want {
			bad := bytes.Clone(tc.want)
			bad[i] ^= 0x80
			if _, err := a.Open(nil, tc.nonce, bad, tc.ad); err == nil {
				t.Errorf("%s: Open accepted a flipped bit in byte %d", tc.name, i)
			}
		}
	}
}

func TestCCMParameters(t *testing.T) {
	b, _ := aes.NewCipher(make([]byte, 16))
	for _, p := range [][2]int{{6, 16}, {14, 16}, {12, 3}, {12, 18}, {12, 7}} {
		if _, err := NewCCM(b, p[0], p[1]); err == nil {
			t.Errorf("NewCCM(nonce %d, tag %d) accepted", p[0], p[1])
		}
	}
	a, _ := NewCCM(b, 12, 16)
	if _, err := a.Open(nil, make([]byte, 12), make([]byte, 15), nil); err == nil {
		t.Error("Open accepted a ciphertext shorter than the tag")
	}
	if _, err := a.Open(nil, make([]byte, 11), make([]byte, 32), nil); err == nil {
		t.Error("Open accepted a short nonce")
	}
}
