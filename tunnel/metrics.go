package tunnel

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// handshakeBuckets are the upper bounds, in seconds, of the handshake
// duration histogram.
func handshakeBuckets() []float64 {
	return []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}

// Metrics counts what the proxies of a process do, per service, and writes
// them in the Prometheus text format. The zero value is ready to use; its
// methods are safe for concurrent use.
type Metrics struct {
	mu       sync.Mutex
	services map[string]*serviceMetrics

	reloads      atomic.Int64
	reloadErrors atomic.Int64
}

// serviceMetrics are one service's counters.
type serviceMetrics struct {
	accepted, active  atomic.Int64
	bytesIn, bytesOut atomic.Int64 // from the client, to the client
	mu                sync.Mutex
	refused           map[string]int64
	hsCounts          []int64 // per bucket, non-cumulative; last is +Inf
	hsSum             float64
	hsCount           int64
}

// service returns the counters of a service, creating them.
func (m *Metrics) service(name string) *serviceMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.services == nil {
		m.services = map[string]*serviceMetrics{}
	}
	s := m.services[name]
	if s == nil {
		s = &serviceMetrics{refused: map[string]int64{}, hsCounts: make([]int64, len(handshakeBuckets())+1)}
		m.services[name] = s
	}
	return s
}

// Reloaded counts a configuration reload, and a reload error when err is
// not nil.
func (m *Metrics) Reloaded(err error) {
	m.reloads.Add(1)
	if err != nil {
		m.reloadErrors.Add(1)
	}
}

// refuse counts a refused connection.
func (s *serviceMetrics) refuse(id string) {
	s.mu.Lock()
	s.refused[id]++
	s.mu.Unlock()
}

// handshake records a handshake duration.
func (s *serviceMetrics) handshake(d time.Duration) {
	sec := d.Seconds()
	i, _ := slices.BinarySearch(handshakeBuckets(), sec)
	s.mu.Lock()
	s.hsCounts[i]++
	s.hsSum += sec
	s.hsCount++
	s.mu.Unlock()
}

// WriteTo writes every metric in the Prometheus text exposition format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: bufio.NewWriter(w)}
	m.mu.Lock()
	names := make([]string, 0, len(m.services))
	for n := range m.services {
		names = append(names, n)
	}
	services := m.services
	m.mu.Unlock()
	slices.Sort(names)
	get := func(n string) *serviceMetrics {
		m.mu.Lock()
		defer m.mu.Unlock()
		return services[n]
	}
	counter := func(name, help, typ string, v func(*serviceMetrics) int64) {
		fmt.Fprintf(cw, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, n := range names {
			fmt.Fprintf(cw, "%s{service=%s} %d\n", name, quote(n), v(get(n)))
		}
	}
	counter("tlskit_tunnel_connections_total", "Connections accepted.", "counter", func(s *serviceMetrics) int64 { return s.accepted.Load() })
	counter("tlskit_tunnel_connections_active", "Connections open now.", "gauge", func(s *serviceMetrics) int64 { return s.active.Load() })
	fmt.Fprintf(cw, "# HELP tlskit_tunnel_connections_refused_total Connections refused or failed before data flowed, by finding id.\n# TYPE tlskit_tunnel_connections_refused_total counter\n")
	for _, n := range names {
		s := get(n)
		s.mu.Lock()
		ids := make([]string, 0, len(s.refused))
		for id := range s.refused {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			fmt.Fprintf(cw, "tlskit_tunnel_connections_refused_total{service=%s,finding=%s} %d\n", quote(n), quote(id), s.refused[id])
		}
		s.mu.Unlock()
	}
	fmt.Fprintf(cw, "# HELP tlskit_tunnel_bytes_total Bytes forwarded, by direction.\n# TYPE tlskit_tunnel_bytes_total counter\n")
	for _, n := range names {
		s := get(n)
		fmt.Fprintf(cw, "tlskit_tunnel_bytes_total{service=%s,direction=\"from_client\"} %d\n", quote(n), s.bytesIn.Load())
		fmt.Fprintf(cw, "tlskit_tunnel_bytes_total{service=%s,direction=\"to_client\"} %d\n", quote(n), s.bytesOut.Load())
	}
	fmt.Fprintf(cw, "# HELP tlskit_tunnel_handshake_seconds Time from accept until both sides are ready (handshakes and target dial).\n# TYPE tlskit_tunnel_handshake_seconds histogram\n")
	for _, n := range names {
		s := get(n)
		s.mu.Lock()
		var cum int64
		for i, le := range handshakeBuckets() {
			cum += s.hsCounts[i]
			fmt.Fprintf(cw, "tlskit_tunnel_handshake_seconds_bucket{service=%s,le=\"%s\"} %d\n", quote(n), strconv.FormatFloat(le, 'g', -1, 64), cum)
		}
		cum += s.hsCounts[len(s.hsCounts)-1]
		fmt.Fprintf(cw, "tlskit_tunnel_handshake_seconds_bucket{service=%s,le=\"+Inf\"} %d\n", quote(n), cum)
		fmt.Fprintf(cw, "tlskit_tunnel_handshake_seconds_sum{service=%s} %s\n", quote(n), strconv.FormatFloat(s.hsSum, 'g', -1, 64))
		fmt.Fprintf(cw, "tlskit_tunnel_handshake_seconds_count{service=%s} %d\n", quote(n), s.hsCount)
		s.mu.Unlock()
	}
	fmt.Fprintf(cw, "# HELP tlskit_tunnel_reloads_total Configuration reloads attempted.\n# TYPE tlskit_tunnel_reloads_total counter\ntlskit_tunnel_reloads_total %d\n", m.reloads.Load())
	fmt.Fprintf(cw, "# HELP tlskit_tunnel_reload_errors_total Reloads that failed; the last good configuration stayed in service.\n# TYPE tlskit_tunnel_reload_errors_total counter\ntlskit_tunnel_reload_errors_total %d\n", m.reloadErrors.Load())
	if err := cw.w.(*bufio.Writer).Flush(); err != nil && cw.err == nil {
		cw.err = err
	}
	return cw.n, cw.err
}

// ServeHTTP serves the metrics (mount it on /metrics).
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.WriteTo(w)
}

// quote quotes a label value (backslash, double quote and newline escaped).
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// countWriter counts bytes and keeps the first error.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
