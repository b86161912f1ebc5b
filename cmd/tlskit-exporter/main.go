// Command tlskit-exporter is tlskit's Prometheus exporter as a binary of
// its own: the same command as `tlskit exporter` (same flags, help and
// behaviour: one implementation, cmd/internal/exportercmd), without the
// rest of tlskit linked in, so that it runs in less memory.
//
//	tlskit-exporter --listen :9219 --config exporter.json
//	tlskit-exporter --config exporter.json --check-config
//	tlskit-exporter --version
//
// It stops with status 0 on SIGINT or SIGTERM.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/cmd/internal/exportercmd"
)

// prog is the program's name, in its usage, messages and version.
const prog = "tlskit-exporter"

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stdio := base.OSStdio()
	return base.Run(ctx, newRoot(stdio), os.Args[1:], stdio)
}

// newRoot is the exporter command as the root command, with --version
// printing what `tlskit version` prints.
func newRoot(stdio base.Stdio) *cobra.Command {
	root := exportercmd.New(stdio, prog)
	root.SilenceUsage = true
	root.SilenceErrors = true
	root.Version = base.Version(prog)
	root.SetVersionTemplate("{{.Version}}\n")
	// Defined here rather than by cobra, to have no -v shorthand and a
	// help line of our words; cobra still prints the version for it.
	root.Flags().Bool("version", false, "print the version, as tlskit version does, and exit")
	root.CompletionOptions.DisableDefaultCmd = true
	base.UsageArgs(root)
	return root
}
