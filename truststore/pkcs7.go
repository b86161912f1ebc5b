package truststore

import (
	"encoding/asn1"
	"errors"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// oidSignedData is PKCS#7 signedData (RFC 2315 §9.1).
var oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

// PKCS7Certificates returns the certificates of a DER PKCS#7 SignedData,
// as they are encoded, unparsed: a certs-only bundle (.p7b, .p7c: no
// signer) is how Windows exports a chain, how some CAs publish theirs,
// and what an AIA URL may serve (RFC 5280 §4.2.2.1). Their order is the
// bundle's, which defines none (a SET).
func PKCS7Certificates(der []byte) ([][]byte, error) {
	s := cryptobyte.String(der)
	var ci, content, sd cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidSignedData) ||
		!ci.ReadASN1(&content, cbasn1.Tag(0).ContextSpecific().Constructed()) || !content.ReadASN1(&sd, cbasn1.SEQUENCE) {
		return nil, errors.New("not PKCS#7 signedData")
	}
	var version int64
	if !sd.ReadASN1Integer(&version) || !sd.SkipASN1(cbasn1.SET) || !sd.SkipASN1(cbasn1.SEQUENCE) {
		return nil, errors.New("malformed PKCS#7 signedData")
	}
	var certs cryptobyte.String
	var present bool
	if !sd.ReadOptionalASN1(&certs, &present, cbasn1.Tag(0).ContextSpecific().Constructed()) || !present {
		return nil, errors.New("PKCS#7 without certificates")
	}
	var out [][]byte
	for !certs.Empty() {
		var one cryptobyte.String
		if !certs.ReadASN1Element(&one, cbasn1.SEQUENCE) {
			return nil, errors.New("malformed certificate in PKCS#7")
		}
		out = append(out, one)
	}
	if len(out) == 0 {
		return nil, errors.New("PKCS#7 without certificates")
	}
	return out, nil
}
