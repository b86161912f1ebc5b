package keylog

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
)

// AddRSAKey adds a server's RSA private key, as Wireshark's "RSA keys
// list" does: connections that used RSA key exchange with that server
// (TLS_RSA_WITH_… suites, no forward secrecy) are decrypted by recovering
// the pre-master secret from the client's ClientKeyExchange. The key is
// only ever used to decrypt; it is never written out.
func (l *Log) AddRSAKey(k *rsa.PrivateKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rsaKeys = append(l.rsaKeys, k)
}

// SetPSK sets the pre-shared key of plain PSK cipher suites
// (TLS_PSK_WITH_…, RFC 4279 §2), from which their pre-master secret
// follows. Suites that mix the PSK with a Diffie-Hellman or RSA secret
// (DHE_PSK, ECDHE_PSK, RSA_PSK) need a key log instead.
func (l *Log) SetPSK(psk []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.psk = bytes.Clone(psk)
}

// PSKPreMaster returns the pre-master secret of a plain PSK suite from the
// key given to [Log.SetPSK]: other_secret of N zero bytes and the PSK, each
// with a two-byte length (RFC 4279 §2).
func (l *Log) PSKPreMaster() ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.psk == nil {
		if l.base != nil {
			return l.base.PSKPreMaster()
		}
		return nil, false
	}
	n := len(l.psk)
	pms := make([]byte, 0, 4+2*n)
	pms = append(pms, byte(n>>8), byte(n))
	pms = append(pms, make([]byte, n)...)
	pms = append(pms, byte(n>>8), byte(n))
	return append(pms, l.psk...), true
}

// DecryptPreMaster returns the pre-master secret of an RSA key exchange
// from the encrypted pre-master secret of its ClientKeyExchange: from an
// "RSA <encrypted prefix> <pre-master>" key log line, or else by
// decrypting it with each RSA key added with [Log.AddRSAKey]. Only a
// decryption that yields the 48 bytes of a pre-master secret counts.
func (l *Log) DecryptPreMaster(encrypted []byte) ([]byte, bool) {
	if pms, ok := l.PreMasterForEncrypted(encrypted); ok {
		return pms, true
	}
	l.mu.Lock()
	keys, base := l.rsaKeys, l.base
	l.mu.Unlock()
	for ; base != nil; base = base.base {
		base.mu.Lock()
		keys = append(slices.Clip(keys), base.rsaKeys...)
		base.mu.Unlock()
	}
	for _, k := range keys {
		if len(encrypted) != k.Size() {
			continue
		}
		// Offline there is no padding oracle to fear: plain PKCS #1 v1.5
		// decryption, and a wrong key almost always fails its padding.
		if pms, err := rsa.DecryptPKCS1v15(nil, k, encrypted); err == nil && len(pms) == 48 {
			return pms, true
		}
	}
	return nil, false
}

// AddSession records the master secret of a TLS 1.2 session under its
// session id, as an "RSA Session-ID:… Master-Key:…" line would, so that
// a later abbreviated handshake resuming it can be decrypted. Decoders call
// it for master secrets they derive themselves (from an RSA key or a PSK).
func (l *Log) AddSession(sessionID, masterSecret []byte) {
	if len(sessionID) > 0 {
		l.put(entryKey{rsaSessionKey, string(sessionID)}, masterSecret)
	}
}

// AddTicket records the master secret of a TLS 1.2 session under the
// session ticket (RFC 5077) the server issued for it.
func (l *Log) AddTicket(ticket, masterSecret []byte) {
	if len(ticket) > 0 {
		l.put(entryKey{ticketKey, string(ticket)}, masterSecret)
	}
}

// MasterSecretForTicket returns the master secret recorded with
// [Log.AddTicket] for a session ticket.
func (l *Log) MasterSecretForTicket(ticket []byte) ([]byte, bool) {
	if len(ticket) == 0 {
		return nil, false
	}
	return l.get(entryKey{ticketKey, string(ticket)})
}

// ParseRSAKey reads an RSA private key: PEM ("RSA PRIVATE KEY" PKCS #1 or
// "PRIVATE KEY" PKCS #8, the first key block in the file) or the same in
// DER. Encrypted PEM and PKCS #12 files are refused with a hint.
func ParseRSAKey(data []byte) (*rsa.PrivateKey, error) {
	der := data
	if bytes.Contains(data, []byte("-----BEGIN")) {
		rest := data
		der = nil
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			switch b.Type {
			case "RSA PRIVATE KEY", "PRIVATE KEY":
				if _, enc := b.Headers["DEK-Info"]; enc {
					return nil, errors.New("keylog: the private key is encrypted; decrypt it first: openssl rsa -in key.pem -out plain.pem")
				}
				der = b.Bytes
			case "ENCRYPTED PRIVATE KEY":
				return nil, errors.New("keylog: the private key is encrypted (PKCS #8); decrypt it first: openssl pkey -in key.pem -out plain.pem")
			case "EC PRIVATE KEY":
				return nil, errors.New("keylog: an EC private key cannot decrypt anything: only RSA key exchange sends the pre-master secret encrypted to the server's key")
			}
			if der != nil {
				break
			}
		}
		if der == nil {
			return nil, errors.New("keylog: no RSA PRIVATE KEY or PRIVATE KEY block in the PEM file")
		}
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		if len(der) > 0 && der[0] == 0x30 && bytes.Contains(der[:min(len(der), 64)], []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07}) {
			return nil, errors.New("keylog: this looks like a PKCS #12 file; extract the key first: openssl pkcs12 -in key.p12 -nocerts -nodes -out key.pem")
		}
		return nil, fmt.Errorf("keylog: not an RSA private key in PEM or DER (PKCS #1 or #8): %v", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("keylog: the key is a %T, not RSA: only RSA key exchange can be decrypted with the server's key", k)
	}
	return rk, nil
}

// ParseRSAKeyFile reads an RSA private key file; see [ParseRSAKey].
func ParseRSAKeyFile(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keylog: %w", err)
	}
	k, err := ParseRSAKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return k, nil
}
