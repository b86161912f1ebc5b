package keysched

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"fmt"
	"hash"

	"github.com/tlskit/tlskit/internal/wire"
)

// The protocol versions this package knows, as on the wire.
const (
	VersionSSL30 uint16 = 0x0300 // RFC 6101
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// The DTLS versions, as on the wire (RFC 6347 §4.1; 0x0100 is the version
// OpenSSL before 0.9.8f sent for DTLS 1.0).
const (
	VersionDTLS10        uint16 = 0xfeff
	VersionDTLS12        uint16 = 0xfefd
	VersionDTLS10OpenSSL uint16 = 0x0100
)

// streamVersion maps a DTLS version to the TLS version whose key
// derivation and record protection it uses: DTLS 1.0 is TLS 1.1 (explicit
// CBC IVs, the MD5+SHA-1 PRF), DTLS 1.2 is TLS 1.2 (RFC 6347 §1, §4.1.2).
// Other versions are returned unchanged.
func streamVersion(v uint16) uint16 {
	switch v {
	case VersionDTLS10, VersionDTLS10OpenSSL:
		return VersionTLS11
	case VersionDTLS12:
		return VersionTLS12
	}
	return v
}

// versionName names a protocol version for error messages.
func versionName(v uint16) string { return wire.Version(v).String() }

// prf is the PRF of the given version: TLS 1.2's P_<suite hash>, TLS
// 1.0/1.1's P_MD5 XOR P_SHA1 over the two halves of the secret, or for the
// master secret and key block of SSL 3.0 its MD5/SHA-1 construction (the
// label only selects which one; see ssl3Derive).
func prf(version uint16, s Suite, secret []byte, label string, seed []byte, n int) ([]byte, error) {
	full := make([]byte, 0, len(label)+len(seed))
	full = append(full, label...)
	full = append(full, seed...)
	out := make([]byte, n)
	switch version {
	case VersionTLS12:
		pHashXOR(s.Hash.New, secret, full, out)
	case VersionTLS10, VersionTLS11:
		half := (len(secret) + 1) / 2
		pHashXOR(md5.New, secret[:half], full, out)
		pHashXOR(sha1.New, secret[len(secret)-half:], full, out)
	case VersionSSL30:
		if label != "master secret" && label != "key expansion" {
			return nil, fmt.Errorf("keysched: SSL 3.0 has no %q derivation (its key derivation predates the TLS PRF)", label)
		}
		if err := ssl3Derive(secret, seed, out); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("keysched: %s has no TLS 1.0–1.2 PRF; TLS 1.3 uses HKDF (NewTLS13Opener)", versionName(version))
	}
	return out, nil
}

// pHashXOR XORs P_hash(secret, seed) into out.
func pHashXOR(h func() hash.Hash, secret, seed, out []byte) {
	mac := hmac.New(h, secret)
	mac.Write(seed)
	a := mac.Sum(nil) // A(1)
	for len(out) > 0 {
		mac.Reset()
		mac.Write(a)
		mac.Write(seed)
		b := mac.Sum(nil)
		n := min(len(b), len(out))
		for i := range n {
			out[i] ^= b[i]
		}
		out = out[n:]
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
	}
}

// suiteForVersion looks up a suite usable with SSL 3.0 or TLS 1.0–1.2.
func suiteForVersion(version, id uint16) (Suite, error) {
	s, ok := LookupSuite(id)
	if !ok {
		return Suite{}, fmt.Errorf("keysched: unknown or unsupported cipher suite 0x%04x", id)
	}
	if s.TLS13 {
		return Suite{}, fmt.Errorf("keysched: %s is a TLS 1.3 cipher suite; use NewTLS13Opener with the traffic secrets", s.Name)
	}
	switch version {
	case VersionTLS12:
	case VersionSSL30, VersionTLS10, VersionTLS11:
		if s.Cipher.AEAD() || s.MACLen > 20 {
			return Suite{}, fmt.Errorf("keysched: %s needs TLS 1.2, not %s", s.Name, versionName(version))
		}
	default:
		return Suite{}, fmt.Errorf("keysched: %s is not SSL 3.0 or TLS 1.0, 1.1 or 1.2", versionName(version))
	}
	return s, nil
}

// MasterSecret computes the master secret of RFC 5246 §8.1 (or, for SSL
// 3.0, RFC 6101 §6.1) from the pre-master secret and the hello randoms.
func MasterSecret(version uint16, suite uint16, preMaster, clientRandom, serverRandom []byte) ([]byte, error) {
	version = streamVersion(version)
	s, err := suiteForVersion(version, suite)
	if err != nil {
		return nil, err
	}
	if len(clientRandom) != 32 || len(serverRandom) != 32 {
		return nil, fmt.Errorf("keysched: hello randoms must be 32 bytes, got %d (client) and %d (server)", len(clientRandom), len(serverRandom))
	}
	seed := append(append([]byte(nil), clientRandom...), serverRandom...)
	return prf(version, s, preMaster, "master secret", seed, 48)
}

// ExtendedMasterSecret computes the RFC 7627 master secret from the
// pre-master secret and the session hash (the handshake hash up to and
// including ClientKeyExchange).
func ExtendedMasterSecret(version uint16, suite uint16, preMaster, sessionHash []byte) ([]byte, error) {
	version = streamVersion(version)
	s, err := suiteForVersion(version, suite)
	if err != nil {
		return nil, err
	}
	if len(sessionHash) == 0 {
		return nil, fmt.Errorf("keysched: extended master secret needs the session hash, got none")
	}
	return prf(version, s, preMaster, "extended master secret", sessionHash, 48)
}

// keyBlock is the expanded key material of RFC 5246 §6.3 (RFC 6101 §6.2.2).
type keyBlock struct {
	clientMAC, serverMAC, clientKey, serverKey, clientIV, serverIV []byte
}

// expandKeys runs the PRF with "key expansion" and cuts the result.
func expandKeys(version uint16, s Suite, masterSecret, clientRandom, serverRandom []byte) (keyBlock, error) {
	if len(masterSecret) != 48 {
		return keyBlock{}, fmt.Errorf("keysched: master secret must be 48 bytes, got %d (a TLS 1.3 secret or a pre-master secret?)", len(masterSecret))
	}
	if len(clientRandom) != 32 || len(serverRandom) != 32 {
		return keyBlock{}, fmt.Errorf("keysched: hello randoms must be 32 bytes, got %d (client) and %d (server)", len(clientRandom), len(serverRandom))
	}
	ivLen := s.IVLen
	if (s.Cipher == wire.CipherAESCBC || s.Cipher == wire.Cipher3DESCBC) && version != VersionTLS10 && version != VersionSSL30 {
		ivLen = 0 // TLS 1.1+ CBC sends the IV with every record
	}
	if s.Cipher == wire.CipherNULL {
		ivLen = 0
	}
	seed := append(append([]byte(nil), serverRandom...), clientRandom...)
	n := 2*s.MACLen + 2*s.KeyLen + 2*ivLen
	b, err := prf(version, s, masterSecret, "key expansion", seed, n)
	if err != nil {
		return keyBlock{}, err
	}
	var kb keyBlock
	next := func(k int) []byte { r := b[:k:k]; b = b[k:]; return r }
	kb.clientMAC = next(s.MACLen)
	kb.serverMAC = next(s.MACLen)
	kb.clientKey = next(s.KeyLen)
	kb.serverKey = next(s.KeyLen)
	kb.clientIV = next(ivLen)
	kb.serverIV = next(ivLen)
	return kb, nil
}

// NewTLS12Openers returns the Openers for the client's and the server's
// records of an SSL 3.0, TLS 1.0, 1.1 or 1.2 connection, or of a DTLS 1.0
// or 1.2 one (whose records are opened with [Opener.OpenDTLS]).
// encryptThenMAC is whether both hellos carried the encrypt_then_mac
// extension (RFC 7366); it only matters for CBC suites, and is ignored for
// SSL 3.0, which has no such extension.
func NewTLS12Openers(suite uint16, version uint16, masterSecret, clientRandom, serverRandom []byte, encryptThenMAC bool) (client, server *Opener, err error) {
	c, s, err := newTLS12States(suite, version, masterSecret, clientRandom, serverRandom, encryptThenMAC)
	if err != nil {
		return nil, nil, err
	}
	return &Opener{st: c}, &Opener{st: s}, nil
}

// NewTLS12Sealers returns the Sealers for the client's and the server's
// records; see [NewTLS12Openers].
func NewTLS12Sealers(suite uint16, version uint16, masterSecret, clientRandom, serverRandom []byte, encryptThenMAC bool) (client, server *Sealer, err error) {
	c, s, err := newTLS12States(suite, version, masterSecret, clientRandom, serverRandom, encryptThenMAC)
	if err != nil {
		return nil, nil, err
	}
	return &Sealer{st: c}, &Sealer{st: s}, nil
}

// newTLS12States derives both directions' record state.
func newTLS12States(suite uint16, version uint16, masterSecret, clientRandom, serverRandom []byte, etm bool) (client, server *state, err error) {
	version = streamVersion(version)
	s, err := suiteForVersion(version, suite)
	if err != nil {
		return nil, nil, err
	}
	kb, err := expandKeys(version, s, masterSecret, clientRandom, serverRandom)
	if err != nil {
		return nil, nil, err
	}
	if version == VersionSSL30 {
		etm = false
	}
	client, err = newTLS12State(s, version, kb.clientMAC, kb.clientKey, kb.clientIV, etm)
	if err != nil {
		return nil, nil, err
	}
	server, err = newTLS12State(s, version, kb.serverMAC, kb.serverKey, kb.serverIV, etm)
	if err != nil {
		return nil, nil, err
	}
	return client, server, nil
}
