// Package cli is the tlskit command line: it parses flags into options,
// calls the library packages and renders their results. It is the only
// package that knows about flags, exit codes and standard streams.
//
// Exit codes: 0 when everything checked out, 1 when a problem was found or
// the work failed at run time (cannot listen, cannot write), 2 for usage
// errors: a wrong flag or argument, or a file the command line names that
// is missing or not what the flag takes.
//
// Errors are printed as `tlskit: error: MESSAGE`, MESSAGE being the error's
// own text (library errors read well as they are, package prefix and all),
// then one `tlskit: hint: …` line per hint: the CLI's for usage errors, and
// the Hint() of any library error in the chain that has one.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes, documented in the README.
const (
	ExitOK      = 0
	ExitProblem = 1
	ExitUsage   = 2
)

// Stdio are the streams a command reads and writes.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// OSStdio returns the process's standard streams.
func OSStdio() Stdio { return Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr} }

// usageError is a mistake in how tlskit was called, with hints to fix it:
// exit status 2. It may wrap a library error, whose message it keeps.
type usageError struct {
	err   error
	hints []string
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef is a usage error with the message format makes and one hint ("":
// none).
func usagef(hint string, format string, args ...any) error {
	return usage(fmt.Errorf(format, args...), hint)
}

// usage marks err (typically a library error about a file or value the
// command line gave) as a usage error, with a hint ("": none).
func usage(err error, hint string) error {
	e := &usageError{err: err}
	if hint != "" {
		e.hints = []string{hint}
	}
	return e
}

// hinter is an error that says what to do about it (keylog.FileError…).
type hinter interface{ Hint() string }

// hints collects the hints of every error in err's chain, outermost first,
// without repeats.
func hints(err error) []string {
	var out []string
	add := func(h string) {
		for _, o := range out {
			if o == h {
				return
			}
		}
		if h != "" {
			out = append(out, h)
		}
	}
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ue, ok := e.(*usageError); ok {
			for _, h := range ue.hints {
				add(h)
			}
		}
		if h, ok := e.(hinter); ok {
			add(h.Hint())
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// printError writes err and its hints for a person.
func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "tlskit: error: %s\n", err)
	for _, h := range hints(err) {
		fmt.Fprintf(w, "tlskit: hint: %s\n", h)
	}
}

// exitCode carries a command's result code without an error message: the
// command already printed its report.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// Run runs tlskit with args (without the program name) and returns the
// process exit code.
func Run(ctx context.Context, args []string, stdio Stdio) int {
	root := newRoot(stdio)
	root.SetArgs(args)
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	printError(stdio.Err, err)
	var ue *usageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitProblem
}

// usageArgs makes cobra's own complaints usage errors: bad flags (through
// the flag error function, which subcommands inherit) and bad arguments
// (by wrapping every command's argument check).
func usageArgs(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usage(err, fmt.Sprintf("run '%s --help'", c.CommandPath()))
	})
	var wrap func(*cobra.Command)
	wrap = func(c *cobra.Command) {
		if check := c.Args; check != nil {
			c.Args = func(c *cobra.Command, args []string) error {
				err := check(c, args)
				var ue *usageError
				if err != nil && !errors.As(err, &ue) {
					return usage(err, fmt.Sprintf("run '%s --help'", c.CommandPath()))
				}
				return err
			}
		}
		for _, sub := range c.Commands() {
			wrap(sub)
		}
	}
	wrap(cmd)
}

func newRoot(stdio Stdio) *cobra.Command {
	root := &cobra.Command{
		Use:   "tlskit",
		Short: "Trace, verify and explain TLS connections",
		Long: `tlskit makes TLS failures obvious to explain.

It connects to a server, traces the handshake message by message (decrypting
TLS 1.3's encrypted messages and alerts), verifies the certificate chain under
an explicit trust policy, and explains every problem with a stable finding id,
the evidence and the fix.`,
		Example: `  tlskit demo                          # broken servers on loopback, each explained
  tlskit check example.com             # check a server
  tlskit check --json mail.example.com:465
  tlskit truststore                    # audit this machine's trust store`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// An argument that is no command is a usage error (cobra's own
		// check runs only when Args is nil, and returns a plain error).
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			hint := "run 'tlskit help' for the commands"
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				hint = fmt.Sprintf("did you mean 'tlskit %s'?", s[0])
			}
			return usagef(hint, "unknown command %q for \"tlskit\"", args[0])
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	root.SuggestionsMinimumDistance = 2
	root.AddCommand(newCheckCmd(stdio), newScanCmd(stdio), newVerifyCmd(stdio), newLabCmd(stdio), newDemoCmd(stdio), newTruststoreCmd(stdio), newPcapCmd(stdio), newTunnelCmd(stdio), newExporterCmd(stdio), newVersionCmd(stdio))
	usageArgs(root)
	return root
}
