// Package cli is the tlskit command line: it parses flags into options,
// calls the library packages and renders their results. With
// cmd/internal/base (the streams, usage errors, exit codes and shared
// trust flags) and cmd/internal/exportercmd (the exporter command, which
// tlskit-exporter links alone) it is the only code that knows about flags,
// exit codes and standard streams.
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
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/cmd/internal/exportercmd"
)

// Run runs tlskit with args (without the program name) and returns the
// process exit code.
func Run(ctx context.Context, args []string, stdio base.Stdio) int {
	return base.Run(ctx, newRoot(stdio), args, stdio)
}

func newRoot(stdio base.Stdio) *cobra.Command {
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
			return base.Usagef(hint, "unknown command %q for \"tlskit\"", args[0])
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	root.SuggestionsMinimumDistance = 2
	root.AddCommand(newCheckCmd(stdio), newScanCmd(stdio), newVerifyCmd(stdio), newLabCmd(stdio), newDemoCmd(stdio), newTruststoreCmd(stdio), newPcapCmd(stdio), newTunnelCmd(stdio), exportercmd.New(stdio, "tlskit exporter", exporterGOGC), newVersionCmd(stdio))
	base.UsageArgs(root)
	return root
}

// exporterGOGC is the garbage collector's target (GOGC) `tlskit exporter`
// serves with when GOGC is not set. This binary's globals (5 MiB, most of
// them gopacket's protocol tables for pcap) count towards the heap goal, so
// at GOGC=100 the probes' live heap of a few hundred KiB lived in a 6 MiB
// heap between collections; at 50 it is 3 MiB, for twice as many
// collections (each scans those globals). tlskit-exporter, without them,
// keeps Go's default. The README's Exporter performance has the measured
// trade-off.
const exporterGOGC = 50
