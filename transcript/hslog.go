package transcript

import (
	"crypto"
	"crypto/md5"
	"crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"

	"github.com/tlskit/tlskit/internal/wire"
)

// handshakeLog keeps the raw handshake messages that a key derivation
// hashes. Today that is the TLS 1.2 (and earlier) handshake up to the
// ClientKeyExchange, for the RFC 7627 session hash of the extended master
// secret; TLS 1.3 keys come from the key log's traffic secrets, so its
// messages are not kept. A TLS 1.3 transcript hash belongs here too, with
// the synthetic message_hash that replaces the first ClientHello after a
// HelloRetryRequest (RFC 8446 §4.4.1).
type handshakeLog struct {
	msgs [][]byte
}

// maxLogged bounds the messages kept: enough for any full TLS 1.2
// handshake up to ClientKeyExchange.
const maxLogged = 16

// add appends one message, as it is hashed (its handshake header included).
func (l *handshakeLog) add(m []byte) {
	if len(l.msgs) < maxLogged {
		l.msgs = append(l.msgs, m)
	}
}

// restart starts the log of a new handshake (a TLS 1.2 renegotiation) at
// its ClientHello.
func (l *handshakeLog) restart(hello []byte) { l.msgs = [][]byte{hello} }

// reset forgets the messages: they are not part of any hash to come.
func (l *handshakeLog) reset() { l.msgs = nil }

// sessionHash is the RFC 7627 session hash: the hash of the handshake
// messages up to and including the ClientKeyExchange, with the PRF's hash
// (MD5 and SHA-1 concatenated before TLS 1.2).
func (l *handshakeLog) sessionHash(v wire.Version, suite wire.CipherSuite) []byte {
	var msgs []byte
	for _, m := range l.msgs {
		msgs = append(msgs, m...)
		if len(m) > 0 && wire.HandshakeType(m[0]) == wire.TypeClientKeyExchange {
			break
		}
	}
	if v < wire.VersionTLS12 || v == wire.VersionDTLS10 {
		m := md5.Sum(msgs)
		s := sha1.Sum(msgs)
		return append(m[:], s[:]...)
	}
	h := crypto.SHA256
	if s, ok := suite.Info(); ok && s.PRF.Crypto() != 0 {
		h = s.PRF.Crypto()
	}
	hh := h.New()
	hh.Write(msgs)
	return hh.Sum(nil)
}
