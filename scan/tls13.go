package scan

import (
	"crypto"
	"crypto/hkdf"
	"crypto/hmac"
	"fmt"

	"github.com/tlskit/tlskit/internal/keysched"
	"github.com/tlskit/tlskit/internal/wire"
)

// This file is the TLS 1.3 key schedule of RFC 8446 §7.1 as a client
// runs it, built on keysched's HKDF-Expand-Label: from the (EC)DHE shared
// secret and an optional PSK to the traffic secrets a probe needs to read
// the server's encrypted flight, to finish the handshake, and to resume.

// sched13 is one connection's TLS 1.3 key schedule.
type sched13 struct {
	suite  wire.CipherSuite
	hash   crypto.Hash
	early  []byte
	hs     []byte
	master []byte
	// Traffic secrets, as named in key logs.
	cHS, sHS, cAP, sAP []byte
}

// hashOf returns the hash of a TLS 1.3 suite.
func hashOf(suite wire.CipherSuite) (crypto.Hash, error) {
	s, ok := keysched.LookupSuite(uint16(suite))
	if !ok || !s.TLS13 {
		return 0, fmt.Errorf("scan: %v is not a TLS 1.3 suite tlskit can key", suite)
	}
	return s.Hash, nil
}

// newSched13 starts the schedule: the early secret from psk, or from zeros
// without one.
func newSched13(suite wire.CipherSuite, psk []byte) (*sched13, error) {
	h, err := hashOf(suite)
	if err != nil {
		return nil, err
	}
	k := &sched13{suite: suite, hash: h}
	if psk == nil {
		psk = make([]byte, h.Size())
	}
	k.early, err = hkdf.Extract(h.New, psk, make([]byte, h.Size()))
	return k, err
}

// sum hashes b with the schedule's hash.
func (k *sched13) sum(b []byte) []byte {
	h := k.hash.New()
	h.Write(b)
	return h.Sum(nil)
}

// derive is Derive-Secret(secret, label, messages).
func (k *sched13) derive(secret []byte, label string, messages []byte) []byte {
	return keysched.DeriveSecret(k.hash.New, secret, label, k.sum(messages))
}

// handshake derives the handshake traffic secrets from the shared secret
// and the messages up to the ServerHello.
func (k *sched13) handshake(shared, messages []byte) error {
	salt := k.derive(k.early, "derived", nil)
	var err error
	if k.hs, err = hkdf.Extract(k.hash.New, shared, salt); err != nil {
		return err
	}
	k.cHS = k.derive(k.hs, "c hs traffic", messages)
	k.sHS = k.derive(k.hs, "s hs traffic", messages)
	return nil
}

// application derives the application traffic secrets from the messages
// up to the server's Finished.
func (k *sched13) application(messages []byte) error {
	salt := k.derive(k.hs, "derived", nil)
	var err error
	if k.master, err = hkdf.Extract(k.hash.New, make([]byte, k.hash.Size()), salt); err != nil {
		return err
	}
	k.cAP = k.derive(k.master, "c ap traffic", messages)
	k.sAP = k.derive(k.master, "s ap traffic", messages)
	return nil
}

// finished returns the verify_data of a Finished sent with the base
// traffic secret over messages (RFC 8446 §4.4.4).
func (k *sched13) finished(base, messages []byte) []byte {
	key := keysched.ExpandLabel(k.hash.New, base, "finished", nil, k.hash.Size())
	m := hmac.New(k.hash.New, key)
	m.Write(k.sum(messages))
	return m.Sum(nil)
}

// resumptionPSK returns the PSK a ticket with nonce stands for, from the
// messages up to the client's Finished (RFC 8446 §4.6.1).
func (k *sched13) resumptionPSK(messages, nonce []byte) []byte {
	rms := k.derive(k.master, "res master", messages)
	return keysched.ExpandLabel(k.hash.New, rms, "resumption", nonce, k.hash.Size())
}

// binder returns the PSK binder over the truncated ClientHello
// (RFC 8446 §4.2.11.2), for a resumption PSK.
func (k *sched13) binder(truncatedHello []byte) []byte {
	bk := k.derive(k.early, "res binder", nil)
	return k.finished(bk, truncatedHello)
}

// messageHash replaces the first ClientHello in the transcript after a
// HelloRetryRequest (RFC 8446 §4.4.1).
func messageHash(h crypto.Hash, clientHello []byte) []byte {
	d := h.New()
	d.Write(clientHello)
	sum := d.Sum(nil)
	return append([]byte{byte(wire.TypeMessageHash), 0, 0, byte(len(sum))}, sum...)
}
