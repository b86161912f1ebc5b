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
	probs    []problem
	nameOnly []*x509.Certificate // endMissing: certificates with the issuer's name but not its key
	loop     *x509.Certificate   // endCycle: the certificate the path would return to
}

// errorsIn counts the error problems of an attempt and returns the
// position of the first certificate with one (len(path) for a path that
// ends without an anchor and has no other error).
func (a *attempt) firstError() (first, count int) {
	first = len(a.path) + 1
	if a.end != endAnchor {
		first = len(a.path)
	}
	for _, p := range a.probs {
		if !p.isError() {
			continue
		}
		count++
		if i := slices.Index(a.path, p.cert); i >= 0 && i < first {
			first = i
		}
	}
	return first, count
}

// better reports whether a explains a failure better than b: a path that
// reaches an anchor beats one that does not (it shows the way to a trusted
// root and what breaks it); then the path that got furthest from the leaf
// before its first problem (where a client that prunes bad issuers would
// have stopped); then fewer problems; then the shorter path.
func (a *attempt) better(b *attempt) bool {
	if (a.end == endAnchor) != (b.end == endAnchor) {
		return a.end == endAnchor
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
	steps    int
	pinned   bool // a valid path satisfies the pins
}

// note records a failed path.
func (v *verifier) note(a *attempt) {
	if v.search.best == nil || a.better(v.search.best) {
		v.search.best = a
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

// complete judges a path that reached anchor; it reports whether the
// search is done.
func (v *verifier) complete(path []*x509.Certificate, anchor *x509.Certificate) bool {
	prof := v.profileFor(anchor)
	a := &attempt{path: path, end: endAnchor, prof: prof, probs: v.pathProblems(path, true, prof)}
	if slices.ContainsFunc(a.probs, problem.isError) {
		v.note(a)
		return false
	}
	s := &v.search
	s.accepted = append(s.accepted, a)
	if len(v.p.Pins) == 0 || v.pinned(path) {
		s.pinned = true
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

// extend tries every issuer of the path's last certificate; it reports
// whether the search is done.
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
		if !v.signedBy(cur, cand.cert) {
			if v.exhausted {
				break
			}
			continue
		}
		if cand.anchor {
			found = true
			if v.complete(append(slices.Clip(path), cand.cert), cand.cert) {
				return true
			}
			continue
		}
		if onPath(path, cand.cert) {
			loop = cand.cert
			continue
		}
		found = true
		if v.extend(append(slices.Clip(path), cand.cert)) {
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

// deadEnd judges a path that reached no anchor.
func (v *verifier) deadEnd(path []*x509.Certificate, end endKind) *attempt {
	prof := v.profileFor(nil)
	a := &attempt{path: path, end: end, prof: prof, probs: v.pathProblems(path, false, prof)}
	if end == endMissing {
		cur := path[len(path)-1]
		for _, c := range append(slices.Clone(v.a.bySubject[string(cur.RawIssuer)]), v.bySubject[string(cur.RawIssuer)]...) {
			if c != cur {
				a.nameOnly = append(a.nameOnly, c)
			}
		}
	}
	return a
}
