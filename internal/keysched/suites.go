package keysched

import (
	"crypto"
	_ "crypto/sha1" // registers the hashes Suite.MAC and Suite.Hash name
	_ "crypto/sha256"
	_ "crypto/sha512"

	"github.com/tlskit/tlskit/internal/wire"
)

// Suite describes how a cipher suite protects records: the facts of the
// cipher suite table ([wire.CipherSuiteInfo]) that record protection and
// key derivation use, with the hashes as crypto.Hash.
type Suite struct {
	// ID is the IANA cipher suite number.
	ID uint16
	// Name is the IANA name, such as "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".
	Name string
	// TLS13 is true for the TLS 1.3 suites, which only fix AEAD and hash.
	TLS13 bool
	// Cipher is the record protection algorithm.
	Cipher wire.Cipher
	// KeyLen is the encryption key length in bytes (0 for NULL).
	KeyLen int
	// IVLen is the length of the key-block IV: the whole nonce for TLS 1.3
	// and ChaCha20 (12), the implicit salt for TLS 1.2 GCM and CCM (4), the
	// block size for CBC (used as the first IV by TLS 1.0 only).
	IVLen int
	// TagLen is the AEAD tag length (0 for CBC and NULL suites).
	TagLen int
	// MACLen is the HMAC key and tag length for CBC and NULL suites, 0 for AEADs.
	MACLen int
	// MAC is the HMAC hash of CBC and NULL suites (SHA-1, SHA-256 or SHA-384).
	MAC crypto.Hash
	// Hash is the TLS 1.3 transcript/HKDF hash and the TLS 1.2 PRF hash.
	// TLS 1.0 and 1.1 use the MD5+SHA-1 PRF whatever this says.
	Hash crypto.Hash
}

// LookupSuite returns the description of a cipher suite, or false if the
// suite is unknown or uses a cipher or MAC this package does not implement
// (RC4, DES, Camellia, ARIA, SEED, export ciphers, HMAC-MD5, the TLS 1.3
// integrity-only suites…).
func LookupSuite(id uint16) (Suite, bool) {
	s, ok := wire.CipherSuite(id).Info()
	if !ok || !implemented(s) {
		return Suite{}, false
	}
	return Suite{ID: id, Name: s.Name, TLS13: s.TLS13, Cipher: s.Cipher, KeyLen: s.KeyLen, IVLen: s.IVLen,
		TagLen: s.TagLen, MACLen: s.MACLen, MAC: s.MAC.Hash().Crypto(), Hash: s.PRF.Crypto()}, true
}

// implemented reports whether this package protects records of suite s:
// AES-GCM, AES-CCM(-8) and ChaCha20-Poly1305 (TLS 1.3 or not), and AES-CBC,
// 3DES-CBC and NULL with HMAC-SHA1, -SHA256 or -SHA384, with the SHA-256
// or SHA-384 PRF.
func implemented(s wire.CipherSuiteInfo) bool {
	if s.PRF != wire.HashSHA256 && s.PRF != wire.HashSHA384 {
		return false
	}
	switch s.Cipher {
	case wire.CipherAESGCM, wire.CipherAESCCM, wire.CipherAESCCM8, wire.CipherChaCha20Poly1305:
		return true
	case wire.CipherAESCBC, wire.Cipher3DESCBC, wire.CipherNULL:
		return !s.TLS13 && (s.MAC == wire.MACSHA1 || s.MAC == wire.MACSHA256 || s.MAC == wire.MACSHA384)
	}
	return false
}
