package scan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/wire"
)

// This file derives the weaknesses from the facts of a Report: every
// finding is computed from rows shown above it, and its evidence names
// the versions, suites or features (and so the probes) it comes from.

// dialFinding explains a connection that could not be made, as check
// does: err is the dial's, failures the addresses it tried.
func dialFinding(target string, err error, failures []diagnose.DialFailure) finding.Finding {
	fs := diagnose.Findings(diagnose.Input{Target: target, DialErr: err, DialFailures: failures})
	if len(fs) == 0 {
		return finding.Finding{ID: finding.NetUnreachable, Severity: finding.Error, Title: "Could not connect to " + target, Detail: err.Error()}
	}
	return fs[0]
}

// suiteRow is an accepted suite with its version.
type suiteRow struct {
	version string
	info    wire.CipherSuiteInfo
	detail  SuiteDetail
}

// acceptedSuites lists the accepted TLS suites of every version.
func acceptedSuites(rep *Report) []suiteRow {
	var out []suiteRow
	for _, v := range rep.Versions {
		if v.Version == "SSL 2.0" {
			continue
		}
		for _, d := range v.Details {
			var id uint16
			fmt.Sscanf(d.ID, "0x%04x", &id)
			info, _ := wire.CipherSuite(id).Info()
			out = append(out, suiteRow{version: v.Version, info: info, detail: d})
		}
	}
	return out
}

// suiteEvidence lists rows as "TLS 1.2 TLS_RSA_WITH_RC4_128_SHA (probe 12)".
func suiteEvidence(rows []suiteRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s %s (probe %d)", r.version, r.info.Name, r.detail.Probe))
	}
	return out
}

// weaknesses derives the weakness findings from a report.
func weaknesses(rep *Report) []finding.Finding {
	var fs []finding.Finding
	add := func(f finding.Finding) { fs = append(fs, f) }
	has := map[string]ProtocolResult{}
	for _, p := range rep.Protocols {
		if p.Accepted {
			has[p.Version] = p
		}
	}
	ev := func(v string) []string {
		return []string{fmt.Sprintf("%s: %s (probe %d)", v, has[v].Answer, has[v].Probe)}
	}
	if _, ok := has["SSL 2.0"]; ok {
		add(finding.Finding{ID: finding.ScanSSL2, Severity: finding.Error, Title: "The server accepts SSL 2.0",
			Detail:   "SSL 2.0 is broken by design and prohibited by RFC 6176; a server that speaks it exposes its RSA key to DROWN (CVE-2016-0800), even for its TLS connections.",
			Fix:      "Disable SSL 2.0 (it is compiled out of every current TLS library; the server runs a very old one).",
			Evidence: ev("SSL 2.0")})
	}
	if _, ok := has["SSL 3.0"]; ok {
		add(finding.Finding{ID: finding.ScanSSL3, Severity: finding.Error, Title: "The server accepts SSL 3.0",
			Detail:   "RFC 7568 prohibits SSL 3.0: its CBC padding is open to POODLE (CVE-2014-3566) and its RC4 to RFC 7465's attacks. No current client offers it.",
			Fix:      "Disable SSL 3.0 (nginx: ssl_protocols TLSv1.2 TLSv1.3; Apache: SSLProtocol -all +TLSv1.2 +TLSv1.3).",
			Evidence: ev("SSL 3.0")})
	}
	for _, v := range []struct{ name, id string }{{"TLS 1.0", finding.ScanTLS10}, {"TLS 1.1", finding.ScanTLS11}} {
		if _, ok := has[v.name]; ok {
			add(finding.Finding{ID: v.id, Severity: finding.Warning, Title: "The server accepts " + v.name,
				Detail:   "RFC 8996 deprecates TLS 1.0 and 1.1 (SHA-1 and MD5 in the handshake, CBC with predictable IVs in TLS 1.0); current browsers, curl and Go refuse them by default, so only old clients use them.",
				Fix:      "Disable TLS 1.0 and 1.1 once no client needs them (Mozilla's intermediate configuration: TLS 1.2 and 1.3).",
				Evidence: ev(v.name)})
		}
	}
	_, tls12 := has["TLS 1.2"]
	_, tls13 := has["TLS 1.3"]
	if !tls12 && !tls13 {
		add(finding.Finding{ID: finding.ScanNoTLS12, Severity: finding.Error, Title: "The server accepts neither TLS 1.2 nor TLS 1.3",
			Detail: "Current clients require TLS 1.2 at least; this server only works for clients that still enable deprecated versions.",
			Fix:    "Enable TLS 1.2 and 1.3 (upgrade the TLS library if it has neither)."})
	} else if !tls13 {
		add(finding.Finding{ID: finding.ScanNoTLS13, Severity: finding.Info, Title: "The server does not accept TLS 1.3",
			Detail:   "TLS 1.3 (RFC 8446) saves a round trip, encrypts the certificate, and has only AEAD suites with forward secrecy; every current client offers it.",
			Fix:      "Enable TLS 1.3 (OpenSSL 1.1.1 or later: nginx ssl_protocols TLSv1.2 TLSv1.3).",
			Evidence: []string{fmt.Sprintf("TLS 1.3 probe %d: %s", protocol(rep, "TLS 1.3").Probe, protocol(rep, "TLS 1.3").Answer)}})
	}
	rows := acceptedSuites(rep)
	pickRows := func(f func(wire.CipherSuiteInfo) bool) []suiteRow {
		var out []suiteRow
		for _, r := range rows {
			if f(r.info) {
				out = append(out, r)
			}
		}
		return out
	}
	suiteFinding := func(id string, sev finding.Severity, title, detail, fix string, f func(wire.CipherSuiteInfo) bool) {
		if rs := pickRows(f); len(rs) > 0 {
			add(finding.Finding{ID: id, Severity: sev, Title: title, Detail: detail, Fix: fix, Evidence: suiteEvidence(rs)})
		}
	}
	suiteFinding(finding.ScanNullCipher, finding.Error, "The server accepts suites that do not encrypt",
		"NULL suites send the data in clear text, only authenticated.", "Remove the NULL suites (OpenSSL cipher string: add !eNULL).",
		func(i wire.CipherSuiteInfo) bool { return i.NullCipher() })
	suiteFinding(finding.ScanAnonCipher, finding.Error, "The server accepts anonymous suites",
		"Anonymous (DH_anon, ECDH_anon) suites authenticate no server: anyone on the path can impersonate it.", "Remove the anonymous suites (OpenSSL: !aNULL).",
		func(i wire.CipherSuiteInfo) bool { return i.Anonymous() })
	suiteFinding(finding.ScanExportCipher, finding.Error, "The server accepts export-grade suites",
		"Export suites use 40- or 56-bit keys or 512-bit key exchanges that are broken in minutes (FREAK CVE-2015-0204, Logjam CVE-2015-4000).", "Remove the export suites (OpenSSL: !EXPORT).",
		func(i wire.CipherSuiteInfo) bool { return i.Export })
	suiteFinding(finding.ScanRC4, finding.Error, "The server accepts RC4 suites",
		"RFC 7465 prohibits RC4: its keystream biases reveal plaintext repeated across connections (cookies).", "Remove the RC4 suites (OpenSSL: !RC4).",
		func(i wire.CipherSuiteInfo) bool { return i.Cipher == wire.CipherRC4 && !i.Export })
	suiteFinding(finding.ScanDES, finding.Error, "The server accepts single-DES suites",
		"DES has a 56-bit key, found by exhaustive search in hours; RFC 5469 retired it.", "Remove the DES suites (OpenSSL: !DES).",
		func(i wire.CipherSuiteInfo) bool { return i.Cipher == wire.CipherDESCBC && !i.Export })
	suiteFinding(finding.ScanSweet32, finding.Warning, "The server accepts 64-bit block ciphers (SWEET32)",
		"3DES, IDEA and RC2 have 64-bit blocks: after about 2^32 blocks (32 GB) in one session, collisions reveal plaintext (SWEET32, CVE-2016-2183).", "Remove the 3DES, IDEA and RC2 suites (OpenSSL: !3DES:!IDEA:!RC2), unless a client that has nothing else still needs them.",
		func(i wire.CipherSuiteInfo) bool {
			return (i.Cipher == wire.Cipher3DESCBC || i.Cipher == wire.CipherIDEACBC || i.Cipher == wire.CipherRC2CBC) && !i.Export
		})
	for _, v := range rep.Versions {
		if v.Version == "SSL 2.0" || v.Version == "SSL 3.0" || v.Version == "TLS 1.0" || v.Version == "TLS 1.1" || v.Version == "TLS 1.3" || len(v.Suites) == 0 {
			continue
		}
		aead := slices.ContainsFunc(v.Details, func(d SuiteDetail) bool { return strings.Contains(d.MAC, "AEAD") })
		if !aead {
			add(finding.Finding{ID: finding.ScanCBCOnly, Severity: finding.Warning, Title: v.Version + ": the server accepts no AEAD suite",
				Detail:   "Every " + v.Version + " suite it accepts uses a CBC or stream cipher with MAC-then-encrypt (Lucky 13, padding oracles); every TLS 1.2 client supports AES-GCM.",
				Fix:      "Add ECDHE suites with AES-GCM or ChaCha20-Poly1305, first in the order.",
				Evidence: []string{fmt.Sprintf("%s suites: %s", v.Version, strings.Join(v.Suites, ", "))}})
		}
	}
	if rs := pickRows(func(i wire.CipherSuiteInfo) bool { return !i.TLS13 && !i.ForwardSecret() && !i.NullCipher() || false }); len(rs) > 0 {
		sev := finding.Warning
		detail := "Suites with a static RSA (or DH, ECDH, PSK) key exchange let whoever obtains the server's private key later decrypt recorded sessions; they also open the door to RSA padding oracles (ROBOT)."
		if len(pickRows(func(i wire.CipherSuiteInfo) bool { return i.TLS13 || i.ForwardSecret() })) == 0 {
			sev = finding.Error
			detail = "No accepted suite has forward secrecy: " + detail
		}
		add(finding.Finding{ID: finding.ScanNoForwardSecrecy, Severity: sev, Title: "The server accepts suites without forward secrecy",
			Detail: detail, Fix: "Offer only ECDHE (and DHE) suites, and TLS 1.3 (OpenSSL: !kRSA; Mozilla's intermediate configuration).", Evidence: suiteEvidence(rs)})
	}
	sf := rep.Session
	if sf.SecureRenegotiation.State == NotSupported {
		add(finding.Finding{ID: finding.ScanInsecureRenegotiation, Severity: finding.Error, Title: "The server does not support secure renegotiation (RFC 5746)",
			Detail: "Without renegotiation_info a man in the middle can splice its own data in front of a client's (CVE-2009-3555). " + finding.Capitalize(sf.SecureRenegotiation.Detail) + ".",
			Fix:    "Upgrade the TLS library (every version since 2010 supports RFC 5746), or disable renegotiation.", Evidence: probesEvidence(sf.SecureRenegotiation)})
	}
	if sf.ClientRenegotiation.State == Supported {
		add(finding.Finding{ID: finding.ScanClientRenegotiation, Severity: finding.Warning, Title: "The server accepts client-initiated renegotiation",
			Detail: "Each renegotiation costs the server a full handshake while the client pays little: a denial-of-service lever. " + finding.Capitalize(sf.ClientRenegotiation.Detail) + ".",
			Fix:    "Disable client-initiated renegotiation (OpenSSL 3 refuses it by default; SSL_OP_NO_RENEGOTIATION).", Evidence: probesEvidence(sf.ClientRenegotiation)})
	}
	if sf.Compression.State == Supported {
		add(finding.Finding{ID: finding.ScanCompression, Severity: finding.Error, Title: "The server accepts TLS compression (CRIME)",
			Detail: "Compressing secrets together with attacker-chosen data reveals them by the length of the records (CRIME, CVE-2012-4929). " + finding.Capitalize(sf.Compression.Detail) + ".",
			Fix:    "Disable TLS compression (OpenSSL: SSL_OP_NO_COMPRESSION, the default since 1.1.0).", Evidence: probesEvidence(sf.Compression)})
	}
	if sf.Heartbleed.State == Supported {
		add(finding.Finding{ID: finding.ScanHeartbleed, Severity: finding.Error, Title: "The server is vulnerable to Heartbleed (CVE-2014-0160)",
			Detail: "It answered a heartbeat that claimed more bytes than it carried with bytes of its own memory, which can hold private keys and other users' data. " + finding.Capitalize(sf.Heartbleed.Detail) + ".",
			Fix:    "Upgrade OpenSSL (1.0.1g or later), restart every process that uses it, then replace the server's keys and certificates and revoke the old ones.", Evidence: probesEvidence(sf.Heartbleed)})
	}
	if sf.VersionTolerance.State == NotSupported {
		add(finding.Finding{ID: finding.ScanVersionIntolerance, Severity: finding.Error, Title: "The server refuses a hello that offers TLS 1.3, though it speaks TLS 1.2",
			Detail: "Every current client offers TLS 1.2 and 1.3 in one hello, and a server that does not complete TLS 1.3 must answer it with TLS 1.2 (RFC 8446 §4.2.1, Appendix D); this one refuses it instead (version intolerance, in the server or a device in front of it, or a TLS 1.3 it takes and cannot complete), so those clients fail where a client limited to TLS 1.2 connects. " + finding.Capitalize(sf.VersionTolerance.Detail) + ".",
			Fix:    "Fix the server's TLS 1.3 or disable it there: update the TLS library or the device in front of it, and check that the certificate can sign for TLS 1.3 (RSA of 2048 bits or more, or ECDSA). `tlskit check` of the server says which it is.", Evidence: probesEvidence(sf.VersionTolerance)})
	}
	if sf.FallbackSCSV.State == NotSupported {
		add(finding.Finding{ID: finding.ScanNoFallbackSCSV, Severity: finding.Warning, Title: "The server ignores TLS_FALLBACK_SCSV (RFC 7507)",
			Detail: "It accepts several versions but does not refuse a client that signals a fallback: an attacker can push clients that retry with lower versions down to the weakest one. " + finding.Capitalize(sf.FallbackSCSV.Detail) + ".",
			Fix:    "Upgrade the TLS library, or disable the versions below the highest.", Evidence: probesEvidence(sf.FallbackSCSV)})
	}
	var weakDH []string
	minDH := 0
	for _, r := range rows {
		if n := dhBitsOf(r.detail.KeyExchange); n > 0 && n < 2048 {
			weakDH = append(weakDH, fmt.Sprintf("%s %s: %s (probe %d)", r.version, r.info.Name, r.detail.KeyExchange, r.detail.Probe))
			if minDH == 0 || n < minDH {
				minDH = n
			}
		}
	}
	if len(weakDH) > 0 {
		sev := finding.Warning
		if minDH <= 1024 {
			sev = finding.Error
		}
		add(finding.Finding{ID: finding.ScanWeakDH, Severity: sev, Title: fmt.Sprintf("The server's DHE key exchange uses a %d-bit prime", minDH),
			Detail:   "Primes under 2048 bits are within reach of precomputation by well-funded attackers (Logjam, CVE-2015-4000); 1024-bit ones especially when they are common.",
			Fix:      "Use 2048-bit or larger DH parameters (RFC 7919's ffdhe2048: nginx ssl_dhparam, or let OpenSSL 3 choose), or drop the DHE suites for ECDHE.",
			Evidence: weakDH})
	}
	if len(rep.Groups) > 0 && !slices.ContainsFunc(rep.Groups, func(g GroupSupport) bool { return strings.Contains(g.Kind, "post-quantum") }) && tls13 {
		add(finding.Finding{ID: finding.ScanNoPQ, Severity: finding.Info, Title: "The server accepts no post-quantum key exchange",
			Detail:   "Sessions recorded today can be decrypted once a large quantum computer breaks X25519 and the NIST curves (\"harvest now, decrypt later\"); Chrome, Firefox and Go offer X25519MLKEM768 by default.",
			Fix:      "Enable the hybrid X25519MLKEM768 group (OpenSSL 3.5 and later, BoringSSL, Go 1.24 and later, GnuTLS 3.8.9 with leancrypto), first in the group list.",
			Evidence: []string{"groups: " + strings.Join(groupNames(rep.Groups), ", ")}})
	}
	// The certificates' own findings (weak keys, expiry, names, chain),
	// once per distinct finding.
	seen := map[string]int{}
	for _, c := range rep.Certificates {
		for _, f := range c.Findings {
			where := fmt.Sprintf("%s certificate (%s), probes %s", c.KeyType, c.Key, intsString(c.Probes))
			k := f.ID + "\x00" + f.Detail
			if i, ok := seen[k]; ok {
				fs[i].Evidence = append(fs[i].Evidence, where)
				continue
			}
			seen[k] = len(fs)
			f.Evidence = append(slices.Clone(f.Evidence), where)
			add(f)
		}
	}
	return fs
}

// dhBitsOf reads the prime size from a key exchange description "DH 1024 (…)".
func dhBitsOf(kx string) int {
	var n int
	if _, err := fmt.Sscanf(kx, "DH %d", &n); err != nil {
		return 0
	}
	return n
}

func groupNames(gs []GroupSupport) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Name
	}
	return out
}

func probesEvidence(f Feature) []string {
	if len(f.Probes) == 0 {
		return nil
	}
	if len(f.Probes) == 1 {
		return []string{"probe " + intsString(f.Probes)}
	}
	return []string{"probes " + intsString(f.Probes)}
}

func intsString(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = itoa(n)
	}
	return strings.Join(s, ", ")
}

// protocol returns the protocol version probe's result for version v
// ("TLS 1.3"), zero when there is none.
func protocol(rep *Report, v string) ProtocolResult {
	for _, p := range rep.Protocols {
		if p.Version == v {
			return p
		}
	}
	return ProtocolResult{}
}

// clientsRefused is scan.clients-refused: current clients the server
// turns away at the hello, by name and why. When every one of them sends a
// hybrid post-quantum key share and no client that connects does, it says
// so: the hello's size, or that share, is what the server refuses.
func clientsRefused(clients []ClientResult) []finding.Finding {
	var refused, ev []string
	pqRefused, pqConnects := true, false
	keyBits, hellos := 0, 0 // refusals of the server's key, and of the client's hello
	for _, c := range clients {
		if c.Connects {
			pqConnects = pqConnects || c.hybridShare
			continue
		}
		if !c.Current {
			continue
		}
		refused = append(refused, c.Client)
		ev = append(ev, fmt.Sprintf("%s: %s (probe %d)", c.Client, c.Reason, c.Probe))
		pqRefused = pqRefused && c.hybridShare
		if c.keyRefused > 0 {
			keyBits = c.keyRefused
		} else {
			hellos++
		}
	}
	if len(refused) == 0 {
		return nil
	}
	if keyBits > 0 {
		f := finding.Finding{ID: finding.ScanClientsRefused, Severity: finding.Error,
			Title:    "Current clients cannot connect: " + finding.ListAnd(refused),
			Detail:   fmt.Sprintf("They refuse the server's %d-bit RSA key (WHO CAN CONNECT says where each client's minimum comes from).", keyBits),
			Fix:      "Have the certificate reissued with an RSA key of 2048 bits or more, or an ECDSA P-256 key.",
			Evidence: ev}
		if hellos > 0 {
			f.Detail = fmt.Sprintf("Some refuse the server's %d-bit RSA key, and the server turns away the hello of the others (WHO CAN CONNECT shows each, with the hello it was sent).", keyBits)
			f.Fix += " `tlskit check` of the server, made with Go's current client, says why it refuses a hello."
		}
		return []finding.Finding{f}
	}
	f := finding.Finding{ID: finding.ScanClientsRefused, Severity: finding.Error,
		Title:    "Current clients cannot connect: " + finding.ListAnd(refused),
		Detail:   "The server turns away the hello of clients in use today (WHO CAN CONNECT shows each, with the hello it was sent).",
		Fix:      "`tlskit check` of the server, made with Go's current client, says why it refuses it; change the server so that it accepts what these clients offer.",
		Evidence: ev}
	if pqRefused && !pqConnects {
		f.Detail += " Every one of them sends a hybrid post-quantum key share (X25519MLKEM768), which makes its hello about 1,500 bytes, and no client that connects sends one: the hello's size, or that key share, is what the server refuses. Servers and middleboxes that read only the first TCP segment of a ClientHello do this (tldr.fail); `tlskit check` tells the two apart."
		f.Fix = "Update the server, or the load balancer or firewall in front of it, so that it reads a ClientHello of any size and accepts a hybrid key share or asks for another (tldr.fail lists fixed versions)."
	}
	return []finding.Finding{f}
}
