package exporter

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/probe"
)

// metricFacts are the parts of a report the exporter exports, and every
// finding whole: what a probe must report the same way whether it
// decrypted its transcript or not.
type metricFacts struct {
	Verdict                    diagnose.Verdict
	Version, CipherSuite, ALPN string
	ServerName, Trust, Profile string
	Chain, VerifiedPath        any
	OCSP, StartTLS, Findings   any
}

func factsOf(r *diagnose.Report) metricFacts {
	return metricFacts{Verdict: r.Verdict, Version: r.Version, CipherSuite: r.CipherSuite, ALPN: r.ALPN, ServerName: r.ServerName, Trust: r.Trust,
		Profile: r.Profile, Chain: r.Chain, VerifiedPath: r.VerifiedPath, OCSP: r.OCSP, StartTLS: r.StartTLS, Findings: r.Findings}
}

// idsOf lists a report's findings as id, severity and title.
func idsOf(r *diagnose.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.ID+" "+string(f.Severity)+" "+f.Title)
	}
	return out
}

// keyless reports whether a report's transcript was decoded without the
// secrets: the server's protected records are listed undecrypted.
func keyless(r *diagnose.Report) bool {
	for _, e := range r.Transcript {
		if e.From == "server" && e.Encrypted && !e.Decrypted {
			return true
		}
	}
	return false
}

// TestDecryptIfNeededLab probes every lab case as the exporter does, with
// and without probe.Options.DecryptIfNeeded, and requires the same
// verdict, negotiated parameters, chains and findings (every field), at
// the same verification time; the clean TLS 1.3 cases must have skipped
// decryption, and the cases where the encrypted part matters (a client
// certificate asked for, TLS 1.2, STARTTLS) must not have.
func TestDecryptIfNeededLab(t *testing.T) {
	e := caseExporter(t)
	at := time.Now()
	mustSkip := map[string]bool{"good": true, "expired": true, "untrusted-root": true, "name-mismatch": true, "expiring-soon": true, "wrong-order": true}
	mustDecrypt := map[string]bool{"good-tls12": true, "client-cert-required-tls13": true, "client-cert-rejected-tls13": true, "hrr-client-cert-required": true,
		"starttls-good": true, "ocsp-good": true, "ocsp-revoked": true}
	for _, c := range theLab.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			o := e.cur.Load().modules[c.Name].opts
			o.Address = c.Addr
			o.Time = func() time.Time { return at }
			o.LingerOnlyIfAsked = true
			o.Linger = min(time.Second, o.Timeout/4)
			o.DecryptIfNeeded = true
			fast := probe.Run(context.Background(), o)
			o.DecryptIfNeeded = false
			full := probe.Run(context.Background(), o)
			ff, fs := factsOf(full), factsOf(fast)
			if !keyless(fast) {
				// Both runs took the same path; what differs is the
				// connection's own (a local port, which deadline came
				// first in the timeout case).
				ff.Findings, fs.Findings = idsOf(full), idsOf(fast)
			}
			if diff := cmp.Diff(ff, fs); diff != "" {
				t.Errorf("decrypted (-) and not (+) differ:\n%s", diff)
			}
			if keyless(full) {
				t.Errorf("DecryptIfNeeded off, yet the transcript was not decrypted")
			}
			if mustSkip[c.Name] && !keyless(fast) {
				t.Errorf("a clean TLS 1.3 handshake was decrypted")
			}
			if mustDecrypt[c.Name] && keyless(fast) {
				t.Errorf("decryption was skipped where the encrypted part matters")
			}
			t.Logf("%s: decryption skipped: %v, verdict %s", c.Name, keyless(fast), fast.Verdict)
		})
	}
}
