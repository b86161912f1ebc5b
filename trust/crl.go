package trust

import (
	"bytes"
	"cmp"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/dn"
)

// CRL is a certificate revocation list the verifier consults (RFC 5280
// §5), with where it came from. A CRL may be shared by verifications
// running at once, and must not be changed once one has used it: what
// they learn of it (its signature checked with a key, its entries
// indexed) is kept in it for the next, so that a long-lived verifier (a
// tunnel's, an exporter's) does not hash a large CRL at every handshake.
type CRL struct {
	// List is the parsed CRL.
	List *x509.RevocationList
	// Source says where it came from: a file path or a URL.
	Source string

	mu       sync.Mutex
	signers  map[string]error // the signature checked with a key (its SubjectPublicKeyInfo)
	failures int              // the keys of signers that did not verify it
	entries  *crlEntries      // the entries indexed, once read
}

// Describe says which CRL this is and when the next is due, in one line
// for logs: "SOURCE: ISSUER, next update TIME" (RFC 3339, UTC; "none
// named" when the CRL names no next update).
func (crl *CRL) Describe() string {
	next := "none named"
	if !crl.List.NextUpdate.IsZero() {
		next = crl.List.NextUpdate.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%s: %s, next update %s", crl.Source, dn.String(crl.List.RawIssuer), next)
}

// maxCRLWrongKeys bounds the keys a CRL remembers failing with: a peer can
// send certificates of any key in the CRL issuer's name, and a long-lived
// verifier meets many peers. The key that signed it is always remembered.
const maxCRLWrongKeys = 8

// signedBy checks the CRL's signature with s's key, once for each key
// (within maxCRLWrongKeys for keys that fail).
func (crl *CRL) signedBy(s *x509.Certificate) error {
	k := string(s.RawSubjectPublicKeyInfo)
	crl.mu.Lock()
	err, seen := crl.signers[k]
	crl.mu.Unlock()
	if seen {
		return err
	}
	l := crl.List
	err = s.CheckSignature(l.SignatureAlgorithm, l.RawTBSRevocationList, l.Signature)
	crl.mu.Lock()
	defer crl.mu.Unlock()
	if _, seen := crl.signers[k]; seen || err != nil && crl.failures >= maxCRLWrongKeys {
		return err
	}
	if crl.signers == nil {
		crl.signers = make(map[string]error)
	}
	if err != nil {
		crl.failures++
	}
	crl.signers[k] = err
	return err
}

// crlEntries are a CRL's entries as RFC 5280 §5.3.3 reads them: each
// attributed to its certificate issuer (the CRL's issuer until an entry of
// an indirect CRL names another), sorted to be found by issuer and serial
// number in eight bytes an entry.
type crlEntries struct {
	// why is the first entry that makes the CRL unusable, and why; ""
	// when none does.
	why string
	// issuers number the distinct certificate issuers the entries name
	// (their DER).
	issuers map[string]int
	// sorted are the entries with a serial number by issuer, serial
	// number and position.
	sorted []crlRef
}

// crlRef is an entry of a CRL (its index in RevokedCertificateEntries)
// and its certificate issuer (its number in crlEntries.issuers).
type crlRef struct{ entry, issuer int32 }

// index reads the CRL's entries once; indirect is whether its issuing
// distribution point marks it indirect (which the CRL alone decides).
func (crl *CRL) index(indirect bool) *crlEntries {
	crl.mu.Lock()
	x := crl.entries
	crl.mu.Unlock()
	if x != nil {
		return x
	}
	x = readEntries(crl.List, indirect)
	crl.mu.Lock()
	crl.entries = x
	crl.mu.Unlock()
	return x
}

// readEntries indexes l's entries.
func readEntries(l *x509.RevocationList, indirect bool) *crlEntries {
	es := l.RevokedCertificateEntries
	x := &crlEntries{issuers: map[string]int{string(l.RawIssuer): 0}, sorted: make([]crlRef, 0, len(es))}
	issuer := 0
	for i := range es {
		for _, ext := range es[i].Extensions {
			switch {
			case ext.Id.Equal(oidCertIssuer):
				if !indirect {
					return &crlEntries{why: "an entry names another certificate issuer, and the CRL is not marked indirect"}
				}
				name, err := certIssuerName(ext.Value)
				if err != nil {
					return &crlEntries{why: "an entry's certificate issuer cannot be read: " + err.Error()}
				}
				var seen bool
				if issuer, seen = x.issuers[string(name)]; !seen {
					issuer = len(x.issuers)
					x.issuers[string(name)] = issuer
				}
			case ext.Critical && !ext.Id.Equal(oidReasonCode) && !ext.Id.Equal(oidInvalidityDay):
				return &crlEntries{why: fmt.Sprintf("an entry has a critical extension tlskit does not process (%s)", ext.Id)}
			}
		}
		if es[i].SerialNumber != nil {
			x.sorted = append(x.sorted, crlRef{int32(i), int32(issuer)})
		}
	}
	slices.SortFunc(x.sorted, func(a, b crlRef) int {
		return cmp.Or(cmp.Compare(a.issuer, b.issuer), es[a.entry].SerialNumber.Cmp(es[b.entry].SerialNumber), cmp.Compare(a.entry, b.entry))
	})
	return x
}

// find is the entry of c, of its issuer and serial number, or nil; the
// last of them when the CRL lists it more than once.
func (x *crlEntries) find(l *x509.RevocationList, c *x509.Certificate) *x509.RevocationListEntry {
	issuer, ok := x.issuers[string(c.RawIssuer)]
	if c.SerialNumber == nil || !ok {
		return nil
	}
	es := l.RevokedCertificateEntries
	// The first entry past c's, and the one before it.
	k := sort.Search(len(x.sorted), func(k int) bool {
		r := x.sorted[k]
		return cmp.Or(cmp.Compare(int(r.issuer), issuer), es[r.entry].SerialNumber.Cmp(c.SerialNumber)) > 0
	})
	if k == 0 {
		return nil
	}
	if r := x.sorted[k-1]; int(r.issuer) == issuer && es[r.entry].SerialNumber.Cmp(c.SerialNumber) == 0 {
		return &es[r.entry]
	}
	return nil
}

// maxCRLSize bounds a CRL read from a file or fetched (some public CAs'
// CRLs are tens of megabytes; this is generous, not unbounded).
const maxCRLSize = 64 << 20

// ReadCRLFile reads the CRLs in a file, PEM ("X509 CRL" blocks) or DER.
func ReadCRLFile(path string) ([]*CRL, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("trust: reading the CRL: %w", err)
	}
	if fi.Size() > maxCRLSize {
		return nil, fmt.Errorf("trust: CRL %s is %d bytes, more than the %d MiB limit", path, fi.Size(), maxCRLSize>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trust: reading the CRL: %w", err)
	}
	return ParseCRLs(data, path)
}

// ParseCRLs parses PEM or DER CRLs; source names them in messages.
func ParseCRLs(data []byte, source string) ([]*CRL, error) {
	var out []*CRL
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "X509 CRL" && b.Type != "CRL" {
			continue
		}
		l, err := x509.ParseRevocationList(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("trust: CRL %d of %s does not parse: %w", len(out)+1, source, err)
		}
		out = append(out, &CRL{List: l, Source: source})
	}
	if len(out) > 0 {
		return out, nil
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		return nil, fmt.Errorf("trust: %s holds no \"X509 CRL\" PEM block", source)
	}
	l, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, fmt.Errorf("trust: %s is neither a PEM nor a DER CRL: %w", source, err)
	}
	return []*CRL{{List: l, Source: source}}, nil
}

var (
	oidCRLNumber     = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRL      = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIDP           = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidCertIssuer    = asn1.ObjectIdentifier{2, 5, 29, 29}
	oidReasonCode    = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidInvalidityDay = asn1.ObjectIdentifier{2, 5, 29, 24}
)

// crlScope is what an issuing distribution point says a CRL covers.
type crlScope struct {
	userOnly, caOnly, attrOnly, indirect, someReasons bool
	// reasons are the revocation reasons of onlySomeReasons, bit n for
	// ReasonFlags bit n (see allReasons).
	reasons uint16
	// point is the distribution point's name, each GeneralName as DER
	// (see dpNames); empty when the IDP names none.
	point [][]byte
}

// parseIDP reads an IssuingDistributionPoint (RFC 5280 §5.2.5): its
// distribution point name (issuer is the CRL's issuer, whose name a
// nameRelativeToCRLIssuer extends) and its scope flags.
func parseIDP(der, issuer []byte) (crlScope, error) {
	var sc crlScope
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return sc, errors.New("malformed issuing distribution point")
	}
	var dpn cryptobyte.String
	var hasDPN bool
	if !seq.ReadOptionalASN1(&dpn, &hasDPN, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return sc, errors.New("malformed issuing distribution point")
	}
	if hasDPN {
		names, err := dpNames(dpn, issuer)
		if err != nil {
			return sc, fmt.Errorf("malformed issuing distribution point: %w", err)
		}
		sc.point = names
	}
	readBool := func(n uint8, dst *bool) bool {
		var v cryptobyte.String
		var present bool
		if !seq.ReadOptionalASN1(&v, &present, cbasn1.Tag(n).ContextSpecific()) {
			return false
		}
		*dst = present && len(v) == 1 && v[0] != 0
		return true
	}
	if !readBool(1, &sc.userOnly) || !readBool(2, &sc.caOnly) {
		return sc, errors.New("malformed issuing distribution point")
	}
	var reasons cryptobyte.String
	if !seq.ReadOptionalASN1(&reasons, &sc.someReasons, cbasn1.Tag(3).ContextSpecific()) {
		return sc, errors.New("malformed issuing distribution point")
	}
	if sc.someReasons {
		// ReasonFlags, a BIT STRING: its unused-bits octet, then bit 0
		// (unused) to bit 8 (aACompromise), the first bit the highest.
		if len(reasons) < 1 || reasons[0] > 7 {
			return sc, errors.New("malformed issuing distribution point: onlySomeReasons")
		}
		for i, b := range reasons[1:] {
			for bit := range 8 {
				if n := 8*i + bit; b&(0x80>>bit) != 0 && n < 16 {
					sc.reasons |= 1 << n
				}
			}
		}
		sc.reasons &= allReasons
	}
	if !readBool(4, &sc.indirect) || !readBool(5, &sc.attrOnly) {
		return sc, errors.New("malformed issuing distribution point")
	}
	return sc, nil
}

// dpNames reads a DistributionPointName (the content of its [0] wrapper)
// as the GeneralNames it stands for, each as DER, so that two names match
// when their encodings do: fullName's names as they are, and a
// nameRelativeToCRLIssuer as the directoryName it makes with issuer (the
// CRL issuer's Name, RFC 5280 §4.2.1.13).
func dpNames(dpn cryptobyte.String, issuer []byte) ([][]byte, error) {
	var names [][]byte
	switch {
	case dpn.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific().Constructed()):
		var full cryptobyte.String
		if !dpn.ReadASN1(&full, cbasn1.Tag(0).ContextSpecific().Constructed()) {
			return nil, errors.New("bad fullName")
		}
		for !full.Empty() {
			var gn cryptobyte.String
			if !full.ReadAnyASN1Element(&gn, nil) {
				return nil, errors.New("bad GeneralName")
			}
			names = append(names, gn)
		}
	case dpn.PeekASN1Tag(cbasn1.Tag(1).ContextSpecific().Constructed()):
		var rdn cryptobyte.String
		if !dpn.ReadASN1(&rdn, cbasn1.Tag(1).ContextSpecific().Constructed()) {
			return nil, errors.New("bad nameRelativeToCRLIssuer")
		}
		in := cryptobyte.String(issuer)
		var rdns cryptobyte.String
		if !in.ReadASN1(&rdns, cbasn1.SEQUENCE) {
			return nil, errors.New("bad issuer name")
		}
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(rdns)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(rdn) })
			})
		})
		gn, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		names = append(names, gn)
	default:
		return nil, errors.New("unknown distribution point name")
	}
	if !dpn.Empty() {
		return nil, errors.New("trailing data")
	}
	return names, nil
}

// distPoint is one point of a certificate's CRL distribution points
// extension: its names as dpNames gives them (none when the point only
// names a CRL issuer) and the CRL issuers it names (cRLIssuer,
// GeneralNames as DER).
type distPoint struct {
	names, crlIssuers [][]byte
}

// parseDPs reads the value of a CRL distribution points extension;
// issuer is the certificate's issuer, whose name a nameRelativeToCRLIssuer
// extends.
func parseDPs(der, issuer []byte) ([]distPoint, error) {
	var points []distPoint
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, errors.New("malformed CRL distribution points")
	}
	for !seq.Empty() {
		var dp cryptobyte.String
		if !seq.ReadASN1(&dp, cbasn1.SEQUENCE) {
			return nil, errors.New("malformed CRL distribution point")
		}
		var dpn, issuers cryptobyte.String
		var hasName, hasIssuers bool
		if !dp.ReadOptionalASN1(&dpn, &hasName, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
			!dp.SkipOptionalASN1(cbasn1.Tag(1).ContextSpecific()) ||
			!dp.ReadOptionalASN1(&issuers, &hasIssuers, cbasn1.Tag(2).ContextSpecific().Constructed()) {
			return nil, errors.New("malformed CRL distribution point")
		}
		var p distPoint
		if hasName {
			var err error
			if p.names, err = dpNames(dpn, issuer); err != nil {
				return nil, err
			}
		}
		for hasIssuers && !issuers.Empty() {
			var gn cryptobyte.String
			if !issuers.ReadAnyASN1Element(&gn, nil) {
				return nil, errors.New("malformed cRLIssuer")
			}
			p.crlIssuers = append(p.crlIssuers, gn)
		}
		points = append(points, p)
	}
	return points, nil
}

// distPoints is c's CRL distribution points, read once per verification
// (every CRL is matched against them); present says c has the extension.
func (v *verifier) distPoints(c *x509.Certificate) (points []distPoint, present bool, err error) {
	f := v.factsOf(c)
	if !f.crldp.present {
		return nil, false, nil
	}
	if !f.dpsRead {
		f.dps, f.dpsErr = parseDPs(f.crldp.value, c.RawIssuer)
		f.dpsRead = true
	}
	return f.dps, true, f.dpsErr
}

// certIssuerName reads a certificate issuer entry extension (GeneralNames)
// as the Name of its directoryName, the form an issuer's name takes.
func certIssuerName(der []byte) ([]byte, error) {
	s := cryptobyte.String(der)
	var names cryptobyte.String
	if !s.ReadASN1(&names, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, errors.New("malformed GeneralNames")
	}
	for !names.Empty() {
		var gn cryptobyte.String
		var tag cbasn1.Tag
		if !names.ReadAnyASN1(&gn, &tag) {
			return nil, errors.New("malformed GeneralName")
		}
		if tag == cbasn1.Tag(4).ContextSpecific().Constructed() {
			var name cryptobyte.String
			if !gn.ReadASN1Element(&name, cbasn1.SEQUENCE) || !gn.Empty() {
				return nil, errors.New("malformed directoryName")
			}
			return name, nil
		}
	}
	return nil, errors.New("no directoryName")
}

// directoryName is a Name (its DER) as a GeneralName's DER.
func directoryName(name []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddBytes(name) })
	der, err := b.Bytes()
	if err != nil {
		return nil // a name too long to encode matches nothing
	}
	return der
}

// shareName reports whether two lists of GeneralNames (DER) share one.
func shareName(a, b [][]byte) bool {
	for _, x := range a {
		for _, y := range b {
			if bytes.Equal(x, y) {
				return true
			}
		}
	}
	return false
}

// inScope reports whether a CRL of the given issuer name and scope covers
// c by its distribution points (RFC 5280 §6.3.3 (b)): a CRL of c's own
// issuer serves a point that names no other CRL issuer, or a certificate
// without points; an indirect CRL serves a point whose cRLIssuer names its
// issuer; and a CRL of one distribution point (its IDP names it) only a
// point of that name, or, for a point with no name, of that CRL issuer.
func (v *verifier) inScope(c *x509.Certificate, crlIssuer []byte, scope crlScope) (bool, string) {
	points, present, err := v.distPoints(c)
	if err != nil {
		return false, "the certificate's CRL distribution points cannot be read: " + err.Error()
	}
	direct := bytes.Equal(crlIssuer, c.RawIssuer)
	if !present {
		switch {
		case !direct:
			return false, "it is another issuer's CRL, and the certificate names no CRL issuer"
		case len(scope.point) > 0:
			return false, "it is the CRL of one distribution point, and the certificate names none"
		}
		return true, ""
	}
	issuerName := [][]byte{directoryName(crlIssuer)}
	notIndirect := false // a point names this CRL's issuer, and the CRL is not marked indirect
	for _, p := range points {
		switch {
		case len(p.crlIssuers) > 0:
			if !shareName(p.crlIssuers, issuerName) {
				continue
			}
			if !scope.indirect {
				notIndirect = true
				continue
			}
		case !direct:
			continue
		}
		if len(scope.point) == 0 || shareName(p.names, scope.point) || len(p.names) == 0 && shareName(p.crlIssuers, scope.point) {
			return true, ""
		}
	}
	switch {
	case notIndirect:
		return false, "the certificate's distribution point names this CRL's issuer as its CRL issuer, and the CRL is not marked indirect (RFC 5280 §6.3.3 (b)(1))"
	case !direct:
		return false, "it is another issuer's CRL, and no distribution point of the certificate names that issuer as its CRL issuer (RFC 5280 §6.3.3 (b)(1))"
	}
	return false, "it is the CRL of another distribution point than the certificate's (RFC 5280 §6.3.3 (b)(2)(i))"
}

// namesCRLIssuer reports whether a distribution point of c names the CRL
// issuer name as its cRLIssuer: a CRL of that issuer can be c's.
func (v *verifier) namesCRLIssuer(c *x509.Certificate, name []byte) bool {
	points, _, err := v.distPoints(c)
	if err != nil {
		return false
	}
	dn := [][]byte{directoryName(name)}
	return slices.ContainsFunc(points, func(p distPoint) bool { return shareName(p.crlIssuers, dn) })
}

// crlCheck is the result of checking one CRL for one certificate.
type crlCheck struct {
	crl     *CRL
	usable  bool     // the CRL is the issuer's, valid, fresh and in scope
	why     string   // why it is not usable
	delta   bool     // a delta CRL (RFC 5280 §5.2.4): usable only with a complete CRL it extends, and unusable, not outranked by one
	base    *big.Int // a delta CRL's base CRL number
	reasons uint16   // the revocation reasons it covers (allReasons but with onlySomeReasons)
	idp     []byte   // the issuing distribution point extension, its scope (nil: none)
	revoked *x509.RevocationListEntry
}

// checkCRL validates l as the CRL of issuer for c per RFC 5280 §6.3.3:
// signed by the issuer's key, the issuer allowed to sign CRLs, fresh at
// the verification time, a CRL number that is present and not critical,
// no critical extension tlskit does not process, c within its scope.
// The second result is false when the CRL is not the issuer's at all (the
// names match but another key signed it, and its authority key identifier
// does not name the issuer's key).
func (v *verifier) checkCRL(crl *CRL, c, issuer *x509.Certificate) (crlCheck, bool) {
	l := crl.List
	r := crlCheck{crl: crl}
	if err := crl.signedBy(issuer); err != nil {
		// Another key of the same CA (a key rollover, a separate
		// CRL-signing key) is told apart by the key identifier: a CRL
		// that names the issuer's own key and does not verify with it is
		// damaged or forged, and fails the check.
		if len(l.AuthorityKeyId) > 0 && bytes.Equal(l.AuthorityKeyId, issuer.SubjectKeyId) {
			r.why = "its signature does not verify with the key of the issuer it names (its authority key identifier is the issuer's): " + err.Error()
			return r, true
		}
		return r, false
	}
	switch {
	case v.factsOf(issuer).ku.present && issuer.KeyUsage&x509.KeyUsageCRLSign == 0:
		r.why = fmt.Sprintf("the issuer %s may not sign CRLs: its key usage lacks cRLSign (RFC 5280 §6.3.3 (f))", name(issuer))
		return r, true
	case l.ThisUpdate.After(v.at):
		r.why = fmt.Sprintf("it is dated %s, after the verification time", l.ThisUpdate.UTC().Format(time.RFC3339))
		return r, true
	case !l.NextUpdate.IsZero() && v.at.After(l.NextUpdate):
		r.why = fmt.Sprintf("it is stale: its next update was due %s (RFC 5280 §6.3.3 (a)); get a current CRL", l.NextUpdate.UTC().Format(time.RFC3339))
		return r, true
	}
	var scope crlScope
	hasNumber := false
	for _, e := range l.Extensions {
		switch {
		case e.Id.Equal(oidCRLNumber):
			hasNumber = true
			if e.Critical {
				r.why = "its CRL number extension is critical (RFC 5280 §5.2.3: non-critical)"
				return r, true
			}
		case e.Id.Equal(oidDeltaCRL):
			r.delta = true
			if rest, err := asn1.Unmarshal(e.Value, &r.base); err != nil || len(rest) > 0 || r.base.Sign() < 0 {
				r.why = "its delta CRL indicator is not a base CRL number"
				return r, true
			}
		case e.Id.Equal(oidIDP):
			r.idp = e.Value
			var err error
			if scope, err = parseIDP(e.Value, l.RawIssuer); err != nil {
				r.why = err.Error()
				return r, true
			}
		case e.Id.Equal(oidAKI):
		default:
			if e.Critical {
				r.why = fmt.Sprintf("it has a critical extension tlskit does not process (%s)", e.Id)
				return r, true
			}
		}
	}
	if !hasNumber {
		r.why = "it has no CRL number (RFC 5280 §5.2.3: conforming CRLs carry one)"
		return r, true
	}
	isCA := c.BasicConstraintsValid && c.IsCA
	if scope.userOnly && isCA || scope.caOnly && !isCA || scope.attrOnly {
		r.why = "its issuing distribution point excludes this kind of certificate"
		return r, true
	}
	if ok, why := v.inScope(c, l.RawIssuer, scope); !ok {
		r.why = why
		return r, true
	}
	// The entries, each attributed to its certificate issuer (RFC 5280
	// §5.3.3), read once for every verification.
	entries := crl.index(scope.indirect)
	if entries.why != "" {
		r.why = entries.why
		return r, true
	}
	r.revoked = entries.find(l, c)
	r.reasons = allReasons
	if scope.someReasons {
		r.reasons = scope.reasons
	}
	r.usable = true
	return r, true
}

// revocationProblems checks c (issued by issuer) against the CRLs: revoked
// is an error, a CRL of the issuer that cannot be used is an error (the
// status is unknown, and tlskit fails closed when it was asked to check),
// and no CRL of the issuer at all is an info.
func (v *verifier) revocationProblems(c, issuer *x509.Certificate, ps []problem) []problem {
	return v.revocation(c, issuer, ps, true)
}

// revocation is revocationProblems; fetch says CRLs may still be fetched.
func (v *verifier) revocation(c, issuer *x509.Certificate, ps []problem, fetch bool) []problem {
	var unusable, complete, deltas []crlCheck
	var otherKey []string // CRLs of the issuer's name that another key signed
	for _, crl := range v.crls {
		direct := bytes.Equal(crl.List.RawIssuer, c.RawIssuer)
		if !direct && !v.namesCRLIssuer(c, crl.List.RawIssuer) {
			continue
		}
		var r crlCheck
		ours := false
		if direct {
			r, ours = v.checkCRL(crl, c, issuer)
		}
		if !ours {
			// Another key of the CA signed it: usable when that key's
			// certificate is vouched for (RFC 5280 §6.3.3 (f)).
			if signer, why := v.crlSigner(crl, c, issuer); signer != nil {
				r, ours = v.checkCRL(crl, c, signer)
				if ours && r.usable && why != "" {
					r.usable, r.why = false, why
				}
			}
		}
		switch {
		case !ours:
			if direct && !slices.Contains(otherKey, crl.Source) {
				otherKey = append(otherKey, crl.Source)
			}
		case !r.usable:
			unusable = append(unusable, r)
		case r.delta:
			deltas = append(deltas, r)
		default:
			complete = append(complete, r)
		}
	}
	// A delta CRL counts only with a complete CRL it extends (RFC 5280
	// §5.2.4); one without would hide what it revokes, so it fails the
	// check even when a complete CRL covers the certificate.
	var applied []crlCheck
	for _, d := range deltas {
		if slices.ContainsFunc(complete, d.extends) {
			applied = append(applied, d)
			continue
		}
		d.usable = false
		d.why = fmt.Sprintf("it is a delta CRL (number %s, on base CRL number %s), and no complete CRL of the same scope numbered from %s up to %s was given to combine it with (RFC 5280 §5.2.4)",
			d.crl.List.Number, d.base, d.base, d.crl.List.Number)
		unusable = append(unusable, d)
	}
	if e, crl := revokedBy(complete, applied); e != nil {
		text := revocationText(e, crl.Source)
		if !bytes.Equal(crl.List.RawIssuer, c.RawIssuer) {
			text += fmt.Sprintf(", an indirect CRL that %q issues for it", dn.String(crl.List.RawIssuer))
		}
		return append(ps, problem{id: finding.CertRevoked, sev: finding.Error, kind: kRevoked, cert: c, ca: issuer, text: text})
	}
	// Not revoked for the reasons the complete CRLs cover together
	// (RFC 5280 §6.3.3 (d), (i)): with onlySomeReasons, each a part.
	var reasons uint16
	for _, b := range complete {
		reasons |= b.reasons
	}
	covered := reasons == allReasons
	if !covered {
		for _, b := range complete {
			b.usable = false
			b.why = fmt.Sprintf("it covers only some revocation reasons (onlySomeReasons: %s), and the CRLs given do not cover the others (%s)", reasonList(b.reasons), reasonList(allReasons&^reasons))
			unusable = append(unusable, b)
		}
	}
	if covered && !slices.ContainsFunc(unusable, func(r crlCheck) bool { return r.delta }) {
		return ps
	}
	if covered {
		unusable = slices.DeleteFunc(unusable, func(r crlCheck) bool { return !r.delta })
	}
	if fetch && len(unusable) == 0 && len(c.CRLDistributionPoints) > 0 && v.fetchesLeft() {
		before := len(v.crls)
		v.fetchCRLs(c)
		if len(v.crls) > before {
			return v.revocation(c, issuer, ps, false)
		}
	}
	for _, r := range unusable {
		ps = append(ps, problem{id: finding.CRLInvalid, sev: finding.Error, kind: kCRL, cert: c, ca: issuer,
			text: fmt.Sprintf("the CRL from %q (%s) cannot be used: %s", dn.String(r.crl.List.RawIssuer), r.crl.Source, r.why)})
	}
	if len(unusable) == 0 {
		p := problem{id: finding.RevocationUnknown, sev: finding.Info, kind: kCRL, cert: c, ca: issuer}
		if len(otherKey) > 0 {
			p.text = fmt.Sprintf("a CRL in its issuer %s's name was given (%s), but another key than the issuer's signed it, and no certificate of that key is vouched for (sent or an anchor, and signed by the issuer's key or by the key that signed the issuer: RFC 5280 §6.3.3 (f))",
				issuerName(c), strings.Join(otherKey, ", "))
		}
		ps = append(ps, p)
	}
	return ps
}

// allReasons are ReasonFlags bits 1 (keyCompromise) to 8 (aACompromise):
// what a CRL without onlySomeReasons covers (RFC 5280 §6.3.3 (d)).
const allReasons uint16 = 0x1fe

// crlSigner finds the certificate of the key that signed crl, a CRL in
// the name of c's issuer that the issuer's own key did not sign (RFC 5280
// §6.3.3 (f)): a certificate of that name, sent or an anchor, whose key
// verifies the CRL, that may sign CRLs and is valid at the verification
// time, vouched for by a key the path already trusts: an anchor itself;
// the issuer's certificate's signer (when the issuer is a key rollover
// certificate that the CA's other key signed); or a certificate that
// issuer's key, or the key that signed the issuer, signed (a rollover
// certificate, a CRL-signing certificate from the same parent). That
// certificate's own revocation is checked against the CRLs given (one
// level deep): why says the CRL cannot be used when it is revoked. Nil
// when no certificate qualifies.
func (v *verifier) crlSigner(crl *CRL, c, issuer *x509.Certificate) (signer *x509.Certificate, why string) {
	if v.crlDepth > 0 {
		return nil, ""
	}
	l := crl.List
	var parents []*x509.Certificate // certificates whose key signed issuer
	for _, p := range v.named(issuer.RawIssuer) {
		if v.signedBy(issuer, p) {
			parents = append(parents, p)
		}
	}
	tried := 0
	for _, s := range v.named(l.RawIssuer) {
		if bytes.Equal(s.RawSubjectPublicKeyInfo, issuer.RawSubjectPublicKeyInfo) || !v.validAt(s) ||
			v.factsOf(s).ku.present && s.KeyUsage&x509.KeyUsageCRLSign == 0 {
			continue
		}
		// Vouched for first (signature checks within the verification's
		// budget), then the CRL's signature (hashing a CRL of up to
		// 64 MiB), for a few candidates at most whatever a peer sends.
		var by *x509.Certificate // whose key vouches for s, when s needs a revocation check
		switch {
		case v.isAnchor(s), slices.Contains(parents, s):
			// Trusted directly, or on the path (checked there).
		case v.signedBy(s, issuer):
			by = issuer
		default:
			i := slices.IndexFunc(parents, func(p *x509.Certificate) bool { return v.signedBy(s, p) })
			if i < 0 {
				continue
			}
			by = parents[i]
		}
		if tried++; tried > maxCRLSigners {
			break
		}
		if crl.signedBy(s) != nil {
			continue
		}
		if by != nil {
			v.crlDepth++
			ps := v.revocation(s, by, nil, false)
			v.crlDepth--
			if i := slices.IndexFunc(ps, func(p problem) bool { return p.id == finding.CertRevoked }); i >= 0 {
				return s, fmt.Sprintf("it is signed by the CA's other key, whose certificate %s is revoked: %s", name(s), ps[i].text)
			}
		}
		return s, ""
	}
	return nil, ""
}

// maxCRLSigners bounds the vouched-for certificates whose key is tried on
// one CRL that the issuer's own key did not sign.
const maxCRLSigners = 4

// reasonRemoveFromCRL is the reason of a delta CRL entry that takes a
// certificate off hold (RFC 5280 §5.3.1).
const reasonRemoveFromCRL = 8

// extends reports whether delta d can be combined with complete CRL b
// (RFC 5280 §5.2.4): the same scope, b at least as recent as d's base and
// older than d. Both are the same issuer's, signed with its key.
func (d crlCheck) extends(b crlCheck) bool {
	n := b.crl.List.Number
	return n != nil && d.base != nil && d.crl.List.Number != nil && bytes.Equal(d.idp, b.idp) &&
		n.Cmp(d.base) >= 0 && n.Cmp(d.crl.List.Number) < 0
}

// revokedBy is the entry that revokes the certificate, and the CRL it is
// on, given the usable complete CRLs and the delta CRLs that extend them:
// a delta's entry is the newest word (removeFromCRL takes a certificate
// off hold), a complete CRL's stands unless a newer delta removed it.
func revokedBy(complete, deltas []crlCheck) (*x509.RevocationListEntry, *CRL) {
	for _, d := range deltas {
		if d.revoked != nil && d.revoked.ReasonCode != reasonRemoveFromCRL {
			return d.revoked, d.crl
		}
	}
	for _, b := range complete {
		if b.revoked == nil || slices.ContainsFunc(deltas, func(d crlCheck) bool {
			return d.revoked != nil && d.revoked.ReasonCode == reasonRemoveFromCRL && d.extends(b)
		}) {
			continue
		}
		return b.revoked, b.crl
	}
	return nil, nil
}

// reasonFlagNames are the ReasonFlags bits (RFC 5280 §4.2.1.13).
var reasonFlagNames = []string{1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged", 4: "superseded",
	5: "cessationOfOperation", 6: "certificateHold", 7: "privilegeWithdrawn", 8: "aACompromise"}

// reasonList names the reasons of a mask.
func reasonList(mask uint16) string {
	var names []string
	for n := 1; n < len(reasonFlagNames); n++ {
		if mask&(1<<n) != 0 {
			names = append(names, reasonFlagNames[n])
		}
	}
	return strings.Join(names, ", ")
}

// reasonNames are the CRL reason codes (RFC 5280 §5.3.1).
var reasonNames = map[int]string{
	0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged", 4: "superseded",
	5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL", 9: "privilegeWithdrawn", 10: "aACompromise",
}

// reasonName names a reason code.
func reasonName(code int) string {
	if n, ok := reasonNames[code]; ok {
		return n
	}
	return fmt.Sprintf("reason %d", code)
}

// revocationText describes a revocation entry.
func revocationText(e *x509.RevocationListEntry, source string) string {
	s := fmt.Sprintf("serial %s revoked on %s", SerialHex(e.SerialNumber), e.RevocationTime.UTC().Format(time.RFC3339))
	if e.ReasonCode != 0 {
		s += ", reason " + reasonName(e.ReasonCode)
	}
	return s + " (CRL " + source + ")"
}
