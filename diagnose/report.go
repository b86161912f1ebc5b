package diagnose

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/transcript"
	"github.com/tlskit/tlskit/trust"
	"github.com/tlskit/tlskit/truststore"
)

// Report is the whole account of one connection: what `tlskit check --json`
// prints, and one entry of `tlskit pcap --json`.
type Report struct {
	// Target is what was checked, e.g. "example.com:443".
	Target string `json:"target"`
	// Address is the IP address and port actually connected to.
	Address string `json:"address,omitempty"`
	// ServerName is the name sent as SNI and verified.
	ServerName string `json:"server_name,omitempty"`
	// Verdict is trusted, untrusted, unverified or failed.
	Verdict Verdict `json:"verdict"`
	// Insecure is set when the user turned verification off (--insecure).
	Insecure bool `json:"insecure,omitempty"`
	// Version, CipherSuite and ALPN are what the handshake negotiated.
	Version     string `json:"version,omitempty"`
	CipherSuite string `json:"cipher_suite,omitempty"`
	ALPN        string `json:"alpn,omitempty"`
	// Transcript lists every message, alert and close, in order.
	Transcript []transcript.Event `json:"transcript"`
	// Closed says who ended the connection and how.
	Closed *transcript.Closure `json:"closed,omitempty"`
	// Chain is the server's certificate chain as sent, leaf first.
	Chain []trust.CertInfo `json:"chain"`
	// VerifiedPath is the chain that satisfied the policy, leaf to anchor.
	VerifiedPath []trust.CertInfo `json:"verified_path,omitempty"`
	// Findings are the explained problems, most serious first.
	Findings []finding.Finding `json:"findings"`
	// Stacks says which TLS stacks on this machine would trust the chain
	// (check --stacks).
	Stacks []truststore.StackVerdict `json:"stacks,omitempty"`
	// Problems are things the decoder could not make sense of.
	Problems []string `json:"problems,omitempty"`
	// Started is when the check began; DurationMS how long it took.
	Started    time.Time `json:"started,omitzero"`
	DurationMS float64   `json:"duration_ms,omitempty"`
}

// Fill sets the report's transcript-derived fields, findings and verdict
// from in.
func (r *Report) Fill(in Input) {
	tr := in.Transcript
	if tr != nil {
		r.Transcript = tr.Events
		r.Closed = tr.Closed
		r.Problems = tr.Problems
		if tr.Version != 0 {
			r.Version = tr.Version.String()
		}
		if tr.CipherSuite != 0 {
			r.CipherSuite = tr.CipherSuite.String()
		}
		r.ALPN = tr.ALPN
	}
	if r.Transcript == nil {
		r.Transcript = []transcript.Event{}
	}
	r.Chain = []trust.CertInfo{}
	if v := in.Verify; v != nil {
		for _, c := range v.Sent {
			r.Chain = append(r.Chain, trust.Describe(c))
		}
		if len(v.Verified) > 0 {
			for _, c := range v.Verified[0] {
				r.VerifiedPath = append(r.VerifiedPath, trust.Describe(c))
			}
		}
	}
	r.Findings = Findings(in)
	if r.Findings == nil {
		r.Findings = []finding.Finding{}
	}
	r.Verdict = VerdictOf(in, r.Findings)
}

// ServerChain returns the certificates of the server's first Certificate
// message in tr, leaf first. It returns nil, nil when the server sent none.
func ServerChain(tr *transcript.Transcript) ([]*x509.Certificate, error) {
	if tr == nil {
		return nil, nil
	}
	e := tr.First(transcript.Server, "certificate")
	if e == nil {
		return nil, nil
	}
	m, ok := e.Message.(*wire.Certificate)
	if !ok {
		return nil, nil
	}
	var chain []*x509.Certificate
	for i, der := range m.Certificates() {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return chain, fmt.Errorf("diagnose: certificate %d of the server's chain does not parse: %w", i, err)
		}
		chain = append(chain, c)
	}
	return chain, nil
}
