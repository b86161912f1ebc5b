package exporter

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/internal/termsafe"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/trust"
)

// Options tune an [Exporter] beyond its [Config].
type Options struct {
	// Time gives the verification time; nil means time.Now.
	Time func() time.Time
	// Resolver resolves target names (timed as the dns phase); nil means
	// net.DefaultResolver.
	Resolver *net.Resolver
}

// Exporter serves probes and metrics. Build it with [New]; it is safe for
// concurrent use.
type Exporter struct {
	opts    Options
	cur     atomic.Pointer[served] // the config served now ([Exporter.Reload] replaces it)
	probeD  *descs                 // /probe: no target labels (Prometheus adds instance)
	staticD *descs                 // /metrics: target and module labels
	fileD   fileDescs
	self    *prometheus.Registry
	probes  *prometheus.CounterVec
	flight  prometheus.Gauge
	// lastReload and lastReloadAt say whether the last reading of the
	// config (New or Reload) was used, and when one last was.
	lastReload, lastReloadAt prometheus.Gauge
	chains                   *diagnose.ChainCache
	// negotiate is promhttp's handler over an empty registry: it sets
	// the headers of an answer in the format a request asks for.
	negotiate http.Handler
	mu        sync.Mutex
	accepts   map[string]http.Header // negotiate's headers by Accept header
	texts     sync.Pool              // *textBuf, the scratch space of /probe's answers
}

// module is a Module resolved: its verifier and client certificate loaded.
type module struct {
	name string
	m    *Module
	opts probe.Options // the template of its probes
	// verifier, for a module with a policy, gives its verifier with the
	// CRL files as they are on disk (read again when they change).
	verifier func() *trust.Verifier
	// cert, for a module with a client certificate, gives it as its files
	// are on disk (read again when they change).
	cert func() *tls.Certificate

	mu       sync.Mutex
	failed   map[fileOf]error // the files that no longer read (their last good contents in use), and why
	clientOf *tls.Certificate // the client certificate client describes
	client   []trust.CertInfo // its chain, for metrics
}

// fileOf is one of a module's files: a CRL file or its client
// certificate's certificate or key file.
type fileOf struct {
	files string // tlskit.ReloadCRL or tlskit.ReloadCertificate
	path  string
}

// reloaded keeps which of the module's files no longer read, as they were
// last read again (tlskit.Policy.OnReload).
func (rm *module) reloaded(r tlskit.Reload) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	maps.DeleteFunc(rm.failed, func(f fileOf, _ error) bool { return f.files == r.What })
	for i, err := range r.Errs {
		if err != nil {
			if rm.failed == nil {
				rm.failed = map[fileOf]error{}
			}
			rm.failed[fileOf{r.What, r.Files[i]}] = err
		}
	}
}

// fileErrors returns the module's files that no longer read, and why.
func (rm *module) fileErrors() map[fileOf]error {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return maps.Clone(rm.failed)
}

// clientChain describes the chain of the client certificate c, once for
// each certificate the module's files give. Certificates that do not
// parse are left out (the first load of the files refused them; a pair
// read again is checked by tlskit.LoadKeyPair).
func (rm *module) clientChain(c *tls.Certificate) []trust.CertInfo {
	if c == nil {
		return nil
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if c != rm.clientOf {
		rm.clientOf = c
		rm.client, _ = describeChain(c)
	}
	return rm.client
}

// describeChain describes the certificates of c that parse; the error is
// the first that does not.
func describeChain(c *tls.Certificate) ([]trust.CertInfo, error) {
	var out []trust.CertInfo
	var first error
	for _, der := range c.Certificate {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			first = cmp.Or(first, err)
			continue
		}
		out = append(out, trust.Describe(cert))
	}
	return out, first
}

// probeCurves are the key exchange groups a probe offers: X25519, P-256
// and P-384, with one X25519 key share, as blackbox_exporter and most
// monitoring clients do. A probe sends no secret, so the hybrid
// post-quantum key share crypto/tls leads with (X25519MLKEM768) would
// protect nothing, and it costs about a quarter of a probe's CPU. A
// server that wants another group (only X25519MLKEM768, only P-521) is
// checked again with crypto/tls's defaults (probe.Run does).
// A module with post_quantum offers crypto/tls's defaults (nil).
func probeCurves(postQuantum bool) []tls.CurveID {
	if postQuantum {
		return nil
	}
	return []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}
}

// The chain cache: how many verifications, and for how long at most. A
// verification is reused only for the same chain, name and module, while
// no certificate's validity starts or ends (see diagnose.ChainCache).
const (
	chainCacheSize = 4096
	chainCacheTTL  = 5 * time.Minute
)

// timeoutOffset is taken off a scrape's timeout, so that the answer is
// sent before Prometheus gives up (blackbox_exporter's default too).
const timeoutOffset = 500 * time.Millisecond

// scrapeTimeout is how long a probe may take for a scrape whose
// X-Prometheus-Scrape-Timeout-Seconds header is h: the scrape's timeout
// less timeoutOffset, at least 100 ms. It is 0, the module's timeout, when
// h is absent or not a positive number of seconds a time.Duration holds
// (NaN, +Inf and 1e300 are not shortened to 100 ms).
func scrapeTimeout(h string) time.Duration {
	f, err := strconv.ParseFloat(h, 64)
	if err != nil || !(f > 0) || f >= float64(math.MaxInt64)/float64(time.Second) {
		return 0
	}
	return max(time.Duration(f*float64(time.Second))-timeoutOffset, 100*time.Millisecond)
}

// served is a config resolved: what the exporter serves until the next
// [Exporter.Reload].
type served struct {
	cfg     *Config
	modules map[string]*module
	sem     chan struct{} // room for cfg.MaxConcurrentProbes probes
}

// New resolves cfg's modules (trust sources, pins, client certificates)
// and returns an exporter. A module that cannot be resolved is an error
// here, not at its first probe.
func New(cfg *Config, opts Options) (*Exporter, error) {
	c, err := resolveConfig(cfg, opts)
	if err != nil {
		return nil, err
	}
	e := &Exporter{opts: opts,
		chains: diagnose.NewChainCache(chainCacheSize, chainCacheTTL),
		probeD: newDescs(nil), staticD: newDescs([]string{"target", "module"}), fileD: newFileDescs(),
		negotiate: promhttp.HandlerFor(prometheus.NewRegistry(), promhttp.HandlerOpts{DisableCompression: true}),
		accepts:   map[string]http.Header{}}
	e.cur.Store(c)
	e.texts.New = func() any { return new(textBuf) }
	e.self = prometheus.NewRegistry()
	e.probes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tlskit_exporter_probes_total",
		Help: "Probes run, by module and verdict (trusted, untrusted, unverified, failed)."}, []string{"module", "verdict"})
	e.flight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "tlskit_exporter_probes_in_flight", Help: "Probes running now."})
	e.lastReload = prometheus.NewGauge(prometheus.GaugeOpts{Name: "tlskit_exporter_config_last_reload_successful",
		Help: "1 when the last reading of the config (at start, or a reload) is the one served; 0 when a reload failed and the one before is still served."})
	e.lastReloadAt = prometheus.NewGauge(prometheus.GaugeOpts{Name: "tlskit_exporter_config_last_reload_success_timestamp_seconds",
		Help: "When the config served was read, Unix seconds."})
	e.lastReload.Set(1)
	e.lastReloadAt.SetToCurrentTime()
	e.self.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector(),
		e.probes, e.flight, e.lastReload, e.lastReloadAt, &fileCollector{e}, newModuleFilesCollector(e))
	return e, nil
}

// Config returns the config served now (the last one New or Reload took).
// It must not be changed.
func (e *Exporter) Config() *Config { return e.cur.Load().cfg }

// Reload serves cfg from now on, as New would: its modules resolved (trust
// sources, pins, client certificates read anew), its static targets and
// certificate files. A config that cannot be resolved is an error and
// changes nothing: the last good one is still served, and
// tlskit_exporter_config_last_reload_successful says so. Probes running
// finish with the config they started with.
func (e *Exporter) Reload(cfg *Config) error {
	c, err := resolveConfig(cfg, e.opts)
	if err != nil {
		e.lastReload.Set(0)
		return err
	}
	e.cur.Store(c)
	e.lastReload.Set(1)
	e.lastReloadAt.SetToCurrentTime()
	return nil
}

// resolveConfig resolves cfg's modules and checks its targets.
func resolveConfig(cfg *Config, opts Options) (*served, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	if cfg.Modules == nil {
		cfg.Modules = map[string]*Module{}
	}
	if cfg.Modules["default"] == nil {
		cfg.Modules["default"] = &Module{ExpiringWithin: DefaultExpiringWithin}
	}
	n := cfg.MaxConcurrentProbes
	if n <= 0 {
		n = 1024
	}
	c := &served{cfg: cfg, modules: map[string]*module{}, sem: make(chan struct{}, n)}
	for name, m := range cfg.Modules {
		rm, err := resolveModule(name, m, opts)
		if err != nil {
			return nil, err
		}
		c.modules[name] = rm
	}
	seen := map[[2]string]bool{}
	for i, t := range cfg.Targets {
		if c.modules[moduleName(t.Module)] == nil {
			return nil, fmt.Errorf("exporter: target %d (%s): no module named %q", i, t.Target, t.Module)
		}
		k := [2]string{t.Target, moduleName(t.Module)}
		if seen[k] {
			return nil, fmt.Errorf("exporter: target %s with module %s is listed twice (its series would collide)", t.Target, k[1])
		}
		seen[k] = true
	}
	return c, nil
}

func moduleName(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

// ModuleError is a module that cannot be used.
type ModuleError struct {
	// Module is its name.
	Module string
	// Err says why.
	Err error
}

func (e *ModuleError) Error() string { return "exporter: module " + e.Module + ": " + e.Err.Error() }
func (e *ModuleError) Unwrap() error { return e.Err }

func resolveModule(name string, m *Module, opts Options) (*module, error) {
	rm := &module{name: name, m: m}
	o := probe.Options{Timeout: m.Timeout, ExpiringWithin: m.ExpiringWithin, Time: opts.Time, CurvePreferences: probeCurves(m.PostQuantum), XMPPDomain: m.XMPPDomain,
		Network: m.Network, DecryptIfNeeded: true}
	if err := probe.CheckNetwork(m.Network); err != nil {
		return nil, &ModuleError{name, err}
	}
	if m.StartTLS != "" {
		p, err := starttls.ParseProtocol(m.StartTLS)
		if err != nil {
			return nil, &ModuleError{name, err}
		}
		o.StartTLS = p
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if p := m.Policy; p != nil {
		cp := *p // the module's own copy: it hears what its files say
		cp.OnReload = rm.reloaded
		live, err := cp.LiveVerifier()
		if err != nil {
			return nil, &ModuleError{name, err}
		}
		o.UsePolicy(p, live())
		rm.verifier = live // the CRL files as they are at each probe
		if opts.Time != nil {
			o.Time = opts.Time
		}
		cert, err := cp.LiveClientCertificate()
		if err != nil {
			return nil, &ModuleError{name, fmt.Errorf("client certificate: %w", err)}
		}
		if cert != nil {
			first := cert()
			chain, err := describeChain(first)
			if err != nil {
				return nil, &ModuleError{name, fmt.Errorf("client certificate: %w", err)}
			}
			rm.clientOf, rm.client = first, chain // described once, until the files change
			rm.cert = cert                        // its files as they are at each probe
		}
	}
	if o.Verifier == nil {
		o.Verifier = &trust.Verifier{Anchors: trust.SystemAnchors()}
	}
	rm.opts = o
	return rm, nil
}

// Result is one probe: what was asked, the report, and the phases' times.
type Result struct {
	// Target is the address probed; Module the module's name.
	Target, Module string
	// Report is the check's report.
	Report *diagnose.Report
	// DNS, Connect, Handshake and Verify are the phases' durations
	// (Verify: decoding the recorded bytes, verifying the chain and
	// deriving the findings); StartTLS the plaintext upgrade, for a
	// module with one; Total the whole probe.
	DNS, Connect, StartTLS, Handshake, Verify, Total time.Duration

	client   []trust.CertInfo
	upgrades bool // the module has a STARTTLS protocol
}

// Success reports whether the probe succeeded: the handshake completed and
// the server is trusted under the module's policy.
func (r *Result) Success() bool { return r.Report.Verdict == diagnose.Trusted }

// Probe runs one check of target (HOST[:PORT]) with the named module ("" is
// "default"); serverName, if set, overrides the module's. timeout, if
// positive, shortens the module's. The error is for a request that cannot
// be run (an unknown module, a target that is not HOST[:PORT], a server
// name that cannot be one); a server that fails is a Result with findings.
func (e *Exporter) Probe(ctx context.Context, target, modName, serverName string, timeout time.Duration) (*Result, error) {
	return e.probe(ctx, e.cur.Load(), target, modName, serverName, timeout)
}

// probe is Probe with the config c.
func (e *Exporter) probe(ctx context.Context, c *served, target, modName, serverName string, timeout time.Duration) (*Result, error) {
	m := c.modules[moduleName(modName)]
	if m == nil {
		return nil, fmt.Errorf("exporter: unknown module %q", modName)
	}
	addr, err := probe.SplitTargetPort(target, probe.PortFor(m.opts.StartTLS)) // smtp: mail.example.com on 25
	if ib := (*probe.InBandSchemeError)(nil); errors.As(err, &ib) {
		return nil, fmt.Errorf("%w: probe %s with a module whose \"starttls\" is %q", err, ib.Host, ib.Protocol)
	}
	if err != nil {
		return nil, err
	}
	o := m.opts
	o.Address = addr
	if serverName != "" {
		if _, err := trust.ServerName("", serverName); err != nil {
			return nil, err
		}
		o.ServerName = serverName
	}
	if timeout > 0 && timeout < o.Timeout {
		o.Timeout = timeout
	}
	o.Linger = min(time.Second, o.Timeout/4)
	o.LingerOnlyIfAsked = true
	o.Chains = e.chains
	if m.verifier != nil {
		o.Verifier = m.verifier()
	}
	if m.cert != nil {
		o.Certificate = m.cert()
	}
	res := &Result{Target: addr, Module: m.name, client: m.clientChain(o.Certificate), upgrades: m.opts.StartTLS != ""}
	var tm probe.Timings
	o.Timings = &tm
	o.Dialer = e.dialer(&res.DNS)

	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	e.flight.Inc()
	start := time.Now()
	o.Deadline = start.Add(o.Timeout) // a second look, too, ends within the scrape's timeout
	res.Report = probe.Run(ctx, o)
	res.Total = time.Since(start)
	e.flight.Dec()
	<-c.sem
	res.Connect, res.StartTLS, res.Handshake, res.Verify = max(tm.Connect-res.DNS, 0), tm.StartTLS, tm.Handshake, tm.Analysis
	e.probes.WithLabelValues(m.name, string(res.Report.Verdict)).Inc()
	return res, nil
}

// dialer resolves names itself, so that name resolution is timed apart
// from the TCP connect, and tries each address in turn (dialEach). It turns TCP
// keep-alive off: a probe's connection lasts a handshake, and turning it
// on took four setsockopt calls a probe.
func (e *Exporter) dialer(dns *time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{KeepAlive: -1}
		host, port, err := net.SplitHostPort(addr)
		if err != nil || net.ParseIP(host) != nil {
			return d.DialContext(ctx, network, addr)
		}
		r := e.opts.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		// One IP version asks for its records only (A or AAAA), as Go's
		// dialer does: the other's lookup could only cost time.
		lookup := probe.LookupNetwork(network)
		t0 := time.Now()
		var ips []net.IPAddr
		if lookup == "ip" {
			ips, err = r.LookupIPAddr(ctx, host)
		} else {
			var list []net.IP
			if list, err = r.LookupIP(ctx, lookup, host); err != nil {
				// As Go's dialer says it, with the version asked for.
				err = &net.OpError{Op: "dial", Net: network, Err: err}
			}
			for _, ip := range list {
				ips = append(ips, net.IPAddr{IP: ip})
			}
		}
		*dns = time.Since(t0)
		if err != nil {
			return nil, err
		}
		return dialEach(ctx, &d, network, ips, port)
	}
}

// dialEach connects to the first of ips (on port) that answers, trying them
// in turn as Go's dialer does with a name's addresses: each gets an equal
// share of the time left, at least 2 s while that much is left, so that
// one address that drops packets (a broken IPv6 route) does not use up the
// probe before the next is tried. The error is the first address's.
func dialEach(ctx context.Context, d *net.Dialer, network string, ips []net.IPAddr, port string) (net.Conn, error) {
	const saneMinimum = 2 * time.Second // as net.Dialer's partialDeadline
	var first error
	for i, ip := range ips {
		dctx, cancel := ctx, context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok && i < len(ips)-1 {
			left := time.Until(dl)
			share := left / time.Duration(len(ips)-i)
			if share < saneMinimum {
				share = min(saneMinimum, left)
			}
			dctx, cancel = context.WithTimeout(ctx, share)
		}
		c, err := d.DialContext(dctx, network, net.JoinHostPort(ip.String(), port))
		cancel()
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// Handler serves /probe, /metrics and an index page at /.
func (e *Exporter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/probe", e.serveProbe)
	mux.HandleFunc("/metrics", e.serveMetrics)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "Healthy") // blackbox_exporter's answer, for the same liveness checks
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		c := e.cur.Load()
		fmt.Fprintf(w, "tlskit exporter\n\n/probe?target=HOST:PORT&module=NAME[&servername=NAME]  probe one target\n/metrics  the exporter's own metrics, the config file's %d targets and its certificate files\n/-/healthy  liveness\n\nmodules: %v\n", len(c.cfg.Targets), slices.Sorted(maps.Keys(c.modules)))
	})
	return mux
}

// serveProbe answers /probe?target=…&module=…[&servername=…].
func (e *Exporter) serveProbe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	target := q.Get("target")
	if target == "" {
		http.Error(w, "the target parameter is missing (/probe?target=HOST:PORT&module=NAME)", http.StatusBadRequest)
		return
	}
	mod := q.Get("module")
	c := e.cur.Load()
	if c.modules[moduleName(mod)] == nil {
		http.Error(w, fmt.Sprintf("unknown module %q", mod), http.StatusBadRequest)
		return
	}
	timeout := scrapeTimeout(r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"))
	res, err := e.probe(r.Context(), c, target, mod, q.Get("servername"), timeout)
	if err != nil {
		if r.Context().Err() != nil {
			return // the scraper went away
		}
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if q.Get("debug") == "true" {
		e.answerDebug(w, res, &resultCollector{d: e.probeD, res: res})
		return
	}
	e.answer(w, r, &resultCollector{d: e.probeD, res: res})
}

// answerDebug answers /probe?…&debug=true, blackbox_exporter's way of
// asking why a probe went as it did, for a person: its findings (text
// from the peer made safe for a terminal), the probe's whole report as
// `tlskit check --json` writes it (the findings with their
// explanation and fix, the chain sent and the path verified, the
// transcript), then the metrics the probe would have been answered with.
func (e *Exporter) answerDebug(w http.ResponseWriter, res *Result, c *resultCollector) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Probe of %s with module %s: %s in %v.\n", termsafe.String(res.Target), res.Module, res.Report.Verdict, res.Total.Round(time.Microsecond))
	if len(res.Report.Findings) > 0 {
		b.WriteString("\nFindings:\n")
		for _, f := range res.Report.Findings {
			fmt.Fprintf(&b, "  %s %s: %s\n", f.Severity, f.ID, termsafe.String(f.Title))
			if f.Fix != "" {
				fmt.Fprintf(&b, "    fix: %s\n", termsafe.String(f.Fix))
			}
		}
	}
	b.WriteString("\nReport of the probe, as `tlskit check --json` writes it:\n")
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res.Report); err != nil {
		http.Error(w, "the report: "+err.Error(), http.StatusInternalServerError)
		return
	}
	b.WriteString("\nMetrics that would have been returned:\n")
	t := e.texts.Get().(*textBuf)
	defer e.texts.Put(t)
	t.out = t.out[:0]
	if t.appendText(c) {
		b.Write(t.out)
	} else {
		b.WriteString("(none: a label value is not valid UTF-8, or two series have the same labels; /probe answers HTTP 500)\n")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write(b.Bytes())
}

// answer writes a probe's metrics. The text format, what Prometheus gets
// unless it asks for protobuf, is written directly (text.go); other
// formats and requests that pick families (name[]) are served by a
// registry holding c and promhttp, which the direct answer is tested
// against. Uncompressed: a probe's answer is a few KiB on a local network,
// and gzip would cost more CPU than the rest of the answer.
func (e *Exporter) answer(w http.ResponseWriter, r *http.Request, c *resultCollector) {
	if !r.URL.Query().Has("name[]") {
		if hdr := e.headers(r); isText(hdr.Get("Content-Type")) {
			b := e.texts.Get().(*textBuf)
			defer e.texts.Put(b)
			b.out = b.out[:0]
			if b.appendText(c) {
				h := w.Header()
				for k, v := range hdr {
					h[k] = append(h[k], v...)
				}
				h.Set("Content-Length", strconv.Itoa(len(b.out)))
				w.Write(b.out)
				return
			}
		}
	}
	e.answerRegistry(w, r, c)
}

// headers returns the headers promhttp sets on an answer to r: the format
// it negotiates from the Accept header (Content-Type) and Vary. They are
// promhttp's handler's over an empty registry, which writes nothing else,
// remembered by Accept header (scrapers send the same one each time; at
// most maxAccepts are kept). The caller must not change them.
func (e *Exporter) headers(r *http.Request) http.Header {
	accept := r.Header.Get("Accept")
	e.mu.Lock()
	h, ok := e.accepts[accept]
	e.mu.Unlock()
	if ok {
		return h
	}
	var rec headerRecorder
	rec.h = http.Header{}
	e.negotiate.ServeHTTP(&rec, r)
	e.mu.Lock()
	if len(e.accepts) >= maxAccepts {
		clear(e.accepts)
	}
	e.accepts[accept] = rec.h
	e.mu.Unlock()
	return rec.h
}

// maxAccepts bounds the Accept headers whose answer's headers are kept.
const maxAccepts = 64

// headerRecorder keeps the headers a handler sets and drops the rest.
type headerRecorder struct{ h http.Header }

func (r *headerRecorder) Header() http.Header         { return r.h }
func (r *headerRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (r *headerRecorder) WriteHeader(int)             {}

// isText reports whether a Content-Type is the text format text.go writes.
func isText(ct string) bool {
	return strings.HasPrefix(ct, "text/plain;") && strings.Contains(ct, "version=0.0.4")
}

// answerRegistry writes a probe's metrics through a registry and promhttp.
func (e *Exporter) answerRegistry(w http.ResponseWriter, r *http.Request, c *resultCollector) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{DisableCompression: true}).ServeHTTP(w, r)
}

// serveMetrics answers /metrics: the exporter's own metrics and its
// certificate files, and the config file's targets probed for this scrape,
// each within the scrape's timeout as /probe's are (a silent target would
// otherwise hold the whole answer past it, and Prometheus would keep
// nothing of the scrape).
func (e *Exporter) serveMetrics(w http.ResponseWriter, r *http.Request) {
	g := prometheus.Gatherers{e.self}
	if c := e.cur.Load(); len(c.cfg.Targets) > 0 {
		static := prometheus.NewRegistry()
		static.MustRegister(&staticCollector{e: e, c: c, ctx: r.Context(), timeout: scrapeTimeout(r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"))})
		g = append(g, static)
	}
	promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}).ServeHTTP(w, r)
}

// staticCollector probes the config file's targets for one scrape: c is
// the config served at its start, ctx the scrape's context, timeout its
// timeout (0: the modules').
type staticCollector struct {
	e       *Exporter
	c       *served
	ctx     context.Context
	timeout time.Duration
}

func (c *staticCollector) Describe(ch chan<- *prometheus.Desc) { c.e.staticD.describe(ch) }

func (c *staticCollector) Collect(ch chan<- prometheus.Metric) {
	e, targets := c.e, c.c.cfg.Targets
	results := make([]*Result, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := e.probe(c.ctx, c.c, t.Target, t.Module, t.ServerName, c.timeout)
			if err == nil {
				results[i] = res
			}
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res == nil {
			continue
		}
		t := targets[i]
		rc := resultCollector{d: e.staticD, res: res, extra: []string{t.Target, moduleName(t.Module)}}
		rc.Collect(ch)
	}
}
