package capture

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/transcript"
)

// liveCase is one client connection made while dumpcap records loopback.
type liveCase struct {
	name    string
	server  int      // which server: 0 plain, 1 requires a client certificate
	prog    string   // client program
	args    []string // client arguments; {addr}, {host}, {port} and {keylog} are replaced
	stdin   []string // lines written to the client, with a pause after each
	suite   string   // expected negotiated suite
	version string
	want    []string // in the decrypted data
	finding string   // expected finding id
	alert   string   // expected decrypted alert from the server
}

// TestLiveCaptures records real OpenSSL, GnuTLS and curl clients talking to
// openssl s_server on loopback with dumpcap, each writing SSLKEYLOGFILE,
// and checks that every connection decrypts: each cipher family of TLS 1.2
// and 1.3, encrypt-then-MAC on and off, a TLS 1.3 KeyUpdate, and the
// client-certificate-required failure in TLS 1.2 and 1.3.
func TestLiveCaptures(t *testing.T) {
	if testing.Short() {
		t.Skip("live capture in -short mode")
	}
	peertest.Need(t, "dumpcap")
	cert, key := liveCert(t)

	plain := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-www")
	mtls := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-www", "-Verify", "1", "-CAfile", cert)
	servers := []string{plain.Addr, mtls.Addr}

	get := []string{"GET /tlskit-live HTTP/1.0\r\n\r\n"}
	s12 := func(name, cipher, suite string, extra ...string) liveCase {
		return liveCase{name: name, prog: "openssl",
			args:  append([]string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-tls1_2", "-cipher", cipher, "-ign_eof"}, extra...),
			stdin: get, suite: suite, version: "TLS 1.2", want: []string{"GET /tlskit-live", "Cipher is " + cipher}}
	}
	s13 := func(name, suite string) liveCase {
		return liveCase{name: name, prog: "openssl",
			args:  []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-tls1_3", "-ciphersuites", suite, "-ign_eof"},
			stdin: get, suite: suite, version: "TLS 1.3", want: []string{"GET /tlskit-live", "Cipher is " + suite}}
	}
	cases := []liveCase{
		s13("tls13-aes128gcm", "TLS_AES_128_GCM_SHA256"),
		s13("tls13-aes256gcm", "TLS_AES_256_GCM_SHA384"),
		s13("tls13-chacha20", "TLS_CHACHA20_POLY1305_SHA256"),
		s12("tls12-ecdhe-aes128gcm", "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
		s12("tls12-ecdhe-chacha20", "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
		s12("tls12-cbc-sha-etm", "ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
		s12("tls12-cbc-sha-noetm", "ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "-no_etm"),
		s12("tls12-cbc-sha256", "ECDHE-ECDSA-AES128-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
		s12("tls12-cbc-sha384-etm", "ECDHE-ECDSA-AES256-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
		s12("tls12-cbc-sha384-noetm", "ECDHE-ECDSA-AES256-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "-no_etm"),
		{name: "tls13-keyupdate", prog: "openssl",
			args:  []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-tls1_3"},
			stdin: []string{"k\n", "GET /after-keyupdate HTTP/1.0\r\n\r\n"}, version: "TLS 1.3", suite: "TLS_AES_256_GCM_SHA384",
			want: []string{"GET /after-keyupdate"}},
		{name: "tls12-client-cert-required", server: 1, prog: "openssl",
			args:  []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-tls1_2", "-ign_eof"},
			stdin: get, version: "TLS 1.2", finding: finding.ClientCertRequired, alert: "handshake_failure"},
		{name: "tls13-client-cert-required", server: 1, prog: "openssl",
			args:  []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-tls1_3", "-ign_eof"},
			stdin: get, version: "TLS 1.3", finding: finding.ClientCertRequired, alert: "certificate_required"},
	}
	if peertest.Need(t, "curl") != "" {
		cases = append(cases, liveCase{name: "curl-tls13", prog: "curl",
			args:    []string{"-sk", "--tlsv1.3", "https://{addr}/curl-live", "-o", "/dev/null"},
			version: "TLS 1.3", want: []string{"GET /curl-live"}})
	}
	if peertest.Need(t, "gnutls-cli") != "" {
		cases = append(cases, liveCase{name: "gnutls-tls12", prog: "gnutls-cli",
			args:  []string{"--insecure", "--priority", "NORMAL:-VERS-TLS1.3", "-p", "{port}", "{host}"},
			stdin: []string{"GET /gnutls-live HTTP/1.0\r\n\r\n"}, version: "TLS 1.2", want: []string{"GET /gnutls-live"}})
	}

	filter := "tcp port " + port(plain.Addr) + " or tcp port " + port(mtls.Addr)
	pcap, keys := recordLive(t, filter, servers, cases)
	checkLive(t, pcap, keys, cases)
}

func hasEvent(evs []transcript.Event, typ string) bool {
	for _, e := range evs {
		if e.Type == typ && e.Decrypted {
			return true
		}
	}
	return false
}

func hasFinding(fs []finding.Finding, id string) bool {
	for _, f := range fs {
		if f.ID == id {
			return true
		}
	}
	return false
}

func ids(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func port(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

func run(t *testing.T, prog string, args ...string) {
	t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", prog, args, err, out)
	}
}

// TestLiveDTLS records openssl s_client talking DTLS to openssl s_server
// over UDP on loopback, each DTLS 1.2 cipher family and DTLS 1.0, and
// checks that every connection decrypts (both Finished messages and the
// client's data) and is closed by the client's close_notify.
func TestLiveDTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("live capture in -short mode")
	}
	peertest.Need(t, "dumpcap")
	cert, key := liveCert(t)
	srv := peertest.OpenSSL(t, "-dtls", "-cert", cert, "-key", key, "-cipher", "ALL:@SECLEVEL=0")

	d := func(name, version, flag, cipher, suite string, extra ...string) liveCase {
		return liveCase{name: name, prog: "openssl",
			args:  append([]string{"s_client", flag, "-connect", "{addr}", "-keylogfile", "{keylog}", "-cipher", cipher + ":@SECLEVEL=0"}, extra...),
			stdin: []string{"hello over " + name + "\n"}, suite: suite, version: version, want: []string{"hello over " + name}}
	}
	cases := []liveCase{
		d("dtls12-aes128gcm", "DTLS 1.2", "-dtls1_2", "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
		d("dtls12-aes256gcm", "DTLS 1.2", "-dtls1_2", "ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
		d("dtls12-chacha20", "DTLS 1.2", "-dtls1_2", "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
		d("dtls12-cbc-sha-etm", "DTLS 1.2", "-dtls1_2", "ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
		d("dtls12-cbc-sha384-noetm", "DTLS 1.2", "-dtls1_2", "ECDHE-ECDSA-AES256-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "-no_etm"),
		d("dtls10-cbc-sha", "DTLS 1.0", "-dtls1", "ECDHE-ECDSA-AES256-SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
	}
	pcap, keys := recordLive(t, "udp port "+port(srv.Addr), []string{srv.Addr}, cases)
	checkLive(t, pcap, keys, cases)
	res := analyze(t, pcap, "", Options{Keys: keys})
	for _, c := range res.conns {
		tr := &transcript.Transcript{Events: c.Transcript}
		for _, side := range []transcript.Side{transcript.Client, transcript.Server} {
			if f := tr.First(side, "finished"); f == nil || !f.Decrypted {
				t.Errorf("connection %d: the %s's Finished was not decrypted", c.Index, side)
			}
		}
		if c.ClosedBy == nil || c.ClosedBy.How != transcript.CloseAlert || c.ClosedBy.AfterAlert != "warning close_notify" {
			t.Errorf("connection %d: closed by %+v, want a close_notify", c.Index, c.ClosedBy)
		}
	}
}

// liveCert makes a P-256 certificate for localhost with openssl and returns
// the certificate and key files.
func liveCert(t *testing.T) (cert, key string) {
	return peertest.SelfSigned(t, "/CN=localhost", "DNS:localhost,IP:127.0.0.1")
}

// recordLive runs each case's client against servers[case.server] while
// dumpcap records loopback with filter, and returns the capture and the
// clients' merged key logs.
func recordLive(t *testing.T, filter string, servers []string, cases []liveCase) (string, *keylog.Log) {
	pcap, keys, _ := recordLiveFiles(t, filter, servers, cases)
	return pcap, keys
}

// recordLiveFiles is recordLive that also returns the path of a file with
// all the clients' key log lines, for tshark.
func recordLiveFiles(t *testing.T, filter string, servers []string, cases []liveCase) (string, *keylog.Log, string) {
	t.Helper()
	dir := t.TempDir()
	lc := peertest.StartCapture(t, filter)

	keys := &keylog.Log{}
	var all []byte
	for i, c := range cases {
		kl := filepath.Join(dir, strconv.Itoa(i)+".keys")
		addr := servers[c.server]
		var args []string
		for _, a := range c.args {
			a = strings.NewReplacer("{addr}", addr, "{keylog}", kl, "{host}", "127.0.0.1", "{port}", port(addr)).Replace(a)
			args = append(args, a)
		}
		cmd := exec.Command(c.prog, args...)
		cmd.Env = append(os.Environ(), "SSLKEYLOGFILE="+kl)
		out := peertest.Typed(t, cmd, 200*time.Millisecond, c.stdin...)
		l, err := keylog.ParseFile(kl)
		if err != nil {
			t.Fatalf("%s: key log: %v\n%s", c.name, err, out)
		}
		keys.Merge(l)
		text, _ := os.ReadFile(kl)
		all = append(all, text...)
	}
	pcap := lc.Stop()

	allPath := filepath.Join(dir, "all.keys")
	if err := os.WriteFile(allPath, all, 0o600); err != nil {
		t.Fatal(err)
	}
	return pcap, keys, allPath
}

// checkLive analyses the capture and checks each case's connection, in order.
func checkLive(t *testing.T, pcap string, keys *keylog.Log, cases []liveCase) {
	t.Helper()
	res := analyze(t, pcap, "", Options{Keys: keys})
	if res.err != nil {
		t.Fatal(res.err)
	}
	slices.SortFunc(res.conns, func(a, b *Connection) int { return a.Index - b.Index })
	if len(res.conns) != len(cases) {
		t.Fatalf("%d connections, want %d", len(res.conns), len(cases))
	}
	for i, c := range cases {
		conn := res.conns[i]
		t.Run(c.name, func(t *testing.T) {
			if conn.Version != c.version {
				t.Errorf("version %q, want %q", conn.Version, c.version)
			}
			if c.suite != "" && conn.CipherSuite != c.suite {
				t.Errorf("suite %q, want %q", conn.CipherSuite, c.suite)
			}
			data := res.data[conn.Index]
			for _, w := range c.want {
				if !bytes.Contains(data, []byte(w)) {
					t.Errorf("decrypted data lacks %q:\n%.300s", w, data)
				}
			}
			sawAlert := false
			for _, e := range conn.Transcript {
				if e.Type == transcript.TypeEncrypted {
					t.Errorf("record %d of the %s stayed encrypted: %s", e.Record, e.From, e.Note)
				}
				if e.Type == transcript.TypeAlert && e.From == transcript.Server && e.Description == c.alert {
					sawAlert = true
				}
			}
			if c.alert != "" && !sawAlert {
				t.Errorf("no alert %s from the server", c.alert)
			}
			if c.finding != "" && !hasFinding(conn.Findings, c.finding) {
				t.Errorf("findings %v lack %s", ids(conn.Findings), c.finding)
			}
			if conn.ClosedBy == nil {
				t.Error("no closure")
			}
			if c.name == "tls13-keyupdate" {
				if conn.Transcript[0].Type != "client_hello" || !hasEvent(conn.Transcript, "key_update") {
					t.Error("no decrypted key_update")
				}
			}
		})
	}
}
