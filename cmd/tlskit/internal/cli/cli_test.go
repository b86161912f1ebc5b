package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestExitCodes checks the documented exit statuses: 0 fine, 1 a problem
// found, 2 usage errors and bad input.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"version"}, ExitOK, ""},
		{[]string{"check"}, ExitUsage, "tlskit: error: check takes one HOST[:PORT]"},
		{[]string{"check", "--timeout", "-1s", "x"}, ExitUsage, "--timeout must be positive"},
		{[]string{"nope"}, ExitUsage, `unknown command "nope"`},
		{[]string{"check", "--bogus", "x"}, ExitUsage, "unknown flag: --bogus"},
		{[]string{"check", "--timeout", "200ms", "127.0.0.1:1"}, ExitProblem, ""},
		{[]string{"truststore", "--servername", "x"}, ExitUsage, "--servername goes with --verify"},
	} {
		var out, errb bytes.Buffer
		code := Run(context.Background(), tc.args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
		if code != tc.code {
			t.Errorf("tlskit %q exited %d, want %d\nstdout: %s\nstderr: %s", tc.args, code, tc.code, out.String(), errb.String())
		}
		if !strings.Contains(errb.String(), tc.stderr) {
			t.Errorf("tlskit %q: stderr %q lacks %q", tc.args, errb.String(), tc.stderr)
		}
	}
}
