// Command tunnelbench is the load program of bench/tunnel.sh: a plain TCP
// target (sink, source and request/response) and a TLS load client that
// measures a tunnel in front of it (tlskit tunnel server, stunnel).
//
// # Modes
//
//	tunnelbench target -listen 127.0.0.1:0
//	tunnelbench bulk   -addr A -ca cert.pem -servername N -streams 16 -duration 5s -dir up|down
//	tunnelbench conns  -addr A -ca cert.pem -servername N -workers 8 -duration 5s
//	tunnelbench idle   -addr A -ca cert.pem -servername N -conns 1000 -pid PID
//
// The target prints "listening ADDR" and serves one command byte per
// connection: 'U' reads until end of stream and answers the byte count and
// CRC-32 of what it read; 'D' writes the repeating pattern until the client
// goes away; 'E' reads a 64-byte request, writes a 64-byte response, then
// waits for the client to close. Every load mode checks what came back
// (counts and checksums, the pattern byte for byte, the response), and
// prints one result line "metric value unit".
//
// The client always makes full handshakes (no session cache) and offers
// only X25519, so that tunnels built on different TLS stacks negotiate the
// same key exchange. -plain measures the target without TLS, for
// reference. TLSKIT_BENCH_CPUPROFILE=FILE writes a CPU profile of the
// load client (to tell its cost from the tunnel's).
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// reqSize is the size of the request and of the response of 'E'.
const reqSize = 64

// patternSize is the length of the repeating bulk data pattern.
const patternSize = 1 << 20

// pattern returns the deterministic bulk data both ends agree on.
func pattern() []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, patternSize)
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tunnelbench target|bulk|conns|idle [flags] (see -h of each)")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "tunnelbench:", err)
		os.Exit(1)
	}
}

// client holds the load client's flags.
type client struct {
	addr, ca, serverName string
	plain                bool
	cfg                  *tls.Config
}

// dial connects to the tunnel and completes the handshake.
func (c *client) dial() (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", c.addr, 10*time.Second)
	if err != nil || c.plain {
		return conn, err
	}
	tc := tls.Client(conn, c.cfg)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("handshake with %s: %w", c.addr, err)
	}
	tc.SetDeadline(time.Time{})
	return tc, nil
}

func run(mode string, args []string) error {
	fs := flag.NewFlagSet(mode, flag.ContinueOnError)
	var c client
	listen := fs.String("listen", "127.0.0.1:0", "target: address to listen on")
	fs.StringVar(&c.addr, "addr", "", "the tunnel's TLS address")
	fs.StringVar(&c.ca, "ca", "", "PEM file of the tunnel's certificate (the only root)")
	fs.StringVar(&c.serverName, "servername", "bench.tlskit.test", "SNI and the name to verify")
	fs.BoolVar(&c.plain, "plain", false, "no TLS: measure the target directly")
	streams := fs.Int("streams", 1, "bulk: parallel streams")
	dir := fs.String("dir", "up", "bulk: up (client to target) or down (target to client)")
	duration := fs.Duration("duration", 5*time.Second, "bulk, conns: how long to measure")
	workers := fs.Int("workers", 8, "conns: concurrent workers")
	conns := fs.Int("conns", 1000, "idle: connections to hold open")
	pid := fs.Int("pid", 0, "idle: the tunnel's process id, whose VmRSS is measured")
	settle := fs.Duration("settle", 2*time.Second, "idle: wait this long before each RSS reading")
	hold := fs.Duration("hold", 0, "idle: keep the connections open this long after measuring (for profiling)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if mode == "target" {
		return serveTarget(*listen)
	}
	if c.addr == "" {
		return errors.New("-addr is required: the tunnel's address")
	}
	if !c.plain {
		pem, err := os.ReadFile(c.ca)
		if err != nil {
			return fmt.Errorf("-ca: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("-ca %s: no PEM certificate", c.ca)
		}
		c.cfg = &tls.Config{
			RootCAs: roots, ServerName: c.serverName,
			MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519},
		}
	}
	if f := os.Getenv("TLSKIT_BENCH_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(out)
		defer pprof.StopCPUProfile()
	}
	switch mode {
	case "bulk":
		if *dir != "up" && *dir != "down" {
			return fmt.Errorf("-dir %q: want up or down", *dir)
		}
		return c.bulk(*streams, *dir == "up", *duration)
	case "conns":
		return c.connsPerSecond(*workers, *duration)
	case "idle":
		if *pid <= 0 {
			return errors.New("idle needs -pid: the tunnel process to measure")
		}
		return c.idle(*conns, *pid, *settle, *hold)
	}
	return fmt.Errorf("unknown mode %q: want target, bulk, conns or idle", mode)
}

// serveTarget runs the plain target until killed.
func serveTarget(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("listening", ln.Addr())
	pat := pattern()
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go serveConn(c, pat)
	}
}

// serveConn serves one target connection.
func serveConn(c net.Conn, pat []byte) {
	defer c.Close()
	var cmd [1]byte
	if _, err := io.ReadFull(c, cmd[:]); err != nil {
		return
	}
	switch cmd[0] {
	case 'U':
		h := crc32.NewIEEE()
		n, err := io.CopyBuffer(h, c, make([]byte, 64<<10))
		if err != nil {
			return
		}
		var out [12]byte
		binary.BigEndian.PutUint64(out[:], uint64(n))
		binary.BigEndian.PutUint32(out[8:], h.Sum32())
		c.Write(out[:])
	case 'D':
		go io.Copy(io.Discard, c) // notice nothing; the write fails once the client is gone
		for {
			if _, err := c.Write(pat); err != nil {
				return
			}
		}
	case 'E':
		req := make([]byte, reqSize)
		if _, err := io.ReadFull(c, req[1:]); err != nil {
			return
		}
		req[0] = 'E'
		for i := range req {
			req[i] ^= 0xff
		}
		if _, err := c.Write(req); err != nil {
			return
		}
		io.Copy(io.Discard, c)
	}
}

// closeWriter is a connection that can half-close.
type closeWriter interface{ CloseWrite() error }

// bulk runs streams parallel bulk transfers for d and prints MB/s.
func (c *client) bulk(streams int, up bool, d time.Duration) error {
	pat := pattern()
	var total atomic.Int64
	errs := make(chan error, streams)
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	var t0 time.Time
	for range streams {
		ready.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := c.dial()
			ready.Done()
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			<-start
			var n int64
			if up {
				n, err = upload(conn, pat, t0.Add(d))
			} else {
				n, err = download(conn, pat, t0.Add(d))
			}
			total.Add(n)
			if err != nil {
				errs <- err
			}
		}()
	}
	ready.Wait()
	t0 = time.Now()
	close(start)
	wg.Wait()
	el := time.Since(t0)
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("bulk: %w", err)
	}
	fmt.Printf("bulk_%s_%d %.1f MB/s (%d bytes in %v, verified)\n", map[bool]string{true: "up", false: "down"}[up], streams, float64(total.Load())/el.Seconds()/1e6, total.Load(), el.Round(time.Millisecond))
	return nil
}

// upload sends the pattern until the deadline, half-closes, and checks
// the target's count and CRC-32.
func upload(conn net.Conn, pat []byte, until time.Time) (int64, error) {
	if _, err := conn.Write([]byte{'U'}); err != nil {
		return 0, err
	}
	h := crc32.NewIEEE()
	var n int64
	const chunk = 32 << 10
	for off := 0; time.Now().Before(until); off = (off + chunk) % patternSize {
		b := pat[off : off+chunk]
		if _, err := conn.Write(b); err != nil {
			return n, err
		}
		h.Write(b)
		n += chunk
	}
	cw, ok := conn.(closeWriter)
	if !ok {
		return n, errors.New("the connection cannot half-close")
	}
	if err := cw.CloseWrite(); err != nil {
		return n, err
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var out [12]byte
	if _, err := io.ReadFull(conn, out[:]); err != nil {
		return n, fmt.Errorf("reading the target's count after half-close: %w", err)
	}
	if got, sum := int64(binary.BigEndian.Uint64(out[:])), binary.BigEndian.Uint32(out[8:]); got != n || sum != h.Sum32() {
		return n, fmt.Errorf("the target got %d bytes, CRC-32 %08x; sent %d, %08x", got, sum, n, h.Sum32())
	}
	return n, nil
}

// download reads the pattern until the deadline, comparing every byte.
func download(conn net.Conn, pat []byte, until time.Time) (int64, error) {
	if _, err := conn.Write([]byte{'D'}); err != nil {
		return 0, err
	}
	buf := make([]byte, 64<<10)
	var n int64
	for time.Now().Before(until) {
		k, err := conn.Read(buf)
		for b := buf[:k]; len(b) > 0; {
			off := int(n % patternSize)
			m := min(len(b), patternSize-off)
			if !bytes.Equal(b[:m], pat[off:off+m]) {
				return n, fmt.Errorf("download: wrong data at byte %d", n)
			}
			b, n = b[m:], n+int64(m)
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// request makes one request/response exchange on conn.
func request(conn net.Conn) error {
	req := make([]byte, reqSize)
	req[0] = 'E'
	for i := 1; i < reqSize; i++ {
		req[i] = byte(i)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	defer conn.SetDeadline(time.Time{})
	if _, err := conn.Write(req); err != nil {
		return err
	}
	resp := make([]byte, reqSize)
	if _, err := io.ReadFull(conn, resp); err != nil {
		return fmt.Errorf("reading the response: %w", err)
	}
	for i := range resp {
		if resp[i] != req[i]^0xff {
			return fmt.Errorf("wrong response byte %d", i)
		}
	}
	return nil
}

// connsPerSecond runs workers doing connect, handshake, request, response,
// close for d and prints connections per second.
func (c *client) connsPerSecond(workers int, d time.Duration) error {
	var done, failed atomic.Int64
	var firstErr atomic.Value
	until := time.Now().Add(d)
	t0 := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(until) {
				conn, err := c.dial()
				if err == nil {
					err = request(conn)
					conn.Close()
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("conns: %d of %d connections failed, first: %v", f, f+done.Load(), firstErr.Load())
	}
	fmt.Printf("conns %.0f conn/s (%d in %v, %d workers)\n", float64(done.Load())/el.Seconds(), done.Load(), el.Round(time.Millisecond), workers)
	return nil
}

// idle opens n connections that each complete an exchange with the
// target, and prints the growth of the tunnel's VmRSS per connection.
func (c *client) idle(n, pid int, settle, hold time.Duration) error {
	// Warm up: the tunnel has run handshakes and dials before the baseline.
	for range 20 {
		conn, err := c.dial()
		if err != nil {
			return err
		}
		err = request(conn)
		conn.Close()
		if err != nil {
			return err
		}
	}
	time.Sleep(settle)
	before, err := vmRSS(pid)
	if err != nil {
		return err
	}
	held := make([]net.Conn, 0, n)
	defer func() {
		for _, conn := range held {
			conn.Close()
		}
	}()
	sem := make(chan struct{}, 16)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			conn, err := c.dial()
			if err == nil {
				if err = request(conn); err != nil {
					conn.Close()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				return
			}
			held = append(held, conn)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("idle: %d of %d connections failed, first: %w", n-len(held), n, firstErr)
	}
	time.Sleep(settle)
	after, err := vmRSS(pid)
	if err != nil {
		return err
	}
	// Check they are all still alive through the tunnel.
	for _, conn := range held[:min(len(held), 50)] {
		conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		var b [1]byte
		if _, err := conn.Read(b[:]); err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("idle: a held connection ended: %v", err)
		}
	}
	fmt.Printf("idle %.1f KiB/conn (VmRSS %d KiB before, %d KiB after %d connections)\n", float64(after-before)/float64(n), before, after, n)
	time.Sleep(hold)
	return nil
}

// cmpErr keeps the first error.
func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// vmRSS reads the resident set size of pid in KiB.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("reading the tunnel's memory: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS line", pid)
}
