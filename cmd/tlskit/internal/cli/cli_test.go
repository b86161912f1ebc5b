package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/cmd/internal/base"
)

// failingWriter fails every write, like a closed pipe.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) {
	return 0, errors.New("write /dev/stdout: broken pipe")
}

// TestExitCodes checks the documented exit statuses: 0 fine, 1 a problem
// found or a runtime failure (cannot listen, cannot write), 2 usage errors
// (cobra's own included) and bad input named on the command line.
func TestExitCodes(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	inUse := busy.Addr().String()
	for _, tc := range []struct {
		args   []string
		out    io.Writer // nil: a buffer
		code   int
		stderr []string
	}{
		{args: []string{"version"}, code: base.ExitOK},
		{args: []string{}, code: base.ExitOK},
		{args: []string{"check"}, code: base.ExitUsage, stderr: []string{"tlskit: error: check takes HOST[:PORT] arguments or --targets FILE", "tlskit: hint: example: tlskit check example.com:443"}},
		{args: []string{"check", "--timeout", "-1s", "x"}, code: base.ExitUsage, stderr: []string{"--timeout must be positive"}},
		{args: []string{"nope"}, code: base.ExitUsage, stderr: []string{`tlskit: error: unknown command "nope"`, "tlskit: hint: run 'tlskit help'"}},
		{args: []string{"chek", "x"}, code: base.ExitUsage, stderr: []string{`unknown command "chek"`, "tlskit: hint: did you mean 'tlskit check'?"}},
		{args: []string{"check", "--bogus", "x"}, code: base.ExitUsage, stderr: []string{"tlskit: error: unknown flag: --bogus", "tlskit: hint: run 'tlskit check --help'"}},
		{args: []string{"check", "--timeout", "soon", "x"}, code: base.ExitUsage, stderr: []string{`invalid argument "soon" for "--timeout"`}},
		{args: []string{"truststore", "extra"}, code: base.ExitUsage, stderr: []string{`unknown command "extra" for "tlskit truststore"`, "hint: run 'tlskit truststore --help'"}},
		{args: []string{"tunnel", "client", "extra"}, code: base.ExitUsage, stderr: []string{`unknown command "extra"`}},
		{args: []string{"check", "--timeout", "200ms", "127.0.0.1:1"}, code: base.ExitProblem},
		{args: []string{"truststore", "--servername", "x"}, code: base.ExitUsage, stderr: []string{"--servername goes with --verify"}},
		{args: []string{"pcap", "does-not-exist.pcap"}, code: base.ExitUsage, stderr: []string{"cannot read the capture"}},
		{args: []string{"check", "--keylog", "/no/such/dir/keys.log", "x"}, code: base.ExitUsage, stderr: []string{"tlskit: error: keylog: /no/such/dir/keys.log: the directory /no/such/dir does not exist", "tlskit: hint: create the directory first"}},
		// Runtime failures: exit 1, not 2.
		{args: []string{"lab", "--list"}, out: failingWriter{}, code: base.ExitProblem, stderr: []string{"tlskit: error: write /dev/stdout: broken pipe"}},
		{args: []string{"version"}, out: failingWriter{}, code: base.ExitProblem, stderr: []string{"broken pipe"}},
		{args: []string{"tunnel", "client", "--listen", inUse, "--target", "127.0.0.1:9", "--servername", "x.test"}, code: base.ExitProblem, stderr: []string{"tlskit: error: ", "address already in use"}},
		{args: []string{"tunnel", "client", "--listen", "127.0.0.1:0", "--target", "127.0.0.1:9", "--servername", "x.test", "--metrics", inUse}, code: base.ExitProblem, stderr: []string{"tlskit: error: tunnel: metrics: ", "address already in use"}},
	} {
		out := tc.out
		if out == nil {
			out = &bytes.Buffer{}
		}
		var errb bytes.Buffer
		code := Run(context.Background(), tc.args, base.Stdio{In: strings.NewReader(""), Out: out, Err: &errb})
		if code != tc.code {
			t.Errorf("tlskit %q exited %d, want %d\nstdout: %v\nstderr: %s", tc.args, code, tc.code, out, errb.String())
		}
		for _, want := range tc.stderr {
			if !strings.Contains(errb.String(), want) {
				t.Errorf("tlskit %q: stderr %q lacks %q", tc.args, errb.String(), want)
			}
		}
	}
}

// TestHints: the CLI prints a library error as it is, and takes hints from
// usage errors and Hint methods in the chain, never from the text.
func TestHints(t *testing.T) {
	inner := base.Usagef("the CLI's hint", "a usage error")
	err := errors.Join(inner, errors.New("plain"))
	if got := base.Hints(err); len(got) != 1 || got[0] != "the CLI's hint" {
		t.Errorf("hints = %q", got)
	}
	var b bytes.Buffer
	base.PrintError(&b, "tlskit", base.Usage(errors.New("keylog: keys.log: a symbolic link"), "name the real file"))
	if want := "tlskit: error: keylog: keys.log: a symbolic link\ntlskit: hint: name the real file\n"; b.String() != want {
		t.Errorf("printError wrote %q, want %q", b.String(), want)
	}
}
