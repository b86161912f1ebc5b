package transcript

import (
	"crypto"
	"crypto/md5"
	"crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"

	"github.com/tlskit/tlskit/internal/wire"
)

// handshakeLog keeps the raw handshake messages that a key derivation or a
// Finished hashes: the TLS 1.2 (and earlier) handshake up to the
// ClientKeyExchange, for the RFC 7627 session hash of the extended master
// secret, and the TLS 1.3 handshake up to the client's Finished, whose
// transcript hash checks both Finished messages (RFC 8446 §4.4.4). After a
// HelloRetryRequest the TLS 1.3 transcript starts with the synthetic
// message_hash that replaces the first ClientHello (RFC 8446 §4.4.1).
type handshakeLog struct {
	msgs [][]byte
	// hrr is the index in msgs of the HelloRetryRequest, or 0 when none
	// was seen (it is never first).
	hrr int
	// broken says a handshake message was not seen (a record that did
	// not decrypt, bytes lost from a capture): no hash over the log is
	// the real one.
	broken bool
}

// maxLogged bounds the messages kept: enough for any full TLS 1.2
// handshake up to ClientKeyExchange, and any TLS 1.3 handshake with a
// HelloRetryRequest and client authentication.
const maxLogged = 16

// add appends one message, as it is hashed (its handshake header included).
func (l *handshakeLog) add(m []byte) {
	if len(l.msgs) < maxLogged {
		l.msgs = append(l.msgs, m)
	} else {
		l.broken = true
	}
}

// helloRetry marks the message just added as a HelloRetryRequest.
func (l *handshakeLog) helloRetry() {
	if n := len(l.msgs); n > 1 && n <= maxLogged {
		l.hrr = n - 1
	} else {
		l.broken = true
	}
}

// restart starts the log of a new handshake (a TLS 1.2 renegotiation) at
// its ClientHello.
func (l *handshakeLog) restart(hello []byte) { *l = handshakeLog{msgs: [][]byte{hello}} }

// reset forgets the messages: they are not part of any hash to come.
func (l *handshakeLog) reset() { *l = handshakeLog{} }

// transcriptHash13 is the TLS 1.3 Transcript-Hash of the messages logged so
// far, with the hash of suite (RFC 8446 §4.4.1): after a HelloRetryRequest
// the messages before it (ClientHello1) are replaced by message_hash
// (handshake type 254, a 3-byte length, Hash(ClientHello1)).
func (l *handshakeLog) transcriptHash13(h crypto.Hash) []byte {
	hh := h.New()
	msgs := l.msgs
	if l.hrr > 0 {
		first := h.New()
		for _, m := range msgs[:l.hrr] {
			first.Write(m)
		}
		sum := first.Sum(nil)
		hh.Write([]byte{byte(wire.TypeMessageHash), 0, 0, byte(len(sum))})
		hh.Write(sum)
		msgs = msgs[l.hrr:]
	}
	for _, m := range msgs {
		hh.Write(m)
	}
	return hh.Sum(nil)
}

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
