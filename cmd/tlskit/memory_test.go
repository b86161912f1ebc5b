package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/schematest"
)

// maxCheckRSS is the peak resident set size `tlskit check` may reach,
// whatever the server sends (SECURITY.md).
const maxCheckRSS = 64 << 20

// TestCheckMemoryBounded runs the tlskit binary against servers that send
// without end, before and after the handshake, and reads the child's peak
// RSS from the kernel (rusage ru_maxrss). Before probe bounded what it
// keeps, the socat application-data flood below took `tlskit check` to
// 620 MB and more. Real peers (socat with OpenSSL, openssl s_server)
// stream where a real server can be made to; in-process servers play the
// failure modes no real server shows (garbage, a giant handshake message,
// endless tiny records).
func TestCheckMemoryBounded(t *testing.T) {
	dir := t.TempDir()
	cert := selfSigned(t, dir)
	type tcase struct {
		name string
		addr func(t *testing.T) string
		// cut is the note of the truncated event expected in the
		// transcript, or "" when another bound applies.
		cut string
	}
	cases := []tcase{
		{"socat TLS 1.3 streaming zeros", func(t *testing.T) string {
			return socat(t, dir, "OPEN:/dev/zero")
		}, "after the handshake"},
		{"socat TLS 1.2 streaming random bytes", func(t *testing.T) string {
			return socat(t, dir, "OPEN:/dev/urandom", "openssl-max-proto-version=TLS1.2")
		}, "after the handshake"},
		{"openssl s_server streaming zeros", func(t *testing.T) string {
			// s_server sends its standard input; it stops at tlskit's
			// close_notify, so this one ends by itself.
			s := peertest.Start(t, "sh", "-c", `exec openssl s_server -accept 127.0.0.1:$1 -cert "$2" -key "$3" -quiet < /dev/zero`,
				"sh", "{port}", filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
			return s.Addr
		}, ""},
		{"Go TLS 1.3 application data flood", func(t *testing.T) string {
			return goFlood(t, cert, tls.VersionTLS13, false)
		}, "after the handshake"},
		{"Go TLS 1.2 application data flood", func(t *testing.T) string {
			return goFlood(t, cert, tls.VersionTLS12, false)
		}, "after the handshake"},
		{"random bytes after the handshake", func(t *testing.T) string {
			return goFlood(t, cert, tls.VersionTLS13, true)
		}, "after the handshake"},
		{"random bytes instead of a ServerHello", func(t *testing.T) string {
			return rawServer(t, func(w io.Writer) error {
				_, err := io.Copy(w, rand.Reader)
				return err
			})
		}, ""},
		{"a handshake message declaring 16 MiB", func(t *testing.T) string {
			return rawServer(t, func(w io.Writer) error {
				rec := make([]byte, 5+16384)
				copy(rec, []byte{22, 3, 3, 0x40, 0})
				copy(rec[5:], []byte{2, 0xff, 0xff, 0xff}) // server_hello, 16 MiB - 1
				for {
					if _, err := w.Write(rec); err != nil {
						return err
					}
					rec[5] = 0 // continuation bytes
				}
			})
		}, ""},
		{"endless ChangeCipherSpec records", func(t *testing.T) string {
			return rawServer(t, func(w io.Writer) error {
				b := bytes.Repeat([]byte{20, 3, 3, 0, 1, 1}, 10000)
				for {
					if _, err := w.Write(b); err != nil {
						return err
					}
				}
			})
		}, ""},
	}
	bin := tlskitBinary(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := c.addr(t)
			var out, errb bytes.Buffer
			start := time.Now()
			rss, code := peakRSS(t, &out, &errb, bin, "check", "--json", "--insecure", "--timeout", "5s", addr)
			t.Logf("peak RSS %.1f MB in %v (exit %d)", float64(rss)/1e6, time.Since(start).Round(time.Millisecond), code)
			if rss >= maxCheckRSS {
				t.Errorf("peak RSS %d MB, want under %d MB", rss>>20, maxCheckRSS>>20)
			}
			var rep struct {
				Transcript []struct{ Type, From, Note string }
				Problems   []string
				Findings   []struct{ ID string }
			}
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("output is not one JSON report: %v\n%.500s\n%s", err, out.Bytes(), errb.Bytes())
			}
			schematest.Check(t, "check", out.Bytes())
			if len(rep.Transcript) > 1100 {
				t.Errorf("%d transcript events: the event bound did not hold", len(rep.Transcript))
			}
			if len(rep.Findings) == 0 {
				t.Errorf("no findings")
			}
			if c.cut != "" {
				found := false
				for _, e := range rep.Transcript {
					if e.Type == "truncated" && e.From == "server" && strings.Contains(e.Note, c.cut) && strings.Contains(e.Note, "not kept") {
						found = true
					}
				}
				if !found || !strings.Contains(strings.Join(rep.Problems, "\n"), "not kept") {
					t.Errorf("no truncated event (%q) and problem saying the rest was not kept; problems %q", c.cut, rep.Problems)
				}
			}
		})
	}
}

// peakRSS runs prog with args and returns its peak resident set size in
// bytes and its exit code. GNU time measures it: the child's rusage as Go
// sees it would include this test process's own peak, since Go starts
// children with vfork and Linux carries the parent's high-water mark into
// the child's ru_maxrss across exec.
func peakRSS(t *testing.T, stdout, stderr io.Writer, prog string, args ...string) (int64, int) {
	t.Helper()
	timeBin := peertest.Need(t, "time") // GNU time (.ci/run installs it)
	report := filepath.Join(t.TempDir(), "rss")
	cmd := exec.Command(timeBin, append([]string{"-f", "%M %x", "-o", report, prog}, args...)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Run()
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("no report from time: %v", err)
	}
	var kb int64
	var code int
	if _, err := fmt.Sscanf(lastLine(string(b)), "%d %d", &kb, &code); err != nil {
		t.Fatalf("time reported %q: %v", b, err)
	}
	return kb << 10, code
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// tlskitBinary returns the tlskit command testscript.Main put in PATH (this
// test binary, run as tlskit).
func tlskitBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("tlskit")
	if err != nil {
		t.Fatalf("tlskit is not in PATH: %v", err)
	}
	return p
}

// selfSigned writes cert.pem and key.pem (ECDSA P-256, for 127.0.0.1) in
// dir and returns them as a tls.Certificate.
func selfSigned(t *testing.T, dir string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string]*pem.Block{"cert.pem": {Type: "CERTIFICATE", Bytes: der}, "key.pem": {Type: "PRIVATE KEY", Bytes: kder}} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// socat serves TLS (OpenSSL, through socat) and sends what it reads from
// source for up to 10 s after the client stops sending.
func socat(t *testing.T, dir, source string, opts ...string) string {
	t.Helper()
	o := strings.Join(append([]string{"reuseaddr", "fork", "cert=" + filepath.Join(dir, "cert.pem"), "key=" + filepath.Join(dir, "key.pem"), "verify=0"}, opts...), ",")
	return peertest.Start(t, "socat", "-t", "10", "OPENSSL-LISTEN:{port},bind=127.0.0.1,"+o, source).Addr
}

// goFlood serves TLS with crypto/tls and, once the handshake is done,
// writes without end: application data, or (raw) random bytes straight on
// the TCP connection. It stops when the client goes away.
func goFlood(t *testing.T, cert tls.Certificate, version uint16, raw bool) string {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version}
	return serveConns(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() != nil {
			return
		}
		var w io.Writer = tc
		if raw {
			w = c
		}
		buf := make([]byte, 16384)
		for {
			rand.Read(buf)
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	})
}

// rawServer reads the ClientHello's first bytes, then lets send write to
// the connection until it fails.
func rawServer(t *testing.T, send func(io.Writer) error) string {
	t.Helper()
	return serveConns(t, func(c net.Conn) {
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err != nil {
			return
		}
		send(c)
	})
}

// serveConns accepts on loopback and runs handle on each connection for
// at most 15 s; everything stops when the test ends.
func serveConns(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(15 * time.Second))
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}

// TestPcapKeylogMemory: `tlskit pcap --keylog` holds a key log compactly.
// The tlskit binary reads a generated 64 MB key log (shaped like a
// browser's SSLKEYLOGFILE: TLS 1.3 connections with five secrets, some
// TLS 1.2 CLIENT_RANDOM lines) plus the real key lines of a capture from
// Wireshark's test suite, which must still decrypt; its peak RSS must stay
// under 1.5 times the log's size. (Before: about 5.4 times.)
func TestPcapKeylogMemory(t *testing.T) {
	capture := peertest.Corpus(t, "wireshark/captures/dhe1.pcapng.gz")
	keys := peertest.Corpus(t, "wireshark/keys/dhe1_keylog.dat")
	real, err := os.ReadFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	const size = 64 << 20
	path := filepath.Join(t.TempDir(), "keys.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	writeBigKeyLog(t, f, size)
	f.Write(real)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	rss, _ := peakRSS(t, &out, &errb, tlskitBinary(t), "pcap", "--json", "--keylog", path, capture)
	t.Logf("peak RSS %.1f MB for a %.1f MB key log (%.2f×)", float64(rss)/1e6, float64(size)/1e6, float64(rss)/size)
	if rss > size*3/2 {
		t.Errorf("peak RSS %d MB, want at most 1.5 × the %d MB key log", rss>>20, size>>20)
	}
	if !strings.Contains(out.String(), `"keyed": 1`) || !strings.Contains(out.String(), `"decrypted": true`) {
		t.Errorf("the capture did not decrypt with the key log:\n%.2000s\n%s", out.String(), errb.String())
	}
}

// writeBigKeyLog writes about size bytes of random key log lines.
func writeBigKeyLog(t *testing.T, w io.Writer, size int) {
	t.Helper()
	labels := []string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}
	bw := bufio.NewWriter(w)
	b := &countingWriter{w: bw}
	cr, sec := make([]byte, 32), make([]byte, 48)
	for conn := 0; b.Len() < size; conn++ {
		rand.Read(cr)
		rand.Read(sec)
		if conn%6 == 5 {
			fmt.Fprintf(b, "CLIENT_RANDOM %x %x\n", cr, sec)
			continue
		}
		n := 32 + 16*(conn%2)
		for _, l := range labels {
			fmt.Fprintf(b, "%s %x %x\n", l, cr, sec[:n])
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
}

// countingWriter counts what it writes, as Len.
type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

func (c *countingWriter) Len() int { return c.n }
