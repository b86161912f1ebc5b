package lab

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"testing"
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
