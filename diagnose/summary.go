package diagnose

import (
	"cmp"
	"slices"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/trust"
)

// Summary sums up the reports of a run over many targets (`check
// --targets`): what render prints after them.
type Summary struct {
	// Targets is how many targets were checked.
	Targets int `json:"targets"`
	// Verdicts counts the targets by verdict, in the order trusted,
	// untrusted, unverified, unknown, failed; verdicts no target had are left out.
	Verdicts []VerdictCount `json:"verdicts"`
	// Findings counts the findings by id, most frequent first (then by
	// severity and id).
	Findings []FindingCount `json:"findings"`
	// Expiring lists the certificates that expire first, soonest first:
	// every distinct certificate (by SHA-256) of the sent chains and
	// verified paths, at most [SummaryExpiring] of them.
	Expiring []ExpiringCert `json:"expiring"`
}

// SummaryExpiring is how many certificates [Summary.Expiring] lists.
const SummaryExpiring = 10

// VerdictCount is how many targets had a verdict.
type VerdictCount struct {
	Verdict Verdict `json:"verdict"`
	Count   int     `json:"count"`
}

// FindingCount is how many targets had a finding id, and its worst
// severity among them.
type FindingCount struct {
	ID       string           `json:"id"`
	Severity finding.Severity `json:"severity"`
	// Count is the number of findings with this id, over all targets.
	Count int `json:"count"`
	// Targets is the number of targets with at least one.
	Targets int `json:"targets"`
}

// ExpiringCert is a certificate and the first target it was seen at.
type ExpiringCert struct {
	// NotAfter is the end of its validity, RFC 3339.
	NotAfter string `json:"not_after"`
	Subject  string `json:"subject"`
	Issuer   string `json:"issuer"`
	SHA256   string `json:"sha256"`
	// Target is the first target (in input order) that sent it, and
	// Targets how many did.
	Target  string `json:"target"`
	Targets int    `json:"targets"`

	at time.Time
}

// Summarizer adds reports up one at a time, keeping counts and one entry
// per distinct certificate rather than the reports.
type Summarizer struct {
	targets  int
	verdicts map[Verdict]int
	findings map[string]*FindingCount
	certs    map[string]*ExpiringCert
}

// NewSummarizer returns an empty Summarizer.
func NewSummarizer() *Summarizer {
	return &Summarizer{verdicts: map[Verdict]int{}, findings: map[string]*FindingCount{}, certs: map[string]*ExpiringCert{}}
}

// Add counts one target's report.
func (s *Summarizer) Add(rep *Report) {
	s.targets++
	s.verdicts[rep.Verdict]++
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		fc := s.findings[f.ID]
		if fc == nil {
			fc = &FindingCount{ID: f.ID, Severity: f.Severity}
			s.findings[f.ID] = fc
		}
		fc.Count++
		if !seen[f.ID] {
			fc.Targets++
			seen[f.ID] = true
		}
		if rank(f.Severity) < rank(fc.Severity) {
			fc.Severity = f.Severity
		}
	}
	counted := map[string]bool{}
	add := func(c trust.CertInfo) {
		if c.SHA256 == "" || counted[c.SHA256] {
			return
		}
		counted[c.SHA256] = true
		if e := s.certs[c.SHA256]; e != nil {
			e.Targets++
			return
		}
		at, err := time.Parse(time.RFC3339, c.NotAfter)
		if err != nil {
			return
		}
		s.certs[c.SHA256] = &ExpiringCert{NotAfter: c.NotAfter, Subject: c.Subject, Issuer: c.Issuer, SHA256: c.SHA256, Target: rep.Target, Targets: 1, at: at}
	}
	for _, c := range rep.Chain {
		add(c)
	}
	for _, c := range rep.VerifiedPath {
		add(c)
	}
}

func rank(s finding.Severity) int {
	switch s {
	case finding.Error:
		return 0
	case finding.Warning:
		return 1
	}
	return 2
}

// Summary returns the sums so far.
func (s *Summarizer) Summary() Summary {
	out := Summary{Targets: s.targets, Verdicts: []VerdictCount{}, Findings: []FindingCount{}, Expiring: []ExpiringCert{}}
	for _, v := range []Verdict{Trusted, Untrusted, Unverified, Unknown, Failed} {
		if n := s.verdicts[v]; n > 0 {
			out.Verdicts = append(out.Verdicts, VerdictCount{v, n})
		}
	}
	for _, fc := range s.findings {
		out.Findings = append(out.Findings, *fc)
	}
	slices.SortFunc(out.Findings, func(a, b FindingCount) int {
		return cmp.Or(cmp.Compare(b.Targets, a.Targets), cmp.Compare(rank(a.Severity), rank(b.Severity)), cmp.Compare(a.ID, b.ID))
	})
	for _, c := range s.certs {
		out.Expiring = append(out.Expiring, *c)
	}
	slices.SortFunc(out.Expiring, func(a, b ExpiringCert) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.SHA256, b.SHA256))
	})
	if len(out.Expiring) > SummaryExpiring {
		out.Expiring = out.Expiring[:SummaryExpiring]
	}
	return out
}
