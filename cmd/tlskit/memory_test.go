package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
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
			cmd := exec.Command(bin, "check", "--json", "--insecure", "--timeout", "5s", addr)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			start := time.Now()
			err := cmd.Run()
			if cmd.ProcessState == nil {
				t.Fatalf("tlskit did not run: %v", err)
			}
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
			t.Logf("peak RSS %.1f MB in %v (exit %d)", float64(rss)/1e6, time.Since(start).Round(time.Millisecond), cmd.ProcessState.ExitCode())
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
