package truststore

import (
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// PKCS#12 object identifiers (RFC 7292) and Java's mark of a trusted
// certificate.
var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidCertBag       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509Cert      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	// oidJavaTrusted is Oracle's trustedKeyUsage attribute: Java's
	// PKCS12KeyStore loads a certificate bag as a trusted certificate
	// entry only when it carries it.
	oidJavaTrusted = asn1.ObjectIdentifier{2, 16, 840, 1, 113894, 746875, 1, 1}
)

// errPKCS12Encrypted is a PKCS#12 keystore whose certificates are
// encrypted under its password.
var errPKCS12Encrypted = errors.New("not read: a PKCS#12 keystore whose certificates are encrypted with its password")

// parsePKCS12Trusted returns the trusted certificates of a password-less
// PKCS#12 keystore, as Java's PKCS12KeyStore loads them: the certificate
// bags marked with Java's trustedKeyUsage attribute. Java writes its own
// cacerts this way from JDK 18 (JDK-8275252). Encrypted parts (a keystore
// with a password) are errPKCS12Encrypted: their certificates cannot be
// read without it.
func parsePKCS12Trusted(der []byte) ([][]byte, error) {
	s := cryptobyte.String(der)
	var pfx, authSafe, content cryptobyte.String
	var version int64
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&pfx, cbasn1.SEQUENCE) || !pfx.ReadASN1Integer(&version) || version != 3 ||
		!pfx.ReadASN1(&authSafe, cbasn1.SEQUENCE) || !authSafe.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidData) ||
		!authSafe.ReadASN1(&content, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return nil, errors.New("not a PKCS#12 keystore")
	}
	var safes, seq cryptobyte.String
	if !content.ReadASN1(&safes, cbasn1.OCTET_STRING) || !safes.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, errors.New("a PKCS#12 keystore in a form not read (BER, or no authenticated safe)")
	}
	var out [][]byte
	encrypted, unmarked := false, 0
	for !seq.Empty() {
		var ci, inner, data, bags cryptobyte.String
		var typ asn1.ObjectIdentifier
		if !seq.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&typ) {
			return nil, errors.New("a malformed PKCS#12 safe")
		}
		if typ.Equal(oidEncryptedData) {
			encrypted = true
			continue
		}
		if !typ.Equal(oidData) || !ci.ReadASN1(&inner, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
			!inner.ReadASN1(&data, cbasn1.OCTET_STRING) || !data.ReadASN1(&bags, cbasn1.SEQUENCE) {
			return nil, errors.New("a PKCS#12 safe of a kind not read")
		}
		for !bags.Empty() {
			der, trusted, err := certBag(&bags)
			switch {
			case err != nil:
				return nil, err
			case der != nil && trusted:
				out = append(out, der)
			case der != nil:
				unmarked++
			}
		}
	}
	switch {
	case len(out) == 0 && unmarked > 0:
		return nil, fmt.Errorf("Java trusts none of its %d certificates: none carries Java's trusted mark (a PKCS#12 file made by openssl pkcs12 has none; keytool -importcert adds it)", unmarked)
	case len(out) == 0 && encrypted:
		return nil, errPKCS12Encrypted
	}
	return out, nil
}

// certBag reads one safe bag: the certificate of a certificate bag, and
// whether Java marks it as trusted; nil for any other bag.
func certBag(bags *cryptobyte.String) (der []byte, trusted bool, err error) {
	var bag, value, attrs cryptobyte.String
	var id asn1.ObjectIdentifier
	if !bags.ReadASN1(&bag, cbasn1.SEQUENCE) || !bag.ReadASN1ObjectIdentifier(&id) ||
		!bag.ReadASN1(&value, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return nil, false, errors.New("a malformed PKCS#12 bag")
	}
	if !id.Equal(oidCertBag) {
		return nil, false, nil
	}
	var present bool
	if !bag.ReadOptionalASN1(&attrs, &present, cbasn1.SET) {
		return nil, false, errors.New("malformed PKCS#12 bag attributes")
	}
	for !attrs.Empty() {
		var attr cryptobyte.String
		var aid asn1.ObjectIdentifier
		if !attrs.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&aid) {
			return nil, false, errors.New("a malformed PKCS#12 bag attribute")
		}
		trusted = trusted || aid.Equal(oidJavaTrusted)
	}
	var bagValue, cert, raw cryptobyte.String
	var certType asn1.ObjectIdentifier
	if !value.ReadASN1(&bagValue, cbasn1.SEQUENCE) || !bagValue.ReadASN1ObjectIdentifier(&certType) {
		return nil, false, errors.New("a malformed PKCS#12 certificate bag")
	}
	if !certType.Equal(oidX509Cert) {
		return nil, false, nil
	}
	if !bagValue.ReadASN1(&cert, cbasn1.Tag(0).ContextSpecific().Constructed()) || !cert.ReadASN1(&raw, cbasn1.OCTET_STRING) {
		return nil, false, errors.New("a malformed PKCS#12 certificate bag")
	}
	return raw, trusted, nil
}
