package tunnel

import (
	"context"
	"net"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
)

// traced dials a service's target and says what became of each of a
// name's addresses, which Go's dialer does not: when none connected, its
// error is the first address's alone, and when a later one connected, the
// ones before are forgotten (a broken IPv6 route costs each connection
// 300 ms, unsaid).
type traced struct {
	dial DialFunc
	// fallback hears of a connection that opened at address after the
	// attempts failed.
	fallback func(address string, failed []diagnose.DialFailure)
}

// DialContext is dial, traced for a target given by name: its error lists
// every attempt when more than one failed ([*addressesError]), and
// fallback hears of the attempts that failed before one connected.
func (t traced) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	tctx, attempts := diagnose.TraceDial(ctx, addr) // untraced for an IP address
	c, err := t.dial(tctx, network, addr)
	if err != nil {
		if fs := attempts(""); len(fs) > 1 {
			return nil, &addressesError{err: err, tried: fs}
		}
		return nil, err
	}
	if t.fallback != nil {
		reached := c.RemoteAddr().String()
		if fs := attempts(reached); len(fs) > 0 {
			t.fallback(reached, fs)
		}
	}
	return c, nil
}

// addressesError is a dial of a name none of whose addresses connected:
// Go's error (the first address's), and what became of each.
type addressesError struct {
	err   error
	tried []diagnose.DialFailure
}

func (e *addressesError) Error() string {
	return e.err.Error() + "; each of the name's addresses was tried: " + diagnose.DescribeAttempts(e.tried)
}

func (e *addressesError) Unwrap() error { return e.err }

// fallbackEvery is how often a service logs net.fallback at most: a
// target whose first address is gone would otherwise log it for every
// connection.
const fallbackEvery = time.Minute

// fallback logs that a connection to the service's target opened at
// address after the name's earlier addresses failed: a warning with
// net.fallback, at most once every fallbackEvery.
func (r *running) fallback(address string, failed []diagnose.DialFailure) {
	r.fallbackMu.Lock()
	defer r.fallbackMu.Unlock()
	if now := time.Now(); now.Sub(r.fallbackLog) >= fallbackEvery {
		r.fallbackLog = now
		r.log.Warn("target reached at another of its addresses", "service", r.svc.Name, "finding", finding.NetFallback,
			"target", r.svc.Target, "address", address, "tried", diagnose.DescribeAttempts(failed),
			"every", fallbackEvery.String())
	}
}
