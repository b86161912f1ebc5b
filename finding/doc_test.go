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

// TestIDsDocumented: every finding id declared here appears, in backquotes,
// in README.md's tables (ids are a public contract).
func TestIDsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "finding.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				id, _ := strconv.Unquote(lit.Value)
				if !strings.Contains(id, ".") {
					continue // a severity, not an id
				}
				n++
				if !strings.Contains(string(readme), "`"+id+"`") {
					t.Errorf("finding id %s is not documented in README.md", id)
				}
			}
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
	f, err := parser.ParseFile(token.NewFileSet(), "finding.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Setting") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, _ := strconv.Unquote(lit.Value)
				n++
				if !slices.Contains(enum, v) {
					t.Errorf("setting %s (%q) is not in docs/check.schema.json's setting enum %q", name.Name, v, enum)
				}
			}
		}
	}
	if n < 15 {
		t.Fatalf("found only %d settings in finding.go", n)
	}
}
