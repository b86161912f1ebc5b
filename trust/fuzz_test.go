package trust

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/tlskit/tlskit/truststore"
)

// fuzzLab is the PKI the fuzz targets verify against: a good chain, a CRL
// and an OCSP response of its intermediate, for seeds and for context.
type fuzzLab struct {
	*lab
	crl, staple []byte
}

func newFuzzLab(f *testing.F) *fuzzLab {
	l := newLab(f)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: t0.Add(-day), NextUpdate: t0.Add(day),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: l.leaf.cert.SerialNumber, RevocationTime: t0.Add(-day)}}}, l.inter.cert, l.inter.key)
	if err != nil {
		f.Fatal(err)
	}
	staple, err := ocsp.CreateResponse(l.inter.cert, l.inter.cert, ocsp.Response{Status: ocsp.Good, SerialNumber: l.leaf.cert.SerialNumber, ThisUpdate: t0, NextUpdate: t0.Add(day)}, l.inter.key)
	if err != nil {
		f.Fatal(err)
	}
	return &fuzzLab{lab: l, crl: crl, staple: staple}
}

// FuzzParseChain feeds chain files to ReadChainFile's parser and whatever
// parses to the verifier: certificates that do not parse are findings, and
// nothing panics.
func FuzzParseChain(f *testing.F) {
	l := newFuzzLab(f)
	var good []byte
	for _, c := range certs(l.leaf, l.inter) {
		good = append(good, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	f.Add(good)
	f.Add(l.leaf.cert.Raw)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte{0x30, 0x80})
	f.Add(pkcs7Seed(l.leaf.cert.Raw))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: pkcs7Seed(l.leaf.cert.Raw)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		ders, err := ParseChain(data, "fuzz.pem")
		if err != nil {
			return
		}
		r := l.policy().Check(Request{DER: ders, Name: "www.lab.example", Time: t0, OCSP: l.staple, Stapling: true})
		if r.Trusted && len(r.Unparsed) > 0 {
			t.Fatal("trusted a chain with a certificate that does not parse")
		}
	})
}

// FuzzNameConstraints parses name constraints extensions and checks the
// lab leaf's names against what parses.
func FuzzNameConstraints(f *testing.F) {
	l := newFuzzLab(f)
	dns := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, Bytes: []byte("lab.example")}
	ip := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 7, Bytes: append(net.IPv4(10, 0, 0, 0).To4(), 255, 0, 0, 0)}
	subtree := func(gn asn1.RawValue) asn1.RawValue {
		b, _ := asn1.Marshal(struct{ Base asn1.RawValue }{gn})
		return asn1.RawValue{FullBytes: b}
	}
	permitted, _ := asn1.Marshal([]asn1.RawValue{subtree(dns), subtree(ip)})
	nc, _ := asn1.Marshal(struct {
		Permitted asn1.RawValue `asn1:"optional,tag:0"`
	}{asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: permitted[2:]}})
	f.Add(nc)
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{0x30, 0x02, 0xa0, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseNameConstraints(data)
		if err != nil {
			return
		}
		v := &verifier{p: l.policy(), a: l.policy().Anchors.resolve()}
		v.checkConstraints(l.leaf.cert, l.inter.cert, c)
		if _, err := parseGeneralNames(data); err == nil {
			_ = err
		}
	})
}

// FuzzCRL parses CRLs and checks the lab chain against what parses, and
// indexes their entries.
func FuzzCRL(f *testing.F) {
	l := newFuzzLab(f)
	f.Add(l.crl)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: l.crl}))
	f.Add([]byte("-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		crls, err := ParseCRLs(data, "fuzz.crl")
		if err != nil {
			return
		}
		p := l.policy()
		p.CRLs = crls
		p.Verify(certs(l.leaf, l.inter), "www.lab.example", t0)
		// The entries index, which a forged CRL's signature keeps the
		// verification from reaching.
		for _, c := range crls {
			for _, indirect := range []bool{false, true} {
				if x := readEntries(c.List, indirect); x.why == "" {
					x.find(c.List, l.leaf.cert)
				}
			}
		}
	})
}

// FuzzOCSPStaple validates arbitrary bytes as a stapled OCSP response: a
// response that is not a good one signed for the leaf never passes.
func FuzzOCSPStaple(f *testing.F) {
	l := newFuzzLab(f)
	f.Add(l.staple)
	f.Add([]byte{0x30, 0x03, 0x0a, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := l.policy().Check(Request{Chain: certs(l.leaf, l.inter), Name: "www.lab.example", Time: t0, OCSP: data, Stapling: true})
		if len(data) > 0 && r.Trusted && (r.OCSP == nil || r.OCSP.Status != "good") {
			t.Fatalf("trusted with a staple that is not good: %+v", r.OCSP)
		}
	})
}

// pkcs7Seed is a certs-only PKCS#7 SignedData holding one certificate.
func pkcs7Seed(cert []byte) []byte {
	certsSet := append([]byte{0xa0, 0x82, byte(len(cert) >> 8), byte(len(cert))}, cert...)
	sd, _ := asn1.Marshal(struct {
		Version int
		Digests asn1.RawValue
		Content asn1.RawValue
		Certs   asn1.RawValue
	}{1, asn1.RawValue{Tag: 17, IsCompound: true}, asn1.RawValue{Tag: 16, IsCompound: true, Bytes: []byte{6, 9, 42, 134, 72, 134, 247, 13, 1, 7, 1}}, asn1.RawValue{FullBytes: certsSet}})
	p7, _ := asn1.Marshal(struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, asn1.RawValue{FullBytes: sd}})
	return p7
}

// FuzzPKCS7 parses what an AIA URL may serve, as the verifier does.
func FuzzPKCS7(f *testing.F) {
	l := newFuzzLab(f)
	f.Add(l.inter.cert.Raw)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: l.inter.cert.Raw}))
	f.Add(pkcs7Seed(l.inter.cert.Raw))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := truststore.ParseCertificates(data, "the AIA response")
		if err == nil {
			for _, c := range cs {
				if c == nil {
					t.Fatal("nil certificate")
				}
			}
		}
	})
}

// FuzzIDP parses issuing distribution points (a CRL's scope: its
// distribution point name, relative names made absolute with the issuer's,
// and its flags and reasons) and matches them against a certificate's
// distribution points: nothing panics. The seeds are the IDPs of the PKITS
// CRLs in testdata.
func FuzzIDP(f *testing.F) {
	l := newFuzzLab(f)
	files, _ := filepath.Glob(filepath.Join("testdata", "nist-pkits", "crls", "*.crl"))
	for _, name := range files {
		crls, err := ReadCRLFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range crls[0].List.Extensions {
			if e.Id.Equal(oidIDP) {
				f.Add(e.Value)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// The same bytes as a certificate's CRL distribution points.
		dps := &x509.Certificate{RawIssuer: l.inter.cert.RawSubject, Extensions: []pkix.Extension{{Id: oidCRLDP, Value: data}}}
		v := &verifier{}
		v.distPoints(dps)
		sc, err := parseIDP(data, l.inter.cert.RawSubject)
		if err != nil {
			return
		}
		v.inScope(l.leaf.cert, l.inter.cert.RawSubject, sc)
		v.inScope(dps, l.inter.cert.RawSubject, sc)
		v.inScope(dps, l.root.cert.RawSubject, sc)
	})
}
