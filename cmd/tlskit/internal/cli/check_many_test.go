package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/lab"
)

// TestBulkJSONLines checks 1,000 targets (six lab servers: healthy TLS 1.3
// and 1.2, expired, untrusted root, client certificate required, nothing
// listening) with `check --targets FILE --json --concurrency 32`: every
// target has its JSON line, in input order (each line names the target's
// address and server name, and the finding its lab case was built for),
// then the summary line counts them.
func TestBulkJSONLines(t *testing.T) {
	l, err := lab.Start(context.Background(), lab.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	names := []string{"good", "good-tls12", "expired", "untrusted-root", "client-cert-required-tls13", "refused"}
	var cases []lab.Case
	for _, n := range names {
		c, ok := l.Case(n)
		if !ok {
			t.Fatalf("no lab case %s", n)
		}
		cases = append(cases, c)
	}
	const n = 1000
	var list strings.Builder
	want := make([]lab.Case, n)
	for i := range n {
		// A pseudo-random order, so that neighbours finish at different times.
		c := cases[(i*7+i/13)%len(cases)]
		want[i] = c
		fmt.Fprintf(&list, "%s %s\n", c.Addr, c.ServerName())
	}
	file := filepath.Join(t.TempDir(), "targets.txt")
	if err := os.WriteFile(file, []byte(list.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := Run(t.Context(), []string{"check", "--json", "--ca-file", l.Files().Root, "--targets", file, "--concurrency", "32", "--per-host", "0"},
		base.Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	if code != base.ExitProblem {
		t.Errorf("exit %d, want 1 (some targets fail); stderr %s", code, errb.String())
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 16<<20)
	i := 0
	trusted := 0
	for ; sc.Scan(); i++ {
		if i == n {
			var s struct {
				Summary struct {
					Targets  int `json:"targets"`
					Verdicts []struct {
						Verdict diagnose.Verdict `json:"verdict"`
						Count   int              `json:"count"`
					} `json:"verdicts"`
				} `json:"summary"`
			}
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil || s.Summary.Targets != n {
				t.Fatalf("line %d: %v, want the summary of %d targets: %.200s", i+1, err, n, sc.Text())
			}
			if s.Summary.Verdicts[0].Verdict != diagnose.Trusted || s.Summary.Verdicts[0].Count != trusted {
				t.Errorf("summary verdicts %+v, want %d trusted first", s.Summary.Verdicts, trusted)
			}
			continue
		}
		var rep struct {
			Target     string `json:"target"`
			ServerName string `json:"server_name"`
			Verdict    diagnose.Verdict
			Findings   []finding.Finding
		}
		if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		c := want[i]
		if rep.Target != c.Addr || rep.ServerName != c.ServerName() {
			t.Fatalf("line %d is %s %s, want %s %s: out of order", i+1, rep.Target, rep.ServerName, c.Addr, c.ServerName())
		}
		switch {
		case c.Finding == "":
			if rep.Verdict != diagnose.Trusted {
				t.Errorf("line %d (%s): verdict %s, want trusted", i+1, c.Name, rep.Verdict)
			}
			trusted++
		case !finding.Has(rep.Findings, c.Finding):
			t.Errorf("line %d (%s): findings %v, want %s", i+1, c.Name, rep.Findings, c.Finding)
		}
	}
	if i != n+1 {
		t.Errorf("%d lines, want %d reports and the summary", i, n+1)
	}
}
