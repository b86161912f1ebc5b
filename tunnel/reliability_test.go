package tunnel_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/tunnel"
)

// fdCount returns the number of open file descriptors of the process.
func fdCount(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		peertest.Skip(t, "no /proc/self/fd: descriptor leaks cannot be counted")
	}
	return len(ents)
}

// settle waits until the goroutine and fd counts are back to base levels.
func settle(t *testing.T, goroutines, fds int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC() // the echo servers' io.Copy caches splice pipes, freed by finalizers
		g, f := runtime.NumGoroutine(), fdCount(t)
		if g <= goroutines+2 && f <= fds+2 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			out, _ := exec.Command("sh", "-c", fmt.Sprintf("ls -l /proc/%d/fd | tail -3; ss -tanp | grep pid=%d, | head -5; ss -tan | awk '{print $1}' | sort | uniq -c", os.Getpid(), os.Getpid())).CombinedOutput()
			t.Fatalf("leak: %d goroutines (was %d), %d fds (was %d)\n%s\n%.4000s", g, goroutines, f, fds, out, buf)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReliability2000: 2,000 concurrent connections through a client
// tunnel into a server tunnel (mTLS) to an echo target, each with its own
// data checked end to end; then no goroutine or descriptor is left.
func TestReliability2000(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const n = 2000
	var rl syscall.Rlimit
	must(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl))
	if rl.Cur < 6*n+200 {
		rl.Cur = min(rl.Max, 6*n+200)
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	if rl.Cur < 6*n+200 {
		peertest.Skip(t, "RLIMIT_NOFILE %d (hard limit %d) is too low for %d connections", rl.Cur, rl.Max, n)
	}
	f := newFixture(t)
	baseG, baseFD := runtime.NumGoroutine(), fdCount(t)
	func() {
		echo := listen(t)
		defer echo.Close()
		var echoWG sync.WaitGroup
		go func() {
			for {
				c, err := echo.Accept()
				if err != nil {
					return
				}
				echoWG.Add(1)
				go func() {
					defer echoWG.Done()
					defer c.Close()
					io.Copy(c, c)
					c.(*net.TCPConn).CloseWrite()
				}()
			}
		}()
		var logs logBuf
		srv := serverTunnel(t, f.serverPolicy(), echo.Addr().String())
		srv.Logger = logs.logger()
		// 2,000 handshakes at once on a loaded 2-core machine can take
		// longer than the default bounds; this test is about losing
		// nothing, not about the deadlines (tested on their own).
		srv.FirstByteTimeout, srv.HandshakeTimeout = time.Minute, time.Minute
		srvLn := listen(t)
		go srv.Serve(srvLn)
		pol := f.clientPolicy()
		pol.CertFile, pol.KeyFile = f.clientCert, f.clientKey
		cli := clientTunnel(t, pol, srvLn.Addr().String())
		cli.Logger = logs.logger()
		cli.HandshakeTimeout = time.Minute
		cliLn := listen(t)
		go cli.Serve(cliLn)

		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", cliLn.Addr().String())
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(60 * time.Second))
				<-start // all 2,000 open at once
				msg := bytes.Repeat([]byte(fmt.Sprintf("conn %04d|", i)), 100+i%50)
				go func() {
					c.Write(msg)
					c.(*net.TCPConn).CloseWrite()
				}()
				got, err := io.ReadAll(c)
				if err != nil {
					errs <- fmt.Errorf("conn %d: %w", i, err)
				} else if !bytes.Equal(got, msg) {
					errs <- fmt.Errorf("conn %d: got %d bytes, want %d", i, len(got), len(msg))
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		nerr := 0
		for err := range errs {
			if nerr < 5 {
				t.Error(err)
			}
			nerr++
		}
		if nerr > 0 {
			t.Fatalf("%d of %d connections failed", nerr, n)
		}
		if r := logs.records("refused"); len(r) > 0 {
			t.Fatalf("%d refusals, first %v", len(r), r[0])
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		must(t, cli.Shutdown(ctx))
		must(t, srv.Shutdown(ctx))
		echo.Close()
		echoWG.Wait()
	}()
	settle(t, baseG, baseFD)
}

// TestTargetDownAndUp: while the target is down, connections are refused
// with net.refused; once it is back, they go through.
func TestTargetDownAndUp(t *testing.T) {
	probe := listen(t)
	var target atomic.Value // the target's address; nothing listens there at first
	target.Store(probe.Addr().String())
	probe.Close()
	var logs logBuf
	p := &tunnel.Proxy{Name: "plain", Logger: logs.logger(), Dial: func(ctx context.Context, _ net.Conn) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", target.Load().(string))
	}}
	addr := serve(t, p)
	c, err := net.Dial("tcp", addr)
	must(t, err)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.ReadAll(c)
	c.Close()
	logs.waitFinding(t, finding.NetRefused)

	// The target comes back (on a port of its own: another process may
	// have taken the old one meanwhile).
	ln := listen(t)
	defer ln.Close()
	target.Store(ln.Addr().String())
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	if got := roundTrip(t, addr, "back\n"); got != "back\n" {
		t.Fatalf("after the target came back: %q", got)
	}
}

// TestSlowClientsTimeOut: clients that connect and never finish the TLS
// handshake are dropped after HandshakeTimeout (logged net.timeout) while
// a normal client is served meanwhile.
func TestSlowClientsTimeOut(t *testing.T) {
	f := newFixture(t)
	var logs logBuf
	p := serverTunnel(t, f.serverPolicy(), echoServer(t))
	p.HandshakeTimeout = 400 * time.Millisecond
	p.Logger = logs.logger()
	addr := serve(t, p)
	var slow []net.Conn
	for i := range 50 {
		c, err := net.Dial("tcp", addr)
		must(t, err)
		if i%2 == 0 {
			c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}) // a ClientHello that never ends
		}
		slow = append(slow, c)
	}
	// A good client is served while the slow ones hang.
	cert, err := tls.LoadX509KeyPair(f.clientCert, f.clientKey)
	must(t, err)
	cfg, err := f.clientPolicy().ClientConfig("")
	must(t, err)
	cfg.Certificates = []tls.Certificate{cert}
	tc, err := tls.Dial("tcp", addr, cfg)
	must(t, err)
	fmt.Fprint(tc, "fast\n")
	buf := make([]byte, 5)
	tc.SetDeadline(time.Now().Add(2 * time.Second))
	_, err = io.ReadFull(tc, buf)
	if err != nil || string(buf) != "fast\n" {
		t.Fatalf("good client: %q %v", buf, err)
	}
	tc.Close()
	start := time.Now()
	for _, c := range slow {
		c.SetDeadline(time.Now().Add(3 * time.Second))
		_, err := io.ReadAll(c) // returns when the tunnel hangs up
		if err != nil && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("slow client not dropped: %v", err)
		}
		c.Close()
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("slow clients dropped after %v", d)
	}
	logs.waitFinding(t, finding.NetTimeout)
}

// TestHalfCloseBothWays: client tunnel → server tunnel; the client
// half-closes, the target answers after EOF, then half-closes too.
func TestHalfCloseBothWays(t *testing.T) {
	f := newFixture(t)
	ln := listen(t)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c) // until the client's half-close arrives
		fmt.Fprintf(c, "read %d bytes after your EOF", len(b))
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
	}()
	srv := serve(t, serverTunnel(t, f.serverPolicy(), ln.Addr().String()))
	pol := f.clientPolicy()
	pol.CertFile, pol.KeyFile = f.clientCert, f.clientKey
	cli := serve(t, clientTunnel(t, pol, srv))
	if got := roundTrip(t, cli, "12345"); got != "read 5 bytes after your EOF" {
		t.Fatalf("got %q", got)
	}
}

// TestMaxConnsAndIdle: with MaxConns 1 a second client is refused at once
// (closed, logged and counted as limit.max-conns), not left waiting in the
// backlog; IdleTimeout ends a silent connection, after which a new client
// is served.
func TestMaxConnsAndIdle(t *testing.T) {
	echo := echoServer(t)
	var logs logBuf
	var m tunnel.Metrics
	p := &tunnel.Proxy{Name: "limited", MaxConns: 1, IdleTimeout: 300 * time.Millisecond, Logger: logs.logger(), Metrics: &m,
		Dial: func(ctx context.Context, _ net.Conn) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", echo)
		}}
	addr := serve(t, p)
	first, err := net.Dial("tcp", addr)
	must(t, err)
	defer first.Close()
	fmt.Fprint(first, "a")
	b := make([]byte, 1)
	_, err = io.ReadFull(first, b)
	must(t, err)
	second, err := net.Dial("tcp", addr)
	must(t, err)
	defer second.Close()
	start := time.Now()
	second.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := second.Read(b); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the second connection was not closed at once: read %d bytes, %v", n, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the refusal took %v", d)
	}
	r := logs.waitFinding(t, "limit.max-conns")
	if r["side"] != "client" || !strings.Contains(r["error"].(string), "closed at once") {
		t.Errorf("refusal logged as %v", r)
	}
	var out bytes.Buffer
	m.WriteTo(&out)
	if !strings.Contains(out.String(), `tlskit_tunnel_connections_refused_total{finding="limit.max-conns",service="limited"} 1`+"\n") {
		t.Errorf("metrics:\n%s", out.String())
	}
	// The first goes idle and is closed; a new client is then served.
	first.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadAll(first); err != nil {
		t.Fatalf("idle connection: %v", err)
	}
	if got := roundTripRetry(t, addr, "c"); got != "c" {
		t.Fatalf("third: %q", got)
	}
}

// roundTripRetry is roundTrip, retried while the proxy may still count a
// connection that just ended.
func roundTripRetry(t *testing.T, addr, msg string) string {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		must(t, err)
		c.SetDeadline(time.Now().Add(2 * time.Second))
		io.WriteString(c, msg)
		c.(*net.TCPConn).CloseWrite()
		b, _ := io.ReadAll(c)
		c.Close()
		if len(b) > 0 || time.Now().After(deadline) {
			return string(b)
		}
	}
}

// TestShutdownDrains: Shutdown stops accepting and waits for open
// connections; past the grace period it closes them.
func TestShutdownDrains(t *testing.T) {
	echo := echoServer(t)
	p := &tunnel.Proxy{Dial: func(ctx context.Context, _ net.Conn) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", echo)
	}}
	ln := listen(t)
	served := make(chan error, 1)
	go func() { served <- p.Serve(ln) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	must(t, err)
	defer c.Close()
	fmt.Fprint(c, "x")
	b := make([]byte, 1)
	_, err = io.ReadFull(c, b)
	must(t, err)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		done <- p.Shutdown(ctx)
	}()
	if err := <-served; err != tunnel.ErrProxyClosed {
		t.Fatalf("Serve returned %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
	fmt.Fprint(c, "y") // the open connection still works while draining
	_, err = io.ReadFull(c, b)
	if err != nil || b[0] != 'y' {
		t.Fatalf("draining connection: %q %v", b, err)
	}
	c.(*net.TCPConn).CloseWrite()
	io.ReadAll(c)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	// A connection that never ends is closed when the grace period ends.
	p2 := &tunnel.Proxy{Dial: p.Dial}
	addr := serve(t, p2)
	c2, err := net.Dial("tcp", addr)
	must(t, err)
	defer c2.Close()
	fmt.Fprint(c2, "x")
	io.ReadFull(c2, b)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := p2.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Shutdown past the grace period: %v", err)
	}
}
