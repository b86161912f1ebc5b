package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/fleet"
	"github.com/tlskit/tlskit/render"
)

// manyHelp is the paragraph of check's --help about many targets.
const manyHelp = `Many targets: give several HOST[:PORT] arguments, or --targets FILE (- for
standard input) with one target a line: HOST[:PORT] [SERVERNAME|-] [STARTTLS]
(# starts a comment; the STARTTLS column, a protocol as --starttls takes or
none, overrides --starttls and the choice by port). They are checked
concurrently (--concurrency, at most --per-host at once against one host, at
most --rate started per second) and reported in input order: text reports
(--brief recommended), --json as JSON lines (one report a line, then
{"summary": …}), or --csv for spreadsheets (the summary then goes to standard
error); a summary counts targets by verdict and findings by id and lists the
certificates that expire first. --html FILE also writes one self-contained,
sortable page of the run. A progress bar is shown on standard error when it
is a terminal and the reports go to a file or a pipe. --each-address checks
every address of each name (one report each, the address in its first line):
the servers behind one name need not agree. With many targets the exit
status is 0 only when every target is trusted.`

// registerEachAddress defines --each-address, which check and scan share:
// one report for each address of a target's name.
func registerEachAddress(fl *pflag.FlagSet, v *bool, verb string) {
	fl.BoolVar(v, "each-address", false, verb+" every address of each target's name, one report each (a pool behind round-robin DNS, its IPv4 and IPv6 servers); -4 or -6 keeps to one version")
}

// eachAddress returns targets with each name replaced by its addresses
// (fleet.EachAddress) when on is set; as they are otherwise.
func eachAddress(ctx context.Context, targets []fleet.Target, network string, on bool) []fleet.Target {
	if !on {
		return targets
	}
	return fleet.EachAddress(ctx, targets, nil, network)
}

// manyFlags are check's flags for many targets.
type manyFlags struct {
	targetsFile string
	concurrency int
	perHost     int
	rate        float64
	csvOut      bool
	htmlFile    string
	eachAddress bool
}

func (m *manyFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&m.targetsFile, "targets", "", "check the targets listed in `FILE`, one HOST[:PORT] [SERVERNAME|-] [STARTTLS] a line (- reads standard input)")
	fl.IntVar(&m.concurrency, "concurrency", 16, "check at most `N` targets at once")
	fl.IntVar(&m.perHost, "per-host", 4, "check at most `N` targets of the same host at once (0: no limit)")
	fl.Float64Var(&m.rate, "rate", 0, "start at most `N` checks per second (0: no limit)")
	fl.BoolVar(&m.csvOut, "csv", false, "print one CSV row per target (the summary goes to standard error)")
	fl.StringVar(&m.htmlFile, "html", "", "also write one self-contained HTML page of the run to `FILE`")
	registerEachAddress(fl, &m.eachAddress, "check")
}

// check validates the many-target flags; many says whether there are
// several targets.
func (m *manyFlags) check(jsonOut bool) error {
	if m.concurrency < 1 {
		return base.Usagef("example: --concurrency 32", "--concurrency must be at least 1")
	}
	if m.perHost < 0 {
		return base.Usagef("0 means no limit", "--per-host must not be negative")
	}
	if m.rate < 0 {
		return base.Usagef("0 means no limit", "--rate must not be negative")
	}
	if m.csvOut && jsonOut {
		return base.Usagef("pick one", "--csv and --json are two output formats")
	}
	return nil
}

// createHTML creates --html's file, before anything is checked, so that a
// path that cannot be written is a usage error at once; nil without --html.
func (m *manyFlags) createHTML() (*os.File, error) {
	if m.htmlFile == "" {
		return nil, nil
	}
	f, err := os.Create(m.htmlFile)
	if err != nil {
		return nil, base.Usagef("give a path to a file that can be written", "--html: %v", err)
	}
	return f, nil
}

// writeHTML writes the page of reps to f (createHTML's), if not nil, and
// closes it.
func (m *manyFlags) writeHTML(f *os.File, reps []*diagnose.Report, at func() time.Time) error {
	if f == nil {
		return nil
	}
	now := time.Now()
	if at != nil {
		now = at()
	}
	page := render.NewHTMLRun(f, htmlPage(len(reps), now), now)
	sum := diagnose.NewSummarizer()
	for _, r := range reps {
		sum.Add(r)
		if err := page.Add(r); err != nil {
			f.Close()
			return err
		}
	}
	if err := page.Close(sum.Summary()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func htmlPage(n int, now time.Time) render.HTMLPage {
	return render.HTMLPage{Title: "tlskit check", Subtitle: fmt.Sprintf("%d targets, checked %s", n, now.UTC().Format("2006-01-02 15:04:05Z"))}
}

// readTargets gathers the targets of the arguments and of --targets; port
// is that of a target without one (see startTLSFlags.port).
func (m *manyFlags) readTargets(args []string, stdin io.Reader, port int) ([]fleet.Target, error) {
	var targets []fleet.Target
	for i, a := range args {
		t, err := fleet.ParseTargetPort(a, "argument "+strconv.Itoa(i+1), port)
		if err != nil {
			return nil, base.Usage(err, targetHint("check", err))
		}
		targets = append(targets, t)
	}
	if m.targetsFile != "" {
		var r io.Reader = stdin
		name := "standard input"
		if m.targetsFile != "-" {
			f, err := os.Open(m.targetsFile)
			if err != nil {
				return nil, base.Usage(err, "--targets names a file of targets, one a line, or - for standard input")
			}
			defer f.Close()
			r, name = f, m.targetsFile
		}
		list, err := fleet.ReadTargetsPort(r, name, port)
		if err != nil {
			return nil, base.Usage(err, "")
		}
		targets = append(targets, list...)
	}
	if len(targets) == 0 {
		return nil, base.Usagef("add HOST[:PORT] lines to the file", "no targets to check")
	}
	if err := fleet.Validate(targets); err != nil {
		return nil, base.Usage(err, "the STARTTLS column takes a protocol (smtp, imap, postgres… as --starttls) or none")
	}
	return targets, nil
}

// runMany is check over many targets.
func runMany(ctx context.Context, stdio base.Stdio, f *checkFlags, args []string) error {
	if err := f.many.check(f.jsonOut); err != nil {
		return err
	}
	targets, err := f.many.readTargets(args, stdio.In, f.starttls.port())
	if err != nil {
		return err
	}
	opts, closeFn, err := f.options(targets[0].Address, stdio.Err)
	if err != nil {
		return err
	}
	targets = eachAddress(ctx, targets, opts.Network, f.many.eachAddress)
	// --starttls PROTO or none applies to every target without a STARTTLS
	// column; by default each target's port chooses, as for one target
	// (the first target's port must not choose for all).
	auto := false
	switch strings.ToLower(f.starttls.proto) {
	case "", "auto":
		auto = true
		opts.StartTLS, opts.StartTLSChosenBy = "", ""
	}
	now := time.Now()
	if opts.Time != nil {
		now = opts.Time()
	}
	var page *render.HTMLRun
	var htmlOut *os.File
	if htmlOut, err = f.many.createHTML(); err != nil {
		closeFn()
		return err
	} else if htmlOut != nil {
		defer htmlOut.Close()
		page = render.NewHTMLRun(htmlOut, htmlPage(len(targets), now), now)
	}
	var csvOut *render.CSV
	if f.many.csvOut {
		csvOut = render.NewCSV(stdio.Out, opts.Time)
	}
	bar := newProgress(stdio, len(targets))
	sum := diagnose.NewSummarizer()
	failed := false
	ropts := render.Options{Brief: f.brief, Time: opts.Time}
	emit := func(i int, t fleet.Target, rep *diagnose.Report) error {
		sum.Add(rep)
		if exitFor(rep) != nil {
			failed = true
		}
		if page != nil {
			if err := page.Add(rep); err != nil {
				return err
			}
		}
		switch {
		case f.jsonOut:
			return render.JSONLine(stdio.Out, rep)
		case csvOut != nil:
			return csvOut.Write(rep)
		}
		if i > 0 {
			if _, err := io.WriteString(stdio.Out, "\n"+strings.Repeat("─", 72)+"\n"); err != nil {
				return err
			}
		}
		return render.Report(stdio.Out, rep, ropts)
	}
	runErr := fleet.Run(ctx, targets, fleet.Options{
		Probe:       opts,
		Concurrency: f.many.concurrency,
		PerHost:     f.many.perHost,
		Rate:        f.many.rate,
		Done:        bar.increment,

		AutoStartTLS: auto,
	}, emit)
	bar.wait()
	kerr := closeFn()
	var interrupted *fleet.InterruptedError
	if runErr != nil && !errors.As(runErr, &interrupted) {
		return runErr
	}
	// Interrupted: the summary (and the page) sum up the targets checked;
	// the error then says how many of how many.
	s := sum.Summary()
	switch {
	case f.jsonOut:
		err = render.JSONLine(stdio.Out, render.FleetSummaryJSON{Summary: s})
	case csvOut != nil:
		err = render.FleetSummary(stdio.Err, s, now)
	default:
		err = render.FleetSummary(stdio.Out, s, now)
	}
	if err != nil {
		return err
	}
	if page != nil {
		if err := page.Close(s); err != nil {
			return err
		}
		if err := htmlOut.Close(); err != nil {
			return err
		}
	}
	if kerr != nil {
		return kerr
	}
	if interrupted != nil {
		return interrupted
	}
	if failed {
		return base.ExitCode(base.ExitProblem)
	}
	return nil
}

// progress is a progress bar on a terminal, or nothing.
type progress struct {
	p   *mpb.Progress
	bar *mpb.Bar
}

// newProgress shows a bar of total steps on standard error when it is a
// terminal and standard output is not: on a terminal, the reports printed
// as the checks end are the progress, and a bar redrawn below them would
// erase their last line when it goes.
func newProgress(stdio base.Stdio, total int) *progress {
	if !isTerminal(stdio.Err) || isTerminal(stdio.Out) {
		return &progress{}
	}
	w := stdio.Err
	p := mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithAutoRefresh())
	bar := p.AddBar(int64(total),
		mpb.PrependDecorators(decor.Name("checking "), decor.CountersNoUnit("%d/%d")),
		mpb.AppendDecorators(decor.Percentage(), decor.Name(" "), decor.EwmaETA(decor.ET_STYLE_GO, 30)),
		mpb.BarRemoveOnComplete())
	return &progress{p: p, bar: bar}
}

func (p *progress) increment() {
	if p.bar != nil {
		p.bar.EwmaIncrement(time.Second)
	}
}

func (p *progress) wait() {
	if p.p == nil {
		return
	}
	if !p.bar.Completed() {
		p.bar.Abort(true)
	}
	p.p.Wait()
}
