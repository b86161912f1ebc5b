package diagnose

import (
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/trust"
)

// ChainReport is the account of one offline chain verification: what
// `tlskit verify --json` prints. Its chain, verified path and findings have
// the shape of a check [Report]'s.
type ChainReport struct {
	// File is the chain file verified.
	File string `json:"file"`
	// ServerName is the name verified (a DNS name or an IP address); empty
	// when none was given.
	ServerName string `json:"server_name,omitempty"`
	// Purpose is "server" (serverAuth) or "client" (clientAuth).
	Purpose string `json:"purpose"`
	// Trust says in one line which anchors the chain was verified against.
	Trust string `json:"trust"`
	// Profile is the rule set the chain was judged by: webpki or rfc5280.
	Profile string `json:"profile,omitempty"`
	// VerifyTime is the verification time, RFC 3339.
	VerifyTime string `json:"verify_time"`
	// Verdict is trusted or untrusted.
	Verdict Verdict `json:"verdict"`
	// Chain is the chain as given, leaf first (certificates that parse).
	Chain []trust.CertInfo `json:"chain"`
	// VerifiedPath is the path that satisfied the policy, leaf to anchor.
	VerifiedPath []trust.CertInfo `json:"verified_path,omitempty"`
	// OCSP is the OCSP response given, as validated.
	OCSP *trust.OCSPStatus `json:"ocsp,omitempty"`
	// Fetched lists what --fetch fetched.
	Fetched []trust.Fetched `json:"fetched,omitempty"`
	// Findings are the explained problems, most serious first.
	Findings []finding.Finding `json:"findings"`
}

// ChainVerdict sums up a verification of the chain in file into its
// report. purpose is "server" or "client".
func ChainVerdict(file, name, purpose string, v *trust.Verifier, at time.Time, res *trust.Result) *ChainReport {
	r := &ChainReport{
		File:       file,
		ServerName: name,
		Purpose:    purpose,
		Trust:      v.Describe(),
		VerifyTime: at.UTC().Format(time.RFC3339),
		Verdict:    Untrusted,
		Chain:      []trust.CertInfo{},
		OCSP:       res.OCSP,
		Fetched:    res.Fetched,
		Findings:   res.Findings,
	}
	if len(res.Sent) > 0 {
		r.Profile = res.Profile.String()
	}
	if res.Trusted {
		r.Verdict = Trusted
	}
	for _, c := range res.Sent {
		r.Chain = append(r.Chain, trust.Describe(c))
	}
	if len(res.Verified) > 0 {
		for _, c := range res.Verified[0] {
			r.VerifiedPath = append(r.VerifiedPath, trust.Describe(c))
		}
	}
	if r.Findings == nil {
		r.Findings = []finding.Finding{}
	}
	return r
}
