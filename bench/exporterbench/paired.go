package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// member is one exporter of a paired run.
type member struct {
	name, metric string
	url          string // the probe URL up to the target
	pid          int
	p            *prober
	next         atomic.Int64
	probes, ok   int64
	cpu, wall    time.Duration
	rates        []float64 // probes per CPU-second, slice by slice
}

// exporters is the repeated -exporter flag: NAME,PID,METRIC,URL.
type exporters []*member

func (e *exporters) String() string { return fmt.Sprint(len(*e), " exporters") }

func (e *exporters) Set(v string) error {
	f := strings.SplitN(v, ",", 4)
	if len(f) != 4 {
		return fmt.Errorf("want NAME,PID,METRIC,URL, got %q", v)
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil {
		return fmt.Errorf("pid %q: %v", f[1], err)
	}
	*e = append(*e, &member{name: f[0], pid: pid, metric: f[2], url: f[3]})
	return nil
}

// paired measures several exporters in the same stretch of time: it sends
// the load to one exporter at a time for a short slice, in turn (the order
// rotating every round), so that each sees the machine as the others do.
// The machine's speed drifts by a factor of two over minutes (other
// tenants); measured one after the other, minutes apart, two exporters'
// ratio moved with it. Each exporter's CPU is the sum of its threads'
// time on the CPU (/proc/PID/task/*/schedstat, in nanoseconds) over its
// slices; an exporter waiting for its turn is idle.
func paired(args []string) {
	fs := flag.NewFlagSet("paired", flag.ExitOnError)
	var ex exporters
	fs.Var(&ex, "exporter", "NAME,PID,METRIC,URL of an exporter (repeat); URL is its probe URL up to the target")
	port := fs.Int("port", 0, "the lab server's port")
	mode := fs.String("mode", "load", "a label for the output lines: load or saturation")
	targets := fs.Int("targets", 10000, "distinct targets, 127.a.b.c:PORT")
	rate := fs.Float64("rate", 0, "probes per second (0: as fast as -inflight allows)")
	inflight := fs.Int("inflight", 64, "most probes in flight")
	slice := fs.Duration("slice", 2*time.Second, "how long each exporter gets the load at a time")
	duration := fs.Duration("duration", 30*time.Second, "how long each exporter is measured, in all")
	warmup := fs.Duration("warmup", 2*time.Second, "how long each exporter gets the load first, unmeasured")
	timeout := fs.Float64("scrape-timeout", 10, "X-Prometheus-Scrape-Timeout-Seconds")
	fs.Parse(args)
	if len(ex) < 2 || *port == 0 {
		fmt.Fprintln(os.Stderr, "exporterbench paired: two -exporter flags or more, and -port, are required")
		os.Exit(2)
	}
	for _, m := range ex {
		m.p = newProber(m.url, m.metric, *port, *targets, *inflight, true, *timeout)
	}
	// run sends the load to m for d and waits for the probes in flight.
	run := func(m *member, d time.Duration) (probes, ok int64) {
		var okN, n atomic.Int64
		var wg sync.WaitGroup
		sem := make(chan struct{}, *inflight)
		pace(d, *rate, 1, func() {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				n.Add(1)
				if m.p.probe(m.next.Add(1) - 1) {
					okN.Add(1)
				}
			}()
		})
		wg.Wait()
		return n.Load(), okN.Load()
	}
	for _, m := range ex {
		run(m, *warmup)
	}
	rounds := int((*duration + *slice - 1) / *slice)
	for r := range rounds {
		for k := range ex {
			m := ex[(r+k)%len(ex)]
			c0, t0 := cpuTime(m.pid), time.Now()
			n, ok := run(m, *slice)
			wall, cpu := time.Since(t0), cpuTime(m.pid)-c0
			m.probes += n
			m.ok += ok
			m.wall += wall
			m.cpu += cpu
			m.rates = append(m.rates, float64(ok)/max(cpu.Seconds(), 1e-9))
		}
	}
	for _, m := range ex {
		hwm, rss := memKiB(m.pid)
		n := float64(m.probes)
		fmt.Printf("%s %s: %d probes in %.1fs = %.1f/s, %d ok, %d failed; CPU %.2fs = %.1f%% of a core, %.2f ms/probe, %.0f probes per CPU-second; VmHWM %.1f MiB, VmRSS %.1f MiB; %d slices of %v\n",
			m.name, *mode, m.probes, m.wall.Seconds(), n/m.wall.Seconds(), m.ok, m.probes-m.ok, m.cpu.Seconds(), 100*m.cpu.Seconds()/m.wall.Seconds(),
			1000*m.cpu.Seconds()/max(n, 1), float64(m.ok)/max(m.cpu.Seconds(), 0.01), float64(hwm)/1024, float64(rss)/1024, rounds, *slice)
	}
	// Each exporter against the last, round by round: slices of the same
	// round saw nearly the same machine.
	ref := ex[len(ex)-1]
	for _, m := range ex[:len(ex)-1] {
		ratios := make([]float64, rounds)
		for r := range rounds {
			ratios[r] = m.rates[r] / ref.rates[r]
		}
		slices.Sort(ratios)
		fmt.Printf("%s %s ÷ %s, round by round: median %.2fx, quartiles %.2f–%.2fx, range %.2f–%.2fx\n", m.name, *mode, ref.name,
			ratios[rounds/2], ratios[rounds/4], ratios[rounds*3/4], ratios[0], ratios[rounds-1])
	}
}

// cpuTime returns the time pid's threads have spent on a CPU, from
// /proc/PID/task/*/schedstat (nanoseconds), or 0 if pid is gone.
func cpuTime(pid int) time.Duration {
	paths, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var ns int64
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			v, _ := strconv.ParseInt(f[0], 10, 64)
			ns += v
		}
	}
	return time.Duration(ns)
}
