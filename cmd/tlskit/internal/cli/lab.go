package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/render"
)

func newLabCmd(stdio Stdio) *cobra.Command {
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
				w := tabwriter.NewWriter(stdio.Out, 0, 4, 2, ' ', 0)
				fmt.Fprintf(w, "CASE\tFINDING\tWHAT IT SHOWS\n")
				for _, c := range lab.Catalog() {
					fmt.Fprintf(w, "%s\t%s\t%s\n", c.Name, orDash(c.Finding), c.Title)
				}
				return w.Flush()
			}
			l, cleanup, err := startLab(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer cleanup()
			fmt.Fprintf(stdio.Out, "tlskit lab: %d servers on loopback; PKI in %s\n\n", len(l.Cases()), l.Files().Dir)
			for _, c := range l.Cases() {
				fmt.Fprintf(stdio.Out, "%-32s %s\n    tlskit check %s\n", c.Name, c.Title, strings.Join(append(append([]string{}, c.Args...), c.Addr), " "))
			}
			fmt.Fprintf(stdio.Out, "\nServing until interrupted (Ctrl-C).\n")
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().BoolVar(&list, "list", false, "list the cases without starting anything")
	cmd.Flags().StringVar(&dir, "dir", "", "write the lab PKI into `DIR` and keep it (default: a temporary directory, removed at exit)")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
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

// demoResult is one case of `tlskit demo --json`.
type demoResult struct {
	Case     string           `json:"case"`
	Title    string           `json:"title"`
	Expected string           `json:"expected_finding,omitempty"`
	Command  string           `json:"command"`
	OK       bool             `json:"explained_as_expected"`
	Report   *diagnose.Report `json:"report"`
}

func newDemoCmd(stdio Stdio) *cobra.Command {
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
						return usagef("'tlskit lab --list' shows the cases", "no lab case named %q", name)
					}
					sel = append(sel, c)
				}
				cases = sel
			}
			var results []demoResult
			failed := 0
			for i, c := range cases {
				rep, err := checkArgs(cmd.Context(), append(append([]string{}, c.Args...), c.Addr), io.Discard)
				if err != nil {
					return fmt.Errorf("lab case %s: %w", c.Name, err)
				}
				r := demoResult{Case: c.Name, Title: c.Title, Expected: c.Finding, Report: rep,
					Command: "tlskit check " + strings.Join(append(append([]string{}, c.Args...), c.Addr), " ")}
				r.OK = explained(c, rep)
				if !r.OK {
					failed++
				}
				results = append(results, r)
				if !jsonOut {
					printDemoCase(stdio.Out, i+1, len(cases), r, full)
				}
			}
			if jsonOut {
				if err := render.JSON(stdio.Out, results); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(stdio.Out, "\n%d cases: %d explained as expected, %d not.\n", len(results), len(results)-failed, failed)
				fmt.Fprintf(stdio.Out, "Next: 'tlskit lab' keeps these servers running so you can try them with curl or openssl; 'tlskit check HOST' checks a real server.\n")
			}
			if failed > 0 {
				return exitCode(ExitProblem)
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
	code := ExitOK
	if exitFor(rep) != nil {
		code = ExitProblem
	}
	if code != c.ExitCode {
		return false
	}
	if c.Finding == "" {
		return rep.Verdict == diagnose.Trusted
	}
	return finding.Has(rep.Findings, c.Finding)
}

func printDemoCase(w io.Writer, i, n int, r demoResult, full bool) {
	fmt.Fprintf(w, "\n━━ %d/%d  %s: %s\n", i, n, r.Case, r.Title)
	fmt.Fprintf(w, "   $ %s\n", r.Command)
	var buf bytes.Buffer
	render.Report(&buf, r.Report, render.Options{Brief: !full})
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	for _, line := range lines[1:] { // the first line repeats the command
		fmt.Fprintf(w, "   %s\n", line)
	}
	mark := "✓ explained as expected"
	if !r.OK {
		mark = "✗ NOT explained as expected"
	}
	if r.Expected != "" {
		mark += " (" + r.Expected + ")"
	}
	fmt.Fprintf(w, "   %s\n", mark)
}

// checkArgs runs a check from command-line style arguments, as `tlskit
// check` would, and returns its report.
func checkArgs(ctx context.Context, args []string, stderr io.Writer) (*diagnose.Report, error) {
	var f checkFlags
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		return nil, fmt.Errorf("want one target, got %q", fs.Args())
	}
	opts, closeFn, err := f.options(fs.Arg(0), stderr)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return probe.Run(ctx, opts), nil
}
