package trust

import (
	"bytes"
	"crypto/x509"
	"slices"
)

// How a path the search tried ended.
type endKind int

const (
	endAnchor     endKind = iota // it reached a trust anchor
	endPruned                    // its last certificate cannot be used (a problem a client prunes on)
	endMissing                   // the last certificate's issuer is neither sent nor an anchor
	endSelfSigned                // it ends at a self-signed certificate that is not an anchor
	endCycle                     // every issuer of the last certificate is already on the path
	endDeep                      // longer than any path tlskit builds
	endBudget                    // the search budget ran out
)

// Bounds of one search. Real chains have at most a handful of
// certificates; these stop hostile ones (x509-limbo's pathological cases,
// BetterTLS's bridge PKI) from costing more than a few milliseconds.
const (
	maxPathCerts   = 18   // 16 intermediates between leaf and anchor
	maxSearchSteps = 1024 // paths extended by one certificate
	maxAccepted    = 8    // valid paths kept when pins are checked
)

// attempt is one path the search tried, how it ended, and what is wrong
// with it.
type attempt struct {
	path     []*x509.Certificate
	end      endKind
	prof     Profile
	probs    []problem           // what made it fail (for the report, see report)
	anchor   bool                // endPruned: its last certificate is an anchor
	nameOnly []*x509.Certificate // endMissing: certificates with the issuer's name but not its key
	loop     *x509.Certificate   // endCycle: the certificate the path would return to

	// A pruned path, continued by issuer names and key identifiers (no
	// signature, no check) to see where it leads: to an anchor, or not.
	cont     []*x509.Certificate
	contEnd  endKind
	contLoop *x509.Certificate
}

// reachesAnchor reports whether the path reaches a trust anchor, checked
// or by names.
func (a *attempt) reachesAnchor() bool {
	return a.end == endAnchor || a.end == endPruned && (a.anchor || a.contEnd == endAnchor)
}

// firstError returns the position where the path first fails (where a
// client that prunes stops) and the number of errors.
func (a *attempt) firstError() (first, count int) {
	first = len(a.path) // a dead end fails past its last certificate
	if a.end == endAnchor {
		first = len(a.path) + 1
	}
	for _, p := range a.probs {
		if !p.isError() {
			continue
		}
		count++
		if p.at < first {
			first = p.at
		}
	}
	return first, count
}

// better reports whether a explains a failure better than b: a path that
// reaches an anchor beats one that does not (it shows the way to a trusted
// root and what breaks it); then the path that got furthest from the leaf
// before its first problem (where a client that prunes bad issuers stops);
// then fewer problems; then the shorter path.
func (a *attempt) better(b *attempt) bool {
	if a.reachesAnchor() != b.reachesAnchor() {
		return a.reachesAnchor()
	}
	af, ac := a.firstError()
	bf, bc := b.firstError()
	if af != bf {
		return af > bf
	}
	if ac != bc {
		return ac < bc
	}
	return len(a.path) < len(b.path)
}

// searchState is what the search found.
type searchState struct {
	accepted []*attempt // valid paths, in the order found
	best     *attempt   // the best failed path
	failed   []*attempt // failed paths, for when the best turns out unusable
	steps    int
}

// note records a failed path.
func (v *verifier) note(a *attempt) {
	s := &v.search
	if a.end == endPruned {
		v.continueByName(a)
	}
	s.failed = append(s.failed, a)
	if s.best == nil || a.better(s.best) {
		s.best = a
	}
}

// build searches paths from leaf to an anchor, depth first, and stops at
// the first valid one (with pins: the first valid one they match).
func (v *verifier) build(leaf *x509.Certificate) {
	v.bySubject = make(map[string][]*x509.Certificate, len(v.sent))
	for _, c := range v.sent[1:] {
		k := string(c.RawSubject)
		if !slices.Contains(v.bySubject[k], c) {
			v.bySubject[k] = append(v.bySubject[k], c)
		}
	}
	// A leaf that is itself a trust anchor (a certificate trusted
	// directly) is a path of one.
	if a := v.anchorEquivalent(leaf); a != nil {
		if v.complete([]*x509.Certificate{leaf}, a) {
			return
		}
	}
	v.extend([]*x509.Certificate{leaf})
}

// anchorEquivalent returns the anchor with c's subject and key, or nil.
func (v *verifier) anchorEquivalent(c *x509.Certificate) *x509.Certificate {
	for _, a := range v.a.bySubject[string(c.RawSubject)] {
		if bytes.Equal(a.RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo) {
			return a
		}
	}
	return nil
}

// complete judges a path that reached anchor, whose every certificate
// passed the checks a client prunes on: what remains are the profile's
// rules. It reports whether the search is done.
func (v *verifier) complete(path []*x509.Certificate, anchor *x509.Certificate) bool {
	prof := v.profileFor(anchor)
	a := &attempt{path: path, end: endAnchor, prof: prof, probs: v.pathProblems(path, true, prof, checkProfile)}
	if slices.ContainsFunc(a.probs, problem.isError) {
		v.note(a)
		return false
	}
	s := &v.search
	s.accepted = append(s.accepted, a)
	if len(v.p.Pins) == 0 || v.namesOnly || v.pinned(path) {
		return true
	}
	return len(s.accepted) >= maxAccepted
}

// pinned reports whether a pin matches a certificate of path.
func (v *verifier) pinned(path []*x509.Certificate) bool {
	return slices.ContainsFunc(path, func(c *x509.Certificate) bool { return slices.Contains(v.p.Pins, PinOf(c)) })
}

// candidate is a possible issuer of the path's last certificate.
type candidate struct {
	cert   *x509.Certificate
	anchor bool
	rank   int
}

// candidates lists the possible issuers of c by name, in the order a client
// tries them: anchors first (the shortest way to trust), then sent
// certificates whose subject key identifier matches c's authority key
// identifier, that are valid now and are CAs, in the order sent.
func (v *verifier) candidates(c *x509.Certificate) []candidate {
	var out []candidate
	rank := func(p *x509.Certificate) int {
		r := 0
		switch {
		case len(c.AuthorityKeyId) > 0 && len(p.SubjectKeyId) > 0 && !bytes.Equal(c.AuthorityKeyId, p.SubjectKeyId):
			r += 4
		case len(c.AuthorityKeyId) == 0 || len(p.SubjectKeyId) == 0:
			r += 2
		}
		if !v.validAt(p) {
			r += 8
		}
		if !p.BasicConstraintsValid || !p.IsCA {
			r++
		}
		return r
	}
	for _, a := range v.a.bySubject[string(c.RawIssuer)] {
		out = append(out, candidate{cert: a, anchor: true, rank: rank(a)})
	}
	for _, s := range v.bySubject[string(c.RawIssuer)] {
		if s == c || v.anchorEquivalent(s) != nil {
			continue // the anchor with this name and key is tried already
		}
		out = append(out, candidate{cert: s, rank: rank(s)})
	}
	slices.SortStableFunc(out, func(x, y candidate) int {
		if x.anchor != y.anchor {
			if x.anchor {
				return -1
			}
			return 1
		}
		return x.rank - y.rank
	})
	return out
}

// onPath reports whether path holds c or another certificate of the same
// CA (subject and key): going there would be a loop.
func onPath(path []*x509.Certificate, c *x509.Certificate) bool {
	return slices.ContainsFunc(path, func(p *x509.Certificate) bool { return p == c || sameKeyAndName(p, c) })
}

// keyIDsAgree reports whether parent's subject key identifier is child's
// authority key identifier, or one of them is absent.
func keyIDsAgree(child, parent *x509.Certificate) bool {
	return len(child.AuthorityKeyId) == 0 || len(parent.SubjectKeyId) == 0 || bytes.Equal(child.AuthorityKeyId, parent.SubjectKeyId)
}

// extend tries every issuer of the path's last certificate; it reports
// whether the search is done. A candidate is checked before its
// signature: one the path cannot use (expired, not a CA, outside its name
// constraints…) is recorded and skipped without a signature check, as a
// client prunes it.
func (v *verifier) extend(path []*x509.Certificate) bool {
	s := &v.search
	s.steps++
	cur := path[len(path)-1]
	if s.steps > maxSearchSteps || v.exhausted {
		v.exhausted = true
		v.note(v.deadEnd(path, endBudget))
		return true
	}
	if len(path) >= maxPathCerts {
		v.note(v.deadEnd(path, endDeep))
		return false
	}
	found := false
	var loop *x509.Certificate
	for _, cand := range v.candidates(cur) {
		if !cand.anchor && onPath(path, cand.cert) {
			if keyIDsAgree(cur, cand.cert) && v.signedBy(cur, cand.cert) {
				loop = cand.cert
			}
			continue
		}
		next := append(slices.Clip(path), cand.cert)
		if probs := v.edgeProblems(next, cand.anchor); slices.ContainsFunc(probs, problem.isError) {
			if keyIDsAgree(cur, cand.cert) {
				found = true
				v.note(&attempt{path: next, end: endPruned, probs: probs, anchor: cand.anchor})
			}
			continue
		}
		if !v.signedBy(cur, cand.cert) {
			if v.exhausted {
				break
			}
			continue
		}
		found = true
		if cand.anchor {
			if v.complete(next, cand.cert) {
				return true
			}
			continue
		}
		if v.extend(next) {
			return true
		}
	}
	if !found && loop == nil && !v.exhausted && len(cur.IssuingCertificateURL) > 0 && v.fetchesLeft() && v.fetchIssuers(cur) {
		// --fetch: what the AIA URL served is a candidate now.
		return v.extend(path[:len(path):len(path)])
	}
	if !found {
		end := endMissing
		switch {
		case v.exhausted:
			end = endBudget
		case loop != nil:
			end = endCycle
		case v.isSelfSigned(cur):
			end = endSelfSigned
		}
		a := v.deadEnd(path, end)
		a.loop = loop
		v.note(a)
	}
	return false
}

// deadEnd is a path that reached no anchor.
func (v *verifier) deadEnd(path []*x509.Certificate, end endKind) *attempt {
	a := &attempt{path: path, end: end, prof: v.profileFor(nil)}
	if end == endMissing {
		a.nameOnly = v.nameOnly(path[len(path)-1])
	}
	return a
}

// named lists the certificates of a subject name: the anchors', then the
// sent (and fetched) ones.
func (v *verifier) named(name []byte) []*x509.Certificate {
	return append(slices.Clone(v.a.bySubject[string(name)]), v.bySubject[string(name)]...)
}

// nameOnly lists the certificates with c's issuer's name that did not sign
// it.
func (v *verifier) nameOnly(c *x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, x := range v.named(c.RawIssuer) {
		if x != c {
			out = append(out, x)
		}
	}
	return out
}

// continueByName follows a pruned path upward by issuer names and key
// identifiers only, to see whether it leads to an anchor (for ranking) and
// where it ends (for the report): no signature is checked. It tries each
// issuer by name, within a small budget, and keeps the route to an anchor
// or else the longest dead end.
func (v *verifier) continueByName(a *attempt) {
	if a.anchor {
		a.contEnd = endAnchor
		return
	}
	steps := 0
	best := -1
	var walk func(path []*x509.Certificate) bool
	walk = func(path []*x509.Certificate) bool {
		steps++
		cur := path[len(path)-1]
		base := len(a.path)
		done := func(end endKind, loop *x509.Certificate, extra ...*x509.Certificate) {
			if n := len(path) + len(extra); end == endAnchor || n > best {
				best = n
				a.cont = append(slices.Clone(path[base:]), extra...)
				a.contEnd, a.contLoop = end, loop
			}
		}
		for _, an := range v.a.bySubject[string(cur.RawIssuer)] {
			if keyIDsAgree(cur, an) {
				done(endAnchor, nil, an)
				return true
			}
		}
		if len(path) > base && v.anchorEquivalent(cur) != nil {
			done(endAnchor, nil)
			return true
		}
		if len(path) >= maxPathCerts || steps > 64 {
			done(endDeep, nil)
			return false
		}
		var loop *x509.Certificate
		tried := false
		for _, s := range v.bySubject[string(cur.RawIssuer)] {
			if s == cur || !keyIDsAgree(cur, s) {
				continue
			}
			if onPath(path, s) {
				loop = s
				continue
			}
			tried = true
			if walk(append(slices.Clip(path), s)) {
				return true
			}
		}
		switch {
		case tried:
		case loop != nil:
			done(endCycle, loop)
		case v.factsOf(cur).selfIssued:
			done(endSelfSigned, nil)
		default:
			done(endMissing, nil)
		}
		return false
	}
	walk(slices.Clip(a.path))
}
