package trust

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/tlskit/tlskit/finding"
)

// anyPolicy is the special policy identifier of RFC 5280 §4.2.1.4.
const anyPolicy = "2.5.29.32.0"

// policyFailure is why a path fails certificate policy processing.
type policyFailure struct {
	cert *x509.Certificate // the certificate where the path failed
	ca   *x509.Certificate // the CA whose constraint required a policy (nil: a mapping of anyPolicy)
	text string            // what cert does wrong, a predicate ("has no certificate policies extension"); for a mapping of anyPolicy a sentence
}

// policyLevel is one depth of RFC 9618's valid policy graph, reduced to
// what decides whether the graph is empty: each node's valid_policy and
// its expected_policy_set. With the initial settings tlskit validates with
// (user-initial-policy-set {anyPolicy}, nothing inhibited or required by
// the user), a path's validity depends only on whether the deepest level
// has a node, so the graph's edges and the pruning of nodes without
// children (which never empties the deepest level) are not kept.
type policyLevel map[string]map[string]bool

// checkPolicies runs the certificate policy processing of RFC 5280 §6.1
// (as RFC 9618 restates it) over a path, leaf first and the anchor last
// (whose own extensions are not processed: an anchor is a name and a
// key), with RFC 5280's default initial settings, which are crypto/x509's
// and those of openssl verify -policy_check -policy anyPolicy: any policy
// is acceptable, and none is required unless a CA's policy constraints
// (requireExplicitPolicy) say so. It returns nil when the path is valid.
func (v *verifier) checkPolicies(path []*x509.Certificate) *policyFailure {
	n := len(path) - 1 // certificates below the anchor
	if n < 1 {
		return nil
	}
	explicit, mapping, inhibitAny := n+1, n+1, n+1
	var explicitBy *x509.Certificate // whose constraint set explicit
	level := policyLevel{anyPolicy: {anyPolicy: true}}
	var emptied *policyFailure // where the graph became empty
	for i := 1; i <= n; i++ {
		c := path[n-i]
		self := v.factsOf(c).selfIssued
		// §6.1.3 (d), (e): the policies of certificate i.
		if level != nil {
			if len(c.Policies) == 0 {
				level = nil
				emptied = &policyFailure{cert: c, text: "has no certificate policies extension"}
			} else {
				next := policyLevel{}
				hasAny := false
				expected := level.expected()
				for _, oid := range c.Policies {
					p := oid.String()
					if p == anyPolicy {
						hasAny = true
						continue
					}
					if expected[p] || level[anyPolicy] != nil {
						next[p] = map[string]bool{p: true}
					}
				}
				if hasAny && (inhibitAny > 0 || (i < n && self)) {
					for _, node := range level {
						for p := range node {
							if next[p] == nil {
								next[p] = map[string]bool{p: true}
							}
						}
					}
				}
				if len(next) == 0 {
					emptied = &policyFailure{cert: c, text: fmt.Sprintf("has certificate policies (%s) of which none is one the CAs above it allow (%s)", policyList(c.Policies), level.allowed())}
					level = nil
				} else {
					level = next
				}
			}
		}
		// §6.1.3 (f).
		if explicit == 0 && level == nil {
			return required(emptied, explicitBy)
		}
		if i == n {
			break
		}
		// §6.1.4 (a), (b): policy mappings.
		for _, m := range c.PolicyMappings {
			if m.IssuerDomainPolicy.String() == anyPolicy || m.SubjectDomainPolicy.String() == anyPolicy {
				return &policyFailure{cert: c, text: "its policy mappings map anyPolicy, which RFC 5280 §6.1.4 (a) forbids"}
			}
		}
		if level != nil && len(c.PolicyMappings) > 0 {
			mapped := map[string]map[string]bool{}
			var order []string
			for _, m := range c.PolicyMappings {
				from := m.IssuerDomainPolicy.String()
				if mapped[from] == nil {
					mapped[from] = map[string]bool{}
					order = append(order, from)
				}
				mapped[from][m.SubjectDomainPolicy.String()] = true
			}
			for _, from := range order {
				switch {
				case mapping == 0:
					delete(level, from)
				case level[from] != nil:
					level[from] = mapped[from]
				case level[anyPolicy] != nil:
					level[from] = mapped[from]
				}
			}
			if len(level) == 0 {
				level = nil
				emptied = &policyFailure{cert: c, text: "maps policies where policy mapping is inhibited (inhibitPolicyMapping), so the mapped policies are dropped and none remains"}
			}
		}
		// §6.1.4 (h), (i), (j): the counters and this CA's constraints.
		if !self {
			explicit = max(explicit-1, 0)
			mapping = max(mapping-1, 0)
			inhibitAny = max(inhibitAny-1, 0)
		}
		if r, ok := requireExplicit(c); ok && r < explicit {
			explicit, explicitBy = r, c
		}
		if m, ok := inhibitMapping(c); ok && m < mapping {
			mapping = m
		}
		if a, ok := inhibitAnyPolicy(c); ok && a < inhibitAny {
			inhibitAny = a
		}
	}
	// §6.1.5 (a), (b), (g): the leaf.
	leaf := path[0]
	explicit = max(explicit-1, 0)
	if r, ok := requireExplicit(leaf); ok && r == 0 {
		explicit, explicitBy = 0, leaf
	}
	if explicit == 0 && level == nil {
		return required(emptied, explicitBy)
	}
	return nil
}

// required is the failure of a path whose graph emptied where an explicit
// policy is required (by explicitBy's constraints).
func required(emptied *policyFailure, explicitBy *x509.Certificate) *policyFailure {
	emptied.ca = explicitBy
	return emptied
}

// expected is the union of the level's expected policy sets: each step
// costs in proportion to the certificate's policies and mappings, however
// many a hostile certificate holds.
func (l policyLevel) expected() map[string]bool {
	all := map[string]bool{}
	for _, node := range l {
		for p := range node {
			all[p] = true
		}
	}
	return all
}

// allowed lists the policies the level expects, for a failure's words.
func (l policyLevel) allowed() string {
	var ps []string
	for p := range l.expected() {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return listSome(ps)
}

// policyList lists a certificate's policies.
func policyList(oids []x509.OID) string {
	var ps []string
	for _, o := range oids {
		ps = append(ps, o.String())
	}
	return listSome(ps)
}

// listSome joins the first few of a list that a certificate chose, and
// counts the rest.
func listSome(ps []string) string {
	const most = 8
	if len(ps) <= most {
		return strings.Join(ps, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ps[:most], ", "), len(ps)-most)
}

// requireExplicit is c's requireExplicitPolicy, if it has one.
func requireExplicit(c *x509.Certificate) (int, bool) {
	return c.RequireExplicitPolicy, c.RequireExplicitPolicy > 0 || c.RequireExplicitPolicyZero
}

// inhibitMapping is c's inhibitPolicyMapping, if it has one.
func inhibitMapping(c *x509.Certificate) (int, bool) {
	return c.InhibitPolicyMapping, c.InhibitPolicyMapping > 0 || c.InhibitPolicyMappingZero
}

// inhibitAnyPolicy is c's inhibitAnyPolicy, if it has one.
func inhibitAnyPolicy(c *x509.Certificate) (int, bool) {
	return c.InhibitAnyPolicy, c.InhibitAnyPolicy > 0 || c.InhibitAnyPolicyZero
}

// policyProblems adds the failure of a complete path's policy processing.
func (v *verifier) policyProblems(path []*x509.Certificate, ps []problem) []problem {
	pf := v.checkPolicies(path)
	if pf == nil {
		return ps
	}
	return append(ps, problem{id: finding.ChainPolicy, sev: finding.Error, kind: kPolicy, cert: pf.cert, ca: pf.ca, text: pf.text,
		at: slices.Index(path, pf.cert)})
}
