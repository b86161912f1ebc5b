package transcript

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/tlskit/tlskit/keylog"
)

// chunk is what one side wrote in one call.
type chunk struct {
	from Side
	data []byte
}

// serverRecorder records what the server writes and reads, one chunk per
// call: crypto/tls writes whole records, so a chunk is one or more records.
type serverRecorder struct {
	net.Conn
	mu     sync.Mutex
	chunks []chunk
}

func (r *serverRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.chunks = append(r.chunks, chunk{Server, bytes.Clone(p)})
	r.mu.Unlock()
	return r.Conn.Write(p)
}

func (r *serverRecorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	if n > 0 {
		r.mu.Lock()
		r.chunks = append(r.chunks, chunk{Client, bytes.Clone(p[:n])})
		r.mu.Unlock()
	}
	return n, err
}

// converse runs a crypto/tls connection in memory in which the server sends
// 40 messages of 700 bytes, and returns what crossed the wire and the keys.
func converse(t testing.TB, cfg *tls.Config) ([]chunk, *keylog.Log, [][]byte) {
	t.Helper()
	var msgs [][]byte
	for i := range 40 {
		msgs = append(msgs, bytes.Repeat([]byte{byte('A' + i%26)}, 700))
	}
	chunks, keys := converseMsgs(t, cfg, msgs)
	return chunks, keys, msgs
}

// converseMsgs runs a crypto/tls connection in memory in which the server
// sends msgs, and returns what crossed the wire and the keys.
func converseMsgs(t testing.TB, cfg *tls.Config, msgs [][]byte) ([]chunk, *keylog.Log) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gap.test"}, DNSNames: []string{"gap.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cc, sc := net.Pipe()
	rec := &serverRecorder{Conn: sc}
	keys := keylog.NewCollector(nil)
	scfg := cfg.Clone()
	scfg.Certificates = []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}
	done := make(chan error, 1)
	go func() {
		s := tls.Server(rec, scfg)
		for _, m := range msgs {
			if _, err := s.Write(m); err != nil {
				done <- err
				return
			}
		}
		done <- s.Close()
	}()
	ccfg := cfg.Clone()
	ccfg.InsecureSkipVerify = true
	ccfg.KeyLogWriter = keys
	c := tls.Client(cc, ccfg)
	if _, err := io.ReadAll(c); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return rec.chunks, keys.Log()
}

// TestResumeAfterGap drops server bytes in the middle of the application
// data, once on a record boundary and once cutting records in two: the
// decoder must say what is missing, find the next record boundary, find the
// sequence number again and decrypt everything after the gap.
func TestResumeAfterGap(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  *tls.Config
	}{
		{"TLS13", &tls.Config{MinVersion: tls.VersionTLS13}},
		{"TLS12-GCM", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}},
		{"TLS12-ChaCha20", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}},
		{"TLS12-CBC", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}}},
		// TLS 1.0 chains the CBC IV: the first record after the gap is lost
		// too, and gives the IV of the next.
		{"TLS10-CBC", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}},
	} {
		for _, cut := range []string{"boundary", "mid-record"} {
			t.Run(tc.name+"/"+cut, func(t *testing.T) {
				chunks, keys, msgs := converse(t, tc.cfg)
				// The server's application data writes are its last 41
				// chunks (40 messages and the close_notify).
				var server []int
				for i, c := range chunks {
					if c.from == Server {
						server = append(server, i)
					}
				}
				drop := server[len(server)-41+10] // the 11th message's record(s)
				d := NewDecoder(Options{Keys: keys, KeepData: true, MaxData: 1 << 20})
				for i, c := range chunks {
					switch {
					case i == drop && cut == "boundary":
						d.Gap(Server, time.Time{}, len(c.data))
					case i == drop:
						half := len(c.data) / 2
						d.Data(Server, time.Time{}, c.data[:half])
						d.Gap(Server, time.Time{}, len(c.data)-half+100)
					case i == drop+1 && cut == "mid-record":
						d.Data(Server, time.Time{}, c.data[100:])
					default:
						d.Data(c.from, time.Time{}, c.data)
					}
				}
				tr := d.Transcript()
				var after []byte
				gap, chained := false, false
				for _, e := range tr.Events {
					switch {
					case e.Type == TypeGap:
						gap = true
					case gap && e.From == Server && e.Type == TypeApplicationData && e.Decrypted:
						after = append(after, e.Data...)
					case gap && e.From == Server && e.Type == TypeEncrypted:
						if tc.name == "TLS10-CBC" && !chained {
							chained = true // the one record whose IV was lost
							continue
						}
						t.Errorf("record %d after the gap stayed encrypted: %s", e.Record, e.Note)
					}
				}
				if !gap {
					t.Fatal("no gap event")
				}
				// Everything from the message after the damaged ones must be
				// there, in order.
				from := 11
				if cut == "mid-record" {
					from = 12
				}
				want := bytes.Join(msgs[from:], nil)
				if tc.name == "TLS10-CBC" {
					// crypto/tls splits TLS 1.0 CBC writes 1/n-1 (two records a
					// message), so chunks are not messages: what follows the
					// gap must be the exact tail of the stream, and long.
					if !chained {
						t.Error("the first TLS 1.0 record after the gap was decrypted without its IV?")
					}
					want = bytes.Join(msgs, nil)
					if !bytes.HasSuffix(want, after) || len(after) < 10*700 {
						t.Errorf("decrypted after the gap: %d bytes that are not the stream's tail of at least 10 messages", len(after))
					}
					want = nil
				}
				if !bytes.HasSuffix(after, want) {
					t.Errorf("decrypted after the gap: %d bytes, want the last %d messages (%d bytes)\nproblems: %q",
						len(after), len(msgs)-from, len(want), tr.Problems)
				}
				if e := tr.Alerts(); len(e) == 0 || e[len(e)-1].Description != "close_notify" {
					t.Errorf("the final close_notify was not decrypted")
				}
			})
		}
	}
}
