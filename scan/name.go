package scan

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/wire"
)

// This file tells a server that refuses the scan's server name from one
// that refuses what the hellos offer. A server with no certificate or no
// site for the name ends every handshake that asks for it: with
// unrecognized_name (OpenSSL's -servername_fatal, nginx's
// ssl_reject_handshake) or, in servers written in Go (Caddy, Traefik),
// with internal_error, the alert crypto/tls sends when GetCertificate
// fails. A scan that took those refusals for refused versions called the
// server's TLS 1.2 "no" and blamed its suites. One hello without the name
// tells them apart.

// nameRefusal is what showed that the server refuses the name.
type nameRefusal struct {
	alert   wire.AlertDescription
	refused []*result // the version probes, and the TLS 1.3 retry, refused with alert
	retry   *result   // TLS 1.3 with the HelloRetryRequest's group, when there was one
	hrr     *result   // the TLS 1.3 version probe answered with a HelloRetryRequest
	look    *result   // the same hello as refused[0] without the name: answered, or (failing) internal_error too
	// failing: the hello without the name was refused with internal_error
	// too, so the name cannot be told apart: the server fails every hello
	// on its own side (a Go server with sites for named hosts only).
	failing bool
}

// nameAlert reports whether an alert is how servers refuse a name.
func nameAlert(a *wire.Alert) bool {
	return a != nil && (a.Description == 80 || a.Description == 112)
}

// singleVersion is the one TLS version a probe's hello offered, or 0.
func singleVersion(r *result) wire.Version {
	if r.hello == nil {
		return 0
	}
	if vs := r.hello.OfferedVersions(); len(vs) == 1 && vs[0] >= wire.VersionTLS10 && vs[0] <= wire.VersionTLS13 {
		return vs[0]
	}
	return 0
}

// nameLook asks whether the server refuses the server name: when no
// version probe got a ServerHello and some were refused with
// internal_error or unrecognized_name, the highest of those hellos is sent
// again without the name (and a TLS 1.3 hello that got a
// HelloRetryRequest is sent again with the group asked for, to see how
// it ends). The name is refused when the hello without it is answered and
// no hello with it got a ServerHello. nil when it is not, or not asked.
func (s *scanner) nameLook(ctx context.Context) *nameRefusal {
	if s.sni == "" {
		return nil
	}
	var first, hrr *result
	for _, r := range s.versionResults {
		switch {
		case r.sh != nil:
			return nil // a hello with the name was answered
		case r.hrr != nil && r.version == wire.VersionTLS13:
			hrr = r
		case nameAlert(r.alert) && singleVersion(r) != 0:
			if first == nil || singleVersion(r) > singleVersion(first) {
				first = r
			}
		}
	}
	if first == nil {
		return nil
	}
	v := singleVersion(first)
	if hrr != nil && !canShare(hrr.group) {
		return nil // how TLS 1.3 ends for the name cannot be seen
	}
	nr := &nameRefusal{alert: first.alert.Description, hrr: hrr}
	var wg sync.WaitGroup
	n := 1
	if hrr != nil {
		n++
		wg.Go(func() {
			sp := s.baseSpec(wire.VersionTLS13)
			sp.shares = []wire.NamedGroup{hrr.group}
			nr.retry = s.probe(ctx, fmt.Sprintf("TLS 1.3 with a %v key share, as the HelloRetryRequest of probe %d asked", hrr.group, hrr.probe), sp, toServerHello, afterHandshake{}, nil)
		})
	}
	s.progress(n, "the server name")
	sp := s.baseSpec(v)
	sp.sni = ""
	if v == wire.VersionTLS13 {
		sp.shares = []wire.NamedGroup{wire.GroupX25519}
	}
	nr.look = s.probe(ctx, fmt.Sprintf("%s without a server name (probe %d, with it, was refused with %v)", v, first.probe, first.alert.Description), sp, toServerHello, afterHandshake{}, nil)
	wg.Wait()
	answered := (nr.look.sh != nil || nr.look.hrr != nil) && nr.look.version == v
	nr.failing = nr.alert == 80 && nr.look.alert != nil && nr.look.alert.Description == 80
	if !answered && !nr.failing {
		return nil
	}
	if r := nr.retry; r != nil {
		if r.sh != nil || r.alert == nil || r.alert.Description != nr.alert {
			return nil // TLS 1.3 serves the name, or fails for another reason
		}
	}
	for _, r := range append(slices.Clone(s.versionResults), nr.retry) {
		if r != nil && r.alert != nil && r.alert.Description == nr.alert && singleVersion(r) != 0 {
			nr.refused = append(nr.refused, r)
		}
	}
	return nr
}

// nameRefused reports a refused name and ends the scan there: past the
// refusal nothing the server accepts for the name can be seen, and what
// it accepts without the name is another server's (another site's)
// configuration.
func (s *scanner) nameRefused(nr *nameRefusal) {
	rep := s.rep
	inRefused := func(probe int) bool {
		return slices.ContainsFunc(nr.refused, func(r *result) bool { return r.probe == probe })
	}
	for i, p := range rep.Protocols {
		if p.Accepted || !inRefused(p.Probe) {
			continue
		}
		rep.Protocols[i].Unknown = true
		rep.Protocols[i].Answer = fmt.Sprintf("not known for this name: alert %v, the server's refusal of the name", nr.alert)
		if nr.failing {
			rep.Protocols[i].Answer = fmt.Sprintf("not known: alert %v, the server failing on its own side", nr.alert)
		} else if versionOf(p.Version) == nr.look.version {
			rep.Protocols[i].Answer += fmt.Sprintf("; without a server name: %s (probe %d)", nr.look.answer(), nr.look.probe)
		}
	}
	if nr.retry != nil {
		for i, p := range rep.Protocols {
			if p.Probe == nr.hrr.probe {
				rep.Protocols[i].Answer += fmt.Sprintf("; with that key share: alert %v (probe %d)", nr.retry.alert, nr.retry.probe)
			}
		}
	}
	var how []string
	var vs []string
	for _, r := range nr.refused {
		if r != nr.retry {
			vs = append(vs, singleVersion(r).String())
		}
	}
	if len(vs) > 0 {
		how = append(how, fmt.Sprintf("%s refused with alert %v", finding.ListAnd(vs), nr.alert))
	}
	if nr.retry != nil {
		how = append(how, fmt.Sprintf("TLS 1.3 answered with a HelloRetryRequest for %v (probe %d), then refused with alert %v the hello that offered that key share (probe %d)", nr.hrr.group, nr.hrr.probe, nr.retry.alert.Description, nr.retry.probe))
	}
	if nr.failing {
		s.serverFailing(nr, how)
		return
	}
	detail := fmt.Sprintf("No hello with the server name %q got a ServerHello: %s. The same %s hello without a server name (SNI) was answered (%s, probe %d): the server has no certificate, or no site, for %q.",
		s.sni, finding.ListAnd(how), nr.look.version, nr.look.answer(), nr.look.probe, s.sni)
	if nr.alert == 80 {
		detail += " Servers written in Go (Caddy, Traefik) end such a handshake with internal_error rather than unrecognized_name."
	}
	detail += " The scan stops here: what the server accepts for this name cannot be seen past the refusal, and without the name it is another site's configuration."
	rep.Findings = append(rep.Findings, finding.Finding{ID: finding.SNIUnrecognizedName, Severity: finding.Error,
		Title:    fmt.Sprintf("The server does not serve the name %q", s.sni),
		Detail:   detail,
		Fix:      "Scan with the name the server is configured for as the server name (SNI), or add this name to the server's sites and certificates.",
		Setting:  finding.SettingServerName,
		Evidence: nr.evidence(s.versionResults)})
	rep.Stopped = fmt.Sprintf("The scan stopped after the protocol versions: the server refuses the server name %q (see the findings).", s.sni)
}

// serverFailing reports a server that ends every hello with
// internal_error, with the name and without: the name cannot be told
// apart, and nothing past the failure can be seen.
func (s *scanner) serverFailing(nr *nameRefusal, how []string) {
	s.rep.Findings = append(s.rep.Findings, finding.Finding{ID: finding.ProtocolAlert, Severity: finding.Error,
		Title: fmt.Sprintf("The server ends every handshake with internal_error, with the server name %q and without one", s.sni),
		Detail: fmt.Sprintf("No hello got a ServerHello: %s; the same %s hello without a server name (SNI) got internal_error too (probe %d). "+
			"internal_error is the server failing on its own side, not a refusal of what a hello offers, so whether it speaks those versions is not known. "+
			"Servers written in Go (Caddy, Traefik) send it when they have no certificate for the name asked and, with sites for named hosts only, for a hello without a name; other servers when a certificate or key cannot be loaded. The scan stops here.",
			finding.ListAnd(how), singleVersion(nr.refused[0]), nr.look.probe),
		Fix:      "Scan with a name the server has a site for; the server's log names the certificate it could not find or load.",
		Setting:  finding.SettingServerName,
		Evidence: nr.evidence(s.versionResults)})
	s.rep.Stopped = "The scan stopped after the protocol versions: the server ends every handshake with internal_error (see the findings)."
}

// evidence lists the version probes' answers and the looks'.
func (nr *nameRefusal) evidence(versions []*result) []string {
	var ev []string
	for _, r := range append(slices.Clone(versions), nr.retry, nr.look) {
		if r != nil {
			ev = append(ev, fmt.Sprintf("probe %d: %s", r.probe, r.answer()))
		}
	}
	return ev
}

// nameWarning is the warning for a server that answered the version
// probes' server name with a warning unrecognized_name and went on (see
// [diagnose.NameWarning]), naming the probes.
func (s *scanner) nameWarning() (finding.Finding, bool) {
	var ev []string
	for _, r := range s.versionResults {
		if r.nameWarning && r.hello != nil && r.hello.ServerName() != "" {
			ev = append(ev, fmt.Sprintf("probe %d: %s", r.probe, r.answer()))
		}
	}
	if len(ev) == 0 {
		return finding.Finding{}, false
	}
	f := diagnose.NameWarning(s.sni, "in answer to the hello, before its ServerHello")
	f.Evidence = ev
	return f, true
}
