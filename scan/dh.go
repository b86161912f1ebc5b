package scan

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"sync"

	"github.com/tlskit/tlskit/internal/wire"
)

// This file names the Diffie-Hellman primes servers use in TLS 1.2 DHE.
// The well-known ones are built by a formula rather than listed: RFC 7919's
// FFDHE groups are
//
//	p = 2^b - 2^(b-64) + {[2^(b-130) e] + X} * 2^64 - 1
//
// and the MODP groups of RFC 2409 and RFC 3526 the same with π instead of
// e (the "Oakley" groups), X being the smallest number that makes p a safe
// prime. So a prime is recognised by computing [2^(b-130) e] (or π) and
// checking that what remains is a small X, without a table of primes.

// dhConstBits is the precision of e and π: enough for 8192-bit primes.
const dhConstBits = 8192 + 64

var (
	dhConstOnce sync.Once
	eFixed      *big.Int // floor(e * 2^dhConstBits)
	piFixed     *big.Int // floor(π * 2^dhConstBits)
)

func dhConsts() {
	dhConstOnce.Do(func() {
		one := new(big.Int).Lsh(big.NewInt(1), dhConstBits+32) // 32 guard bits
		// e = Σ 1/k!
		e := new(big.Int)
		term := new(big.Int).Set(one)
		for k := int64(1); term.Sign() > 0; k++ {
			e.Add(e, term)
			term.Quo(term, big.NewInt(k))
		}
		eFixed = e.Rsh(e, 32)
		// π = 16 arctan(1/5) - 4 arctan(1/239) (Machin).
		atanInv := func(x int64) *big.Int {
			sum := new(big.Int)
			xx := big.NewInt(x * x)
			pow := new(big.Int).Quo(one, big.NewInt(x)) // 1/x^(2k+1)
			for k := int64(0); pow.Sign() > 0; k++ {
				t := new(big.Int).Quo(pow, big.NewInt(2*k+1))
				if k%2 == 0 {
					sum.Add(sum, t)
				} else {
					sum.Sub(sum, t)
				}
				pow.Quo(pow, xx)
			}
			return sum
		}
		pi := new(big.Int).Mul(atanInv(5), big.NewInt(16))
		pi.Sub(pi, new(big.Int).Mul(atanInv(239), big.NewInt(4)))
		piFixed = pi.Rsh(pi, 32)
	})
}

// formulaX returns X when p has the form 2^b - 2^(b-64) + {[2^(b-130) c]
// + X} * 2^64 - 1 for the constant c (fixed point, dhConstBits), with 0 ≤
// X < 2^32, and false otherwise.
func formulaX(p *big.Int, c *big.Int) (int64, bool) {
	b := p.BitLen()
	if b < 512 || b > 8192 {
		return 0, false
	}
	one := big.NewInt(1)
	m := new(big.Int).Add(p, one)
	m.Sub(m, new(big.Int).Lsh(one, uint(b)))
	m.Add(m, new(big.Int).Lsh(one, uint(b-64)))
	if m.Sign() < 0 || m.TrailingZeroBits() < 64 && m.Sign() != 0 {
		return 0, false
	}
	m.Rsh(m, 64)
	base := new(big.Int).Rsh(c, uint(dhConstBits-(b-130)))
	x := m.Sub(m, base)
	if x.Sign() < 0 || x.BitLen() > 32 {
		return 0, false
	}
	return x.Int64(), true
}

// RFC 5114's primes (§2.1-§2.3), which have no formula: as OpenSSL has
// them (its groups dh_1024_160, dh_2048_224, dh_2048_256).
const (
	rfc5114Group1 = "b10b8f96a080e01dde92de5eae5d54ec52c99fbcfb06a3c69a6a9dca52d23b616073e28675a23d189838ef1e2ee652c013ecb4aea906112324975c3cd49b83bfaccbdd7d90c4bd7098488e9c219a73724effd6fae5644738faa31a4ff55bccc0a151af5f0dc8b4bd45bf37df365c1a65e68cfda76d4da708df1fb2bc2e4a4371"
	rfc5114Group2 = "ad107e1e9123a9d0d660faa79559c51fa20d64e5683b9fd1b54b1597b61d0a75e6fa141df95a56dbaf9a3c407ba1df15eb3d688a309c180e1de6b85a1274a0a66d3f8152ad6ac2129037c9edefda4df8d91e8fef55b7394b7ad5b7d0b6c12207c9f98d11ed34dbf6c6ba0b2c8bbc27be6a00e0a0b9c49708b3bf8a317091883681286130bc8985db1602e714415d9330278273c7de31efdc7310f7121fd5a07415987d9adc0a486dcdf93acc44328387315d75e198c641a480cd86a1b9e587e8be60e69cc928b2b9c52172e413042e9b23f10b0e16e79763c9b53dcf4ba80a29e3fb73c16b8e75b97ef363e2ffa31f71cf9de5384e71b81c0ac4dffe0c10e64f"
	rfc5114Group3 = "87a8e61db4b6663cffbbd19c651959998ceef608660dd0f25d2ceed4435e3b00e00df8f1d61957d4faf7df4561b2aa3016c3d91134096faa3bf4296d830e9a7c209e0c6497517abd5a8a9d306bcf67ed91f9e6725b4758c022e0b1ef4275bf7b6c5bfc11d45f9088b941f54eb1e59bb8bc39a0bf12307f5c4fdb70c581b23f76b63acae1caa6b7902d52526735488a0ef13c6d9a51bfa4ab3ad8347796524d8ef6a167b5a41825d967e144e5140564251ccacb83e6b486f6b3ca3f7971506026c0b857f689962856ded4010abd0be621c3a3960a54e710c375f26375d7014103a4b54330c198af126116d2276e11715f693877fad7ef09cadb094ae91e1a1597"
)

// dhName names a well-known DH prime: "ffdhe2048", "RFC 3526 group 14",
// "RFC 2409 group 2", "RFC 5114 group 1", or "" for another prime.
func dhName(pb []byte) string {
	switch hex.EncodeToString(bytes.TrimLeft(pb, "\x00")) {
	case rfc5114Group1:
		return "RFC 5114 group 1"
	case rfc5114Group2:
		return "RFC 5114 group 2"
	case rfc5114Group3:
		return "RFC 5114 group 3"
	}
	dhConsts()
	p := new(big.Int).SetBytes(pb)
	b := p.BitLen()
	if _, ok := formulaX(p, eFixed); ok {
		switch b {
		case 2048, 3072, 4096, 6144, 8192:
			return fmt.Sprintf("ffdhe%d", b)
		}
	}
	if _, ok := formulaX(p, piFixed); ok {
		switch b {
		case 768:
			return "RFC 2409 group 1"
		case 1024:
			return "RFC 2409 group 2"
		case 1536:
			return "RFC 3526 group 5"
		case 2048:
			return "RFC 3526 group 14"
		case 3072:
			return "RFC 3526 group 15"
		case 4096:
			return "RFC 3526 group 16"
		case 6144:
			return "RFC 3526 group 17"
		case 8192:
			return "RFC 3526 group 18"
		}
	}
	return ""
}

// ffdheGroupOf returns the RFC 7919 group of a prime, or 0.
func ffdheGroupOf(p []byte) wire.NamedGroup {
	switch dhName(p) {
	case "ffdhe2048":
		return 256
	case "ffdhe3072":
		return 257
	case "ffdhe4096":
		return 258
	case "ffdhe6144":
		return 259
	case "ffdhe8192":
		return 260
	}
	return 0
}

// dhBits is the size of a DH prime in bits.
func dhBits(p []byte) int { return new(big.Int).SetBytes(p).BitLen() }

// dhDesc describes a DH prime: "DH 2048 (ffdhe2048)", "DH 1024 (custom
// prime)".
func dhDesc(p []byte) string {
	n := dhName(p)
	if n == "" {
		n = "custom prime"
	}
	return fmt.Sprintf("DH %d (%s)", dhBits(p), n)
}
