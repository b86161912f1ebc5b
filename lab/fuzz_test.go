package lab

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"
)

// FuzzReadRecord feeds arbitrary bytes to the raw servers' record reader:
// it must never panic, never return more body than it was given, and
// accept exactly the records whose header is well formed.
func FuzzReadRecord(f *testing.F) {
	f.Add([]byte(alertUnrecognizedName))
	f.Add([]byte("\x16\x03\x01\x00\x04\x01\x00\x00\x00"))
	f.Add([]byte("\x16\x03\x01\xff\xff"))
	f.Add([]byte(sshBanner))
	f.Add([]byte(httpBadRequest))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := readRecord(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(data) < recordHeaderLen+len(rec.body) || !bytes.Equal(rec.body, data[recordHeaderLen:recordHeaderLen+len(rec.body)]) {
			t.Fatalf("body %x not taken from input %x", rec.body, data)
		}
		if rec.typ != data[0] || len(rec.body) > maxCiphertext {
			t.Fatalf("bad record %+v", rec)
		}
		readClientHello(bytes.NewReader(data))
	})
}

// FuzzResignSHA1 feeds arbitrary DER to the SHA-1 re-signer: it must never
// panic, and whatever it returns must parse as a SHA-1 certificate whose
// signature checks out.
func FuzzResignSHA1(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	p, err := NewPKI(pkiTime)
	if err != nil {
		f.Fatal(err)
	}
	for _, der := range [][]byte{p.Root.Raw, p.RSAIntermediate.Raw, p.Client.Certificate[0]} {
		f.Add(der)
	}
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		out, err := resignSHA1(der, key)
		if err != nil {
			return
		}
		if _, perr := x509.ParseCertificate(der); perr != nil {
			return // a malformed input may still be re-signed; nothing to compare
		}
		cert, err := x509.ParseCertificate(out)
		if err != nil {
			t.Fatalf("re-signed certificate does not parse: %v", err)
		}
		if cert.SignatureAlgorithm != x509.SHA1WithRSA {
			t.Fatalf("SignatureAlgorithm %v", cert.SignatureAlgorithm)
		}
		if err := (&x509.Certificate{PublicKey: &key.PublicKey, PublicKeyAlgorithm: x509.RSA}).CheckSignature(x509.SHA1WithRSA, cert.RawTBSCertificate, cert.Signature); err != nil {
			t.Fatalf("signature does not verify: %v", err)
		}
	})
}

// FuzzParseHello feeds arbitrary bytes to the pss-key server's ClientHello
// parser, seeded with real hellos (Go's, and a wide one with the PSS
// schemes): it must never panic, and what it parses comes from the input.
func FuzzParseHello(f *testing.F) {
	f.Add(goClientHello(f))
	f.Add([]byte{3, 3})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		h, err := parseHello(body)
		if err != nil {
			return
		}
		if len(h.random) != 32 || len(h.sessionID) > 32 && len(h.sessionID) > len(body) {
			t.Fatalf("random %d bytes, session id %d", len(h.random), len(h.sessionID))
		}
		h.speaks12()
	})
}

// FuzzWithPSSKey: the key rewriter never panics on arbitrary DER, and
// whatever it returns parses.
func FuzzWithPSSKey(f *testing.F) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	p, err := NewPKI(time.Now())
	if err != nil {
		f.Fatal(err)
	}
	leaf, err := p.Leaf(LeafOptions{DNSNames: []string{"x.test"}, KeyType: RSA, RSABits: 1024})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(leaf.Certificate[0])
	f.Add([]byte{0x30, 0})
	f.Fuzz(func(t *testing.T, der []byte) {
		out, err := withPSSKey(der, key)
		if err != nil {
			return
		}
		if _, err := x509.ParseCertificate(out); err != nil && len(der) > 0 {
			// Input that is not a certificate may yield output that is
			// not one either; a real certificate must stay one.
			if _, err2 := x509.ParseCertificate(der); err2 == nil {
				t.Fatalf("a certificate became unparsable: %v", err)
			}
		}
	})
}

// goClientHello returns the body of the ClientHello crypto/tls sends.
func goClientHello(f *testing.F) []byte {
	f.Helper()
	c1, c2 := net.Pipe()
	defer c1.Close()
	go func() {
		tls.Client(c2, &tls.Config{ServerName: "x.test"}).Handshake()
		c2.Close()
	}()
	c1.SetDeadline(time.Now().Add(5 * time.Second))
	msg, err := readHandshake(c1, 1)
	if err != nil {
		f.Fatal(err)
	}
	return msg[4:]
}
