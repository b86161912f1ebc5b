package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tlskit/tlskit/finding"
)

// CRL is a certificate revocation list the verifier consults (RFC 5280
// §5), with where it came from.
type CRL struct {
	// List is the parsed CRL.
	List *x509.RevocationList
	// Source says where it came from: a file path or a URL.
	Source string
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
}

// parseIDP reads the scope flags of an IssuingDistributionPoint.
func parseIDP(der []byte) (crlScope, error) {
	var sc crlScope
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return sc, errors.New("malformed issuing distribution point")
	}
	seq.SkipOptionalASN1(cbasn1.Tag(0).ContextSpecific().Constructed())
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
	sc.someReasons = seq.PeekASN1Tag(cbasn1.Tag(3).ContextSpecific())
	seq.SkipOptionalASN1(cbasn1.Tag(3).ContextSpecific())
	if !readBool(4, &sc.indirect) || !readBool(5, &sc.attrOnly) {
		return sc, errors.New("malformed issuing distribution point")
	}
	return sc, nil
}

// crlCheck is the result of checking one CRL for one certificate.
type crlCheck struct {
	crl     *CRL
	usable  bool   // the CRL is the issuer's, valid, fresh and in scope
	why     string // why it is not usable
	revoked *x509.RevocationListEntry
}

// checkCRL validates l as the CRL of issuer for c per RFC 5280 §6.3.3:
// signed by the issuer's key, the issuer allowed to sign CRLs, fresh at
// the verification time, a CRL number that is present and not critical,
// no critical extension tlskit does not process, c within its scope.
// The second result is false when the CRL is not the issuer's at all (the
// names match but another key signed it).
func (v *verifier) checkCRL(crl *CRL, c, issuer *x509.Certificate) (crlCheck, bool) {
	l := crl.List
	r := crlCheck{crl: crl}
	if err := issuer.CheckSignature(l.SignatureAlgorithm, l.RawTBSRevocationList, l.Signature); err != nil {
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
			r.why = "it is a delta CRL, which tlskit does not combine with a base CRL; give the full CRL"
			return r, true
		case e.Id.Equal(oidIDP):
			var err error
			if scope, err = parseIDP(e.Value); err != nil {
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
	if scope.indirect {
		r.why = "it is an indirect CRL, which tlskit does not process"
		return r, true
	}
	isCA := c.BasicConstraintsValid && c.IsCA
	if scope.userOnly && isCA || scope.caOnly && !isCA || scope.attrOnly {
		r.why = "its issuing distribution point excludes this kind of certificate"
		return r, true
	}
	for i := range l.RevokedCertificateEntries {
		e := &l.RevokedCertificateEntries[i]
		for _, x := range e.Extensions {
			if x.Critical && !x.Id.Equal(oidReasonCode) && !x.Id.Equal(oidInvalidityDay) {
				if x.Id.Equal(oidCertIssuer) {
					r.why = "an entry names another certificate issuer (an indirect CRL), which tlskit does not process"
				} else {
					r.why = fmt.Sprintf("an entry has a critical extension tlskit does not process (%s)", x.Id)
				}
				return r, true
			}
		}
		if e.SerialNumber != nil && c.SerialNumber != nil && e.SerialNumber.Cmp(c.SerialNumber) == 0 {
			r.revoked = e
		}
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
	var unusable []crlCheck
	covered := false
	for _, crl := range v.crls {
		if !bytes.Equal(crl.List.RawIssuer, c.RawIssuer) {
			continue
		}
		r, ours := v.checkCRL(crl, c, issuer)
		if !ours {
			continue
		}
		if !r.usable {
			unusable = append(unusable, r)
			continue
		}
		covered = true
		if r.revoked != nil {
			return append(ps, problem{id: finding.CertRevoked, sev: finding.Error, kind: kRevoked, cert: c, ca: issuer,
				text: revocationText(r.revoked, crl.Source)})
		}
	}
	if covered {
		return ps
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
			text: fmt.Sprintf("the CRL from %s (%s) cannot be used: %s", issuerName(c), r.crl.Source, r.why)})
	}
	if len(unusable) == 0 {
		ps = append(ps, problem{id: finding.RevocationUnknown, sev: finding.Info, kind: kCRL, cert: c, ca: issuer})
	}
	return ps
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
