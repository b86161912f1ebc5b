package keysched

import (
	"crypto/md5"
	"crypto/sha1"
	"fmt"
)

// HandshakeHash returns the hash of the handshake messages msgs (framed as
// on the wire, concatenated) that a TLS 1.0–1.2 Finished or the RFC 7627
// session hash is computed over: the suite's PRF hash in TLS 1.2, MD5 and
// SHA-1 concatenated in TLS 1.0 and 1.1 (RFC 5246 §7.4.9, RFC 2246
// §7.4.9).
func HandshakeHash(version, suite uint16, msgs []byte) ([]byte, error) {
	version = streamVersion(version)
	s, err := suiteForVersion(version, suite)
	if err != nil {
		return nil, err
	}
	switch version {
	case VersionTLS12:
		h := s.Hash.New()
		h.Write(msgs)
		return h.Sum(nil), nil
	case VersionTLS10, VersionTLS11:
		m, sh := md5.Sum(msgs), sha1.Sum(msgs)
		return append(m[:], sh[:]...), nil
	}
	return nil, fmt.Errorf("keysched: no TLS 1.0–1.2 handshake hash for %s", versionName(version))
}

// VerifyData returns the verify_data of a TLS 1.0–1.2 Finished message:
// PRF(master_secret, label, handshakeHash)[0..11], label being "client
// finished" or "server finished" (RFC 5246 §7.4.9).
func VerifyData(version, suite uint16, masterSecret []byte, label string, handshakeHash []byte) ([]byte, error) {
	version = streamVersion(version)
	if version == VersionSSL30 {
		return nil, fmt.Errorf("keysched: SSL 3.0's Finished is not a PRF output")
	}
	if label != "client finished" && label != "server finished" {
		return nil, fmt.Errorf("keysched: %q is not a Finished label", label)
	}
	s, err := suiteForVersion(version, suite)
	if err != nil {
		return nil, err
	}
	return prf(version, s, masterSecret, label, handshakeHash, 12)
}
