package trust

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/dn"
)

// OCSPStatus describes a stapled OCSP response (RFC 6960) as tlskit
// validated it.
type OCSPStatus struct {
	// Status is "good", "revoked", "unknown" (the responder does not know
	// the certificate), or "invalid" (the response could not be trusted:
	// see Problem).
	Status string `json:"status"`
	// Responder is who signed it: "the issuer" or the delegated
	// responder's subject.
	Responder string `json:"responder,omitempty"`
	// ProducedAt, ThisUpdate and NextUpdate are the response's times
	// (RFC 3339, UTC); NextUpdate may be empty.
	ProducedAt string `json:"produced_at,omitempty"`
	ThisUpdate string `json:"this_update,omitempty"`
	NextUpdate string `json:"next_update,omitempty"`
	// RevokedAt and Reason are set for a revoked certificate.
	RevokedAt string `json:"revoked_at,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Problem says why an invalid response cannot be trusted.
	Problem string `json:"problem,omitempty"`
}

// ocspSkew is the clock skew tolerated on an OCSP response's dates, and
// ocspMaxAge the age past which a response without nextUpdate is stale
// (the Baseline Requirements cap a response's validity at 10 days).
const (
	ocspSkew   = 5 * time.Minute
	ocspMaxAge = 10 * 24 * time.Hour
)

// checkOCSP validates the stapled OCSP response of the request against the
// leaf and its issuer on path, and reports a must-staple leaf without one.
func (v *verifier) checkOCSP(path []*x509.Certificate) {
	leaf := path[0]
	if len(v.req.OCSP) == 0 {
		if v.req.Stapling && v.factsOf(leaf).mustStaple {
			v.add(finding.Finding{
				ID:       finding.OCSPMustStaple,
				Severity: finding.Error,
				Title:    fmt.Sprintf("%s requires a stapled OCSP response (must-staple), and the %s sent none", v.where(leaf), v.peer()),
				Detail:   "the certificate carries the TLS feature extension with status_request (RFC 7633), which promises that the server staples an OCSP response; the client asked for one (status_request) and got none. Firefox refuses such a connection (MOZILLA_PKIX_ERROR_REQUIRED_TLS_FEATURE_MISSING)",
				Fix:      "enable OCSP stapling on the server (nginx: ssl_stapling on; Apache: SSLUseStapling on; make sure the server can reach the OCSP responder), or get a certificate without must-staple",
			})
		}
		return
	}
	issuer := leaf
	if len(path) > 1 {
		issuer = path[1]
	}
	st := &OCSPStatus{}
	v.r.OCSP = st
	invalid := func(why string) {
		st.Status, st.Problem = "invalid", why
		v.add(finding.Finding{
			ID:       finding.OCSPInvalid,
			Severity: finding.Error,
			Title:    fmt.Sprintf("the OCSP response the %s stapled for %s cannot be trusted", v.peer(), v.where(leaf)),
			Detail:   why + ". A client that checks stapled responses (Firefox) refuses the connection",
			Fix:      "make the server fetch a fresh response from its CA's OCSP responder (nginx: ssl_stapling_verify on, and a resolver; restart to drop a stale cached response), or turn stapling off",
		})
	}
	// x/crypto/ocsp checks an embedded certificate as a delegated
	// responder issued by the issuer, which refuses a response that embeds
	// the issuer itself (what openssl ocsp -rsigner ISSUER makes): parse
	// without the issuer, and check the signer here.
	resp, err := ocsp.ParseResponseForCert(v.req.OCSP, leaf, nil)
	if err != nil {
		invalid("it does not verify: " + strings.TrimPrefix(err.Error(), "ocsp: "))
		return
	}
	st.ProducedAt = rfc3339(resp.ProducedAt)
	st.ThisUpdate = rfc3339(resp.ThisUpdate)
	st.NextUpdate = rfc3339(resp.NextUpdate)
	st.Responder = "the issuer " + dn.String(issuer.RawSubject)
	switch r := resp.Certificate; {
	case r == nil || sameKeyAndName(r, issuer):
		if err := resp.CheckSignatureFrom(issuer); err != nil {
			invalid(fmt.Sprintf("its signature is not the issuer's (%s): %v", dn.String(issuer.RawSubject), err))
			return
		}
	default:
		st.Responder = dn.String(r.RawSubject) + " (delegated by " + dn.String(issuer.RawSubject) + ")"
		switch {
		case r.CheckSignatureFrom(issuer) != nil && !bytes.Equal(r.RawIssuer, issuer.RawSubject):
			invalid(fmt.Sprintf("it is signed by %s, which the issuer %s did not issue", dn.String(r.RawSubject), dn.String(issuer.RawSubject)))
			return
		case issuer.CheckSignature(r.SignatureAlgorithm, r.RawTBSCertificate, r.Signature) != nil:
			invalid(fmt.Sprintf("it is signed by %s, whose certificate the issuer's key did not sign", dn.String(r.RawSubject)))
			return
		case !slices.Contains(r.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning):
			invalid(fmt.Sprintf("it is signed by %s, a certificate of the issuer without the OCSPSigning extended key usage, which may not sign OCSP responses (RFC 6960 §4.2.2.2)", dn.String(r.RawSubject)))
			return
		case v.at.After(r.NotAfter) || v.at.Before(r.NotBefore):
			invalid(fmt.Sprintf("its responder certificate %s is %s, not valid at %s", dn.String(r.RawSubject), window(r), rfc3339(v.at)))
			return
		}
	}
	switch {
	case resp.ThisUpdate.After(v.at.Add(ocspSkew)):
		invalid(fmt.Sprintf("it is dated %s, after the verification time %s", st.ThisUpdate, rfc3339(v.at)))
		return
	case !resp.NextUpdate.IsZero() && v.at.After(resp.NextUpdate.Add(ocspSkew)):
		invalid(fmt.Sprintf("it is stale: it was valid until %s (thisUpdate %s) and the verification time is %s", st.NextUpdate, st.ThisUpdate, rfc3339(v.at)))
		return
	case resp.NextUpdate.IsZero() && v.at.Sub(resp.ThisUpdate) > ocspMaxAge:
		invalid(fmt.Sprintf("it has no nextUpdate and was produced %s ago (thisUpdate %s)", ago(v.at.Sub(resp.ThisUpdate)), st.ThisUpdate))
		return
	}
	switch resp.Status {
	case ocsp.Good:
		st.Status = "good"
		v.add(finding.Finding{
			ID:       finding.OCSPStapled,
			Severity: finding.Info,
			Title:    fmt.Sprintf("the %s stapled a good OCSP response for %s", v.peer(), v.where(leaf)),
			Detail:   fmt.Sprintf("signed by %s; produced %s, valid from %s until %s", st.Responder, st.ProducedAt, st.ThisUpdate, orNone(st.NextUpdate)),
			Fix:      "nothing to do",
		})
	case ocsp.Revoked:
		st.Status = "revoked"
		st.RevokedAt = rfc3339(resp.RevokedAt)
		st.Reason = reasonName(resp.RevocationReason)
		v.add(finding.Finding{
			ID:       finding.CertRevoked,
			Severity: finding.Error,
			Title:    fmt.Sprintf("%s is revoked, says the OCSP response the %s stapled", v.where(leaf), v.peer()),
			Detail:   fmt.Sprintf("serial %s revoked on %s, reason %s; the response is signed by %s and valid from %s", SerialHex(leaf.SerialNumber), st.RevokedAt, st.Reason, st.Responder, st.ThisUpdate),
			Fix:      "install a new certificate on the " + v.peer() + "; a revoked certificate must not be trusted",
		})
	default:
		invalid(fmt.Sprintf("the responder %s says the status of serial %s is unknown", st.Responder, SerialHex(leaf.SerialNumber)))
		st.Status = "unknown"
	}
}

// rfc3339 formats t in UTC, or "" for the zero time.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// orNone is s, or "(none)".
func orNone(s string) string {
	if s == "" {
		return "(no nextUpdate)"
	}
	return s
}
