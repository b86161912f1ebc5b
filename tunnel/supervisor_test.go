package tunnel_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/tunnel"
)

// runSupervisor runs s until the test ends and returns the address its
// first service listens on, and its metrics address if it serves metrics.
func runSupervisor(t *testing.T, s *tunnel.Supervisor, logs *logBuf) (addr, metrics string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if len(logs.records("stopped")) != 1 {
			t.Errorf("no stopped record after the context ended")
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		if r := logs.records("listening"); len(r) > 0 {
			addr, _ = r[0]["addr"].(string)
			if m := logs.records("metrics"); len(m) > 0 {
				metrics, _ = m[0]["addr"].(string)
			}
			return addr, metrics
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the supervisor did not listen")
	return "", ""
}

// TestSupervisorReload: a client service to openssl s_server. A reload
// whose policy fails keeps the last good config (the tunnel still works);
// a reload to a policy pinning another key is used at once (the next
// connection is refused with pin.mismatch); the metrics count both.
func TestSupervisorReload(t *testing.T) {
	f := newFixture(t)
	srv := peertest.OpenSSL(t, "-cert", f.serverCert, "-key", f.serverKey, "-cert_chain", f.serverChain, "-rev", "-tls1_3")
	otherPin, err := lab.Pin(f.pki.OtherRoot.PublicKey)
	must(t, err)
	var state atomic.Int32 // 0 good, 1 broken, 2 pinned to another key
	policy := func(io.Writer) (*tlskit.Policy, error) {
		switch state.Load() {
		case 1:
			return nil, errors.New("policy.json:1: trust: missing or empty")
		case 2:
			p := f.clientPolicy()
			p.Pins, p.AllowSinglePin = []string{otherPin}, true
			return p, nil
		}
		return f.clientPolicy(), nil
	}
	var logs logBuf
	s := &tunnel.Supervisor{
		Services: []*tunnel.Service{{Name: "redis", Mode: tunnel.ModeClient, Listen: "127.0.0.1:0", Target: srv.Addr, Policy: policy}},
		Metrics:  "127.0.0.1:0",
		Logger:   logs.logger(),
		Grace:    time.Second,
	}
	addr, metrics := runSupervisor(t, s, &logs)
	if got := roundTrip(t, addr, "abc\n"); got != "cba\n" {
		t.Fatalf("through the tunnel: %q", got)
	}

	state.Store(1)
	s.Reload()
	waitRecords(t, &logs, "reload failed; the last good configuration stays", 1)
	if got := roundTrip(t, addr, "abc\n"); got != "cba\n" {
		t.Fatalf("after a failed reload: %q", got)
	}

	state.Store(2)
	s.Reload()
	waitRecords(t, &logs, "reloaded", 1)
	c, err := net.Dial("tcp", addr)
	must(t, err)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.ReadAll(c)
	c.Close()
	logs.waitFinding(t, finding.PinMismatch)

	resp, err := http.Get("http://" + metrics + "/metrics")
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"tlskit_tunnel_reloads_total 2", "tlskit_tunnel_reload_errors_total 1", `tlskit_tunnel_connections_refused_total{finding="pin.mismatch",service="redis"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	resp, err = http.Get("http://" + metrics + "/-/healthy")
	must(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "Healthy\n" {
		t.Errorf("/-/healthy: %s %q", resp.Status, body)
	}
}

// metricValue is the value of the series (name and labels, as the text
// format writes them) on the metrics server at addr, "" when it is absent.
func metricValue(t *testing.T, addr, series string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	must(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// waitRecords waits for n log records with msg.
func waitRecords(t *testing.T, logs *logBuf, msg string, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if len(logs.records(msg)) >= n {
			return
		}
	}
	t.Fatalf("no %q record", msg)
}

// TestSupervisorStartErrors: configuration problems are ConfigErrors naming
// the service; a listener that cannot be opened is not.
func TestSupervisorStartErrors(t *testing.T) {
	f := newFixture(t)
	good := func(io.Writer) (*tlskit.Policy, error) { return f.clientPolicy(), nil }
	busy := listen(t)
	defer busy.Close()
	for _, tc := range []struct {
		name   string
		svc    tunnel.Service
		config bool
		want   string
	}{
		{"public plaintext", tunnel.Service{Name: "c", Mode: tunnel.ModeClient, Listen: "0.0.0.0:0", Target: "127.0.0.1:9", Policy: good}, true,
			`tunnel: service "c": the plaintext side 0.0.0.0:0 is not on loopback`},
		{"public target", tunnel.Service{Name: "s", Mode: tunnel.ModeServer, Listen: "127.0.0.1:0", Target: "192.0.2.1:80", Policy: good}, true,
			"the plaintext side 192.0.2.1:80 is not on loopback"},
		{"policy", tunnel.Service{Name: "c", Mode: tunnel.ModeClient, Listen: "127.0.0.1:0", Target: "127.0.0.1:9",
			Policy: func(io.Writer) (*tlskit.Policy, error) {
				return tlskit.LoadPolicy(filepath.Join(f.dir, "missing.json"))
			}}, true,
			`tunnel: service "c": ` + filepath.Join(f.dir, "missing.json") + ": cannot read the policy"},
		{"server without certificate", tunnel.Service{Name: "s", Mode: tunnel.ModeServer, Listen: "127.0.0.1:0", Target: "127.0.0.1:9", Policy: good}, true,
			"a server needs a certificate"},
		{"listen", tunnel.Service{Name: "c", Mode: tunnel.ModeClient, Listen: busy.Addr().String(), Target: "127.0.0.1:9", Policy: good}, false,
			"address already in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := tc.svc
			err := (&tunnel.Supervisor{Services: []*tunnel.Service{&svc}}).Run(context.Background())
			var ce *tunnel.ConfigError
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.As(err, &ce) != tc.config {
				t.Fatalf("err = %v (a ConfigError: %v), want %q (a ConfigError: %v)", err, errors.As(err, &ce), tc.want, tc.config)
			}
		})
	}
}

// TestLoadConfig: the config file's services, with the defaults for what
// they leave out and policies relative to the file; and its errors.
func TestLoadConfig(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "client.json"), []byte(`{"version": 1, "trust": ["file:`+f.files.Root+`"], "server_name": "good.lab.tlskit.test"}`), 0o600))
	write := func(s string) string {
		p := filepath.Join(dir, "tunnels.json")
		must(t, os.WriteFile(p, []byte(s), 0o600))
		return p
	}
	defaults := tunnel.Limits{MaxConns: 10, HandshakeTimeout: 7 * time.Second, IdleTimeout: time.Minute}
	c, err := tunnel.LoadConfig(write(`{"metrics": "127.0.0.1:9090", "services": [
		{"name": "a", "mode": "client", "listen": "127.0.0.1:1", "target": "x:2", "policy": "client.json"},
		{"name": "b", "mode": "server", "listen": "127.0.0.1:3", "target": "127.0.0.1:4", "policy": "client.json", "max_conns": 0, "handshake_timeout": "2s", "first_byte_timeout": "1s"}]}`), defaults)
	if err != nil {
		t.Fatal(err)
	}
	if c.Metrics != "127.0.0.1:9090" || len(c.Services) != 2 {
		t.Fatalf("config %+v", c)
	}
	a, b := c.Services[0], c.Services[1]
	if a.Mode != tunnel.ModeClient || a.Limits != defaults {
		t.Errorf("service a: %+v", a)
	}
	if want := (tunnel.Limits{MaxConns: 0, HandshakeTimeout: 2 * time.Second, FirstByteTimeout: time.Second, IdleTimeout: time.Minute}); b.Limits != want {
		t.Errorf("service b limits %+v, want %+v", b.Limits, want)
	}
	if p, err := a.Policy(io.Discard); err != nil || p.ServerName != "good.lab.tlskit.test" {
		t.Errorf("policy relative to the config file: %+v, %v", p, err)
	}

	for _, tc := range []struct{ src, want string }{
		{`{"servics": []}`, `tunnels.json:1: unknown key "servics"`},
		{"{\"services\": [\n  {\"name\": \"a\", \"mode\": \"client\",\n   \"listne\": \"l\"}]}", `tunnels.json:3: services[0]: unknown key "listne"`},
		{"# tunnels\n{\"services\": [{\"name\": \"a\", \"max_conns\": \"ten\"}]}", `tunnels.json:2: services.max_conns: want int`},
		{"{\"services\": []}\n{}", `tunnels.json:2: unexpected data after the config object`},
		{`{"services": []}`, "tunnels.json: no services"},
		{`{"services": [{"name": "a", "mode": "client", "listen": "l", "target": "t", "policy": "p"}, {"name": "a", "mode": "client", "listen": "l", "target": "t", "policy": "p"}]}`, "service 2: every service needs a unique name"},
		{`{"services": [{"name": "a", "mode": "proxy", "listen": "l", "target": "t", "policy": "p"}]}`, `service "a": mode "proxy"`},
		{`{"services": [{"name": "a", "mode": "client", "listen": "l", "target": "t"}]}`, `service "a": needs listen, target and policy`},
		{`{"services": [{"name": "a", "mode": "client", "listen": "l", "target": "t", "policy": "p", "idle_timeout": "5 minutes"}]}`, `service "a": idle_timeout "5 minutes"`},
	} {
		_, err := tunnel.LoadConfig(write(tc.src), defaults)
		var ce *tunnel.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "tunnel: ") {
			t.Errorf("%s: err = %v, want a ConfigError with %q", tc.src, err, tc.want)
		}
	}
	if _, err := tunnel.LoadConfig(filepath.Join(dir, "none.json"), defaults); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestSupervisorRereadsConfig: with Reread (`tlskit tunnel --config`), a
// reload reads the config file again, as stunnel does on SIGHUP. Before,
// only the policies were rebuilt: a service pointed at another policy file
// kept the old one, a broken file and a changed target were both logged
// as "reloaded". Now a broken file keeps everything (logged, counted), a
// new policy file is used at once (the next connection to openssl
// s_server is refused with pin.mismatch), and a change that needs a
// restart says so.
func TestSupervisorRereadsConfig(t *testing.T) {
	f := newFixture(t)
	srv := peertest.OpenSSL(t, "-cert", f.serverCert, "-key", f.serverKey, "-cert_chain", f.serverChain, "-rev", "-tls1_3")
	otherPin, err := lab.Pin(f.pki.OtherRoot.PublicKey)
	must(t, err)
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	write("good.json", `{"version": 1, "trust": ["file:`+f.files.Root+`"], "server_name": "good.lab.tlskit.test"}`)
	write("pinned.json", `{"version": 1, "trust": ["file:`+f.files.Root+`"], "server_name": "good.lab.tlskit.test", "pins": {"keys": ["`+otherPin+`"], "allow_single": true}}`)
	file := filepath.Join(dir, "tunnels.json")
	config := func(policy, target string) string {
		return `{"services": [{"name": "redis", "mode": "client", "listen": "127.0.0.1:0", "target": "` + target + `", "policy": "` + policy + `"}]}`
	}
	write("tunnels.json", config("good.json", srv.Addr))
	c, err := tunnel.LoadConfig(file, tunnel.Limits{})
	must(t, err)
	var logs logBuf
	s := &tunnel.Supervisor{
		Services: c.Services, Metrics: "127.0.0.1:0", Logger: logs.logger(), Grace: time.Second,
		Reread: func() ([]*tunnel.Service, error) {
			c, err := tunnel.LoadConfig(file, tunnel.Limits{})
			if err != nil {
				return nil, err
			}
			return c.Services, nil
		},
	}
	addr, metrics := runSupervisor(t, s, &logs)
	if got := roundTrip(t, addr, "abc\n"); got != "cba\n" {
		t.Fatalf("through the tunnel: %q", got)
	}

	write("tunnels.json", `{"services": [{"name": "redis",`)
	s.Reload()
	waitRecords(t, &logs, "reload failed; the last good configuration stays", 1)
	if r := logs.records("reloaded"); len(r) > 0 {
		t.Errorf("a broken config file was reloaded: %v", r)
	}
	if got := roundTrip(t, addr, "abc\n"); got != "cba\n" {
		t.Fatalf("after a failed reload: %q", got)
	}

	write("tunnels.json", config("pinned.json", "127.0.0.1:1"))
	s.Reload()
	waitRecords(t, &logs, "reloaded", 1)
	r := logs.records("reload: settings changed that apply only after a restart")
	if len(r) != 1 || r[0]["changed"] != "target" {
		t.Errorf("the changed target is not named: %v\n%s", r, logs.String())
	}
	conn, err := net.Dial("tcp", addr)
	must(t, err)
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.ReadAll(conn)
	conn.Close()
	logs.waitFinding(t, finding.PinMismatch)

	resp, err := http.Get("http://" + metrics + "/metrics")
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"tlskit_tunnel_reloads_total 2", "tlskit_tunnel_reload_errors_total 1"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

// TestSupervisorLogsCRLs: a service that checks CRLs says which at start,
// with when each is due (they are read again when their files change, and
// a CRL nobody refreshes refuses every peer once stale), and says when a
// changed file is read again at a handshake: a file that no longer reads
// (openssl cannot read it either) is an error record and
// tlskit_tunnel_file_error 1, the last good CRL staying in use; the next
// good one is a record naming it, and 0. The CRL is described as openssl
// crl -nameopt RFC2253 names its issuer and next update; the target is
// openssl s_server.
func TestSupervisorLogsCRLs(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	f := newFixture(t)
	srv := peertest.OpenSSL(t, "-cert", f.serverCert, "-key", f.serverKey, "-cert_chain", f.serverChain, "-rev", "-tls1_3")
	path := filepath.Join(t.TempDir(), "inter.crl")
	number := int64(0)
	publish := func() time.Time {
		t.Helper()
		number++
		next := f.now().Add(time.Duration(number) * 24 * time.Hour).Truncate(time.Second)
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: f.now().Add(-time.Hour), NextUpdate: next}, f.pki.Intermediate, f.pki.IntermediateKey)
		must(t, err)
		time.Sleep(10 * time.Millisecond) // a distinct modification time
		must(t, os.WriteFile(path, der, 0o644))
		return next
	}
	// described is the CRL as the log should describe it, from openssl.
	described := func() string {
		t.Helper()
		out, err := exec.Command(openssl, "crl", "-inform", "DER", "-in", path, "-noout", "-issuer", "-nextupdate", "-nameopt", "RFC2253,-esc_msb", "-dateopt", "iso_8601").Output()
		must(t, err)
		var issuer, next string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if v, ok := strings.CutPrefix(line, "issuer="); ok {
				issuer = v
			}
			if v, ok := strings.CutPrefix(line, "nextUpdate="); ok {
				at, err := time.Parse("2006-01-02 15:04:05Z", v)
				must(t, err)
				next = at.UTC().Format(time.RFC3339)
			}
		}
		return path + ": " + issuer + ", next update " + next
	}
	publish()
	first := described()
	var logs logBuf
	s := &tunnel.Supervisor{
		Services: []*tunnel.Service{{Name: "redis", Mode: tunnel.ModeClient, Listen: "127.0.0.1:0", Target: srv.Addr, Policy: func(io.Writer) (*tlskit.Policy, error) {
			p := f.clientPolicy()
			p.CRLFiles = []string{path}
			return p, nil
		}}},
		Metrics: "127.0.0.1:0",
		Logger:  logs.logger(),
		Grace:   time.Second,
	}
	addr, metrics := runSupervisor(t, s, &logs)
	if got := logs.records("listening")[0]["crl"]; got != first {
		t.Errorf("listening: crl %q, want %q", got, first)
	}
	fileError := func() string {
		t.Helper()
		return metricValue(t, metrics, `tlskit_tunnel_file_error{files="crl",service="redis"}`)
	}

	// The CRL file broken: the tunnel goes on with the last good CRL,
	// and says so.
	must(t, os.WriteFile(path, []byte("not a CRL"), 0o644))
	if out, err := exec.Command(openssl, "crl", "-in", path, "-noout").CombinedOutput(); err == nil {
		t.Fatalf("openssl reads the broken CRL: %s", out)
	}
	if got := roundTrip(t, addr, "abc\n"); got != "cba\n" {
		t.Fatalf("through the tunnel with the CRL file broken: %q", got)
	}
	failed := logs.records("files changed on disk no longer read; the last good ones stay in use")
	if len(failed) != 1 || failed[0]["service"] != "redis" || failed[0]["files"] != "crl" || failed[0]["failed"] != path ||
		!strings.Contains(failed[0]["error"].(string), path) || failed[0]["crl"] != first {
		t.Errorf("broken CRL file: records %v, want one naming %s, its error and the CRL still in use (%s)", failed, path, first)
	}
	if got := fileError(); got != "1" {
		t.Errorf("tlskit_tunnel_file_error with the file broken: %q, want 1", got)
	}

	// The next CRL published: read again, said, and the error gone.
	publish()
	if got := roundTrip(t, addr, "abc\n"); got != "cba\n" {
		t.Fatalf("through the tunnel with the next CRL: %q", got)
	}
	read := logs.records("files read again")
	if want := described(); len(read) != 1 || read[0]["files"] != "crl" || read[0]["crl"] != want {
		t.Errorf("next CRL: records %v, want one with crl %q", read, want)
	}
	if got := fileError(); got != "0" {
		t.Errorf("tlskit_tunnel_file_error with the file read again: %q, want 0", got)
	}
}

// TestSupervisorLogsCertificateReload: a server service's certificate and
// key replaced on disk are served at the next handshake and logged (files
// read again, files=certificate); a key that no longer loads (openssl
// cannot read it either) keeps the last good pair in service, is an error
// record naming both files and is tlskit_tunnel_file_error 1 until a good
// pair is written. Which certificate was served is what the client saw.
func TestSupervisorLogsCertificateReload(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	f := newFixture(t)
	dir := t.TempDir()
	first, err := f.pki.Leaf(lab.LeafOptions{DNSNames: []string{"good.lab.tlskit.test"}})
	must(t, err)
	cert, key, _ := writePair(t, dir, "server", first)
	var logs logBuf
	s := &tunnel.Supervisor{
		Services: []*tunnel.Service{{Name: "web", Mode: tunnel.ModeServer, Listen: "127.0.0.1:0", Target: echoServer(t), Policy: func(io.Writer) (*tlskit.Policy, error) {
			return &tlskit.Policy{CertFile: cert, KeyFile: key, Time: f.now}, nil
		}}},
		Metrics: "127.0.0.1:0",
		Logger:  logs.logger(),
		Grace:   time.Second,
	}
	addr, metrics := runSupervisor(t, s, &logs)
	served := func() *big.Int {
		t.Helper()
		roots := x509.NewCertPool()
		roots.AddCert(f.pki.Root)
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "good.lab.tlskit.test"})
		must(t, err)
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber
	}
	fileError := func() string {
		t.Helper()
		return metricValue(t, metrics, `tlskit_tunnel_file_error{files="certificate",service="web"}`)
	}
	if got := served(); got.Cmp(first.Leaf.SerialNumber) != 0 {
		t.Fatalf("served %x, want the first certificate %x", got, first.Leaf.SerialNumber)
	}

	time.Sleep(10 * time.Millisecond) // a distinct modification time
	must(t, os.WriteFile(key, []byte("not a key"), 0o600))
	if out, err := exec.Command(openssl, "pkey", "-in", key, "-noout").CombinedOutput(); err == nil {
		t.Fatalf("openssl reads the broken key: %s", out)
	}
	if got := served(); got.Cmp(first.Leaf.SerialNumber) != 0 {
		t.Errorf("with the key broken: served %x, want the last good certificate %x", got, first.Leaf.SerialNumber)
	}
	failed := logs.records("files changed on disk no longer read; the last good ones stay in use")
	if len(failed) != 1 || failed[0]["files"] != "certificate" || failed[0]["failed"] != cert+","+key || !strings.Contains(failed[0]["error"].(string), key) {
		t.Errorf("broken key: records %v, want one naming both files and the key", failed)
	}
	if got := fileError(); got != "1" {
		t.Errorf("tlskit_tunnel_file_error with the key broken: %q, want 1", got)
	}

	next, err := f.pki.Leaf(lab.LeafOptions{DNSNames: []string{"good.lab.tlskit.test"}})
	must(t, err)
	time.Sleep(10 * time.Millisecond)
	writePair(t, dir, "server", next)
	if got := served(); got.Cmp(next.Leaf.SerialNumber) != 0 {
		t.Errorf("renewed: served %x, want the new certificate %x", got, next.Leaf.SerialNumber)
	}
	if read := logs.records("files read again"); len(read) != 1 || read[0]["files"] != "certificate" {
		t.Errorf("renewed: records %v, want one files read again, files=certificate", read)
	}
	if got := fileError(); got != "0" {
		t.Errorf("tlskit_tunnel_file_error renewed: %q, want 0", got)
	}
}
