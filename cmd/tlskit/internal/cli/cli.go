// Package cli is the tlskit command line: it parses flags into options,
// calls the library packages and renders their results. It is the only
// package that knows about flags, exit codes and standard streams.
//
// Exit codes: 0 when everything checked out, 1 when a problem was found,
// 2 for usage errors and bad input.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

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

// usageError is a mistake in how tlskit was called, with hints to fix it.
type usageError struct {
	msg   string
	hints []string
}

func (e *usageError) Error() string { return e.msg }

func usagef(hint string, format string, args ...any) error {
	e := &usageError{msg: fmt.Sprintf(format, args...)}
	if hint != "" {
		e.hints = []string{hint}
	}
	return e
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
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stdio.Err, "tlskit: error: %s\n", ue.msg)
		for _, h := range ue.hints {
			fmt.Fprintf(stdio.Err, "tlskit: hint: %s\n", h)
		}
		return ExitUsage
	}
	// cobra's own errors (unknown flag or command, missing argument) are
	// usage errors too.
	fmt.Fprintf(stdio.Err, "tlskit: error: %s\n", err)
	if strings.Contains(err.Error(), "unknown command") || strings.Contains(err.Error(), "flag") || strings.Contains(err.Error(), "arg") {
		fmt.Fprintf(stdio.Err, "tlskit: hint: run 'tlskit help' or 'tlskit COMMAND --help'\n")
	}
	return ExitUsage
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
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	root.AddCommand(newCheckCmd(stdio), newVerifyCmd(stdio), newLabCmd(stdio), newDemoCmd(stdio), newTruststoreCmd(stdio), newPcapCmd(stdio), newTunnelCmd(stdio), newVersionCmd(stdio))
	return root
}
