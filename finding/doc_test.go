package finding

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
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
