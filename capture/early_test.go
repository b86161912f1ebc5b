package capture

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/transcript"
)

// crossCheck compares what tlskit and tshark decrypt in a capture with the
// key log file keys: per connection and direction, the decrypted records
// and the SHA-256 of the application data.
func crossCheck(t *testing.T, pcap, keys string) []streamDecryption {
	t.Helper()
	peertest.Need(t, "tshark")
	l, err := keylog.ParseFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	want := tsharkDecryption(t, pcap, []string{"-o", "tls.keylog_file:" + keys})
	got := tlskitDecryption(t, pcap, Options{Keys: l})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tlskit differs from tshark (-tshark +tlskit):\n%s", diff)
		// How tshark dissected each TCP stream, to tell a dissection
		// tshark did not attempt from one it got wrong.
		out, _ := peertest.Tshark(t, "-r", pcap, "-o", "tls.keylog_file:"+keys, "-Y", "tcp.len > 0",
			"-T", "fields", "-e", "tcp.stream", "-e", "frame.number", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info").Output()
		t.Logf("tshark's view of the data segments:\n%.4000s", out)
	}
	return got
}

// withoutLabel writes a copy of a key log file without the lines of label.
func withoutLabel(t *testing.T, keys, label string) string {
	t.Helper()
	b, err := os.ReadFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, label+" ") {
			kept = append(kept, line)
		}
	}
	out := filepath.Join(t.TempDir(), "without-"+label+".keys")
	if err := os.WriteFile(out, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLiveEarlyData records openssl s_client resuming a session with 0-RTT
// data (-sess_in … -early_data) against openssl s_server -early_data, and
// decodes the capture with the key log whole and without
// CLIENT_EARLY_TRAFFIC_SECRET (issue #16.1): without it, the 0-RTT record
// and EndOfEarlyData stay encrypted, naming the missing label, and the
// client's Finished and the rest decrypt with the handshake key; in both
// cases tlskit decrypts exactly the records and data tshark does.
func TestLiveEarlyData(t *testing.T) {
	if testing.Short() {
		t.Skip("live capture in -short mode")
	}
	peertest.Need(t, "dumpcap")
	cert, key := liveCert(t)
	srv := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-tls1_3", "-early_data")
	dir := t.TempDir()
	sess, early := filepath.Join(dir, "sess.pem"), filepath.Join(dir, "early.txt")
	if err := os.WriteFile(early, []byte("GET /early-data HTTP/1.0\r\n\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []liveCase{
		{name: "first", prog: "openssl", args: []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-sess_out", sess},
			stdin: []string{"GET /first HTTP/1.0\r\n\r\n", ""}},
		{name: "resumed-0rtt", prog: "openssl", args: []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-sess_in", sess, "-early_data", early},
			stdin: []string{"", ""}},
	}
	pcap, _, keys := recordLiveFiles(t, "tcp port "+port(srv.Addr), []string{srv.Addr}, cases)
	if !strings.Contains(srv.Output(), "GET /early-data") {
		t.Fatalf("the server did not receive the early data:\n%s", srv.Output())
	}

	full := crossCheck(t, pcap, keys)
	if len(full) != 2 {
		kb, _ := os.ReadFile(keys)
		pi, _ := os.Stat(pcap)
		t.Fatalf("%d decrypted connections, want 2 (capture of %d bytes, %d connections; key log:\n%s)", len(full), pi.Size(), len(analyze(t, pcap, "", Options{}).conns), kb)
	}

	noEarly := withoutLabel(t, keys, "CLIENT_EARLY_TRAFFIC_SECRET")
	crossCheck(t, pcap, noEarly)
	l, _ := keylog.ParseFile(noEarly)
	res := analyze(t, pcap, "", Options{Keys: l})
	var resumed *Connection
	for _, c := range res.conns {
		if c.Index == 1 {
			resumed = c
		}
	}
	if resumed == nil {
		t.Fatal("no tcp.stream 1")
	}
	var client []string
	for _, e := range resumed.Transcript {
		if e.From != transcript.Client || e.Record == 0 || e.Type == transcript.TypeChangeCipherSpec {
			continue
		}
		client = append(client, e.Type)
		if e.Type == transcript.TypeEncrypted && (!strings.Contains(e.Note, "no CLIENT_EARLY_TRAFFIC_SECRET") || !strings.Contains(e.Note, "CLIENT_HANDSHAKE_TRAFFIC_SECRET")) {
			t.Errorf("record %d: %q does not name the missing label and those the log has", e.Record, e.Note)
		}
	}
	want := []string{"client_hello", transcript.TypeEncrypted, transcript.TypeEncrypted, "finished", transcript.TypeAlert}
	if diff := cmp.Diff(want, client); diff != "" {
		t.Errorf("client records (-want +got):\n%s", diff)
	}
}

// TestLiveHelloRetryRequest records TLS 1.3 handshakes with a
// HelloRetryRequest (RFC 8446 §4.1.4) with dumpcap: openssl s_client and
// gnutls-cli (first key share X25519) against openssl s_server -groups
// P-384 and gnutls-serv limited to SECP384R1, each also requiring a client
// certificate the client does not have. Every connection decrypts exactly
// as tshark decrypts it (records and application data, per direction), the
// HelloRetryRequest and both ClientHellos are in the clear, both Finished
// messages check against the transcript hash (message_hash for the first
// ClientHello), and a server refusing the client is client-cert.required.
func TestLiveHelloRetryRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("live capture in -short mode")
	}
	peertest.Need(t, "dumpcap")
	cert, key := liveCert(t)
	servers := []string{
		peertest.OpenSSL(t, "-cert", cert, "-key", key, "-www", "-groups", "P-384").Addr,
		peertest.OpenSSL(t, "-cert", cert, "-key", key, "-www", "-groups", "P-384", "-Verify", "1", "-CAfile", cert).Addr,
		peertest.Start(t, "gnutls-serv", "-p", "{port}", "--http", "--x509certfile", cert, "--x509keyfile", key,
			"--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP384R1").Addr,
		peertest.Start(t, "gnutls-serv", "-p", "{port}", "--x509certfile", cert, "--x509keyfile", key,
			"--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP384R1",
			"--x509cafile", cert, "--require-client-cert", "--verify-client-cert").Addr,
	}
	get := []string{"GET /hrr HTTP/1.0\r\n\r\n"}
	sc := func(name string, server int) liveCase {
		return liveCase{name: name, server: server, prog: "openssl",
			args:  []string{"s_client", "-connect", "{addr}", "-keylogfile", "{keylog}", "-tls1_3", "-groups", "X25519:P-384", "-ign_eof"},
			stdin: get, version: "TLS 1.3"}
	}
	gc := func(name string, server int) liveCase {
		return liveCase{name: name, server: server, prog: "gnutls-cli",
			args:  []string{"--insecure", "--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1", "-p", "{port}", "{host}"},
			stdin: get, version: "TLS 1.3"}
	}
	cases := []liveCase{
		sc("openssl-openssl", 0), sc("openssl-openssl-mtls", 1), sc("openssl-gnutls", 2), sc("openssl-gnutls-mtls", 3),
		gc("gnutls-openssl", 0), gc("gnutls-openssl-mtls", 1), gc("gnutls-gnutls", 2), gc("gnutls-gnutls-mtls", 3),
	}
	var filter []string
	for _, s := range servers {
		filter = append(filter, "tcp port "+port(s))
	}
	pcap, keys, keyFile := recordLiveFiles(t, strings.Join(filter, " or "), servers, cases)
	crossCheck(t, pcap, keyFile)

	res := analyze(t, pcap, "", Options{Keys: keys})
	slices.SortFunc(res.conns, func(a, b *Connection) int { return a.Index - b.Index })
	if len(res.conns) != len(cases) {
		t.Fatalf("%d connections, want %d", len(res.conns), len(cases))
	}
	for i, c := range cases {
		conn := res.conns[i]
		t.Run(c.name, func(t *testing.T) {
			tr := &transcript.Transcript{Events: conn.Transcript}
			if conn.Version != "TLS 1.3" || conn.CipherSuite == "" {
				t.Errorf("version %q suite %q", conn.Version, conn.CipherSuite)
			}
			if len(tr.Messages(transcript.Server, "hello_retry_request")) != 1 || len(tr.Messages(transcript.Client, "client_hello")) != 2 {
				t.Fatal("want one hello_retry_request and two client_hello")
			}
			for _, e := range conn.Transcript {
				if e.Type == transcript.TypeEncrypted {
					t.Errorf("record %d of the %s stayed encrypted: %s", e.Record, e.From, e.Note)
				}
				if e.Type == "finished" && !strings.Contains(e.Fields[0].Value, "matches the handshake messages") {
					t.Errorf("the %s's Finished %q was not checked", e.From, e.Fields[0].Value)
				}
			}
			mtls := strings.HasSuffix(c.name, "-mtls")
			if got := hasFinding(conn.Findings, finding.ClientCertRequired); got != mtls {
				t.Errorf("client-cert.required %v, want %v (findings %v)", got, mtls, ids(conn.Findings))
			}
			if mtls && conn.Verdict == "trusted" {
				t.Error("a server that refused the client is TRUSTED")
			}
		})
	}
}
