package scan

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// countingConn reports its close.
type countingConn struct {
	net.Conn
	once  sync.Once
	close func()
}

func (c *countingConn) Close() error {
	c.once.Do(c.close)
	return c.Conn.Close()
}

// TestConnectionLimits scans a real server (Go's crypto/tls) through a
// Dial that counts: never more than MaxConns connections are open at
// once, their starts are at least Delay apart, every connection comes
// from Dial, and the report counts them all.
func TestConnectionLimits(t *testing.T) {
	p := newTestPKI(t)
	addr := goCase(t, p)
	const maxConns, delay = 2, 5 * time.Millisecond
	var mu sync.Mutex
	open, peak, dials := 0, 0, 0
	var starts []time.Time
	d := &net.Dialer{}
	dial := func(ctx context.Context, a string) (net.Conn, error) {
		mu.Lock()
		dials++
		open++
		peak = max(peak, open)
		starts = append(starts, time.Now())
		mu.Unlock()
		c, err := d.DialContext(ctx, "tcp", a)
		if err != nil {
			mu.Lock()
			open--
			mu.Unlock()
			return nil, err
		}
		return &countingConn{Conn: c, close: func() { mu.Lock(); open--; mu.Unlock() }}, nil
	}
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier,
		Dial: dial, MaxConns: maxConns, Delay: delay, NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	if peak > maxConns {
		t.Errorf("%d connections were open at once, the bound is %d", peak, maxConns)
	}
	if rep.Connections != dials || rep.Connections != len(rep.Probes) {
		t.Errorf("the report counts %d connections and %d probes; Dial was called %d times", rep.Connections, len(rep.Probes), dials)
	}
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < delay-time.Millisecond {
			t.Errorf("connections %d and %d started %v apart, the delay is %v", i, i+1, gap, delay)
			break
		}
	}
	if len(rep.Versions) == 0 {
		t.Errorf("no version found through the counting Dial: %v", rep.Problems)
	}
}

// TestConnectionFailuresNoted: connections that cannot be made in the
// middle of a scan (a per-second connection limit refuses or drops them;
// in-process, since no server can be made to refuse exactly the fifth and
// ninth connection) are not silently taken as answers: the report's
// problems name the probes, say their questions are unanswered, and
// point at a delay between connections; a protocol version whose probe
// failed so is unknown, not refused.
func TestConnectionFailuresNoted(t *testing.T) {
	p := newTestPKI(t)
	addr := goCase(t, p)
	var mu sync.Mutex
	dials := 0
	d := &net.Dialer{}
	dial := func(ctx context.Context, a string) (net.Conn, error) {
		mu.Lock()
		dials++
		n := dials
		mu.Unlock()
		if n == 5 || n == 9 {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
		}
		return d.DialContext(ctx, "tcp", a)
	}
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier,
		Dial: dial, MaxConns: 1, NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, pr := range rep.Probes {
		if strings.HasPrefix(pr.Answer, "connection failed: ") {
			failed = append(failed, strconv.Itoa(pr.ID))
		}
	}
	if len(failed) != 2 {
		t.Fatalf("%d probes failed to connect, want 2: %v", len(failed), failed)
	}
	for _, pr := range rep.Protocols {
		if want := slices.Contains(failed, strconv.Itoa(pr.Probe)); pr.Unknown != want {
			t.Errorf("%s (probe %d): unknown %v, want %v: %s", pr.Version, pr.Probe, pr.Unknown, want, pr.Answer)
		}
	}
	var note string
	for _, pb := range rep.Problems {
		if strings.Contains(pb, "2 connections were not made") {
			note = pb
		}
	}
	if note == "" || !strings.Contains(note, "Probes "+strings.Join(failed, ", ")) || !strings.Contains(note, "connection refused") ||
		!strings.Contains(note, "not known") || !strings.Contains(note, "delay") {
		t.Errorf("no problem names the failed probes %v; problems:\n%s", failed, strings.Join(rep.Problems, "\n"))
	}
}
