package exporter

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
)

// TestPrometheusHashmod runs a real Prometheus server (Debian's prometheus)
// scraping two exporter replicas that share ten lab targets by hashmod
// relabelling, the configuration the README documents, and asks
// Prometheus' HTTP API for what it stored: every target is probed by
// exactly one replica, the series of each case (success, the finding, the
// sent chain kept when verification fails and behind mTLS), and the
// expiry alert rule firing for the certificate that expires in 10 days.
func TestPrometheusHashmod(t *testing.T) {
	prom := peertest.Need(t, "prometheus")
	names := []string{"good", "good-tls12", "expiring-soon", "expired", "untrusted-root", "name-mismatch",
		"client-cert-required-tls12", "client-cert-required-tls13", "wrong-order", "refused"}
	addrs := map[string]string{} // case → address
	for _, n := range names {
		c, ok := theLab.Case(n)
		if !ok {
			t.Fatalf("no lab case %s", n)
		}
		addrs[n] = c.Addr
	}

	// Two replicas; each remembers the targets it was asked to probe.
	var mu sync.Mutex
	probed := [2]map[string]bool{{}, {}}
	var replicas [2]*httptest.Server
	for i := range replicas {
		ex, _ := labExporter(t)
		h := ex.Handler()
		replicas[i] = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/probe" {
				mu.Lock()
				probed[i][r.URL.Query().Get("target")] = true
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		}))
		defer replicas[i].Close()
	}

	dir := t.TempDir()
	var targets strings.Builder
	for _, n := range names {
		fmt.Fprintf(&targets, "          - targets: [%q]\n            labels: {__param_servername: %q, case: %q}\n", addrs[n], n+".lab.tlskit.test", n)
	}
	var jobs strings.Builder
	for i, r := range replicas {
		fmt.Fprintf(&jobs, `  - job_name: tlskit-%d
    metrics_path: /probe
    params: {module: [lab]}
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
%s    relabel_configs:
      - source_labels: [__address__]
        modulus: 2
        target_label: __tmp_hash
        action: hashmod
      - source_labels: [__tmp_hash]
        regex: "%d"
        action: keep
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: %s
`, i, targets.String(), i, strings.TrimPrefix(r.URL, "http://"))
	}
	config := "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [rules.yml]\nscrape_configs:\n" + jobs.String()
	rules := `groups:
  - name: tls
    rules:
      - alert: TLSCertificateExpiresSoon
        expr: min by (instance, case) (tlskit_cert_not_after_seconds{chain="sent", position="0"}) - time() < 14 * 86400
        labels: {severity: warning}
      - alert: TLSProbeFailed
        expr: tlskit_probe_success == 0
`
	for name, text := range map[string]string{"prometheus.yml": config, "rules.yml": rules} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv := peertest.Start(t, prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address=127.0.0.1:{port}")
	api := "http://" + srv.Addr + "/api/v1/"
	// The API answers 503 until Prometheus is ready.
	for ready := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get("http://" + srv.Addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(ready) {
			t.Fatalf("Prometheus not ready after 30s: %v; its output:\n%s", err, srv.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}

	type sample struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	query := func(q string) []sample {
		resp, err := http.Get(api + "query?query=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Status string `json:"status"`
			Data   struct {
				Result []sample `json:"result"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
			t.Fatalf("query %s: %v %s", q, err, r.Status)
		}
		return r.Data.Result
	}
	type alert struct {
		Labels map[string]string `json:"labels"`
		State  string            `json:"state"`
	}
	alerts := func() []alert {
		resp, err := http.Get(api + "alerts")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Alerts []alert `json:"alerts"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return r.Data.Alerts
	}
	firing := func(name, c string) bool {
		for _, a := range alerts() {
			if a.Labels["alertname"] == name && a.Labels["case"] == c && a.State == "firing" {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(query("tlskit_probe_success")) < len(names) || !firing("TLSCertificateExpiresSoon", "expiring-soon") ||
		!firing("TLSCertificateExpiresSoon", "expired") || !firing("TLSProbeFailed", "client-cert-required-tls13") {
		if time.Now().After(deadline) {
			t.Fatalf("after 60s Prometheus has %d of %d targets' tlskit_probe_success, alerts %v; its output:\n%s",
				len(query("tlskit_probe_success")), len(names), alerts(), srv.Output())
		}
		time.Sleep(250 * time.Millisecond)
	}

	// Each target was probed by exactly the replica Prometheus' hashmod
	// assigns it: the MD5 of the address, its last 8 bytes as a big-endian
	// integer, modulo 2 (prometheus/model/relabel). The lab's ports are
	// random, so the split varies from run to run (all ten on one replica
	// in about one run of 500): the assignment is checked, not a spread.
	mu.Lock()
	var counts [2]int
	for _, n := range names {
		sum := md5.Sum([]byte(addrs[n]))
		want := binary.BigEndian.Uint64(sum[8:]) % 2
		counts[want]++
		if !probed[want][addrs[n]] || probed[1-want][addrs[n]] {
			t.Errorf("%s (%s): probed by replica 0: %v, by replica 1: %v; hashmod assigns it to replica %d only", n, addrs[n], probed[0][addrs[n]], probed[1][addrs[n]], want)
		}
	}
	t.Logf("hashmod split the ten targets %d + %d", counts[0], counts[1])
	mu.Unlock()

	value := func(s sample) string { v, _ := s.Value[1].(string); return v }
	byCase := func(q string) map[string]string {
		out := map[string]string{}
		for _, s := range query(q) {
			out[s.Metric["case"]] = value(s)
		}
		return out
	}
	success := byCase("tlskit_probe_success")
	for _, n := range names {
		want := "0"
		if n == "good" || n == "good-tls12" || n == "expiring-soon" || n == "wrong-order" {
			want = "1"
		}
		if success[n] != want {
			t.Errorf("%s: tlskit_probe_success %q, want %s", n, success[n], want)
		}
	}
	for c, id := range map[string]string{"expired": "cert.expired", "untrusted-root": "chain.untrusted-root", "name-mismatch": "name.mismatch",
		"client-cert-required-tls12": "client-cert.required", "client-cert-required-tls13": "client-cert.required",
		"refused": "net.refused", "expiring-soon": "cert.expiring-soon", "wrong-order": "chain.wrong-order"} {
		if got := query(fmt.Sprintf(`tlskit_finding{case=%q, id=%q}`, c, id)); len(got) != 1 {
			t.Errorf("%s: %d tlskit_finding{id=%q} series, want 1", c, len(got), id)
		}
	}
	// The sent chain is kept when verification fails and behind mTLS.
	sent := byCase(`count by (case) (tlskit_cert_not_after_seconds{chain="sent"})`)
	for _, c := range []string{"expired", "untrusted-root", "name-mismatch", "client-cert-required-tls12", "client-cert-required-tls13"} {
		if sent[c] == "" || sent[c] == "0" {
			t.Errorf("%s: no sent chain in Prometheus", c)
		}
	}
	if sent["refused"] != "" {
		t.Errorf("refused: %s sent certificates, want none", sent["refused"])
	}
	if firing("TLSCertificateExpiresSoon", "good") {
		t.Errorf("the expiry alert fires for a certificate with 89 days left")
	}
}

// TestREADMEAlertRules checks the README's example alert rules with
// Prometheus' own checker (promtool check rules): a user copies them, so
// they must load, and they may name only metrics the exporter exports.
func TestREADMEAlertRules(t *testing.T) {
	promtool := peertest.Need(t, "promtool")
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "Example alert rules:\n\n```yaml\n")
	rules, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("the README has no example alert rules (a yaml block after \"Example alert rules:\")")
	}
	path := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(path, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	n := strings.Count(rules, "- alert:")
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("SUCCESS: %d rules found", n)) {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	known := []string{MetricSuccess, MetricDuration, MetricPhase, MetricVerdict, MetricTLS, MetricNotAfter, MetricNotBefore,
		MetricFinding, MetricFileNotAfter, MetricFileNotBefore, MetricFileError, MetricCRLNextUpdate, MetricCRLThisUpdate, MetricModuleFileError,
		"tlskit_exporter_config_last_reload_successful"}
	for _, name := range regexp.MustCompile(`tlskit_[a-z_]+`).FindAllString(rules, -1) {
		if !slices.Contains(known, name) {
			t.Errorf("an example rule names %s, which the exporter does not export", name)
		}
	}
}

// TestREADMEScrapeConfigs: every Prometheus scrape config of the README
// (a yaml block with a job_name; a block of jobs alone goes under
// scrape_configs) is one that promtool accepts, and sends its targets to
// /probe.
func TestREADMEScrapeConfigs(t *testing.T) {
	promtool := peertest.Need(t, "promtool")
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, block := range strings.Split(string(readme), "```yaml\n")[1:] {
		cfg, _, _ := strings.Cut(block, "```")
		if !strings.Contains(cfg, "job_name:") {
			continue
		}
		n++
		if !strings.HasPrefix(cfg, "scrape_configs:") {
			cfg = "scrape_configs:\n" + cfg
		}
		path := filepath.Join(t.TempDir(), "prometheus.yml")
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(promtool, "check", "config", "--syntax-only", path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("promtool check config: %v\n%s\n%s", err, out, cfg)
		}
		if !strings.Contains(cfg, "metrics_path: /probe") {
			t.Errorf("a scrape config that does not probe:\n%s", cfg)
		}
	}
	if n < 3 {
		t.Fatalf("found %d scrape configs in the README, want the blackbox_exporter one, the each-address one and the hashmod one", n)
	}
}
