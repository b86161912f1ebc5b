// Command exporterbench drives bench/exporter.sh (not part of the product):
//
//	exporterbench lab [-rtt D] DIR
//	    starts the tlskit lab on 0.0.0.0 (so that every 127.x.y.z address
//	    reaches it), prints "PORT ROOT" of its healthy TLS 1.3 case and
//	    serves until killed. With -rtt, PORT is a proxy in front of the
//	    case (also on 0.0.0.0) that delivers every chunk of bytes, and the
//	    end of each stream, D/2 after it read it, in each direction: a
//	    server D away, as most of a fleet is (loopback has no qdisc for
//	    netem on the bench machine). The TCP connection itself is made
//	    at once, with the proxy.
//	exporterbench load -url URL -pid PID -metric NAME -port PORT [flags]
//	    sends probe requests as Prometheus 2.42 does (its Accept header,
//	    gzip asked for, a scrape timeout header, kept-alive connections),
//	    each for its own target 127.a.b.c:PORT, at a fixed rate (or as
//	    fast as -inflight allows),
//	    checks that each probe succeeded (NAME 1 in the answer), and prints
//	    one line: probes/s, success, the exporter's CPU (from /proc/PID/stat)
//	    per probe and per second, and its memory (VmHWM, VmRSS).
//	exporterbench paired -port PORT -exporter NAME,PID,METRIC,URL ... [flags]
//	    measures several exporters in the same stretch of time: the load
//	    (as load sends it) goes to one exporter at a time for -slice, in
//	    turn, the order rotating every round; prints load's line for each
//	    exporter (CPU from /proc/PID/task/*/schedstat) and each one's
//	    ratio to the last, round by round.
//	exporterbench floor -listen ADDR -root FILE -name NAME [-verify=false]
//	    the least a Go exporter can do for a probe, as a reference: /probe
//	    dials the target, makes a verified TLS handshake with crypto/tls
//	    (the root, the name, one X25519 key share as tlskit's probe
//	    offers), closes, and answers "probe_success 1" in one line. No
//	    recording, decoding, analysis or metrics. With -verify=false the
//	    chain and the name are not verified either (crypto/tls still
//	    checks the server's signature and Finished): the bare handshake,
//	    a bound no monitor can go under and still make one.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tlskit/tlskit/lab"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: exporterbench lab DIR | load [flags] | floor [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "lab":
		serveLab(os.Args[2:])
	case "load":
		load(os.Args[2:])
	case "floor":
		floor(os.Args[2:])
	case "paired":
		paired(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "exporterbench: unknown command", os.Args[1])
		os.Exit(2)
	}
}

func serveLab(args []string) {
	fs := flag.NewFlagSet("lab", flag.ExitOnError)
	rtt := fs.Duration("rtt", 0, "serve through a proxy that makes the server this far away (round trip)")
	fs.Parse(args)
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: exporterbench lab [-rtt D] DIR")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := lab.Start(ctx, lab.Options{Dir: fs.Arg(0), Host: "0.0.0.0"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c, _ := l.Case("good")
	port := c.Addr[strings.LastIndex(c.Addr, ":")+1:]
	if *rtt > 0 {
		ln, err := net.Listen("tcp", "0.0.0.0:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer ln.Close()
		go delayProxy(ln, "127.0.0.1:"+port, *rtt/2)
		port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	fmt.Println(port, l.Files().Root)
	<-ctx.Done()
	l.Close()
}

// delayProxy relays each connection of ln to the address to, delivering
// what either side sends oneWay after the proxy read it.
func delayProxy(ln net.Listener, to string, oneWay time.Duration) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			s, err := net.Dial("tcp", to)
			if err != nil {
				return
			}
			defer s.Close()
			done := make(chan struct{})
			go func() { delayCopy(s, c, oneWay); close(done) }()
			delayCopy(c, s, oneWay)
			<-done
		}()
	}
}

// delayCopy copies src to dst, each chunk (and the end of the stream,
// as a half close) written oneWay after it was read, in order.
func delayCopy(dst, src net.Conn, oneWay time.Duration) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	ch := make(chan chunk, 64)
	go func() {
		defer close(ch)
		for {
			b := make([]byte, 16<<10)
			n, err := src.Read(b)
			if n > 0 {
				ch <- chunk{b[:n], time.Now().Add(oneWay)}
			}
			if err != nil {
				ch <- chunk{nil, time.Now().Add(oneWay)}
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.at))
		if c.b == nil {
			break
		}
		if _, err := dst.Write(c.b); err != nil {
			src.Close() // nobody reads what src sends: end it
			break
		}
	}
	dst.(*net.TCPConn).CloseWrite()
	for range ch {
	}
}

// promAccept is the Accept header of Prometheus 2.42's scrapes (Debian's,
// which the exporter's tests run).
const promAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// prober sends probe requests to one exporter as Prometheus does, each for
// its own target 127.a.b.c:PORT in turn.
type prober struct {
	url, timeout string
	addrs        []string
	client       *http.Client
	want         []byte
}

// newProber returns a prober of the exporter at url (up to the target)
// whose answers succeed with "metric 1".
func newProber(url, metric string, port, targets, inflight int, gzip bool, timeout float64) *prober {
	p := &prober{url: url, timeout: strconv.FormatFloat(timeout, 'f', -1, 64), want: []byte(metric + " 1\n"),
		client: &http.Client{Transport: &http.Transport{MaxIdleConns: inflight * 2, MaxIdleConnsPerHost: inflight * 2, DisableCompression: !gzip}, Timeout: 30 * time.Second}}
	p.addrs = make([]string, targets)
	for i := range p.addrs {
		p.addrs[i] = fmt.Sprintf("127.%d.%d.%d:%d", 1+i/62500, 1+i/250%250, 1+i%250, port)
	}
	return p
}

// probe sends the i-th probe and reports whether it succeeded.
func (p *prober) probe(i int64) bool {
	req, _ := http.NewRequest("GET", p.url+p.addrs[i%int64(len(p.addrs))], nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", p.timeout)
	req.Header.Set("Accept", promAccept)
	resp, err := p.client.Do(req)
	if err != nil {
		return false
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode == 200 && bytes.Contains(body, p.want)
}

// pace calls start for d: n at a time, n/rate seconds apart, or one at a
// time as fast as start returns when rate is 0 (start blocks while the
// probes in flight are at their bound).
func pace(d time.Duration, rate float64, n int, start func()) {
	var every time.Duration
	if rate > 0 {
		every = time.Duration(float64(n) * float64(time.Second) / rate)
	} else {
		n = 1
	}
	end := time.Now().Add(d)
	at := time.Now()
	for time.Now().Before(end) {
		if every > 0 {
			at = at.Add(every)
			time.Sleep(time.Until(at))
		}
		for range n {
			start()
		}
	}
}

// cpuTicks returns utime+stime of pid in clock ticks (100 a second).
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndex(s, ")")+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k
}

// memKiB returns VmHWM and VmRSS of pid.
func memKiB(pid int) (hwm, rss int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1, -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		n, _ := strconv.ParseInt(strings.Fields(v + " 0")[0], 10, 64)
		switch k {
		case "VmHWM":
			hwm = n
		case "VmRSS":
			rss = n
		}
	}
	return hwm, rss
}

func load(args []string) {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	url := fs.String("url", "", "the exporter's probe URL up to the target, e.g. http://127.0.0.1:9219/probe?module=m&target=")
	pid := fs.Int("pid", 0, "the exporter's process id")
	metric := fs.String("metric", "", "the success metric: tlskit_probe_success or probe_success")
	port := fs.Int("port", 0, "the lab server's port")
	name := fs.String("name", "exporter", "a name for the output line")
	targets := fs.Int("targets", 10000, "distinct targets, 127.a.b.c:PORT")
	rate := fs.Float64("rate", 0, "probes per second (0: as fast as -inflight allows)")
	burst := fs.Int("burst", 1, "with -rate: send probes N at a time, N/rate seconds apart")
	inflight := fs.Int("inflight", 64, "most probes in flight")
	duration := fs.Duration("duration", 20*time.Second, "how long to send")
	warmup := fs.Duration("warmup", 2*time.Second, "how long to send before measuring")
	timeout := fs.Float64("scrape-timeout", 10, "X-Prometheus-Scrape-Timeout-Seconds")
	gzip := fs.Bool("gzip", true, "ask for a gzipped answer (Accept-Encoding: gzip), as Prometheus does")
	fs.Parse(args)
	if *url == "" || *pid == 0 || *metric == "" || *port == 0 {
		fmt.Fprintln(os.Stderr, "exporterbench load: -url, -pid, -metric and -port are required")
		os.Exit(2)
	}
	pr := newProber(*url, *metric, *port, *targets, *inflight, *gzip, *timeout)
	var ok, bad, total atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	measuring := atomic.Bool{}
	sem := make(chan struct{}, *inflight)
	var wg sync.WaitGroup
	var next atomic.Int64
	probe := func() {
		defer wg.Done()
		defer func() { <-sem }()
		t0 := time.Now()
		success := pr.probe(next.Add(1) - 1)
		if !measuring.Load() {
			return
		}
		total.Add(1)
		if success {
			ok.Add(1)
		} else {
			bad.Add(1)
		}
		mu.Lock()
		lat = append(lat, time.Since(t0))
		mu.Unlock()
	}
	run := func(d time.Duration) {
		pace(d, *rate, max(*burst, 1), func() {
			sem <- struct{}{}
			wg.Add(1)
			go probe()
		})
	}
	run(*warmup)
	wg.Wait()
	measuring.Store(true)
	cpu0 := cpuTicks(*pid)
	t0 := time.Now()
	run(*duration)
	wg.Wait()
	elapsed := time.Since(t0)
	cpu := float64(cpuTicks(*pid)-cpu0) / 100
	hwm, rss := memKiB(*pid)
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	n := float64(total.Load())
	fmt.Printf("%s: %d probes in %.1fs = %.1f/s, %d ok, %d failed; CPU %.2fs = %.1f%% of a core, %.2f ms/probe, %.0f probes per CPU-second; VmHWM %.1f MiB, VmRSS %.1f MiB; latency p50 %v p99 %v\n",
		*name, total.Load(), elapsed.Seconds(), n/elapsed.Seconds(), ok.Load(), bad.Load(), cpu, 100*cpu/elapsed.Seconds(),
		1000*cpu/max(n, 1), float64(ok.Load())/max(cpu, 0.01), float64(hwm)/1024, float64(rss)/1024,
		pct(0.5).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond))
}

// floor serves the reference exporter described in the package comment.
func floor(args []string) {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:9300", "serve /probe on ADDR")
	rootFile := fs.String("root", "", "the trust anchor (PEM)")
	name := fs.String("name", "", "the name to verify")
	verify := fs.Bool("verify", true, "verify the chain and the name (false: the bare handshake)")
	fs.Parse(args)
	pem, err := os.ReadFile(*rootFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "exporterbench floor:", err)
		os.Exit(2)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		fmt.Fprintln(os.Stderr, "exporterbench floor: no certificate in", *rootFile)
		os.Exit(2)
	}
	conf := &tls.Config{RootCAs: roots, ServerName: *name, CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384},
		InsecureSkipVerify: !*verify}
	dialer := &net.Dialer{KeepAlive: -1}
	http.HandleFunc("/probe", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		success := 0
		if c, err := dialer.DialContext(ctx, "tcp", r.URL.Query().Get("target")); err == nil {
			tc := tls.Client(c, conf)
			if tc.HandshakeContext(ctx) == nil {
				success = 1
			}
			tc.Close()
		}
		fmt.Fprintf(w, "probe_success %d\n", success)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "exporterbench floor:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, (&http.Server{ReadHeaderTimeout: 10 * time.Second}).Serve(ln))
}
