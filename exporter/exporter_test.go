package exporter

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/dn"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/schematest"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/trust"
	"github.com/tlskit/tlskit/truststore"
)

// theLab is started once for the package's tests.
var theLab *lab.Lab

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "exporter-lab-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	l, err := lab.Start(context.Background(), lab.Options{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	theLab = l
	code := m.Run()
	l.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// series is one sample of the text exposition format.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

// parseText reads the Prometheus text format as served, label values
// unescaped.
func parseText(t *testing.T, r io.Reader) []series {
	t.Helper()
	var out []series
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s := series{labels: map[string]string{}}
		rest := line
		if i := strings.IndexAny(line, "{ "); i >= 0 && line[i] == '{' {
			s.name = line[:i]
			j := strings.LastIndex(line, "}")
			for _, kv := range splitLabels(line[i+1 : j]) {
				k, v, _ := strings.Cut(kv, "=")
				// The format escapes a backslash, a double quote and a newline
				// as Go quotes them.
				uv, err := strconv.Unquote(v)
				if err != nil {
					t.Fatalf("line %q: label %s: %v", line, k, err)
				}
				s.labels[k] = uv
			}
			rest = strings.TrimSpace(line[j+1:])
		} else {
			s.name, rest, _ = strings.Cut(line, " ")
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		s.value = v
		out = append(out, s)
	}
	return out
}

// splitLabels splits a="x",b="y,z" at the commas between pairs.
func splitLabels(s string) []string {
	var out []string
	in := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			in = !in
		case ',':
			if !in {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// find returns the series of name whose labels include want.
func find(ss []series, name string, want map[string]string) []series {
	var out []series
	for _, s := range ss {
		if s.name != name {
			continue
		}
		ok := true
		for k, v := range want {
			if s.labels[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

// serveExporter makes an exporter of cfg and serves it until the test
// ends.
func serveExporter(t *testing.T, cfg *Config, opts Options) (*Exporter, *httptest.Server) {
	t.Helper()
	ex, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ex.Handler())
	t.Cleanup(srv.Close)
	return ex, srv
}

// labExporter returns an exporter whose modules reach the lab: "lab"
// trusts its root, "lab-client" also presents the client certificate the
// servers accept, "lab-badclient" one they reject.
func labExporter(t *testing.T) (*Exporter, *httptest.Server) {
	t.Helper()
	f := theLab.Files()
	pol := func(cert, key string) *tlskit.Policy {
		return &tlskit.Policy{Trust: []string{"file:" + f.Root}, CertFile: cert, KeyFile: key}
	}
	ex, srv := serveExporter(t, &Config{Modules: map[string]*Module{
		"lab":           {Policy: pol("", ""), ExpiringWithin: DefaultExpiringWithin},
		"lab-client":    {Policy: pol(f.ClientCert, f.ClientKey), ExpiringWithin: DefaultExpiringWithin},
		"lab-badclient": {Policy: pol(f.BadClientCert, f.BadClientKey), ExpiringWithin: DefaultExpiringWithin},
		"lab-smtp":      {Policy: pol("", ""), StartTLS: "smtp", ExpiringWithin: DefaultExpiringWithin},
	}}, Options{})
	return ex, srv
}

func scrape(t *testing.T, url string) []series {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return parseText(t, resp.Body)
}

// scrapeTimed scrapes url as Prometheus does with a scrape timeout of
// timeout seconds (its X-Prometheus-Scrape-Timeout-Seconds header), and
// says how long the answer took.
func scrapeTimed(t *testing.T, url, timeout string) ([]series, time.Duration) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeout)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ss := parseText(t, resp.Body)
	return ss, time.Since(start)
}

// serveConfig serves an exporter made from the config file text cfg.
func serveConfig(t *testing.T, cfg []byte) *httptest.Server {
	t.Helper()
	c, err := ParseConfig("c.json", cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, srv := serveExporter(t, c, Options{})
	return srv
}

// peerChain is what a plain crypto/tls client is sent by the case's
// server, captured before any verification (the handshake may then fail):
// the oracle for the exported sent chain.
func peerChain(t *testing.T, c lab.Case) []*x509.Certificate {
	t.Helper()
	var got []*x509.Certificate
	cfg := &tls.Config{ServerName: c.ServerName(), InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			for _, der := range raw {
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					return err
				}
				got = append(got, cert)
			}
			return nil
		}}
	raw, err := net.Dial("tcp", c.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if c.Client.StartTLS != "" { // the upgrade, by starttls's own client
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if _, err := starttls.Negotiate(ctx, raw, starttls.Config{Protocol: starttls.Protocol(c.Client.StartTLS)}); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
	}
	conn := tls.Client(raw, cfg)
	err = conn.Handshake()
	if len(got) == 0 {
		t.Fatalf("%s: the server sent no chain to crypto/tls (%v)", c.Name, err)
	}
	return got
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}

// TestProbeLab probes lab servers through /probe and checks the exported
// series against what each case was built to be: success, the verdict,
// the finding, the TLS version, and the chain as a plain crypto/tls client
// receives it (position, SHA-256, not_after, not_before), including when
// verification fails and when the server requires a client certificate in
// TLS 1.2 and 1.3.
func TestProbeLab(t *testing.T) {
	_, srv := labExporter(t)
	f := theLab.Files()
	clientPEM, err := os.ReadFile(f.ClientCert)
	if err != nil {
		t.Fatal(err)
	}
	clientCerts, err := truststore.ParseCertificates(clientPEM, "client.pem")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, module string
		success      float64
		verdict      string
		finding      string // "" for none with severity error
		severity     string
		version      string // "" for no handshake
		chain        bool   // the server sends a chain
		// verified: trust reports a path to the anchor. Its verifier
		// checks the name first and builds no path when the name refuses
		// the chain; a leaf's own dates are a finding on the path it built.
		verified bool
		client   bool
		starttls bool // the module upgrades with STARTTLS
	}{
		{name: "good", module: "lab", success: 1, verdict: "trusted", version: "TLS 1.3", chain: true, verified: true},
		{name: "good-tls12", module: "lab", success: 1, verdict: "trusted", version: "TLS 1.2", chain: true, verified: true},
		{name: "expiring-soon", module: "lab", success: 1, verdict: "trusted", finding: "cert.expiring-soon", severity: "warning", version: "TLS 1.3", chain: true, verified: true},
		{name: "expired", module: "lab", verdict: "untrusted", finding: "cert.expired", severity: "error", version: "TLS 1.3", chain: true, verified: true},
		{name: "untrusted-root", module: "lab", verdict: "untrusted", finding: "chain.untrusted-root", severity: "error", version: "TLS 1.3", chain: true},
		{name: "name-mismatch", module: "lab", verdict: "untrusted", finding: "name.mismatch", severity: "error", version: "TLS 1.3", chain: true},
		{name: "client-cert-required-tls12", module: "lab", verdict: "failed", finding: "client-cert.required", severity: "error", chain: true, verified: true},
		{name: "client-cert-required-tls13", module: "lab", verdict: "failed", finding: "client-cert.required", severity: "error", version: "TLS 1.3", chain: true, verified: true},
		{name: "client-cert-required-tls13", module: "lab-client", success: 1, verdict: "trusted", version: "TLS 1.3", chain: true, verified: true, client: true},
		{name: "client-cert-required-tls12", module: "lab-client", success: 1, verdict: "trusted", version: "TLS 1.2", chain: true, verified: true, client: true},
		{name: "client-cert-rejected-tls13", module: "lab-badclient", verdict: "failed", finding: "client-cert.rejected", severity: "error", version: "TLS 1.3", chain: true, verified: true, client: true},
		{name: "client-cert-rejected-tls12", module: "lab-badclient", verdict: "failed", finding: "client-cert.rejected", severity: "error", chain: true, verified: true, client: true},
		{name: "refused", module: "lab", verdict: "failed", finding: "net.refused", severity: "error"},
		{name: "not-tls-http", module: "lab", verdict: "failed", finding: "protocol.not-tls", severity: "error"},
		{name: "version-mismatch", module: "lab", verdict: "failed", finding: "protocol.version-mismatch", severity: "error"},
		{name: "starttls-good", module: "lab-smtp", success: 1, verdict: "trusted", version: "TLS 1.3", chain: true, verified: true, starttls: true},
		{name: "starttls-expired", module: "lab-smtp", verdict: "untrusted", finding: "cert.expired", severity: "error", version: "TLS 1.3", chain: true, verified: true, starttls: true},
		{name: "starttls-refused", module: "lab-smtp", verdict: "failed", finding: "starttls.refused", severity: "error", starttls: true},
		{name: "starttls-not-offered", module: "lab-smtp", verdict: "failed", finding: "starttls.not-offered", severity: "error", starttls: true},
	}
	for _, tc := range tests {
		t.Run(tc.name+"/"+tc.module, func(t *testing.T) {
			t.Parallel()
			c, ok := theLab.Case(tc.name)
			if !ok {
				t.Fatalf("no lab case %s", tc.name)
			}
			ss := scrape(t, srv.URL+"/probe?target="+c.Addr+"&module="+tc.module+"&servername="+c.ServerName())
			one := func(name string, labels map[string]string) series {
				t.Helper()
				got := find(ss, name, labels)
				if len(got) != 1 {
					t.Fatalf("%s%v: %d series, want 1", name, labels, len(got))
				}
				return got[0]
			}
			if s := one(MetricSuccess, nil); s.value != tc.success {
				t.Errorf("%s = %v, want %v", MetricSuccess, s.value, tc.success)
			}
			one(MetricVerdict, map[string]string{"verdict": tc.verdict})
			for _, p := range []string{"dns", "connect", "handshake", "verify"} {
				one(MetricPhase, map[string]string{"phase": p})
			}
			if got := find(ss, MetricPhase, map[string]string{"phase": "starttls"}); len(got) != map[bool]int{true: 1}[tc.starttls] {
				t.Errorf("%d starttls phase series, want one only for a STARTTLS module", len(got))
			}
			if tc.finding != "" {
				one(MetricFinding, map[string]string{"id": tc.finding, "severity": tc.severity})
			}
			// The lab listens on 127.0.0.1: IPv4 wherever a connection was
			// made, none where it was refused.
			if got := find(ss, MetricIPProtocol, nil); tc.finding == "net.refused" && len(got) != 0 {
				t.Errorf("%s %v for a refused connection", MetricIPProtocol, got)
			} else if tc.finding != "net.refused" && one(MetricIPProtocol, nil).value != 4 {
				t.Errorf("%s %v, want 4", MetricIPProtocol, got)
			}
			if tc.success == 1 && len(find(ss, MetricFinding, map[string]string{"severity": "error"})) > 0 {
				t.Errorf("a successful probe with an error finding: %v", find(ss, MetricFinding, nil))
			}
			if tc.version != "" {
				one(MetricTLS, map[string]string{"version": tc.version})
			}
			sent := find(ss, MetricNotAfter, map[string]string{"chain": "sent"})
			if !tc.chain {
				if len(sent) > 0 {
					t.Errorf("no chain was sent, yet %d sent series", len(sent))
				}
			} else {
				want := peerChain(t, c)
				if len(sent) != len(want) {
					t.Fatalf("%d sent series, crypto/tls received %d certificates", len(sent), len(want))
				}
				for i, w := range want {
					l := map[string]string{"chain": "sent", "position": strconv.Itoa(i), "sha256": fingerprint(w), "subject": dn.String(w.RawSubject), "issuer": dn.String(w.RawIssuer), "serial": trust.SerialHex(w.SerialNumber)}
					if s := one(MetricNotAfter, l); s.value != float64(w.NotAfter.Unix()) {
						t.Errorf("sent #%d not_after %v, want %d", i, s.value, w.NotAfter.Unix())
					}
					if s := one(MetricNotBefore, l); s.value != float64(w.NotBefore.Unix()) {
						t.Errorf("sent #%d not_before %v, want %d", i, s.value, w.NotBefore.Unix())
					}
				}
			}
			verified := find(ss, MetricNotAfter, map[string]string{"chain": "verified"})
			if tc.verified != (len(verified) > 0) {
				t.Errorf("%d verified series, want some: %v", len(verified), tc.verified)
			}
			if tc.verified {
				root := one(MetricNotAfter, map[string]string{"chain": "verified", "position": strconv.Itoa(len(verified) - 1)})
				if want := theLab.PKI().Root; root.labels["sha256"] != fingerprint(want) {
					t.Errorf("the verified path ends at %s, want the lab root", root.labels["subject"])
				}
			}
			client := find(ss, MetricNotAfter, map[string]string{"chain": "client"})
			if !tc.client {
				if len(client) > 0 {
					t.Errorf("%d client series without a client certificate", len(client))
				}
			} else if tc.module == "lab-client" {
				if s := one(MetricNotAfter, map[string]string{"chain": "client", "position": "0", "sha256": fingerprint(clientCerts[0])}); s.value != float64(clientCerts[0].NotAfter.Unix()) {
					t.Errorf("client not_after %v, want %d", s.value, clientCerts[0].NotAfter.Unix())
				}
			} else if len(client) == 0 {
				t.Errorf("no client series for the module's certificate")
			}
		})
	}
}

func TestProbeErrors(t *testing.T) {
	_, srv := labExporter(t)
	for _, tc := range []struct{ query, want string }{
		{"", "the target parameter is missing"},
		{"target=127.0.0.1:1&module=nope", `unknown module "nope"`},
		{"target=example.com:http", "the port must be a number"},
		{"target=127.0.0.1:1&servername=a%20b", `server name "a b" is not a host name or an IP address`},
		{"target=smtp://mail.example.com", `smtp:// upgrades to TLS in band: check mail.example.com with the SMTP upgrade (STARTTLS protocol smtp): probe mail.example.com with a module whose "starttls" is "smtp"`},
	} {
		resp, err := http.Get(srv.URL + "/probe?" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), tc.want) {
			t.Errorf("/probe?%s: %s %q, want 400 with %q", tc.query, resp.Status, b, tc.want)
		}
	}
}

// TestMetricsStaticAndFiles: /metrics probes the config file's targets and
// reads its certificate files, directories and globs (keys are skipped,
// unreadable paths are an error series).
func TestMetricsStaticAndFiles(t *testing.T) {
	f := theLab.Files()
	good, _ := theLab.Case("good")
	expired, _ := theLab.Case("expired")
	dir := t.TempDir()
	cfgText := fmt.Sprintf(`# the lab
{
  "modules": {"lab": {"trust": ["file:%s"], "timeout": "5s", "expiring_within": "100d"}},
  "targets": [
    {"target": %q, "module": "lab", "server_name": %q},
    {"target": %q, "module": "lab", "server_name": %q}
  ],
  "certificate_files": [%q, %q, "missing.pem"]
}`, f.Root, good.Addr, good.ServerName(), expired.Addr, expired.ServerName(), f.Dir, filepath.Join(f.Dir, "inter*.pem"))
	path := filepath.Join(dir, "exporter.json")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	_, srv := serveExporter(t, cfg, Options{})
	ss := scrape(t, srv.URL+"/metrics")

	if s := find(ss, MetricSuccess, map[string]string{"target": good.Addr, "module": "lab"}); len(s) != 1 || s[0].value != 1 {
		t.Errorf("good static target: %v", s)
	}
	if s := find(ss, MetricSuccess, map[string]string{"target": expired.Addr, "module": "lab"}); len(s) != 1 || s[0].value != 0 {
		t.Errorf("expired static target: %v", s)
	}
	if s := find(ss, MetricFinding, map[string]string{"target": expired.Addr, "id": "cert.expired"}); len(s) != 1 {
		t.Errorf("expired static target: no cert.expired finding")
	}
	// 100d: every 90-day lab leaf is expiring soon.
	if s := find(ss, MetricFinding, map[string]string{"target": good.Addr, "id": "cert.expiring-soon", "severity": "warning"}); len(s) != 1 {
		t.Errorf("good static target with a 100-day threshold: no cert.expiring-soon")
	}
	if s := find(ss, "process_cpu_seconds_total", nil); len(s) != 1 {
		t.Errorf("no process metrics")
	}

	p := theLab.PKI()
	for _, tc := range []struct {
		path string
		cert *x509.Certificate
	}{{f.Root, p.Root}, {f.Intermediate, p.Intermediate}, {f.ClientCA, p.ClientCA}} {
		got := find(ss, MetricFileNotAfter, map[string]string{"path": tc.path, "position": "0", "sha256": fingerprint(tc.cert)})
		if len(got) != 1 || got[0].value != float64(tc.cert.NotAfter.Unix()) {
			t.Errorf("%s: %v, want not_after %d", tc.path, got, tc.cert.NotAfter.Unix())
		}
	}
	for _, s := range find(ss, MetricFileNotAfter, nil) {
		if strings.HasSuffix(s.labels["path"], ".key") {
			t.Errorf("a key file was read: %s", s.labels["path"])
		}
	}
	if got := find(ss, MetricFileNotAfter, map[string]string{"path": f.Intermediate}); len(got) != 1 {
		t.Errorf("the intermediate, named by the directory and by a glob, has %d series, want 1", len(got))
	}
	if got := find(ss, MetricFileError, map[string]string{"path": filepath.Join(dir, "missing.pem")}); len(got) != 1 || !strings.Contains(got[0].labels["error"], "no such file") {
		t.Errorf("missing file: %v", got)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{`{"modules": {"m": {"timeout": "soon"}}}`, `exporter: c.json: module m: timeout: "soon" is not a positive duration`},
		{`{"modules": {"m": {"cert": "a.pem"}}}`, `exporter: c.json: module m: "cert" and "key" go together`},
		{`{"modules": {"m": {"trust": ["file:/nonexistent/ca.pem"]}}}`, ""},
		{`{"targets": [{"target": "x:1", "module": "m"}]}`, `exporter: c.json: targets[0]: no module named "m"`},
		{`{"targets": [{"target": "x:http"}]}`, `exporter: c.json: targets[0]: probe: the port must be a number`},
		{`{"modul": {}}`, `exporter: c.json:1: unknown key "modul"`},
		{"{\"modules\": {\"a\": {\"trust\": [\"system\"],\n  \"servername\": \"x\"}}}", `exporter: c.json:2: modules.a: unknown key "servername"`},
		{`{"modules": {"m": {"expiring_within": "-3d"}}}`, `exporter: c.json: module m: expiring_within: "-3d" is not a number of days`},
		{`{} {}`, `unexpected data after the config object`},
		{`{"modules": {"m": {"server_name": "a b"}}}`, `exporter: c.json: module m: server_name: trust: server name "a b" is not a host name`},
		{`{"targets": [{"target": "x:1", "server_name": "a/b"}]}`, `exporter: c.json: targets[0]: trust: server name "a/b" is not a host name`},
	} {
		cfg, err := ParseConfig("c.json", []byte(tc.text))
		if err == nil {
			_, err = New(cfg, Options{})
		}
		if err == nil || tc.want != "" && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.text, err, tc.want)
		}
	}
	cfg, err := ParseConfig("c.json", []byte(`{"modules": {"smtp": {"starttls": "smtp"}, "gopher": {"starttls": "gopher"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), "exporter: module gopher: starttls: ") {
		t.Errorf("a module with an unknown STARTTLS protocol: %v, want it refused", err)
	}
	delete(cfg.Modules, "gopher")
	if _, err := New(cfg, Options{}); err != nil {
		t.Errorf("an SMTP module: %v", err)
	}
}

// FuzzParseConfig: any config text is a Config or an error, never a panic.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`{"modules": {"default": {"trust": ["system"], "timeout": "5s", "expiring_within": "30d"}}, "targets": [{"target": "example.com:443"}], "certificate_files": ["/etc/ssl/*.pem"]}`,
		"# comment\n{}", `{"modules": {"x": {"min_tls": "1.3", "starttls": "smtp"}}}`, `{"targets": [{"target": ""}]}`, `[`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseConfig("fuzz.json", []byte(s))
	})
}

// TestScrapeTimeout: Prometheus sends its scrape timeout in seconds; the
// probe gets that less half a second, at least 100 ms, and a header that
// is not a positive number of seconds leaves the module's timeout.
func TestScrapeTimeout(t *testing.T) {
	for _, c := range []struct {
		h    string
		want time.Duration
	}{
		{"10", 9500 * time.Millisecond},
		{"1.5", time.Second},
		{"0.55", 100 * time.Millisecond},
		{"0.001", 100 * time.Millisecond},
		{"", 0},
		{"0", 0},
		{"-3", 0},
		{"soon", 0},
		{"NaN", 0},
		{"+Inf", 0},
		{"1e300", 0},
		{"9223372036.854775807", 0},
		{"9223372036", 9223372035500 * time.Millisecond},
	} {
		if got := scrapeTimeout(c.h); got != c.want {
			t.Errorf("scrapeTimeout(%q) = %v, want %v", c.h, got, c.want)
		}
	}
}

// TestScrapeTimeoutShortensProbe: against the lab's server that accepts
// and never answers, a scrape that gives Prometheus' timeout header of
// 1.6 s is answered after about 1.1 s, with net.timeout, not after the
// module's 10 s.
func TestScrapeTimeoutShortensProbe(t *testing.T) {
	t.Parallel()
	_, srv := labExporter(t)
	c, _ := theLab.Case("timeout")
	ss, took := scrapeTimed(t, srv.URL+"/probe?module=lab&target="+c.Addr, "1.6")
	if took > 5*time.Second {
		t.Errorf("the scrape took %v; the header asked for 1.6 s", took)
	}
	d := find(ss, "tlskit_probe_duration_seconds", nil)
	if len(d) != 1 || d[0].value < 1.0 || d[0].value > 3.0 {
		t.Errorf("tlskit_probe_duration_seconds = %v, want about 1.1", d)
	}
	if len(find(ss, "tlskit_probe_success", nil)) != 1 || find(ss, "tlskit_probe_success", nil)[0].value != 0 {
		t.Errorf("tlskit_probe_success is not 0")
	}
	if len(find(ss, "tlskit_finding", map[string]string{"id": "net.timeout"})) != 1 {
		t.Errorf("no tlskit_finding{id=\"net.timeout\"}")
	}
}

// TestMetricsStaticTimeout: /metrics probes its static targets within the
// scrape's timeout too. A silent target with a module timeout of 10 s,
// scraped with Prometheus' header of 1.6 s, is answered in about 1.1 s,
// with net.timeout for the silent target and the good one's facts, not
// after 10 s, when Prometheus would have given up and kept nothing.
func TestMetricsStaticTimeout(t *testing.T) {
	t.Parallel()
	good, _ := theLab.Case("good")
	silent, _ := theLab.Case("timeout")
	srv := serveConfig(t, fmt.Appendf(nil, `{
  "modules": {"lab": {"trust": ["file:%s"], "timeout": "10s"}},
  "targets": [{"target": %q, "module": "lab", "server_name": %q}, {"target": %q, "module": "lab"}]
}`, theLab.Files().Root, good.Addr, good.ServerName(), silent.Addr))
	ss, took := scrapeTimed(t, srv.URL+"/metrics", "1.6")
	if took > 5*time.Second {
		t.Errorf("/metrics took %v; the scrape's timeout is 1.6 s", took)
	}
	if s := find(ss, MetricSuccess, map[string]string{"target": good.Addr}); len(s) != 1 || s[0].value != 1 {
		t.Errorf("good static target: %v", s)
	}
	if s := find(ss, MetricSuccess, map[string]string{"target": silent.Addr}); len(s) != 1 || s[0].value != 0 {
		t.Errorf("silent static target: %v", s)
	}
	if s := find(ss, MetricFinding, map[string]string{"target": silent.Addr, "id": "net.timeout"}); len(s) != 1 {
		t.Errorf("silent static target: no net.timeout finding")
	}
}

// TestScrapeTimeoutBoundsSecondLook: a probe answers within the scrape's
// timeout even when its check takes a second look. Against a server that
// reads each hello and hangs up 400 ms later, one hello after another, a
// scrape of 1.6 s is answered in about 1.1 s, its finding still saying
// why the handshake failed; the check's looks, all taken, would last six
// times 400 ms, and Prometheus would have kept nothing.
func TestScrapeTimeoutBoundsSecondLook(t *testing.T) {
	t.Parallel()
	_, srv := labExporter(t)
	addr := peertest.Serve(t, func(c net.Conn) {
		c.Read(make([]byte, 4096))
		time.Sleep(400 * time.Millisecond)
		c.Close()
	})
	ss, took := scrapeTimed(t, srv.URL+"/probe?module=lab&target="+addr, "1.6")
	if took > 1500*time.Millisecond {
		t.Errorf("answered after %v; the scrape's timeout is 1.6 s", took)
	}
	if s := find(ss, "tlskit_probe_success", nil); len(s) != 1 || s[0].value != 0 {
		t.Errorf("tlskit_probe_success: %v", s)
	}
	if s := find(ss, "tlskit_finding", map[string]string{"id": "protocol.alert"}); len(s) != 1 {
		t.Errorf("no protocol.alert finding (the server hung up on the hello): %v", find(ss, "tlskit_finding", nil))
	}
}

// TestProbePortByProtocol: a target without a port is probed on 443, or on
// the port of its module's STARTTLS protocol (smtp: 25).
func TestProbePortByProtocol(t *testing.T) {
	ex, _ := labExporter(t)
	for mod, want := range map[string]string{"lab": "127.0.0.1:443", "lab-smtp": "127.0.0.1:25"} {
		res, err := ex.Probe(context.Background(), "127.0.0.1", mod, "", 500*time.Millisecond)
		if err != nil || res.Target != want {
			t.Errorf("module %s: probed %v (%v), want %s", mod, res.Target, err, want)
		}
	}
}

// TestCertificateFileFormats: a certificate file may be a PKCS#7 bundle
// (openssl crl2pkcs7, PEM and DER) or a Java keystore (keytool, JKS): each
// certificate is exported, as openssl pkcs7 -print_certs and keytool
// -list count them; a module's trust anchors may be a keystore too. Before, a bundle was "no CERTIFICATE block" or
// "neither PEM nor a DER certificate", and so was a keystore.
func TestCertificateFileFormats(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	keytool := peertest.Need(t, "keytool")
	f := theLab.Files()
	p := theLab.PKI()
	dir := t.TempDir()
	chain := filepath.Join(dir, "chain.pem")
	if err := os.WriteFile(chain, append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Intermediate.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Root.Raw})...), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run(openssl, "crl2pkcs7", "-nocrl", "-certfile", chain, "-out", filepath.Join(dir, "bundle.p7b"))
	run(openssl, "crl2pkcs7", "-nocrl", "-certfile", chain, "-outform", "DER", "-out", filepath.Join(dir, "bundle-der.p7b"))
	run(keytool, "-importcert", "-noprompt", "-storetype", "JKS", "-keystore", filepath.Join(dir, "trust.jks"), "-storepass", "changeit", "-alias", "root", "-file", f.Root)
	run(keytool, "-importcert", "-noprompt", "-storetype", "JKS", "-keystore", filepath.Join(dir, "trust.jks"), "-storepass", "changeit", "-alias", "inter", "-file", f.Intermediate)
	out, err := exec.Command(keytool, "-list", "-keystore", filepath.Join(dir, "trust.jks"), "-storepass", "changeit").Output()
	if err != nil || !strings.Contains(string(out), "contains 2 entries") {
		t.Fatalf("keytool -list: %v\n%s", err, out)
	}
	run(keytool, "-importcert", "-noprompt", "-storetype", "JKS", "-keystore", filepath.Join(dir, "root.jks"), "-storepass", "changeit", "-alias", "root", "-file", f.Root)
	srv := serveConfig(t, fmt.Appendf(nil, `{"certificate_files": [%q, %q, %q], "modules": {"jks": {"trust": ["file:%s"]}}}`,
		filepath.Join(dir, "bundle.p7b"), filepath.Join(dir, "bundle-der.p7b"), filepath.Join(dir, "trust.jks"), filepath.Join(dir, "root.jks")))
	// The same formats are trust anchors: a module that trusts a keystore
	// holding only the lab's root trusts the lab's good server.
	good, _ := theLab.Case("good")
	if got := find(scrape(t, srv.URL+"/probe?module=jks&target="+good.Addr+"&servername="+good.ServerName()), "tlskit_probe_success", nil); len(got) != 1 || got[0].value != 1 {
		t.Errorf("a module trusting root.jks: tlskit_probe_success %v, want 1", got)
	}
	ss := scrape(t, srv.URL+"/metrics")
	for _, name := range []string{"bundle.p7b", "bundle-der.p7b", "trust.jks"} {
		path := filepath.Join(dir, name)
		for _, c := range []*x509.Certificate{p.Root, p.Intermediate} {
			if got := find(ss, MetricFileNotAfter, map[string]string{"path": path, "sha256": fingerprint(c)}); len(got) != 1 || got[0].value != float64(c.NotAfter.Unix()) {
				t.Errorf("%s: %s: %v", name, c.Subject.CommonName, got)
			}
		}
	}
}

// TestExpiringSoonAgainstOpenSSL: a real peer, openssl s_server, serving a
// certificate that openssl req made valid for two days, is exported with
// cert.expiring-soon (the module's default threshold is 30 days) and a
// not_after that is the certificate's notAfter as openssl x509 -enddate
// reads it, the probe succeeding: the certificate is still valid.
func TestExpiringSoonAgainstOpenSSL(t *testing.T) {
	cert, key := peertest.SelfSigned(t, "/CN=localhost", "DNS:localhost")
	end := opensslDate(t, cert, "notAfter=", "-enddate")
	srv := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-www")
	ex := serveConfig(t, fmt.Appendf(nil, `{"modules": {"self": {"trust": ["file:%s"], "server_name": "localhost"}}}`, cert))
	ss := scrape(t, ex.URL+"/probe?module=self&target="+srv.Addr)
	if got := find(ss, MetricSuccess, nil); len(got) != 1 || got[0].value != 1 {
		t.Errorf("%s = %v, want 1", MetricSuccess, got)
	}
	if got := find(ss, MetricFinding, map[string]string{"id": finding.CertExpiringSoon, "severity": "warning"}); len(got) != 1 || got[0].value != 1 {
		t.Errorf("no %s series: %v", finding.CertExpiringSoon, find(ss, MetricFinding, nil))
	}
	if got := find(ss, MetricNotAfter, map[string]string{"chain": "sent", "position": "0"}); len(got) != 1 || got[0].value != end {
		t.Errorf("not_after %v, want %v (openssl x509 -enddate)", got, end)
	}
}

// opensslDate is a date openssl x509 prints (-enddate, -startdate), in
// Unix seconds as the exporter's series hold it.
func opensslDate(t *testing.T, cert, prefix, flag string) float64 {
	t.Helper()
	return opensslTime(t, peertest.X509Field(t, cert, prefix, flag))
}

// opensslTime reads a date as openssl prints it, in Unix seconds.
func opensslTime(t *testing.T, v string) float64 {
	t.Helper()
	at, err := time.Parse("Jan _2 15:04:05 2006 MST", v)
	if err != nil {
		t.Fatalf("openssl's date %q: %v", v, err)
	}
	return float64(at.Unix())
}

// TestProbeThroughDNS: a target named by a host name is resolved (the dns
// phase) and probed as that name: through a real DNS server (dnsmasq, the
// exporter's Resolver), good.lab.tlskit.test reaches the lab's healthy
// server and is trusted under its name. A name that does not resolve is
// the finding net.dns, whichever way the lookup failed (no such name, a
// lookup that timed out, a refusal), so an alert on
// tlskit_finding{id="net.dns"} tells DNS trouble from a target that is
// down (net.refused, net.timeout, net.unreachable).
func TestProbeThroughDNS(t *testing.T) {
	c, _ := theLab.Case("good")
	_, port, _ := net.SplitHostPort(c.Addr)
	dns := peertest.DNS(t, "lab.tlskit.test", "down.test", map[string]string{c.ServerName(): "127.0.0.1"})
	_, srv := serveExporter(t, &Config{Modules: map[string]*Module{
		"lab": {Policy: &tlskit.Policy{Trust: []string{"file:" + theLab.Files().Root}}, Timeout: 2 * time.Second, ExpiringWithin: DefaultExpiringWithin},
	}}, Options{Resolver: peertest.Resolver(dns.Addr)})
	for _, tc := range []struct {
		host    string
		success float64
		finding string
	}{
		{c.ServerName(), 1, ""},
		{"nope.lab.tlskit.test", 0, "net.dns"},
		{"www.down.test", 0, "net.dns"},
		{"elsewhere.example", 0, "net.dns"},
	} {
		ss := scrape(t, srv.URL+"/probe?module=lab&target="+net.JoinHostPort(tc.host, port))
		if s := find(ss, MetricSuccess, nil); len(s) != 1 || s[0].value != tc.success {
			t.Errorf("%s: %s %v, want %v", tc.host, MetricSuccess, s, tc.success)
		}
		if d := find(ss, MetricPhase, map[string]string{"phase": "dns"}); len(d) != 1 || d[0].value <= 0 {
			t.Errorf("%s: dns phase %v, want one series above 0", tc.host, d)
		}
		errs := find(ss, MetricFinding, map[string]string{"severity": "error"})
		switch {
		case tc.finding == "" && len(errs) > 0:
			t.Errorf("%s: error findings %v", tc.host, errs)
		case tc.finding != "" && (len(errs) != 1 || errs[0].labels["id"] != tc.finding):
			t.Errorf("%s: error findings %v, want %s alone", tc.host, errs, tc.finding)
		}
	}
	if !strings.Contains(dns.Output(), "query[A] "+c.ServerName()) {
		t.Errorf("dnsmasq was not asked for %s:\n%s", c.ServerName(), dns.Output())
	}
}

// TestProbeIPVersions: a module with ip_protocol ip4 or ip6 probes the
// address of that version of a dual-stack name (dnsmasq answering A and
// AAAA), and tlskit_probe_ip_protocol says which was reached. The two
// addresses are different servers (openssl s_server on 127.0.0.1 and ::1,
// the same port, each with its own certificate), so the serial exported
// tells them apart; the oracle is openssl x509 -serial on each server's
// file. A name without an address of the version asked for fails with
// net.dns and the setting, and no ip_protocol series (nothing reached).
func TestProbeIPVersions(t *testing.T) {
	const dual, v4only = "dual.exp.test", "v4.exp.test"
	cert4, key4 := peertest.SelfSigned(t, "/CN="+dual, "DNS:"+dual+",DNS:"+v4only)
	cert6, key6 := peertest.SelfSigned(t, "/CN="+dual, "DNS:"+dual)
	addr4 := peertest.OpenSSL(t, "-cert", cert4, "-key", key4).Addr
	_, port, _ := net.SplitHostPort(addr4)
	peertest.OpenSSLAt(t, "[::1]:"+port, "-cert", cert6, "-key", key6)
	serial4, serial6 := peertest.X509Field(t, cert4, "serial=", "-serial"), peertest.X509Field(t, cert6, "serial=", "-serial")
	dns := peertest.DNS(t, "exp.test", "down.test", map[string]string{dual: "127.0.0.1 ::1", v4only: "127.0.0.1"})
	cfg, err := ParseConfig("ip.json", fmt.Appendf(nil, `{"modules": {
		"v4": {"trust": ["file:%[1]s", "file:%[2]s"], "ip_protocol": "ip4", "timeout": "5s"},
		"v6": {"trust": ["file:%[1]s", "file:%[2]s"], "ip_protocol": "ip6", "timeout": "5s"}}}`, cert4, cert6))
	if err != nil {
		t.Fatal(err)
	}
	_, srv := serveExporter(t, cfg, Options{Resolver: peertest.Resolver(dns.Addr)})
	for _, tc := range []struct {
		module, host string
		version      float64 // 0: no series
		serial, id   string
	}{
		{"v4", dual, 4, serial4, ""},
		{"v6", dual, 6, serial6, ""},
		{"v6", v4only, 0, "", finding.NetDNS},
		{"v6", "::1", 6, serial6, ""}, // an address with the name as servername, as the README's DNS-SD job sends it
	} {
		q := "/probe?module=" + tc.module + "&target=" + url.QueryEscape(net.JoinHostPort(tc.host, port))
		if net.ParseIP(tc.host) != nil {
			q += "&servername=" + dual
		}
		ss := scrape(t, srv.URL+q)
		success := find(ss, MetricSuccess, nil)
		ipv := find(ss, MetricIPProtocol, nil)
		switch {
		case tc.version == 0 && len(ipv) != 0:
			t.Errorf("%s %s: %s %v, want none", tc.module, tc.host, MetricIPProtocol, ipv)
		case tc.version != 0 && (len(ipv) != 1 || ipv[0].value != tc.version):
			t.Errorf("%s %s: %s %v, want %v", tc.module, tc.host, MetricIPProtocol, ipv, tc.version)
		}
		if tc.id != "" {
			if f := find(ss, MetricFinding, map[string]string{"id": tc.id, "severity": "error"}); len(f) != 1 || len(success) != 1 || success[0].value != 0 {
				t.Errorf("%s %s: %s %v, finding %v, want failure with %s", tc.module, tc.host, MetricSuccess, success, f, tc.id)
			}
			continue
		}
		if len(success) != 1 || success[0].value != 1 {
			t.Errorf("%s %s: %s %v, want 1", tc.module, tc.host, MetricSuccess, success)
		}
		if leaf := find(ss, MetricNotAfter, map[string]string{"chain": "sent", "position": "0"}); len(leaf) != 1 || leaf[0].labels["serial"] != tc.serial {
			t.Errorf("%s %s: the leaf sent %v, want serial %s (the server at the %v address)", tc.module, tc.host, leaf, tc.serial, tc.version)
		}
	}
	if want := []string{"query[A] " + dual, "query[AAAA] " + dual, "query[AAAA] " + v4only}; !dns.Said(want...) {
		t.Errorf("dnsmasq was not asked all of %q:\n%s", want, dns.Output())
	}
	if strings.Contains(dns.Output(), "query[A] "+v4only) {
		t.Errorf("the ip6 module asked for %s's A records; one IP version asks for its own only:\n%s", v4only, dns.Output())
	}
}

// TestProbeFallback: a name with an AAAA and an A record (dnsmasq), the
// IPv6 address refusing (nothing listens on [::1]:PORT) and the IPv4 one
// openssl s_server: the probe succeeds through 127.0.0.1 (ip_protocol 4)
// and exports the net.fallback warning, so that a broken IPv6 address is
// a label, not a surprise for the clients that try it first.
func TestProbeFallback(t *testing.T) {
	const name = "fb.exp.test"
	cert, key := peertest.SelfSigned(t, "/CN="+name, "DNS:"+name)
	addr4 := peertest.OpenSSL(t, "-cert", cert, "-key", key).Addr
	_, port, _ := net.SplitHostPort(addr4)
	dns := peertest.DNS(t, "exp.test", "down.test", map[string]string{name: "127.0.0.1 ::1"})
	cfg, err := ParseConfig("fb.json", fmt.Appendf(nil, `{"modules": {"m": {"trust": ["file:%s"], "timeout": "5s"}}}`, cert))
	if err != nil {
		t.Fatal(err)
	}
	_, srv := serveExporter(t, cfg, Options{Resolver: peertest.Resolver(dns.Addr)})
	ss := scrape(t, srv.URL+"/probe?module=m&target="+net.JoinHostPort(name, port))
	if s := find(ss, MetricSuccess, nil); len(s) != 1 || s[0].value != 1 {
		t.Errorf("%s %v, want 1", MetricSuccess, s)
	}
	if s := find(ss, MetricIPProtocol, nil); len(s) != 1 || s[0].value != 4 {
		t.Errorf("%s %v, want 4", MetricIPProtocol, s)
	}
	if f := find(ss, MetricFinding, map[string]string{"id": finding.NetFallback, "severity": "warning"}); len(f) != 1 || f[0].value != 1 {
		t.Errorf("%s %v, want net.fallback once", MetricFinding, find(ss, MetricFinding, nil))
	}
}

// TestClientCertRequiredAgainstPeers: real servers that require a client
// certificate, openssl s_server (-Verify 1 -verify_return_error: without
// it s_server logs a client certificate it cannot verify and goes on) and
// gnutls-serv (--require-client-cert --verify-client-cert), each in TLS
// 1.3 and in TLS 1.2, refuse a probe without one (client-cert.required)
// and one with a certificate their CA did not issue (client-cert.rejected;
// in TLS 1.3 that refusal comes after the client's Finished). The exporter
// still exports the certificate they sent, in the sent chain and in the
// verified path (it is the module's anchor), beside the finding and a
// failed probe: its not_after and not_before as openssl x509 -enddate and
// -startdate read them, its SHA-256 as openssl x509 -fingerprint -sha256
// prints it. In TLS 1.3 that certificate arrives encrypted, before the
// server asks for the client's, and the exporter decrypts it. The oracle
// is openssl's reading of the file the servers serve, not crypto/tls.
func TestClientCertRequiredAgainstPeers(t *testing.T) {
	cert, key := peertest.SelfSigned(t, "/CN=localhost", "DNS:localhost")
	notAfter, notBefore := opensslDate(t, cert, "notAfter=", "-enddate"), opensslDate(t, cert, "notBefore=", "-startdate")
	sha256 := peertest.X509Field(t, cert, "sha256 Fingerprint=", "-fingerprint", "-sha256")
	gnutls := func(priority string) func(t *testing.T) string {
		return func(t *testing.T) string {
			peertest.Need(t, "gnutls-serv")
			return peertest.Start(t, "gnutls-serv", "-p", "{port}", "--x509certfile", cert, "--x509keyfile", key,
				"--x509cafile", cert, "--require-client-cert", "--verify-client-cert", "--priority", priority).Addr
		}
	}
	cases := []struct {
		name    string
		addr    func(t *testing.T) string
		version string // tlskit_tls_info's version, when the server's hello was seen
	}{
		{"openssl-tls13", func(t *testing.T) string {
			return peertest.OpenSSL(t, "-cert", cert, "-key", key, "-Verify", "1", "-verify_return_error", "-CAfile", cert, "-tls1_3").Addr
		}, "TLS 1.3"},
		{"openssl-tls12", func(t *testing.T) string {
			return peertest.OpenSSL(t, "-cert", cert, "-key", key, "-Verify", "1", "-verify_return_error", "-CAfile", cert, "-tls1_2").Addr
		}, "TLS 1.2"},
		{"gnutls-tls13", gnutls("NORMAL:-VERS-ALL:+VERS-TLS1.3"), "TLS 1.3"},
		{"gnutls-tls12", gnutls("NORMAL:-VERS-ALL:+VERS-TLS1.2"), "TLS 1.2"},
	}
	stranger, strangerKey := peertest.SelfSigned(t, "/CN=stranger", "")
	ex := serveConfig(t, fmt.Appendf(nil, `{"modules": {
		"none": {"trust": ["file:%[1]s"], "server_name": "localhost", "timeout": "5s"},
		"stranger": {"trust": ["file:%[1]s"], "server_name": "localhost", "timeout": "5s", "cert": %[2]q, "key": %[3]q}}}`,
		cert, stranger, strangerKey))
	modules := []struct{ module, id string }{{"none", finding.ClientCertRequired}, {"stranger", finding.ClientCertRejected}}
	for _, tc := range cases {
		for _, m := range modules {
			t.Run(tc.name+"/"+m.module, func(t *testing.T) {
				t.Parallel()
				ss := scrape(t, ex.URL+"/probe?module="+m.module+"&target="+tc.addr(t))
				if got := find(ss, MetricSuccess, nil); len(got) != 1 || got[0].value != 0 {
					t.Errorf("%s = %v, want 0: the server refuses the client", MetricSuccess, got)
				}
				if got := find(ss, MetricFinding, map[string]string{"id": m.id, "severity": "error"}); len(got) != 1 || got[0].value != 1 {
					t.Errorf("no %s series: %v", m.id, find(ss, MetricFinding, nil))
				}
				for _, chain := range []string{"sent", "verified"} {
					l := map[string]string{"chain": chain, "position": "0"}
					after, before := find(ss, MetricNotAfter, l), find(ss, MetricNotBefore, l)
					if len(after) != 1 || len(before) != 1 {
						t.Fatalf("%s chain: not_after %v, not_before %v: want one series each", chain, after, before)
					}
					if after[0].value != notAfter || before[0].value != notBefore {
						t.Errorf("%s chain: not_after %v, not_before %v; openssl x509 says %v and %v", chain, after[0].value, before[0].value, notAfter, notBefore)
					}
					if got := after[0].labels["sha256"]; got != sha256 {
						t.Errorf("%s chain: sha256 %s; openssl x509 -fingerprint -sha256 says %s", chain, got, sha256)
					}
					if got := find(ss, MetricNotAfter, map[string]string{"chain": chain, "position": "1"}); len(got) != 0 {
						t.Errorf("%s chain: a second certificate %v, the servers send one", chain, got)
					}
				}
				if got := find(ss, MetricTLS, map[string]string{"version": tc.version}); len(got) != 1 {
					t.Errorf("tls info %v, want version %s", find(ss, MetricTLS, nil), tc.version)
				}
			})
		}
	}
}

// TestProbeCRLReread: a module's CRL files are read again when they change
// on disk, for the next probe: a monitor runs for months, and its CA
// publishes a new CRL before the last one's next update. The oracle is the
// CRLs themselves: the lab's (which revokes the revoked case's leaf), then
// a newer one that revokes nothing. Between them the file is broken (openssl
// cannot read it): the probes go on with the lab's CRL, and /metrics says
// so (tlskit_module_file_error, with the file and the reason) until the file
// reads again.
func TestProbeCRLReread(t *testing.T) {
	f := theLab.Files()
	path := filepath.Join(t.TempDir(), "current.crl")
	der, err := os.ReadFile(f.CRL)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, der, 0o644); err != nil {
		t.Fatal(err)
	}
	_, srv := serveExporter(t, &Config{Modules: map[string]*Module{
		"crl": {Policy: &tlskit.Policy{Trust: []string{"file:" + f.Root}, CRLFiles: []string{path}}, ExpiringWithin: DefaultExpiringWithin},
	}}, Options{})
	revoked, _ := theLab.Case("revoked")
	probe := func() []series {
		return scrape(t, srv.URL+"/probe?module=crl&target="+revoked.Addr+"&servername="+revoked.ServerName())
	}
	// /metrics says when the CRL in use was issued and when the next is
	// due, as openssl crl reads the file it came from, and whether the
	// file on disk reads.
	updates := func(from string, fileError bool) {
		t.Helper()
		ss := scrape(t, srv.URL+"/metrics")
		errs := find(ss, MetricModuleFileError, map[string]string{"module": "crl", "files": "crl", "path": path})
		if fileError != (len(errs) == 1 && errs[0].value == 1 && strings.Contains(errs[0].labels["error"], path)) || len(errs) > 1 {
			t.Errorf("%s: %v, want the file failing: %v", MetricModuleFileError, errs, fileError)
		}
		for _, m := range []struct{ name, flag, field string }{
			{MetricCRLNextUpdate, "-nextupdate", "nextUpdate="},
			{MetricCRLThisUpdate, "-lastupdate", "lastUpdate="},
		} {
			got := find(ss, m.name, map[string]string{"module": "crl", "path": path, "position": "0", "issuer": "CN=tlskit Lab Intermediate CA,O=tlskit lab"})
			if want := opensslCRLDate(t, from, m.flag, m.field); len(got) != 1 || got[0].value != want {
				t.Errorf("%s: %v, want one series of %v", m.name, got, want)
			}
		}
	}
	updates(f.CRL, false)
	ss := probe()
	if s := find(ss, MetricSuccess, nil); len(s) != 1 || s[0].value != 0 || len(find(ss, MetricFinding, map[string]string{"id": finding.CertRevoked})) != 1 {
		t.Fatalf("with the lab's CRL: %v", ss)
	}
	time.Sleep(10 * time.Millisecond) // a distinct modification time
	if err := os.WriteFile(path, []byte("not a CRL"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(peertest.Need(t, "openssl"), "crl", "-in", path, "-noout").CombinedOutput(); err == nil {
		t.Fatalf("openssl reads the broken file: %s", out)
	}
	ss = probe()
	if s := find(ss, MetricSuccess, nil); len(s) != 1 || s[0].value != 0 || len(find(ss, MetricFinding, map[string]string{"id": finding.CertRevoked})) != 1 {
		t.Fatalf("with the file broken, the lab's CRL still in use: %v", ss)
	}
	updates(f.CRL, true)
	pki := theLab.PKI()
	der, err = x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1 << 20), ThisUpdate: pki.Now.Add(-time.Minute), NextUpdate: pki.Now.AddDate(0, 0, 7)}, pki.Intermediate, pki.IntermediateKey)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // a distinct modification time
	if err := os.WriteFile(path, der, 0o644); err != nil {
		t.Fatal(err)
	}
	ss = probe()
	if s := find(ss, MetricSuccess, nil); len(s) != 1 || s[0].value != 1 {
		t.Fatalf("with a newer CRL that revokes nothing: %v", ss)
	}
	updates(path, false)
}

// TestProbeDebug: /probe?…&debug=true answers, for a person, the probe's
// report as tlskit check --json writes it (valid against
// check.schema.json) and the metrics it would have answered; the lab's
// expired server is the oracle of the finding, explained with a fix.
func TestProbeDebug(t *testing.T) {
	_, srv := labExporter(t)
	for _, name := range []string{"expired", "good"} {
		c, _ := theLab.Case(name)
		resp, err := http.Get(srv.URL + "/probe?module=lab&target=" + c.Addr + "&servername=" + c.ServerName() + "&debug=true")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		head, rest, ok1 := strings.Cut(string(body), "Report of the probe, as `tlskit check --json` writes it:\n")
		report, metrics, ok2 := strings.Cut(rest, "\nMetrics that would have been returned:\n")
		if resp.StatusCode != 200 || !ok1 || !ok2 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("%s: %s %s\n%s", name, resp.Status, resp.Header.Get("Content-Type"), body)
		}
		schematest.Check(t, "check", []byte(report))
		var rep struct {
			Verdict  string            `json:"verdict"`
			Findings []finding.Finding `json:"findings"`
		}
		if err := json.Unmarshal([]byte(report), &rep); err != nil {
			t.Fatal(err)
		}
		ss := parseText(t, strings.NewReader(metrics))
		success := find(ss, MetricSuccess, nil)
		if !strings.Contains(head, "with module lab: "+rep.Verdict) || len(success) != 1 {
			t.Errorf("%s: head %q, verdict %q, success %v", name, head, rep.Verdict, success)
		}
		if c.Finding == "" {
			if rep.Verdict != "trusted" || success[0].value != 1 {
				t.Errorf("%s: verdict %q, success %v", name, rep.Verdict, success)
			}
			continue
		}
		var explained bool
		for _, f := range rep.Findings {
			explained = explained || (f.ID == c.Finding && f.Title != "" && f.Fix != "")
		}
		if !explained || success[0].value != 0 || len(find(ss, MetricFinding, map[string]string{"id": c.Finding})) != 1 || !strings.Contains(head, "\nFindings:\n  error "+c.Finding+": ") {
			t.Errorf("%s: want %s explained with a fix in the report and in the metrics:\n%s", name, c.Finding, body)
		}
	}
}

// TestReload: Reload serves a new config whole (its modules, its static
// targets, its certificate files), and a config that cannot be resolved
// changes nothing; tlskit_exporter_config_last_reload_successful says
// which. The lab's servers and certificate files are the oracle.
func TestReload(t *testing.T) {
	f := theLab.Files()
	good, _ := theLab.Case("good")
	expired, _ := theLab.Case("expired")
	lab := func() *tlskit.Policy { return &tlskit.Policy{Trust: []string{"file:" + f.Root}} }
	ex, srv := serveExporter(t, &Config{
		Modules:          map[string]*Module{"a": {Policy: lab()}},
		Targets:          []StaticTarget{{Target: good.Addr, Module: "a", ServerName: good.ServerName()}},
		CertificateFiles: []string{f.Root},
	}, Options{})
	// state checks what /metrics serves: the static target's success, the
	// certificate file, the last reload.
	state := func(step, target, file string, reloaded float64) {
		t.Helper()
		ss := scrape(t, srv.URL+"/metrics")
		if got := find(ss, MetricSuccess, map[string]string{"target": target}); len(got) != 1 || len(find(ss, MetricSuccess, nil)) != 1 {
			t.Errorf("%s: static targets %v, want %s alone", step, find(ss, MetricSuccess, nil), target)
		}
		if got := find(ss, MetricFileNotAfter, nil); len(got) != 1 || got[0].labels["path"] != file {
			t.Errorf("%s: certificate files %v, want %s alone", step, got, file)
		}
		if got := find(ss, "tlskit_exporter_config_last_reload_successful", nil); len(got) != 1 || got[0].value != reloaded {
			t.Errorf("%s: last reload %v, want %v", step, got, reloaded)
		}
	}
	state("at start", good.Addr, f.Root, 1)
	if err := ex.Reload(&Config{
		Modules:          map[string]*Module{"b": {Policy: lab()}},
		Targets:          []StaticTarget{{Target: expired.Addr, Module: "b", ServerName: expired.ServerName()}},
		CertificateFiles: []string{f.ClientCert},
	}); err != nil {
		t.Fatal(err)
	}
	state("reloaded", expired.Addr, f.ClientCert, 1)
	if _, err := ex.Probe(t.Context(), good.Addr, "a", good.ServerName(), 0); err == nil {
		t.Error("module a is still served after a reload without it")
	}
	err := ex.Reload(&Config{Modules: map[string]*Module{"c": {Policy: &tlskit.Policy{Trust: []string{"file:" + filepath.Join(t.TempDir(), "nosuch.pem")}}}}})
	var me *ModuleError
	if !errors.As(err, &me) || me.Module != "c" {
		t.Fatalf("a module that cannot be resolved: %v, want a ModuleError for c", err)
	}
	state("a reload failed", expired.Addr, f.ClientCert, 0)
	if res, err := ex.Probe(t.Context(), good.Addr, "b", good.ServerName(), 0); err != nil || res.Report.Verdict != diagnose.Trusted {
		t.Errorf("module b after a failed reload: %v %v", res, err)
	}
}

// TestProbeClientCertReread: a module's client certificate is read again
// for the next probe when its files change on disk (certificates are
// renewed every few weeks, and a monitor runs for months). The lab's
// TLS 1.3 server that requires a client certificate is the oracle of
// which certificate a probe presented: it accepts the lab's client
// certificate and rejects the other (client-cert.rejected); the client
// series are compared with openssl x509 on the files. A key that no longer
// loads with its certificate keeps the last good pair, and /metrics says
// so (tlskit_module_file_error, files="certificate") until it loads again.
func TestProbeClientCertReread(t *testing.T) {
	f := theLab.Files()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	install := func(fromCert, fromKey string) {
		t.Helper()
		time.Sleep(10 * time.Millisecond) // a distinct modification time
		for from, to := range map[string]string{fromCert: cert, fromKey: key} {
			b, err := os.ReadFile(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(f.ClientCert, f.ClientKey)
	_, srv := serveExporter(t, &Config{Modules: map[string]*Module{
		"mtls": {Policy: &tlskit.Policy{Trust: []string{"file:" + f.Root}, CertFile: cert, KeyFile: key}, ExpiringWithin: DefaultExpiringWithin},
	}}, Options{})
	c, _ := theLab.Case("client-cert-required-tls13")
	// check probes and compares what it exports with the certificate
	// file as it is now (from, when the file is broken: the last good).
	check := func(step string, success float64, from string, fileErrors int) {
		t.Helper()
		ss := scrape(t, srv.URL+"/probe?module=mtls&target="+c.Addr+"&servername="+c.ServerName())
		if s := find(ss, MetricSuccess, nil); len(s) != 1 || s[0].value != success {
			t.Errorf("%s: success %v, want %v\n%v", step, s, success, ss)
		}
		if success == 0 && len(find(ss, MetricFinding, map[string]string{"id": finding.ClientCertRejected})) != 1 {
			t.Errorf("%s: no client-cert.rejected finding", step)
		}
		sha := peertest.X509Field(t, from, "sha256 Fingerprint=", "-fingerprint", "-sha256")
		got := find(ss, MetricNotAfter, map[string]string{"chain": "client", "position": "0"})
		if want := opensslDate(t, from, "notAfter=", "-enddate"); len(got) != 1 || got[0].labels["sha256"] != sha || got[0].value != want {
			t.Errorf("%s: client series %v, want sha256 %s, not after %v", step, got, sha, want)
		}
		errs := find(scrape(t, srv.URL+"/metrics"), MetricModuleFileError, map[string]string{"module": "mtls", "files": "certificate"})
		if len(errs) != fileErrors {
			t.Errorf("%s: %s %v, want %d series", step, MetricModuleFileError, errs, fileErrors)
		}
		for _, e := range errs {
			if e.value != 1 || (e.labels["path"] != cert && e.labels["path"] != key) || !strings.Contains(e.labels["error"], key) {
				t.Errorf("%s: %s %v, want the pair's files, the error naming %s", step, MetricModuleFileError, e, key)
			}
		}
	}
	check("the lab's client certificate", 1, f.ClientCert, 0)
	install(f.BadClientCert, f.BadClientKey)
	check("renewed by a certificate the server rejects", 0, f.BadClientCert, 0)
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(key, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(peertest.Need(t, "openssl"), "pkey", "-in", key, "-noout").CombinedOutput(); err == nil {
		t.Fatalf("openssl reads the broken key: %s", out)
	}
	check("the key broken: the last good pair", 0, f.BadClientCert, 2)
	install(f.ClientCert, f.ClientKey)
	check("the lab's client certificate again", 1, f.ClientCert, 0)
}

// opensslCRLDate is a date openssl crl prints for the DER CRL file
// (-nextupdate, -lastupdate), in Unix seconds.
func opensslCRLDate(t *testing.T, file, flag, field string) float64 {
	t.Helper()
	return opensslTime(t, peertest.OpenSSLPrint(t, field, "crl", "-inform", "DER", "-in", file, "-noout", flag))
}

// TestProbeHybridOnlyServer: a probe offers X25519, P-256 and P-384 with one
// X25519 key share (see probeCurves); a server that accepts only the
// hybrid X25519MLKEM768 (crypto/tls's first choice, Chrome's and
// Firefox's) asks for it with a HelloRetryRequest the restricted hello
// cannot answer. The probe failed with protocol.client-unsupported,
// "X25519MLKEM768, which tlskit's TLS client (Go's crypto/tls) does not
// speak", where `tlskit check` of the same server, offering crypto/tls's
// defaults, is trusted. The probe checks again with those defaults, and
// agrees with check.
func TestProbeHybridOnlyServer(t *testing.T) {
	t.Parallel()
	_, srv := labExporter(t)
	name := "hybrid.lab.tlskit.test"
	leaf, err := theLab.PKI().Leaf(lab.LeafOptions{DNSNames: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	addr := peertest.ServeTLS(t, &tls.Config{Certificates: []tls.Certificate{leaf}, CurvePreferences: []tls.CurveID{tls.X25519MLKEM768}}, func(c *tls.Conn) {
		c.Handshake()
		c.Close()
	})
	check := probe.Run(context.Background(), probe.Options{Address: addr, ServerName: name, Timeout: 5 * time.Second,
		Verifier: &trust.Verifier{Anchors: trust.NewAnchors("lab root", theLab.PKI().Root)}})
	if check.Verdict != diagnose.Trusted {
		t.Fatalf("check offering crypto/tls's defaults: %s %+v", check.Verdict, check.Findings)
	}
	ss := scrape(t, srv.URL+"/probe?module=lab&target="+addr+"&servername="+name)
	if s := find(ss, MetricSuccess, nil); len(s) != 1 || s[0].value != 1 {
		t.Errorf("tlskit_probe_success %v, findings %v", s, find(ss, MetricFinding, nil))
	}
}

// TestProbeP521OnlyServer: the same with a real server. gnutls-serv
// allowed only secp521r1 refuses a probe's hello (X25519, P-256, P-384);
// gnutls-cli, which offers P-521, connects, and so does check. The probe
// is made again with crypto/tls's defaults, which include P-521, and is
// trusted.
func TestProbeP521OnlyServer(t *testing.T) {
	t.Parallel()
	peertest.Need(t, "gnutls-serv")
	cert, key := peertest.SelfSigned(t, "/CN=localhost", "DNS:localhost")
	addr := peertest.Start(t, "gnutls-serv", "-p", "{port}", "--x509certfile", cert, "--x509keyfile", key,
		"--priority", "NORMAL:-CURVE-ALL:+CURVE-SECP521R1").Addr
	_, port, _ := net.SplitHostPort(addr)
	out, _ := exec.Command(peertest.Need(t, "gnutls-cli"), "--x509cafile", cert, "-p", port, "localhost").CombinedOutput()
	if !strings.Contains(string(out), "SECP521R1") {
		t.Fatalf("gnutls-cli did not connect with SECP521R1:\n%s", out)
	}
	ex := serveConfig(t, fmt.Appendf(nil, `{"modules": {"m": {"trust": ["file:%s"], "server_name": "localhost", "timeout": "5s"}}}`, cert))
	ss := scrape(t, ex.URL+"/probe?module=m&target="+addr)
	if s := find(ss, MetricSuccess, nil); len(s) != 1 || s[0].value != 1 {
		t.Errorf("tlskit_probe_success %v, findings %v", s, find(ss, MetricFinding, nil))
	}
}

// TestProbePostQuantumModule: the lab's large-hello server reads the
// ClientHello in one read of 1,024 bytes and turns away larger ones, as
// it turns away Chrome, Firefox and Go (their hybrid post-quantum key
// share makes their hellos about 1,500 bytes; the lab's tests show Go's
// refused and openssl s_client's taken). A probe's own hello is the
// smaller one of blackbox_exporter and most monitors, and the server
// answers it; a module with post_quantum offers what those clients offer,
// and its probe fails with the check's finding.
func TestProbePostQuantumModule(t *testing.T) {
	t.Parallel()
	c, _ := theLab.Case("large-hello")
	cfg, err := ParseConfig("pq.json", []byte(`{"modules": {
  "small": {"trust": ["file:`+theLab.Files().Root+`"]},
  "pq": {"trust": ["file:`+theLab.Files().Root+`"], "post_quantum": true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Modules["pq"].PostQuantum || cfg.Modules["small"].PostQuantum {
		t.Fatalf("post_quantum read as %v and %v", cfg.Modules["pq"].PostQuantum, cfg.Modules["small"].PostQuantum)
	}
	_, srv := serveExporter(t, cfg, Options{})
	for module, success := range map[string]float64{"small": 1, "pq": 0} {
		ss := scrape(t, srv.URL+"/probe?module="+module+"&target="+c.Addr+"&servername="+c.ServerName())
		if s := find(ss, MetricSuccess, nil); len(s) != 1 || s[0].value != success {
			t.Errorf("module %s: tlskit_probe_success %v, want %v; findings %v", module, s, success, find(ss, MetricFinding, nil))
		}
		if module == "pq" && len(find(ss, MetricFinding, map[string]string{"id": finding.ProtocolHelloRejected})) != 1 {
			t.Errorf("module pq: no %s finding: %v", finding.ProtocolHelloRejected, find(ss, MetricFinding, nil))
		}
	}
}
