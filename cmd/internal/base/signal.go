package base

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// SignalContext returns the context a command runs with: SIGINT or SIGTERM
// ends it, and the command stops as it can (servers drain, checks report
// what they finished, exit status 130 or 0). A second signal then ends the
// process at once, by the signal's default action, in case stopping hangs
// or the work in progress does not watch the context. stop releases the
// signals.
func SignalContext() (ctx context.Context, stop func()) {
	ctx, stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // the next signal is the default action's again
	}()
	return ctx, stop
}
