package depcheck

import (
	"go/ast"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"path"
	"path/filepath"
	"strconv"
	"testing"
	"unicode"
	"unicode/utf8"
)

// symbols are the names a doc link may point at in one package: top-level
// declarations, and "Type.Method" / "Type.Field".
type symbols map[string]bool

// parsedPkg is one package of the module, parsed with its comments.
type parsedPkg struct {
	importPath string
	name       string // the package clause's name
	files      []*ast.File
	syms       symbols
}

// TestDocLinks checks that every doc link ([Name], [Type.Method],
// [pkg.Name]) in the doc comments of the module's packages names something
// that exists, in the package itself or in another package of the module;
// links to other modules and the standard library are not checked. A
// broken link renders as plain text, so nothing else would notice.
func TestDocLinks(t *testing.T) {
	root := moduleRoot(t)
	pkgs := map[string]*parsedPkg{}
	var order []string
	fset := token.NewFileSet()
	for _, p := range listPackages(t, root) {
		pp := &parsedPkg{importPath: p.ImportPath, name: p.Name, syms: symbols{}}
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			pp.files = append(pp.files, f)
			collect(f, pp.syms)
		}
		pkgs[p.ImportPath] = pp
		order = append(order, p.ImportPath)
	}
	links := 0
	for _, ip := range order {
		pp := pkgs[ip]
		imports := map[string]string{} // what the package's files import, as go doc resolves links
		for _, f := range pp.files {
			for _, is := range f.Imports {
				p, _ := strconv.Unquote(is.Path.Value)
				name := path.Base(p)
				if is.Name != nil {
					name = is.Name.Name
				}
				imports[name] = p
			}
		}
		for _, f := range pp.files {
			parser := &comment.Parser{
				LookupPackage: func(name string) (string, bool) {
					if p, ok := imports[name]; ok {
						return p, true
					}
					for _, other := range order { // a module package named without importing it
						if pkgs[other].name == name && name != "main" {
							return other, true
						}
					}
					return "", false
				},
				LookupSym: func(recv, name string) bool { return exported(name) && (recv == "" || exported(recv)) },
			}
			for _, cg := range docComments(f) {
				doc := parser.Parse(cg.Text())
				for _, l := range docLinks(doc) {
					links++
					target := pp
					if l.ImportPath != "" {
						if target = pkgs[l.ImportPath]; target == nil {
							continue // outside the module
						}
					}
					if l.Name == "" {
						continue // [pkg]: the package exists
					}
					key := l.Name
					if l.Recv != "" {
						key = l.Recv + "." + l.Name
					}
					if !target.syms[key] {
						t.Errorf("%s: doc link [%s] names nothing in %s", fset.Position(cg.Pos()), linkText(l), target.importPath)
					}
				}
			}
		}
	}
	if links == 0 {
		t.Fatal("no doc links found: the checker is broken")
	}
}

func exported(name string) bool {
	r, _ := utf8.DecodeRuneInString(name)
	return unicode.IsUpper(r)
}

func linkText(l *comment.DocLink) string {
	s := l.Name
	if l.Recv != "" {
		s = l.Recv + "." + s
	}
	if l.ImportPath != "" {
		s = path.Base(l.ImportPath) + "." + s
	}
	return s
}

// collect adds f's declarations to syms.
func collect(f *ast.File, syms symbols) {
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil || len(d.Recv.List) == 0 {
				syms[d.Name.Name] = true
				continue
			}
			if recv := recvName(d.Recv.List[0].Type); recv != "" {
				syms[recv+"."+d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					syms[s.Name.Name] = true
					var fields *ast.FieldList
					switch t := s.Type.(type) {
					case *ast.StructType:
						fields = t.Fields
					case *ast.InterfaceType:
						fields = t.Methods
					}
					if fields == nil {
						continue
					}
					for _, fl := range fields.List {
						for _, n := range fl.Names {
							syms[s.Name.Name+"."+n.Name] = true
						}
						if len(fl.Names) == 0 { // embedded: its name is the type's
							if n := recvName(fl.Type); n != "" {
								syms[s.Name.Name+"."+n] = true
							}
						}
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						syms[n.Name] = true
					}
				}
			}
		}
	}
}

// recvName returns the type name of a receiver or embedded field: T, *T,
// T[P], pkg.T.
func recvName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return recvName(e.X)
	case *ast.IndexExpr:
		return recvName(e.X)
	case *ast.IndexListExpr:
		return recvName(e.X)
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.Ident:
		return e.Name
	}
	return ""
}

// docComments returns f's doc comments: the package's, and those of
// declarations, specs, fields and interface methods.
func docComments(f *ast.File) []*ast.CommentGroup {
	var out []*ast.CommentGroup
	add := func(cg *ast.CommentGroup) {
		if cg != nil {
			out = append(out, cg)
		}
	}
	add(f.Doc)
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			add(n.Doc)
			return false // comments in bodies are not documentation
		case *ast.GenDecl:
			add(n.Doc)
		case *ast.TypeSpec:
			add(n.Doc)
		case *ast.ValueSpec:
			add(n.Doc)
		case *ast.Field:
			add(n.Doc)
		}
		return true
	})
	return out
}

// docLinks returns the doc links in d.
func docLinks(d *comment.Doc) []*comment.DocLink {
	var out []*comment.DocLink
	var text func([]comment.Text)
	text = func(ts []comment.Text) {
		for _, t := range ts {
			switch t := t.(type) {
			case *comment.DocLink:
				out = append(out, t)
			case *comment.Link:
				text(t.Text)
			case *comment.Italic, comment.Plain:
			}
		}
	}
	for _, b := range d.Content {
		switch b := b.(type) {
		case *comment.Paragraph:
			text(b.Text)
		case *comment.Heading:
			text(b.Text)
		case *comment.List:
			for _, it := range b.Items {
				for _, ib := range it.Content {
					if p, ok := ib.(*comment.Paragraph); ok {
						text(p.Text)
					}
				}
			}
		}
	}
	return out
}
