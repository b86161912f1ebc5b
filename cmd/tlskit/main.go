// Command tlskit traces, verifies and explains TLS connections.
//
// Run `tlskit demo` for a tour, `tlskit check HOST` for a server, and
// `tlskit help` for everything else.
package main

import (
	"os"

	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/cmd/tlskit/internal/cli"
)

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := base.SignalContext()
	defer stop()
	return cli.Run(ctx, os.Args[1:], base.OSStdio())
}
