package diagnose

import (
	"context"
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
	// Address is the IP address and port actually connected to; for a
	// check of one of a name's addresses (fleet's Target.Via), that
	// address, whether the connection opened or not.
	Address string `json:"address,omitempty"`
	// DialFailures are the addresses of the target's name tried in vain,
	// in order: before Address (net.fallback), or each one tried when
	// none connected. Absent for a target given as an IP address.
	DialFailures []Attempt `json:"dial_failures,omitempty"`
	// ServerName is the name sent as SNI and verified.
	ServerName string `json:"server_name"`
	// Trust says in one line which anchors the chain was verified
	// against: "1 certificate from corp-root.pem; system roots not
	// included".
	Trust string `json:"trust"`
	// Verdict is trusted, untrusted, unverified, unknown (pcap only) or
	// failed.
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
	// StartTLS is the in-band upgrade that preceded TLS, if any: the
	// protocol, the outcome, the capabilities and the reply.
	StartTLS *transcript.Upgrade `json:"starttls,omitempty"`
	// Chain is the server's certificate chain as sent, leaf first.
	Chain []trust.CertInfo `json:"chain"`
	// VerifiedPath is the chain that satisfied the policy, leaf to anchor.
	VerifiedPath []trust.CertInfo `json:"verified_path"`
	// Profile is the rule set the chain was judged by: webpki or rfc5280
	// (trust.Profile).
	Profile string `json:"profile,omitempty"`
	// OCSP is the stapled OCSP response, as validated.
	OCSP *trust.OCSPStatus `json:"ocsp,omitempty"`
	// Fetched lists what --fetch fetched.
	Fetched []trust.Fetched `json:"fetched,omitempty"`
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

// Attempt is one address a connection was tried to in vain, as a
// [Report] shows it.
type Attempt struct {
	// Address is the IP address and port.
	Address string `json:"address"`
	// Outcome says how the attempt ended: refused, timeout, unreachable
	// (no route), superseded (another address connected first: Happy
	// Eyeballs) or failed (any other error).
	Outcome string `json:"outcome"`
	// Error is the attempt's error as Go's net package gave it.
	Error string `json:"error"`
}

// Attempts returns fs as a report shows them; nil for none.
func Attempts(fs []DialFailure) []Attempt {
	var out []Attempt
	for _, f := range fs {
		outcome, _ := attemptOutcome(f.Err)
		out = append(out, Attempt{Address: f.Address, Outcome: outcome, Error: f.Err.Error()})
	}
	return out
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
	// Context bounds what the verifier fetches (trust.Verifier.Fetch);
	// nil means context.Background.
	Context context.Context
	// ExpiringWithin, when positive, warns (cert.expiring-soon) about each
	// certificate that expires within this long of Time: the server's
	// leaf, every certificate of the verified path, and ClientCertificate.
	ExpiringWithin time.Duration
	// ClientCertificate is the certificate the client presents, if any,
	// for ExpiringWithin.
	ClientCertificate *x509.Certificate
	// Chains, when set, remembers verifications and descriptions across
	// analyses (see [ChainCache]).
	Chains *ChainCache
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
	ders, staple, asked := ServerCertificates(in.Transcript)
	var chain []*x509.Certificate
	if len(ders) == 0 {
		chain = a.Fallback
	}
	if (len(ders) > 0 || len(chain) > 0) && a.Verifier != nil {
		in.Verify = a.Chains.check(a.Verifier, trust.Request{Chain: chain, DER: ders, Name: a.ServerName, Time: a.Time,
			OCSP: staple, Stapling: asked, Context: a.Context})
		chain = in.Verify.Sent
		for i := range in.Verify.Findings {
			if f := &in.Verify.Findings[i]; a.NameNote != "" && strings.HasPrefix(f.ID, "name.") {
				f.Detail += " " + a.NameNote
			}
		}
	} else if len(ders) > 0 {
		chain, _ = ServerChain(in.Transcript)
	}
	r.fill(in, a.Chains)
	if in.Verify != nil {
		r.OCSP = in.Verify.OCSP
		r.Fetched = in.Verify.Fetched
		if len(in.Verify.Sent) > 0 {
			r.Profile = in.Verify.Profile.String()
		}
	}
	if a.ExpiringWithin > 0 {
		at := a.Time
		if at.IsZero() {
			at = time.Now()
		}
		r.Findings = append(r.Findings, expiryFindings(in.Verify, chain, a.ClientCertificate, at, a.ExpiringWithin)...)
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
func (r *Report) fill(in Input, cache *ChainCache) {
	tr := in.Transcript
	if tr != nil {
		r.Transcript = tr.Events
		r.Closed = tr.Closed
		r.StartTLS = tr.StartTLS
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
			r.Chain = append(r.Chain, cache.describe(c))
		}
		if len(v.Verified) > 0 {
			for _, c := range v.Verified[0] {
				r.VerifiedPath = append(r.VerifiedPath, cache.describe(c))
			}
		}
	}
	if r.Problems == nil {
		r.Problems = []string{}
	}
	r.DialFailures = Attempts(in.DialFailures)
	r.SecondLook = in.SecondLook.Summary()
	r.Findings = Findings(in)
	if r.Findings == nil {
		r.Findings = []finding.Finding{}
	}
	r.Verdict = VerdictOf(in, r.Findings)
}

// ServerCertificates returns the DER certificates of the server's first
// Certificate message in tr, leaf first, the OCSP response stapled to it
// (TLS 1.2 CertificateStatus, or the leaf entry's status_request in TLS
// 1.3), and whether the client asked for one (status_request in its
// ClientHello).
func ServerCertificates(tr *transcript.Transcript) (ders [][]byte, staple []byte, asked bool) {
	if tr == nil {
		return nil, nil, false
	}
	if e := tr.First(transcript.Client, "client_hello"); e != nil {
		if ch, ok := e.Message.(*wire.ClientHello); ok {
			asked = ch.Extensions.Has(wire.ExtStatusRequest)
		}
	}
	e := tr.First(transcript.Server, "certificate")
	if e == nil {
		return nil, nil, asked
	}
	m, ok := e.Message.(*wire.Certificate)
	if !ok {
		return nil, nil, asked
	}
	ders = m.Certificates()
	if len(m.Entries) > 0 {
		if cs, ok := m.Entries[0].Extensions.Find(wire.ExtStatusRequest).Parsed.(*wire.CertificateStatus); ok {
			staple = cs.Response
		}
	}
	if st := tr.First(transcript.Server, "certificate_status"); st != nil && staple == nil {
		if cs, ok := st.Message.(*wire.CertificateStatus); ok {
			staple = cs.Response
		}
	}
	return ders, staple, asked
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
