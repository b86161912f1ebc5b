package keysched

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
)

// ccm is AES-CCM (RFC 3610, NIST SP 800-38C): CBC-MAC over the formatted
// nonce, associated data and plaintext, then CTR encryption of the
// plaintext and of the tag. Neither the standard library nor x/crypto has
// it, and TLS uses it (RFC 6655, RFC 8446 TLS_AES_128_CCM_*).
type ccm struct {
	b         cipher.Block
	nonceSize int // 15 - L; TLS uses 12 (L = 3)
	tagSize   int
}

// NewCCM returns AES-CCM (or CCM over any 16-byte block cipher) as a
// cipher.AEAD. nonceSize must be 7 to 13 and tagSize an even number from 4
// to 16; TLS uses a 12-byte nonce with 16-byte (CCM) or 8-byte (CCM_8) tags.
func NewCCM(b cipher.Block, nonceSize, tagSize int) (cipher.AEAD, error) {
	if b.BlockSize() != 16 {
		return nil, errors.New("keysched: CCM needs a 128-bit block cipher")
	}
	if nonceSize < 7 || nonceSize > 13 {
		return nil, fmt.Errorf("keysched: CCM nonce size %d is not in 7..13", nonceSize)
	}
	if tagSize < 4 || tagSize > 16 || tagSize%2 != 0 {
		return nil, fmt.Errorf("keysched: CCM tag size %d is not an even number in 4..16", tagSize)
	}
	return &ccm{b: b, nonceSize: nonceSize, tagSize: tagSize}, nil
}

func (c *ccm) NonceSize() int { return c.nonceSize }
func (c *ccm) Overhead() int  { return c.tagSize }

// maxLen is the largest message the length field L can express.
func (c *ccm) maxLen() uint64 {
	l := 15 - c.nonceSize
	if l >= 8 {
		return 1<<63 - 1
	}
	return 1<<(8*uint(l)) - 1
}

// mac computes the unencrypted CBC-MAC tag T (full 16 bytes).
func (c *ccm) mac(nonce, plaintext, ad []byte) [16]byte {
	var b0 [16]byte
	l := 15 - c.nonceSize
	flags := byte((c.tagSize-2)/2) << 3
	flags |= byte(l - 1)
	if len(ad) > 0 {
		flags |= 0x40
	}
	b0[0] = flags
	copy(b0[1:], nonce)
	n := uint64(len(plaintext))
	for i := 15; i > c.nonceSize; i-- {
		b0[i] = byte(n)
		n >>= 8
	}
	var x [16]byte
	c.b.Encrypt(x[:], b0[:])

	// absorb xors data into the running CBC-MAC, zero-padding the last block.
	absorb := func(data []byte) {
		for len(data) > 0 {
			k := min(16, len(data))
			subtle.XORBytes(x[:k], x[:k], data[:k])
			c.b.Encrypt(x[:], x[:])
			data = data[k:]
		}
	}
	if len(ad) > 0 {
		// Length encoding of the associated data (RFC 3610 §2.2).
		var hdr []byte
		switch a := uint64(len(ad)); {
		case a < 0xFF00:
			hdr = binary.BigEndian.AppendUint16(nil, uint16(a))
		case a <= 0xFFFFFFFF:
			hdr = binary.BigEndian.AppendUint32([]byte{0xFF, 0xFE}, uint32(a))
		default:
			hdr = binary.BigEndian.AppendUint64([]byte{0xFF, 0xFF}, a)
		}
		// The header and the start of ad share blocks.
		first := append(hdr, ad[:min(len(ad), 16-len(hdr))]...)
		rest := ad[len(first)-len(hdr):]
		absorb(first)
		absorb(rest)
	}
	absorb(plaintext)
	return x
}

// ctr encrypts or decrypts src into dst with counter blocks A_1, A_2, ….
func (c *ccm) ctr(dst, src, nonce []byte) {
	var a [16]byte
	a[0] = byte(15 - c.nonceSize - 1)
	copy(a[1:], nonce)
	a[15] = 1
	cipher.NewCTR(c.b, a[:]).XORKeyStream(dst, src)
}

// tagMask returns S_0, the key stream block that encrypts the tag.
func (c *ccm) tagMask(nonce []byte) [16]byte {
	var a, s [16]byte
	a[0] = byte(15 - c.nonceSize - 1)
	copy(a[1:], nonce)
	c.b.Encrypt(s[:], a[:])
	return s
}

func (c *ccm) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	if len(nonce) != c.nonceSize {
		panic("keysched: CCM: incorrect nonce length given to Seal")
	}
	if uint64(len(plaintext)) > c.maxLen() {
		panic("keysched: CCM: message too large for the nonce size")
	}
	t := c.mac(nonce, plaintext, additionalData)
	s0 := c.tagMask(nonce)
	ret, out := sliceForAppend(dst, len(plaintext)+c.tagSize)
	c.ctr(out[:len(plaintext)], plaintext, nonce)
	subtle.XORBytes(out[len(plaintext):], t[:c.tagSize], s0[:c.tagSize])
	return ret
}

// errOpen is the authentication failure of every AEAD in this package.
var errOpen = errors.New("message authentication failed")

func (c *ccm) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(nonce) != c.nonceSize {
		return nil, errors.New("keysched: CCM: incorrect nonce length")
	}
	if len(ciphertext) < c.tagSize {
		return nil, errOpen
	}
	n := len(ciphertext) - c.tagSize
	if uint64(n) > c.maxLen() {
		return nil, errOpen
	}
	ret, out := sliceForAppend(dst, n)
	c.ctr(out, ciphertext[:n], nonce)
	t := c.mac(nonce, out, additionalData)
	s0 := c.tagMask(nonce)
	var want [16]byte
	subtle.XORBytes(want[:c.tagSize], t[:c.tagSize], s0[:c.tagSize])
	if subtle.ConstantTimeCompare(want[:c.tagSize], ciphertext[n:]) != 1 {
		clear(out)
		return nil, errOpen
	}
	return ret, nil
}

// sliceForAppend extends in by n bytes, returning the whole slice and the
// new tail (the crypto/cipher idiom).
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	tail = head[len(in):]
	return
}
