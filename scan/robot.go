package scan

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/wire"
)

// This file tests for a Bleichenbacher padding oracle in the server's RSA
// key exchange (ROBOT: CVE-2017-13099 and its family), the way
// robot-detect, sslyze and testssl.sh do. Five ClientKeyExchange messages
// whose PKCS#1 v1.5 blocks differ only in how they are malformed (one is
// correctly formatted) are sent on five connections, each followed by
// ChangeCipherSpec and a Finished the server cannot verify. A server
// without an oracle answers all five alike (it goes on with a random
// premaster secret, RFC 5246 §7.4.7.1, and fails at the Finished); one that
// answers some differently tells an attacker which blocks are well formed,
// which is enough to decrypt recorded sessions or sign with its key. When
// the five answers agree, the five are sent again without ChangeCipherSpec
// and Finished (some servers show the oracle only there). A difference is
// reported only when it repeats: the round that showed it is run again
// with the full timeout, and the verdict is what both rounds observed.
// Nothing is guessed: no difference seen is "not vulnerable", a
// difference that does not repeat the same way is "unknown".

// robotResult is the outcome of the ROBOT test.
type robotResult struct {
	state    string // Vulnerable, NotVulnerable, NotApplicable, Unknown
	strong   bool   // a strong oracle (when Vulnerable)
	detail   string
	evidence []string
	probes   []int
}

// robotRound is the five answers of one round.
type robotRound struct {
	finish  bool
	wait    time.Duration
	answers [robotVariants]string
	elapsed [robotVariants]time.Duration
	probes  [robotVariants]int
	err     string // why a variant could not be sent
}

// robotSuites returns the version and the accepted suites with an RSA
// key exchange that ROBOT is tested with: the highest version below TLS
// 1.3 that has some (export suites excluded: their key exchange uses a
// temporary key, not the certificate's).
func robotSuites(versions []VersionSupport) (wire.Version, []wire.CipherSuite) {
	for i := len(versions) - 1; i >= 0; i-- {
		v := versionOf(versions[i].Version)
		if v == wire.VersionTLS13 || v < wire.VersionSSL30 {
			continue
		}
		var out []wire.CipherSuite
		for _, d := range versions[i].Details {
			var id uint16
			fmt.Sscanf(d.ID, "0x%04x", &id)
			if info, ok := wire.CipherSuite(id).Info(); ok && info.Kx == wire.KxRSA && !info.Export {
				out = append(out, info.ID)
			}
		}
		if len(out) > 0 {
			return v, out
		}
	}
	return 0, nil
}

// robot runs the ROBOT test against the accepted suites with an RSA key
// exchange, if there are any.
func (s *scanner) robot(ctx context.Context, versions []VersionSupport) robotResult {
	v, suites := robotSuites(versions)
	if v == 0 {
		return robotResult{state: NotApplicable, detail: "the server accepts no suite with an RSA key exchange (TLS_RSA_*), where the oracle lives"}
	}
	finished := make([]byte, 64)
	rand.Read(finished)
	longWait := s.opts.Timeout
	round := func(finish bool, wait time.Duration, which string) *robotRound {
		s.progress(robotVariants, "ROBOT")
		rr := &robotRound{finish: finish, wait: wait}
		flow := "with ChangeCipherSpec and Finished"
		if !finish {
			flow = "alone"
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := range robotVariants {
			wg.Go(func() {
				sp := s.baseSpec(v)
				sp.suites = suites
				p := &robotPayload{variant: i, finish: finish, finished: finished, wait: wait}
				r := s.probe(ctx, fmt.Sprintf("ROBOT (%s): ClientKeyExchange %s, %s", which, robotVariantNames[i], flow), sp, toFlight, afterHandshake{robot: p}, nil)
				mu.Lock()
				defer mu.Unlock()
				rr.probes[i] = r.probe
				switch {
				case r.robot == nil:
					rr.err = fmt.Sprintf("probe %d did not reach the end of the server's first flight: %s", r.probe, r.answer())
				case r.robot.err != "":
					rr.err = fmt.Sprintf("probe %d: %s", r.probe, r.robot.err)
				default:
					rr.answers[i], rr.elapsed[i] = r.robot.answer, r.robot.elapsed
				}
			})
		}
		wg.Wait()
		return rr
	}
	first := round(true, min(longWait, 2*time.Second), "first round")
	if first.err != "" {
		return robotResult{state: Unknown, detail: "could not test: " + first.err, probes: first.probes[:]}
	}
	if !first.same() {
		return decideRobot(first, round(true, longWait, "repeated with a longer wait"))
	}
	// No oracle with the full flow: the ClientKeyExchange alone. A server
	// without an oracle waits for the ChangeCipherSpec, so this round
	// waits a bounded time: four times what the server took to answer the
	// first round (where it decrypted the same blocks), at least 50 ms. A
	// slower answer to some variants shows as a difference, which the
	// repetition with the full timeout then settles.
	var slowest time.Duration
	for _, e := range first.elapsed {
		slowest = max(slowest, e)
	}
	wait := min(max(4*slowest+20*time.Millisecond, 50*time.Millisecond), longWait, 2*time.Second)
	alone := round(false, wait, "second round")
	if alone.err != "" {
		return robotResult{state: Unknown, detail: "could not test the ClientKeyExchange alone: " + alone.err, probes: append(first.probes[:], alone.probes[:]...)}
	}
	if !alone.same() {
		res := decideRobot(alone, round(false, longWait, "repeated with a longer wait"))
		res.probes = append(first.probes[:], res.probes...)
		res.evidence = append(res.evidence, "with ChangeCipherSpec and Finished, every variant: "+first.answers[0]+" (probes "+intsString(first.probes[:])+")")
		return res
	}
	return robotResult{state: NotVulnerable,
		detail: fmt.Sprintf("%s, the server answered the five ClientKeyExchange variants alike, with ChangeCipherSpec and Finished (%s) and alone (%s, waiting %v): no padding oracle",
			v, first.answers[0], alone.answers[0], wait.Round(time.Millisecond)),
		evidence: append(first.evidence(), alone.evidence()...),
		probes:   append(first.probes[:], alone.probes[:]...)}
}

// same reports whether the five answers are one.
func (rr *robotRound) same() bool {
	for _, a := range rr.answers[1:] {
		if a != rr.answers[0] {
			return false
		}
	}
	return true
}

// evidence lists the answers by variant.
func (rr *robotRound) evidence() []string {
	flow := "with ChangeCipherSpec and Finished"
	if !rr.finish {
		flow = fmt.Sprintf("alone, waiting %v", rr.wait.Round(time.Millisecond))
	}
	out := make([]string, robotVariants)
	for i := range robotVariants {
		out[i] = fmt.Sprintf("%s, %s: %s (probe %d)", robotVariantNames[i], flow, rr.answers[i], rr.probes[i])
	}
	return out
}

// decideRobot judges a round whose answers differed by the same round run
// again with a longer wait: vulnerable when the answers fall into the same
// groups both times; not vulnerable when the second time they agree; and
// unknown otherwise.
func decideRobot(first, again *robotRound) robotResult {
	res := robotResult{probes: append(first.probes[:], again.probes[:]...),
		evidence: append(first.evidence(), again.evidence()...)}
	switch {
	case again.err != "":
		res.state, res.detail = Unknown, "the answers differed, and the repetition could not be made: "+again.err
	case again.same():
		res.state = NotVulnerable
		res.detail = fmt.Sprintf("the answers differed once, but when the round was repeated with a wait of %v every variant got the same answer (%s): the difference was the wait, not an oracle",
			again.wait.Round(time.Millisecond), again.answers[0])
	case !samePartition(first, again):
		res.state, res.detail = Unknown, "the answers differed, but not the same way when the round was repeated: the server is inconsistent, tlskit cannot tell whether it is an oracle"
	default:
		res.state = Vulnerable
		// robot-detect's rule: if the three blocks that are not
		// PKCS#1-conformant get one answer, only the exact position of
		// the 00 separator shows, and the oracle is weak.
		a := again.answers
		res.strong = !(a[robotWrongFirst] == a[robotWrong00] && a[robotWrong00] == a[robotNo00])
		kind := "a weak oracle (the attack needs many more queries)"
		if res.strong {
			kind = "a strong oracle"
		}
		res.detail = fmt.Sprintf("the server answers malformed PKCS#1 v1.5 blocks differently from well-formed ones, the same way twice: %s", kind)
	}
	return res
}

// samePartition reports whether two rounds group the variants the same
// way (which answers are equal), whatever the answers' words.
func samePartition(a, b *robotRound) bool {
	for i := range robotVariants {
		for j := i + 1; j < robotVariants; j++ {
			if (a.answers[i] == a.answers[j]) != (b.answers[i] == b.answers[j]) {
				return false
			}
		}
	}
	return true
}

// robotFinding is the finding of a vulnerable server.
func robotFinding(r robotResult) finding.Finding {
	sev := finding.Error
	title := "The server's RSA key exchange is a Bleichenbacher oracle (ROBOT)"
	if !r.strong {
		sev = finding.Warning
		title = "The server's RSA key exchange is a weak Bleichenbacher oracle (ROBOT)"
	}
	return finding.Finding{ID: finding.ScanROBOT, Severity: sev, Title: title,
		Detail:   "ROBOT (CVE-2017-13099 and its family): " + r.detail + ". An attacker who records a session with an RSA key exchange can decrypt it, and can sign with the server's key, by asking the server about blocks made from the recording.",
		Fix:      "Update the TLS library or the appliance's firmware (see robotattack.org for the vendors' fixes), and disable the RSA key exchange: offer only ECDHE and DHE suites (OpenSSL: !kRSA), and TLS 1.3.",
		Evidence: slices.Clone(r.evidence)}
}
