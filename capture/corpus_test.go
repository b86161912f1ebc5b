package capture

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/schematest"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/transcript"
)

// result is what a test sees of one Analyze run.
type result struct {
	sum   *Summary
	err   error
	conns []*Connection
	data  map[int][]byte // decrypted application data per connection, both directions
}

// analyze runs Analyze over a file with an optional key log file.
func analyze(t *testing.T, path, keys string, opts Options) result {
	t.Helper()
	if keys != "" {
		l, err := keylog.ParseFile(keys)
		if err != nil {
			t.Fatalf("key log %s: %v", keys, err)
		}
		opts.Keys = l
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return analyzeReader(t, f, opts)
}

func analyzeReader(t *testing.T, r interface{ Read([]byte) (int, error) }, opts Options) result {
	t.Helper()
	res := result{data: map[int][]byte{}}
	opts.OnData = func(c *Conn, from transcript.Side, at time.Time, b []byte) {
		res.data[c.Index] = append(res.data[c.Index], b...)
	}
	opts.OnConnection = func(c *Connection) error {
		res.conns = append(res.conns, c)
		// Every connection, as pcap --json prints it, follows the schema.
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		schematest.Check(t, "pcap#/$defs/connection", b)
		return nil
	}
	res.sum, res.err = Analyze(r, opts)
	return res
}

func (r result) allData() []byte {
	var all []byte
	for _, c := range r.conns {
		all = append(all, r.data[c.Index]...)
	}
	return all
}

func (r result) decrypted() int {
	n := 0
	for _, c := range r.conns {
		for _, e := range c.Transcript {
			if e.Decrypted {
				n++
			}
		}
	}
	return n
}

// TestWiresharkCorpus decrypts every TLS capture of Wireshark's decryption
// test suite with its key material and finds in the plaintext what the
// corpus README says tshark shows; without the keys, nothing decrypts and
// the markers are absent.
func TestWiresharkCorpus(t *testing.T) {
	dir := peertest.Corpus(t, "wireshark")
	cases := []struct {
		capture, keys string
		conns         int
		markers       []string
		version       string
	}{
		{"captures/dhe1.pcapng.gz", "keys/dhe1_keylog.dat", 1, []string{"GET /test HTTP/1.0"}, "TLS 1.0"},
		{"captures/rsasnakeoil2.pcap", "derived/rsasnakeoil2.keylog", 2, []string{"GET /favicon.ico HTTP/1.1"}, "SSL 3.0"},
		{"captures/rsa-p-lt-q.pcap", "derived/rsa-p-lt-q.keylog", 1, []string{"GET / HTTP/1."}, "TLS 1.2"},
		{"captures/dmgr.pcapng", "derived/dmgr.keylog", 1, []string{"unsecureLogon.jsp"}, "TLS 1.0"},
		{"captures/tls-renegotiation.pcap", "derived/tls-renegotiation.keylog", 1, []string{"Content-Length: 2151", "Content-Length: 0"}, "TLS 1.2"},
		{"captures/tls12-aes128ccm.pcap", "derived/tls12-aes128ccm.keylog", 1, []string{"http://www.gnu.org/software/gnutls"}, "TLS 1.2"},
		{"captures/tls12-aes256gcm.pcap", "derived/tls12-aes256gcm.keylog", 1, []string{"http://www.gnu.org/software/gnutls"}, "TLS 1.2"},
		{"captures/tls12-chacha20poly1305.pcap", "keys/tls12-chacha20poly1305.keys", 7, []string{
			"Cipher is ECDHE-ECDSA-CHACHA20-POLY1305", "Cipher is ECDHE-RSA-CHACHA20-POLY1305", "Cipher is DHE-RSA-CHACHA20-POLY1305",
			"Cipher is RSA-PSK-CHACHA20-POLY1305", "Cipher is DHE-PSK-CHACHA20-POLY1305", "Cipher is ECDHE-PSK-CHACHA20-POLY1305",
			"Cipher is PSK-CHACHA20-POLY1305"}, "TLS 1.2"},
		{"captures/tls13-rfc8446.pcap", "keys/tls13-rfc8446.keys", 2, []string{"GET /first", "GET /early", "GET /second"}, "TLS 1.3"},
		{"captures/tls13-20-chacha20poly1305.pcap", "keys/tls13-20-chacha20poly1305.keys", 2, []string{"TLS13-CHACHA20-POLY1305-SHA256"}, "TLS 1.3 (draft 20)"},
		{"captures/tls12-dsb.pcapng", "", 2, []string{"Host: example.com", "Host: example.net", "HTTP/1.1 200 OK"}, "TLS 1.2"},
		{"derived/tls12-dsb-nosecrets.pcapng", "derived/tls12-dsb-combined.keys", 2, []string{"Host: example.com", "Host: example.net"}, "TLS 1.2"},
		{"captures/http2-data-reassembly.pcap", "keys/http2-data-reassembly.keys", 1, []string{"\x89PNG"}, "TLS 1.2"},
		{"captures/http2_follow_multistream.pcapng", "", 1, []string{"PRI * HTTP/2.0"}, "TLS 1.2"},
		{"captures/challenge01_ooo_stream.pcapng.gz", "", 1, []string{"HTTP/1.1 200 OK", "Content-Length: 370703"}, "TLS 1.3"},
		{"derived/challenge01_ooo_stream-nosecrets.pcapng.gz", "derived/challenge01_ooo_stream.keys", 1, []string{"HTTP/1.1 200 OK"}, "TLS 1.3"},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.capture), func(t *testing.T) {
			keys := ""
			if c.keys != "" {
				keys = filepath.Join(dir, c.keys)
			}
			res := analyze(t, filepath.Join(dir, c.capture), keys, Options{})
			if res.err != nil {
				t.Fatalf("Analyze: %v", res.err)
			}
			if len(res.conns) != c.conns {
				t.Fatalf("%d connections, want %d", len(res.conns), c.conns)
			}
			all := res.allData()
			for _, m := range c.markers {
				if !bytes.Contains(all, []byte(m)) {
					t.Errorf("decrypted data lacks %q", m)
				}
			}
			for _, conn := range res.conns {
				if conn.Version != c.version {
					t.Errorf("connection %d: version %q, want %q", conn.Index, conn.Version, c.version)
				}
				for _, e := range conn.Transcript {
					if e.Type == transcript.TypeEncrypted {
						t.Errorf("connection %d: record %d of the %s stayed encrypted: %s", conn.Index, e.Record, e.From, e.Note)
					}
				}
			}
			if res.sum.Keyed != c.conns {
				t.Errorf("keyed %d, want %d", res.sum.Keyed, c.conns)
			}
			if c.keys == "" {
				return
			}
			// The same capture without its key log: nothing decrypts.
			res = analyze(t, filepath.Join(dir, c.capture), "", Options{})
			if n := res.decrypted(); n != 0 {
				t.Errorf("without keys %d events decrypted", n)
			}
			for _, m := range c.markers {
				if bytes.Contains(res.allData(), []byte(m)) {
					t.Errorf("without keys the data still has %q", m)
				}
			}
		})
	}
}

// TestChallengeOutOfOrder checks the out-of-order TLS 1.3 capture in
// detail: tshark with out-of-order reassembly counts 11 image responses.
func TestChallengeOutOfOrder(t *testing.T) {
	res := analyze(t, peertest.Corpus(t, "wireshark/captures/challenge01_ooo_stream.pcapng.gz"), "", Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	all := string(res.allData())
	images := strings.Count(all, "Content-Type: image/png") + strings.Count(all, "Content-Type: image/jpeg")
	if images != 11 {
		t.Errorf("%d image responses, want 11 (tshark's http,stat)", images)
	}
	if c := res.conns[0]; c.CipherSuite != "TLS_AES_256_GCM_SHA384" || len(c.Problems) != 0 {
		t.Errorf("suite %s, problems %q", c.CipherSuite, c.Problems)
	}
}

// TestEarlyDataNeedsItsSecret: /early is 0-RTT data and decrypts only with
// CLIENT_EARLY_TRAFFIC_SECRET; the rest of the connection decrypts anyway.
func TestEarlyDataNeedsItsSecret(t *testing.T) {
	dir := peertest.Corpus(t, "wireshark")
	res := analyze(t, filepath.Join(dir, "captures/tls13-rfc8446.pcap"), filepath.Join(dir, "keys/tls13-rfc8446-noearly.keys"), Options{})
	all := res.allData()
	for _, m := range []string{"GET /first", "GET /second"} {
		if !bytes.Contains(all, []byte(m)) {
			t.Errorf("data lacks %q", m)
		}
	}
	if bytes.Contains(all, []byte("GET /early")) {
		t.Error("0-RTT data decrypted without the early secret")
	}
}

// TestFinishedAfterHalfRTTTickets: in the 0-RTT connection of
// tls13-rfc8446.pcap the server sends its NewSessionTickets right after its
// Finished, before the client's EndOfEarlyData and Finished reach it. Those
// tickets are post-handshake messages, not part of the transcript the
// client's Finished covers (RFC 8446 §4.4.1, §4.6.1). The server verified
// that Finished (it must, §4.4.4) and answered GET /second after it, as
// Wireshark's test suite expects (frames 12 and 13): both Finished messages
// match, and nothing blames the key log.
func TestFinishedAfterHalfRTTTickets(t *testing.T) {
	dir := peertest.Corpus(t, "wireshark")
	res := analyze(t, filepath.Join(dir, "captures/tls13-rfc8446.pcap"), filepath.Join(dir, "keys/tls13-rfc8446.keys"), Options{})
	if len(res.conns) != 2 {
		t.Fatalf("%d connections, want 2", len(res.conns))
	}
	for _, c := range res.conns {
		n := 0
		for _, e := range c.Transcript {
			if e.Type != "finished" {
				continue
			}
			n++
			for _, f := range e.Fields {
				if f.Name == "verify_data" && !strings.Contains(f.Value, "matches the handshake messages") {
					t.Errorf("tcp.stream %d: the %s's Finished: %s", c.Index, e.From, f.Value)
				}
			}
		}
		if n != 2 {
			t.Errorf("tcp.stream %d: %d Finished messages, want 2", c.Index, n)
		}
		if len(c.Problems) != 0 {
			t.Errorf("tcp.stream %d: problems %q", c.Index, c.Problems)
		}
	}
}

// TestRetransmission: the record of retrans-tls.pcap starts in a
// retransmitted segment (tshark's second pass: frame 2, length 16); the
// connection is picked up mid-stream.
func TestRetransmission(t *testing.T) {
	res := analyze(t, peertest.Corpus(t, "wireshark/captures/retrans-tls.pcap"), "", Options{})
	if len(res.conns) != 1 {
		t.Fatalf("%d connections", len(res.conns))
	}
	c := res.conns[0]
	var lens []int
	for _, e := range c.Transcript {
		if e.Record > 0 {
			lens = append(lens, e.RecordLen)
		}
	}
	if diff := cmp.Diff([]int{16}, lens); diff != "" {
		t.Errorf("record lengths (-want +got):\n%s", diff)
	}
	if !strings.Contains(strings.Join(c.Problems, "\n"), "does not hold the start") {
		t.Errorf("problems %q do not say the start is missing", c.Problems)
	}
}

// TestFragmentedHandshakes: handshake messages split across records and
// segments all reassemble and parse (extension data 0001…03e8 in tshark).
func TestFragmentedHandshakes(t *testing.T) {
	res := analyze(t, peertest.Corpus(t, "wireshark/captures/tls-fragmented-handshakes.pcap.gz"), "", Options{})
	if res.err != nil || len(res.conns) == 0 {
		t.Fatalf("err %v, %d connections", res.err, len(res.conns))
	}
	hellos := 0
	for _, c := range res.conns {
		for _, p := range c.Problems {
			if strings.Contains(p, "parse") || strings.Contains(p, "malformed") {
				t.Errorf("connection %d: %s", c.Index, p)
			}
		}
		for _, e := range c.Transcript {
			if e.Type == "client_hello" {
				hellos++
			}
		}
	}
	// tshark lists extension data 0001 to 03e8: one ClientHello each.
	if hellos != 1000 {
		t.Errorf("%d client hellos in %d connections, want 1000", hellos, len(res.conns))
	}
}

// TestWiresharkDTLS decrypts the DTLS captures of Wireshark's decryption
// suite, with the material its README names (a DSB, the PSK, the server's
// RSA key), to what tshark shows; and the TLS captures whose upstream
// test uses a server RSA key or a PSK, with that instead of a key log.
func TestWiresharkDTLS(t *testing.T) {
	dir := peertest.Corpus(t, "wireshark")
	const psk = "ca19e028a8a372ad2d325f950fcaceed"
	cases := []struct {
		capture, rsaKey, psk string
		markers              []string
		version              string
		closedBy             transcript.Side // by an alert; "" when the capture ends first
	}{
		// tshark -o dtls.psk:… -x: 2× "Works for me!."
		{"captures/dtls12-aes128ccm8-dsb.pcapng", "", "", []string{"Works for me!", "DTLS1.2 test using GnuTLS"}, "DTLS 1.2", transcript.Client},
		{"captures/dtls12-aes128ccm8.pcap", "", psk, []string{"Works for me!", "DTLS1.2 test using GnuTLS"}, "DTLS 1.2", transcript.Client},
		// via dtlsdecrypttablefile: "it work !"; OpenSSL's pre-0.9.8f DTLS.
		{"captures/snakeoil-dtls.pcap", "keys/snakeoil-rsa.key", "", []string{"it work !\n", "isn't it ?", "this is a concluant test !"}, "DTLS 1.0 (OpenSSL pre-0.9.8f)", ""},
		// -Y "dtls && udt.type==ack": UDT control packets of type ACK (0x8002).
		{"captures/udt-dtls.pcapng.gz", "keys/udt-dtls.key", "", []string{"\x80\x02\x00\x00"}, "DTLS 1.0", ""},
		// TLS, decrypted as the upstream suite does: RSA key or PSK.
		{"captures/rsa-p-lt-q.pcap", "keys/rsa-p-lt-q.key", "", []string{"GET / HTTP/1."}, "TLS 1.2", ""},
		{"captures/tls-renegotiation.pcap", "keys/rsasnakeoil2.key", "", []string{"Content-Length: 2151", "Content-Length: 0"}, "TLS 1.2", ""},
		{"captures/tls12-aes128ccm.pcap", "", psk, []string{"http://www.gnu.org/software/gnutls"}, "TLS 1.2", ""},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.capture), func(t *testing.T) {
			opts := Options{Keys: &keylog.Log{}}
			if c.rsaKey != "" {
				k, err := keylog.ParseRSAKeyFile(filepath.Join(dir, c.rsaKey))
				if err != nil {
					t.Fatal(err)
				}
				opts.Keys.AddRSAKey(k)
			}
			if c.psk != "" {
				b, _ := hex.DecodeString(c.psk)
				opts.Keys.SetPSK(b)
			}
			res := analyze(t, filepath.Join(dir, c.capture), "", opts)
			if res.err != nil || len(res.conns) != 1 {
				t.Fatalf("Analyze: %d connections, %v", len(res.conns), res.err)
			}
			all := res.allData()
			for _, m := range c.markers {
				if !bytes.Contains(all, []byte(m)) {
					t.Errorf("decrypted data lacks %q", m)
				}
			}
			conn := res.conns[0]
			if conn.Version != c.version {
				t.Errorf("version %q, want %q", conn.Version, c.version)
			}
			tr := &transcript.Transcript{Events: conn.Transcript}
			for _, side := range []transcript.Side{transcript.Client, transcript.Server} {
				if f := tr.First(side, "finished"); f == nil || !f.Decrypted {
					t.Errorf("the %s's Finished was not decrypted", side)
				}
			}
			for _, e := range conn.Transcript {
				if e.Type == transcript.TypeEncrypted {
					t.Errorf("record %d of the %s stayed encrypted: %s", e.Record, e.From, e.Note)
				}
			}
			if c.psk != "" && conn.Verdict != diagnose.Unverified {
				t.Errorf("a PSK handshake (no certificate) has verdict %s, want unverified", conn.Verdict)
			}
			if strings.HasPrefix(c.version, "DTLS") {
				if tr.First(transcript.Server, "hello_verify_request") == nil {
					t.Error("no hello_verify_request")
				}
				if res.sum.DTLSPackets == 0 {
					t.Error("no DTLS datagrams counted")
				}
			}
			switch {
			case c.closedBy == "":
			case conn.ClosedBy == nil || conn.ClosedBy.By != c.closedBy || conn.ClosedBy.How != transcript.CloseAlert:
				t.Errorf("closed by %+v, want the %s with an alert", conn.ClosedBy, c.closedBy)
			}
			// Without the key, nothing decrypts.
			res = analyze(t, filepath.Join(dir, c.capture), "", Options{Keys: &keylog.Log{}})
			if c.rsaKey != "" || c.psk != "" {
				if n := res.decrypted(); n != 0 {
					t.Errorf("without the key %d events decrypted", n)
				}
			}
		})
	}
}

// TestDTLSRetransmission: udt-dtls begins with a ClientHello sent twice
// (frames 1 and 2); the transcript shows it once and says so.
func TestDTLSRetransmission(t *testing.T) {
	res := analyze(t, peertest.Corpus(t, "wireshark/captures/udt-dtls.pcapng.gz"), "", Options{})
	if len(res.conns) != 1 {
		t.Fatalf("%d connections", len(res.conns))
	}
	c := res.conns[0]
	tr := &transcript.Transcript{Events: c.Transcript}
	// Two ClientHellos: the first and the one answering the cookie.
	if n := len(tr.Messages(transcript.Client, "client_hello")); n != 2 {
		t.Errorf("%d client_hello events, want 2", n)
	}
	if !slicesContains(c.Problems, "the client retransmitted 1 DTLS handshake fragments") {
		t.Errorf("problems %q do not mention the retransmission", c.Problems)
	}
	if c.Client != "192.168.50.6:60924" || c.Server != "192.168.50.29:9000" {
		t.Errorf("roles %s → %s", c.Client, c.Server)
	}
}

func slicesContains(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// TestRFC8448Pcaps: the RFC 8448 traces rebuilt as pcaps give, through TCP
// reassembly, the same transcript as the records fed to the decoder
// directly (what the transcript package's RFC 8448 test checks).
func TestRFC8448Pcaps(t *testing.T) {
	dir := peertest.Corpus(t, "rfc8448")
	for _, sec := range []string{"sec3-Simple_1RTT_Handshake", "sec4-Resumed_0RTT_Handshake", "sec5-HelloRetryRequest_Handshake",
		"sec6-Client_Authentication_Handshake", "sec7-Middlebox_Compatibility_Mode"} {
		t.Run(sec, func(t *testing.T) {
			keys := filepath.Join(dir, "keylog", "rfc8448-"+sec+".keys")
			res := analyze(t, filepath.Join(dir, "pcap", "rfc8448-"+sec+".pcap"), keys, Options{KeepData: true})
			if res.err != nil || len(res.conns) != 1 {
				t.Fatalf("err %v, %d connections", res.err, len(res.conns))
			}
			c := res.conns[0]
			if c.Client != "10.0.0.1:50003" && !strings.HasPrefix(c.Client, "10.0.0.1:") || c.Server != "10.0.0.2:443" {
				t.Errorf("client %s server %s", c.Client, c.Server)
			}
			want := directTranscript(t, dir, sec, keys)
			type ev struct {
				From      transcript.Side
				Type      string
				Decrypted bool
				Data      string
			}
			var w, g []ev
			for _, e := range want.Events {
				w = append(w, ev{e.From, e.Type, e.Decrypted, string(e.Data)})
			}
			for _, e := range c.Transcript {
				if e.Type != transcript.TypeClose {
					g = append(g, ev{e.From, e.Type, e.Decrypted, string(e.Data)})
				}
			}
			if diff := cmp.Diff(w, g); diff != "" {
				t.Errorf("transcript (-records +pcap):\n%s", diff)
			}
			if len(c.Problems) > 0 {
				t.Errorf("problems %q", c.Problems)
			}
			if c.ClosedBy == nil || c.ClosedBy.How != transcript.CloseFIN {
				t.Errorf("closed by %+v, want a FIN", c.ClosedBy)
			}
		})
	}
}

// directTranscript decodes the section's records straight from the corpus
// JSON, with no TCP in between.
func directTranscript(t *testing.T, dir, sec, keys string) *transcript.Transcript {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "derived", "rfc8448-"+sec+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Records []struct {
			Dir    string `json:"dir"`
			Record string `json:"record"`
		} `json:"records"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	l, err := keylog.ParseFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	d := transcript.NewDecoder(transcript.Options{Keys: l, KeepData: true})
	for _, r := range doc.Records {
		b, err := hex.DecodeString(r.Record)
		if err != nil {
			t.Fatal(err)
		}
		side := transcript.Client
		if r.Dir == "S" {
			side = transcript.Server
		}
		d.Data(side, time.Time{}, b)
	}
	return d.Transcript()
}
