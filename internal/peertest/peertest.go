// Package peertest runs real TLS peers (openssl s_server, gnutls-serv) on
// loopback for tests. A test that needs a peer binary calls [Need], one that
// needs the corpora [Corpus], and one that needs anything else of the
// machine (its trust store, /proc, GOROOT's testdata) calls [Skip] when it
// is absent: the test is skipped, except under TLSKIT_REQUIRE_PEERS=1 (set
// by .ci/run), where the missing resource fails the test instead of hiding
// it.
//
// It also holds what many packages' tests share around those peers:
// [StartCapture] records loopback with dumpcap, its start and end observed;
// [Serve], [ServeTLS] and [ServeOne] run in-process fake servers for the
// failure modes no real peer can be made to show; [SyncBuffer] collects a
// child process's output; [Typed] types lines into a client such as
// openssl s_client.
package peertest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Need returns the path of the program name, or skips (or, under
// TLSKIT_REQUIRE_PEERS=1, fails) the test when it is not installed.
func Need(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Skip(t, "%s is not installed (.ci/run installs it)", name)
	}
	return path
}

// ScriptCondition is the condition of testscript scripts that need a
// program: "[peer:NAME]" is true when NAME is installed, so that a script
// says "[!peer:NAME] skip"; under TLSKIT_REQUIRE_PEERS=1 (CI) a missing
// program is an error instead of a skip.
func ScriptCondition(cond string) (bool, error) {
	name, ok := strings.CutPrefix(cond, "peer:")
	if !ok {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	if _, err := exec.LookPath(name); err != nil {
		if Required() {
			return false, fmt.Errorf("%s is not installed (TLSKIT_REQUIRE_PEERS=1: .ci/run installs it)", name)
		}
		return false, nil
	}
	return true, nil
}

// Required reports whether missing peers, corpora and machine resources
// fail tests instead of skipping them: TLSKIT_REQUIRE_PEERS=1, as .ci/run
// sets it.
func Required() bool { return os.Getenv("TLSKIT_REQUIRE_PEERS") == "1" }

// Skip skips the test because something it needs from the machine is not
// there (a peer binary, the corpora, the machine's trust store, GOROOT's
// testdata, /proc, a file descriptor limit, root): under
// TLSKIT_REQUIRE_PEERS=1 (CI) it fails the test instead, so that nothing
// stops being tested silently. A test skipped for a mode it chose
// (testing.Short) calls t.Skip itself.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s (TLSKIT_REQUIRE_PEERS=1: a missing resource fails the test)", msg)
	}
	t.Skip(msg)
}

// FreePort returns a loopback TCP port that was free a moment ago. There is
// a small race between closing the probe listener and the peer binding it;
// [Start] retries with another port when the peer cannot bind it.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Server is a peer process serving on loopback.
type Server struct {
	// Addr is 127.0.0.1:PORT.
	Addr   string
	prog   string
	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex
	out    strings.Builder
}

// Output returns what the server printed so far (stdout and stderr).
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// Said reports whether the server has printed all of lines, waiting up to
// 5 seconds for them: a server logs what it did a moment after doing it
// (dnsmasq its queries), and a test that reads its output at once can
// miss the last lines.
func (s *Server) Said(lines ...string) bool {
	return s.waitFor(func() bool {
		out := s.Output()
		for _, l := range lines {
			if !strings.Contains(out, l) {
				return false
			}
		}
		return true
	}) == nil
}

// Start runs prog with args, where the literal "{port}" in any argument is
// replaced by a free port, and waits until the port accepts connections
// on a socket the process (or a child of it) holds. The process is killed
// when the test ends. (Another process may take the free port first; Start
// then tries again with another.)
func Start(t testing.TB, prog string, args ...string) *Server {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := FreePort(t)
		argv := make([]string, len(args))
		for i, a := range args {
			argv[i] = strings.ReplaceAll(a, "{port}", fmt.Sprint(port))
		}
		s, stop := run(t, prog, argv)
		s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		if lastErr = s.waitFor(func() bool {
			c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond)
			if err != nil {
				return false
			}
			c.Close()
			if !listensOn(s.cmd.Process.Pid, port) {
				// Another process holds the port: ours fails to bind
				// and exits, and waitFor tries again.
				return false
			}
			// The probe connection counts as a client; give the server a
			// moment to return to accept().
			time.Sleep(20 * time.Millisecond)
			return true
		}); lastErr == nil {
			return s
		}
		stop()
	}
	t.Fatal(lastErr)
	return nil
}

// OpenSSL starts `openssl s_server` with args (without -accept) on a port
// the kernel picks, read back from s_server's "ACCEPT" line, so no other
// process can take it in between.
func OpenSSL(t testing.TB, args ...string) *Server {
	t.Helper()
	return OpenSSLAt(t, "127.0.0.1:0", args...)
}

// OpenSSLAt is [OpenSSL] listening on accept, s_server's -accept: an
// address of its own ("[::1]:0"), or a port another server took on
// another address ("[::1]:PORT" beside 127.0.0.1:PORT).
func OpenSSLAt(t testing.TB, accept string, args ...string) *Server {
	t.Helper()
	s, _ := run(t, "openssl", append([]string{"s_server", "-accept", accept, "-naccept", "100"}, args...))
	if err := s.waitFor(func() bool {
		for _, line := range strings.Split(s.Output(), "\n") {
			if addr, ok := strings.CutPrefix(line, "ACCEPT "); ok {
				s.Addr = addr
				return true
			}
			if line == "ACCEPT" && !strings.HasSuffix(accept, ":0") {
				s.Addr = accept // s_server names the address only when it picked the port
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// noCloseNotifyServer is a TLS server on Python's ssl module (OpenSSL)
// that reads one request (or the client's close_notify), answers with a
// line of data and closes the socket without close_notify: Python's
// SSLSocket.close does not call SSL_shutdown.
const noCloseNotifyServer = `
import socket, ssl, sys
cert, key, version = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
v = ssl.TLSVersion.TLSv1_3 if version == "1.3" else ssl.TLSVersion.TLSv1_2
ctx.minimum_version = ctx.maximum_version = v
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print("ACCEPT 127.0.0.1:%d" % s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    try:
        t = ctx.wrap_socket(c, server_side=True)
        t.settimeout(2)
        try:
            t.recv(4096)
        except Exception:
            pass
        t.sendall(b"data that may be cut short\n")
        t.close()
    except Exception as e:
        print("error", e, flush=True)
`

// NoCloseNotify starts a TLS server (Python's ssl, that is OpenSSL, on
// loopback) that answers each connection's first read with a line of data
// and closes the TCP connection without a close_notify alert, at TLS
// version "1.2" or "1.3", with the certificate and key files given.
func NoCloseNotify(t testing.TB, cert, key, version string) *Server {
	t.Helper()
	script := filepath.Join(t.TempDir(), "noclosenotify.py")
	if err := os.WriteFile(script, []byte(noCloseNotifyServer), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := run(t, "python3", []string{script, cert, key, version})
	if err := s.waitFor(func() bool {
		for _, line := range strings.Split(s.Output(), "\n") {
			if addr, ok := strings.CutPrefix(line, "ACCEPT "); ok {
				s.Addr = addr
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// run starts prog with its output collected and its standard input held
// open (s_server quits at end of input). The process is killed when the
// test ends, or by stop.
func run(t testing.TB, prog string, argv []string) (s *Server, stop func()) {
	t.Helper()
	path := Need(t, prog)
	s = &Server{prog: prog, exited: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	s.cmd = exec.CommandContext(ctx, path, argv...)
	stdin, stdinW := io.Pipe()
	s.cmd.Stdin = stdin
	pr, pw := io.Pipe()
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	if err := s.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", prog, err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.mu.Lock()
			s.out.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
	}()
	go func() { s.cmd.Wait(); pw.Close(); close(s.exited) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); stdinW.Close(); <-s.exited }) }
	t.Cleanup(stop)
	return s, stop
}

// waitFor polls ready for up to 5 seconds, failing early if the process
// exits.
func (s *Server) waitFor(ready func() bool) error {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited early: %s", s.prog, s.Output())
		default:
		}
		if ready() {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s was not ready within 5s: %s", s.prog, s.Output())
}

// Corpus returns the path of a file or directory under the shared test
// corpora (shared/corpora beside the repository, see
// shared/docs/corpora.md), looking upwards from the working directory. It
// skips the test when the corpora are absent, and fails it under
// TLSKIT_REQUIRE_PEERS=1.
func Corpus(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "corpora", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	Skip(t, "corpus file %s not found (shared/corpora is not beside the repository, nor above the working directory)", rel)
	return ""
}

// Stunnel runs stunnel with one service whose options (stunnel.conf lines,
// "connect = …", "cert = …") are opts, accepting on a free loopback port,
// and returns the accept address. stunnel serves connections at once, in
// parallel: the implicit-TLS front of a plaintext service, as deployed.
func Stunnel(t testing.TB, opts string) string {
	t.Helper()
	Need(t, "stunnel")
	dir := t.TempDir()
	conf := filepath.Join(dir, "stunnel.conf")
	body := "foreground = yes\npid =\ndebug = 4\n[svc]\naccept = 127.0.0.1:{port}\n" + opts + "\n"
	// Start substitutes {port} in arguments only: pass the file through a
	// tiny shell that writes it with the port.
	script := fmt.Sprintf("sed \"s/{port}/$1/\" > %s <<'EOF'\n%sEOF\nexec stunnel %s", conf, body, conf)
	return Start(t, "sh", "-c", script, "sh", "{port}").Addr
}

// SelfSigned makes a self-signed certificate with openssl req for subject
// ("/CN=localhost") and, unless san is empty, that subjectAltName
// ("DNS:localhost,IP:127.0.0.1"), valid two days, and returns the
// certificate and key files (PEM, the key unencrypted). keyArgs are req's
// key options ("-newkey", "rsa:2048"); none means an ECDSA P-256 key.
func SelfSigned(t testing.TB, subject, san string, keyArgs ...string) (cert, key string) {
	t.Helper()
	openssl := Need(t, "openssl")
	if len(keyArgs) == 0 {
		keyArgs = []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"}
	}
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	args := append([]string{"req", "-x509", "-nodes", "-days", "2", "-subj", subject, "-keyout", key, "-out", cert}, keyArgs...)
	if san != "" {
		args = append(args, "-addext", "subjectAltName="+san)
	}
	if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	return cert, key
}
