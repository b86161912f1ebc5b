package trust

import (
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/dn"
)

// problemFinding turns a problem of the reported path into its finding.
func (v *verifier) problemFinding(p problem, path []*x509.Certificate) finding.Finding {
	c := p.cert
	f := finding.Finding{ID: p.id, Severity: p.sev}
	switch p.kind {
	case kExpired:
		at := v.at.UTC().Format(time.RFC3339)
		anchor := v.position(c) < 0 && v.isAnchor(c)
		f.Fix = "renew the certificate and install the new one on the " + v.peer()
		switch {
		case anchor:
			f.Fix = "this root in your trust store has expired: update the store (ca-certificates) or the CA file you trust"
			f.Setting = finding.SettingTrust
		case v.position(c) > 0:
			f.Fix = "the " + v.peer() + " sends an outdated intermediate: replace it with the CA's current one (rebuild fullchain.pem)"
		}
		f.Title = fmt.Sprintf("%s expired on %s", v.where(c), c.NotAfter.UTC().Format(time.RFC3339))
		f.Detail = fmt.Sprintf("it is %s; the verification time is %s, %s after it expired", window(c), at, ago(v.at.Sub(c.NotAfter)))
	case kNotYetValid:
		at := v.at.UTC().Format(time.RFC3339)
		f.Title = fmt.Sprintf("%s is not valid before %s", v.where(c), c.NotBefore.UTC().Format(time.RFC3339))
		f.Detail = fmt.Sprintf("it is %s; the verification time is %s, %s too early", window(c), at, ago(c.NotBefore.Sub(v.at)))
		f.Fix = "check the clock of this machine; if it is right, the certificate was issued with a future start date: wait, or have it reissued"
	case kNotCA:
		f.Title = fmt.Sprintf("%s issues %s but is not a CA", v.where(c), dn.String(p.ca.RawSubject))
		if !c.BasicConstraintsValid {
			f.Detail = "it has no basicConstraints extension, so it may not issue certificates (RFC 5280 §6.1.4 (k))"
		} else {
			f.Detail = "its basicConstraints say CA:FALSE, so it may not issue certificates (RFC 5280 §6.1.4 (k))"
		}
		f.Fix = "send the CA's real intermediate certificate; a CA must reissue this one with basicConstraints critical, CA:TRUE"
	case kNoCertSign:
		f.Title = fmt.Sprintf("%s issues %s but its key usage does not allow signing certificates", v.where(c), dn.String(p.ca.RawSubject))
		f.Detail = fmt.Sprintf("it is a CA (basicConstraints CA:TRUE) but its keyUsage (%s) lacks keyCertSign (RFC 5280 §6.1.4 (n))", keyUsageNames(c.KeyUsage))
		f.Fix = "the CA must reissue this certificate with keyUsage keyCertSign (and cRLSign)"
	case kPathLen:
		f.Title = fmt.Sprintf("%s allows %d intermediate %s below it, and the path has %d", v.where(c), p.max, plural(p.max, "CA"), p.n)
		f.Detail = fmt.Sprintf("its basicConstraints pathLenConstraint is %d; counting the CA certificates between it and the leaf (self-issued ones excepted, RFC 5280 §6.1.4 (l)) gives %d: %s", p.max, p.n, pathNames(path))
		f.Fix = "send a path through CAs that allow this depth, or have the CA reissue the intermediate with a larger pathLenConstraint"
	case kMaxInter:
		f.Title = fmt.Sprintf("the chain has %d %s, more than the policy allows (%d)", p.n, plural(p.n, "intermediate"), p.max)
		f.Detail = fmt.Sprintf("the path to an anchor passes through %s (self-issued key rollover certificates are not counted)", strings.Join(intermediateNames(path), ", "))
		f.Fix = "raise the policy's limit on intermediates (max_intermediates) if this path is expected, or trust a CA closer to the leaf"
		f.Setting = finding.SettingMaxInterm
		f.Evidence = intermediateNames(path)
	case kPolicy:
		switch {
		case p.ca == nil && !p.settings:
			f.Title = fmt.Sprintf("%s maps anyPolicy in its policy mappings", v.where(c))
			f.Detail = p.text + "; a path through it is invalid"
			f.Fix = "the CA must reissue this certificate with policy mappings between specific policies only"
		case p.ca == nil:
			f.Title = fmt.Sprintf("no certificate policy the trust policy accepts is valid along the path (%s)", acceptedList(v.certPolicies().Acceptable))
			f.Detail = fmt.Sprintf("the trust policy requires an explicit policy (RFC 5280 §6.1.1's initial-explicit-policy), but %s %s", v.where(c), p.text)
			f.Fix = "accept the certificate policies this PKI issues under, or have the certificate issued under one of those accepted"
			f.Setting = finding.SettingCertPolicy
			f.Evidence = []string{"fails at: " + dn.String(c.RawSubject)}
		default:
			f.Title = fmt.Sprintf("no certificate policy is valid along the path, and %s requires one", v.where(p.ca))
			f.Detail = fmt.Sprintf("%s requires an explicit policy (policy constraints, requireExplicitPolicy %d: RFC 5280 §4.2.1.11 and §6.1), but %s %s", v.where(p.ca), p.ca.RequireExplicitPolicy, v.where(c), p.text)
			f.Fix = "have the certificate issued under a policy the CAs above it allow (certificatePolicies, mapped where the CAs map), or send a path through CAs that do not require one"
			if p.settings {
				f.Title = fmt.Sprintf("no certificate policy the trust policy accepts is valid along the path, and %s requires one", v.where(p.ca))
				f.Fix = "have the certificate issued under a policy the trust policy accepts, or accept the policies this PKI issues under"
				f.Setting = finding.SettingCertPolicy
			}
			f.Evidence = []string{"requires an explicit policy: " + dn.String(p.ca.RawSubject), "fails at: " + dn.String(c.RawSubject)}
		}
	case kNC, kNCDoS:
		constraint, nameShown := p.constraint, p.text
		if p.kind == kNCDoS {
			f.Title = fmt.Sprintf("the name constraints of %s are too many to check against %s", v.where(p.ca), v.where(c))
			f.Detail = fmt.Sprintf("%s against %s would take more than %d comparisons; tlskit refuses such a chain rather than spend the time (a denial-of-service pattern)", constraint, nameShown, maxConstraintChecks)
			f.Fix = "a CA with thousands of name constraints over a leaf with thousands of names is not a real PKI; if it is yours, split the constraints or the names"
			break
		}
		if p.excluded {
			f.Title = fmt.Sprintf("%s forbids the name %s of %s", v.where(p.ca), nameShown, v.where(c))
			f.Detail = fmt.Sprintf("the CA's name constraints exclude %s, and %s falls within it (RFC 5280 §4.2.1.10); a wildcard is refused when it could stand for an excluded name", constraint, nameShown)
		} else {
			f.Title = fmt.Sprintf("%s is not permitted to issue for %s (name of %s)", v.where(p.ca), nameShown, v.where(c))
			if strings.HasPrefix(constraint, "the ") { // a name form tlskit cannot check
				f.Detail = fmt.Sprintf("%s has %s, and %s is of that form (RFC 5280 §4.2.1.10)", v.where(p.ca), constraint, nameShown)
			} else {
				f.Detail = fmt.Sprintf("the CA's name constraints permit only %s; %s is outside them (RFC 5280 §4.2.1.10: every name of every certificate below the CA must be within its permitted subtrees)", constraint, nameShown)
				constraint = "permitted: " + constraint
			}
		}
		if p.excluded {
			constraint = "excluded: " + constraint
		}
		f.Evidence = []string{"constraint: " + constraint, "name: " + nameShown, "CA: " + dn.String(p.ca.RawSubject)}
		f.Fix = "get a certificate whose names are all within the CA's constraints, or a certificate from a CA allowed to issue for them"
	case kNCMalformed:
		f.Title = fmt.Sprintf("the name constraints of %s cannot be evaluated", v.where(c))
		f.Detail = fmt.Sprintf("its name constraints extension is malformed: %s. A client that cannot evaluate a CA's constraints must refuse every certificate below it", p.text)
		f.Fix = "the CA must reissue this certificate with valid name constraints"
	case kNCInLeaf:
		f.Title = fmt.Sprintf("%s carries name constraints, which only a CA may", v.where(c))
		f.Detail = "it is not a CA, yet it has a name constraints extension (RFC 5280 §4.2.1.10: used only in a CA certificate)"
		f.Fix = "have the certificate reissued without name constraints"
	case kEKULeaf:
		f.Title = fmt.Sprintf("%s is not valid for %s", v.where(c), ekuName(v.usage))
		f.Detail = fmt.Sprintf("its extended key usages are: %s; %s is needed", strings.Join(ekuNames(c), ", "), ekuName(v.usage))
		f.Fix = fmt.Sprintf("get a certificate issued with the %s extended key usage", ekuName(v.usage))
	case kEKUCA:
		f.Title = fmt.Sprintf("%s restricts the chain to usages without %s", v.where(c), ekuName(v.usage))
		f.Detail = fmt.Sprintf("its extended key usages are: %s; a CA's extended key usages bound what it may issue for, and %s is needed", strings.Join(ekuNames(c), ", "), ekuName(v.usage))
		f.Fix = fmt.Sprintf("send a path through CAs allowed to issue %s certificates", ekuName(v.usage))
	case kEKUProfile:
		f.Title = fmt.Sprintf("the extended key usage of %s breaks %s", v.where(c), v.profileName(p))
		f.Detail = p.text
		f.Fix = fmt.Sprintf("have the certificate reissued with an extended key usage of %s only", ekuName(v.usage))
	case kWeakSig:
		f.Title = fmt.Sprintf("%s is signed with %s, which is no longer accepted", v.where(c), c.SignatureAlgorithm)
		f.Detail = fmt.Sprintf("%s signatures are forgeable or near enough (collisions); crypto/x509 and browsers reject them on every certificate but a root", c.SignatureAlgorithm)
		f.Fix = "have the certificate reissued with a SHA-256 (or stronger) signature"
		if v.position(c) > 0 {
			f.Fix = "replace this intermediate with the CA's SHA-256-signed one"
		}
	case kWeakKey:
		f.Title = fmt.Sprintf("%s has a weak key: %s", v.where(c), keyDesc(c))
		f.Detail = p.text
		f.Fix = "have the certificate reissued with an RSA 2048+ (a multiple of 8 bits) or ECDSA P-256+ key"
	case kCAAsLeaf:
		f.Title = fmt.Sprintf("%s is a CA certificate", v.where(c))
		f.Detail = fmt.Sprintf("its basicConstraints say CA:TRUE, so whoever holds its key can issue certificates for any name; under %s a CA certificate must not be the leaf", p.text)
		if p.sev != finding.Error {
			f.Detail = "its basicConstraints say CA:TRUE, so whoever holds its key can issue certificates; RFC 5280 allows a CA certificate as the leaf, the Web PKI (webpki profile) does not"
		}
		f.Fix = "give the " + v.peer() + " an end-entity certificate (CA:FALSE, no keyCertSign) issued by the CA, rather than the CA's own certificate"
	case kLeafCertSign:
		f.Title = fmt.Sprintf("%s may sign certificates (keyUsage keyCertSign) but is not a CA", v.where(c))
		f.Detail = "keyCertSign without basicConstraints CA:TRUE is contradictory (RFC 5280 §4.2.1.3 and §4.2.1.9); a client that honours the key usage would let it issue certificates"
		f.Fix = "have the certificate reissued without keyCertSign"
	case kNonconforming:
		f.Title = fmt.Sprintf("%s breaks a rule of %s", v.where(c), v.profileName(p))
		f.Detail = p.text
		f.Fix = "have the certificate reissued correctly; if it is a root you trust, replace it with a conforming one"
	case kRevoked:
		f.Title = fmt.Sprintf("%s is revoked", v.where(c))
		f.Detail = fmt.Sprintf("its issuer %s revoked it: %s", name(p.ca), p.text)
		f.Fix = "install a new certificate on the " + v.peer() + "; a revoked certificate must not be trusted"
	case kCRL:
		if p.id == finding.RevocationUnknown {
			f.Title = fmt.Sprintf("the revocation of %s was not checked", v.where(c))
			f.Detail = fmt.Sprintf("no CRL from its issuer %s was given or fetched", issuerName(c))
			f.Fix = "give its issuer's CRL, or let tlskit fetch it from its distribution point"
			if p.text != "" {
				f.Detail = p.text
				f.Fix = "give the CRL the issuer signs with the key that issued the certificate, if the CA publishes one"
			}
			if p.sev == finding.Error {
				f.Detail += ". CRLs were given, so revocation was asked for, and it cannot be told for the leaf: tlskit fails closed, as openssl -crl_check and curl --crlfile do"
			}
			f.Setting = finding.SettingCRL
			if len(c.CRLDistributionPoints) > 0 {
				f.Detail += "; its CRL distribution points are " + strings.Join(c.CRLDistributionPoints, ", ")
			}
			break
		}
		f.Title = fmt.Sprintf("the revocation of %s cannot be checked: its issuer's CRL is not usable", v.where(c))
		f.Detail = p.text + ". tlskit was asked to check revocation, so it fails closed"
		f.Fix = "get a current, valid CRL from the CA (its distribution point) and give that one"
		f.Setting = finding.SettingCRL
	default:
		f.Title = fmt.Sprintf("%s: %s", v.where(c), p.kind)
		f.Detail = p.text
	}
	return f
}

// profileName names the rule set a problem comes from.
func (v *verifier) profileName(p problem) string {
	if !strings.Contains(p.text, "RFC 5280") && strings.Contains(p.text, "Baseline Requirements") {
		return ProfileWebPKI.describe()
	}
	return "RFC 5280"
}

// pathNames lists a path's subjects, leaf first.
func pathNames(path []*x509.Certificate) string {
	var s []string
	for _, c := range path {
		s = append(s, dn.String(c.RawSubject))
	}
	return strings.Join(s, " ← ")
}

// intermediateNames lists the subjects between the leaf and the anchor.
func intermediateNames(path []*x509.Certificate) []string {
	var names []string
	if len(path) > 2 {
		for _, c := range path[1 : len(path)-1] {
			names = append(names, dn.String(c.RawSubject))
		}
	}
	return names
}

// keyUsageNames lists the bits of a key usage.
func keyUsageNames(ku x509.KeyUsage) string {
	names := []string{"digitalSignature", "contentCommitment", "keyEncipherment", "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"}
	var out []string
	for i, n := range names {
		if ku&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// cycle reports issuers that loop without reaching an anchor.
func (v *verifier) cycle(path []*x509.Certificate, loop *x509.Certificate) {
	last := path[len(path)-1]
	v.add(finding.Finding{
		ID:       finding.ChainCycle,
		Severity: finding.Error,
		Title:    fmt.Sprintf("the certificates issue each other in a loop and never reach a trust anchor (%s)", name(last)),
		Detail: fmt.Sprintf("following issuers from the leaf gives %s, whose issuer %s is %s, already on the path: the CAs sign for each other (cross-certificates), and none of them is issued by an anchor tried (%s)",
			pathNames(path), issuerName(last), v.where(loop), v.a.desc),
		Fix: "send a chain that ends at a root the client trusts (a cross-certificate issued by a trusted root), or trust one of these CAs",
	})
}

// tooDeep reports a chain longer than any path tlskit builds.
func (v *verifier) tooDeep(path []*x509.Certificate) {
	v.add(finding.Finding{
		ID:       finding.ChainTooLong,
		Severity: finding.Error,
		Title:    fmt.Sprintf("the chain goes on for more than %d intermediates without reaching a trust anchor", maxPathCerts-2),
		Detail:   fmt.Sprintf("tlskit stops building a path after %d certificates (real chains have two to four); the path so far ends at %s", maxPathCerts, name(path[len(path)-1])),
		Fix:      "send only the leaf and the intermediates on its path to the root",
	})
}

// budget reports a search that ran out of its budget.
func (v *verifier) budget(path []*x509.Certificate) {
	v.add(finding.Finding{
		ID:       finding.ChainInvalid,
		Severity: finding.Error,
		Title:    "too many candidate paths: tlskit stopped building them",
		Detail:   fmt.Sprintf("the peer sent %d certificates, many with the same names or keys; after %d signature checks and %d path steps no path reached a trust anchor (a path-building denial-of-service pattern)", len(v.sent), v.sigChecks, v.search.steps),
		Fix:      "send only the leaf and the intermediates on its path to the root",
	})
}
