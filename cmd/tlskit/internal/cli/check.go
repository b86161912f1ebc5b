package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/render"
	"github.com/tlskit/tlskit/trust"
)

// checkFlags are the options of `tlskit check`.
type checkFlags struct {
	serverName    string
	caFiles       []string
	noSystemRoots bool
	pins          []string
	certFile      string
	keyFile       string
	alpn          []string
	minVersion    string
	maxVersion    string
	keylogFile    string
	timeout       time.Duration
	jsonOut       bool
	insecure      bool
	brief         bool
	verifyTime    string
	stacks        bool
}

func newCheckCmd(stdio Stdio) *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check [flags] HOST[:PORT]",
		Short: "Connect, trace the handshake, verify the chain and explain every problem",
		Long: `check connects to HOST:PORT (port 443 by default), records the TLS handshake
and prints it message by message, decrypting TLS 1.3's encrypted handshake
messages and alerts with the connection's own secrets. It then shows the
certificate chain as sent, verifies it under the trust policy the flags
describe, and explains each problem with a finding id, evidence and a fix.

Verification is deferred, never skipped: the chain is verified after the
handshake so that a failure can be diagnosed instead of just aborting.

Trust: the system roots (SSL_CERT_FILE and SSL_CERT_DIR are honoured), plus
every --ca-file. With --no-system-roots only the --ca-file certificates are
trusted. --pin requires one of the given SPKI pins in the verified chain.

Exit status: 0 the handshake completed and the server is trusted; 1 a
problem was found; 2 usage error or bad input.`,
		Example: `  tlskit check example.com
  tlskit check --servername api.internal 10.0.0.7:8443
  tlskit check --ca-file corp-root.pem --no-system-roots api.internal:443
  tlskit check --pin sha256/YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg= example.com
  tlskit check --cert client.pem --key client.key mtls.example.com
  tlskit check --json --keylog keys.log example.com`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("example: tlskit check example.com:443", "check takes one HOST[:PORT], got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, closeFn, err := f.options(args[0], stdio.Err)
			if err != nil {
				return err
			}
			rep := probe.Run(cmd.Context(), opts)
			kerr := closeFn()
			if err := printReport(stdio.Out, rep, f.jsonOut, f.brief); err != nil {
				return err
			}
			if kerr != nil {
				// The key log could not be written after all (the path
				// changed since it was checked, or the disk failed).
				printKeylogError(stdio.Err, kerr)
				return exitCode(ExitProblem)
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
	fl.StringVar(&f.serverName, "servername", "", "name to send as SNI and to verify (default: the host)")
	fl.StringArrayVar(&f.caFiles, "ca-file", nil, "trust the CA certificates in `FILE` (PEM or DER; repeatable)")
	fl.BoolVar(&f.noSystemRoots, "no-system-roots", false, "trust only the --ca-file certificates, not the system roots")
	fl.StringArrayVar(&f.pins, "pin", nil, "require this SPKI pin, sha256/BASE64 or curl's sha256//BASE64, in the verified chain (repeatable)")
	fl.StringVar(&f.certFile, "cert", "", "client certificate `FILE` (PEM) to present")
	fl.StringVar(&f.keyFile, "key", "", "private key `FILE` (PEM) of --cert")
	fl.StringSliceVar(&f.alpn, "alpn", nil, "application protocols to offer, e.g. h2,http/1.1")
	fl.StringVar(&f.minVersion, "min-version", "", "lowest TLS version to offer: 1.0, 1.1, 1.2 or 1.3 (default 1.2)")
	fl.StringVar(&f.maxVersion, "max-version", "", "highest TLS version to offer: 1.0, 1.1, 1.2 or 1.3 (default 1.3)")
	fl.StringVar(&f.keylogFile, "keylog", "", "append the connection's secrets to `FILE` (NSS key log format); a new file gets mode 0600, an existing one must be yours, private (0600) and not a link")
	fl.DurationVar(&f.timeout, "timeout", 10*time.Second, "give up connecting and handshaking after this long")
	fl.BoolVar(&f.jsonOut, "json", false, "print one JSON object instead of text")
	fl.BoolVar(&f.brief, "brief", false, "print only the verdict and the findings")
	fl.StringVar(&f.verifyTime, "verify-time", "", "verify the chain as of this `TIME` (RFC 3339) instead of now")
	fl.BoolVar(&f.stacks, "stacks", false, "also say which TLS stacks on this machine (go, openssl, qt5, gnutls…) would trust the chain")
	fl.BoolVar(&f.insecure, "insecure", false, "DANGEROUS: do not fail on verification problems (they are still shown)")
}

// options turns flags into probe options. The returned func closes files the
// options hold open, and says whether the key log was written.
func (f *checkFlags) options(target string, stderr io.Writer) (probe.Options, func() error, error) {
	noop := func() error { return nil }
	addr, err := probe.SplitTarget(target)
	if err != nil {
		return probe.Options{}, noop, usagef("the target is HOST or HOST:PORT, e.g. example.com:443", "%s", strings.TrimPrefix(err.Error(), "probe: "))
	}
	pol, err := f.policy()
	if err != nil {
		return probe.Options{}, noop, err
	}
	opts := probe.Options{
		Address:    addr,
		ServerName: f.serverName,
		Policy:     pol,
		ALPN:       f.alpn,
		Timeout:    f.timeout,
		Insecure:   f.insecure,
		Stacks:     f.stacks,
		StacksEnv:  truststoreEnv(),
	}
	if opts.MinVersion, err = parseVersion("--min-version", f.minVersion); err != nil {
		return opts, noop, err
	}
	if opts.MaxVersion, err = parseVersion("--max-version", f.maxVersion); err != nil {
		return opts, noop, err
	}
	if opts.MinVersion != 0 && opts.MaxVersion != 0 && opts.MinVersion > opts.MaxVersion {
		return opts, noop, usagef("", "--min-version %s is above --max-version %s", f.minVersion, f.maxVersion)
	}
	if f.timeout <= 0 {
		return opts, noop, usagef("example: --timeout 5s", "--timeout must be positive")
	}
	if f.verifyTime != "" {
		at, err := time.Parse(time.RFC3339, f.verifyTime)
		if err != nil {
			return opts, noop, usagef("example: --verify-time 2026-11-23T06:00:00Z", "--verify-time: %v", err)
		}
		opts.Now = func() time.Time { return at }
	}
	if (f.certFile == "") != (f.keyFile == "") {
		return opts, noop, usagef("give both: --cert client.pem --key client.key", "--cert and --key go together")
	}
	if f.certFile != "" {
		c, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
		if err != nil {
			return opts, noop, usagef("--cert takes the certificate PEM and --key its private key PEM", "cannot load the client certificate: %v", err)
		}
		opts.Certificate = &c
	}
	closeFn := noop
	if f.keylogFile != "" {
		kf, err := keylog.OpenFile(f.keylogFile)
		if err != nil {
			return opts, noop, keylogUsage(err)
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

// policy builds the trust policy from --ca-file, --no-system-roots and --pin.
func (f *checkFlags) policy() (*trust.Policy, error) {
	pol := &trust.Policy{System: !f.noSystemRoots}
	for _, path := range f.caFiles {
		certs, err := trust.LoadCertificatesFile(path)
		if err != nil {
			return nil, usagef("--ca-file takes a file of PEM or DER CA certificates", "--ca-file: %s", strings.TrimPrefix(err.Error(), "trust: "))
		}
		pol.Roots = append(pol.Roots, certs...)
		pol.RootSources = append(pol.RootSources, path)
	}
	if f.noSystemRoots && len(pol.Roots) == 0 {
		return nil, usagef("add the CA to trust: --ca-file ca.pem --no-system-roots", "--no-system-roots without --ca-file would trust nothing")
	}
	for _, s := range f.pins {
		p, err := trust.ParsePin(s)
		if err != nil {
			return nil, usagef("a pin looks like sha256/YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg=", "--pin %q: %s", s, strings.TrimPrefix(err.Error(), "trust: "))
		}
		pol.Pins = append(pol.Pins, p)
	}
	return pol, nil
}

// keylogUsage turns a refused key log path into an error with its hint.
func keylogUsage(err error) error {
	var fe *keylog.FileError
	if errors.As(err, &fe) {
		return usagef(fe.Hint, "--keylog: %s", strings.TrimPrefix(fe.Error(), "keylog: "))
	}
	return usagef("", "--keylog: %s", strings.TrimPrefix(err.Error(), "keylog: "))
}

// printKeylogError prints a key log failure found after the check ran.
func printKeylogError(w io.Writer, err error) {
	fmt.Fprintf(w, "tlskit: error: --keylog: %s\n", strings.TrimPrefix(err.Error(), "keylog: "))
	var fe *keylog.FileError
	if errors.As(err, &fe) && fe.Hint != "" {
		fmt.Fprintf(w, "tlskit: hint: %s\n", fe.Hint)
	}
}

func parseVersion(flag, s string) (uint16, error) {
	switch strings.TrimPrefix(strings.ToLower(s), "tls") {
	case "":
		return 0, nil
	case "1.0", "10":
		return tls.VersionTLS10, nil
	case "1.1", "11":
		return tls.VersionTLS11, nil
	case "1.2", "12":
		return tls.VersionTLS12, nil
	case "1.3", "13":
		return tls.VersionTLS13, nil
	}
	return 0, usagef("versions are 1.0, 1.1, 1.2 or 1.3", "%s %q is not a TLS version", flag, s)
}

func printReport(w io.Writer, rep *diagnose.Report, jsonOut, brief bool) error {
	if jsonOut {
		return render.JSON(w, rep)
	}
	return render.Report(w, rep, render.Options{Brief: brief})
}

// exitFor maps a report to the exit status: 0 trusted, 1 anything else. With
// --insecure a completed handshake exits 0, as the user asked.
func exitFor(rep *diagnose.Report) error {
	if rep.Verdict == diagnose.Trusted || rep.Insecure && rep.Verdict == diagnose.Untrusted {
		return nil
	}
	return exitCode(ExitProblem)
}
