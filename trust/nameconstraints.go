package trust

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf16"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// maxConstraintChecks bounds the name-against-constraint comparisons of one
// verification, as crypto/x509 does (250,000): a CA with thousands of
// constraints over a leaf with thousands of names is a denial-of-service
// pattern (x509-limbo's pathological::nc-dos-*), refused rather than
// evaluated.
const maxConstraintChecks = 250_000

// subtree is one GeneralSubtree of a name constraints extension.
type subtree struct {
	form int    // GeneralName tag
	text string // the constraint as written (DNS, email, URI domain), for messages
	ip   *net.IPNet
	dn   []rdn // directoryName
}

// String renders the constraint for messages.
func (s subtree) String() string {
	switch s.form {
	case gnIP:
		return "IP " + s.ip.String()
	case gnDirectoryName:
		return "DN " + s.text
	case gnDNS:
		if s.text == "" {
			return "DNS (every name)"
		}
		return "DNS " + s.text
	case gnRFC822:
		return "email " + s.text
	case gnURI:
		return "URI host " + s.text
	}
	return gnKindName(s.form)
}

// nameConstraints is a parsed name constraints extension.
type nameConstraints struct {
	permitted, excluded []subtree
}

// parseNameConstraints parses and validates a name constraints extension
// (RFC 5280 §4.2.1.10). Constraints crypto/x509 accepts but the RFC does
// not (a DNS constraint with a leading period, a wildcard) are errors.
func parseNameConstraints(der []byte) (*nameConstraints, error) {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, errors.New("not a SEQUENCE")
	}
	nc := &nameConstraints{}
	var havePermitted, haveExcluded bool
	var permitted, excluded cryptobyte.String
	if !seq.ReadOptionalASN1(&permitted, &havePermitted, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
		!seq.ReadOptionalASN1(&excluded, &haveExcluded, cbasn1.Tag(1).ContextSpecific().Constructed()) || !seq.Empty() {
		return nil, errors.New("malformed permittedSubtrees or excludedSubtrees")
	}
	if !havePermitted && !haveExcluded {
		return nil, errors.New("neither permittedSubtrees nor excludedSubtrees is present (an empty name constraints extension)")
	}
	var err error
	if havePermitted {
		if nc.permitted, err = parseSubtrees(permitted); err != nil {
			return nil, fmt.Errorf("permittedSubtrees: %w", err)
		}
	}
	if haveExcluded {
		if nc.excluded, err = parseSubtrees(excluded); err != nil {
			return nil, fmt.Errorf("excludedSubtrees: %w", err)
		}
	}
	return nc, nil
}

// parseSubtrees parses GeneralSubtrees (SIZE 1..MAX).
func parseSubtrees(s cryptobyte.String) ([]subtree, error) {
	if s.Empty() {
		return nil, errors.New("empty (GeneralSubtrees has at least one entry)")
	}
	var out []subtree
	for !s.Empty() {
		var st cryptobyte.String
		if !s.ReadASN1(&st, cbasn1.SEQUENCE) {
			return nil, errors.New("malformed GeneralSubtree")
		}
		gn, err := readGeneralName(&st)
		if err != nil {
			return nil, err
		}
		if !st.Empty() {
			// minimum (default 0) and maximum: RFC 5280 says minimum
			// MUST be zero and maximum MUST be absent.
			var minimum int64
			var present bool
			if !st.ReadOptionalASN1Integer(&minimum, cbasn1.Tag(0).ContextSpecific(), int64(0)) {
				return nil, errors.New("malformed minimum")
			}
			if st.PeekASN1Tag(cbasn1.Tag(1).ContextSpecific()) {
				present = true
			}
			if minimum != 0 || present || !st.Empty() {
				return nil, errors.New("a subtree with a minimum or maximum distance (RFC 5280: minimum MUST be 0, maximum MUST be absent)")
			}
		}
		t, err := parseConstraint(gn)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// parseConstraint validates one constraint's base name.
func parseConstraint(gn generalName) (subtree, error) {
	t := subtree{form: gn.tag}
	switch gn.tag {
	case gnDNS:
		d := string(gn.value)
		if d != "" && !validDNSConstraint(d) {
			return t, fmt.Errorf("dNSName constraint %q is not a host name (RFC 5280 §4.2.1.10 allows neither a leading period nor a wildcard)", clip(d))
		}
		t.text = strings.ToLower(d)
	case gnIP:
		n := len(gn.value)
		if n != 8 && n != 32 {
			return t, fmt.Errorf("iPAddress constraint of %d bytes is not an address and mask (8 bytes for IPv4, 32 for IPv6)", n)
		}
		ip, mask := net.IP(gn.value[:n/2]), net.IPMask(gn.value[n/2:])
		if ones, bits := mask.Size(); ones == 0 && bits == 0 && !allZero(mask) {
			return t, fmt.Errorf("iPAddress constraint %s with mask %s is not in CIDR form (the mask is not contiguous)", ip, net.IP(mask))
		}
		t.ip = &net.IPNet{IP: ip, Mask: mask}
	case gnRFC822:
		e := string(gn.value)
		if !validEmailConstraint(e) {
			return t, fmt.Errorf("rfc822Name constraint %q is not a mailbox, a host or a .domain", clip(e))
		}
		t.text = e
	case gnURI:
		d := string(gn.value)
		if d == "" || net.ParseIP(d) != nil || !validDNSConstraint(strings.TrimPrefix(d, ".")) {
			return t, fmt.Errorf("URI constraint %q is not a host or a .domain", clip(d))
		}
		t.text = strings.ToLower(d)
	case gnDirectoryName:
		dn, err := parseRDNs(gn.value)
		if err != nil {
			return t, fmt.Errorf("directoryName constraint: %w", err)
		}
		t.dn, t.text = dn, dnDisplay(gn.value)
	}
	// otherName, x400Address, ediPartyName, registeredID: kept by form; a
	// name of such a form below the CA cannot be checked and is refused.
	return t, nil
}

func allZero(b []byte) bool { return !slices.ContainsFunc(b, func(x byte) bool { return x != 0 }) }

// validDNSConstraint reports whether d is a host name in preferred syntax
// without a wildcard: labels of letters, digits and hyphens.
func validDNSConstraint(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, l := range strings.Split(d, ".") {
		if !ldhLabel(l) {
			return false
		}
	}
	return true
}

// ldhLabel reports whether l is a letter-digit-hyphen label (RFC 1123).
func ldhLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validEmailConstraint reports whether e is "local@host", "host" or
// ".host" (RFC 5280 §4.2.1.10).
func validEmailConstraint(e string) bool {
	if local, host, ok := strings.Cut(e, "@"); ok {
		return local != "" && !strings.Contains(host, "@") && validDNSConstraint(host)
	}
	return validDNSConstraint(strings.TrimPrefix(e, "."))
}

// validMailbox reports whether e is a plausible addr-spec: one "@", a
// local part and a host name.
func validMailbox(e string) bool {
	local, host, ok := strings.Cut(e, "@")
	return ok && local != "" && !strings.Contains(host, "@") && validDNSConstraint(host)
}

// rdn is one RelativeDistinguishedName: its attributes, normalised for
// comparison, sorted.
type rdn []string

// parseRDNs parses a DER Name into normalised RDNs.
func parseRDNs(der []byte) ([]rdn, error) {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, errors.New("malformed Name")
	}
	var out []rdn
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) {
			return nil, errors.New("malformed RDN")
		}
		var r rdn
		for !set.Empty() {
			var atv, oid cryptobyte.String
			var val cryptobyte.String
			var tag cbasn1.Tag
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) || !atv.ReadAnyASN1(&val, &tag) {
				return nil, errors.New("malformed attribute")
			}
			r = append(r, fmt.Sprintf("%x=%s", []byte(oid), normaliseValue(val, tag)))
		}
		slices.Sort(r)
		out = append(out, r)
	}
	return out, nil
}

// normaliseValue returns a directory string case-folded with whitespace
// collapsed (RFC 5280 §7.1, simplified), other values as hex.
func normaliseValue(v []byte, tag cbasn1.Tag) string {
	var s string
	switch tag {
	case cbasn1.UTF8String, cbasn1.PrintableString, cbasn1.IA5String, cbasn1.T61String:
		s = string(v)
	case 30: // BMPString
		if len(v)%2 != 0 {
			return fmt.Sprintf("#%x", v)
		}
		u := make([]uint16, len(v)/2)
		for i := range u {
			u[i] = uint16(v[2*i])<<8 | uint16(v[2*i+1])
		}
		s = string(utf16.Decode(u))
	default:
		return fmt.Sprintf("#%x", v)
	}
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// dnDisplay renders a DER Name as RFC 4514 text, for messages.
func dnDisplay(der []byte) string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		return fmt.Sprintf("(unreadable name %x)", der)
	}
	var n pkix.Name
	n.FillFromRDNSequence(&seq)
	return n.String()
}

// dnWithin reports whether name is within the subtree base: base is a
// prefix of name, RDN by RDN.
func dnWithin(name, base []rdn) bool {
	if len(base) > len(name) {
		return false
	}
	for i := range base {
		if !slices.Equal(name[i], base[i]) {
			return false
		}
	}
	return true
}

// dnsWithin reports whether the DNS name n is within the constraint c:
// n is c or a subdomain of it. Both are lower case; "" covers every name.
func dnsWithin(n, c string) bool {
	return c == "" || n == c || strings.HasSuffix(n, "."+c)
}

// wildcardMayMatch reports whether a wildcard name "*.d" could stand for a
// name within the constraint c: c is d or a parent of d (every name
// matches), or c is exactly one label below d (some name matches).
func wildcardMayMatch(d, c string) bool {
	if dnsWithin(d, c) {
		return true
	}
	head, rest, ok := strings.Cut(c, ".")
	return ok && head != "" && rest == d
}

// constrainedName is one name of a certificate in the form name
// constraints apply to. Directory names are parsed, and every name shown,
// only when a constraint needs it.
type constrainedName struct {
	form    int
	text    string // DNS (lower case), email, URI, IP text; "" until shown for a DN
	ip      net.IP
	raw     []byte // directoryName: the DER Name
	subject bool   // directoryName: the certificate's subject
	dn      []rdn
	dnErr   error
	parsed  bool
}

// rdns returns the directory name's RDNs, parsed once.
func (n *constrainedName) rdns() ([]rdn, error) {
	if !n.parsed {
		n.dn, n.dnErr = parseRDNs(n.raw)
		n.parsed = true
	}
	return n.dn, n.dnErr
}

// display shows the name in messages.
func (n *constrainedName) display() string {
	switch {
	case n.form == gnIP:
		return n.ip.String()
	case n.form != gnDirectoryName:
		return n.text
	case n.subject:
		return "subject " + dnDisplay(n.raw)
	}
	return "DN " + dnDisplay(n.raw)
}

// namesForConstraints lists the names of c that name constraints apply to
// (RFC 5280 §4.2.1.10): every SAN entry, the subject when it is not empty,
// and emailAddress attributes of the subject.
func (v *verifier) namesForConstraints(c *x509.Certificate) ([]constrainedName, error) {
	if n, ok := v.ncNames[c]; ok {
		return n, nil
	}
	f := v.factsOf(c)
	if f.sanErr != nil {
		return nil, fmt.Errorf("its subjectAltName does not parse: %v", f.sanErr)
	}
	out := make([]constrainedName, 0, len(f.sanNames)+1)
	for _, gn := range f.sanNames {
		n := constrainedName{form: gn.tag}
		switch gn.tag {
		case gnDNS:
			n.text = strings.ToLower(strings.TrimSuffix(string(gn.value), "."))
		case gnRFC822, gnURI:
			n.text = string(gn.value)
		case gnIP:
			n.ip = net.IP(gn.value)
		case gnDirectoryName:
			n.raw = gn.value
		default:
			n.text = gnKindName(gn.tag)
		}
		out = append(out, n)
	}
	if !f.emptySubject {
		out = append(out, constrainedName{form: gnDirectoryName, raw: c.RawSubject, subject: true})
		for _, a := range c.Subject.Names {
			if a.Type.Equal(oidEmailAttr) {
				if s, ok := a.Value.(string); ok {
					out = append(out, constrainedName{form: gnRFC822, text: s})
				}
			}
		}
	}
	if v.ncNames == nil {
		v.ncNames = make(map[*x509.Certificate][]constrainedName)
	}
	v.ncNames[c] = out
	return out, nil
}

// ncViolation is a name outside a CA's constraints.
type ncViolation struct {
	name       string // the name, as shown
	constraint string // the constraint it breaks, or why it cannot be checked
	excluded   bool   // matched an excluded subtree (else: outside every permitted one)
	dos        bool   // the comparison budget ran out
}

// checkConstraints checks the names of c against nc. It returns the first
// violation, or nil.
func (v *verifier) checkConstraints(c, ca *x509.Certificate, nc *nameConstraints) *ncViolation {
	k := [2]*x509.Certificate{c, ca}
	if r, ok := v.ncDone[k]; ok {
		return r
	}
	r := v.evalConstraints(c, nc)
	if v.ncDone == nil {
		v.ncDone = make(map[[2]*x509.Certificate]*ncViolation)
	}
	v.ncDone[k] = r
	return r
}

// evalConstraints is checkConstraints without the memo.
func (v *verifier) evalConstraints(c *x509.Certificate, nc *nameConstraints) *ncViolation {
	names, err := v.namesForConstraints(c)
	if err != nil {
		return &ncViolation{name: "(unreadable names)", constraint: err.Error()}
	}
	work := len(names) * (len(nc.permitted) + len(nc.excluded))
	if v.ncChecks+work > maxConstraintChecks {
		v.ncChecks = maxConstraintChecks
		return &ncViolation{dos: true, name: fmt.Sprintf("%d names", len(names)), constraint: fmt.Sprintf("%d constraints", len(nc.permitted)+len(nc.excluded))}
	}
	v.ncChecks += work
	for i := range names {
		n := &names[i]
		for _, st := range nc.excluded {
			if st.form != n.form {
				continue
			}
			match, unsupported := subtreeMatches(n, st, true)
			if unsupported {
				return &ncViolation{name: n.display(), constraint: fmt.Sprintf("the %s constraint (a name form tlskit cannot check, so it refuses the name, as RFC 5280 §4.2.1.10 requires)", gnKindName(st.form))}
			}
			if match {
				return &ncViolation{name: n.display(), constraint: st.String(), excluded: true}
			}
		}
		permittedForm, ok := false, false
		for _, st := range nc.permitted {
			if st.form != n.form {
				continue
			}
			permittedForm = true
			match, unsupported := subtreeMatches(n, st, false)
			if unsupported {
				return &ncViolation{name: n.display(), constraint: fmt.Sprintf("the %s constraint (a name form tlskit cannot check, so it refuses the name, as RFC 5280 §4.2.1.10 requires)", gnKindName(st.form))}
			}
			if match {
				ok = true
				break
			}
		}
		if permittedForm && !ok {
			var list []string
			for _, st := range nc.permitted {
				if st.form == n.form {
					list = append(list, st.String())
				}
			}
			return &ncViolation{name: n.display(), constraint: strings.Join(list, ", ")}
		}
	}
	return nil
}

// subtreeMatches reports whether the name n is within the subtree st.
// excluded says st is an excluded subtree: a wildcard DNS name is then
// refused when it could stand for a name within st (CVE-2025-61727),
// while for a permitted subtree every name it stands for must be within.
// unsupported reports a form that cannot be compared.
func subtreeMatches(n *constrainedName, st subtree, excluded bool) (match, unsupported bool) {
	switch st.form {
	case gnDNS:
		if d, ok := strings.CutPrefix(n.text, "*."); ok {
			if excluded {
				return wildcardMayMatch(d, st.text), false
			}
			return dnsWithin(d, st.text), false
		}
		return dnsWithin(n.text, st.text), false
	case gnIP:
		ip := n.ip
		if len(ip) != len(st.ip.IP) {
			return false, false // another family
		}
		for i := range ip {
			if ip[i]&st.ip.Mask[i] != st.ip.IP[i]&st.ip.Mask[i] {
				return false, false
			}
		}
		return true, false
	case gnRFC822:
		return emailWithin(n.text, st.text), false
	case gnURI:
		u, err := url.Parse(n.text)
		if err != nil || u.Host == "" {
			return excluded, false // unusable: refused under either kind of subtree
		}
		host := strings.ToLower(u.Hostname())
		if net.ParseIP(host) != nil {
			return excluded, false
		}
		if d, ok := strings.CutPrefix(st.text, "."); ok {
			return strings.HasSuffix(host, "."+d), false
		}
		return host == st.text, false
	case gnDirectoryName:
		dn, err := n.rdns()
		if err != nil {
			return excluded, false // unreadable: refused under either kind of subtree
		}
		return dnWithin(dn, st.dn), false
	}
	return false, true
}

// emailWithin reports whether the mailbox e is within the rfc822Name
// constraint c: the mailbox itself, every mailbox of a host, or of any
// host below a .domain. Asterisks are literal.
func emailWithin(e, c string) bool {
	local, host, ok := strings.Cut(e, "@")
	if !ok || strings.Contains(host, "@") {
		return false
	}
	if cl, ch, ok := strings.Cut(c, "@"); ok {
		return local == cl && strings.EqualFold(host, ch)
	}
	host = strings.ToLower(host)
	c = strings.ToLower(c)
	if d, ok := strings.CutPrefix(c, "."); ok {
		return strings.HasSuffix(host, "."+d)
	}
	return host == c
}
