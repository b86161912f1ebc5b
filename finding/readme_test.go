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

// TestEveryIDDocumented: every finding id this package defines is in the
// README (in backquotes), so that no id the code can emit is undocumented.
func TestEveryIDDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "finding.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			for _, v := range s.(*ast.ValueSpec).Values {
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
		t.Errorf("only %d ids found; did the declarations move?", n)
	}
}
