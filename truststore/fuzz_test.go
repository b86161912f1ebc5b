package truststore

import (
	"bytes"
	"encoding/asn1"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func vectorCerts(f *testing.F) [][]byte {
	files, _ := filepath.Glob("testdata/hash-vectors/*.pem")
	var out [][]byte
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// FuzzSubjectHash feeds arbitrary bytes as a DER Name. It must never panic,
// and a canonical form, wrapped back in a SEQUENCE, must be its own
// canonical form.
func FuzzSubjectHash(f *testing.F) {
	for _, data := range vectorCerts(f) {
		b, err := ParseBundle(data)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b.Certs[0].RawSubject)
	}
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x1e, 0x01, 0x41})
	f.Fuzz(func(t *testing.T, name []byte) {
		canon, err := CanonicalName(name)
		h, herr := SubjectHashDER(name)
		if (err == nil) != (herr == nil) {
			t.Fatalf("CanonicalName err %v, SubjectHashDER err %v", err, herr)
		}
		_ = SubjectHashOldDER(name)
		if err != nil {
			return
		}
		again, err := CanonicalName(appendTLV(nil, tagSequence, canon))
		if err != nil {
			t.Fatalf("canonical form % x does not re-parse: %v", canon, err)
		}
		if !bytes.Equal(again, canon) {
			t.Fatalf("canonicalisation is not idempotent:\n% x\n% x", canon, again)
		}
		if h2, _ := SubjectHashDER(appendTLV(nil, tagSequence, canon)); h2 != h {
			t.Fatalf("hash of canonical form %08x != %08x", h2, h)
		}
	})
}

// FuzzParseBundle feeds arbitrary file contents to the bundle reader: it
// must never panic, and it fails exactly when it finds no certificate.
func FuzzParseBundle(f *testing.F) {
	var all []byte
	for _, data := range vectorCerts(f) {
		f.Add(data)
		all = append(all, data...)
	}
	f.Add(all)
	f.Add([]byte("-----BEGIN TRUSTED CERTIFICATE-----\nMAA=\n-----END TRUSTED CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00, 0xff})
	f.Add([]byte{0x00, 0xff, 0x13, 0x37})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if b == nil {
			t.Fatal("nil Bundle")
		}
		if (err == nil) != (len(b.Certs) > 0) {
			t.Fatalf("err %v with %d certificates", err, len(b.Certs))
		}
		for _, c := range b.Certs {
			if c == nil {
				t.Fatal("nil certificate")
			}
			// Go may parse names OpenSSL can't canonicalise; SubjectHash
			// must then fail cleanly, not panic.
			SubjectHash(c)
		}
	})
}

// FuzzParseJavaKeystore reads Java keystores: never a panic, and the
// certificates returned are within the input.
func FuzzParseJavaKeystore(f *testing.F) {
	c := newCert(f, "Fuzz Root", nil, true, farFuture).cert
	jks := func(magic uint32, tag uint32, typ string) []byte {
		b := binary.BigEndian.AppendUint32(nil, magic)
		b = binary.BigEndian.AppendUint32(b, 2)
		b = binary.BigEndian.AppendUint32(b, 1)
		b = binary.BigEndian.AppendUint32(b, tag)
		b = binary.BigEndian.AppendUint16(b, 4)
		b = append(b, "root"...)
		b = binary.BigEndian.AppendUint64(b, 1700000000000)
		if tag == 1 {
			b = binary.BigEndian.AppendUint32(b, 3)
			b = append(b, 1, 2, 3)
			b = binary.BigEndian.AppendUint32(b, 1)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(typ)))
		b = append(b, typ...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(c.Raw)))
		b = append(b, c.Raw...)
		return append(b, make([]byte, 20)...) // the digest
	}
	f.Add(jks(jksMagic, 2, "X.509"))
	f.Add(jks(jceksMagic, 2, "X.509"))
	f.Add(jks(jksMagic, 1, "X.509"))
	f.Add(jks(jksMagic, 3, "X.509"))
	f.Add(jks(jksMagic, 2, "PGP"))
	f.Add([]byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff})
	f.Add(pkcs12Seed(c.Raw, true))
	f.Add(pkcs12Seed(c.Raw, false))
	f.Fuzz(func(t *testing.T, data []byte) {
		parseKeystore(data)
		if p12, err := parsePKCS12Trusted(data); err == nil && len(p12) > 0 && len(p12[0]) > len(data) {
			t.Fatalf("a certificate larger than the keystore")
		}
		ders, err := ParseJavaKeystore(data)
		if err != nil {
			return
		}
		total := 0
		for _, d := range ders {
			total += len(d)
		}
		if total > len(data) {
			t.Fatalf("%d bytes of certificates from %d bytes", total, len(data))
		}
	})
}

// pkcs12Seed is a PKCS#12 keystore without a password holding cert in one
// certificate bag, with Java's trusted mark or without.
func pkcs12Seed(cert []byte, trusted bool) []byte {
	octets := func(b *cryptobyte.Builder, data []byte) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddASN1OctetString(data) })
	}
	bag := cryptobyte.NewBuilder(nil)
	bag.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidCertBag)
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(oidX509Cert)
					octets(b, cert)
				})
			})
			if trusted {
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidJavaTrusted)
						b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{2, 5, 29, 37, 0}) })
					})
				})
			}
		})
	})
	safes := cryptobyte.NewBuilder(nil)
	safes.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidData)
			octets(b, bag.BytesOrPanic())
		})
	})
	pfx := cryptobyte.NewBuilder(nil)
	pfx.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(3)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidData)
			octets(b, safes.BytesOrPanic())
		})
	})
	return pfx.BytesOrPanic()
}
