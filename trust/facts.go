package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Extension OIDs the validator looks at in their raw form, where
// crypto/x509's parsed fields lose what a rule needs (criticality, an
// extension present but empty, name forms crypto/x509 drops).
var (
	oidSKI         = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidKeyUsage    = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidSAN         = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidBasic       = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidNC          = asn1.ObjectIdentifier{2, 5, 29, 30}
	oidCRLDP       = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidPolicyCons  = asn1.ObjectIdentifier{2, 5, 29, 36}
	oidAKI         = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidEKU         = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidAIA         = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
	oidTLSFeature  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}
	oidEmailAttr   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	oidCommonName  = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidAnyExtUsage = asn1.ObjectIdentifier{2, 5, 29, 37, 0}
)

// GeneralName tags (RFC 5280 §4.2.1.6), context-specific.
const (
	gnOtherName     = 0
	gnRFC822        = 1
	gnDNS           = 2
	gnX400          = 3
	gnDirectoryName = 4
	gnEDIParty      = 5
	gnURI           = 6
	gnIP            = 7
	gnRegisteredID  = 8
)

// generalName is one GeneralName: its tag and its content (for a
// directoryName, the DER of the Name SEQUENCE).
type generalName struct {
	tag   int
	value []byte
}

// gnKindName names a GeneralName form for messages.
func gnKindName(tag int) string {
	switch tag {
	case gnOtherName:
		return "otherName"
	case gnRFC822:
		return "rfc822Name (email)"
	case gnDNS:
		return "dNSName"
	case gnX400:
		return "x400Address"
	case gnDirectoryName:
		return "directoryName"
	case gnEDIParty:
		return "ediPartyName"
	case gnURI:
		return "URI"
	case gnIP:
		return "iPAddress"
	case gnRegisteredID:
		return "registeredID"
	}
	return "unknown name form"
}

// ext is what the validator knows of one extension of a certificate.
type ext struct {
	present, critical bool
	value             []byte
}

// facts are the raw-extension facts of one certificate, computed once per
// verification (see verifier.factsOf).
type facts struct {
	ski, aki, san, nc, bc, eku, ku, pc, aia, crldp, tlsFeature ext

	duplicate bool // an extension appears twice (crypto/x509 refuses these already)

	dps     []distPoint // the CRL distribution points, read when first asked for (verifier.distPoints)
	dpsErr  error
	dpsRead bool

	sanNames []generalName // every SAN entry, all forms
	sanErr   error

	ncParsed *nameConstraints
	ncErr    error

	akiKeyID      bool // the AKI carries a keyIdentifier
	akiIssuer     bool // ... an authorityCertIssuer
	akiSerial     bool // ... an authorityCertSerialNumber
	aiaEmpty      bool // AIA present with no AccessDescription
	ekuEmpty      bool // EKU present with no usage
	selfIssued    bool // subject equals issuer
	mustStaple    bool // TLS feature status_request (RFC 7633)
	unknownCrit   []asn1.ObjectIdentifier
	emptySubject  bool
	emptyIssuer   bool
	serialProblem string // "" or why the serial number breaks RFC 5280 §4.1.2.2
}

// computeFacts reads c's extensions.
func computeFacts(c *x509.Certificate) *facts {
	f := &facts{
		selfIssued:   bytes.Equal(c.RawSubject, c.RawIssuer),
		emptySubject: isEmptyName(c.RawSubject),
		emptyIssuer:  isEmptyName(c.RawIssuer),
	}
	seen := make(map[string]bool, len(c.Extensions))
	for _, e := range c.Extensions {
		k := e.Id.String()
		if seen[k] {
			f.duplicate = true
		}
		seen[k] = true
		x := ext{present: true, critical: e.Critical, value: e.Value}
		switch {
		case e.Id.Equal(oidSKI):
			f.ski = x
		case e.Id.Equal(oidAKI):
			f.aki = x
		case e.Id.Equal(oidSAN):
			f.san = x
		case e.Id.Equal(oidNC):
			f.nc = x
		case e.Id.Equal(oidBasic):
			f.bc = x
		case e.Id.Equal(oidEKU):
			f.eku = x
		case e.Id.Equal(oidKeyUsage):
			f.ku = x
		case e.Id.Equal(oidPolicyCons):
			f.pc = x
		case e.Id.Equal(oidAIA):
			f.aia = x
		case e.Id.Equal(oidCRLDP):
			f.crldp = x
		case e.Id.Equal(oidTLSFeature):
			f.tlsFeature = x
		}
	}
	if f.san.present {
		f.sanNames, f.sanErr = parseGeneralNames(f.san.value)
	}
	if f.nc.present {
		f.ncParsed, f.ncErr = parseNameConstraints(f.nc.value)
	}
	if f.aki.present {
		f.akiKeyID, f.akiIssuer, f.akiSerial = parseAKIFields(f.aki.value)
	}
	if f.aia.present {
		s := cryptobyte.String(f.aia.value)
		var seq cryptobyte.String
		f.aiaEmpty = s.ReadASN1(&seq, cbasn1.SEQUENCE) && seq.Empty()
	}
	if f.eku.present {
		f.ekuEmpty = len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0
	}
	if f.tlsFeature.present {
		f.mustStaple = hasStatusRequestFeature(f.tlsFeature.value)
	}
	for _, id := range c.UnhandledCriticalExtensions {
		// The validator processes these itself: every SAN and name
		// constraint form (crypto/x509 marks forms it ignores as
		// unhandled) and the TLS feature extension (must-staple).
		if id.Equal(oidSAN) && f.sanErr == nil || id.Equal(oidNC) && f.ncErr == nil || id.Equal(oidTLSFeature) {
			continue
		}
		f.unknownCrit = append(f.unknownCrit, id)
	}
	switch s := c.SerialNumber; {
	case s == nil:
		f.serialProblem = "it has no serial number"
	case s.Sign() < 0:
		f.serialProblem = "its serial number is negative"
	case s.Sign() == 0:
		f.serialProblem = "its serial number is zero"
	case len(s.Bytes()) > 20 || len(s.Bytes()) == 20 && s.Bytes()[0]&0x80 != 0:
		f.serialProblem = "its serial number is longer than 20 octets"
	}
	return f
}

// isEmptyName reports whether a DER Name is an empty SEQUENCE.
func isEmptyName(der []byte) bool {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	return s.ReadASN1(&seq, cbasn1.SEQUENCE) && seq.Empty()
}

// parseGeneralNames parses GeneralNames (a SEQUENCE OF GeneralName), the
// value of a SAN extension.
func parseGeneralNames(der []byte) ([]generalName, error) {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, errors.New("not a SEQUENCE of names")
	}
	var out []generalName
	for !seq.Empty() {
		gn, err := readGeneralName(&seq)
		if err != nil {
			return nil, err
		}
		out = append(out, gn)
	}
	return out, nil
}

// readGeneralName reads one GeneralName from s.
func readGeneralName(s *cryptobyte.String) (generalName, error) {
	var (
		v   cryptobyte.String
		tag cbasn1.Tag
	)
	if !s.ReadAnyASN1(&v, &tag) {
		return generalName{}, errors.New("malformed GeneralName")
	}
	if tag&0x80 == 0 { // not context-specific
		return generalName{}, errors.New("GeneralName without a context-specific tag")
	}
	n := int(tag & 0x1f)
	if n > gnRegisteredID {
		return generalName{}, errors.New("unknown GeneralName form")
	}
	if n == gnDirectoryName {
		// [4] EXPLICIT Name: the content is the Name SEQUENCE itself.
		var name cryptobyte.String
		inner := v
		if !inner.ReadASN1Element(&name, cbasn1.SEQUENCE) || !inner.Empty() {
			return generalName{}, errors.New("malformed directoryName")
		}
		return generalName{tag: n, value: name}, nil
	}
	return generalName{tag: n, value: v}, nil
}

// parseAKIFields reports which fields an AuthorityKeyIdentifier carries.
func parseAKIFields(der []byte) (keyID, issuer, serial bool) {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return false, false, false
	}
	keyID = seq.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific())
	if keyID {
		seq.SkipASN1(cbasn1.Tag(0).ContextSpecific())
	}
	issuer = seq.PeekASN1Tag(cbasn1.Tag(1).ContextSpecific().Constructed())
	if issuer {
		seq.SkipASN1(cbasn1.Tag(1).ContextSpecific().Constructed())
	}
	serial = seq.PeekASN1Tag(cbasn1.Tag(2).ContextSpecific())
	return keyID, issuer, serial
}

// hasStatusRequestFeature reports whether a TLS feature extension
// (RFC 7633) lists status_request (5): OCSP must-staple.
func hasStatusRequestFeature(der []byte) bool {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return false
	}
	for !seq.Empty() {
		var n int64
		if !seq.ReadASN1Integer(&n) {
			return false
		}
		if n == 5 {
			return true
		}
	}
	return false
}

// factsOf returns c's facts, computed once per verification.
func (v *verifier) factsOf(c *x509.Certificate) *facts {
	if f, ok := v.facts[c]; ok {
		return f
	}
	if v.facts == nil {
		v.facts = make(map[*x509.Certificate]*facts)
	}
	f := computeFacts(c)
	v.facts[c] = f
	return f
}
