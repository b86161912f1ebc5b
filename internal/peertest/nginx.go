package peertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Nginx runs nginx in a directory of its own with the configuration block
// body returns (given that directory and a free port; it follows the main
// context's lines, with "load_module" lines first if it starts so), and
// returns its address once it accepts connections. A port taken in between
// is tried again with another. nginx is stopped when the test ends.
func Nginx(t testing.TB, body func(dir string, port int) string) string {
	t.Helper()
	bin := Need(t, "nginx")
	dir := t.TempDir()
	user := ""
	if os.Geteuid() == 0 {
		user = "user root root;"
	}
	for attempt := 0; ; attempt++ {
		port := FreePort(t)
		b := body(dir, port)
		var modules string
		for strings.HasPrefix(b, "load_module ") {
			line, rest, _ := strings.Cut(b, "\n")
			modules, b = modules+line+"\n", rest
		}
		conf := fmt.Sprintf(`%s%s
worker_processes 1;
error_log %[3]s/error.log;
pid %[3]s/nginx.pid;
events { worker_connections 256; }
%[4]s`, modules, user, dir, b)
		path := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
		// Its own process group, so that the workers go with the master.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); <-done })
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			select {
			case <-done:
				log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
				if attempt < 2 && strings.Contains(string(log)+out.String(), "Address already in use") {
					goto again
				}
				t.Fatalf("nginx exited: %s%s", out, log)
			default:
			}
			if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
				c.Close()
				return addr
			}
		}
		t.Fatal("nginx did not start")
	again:
	}
}

// FileServer is nginx serving a directory over plain HTTP on loopback, as
// a CA publishes its certificates and CRLs at the URLs its certificates
// name (authority information access, CRL distribution points), with
// nginx's MIME types for .crt and .crl and an access log that counts the
// requests.
type FileServer struct {
	// Dir holds the files served, read at each request: write them at
	// any time.
	Dir string
	// URL is http://127.0.0.1:PORT.
	URL string
	log string
}

// Files starts a FileServer of an empty directory.
func Files(t testing.TB) *FileServer {
	t.Helper()
	s := &FileServer{Dir: t.TempDir()}
	addr := Nginx(t, func(dir string, port int) string {
		s.log = filepath.Join(dir, "access.log")
		return fmt.Sprintf(`http {
  types { application/pkix-cert crt; application/pkix-crl crl; }
  default_type application/octet-stream;
  log_format uri '$uri';
  access_log %[1]s uri;
  client_body_temp_path %[2]s; proxy_temp_path %[2]s; fastcgi_temp_path %[2]s; uwsgi_temp_path %[2]s; scgi_temp_path %[2]s;
  server {
    listen 127.0.0.1:%[3]d;
    root %[4]s;
  }
}
`, s.log, dir, port, s.Dir)
	})
	s.URL = "http://" + addr
	return s
}

// Write writes a file to serve at /name.
func (s *FileServer) Write(t testing.TB, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.Dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Requests returns how many requests nginx logged for each path. nginx
// logs a request once its answer is sent, so the log is read until it
// stays the same for 20 ms.
func (s *FileServer) Requests(t testing.TB) map[string]int {
	t.Helper()
	var last []byte
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(s.log)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if (last != nil && string(b) == string(last)) || time.Now().After(deadline) {
			break
		}
		last = b
		if last == nil {
			last = []byte{}
		}
	}
	n := map[string]int{}
	for _, line := range strings.Fields(string(last)) {
		n[line]++
	}
	return n
}
