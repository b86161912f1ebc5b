package scan

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/wire"
)

// This file names the known attacks testssl.sh checks, each with tlskit's
// verdict: the ones with probes of their own (CCS injection, Ticketbleed,
// ROBOT, and Heartbleed in features.go) and the ones that follow from
// facts the scan already has (BEAST, LUCKY13, FREAK, LOGJAM, DROWN,
// POODLE, SWEET32, RC4, CRIME, BREACH, renegotiation, the fallback, 0-RTT
// replay). A vulnerable entry names the finding that reports it, and that
// finding's evidence names the attack, so that testssl.sh's vocabulary
// finds tlskit's ids.

// Vulnerability states, beside NotApplicable and Unknown.
const (
	Vulnerable            = "vulnerable"
	PotentiallyVulnerable = "potentially vulnerable" // the exposure is there; whether it is exploitable depends on what a scan cannot see
	NotVulnerable         = "not vulnerable"
)

// ccsInjection sends an early ChangeCipherSpec after the server's first
// flight (CVE-2014-0224).
func (s *scanner) ccsInjection(ctx context.Context, accepted map[wire.Version]bool) Vulnerability {
	vu := Vulnerability{Name: "CCS injection", CVE: []string{"CVE-2014-0224"}, TestsslID: "CCS"}
	v := best12(accepted)
	if v == 0 {
		vu.State, vu.Detail = NotApplicable, "the server accepts only TLS 1.3, which has no ChangeCipherSpec to inject"
		return vu
	}
	s.progress(1, "CCS injection")
	r := s.probe(ctx, v.String()+" early ChangeCipherSpec (CCS injection, CVE-2014-0224)", s.baseSpec(v), toFlight, afterHandshake{ccs: true}, nil)
	vu.Probes = []int{r.probe}
	if r.ccs == nil {
		vu.State, vu.Detail = Unknown, "could not reach the end of the server's first flight: "+r.answer()
		return vu
	}
	vu.State, vu.Detail = r.ccs.state, v.String()+": "+r.ccs.detail
	if vu.State == Vulnerable {
		vu.Finding = finding.ScanCCSInjection
	}
	return vu
}

// ticketbleedSessionID is the session id offered with a ticket: one byte
// (the rest of a vulnerable server's 32 is its memory).
func ticketbleedSessionID() []byte {
	b := make([]byte, 1)
	for b[0] == 0 {
		rand.Read(b)
	}
	return b
}

// ticketbleed judges the resumption by ticket offered with a one-byte
// session id (CVE-2016-9244).
func ticketbleed(rr *result, sid []byte, probes []int) Vulnerability {
	vu := Vulnerability{Name: "Ticketbleed", CVE: []string{"CVE-2016-9244"}, TestsslID: "ticketbleed", Probes: probes}
	switch {
	case rr.leaked > 0:
		vu.State, vu.Finding = Vulnerable, finding.ScanTicketbleed
		vu.Detail = fmt.Sprintf("offered its ticket with a %d-byte session id, the server resumed and echoed %d bytes: %d bytes of its memory (zeroed in the transcript, never kept)",
			len(sid), len(sid)+rr.leaked, rr.leaked)
	case !rr.resumed && rr.sh != nil:
		vu.State, vu.Detail = NotApplicable, "the server did not resume the session from its ticket (a full handshake), and Ticketbleed is in the resumption's ServerHello"
	case !rr.resumed:
		vu.State, vu.Detail = Unknown, "offering the ticket: "+rr.answer()
	case string(rr.sh.SessionID) == string(sid):
		vu.State, vu.Detail = NotVulnerable, fmt.Sprintf("offered its ticket with a %d-byte session id, the server resumed and echoed exactly that id", len(sid))
	default:
		vu.State, vu.Detail = NotVulnerable, fmt.Sprintf("offered its ticket with a %d-byte session id, the server resumed with a %d-byte id that does not start with it: no memory in it, but RFC 5077 §3.4 wants the id echoed", len(sid), len(rr.sh.SessionID))
	}
	return vu
}

// vulnerabilities lists the attacks in testssl.sh's order, each judged
// from the report's facts and the probes' results, and returns the
// findings of those no other finding reports.
func (s *scanner) vulnerabilities(rep *Report) ([]Vulnerability, []finding.Finding) {
	var out []Vulnerability
	var fs []finding.Finding
	sf := rep.Session
	fromFeature := func(v Vulnerability, f Feature, bad string, id string) Vulnerability {
		v.Detail, v.Probes = f.Detail, f.Probes
		switch f.State {
		case bad:
			v.State, v.Finding = Vulnerable, id
		case NotApplicable, Unknown:
			v.State = f.State
		default:
			v.State = NotVulnerable
		}
		return v
	}
	// Facts of the accepted suites.
	rows := acceptedSuites(rep)
	pick := func(f func(r suiteRow) bool) []suiteRow {
		var out []suiteRow
		for _, r := range rows {
			if f(r) {
				out = append(out, r)
			}
		}
		return out
	}
	suiteVuln := func(v Vulnerability, rs []suiteRow, id, none string) Vulnerability {
		if len(rs) == 0 {
			v.State, v.Detail = NotVulnerable, none
			return v
		}
		v.State, v.Finding = Vulnerable, id
		v.Detail = suitesWords(rs)
		for _, r := range rs {
			if !slices.Contains(v.Probes, r.detail.Probe) {
				v.Probes = append(v.Probes, r.detail.Probe)
			}
		}
		return v
	}
	accepted := map[string]bool{}
	for _, v := range rep.Versions {
		accepted[v.Version] = true
	}

	out = append(out, fromFeature(Vulnerability{Name: "Heartbleed", CVE: []string{"CVE-2014-0160"}, TestsslID: "heartbleed"},
		sf.Heartbleed, Supported, finding.ScanHeartbleed))
	out = append(out, s.ccsV)
	if s.ccsV.State == Vulnerable {
		fs = append(fs, finding.Finding{ID: finding.ScanCCSInjection, Severity: finding.Error, Title: "The server accepts an early ChangeCipherSpec (CCS injection, CVE-2014-0224)",
			Detail: "A man in the middle can make both sides switch to keys derived from an empty master secret, then read and change the session. " + s.ccsV.Detail + ".",
			Fix:    "Upgrade OpenSSL (0.9.8za, 1.0.0m, 1.0.1h or later; every supported release) and restart the processes that use it.", Evidence: []string{"probes " + intsString(s.ccsV.Probes)}})
	}
	if s.ticketbleedV != nil {
		out = append(out, *s.ticketbleedV)
		if s.ticketbleedV.State == Vulnerable {
			fs = append(fs, finding.Finding{ID: finding.ScanTicketbleed, Severity: finding.Error, Title: "The server leaks memory in the session id of a ticket resumption (Ticketbleed, CVE-2016-9244)",
				Detail: "Offered a session ticket with a session id shorter than 32 bytes, it answers with 32, the rest taken from its memory, which can hold other connections' secrets. " + s.ticketbleedV.Detail + ".",
				Fix:    "Update the F5 BIG-IP software (K05121675), or disable session tickets on the virtual server's SSL profile until then.", Evidence: []string{"probes " + intsString(s.ticketbleedV.Probes)}})
		}
	} else {
		v := Vulnerability{Name: "Ticketbleed", CVE: []string{"CVE-2016-9244"}, TestsslID: "ticketbleed", State: NotApplicable, Probes: sf.ResumptionTicket.Probes}
		v.Detail = "no TLS 1.2 session was resumed from a ticket: " + sf.ResumptionTicket.Detail
		if sf.ResumptionTicket.Detail == "" {
			v.Detail = "no TLS 1.2 session was resumed from a ticket"
		}
		out = append(out, v)
	}
	rb := Vulnerability{Name: "ROBOT", CVE: []string{"CVE-2017-13099", "CVE-2017-17382", "CVE-2017-17427", "CVE-2017-17428", "CVE-2017-13098", "CVE-2017-1000385", "CVE-2016-6883", "CVE-2012-5081", "CVE-2017-6168"},
		TestsslID: "ROBOT", State: s.robotR.state, Detail: s.robotR.detail, Evidence: s.robotR.evidence, Probes: s.robotR.probes}
	if rb.State == "" {
		rb.State, rb.Detail = Unknown, "not tested"
	}
	if rb.State == Vulnerable {
		rb.Finding = finding.ScanROBOT
		fs = append(fs, robotFinding(s.robotR))
	}
	out = append(out, rb)
	out = append(out, fromFeature(Vulnerability{Name: "Secure renegotiation", CVE: []string{"CVE-2009-3555"}, TestsslID: "secure_renego"},
		sf.SecureRenegotiation, NotSupported, finding.ScanInsecureRenegotiation))
	out = append(out, fromFeature(Vulnerability{Name: "Client-initiated renegotiation (DoS)", TestsslID: "secure_client_renego"},
		sf.ClientRenegotiation, Supported, finding.ScanClientRenegotiation))
	out = append(out, fromFeature(Vulnerability{Name: "CRIME (TLS compression)", CVE: []string{"CVE-2012-4929"}, TestsslID: "CRIME_TLS"},
		sf.Compression, Supported, finding.ScanCompression))
	out = append(out, breach(rep.HTTP, s.opts.NoHTTP))
	// POODLE: SSL 3.0 with CBC suites.
	poodle := Vulnerability{Name: "POODLE (SSL 3.0)", CVE: []string{"CVE-2014-3566"}, TestsslID: "POODLE_SSL"}
	if !accepted["SSL 3.0"] {
		poodle.State, poodle.Detail = NotVulnerable, "SSL 3.0 is not accepted"
	} else {
		poodle = suiteVuln(poodle, pick(func(r suiteRow) bool { return r.version == "SSL 3.0" && r.info.CBC() }), finding.ScanSSL3, "SSL 3.0 is accepted, but with no CBC suite")
	}
	out = append(out, poodle)
	out = append(out, fromFeature(Vulnerability{Name: "Downgrade (TLS_FALLBACK_SCSV)", TestsslID: "fallback_SCSV"},
		sf.FallbackSCSV, NotSupported, finding.ScanNoFallbackSCSV))
	out = append(out, suiteVuln(Vulnerability{Name: "SWEET32", CVE: []string{"CVE-2016-2183", "CVE-2016-6329"}, TestsslID: "SWEET32"},
		pick(func(r suiteRow) bool {
			c := r.info.Cipher
			return (c == wire.Cipher3DESCBC || c == wire.CipherIDEACBC || c == wire.CipherRC2CBC) && !r.info.Export
		}), finding.ScanSweet32, "no suite with a 64-bit block cipher (3DES, IDEA, RC2) is accepted"))
	out = append(out, suiteVuln(Vulnerability{Name: "FREAK", CVE: []string{"CVE-2015-0204"}, TestsslID: "FREAK"},
		pick(func(r suiteRow) bool { return r.info.Export && r.info.Kx == wire.KxRSA }), finding.ScanExportCipher, "no RSA export suite is accepted"))
	drown := Vulnerability{Name: "DROWN", CVE: []string{"CVE-2016-0800", "CVE-2016-0703"}, TestsslID: "DROWN"}
	if p := protocol(rep, "SSL 2.0").Probe; accepted["SSL 2.0"] {
		drown.State, drown.Finding, drown.Probes = Vulnerable, finding.ScanSSL2, []int{p}
		drown.Detail = "the server speaks SSL 2.0: its RSA key can be used to decrypt its TLS sessions"
	} else {
		drown.State, drown.Probes = NotVulnerable, []int{p}
		drown.Detail = "not on this host and port (no SSL 2.0); another server that shares the RSA key and speaks SSL 2.0 would still expose it, which a scan of this port cannot see"
	}
	out = append(out, drown)
	// LOGJAM: DHE export suites (testssl.sh's LOGJAM); and a prime of
	// 1024 bits or less that many servers share, which one precomputation
	// breaks for all (its LOGJAM-common_primes).
	out = append(out, suiteVuln(Vulnerability{Name: "LOGJAM", CVE: []string{"CVE-2015-4000"}, TestsslID: "LOGJAM"},
		pick(func(r suiteRow) bool { return r.info.Export && (r.info.Kx == wire.KxDHE || r.info.Kx == wire.KxDH) }), finding.ScanExportCipher, "no DHE export suite is accepted"))
	common := Vulnerability{Name: "LOGJAM (common primes)", CVE: []string{"CVE-2015-4000"}, TestsslID: "LOGJAM-common_primes"}
	small := pick(func(r suiteRow) bool { n := dhBitsOf(r.detail.KeyExchange); return n > 0 && n <= 1024 })
	switch {
	case len(small) == 0:
		common.State, common.Detail = NotVulnerable, "no DHE key exchange with a prime of 1024 bits or less"
	case !strings.Contains(small[0].detail.KeyExchange, "custom prime"):
		common.State, common.Finding = Vulnerable, finding.ScanWeakDH
		common.Detail = "DHE with a well-known prime of 1024 bits or less, " + small[0].detail.KeyExchange + ": one precomputation breaks every server that uses it (the Logjam paper's §4)"
	default:
		common.State, common.Finding = PotentiallyVulnerable, finding.ScanWeakDH
		common.Detail = "DHE with a prime of 1024 bits or less that tlskit does not know, " + small[0].detail.KeyExchange + ": if it is some software's default, shared by many servers, one precomputation breaks them all"
	}
	if len(small) > 0 {
		common.Probes = []int{small[0].detail.Probe}
	}
	out = append(out, common)
	// BEAST: CBC suites in SSL 3.0 and TLS 1.0 (predictable IVs).
	beast := suiteVuln(Vulnerability{Name: "BEAST", CVE: []string{"CVE-2011-3389"}, TestsslID: "BEAST"},
		pick(func(r suiteRow) bool { return (r.version == "SSL 3.0" || r.version == "TLS 1.0") && r.info.CBC() }), finding.ScanBEAST, "no CBC suite in SSL 3.0 or TLS 1.0")
	if beast.State == Vulnerable {
		fs = append(fs, beastFinding(rep, pick(func(r suiteRow) bool { return (r.version == "SSL 3.0" || r.version == "TLS 1.0") && r.info.CBC() })))
	}
	out = append(out, beast)
	// LUCKY13: CBC suites in any version but TLS 1.3 (MAC-then-encrypt
	// timing; exploitable only where the implementation is not constant
	// time, which a scan cannot see).
	cbc := pick(func(r suiteRow) bool { return r.info.CBC() })
	lucky := suiteVuln(Vulnerability{Name: "LUCKY13", CVE: []string{"CVE-2013-0169"}, TestsslID: "LUCKY13"}, cbc, finding.ScanLucky13, "no CBC suite is accepted")
	if lucky.State == Vulnerable {
		lucky.State = PotentiallyVulnerable
		fs = append(fs, finding.Finding{ID: finding.ScanLucky13, Severity: finding.Info, Title: "The server accepts CBC suites (LUCKY13, potentially)",
			Detail:   "LUCKY13 (CVE-2013-0169): CBC suites MAC before they encrypt, so the time a server takes to reject a record depends on its padding; implementations made constant-time since 2013 are not exploitable, and a scan cannot measure that. With encrypt-then-MAC (RFC 7366) negotiated the timing is gone.",
			Fix:      "Prefer AEAD suites (AES-GCM, ChaCha20-Poly1305) and remove the CBC ones once no client needs them; keep the TLS library current.",
			Evidence: suiteEvidence(cbc)})
	}
	out = append(out, lucky)
	out = append(out, suiteVuln(Vulnerability{Name: "RC4", CVE: []string{"CVE-2013-2566", "CVE-2015-2808"}, TestsslID: "RC4"},
		pick(func(r suiteRow) bool { return r.info.Cipher == wire.CipherRC4 }), finding.ScanRC4, "no RC4 suite is accepted"))
	// 0-RTT: early data can be replayed (RFC 8446 §8).
	early := Vulnerability{Name: "0-RTT replay (TLS 1.3 early data)", Detail: sf.EarlyData.Detail, Probes: sf.EarlyData.Probes}
	switch sf.EarlyData.State {
	case Supported:
		early.State, early.Finding = PotentiallyVulnerable, finding.ScanEarlyData
		fs = append(fs, finding.Finding{ID: finding.ScanEarlyData, Severity: finding.Info, Title: "The server accepts TLS 1.3 early data (0-RTT), which can be replayed",
			Detail:   "An attacker can replay a client's 0-RTT data (RFC 8446 §8, §E.5); it is safe only for requests that change nothing, and only if the application knows which data came early. " + sf.EarlyData.Detail + ".",
			Fix:      "Accept early data only for idempotent requests, and tell the application (nginx: ssl_early_data with $ssl_early_data passed on as Early-Data: 1, answered with 425 Too Early where a replay matters), or disable it.",
			Evidence: probesEvidence(sf.EarlyData)})
	case NotApplicable, Unknown:
		early.State = sf.EarlyData.State
	default:
		early.State = NotVulnerable
	}
	out = append(out, early)
	return out, fs
}

// beastFinding reports CBC suites in SSL 3.0 or TLS 1.0.
func beastFinding(rep *Report, rs []suiteRow) finding.Finding {
	sev := finding.Warning
	detail := "BEAST (CVE-2011-3389): in SSL 3.0 and TLS 1.0 the IV of a CBC record is the last block of the previous one, which an attacker who can inject chosen plaintext (a script in the victim's browser) uses to decrypt a cookie block by block."
	var higher []string
	for _, v := range rep.Versions {
		if v.Version == "TLS 1.1" || v.Version == "TLS 1.2" || v.Version == "TLS 1.3" {
			higher = append(higher, v.Version)
		}
	}
	if len(higher) > 0 {
		sev = finding.Info
		detail += " The server also accepts " + strings.Join(higher, ", ") + ", which current clients use, and clients split records (1/n-1) against it: only old clients are exposed."
	}
	return finding.Finding{ID: finding.ScanBEAST, Severity: sev, Title: "The server accepts CBC suites in SSL 3.0 or TLS 1.0 (BEAST)",
		Detail: detail, Fix: "Disable SSL 3.0 and TLS 1.0 (Mozilla's intermediate configuration: TLS 1.2 and 1.3).", Evidence: suiteEvidence(rs)}
}

// nameVulnerabilities adds to the finding that reports each vulnerable
// entry an evidence line that names the attack as testssl.sh does.
func nameVulnerabilities(fs []finding.Finding, vs []Vulnerability) {
	for _, v := range vs {
		if v.Finding == "" {
			continue
		}
		line := "as testssl.sh names it: " + v.Name
		if len(v.CVE) > 0 {
			line += " (" + strings.Join(v.CVE[:min(len(v.CVE), 2)], ", ") + ")"
		}
		for i := range fs {
			if fs[i].ID == v.Finding && !slices.Contains(fs[i].Evidence, line) {
				fs[i].Evidence = append(fs[i].Evidence, line)
				break
			}
		}
	}
}

// suitesWords names a few suites with their versions: "TLS 1.0
// TLS_RSA_WITH_AES_128_CBC_SHA, TLS 1.2 … and 9 more (the finding lists
// them all)".
func suitesWords(rs []suiteRow) string {
	var names []string
	for _, r := range rs[:min(len(rs), 3)] {
		names = append(names, r.version+" "+r.info.Name)
	}
	s := plural(len(rs), "suite") + ": " + strings.Join(names, ", ")
	if len(rs) > 3 {
		s += fmt.Sprintf(" and %d more (the finding lists them all)", len(rs)-3)
	}
	return s
}
