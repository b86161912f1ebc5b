package tunnel

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// handshakeBuckets are the upper bounds, in seconds, of the handshake
// duration histogram.
func handshakeBuckets() []float64 {
	return []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}

// Metrics counts what the proxies of a process do, per service, with
// github.com/prometheus/client_golang, in a registry of its own. The zero
// value is ready to use; its methods are safe for concurrent use.
//
// The metrics (README "Tunnel"): tlskit_tunnel_connections_total,
// tlskit_tunnel_connections_active, tlskit_tunnel_connections_refused_total
// (by finding id, limit.max-conns included), tlskit_tunnel_bytes_total (by
// direction), tlskit_tunnel_handshake_seconds, tlskit_tunnel_reloads_total,
// tlskit_tunnel_reload_errors_total and tlskit_tunnel_file_error (by files:
// certificate, crl).
type Metrics struct {
	once sync.Once
	reg  *prometheus.Registry

	accepted     *prometheus.CounterVec
	active       *prometheus.GaugeVec
	refused      *prometheus.CounterVec
	bytes        *prometheus.CounterVec
	handshakes   *prometheus.HistogramVec
	reloads      prometheus.Counter
	reloadErrors prometheus.Counter
	fileErrors   *prometheus.GaugeVec
	handler      http.Handler
}

// init registers the metrics once.
func (m *Metrics) init() {
	m.once.Do(func() {
		m.reg = prometheus.NewRegistry()
		m.accepted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tlskit_tunnel_connections_total", Help: "Connections accepted."}, []string{"service"})
		m.active = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tlskit_tunnel_connections_active", Help: "Connections open now."}, []string{"service"})
		m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tlskit_tunnel_connections_refused_total",
			Help: "Connections refused or failed before data flowed, by finding id (limit.max-conns: closed at once, over the connection limit)."}, []string{"service", "finding"})
		m.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tlskit_tunnel_bytes_total", Help: "Bytes forwarded, by direction."}, []string{"service", "direction"})
		m.handshakes = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tlskit_tunnel_handshake_seconds",
			Help: "Time from accept until both sides are ready (handshakes and target dial).", Buckets: handshakeBuckets()}, []string{"service"})
		m.reloads = prometheus.NewCounter(prometheus.CounterOpts{Name: "tlskit_tunnel_reloads_total", Help: "Configuration reloads attempted."})
		m.reloadErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "tlskit_tunnel_reload_errors_total", Help: "Reloads that failed; the last good configuration stayed in service."})
		m.fileErrors = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tlskit_tunnel_file_error",
			Help: "1 while a service's files changed on disk and no longer read (files: certificate, the certificate and key; crl, the CRL files): their last good contents stay in service; 0 once they read again."}, []string{"service", "files"})
		m.reg.MustRegister(m.accepted, m.active, m.refused, m.bytes, m.handshakes, m.reloads, m.reloadErrors, m.fileErrors)
		m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	})
}

// serviceMetrics are one service's metrics, curried with its name.
type serviceMetrics struct {
	accepted          prometheus.Counter
	active            prometheus.Gauge
	bytesIn, bytesOut prometheus.Counter // from the client, to the client
	refused           *prometheus.CounterVec
	handshakes        prometheus.Observer
}

// service returns the metrics of a service, creating them (a service shows
// with zero values from the start).
func (m *Metrics) service(name string) *serviceMetrics {
	m.init()
	l := prometheus.Labels{"service": name}
	s := &serviceMetrics{
		accepted:   m.accepted.With(l),
		active:     m.active.With(l),
		bytesIn:    m.bytes.WithLabelValues(name, "from_client"),
		bytesOut:   m.bytes.WithLabelValues(name, "to_client"),
		refused:    m.refused.MustCurryWith(l),
		handshakes: m.handshakes.With(l),
	}
	return s
}

// Reloaded counts a configuration reload, and a reload error when err is
// not nil.
func (m *Metrics) Reloaded(err error) {
	m.init()
	m.reloads.Inc()
	if err != nil {
		m.reloadErrors.Inc()
	}
}

// fileError sets whether a service's files (files: certificate or crl)
// no longer read.
func (m *Metrics) fileError(service, files string, failed bool) {
	m.init()
	v := 0.0
	if failed {
		v = 1
	}
	m.fileErrors.WithLabelValues(service, files).Set(v)
}

// filesRead says a service's files all read (a reload built its config
// from them anew).
func (m *Metrics) filesRead(service string) {
	m.init()
	m.fileErrors.DeletePartialMatch(prometheus.Labels{"service": service})
}

// Registry returns the registry holding the metrics, to serve or gather
// them with client_golang.
func (m *Metrics) Registry() *prometheus.Registry {
	m.init()
	return m.reg
}

// refuse counts a refused connection.
func (s *serviceMetrics) refuse(id string) {
	s.refused.WithLabelValues(id).Inc()
}

// handshake records a handshake duration.
func (s *serviceMetrics) handshake(d time.Duration) {
	s.handshakes.Observe(d.Seconds())
}

// WriteTo writes every metric in the Prometheus text exposition format, as
// the /metrics handler serves it to a client that asks for text.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	rw := &textWriter{w: w, h: http.Header{}}
	req, err := http.NewRequest(http.MethodGet, "/metrics", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "text/plain")
	m.ServeHTTP(rw, req)
	if rw.err == nil && rw.code != 0 && rw.code != http.StatusOK {
		rw.err = fmt.Errorf("tunnel: gathering metrics: HTTP status %d", rw.code)
	}
	return rw.n, rw.err
}

// ServeHTTP serves the metrics (mount it on /metrics).
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.init()
	m.handler.ServeHTTP(w, r)
}

// textWriter is an http.ResponseWriter that copies the body to w and
// counts it.
type textWriter struct {
	w    io.Writer
	h    http.Header
	code int
	n    int64
	err  error
}

func (t *textWriter) Header() http.Header { return t.h }

func (t *textWriter) WriteHeader(code int) { t.code = code }

func (t *textWriter) Write(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.w.Write(p)
	t.n += int64(n)
	t.err = err
	return n, err
}
