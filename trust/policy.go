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
	ca   *x509.Certificate // the CA whose constraint required a policy (nil: a mapping of anyPolicy, or the verifier's own requirement)
	text string            // what cert does wrong, a predicate ("has no certificate policies extension"); for a mapping of anyPolicy a sentence
	// settings says that the verifier's [CertPolicies] are part of the
	// cause: its initial-explicit-policy required a policy (ca is nil),
	// or the path's policies are none of its acceptable ones.
	settings bool
}

// policyNode is a node of one depth of RFC 9618's valid policy graph,
// reduced to what decides the path's validity: its expected_policy_set,
// and whether the node descends from (or is) a node of §6.1.5 (g)'s
// valid_policy_node_set whose valid_policy is one the verifier accepts
// (a child of anyPolicy: a policy of the anchor's domain). The graph's
// edges are not kept, and neither are the nodes without children
// (RFC 9618 prunes them; they never empty the deepest depth).
type policyNode struct {
	expected   map[string]bool
	acceptable bool
}

// policyLevel is one depth of the valid policy graph, by valid_policy.
type policyLevel map[string]*policyNode

// checkPolicies runs the certificate policy processing of RFC 5280 §6.1
// (as RFC 9618 restates it) over a path, leaf first and the anchor last
// (whose own extensions are not processed: an anchor is a name and a
// key), with the verifier's initial settings ([CertPolicies]). Their zero
// value is RFC 5280's default, crypto/x509's and openssl verify
// -policy_check -policy anyPolicy's: any policy is acceptable, and none
// is required unless a CA's policy constraints (requireExplicitPolicy)
// say so. It returns nil when the path is valid.
func (v *verifier) checkPolicies(path []*x509.Certificate) *policyFailure {
	n := len(path) - 1 // certificates below the anchor
	set := v.certPolicies()
	accept := map[string]bool{} // the user-initial-policy-set; empty: {anyPolicy}
	for _, p := range set.Acceptable {
		accept[p] = true
	}
	if accept[anyPolicy] {
		clear(accept)
	}
	if n < 1 {
		return nil
	}
	initial := func(inhibited bool) int {
		if inhibited {
			return 0
		}
		return n + 1
	}
	explicit, mapping, inhibitAny := initial(set.RequireExplicit), initial(set.InhibitMapping), initial(set.InhibitAny)
	var explicitBy *x509.Certificate // whose constraint set explicit (nil: the verifier's own setting, if any)
	acceptable := func(p string) bool { return len(accept) == 0 || accept[p] }
	level := policyLevel{anyPolicy: {expected: map[string]bool{anyPolicy: true}}}
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
				parents := level.byExpected()
				for _, oid := range c.Policies {
					p := oid.String()
					if p == anyPolicy {
						hasAny = true
						continue
					}
					if ps := parents[p]; len(ps) > 0 {
						next[p] = &policyNode{expected: map[string]bool{p: true}, acceptable: anyAcceptable(ps)}
					} else if level[anyPolicy] != nil {
						// A child of anyPolicy: of the valid_policy_node_set.
						next[p] = &policyNode{expected: map[string]bool{p: true}, acceptable: acceptable(p)}
					}
				}
				if hasAny && (inhibitAny > 0 || (i < n && self)) {
					for p, ps := range parents {
						if next[p] == nil {
							// anyPolicy's child is anyPolicy, whose
							// parents are anyPolicy nodes: never
							// acceptable (anyPolicy is of the node set at
							// the last depth only, checked there).
							next[p] = &policyNode{expected: map[string]bool{p: true}, acceptable: anyAcceptable(ps)}
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
					level[from].expected = mapped[from]
				case level[anyPolicy] != nil:
					// A child of anyPolicy's parent: of the node set.
					level[from] = &policyNode{expected: mapped[from], acceptable: acceptable(from)}
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
	if explicit > 0 {
		return nil
	}
	if level == nil {
		return required(emptied, explicitBy)
	}
	// (g): the user_constrained_policy_set is empty when the last depth
	// has no anyPolicy node (which would make every acceptable policy
	// valid) and descends from no acceptable policy.
	if len(accept) == 0 || level[anyPolicy] != nil {
		return nil
	}
	for _, node := range level {
		if node.acceptable {
			return nil
		}
	}
	var valid []string
	for p := range level {
		valid = append(valid, p)
	}
	slices.Sort(valid)
	return &policyFailure{cert: leaf, ca: explicitBy, settings: true,
		text: fmt.Sprintf("is valid along the path for certificate policies (%s) of which none is, or is mapped from, one the trust policy accepts (%s)", listSome(valid), acceptedList(set.Acceptable))}
}

// anyAcceptable reports whether one of the nodes descends from an
// acceptable policy of the valid_policy_node_set.
func anyAcceptable(nodes []*policyNode) bool {
	for _, n := range nodes {
		if n.acceptable {
			return true
		}
	}
	return false
}

// acceptedList lists the acceptable policies, for a failure's words.
func acceptedList(ps []string) string {
	if len(ps) == 0 || slices.Contains(ps, anyPolicy) {
		return "any policy"
	}
	return listSome(ps)
}

// required is the failure of a path whose graph emptied where an explicit
// policy is required (by explicitBy's constraints).
func required(emptied *policyFailure, explicitBy *x509.Certificate) *policyFailure {
	emptied.ca = explicitBy
	emptied.settings = explicitBy == nil // the verifier's initial-explicit-policy
	return emptied
}

// byExpected indexes the level's nodes by the policies they expect: the
// parents of each policy at the next depth. It costs in proportion to the
// expected policy sets, however many a hostile certificate holds.
func (l policyLevel) byExpected() map[string][]*policyNode {
	idx := map[string][]*policyNode{}
	for _, node := range l {
		for p := range node.expected {
			idx[p] = append(idx[p], node)
		}
	}
	return idx
}

// allowed lists the policies the level expects, for a failure's words.
func (l policyLevel) allowed() string {
	var ps []string
	for p := range l.byExpected() {
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
		settings: pf.settings, at: slices.Index(path, pf.cert)})
}
