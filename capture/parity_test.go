package capture

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/keylog"
)

// parityCase is one keyed capture of the corpora: the key material as
// tshark is given it (Wireshark's own test suite's options, paths under
// shared/corpora written {corpora}) and as tlskit is given it.
type parityCase struct {
	Capture string   `json:"capture"`
	Tshark  []string `json:"tshark_options"`
	Keylog  string   `json:"keylog,omitempty"`
	RSAKey  string   `json:"rsa_key,omitempty"`
	PSK     string   `json:"psk,omitempty"`
	// Streams is what tshark decrypted, recorded by
	// TLSKIT_RECORD_PARITY=1 go test -run TestWiresharkParity ./capture.
	Streams []streamDecryption `json:"streams"`
}

// parityFile is capture/testdata/tshark-parity.json.
type parityFile struct {
	About    string       `json:"about"`
	Tshark   string       `json:"tshark"`
	Captures []parityCase `json:"captures"`
}

const psk8448 = "ca19e028a8a372ad2d325f950fcaceed"

// parityCases are every capture of shared/corpora/wireshark that has key
// material (its README's table, each with the options Wireshark's test
// suite gives tshark), and the RFC 8448 traces.
var parityCases = []parityCase{
	{Capture: "wireshark/captures/dhe1.pcapng.gz", Tshark: []string{"-o", "tls.keylog_file:{corpora}/wireshark/keys/dhe1_keylog.dat"}, Keylog: "wireshark/keys/dhe1_keylog.dat"},
	{Capture: "wireshark/captures/rsasnakeoil2.pcap", Tshark: []string{"-o", "tls.keys_list:127.0.0.1,443,http,{corpora}/wireshark/keys/rsasnakeoil2.key"}, RSAKey: "wireshark/keys/rsasnakeoil2.key"},
	{Capture: "wireshark/captures/rsa-p-lt-q.pcap", Tshark: []string{"-o", "tls.keys_list:0.0.0.0,443,http,{corpora}/wireshark/keys/rsa-p-lt-q.key"}, RSAKey: "wireshark/keys/rsa-p-lt-q.key"},
	{Capture: "wireshark/captures/dmgr.pcapng", Tshark: []string{"-o", `uat:rsa_keys:"{corpora}/wireshark/keys/key.p12","WebAS"`}, Keylog: "wireshark/derived/dmgr.keylog"},
	{Capture: "wireshark/captures/tls-renegotiation.pcap", Tshark: []string{"-o", "tls.keys_list:0.0.0.0,4433,http,{corpora}/wireshark/keys/rsasnakeoil2.key", "-d", "tcp.port==4433,tls"}, RSAKey: "wireshark/keys/rsasnakeoil2.key"},
	{Capture: "wireshark/captures/tls12-aes128ccm.pcap", Tshark: []string{"-o", "tls.psk:" + psk8448}, PSK: psk8448},
	{Capture: "wireshark/captures/tls12-aes256gcm.pcap", Tshark: []string{"-o", "tls.psk:" + psk8448}, PSK: psk8448},
	{Capture: "wireshark/captures/tls12-chacha20poly1305.pcap", Tshark: []string{"-o", "tls.keylog_file:{corpora}/wireshark/keys/tls12-chacha20poly1305.keys"}, Keylog: "wireshark/keys/tls12-chacha20poly1305.keys"},
	{Capture: "wireshark/captures/tls13-20-chacha20poly1305.pcap", Tshark: []string{"-o", "tls.keylog_file:{corpora}/wireshark/keys/tls13-20-chacha20poly1305.keys"}, Keylog: "wireshark/keys/tls13-20-chacha20poly1305.keys"},
	{Capture: "wireshark/captures/tls13-rfc8446.pcap", Tshark: []string{"-o", "tls.keylog_file:{corpora}/wireshark/keys/tls13-rfc8446.keys"}, Keylog: "wireshark/keys/tls13-rfc8446.keys"},
	{Capture: "wireshark/captures/tls13-rfc8446.pcap", Tshark: []string{"-o", "tls.keylog_file:{corpora}/wireshark/keys/tls13-rfc8446-noearly.keys"}, Keylog: "wireshark/keys/tls13-rfc8446-noearly.keys"},
	{Capture: "wireshark/captures/tls12-dsb.pcapng", Tshark: []string{}},
	{Capture: "wireshark/derived/tls12-dsb-nosecrets.pcapng", Tshark: []string{"-o", "tls.keylog_file:{corpora}/wireshark/derived/tls12-dsb-combined.keys"}, Keylog: "wireshark/derived/tls12-dsb-combined.keys"},
	{Capture: "wireshark/captures/http2-data-reassembly.pcap", Tshark: []string{"-o", "tls.keylog_file:{corpora}/wireshark/keys/http2-data-reassembly.keys", "-d", "tcp.port==8443,tls"}, Keylog: "wireshark/keys/http2-data-reassembly.keys"},
	// Its server's segments arrive out of order from frame 101 on: without
	// tcp.reassemble_out_of_order (off by default in tshark 4.0) tshark
	// stops decrypting there; tlskit's reassembly puts them in order.
	{Capture: "wireshark/captures/http2_follow_multistream.pcapng", Tshark: []string{"-o", "tcp.reassemble_out_of_order:TRUE"}},
	{Capture: "wireshark/captures/challenge01_ooo_stream.pcapng.gz", Tshark: []string{"-o", "tcp.reassemble_out_of_order:TRUE"}},
	{Capture: "wireshark/derived/challenge01_ooo_stream-nosecrets.pcapng.gz", Tshark: []string{"-o", "tcp.reassemble_out_of_order:TRUE", "-o", "tls.keylog_file:{corpora}/wireshark/derived/challenge01_ooo_stream.keys"}, Keylog: "wireshark/derived/challenge01_ooo_stream.keys"},
	{Capture: "wireshark/captures/snakeoil-dtls.pcap", Tshark: []string{"-o", "dtls.keys_list:127.0.0.1,4433,data,{corpora}/wireshark/keys/snakeoil-rsa.key"}, RSAKey: "wireshark/keys/snakeoil-rsa.key"},
	{Capture: "wireshark/captures/dtls12-aes128ccm8.pcap", Tshark: []string{"-o", "dtls.psk:" + psk8448}, PSK: psk8448},
	{Capture: "wireshark/captures/dtls12-aes128ccm8-dsb.pcapng", Tshark: []string{}},
	{Capture: "wireshark/captures/udt-dtls.pcapng.gz", Tshark: []string{"-o", "dtls.keys_list:0.0.0.0,0,data,{corpora}/wireshark/keys/udt-dtls.key"}, RSAKey: "wireshark/keys/udt-dtls.key"},
	{Capture: "rfc8448/pcap/rfc8448-all.pcap", Tshark: []string{"-o", "tls.keylog_file:{corpora}/rfc8448/keylog/rfc8448-all.keys"}, Keylog: "rfc8448/keylog/rfc8448-all.keys"},
}

const parityPath = "testdata/tshark-parity.json"

// TestWiresharkParity decrypts every keyed capture of the corpora and
// compares, per connection and direction, the number of decrypted records
// and the SHA-256 of the decrypted application data with what tshark 4.0
// decrypted, as recorded in testdata/tshark-parity.json (connections are
// matched by tcp.stream / udp.stream, which must agree too). tshark is not
// needed to run it; TLSKIT_RECORD_PARITY=1 records the file again with the
// installed tshark (tsharkDecryption says how each figure is read from it).
func TestWiresharkParity(t *testing.T) {
	corpora := filepath.Dir(peertest.Corpus(t, "wireshark"))
	if os.Getenv("TLSKIT_RECORD_PARITY") == "1" {
		recordParity(t, corpora)
	}
	raw, err := os.ReadFile(parityPath)
	if err != nil {
		t.Fatal(err)
	}
	var pf parityFile
	if err := json.Unmarshal(raw, &pf); err != nil {
		t.Fatal(err)
	}
	if len(pf.Captures) != len(parityCases) {
		t.Fatalf("%s has %d captures, the test %d: record it again", parityPath, len(pf.Captures), len(parityCases))
	}
	for i, pc := range pf.Captures {
		name := strings.TrimSuffix(filepath.Base(pc.Capture), filepath.Ext(pc.Capture))
		if pc.Keylog != "" {
			name += "+" + filepath.Base(pc.Keylog)
		}
		t.Run(name, func(t *testing.T) {
			if pc.Capture != parityCases[i].Capture {
				t.Fatalf("%s lists %s where the test has %s: record it again", parityPath, pc.Capture, parityCases[i].Capture)
			}
			got := tlskitDecryption(t, filepath.Join(corpora, pc.Capture), Options{Keys: parityKeys(t, corpora, pc)})
			if diff := cmp.Diff(pc.Streams, got); diff != "" {
				t.Errorf("tlskit differs from tshark (-tshark +tlskit):\n%s", diff)
			}
		})
	}
}

// parityKeys loads a case's key material for tlskit.
func parityKeys(t testing.TB, corpora string, pc parityCase) *keylog.Log {
	t.Helper()
	keys := &keylog.Log{}
	if pc.Keylog != "" {
		l, err := keylog.ParseFile(filepath.Join(corpora, pc.Keylog))
		if err != nil {
			t.Fatal(err)
		}
		keys = l
	}
	if pc.RSAKey != "" {
		k, err := keylog.ParseRSAKeyFile(filepath.Join(corpora, pc.RSAKey))
		if err != nil {
			t.Fatal(err)
		}
		keys.AddRSAKey(k)
	}
	if pc.PSK != "" {
		b, _ := hex.DecodeString(pc.PSK)
		keys.SetPSK(b)
	}
	return keys
}

// recordParity runs tshark over every case and writes parityPath.
func recordParity(t *testing.T, corpora string) {
	peertest.Need(t, "tshark")
	version := strings.SplitN(runTshark(t, []string{"--version"}), "\n", 2)[0]
	pf := parityFile{
		About: "What tshark decrypted in every keyed capture of shared/corpora (Wireshark 4.0 test captures, RFC 8448 traces): " +
			"per tcp.stream/udp.stream, the decrypted records of each direction (client, server), read from tshark's TLS/DTLS debug log, " +
			"and the decrypted application data of each direction (length, SHA-256), from `tshark -q -z follow,tls,raw,N` (DTLS: the " +
			"debug log's plaintext of each application data record). Recorded with TLSKIT_RECORD_PARITY=1 go test -run TestWiresharkParity " +
			"./capture; see tsharkDecryption in capture/tshark_test.go.",
		Tshark: version,
	}
	for _, pc := range parityCases {
		opts := make([]string, len(pc.Tshark))
		for i, o := range pc.Tshark {
			opts[i] = strings.ReplaceAll(o, "{corpora}", corpora)
		}
		pc.Streams = tsharkDecryption(t, filepath.Join(corpora, pc.Capture), opts)
		pf.Captures = append(pf.Captures, pc)
	}
	b, err := json.MarshalIndent(pf, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(parityPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(parityPath, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
