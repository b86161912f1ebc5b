package fleet

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/starttls"
)

// Options describe a run over many targets.
type Options struct {
	// Probe is the template of every check: the verifier, client
	// certificate, versions, timeout, expiry threshold… Address and
	// ServerName are set from each target (ServerName only when the
	// target names one).
	Probe probe.Options
	// Concurrency is how many checks run at once (16 when zero).
	Concurrency int
	// PerHost is how many checks of the same host (the host part of the
	// address) run at once; 0 means no limit beyond Concurrency.
	PerHost int
	// Rate is the most checks started per second; 0 means no limit.
	Rate float64
	// Done, if set, is called once per target as its check ends, in the
	// order they end (for a progress bar). It must not block.
	Done func()
	// Check runs one check; nil means [probe.Run]. Tests replace it.
	Check func(context.Context, probe.Options) *diagnose.Report
	// AutoStartTLS chooses the STARTTLS protocol of a target without a
	// STARTTLS column by its port (587 is SMTP, 5432 PostgreSQL…; see
	// [starttls.ForPort]), as a single check does. Without it such a
	// target gets Probe's StartTLS.
	AutoStartTLS bool
}

// Validate checks that every target can be checked as given, before any
// connection is made: its STARTTLS column names a protocol of
// [starttls.Protocols], or "none".
func Validate(targets []Target) error {
	for _, t := range targets {
		if t.StartTLS == "" || t.StartTLS == "none" {
			continue
		}
		if _, err := starttls.ParseProtocol(t.StartTLS); err != nil {
			return &TargetError{Source: t.Source, Err: err}
		}
	}
	return nil
}

// upgrade sets the STARTTLS protocol of o for target t.
func upgrade(o *probe.Options, t Target, auto bool) {
	switch {
	case t.StartTLS == "none":
		o.StartTLS, o.StartTLSChosenBy = "", ""
	case t.StartTLS != "":
		o.StartTLS, o.StartTLSChosenBy = starttls.Protocol(t.StartTLS), ""
	case auto:
		o.StartTLS, o.StartTLSChosenBy = "", ""
		_, port, _ := net.SplitHostPort(t.Address)
		if n, err := strconv.Atoi(port); err == nil {
			if p := starttls.ForPort(n); p != "" {
				o.StartTLS, o.StartTLSChosenBy = p, fmt.Sprintf("from port %d; none in the STARTTLS column turns it off", n)
			}
		}
	}
}

// Run checks every target and calls emit with each report in input order
// (index i of targets), from one goroutine, whatever order the checks end
// in. At most Concurrency checks run at once, and at most 4×Concurrency
// reports wait for an earlier one to finish, so memory stays bounded
// however long the list. Run returns emit's first error (and stops
// starting checks), an [*InterruptedError] if ctx ended first, or nil.
func Run(ctx context.Context, targets []Target, opts Options, emit func(i int, t Target, rep *diagnose.Report) error) error {
	if err := Validate(targets); err != nil {
		return err
	}
	conc := opts.Concurrency
	if conc <= 0 {
		conc = 16
	}
	check := opts.Check
	if check == nil {
		check = probe.Run
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	window := make(chan struct{}, 4*conc) // dispatched and not yet emitted
	slots := make(chan struct{}, conc)    // running
	hosts := newHostLimit(opts.PerHost)
	pace := newPacer(opts.Rate)
	results := make([]*diagnose.Report, len(targets))
	skipped := new(diagnose.Report) // a target not checked: ctx ended before or during its check
	var mu sync.Mutex
	ready := make(chan struct{}, 1)
	var wg sync.WaitGroup

	dispatched := make(chan int, 1) // how many were dispatched, once done
	go func() {
		n := 0
		defer func() { dispatched <- n }()
		for i := range targets {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			n++
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := targets[i]
				host := hostOf(t.Address)
				var rep *diagnose.Report
				if hosts.acquire(ctx, host) {
					select {
					case slots <- struct{}{}:
						if pace.wait(ctx) {
							po := opts.Probe
							po.Address = t.Address
							if t.ServerName != "" {
								po.ServerName = t.ServerName
							}
							upgrade(&po, t, opts.AutoStartTLS)
							if t.Via != "" {
								po.Dialer = via(po.Dialer, t.Via)
							}
							rep = check(ctx, po)
							if ctx.Err() != nil {
								rep = nil // cut short: no verdict on the server
							} else if t.Via != "" && rep.Address == "" {
								rep.Address = t.Via // which of the name's addresses failed
							}
						}
						<-slots
					case <-ctx.Done():
					}
					hosts.release(host)
				}
				if rep == nil {
					rep = skipped
				}
				if opts.Done != nil {
					opts.Done()
				}
				mu.Lock()
				results[i] = rep
				mu.Unlock()
				select {
				case ready <- struct{}{}:
				default:
				}
			}()
		}
	}()

	next, total, checked := 0, -1, 0
	var emitErr error
	stopped := false // a target was not checked: later ones are not emitted either
	for total < 0 || next < total {
		mu.Lock()
		rep := (*diagnose.Report)(nil)
		if next < len(results) {
			rep = results[next]
			results[next] = nil
		}
		mu.Unlock()
		if rep != nil {
			stopped = stopped || rep == skipped
			if emitErr == nil && !stopped {
				if emitErr = emit(next, targets[next], rep); emitErr != nil {
					cancel()
				}
				checked++
			}
			next++
			<-window
			continue
		}
		select {
		case <-ready:
		case n := <-dispatched:
			total = n
		}
	}
	wg.Wait()
	if emitErr != nil {
		return emitErr
	}
	if stopped || next < len(targets) {
		return &InterruptedError{Checked: checked, Total: len(targets), Err: context.Cause(ctx)}
	}
	return nil
}

// via returns dial (a net.Dialer's when nil) made to connect to addr,
// whatever address it is asked for.
func via(dial func(context.Context, string, string) (net.Conn, error), addr string) func(context.Context, string, string) (net.Conn, error) {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return func(ctx context.Context, network, _ string) (net.Conn, error) { return dial(ctx, network, addr) }
}

// EachAddress returns targets with each one whose host is a name replaced
// by one target per address the name has, in the resolver's order, each
// with Via set to the address (and port) and Source saying which it is:
// a name can lead to several servers (a pool behind round-robin DNS, its
// IPv4 and IPv6 servers), and one check reaches one of them. network
// keeps to one IP version ("tcp4": A records, "tcp6": AAAA records; else
// both). A target that is an IP address, or whose name does not resolve,
// stays as it is (its check then says why: net.dns). At most 16 names are
// looked up at once; r nil is Go's default resolver.
func EachAddress(ctx context.Context, targets []Target, r *net.Resolver, network string) []Target {
	if r == nil {
		r = net.DefaultResolver
	}
	lookup := probe.LookupNetwork(network)
	each := make([][]Target, len(targets))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, t := range targets {
		each[i] = []Target{t}
		host, port, err := net.SplitHostPort(t.Address)
		if err != nil || net.ParseIP(host) != nil || t.Via != "" {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ips, err := r.LookupNetIP(ctx, lookup, host)
			if err != nil || len(ips) == 0 {
				return
			}
			list := make([]Target, len(ips))
			for k, ip := range ips {
				list[k] = t
				list[k].Via = net.JoinHostPort(ip.Unmap().String(), port)
				list[k].Source = fmt.Sprintf("%s, address %d of %d", t.Source, k+1, len(ips))
			}
			each[i] = list
		})
	}
	wg.Wait()
	var out []Target
	for _, l := range each {
		out = append(out, l...)
	}
	return out
}

// InterruptedError is Run's error when its context ended before every
// target was checked. The reports emitted are those of the first Checked
// targets, in input order; the others were not checked, or their checks
// were cut short, which says nothing about their servers: they are not
// emitted, rather than reported as failures.
type InterruptedError struct {
	// Checked is how many targets were checked and emitted, Total how
	// many were given.
	Checked, Total int
	// Err is the context's error.
	Err error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted: %d of %d targets checked", e.Checked, e.Total)
}

// Unwrap returns the context's error.
func (e *InterruptedError) Unwrap() error { return e.Err }

// hostOf returns the host part of a HOST:PORT address.
func hostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// hostLimit bounds the checks running against one host.
type hostLimit struct {
	max  int
	mu   sync.Mutex
	busy map[string]chan struct{}
}

func newHostLimit(max int) *hostLimit {
	return &hostLimit{max: max, busy: map[string]chan struct{}{}}
}

// acquire takes a slot for host; false when ctx ended first.
func (h *hostLimit) acquire(ctx context.Context, host string) bool {
	if h.max <= 0 {
		return true
	}
	h.mu.Lock()
	c := h.busy[host]
	if c == nil {
		c = make(chan struct{}, h.max)
		h.busy[host] = c
	}
	h.mu.Unlock()
	select {
	case c <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (h *hostLimit) release(host string) {
	if h.max <= 0 {
		return
	}
	h.mu.Lock()
	c := h.busy[host]
	h.mu.Unlock()
	<-c
}

// pacer spaces starts 1/rate apart.
type pacer struct {
	every time.Duration
	mu    sync.Mutex
	next  time.Time
}

func newPacer(rate float64) *pacer {
	if rate <= 0 {
		return &pacer{}
	}
	return &pacer{every: time.Duration(float64(time.Second) / rate)}
}

// wait blocks until the next start is allowed; false when ctx ended first.
func (p *pacer) wait(ctx context.Context) bool {
	if p.every <= 0 {
		return ctx.Err() == nil
	}
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.every)
	p.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
