// Package dn writes a distinguished name (an X.501 Name: a certificate's
// subject or issuer, as DER) as text, the way OpenSSL writes it with
// `-nameopt RFC2253,-esc_msb`: RFC 4514's string form, relative
// distinguished names last first, the values of a multi-valued one joined
// by '+' (last first too), attribute types by OpenSSL's short names (CN,
// O, emailAddress, DC, jurisdictionC…) or as a dotted OID, and values as
// text with RFC 4514's escapes, or as '#' and the hex of their DER when
// they are not text or their type has no name.
//
// The name is read from its DER, not from crypto/x509's pkix.Name, whose
// String reorders the attributes (the ones it knows first, in its own
// order), groups separate RDNs of the same type into one multi-valued RDN
// and writes the types it does not know, emailAddress among them, as
// OIDs: two names that differ so, the cause of an issuer that does not
// chain, would read the same.
//
// Where OpenSSL writes something else, this package is deliberate (its
// test lists the cases): a value of one character '#' is escaped as RFC
// 4514 asks (OpenSSL escapes a leading '#' only when more follows), and an
// attribute type outside this package's table (X.520's, the COSINE pilot
// attributes of RFC 1274 and RFC 4519, PKCS #9's names, the CA/Browser
// Forum's jurisdiction) is written as its dotted OID with its value's DER,
// as OpenSSL writes the types it does not know. A value that is not valid
// in its string type (UTF-8 that is not, a BMPString of odd length or
// with a surrogate, a UniversalString beyond Unicode) is written as '#'
// and its DER; crypto/x509 refuses such a certificate, so tlskit never
// shows one.
package dn

import (
	"encoding/asn1"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// String is the RFC 4514 text of the DER-encoded Name der ("" for the
// empty name). A name that is not a valid Name is written as '#' and the
// hex of its bytes.
func String(der []byte) string {
	type atv struct {
		set   int
		name  string // the type's short name, or its dotted OID
		known bool   // the name is a short name
		value []byte // the value's whole DER element
		tag   cbasn1.Tag
	}
	var buf [16]atv
	atvs := buf[:0]
	in := cryptobyte.String(der)
	var rdns cryptobyte.String
	if !in.ReadASN1(&rdns, cbasn1.SEQUENCE) || !in.Empty() {
		return dump(der)
	}
	for set := 0; !rdns.Empty(); set++ {
		var rdn cryptobyte.String
		if !rdns.ReadASN1(&rdn, cbasn1.SET) {
			return dump(der)
		}
		for !rdn.Empty() {
			var seq, oid cryptobyte.String
			var a atv
			if !rdn.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Element(&oid, cbasn1.OBJECT_IDENTIFIER) ||
				!seq.ReadAnyASN1Element((*cryptobyte.String)(&a.value), &a.tag) || !seq.Empty() {
				return dump(der)
			}
			a.set = set
			var content cryptobyte.String
			if elem := oid; !elem.ReadASN1(&content, cbasn1.OBJECT_IDENTIFIER) {
				return dump(der)
			}
			a.name = shortName(content)
			a.known = a.name != ""
			if !a.known {
				// Outside the table: decoded (and so checked) only now.
				var o asn1.ObjectIdentifier
				if !oid.ReadASN1ObjectIdentifier(&o) {
					return dump(der)
				}
				a.name = o.String()
			}
			atvs = append(atvs, a)
		}
	}
	var b strings.Builder
	b.Grow(len(der))
	for i := len(atvs) - 1; i >= 0; i-- {
		a := atvs[i]
		if i < len(atvs)-1 {
			if a.set == atvs[i+1].set {
				b.WriteByte('+')
			} else {
				b.WriteByte(',')
			}
		}
		b.WriteString(a.name)
		b.WriteByte('=')
		if !a.known || !writeText(&b, a.tag, a.value) {
			writeDump(&b, a.value)
		}
	}
	return b.String()
}

// writeText writes the value element v, of tag t, as escaped text, and
// reports whether it is text: one of the string types OpenSSL prints as
// text, valid in its encoding (nothing is written otherwise).
func writeText(b *strings.Builder, t cbasn1.Tag, v []byte) bool {
	var c cryptobyte.String
	s := cryptobyte.String(v)
	if !s.ReadASN1(&c, t) {
		return false
	}
	width := 1 // bytes a character, 0 for UTF-8
	switch t {
	case cbasn1.UTF8String:
		if !utf8.Valid(c) {
			return false
		}
		width = 0
	case 18, cbasn1.PrintableString, cbasn1.T61String, cbasn1.IA5String, cbasn1.UTCTime, cbasn1.GeneralizedTime, 26:
		// NumericString, PrintableString, TeletexString, IA5String,
		// the times, VisibleString: a byte a character, as Latin-1.
	case 30: // BMPString: UCS-2
		width = 2
		if len(c)%2 != 0 {
			return false
		}
		for i := 0; i < len(c); i += 2 {
			if r := rune(c[i])<<8 | rune(c[i+1]); r >= 0xd800 && r < 0xe000 {
				return false
			}
		}
	case 28: // UniversalString: UCS-4
		width = 4
		if len(c)%4 != 0 {
			return false
		}
		for i := 0; i < len(c); i += 4 {
			if !utf8.ValidRune(ucs4(c[i:])) {
				return false
			}
		}
	default:
		return false
	}
	for p := 0; p < len(c); {
		first := p == 0
		var r rune
		switch width {
		case 0:
			var n int
			r, n = utf8.DecodeRune(c[p:])
			p += n
		case 1:
			r = rune(c[p])
			p++
		case 2:
			r = rune(c[p])<<8 | rune(c[p+1])
			p += 2
		case 4:
			r = ucs4(c[p:])
			p += 4
		}
		last := p == len(c)
		switch {
		case r < 0x20 || r == 0x7f:
			b.WriteByte('\\')
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xf])
			continue
		case r == ',' || r == '+' || r == '"' || r == '\\' || r == '<' || r == '>' || r == ';',
			r == '#' && first, r == ' ' && (first || last):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return true
}

// ucs4 is the big-endian character at the start of b.
func ucs4(b []byte) rune {
	return rune(b[0])<<24 | rune(b[1])<<16 | rune(b[2])<<8 | rune(b[3])
}

const hex = "0123456789ABCDEF"

// writeDump writes '#' and the hex of v, a DER element.
func writeDump(b *strings.Builder, v []byte) {
	b.WriteByte('#')
	for _, c := range v {
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
}

func dump(v []byte) string {
	var b strings.Builder
	writeDump(&b, v)
	return b.String()
}

// shortName is OpenSSL's short name for the attribute type whose OID
// content (the DER without tag and length) is oid, or "" for a type
// outside the table.
func shortName(oid []byte) string {
	// 2.5.4.n, 0.9.2342.19200300.100.1.n, 1.2.840.113549.1.9.n,
	// 1.3.6.1.4.1.311.60.2.1.n; n below 128 is its last byte.
	const (
		x520Arc   = "\x55\x04"
		pilotArc  = "\x09\x92\x26\x89\x93\xf2\x2c\x64\x01"
		pkcs9Arc  = "\x2a\x86\x48\x86\xf7\x0d\x01\x09"
		jurisdArc = "\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01"
	)
	if len(oid) == 0 || oid[len(oid)-1] >= 0x80 {
		return ""
	}
	arc, n := string(oid[:len(oid)-1]), int(oid[len(oid)-1])
	switch arc {
	case x520Arc:
		return x520(n)
	case pilotArc:
		return pilot(n)
	case pkcs9Arc:
		switch n {
		case 1:
			return "emailAddress"
		case 2:
			return "unstructuredName"
		case 8:
			return "unstructuredAddress"
		}
	case jurisdArc:
		switch n {
		case 1:
			return "jurisdictionL"
		case 2:
			return "jurisdictionST"
		case 3:
			return "jurisdictionC"
		}
	}
	return ""
}

// x520 names X.520's attribute types (2.5.4.n) as OpenSSL does.
func x520(n int) string {
	switch n {
	case 3:
		return "CN"
	case 4:
		return "SN"
	case 5:
		return "serialNumber"
	case 6:
		return "C"
	case 7:
		return "L"
	case 8:
		return "ST"
	case 9:
		return "street"
	case 10:
		return "O"
	case 11:
		return "OU"
	case 12:
		return "title"
	case 13:
		return "description"
	case 14:
		return "searchGuide"
	case 15:
		return "businessCategory"
	case 16:
		return "postalAddress"
	case 17:
		return "postalCode"
	case 18:
		return "postOfficeBox"
	case 19:
		return "physicalDeliveryOfficeName"
	case 20:
		return "telephoneNumber"
	case 21:
		return "telexNumber"
	case 22:
		return "teletexTerminalIdentifier"
	case 23:
		return "facsimileTelephoneNumber"
	case 24:
		return "x121Address"
	case 25:
		return "internationaliSDNNumber"
	case 26:
		return "registeredAddress"
	case 27:
		return "destinationIndicator"
	case 28:
		return "preferredDeliveryMethod"
	case 29:
		return "presentationAddress"
	case 30:
		return "supportedApplicationContext"
	case 31:
		return "member"
	case 32:
		return "owner"
	case 33:
		return "roleOccupant"
	case 34:
		return "seeAlso"
	case 35:
		return "userPassword"
	case 36:
		return "userCertificate"
	case 37:
		return "cACertificate"
	case 38:
		return "authorityRevocationList"
	case 39:
		return "certificateRevocationList"
	case 40:
		return "crossCertificatePair"
	case 41:
		return "name"
	case 42:
		return "GN"
	case 43:
		return "initials"
	case 44:
		return "generationQualifier"
	case 45:
		return "x500UniqueIdentifier"
	case 46:
		return "dnQualifier"
	case 47:
		return "enhancedSearchGuide"
	case 48:
		return "protocolInformation"
	case 49:
		return "distinguishedName"
	case 50:
		return "uniqueMember"
	case 51:
		return "houseIdentifier"
	case 52:
		return "supportedAlgorithms"
	case 53:
		return "deltaRevocationList"
	case 54:
		return "dmdName"
	case 65:
		return "pseudonym"
	case 72:
		return "role"
	case 97:
		return "organizationIdentifier"
	case 98:
		return "c3"
	case 99:
		return "n3"
	case 100:
		return "dnsName"
	}
	return ""
}

// pilot names the COSINE pilot attribute types (RFC 1274, RFC 4519:
// 0.9.2342.19200300.100.1.n) as OpenSSL does.
func pilot(n int) string {
	switch n {
	case 1:
		return "UID"
	case 2:
		return "textEncodedORAddress"
	case 3:
		return "mail"
	case 4:
		return "info"
	case 5:
		return "favouriteDrink"
	case 6:
		return "roomNumber"
	case 7:
		return "photo"
	case 8:
		return "userClass"
	case 9:
		return "host"
	case 10:
		return "manager"
	case 11:
		return "documentIdentifier"
	case 12:
		return "documentTitle"
	case 13:
		return "documentVersion"
	case 14:
		return "documentAuthor"
	case 15:
		return "documentLocation"
	case 20:
		return "homeTelephoneNumber"
	case 21:
		return "secretary"
	case 22:
		return "otherMailbox"
	case 23:
		return "lastModifiedTime"
	case 24:
		return "lastModifiedBy"
	case 25:
		return "DC"
	case 26:
		return "aRecord"
	case 27:
		return "pilotAttributeType27"
	case 28:
		return "mXRecord"
	case 29:
		return "nSRecord"
	case 30:
		return "sOARecord"
	case 31:
		return "cNAMERecord"
	case 37:
		return "associatedDomain"
	case 38:
		return "associatedName"
	case 39:
		return "homePostalAddress"
	case 40:
		return "personalTitle"
	case 41:
		return "mobileTelephoneNumber"
	case 42:
		return "pagerTelephoneNumber"
	case 43:
		return "friendlyCountryName"
	case 44:
		return "uid"
	case 45:
		return "organizationalStatus"
	case 46:
		return "janetMailbox"
	case 47:
		return "mailPreferenceOption"
	case 48:
		return "buildingName"
	case 49:
		return "dSAQuality"
	case 50:
		return "singleLevelQuality"
	case 51:
		return "subtreeMinimumQuality"
	case 52:
		return "subtreeMaximumQuality"
	case 53:
		return "personalSignature"
	case 54:
		return "dITRedirect"
	case 55:
		return "audio"
	case 56:
		return "documentPublisher"
	}
	return ""
}
