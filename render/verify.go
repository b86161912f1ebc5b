package render

import (
	"io"
	"strings"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/trust"
)

// ChainReport writes a `tlskit verify` report for a person: the chain as
// given, the verified path, the stapled OCSP response and what --fetch
// fetched, the verdict, and the findings; the chain section of a check
// report.
func ChainReport(w io.Writer, r *diagnose.ChainReport, o Options) error {
	p := &printer{w: w}
	now := time.Now()
	if o.Time != nil {
		now = o.Time()
	}
	head := r.File
	if r.ServerName != "" {
		head += ", name " + r.ServerName
	}
	if r.Purpose == "client" {
		head += ", as a client certificate"
	}
	p.f("tlskit verify %s\n", head)
	if !o.Brief {
		p.f("\nCERTIFICATE CHAIN (as given, leaf first)\n")
		if len(r.Chain) == 0 {
			p.f("  (no certificate parses)\n")
		}
		for i, c := range r.Chain {
			Cert(w, i, c, now)
		}
		p.f("\nVERIFIED PATH")
		if len(r.VerifiedPath) == 0 {
			p.f("  none\n")
		} else {
			p.f("\n")
			for i, c := range r.VerifiedPath {
				p.f("  %d %s\n", i, c.Subject)
			}
		}
		OCSP(w, r.OCSP)
		Fetched(w, r.Fetched)
	}
	p.f("\nVERDICT  %s\n", strings.ToUpper(string(r.Verdict)))
	p.f("  trust: %s\n", r.Trust)
	if r.Profile != "" {
		p.f("  profile: %s, verified at %s\n", r.Profile, r.VerifyTime)
	}
	AddFlags(r.Findings, o.Flags)
	FindingsWidth(w, r.Findings, o.width())
	return p.err
}

// OCSP writes the stapled OCSP response, if any.
func OCSP(w io.Writer, s *trust.OCSPStatus) {
	if s == nil {
		return
	}
	p := &printer{w: w}
	p.f("\nOCSP STAPLE  %s\n", strings.ToUpper(s.Status))
	if s.Responder != "" {
		p.f("  signed by   %s\n", s.Responder)
	}
	if s.ThisUpdate != "" {
		next := s.NextUpdate
		if next == "" {
			next = "(no nextUpdate)"
		}
		p.f("  valid       %s → %s (produced %s)\n", day(s.ThisUpdate), day(next), day(s.ProducedAt))
	}
	if s.RevokedAt != "" {
		p.f("  revoked     %s, reason %s\n", day(s.RevokedAt), s.Reason)
	}
	if s.Problem != "" {
		p.f("%s", indent(wrap("problem: "+s.Problem, 88), "  "))
	}
}

// Fetched writes what --fetch fetched, if anything.
func Fetched(w io.Writer, fs []trust.Fetched) {
	if len(fs) == 0 {
		return
	}
	p := &printer{w: w}
	p.f("\nFETCHED (--fetch)\n")
	for _, f := range fs {
		used := ""
		if f.Used {
			used = " [used]"
		}
		got := f.Got
		if !f.CachedAt.IsZero() {
			got += " (kept from a fetch at " + f.CachedAt.UTC().Format(time.RFC3339) + ")"
		}
		p.f("  %-6s %s%s\n", f.Kind, f.URL, used)
		p.f("%s", indent(wrap("for "+f.For+": "+got, 88), "         "))
	}
}
