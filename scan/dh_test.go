package scan

import (
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os/exec"
	"testing"

	"github.com/tlskit/tlskit/internal/peertest"
)

// TestDHNames names the primes OpenSSL ships for RFC 7919's FFDHE groups,
// RFC 3526's MODP groups and RFC 5114's groups (openssl genpkey -genparam
// -pkeyopt group:NAME): the oracle is OpenSSL's copy of each RFC's prime,
// not the formula dhName uses.
func TestDHNames(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	for _, c := range []struct{ group, want string }{
		{"ffdhe2048", "ffdhe2048"}, {"ffdhe3072", "ffdhe3072"}, {"ffdhe4096", "ffdhe4096"},
		{"ffdhe6144", "ffdhe6144"}, {"ffdhe8192", "ffdhe8192"},
		{"modp_1536", "RFC 3526 group 5"}, {"modp_2048", "RFC 3526 group 14"}, {"modp_3072", "RFC 3526 group 15"},
		{"modp_4096", "RFC 3526 group 16"}, {"modp_6144", "RFC 3526 group 17"}, {"modp_8192", "RFC 3526 group 18"},
		{"dh_1024_160", ""}, {"dh_2048_224", ""}, {"dh_2048_256", ""}, // RFC 5114: not built by the formula
	} {
		der, err := exec.Command(openssl, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:"+c.group).Output()
		if err != nil {
			t.Fatalf("%s: %v", c.group, err)
		}
		blk, _ := pem.Decode(der)
		if blk == nil {
			t.Fatalf("%s: no PEM in %q", c.group, der)
		}
		der = blk.Bytes
		var params struct {
			P, G *big.Int
			Rest asn1.RawValue `asn1:"optional"`
		}
		if _, err := asn1.Unmarshal(der, &params); err != nil {
			t.Fatalf("%s: %v", c.group, err)
		}
		if got := dhName(params.P.Bytes()); got != c.want {
			t.Errorf("%s (%d bits): named %q, want %q", c.group, params.P.BitLen(), got, c.want)
		}
	}
	// A prime one off a well-known one is custom.
	out, _ := exec.Command(openssl, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048").Output()
	blk, _ := pem.Decode(out)
	var params struct {
		P, G *big.Int
		Rest asn1.RawValue `asn1:"optional"`
	}
	if blk == nil {
		t.Fatal("no PEM")
	}
	if _, err := asn1.Unmarshal(blk.Bytes, &params); err != nil {
		t.Fatal(err)
	}
	if got := dhName(new(big.Int).Add(params.P, big.NewInt(2<<40)).Bytes()); got != "" {
		t.Errorf("a modified ffdhe2048 prime is named %q", got)
	}
}
