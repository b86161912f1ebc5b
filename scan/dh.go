package scan

import (
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

// dhName names a well-known DH prime: "ffdhe2048", "RFC 3526 group 14",
// "RFC 2409 group 2", or "" for another prime.
func dhName(pb []byte) string {
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

// dhDesc describes a DH prime: "DH 2048 (ffdhe2048)", "DH 1024 (custom)".
func dhDesc(p []byte) string {
	n := dhName(p)
	if n == "" {
		n = "custom prime"
	}
	return fmt.Sprintf("DH %d (%s)", dhBits(p), n)
}
