package trust

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"time"
)

// Verifier is the input of chain verification: the trust anchors and the
// rules a chain must satisfy. It is what a policy (package tlskit's Policy,
// the trust flags of the CLI, a policy file) resolves to.
//
// The zero value trusts nothing: [Verifier.Verify] then reports
// [finding.PolicyInvalid] ("no trust anchors") rather than falling back to
// the system roots. A Verifier must not be modified while a Verify call or
// a function returned by its VerifyConnection methods may be using it.
type Verifier struct {
	// Anchors are the trust anchors (see [LoadAnchors]).
	Anchors *Anchors
	// Pins are SPKI SHA-256 pins. When set, at least one must match a
	// certificate of a verified chain; the certificates the peer merely
	// sent never count (CVE-2016-2402).
	Pins []Pin
	// PinsExpire is when the pin set goes stale; zero means never. After it
	// a pin failure is reported as [finding.PinExpired], still an error:
	// expiry fails closed, so that a stale pin set is noticed and updated,
	// and a pin set that still matches yields a warning.
	PinsExpire time.Time
	// MaxIntermediates limits the number of intermediates between the leaf
	// and the anchor in a verified path, counting logical CAs: a
	// self-issued certificate (a CA's key rollover) does not count. 0
	// means no limit; [NoIntermediates] allows none (the leaf must be
	// issued by an anchor).
	MaxIntermediates int
	// Profile is the rule set chains are judged by; ProfileAuto (the zero
	// value) chooses webpki for a path to a system root and rfc5280 for a
	// path to an anchor given explicitly. See [Profile].
	Profile Profile
	// CRLs are certificate revocation lists to check the path against
	// (RFC 5280 §6.3): a certificate on one of its issuer's CRLs is
	// [finding.CertRevoked]; a CRL of the issuer that cannot be used
	// (signature, cRLSign, stale, critical extension) fails closed, and
	// so does a leaf none of them covers ([finding.RevocationUnknown], an
	// error for the leaf, an info for the CAs above it).
	CRLs []*CRL
	// Fetch, when set, fetches what a chain points at: a missing issuer
	// from its AIA caIssuers URL and CRLs from the distribution points.
	// Nil fetches nothing.
	Fetch *Fetcher
	// Names are extra acceptable names (DNS names or IP addresses) besides
	// the name passed to Verify. The leaf must match one of them.
	Names []string
	// Usage is the extended key usage the leaf must allow: zero (the value
	// of x509.ExtKeyUsageAny) means x509.ExtKeyUsageServerAuth; set
	// x509.ExtKeyUsageClientAuth to verify client certificates.
	Usage x509.ExtKeyUsage
	// CertPolicies are the initial settings of certificate policy
	// processing; the zero value is RFC 5280's default (any policy, none
	// required unless a CA's policy constraints say so).
	CertPolicies CertPolicies
}

// CertPolicies are RFC 5280's initial inputs to certificate policy
// processing (§6.1.1 (c), (e), (f), (g)), as openssl verify's -policy,
// -explicit_policy, -inhibit_map and -inhibit_any set them. A path that
// fails them is [finding.ChainPolicy].
type CertPolicies struct {
	// Acceptable is the user-initial-policy-set: the certificate policies
	// (dotted OIDs, such as "2.23.140.1.2.1") of which the path must be
	// valid for one, where an explicit policy is required. Empty, or
	// listing anyPolicy (2.5.29.32.0), means any policy.
	Acceptable []string
	// RequireExplicit is initial-explicit-policy: the path must be valid
	// for an acceptable policy whatever the CAs' policy constraints say.
	// Without it, Acceptable matters only where a CA's constraints
	// (requireExplicitPolicy) require an explicit policy.
	RequireExplicit bool
	// InhibitMapping is initial-policy-mapping-inhibit: the CAs' policy
	// mappings are not honoured (the mapped policies are dropped).
	InhibitMapping bool
	// InhibitAny is initial-any-policy-inhibit: anyPolicy in a CA
	// certificate stands for no policy (as a CA's inhibitAnyPolicy 0 makes
	// it).
	InhibitAny bool
}

// certPolicies returns the verifier's policy settings.
func (v *verifier) certPolicies() CertPolicies {
	if v.p == nil {
		return CertPolicies{}
	}
	return v.p.CertPolicies
}

// NoIntermediates is the MaxIntermediates that allows no intermediate.
const NoIntermediates = -1

// usage returns the effective extended key usage.
func (v *Verifier) usage() x509.ExtKeyUsage {
	if v.Usage == x509.ExtKeyUsageAny {
		return x509.ExtKeyUsageServerAuth
	}
	return v.Usage
}

// Describe says in one line what the verifier trusts, for reports and logs.
func (v *Verifier) Describe() string {
	if v == nil {
		return (*Anchors)(nil).Describe()
	}
	return v.Anchors.Describe()
}

// VerifyServer returns a function for [tls.Config.VerifyConnection] on a
// client: it verifies the server's chain for name, which the caller decided
// from the dial target or the configured server name (see [ServerName]),
// never from the ConnectionState (crypto/tls leaves its ServerName empty
// for IP addresses). An empty name is refused here, not taken to mean "no
// name check".
//
// Set InsecureSkipVerify on the tls.Config as well: the standard verifier is
// then replaced by this one, never skipped, and its failures are diagnosed
// rather than reported as a bare x509 error. The handshake fails with a
// [*VerifyError]. A stapled OCSP response is validated, and a must-staple
// certificate without one is refused ([finding.OCSPMustStaple]).
//
// at gives the verification time; nil means time.Now.
func (v *Verifier) VerifyServer(name string, at func() time.Time) (func(tls.ConnectionState) error, error) {
	if name == "" && len(v.Names) == 0 {
		return nil, errNoName
	}
	return func(cs tls.ConnectionState) error {
		// crypto/tls clients always ask for a staple (status_request):
		// one that came is validated, a must-staple leaf without one refused.
		return v.Check(Request{Chain: cs.PeerCertificates, Name: name, Time: timeOf(at), OCSP: cs.OCSPResponse, Stapling: true}).Err()
	}, nil
}

// errNoName refuses to verify a server without a name.
var errNoName = errors.New("trust: no server name to verify: give the server's name (or connect to it by name); an empty name would accept a certificate for any name")

// VerifyClient returns a function for [tls.Config.VerifyConnection] on a
// server: it verifies the client's chain for client authentication, against
// the allow-list [Verifier.Names] when it is set. A client that sent no
// certificate passes here when required is false (tls.Config.ClientAuth
// then decides) and fails with client-cert.required when it is true.
func (v *Verifier) VerifyClient(required bool, at func() time.Time) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			if required {
				return noClientCert()
			}
			return nil
		}
		return v.Verify(cs.PeerCertificates, "", timeOf(at)).Err()
	}
}

// timeOf returns at(), or the zero time (meaning now) when at is nil.
func timeOf(at func() time.Time) time.Time {
	if at == nil {
		return time.Time{}
	}
	return at()
}
