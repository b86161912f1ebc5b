package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/render"
)

func newLabCmd(stdio base.Stdio) *cobra.Command {
	var list bool
	var dir string
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Serve broken TLS servers on loopback, one per failure tlskit explains",
		Long: `lab starts a TLS server on 127.0.0.1 for every failure tlskit diagnoses,
from a test PKI generated at start (like badssl.com, but offline), prints
each case with the exact 'tlskit check' command that reproduces it, and
serves until interrupted.`,
		Example: `  tlskit lab --list
  tlskit lab --dir /tmp/lab     # keep the PKI files (root.pem, client.pem…) there`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if list {
				return render.LabList(stdio.Out, labCases(lab.Catalog()))
			}
			l, cleanup, err := startLab(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer cleanup()
			if err := render.LabServing(stdio.Out, l.Files().Dir, labCases(l.Cases())); err != nil {
				return err
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().BoolVar(&list, "list", false, "list the cases without starting anything")
	cmd.Flags().StringVar(&dir, "dir", "", "write the lab PKI into `DIR` and keep it (default: a temporary directory, removed at exit)")
	return cmd
}

// labCases are the lab's cases as render shows them, with the check
// command of each started case.
func labCases(cases []lab.Case) []render.LabCase {
	out := make([]render.LabCase, len(cases))
	for i, c := range cases {
		out[i] = render.LabCase{Name: c.Name, Finding: c.Finding, Title: c.Title}
		if c.Addr != "" {
			out[i].Command = labCommand(c)
		}
	}
	return out
}

// labCheck returns the check flags that reproduce case c, set from the
// case's structured client data as a person would give them on the
// command line (labCommand prints that command).
func labCheck(c lab.Case) *checkFlags {
	var f checkFlags
	f.register(pflag.NewFlagSet("check", pflag.ContinueOnError)) // the defaults
	f.trust.ServerName = c.Client.ServerName
	f.trust.CAFiles = []string{c.Client.CAFile}
	f.trust.Pins = append([]string(nil), c.Client.Pins...)
	f.certFile, f.keyFile = c.Client.CertFile, c.Client.KeyFile
	if c.Client.Timeout > 0 {
		f.trust.Timeout = c.Client.Timeout
	}
	if c.Client.MinVersion != 0 {
		f.trust.MinVersion = base.VersionFlag(c.Client.MinVersion)
	}
	f.trust.CRLs = append([]string(nil), c.Client.CRLFiles...)
	f.trust.Fetch = c.Client.Fetch
	f.starttls.proto = c.Client.StartTLS
	return &f
}

// labCommand is the `tlskit check` command that reproduces case c: the
// flags labCheck sets.
func labCommand(c lab.Case) string {
	args := []string{"tlskit", "check", "--servername", c.Client.ServerName, "--ca-file", c.Client.CAFile}
	for _, p := range c.Client.Pins {
		args = append(args, "--pin", p)
	}
	if c.Client.CertFile != "" {
		args = append(args, "--cert", c.Client.CertFile, "--key", c.Client.KeyFile)
	}
	if c.Client.Timeout > 0 {
		args = append(args, "--timeout", c.Client.Timeout.String())
	}
	if c.Client.MinVersion != 0 {
		args = append(args, "--min-version", base.VersionFlag(c.Client.MinVersion))
	}
	for _, crl := range c.Client.CRLFiles {
		args = append(args, "--crl", crl)
	}
	if c.Client.Fetch {
		args = append(args, "--fetch")
	}
	if c.Client.StartTLS != "" {
		args = append(args, "--starttls", c.Client.StartTLS)
	}
	return strings.Join(append(args, c.Addr), " ")
}

// startLab starts the lab with its PKI in dir, or in a temporary directory
// that cleanup removes.
func startLab(ctx context.Context, dir string) (*lab.Lab, func(), error) {
	remove := false
	if dir == "" {
		d, err := os.MkdirTemp("", "tlskit-lab-")
		if err != nil {
			return nil, nil, err
		}
		dir, remove = d, true
	}
	l, err := lab.Start(ctx, lab.Options{Dir: dir})
	if err != nil {
		if remove {
			os.RemoveAll(dir)
		}
		return nil, nil, fmt.Errorf("starting the lab: %w", err)
	}
	return l, func() {
		l.Close()
		if remove {
			os.RemoveAll(dir)
		}
	}, nil
}

func newDemoCmd(stdio base.Stdio) *cobra.Command {
	var jsonOut, full bool
	var only []string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start the lab and explain every broken server in it",
		Long: `demo starts the lab (see 'tlskit lab') and runs 'tlskit check' against every
case, showing how each failure is explained. It exits 0 when every case was
explained with the finding it was built to show.`,
		Example: `  tlskit demo
  tlskit demo --case expired --case client-cert-required-tls13 --full
  tlskit demo --json | jq '.[] | {case, ok: .explained_as_expected}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, cleanup, err := startLab(cmd.Context(), "")
			if err != nil {
				return err
			}
			defer cleanup()
			cases := l.Cases()
			if len(only) > 0 {
				var sel []lab.Case
				for _, name := range only {
					c, ok := l.Case(name)
					if !ok {
						return base.Usagef("'tlskit lab --list' shows the cases", "no lab case named %q", name)
					}
					sel = append(sel, c)
				}
				cases = sel
			}
			var results []render.DemoCase
			failed := false
			for i, c := range cases {
				rep, err := checkCase(cmd.Context(), c, io.Discard)
				if err != nil {
					return fmt.Errorf("lab case %s: %w", c.Name, err)
				}
				r := render.DemoCase{Case: c.Name, Title: c.Title, Expected: c.Finding, Report: rep, Command: labCommand(c), OK: explained(c, rep)}
				failed = failed || !r.OK
				results = append(results, r)
				if !jsonOut {
					if err := render.Demo(stdio.Out, i+1, len(cases), r, full, render.Options{Width: outputWidth(stdio.Out), Flags: (&checkFlags{trust: base.TrustFlags{Groups: checkGroups}}).settingFlags()}); err != nil {
						return err
					}
				}
			}
			if jsonOut {
				err = render.JSON(stdio.Out, results)
			} else {
				err = render.DemoSummary(stdio.Out, results)
			}
			if err != nil {
				return err
			}
			if failed {
				return base.ExitCode(base.ExitProblem)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print a JSON array of every case with its full report")
	cmd.Flags().BoolVar(&full, "full", false, "show each case's whole report (handshake, chain), not just the findings")
	cmd.Flags().StringArrayVar(&only, "case", nil, "run only this `CASE` (repeatable)")
	return cmd
}

// explained reports whether a lab case produced the finding and exit status
// it was built to show.
func explained(c lab.Case, rep *diagnose.Report) bool {
	code := base.ExitOK
	if exitFor(rep) != nil {
		code = base.ExitProblem
	}
	if code != c.ExitCode {
		return false
	}
	if c.Finding == "" {
		return rep.Verdict == diagnose.Trusted
	}
	return finding.Has(rep.Findings, c.Finding)
}

// checkCase runs the check that reproduces lab case c, as `tlskit check`
// with labCommand's flags would, and returns its report.
func checkCase(ctx context.Context, c lab.Case, stderr io.Writer) (*diagnose.Report, error) {
	opts, closeFn, err := labCheck(c).options(c.Addr, stderr)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return probe.Run(ctx, opts), nil
}
