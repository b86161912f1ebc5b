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

	"github.com/tlskit/tlskit/internal/peertest"
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

// TestDTLSIsCounted: UDP is not decoded, but DTLS is noticed.
func TestDTLSIsCounted(t *testing.T) {
	res := analyze(t, peertest.Corpus(t, "wireshark/captures/dtls12-aes128ccm8-dsb.pcapng"), "", Options{})
	if len(res.conns) != 0 || res.sum.DTLSPackets == 0 || res.sum.SecretsBlocks != 1 {
		t.Errorf("connections %d, DTLS packets %d, DSBs %d", len(res.conns), res.sum.DTLSPackets, res.sum.SecretsBlocks)
	}
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
