package keysched

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"fmt"
)

// ssl3MaxDerived is the most key material the SSL 3.0 construction gives:
// one MD5 output per salt "A", "BB", … "ZZ…Z".
const ssl3MaxDerived = 26 * md5.Size

// ssl3Derive fills out with the SSL 3.0 key derivation of RFC 6101 §6.1
// and §6.2.2:
//
//	MD5(secret + SHA1("A" + secret + seed)) +
//	MD5(secret + SHA1("BB" + secret + seed)) + …
//
// The master secret is it over the pre-master secret with seed
// ClientHello.random + ServerHello.random (48 bytes); the key block is it
// over the master secret with seed ServerHello.random + ClientHello.random.
// The callers of prf already pass the seeds in those orders, and there are
// no labels.
func ssl3Derive(secret, seed, out []byte) error {
	if len(out) > ssl3MaxDerived {
		return fmt.Errorf("keysched: SSL 3.0 derives at most %d bytes, %d asked", ssl3MaxDerived, len(out))
	}
	for i := 0; len(out) > 0; i++ {
		salt := bytes.Repeat([]byte{'A' + byte(i)}, i+1)
		sh := sha1.New()
		sh.Write(salt)
		sh.Write(secret)
		sh.Write(seed)
		inner := sh.Sum(nil)
		m := md5.New()
		m.Write(secret)
		m.Write(inner)
		out = out[copy(out, m.Sum(nil)):]
	}
	return nil
}

// ssl3PadLen is the length of pad_1 and pad_2 in the SSL 3.0 MAC: 48 bytes
// for MD5 and 40 for SHA-1 (RFC 6101 §5.2.3.1).
func ssl3PadLen(macSize int) int {
	if macSize == md5.Size {
		return 48
	}
	return 40
}

// ssl3MAC is the SSL 3.0 record MAC of RFC 6101 §5.2.3.1, a keyed hash
// that predates HMAC:
//
//	hash(MAC_write_secret + pad_2 +
//	     hash(MAC_write_secret + pad_1 + seq_num + type + length + content))
//
// with pad_1 = 0x36 and pad_2 = 0x5c repeated. hdr is seq_num + type +
// length (see macHeader; SSL 3.0 does not MAC the version).
func (st *state) ssl3MAC(hdr []byte, data ...[]byte) []byte {
	h := st.mac()
	n := ssl3PadLen(h.Size())
	pad := make([]byte, n)
	for i := range pad {
		pad[i] = 0x36
	}
	h.Write(st.macKey)
	h.Write(pad)
	h.Write(hdr)
	for _, d := range data {
		h.Write(d)
	}
	inner := h.Sum(nil)
	for i := range pad {
		pad[i] = 0x5c
	}
	h.Reset()
	h.Write(st.macKey)
	h.Write(pad)
	h.Write(inner)
	return h.Sum(nil)
}

// unpad returns the length of a decrypted CBC record before its padding.
// TLS fills the padding with its length (checkPadding); SSL 3.0 only says
// that the last byte is the padding length, which must be less than the
// block size, and the padding bytes before it are arbitrary
// (RFC 6101 §5.2.3.2).
func (st *state) unpad(pt []byte) (int, bool) {
	if st.version != VersionSSL30 {
		return checkPadding(pt)
	}
	if len(pt) == 0 {
		return 0, false
	}
	p := int(pt[len(pt)-1])
	if p >= st.block.BlockSize() || p+1 > len(pt) {
		return 0, false
	}
	return len(pt) - 1 - p, true
}
