package wire

import (
	"crypto"
	"slices"
	"sort"
)

//go:generate go run gen_ciphersuites.go

// CipherSuiteInfo is what a cipher suite fixes: its key exchange and
// authentication, its record cipher and MAC with their sizes, its PRF hash,
// and what the IANA registry says of it. crypto/tls's cipher_suites.go is
// the model. The table behind it, ciphersuites.go, is generated from the
// IANA TLS Cipher Suites registry and the unregistered code points that
// Wireshark also names (testdata/iana, gen_ciphersuites.go).
//
// A size is 0 where it does not apply, and also where the table does not
// record it: for the ciphers tlskit knows by name only (GOST, Salsa20,
// AEGIS), IV, tag and MAC lengths are not recorded, nor the key size of
// Salsa20.
type CipherSuiteInfo struct {
	ID   CipherSuite `json:"id"`
	Name string      `json:"name"`
	// Registered says the IANA registry lists the suite; false for the
	// draft and vendor code points this table names as Wireshark does.
	Registered bool `json:"registered"`
	// Recommended and DTLSOK are the registry's Recommended and DTLS-OK
	// columns ("Y"); Reference is its Reference column, or the draft.
	Recommended bool   `json:"recommended"`
	DTLSOK      bool   `json:"dtls_ok"`
	Reference   string `json:"reference,omitempty"`
	// Signaling says the value is a signaling cipher suite value (RFC 5746
	// TLS_EMPTY_RENEGOTIATION_INFO_SCSV, RFC 7507 TLS_FALLBACK_SCSV), not
	// a suite: it has no key exchange, cipher or MAC.
	Signaling bool `json:"signaling,omitempty"`
	// TLS13 says the suite is a TLS 1.3 suite, which fixes only the AEAD
	// (or integrity-only MAC) and the hash: key exchange and authentication
	// are negotiated apart (Kx and Auth are KxAny and AuthAny).
	TLS13 bool           `json:"tls13"`
	Kx    KeyExchange    `json:"kx"`
	Auth  Authentication `json:"auth"`
	// Cipher is the record cipher; Export says the suite was weakened to
	// 40 or 56 key bits by design (RSA_EXPORT, EXPORT1024, KRB5_EXPORT…).
	Cipher Cipher `json:"cipher"`
	Export bool   `json:"export,omitempty"`
	// KeyBits is the cipher's effective key strength in bits as RFC 2246
	// Appendix C counts it (40 for RC4_40, 56 for DES, 168 for 3DES), and
	// KeyLen the key material each direction takes from the key block, in
	// bytes (5 for the 40-bit export ciphers, which expand it).
	KeyBits int `json:"key_bits"`
	KeyLen  int `json:"key_len"`
	// IVLen is the length of the IV from the key block: the whole nonce
	// for TLS 1.3 and ChaCha20-Poly1305 (12), the implicit salt for TLS 1.2
	// GCM and CCM (4), the block size for CBC (the first IV, used by SSL
	// 3.0 and TLS 1.0 only).
	IVLen int `json:"iv_len"`
	// TagLen is the AEAD's tag length.
	TagLen int `json:"tag_len,omitempty"`
	// MAC is the record MAC: MACAEAD for AEAD suites, otherwise the HMAC
	// (SSL 3.0: the keyed MAC) hash or the GOST MAC; MACLen is the HMAC key
	// and tag length.
	MAC    MAC `json:"mac"`
	MACLen int `json:"mac_len,omitempty"`
	// PRF is the hash of the TLS 1.2 PRF and of the TLS 1.3 key schedule
	// (TLS 1.0 and 1.1 use the MD5 and SHA-1 PRF whatever this says).
	PRF Hash `json:"prf"`
}

// Info returns the facts of c, and false if c is not in the table
// (unassigned, GREASE).
func (c CipherSuite) Info() (CipherSuiteInfo, bool) {
	i := sort.Search(len(cipherSuites), func(i int) bool { return cipherSuites[i].ID >= c })
	if i < len(cipherSuites) && cipherSuites[i].ID == c {
		return cipherSuites[i], true
	}
	return CipherSuiteInfo{}, false
}

// CipherSuites returns the facts of every suite (and signaling value) the
// table knows, by ascending ID.
func CipherSuites() []CipherSuiteInfo { return slices.Clone(cipherSuites[:]) }

// cipherSuiteName returns the IANA name of id, or "" if it is not in the
// table.
func cipherSuiteName(id CipherSuite) string {
	s, _ := id.Info()
	return s.Name
}

// AEAD reports whether the suite protects records with an AEAD.
func (s CipherSuiteInfo) AEAD() bool { return s.Cipher.AEAD() }

// CBC reports whether the suite's cipher is a block cipher in CBC mode.
func (s CipherSuiteInfo) CBC() bool { return s.Cipher.CBC() }

// Anonymous reports whether the suite authenticates no server: DH_anon
// and ECDH_anon.
func (s CipherSuiteInfo) Anonymous() bool { return s.Auth == AuthAnon }

// NullCipher reports whether the suite does not encrypt (NULL suites and
// the TLS 1.3 integrity-only suites of RFC 9150).
func (s CipherSuiteInfo) NullCipher() bool { return s.Cipher == CipherNULL }

// ForwardSecret reports whether the suite's key exchange is ephemeral, so
// that a later compromise of the server's long-term key does not reveal
// recorded sessions: (EC)DHE, with or without PSK or authentication, the
// password-based exchanges (SRP, ECCPWD, EC J-PAKE), and every TLS 1.3 suite
// (whose psk_ke resumption mode, chosen by the handshake, is the exception).
func (s CipherSuiteInfo) ForwardSecret() bool {
	switch s.Kx {
	case KxAny, KxDHE, KxECDHE, KxDHEPSK, KxECDHEPSK, KxSRP, KxECCPWD, KxECJPAKE:
		return true
	}
	return false
}

// KeyExchange is how a TLS 1.2 (or earlier) suite agrees on the
// pre-master secret.
type KeyExchange uint8

// The key exchanges. DH_anon is KxDHE and ECDH_anon KxECDHE, with
// AuthAnon: their keys are ephemeral.
const (
	KxNone     KeyExchange = iota // signaling values, TLS_NULL_WITH_NULL_NULL
	KxAny                         // TLS 1.3: negotiated apart (supported_groups, key_share, PSK)
	KxRSA                         // pre-master secret encrypted to the server's RSA key
	KxDH                          // static DH from the server's certificate
	KxDHE                         // ephemeral DH
	KxECDH                        // static ECDH from the server's certificate
	KxECDHE                       // ephemeral ECDH
	KxPSK                         // pre-shared key only (RFC 4279)
	KxDHEPSK                      // ephemeral DH and PSK
	KxECDHEPSK                    // ephemeral ECDH and PSK
	KxRSAPSK                      // RSA-encrypted secret and PSK
	KxSRP                         // SRP password exchange (RFC 5054)
	KxKRB5                        // Kerberos (RFC 2712)
	KxECCPWD                      // ECCPWD password exchange (RFC 8492)
	KxECJPAKE                     // EC J-PAKE password exchange (draft-cragie-tls-ecjpake)
	KxGOST                        // VKO GOST R 34.10 (RFC 9189 and earlier drafts)
)

var kxNames = [...]string{KxNone: "none", KxAny: "any", KxRSA: "RSA", KxDH: "DH", KxDHE: "DHE", KxECDH: "ECDH",
	KxECDHE: "ECDHE", KxPSK: "PSK", KxDHEPSK: "DHE_PSK", KxECDHEPSK: "ECDHE_PSK", KxRSAPSK: "RSA_PSK", KxSRP: "SRP",
	KxKRB5: "KRB5", KxECCPWD: "ECCPWD", KxECJPAKE: "ECJPAKE", KxGOST: "GOST"}

// String returns the key exchange's name as in suite names, such as
// "ECDHE" or "DHE_PSK"; "any" for TLS 1.3.
func (k KeyExchange) String() string { return enumName(kxNames[:], k) }

// MarshalText implements encoding.TextMarshaler.
func (k KeyExchange) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Authentication is how a suite authenticates the server.
type Authentication uint8

// The server authentications.
const (
	AuthNone    Authentication = iota // signaling values, TLS_NULL_WITH_NULL_NULL
	AuthAny                           // TLS 1.3: by the certificate and signature_algorithms
	AuthRSA                           // RSA certificate (also RSA_PSK and SRP_SHA_RSA)
	AuthDSS                           // DSA certificate
	AuthECDSA                         // ECDSA certificate
	AuthAnon                          // none: DH_anon, ECDH_anon
	AuthPSK                           // the pre-shared key
	AuthSRP                           // the SRP password
	AuthKRB5                          // a Kerberos ticket
	AuthECCPWD                        // the ECCPWD password
	AuthECJPAKE                       // the EC J-PAKE password
	AuthGOST                          // GOST R 34.10 certificate
)

var authNames = [...]string{AuthNone: "none", AuthAny: "any", AuthRSA: "RSA", AuthDSS: "DSS", AuthECDSA: "ECDSA",
	AuthAnon: "anon", AuthPSK: "PSK", AuthSRP: "SRP", AuthKRB5: "KRB5", AuthECCPWD: "ECCPWD", AuthECJPAKE: "ECJPAKE",
	AuthGOST: "GOST"}

// String returns the authentication's name, such as "ECDSA" or "anon".
func (a Authentication) String() string { return enumName(authNames[:], a) }

// MarshalText implements encoding.TextMarshaler.
func (a Authentication) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// Cipher is a record cipher, with its mode.
type Cipher uint8

// The record ciphers.
const (
	CipherNone             Cipher = iota // signaling values
	CipherNULL                           // no encryption, MAC only
	CipherRC4                            // RC4 stream cipher
	CipherRC2CBC                         // RC2 in CBC mode
	CipherDESCBC                         // DES (and 40-bit export DES) in CBC mode
	Cipher3DESCBC                        // 3DES-EDE in CBC mode
	CipherIDEACBC                        // IDEA in CBC mode
	CipherAESCBC                         // AES in CBC mode, with HMAC (MAC-then-encrypt, or RFC 7366 encrypt-then-MAC)
	CipherAESGCM                         // AES-GCM (RFC 5288, RFC 8446)
	CipherAESCCM                         // AES-CCM with a 16-byte tag (RFC 6655, RFC 8446)
	CipherAESCCM8                        // AES-CCM with an 8-byte tag (RFC 6655, RFC 8446)
	CipherChaCha20Poly1305               // ChaCha20-Poly1305 (RFC 7905, RFC 8446)
	CipherCamelliaCBC                    // Camellia in CBC mode (RFC 5932)
	CipherCamelliaGCM                    // Camellia-GCM (RFC 6367)
	CipherARIACBC                        // ARIA in CBC mode (RFC 6209)
	CipherARIAGCM                        // ARIA-GCM (RFC 6209)
	CipherSEEDCBC                        // SEED in CBC mode (RFC 4162)
	CipherSM4GCM                         // SM4-GCM (RFC 8998)
	CipherSM4CCM                         // SM4-CCM (RFC 8998)
	CipherAEGIS256                       // AEGIS-256 (draft-irtf-cfrg-aegis-aead)
	CipherAEGIS128L                      // AEGIS-128L (draft-irtf-cfrg-aegis-aead)
	CipherGOST28147CNT                   // GOST 28147-89 in counter mode
	CipherKuznyechikCTR                  // Kuznyechik in CTR mode (RFC 9189), with OMAC
	CipherMagmaCTR                       // Magma in CTR mode (RFC 9189), with OMAC
	CipherKuznyechikMGM                  // Kuznyechik-MGM AEAD (RFC 9367)
	CipherMagmaMGM                       // Magma-MGM AEAD (RFC 9367)
	CipherSalsa20                        // Salsa20 stream cipher (draft-josefsson-salsa20-tls)
	CipherESTREAMSalsa20                 // Salsa20/12 stream cipher (draft-josefsson-salsa20-tls)
)

var cipherNames = [...]string{CipherNone: "none", CipherNULL: "NULL", CipherRC4: "RC4", CipherRC2CBC: "RC2-CBC",
	CipherDESCBC: "DES-CBC", Cipher3DESCBC: "3DES-EDE-CBC", CipherIDEACBC: "IDEA-CBC", CipherAESCBC: "AES-CBC",
	CipherAESGCM: "AES-GCM", CipherAESCCM: "AES-CCM", CipherAESCCM8: "AES-CCM-8",
	CipherChaCha20Poly1305: "ChaCha20-Poly1305", CipherCamelliaCBC: "Camellia-CBC", CipherCamelliaGCM: "Camellia-GCM",
	CipherARIACBC: "ARIA-CBC", CipherARIAGCM: "ARIA-GCM", CipherSEEDCBC: "SEED-CBC", CipherSM4GCM: "SM4-GCM",
	CipherSM4CCM: "SM4-CCM", CipherAEGIS256: "AEGIS-256", CipherAEGIS128L: "AEGIS-128L",
	CipherGOST28147CNT: "GOST28147-CNT", CipherKuznyechikCTR: "Kuznyechik-CTR", CipherMagmaCTR: "Magma-CTR",
	CipherKuznyechikMGM: "Kuznyechik-MGM", CipherMagmaMGM: "Magma-MGM", CipherSalsa20: "Salsa20",
	CipherESTREAMSalsa20: "eSTREAM-Salsa20"}

// String returns the cipher's name, such as "AES-GCM" or "3DES-EDE-CBC".
func (c Cipher) String() string { return enumName(cipherNames[:], c) }

// MarshalText implements encoding.TextMarshaler.
func (c Cipher) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// AEAD reports whether the cipher is an AEAD.
func (c Cipher) AEAD() bool {
	switch c {
	case CipherAESGCM, CipherAESCCM, CipherAESCCM8, CipherChaCha20Poly1305, CipherCamelliaGCM, CipherARIAGCM,
		CipherSM4GCM, CipherSM4CCM, CipherAEGIS256, CipherAEGIS128L, CipherKuznyechikMGM, CipherMagmaMGM:
		return true
	}
	return false
}

// CBC reports whether the cipher is a block cipher in CBC mode.
func (c Cipher) CBC() bool {
	switch c {
	case CipherRC2CBC, CipherDESCBC, Cipher3DESCBC, CipherIDEACBC, CipherAESCBC, CipherCamelliaCBC, CipherARIACBC,
		CipherSEEDCBC:
		return true
	}
	return false
}

// MAC is the record MAC of a suite.
type MAC uint8

// The record MACs. The hash-named ones are HMAC with that hash (SSL 3.0's
// keyed MAC with it, for SSL 3.0).
const (
	MACNone      MAC = iota // signaling values, TLS_NULL_WITH_NULL_NULL
	MACAEAD                 // the AEAD authenticates
	MACMD5                  // HMAC-MD5
	MACSHA1                 // HMAC-SHA1
	MACSHA256               // HMAC-SHA256
	MACSHA384               // HMAC-SHA384
	MACGOSTR3411            // HMAC with GOST R 34.11-94
	MACIMIT                 // GOST 28147-89 IMIT
	MACOMAC                 // OMAC of the block cipher (RFC 9189)
)

var macNames = [...]string{MACNone: "none", MACAEAD: "AEAD", MACMD5: "MD5", MACSHA1: "SHA1", MACSHA256: "SHA256",
	MACSHA384: "SHA384", MACGOSTR3411: "GOSTR3411", MACIMIT: "IMIT", MACOMAC: "OMAC"}

// String returns the MAC's name as in suite names, such as "SHA1" or
// "AEAD".
func (m MAC) String() string { return enumName(macNames[:], m) }

// MarshalText implements encoding.TextMarshaler.
func (m MAC) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// Hash returns the hash of an HMAC, or HashNone.
func (m MAC) Hash() Hash {
	switch m {
	case MACMD5:
		return HashMD5
	case MACSHA1:
		return HashSHA1
	case MACSHA256:
		return HashSHA256
	case MACSHA384:
		return HashSHA384
	case MACGOSTR3411:
		return HashGOSTR341194
	}
	return HashNone
}

// Hash is a hash function of a suite's MAC or PRF.
type Hash uint8

// The hashes.
const (
	HashNone        Hash = iota
	HashMD5              // MD5
	HashSHA1             // SHA-1
	HashSHA256           // SHA-256
	HashSHA384           // SHA-384
	HashSM3              // SM3 (RFC 8998)
	HashGOSTR341194      // GOST R 34.11-94
	HashStreebog256      // GOST R 34.11-2012, 256 bits (RFC 9189, RFC 9367)
)

var hashNames = [...]string{HashNone: "none", HashMD5: "MD5", HashSHA1: "SHA-1", HashSHA256: "SHA-256",
	HashSHA384: "SHA-384", HashSM3: "SM3", HashGOSTR341194: "GOST R 34.11-94", HashStreebog256: "Streebog-256"}

// String returns the hash's name, such as "SHA-256".
func (h Hash) String() string { return enumName(hashNames[:], h) }

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// Crypto returns h as a crypto.Hash, or 0 for the hashes the standard
// library does not have (SM3, GOST). The caller links the implementation
// (crypto/sha256…).
func (h Hash) Crypto() crypto.Hash {
	switch h {
	case HashMD5:
		return crypto.MD5
	case HashSHA1:
		return crypto.SHA1
	case HashSHA256:
		return crypto.SHA256
	case HashSHA384:
		return crypto.SHA384
	}
	return 0
}

// enumName returns names[v], or "unknown(v)".
func enumName[T ~uint8](names []string, v T) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return unknown8(uint8(v))
}
