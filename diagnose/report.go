package diagnose

import (
	"crypto/x509"
	"fmt"
	"strings"
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
	ServerName string `json:"server_name"`
	// Trust says in one line which anchors the chain was verified
	// against: "1 certificate from corp-root.pem; system roots not
	// included".
	Trust string `json:"trust"`
	// Verdict is trusted, untrusted, unverified or failed.
	Verdict Verdict `json:"verdict"`
	// Insecure is set when the user turned verification off (--insecure).
	Insecure bool `json:"insecure"`
	// Version, CipherSuite and ALPN are what the handshake negotiated.
	Version     string `json:"version"`
	CipherSuite string `json:"cipher_suite"`
	ALPN        string `json:"alpn"`
	// Transcript lists every message, alert and close, in order.
	Transcript []transcript.Event `json:"transcript"`
	// Closed says who ended the connection and how.
	Closed *transcript.Closure `json:"closed,omitempty"`
	// Chain is the server's certificate chain as sent, leaf first.
	Chain []trust.CertInfo `json:"chain"`
	// VerifiedPath is the chain that satisfied the policy, leaf to anchor.
	VerifiedPath []trust.CertInfo `json:"verified_path"`
	// Findings are the explained problems, most serious first.
	Findings []finding.Finding `json:"findings"`
	// Stacks says which TLS stacks on this machine would trust the chain
	// (check --stacks).
	Stacks []truststore.StackVerdict `json:"stacks,omitempty"`
	// SecondLook is what ClientHellos of tlskit's own learned after the
	// server refused its first: what the server chose when offered
	// everything, and the versions it accepts alone.
	SecondLook *LookSummary `json:"second_look,omitempty"`
	// Problems are things the decoder could not make sense of.
	Problems []string `json:"problems"`
	// Started is when the check began; DurationMS how long it took.
	Started    time.Time `json:"started,omitzero"`
	DurationMS float64   `json:"duration_ms,omitempty"`
}

// Analysis is everything known about one connection attempt, as `tlskit
// check` (live) and `tlskit pcap` (offline) gather it: the protocol facts
// (Input), the verifier to judge the server's chain with, the name and time
// to judge it for.
type Analysis struct {
	Input
	// Verifier is the trust policy, resolved. Nil verifies nothing: the
	// report then has no chain verdict (and says so in Trust).
	Verifier *trust.Verifier
	// ServerName is the name the server's certificate must carry; empty
	// only where it cannot be known (a capture without SNI), which the
	// verification reports as name.not-checked.
	ServerName string
	// NameNote, if set, says where ServerName came from when that is not
	// obvious (a capture without SNI); it is added to name findings.
	NameNote string
	// Time is when the chain is verified; zero means now.
	Time time.Time
	// Insecure says the user turned verification off (--insecure): the
	// chain is still verified and every finding kept, and the report says
	// so loudly in a verify.skipped warning.
	Insecure bool
	// Fallback is the server's chain as the TLS stack received it, used
	// when the transcript holds no readable Certificate message.
	Fallback []*x509.Certificate
	// Stacks, when set, also asks which TLS stacks on this machine would
	// trust the chain (check --stacks).
	Stacks *truststore.Options
}

// Analyze turns a connection's facts into its report: the transcript, the
// chain and its verification, every finding sorted most serious first, and
// the verdict. It is the one analysis step of tlskit: probe and capture
// both call it and only add where the bytes came from (address, times).
func Analyze(a Analysis) *Report {
	in := a.Input
	r := &Report{Target: in.Target, ServerName: a.ServerName, Insecure: a.Insecure}
	if a.Verifier != nil {
		r.Trust = a.Verifier.Describe()
	}
	chain, perr := ServerChain(in.Transcript)
	if len(chain) == 0 && perr == nil {
		chain = a.Fallback
	}
	if len(chain) > 0 && a.Verifier != nil {
		in.Verify = a.Verifier.Verify(chain, a.ServerName, a.Time)
		for i := range in.Verify.Findings {
			if f := &in.Verify.Findings[i]; a.NameNote != "" && strings.HasPrefix(f.ID, "name.") {
				f.Detail += " " + a.NameNote
			}
		}
	}
	r.fill(in)
	if perr != nil {
		r.Findings = append(r.Findings, finding.Finding{ID: finding.ChainInvalid, Severity: finding.Error,
			Title: "The server sent a certificate that does not parse", Detail: perr.Error(),
			Fix: "Replace the malformed certificate in the server's configuration."})
	}
	if a.Insecure {
		r.Findings = append(r.Findings, finding.Finding{ID: finding.VerifySkipped, Severity: finding.Warning,
			Title:   "Certificate verification was turned off",
			Detail:  "You asked to connect without trusting the verification result. The chain was still verified and its findings are listed, but this check does not fail on them.",
			Fix:     "Turn verification back on; to reach a server with a private CA, trust that CA explicitly (a trust source) or pin its key instead.",
			Setting: finding.SettingInsecure})
	}
	if a.Stacks != nil && len(chain) > 0 {
		opts := *a.Stacks
		if !a.Time.IsZero() {
			at := a.Time
			opts.Time = func() time.Time { return at }
		}
		v, err := truststore.WhoTrusts(opts, chain, a.ServerName)
		if err != nil {
			r.Problems = append(r.Problems, "which stacks trust the chain: "+err.Error())
		}
		r.Stacks = v
		MarkStricter(r.Stacks, in.Verify)
	}
	finding.Sort(r.Findings)
	r.Verdict = VerdictOf(in, r.Findings)
	return r
}

// fill sets the report's transcript-derived fields, findings and verdict
// from in.
func (r *Report) fill(in Input) {
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
	r.VerifiedPath = []trust.CertInfo{}
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
	if r.Problems == nil {
		r.Problems = []string{}
	}
	r.SecondLook = in.SecondLook.Summary()
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
