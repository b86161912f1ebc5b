package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/schematest"
	"github.com/tlskit/tlskit/lab"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tlskit": func() { os.Exit(run()) },
	})
}

// TestScripts runs the command-line tests in testdata/script. Each script
// sees the lab running on loopback, as the variables of [lab.Lab.Env]:
// $LAB_ROOT is its trust anchor, $LAB_<CASE> (upper case, dashes as
// underscores) the address of each case, e.g. $LAB_EXPIRED, and
// $LAB_CHAIN_<CASE> the chain it serves (PEM), e.g. $LAB_CHAIN_EXPIRED.
func TestScripts(t *testing.T) {
	l, err := lab.Start(context.Background(), lab.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			for k, v := range l.Env() {
				env.Setenv(k, v)
			}
			return nil
		},
		// [peer:NAME]: the program NAME is installed (a missing one is an
		// error under TLSKIT_REQUIRE_PEERS=1).
		Condition: peertest.ScriptCondition,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"maxwidth":   maxWidth,
			"jsonschema": jsonSchema,
		},
	})
}

// jsonSchema is the script command "jsonschema NAME FILE": FILE (stdout,
// stderr or a file) follows docs/NAME.schema.json (check or pcap).
// "jsonschema check-lines FILE" takes check's JSON lines over many
// targets: each line a report, the last the run summary.
func jsonSchema(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: jsonschema check|check-lines|pcap FILE")
	}
	dir, err := schematest.Dir()
	if err != nil {
		ts.Fatalf("%v", err)
	}
	name, lines := strings.CutSuffix(args[0], "-lines")
	s, err := schematest.Load(filepath.Join(dir, name+".schema.json"))
	if err != nil {
		ts.Fatalf("%v", err)
	}
	if !lines {
		if err := s.Validate([]byte(ts.ReadFile(args[1]))); err != nil {
			ts.Fatalf("%s does not follow docs/%s.schema.json:\n%v", args[1], name, err)
		}
		return
	}
	for i, line := range strings.Split(strings.TrimSpace(ts.ReadFile(args[1])), "\n") {
		if strings.HasPrefix(line, `{"summary":`) {
			err = s.ValidateRef("#/$defs/run_summary", []byte(line))
		} else {
			err = s.Validate([]byte(line))
		}
		if err != nil {
			ts.Fatalf("line %d of %s does not follow docs/%s.schema.json:\n%v", i+1, args[1], name, err)
		}
	}
}

// maxWidth is the script command "maxwidth N FILE": every line of FILE
// (stdout, stderr or a file) is at most N characters wide.
func maxWidth(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: maxwidth N FILE")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("maxwidth: %v", err)
	}
	widest, at := 0, ""
	for _, line := range strings.Split(ts.ReadFile(args[1]), "\n") {
		if w := utf8.RuneCountInString(line); w > widest {
			widest, at = w, line
		}
	}
	if (widest > n) != neg {
		ts.Fatalf("the widest line of %s has %d characters (want at most %d): %s", args[1], widest, n, at)
	}
}
