// Package depcheck enforces the one-way flow of data described in
// ARCHITECTURE.md: bytes → facts → findings → views → process. The import
// table of ARCHITECTURE.md ("## Packages") is the rule: each package's
// direct in-module imports must be exactly the ones its row lists, every
// package needs a row, and only the CLI parses flags. The test fails, never
// skips, when it cannot run. TestDocLinks checks that doc links name what
// exists, and TestLeanExporter that tlskit-exporter links no more than the
// exporter needs.
package depcheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/tlskit/tlskit"

// pkg is what `go list -json` says about one package.
type pkg struct {
	ImportPath string
	Name       string   // the package name: main for programs
	Imports    []string // direct imports of the non-test files
	Dir        string
	GoFiles    []string
}

// moduleRoot returns the directory of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD: not inside the module")
	}
	return filepath.Dir(gomod)
}

// goList runs `go list ARGS...` in the module's root and returns its
// output; the test fails (never skips) when it cannot run, since then
// nothing it checks can be checked.
func goList(t *testing.T, root string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s failed, so what it lists cannot be checked: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// listPackages runs `go list -json` over the module.
func listPackages(t *testing.T, root string) []pkg {
	t.Helper()
	out := goList(t, root, "-json", "./...")
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

// notes matches a parenthesised note in the imports column.
var notes = regexp.MustCompile(`\([^)]*\)`)

// readTable parses the "## Packages" table of ARCHITECTURE.md into the
// direct in-module imports each package may have, by path relative to the
// module ("" is the root package, written `tlskit`).
func readTable(path string) (map[string][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rows := map[string][]string{}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Packages"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 5 {
			return nil, errors.New("a row without three cells: " + line)
		}
		name, ok := backticked(cells[1])
		if !ok {
			return nil, errors.New("a row whose first cell names no package in backticks: " + line)
		}
		if name == "tlskit" {
			name = ""
		}
		if _, dup := rows[name]; dup {
			return nil, errors.New("two rows for package " + cells[1])
		}
		imports := []string{}
		cell := notes.ReplaceAllString(cells[len(cells)-2], "") // "truststore (its search paths)"
		for _, s := range strings.Split(cell, ",") {
			s = strings.Trim(strings.TrimSpace(s), "`")
			switch s {
			case "", "—":
				continue
			case "tlskit":
				s = ""
			}
			imports = append(imports, s)
		}
		rows[name] = imports
	}
	if len(rows) == 0 {
		return nil, errors.New(`no "## Packages" table rows found`)
	}
	return rows, nil
}

// backticked returns the first `quoted` word of s.
func backticked(s string) (string, bool) {
	_, rest, ok := strings.Cut(s, "`")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, "`")
	return name, ok && name != ""
}

func TestDependencyFlow(t *testing.T) {
	root := moduleRoot(t)
	allowed, err := readTable(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatalf("ARCHITECTURE.md: %v", err)
	}
	seen := map[string]bool{}
	for _, p := range listPackages(t, root) {
		name := relName(p.ImportPath)
		seen[name] = true
		rule, ok := allowed[name]
		if !ok {
			t.Errorf("package %q has no row in ARCHITECTURE.md's package table; add one with what it owns and imports", display(name))
			continue
		}
		for _, d := range p.Imports {
			// Library packages know nothing of flags. Only direct imports
			// count: gopacket's reassembly registers flags of its own,
			// which no tlskit code parses, and testing (peertest) imports
			// flag. Programs (package main) may parse their own, and the
			// command-line packages under cmd/ (cmd/tlskit/internal/cli,
			// cmd/internal/base, cmd/internal/exportercmd) are theirs.
			if p.Name == "main" || strings.HasPrefix(name, "cmd/") || name == "internal/peertest" && d == "flag" {
				continue
			}
			if d == "flag" || strings.HasPrefix(d, "github.com/spf13/") {
				t.Errorf("library package %q imports %s: only the command-line packages under cmd/ parse flags", display(name), d)
			}
		}
		got := moduleImports(p.Imports)
		for _, d := range got {
			if !slices.Contains(rule, d) {
				t.Errorf("%q imports %q, which its row in ARCHITECTURE.md does not list (against the flow, or the table is out of date)", display(name), display(d))
			}
		}
		for _, d := range rule {
			if !slices.Contains(got, d) {
				t.Errorf("ARCHITECTURE.md says %q imports %q, but it does not: correct the row", display(name), display(d))
			}
		}
	}
	for name := range allowed {
		if !seen[name] {
			t.Errorf("ARCHITECTURE.md has a row for %q, which is not a package of the module", display(name))
		}
	}
}

// relName is an import path of the module relative to the module ("" for
// the root package), as the table and the picture name packages.
func relName(path string) string {
	return strings.TrimPrefix(strings.TrimPrefix(path, mod), "/")
}

// moduleImports returns the imports of the module among imports, by their
// relative names.
func moduleImports(imports []string) []string {
	var out []string
	for _, d := range imports {
		if d == mod || strings.HasPrefix(d, mod+"/") {
			out = append(out, relName(d))
		}
	}
	return out
}

// display names a package as the table does.
func display(name string) string {
	if name == "" {
		return "tlskit"
	}
	return name
}

// TestReadTable checks the parser on a table of the same shape.
func TestReadTable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "A.md")
	os.WriteFile(path, []byte("# x\n\n## Packages\n\n| package | owns | imports |\n|---|---|---|\n"+
		"| `finding` | ids | — |\n| `trust` | policy | finding, `truststore` (its paths) |\n| `tlskit` (root) | library | trust |\n"+
		"| `cmd/tlskit` | main | cmd/tlskit/internal/cli, tlskit |\n\n## Other\n\n| `x` | y | z |\n"), 0o600)
	got, err := readTable(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"finding": {}, "trust": {"finding", "truststore"}, "": {"trust"}, "cmd/tlskit": {"cmd/tlskit/internal/cli", ""}}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("row %q: got %q, want %q", k, got[k], v)
		}
	}
}
