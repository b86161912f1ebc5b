// Package base is what every tlskit command shares and that links nothing
// heavy, so that a command can be built into a small binary of its own
// (tlskit-exporter) as well as into tlskit: the standard streams, usage
// errors with hints, exit codes, the shared trust flags (defined once,
// here), and [Run], which executes a root command and maps its error to
// the exit status. Like cmd/go/internal/base, it holds no command.
//
// Exit codes: 0 when everything checked out, 1 when a problem was found or
// the work failed at run time (cannot listen, cannot write), 2 for usage
// errors: a wrong flag or argument, or a file the command line names that
// is missing or not what the flag takes.
//
// Errors are printed as `PROG: error: MESSAGE` (PROG is the root command's
// name: tlskit, tlskit-exporter), MESSAGE being the error's own text
// (library errors read well as they are, package prefix and all), then one
// `PROG: hint: …` line per hint: the CLI's for usage errors, and the Hint()
// of any library error in the chain that has one.
package base

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tlskit/tlskit/internal/termsafe"
)

// Exit codes, documented in the README.
const (
	// ExitOK: everything checked out.
	ExitOK = 0
	// ExitProblem: a problem was found, or the work failed at run time.
	ExitProblem = 1
	// ExitUsage: a mistake in the command line.
	ExitUsage = 2
	// ExitInterrupted: SIGINT or SIGTERM stopped a command before it
	// finished (128 + SIGINT, the shells' convention); what it had done
	// is printed, what it had not is not guessed at.
	ExitInterrupted = 130
)

// Stdio are the streams a command reads and writes.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// OSStdio returns the process's standard streams.
func OSStdio() Stdio { return Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr} }

// UsageError is a mistake in how the program was called, with hints to
// fix it: exit status 2. It may wrap a library error, whose message it
// keeps. [Usage] and [Usagef] make one.
type UsageError struct {
	err   error
	hints []string
}

// Error returns the message of the wrapped error, as it is.
func (e *UsageError) Error() string { return e.err.Error() }

// Unwrap returns the wrapped error.
func (e *UsageError) Unwrap() error { return e.err }

// Usagef is a usage error with the message format makes and one hint ("":
// none).
func Usagef(hint string, format string, args ...any) error {
	return Usage(fmt.Errorf(format, args...), hint)
}

// Usage marks err (typically a library error about a file or value the
// command line gave) as a usage error, with a hint ("": none).
func Usage(err error, hint string) error {
	e := &UsageError{err: err}
	if hint != "" {
		e.hints = []string{hint}
	}
	return e
}

// hinter is an error that says what to do about it (keylog.FileError…).
type hinter interface{ Hint() string }

// Hints collects the hints of every error in err's chain, outermost first,
// without repeats: those of usage errors and the Hint() of errors that
// have one.
func Hints(err error) []string {
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
		if ue, ok := e.(*UsageError); ok {
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

// PrintError writes err and its hints for a person, as the program prog.
func PrintError(w io.Writer, prog string, err error) {
	fmt.Fprintf(w, "%s: error: %s\n", prog, termsafe.String(err.Error()))
	for _, h := range Hints(err) {
		fmt.Fprintf(w, "%s: hint: %s\n", prog, termsafe.String(h))
	}
}

// ExitCode carries a command's result code without an error message: the
// command already printed its report.
type ExitCode int

// Error says which exit status the command chose.
func (c ExitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// Run executes root with args (without the program name) on stdio and
// returns the process exit code: 0 on success, the code of an [ExitCode],
// or, after printing the error under root's name, 2 for a usage error, 130
// for work that ctx's end (SIGINT, SIGTERM) cut short, and 1 for anything
// else.
func Run(ctx context.Context, root *cobra.Command, args []string, stdio Stdio) int {
	root.SetArgs(args)
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var code ExitCode
	if errors.As(err, &code) {
		return int(code)
	}
	PrintError(stdio.Err, root.Name(), err)
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return ExitInterrupted
	}
	return ExitProblem
}

// UsageArgs makes cobra's own complaints about cmd and its subcommands
// usage errors: bad flags (through the flag error function, which
// subcommands inherit) and bad arguments (by wrapping every command's
// argument check). It also refuses a flag that took another flag for its
// value (before the argument check, or the run of a command without
// one).
func UsageArgs(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return Usage(err, fmt.Sprintf("run '%s --help'", c.CommandPath()))
	})
	var wrap func(*cobra.Command)
	wrap = func(c *cobra.Command) {
		if check := c.Args; check != nil {
			c.Args = func(c *cobra.Command, args []string) error {
				if err := flagTookFlag(c); err != nil {
					return err // it explains the stray argument too
				}
				err := check(c, args)
				var ue *UsageError
				if err != nil && !errors.As(err, &ue) {
					return Usage(err, fmt.Sprintf("run '%s --help'", c.CommandPath()))
				}
				return err
			}
		}
		if run := c.RunE; run != nil && c.Args == nil {
			c.RunE = func(c *cobra.Command, args []string) error {
				if err := flagTookFlag(c); err != nil {
					return err
				}
				return run(c, args)
			}
		}
		for _, sub := range c.Commands() {
			wrap(sub)
		}
	}
	wrap(cmd)
}

// flagTookFlag refuses a flag whose value is another of the command's
// flags. A flag that takes a value takes the next word, whatever it is:
// `--servername --ca-file root.pem HOST` would check a server named
// "--ca-file" and take root.pem for a target.
func flagTookFlag(c *cobra.Command) error {
	isFlag := func(v string) bool {
		name, _, _ := strings.Cut(v, "=")
		switch {
		case strings.HasPrefix(name, "--"):
			return c.Flags().Lookup(name[2:]) != nil
		case len(name) == 2 && name[0] == '-':
			return c.Flags().ShorthandLookup(name[1:]) != nil
		}
		return false
	}
	var err error
	c.Flags().Visit(func(f *pflag.Flag) {
		if err != nil || f.NoOptDefVal != "" {
			return
		}
		vals := []string{f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			vals = sv.GetSlice()
		}
		for _, v := range vals {
			if isFlag(v) {
				err = Usagef(fmt.Sprintf("give --%s its value (run '%s --help')", f.Name, c.CommandPath()),
					"--%s took %q for its value: its value is missing", f.Name, v)
				return
			}
		}
	})
	return err
}
