package keylog

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/internal/peertest"
)

func TestParseRSAKeyForms(t *testing.T) {
	p1 := peertest.Corpus(t, "wireshark/keys/rsa-p-lt-q.key") // PKCS #1 PEM
	p8 := peertest.Corpus(t, "wireshark/keys/udt-dtls.key")   // PKCS #8 PEM
	k1, err := ParseRSAKeyFile(p1)
	if err != nil {
		t.Fatal(err)
	}
	k8, err := ParseRSAKeyFile(p8)
	if err != nil {
		t.Fatal(err)
	}
	if k1.N.BitLen() != 1024 || k8.N.BitLen() != 2048 {
		t.Errorf("key sizes %d and %d, want 1024 and 2048", k1.N.BitLen(), k8.N.BitLen())
	}
	// The same key as PKCS #8 DER.
	der, _ := x509.MarshalPKCS8PrivateKey(k1)
	if k, err := ParseRSAKey(der); err != nil || !k.Equal(k1) {
		t.Errorf("PKCS #8 DER: %v", err)
	}
	if k, err := ParseRSAKey(x509.MarshalPKCS1PrivateKey(k1)); err != nil || !k.Equal(k1) {
		t.Errorf("PKCS #1 DER: %v", err)
	}
}

func TestParseRSAKeyRefusals(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	ec8, _ := x509.MarshalPKCS8PrivateKey(ec)
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"EC PEM", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}), "EC private key cannot decrypt"},
		{"EC PKCS8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ec8}), "not RSA"},
		{"encrypted PKCS8", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), "encrypted"},
		{"encrypted PEM", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}}), "encrypted"},
		{"certificate only", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), "no RSA PRIVATE KEY"},
		{"garbage", []byte("not a key"), "not an RSA private key"},
		{"empty", nil, "not an RSA private key"},
	}
	for _, c := range cases {
		_, err := ParseRSAKey(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to say %q", c.name, err, c.want)
		}
	}
}

func TestDecryptPreMaster(t *testing.T) {
	k, err := ParseRSAKeyFile(peertest.Corpus(t, "wireshark/keys/rsa-p-lt-q.key"))
	if err != nil {
		t.Fatal(err)
	}
	pms := bytes.Repeat([]byte{3}, 48)
	pms[0], pms[1] = 3, 3
	enc, err := rsa.EncryptPKCS1v15(rand.Reader, &k.PublicKey, pms)
	if err != nil {
		t.Fatal(err)
	}
	var l Log
	if _, ok := l.DecryptPreMaster(enc); ok {
		t.Fatal("decrypted without a key")
	}
	other, _ := rsa.GenerateKey(rand.Reader, 1024)
	l.AddRSAKey(other)
	if _, ok := l.DecryptPreMaster(enc); ok {
		t.Fatal("decrypted with the wrong key")
	}
	var merged Log
	merged.Merge(&l)
	l.AddRSAKey(k)
	merged.AddRSAKey(k)
	for _, lg := range []*Log{&l, &merged} {
		got, ok := lg.DecryptPreMaster(enc)
		if !ok || !bytes.Equal(got, pms) {
			t.Errorf("DecryptPreMaster = %x, %v", got, ok)
		}
	}
	// A 47-byte secret is not a pre-master secret.
	short, _ := rsa.EncryptPKCS1v15(rand.Reader, &k.PublicKey, pms[:47])
	if _, ok := l.DecryptPreMaster(short); ok {
		t.Error("accepted a 47-byte plaintext")
	}
	if l.Len() != 2 {
		t.Errorf("Len %d, want 2 (two keys)", l.Len())
	}
}

// TestPSKPreMaster checks RFC 4279 §2: uint16 N, N zeros, uint16 N, PSK.
func TestPSKPreMaster(t *testing.T) {
	var l Log
	if _, ok := l.PSKPreMaster(); ok {
		t.Fatal("PSK pre-master without a PSK")
	}
	psk, _ := hex.DecodeString("ca19e028a8a372ad2d325f950fcaceed")
	l.SetPSK(psk)
	got, _ := l.PSKPreMaster()
	want, _ := hex.DecodeString("0010" + "00000000000000000000000000000000" + "0010" + "ca19e028a8a372ad2d325f950fcaceed")
	if !bytes.Equal(got, want) {
		t.Errorf("PSK pre-master %x, want %x", got, want)
	}
}

func TestSessionsAndTickets(t *testing.T) {
	var l Log
	ms := bytes.Repeat([]byte{7}, 48)
	l.AddSession(nil, ms) // ignored
	l.AddTicket(nil, ms)  // ignored
	if l.Len() != 0 {
		t.Fatalf("empty ids were stored: Len %d", l.Len())
	}
	l.AddSession([]byte{1, 2}, ms)
	l.AddTicket([]byte("ticket"), ms)
	if got, ok := l.MasterSecretForSession([]byte{1, 2}); !ok || !bytes.Equal(got, ms) {
		t.Error("session not found")
	}
	if got, ok := l.MasterSecretForTicket([]byte("ticket")); !ok || !bytes.Equal(got, ms) {
		t.Error("ticket not found")
	}
	if _, ok := l.MasterSecretForTicket([]byte("other")); ok {
		t.Error("unknown ticket found")
	}
	if n := len(l.ClientRandoms()); n != 0 {
		t.Errorf("sessions and tickets counted as %d client randoms", n)
	}
}

func FuzzParseRSAKey(f *testing.F) {
	b, err := os.ReadFile("testdata/rsa/rsa-p-lt-q.key")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	blk, _ := pem.Decode(b)
	f.Add(blk.Bytes)
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseRSAKey(b)
		if (k == nil) == (err == nil) {
			t.Fatalf("key %v with error %v", k != nil, err)
		}
	})
}
