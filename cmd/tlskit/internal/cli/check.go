package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/render"
	"github.com/tlskit/tlskit/truststore"
)

// checkFlags are the options of `tlskit check`.
type checkFlags struct {
	trust      base.TrustFlags
	certFile   string
	keyFile    string
	alpn       []string
	keylogFile string
	jsonOut    bool
	insecure   bool
	brief      bool
	stacks     bool
	expiring   base.DaysDuration
	many       manyFlags
	starttls   startTLSFlags
}

func newCheckCmd(stdio base.Stdio) *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check [flags] HOST[:PORT]...",
		Short: "Connect, trace the handshake, verify the chain and explain every problem",
		Long: `check connects to HOST:PORT (port 443 by default), records the TLS handshake
and prints it message by message, decrypting TLS 1.3's encrypted handshake
messages and alerts with the connection's own secrets. It then shows the
certificate chain as sent, verifies it under the trust policy the flags
describe, and explains each problem with a finding id, evidence and a fix.

Verification is deferred, never skipped: the chain is verified after the
handshake so that a failure can be diagnosed instead of just aborting.

On the well-known ports of protocols that upgrade in band (25, 587 and 2525
SMTP, 24 LMTP, 143 IMAP, 110 POP3, 21 FTP, 389 LDAP, 5432 PostgreSQL, 3306
MySQL, 5222 and 5269 XMPP, 119 NNTP, 4190 ManageSieve, 6667 IRC) check speaks
the plaintext preamble first (STARTTLS, AUTH TLS, SSLRequest…), shows it in
the ladder, and after the handshake shows the first reply inside TLS;
--starttls PROTO picks the protocol on any port, --starttls none turns it off.
A target without a port is checked on 443, or on the port of the protocol
--starttls names (--starttls smtp mail.example.com: port 25).

A certificate that expires within --expiring-within (30 days by default) is
warned about (cert.expiring-soon): the server's leaf, every certificate of
the verified path, and the client certificate given with --cert.

` + manyHelp + `

` + base.TrustHelp + `

Exit status: 0 the handshake completed and the server is trusted; 1 a
problem was found (or the key log could not be written); 2 usage error: a
wrong flag or argument, or a file it names that is missing or unusable; 130
interrupted (SIGINT, SIGTERM): the targets checked are reported, a check
cut short is not.`,
		Example: `  tlskit check example.com
  tlskit check --servername api.internal 10.0.0.7:8443
  tlskit check --ca-file corp-root.pem api.internal:443
  tlskit check --trust system --trust file:corp-root.pem api.internal:443
  tlskit check --policy api.policy.json api.internal:443
  tlskit check --pin sha256/YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg= example.com
  tlskit check --cert client.pem --key client.key mtls.example.com
  tlskit check --json --keylog keys.log example.com
  tlskit check --targets hosts.txt --json > reports.jsonl
  tlskit check --targets - --csv --concurrency 64 < hosts.txt > fleet.csv
  tlskit check --targets hosts.txt --html fleet.html --expiring-within 45d
  tlskit check example.com example.org:8443 api.internal
  tlskit check -4 example.com; tlskit check -6 example.com   # each IP version's server
  tlskit check --each-address --brief example.com     # every server behind the name
  tlskit check mail.example.com:587                  # STARTTLS (SMTP), chosen by the port
  tlskit check --starttls postgres db.internal:5433
  tlskit check --starttls xmpp --xmpp-domain example.org xmpp.example.org:5222
  tlskit check --starttls none legacy.example.com:143`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && f.many.targetsFile == "" {
				return base.Usagef("example: tlskit check example.com:443, or tlskit check --targets hosts.txt", "check takes HOST[:PORT] arguments or --targets FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || f.many.targetsFile != "" || f.many.csvOut || f.many.eachAddress {
				return runMany(cmd.Context(), stdio, &f, args)
			}
			if err := f.many.check(f.jsonOut); err != nil {
				return err
			}
			opts, closeFn, err := f.options(args[0], stdio.Err)
			if err != nil {
				return err
			}
			html, err := f.many.createHTML()
			if err != nil {
				closeFn()
				return err
			}
			rep := probe.Run(cmd.Context(), opts)
			kerr := closeFn()
			if err := cmd.Context().Err(); err != nil {
				// Cut short: what the check saw says nothing about the server.
				return fmt.Errorf("interrupted before the check ended: %w", err)
			}
			if err := printReport(stdio.Out, rep, f.jsonOut, render.Options{Brief: f.brief, Time: opts.Time, Width: outputWidth(stdio.Out), Flags: f.settingFlags()}); err != nil {
				return err
			}
			if err := f.many.writeHTML(html, []*diagnose.Report{rep}, opts.Time); err != nil {
				return err
			}
			if kerr != nil {
				// The key log could not be written after all (the path
				// changed since it was checked, or the disk failed): a
				// runtime failure.
				return kerr
			}
			return exitFor(rep)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// register defines check's flags on fl.
func (f *checkFlags) register(fl *pflag.FlagSet) {
	fl.SortFlags = false
	f.trust.Register(fl, checkGroups, 10*time.Second)
	fl.StringVar(&f.certFile, "cert", "", "client certificate `FILE` (PEM) to present")
	fl.StringVar(&f.keyFile, "key", "", "private key `FILE` (PEM) of --cert")
	fl.StringSliceVar(&f.alpn, "alpn", nil, "application `PROTOCOLS` to offer, e.g. h2,http/1.1")
	fl.StringVar(&f.keylogFile, "keylog", "", "append the connection's secrets to `FILE` (NSS key log format); a new file gets mode 0600, an existing one must be yours, private (0600) and not a link")
	fl.BoolVar(&f.jsonOut, "json", false, "print one JSON object instead of text")
	fl.BoolVar(&f.brief, "brief", false, "print only the verdict and the findings")
	fl.BoolVar(&f.stacks, "stacks", false, "also say which TLS stacks on this machine (go, openssl, qt5, gnutls…) would trust the chain")
	fl.BoolVar(&f.insecure, "insecure", false, "DANGEROUS: do not fail on verification problems (they are still shown)")
	f.expiring = base.DaysDuration(base.DefaultExpiringWithin)
	fl.Var(&f.expiring, "expiring-within", "warn about certificates that expire within this `DURATION` (30d, 720h; 0 turns it off)")
	f.many.register(fl)
	f.starttls.register(fl)
}

// checkGroups are the shared flags check registers.
const checkGroups = base.GroupTrust | base.GroupName | base.GroupVersions | base.GroupTime | base.GroupTimeout | base.GroupChecks | base.GroupNetwork

// settingFlags maps the settings a finding's fix may name to check's flags.
func (f *checkFlags) settingFlags() map[string]string {
	return f.trust.SettingFlags(map[string]string{
		finding.SettingClientCert: "--cert and --key",
		finding.SettingALPN:       "--alpn",
		finding.SettingInsecure:   "--insecure",
		finding.SettingKeyLog:     "--keylog (writes one; a capture is decrypted with tlskit pcap --keylog)",
		finding.SettingStartTLS:   "--starttls",
	})
}

// options turns flags into probe options. The returned func closes files the
// options hold open, and says whether the key log was written.
func (f *checkFlags) options(target string, stderr io.Writer) (probe.Options, func() error, error) {
	noop := func() error { return nil }
	addr, err := probe.SplitTargetPort(target, f.starttls.port())
	if err != nil {
		return probe.Options{}, noop, base.Usage(err, targetHint("check", err))
	}
	pol, err := f.trust.Policy(stderr)
	if err != nil {
		return probe.Options{}, noop, err
	}
	v, err := base.Verifier(pol)
	if err != nil {
		return probe.Options{}, noop, err
	}
	network, err := f.trust.Network()
	if err != nil {
		return probe.Options{}, noop, err
	}
	opts := probe.Options{
		Address:   addr,
		Network:   network,
		Timeout:   f.trust.Timeout,
		Insecure:  f.insecure,
		Stacks:    f.stacks,
		StacksEnv: truststore.ProcessEnv(),

		ExpiringWithin: time.Duration(f.expiring),
	}
	opts.UsePolicy(pol, v)
	if len(f.alpn) > 0 {
		opts.ALPN = f.alpn
	}
	if err := f.starttls.apply(&opts, addr); err != nil {
		return opts, noop, err
	}
	if f.certFile == "" && f.keyFile == "" {
		f.certFile, f.keyFile = pol.CertFile, pol.KeyFile
	}
	if (f.certFile == "") != (f.keyFile == "") {
		return opts, noop, base.Usagef("give both: --cert client.pem --key client.key", "--cert and --key go together")
	}
	if f.certFile != "" {
		c, err := tlskit.LoadKeyPair(f.certFile, f.keyFile)
		if err != nil {
			return opts, noop, base.Usagef("--cert takes the certificate PEM and --key its private key PEM", "cannot load the client certificate: %v", strings.TrimPrefix(err.Error(), "tlskit: "))
		}
		opts.Certificate = &c
	}
	closeFn := noop
	if f.keylogFile != "" {
		kf, err := keylog.OpenFile(f.keylogFile)
		if err != nil {
			return opts, noop, base.Usage(err, "") // a keylog.FileError carries its hint
		}
		opts.KeyLog = kf
		closeFn = func() error {
			if err := kf.Close(); err != nil {
				return err
			}
			if kf.Written() > 0 {
				fmt.Fprintf(stderr, "tlskit: warning: the key log %s holds secrets that decrypt this connection; keep it private and delete it when done\n", f.keylogFile)
			}
			return nil
		}
	}
	return opts, closeFn, nil
}

func printReport(w io.Writer, rep *diagnose.Report, jsonOut bool, o render.Options) error {
	render.AddFlags(rep.Findings, o.Flags)
	if jsonOut {
		return render.JSON(w, rep)
	}
	return render.Report(w, rep, o)
}

// exitFor maps a report to the exit status: 0 trusted, 1 anything else. With
// --insecure a completed handshake exits 0, as the user asked.
func exitFor(rep *diagnose.Report) error {
	if rep.Verdict == diagnose.Trusted || rep.Insecure && rep.Verdict == diagnose.Untrusted {
		return nil
	}
	return base.ExitCode(base.ExitProblem)
}

// targetHint is the hint of a target that does not parse: the --starttls
// to use for a URL of a protocol that upgrades in band, else the forms a
// target takes.
func targetHint(command string, err error) string {
	var ib *probe.InBandSchemeError
	if errors.As(err, &ib) {
		return fmt.Sprintf("tlskit %s --starttls %s %s", command, ib.Protocol, ib.Host)
	}
	return "the target is HOST or HOST:PORT, e.g. example.com:443"
}
