package finding

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// constant is a string constant declared in finding.go.
type constant struct{ name, value string }

// constants returns the string constants finding.go declares, in order.
func constants(t *testing.T) []constant {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "finding.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []constant
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					out = append(out, constant{name.Name, v})
				}
			}
		}
	}
	return out
}

// TestIDsDocumented: every finding id declared here appears, in backquotes,
// in README.md's tables (ids are a public contract).
func TestIDsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range constants(t) {
		if !strings.Contains(c.value, ".") {
			continue // a severity or a setting, not an id
		}
		n++
		if !strings.Contains(string(readme), "`"+c.value+"`") {
			t.Errorf("finding id %s is not documented in README.md", c.value)
		}
	}
	if n < 40 {
		t.Fatalf("found only %d finding ids in finding.go", n)
	}
}

// TestSettingsInSchema: every setting a finding's fix may name
// (Setting…) is in the JSON schema of check's report, whose "setting"
// enum tools validate against.
func TestSettingsInSchema(t *testing.T) {
	schema, err := os.ReadFile("../docs/check.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var enum []string
	for _, line := range strings.Split(string(schema), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), `"setting": {"enum": [`); ok {
			for _, s := range strings.Split(rest[:strings.IndexByte(rest, ']')], ",") {
				v, _ := strconv.Unquote(strings.TrimSpace(s))
				enum = append(enum, v)
			}
		}
	}
	n := 0
	for _, c := range constants(t) {
		if !strings.HasPrefix(c.name, "Setting") {
			continue
		}
		n++
		if !slices.Contains(enum, c.value) {
			t.Errorf("setting %s (%q) is not in docs/check.schema.json's setting enum %q", c.name, c.value, enum)
		}
	}
	if n < 15 {
		t.Fatalf("found only %d settings in finding.go", n)
	}
}
