package scan

import (
	"context"
	"net"
	"sync"
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
