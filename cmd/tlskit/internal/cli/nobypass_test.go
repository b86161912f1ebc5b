package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/schematest"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/tunnel"
)

// This file is issue #9's proof: every entry point that verifies a peer is
// tried against every way verification has been (or could be) bypassed, and
// each must refuse with the right finding id. The servers and clients on the
// other side are real OpenSSL processes.
//
// An outcome is a finding id; "" means the connection was accepted, and
// errConfig means tlskit refused to build the connection at all (a usage or
// configuration error, before any byte was sent).

const errConfig = "configuration error"

// bypassWorld is the PKI and the servers the cases share.
type bypassWorld struct {
	pki   *lab.PKI
	dir   string
	root  string // the lab root, PEM
	inter string // the lab intermediate, PEM

	wrongName  string // leaf for DNS:wrong.example only, chain to the root
	goodIP     string // leaf for IP:127.0.0.1, chain to the root
	selfSigned string // self-signed leaf for IP:127.0.0.1, pinned below
	legacyCBC  string // goodIP's leaf, TLS 1.2 ECDHE with AES-CBC-SHA only
	tls10      string // goodIP's leaf, TLS 1.0 only
	selfPins   []string

	// client certificates, PEM cert and key files
	clientGood, clientGoodKey       string
	clientExpired, clientExpiredKey string
	clientServer, clientServerKey   string // serverAuth only: wrong EKU
	serverCert, serverKey           string // the tunnel server's and Listen's own certificate
}

func newBypassWorld(t *testing.T) *bypassWorld {
	t.Helper()
	peertest.Need(t, "openssl")
	pki, err := lab.NewPKI(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w := &bypassWorld{pki: pki, dir: t.TempDir()}
	w.root = w.writeCerts(t, "root.pem", pki.Root)
	w.inter = w.writeCerts(t, "inter.pem", pki.Intermediate)
	ip := []net.IP{net.IPv4(127, 0, 0, 1)}
	leaf := func(o lab.LeafOptions) tls.Certificate {
		c, err := pki.Leaf(o)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	inter := w.inter
	serve := func(name string, c tls.Certificate, args ...string) string {
		cert, key := w.writePair(t, name, c)
		// s_server sends the first certificate of -cert, and -cert_chain
		// after it.
		return peertest.OpenSSL(t, append([]string{"-cert", cert, "-key", key, "-cert_chain", inter, "-www"}, args...)...).Addr
	}
	w.wrongName = serve("wrong", leaf(lab.LeafOptions{DNSNames: []string{"wrong.example"}}))
	good := leaf(lab.LeafOptions{CommonName: "loopback", IPs: ip})
	w.goodIP = serve("good", good)
	self := leaf(lab.LeafOptions{CommonName: "self", IPs: ip, SelfSigned: true})
	w.selfSigned = serve("self", self)
	selfLeaf, err := x509.ParseCertificate(self.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	selfPin, err := lab.Pin(selfLeaf.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rootPin, err := lab.Pin(pki.Root.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	w.selfPins = []string{selfPin, rootPin}
	w.legacyCBC = serve("cbc", good, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA")
	w.tls10 = serve("tls10", good, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0")

	clientEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	w.clientGood, w.clientGoodKey = w.writePair(t, "client", leaf(lab.LeafOptions{DNSNames: []string{"batch.internal"}, EKU: clientEKU}))
	w.clientExpired, w.clientExpiredKey = w.writePair(t, "client-expired", leaf(lab.LeafOptions{DNSNames: []string{"batch.internal"}, EKU: clientEKU,
		NotBefore: pki.Now.AddDate(0, -3, 0), NotAfter: pki.Now.AddDate(0, 0, -1)}))
	w.clientServer, w.clientServerKey = w.writePair(t, "client-serverauth", leaf(lab.LeafOptions{DNSNames: []string{"batch.internal"}}))
	w.serverCert, w.serverKey = w.writePair(t, "server", good)
	return w
}

// writeCerts writes certificates as PEM into the world's directory.
func (w *bypassWorld) writeCerts(t *testing.T, name string, certs ...*x509.Certificate) string {
	t.Helper()
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	path := filepath.Join(w.dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writePair writes a certificate (with the lab intermediate unless it is
// self-signed) and its key.
func (w *bypassWorld) writePair(t *testing.T, name string, c tls.Certificate) (cert, key string) {
	t.Helper()
	var b []byte
	for _, der := range c.Certificate {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(leaf.RawIssuer, leaf.RawSubject) && len(c.Certificate) == 1 {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.pki.Intermediate.Raw})...)
	}
	cert = filepath.Join(w.dir, name+".pem")
	key = filepath.Join(w.dir, name+".key")
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cert, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// clientCase is one way a client could end up trusting a server it must
// not, with what every entry point must answer.
type clientCase struct {
	name       string
	target     func(w *bypassWorld) string
	serverName string // --servername / Policy.ServerName
	pins       func(w *bypassWorld) []string
	policy     string            // a policy file's contents instead of the trust flags
	want       string            // the finding id every entry point must give
	wantBy     map[string]string // per-entry exceptions, with the reason in the case list
}

// clientEntry is one entry point that verifies servers: it connects to
// target under the case's policy and returns the outcome.
type clientEntry struct {
	name string
	run  func(t *testing.T, w *bypassWorld, c clientCase, target string) string
}

func TestNoBypassClientSide(t *testing.T) {
	w := newBypassWorld(t)
	port := func(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
	cases := []clientCase{
		// The control: a certificate that names the IP address is trusted
		// everywhere, so the refusals below are not vacuous.
		{name: "ip-target-right-name", target: func(w *bypassWorld) string { return w.goodIP }, want: ""},
		// Issue #9.1: the name of an IP target was "" in crypto/tls's
		// ConnectionState, and "" meant "check no name".
		{name: "ip-target-wrong-name", target: func(w *bypassWorld) string { return w.wrongName }, want: finding.NameMismatch},
		{name: "servername-is-ip", target: func(w *bypassWorld) string { return "localhost:" + port(w.wrongName) }, serverName: "127.0.0.1", want: finding.NameMismatch},
		// No host at all: there is no name to verify, which is an error,
		// never "skip the check".
		{name: "empty-server-name", target: func(w *bypassWorld) string { return ":" + port(w.goodIP) }, want: errConfig},
		// A server name that IDNA's mapping empties (a zero-width space,
		// pasted invisible with a name or alone) is no name either: it
		// mapped to "" and check said TRUSTED with name.not-checked.
		// (ClientConfig's entry passes the target's host, 127.0.0.1, which
		// takes the place of the policy's ServerName and is verified.)
		{name: "server-name-maps-to-nothing", target: func(w *bypassWorld) string { return w.goodIP }, serverName: "\u200b", want: errConfig,
			wantBy: map[string]string{"ClientConfig": ""}},
		{name: "server-name-soft-hyphen", target: func(w *bypassWorld) string { return w.goodIP }, serverName: "\u00ad", want: errConfig,
			wantBy: map[string]string{"ClientConfig": ""}},
		// A pin matching the leaf does not make an untrusted chain trusted.
		{name: "pin-without-valid-chain", target: func(w *bypassWorld) string { return w.selfSigned }, pins: func(w *bypassWorld) []string { return w.selfPins }, want: finding.CertSelfSigned},
		// An empty trust set trusts nothing: refused before connecting.
		{name: "empty-policy-file", target: func(w *bypassWorld) string { return w.goodIP }, policy: `{"version": 1, "trust": []}`, want: errConfig},
		// Legacy-only servers: the library and the tunnel offer TLS 1.2
		// with ECDHE+AEAD and TLS 1.3 only. check diagnoses: it offers
		// what crypto/tls offers by default, connects, and warns.
		{name: "legacy-cbc-only", target: func(w *bypassWorld) string { return w.legacyCBC }, want: finding.ProtocolNoSharedCipher,
			wantBy: map[string]string{"check": finding.ProtocolLegacySuite, "pcap": finding.ProtocolLegacySuite}},
		{name: "tls10-only", target: func(w *bypassWorld) string { return w.tls10 }, want: finding.ProtocolVersionMismatch,
			wantBy: map[string]string{"pcap": finding.ProtocolDeprecatedVersion}}, // the capture is of a client that opted in to TLS 1.0
	}
	entries := []clientEntry{
		{"check", checkEntry},
		{"pcap", pcapEntry},
		{"Dial", func(t *testing.T, w *bypassWorld, c clientCase, target string) string {
			p, err := w.libPolicy(t, c)
			if err != nil {
				return errConfig
			}
			conn, err := tlskit.Dial("tcp", target, p)
			return libOutcome(t, conn, err)
		}},
		{"DialContext", func(t *testing.T, w *bypassWorld, c clientCase, target string) string {
			p, err := w.libPolicy(t, c)
			if err != nil {
				return errConfig
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			conn, err := tlskit.DialContext(ctx, "tcp", target, p)
			return libOutcome(t, conn, err)
		}},
		{"ClientConfig", func(t *testing.T, w *bypassWorld, c clientCase, target string) string {
			p, err := w.libPolicy(t, c)
			if err != nil {
				return errConfig
			}
			host, _, _ := net.SplitHostPort(target)
			cfg, err := p.ClientConfig(host)
			if err != nil {
				return errConfig
			}
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", target, cfg)
			return libOutcome(t, conn, err)
		}},
		{"Transport", func(t *testing.T, w *bypassWorld, c clientCase, target string) string {
			p, err := w.libPolicy(t, c)
			if err != nil {
				return errConfig
			}
			tr, err := p.Transport()
			if err != nil {
				return errConfig
			}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + target + "/")
			if err == nil {
				resp.Body.Close()
			}
			return libOutcome(t, nil, err)
		}},
		{"tunnel client", tunnelClientEntry},
	}
	for _, c := range cases {
		for _, e := range entries {
			if e.name == "pcap" && c.want == errConfig {
				// pcap verifies what a capture holds: a configuration that
				// cannot connect leaves nothing to capture. Its own
				// configuration errors are the other entries' (the same
				// flags, the same tlskit.Policy).
				continue
			}
			t.Run(c.name+"/"+e.name, func(t *testing.T) {
				want := c.want
				if x, ok := c.wantBy[e.name]; ok {
					want = x
				}
				got := e.run(t, w, c, c.target(w))
				if got != want {
					t.Errorf("%s against %s: got %q, want %q", e.name, c.name, got, want)
				}
			})
		}
	}
}

// libPolicy is the case's policy as a library user writes it.
func (w *bypassWorld) libPolicy(t *testing.T, c clientCase) (*tlskit.Policy, error) {
	if c.policy != "" {
		return tlskit.ParsePolicy(filepath.Join(w.dir, "case.json"), []byte(c.policy))
	}
	p := &tlskit.Policy{Trust: []string{"file:" + w.root}, ServerName: c.serverName}
	if c.pins != nil {
		p.Pins = c.pins(w)
	}
	return p, nil
}

// cliArgs is the case's policy as flags.
func (w *bypassWorld) cliArgs(t *testing.T, c clientCase) []string {
	if c.policy != "" {
		path := filepath.Join(t.TempDir(), "policy.json")
		if err := os.WriteFile(path, []byte(c.policy), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{"--policy", path}
	}
	args := []string{"--ca-file", w.root}
	if c.serverName != "" {
		args = append(args, "--servername", c.serverName)
	}
	if c.pins != nil {
		for _, p := range c.pins(w) {
			args = append(args, "--pin", p)
		}
	}
	return args
}

// libOutcome is the finding id of a library connection's error.
func libOutcome(t *testing.T, conn *tls.Conn, err error) string {
	t.Helper()
	if err == nil {
		if conn != nil {
			conn.Close()
		}
		return ""
	}
	var ve *tlskit.VerifyError
	var he *tlskit.HandshakeError
	code, alerted := tlskit.PeerAlert(err)
	switch {
	case errors.As(err, &ve):
		return ve.ID
	case errors.As(err, &he) && alerted && code == 40:
		return finding.ProtocolNoSharedCipher
	case errors.As(err, &he) && alerted && code == 70:
		return finding.ProtocolVersionMismatch
	case strings.Contains(err.Error(), "tlskit: "), strings.Contains(err.Error(), "trust: "):
		return errConfig // refused before connecting (trust's errors are passed on unwrapped)
	case strings.Contains(err.Error(), "handshake failure"):
		return finding.ProtocolNoSharedCipher
	case strings.Contains(err.Error(), "protocol version"):
		return finding.ProtocolVersionMismatch
	}
	t.Logf("unclassified error: %v", err)
	return "error: " + err.Error()
}

// runCLI runs tlskit with args and returns its exit code and output.
func runCLI(ctx context.Context, args ...string) (int, string, string) {
	var out, errb peertest.SyncBuffer
	code := Run(ctx, args, base.Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// checkEntry runs `tlskit check --json` and returns the first error finding,
// or the first warning when the verdict is trusted.
func checkEntry(t *testing.T, w *bypassWorld, c clientCase, target string) string {
	args := append([]string{"check", "--json", "--timeout", "5s"}, w.cliArgs(t, c)...)
	code, out, errs := runCLI(context.Background(), append(args, target)...)
	if code == base.ExitUsage {
		return errConfig
	}
	schematest.Check(t, "check", []byte(out))
	return reportOutcome(t, code, out, errs)
}

// reportOutcome reads a check --json report: "" when trusted with nothing to
// say, else its first finding.
func reportOutcome(t *testing.T, code int, out, errs string) string {
	t.Helper()
	var rep struct {
		Verdict  string            `json:"verdict"`
		Findings []finding.Finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, not a JSON report: %v\n%s\n%s", code, err, out, errs)
	}
	if (code == base.ExitOK) != (rep.Verdict == "trusted") {
		t.Errorf("exit %d with verdict %s", code, rep.Verdict)
	}
	for _, f := range rep.Findings {
		if f.Severity == finding.Error || f.Severity == finding.Warning {
			return f.ID
		}
	}
	return ""
}

// pcapEntry records a check of target with dumpcap and its key log, then
// runs `tlskit pcap` on the capture with the case's trust flags: the verdict
// on the captured connection must be the live one's.
func pcapEntry(t *testing.T, w *bypassWorld, c clientCase, target string) string {
	keys := filepath.Join(t.TempDir(), "keys.log")
	_, port, _ := net.SplitHostPort(target)
	lc := peertest.StartCapture(t, "tcp port "+port)
	// The client: a check with no verification opinion of its own (the
	// system roots, no name flags), so that the capture's verdict is pcap's.
	runCLI(context.Background(), "check", "--keylog", keys, "--timeout", "5s", "--min-version", "1.0", target)
	capFile := lc.Stop()
	args := append([]string{"pcap", "--json", "--keylog", keys}, w.cliArgs(t, c)...)
	code, out, errs := runCLI(context.Background(), append(args, capFile)...)
	if code == base.ExitUsage {
		return errConfig
	}
	var res struct {
		Connections []json.RawMessage `json:"connections"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Connections) != 1 {
		t.Fatalf("pcap exit %d: want one connection: %v\n%s\n%s", code, err, out, errs)
	}
	schematest.Check(t, "pcap", []byte(out))
	schematest.Check(t, "pcap#/$defs/connection", res.Connections[0])
	pcode := base.ExitOK
	if code != base.ExitOK {
		pcode = base.ExitProblem
	}
	return reportOutcome(t, pcode, string(res.Connections[0]), errs)
}

// tunnelClientEntry runs `tlskit tunnel client` towards target, connects to
// its plaintext side, and reads the outcome from its log: the finding of a
// refused server, or "" when an HTTP request went through.
func tunnelClientEntry(t *testing.T, w *bypassWorld, c clientCase, target string) string {
	listen := fmt.Sprintf("127.0.0.1:%d", peertest.FreePort(t))
	args := append([]string{"tunnel", "client", "--log-format", "json", "--listen", listen, "--target", target}, w.cliArgs(t, c)...)
	ctx, cancel := context.WithCancel(context.Background())
	var logs peertest.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, args, base.Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &logs})
	}()
	defer func() {
		cancel()
		<-done
	}()
	var conn net.Conn
	for i := 0; ; i++ {
		select {
		case code := <-done:
			done <- code
			if code == base.ExitUsage {
				return errConfig
			}
			t.Fatalf("tunnel exited %d: %s", code, logs.String())
		default:
		}
		var err error
		if conn, err = net.DialTimeout("tcp", listen, time.Second); err == nil {
			break
		}
		if i > 200 {
			t.Fatalf("the tunnel does not listen: %v\n%s", err, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET / HTTP/1.0\r\n\r\n")
	reply, _ := io.ReadAll(conn)
	if bytes.Contains(reply, []byte("HTTP/1.0 200")) {
		return ""
	}
	for i := 0; i < 100; i++ {
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil {
				if id, ok := rec["finding"].(string); ok {
					return id
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no data and no finding: %q\n%s", reply, logs.String())
	return ""
}

// serverCase is one way a server could end up admitting a client it must
// not.
type serverCase struct {
	name   string
	policy func(w *bypassWorld) *tlskit.Policy // the library's policy
	file   string                              // the same as a policy file ({ROOT}, {CERT}, {KEY} replaced)
	flags  []string                            // the same as tunnel server flags, or nil when flags cannot say it
	client []string                            // openssl s_client arguments ({CERT}… replaced)
	want   string
}

func TestNoBypassServerSide(t *testing.T) {
	w := newBypassWorld(t)
	require := func(w *bypassWorld) *tlskit.Policy {
		return &tlskit.Policy{CertFile: w.serverCert, KeyFile: w.serverKey, ClientTrust: []string{"file:" + w.root}, RequireClientCert: true}
	}
	allowOnly := func(w *bypassWorld) *tlskit.Policy {
		return &tlskit.Policy{CertFile: w.serverCert, KeyFile: w.serverKey, ClientTrust: []string{"file:" + w.root}, AllowedClients: []string{"batch.internal"}}
	}
	const requireFile = `{"version": 1, "trust": ["system"], "cert": "{CERT}", "key": "{KEY}", "clients": {"require": true, "trust": ["file:{ROOT}"]}}`
	const allowFile = `{"version": 1, "trust": ["system"], "cert": "{CERT}", "key": "{KEY}", "clients": {"trust": ["file:{ROOT}"], "allow": ["batch.internal"]}}`
	requireFlags := []string{"--client-ca", "{ROOT}"}
	allowFlags := []string{"--client-ca", "{ROOT}", "--allow", "batch.internal"}
	good := []string{"-cert", "{CLIENT}", "-key", "{CLIENTKEY}", "-cert_chain", "{INTER}"}
	cases := []serverCase{
		// The control: a good client certificate is admitted.
		{"good-client", require, requireFile, requireFlags, good, ""},
		{"no-certificate", require, requireFile, requireFlags, nil, finding.ClientCertRequired},
		// Issue #9.3: an allow-list without "require" let a client with no
		// certificate through. An allow-list now implies that a
		// certificate is required.
		{"allow-list-without-require", allowOnly, allowFile, allowFlags, nil, finding.ClientCertRequired},
		{"allow-list-good-client", allowOnly, allowFile, allowFlags, good, ""},
		{"allow-list-other-name", func(w *bypassWorld) *tlskit.Policy {
			p := allowOnly(w)
			p.AllowedClients = []string{"other.internal"}
			return p
		}, strings.Replace(allowFile, "batch.internal", "other.internal", 1), []string{"--client-ca", "{ROOT}", "--allow", "other.internal"}, good, finding.NameMismatch},
		{"expired-client-certificate", require, requireFile, requireFlags, []string{"-cert", "{EXPIRED}", "-key", "{EXPIREDKEY}", "-cert_chain", "{INTER}"}, finding.CertExpired},
		{"wrong-eku-client-certificate", require, requireFile, requireFlags, []string{"-cert", "{SERVERAUTH}", "-key", "{SERVERAUTHKEY}", "-cert_chain", "{INTER}"}, finding.CertWrongEKU},
		// No client trust source: requiring certificates from nobody is
		// a configuration error, not "accept any certificate".
		{"require-without-client-trust", func(w *bypassWorld) *tlskit.Policy {
			return &tlskit.Policy{CertFile: w.serverCert, KeyFile: w.serverKey, RequireClientCert: true}
		}, `{"version": 1, "trust": ["system"], "cert": "{CERT}", "key": "{KEY}", "clients": {"require": true}}`, nil, nil, errConfig},
		{"empty-client-trust", func(w *bypassWorld) *tlskit.Policy {
			return &tlskit.Policy{CertFile: w.serverCert, KeyFile: w.serverKey, ClientTrust: []string{}, AllowedClients: []string{"batch.internal"}}
		}, `{"version": 1, "trust": ["system"], "cert": "{CERT}", "key": "{KEY}", "clients": {"trust": [], "allow": ["batch.internal"]}}`, nil, nil, errConfig},
		// A legacy-only client: the server side offers ECDHE+AEAD only.
		{"legacy-client", require, requireFile, requireFlags, append([]string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"}, good...), finding.ProtocolNoSharedCipher},
	}
	type serverEntry struct {
		name string
		// start serves under the case's policy and returns the address
		// and a function giving the outcome of the next connection.
		start func(t *testing.T, c serverCase) (addr string, outcome func() string)
	}
	entries := []serverEntry{
		{"ServerConfig", func(t *testing.T, c serverCase) (string, func() string) {
			cfg, err := c.policy(w).ServerConfig()
			if err != nil {
				return "", nil
			}
			ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
			if err != nil {
				t.Fatal(err)
			}
			return ln.Addr().String(), acceptOutcome(t, ln)
		}},
		{"Listen", func(t *testing.T, c serverCase) (string, func() string) {
			ln, err := tlskit.Listen("tcp", "127.0.0.1:0", c.policy(w))
			if err != nil {
				return "", nil
			}
			return ln.Addr().String(), acceptOutcome(t, ln)
		}},
		{"policy file", func(t *testing.T, c serverCase) (string, func() string) {
			p, err := tlskit.ParsePolicy(filepath.Join(w.dir, "server.json"), []byte(w.expand(c.file)))
			if err != nil {
				return "", nil
			}
			ln, err := tlskit.Listen("tcp", "127.0.0.1:0", p)
			if err != nil {
				return "", nil
			}
			return ln.Addr().String(), acceptOutcome(t, ln)
		}},
		{"tunnel server", func(t *testing.T, c serverCase) (string, func() string) {
			args := []string{"tunnel", "server", "--log-format", "json", "--target", echoTarget(t)}
			if c.flags != nil {
				args = append(args, "--cert", w.serverCert, "--key", w.serverKey)
				for _, f := range c.flags {
					args = append(args, w.expand(f))
				}
			} else {
				path := filepath.Join(t.TempDir(), "policy.json")
				if err := os.WriteFile(path, []byte(w.expand(c.file)), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--policy", path)
			}
			listen, logs, ok := startTunnel(t, args)
			if !ok {
				return "", nil
			}
			return listen, func() string { return tunnelFinding(t, logs) }
		}},
	}
	for _, c := range cases {
		for _, e := range entries {
			t.Run(c.name+"/"+e.name, func(t *testing.T) {
				addr, outcome := e.start(t, c)
				got := errConfig
				if outcome != nil {
					sClient(t, addr, w.expandAll(c.client))
					got = outcome()
				}
				if got != c.want {
					t.Errorf("%s with %s: got %q, want %q", e.name, c.name, got, c.want)
				}
			})
		}
	}
}

// expand replaces the world's placeholders in s.
func (w *bypassWorld) expand(s string) string {
	return strings.NewReplacer("{ROOT}", w.root, "{INTER}", w.inter, "{CERT}", w.serverCert, "{KEY}", w.serverKey,
		"{CLIENT}", w.clientGood, "{CLIENTKEY}", w.clientGoodKey, "{EXPIRED}", w.clientExpired, "{EXPIREDKEY}", w.clientExpiredKey,
		"{SERVERAUTH}", w.clientServer, "{SERVERAUTHKEY}", w.clientServerKey).Replace(s)
}

func (w *bypassWorld) expandAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = w.expand(a)
	}
	return out
}

// sClient connects a real openssl s_client to addr with args, sends a line
// and lets it finish.
func sClient(t *testing.T, addr string, args []string) {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", append([]string{"s_client", "-connect", addr, "-servername", "loopback.test"}, args...)...)
	cmd.Stdin = strings.NewReader("hello\n")
	cmd.Run() // its exit status is the client's opinion; the server's is what is tested
}

// acceptOutcome serves one connection on ln: "" when the handshake
// completed, else the finding id of its error, classified as the tunnel
// server classifies it.
func acceptOutcome(t *testing.T, ln net.Listener) func() string {
	t.Cleanup(func() { ln.Close() })
	res := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			res <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		tc := c.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			res <- tunnel.ClassifyServer(err)
			return
		}
		res <- ""
	}()
	return func() string {
		select {
		case r := <-res:
			return r
		case <-time.After(15 * time.Second):
			t.Fatal("no connection")
			return ""
		}
	}
}

// echoTarget is a plain TCP echo server for tunnels.
func echoTarget(t *testing.T) string {
	return peertest.Serve(t, func(c net.Conn) { io.Copy(c, c) })
}

// startTunnel runs `tlskit` with args plus --listen on a free port until the
// test ends. ok is false when it refused to start (a usage error).
func startTunnel(t *testing.T, args []string) (listen string, logs *peertest.SyncBuffer, ok bool) {
	t.Helper()
	listen = fmt.Sprintf("127.0.0.1:%d", peertest.FreePort(t))
	args = append(args, "--listen", listen)
	ctx, cancel := context.WithCancel(context.Background())
	logs = &peertest.SyncBuffer{}
	done := make(chan int, 1)
	go func() { done <- Run(ctx, args, base.Stdio{In: strings.NewReader(""), Out: io.Discard, Err: logs}) }()
	t.Cleanup(func() { cancel(); <-done })
	for i := 0; ; i++ {
		select {
		case code := <-done:
			done <- code
			if code == base.ExitUsage {
				return "", logs, false
			}
			t.Fatalf("tunnel exited %d: %s", code, logs.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", listen, time.Second); err == nil {
			c.Close()
			// That probe connection is itself a (silent) client; wait for
			// the tunnel to be done with it before the real one.
			time.Sleep(50 * time.Millisecond)
			return listen, logs, true
		}
		if i > 200 {
			t.Fatalf("the tunnel does not listen\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tunnelFinding returns the finding the tunnel logged for the client that
// just ran to completion, or "" when it logged none: the tunnel logs a
// refusal as soon as the handshake fails, which happens before s_client,
// having sent its line, exits.
func tunnelFinding(t *testing.T, logs *peertest.SyncBuffer) string {
	t.Helper()
	for i := 0; i < 50; i++ {
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			if id, ok := rec["finding"].(string); ok && id != finding.NetReset && !strings.HasPrefix(id, "limit.") {
				return id
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ""
}
