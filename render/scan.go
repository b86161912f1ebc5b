package render

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tlskit/tlskit/scan"
)

// ScanOptions tune the text view of a scan.
type ScanOptions struct {
	// Brief prints only the summary, the profile and the findings.
	Brief bool
	// Probes also prints every probe with its ladder.
	Probes bool
}

// Scan writes a scan report for a person.
func Scan(w io.Writer, r *scan.Report, o ScanOptions) error {
	p := &printer{w: w}
	head := r.Target
	if r.Address != "" && r.Address != r.Target {
		head += " (" + r.Address + ")"
	}
	head += nameHead(r.ServerName)
	p.f("tlskit scan %s\n", head)
	p.f("  %d connections in %.2f s", r.Connections, r.DurationMS/1000)
	if r.Trust != "" {
		p.f("; trust: %s", r.Trust)
	}
	p.f("\n")
	if !o.Brief {
		scanBody(p, r)
	}
	if pr := r.Profile; pr != nil {
		state := "MET"
		if !pr.Compliant {
			state = fmt.Sprintf("NOT MET (%d deviations)", pr.Deviations)
		}
		p.f("\nPROFILE  %s: %s\n  %s\n", pr.Name, state, pr.Source)
		if pr.Warnings > 0 {
			p.f("  and %d recommendations not followed (warnings below)\n", pr.Warnings)
		}
	}
	for _, pr := range r.Problems {
		p.f("  note: %s\n", pr)
	}
	p.f("\nFINDINGS\n")
	if p.err == nil {
		Findings(w, r.Findings)
	}
	if o.Probes && !o.Brief {
		p.f("\nPROBES\n")
		for _, pr := range r.Probes {
			p.f("\n  probe %d: %s (%.1f ms)\n    offered: %s\n    answer:  %s\n", pr.ID, pr.Purpose, pr.DurationMS, pr.Offered, pr.Answer)
			if p.err == nil {
				var b strings.Builder
				Transcript(&b, pr.Transcript, Options{})
				p.f("%s", indent(strings.TrimPrefix(b.String(), "\nHANDSHAKE\n"), "  "))
			}
		}
	}
	return p.err
}

// scanBody writes the tables of a scan.
func scanBody(p *printer, r *scan.Report) {
	p.f("\nPROTOCOLS\n")
	for _, pr := range r.Protocols {
		mark := "no "
		switch {
		case pr.Accepted:
			mark = "yes"
		case pr.Unknown:
			mark = "?  "
		}
		p.f("  %-8s %s  %s  [probe %d]\n", pr.Version, mark, pr.Answer, pr.Probe)
	}
	if r.Stopped != "" {
		p.f("\n%s", indent(wrap(r.Stopped, 92), "  "))
		return
	}
	if len(r.Versions) > 0 {
		p.f("\nCIPHER SUITES (in the server's order where it has one)\n")
	}
	for i := len(r.Versions) - 1; i >= 0; i-- {
		v := r.Versions[i]
		order := map[string]string{"server": "server order", "client": "client order: the server takes the client's first", "one suite": "one suite"}[v.Order]
		p.f("  %s, %s\n", v.Version, order)
		for _, d := range v.Details {
			note := d.Strength
			if d.Note != "" {
				note += ": " + d.Note
			}
			p.f("    %-6s %-45s %-8s %-6s %-17s %-6s %4d  %-22s %s\n", d.ID, d.Name, d.Kx, d.Auth, d.Cipher, d.MAC, d.Bits, d.KeyExchange, note)
		}
	}
	if len(r.Groups) > 0 {
		order := r.GroupOrder
		switch order {
		case "server":
			order = "server order; preferred " + r.PreferredGroup
		case "client":
			order = "client order: the server takes the client's first"
		}
		p.f("\nGROUPS (%s)\n", order)
		for _, g := range r.Groups {
			bits := ""
			if g.Bits > 0 {
				bits = fmt.Sprintf("%d bits", g.Bits)
			}
			p.f("  %-20s %-20s %-9s %s\n", g.Name, g.Kind, bits, strings.Join(g.Versions, ", "))
		}
	}
	if len(r.SignatureAlgorithms) > 0 {
		p.f("\nSIGNATURE SCHEMES (the server signs with)\n")
		for _, s := range r.SignatureAlgorithms {
			p.f("  %-26s %s\n", s.Name, strings.Join(s.Versions, ", "))
		}
	}
	if !slices.ContainsFunc(r.Protocols, func(pr scan.ProtocolResult) bool { return pr.Accepted }) {
		// No version accepted: the tables below would be empty rows;
		// the findings say why.
		return
	}
	p.f("\nALPN\n")
	if len(r.ALPN.Protocols) > 0 {
		p.f("  %s\n", strings.Join(r.ALPN.Protocols, ", "))
	}
	if r.ALPN.Note != "" {
		p.f("%s", indent(wrap(r.ALPN.Note, 92), "  "))
	}
	p.f("\nCERTIFICATES\n")
	if len(r.Certificates) == 0 {
		p.f("  none read\n")
	}
	for _, c := range r.Certificates {
		var served []string
		if c.WithSNI {
			served = append(served, "with SNI")
		}
		if c.WithoutSNI {
			served = append(served, "without SNI")
		}
		trusted := "✓ trusted"
		if !c.Trusted {
			trusted = "✗ not trusted"
		}
		staple := ""
		if c.OCSPStapled {
			staple = ", OCSP stapled"
		}
		p.f("  %-6s %s, served %s (%s)%s: %s\n", c.KeyType, c.Key, strings.Join(served, " and "), c.Version, staple, trusted)
		for i, ci := range c.Chain {
			p.f("    %d %s\n      issuer %s; %s to %s\n", i, ci.Subject, ci.Issuer, day(ci.NotBefore), day(ci.NotAfter))
		}
	}
	p.f("\nSESSION\n")
	for _, row := range sessionRows(r.Session) {
		p.f("  %-26s %-15s %s\n", row.name, row.f.State, row.f.Detail)
	}
	if s := r.Session; s.TicketLifetime > 0 {
		p.f("  %-26s %d s\n", "ticket lifetime", s.TicketLifetime)
	}
	if h := r.HTTP; h != nil {
		p.f("\nHTTP  %s [probe %d]\n", h.Request, h.Probe)
		if h.Status == "" {
			p.f("%s", indent(wrap("no answer: "+h.Note, 92), "  "))
		} else {
			p.f("  %-26s %s (over %s)\n", "status", h.Status, h.Version)
			hsts := "none"
			switch hs := h.HSTS; {
			case hs.Present && hs.Problem != "":
				hsts = "invalid: " + hs.Problem
			case hs.Present:
				hsts = fmt.Sprintf("max-age %d s (%d days)", hs.MaxAge, hs.MaxAge/86400)
				if hs.IncludeSubDomains {
					hsts += ", includeSubDomains"
				}
				if hs.Preload {
					hsts += ", preload"
				}
			}
			p.f("  %-26s %s\n", "Strict-Transport-Security", hsts)
			enc := h.ContentEncoding
			if enc == "" {
				enc = "none (not compressed)"
			}
			p.f("  %-26s %s\n", "Content-Encoding", enc)
		}
	}
	if len(r.Vulnerabilities) > 0 {
		p.f("\nVULNERABILITIES (as testssl.sh names them)\n")
	}
	for _, v := range r.Vulnerabilities {
		name := v.Name
		if len(v.CVE) > 0 {
			name += " (" + v.CVE[0] + ")"
		}
		state := v.State
		if state == scan.Vulnerable || state == scan.PotentiallyVulnerable {
			state = strings.ToUpper(state)
		}
		p.f("  %-44s %-22s %s\n", name, state, v.Detail)
	}
	if len(r.Clients) > 0 {
		p.f("\nWHO CAN CONNECT\n")
	}
	for _, c := range r.Clients {
		if !c.Connects {
			p.f("  ✗ %-34s %s\n", c.Client, c.Reason)
			continue
		}
		p.f("  ✓ %-34s %-8s %-45s %-16s %s\n", c.Client, c.Version, c.Suite, c.Group, c.Certificate)
		trust := c.TrustDetail
		switch {
		case c.Trusted != nil && *c.Trusted:
			trust = "✓ " + c.TrustStore + " trusts the chain"
		case c.Trusted != nil:
			trust = "✗ " + c.TrustStore + " does not trust the chain: " + c.TrustDetail
		}
		if trust != "" {
			p.f("%s", indent(wrap("trust: "+trust, 90), "      "))
		}
		if c.Reason != "" {
			p.f("%s", indent(wrap("note: "+c.Reason, 90), "      "))
		}
	}
}

// sessionRow is a session feature as both scan reports show it.
type sessionRow struct {
	name       string
	f          scan.Feature
	heartbleed bool // its state says vulnerable or not
}

// sessionRows returns a scan's session features in the reports' order,
// with Heartbleed's states said as a vulnerability.
func sessionRows(s scan.SessionFeatures) []sessionRow {
	rows := []sessionRow{
		{name: "resumption by session id", f: s.ResumptionID}, {name: "resumption by ticket", f: s.ResumptionTicket},
		{name: "TLS 1.3 PSK resumption", f: s.PSK13}, {name: "TLS 1.3 0-RTT", f: s.EarlyData},
		{name: "extended master secret", f: s.ExtendedMasterSec}, {name: "encrypt-then-MAC", f: s.EncryptThenMAC},
		{name: "secure renegotiation", f: s.SecureRenegotiation}, {name: "client renegotiation", f: s.ClientRenegotiation},
		{name: "TLS_FALLBACK_SCSV", f: s.FallbackSCSV}, {name: "version tolerance", f: s.VersionTolerance},
		{name: "compression", f: s.Compression},
		{name: "heartbeat", f: s.Heartbeat}, {name: "Heartbleed", f: s.Heartbleed, heartbleed: true},
		{name: "OCSP stapling", f: s.OCSPStapling}, {name: "client certificate", f: s.ClientCertificate},
	}
	for i, r := range rows {
		switch {
		case r.heartbleed && r.f.State == scan.Supported:
			rows[i].f.State = "VULNERABLE"
		case r.heartbleed && r.f.State == scan.NotSupported:
			rows[i].f.State = "not vulnerable"
		}
	}
	return rows
}
