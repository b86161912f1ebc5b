package scan

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/internal/peertest"
)

// TestX448Vectors: RFC 7748's test vectors (§5.2, one iteration of each,
// and the Diffie-Hellman of §6.2).
func TestX448Vectors(t *testing.T) {
	for _, v := range []struct{ k, u, out string }{
		{"3d262fddf9ec8e88495266fea19a34d28882acef045104d0d1aae121700a779c984c24f8cdd78fbff44943eba368f54b29259a4f1c600ad3",
			"06fce640fa3487bfda5f6cf2d5263f8aad88334cbd07437f020f08f9814dc031ddbdc38c19c6da2583fa5429db94ada18aa7a7fb4ef8a086",
			"ce3e4ff95a60dc6697da1db1d85e6afbdf79b50a2412d7546d5f239fe14fbaadeb445fc66a01b0779d98223961111e21766282f73dd96b6f"},
		{"203d494428b8399352665ddca42f9de8fef600908e0d461cb021f8c538345dd77c3e4806e25f46d3315c44e0a5b4371282dd2c8d5be3095f",
			"0fbcc2f993cd56d3305b0b7d9e55d4c1a8fb5dbb52f8e9a1e9b6201b165d015894e56c4d3570bee52fe205e28a78b91cdfbde71ce8d157db",
			"884a02576239ff7a2f2f63b2db6a9ff37047ac13568e1e30fe63c4a7ad1b3ee3a5700df34321d62077e63633c575c1c954514e99da7c179d"},
	} {
		got, err := x448(unhex(t, v.k), unhex(t, v.u))
		if err != nil || hex.EncodeToString(got) != v.out {
			t.Errorf("X448(%s…) = %x, %v; want %s", v.k[:8], got, err, v.out)
		}
	}
	alice := unhex(t, "9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf574a9419744897391006382a6f127ab1d9ac2d8c0a598726b")
	bob := unhex(t, "1c306a7ac2a0e2e0990b294470cba339e6453772b075811d8fad0d1d6927c120bb5ee8972b0d3e21374c9c921b09d1b0366f10b65173992d")
	alicePub, _ := x448(alice, x448Base)
	bobPub, _ := x448(bob, x448Base)
	if hex.EncodeToString(alicePub) != "9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bbc836647241d953d40c5b12da88120d53177f80e532c41fa0" {
		t.Errorf("Alice's public key %x", alicePub)
	}
	if hex.EncodeToString(bobPub) != "3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b43027d8b972fc3e34fb4232a13ca706dcb57aec3dae07bdc1c67bf33609" {
		t.Errorf("Bob's public key %x", bobPub)
	}
	k1, _ := x448Shared(alice, bobPub)
	k2, _ := x448Shared(bob, alicePub)
	if !bytes.Equal(k1, k2) || hex.EncodeToString(k1) != "07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282bb60c0b56fd2464c335543936521c24403085d59a449a5037514a879d" {
		t.Errorf("shared secrets %x, %x", k1, k2)
	}
	if _, err := x448Shared(alice, make([]byte, 56)); err == nil {
		t.Error("the zero point gave a secret")
	}
}

// TestX448WithOpenSSL: the shared secret of a key pair of ours with one
// OpenSSL made is the one openssl pkeyutl -derive computes.
func TestX448WithOpenSSL(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	dir := t.TempDir()
	key, pub := filepath.Join(dir, "k.pem"), filepath.Join(dir, "pub.pem")
	if out, err := exec.Command(openssl, "genpkey", "-algorithm", "X448", "-out", key).CombinedOutput(); err != nil {
		t.Fatalf("openssl genpkey: %v\n%s", err, out)
	}
	der, err := exec.Command(openssl, "pkey", "-in", key, "-pubout", "-outform", "DER").Output()
	if err != nil {
		t.Fatal(err)
	}
	theirs := der[len(der)-56:]
	mine, minePub, err := newX448()
	if err != nil {
		t.Fatal(err)
	}
	// Our public key as a SubjectPublicKeyInfo for openssl.
	spki := append([]byte{0x30, 0x42, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6f, 0x03, 0x39, 0x00}, minePub...)
	os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), 0o600)
	want, err := exec.Command(openssl, "pkeyutl", "-derive", "-inkey", key, "-peerkey", pub).Output()
	if err != nil {
		t.Fatalf("openssl pkeyutl -derive: %v", err)
	}
	got, err := x448Shared(mine, theirs)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("shared %x, %v; openssl %x", got, err, want)
	}
}

// TestFFDHEPrimes: the RFC 7919 primes from the formula are OpenSSL's
// ffdhe groups, and a key exchange over one agrees both ways.
func TestFFDHEPrimes(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	for _, bits := range []int{2048, 3072, 4096, 6144, 8192} {
		// PKCS#3 DH PARAMETERS (OpenSSL writes PEM whatever -outform says).
		out, err := exec.Command(openssl, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe"+itoa(bits)).Output()
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(out)
		var params struct{ P, G *big.Int }
		if blk == nil || blk.Type != "DH PARAMETERS" {
			t.Fatalf("ffdhe%d: openssl wrote %q", bits, out)
		}
		if _, err := asn1.Unmarshal(blk.Bytes, &params); err != nil {
			t.Fatalf("ffdhe%d parameters: %v", bits, err)
		}
		if p := ffdhePrime(bits); p.Cmp(params.P) != 0 || params.G.Int64() != 2 {
			t.Errorf("ffdhe%d: the formula's prime is not OpenSSL's", bits)
		}
	}
	p := ffdhePrime(2048)
	xa, ya, _ := newFFDHE(p)
	xb, yb, _ := newFFDHE(p)
	ka, err := ffdheShared(p, xa, yb)
	kb, err2 := ffdheShared(p, xb, ya)
	if err != nil || err2 != nil || !bytes.Equal(ka, kb) || len(ka) != 256 {
		t.Errorf("ffdhe2048 exchange: %v %v, %d bytes", err, err2, len(ka))
	}
}

// TestTLS13X448AndFFDHERealServer: openssl s_server offering only X448,
// or only ffdhe2048, in TLS 1.3 (and X448 in TLS 1.2): tlskit makes the
// share the server asks for and reads the encrypted flight (certificate
// and signature schemes over TLS 1.3), and finishes handshakes (PSK
// resumption; TLS 1.2 resumption by session id). OpenSSL computing the
// same secret is the proof: its Finished verifies.
func TestTLS13X448AndFFDHERealServer(t *testing.T) {
	p := newTestPKI(t)
	for _, c := range []struct{ name, version, groups string }{
		{"x448", "-tls1_3", "X448"}, {"ffdhe2048", "-tls1_3", "ffdhe2048"}, {"x448 in TLS 1.2", "-tls1_2", "X448"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			addr := opensslCase(func(p *testPKI) []string {
				return []string{"-cert", p.ecCert, "-key", p.ecKey, c.version, "-groups", c.groups}
			})(t, p)
			rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, NoClients: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, pr := range rep.Problems {
				if strings.Contains(pr, "cannot make") {
					t.Errorf("problem: %s", pr)
				}
			}
			if len(rep.Groups) != 1 || !strings.EqualFold(rep.Groups[0].Name, c.groups) {
				t.Errorf("groups %+v, want %s", rep.Groups, c.groups)
			}
			if len(rep.Certificates) != 1 || !rep.Certificates[0].Trusted {
				t.Fatalf("certificates %+v", rep.Certificates)
			}
			if c.version == "-tls1_3" {
				if rep.Certificates[0].Version != "TLS 1.3" || len(rep.SignatureAlgorithms) == 0 {
					t.Errorf("read over %s, %d signature schemes: the TLS 1.3 flight was not decrypted", rep.Certificates[0].Version, len(rep.SignatureAlgorithms))
				}
				wantState(t, "TLS 1.3 PSK", rep.Session.PSK13, Supported)
			} else {
				wantState(t, "session id resumption", rep.Session.ResumptionID, Supported)
			}
		})
	}
}
