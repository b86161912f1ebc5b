package fleet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/starttls"
)

// TestRunOrderAndLimits runs a scheduler-only check (it sleeps a random
// while) over many targets on a few hosts and checks that reports come back
// in input order, that Concurrency and PerHost are never exceeded, and that
// Done is called once per target. Real servers are checked by
// TestBulkJSONLines in the CLI.
func TestRunOrderAndLimits(t *testing.T) {
	var targets []Target
	for i := range 300 {
		targets = append(targets, Target{Address: fmt.Sprintf("h%d.example:%d", i%5, 1000+i), ServerName: fmt.Sprint(i)})
	}
	var mu sync.Mutex
	running, maxRunning := 0, 0
	perHost, maxPerHost := map[string]int{}, 0
	done := 0
	check := func(ctx context.Context, o probe.Options) *diagnose.Report {
		h := hostOf(o.Address)
		mu.Lock()
		running++
		perHost[h]++
		maxRunning = max(maxRunning, running)
		maxPerHost = max(maxPerHost, perHost[h])
		mu.Unlock()
		time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
		mu.Lock()
		running--
		perHost[h]--
		mu.Unlock()
		return &diagnose.Report{Target: o.Address, ServerName: o.ServerName}
	}
	next := 0
	err := Run(t.Context(), targets, Options{Concurrency: 12, PerHost: 2, Check: check, Done: func() { mu.Lock(); done++; mu.Unlock() }},
		func(i int, tg Target, rep *diagnose.Report) error {
			if i != next || rep.Target != targets[i].Address || rep.ServerName != fmt.Sprint(i) || tg != targets[i] {
				t.Fatalf("emitted #%d (%s %s), want #%d", i, rep.Target, rep.ServerName, next)
			}
			next++
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if next != len(targets) || done != len(targets) {
		t.Errorf("emitted %d, done %d; want %d", next, done, len(targets))
	}
	if maxRunning > 12 || maxPerHost > 2 {
		t.Errorf("at most %d running and %d per host, want ≤ 12 and ≤ 2", maxRunning, maxPerHost)
	}
	if maxRunning < 6 {
		t.Errorf("at most %d ran at once over 5 hosts × 2; the limits are too tight", maxRunning)
	}
}

func TestRunRate(t *testing.T) {
	targets := make([]Target, 11)
	for i := range targets {
		targets[i] = Target{Address: fmt.Sprintf("h%d.example:443", i)}
	}
	start := time.Now()
	err := Run(t.Context(), targets, Options{Concurrency: 11, Rate: 100,
		Check: func(ctx context.Context, o probe.Options) *diagnose.Report { return &diagnose.Report{} }},
		func(int, Target, *diagnose.Report) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	// 11 starts at 100/s: the last one 100 ms after the first.
	if d := time.Since(start); d < 95*time.Millisecond {
		t.Errorf("11 checks at 100/s took %v, want at least 100ms", d)
	}
}

func TestRunStops(t *testing.T) {
	targets := make([]Target, 1000)
	for i := range targets {
		targets[i] = Target{Address: fmt.Sprintf("h%d.example:443", i)}
	}
	quick := func(ctx context.Context, o probe.Options) *diagnose.Report {
		return &diagnose.Report{Target: o.Address}
	}
	boom := errors.New("disk full")
	n := 0
	err := Run(t.Context(), targets, Options{Concurrency: 4, Check: quick}, func(int, Target, *diagnose.Report) error {
		n++
		if n == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 10 {
		t.Errorf("Run = %v after %d emits, want the emit error after 10", err, n)
	}

	ctx, cancel := context.WithCancel(t.Context())
	n = 0
	err = Run(ctx, targets, Options{Concurrency: 4, Check: quick}, func(int, Target, *diagnose.Report) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n >= len(targets) {
		t.Errorf("Run = %v after %d emits, want context.Canceled before the end", err, n)
	}
}

// TestRunInterrupted: when the run is interrupted, the checks it cut short
// and those it never started are not reported (before, each was a report
// with verdict failed, and a cut check read as a malformed handshake);
// the reports emitted are the first ones, in input order, and the error
// says how many of how many were checked.
func TestRunInterrupted(t *testing.T) {
	targets := make([]Target, 40)
	for i := range targets {
		targets[i] = Target{Address: fmt.Sprintf("h%d.example:443", i)}
	}
	for round := range 20 {
		ctx, cancel := context.WithCancel(t.Context())
		// Targets 0-4 answer at once; a check of any other interrupts the
		// run and returns what a cut check returns.
		check := func(ctx context.Context, o probe.Options) *diagnose.Report {
			var n int
			fmt.Sscanf(o.Address, "h%d.", &n)
			if n >= 5 {
				cancel()
				<-ctx.Done()
				return &diagnose.Report{Target: o.Address, Verdict: diagnose.Failed}
			}
			return &diagnose.Report{Target: o.Address, Verdict: diagnose.Trusted}
		}
		var got []string
		err := Run(ctx, targets, Options{Concurrency: 4, Check: check}, func(i int, tg Target, rep *diagnose.Report) error {
			if rep.Verdict != diagnose.Trusted || rep.Target != targets[i].Address || i != len(got) {
				t.Errorf("round %d: emitted %d %s (verdict %s) after %d reports", round, i, rep.Target, rep.Verdict, len(got))
			}
			got = append(got, rep.Target)
			return nil
		})
		cancel()
		var ie *InterruptedError
		if !errors.As(err, &ie) || !errors.Is(err, context.Canceled) || ie.Checked != len(got) || ie.Checked > 5 || ie.Total != 40 {
			t.Fatalf("round %d: Run = %v (%+v) after %d reports, want an InterruptedError counting them, at most 5 of 40", round, err, ie, len(got))
		}
	}
}

// TestRunStartTLS: each target gets its own upgrade: its STARTTLS column,
// else its port's protocol with AutoStartTLS, else the template's.
func TestRunStartTLS(t *testing.T) {
	targets := []Target{
		{Address: "m.example:25"}, {Address: "w.example:443"}, {Address: "i.example:443", StartTLS: "imap"},
		{Address: "s.example:587", StartTLS: "none"}, {Address: "db.example:5432"},
	}
	if err := Validate(targets); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		auto bool
		tmpl starttls.Protocol
		want []starttls.Protocol
	}{
		{true, "", []starttls.Protocol{starttls.SMTP, "", starttls.IMAP, "", starttls.Postgres}},
		{false, starttls.POP3, []starttls.Protocol{starttls.POP3, starttls.POP3, starttls.IMAP, "", starttls.POP3}},
		{false, "", []starttls.Protocol{"", "", starttls.IMAP, "", ""}},
	} {
		var got []starttls.Protocol
		err := Run(t.Context(), targets, Options{Probe: probe.Options{StartTLS: tc.tmpl}, AutoStartTLS: tc.auto, Concurrency: 1,
			Check: func(ctx context.Context, o probe.Options) *diagnose.Report {
				return &diagnose.Report{Target: string(o.StartTLS)}
			}}, func(i int, _ Target, rep *diagnose.Report) error {
			got = append(got, starttls.Protocol(rep.Target))
			return nil
		})
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("auto %v, template %q: %q (%v), want %q", tc.auto, tc.tmpl, got, err, tc.want)
		}
	}
	var te *TargetError
	if err := Validate([]Target{{Address: "g.example:70", StartTLS: "gopher", Source: "f:3"}}); !errors.As(err, &te) || te.Source != "f:3" {
		t.Errorf("Validate(gopher) = %v, want a TargetError at f:3", err)
	}

}
