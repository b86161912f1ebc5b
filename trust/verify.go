package trust

import (
	"bytes"
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

// Result is the outcome of [Verifier.Verify].
type Result struct {
	// Sent is the chain as the peer sent it, leaf first.
	Sent []*x509.Certificate
	// Verified holds the paths from the leaf to a trust anchor that
	// crypto/x509 validated (signatures, validity, key usage) and that
	// respect MaxIntermediates, shortest first. Name and pin checks are
	// reported as findings, not by removing paths.
	Verified [][]*x509.Certificate
	// Findings holds every problem and noteworthy fact found, errors first.
	// Errors make the chain untrusted; warnings and info do not.
	Findings []finding.Finding
	// Trusted is true when at least one path verified and no finding is
	// an error.
	Trusted bool

	err error // the underlying crypto/x509 error, if any
}

// Err returns nil when the chain is trusted and a [*VerifyError] otherwise.
func (r *Result) Err() error {
	if r.Trusted {
		return nil
	}
	e := &VerifyError{ID: finding.ChainInvalid, Findings: r.Findings, Chain: r.Sent, Err: r.err}
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
	// Err is the underlying crypto/x509 error, if any.
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

// Unwrap returns the underlying crypto/x509 error, if any.
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
// prove. The anchors are loaded once per [Anchors] and reused.
func (p *Verifier) Verify(chain []*x509.Certificate, host string, at time.Time) *Result {
	return p.verify(p.Anchors.resolve(), chain, host, at)
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

// verify is Verify with the anchors already loaded.
func (p *Verifier) verify(a *anchorSet, chain []*x509.Certificate, host string, at time.Time) *Result {
	if at.IsZero() {
		at = time.Now()
	}
	r := &Result{Sent: chain}
	v := &verifier{p: p, a: a, at: at, host: host, usage: p.usage(), r: r}
	for _, c := range chain {
		if c != nil {
			v.sent = append(v.sent, c)
		}
	}
	r.Findings = append(r.Findings, a.problems...)
	if len(v.sent) == 0 {
		v.add(finding.Finding{
			ID:       finding.ChainInvalid,
			Severity: finding.Error,
			Title:    "the peer sent no certificate",
			Detail:   "the certificate list is empty, so there is nothing to verify",
			Fix:      "configure a certificate on the peer",
		})
		finding.Tidy(r.Findings)
		return r
	}
	v.run()
	finding.Tidy(r.Findings)
	finding.Sort(r.Findings)
	r.Trusted = len(r.Verified) > 0 && finding.Worst(r.Findings) != finding.Error
	return r
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

	sigs      map[[2]*x509.Certificate]bool // memoised signedBy results
	sigChecks int                           // signature checks spent
	exhausted bool                          // the budget ran out
}

// maxSigChecks bounds the signature checks of one diagnosis, so that a
// peer sending many certificates with the same name (a quadratic path
// building attack) cannot make Verify slow. crypto/x509 has a similar
// budget of its own.
const maxSigChecks = 200

// signedBy is the package's signedBy, memoised and within the budget.
func (v *verifier) signedBy(child, parent *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false
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

// opts returns crypto/x509 options for this verification.
func (v *verifier) opts(at time.Time, usage x509.ExtKeyUsage) x509.VerifyOptions {
	inter := x509.NewCertPool()
	for _, c := range v.sent[1:] {
		inter.AddCert(c)
	}
	return x509.VerifyOptions{
		Roots:         v.a.pool, // never nil: a nil pool would mean the system roots
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{usage},
	}
}

// run performs the verification and the diagnosis.
func (v *verifier) run() {
	leaf := v.sent[0]
	var (
		chains [][]*x509.Certificate
		err    error
	)
	if len(v.a.certs) > 0 {
		chains, err = leaf.Verify(v.opts(v.at, v.usage))
	} else {
		err = errors.New("trust: no trust anchors")
	}
	v.r.err = err
	slices.SortStableFunc(chains, func(x, y []*x509.Certificate) int { return len(x) - len(y) })

	var best []*x509.Certificate
	switch {
	case err == nil:
		best = chains[0]
		max := v.p.MaxIntermediates
		for _, c := range chains {
			if max <= 0 || len(c)-2 <= max {
				v.r.Verified = append(v.r.Verified, c)
			}
		}
		if len(v.r.Verified) == 0 {
			v.tooLong(best)
		}
		v.checkWeakKeys(best, true)
	default:
		best = v.diagnose(err)
	}
	misplaced := v.checkOrder(best)
	v.checkExtras(best, misplaced)
	v.checkName(leaf)
	v.checkPins()
}

// diagnose explains why crypto/x509 rejected the chain, and returns the
// path the explanation is about.
func (v *verifier) diagnose(err error) []*x509.Certificate {
	w := v.walk()
	before := len(v.r.Findings)
	noAnchors := len(v.a.certs) == 0
	if v.exhausted {
		v.add(finding.Finding{
			ID:       finding.ChainInvalid,
			Severity: finding.Error,
			Title:    "crypto/x509 rejected the chain: " + err.Error(),
			Detail:   fmt.Sprintf("the peer sent %d certificates, many sharing a name, and the diagnosis stopped after %d signature checks; crypto/x509 says: %v", len(v.sent), maxSigChecks, err),
			Fix:      "send only the leaf and the intermediates on its path to the root",
		})
		return w.path
	}
	switch w.end {
	case endSelfSigned:
		if !noAnchors {
			if len(w.path) == 1 {
				v.selfSigned(w.path[0])
			} else {
				v.untrustedRoot(w.path, nil)
			}
		}
	case endMissing:
		if !noAnchors {
			last := w.path[len(w.path)-1]
			if len(w.path) == 1 || !last.IsCA {
				v.incomplete(last, w.nameOnly)
			} else {
				v.untrustedRoot(w.path, w.nameOnly)
			}
		}
	case endLoop:
		v.add(finding.Finding{
			ID:       finding.ChainInvalid,
			Severity: finding.Error,
			Title:    "the certificates issue each other in a loop",
			Detail:   fmt.Sprintf("following issuers from the leaf returns to a certificate already seen; crypto/x509 says: %v", err),
			Fix:      "send a chain that ends at a root the client trusts",
		})
	}
	anchored := w.end == endAnchor
	v.checkPath(w.path, anchored)
	v.checkWeakKeys(w.path, anchored)
	if anchored && v.p.MaxIntermediates > 0 && len(w.path)-2 > v.p.MaxIntermediates {
		v.tooLong(w.path)
	}

	// Did the findings so far explain crypto/x509's refusal? Weak keys,
	// names and pins are not things it checks.
	explained, timeOnly := false, true
	for _, f := range v.r.Findings[before:] {
		if f.Severity != finding.Error || f.ID == finding.CertWeakKey || f.ID == finding.ChainTooLong {
			continue
		}
		explained = true
		if f.ID != finding.CertExpired && f.ID != finding.CertNotYetValid {
			timeOnly = false
		}
	}
	switch {
	case noAnchors:
	case !explained:
		// Variation: is it the key usage of an intermediate?
		if _, err2 := v.sent[0].Verify(v.opts(v.at, x509.ExtKeyUsageAny)); err2 == nil {
			v.add(finding.Finding{
				ID:       finding.CertWrongEKU,
				Severity: finding.Error,
				Title:    fmt.Sprintf("the chain is not valid for %s", ekuName(v.usage)),
				Detail:   fmt.Sprintf("crypto/x509 accepts the chain for any usage but not for %s: %v", ekuName(v.usage), err),
				Fix:      "get a certificate (and intermediate) issued for this usage",
			})
			break
		}
		v.invalid(err)
	case timeOnly && anchored:
		// Variation: verify at a time when every certificate of the path
		// is valid, to find problems hidden behind the dates.
		if t, ok := commonTime(w.path); ok {
			if _, err2 := v.sent[0].Verify(v.opts(t, x509.ExtKeyUsageAny)); err2 != nil {
				v.invalid(err2)
			}
		}
	}
	return w.path
}

// invalid records a failure crypto/x509 reports that no other finding
// explains.
func (v *verifier) invalid(err error) {
	v.add(finding.Finding{
		ID:       finding.ChainInvalid,
		Severity: finding.Error,
		Title:    "crypto/x509 rejected the chain: " + err.Error(),
		Detail:   "the chain's structure, dates, key usages and signature algorithms look right, but crypto/x509 refuses it (name constraints, path length, or a malformed certificate): " + err.Error(),
		Fix:      "inspect the chain with `openssl verify -show_chain`; the CA may have issued a certificate outside its constraints",
	})
}

// commonTime returns a time at which every certificate of path is valid.
func commonTime(path []*x509.Certificate) (time.Time, bool) {
	var from, to time.Time
	for i, c := range path {
		if i == 0 || c.NotBefore.After(from) {
			from = c.NotBefore
		}
		if i == 0 || c.NotAfter.Before(to) {
			to = c.NotAfter
		}
	}
	if from.After(to) {
		return time.Time{}, false
	}
	if t := from.Add(time.Second); !t.After(to) {
		return t, true
	}
	return from, true
}

// walk ends.
const (
	endAnchor     = iota // the path reaches a trust anchor
	endSelfSigned        // the path ends at a self-signed certificate that is not an anchor
	endMissing           // the last certificate's issuer is neither sent nor an anchor
	endLoop              // the issuers loop
)

// walkResult is the path the peer's certificates and the anchors form.
type walkResult struct {
	path []*x509.Certificate
	end  int
	// nameOnly are certificates whose subject is the missing issuer's name
	// but whose key did not sign the last certificate.
	nameOnly []*x509.Certificate
}

// walk follows issuers from the leaf through the sent certificates and the
// anchors, preferring anchors and certificates valid at the verification
// time, as crypto/x509's path builder does. It relies on x509's own
// signature checks and never re-implements them.
func (v *verifier) walk() walkResult {
	cur := v.sent[0]
	w := walkResult{path: []*x509.Certificate{cur}}
	used := map[*x509.Certificate]bool{cur: true}
	for range len(v.sent) + len(v.a.certs) + 1 {
		if v.isAnchor(cur) {
			w.end = endAnchor
			return w
		}
		var next *x509.Certificate
		for _, a := range v.a.certs {
			if v.signedBy(cur, a) && (next == nil || v.validAt(a) && !v.validAt(next)) {
				next = a
			}
		}
		if next != nil {
			w.path = append(w.path, next)
			w.end = endAnchor
			return w
		}
		if v.isSelfSigned(cur) {
			w.end = endSelfSigned
			return w
		}
		for _, s := range v.sent[1:] {
			if used[s] || !v.signedBy(cur, s) {
				continue
			}
			if next == nil || v.validAt(s) && !v.validAt(next) {
				next = s
			}
		}
		if next == nil {
			for _, c := range append(slices.Clone(v.a.certs), v.sent...) {
				if bytes.Equal(c.RawSubject, cur.RawIssuer) && c != cur {
					w.nameOnly = append(w.nameOnly, c)
				}
			}
			w.end = endMissing
			return w
		}
		w.path = append(w.path, next)
		used[next] = true
		cur = next
	}
	w.end = endLoop
	return w
}

// validAt reports whether c is within its validity period at the
// verification time.
func (v *verifier) validAt(c *x509.Certificate) bool {
	return !v.at.Before(c.NotBefore) && !v.at.After(c.NotAfter)
}

// isAnchor reports whether c is a trust anchor: the same subject and key as
// an anchor.
func (v *verifier) isAnchor(c *x509.Certificate) bool {
	return slices.ContainsFunc(v.a.certs, func(a *x509.Certificate) bool { return sameKeyAndName(a, c) })
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
	if errors.As(err, &insecure) && weakSignature(child.SignatureAlgorithm) {
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
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return true
	}
	return false
}
