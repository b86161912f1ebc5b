package trust

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tlskit/tlskit/finding"
)

// Policy says what to trust. The zero value trusts nothing: [Policy.Verify]
// then reports [finding.PolicyInvalid] ("no trust anchors") rather than
// falling back to the system roots.
//
// A Policy must not be modified while a Verify call or a function returned
// by [Policy.VerifyConnection] may be using it.
type Policy struct {
	// System includes the system roots (see SystemRoots).
	System bool
	// Roots are extra trust anchors, from a --ca-file or inline PEM. When
	// System is false they are the only anchors.
	Roots []*x509.Certificate
	// RootSources are the human names of where Roots came from (file
	// paths), used in messages only.
	RootSources []string
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
	// and the anchor in a verified path; 0 means no limit.
	MaxIntermediates int
	// Names are extra acceptable names (DNS names or IP addresses) besides
	// the host passed to Verify. The leaf must match one of them.
	Names []string
	// Usage is the extended key usage the leaf must allow: zero (the value
	// of x509.ExtKeyUsageAny) means x509.ExtKeyUsageServerAuth; set
	// x509.ExtKeyUsageClientAuth to verify client certificates.
	Usage x509.ExtKeyUsage
	// SystemRoots loads the system roots when System is set; nil means
	// [DefaultSystemRoots].
	SystemRoots func() ([]*x509.Certificate, error)
}

// usage returns the effective extended key usage.
func (p *Policy) usage() x509.ExtKeyUsage {
	if p.Usage == x509.ExtKeyUsageAny {
		return x509.ExtKeyUsageServerAuth
	}
	return p.Usage
}

// anchorSet is a policy's trust anchors, loaded once per verification.
type anchorSet struct {
	certs    []*x509.Certificate
	pool     *x509.CertPool
	desc     string            // which anchors were tried, for messages
	problems []finding.Finding // policy.invalid findings
}

// loadAnchors resolves the policy's trust anchors.
func (p *Policy) loadAnchors() *anchorSet {
	a := &anchorSet{pool: x509.NewCertPool()}
	var parts []string
	add := func(c *x509.Certificate) {
		if c != nil {
			a.certs = append(a.certs, c)
			a.pool.AddCert(c)
		}
	}
	if p.System {
		load := p.SystemRoots
		if load == nil {
			load = DefaultSystemRoots
		}
		sys, err := load()
		if err != nil || len(sys) == 0 {
			detail := "the system root loader returned no certificates"
			if err != nil {
				detail = err.Error()
			}
			a.problems = append(a.problems, finding.Finding{
				ID:       finding.PolicyInvalid,
				Severity: finding.Error,
				Title:    "the system roots could not be loaded",
				Detail:   detail,
				Fix:      "install the ca-certificates package, set SSL_CERT_FILE to a CA bundle, or give the roots explicitly with --ca-file",
			})
		} else {
			for _, c := range sys {
				add(c)
			}
			parts = append(parts, fmt.Sprintf("the system roots (%d certificates)", len(sys)))
		}
	}
	if n := len(p.Roots); n > 0 {
		for _, c := range p.Roots {
			add(c)
		}
		if len(p.RootSources) > 0 {
			parts = append(parts, fmt.Sprintf("%d %s from %s", n, plural(n, "certificate"), strings.Join(p.RootSources, ", ")))
		} else {
			parts = append(parts, fmt.Sprintf("%d explicitly given %s", n, plural(n, "root")))
		}
	}
	if !p.System && len(p.Roots) > 0 {
		parts = append(parts, "not the system roots")
	}
	a.desc = strings.Join(parts, ", ")
	if len(a.certs) == 0 && len(a.problems) == 0 {
		a.problems = append(a.problems, finding.Finding{
			ID:       finding.PolicyInvalid,
			Severity: finding.Error,
			Title:    "no trust anchors: the policy trusts nothing",
			Detail:   "the policy neither includes the system roots nor lists any root certificate, so no chain can be trusted",
			Fix:      "include the system roots, or give the CA certificate to trust with --ca-file",
		})
	}
	if a.desc == "" {
		a.desc = "no anchors at all"
	}
	return a
}

// plural returns word, with an "s" unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// VerifyConnection returns a function for [tls.Config.VerifyConnection]. It
// runs [Policy.Verify] on the peer's certificates, against cs.ServerName on
// the client side, and fails the handshake with a [*VerifyError].
//
// Set InsecureSkipVerify on the tls.Config as well: the standard verifier is
// then replaced by this one, never skipped, and its failures are diagnosed
// rather than reported as a bare x509 error. An empty ServerName checks no
// name. With Usage set to x509.ExtKeyUsageClientAuth (server side) no name is
// checked except [Policy.Names], and a peer that sent no certificate is
// accepted here: tls.Config.ClientAuth decides whether one is required.
//
// at gives the verification time; nil means time.Now. The trust anchors are
// loaded at the first handshake and then reused by the returned function.
func (p *Policy) VerifyConnection(at func() time.Time) func(tls.ConnectionState) error {
	var (
		once    sync.Once
		anchors *anchorSet
	)
	return func(cs tls.ConnectionState) error {
		once.Do(func() { anchors = p.loadAnchors() })
		var t time.Time
		if at != nil {
			t = at()
		}
		host := cs.ServerName
		if p.usage() == x509.ExtKeyUsageClientAuth {
			host = ""
			if len(cs.PeerCertificates) == 0 {
				return nil
			}
		}
		return p.verify(anchors, cs.PeerCertificates, host, t).Err()
	}
}
