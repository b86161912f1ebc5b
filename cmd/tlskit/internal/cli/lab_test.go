package cli

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/tlskit/tlskit/lab"
)

// TestLabCommand: the `tlskit check` command shown for each lab case, parsed
// as tlskit check parses its flags, gives the same check as demo runs from
// the case's structured data.
func TestLabCommand(t *testing.T) {
	l, err := lab.Start(context.Background(), lab.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, c := range l.Cases() {
		line := labCommand(c)
		args := strings.Fields(line)
		if len(args) < 3 || args[0] != "tlskit" || args[1] != "check" {
			t.Fatalf("%s: command %q", c.Name, line)
		}
		var parsed checkFlags
		fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
		parsed.register(fs)
		if err := fs.Parse(args[2:]); err != nil || fs.NArg() != 1 {
			t.Fatalf("%s: %q does not parse as a check: %v", c.Name, line, err)
		}
		want, wclose, err := parsed.options(fs.Arg(0), io.Discard)
		if err != nil {
			t.Fatalf("%s: %q: %v", c.Name, line, err)
		}
		wclose()
		got, gclose, err := labCheck(c).options(c.Addr, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		gclose()
		if got.Address != want.Address || got.ServerName != want.ServerName || got.Timeout != want.Timeout ||
			(got.Certificate == nil) != (want.Certificate == nil) || got.Verifier.Describe() != want.Verifier.Describe() || len(got.Verifier.Pins) != len(want.Verifier.Pins) {
			t.Errorf("%s: the demo's check differs from %q:\n got %+v\nwant %+v", c.Name, line, got, want)
		}
		if strings.Contains(line, "--no-system-roots") {
			t.Errorf("%s: %q shows the no-op --no-system-roots", c.Name, line)
		}
	}
}
