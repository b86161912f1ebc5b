// Package keysched derives TLS record keys from the secrets in a key log and
// opens (and seals) TLS records with them.
//
// # TLS 1.3
//
// [ExpandLabel] and [DeriveSecret] are HKDF-Expand-Label and Derive-Secret
// of RFC 8446 §7.1. [TrafficKeys] turns a traffic secret (as logged under
// CLIENT_HANDSHAKE_TRAFFIC_SECRET and friends) into the write key and IV of
// §7.3, and [NextTrafficSecret] is the KeyUpdate step of §7.2.
// [NewTLS13Opener] does all of that and opens records: nonce = IV XOR
// sequence number, the record header as additional data, and the inner
// content type found after stripping the zero padding (§5.2–5.4).
//
// # TLS 1.2 and earlier
//
// [MasterSecret] and [ExtendedMasterSecret] (RFC 7627) run the PRF of RFC
// 5246 §5 (TLS 1.2, with the suite's hash) or RFC 2246 §5 (TLS 1.0 and 1.1,
// MD5 and SHA-1). [NewTLS12Openers] expands the key block (§6.3) and
// returns one [Opener] per direction for AEAD suites (GCM and CCM with an
// explicit nonce, ChaCha20-Poly1305 with the RFC 7905 nonce), CBC suites
// (MAC-then-encrypt with padding and MAC checks, TLS 1.0 chained IVs, TLS
// 1.1+ explicit IVs, or RFC 7366 encrypt-then-MAC) and NULL suites. SSL 3.0
// (RFC 6101) takes the same calls with its own MD5/SHA-1 key derivation
// (§6.1, §6.2.2), its pre-HMAC record MAC (§5.2.3.1) and CBC padding whose
// bytes before the length are arbitrary (§5.2.3.2); the IV chains as in TLS
// 1.0.
//
// # Suites
//
// What a suite's records need (cipher, key, IV, tag and MAC lengths, MAC
// and PRF hashes) comes from wire's cipher suite table; [LookupSuite] says
// which suites this package implements and gives those facts as a [Suite].
//
// # Sealing
//
// [Sealer] is the mirror of [Opener], for tests, fuzzing and test servers.
package keysched

import (
	"crypto"
	"crypto/hkdf"
	"encoding/binary"
	"fmt"
	"hash"
)

// ExpandLabel is HKDF-Expand-Label(secret, label, context, length) of RFC
// 8446 §7.1, with the "tls13 " prefix added to label. It returns nil if
// length or the label are too long for the HkdfLabel encoding or the hash.
func ExpandLabel(h func() hash.Hash, secret []byte, label string, context []byte, length int) []byte {
	full := "tls13 " + label
	if len(full) > 255 || len(context) > 255 || length < 0 || length > 0xFFFF {
		return nil
	}
	info := make([]byte, 0, 2+1+len(full)+1+len(context))
	info = binary.BigEndian.AppendUint16(info, uint16(length))
	info = append(info, byte(len(full)))
	info = append(info, full...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out, err := hkdf.Expand(h, secret, string(info), length)
	if err != nil {
		return nil
	}
	return out
}

// DeriveSecret is Derive-Secret(secret, label, messages) of RFC 8446 §7.1:
// transcriptHash is Transcript-Hash(messages), already computed.
func DeriveSecret(h func() hash.Hash, secret []byte, label string, transcriptHash []byte) []byte {
	return ExpandLabel(h, secret, label, transcriptHash, h().Size())
}

// TrafficKeys derives the write key and IV of RFC 8446 §7.3 from a TLS
// 1.3 traffic secret for the given suite.
func TrafficKeys(suite uint16, trafficSecret []byte) (key, iv []byte, err error) {
	s, err := tls13Suite(suite)
	if err != nil {
		return nil, nil, err
	}
	h := s.Hash.New
	return ExpandLabel(h, trafficSecret, "key", nil, s.KeyLen), ExpandLabel(h, trafficSecret, "iv", nil, s.IVLen), nil
}

// NextTrafficSecret is application_traffic_secret_N+1 of RFC 8446 §7.2.
func NextTrafficSecret(suite uint16, trafficSecret []byte) ([]byte, error) {
	s, err := tls13Suite(suite)
	if err != nil {
		return nil, err
	}
	return ExpandLabel(s.Hash.New, trafficSecret, "traffic upd", nil, s.Hash.Size()), nil
}

// tls13Suite looks up a TLS 1.3 suite, with an error naming the mistake.
func tls13Suite(id uint16) (Suite, error) {
	s, ok := LookupSuite(id)
	switch {
	case !ok:
		return Suite{}, fmt.Errorf("keysched: unknown or unsupported cipher suite 0x%04x", id)
	case !s.TLS13:
		return Suite{}, fmt.Errorf("keysched: %s (0x%04x) is not a TLS 1.3 cipher suite; use NewTLS12Openers", s.Name, id)
	}
	return s, nil
}

// checkSecret rejects a traffic secret of the wrong length: that is almost
// always a secret from another suite's hash or a truncated key log.
func checkSecret(s Suite, secret []byte) error {
	if len(secret) != s.Hash.Size() {
		return fmt.Errorf("keysched: %s needs a %d-byte traffic secret (%s), got %d bytes", s.Name, s.Hash.Size(), hashName(s.Hash), len(secret))
	}
	return nil
}

// hashName names a hash for error messages.
func hashName(h crypto.Hash) string {
	return h.String()
}

// NewTLS13Opener returns an Opener for one direction of a TLS 1.3
// connection, keyed by a traffic secret from the key log (for example
// SERVER_HANDSHAKE_TRAFFIC_SECRET for the server's encrypted handshake).
func NewTLS13Opener(suite uint16, trafficSecret []byte) (*Opener, error) {
	st, err := newTLS13State(suite, trafficSecret)
	if err != nil {
		return nil, err
	}
	return &Opener{st: st}, nil
}

// NewTLS13DraftOpener is [NewTLS13Opener] for a connection that negotiated
// TLS 1.3 draft n (version 0x7f00+n). Drafts 20 to 24 authenticated no
// additional data (the record header became the AAD in draft 25); drafts
// before 20 used other key labels and are refused.
func NewTLS13DraftOpener(suite uint16, trafficSecret []byte, draft int) (*Opener, error) {
	if draft < 20 {
		return nil, fmt.Errorf("keysched: TLS 1.3 draft %d is not supported (drafts before 20 used other key labels)", draft)
	}
	st, err := newTLS13State(suite, trafficSecret)
	if err != nil {
		return nil, err
	}
	st.noAAD = draft < 25
	return &Opener{st: st}, nil
}

// NewTLS13Sealer returns a Sealer for one direction of a TLS 1.3 connection.
func NewTLS13Sealer(suite uint16, trafficSecret []byte) (*Sealer, error) {
	st, err := newTLS13State(suite, trafficSecret)
	if err != nil {
		return nil, err
	}
	return &Sealer{st: st}, nil
}

// newTLS13State derives the record keys for one direction.
func newTLS13State(suite uint16, secret []byte) (*state, error) {
	s, err := tls13Suite(suite)
	if err != nil {
		return nil, err
	}
	if err := checkSecret(s, secret); err != nil {
		return nil, err
	}
	st := &state{suite: s, version: 0x0304, tls13: true}
	if err := st.setTLS13Secret(secret); err != nil {
		return nil, err
	}
	return st, nil
}

// setTLS13Secret installs a traffic secret's key and IV and resets the
// sequence number.
func (st *state) setTLS13Secret(secret []byte) error {
	key, iv, err := TrafficKeys(st.suite.ID, secret)
	if err != nil {
		return err
	}
	aead, err := newAEAD(st.suite.Cipher, key)
	if err != nil {
		return err
	}
	st.secret = append([]byte(nil), secret...)
	st.aead = aead
	st.iv = iv
	st.seq = 0
	return nil
}

// keyUpdate moves to the next traffic secret.
func (st *state) keyUpdate() error {
	if !st.tls13 {
		return fmt.Errorf("keysched: KeyUpdate is a TLS 1.3 message; this is a %s connection", versionName(st.version))
	}
	next, err := NextTrafficSecret(st.suite.ID, st.secret)
	if err != nil {
		return err
	}
	return st.setTLS13Secret(next)
}
