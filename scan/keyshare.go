package scan

import (
	"crypto/ecdh"
	"crypto/mlkem"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"github.com/tlskit/tlskit/internal/wire"
)

// This file makes the client's half of a key exchange: TLS 1.3 key shares
// (X25519, the NIST curves and the hybrid post-quantum groups of
// draft-ietf-tls-ecdhe-mlkem) and the TLS 1.2 ECDHE and DHE client keys. A
// probe that only needs the server's choice sends no key share at all (the
// server answers with a HelloRetryRequest naming its group); a probe that
// must read the server's encrypted flight computes the shared secret here.

// Hybrid post-quantum groups (draft-ietf-tls-ecdhe-mlkem-03 §4.1).
const (
	groupSecP256r1MLKEM768  wire.NamedGroup = 0x11eb
	groupX25519MLKEM768     wire.NamedGroup = 0x11ec
	groupSecP384r1MLKEM1024 wire.NamedGroup = 0x11ed
)

// keyShare is a client key share: its group, the public value sent, and
// the private part that computes the shared secret.
type keyShare struct {
	group  wire.NamedGroup
	public []byte
	ec     *ecdh.PrivateKey
	kem768 *mlkem.DecapsulationKey768
	kem1k  *mlkem.DecapsulationKey1024
}

// curveOf returns the crypto/ecdh curve of a named group, or nil.
func curveOf(g wire.NamedGroup) ecdh.Curve {
	switch g {
	case wire.GroupX25519:
		return ecdh.X25519()
	case wire.GroupSecp256r1:
		return ecdh.P256()
	case wire.GroupSecp384r1:
		return ecdh.P384()
	case wire.GroupSecp521r1:
		return ecdh.P521()
	}
	return nil
}

// canShare reports whether newKeyShare makes a share for g.
func canShare(g wire.NamedGroup) bool {
	switch g {
	case groupX25519MLKEM768, groupSecP256r1MLKEM768, groupSecP384r1MLKEM1024:
		return true
	}
	return curveOf(g) != nil
}

// newKeyShare generates a key share for g.
func newKeyShare(g wire.NamedGroup) (*keyShare, error) {
	ks := &keyShare{group: g}
	var err error
	switch g {
	case groupX25519MLKEM768: // ML-KEM-768 encapsulation key || X25519
		if ks.kem768, err = mlkem.GenerateKey768(); err != nil {
			return nil, err
		}
		if ks.ec, err = ecdh.X25519().GenerateKey(rand.Reader); err != nil {
			return nil, err
		}
		ks.public = append(ks.kem768.EncapsulationKey().Bytes(), ks.ec.PublicKey().Bytes()...)
	case groupSecP256r1MLKEM768: // P-256 point || ML-KEM-768 encapsulation key
		if ks.kem768, err = mlkem.GenerateKey768(); err != nil {
			return nil, err
		}
		if ks.ec, err = ecdh.P256().GenerateKey(rand.Reader); err != nil {
			return nil, err
		}
		ks.public = append(ks.ec.PublicKey().Bytes(), ks.kem768.EncapsulationKey().Bytes()...)
	case groupSecP384r1MLKEM1024: // P-384 point || ML-KEM-1024 encapsulation key
		if ks.kem1k, err = mlkem.GenerateKey1024(); err != nil {
			return nil, err
		}
		if ks.ec, err = ecdh.P384().GenerateKey(rand.Reader); err != nil {
			return nil, err
		}
		ks.public = append(ks.ec.PublicKey().Bytes(), ks.kem1k.EncapsulationKey().Bytes()...)
	default:
		c := curveOf(g)
		if c == nil {
			return nil, fmt.Errorf("scan: no key share for %v", g)
		}
		if ks.ec, err = c.GenerateKey(rand.Reader); err != nil {
			return nil, err
		}
		ks.public = ks.ec.PublicKey().Bytes()
	}
	return ks, nil
}

// shared computes the shared secret from the server's key share (TLS
// 1.3) or ECDHE public value (TLS 1.2).
func (ks *keyShare) shared(server []byte) ([]byte, error) {
	ecdhWith := func(pub []byte) ([]byte, error) {
		p, err := ks.ec.Curve().NewPublicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("scan: the server's %v key share: %w", ks.group, err)
		}
		return ks.ec.ECDH(p)
	}
	switch ks.group {
	case groupX25519MLKEM768: // ciphertext (1088) || X25519 (32); secret ML-KEM || X25519
		if len(server) != mlkem.CiphertextSize768+32 {
			return nil, fmt.Errorf("scan: the server's X25519MLKEM768 share is %d bytes, want %d", len(server), mlkem.CiphertextSize768+32)
		}
		k, err := ks.kem768.Decapsulate(server[:mlkem.CiphertextSize768])
		if err != nil {
			return nil, err
		}
		e, err := ecdhWith(server[mlkem.CiphertextSize768:])
		if err != nil {
			return nil, err
		}
		return append(k, e...), nil
	case groupSecP256r1MLKEM768, groupSecP384r1MLKEM1024: // point || ciphertext; secret ECDH || ML-KEM
		n := 65
		ct := mlkem.CiphertextSize768
		if ks.group == groupSecP384r1MLKEM1024 {
			n, ct = 97, mlkem.CiphertextSize1024
		}
		if len(server) != n+ct {
			return nil, fmt.Errorf("scan: the server's %v share is %d bytes, want %d", ks.group, len(server), n+ct)
		}
		e, err := ecdhWith(server[:n])
		if err != nil {
			return nil, err
		}
		var k []byte
		if ks.kem768 != nil {
			k, err = ks.kem768.Decapsulate(server[n:])
		} else {
			k, err = ks.kem1k.Decapsulate(server[n:])
		}
		if err != nil {
			return nil, err
		}
		return append(e, k...), nil
	}
	return ecdhWith(server)
}

// dheClient computes the client's DHE public value and the pre-master
// secret for the server's parameters (RFC 5246 §8.1.2: leading zero bytes
// of Z are stripped).
func dheClient(p, g, ys []byte) (public, preMaster []byte, err error) {
	P, G, Y := new(big.Int).SetBytes(p), new(big.Int).SetBytes(g), new(big.Int).SetBytes(ys)
	one := big.NewInt(1)
	pm1 := new(big.Int).Sub(P, one)
	if P.Sign() <= 0 || G.Cmp(one) <= 0 || G.Cmp(pm1) >= 0 || Y.Cmp(one) <= 0 || Y.Cmp(pm1) >= 0 {
		return nil, nil, errors.New("scan: the server's DH parameters are degenerate")
	}
	x, err := rand.Int(rand.Reader, pm1)
	if err != nil {
		return nil, nil, err
	}
	x.Add(x, one)
	public = new(big.Int).Exp(G, x, P).Bytes()
	preMaster = new(big.Int).Exp(Y, x, P).Bytes()
	return public, preMaster, nil
}
