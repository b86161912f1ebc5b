package trust

import (
	"bytes"
	"context"
	"crypto/dsa" // DSA signatures are diagnosed, never accepted
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tlskit/tlskit/finding"
)

// Result is the outcome of [Verifier.Verify] and [Verifier.Check].
type Result struct {
	// Sent is the chain as the peer sent it, leaf first (the certificates
	// that parsed; see Unparsed).
	Sent []*x509.Certificate
	// Unparsed lists the certificates of a [Request.DER] chain that do not
	// parse.
	Unparsed []Unparsed
	// Verified holds the paths from the leaf to a trust anchor that
	// validated (signatures, validity, CA status and key usage, path
	// length, name constraints, extended key usage, the profile's rules,
	// revocation with CRLs, the depth limit), shortest first. Checks of the
	// leaf alone and of the name and pins are reported as findings, not by
	// removing paths.
	Verified [][]*x509.Certificate
	// Profile is the profile the reported path was judged by.
	Profile Profile
	// OCSP describes the stapled OCSP response, when one was given.
	OCSP *OCSPStatus
	// Fetched lists what [Verifier.Fetch] fetched, and what each URL
	// served.
	Fetched []Fetched
	// Findings holds every problem and noteworthy fact found, errors first.
	// Errors make the chain untrusted; warnings and info do not.
	Findings []finding.Finding
	// Trusted is true when at least one path verified and no finding is
	// an error.
	Trusted bool
}

// Err returns nil when the chain is trusted and a [*VerifyError] otherwise.
func (r *Result) Err() error {
	if r.Trusted {
		return nil
	}
	e := &VerifyError{ID: finding.ChainInvalid, Findings: r.Findings, Chain: r.Sent}
	for _, f := range r.Findings {
		if f.Severity == finding.Error {
			e.ID, e.title = f.ID, f.Title
			break
		}
	}
	if e.title == "" {
		e.title = "the chain could not be verified"
	}
	for _, f := range r.Findings {
		if f.Severity == finding.Error {
			e.errors++
		}
	}
	return e
}

// VerifyError is the typed error for an untrusted chain. Use errors.As to
// get it, then switch on ID (a finding id such as [finding.PinMismatch]).
type VerifyError struct {
	// ID is the id of the first, most important, error finding.
	ID string
	// Findings is every finding of the verification, errors first.
	Findings []finding.Finding
	// Chain is the chain as the peer sent it, leaf first.
	Chain []*x509.Certificate
	// Err is an underlying error, if any. tlskit validates chains itself,
	// so a refusal carries its reasons in Findings and Err is nil.
	Err error

	title  string
	errors int
}

// Error returns one line a person understands, such as
// `trust: chain.incomplete: the server did not send the intermediate certificate "CN=Lab Intermediate" (fetch it from http://…)`.
func (e *VerifyError) Error() string {
	title := e.title
	if title == "" {
		for _, f := range e.Findings {
			if f.ID == e.ID {
				title = f.Title
				break
			}
		}
	}
	if r, n := utf8.DecodeRuneInString(title); n > 0 && unicode.IsUpper(r) && !strings.HasPrefix(title, "TLS") {
		title = string(unicode.ToLower(r)) + title[n:] // error strings are not capitalized
	}
	s := "trust: " + e.ID + ": " + title
	if e.errors > 1 {
		s += fmt.Sprintf(" (and %d more %s)", e.errors-1, plural(e.errors-1, "problem"))
	}
	return s
}

// Unwrap returns the underlying error, if any.
func (e *VerifyError) Unwrap() error { return e.Err }

// Verify checks chain (as the peer sent it, leaf first) for host at time at
// (zero means time.Now). host is a DNS name or an IP address (checked
// against the IP SANs). For a server chain an empty host with no
// [Verifier.Names] checks no name, and says so in a [finding.NameNotChecked]
// warning: use it only where the name is unknowable (a capture without
// SNI); connections get their name from [ServerName]. A client chain is
// checked against Names only.
//
// Verify never stops at the first problem: it collects every finding it can
// prove. The anchors are loaded once per [Anchors] and reused. It is
// [Verifier.Check] with only a chain, a name and a time.
func (p *Verifier) Verify(chain []*x509.Certificate, host string, at time.Time) *Result {
	return p.Check(Request{Chain: chain, Name: host, Time: at})
}

// Request is one verification: what a peer presented and what it is
// checked for.
type Request struct {
	// Chain is the peer's chain, parsed, leaf first. Give it or DER.
	Chain []*x509.Certificate
	// DER is the peer's chain as sent, leaf first; it is parsed here, and
	// a certificate that does not parse is reported as
	// [finding.CertUnparseable] (which one, and the parser's error)
	// rather than dropped silently. Used when Chain is nil.
	DER [][]byte
	// Name is the name to verify, as for [Verifier.Verify].
	Name string
	// Time is the verification time; zero means time.Now.
	Time time.Time
	// OCSP is a stapled OCSP response (RFC 6066, RFC 8446 §4.4.2.1), if
	// the peer sent one: it is validated and reported.
	OCSP []byte
	// Stapling says the peer was asked for an OCSP staple, so that a
	// must-staple leaf without one is a finding ([finding.OCSPMustStaple]).
	Stapling bool
	// Context bounds what [Verifier.Fetch] fetches; nil means
	// context.Background.
	Context context.Context
}

// Check verifies what req describes: it builds every path from the leaf to
// a trust anchor the way a client does (each candidate issuer among the
// anchors and the sent certificates, anchors first, backtracking when a
// path fails), validates each (RFC 5280 §6 and the [Profile]), stops at the
// first path that satisfies the policy, and when none does, explains the
// path that got furthest from the results of that same search.
func (p *Verifier) Check(req Request) *Result {
	return p.verify(p.Anchors.resolve(), req)
}

// noClientCert is the error of a required client certificate that was not
// sent.
func noClientCert() error {
	f := finding.Finding{
		ID:       finding.ClientCertRequired,
		Severity: finding.Error,
		Title:    "the client sent no certificate, and one is required",
		Detail:   "this server requires a client certificate (mTLS); the client's Certificate message was empty",
		Fix:      "configure the client with a certificate issued by a CA this server trusts",
	}
	return &VerifyError{ID: f.ID, Findings: []finding.Finding{f}, title: f.Title, errors: 1}
}

// verify is Check with the anchors already loaded.
func (p *Verifier) verify(a *anchorSet, req Request) *Result {
	at := req.Time
	if at.IsZero() {
		at = time.Now()
	}
	// Certificate dates have a resolution of one second and are
	// inclusive (RFC 5280 §4.1.2.5): compare at that resolution.
	at = at.Truncate(time.Second)
	r := &Result{}
	v := &verifier{p: p, a: a, at: at, host: req.Name, usage: p.usage(), r: r, req: req}
	v.crls = p.CRLs
	chain := req.Chain
	if chain == nil && req.DER != nil {
		chain = v.parseDER(req.DER)
	}
	r.Sent = chain
	for _, c := range chain {
		if c != nil {
			v.sent = append(v.sent, c)
		}
	}
	r.Findings = append(r.Findings, a.problems...)
	if len(v.sent) == 0 {
		if len(r.Unparsed) == 0 {
			v.add(finding.Finding{
				ID:       finding.ChainInvalid,
				Severity: finding.Error,
				Title:    "the peer sent no certificate",
				Detail:   "the certificate list is empty, so there is nothing to verify",
				Fix:      "configure a certificate on the peer",
			})
		}
		finding.Tidy(r.Findings)
		finding.Sort(r.Findings)
		return r
	}
	v.run()
	finding.Tidy(r.Findings)
	finding.Sort(r.Findings)
	r.Trusted = len(r.Verified) > 0 && finding.Worst(r.Findings) != finding.Error
	return r
}

// parseDER parses the certificates as sent, reporting each one that does
// not parse. The leaf position stays the first certificate that parses
// only when the leaf itself parsed; otherwise nothing can be verified.
func (v *verifier) parseDER(ders [][]byte) []*x509.Certificate {
	var out []*x509.Certificate
	for i, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			v.r.Unparsed = append(v.r.Unparsed, Unparsed{Index: i, DER: der, Err: err})
			what := fmt.Sprintf("certificate #%d", i+1)
			if i == 0 {
				what = "the leaf (certificate #1)"
			}
			v.add(finding.Finding{
				ID:       finding.CertUnparseable,
				Severity: finding.Error,
				Title:    fmt.Sprintf("%s the %s sent does not parse", what, v.peer()),
				Detail:   fmt.Sprintf("%d bytes; the parser says: %v. A certificate that does not parse cannot be on a verified path; every client refuses it or, worse, ignores it", len(der), strings.TrimPrefix(err.Error(), "x509: ")),
				Fix:      "replace it with a correctly encoded certificate (re-export it from the CA, or re-issue it)",
				Evidence: []string{"sha256 " + fingerprint(der)},
			})
			if i == 0 {
				return nil
			}
			continue
		}
		out = append(out, c)
	}
	return out
}

// Unparsed is a certificate the peer sent that does not parse.
type Unparsed struct {
	// Index is its position in the sent chain, from 0.
	Index int
	// DER is the certificate as sent.
	DER []byte
	// Err is the parser's error.
	Err error
}

// verifier holds the state of one verification.
type verifier struct {
	p     *Verifier
	a     *anchorSet
	sent  []*x509.Certificate
	at    time.Time
	host  string
	usage x509.ExtKeyUsage
	r     *Result
	req   Request
	crls  []*CRL

	sigs      map[[2]*x509.Certificate]bool // memoised signedBy results
	namesOnly bool                          // paths follow names and key ids; signatures unchecked
	sigChecks int                           // signature checks spent
	exhausted bool                          // the budget ran out

	facts    map[*x509.Certificate]*facts
	wheres   map[*x509.Certificate]string // where() results
	ncNames  map[*x509.Certificate][]constrainedName
	ncChecks int
	ncDone   map[[2]*x509.Certificate]*ncViolation // checkConstraints results

	bySubject map[string][]*x509.Certificate // sent (and fetched) certificates by subject
	crlDepth  int                            // >0 while the certificate of a CRL's signer is checked
	fetched   []*x509.Certificate            // certificates --fetch brought
	crlBytes  int64                          // the bytes of the CRLs --fetch brought
	search    searchState
}

// maxSigChecks bounds the signature checks of one verification, so that a
// peer sending many certificates with the same name (a quadratic path
// building attack) cannot make Verify slow. crypto/x509 has a similar
// budget of its own.
const maxSigChecks = 256

// signedBy is the package's signedBy, memoised and within the budget.
func (v *verifier) signedBy(child, parent *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false
	}
	if v.namesOnly {
		// The name already refuses the chain: follow issuer names and
		// key identifiers, without the cost of signatures.
		return len(child.AuthorityKeyId) == 0 || len(parent.SubjectKeyId) == 0 || bytes.Equal(child.AuthorityKeyId, parent.SubjectKeyId)
	}
	k := [2]*x509.Certificate{child, parent}
	if ok, seen := v.sigs[k]; seen {
		return ok
	}
	if v.sigChecks >= maxSigChecks {
		v.exhausted = true
		return false
	}
	v.sigChecks++
	if v.sigs == nil {
		v.sigs = make(map[[2]*x509.Certificate]bool)
	}
	ok := signedBy(child, parent)
	v.sigs[k] = ok
	return ok
}

// isSelfSigned is the package's isSelfSigned, memoised.
func (v *verifier) isSelfSigned(c *x509.Certificate) bool { return v.signedBy(c, c) }

// add records a finding.
func (v *verifier) add(f finding.Finding) { v.r.Findings = append(v.r.Findings, f) }

// profileFor returns the profile of a path ending at anchor (nil: a path
// that reaches no anchor).
func (v *verifier) profileFor(anchor *x509.Certificate) Profile {
	if v.p.Profile != ProfileAuto {
		return v.p.Profile
	}
	if anchor != nil {
		if v.a.system[anchor] {
			return ProfileWebPKI
		}
		return ProfileRFC5280
	}
	if len(v.a.system) > 0 && len(v.a.system) == len(v.a.certs) {
		return ProfileWebPKI
	}
	return ProfileRFC5280
}

// run performs the verification and its diagnosis in one pass.
func (v *verifier) run() {
	leaf := v.sent[0]
	// The name first: it needs no path, and it is the cheapest refusal.
	// When it refuses the chain, the search that explains the rest
	// follows issuer names and key identifiers only: no signature can
	// make the chain trusted any more (crypto/x509 stops there too).
	nameFinding := v.checkName(leaf)
	v.namesOnly = nameFinding != nil && nameFinding.Severity == finding.Error
	noAnchors := len(v.a.certs) == 0
	if !noAnchors {
		v.build(leaf)
	}
	s := &v.search
	var path []*x509.Certificate
	var prof Profile
	var probs []problem
	var then *attempt // a second end to explain, after the problems
	leafAnchor := false
	if len(s.accepted) > 0 {
		best := s.accepted[0]
		// Its warnings and infos of every kind (the search kept errors).
		path, prof = best.path, best.prof
		probs = v.pathProblems(path, true, prof, checkAll)
		leafAnchor = len(path) == 1
		if !v.namesOnly {
			for _, acc := range s.accepted {
				v.r.Verified = append(v.r.Verified, acc.path)
			}
			slices.SortStableFunc(v.r.Verified, func(x, y []*x509.Certificate) int { return len(x) - len(y) })
		}
	} else {
		att := v.reported(leaf)
		path, prof, probs = att.path, att.prof, att.probs
		leafAnchor = att.end == endAnchor && len(path) == 1
		if !noAnchors {
			switch {
			case att.end != endPruned:
				v.endFinding(att)
			case att.contEnd != endAnchor:
				// The pruned path would not have reached an anchor
				// either: say where it ends too, after its problems.
				then = &attempt{path: append(slices.Clone(att.path), att.cont...), end: att.contEnd,
					nameOnly: v.nameOnly(lastOf(att.path, att.cont)), loop: att.contLoop}
			}
			path = append(slices.Clone(att.path), att.cont...)
		}
	}
	v.r.Profile = prof
	// The report's order: how the path ended, what a client refuses it
	// for, the order it was sent in, the name, then encoding rules.
	all := append(v.leafProblems(leaf, prof, leafAnchor), probs...)
	slices.SortStableFunc(all, func(x, y problem) int { return kindRank(x.kind) - kindRank(y.kind) })
	var rules []problem
	for _, pr := range all {
		if kindRank(pr.kind) >= rankRules {
			rules = append(rules, pr)
			continue
		}
		v.add(v.problemFinding(pr, path))
	}
	if then != nil {
		v.endFinding(then)
	}
	misplaced := v.checkOrder(path)
	v.checkExtras(path, misplaced)
	if nameFinding != nil {
		if v.namesOnly && len(v.r.Findings) > 0 {
			nameFinding.Detail += ". The other findings follow the issuers' names and key identifiers; their signatures were not checked, since the name alone refuses the chain"
		}
		v.add(*nameFinding)
	}
	for _, pr := range rules {
		v.add(v.problemFinding(pr, path))
	}
	if len(v.r.Verified) > 0 {
		v.checkOCSP(path)
	}
	v.checkPins()
	v.reportFetches()
}

// reported returns the failed path to explain, with its problems: the
// best the search found whose last link is real. A pruned path's last
// certificate was checked before its signature (a client prunes it
// without one); its signature is checked now, and a path whose last
// certificate did not sign turns into the dead end it is.
func (v *verifier) reported(leaf *x509.Certificate) *attempt {
	s := &v.search
	tried := map[*attempt]bool{}
	for range len(s.failed) + 1 {
		att := s.best
		if att == nil {
			return &attempt{path: []*x509.Certificate{leaf}, end: endMissing, prof: v.profileFor(nil)}
		}
		n := len(att.path)
		if att.end == endPruned && !v.signedBy(att.path[n-2], att.path[n-1]) && !v.exhausted {
			tried[att] = true
			d := v.deadEnd(att.path[:n-1], endMissing)
			s.best = nil
			for _, f := range s.failed {
				if !tried[f] && (s.best == nil || f.better(s.best)) {
					s.best = f
				}
			}
			if s.best == nil || d.better(s.best) {
				s.best = d
			}
			continue
		}
		var anchor *x509.Certificate
		switch {
		case att.end == endAnchor || att.end == endPruned && att.anchor:
			anchor = att.path[n-1]
		case att.end == endPruned && att.contEnd == endAnchor && len(att.cont) > 0:
			anchor = att.cont[len(att.cont)-1]
		}
		att.prof = v.profileFor(anchor)
		if att.end != endAnchor {
			att.probs = v.pathProblems(att.path, att.end == endPruned && att.anchor, att.prof, checkAll)
		}
		return att
	}
	return s.best
}

// lastOf returns the last certificate of path followed by more.
func lastOf(path, more []*x509.Certificate) *x509.Certificate {
	if len(more) > 0 {
		return more[len(more)-1]
	}
	return path[len(path)-1]
}

// endFinding explains how the best failed path ended.
func (v *verifier) endFinding(att *attempt) {
	path := att.path
	last := path[len(path)-1]
	if (att.end == endMissing || att.end == endSelfSigned) && v.factsOf(last).emptyIssuer {
		return // its empty issuer name is the finding (cert.nonconforming)
	}
	switch att.end {
	case endSelfSigned:
		if len(path) == 1 {
			v.selfSigned(last)
		} else {
			v.untrustedRoot(path, nil)
		}
	case endMissing:
		if len(path) == 1 || !last.IsCA {
			v.incomplete(last, att.nameOnly)
		} else {
			v.untrustedRoot(path, att.nameOnly)
		}
	case endCycle:
		v.cycle(path, att.loop)
	case endDeep:
		v.tooDeep(path)
	case endBudget:
		v.budget(path)
	}
}

// validAt reports whether c is within its validity period at the
// verification time.
func (v *verifier) validAt(c *x509.Certificate) bool {
	return !v.at.Before(c.NotBefore) && !v.at.After(c.NotAfter)
}

// isAnchor reports whether c is a trust anchor: the same subject and key as
// an anchor.
func (v *verifier) isAnchor(c *x509.Certificate) bool {
	return v.anchorEquivalent(c) != nil
}

// sameKeyAndName reports whether a and b have the same subject and public key.
func sameKeyAndName(a, b *x509.Certificate) bool {
	return bytes.Equal(a.RawSubject, b.RawSubject) && bytes.Equal(a.RawSubjectPublicKeyInfo, b.RawSubjectPublicKeyInfo)
}

// signedBy reports whether parent issued child: the names chain and
// parent's key verifies child's signature. Signatures crypto/x509 refuses
// to check at all (MD5) count when the key identifiers agree, so that the
// weak algorithm can be named rather than the chain called broken.
func signedBy(child, parent *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false
	}
	err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	if err == nil {
		return true
	}
	var insecure x509.InsecureAlgorithmError
	_, dsaKey := parent.PublicKey.(*dsa.PublicKey)
	if errors.As(err, &insecure) && weakSignature(child.SignatureAlgorithm) || errors.Is(err, x509.ErrUnsupportedAlgorithm) && dsaKey {
		return len(child.AuthorityKeyId) == 0 || bytes.Equal(child.AuthorityKeyId, parent.SubjectKeyId)
	}
	return false
}

// isSelfSigned reports whether c is issued by its own subject and key.
func isSelfSigned(c *x509.Certificate) bool {
	return signedBy(c, c)
}

// weakSignature reports whether alg is a signature algorithm crypto/x509
// and browsers no longer accept.
func weakSignature(alg x509.SignatureAlgorithm) bool {
	switch alg {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.DSAWithSHA256, x509.ECDSAWithSHA1:
		return true
	}
	return false
}
