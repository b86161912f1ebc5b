package lab

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// oidSHA1WithRSA is sha1WithRSAEncryption (RFC 3279, Section 2.2.1).
var oidSHA1WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}

// resignSHA1 rewrites a DER certificate so that it is signed with
// sha1WithRSAEncryption by key. crypto/x509 refuses to create SHA-1
// signatures, so the certificate is created with another algorithm first;
// here the AlgorithmIdentifier is replaced in both places it appears (the
// TBSCertificate's signature field and the outer signatureAlgorithm, which
// RFC 5280, Section 4.1.1.2 requires to match) and the new TBSCertificate
// is signed with PKCS #1 v1.5 over SHA-1.
func resignSHA1(der []byte, key *rsa.PrivateKey) ([]byte, error) {
	// RFC 5280, Section 4.1:
	//   Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
	//   TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, serialNumber,
	//                                 signature AlgorithmIdentifier, issuer, ... }
	input := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !input.ReadASN1(&cert, cbasn1.SEQUENCE) || !input.Empty() {
		return nil, errors.New("lab: resigning: input is not one DER certificate SEQUENCE")
	}
	if !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, errors.New("lab: resigning: malformed TBSCertificate")
	}
	var version, serial cryptobyte.String
	var hasVersion bool
	if !tbs.ReadOptionalASN1(&version, &hasVersion, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, errors.New("lab: resigning: malformed certificate version")
	}
	if !tbs.ReadASN1Element(&serial, cbasn1.INTEGER) {
		return nil, errors.New("lab: resigning: malformed serial number")
	}
	if !tbs.SkipASN1(cbasn1.SEQUENCE) {
		return nil, errors.New("lab: resigning: malformed TBSCertificate signature algorithm")
	}
	rest := []byte(tbs) // issuer, validity, subject, SPKI and extensions, untouched

	algID := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oidSHA1WithRSA)
			b.AddASN1NULL()
		})
	}
	var tb cryptobyte.Builder
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if hasVersion {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddBytes(version)
			})
		}
		b.AddBytes(serial)
		algID(b)
		b.AddBytes(rest)
	})
	newTBS, err := tb.Bytes()
	if err != nil {
		return nil, fmt.Errorf("lab: resigning: %w", err)
	}
	digest := sha1.Sum(newTBS)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, digest[:])
	if err != nil {
		return nil, fmt.Errorf("lab: resigning with SHA-1: %w", err)
	}
	var cb cryptobyte.Builder
	cb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(newTBS)
		algID(b)
		b.AddASN1BitString(sig)
	})
	out, err := cb.Bytes()
	if err != nil {
		return nil, fmt.Errorf("lab: resigning: %w", err)
	}
	return out, nil
}
