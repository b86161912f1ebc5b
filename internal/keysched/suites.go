package keysched

import (
	"crypto"
	_ "crypto/sha1" // registers the hashes Suite.MAC and Suite.Hash name
	_ "crypto/sha256"
	_ "crypto/sha512"
	"strings"

	"github.com/tlskit/tlskit/internal/wire"
)

// Cipher is a record protection algorithm.
type Cipher uint8

// The record ciphers.
const (
	// CipherNull authenticates with HMAC only (NULL-SHA, NULL-SHA256…).
	CipherNull Cipher = iota + 1
	// CipherAESGCM is AES in Galois/Counter Mode (RFC 5288, RFC 8446).
	CipherAESGCM
	// CipherChaCha20Poly1305 is ChaCha20-Poly1305 (RFC 7905, RFC 8446).
	CipherChaCha20Poly1305
	// CipherAESCCM is AES-CCM with a 16-byte tag (RFC 6655, RFC 8446).
	CipherAESCCM
	// CipherAESCCM8 is AES-CCM with an 8-byte tag (RFC 6655, RFC 8446).
	CipherAESCCM8
	// CipherAESCBC is AES-CBC with HMAC (MAC-then-encrypt, or RFC 7366 encrypt-then-MAC).
	CipherAESCBC
	// Cipher3DESCBC is 3DES-EDE-CBC with HMAC.
	Cipher3DESCBC
)

// String returns the cipher's name.
func (c Cipher) String() string {
	switch c {
	case CipherNull:
		return "NULL"
	case CipherAESGCM:
		return "AES-GCM"
	case CipherChaCha20Poly1305:
		return "ChaCha20-Poly1305"
	case CipherAESCCM:
		return "AES-CCM"
	case CipherAESCCM8:
		return "AES-CCM-8"
	case CipherAESCBC:
		return "AES-CBC"
	case Cipher3DESCBC:
		return "3DES-EDE-CBC"
	}
	return "unknown cipher"
}

// AEAD reports whether the cipher is an AEAD.
func (c Cipher) AEAD() bool {
	switch c {
	case CipherAESGCM, CipherChaCha20Poly1305, CipherAESCCM, CipherAESCCM8:
		return true
	}
	return false
}

// Suite describes how a cipher suite protects records.
type Suite struct {
	// ID is the IANA cipher suite number.
	ID uint16
	// Name is the IANA name, such as "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".
	Name string
	// TLS13 is true for the TLS 1.3 suites, which only fix AEAD and hash.
	TLS13 bool
	// Cipher is the record protection algorithm.
	Cipher Cipher
	// KeyLen is the encryption key length in bytes (0 for NULL).
	KeyLen int
	// IVLen is the length of the key-block IV: the whole nonce for TLS 1.3
	// and ChaCha20 (12), the implicit salt for TLS 1.2 GCM and CCM (4), the
	// block size for CBC (used as the first IV by TLS 1.0 only).
	IVLen int
	// MACLen is the HMAC key and tag length for CBC and NULL suites, 0 for AEADs.
	MACLen int
	// MAC is the HMAC hash of CBC and NULL suites (SHA-1, SHA-256 or SHA-384).
	MAC crypto.Hash
	// Hash is the TLS 1.3 transcript/HKDF hash and the TLS 1.2 PRF hash.
	// TLS 1.0 and 1.1 use the MD5+SHA-1 PRF whatever this says.
	Hash crypto.Hash
}

// TagLen returns the AEAD tag length (0 for CBC and NULL suites).
func (s Suite) TagLen() int {
	switch s.Cipher {
	case CipherAESGCM, CipherChaCha20Poly1305, CipherAESCCM:
		return 16
	case CipherAESCCM8:
		return 8
	}
	return 0
}

// LookupSuite returns the description of a cipher suite, or false if the
// suite is unknown or uses a cipher this package does not implement (RC4,
// Camellia, ARIA, SEED, export ciphers…).
func LookupSuite(id uint16) (Suite, bool) {
	name := suiteName(id)
	if name == "" {
		return Suite{}, false
	}
	s := Suite{ID: id, Name: name, Hash: crypto.SHA256}
	alg := name
	if i := strings.Index(name, "_WITH_"); i >= 0 {
		alg = name[i+len("_WITH_"):]
	} else {
		s.TLS13 = true
		alg = strings.TrimPrefix(name, "TLS_")
	}
	if strings.HasSuffix(alg, "_SHA384") {
		s.Hash = crypto.SHA384
	}
	switch {
	case strings.HasPrefix(alg, "AES_128_GCM_"):
		s.Cipher, s.KeyLen, s.IVLen = CipherAESGCM, 16, 4
	case strings.HasPrefix(alg, "AES_256_GCM_"):
		s.Cipher, s.KeyLen, s.IVLen = CipherAESGCM, 32, 4
	case strings.HasPrefix(alg, "CHACHA20_POLY1305_"):
		s.Cipher, s.KeyLen, s.IVLen = CipherChaCha20Poly1305, 32, 12
	case strings.HasPrefix(alg, "AES_128_CCM_8"):
		s.Cipher, s.KeyLen, s.IVLen = CipherAESCCM8, 16, 4
	case strings.HasPrefix(alg, "AES_256_CCM_8"):
		s.Cipher, s.KeyLen, s.IVLen = CipherAESCCM8, 32, 4
	case strings.HasPrefix(alg, "AES_128_CCM"):
		s.Cipher, s.KeyLen, s.IVLen = CipherAESCCM, 16, 4
	case strings.HasPrefix(alg, "AES_256_CCM"):
		s.Cipher, s.KeyLen, s.IVLen = CipherAESCCM, 32, 4
	case strings.HasPrefix(alg, "AES_128_CBC_"):
		s.Cipher, s.KeyLen, s.IVLen = CipherAESCBC, 16, 16
	case strings.HasPrefix(alg, "AES_256_CBC_"):
		s.Cipher, s.KeyLen, s.IVLen = CipherAESCBC, 32, 16
	case strings.HasPrefix(alg, "3DES_EDE_CBC_"):
		s.Cipher, s.KeyLen, s.IVLen = Cipher3DESCBC, 24, 8
	case strings.HasPrefix(alg, "NULL_"):
		s.Cipher = CipherNull
	default:
		return Suite{}, false
	}
	if s.TLS13 {
		s.IVLen = 12
	}
	if !s.Cipher.AEAD() {
		switch {
		case strings.HasSuffix(alg, "_SHA"):
			s.MAC, s.MACLen = crypto.SHA1, 20
		case strings.HasSuffix(alg, "_SHA256"):
			s.MAC, s.MACLen = crypto.SHA256, 32
		case strings.HasSuffix(alg, "_SHA384"):
			s.MAC, s.MACLen = crypto.SHA384, 48
		default:
			return Suite{}, false
		}
	}
	return s, true
}

// suiteName is the IANA name of a suite; the name alone determines the
// record protection, and LookupSuite refuses the ciphers it does not know.
func suiteName(id uint16) string {
	name := wire.CipherSuite(id).String()
	if !strings.HasPrefix(name, "TLS_") {
		return "" // unknown, GREASE
	}
	return name
}
