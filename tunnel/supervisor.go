package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/trust"
)

// DefaultGrace is how long `tlskit tunnel` lets connections drain when it
// stops, unless told otherwise.
const DefaultGrace = 30 * time.Second

// Supervisor runs a set of services in one process, as `tlskit tunnel`
// does: it builds each service's TLS config from its policy, listens,
// serves Prometheus metrics, reloads every policy on [Supervisor.Reload]
// (and on SIGHUP) keeping the last good config of a service whose new one
// fails, and on stop lets connections drain for Grace.
//
// Set its fields, then call [Supervisor.Run] once.
type Supervisor struct {
	// Services are the services to run; their names must be unique.
	Services []*Service
	// Metrics is the address to serve Prometheus metrics on at /metrics;
	// "" serves none.
	Metrics string
	// AllowPublicPlaintext allows a plain TCP side that is not on
	// loopback; otherwise such a service is a [*PublicPlaintextError].
	AllowPublicPlaintext bool
	// Grace is how long connections may drain when the supervisor stops
	// (see [DefaultGrace]); zero closes them at once.
	Grace time.Duration
	// Logger receives the logs; nil discards them.
	Logger *slog.Logger
	// Warn receives warnings for the person starting the services (a
	// policy's single pin); nil discards them.
	Warn io.Writer
	// Reread, when set, gives the services afresh at every reload (the
	// config file read again, as stunnel does on SIGHUP). A result that
	// fails keeps everything as it was, logged and counted; a service's
	// new policy is used at once; other changes (a new, removed or
	// changed service) cannot be applied to a running service, and the
	// log says so: restart to apply them.
	Reread func() ([]*Service, error)
	// Signals makes SIGHUP reload and SIGTERM and SIGINT stop, as a
	// daemon's signals do. Once stopping, it no longer catches SIGTERM
	// and SIGINT: another one ends the process at once, by the signal's
	// default action, rather than waiting for the drain.
	Signals bool
	// Explain, when set, names why a client service's target refused the
	// handshake with nothing but a handshake_failure, protocol_version,
	// insufficient_security or internal_error alert, or a close or reset,
	// with the finding id `tlskit check` prints for that server
	// (protocol.hello-rejected for a hello too large for it,
	// sni.unrecognized-name for a Go server's internal_error): the alert
	// alone cannot tell a server that
	// shares no cipher suite with the tunnel from one that speaks only
	// versions or suites the tunnel's client does not
	// (protocol.client-unsupported), and check finds out with a second
	// look, a ClientHello of its own. `tlskit tunnel` sets it to a check
	// of the target under the service's policy, after the service's
	// STARTTLS upgrade (proto, "" for none); "" keeps the id the alert
	// gives. Its answer is kept for a minute per service, so that a target
	// refusing every connection costs one check a minute, not one per
	// connection.
	Explain ExplainFunc
	// Resolver resolves the services' targets; nil is Go's default
	// resolver.
	Resolver *net.Resolver

	reloadOnce sync.Once
	reload     chan struct{}
	metrics    Metrics
}

// ExplainFunc names, with a finding id, why target refused a handshake
// under p, after the STARTTLS upgrade proto ("" for none); "" when it
// cannot tell. See [Supervisor.Explain].
type ExplainFunc func(ctx context.Context, target string, proto starttls.Protocol, p *tlskit.Policy) string

// running is a started service.
type running struct {
	svc     *Service
	log     *slog.Logger
	metrics *Metrics
	policy  func(warn io.Writer) (*tlskit.Policy, error) // svc.Policy, or a reread file's
	trusts  string                                       // what the service trusts, for the log
	crls    string                                       // the CRLs it checks, for the log
	cfg     atomic.Pointer[tls.Config]
	pol     atomic.Pointer[tlskit.Policy] // the policy cfg was built from
	proxy   *Proxy

	explainMu sync.Mutex // held while a refusal is explained
	explained explanation
	ln        net.Listener

	fallbackMu  sync.Mutex
	fallbackLog time.Time // when net.fallback was last logged
}

// explanation is what Supervisor.Explain said of a refusal, and when.
type explanation struct {
	alert string // the id the alert gave
	id    string // Explain's answer
	at    time.Time
}

// built is a service's TLS config and what the log says about it.
type built struct {
	pol    *tlskit.Policy
	cfg    *tls.Config
	trusts string // what the service trusts, in one line
	crls   string // the CRLs it checks, and when each is due ("" none)
	legacy bool   // the legacy profile is on
}

// use makes b the service's current config and policy.
func (r *running) use(b built) {
	r.cfg.Store(b.cfg)
	r.pol.Store(b.pol)
}

// build builds the service's TLS config from its policy.
func (r *running) build(warn io.Writer) (built, error) {
	p, err := r.policy(warn)
	if err != nil {
		return built{}, err
	}
	cp := *p // the service's own copy: it says what it reads again
	cp.OnReload = r.reloaded
	p = &cp
	b := built{pol: p, legacy: p.Legacy, trusts: "no client certificates"}
	if r.svc.Mode == ModeServer {
		if b.cfg, err = p.ServerConfig(); err != nil {
			return built{}, err
		}
		if b.cfg.ClientAuth != tls.NoClientCert {
			v, err := p.ClientVerifier()
			if err != nil {
				return built{}, err
			}
			b.trusts, b.crls = "clients: "+v.Describe(), describeCRLs(v.CRLs)
		}
		return b, nil
	}
	// The name to verify is decided from the target (or the policy's
	// server name) by the same rule as everywhere: an IP address is
	// checked too.
	if b.cfg, err = p.DialConfig(r.svc.Target); err != nil {
		return built{}, err
	}
	v, err := p.Verifier()
	if err != nil {
		return built{}, err
	}
	b.trusts, b.crls = v.Describe(), describeCRLs(v.CRLs)
	return b, nil
}

// reloaded logs the service's files read again at a handshake after they
// changed on disk (tlskit.Policy.OnReload), and sets
// tlskit_tunnel_file_error: a file that no longer reads leaves its last
// good contents in service (a certificate that will expire, a CRL that
// will turn stale), which must not go unsaid.
func (r *running) reloaded(e tlskit.Reload) {
	failed := e.Failed()
	r.metrics.fileError(r.svc.Name, e.What, len(failed) > 0)
	attrs := []any{"service", r.svc.Name, "files", e.What}
	if len(failed) > 0 {
		attrs = append(attrs, "failed", strings.Join(failed, ","), "error", e.Err().Error())
	}
	if e.What == tlskit.ReloadCRL {
		attrs = append(attrs, "crl", describeCRLs(e.CRLs))
	}
	if len(failed) > 0 {
		r.log.Error("files changed on disk no longer read; the last good ones stay in use", attrs...)
		return
	}
	r.log.Info("files read again", attrs...)
}

// describeCRLs lists CRLs for the log, each with when the next is due:
// they are read again when their files change, and a CRL nobody refreshes
// refuses every peer once it is stale.
func describeCRLs(crls []*trust.CRL) string {
	var ds []string
	for _, c := range crls {
		ds = append(ds, c.Describe())
	}
	return strings.Join(ds, "; ")
}

// Reload asks the running supervisor to rebuild every service's config
// from its policy, as SIGHUP does. It does not wait.
func (s *Supervisor) Reload() {
	select {
	case s.reloadChan() <- struct{}{}:
	default: // a reload is pending already
	}
}

// reloadChan returns the channel Reload signals on.
func (s *Supervisor) reloadChan() chan struct{} {
	s.reloadOnce.Do(func() { s.reload = make(chan struct{}, 1) })
	return s.reload
}

// Run starts every service and the metrics server, and serves until ctx
// is done (or, with Signals, SIGTERM or SIGINT arrives); then it stops
// accepting, lets connections drain for Grace and returns nil.
//
// A service that cannot start because of its configuration (its policy
// does not load, its plain side is public) is a [*ConfigError]; a
// listener that cannot be opened is another error. Either way nothing is
// left running.
func (s *Supervisor) Run(ctx context.Context) error {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	warn := s.Warn
	if warn == nil {
		warn = io.Discard
	}
	reload := s.reloadChan()
	var started []*running
	defer func() {
		for _, r := range started {
			r.ln.Close()
		}
	}()
	for _, svc := range s.Services {
		if !s.AllowPublicPlaintext && !isLoopback(svc.plaintext()) {
			return &ConfigError{Service: svc.Name, Err: &PublicPlaintextError{Addr: svc.plaintext()}}
		}
		r := &running{svc: svc, policy: svc.Policy, log: log, metrics: &s.metrics}
		b, err := r.build(warn)
		if err != nil {
			return &ConfigError{Service: svc.Name, Err: err}
		}
		r.trusts, r.crls = b.trusts, b.crls
		if b.legacy {
			log.Warn("legacy profile: TLS versions below 1.2 (if the minimum version allows them) and TLS 1.2 suites without forward secrecy or AEAD are allowed", "service", svc.Name, "min_version", tls.VersionName(b.cfg.MinVersion))
		}
		r.use(b)
		r.proxy = r.newProxy(log, &s.metrics, s.Explain, s.Resolver)
		if r.ln, err = net.Listen("tcp", svc.Listen); err != nil {
			return fmt.Errorf("tunnel: service %q: %w", svc.Name, err)
		}
		started = append(started, r)
	}
	if s.Metrics != "" {
		mln, err := net.Listen("tcp", s.Metrics)
		if err != nil {
			return fmt.Errorf("tunnel: metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", &s.metrics)
		mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "Healthy") // for liveness checks, as the exporter answers
		})
		ms := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go ms.Serve(mln)
		defer ms.Close()
		log.Info("metrics", "addr", mln.Addr().String())
	}
	var sigs chan os.Signal
	if s.Signals {
		sigs = make(chan os.Signal, 4)
		signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
		defer signal.Stop(sigs)
	}
	var wg sync.WaitGroup
	for _, r := range started {
		wg.Add(1)
		go func() { defer wg.Done(); r.proxy.Serve(r.ln) }()
		attrs := []any{"service", r.svc.Name, "mode", string(r.svc.Mode), "addr", r.ln.Addr().String(), "target", r.svc.Target, "trust", r.trusts}
		if r.crls != "" {
			attrs = append(attrs, "crl", r.crls)
		}
		log.Info("listening", attrs...)
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case sig := <-sigs:
			if sig != syscall.SIGHUP {
				break loop
			}
			s.reloadAll(started, log)
		case <-reload:
			s.reloadAll(started, log)
		}
	}
	if sigs != nil {
		// Draining: a further SIGTERM or SIGINT ends the process at once,
		// by its default action (unless someone else catches it), as
		// README promises; a SIGHUP still does nothing.
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		signal.Stop(sigs)
	}
	log.Info("shutting down", "grace", s.Grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.Grace)
	defer cancel()
	for _, r := range started {
		r.proxy.Shutdown(sctx)
	}
	wg.Wait()
	log.Info("stopped")
	return nil
}

// reloadAll rebuilds every service's config; a service whose new config
// fails keeps its last good one.
func (s *Supervisor) reloadAll(started []*running, log *slog.Logger) {
	if s.Reread != nil {
		svcs, err := s.Reread()
		if err != nil {
			s.metrics.Reloaded(err)
			log.Error("reload failed; the last good configuration stays", "error", err.Error())
			return
		}
		reread := map[string]*Service{}
		for _, n := range svcs {
			reread[n.Name] = n
		}
		for _, r := range started {
			n, ok := reread[r.svc.Name]
			if !ok {
				log.Warn("reload: the service is no longer configured; it runs until a restart", "service", r.svc.Name)
				continue
			}
			delete(reread, n.Name)
			if changed := changedSettings(r.svc, n); len(changed) > 0 {
				log.Warn("reload: settings changed that apply only after a restart", "service", r.svc.Name, "changed", strings.Join(changed, ","))
			}
			r.policy = n.Policy
		}
		for _, n := range svcs {
			if reread[n.Name] != nil {
				log.Warn("reload: a new service starts only after a restart", "service", n.Name)
			}
		}
	}
	for _, r := range started {
		b, err := r.build(io.Discard)
		s.metrics.Reloaded(err)
		if err != nil {
			log.Error("reload failed; the last good configuration stays", "service", r.svc.Name, "error", err.Error())
			continue
		}
		r.use(b)
		s.metrics.filesRead(r.svc.Name) // the new config read every file
		log.Info("reloaded", "service", r.svc.Name)
	}
}

// changedSettings names the settings of a running service that n changes,
// other than its policy.
func changedSettings(old, n *Service) []string {
	var c []string
	for _, d := range []struct {
		name string
		diff bool
	}{
		{"mode", old.Mode != n.Mode}, {"listen", old.Listen != n.Listen}, {"target", old.Target != n.Target},
		{"proxy_protocol", old.ProxyProtocol != n.ProxyProtocol}, {"protocol", old.Protocol != n.Protocol},
		{"max_conns", old.MaxConns != n.MaxConns}, {"handshake_timeout", old.HandshakeTimeout != n.HandshakeTimeout},
		{"first_byte_timeout", old.FirstByteTimeout != n.FirstByteTimeout}, {"idle_timeout", old.IdleTimeout != n.IdleTimeout},
	} {
		if d.diff {
			c = append(c, d.name)
		}
	}
	return c
}

// newProxy builds the proxy of a service; its hooks read the current
// config. explain is Supervisor.Explain, resolver Supervisor.Resolver.
func (r *running) newProxy(log *slog.Logger, m *Metrics, explain ExplainFunc, resolver *net.Resolver) *Proxy {
	p := &Proxy{
		Name: r.svc.Name, Logger: log, Metrics: m, ProxyProtocol: r.svc.ProxyProtocol,
		MaxConns: r.svc.MaxConns, HandshakeTimeout: r.svc.HandshakeTimeout, FirstByteTimeout: r.svc.FirstByteTimeout, IdleTimeout: r.svc.IdleTimeout,
	}
	target := r.svc.Target
	dialer := traced{dial: (&net.Dialer{Resolver: resolver}).DialContext, fallback: r.fallback}
	if proto := r.svc.Protocol; proto != "" {
		cfg := func() *tls.Config { return r.cfg.Load() }
		if r.svc.Mode == ModeServer {
			host, err := os.Hostname()
			if err != nil || host == "" {
				host = "localhost"
			}
			p.Handshake, p.Dial = StartTLSServe(proto, target, host, dialer.DialContext, cfg)
		} else {
			dial := StartTLSDial(proto, target, "", dialer.DialContext, cfg)
			p.Dial = func(ctx context.Context, in net.Conn) (net.Conn, error) {
				c, err := dial(ctx, in)
				if err != nil {
					err = r.explain(ctx, explain, err)
				}
				return c, err
			}
		}
		return p
	}
	if r.svc.Mode == ModeServer {
		p.Handshake = func(ctx context.Context, c net.Conn) (net.Conn, error) {
			return serverHandshake(ctx, c, r.cfg.Load())
		}
		p.Dial = func(ctx context.Context, _ net.Conn) (net.Conn, error) { return dialer.DialContext(ctx, "tcp", target) }
	} else {
		timeout := r.svc.HandshakeTimeout
		p.Dial = func(ctx context.Context, _ net.Conn) (net.Conn, error) {
			raw, err := dialer.DialContext(ctx, "tcp", target)
			if err != nil {
				return nil, timedOut(ctx, err, "connecting to "+target, timeout)
			}
			tc, err := clientHandshake(ctx, raw, r.cfg.Load())
			if err != nil {
				raw.Close()
				return nil, timedOut(ctx, r.explain(ctx, explain, err), "the TLS handshake with "+target, timeout)
			}
			return tc, nil
		}
	}
	return p
}

// explainAfter is how long Supervisor.Explain's answer is kept.
const explainAfter = time.Minute

// explain returns the target's refusal err with what explain says of it
// (an [*explainedError]) when err is a bare alert or a hang-up that
// check's second look would explain further and explain names it; else
// err as it is. One
// explanation runs at a time per service; its answer is reused for the
// same alert for explainAfter.
func (r *running) explain(ctx context.Context, explain ExplainFunc, err error) error {
	var cr *certRequestedError
	if explain == nil || errors.As(err, &cr) {
		return err
	}
	var alert string // what the refusal alone says, the key of the answer kept
	switch code, ok := tlskit.PeerAlert(err); {
	case ok && (code == 40 || code == 70 || code == 71 || code == 80):
		alert = alertFinding(code, false)
	case !ok && hungUp(err):
		// A close or reset in the handshake: a hello too large for the
		// server (tldr.fail), a version it cannot stand, or a crash.
		alert = "hung up"
	default:
		return err
	}
	r.explainMu.Lock()
	defer r.explainMu.Unlock()
	e := r.explained
	if e.alert != alert || time.Since(e.at) >= explainAfter {
		pol := r.pol.Load()
		if pol == nil || ctx.Err() != nil {
			return err
		}
		e = explanation{alert: alert, id: explain(ctx, r.svc.Target, r.svc.Protocol, pol), at: time.Now()}
		if ctx.Err() == nil { // an answer cut short is not kept
			r.explained = e
		}
	}
	if e.id == "" {
		return err
	}
	return &explainedError{id: e.id, err: err}
}

// hungUp reports whether err is the peer's close or reset of the
// connection.
func hungUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// explainedError is a target's refusal with the finding id
// Supervisor.Explain gave it.
type explainedError struct {
	id  string
	err error
}

func (e *explainedError) Error() string { return e.err.Error() }
func (e *explainedError) Unwrap() error { return e.err }

// timedOut says what was cut short when err is the end of the time given
// to connect and handshake ("context deadline exceeded" alone named
// nothing); other errors are returned as they are.
func timedOut(ctx context.Context, err error, what string, timeout time.Duration) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%s did not complete within the timeout (%v): %w", what, timeout, err)
}

// isLoopback reports whether a listen or target address is on loopback.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
