package trust

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/tlskit/tlskit/finding"
)

// problem is one rule a certificate of a path breaks. The search records
// problems cheaply for every path it tries; only those of the path the
// diagnosis reports are turned into findings (see problemFinding).
type problem struct {
	id   string            // finding id
	sev  finding.Severity  // error blocks the path; warning does not
	kind string            // which rule, for the wording
	cert *x509.Certificate // the certificate at fault
	ca   *x509.Certificate // the CA whose constraint it breaks, if any
	text string            // the rule or evidence, in words
	n    int               // a count (intermediates, path length)
	max  int               // the limit it exceeds

	constraint string // name constraints: the constraint broken
	excluded   bool   // name constraints: an excluded subtree matched

	settings bool // certificate policies: the verifier's CertPolicies are part of the cause

	at int // the position on the path where it was found (0: the leaf)
}

// The problem kinds.
const (
	kExpired       = "expired"
	kNotYetValid   = "not-yet-valid"
	kNotCA         = "not-ca"
	kNoCertSign    = "no-certsign"
	kPathLen       = "pathlen"
	kMaxInter      = "max-intermediates"
	kNC            = "nc"
	kNCMalformed   = "nc-malformed"
	kNCDoS         = "nc-dos"
	kNCInLeaf      = "nc-in-leaf"
	kEKULeaf       = "eku-leaf"
	kEKUCA         = "eku-ca"
	kEKUProfile    = "eku-profile"
	kWeakSig       = "weak-sig"
	kWeakKey       = "weak-key"
	kCAAsLeaf      = "ca-as-leaf"
	kLeafCertSign  = "leaf-certsign"
	kNonconforming = "nonconforming"
	kRevoked       = "revoked"
	kCRL           = "crl"
	kPolicy        = "policy"
)

// kindRank orders problems for the report: what a client refuses a chain
// for first (revoked, dates, CA status, name constraints, usages,
// algorithms), encoding rules after.
func kindRank(kind string) int {
	switch kind {
	case kRevoked:
		return 0
	case kExpired, kNotYetValid:
		return 1
	case kNotCA, kNoCertSign, kCAAsLeaf, kLeafCertSign:
		return 2
	case kNC, kNCDoS, kNCMalformed, kNCInLeaf:
		return 3
	case kEKULeaf, kEKUCA:
		return 4
	case kWeakSig, kWeakKey:
		return 5
	case kPathLen, kMaxInter, kPolicy:
		return 6
	case kCRL:
		return 7
	}
	return rankRules
}

// rankRules is the rank of encoding and profile rules, reported after the
// name.
const rankRules = 8

// isError reports whether p blocks a path.
func (p problem) isError() bool { return p.sev == finding.Error }

// leafProblems checks what the leaf alone must satisfy under prof. anchor
// says the leaf is itself a trust anchor (a certificate trusted directly).
func (v *verifier) leafProblems(leaf *x509.Certificate, prof Profile, anchor bool) []problem {
	var ps []problem
	f := v.factsOf(leaf)
	ps = v.timeProblems(leaf, ps)
	webpki := prof == ProfileWebPKI
	server := v.usage == x509.ExtKeyUsageServerAuth

	// Extended key usage.
	switch {
	case f.ekuEmpty:
		ps = append(ps, problem{id: finding.CertWrongEKU, sev: finding.Error, kind: kEKUProfile, cert: leaf,
			text: "its extended key usage extension lists no usage at all (RFC 5280 §4.2.1.12: it lists one or more)"})
	case !allowsUsage(leaf, v.usage):
		ps = append(ps, problem{id: finding.CertWrongEKU, sev: finding.Error, kind: kEKULeaf, cert: leaf})
	}
	if webpki && server && !anchor {
		switch {
		case !f.eku.present:
			ps = append(ps, problem{id: finding.CertWrongEKU, sev: finding.Error, kind: kEKUProfile, cert: leaf,
				text: "it has no extended key usage extension; the Baseline Requirements (7.1.2.7.6) require serverAuth to be listed"})
		case slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny):
			ps = append(ps, problem{id: finding.CertWrongEKU, sev: finding.Error, kind: kEKUProfile, cert: leaf,
				text: "its extended key usage includes anyExtendedKeyUsage, which the Baseline Requirements (7.1.2.7.10) forbid in a server certificate"})
		case f.eku.critical:
			ps = append(ps, problem{id: finding.CertWrongEKU, sev: finding.Error, kind: kEKUProfile, cert: leaf,
				text: "its extended key usage extension is critical, which the Baseline Requirements (7.1.2.7.6) forbid"})
		}
	}

	// May the leaf sign certificates?
	isCA := leaf.BasicConstraintsValid && leaf.IsCA
	if leaf.KeyUsage&x509.KeyUsageCertSign != 0 && !isCA {
		ps = append(ps, problem{id: finding.CertCAAsLeaf, sev: finding.Error, kind: kLeafCertSign, cert: leaf})
	}
	if isCA && !anchor {
		sev := finding.Warning
		if webpki {
			sev = finding.Error
		}
		ps = append(ps, problem{id: finding.CertCAAsLeaf, sev: sev, kind: kCAAsLeaf, cert: leaf, text: prof.describe()})
	}
	if f.nc.present && !isCA {
		ps = append(ps, problem{id: finding.ChainNameConstraints, sev: finding.Error, kind: kNCInLeaf, cert: leaf})
	}

	// Key.
	ps = v.keyProblems(leaf, prof, finding.Error, checkAll, ps)

	// Encoding (RFC 5280 MUSTs, and the BRs under webpki).
	if !anchor {
		ps = v.encodingProblems(leaf, prof, false, false, ps)
	}
	ps = v.nameSyntaxProblems(leaf, prof, ps)
	return ps
}

// timeProblems reports a certificate outside its validity period. The
// verification time is taken to the second, the resolution of the
// certificate's dates (RFC 5280 §4.1.2.5: both dates are inclusive).
func (v *verifier) timeProblems(c *x509.Certificate, ps []problem) []problem {
	switch {
	case v.at.After(c.NotAfter):
		ps = append(ps, problem{id: finding.CertExpired, sev: finding.Error, kind: kExpired, cert: c})
	case v.at.Before(c.NotBefore):
		ps = append(ps, problem{id: finding.CertNotYetValid, sev: finding.Error, kind: kNotYetValid, cert: c})
	}
	return ps
}

// keyProblems reports a weak key (parts has checkCore) and, under webpki,
// the Baseline Requirements' key rules (parts has checkProfile). sev is the
// severity of a weak key.
func (v *verifier) keyProblems(c *x509.Certificate, prof Profile, sev finding.Severity, parts int, ps []problem) []problem {
	if weak, desc := weakKey(c); weak {
		if parts&checkCore != 0 {
			ps = append(ps, problem{id: finding.CertWeakKey, sev: sev, kind: kWeakKey, cert: c,
				text: desc + " is below the minimum (RSA 2048 bits, ECDSA 256 bits; DSA is obsolete)"})
		}
		return ps
	}
	if prof != ProfileWebPKI || parts&checkProfile == 0 {
		return ps
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n%8 != 0 {
			ps = append(ps, problem{id: finding.CertWeakKey, sev: sev, kind: kWeakKey, cert: c,
				text: fmt.Sprintf("RSA %d: the Baseline Requirements (6.1.5) want a modulus whose size in bits is divisible by 8", n)})
		}
	case *ecdsa.PublicKey:
		switch k.Curve.Params().Name {
		case "P-256", "P-384", "P-521":
		default:
			ps = append(ps, problem{id: finding.CertWeakKey, sev: sev, kind: kWeakKey, cert: c,
				text: "ECDSA " + k.Curve.Params().Name + " is not a curve the Baseline Requirements (6.1.5) allow (P-256, P-384, P-521)"})
		}
	}
	return ps
}

// nonconforming records an encoding rule c breaks.
func nonconforming(ps []problem, c *x509.Certificate, rule string) []problem {
	return append(ps, problem{id: finding.CertNonconforming, sev: finding.Error, kind: kNonconforming, cert: c, text: rule})
}

// encodingProblems checks how c is encoded: the RFC 5280 MUSTs every
// profile enforces, and under webpki the Baseline Requirements. ca says c
// is used as a CA on the path, anchor that it is the path's trust anchor:
// an anchor is a name and a key (RFC 5280 §6.1.1 (d)), so rules about how
// it was issued (its serial number, its issuer's key identifier) do not
// apply to it, while those about what it may do (a critical basic
// constraints extension, its own key identifier) do.
func (v *verifier) encodingProblems(c *x509.Certificate, prof Profile, ca, anchor bool, ps []problem) []problem {
	f := v.factsOf(c)
	webpki := prof == ProfileWebPKI
	if !ca { // a CA's are among the checks a client prunes on
		for _, id := range f.unknownCrit {
			ps = nonconforming(ps, c, fmt.Sprintf("it has a critical extension tlskit does not process (%s); RFC 5280 §4.2 requires refusing such a certificate", id))
		}
	}
	if f.duplicate {
		ps = nonconforming(ps, c, "it repeats an extension (RFC 5280 §4.2: at most one of each)")
	}
	if f.serialProblem != "" && !anchor {
		ps = nonconforming(ps, c, f.serialProblem+" (RFC 5280 §4.1.2.2: a positive integer of at most 20 octets)")
	}
	if f.emptyIssuer && !anchor {
		ps = nonconforming(ps, c, "its issuer name is empty (RFC 5280 §4.1.2.4)")
	}
	if !f.aki.present && !f.selfIssued && !anchor {
		ps = nonconforming(ps, c, "it has no authority key identifier (RFC 5280 §4.2.1.1: every certificate but a self-signed one carries one)")
	}
	if f.aki.critical {
		ps = nonconforming(ps, c, "its authority key identifier is critical (RFC 5280 §4.2.1.1: non-critical)")
	}
	if f.aia.present && f.aiaEmpty {
		ps = nonconforming(ps, c, "its authority information access extension is empty (RFC 5280 §4.2.2.1: at least one access description)")
	}
	if f.pc.present && !f.pc.critical {
		ps = nonconforming(ps, c, "its policy constraints extension is not critical (RFC 5280 §4.2.1.11: critical)")
	}
	if webpki && c.Version != 3 {
		ps = nonconforming(ps, c, fmt.Sprintf("it is an X.509 version %d certificate; the Baseline Requirements (7.1.1) require version 3", c.Version))
	}
	if ca {
		if !c.BasicConstraintsValid || !c.IsCA {
			return ps // not a CA: cert.not-ca says so
		}
		if f.emptySubject {
			ps = nonconforming(ps, c, "a CA certificate with an empty subject (RFC 5280 §4.1.2.6)")
		}
		if !f.ski.present {
			ps = nonconforming(ps, c, "a CA certificate without a subject key identifier (RFC 5280 §4.2.1.2)")
		}
		if webpki && f.bc.present && !f.bc.critical {
			// RFC 5280 §4.2.1.9 wants it critical too, but private PKIs
			// routinely mark CA:TRUE non-critical (badssl.com's test PKI
			// does) and every client honours it either way.
			ps = nonconforming(ps, c, "a CA certificate whose basic constraints are not critical (Baseline Requirements 7.1.2.10.4, 7.1.2.1.2)")
		}
		if f.nc.present && !f.nc.critical && !webpki {
			ps = nonconforming(ps, c, "its name constraints are not critical (RFC 5280 §4.2.1.10; the Baseline Requirements allow it, RFC 5280 does not)")
		}
		return ps
	}
	// A subject.
	switch {
	case f.emptySubject && !f.san.present:
		ps = nonconforming(ps, c, "its subject is empty and it has no subjectAltName (RFC 5280 §4.2.1.6)")
	case f.emptySubject && !f.san.critical:
		ps = nonconforming(ps, c, "its subject is empty and its subjectAltName is not critical (RFC 5280 §4.2.1.6: then it MUST be critical)")
	case webpki && !f.emptySubject && f.san.critical:
		ps = nonconforming(ps, c, "its subjectAltName is critical while its subject is not empty (Baseline Requirements 7.1.2.7.12)")
	}
	if f.sanErr != nil {
		ps = nonconforming(ps, c, "its subjectAltName does not parse: "+f.sanErr.Error())
	}
	return ps
}

// nameSyntaxProblems checks the leaf's names: DNS names in preferred syntax
// (one leftmost wildcard label allowed), mailboxes, and under webpki the
// Common Name rule and wildcards over public suffixes.
func (v *verifier) nameSyntaxProblems(c *x509.Certificate, prof Profile, ps []problem) []problem {
	f := v.factsOf(c)
	for _, gn := range f.sanNames {
		switch gn.tag {
		case gnDNS:
			d := string(gn.value)
			if why := dnsNameProblem(d); why != "" {
				ps = nonconforming(ps, c, fmt.Sprintf("its subjectAltName DNS:%s %s (RFC 5280 §4.2.1.6: preferred name syntax)", d, why))
				continue
			}
			if prof == ProfileWebPKI {
				if rest, ok := strings.CutPrefix(d, "*."); ok && wildcardOverSuffix(c, strings.ToLower(rest)) {
					ps = nonconforming(ps, c, fmt.Sprintf("its wildcard DNS:%s covers the public suffix %s, for which no CA may issue a wildcard (Baseline Requirements 3.2.2.6; Public Suffix List)", d, rest))
				}
			}
		case gnRFC822:
			if !validMailbox(string(gn.value)) {
				ps = nonconforming(ps, c, fmt.Sprintf("its subjectAltName email:%s is not a mailbox", string(gn.value)))
			}
		}
	}
	if prof != ProfileWebPKI {
		return ps
	}
	for _, a := range c.Subject.Names {
		if !a.Type.Equal(oidCommonName) {
			continue
		}
		cn, _ := a.Value.(string)
		if cnInSANs(c, cn) {
			continue
		}
		ps = nonconforming(ps, c, fmt.Sprintf("its Common Name %q is not a copy of one of its subjectAltNames (Baseline Requirements 7.1.4.3: a DNS name character for character, an IP address in its canonical text form)", cn))
	}
	return ps
}

// wildcardOverSuffix reports whether a wildcard over base ("*.base")
// covers a public suffix it may not. A suffix of the Public Suffix List's
// ICANN section (com, co.uk; and any single label) never may. One of its
// private section was registered by the owner of its domain, who may hold
// such a wildcard: it is accepted when the certificate names, outright, a
// private suffix under the same registered domain (Amazon's S3 certificate
// names s3.amazonaws.com and holds *.s3.amazonaws.com), and refused
// otherwise.
func wildcardOverSuffix(c *x509.Certificate, base string) bool {
	suffix, icann := publicsuffix.PublicSuffix(base)
	if suffix != base {
		return false // there is a registrable domain below the wildcard
	}
	if icann || !strings.Contains(base, ".") {
		return true
	}
	owner := registered(base)
	for _, n := range c.DNSNames {
		n = strings.ToLower(n)
		if strings.HasPrefix(n, "*.") {
			continue
		}
		if s, icann := publicsuffix.PublicSuffix(n); s == n && !icann && registered(n) == owner {
			return false
		}
	}
	return true
}

// registered returns the domain registered under the ICANN part of the
// Public Suffix List that name is in (amazonaws.com for
// s3.amazonaws.com), or "".
func registered(name string) string {
	labels := strings.Split(name, ".")
	for i := range labels {
		cand := strings.Join(labels[i:], ".")
		if s, icann := publicsuffix.PublicSuffix(cand); icann && s == cand {
			if i == 0 {
				return ""
			}
			return strings.Join(labels[i-1:], ".")
		}
	}
	return ""
}

// cnInSANs reports whether cn is, character for character, a DNS SAN of c
// or the canonical text of one of its IP SANs.
func cnInSANs(c *x509.Certificate, cn string) bool {
	if slices.Contains(c.DNSNames, cn) {
		return true
	}
	for _, ip := range c.IPAddresses {
		if ip.String() == cn {
			return true
		}
	}
	return false
}

// dnsNameProblem says why d is not a DNS name in preferred syntax with at
// most a leftmost "*" label, or "" when it is.
func dnsNameProblem(d string) string {
	if net.ParseIP(d) != nil {
		return "is an IP address written as a DNS name (it belongs in an IP SAN)"
	}
	name := strings.TrimSuffix(d, ".")
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		name = rest
	}
	if name == "" || name == "*" {
		return "is not a host name"
	}
	for _, l := range strings.Split(name, ".") {
		switch {
		case l == "":
			return "has an empty label"
		case strings.Contains(l, "*"):
			return "has a wildcard other than a whole leftmost label"
		case strings.Contains(l, "_"):
			return "contains an underscore"
		case !ldhLabel(l):
			return "is not letters, digits and hyphens"
		}
	}
	return ""
}

// The parts of the checks of a path position.
const (
	checkCore    = 1 << iota // what does not depend on the profile: a client prunes on these
	checkProfile             // the profile's rules, once the anchor (and so the profile) is known
	checkAll     = checkCore | checkProfile
)

// pathProblems checks everything of a path but the leaf alone: each CA's
// validity, CA status, key usage, path length, name constraints and
// extended key usages, each signature's algorithm, each key, certificate
// policies (RFC 5280 §6.1), the policy's depth limit and, with CRLs,
// revocation. anchored says the last
// certificate is a trust anchor.
func (v *verifier) pathProblems(path []*x509.Certificate, anchored bool, prof Profile, parts int) []problem {
	var ps []problem
	n := len(path)
	for i := 1; i < n; i++ {
		ps = v.certProblems(path, i, anchored && i == n-1, prof, parts, ps)
	}
	if parts&checkCore != 0 {
		ps = v.depthProblems(path, anchored, ps)
		if v.checksRevocation() {
			for i := 0; i+1 < n; i++ {
				ps = v.revocationProblems(path[i], path[i+1], ps)
			}
		}
	}
	// Certificate policies are processed from the anchor down, and the
	// leaf's revocation judged with the whole path in view (a revoked
	// CA above an uncovered leaf is the first thing to say), so only
	// once the path is complete, with the other checks of a whole path.
	if anchored && parts&checkProfile != 0 {
		ps = v.policyProblems(path, ps)
		ps = v.leafRevocation(path, ps, parts&checkCore != 0)
	}
	return ps
}

// leafRevocation fails a complete path whose leaf no CRL covers when CRLs
// were given (--crl, a policy's crl): revocation was asked for and cannot
// be told for the certificate that matters, so the check fails closed, as
// openssl -crl_check and curl --crlfile do. The CAs above the leaf stay an
// info, their CRLs often not at hand (openssl -crl_check checks the leaf
// only), and so does the leaf when CRLs are only fetched (--fetch).
// computed says ps already holds the leaf's revocation problems.
func (v *verifier) leafRevocation(path []*x509.Certificate, ps []problem, computed bool) []problem {
	if len(v.p.CRLs) == 0 || len(path) < 2 {
		return ps
	}
	if !computed {
		for _, p := range v.revocation(path[0], path[1], nil, false) {
			if p.id == finding.RevocationUnknown {
				p.sev = finding.Error
				ps = append(ps, p)
			}
		}
		return ps
	}
	for k := range ps {
		if ps[k].id == finding.RevocationUnknown && ps[k].cert == path[0] {
			ps[k].sev = finding.Error
		}
	}
	return ps
}

// checksRevocation reports whether revocation is checked: CRLs were given,
// or may be fetched.
func (v *verifier) checksRevocation() bool { return len(v.crls) > 0 || v.p.Fetch != nil }

// edgeProblems checks the last certificate of path as the issuer of the
// one before, with what a client prunes on (the profile is not known
// before the anchor is): the search calls it before it checks the
// signature, so that a candidate the path cannot use costs no signature.
func (v *verifier) edgeProblems(path []*x509.Certificate, anchor bool) []problem {
	i := len(path) - 1
	ps := v.certProblems(path, i, anchor, ProfileAuto, checkCore, nil)
	ps = v.depthProblems(path, anchor, ps)
	if v.checksRevocation() {
		ps = v.revocationProblems(path[i-1], path[i], ps)
	}
	return ps
}

// certProblems checks path[i] as the issuer of path[i-1].
func (v *verifier) certProblems(path []*x509.Certificate, i int, anchor bool, prof Profile, parts int, ps []problem) []problem {
	c := path[i]
	system := anchor && v.a.system[c]
	f := v.factsOf(c)
	webpki := prof == ProfileWebPKI
	start := len(ps)
	if parts&checkCore != 0 {
		ps = v.timeProblems(c, ps)
		if weakSignature(path[i-1].SignatureAlgorithm) {
			ps = append(ps, problem{id: finding.CertWeakSignature, sev: finding.Error, kind: kWeakSig, cert: path[i-1]})
		}
		switch {
		case !c.BasicConstraintsValid || !c.IsCA:
			ps = append(ps, problem{id: finding.CertNotCA, sev: finding.Error, kind: kNotCA, cert: c, ca: path[i-1]})
		case f.ku.present && c.KeyUsage&x509.KeyUsageCertSign == 0:
			ps = append(ps, problem{id: finding.CertNotCA, sev: finding.Error, kind: kNoCertSign, cert: c, ca: path[i-1]})
		}
		if !allowsUsage(c, v.usage) {
			ps = append(ps, problem{id: finding.CertWrongEKU, sev: finding.Error, kind: kEKUCA, cert: c})
		}
		if !anchor {
			ps = v.keyProblems(c, prof, finding.Error, checkCore, ps)
		}
		for _, id := range f.unknownCrit {
			ps = nonconforming(ps, c, fmt.Sprintf("it has a critical extension tlskit does not process (%s); RFC 5280 §4.2 requires refusing such a certificate", id))
		}
		// Path length: the non-self-issued intermediates below c.
		if c.BasicConstraintsValid && (c.MaxPathLen > 0 || c.MaxPathLenZero) {
			below := 0
			for _, b := range path[1:i] {
				if !v.factsOf(b).selfIssued {
					below++
				}
			}
			if below > c.MaxPathLen {
				ps = append(ps, problem{id: finding.ChainTooLong, sev: finding.Error, kind: kPathLen, cert: c, n: below, max: c.MaxPathLen})
			}
		}
		// Name constraints of c over every certificate below it (a
		// self-issued intermediate excepted, RFC 5280 §6.1.3 (b)).
		if f.nc.present {
			if f.ncErr != nil {
				ps = append(ps, problem{id: finding.ChainNameConstraints, sev: finding.Error, kind: kNCMalformed, cert: c, text: f.ncErr.Error()})
			} else {
				for j := i - 1; j >= 0; j-- {
					if j > 0 && v.factsOf(path[j]).selfIssued {
						continue
					}
					if viol := v.checkConstraints(path[j], c, f.ncParsed); viol != nil {
						kind := kNC
						if viol.dos {
							kind = kNCDoS
						}
						ps = append(ps, problem{id: finding.ChainNameConstraints, sev: finding.Error, kind: kind, cert: path[j], ca: c,
							text: viol.name, constraint: viol.constraint, excluded: viol.excluded})
						break
					}
				}
			}
		}
	}
	if parts&checkProfile != 0 {
		if webpki && anchor && !system && f.eku.present && allowsUsage(c, v.usage) {
			ps = append(ps, problem{id: finding.CertWrongEKU, sev: finding.Error, kind: kEKUProfile, cert: c,
				text: "a root with an extended key usage extension, which the Baseline Requirements (7.1.2.1.2) forbid"})
		}
		if anchor {
			keySev := finding.Warning
			if webpki {
				keySev = finding.Error
			}
			ps = v.keyProblems(c, prof, keySev, checkAll, ps)
		} else {
			ps = v.keyProblems(c, prof, finding.Error, checkProfile, ps)
		}
		if !system {
			ps = v.encodingProblems(c, prof, true, anchor, ps)
			if anchor && webpki && f.aki.present {
				switch {
				case !f.akiKeyID:
					ps = nonconforming(ps, c, "a root whose authority key identifier has no keyIdentifier (Baseline Requirements 7.1.2.1.3)")
				case !sameKeyID(c.AuthorityKeyId, c.SubjectKeyId):
					ps = nonconforming(ps, c, "a root whose authority key identifier differs from its subject key identifier (Baseline Requirements 7.1.2.1.3)")
				}
				if f.akiIssuer || f.akiSerial {
					ps = nonconforming(ps, c, "a root whose authority key identifier names an issuer or serial number (Baseline Requirements 7.1.2.1.3: keyIdentifier only)")
				}
			}
		}
	}
	for k := start; k < len(ps); k++ {
		ps[k].at = i
	}
	return ps
}

// depthProblems checks the policy's depth limit, in logical intermediates:
// self-issued certificates (key rollover) do not count.
func (v *verifier) depthProblems(path []*x509.Certificate, anchored bool, ps []problem) []problem {
	limit := v.p.MaxIntermediates
	if limit == 0 {
		return ps
	}
	if limit < 0 {
		limit = 0
	}
	top := len(path)
	if anchored {
		top--
	}
	count := 0
	for _, c := range path[1:max(top, 1)] {
		if !v.factsOf(c).selfIssued {
			count++
		}
	}
	if count > limit {
		ps = append(ps, problem{id: finding.ChainTooLong, sev: finding.Error, kind: kMaxInter, n: count, max: limit, cert: path[0], at: len(path) - 1})
	}
	return ps
}

// sameKeyID compares key identifiers.
func sameKeyID(a, b []byte) bool { return string(a) == string(b) }
