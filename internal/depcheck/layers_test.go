package depcheck

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readLayers parses the layer picture, the first fenced block of
// ARCHITECTURE.md: one row per layer, top first, "layer  packages  what it
// does" with columns two or more spaces apart and packages separated by
// ", ". It returns each package's layer, counted from the bottom (0).
func readLayers(path string) (map[string]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rows [][]string
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	cols := regexp.MustCompile(`\s{2,}`)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			if in {
				break
			}
			in = true
			continue
		}
		if !in || strings.TrimSpace(line) == "" || strings.Contains(line, "───") || strings.HasPrefix(strings.TrimSpace(line), "layer ") {
			continue
		}
		f := cols.Split(strings.TrimSpace(line), -1)
		if len(f) < 2 {
			return nil, errors.New("a layer row without packages: " + line)
		}
		rows = append(rows, strings.Split(f[1], ", "))
	}
	if len(rows) == 0 {
		return nil, errors.New("no layer picture (the first fenced block)")
	}
	layer := map[string]int{}
	for i, pkgs := range rows {
		for _, p := range pkgs {
			if p == "tlskit" {
				p = ""
			}
			if _, dup := layer[p]; dup {
				return nil, errors.New("package " + display(p) + " is in two layers")
			}
			layer[p] = len(rows) - 1 - i
		}
	}
	return layer, nil
}

// TestLayers: the picture at the top of ARCHITECTURE.md tells the truth:
// every package is in it once, and every direct in-module import goes to a
// lower layer.
func TestLayers(t *testing.T) {
	root := moduleRoot(t)
	layer, err := readLayers(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatalf("ARCHITECTURE.md: %v", err)
	}
	seen := map[string]bool{}
	for _, p := range listPackages(t, root) {
		name := relName(p.ImportPath)
		seen[name] = true
		l, ok := layer[name]
		if !ok {
			t.Errorf("package %q is not in ARCHITECTURE.md's layer picture", display(name))
			continue
		}
		for _, dep := range moduleImports(p.Imports) {
			if dl, ok := layer[dep]; ok && dl >= l {
				t.Errorf("%q imports %q, which the layer picture puts at the same layer or above", display(name), display(dep))
			}
		}
	}
	for name := range layer {
		if !seen[name] {
			t.Errorf("the layer picture names %q, which is not a package of the module", display(name))
		}
	}
}

// TestReadLayers checks the picture parser.
func TestReadLayers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "A.md")
	os.WriteFile(path, []byte("# x\n\n```\n layer   packages         what\n ─────   ────────         ────\n top     cmd/x            runs\n mid     tlskit, probe    does\n bottom  finding          words\n```\n\n```\n other   x, y  z\n```\n"), 0o600)
	got, err := readLayers(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"cmd/x": 2, "": 1, "probe": 1, "finding": 0}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%q: layer %d, want %d", k, got[k], v)
		}
	}
}
