package scan

import (
	"crypto/rand"
	"errors"
	"math/big"
	"slices"
)

// This file computes X448 (RFC 7748 §5) and the FFDHE groups of RFC 7919
// for TLS 1.3 key shares, which the standard library does not have. They
// are made with math/big, which is not constant-time: fine for a scanner,
// whose ephemeral keys protect nothing but the reading of a server's
// first flight, never for a library that protects data.

// x448P is the field prime 2^448 - 2^224 - 1.
var x448P = func() *big.Int {
	p := new(big.Int).Lsh(big.NewInt(1), 448)
	p.Sub(p, new(big.Int).Lsh(big.NewInt(1), 224))
	return p.Sub(p, big.NewInt(1))
}()

// x448 is the function X448(k, u) of RFC 7748 §5, on 56-byte
// little-endian strings.
func x448(k, u []byte) ([]byte, error) {
	if len(k) != 56 || len(u) != 56 {
		return nil, errors.New("scan: X448 takes 56-byte scalars and coordinates")
	}
	// decodeScalar448: clear the two low bits, set the high bit.
	kk := slices.Clone(k)
	kk[0] &= 252
	kk[55] |= 128
	scalar := leInt(kk)
	p := x448P
	x1 := new(big.Int).Mod(leInt(u), p)
	x2, z2 := big.NewInt(1), big.NewInt(0)
	x3, z3 := new(big.Int).Set(x1), big.NewInt(1)
	a24 := big.NewInt(39081)
	mod := func(z *big.Int) *big.Int { return z.Mod(z, p) }
	swap := uint(0)
	for t := 447; t >= 0; t-- {
		kt := scalar.Bit(t)
		swap ^= kt
		if swap == 1 {
			x2, x3 = x3, x2
			z2, z3 = z3, z2
		}
		swap = kt
		a := mod(new(big.Int).Add(x2, z2))
		aa := mod(new(big.Int).Mul(a, a))
		b := mod(new(big.Int).Sub(x2, z2))
		bb := mod(new(big.Int).Mul(b, b))
		e := mod(new(big.Int).Sub(aa, bb))
		c := mod(new(big.Int).Add(x3, z3))
		d := mod(new(big.Int).Sub(x3, z3))
		da := mod(new(big.Int).Mul(d, a))
		cb := mod(new(big.Int).Mul(c, b))
		s := mod(new(big.Int).Add(da, cb))
		x3 = mod(s.Mul(s, s))
		df := mod(new(big.Int).Sub(da, cb))
		z3 = mod(new(big.Int).Mul(x1, mod(df.Mul(df, df))))
		x2 = mod(new(big.Int).Mul(aa, bb))
		z2 = mod(new(big.Int).Mul(e, mod(new(big.Int).Add(aa, mod(new(big.Int).Mul(a24, e))))))
	}
	if swap == 1 {
		x2, z2 = x3, z3
	}
	inv := new(big.Int).Exp(z2, new(big.Int).Sub(p, big.NewInt(2)), p)
	return leBytes(mod(x2.Mul(x2, inv)), 56), nil
}

// x448Base is the u-coordinate 5 of the base point.
var x448Base = leBytes(big.NewInt(5), 56)

// newX448 makes an X448 key pair: the private scalar and the public value.
func newX448() (priv, pub []byte, err error) {
	priv = make([]byte, 56)
	if _, err := rand.Read(priv); err != nil {
		return nil, nil, err
	}
	pub, err = x448(priv, x448Base)
	return priv, pub, err
}

// x448Shared computes the shared secret with the peer's public value,
// refusing the all-zero result of a low-order point (RFC 7748 §6.2).
func x448Shared(priv, peer []byte) ([]byte, error) {
	if len(peer) != 56 {
		return nil, errors.New("scan: an X448 key share is 56 bytes")
	}
	z, err := x448(priv, peer)
	if err != nil {
		return nil, err
	}
	if new(big.Int).SetBytes(z).Sign() == 0 {
		return nil, errors.New("scan: the server's X448 share gives an all-zero secret")
	}
	return z, nil
}

// leInt reads a little-endian number.
func leInt(b []byte) *big.Int {
	r := slices.Clone(b)
	slices.Reverse(r)
	return new(big.Int).SetBytes(r)
}

// leBytes writes n little-endian in size bytes.
func leBytes(n *big.Int, size int) []byte {
	b := n.FillBytes(make([]byte, size))
	slices.Reverse(b)
	return b
}

// ffdheX are the X of RFC 7919's primes p = 2^b - 2^(b-64) + {[2^(b-130)
// e] + X} * 2^64 - 1 (its Appendix A; TestFFDHEPrimes compares them with
// OpenSSL's groups).
var ffdheX = map[int]int64{2048: 560316, 3072: 2625351, 4096: 5736041, 6144: 15705020, 8192: 10965728}

// ffdheBits is the prime size of an RFC 7919 group, or 0.
func ffdheBits(g uint16) int {
	return map[uint16]int{256: 2048, 257: 3072, 258: 4096, 259: 6144, 260: 8192}[g]
}

// ffdhePrime computes an RFC 7919 prime from its formula.
func ffdhePrime(bits int) *big.Int {
	dhConsts()
	one := big.NewInt(1)
	p := new(big.Int).Lsh(one, uint(bits))
	p.Sub(p, new(big.Int).Lsh(one, uint(bits-64)))
	mid := new(big.Int).Rsh(eFixed, uint(dhConstBits-(bits-130)))
	mid.Add(mid, big.NewInt(ffdheX[bits]))
	p.Add(p, mid.Lsh(mid, 64))
	return p.Sub(p, one)
}

// ffdheShortExponent is the size of the private exponent: RFC 7919 §5.2
// asks for at least twice the group's security strength (ffdhe8192:
// about 200 bits of strength), and a short exponent keeps an 8192-bit
// exponentiation quick.
const ffdheShortExponent = 512

// newFFDHE makes an FFDHE key pair for a prime: the private exponent and
// the public value g^x mod p with g = 2, left-padded to the prime's
// length (RFC 8446 §4.2.8.1).
func newFFDHE(p *big.Int) (x *big.Int, pub []byte, err error) {
	x, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), ffdheShortExponent))
	if err != nil {
		return nil, nil, err
	}
	x.Add(x, big.NewInt(2))
	y := new(big.Int).Exp(big.NewInt(2), x, p)
	return x, y.FillBytes(make([]byte, (p.BitLen()+7)/8)), nil
}

// ffdheShared computes the shared secret from the server's public value,
// left-padded to the prime's length (RFC 8446 §7.4.1), after checking
// that 1 < Y < p-1 (RFC 7919 §5.1).
func ffdheShared(p, x *big.Int, server []byte) ([]byte, error) {
	n := (p.BitLen() + 7) / 8
	if len(server) != n {
		return nil, errors.New("scan: the server's FFDHE share is not the prime's length")
	}
	y := new(big.Int).SetBytes(server)
	pm1 := new(big.Int).Sub(p, big.NewInt(1))
	if y.Cmp(big.NewInt(1)) <= 0 || y.Cmp(pm1) >= 0 {
		return nil, errors.New("scan: the server's FFDHE share is out of range")
	}
	return new(big.Int).Exp(y, x, p).FillBytes(make([]byte, n)), nil
}
