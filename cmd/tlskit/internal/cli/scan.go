package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/fleet"
	"github.com/tlskit/tlskit/internal/termsafe"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/render"
	"github.com/tlskit/tlskit/scan"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/truststore"
)

// scanFlags are the options of `tlskit scan`.
type scanFlags struct {
	trust        base.TrustFlags
	starttls     startTLSFlags
	profile      string
	jsonOut      bool
	htmlFile     string
	brief        bool
	probes       bool
	maxConns     int
	delay        time.Duration
	noClients    bool
	noHTTP       bool
	localClients bool
	eachAddress  bool
}

// maxParallelHosts bounds how many targets are scanned at once.
const maxParallelHosts = 4

func newScanCmd(stdio base.Stdio) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan [flags] HOST[:PORT]...",
		Short: "Find out what a server supports, whether it meets a profile, and which clients can connect",
		Long: `scan probes HOST:PORT (port 443 by default) with tlskit's own ClientHellos and
reports what the server accepts: protocol versions (SSL 2.0 to TLS 1.3), the
cipher suites of each version in the server's order (or "client order"), key
exchange groups (post-quantum hybrids and FFDHE included) and the preferred
one, signature schemes, ALPN, its certificates per key type with and without
SNI, and session features (resumption by session id and ticket, TLS 1.3 PSK
and 0-RTT, extended master secret, encrypt-then-MAC, renegotiation,
TLS_FALLBACK_SCSV, compression, heartbeat and Heartbleed, OCSP stapling).

Known attacks are listed by the names testssl.sh gives them, each probed or
derived from the facts above: Heartbleed, CCS injection, Ticketbleed, ROBOT
(only when an RSA key exchange is accepted: 10 to 20 connections), secure
and client-initiated renegotiation, CRIME, BREACH, POODLE, the downgrade
protection, SWEET32, FREAK, DROWN, LOGJAM, BEAST, LUCKY13, RC4 and 0-RTT
replay. On an HTTPS service (port 443, or ALPN h2 or http/1.1) one GET / is
sent (no cookie, no credential) to read Strict-Transport-Security and
whether the answer is compressed (BREACH); --no-http turns it off.

Weaknesses are findings with an id, the evidence and a fix. --profile checks
the server against Mozilla's modern, intermediate or old configuration, or a
JSON profile in the same schema (FILE, or FILE#NAME for one configuration of
a guidelines file); every deviation is a finding. "Who can connect" sends the
ClientHello of commonly deployed clients (documented parameter sets;
--local-clients adds the clients installed on this machine, recorded on the
spot) and says whether each connects, with what, and whether its trust store
on this machine trusts the chain.

Servers that upgrade to TLS in band are scanned through the upgrade: every
probe speaks --starttls PROTO first (smtp, imap, pop3, ldap, postgres, mysql,
xmpp…; chosen by well-known port when absent, none to turn it off).

Every row names the probes it was learnt from; --json and --html show each
probe's conversation. At most --max-conns connections are open to a host at
once, --delay spaces them, and the report counts them. They all go to the
address the first reached, shown in the report's first line: a name's
other addresses can be other servers. -4 or -6 picks the IP version;
--each-address scans each address of the name, one report each.

` + base.TrustHelp + `

Exit status: 0 no finding of severity error and the profile (if any) met;
1 otherwise, or a target could not be scanned; 2 usage error.`,
		Example: `  tlskit scan example.com
  tlskit scan --profile intermediate example.com mail.example.com:465
  tlskit scan --profile mozilla-guidelines.json#old legacy.internal:8443
  tlskit scan --json --max-conns 2 --delay 50ms 10.0.0.7:8443 > scan.json
  tlskit scan --html report.html --ca-file corp-root.pem api.internal
  tlskit scan --brief --no-clients example.com
  tlskit scan -6 example.com                         # the server of its IPv6 address
  tlskit scan --each-address --brief example.com     # every server behind the name
  tlskit scan --starttls smtp mail.example.com:587
  tlskit scan --starttls postgres db.internal:5432`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return base.Usagef("example: tlskit scan example.com:443", "scan takes one or more HOST[:PORT]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd, args, stdio)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// register defines scan's flags on fl.
func (f *scanFlags) register(fl *pflag.FlagSet) {
	fl.SortFlags = false
	f.trust.Register(fl, base.GroupTrust|base.GroupName|base.GroupTime|base.GroupTimeout|base.GroupNetwork, 5*time.Second)
	f.starttls.register(fl)
	fl.StringVar(&f.profile, "profile", "", "check the server against a TLS profile: modern, intermediate, old (Mozilla's) or a JSON `FILE` (FILE#NAME for a guidelines file)")
	fl.BoolVar(&f.jsonOut, "json", false, "print JSON: one object for one target, an array for several")
	fl.StringVar(&f.htmlFile, "html", "", "also write a self-contained HTML report to `FILE`")
	fl.BoolVar(&f.brief, "brief", false, "print only the summary, the profile and the findings")
	fl.BoolVar(&f.probes, "probes", false, "also print every probe with its conversation")
	fl.IntVar(&f.maxConns, "max-conns", 4, "at most `N` connections open to a host at once")
	fl.DurationVar(&f.delay, "delay", 0, "wait at least `DURATION` between the starts of two connections to a host")
	fl.BoolVar(&f.noClients, "no-clients", false, "skip the client simulation")
	fl.BoolVar(&f.noHTTP, "no-http", false, "make no HTTP request on an HTTPS service (HSTS and BREACH are then not checked)")
	registerEachAddress(fl, &f.eachAddress, "scan")
	fl.BoolVar(&f.localClients, "local-clients", false, "also simulate the TLS clients installed on this machine (openssl, gnutls-cli, curl, python3, java, chromium…), whose ClientHellos are recorded first")
}

func (f *scanFlags) run(cmd *cobra.Command, args []string, stdio base.Stdio) error {
	var addrs []string
	for _, a := range args {
		addr, err := probe.SplitTargetPort(a, f.starttls.port())
		if err != nil {
			return base.Usagef(targetHint("scan", err), "%s", strings.TrimPrefix(err.Error(), "probe: "))
		}
		addrs = append(addrs, addr)
	}
	if f.maxConns < 1 {
		return base.Usagef("example: --max-conns 2", "--max-conns must be at least 1")
	}
	if f.delay < 0 {
		return base.Usagef("example: --delay 100ms", "--delay must not be negative")
	}
	if f.noClients && f.localClients {
		return base.Usagef("drop one of them", "--no-clients contradicts --local-clients")
	}
	pol, err := f.trust.Policy(stdio.Err)
	if err != nil {
		return err
	}
	v, err := base.Verifier(pol)
	if err != nil {
		return err
	}
	network, err := f.trust.Network()
	if err != nil {
		return err
	}
	if pol.ServerName != "" && len(addrs) > 1 {
		return base.Usagef("scan the targets one at a time, or leave --servername out", "--servername names one server, but %d targets were given", len(addrs))
	}
	// One scan per address of each name with --each-address (Via).
	targets := make([]fleet.Target, len(addrs))
	for i, a := range addrs {
		targets[i] = fleet.Target{Address: a}
	}
	targets = eachAddress(cmd.Context(), targets, network, f.eachAddress)
	addrs = make([]string, len(targets))
	for i, t := range targets {
		addrs[i] = t.Address
	}
	var prof *scan.Profile
	if f.profile != "" {
		if prof, err = scan.LoadProfile(f.profile); err != nil {
			return base.Usagef("profiles are modern, intermediate, old, or a JSON file in Mozilla's guidelines schema (README: tlskit scan)", "--profile: %s", strings.TrimPrefix(err.Error(), "scan: "))
		}
	}
	var html *os.File
	if f.htmlFile != "" {
		if html, err = os.Create(f.htmlFile); err != nil {
			return base.Usagef("give a path to a file that can be written", "--html: %v", err)
		}
		defer html.Close()
	}
	stacks := truststore.Options{Env: truststore.ProcessEnv()}
	var clients []scan.ClientProfile
	if f.localClients {
		local, notes := scan.RecordLocalClients(cmd.Context(), 10*time.Second)
		for _, n := range notes {
			fmt.Fprintf(stdio.Err, "tlskit: note: %s\n", n)
		}
		clients = append(scan.DefaultClients(), local...)
	}
	prog := newScanProgress(stdio.Err)
	reps := make([]*scan.Report, len(addrs))
	errs := make([]error, len(addrs))
	sem := make(chan struct{}, maxParallelHosts)
	var wg sync.WaitGroup
	protos := make([]starttls.Protocol, len(addrs))
	chosen := make([]string, len(addrs))
	for i, addr := range addrs {
		if protos[i], chosen[i], err = f.starttls.protocol(addr); err != nil {
			return err
		}
	}
	for i, addr := range addrs {
		sem <- struct{}{}
		label := addr
		if targets[i].Via != "" {
			label += " at " + targets[i].Via
		}
		onProgress := prog.bar(label)
		wg.Go(func() {
			defer func() { <-sem }()
			reps[i], errs[i] = scan.Run(cmd.Context(), scan.Options{
				Address: addr, Via: targets[i].Via, Network: network, ServerName: pol.ServerName, MaxConns: f.maxConns, Delay: f.delay,
				Timeout: f.trust.Timeout, Verifier: v, Time: pol.Time, Profile: prof,
				Clients: clients, NoClients: f.noClients, NoHTTP: f.noHTTP, Stacks: &stacks, Progress: onProgress,
				StartTLS: protos[i], StartTLSChosenBy: chosen[i], XMPPDomain: f.starttls.xmppDomain,
			})
		})
	}
	wg.Wait()
	prog.wait()
	failed := false
	var done []*scan.Report
	for i, err := range errs {
		if err != nil {
			fmt.Fprintf(stdio.Err, "tlskit: error: %s: %s\n", addrs[i], termsafe.String(strings.TrimPrefix(err.Error(), "scan: ")))
			failed = true
			continue
		}
		done = append(done, reps[i])
	}
	// The library's findings name settings, not flags: scan's flags for
	// them, as check does.
	flags := f.trust.SettingFlags(map[string]string{finding.SettingStartTLS: "--starttls"})
	for _, r := range done {
		render.AddFlags(r.Findings, flags)
		for i := range r.Certificates {
			render.AddFlags(r.Certificates[i].Findings, flags)
		}
	}
	if err := f.print(stdio.Out, done); err != nil {
		return err
	}
	if html != nil {
		if err := render.ScanHTML(html, done); err != nil {
			return fmt.Errorf("writing %s: %w", f.htmlFile, err)
		}
		if err := html.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", f.htmlFile, err)
		}
	}
	for _, r := range done {
		if finding.Worst(r.Findings) == finding.Error || r.Profile != nil && !r.Profile.Compliant {
			failed = true
		}
	}
	if err := cmd.Context().Err(); err != nil {
		return base.ExitCode(base.ExitInterrupted) // the scans cut short said so above
	}
	if failed {
		return base.ExitCode(base.ExitProblem)
	}
	return nil
}

// print writes the reports as text or JSON.
func (f *scanFlags) print(w io.Writer, reps []*scan.Report) error {
	if f.jsonOut {
		if len(reps) == 1 {
			return render.JSON(w, reps[0])
		}
		return render.JSON(w, reps)
	}
	for i, r := range reps {
		if i > 0 {
			fmt.Fprintln(w, "\n"+strings.Repeat("─", 100))
		}
		if err := render.Scan(w, r, render.ScanOptions{Brief: f.brief, Probes: f.probes}); err != nil {
			return err
		}
	}
	return nil
}

// scanProgress shows one bar a target on a terminal; off a terminal it
// shows nothing (the report says how many connections were made).
type scanProgress struct {
	p *mpb.Progress
}

func newScanProgress(w io.Writer) *scanProgress {
	if !isTerminal(w) {
		return &scanProgress{}
	}
	return &scanProgress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(32), mpb.WithRefreshRate(100*time.Millisecond))}
}

// bar returns the progress callback of one target.
func (s *scanProgress) bar(target string) func(scan.Progress) {
	if s.p == nil {
		return nil
	}
	var mu sync.Mutex
	phase := ""
	b := s.p.AddBar(0,
		mpb.PrependDecorators(decor.Name(target, decor.WCSyncSpaceR), decor.CountersNoUnit("%d/%d probes", decor.WCSyncSpace)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			mu.Lock()
			defer mu.Unlock()
			return phase
		})),
		mpb.BarRemoveOnComplete())
	return func(p scan.Progress) {
		mu.Lock()
		phase = p.Phase
		mu.Unlock()
		b.SetTotal(int64(p.Total), false)
		b.SetCurrent(int64(p.Done))
		if p.Phase == "done" {
			// The total was an estimate: the scan made as many probes as
			// it made. Complete, the bar goes.
			b.SetTotal(int64(p.Done), true)
		}
	}
}

// wait completes every bar and waits for the last redraw.
func (s *scanProgress) wait() {
	if s.p == nil {
		return
	}
	s.p.Shutdown()
}
