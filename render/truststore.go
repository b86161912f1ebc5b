package render

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tlskit/tlskit/internal/termsafe"
	"github.com/tlskit/tlskit/trust"
	"github.com/tlskit/tlskit/truststore"
)

// TruststoreResult is what `tlskit truststore` reports: the audit and, with
// --verify, which stacks trust a chain. It is also its JSON.
type TruststoreResult struct {
	*truststore.Audit
	// Verify is the answer for the --verify chain; nil without one.
	Verify *ChainStacks `json:"verify,omitempty"`
}

// ChainStacks answers "which client on this machine would trust this
// chain?" for one chain and name.
type ChainStacks struct {
	// ServerName is the name the chain was verified for.
	ServerName string `json:"server_name"`
	// Chain is the chain as given, leaf first.
	Chain []trust.CertInfo `json:"chain"`
	// Stacks is each stack's verdict, in truststore.Stacks order.
	Stacks []truststore.StackVerdict `json:"stacks"`
}

// Truststore writes the audit, every certificate of every location when
// certs is set, and the stacks' verdicts when there are any, wrapped to
// o's width.
func Truststore(w io.Writer, r TruststoreResult, certs bool, o Options) error {
	if err := Audit(w, r.Audit, certs, o); err != nil {
		return err
	}
	if r.Verify == nil {
		return nil
	}
	leaf := ""
	if len(r.Verify.Chain) > 0 {
		leaf = r.Verify.Chain[0].Subject
	}
	return Stacks(w, r.Verify.ServerName, leaf, r.Verify.Stacks, o)
}

// Audit writes a trust store audit: the locations that exist, with what
// they hold and who reads them, each certificate when certs is set, and
// the findings.
func Audit(w io.Writer, a *truststore.Audit, certs bool, o Options) error {
	p := &printer{w: w}
	root := a.Root
	if root == "" {
		root = "/"
	}
	p.f("tlskit truststore %s (OPENSSLDIR %s)\n\nLOCATIONS\n", root, a.OpenSSLDir)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  PATH\tKIND\tCERTS\tREAD BY\n")
	missing := 0
	for _, l := range a.Locations {
		if !l.Exists {
			missing++
			continue
		}
		n := fmt.Sprint(len(l.Certs))
		if l.Problem != "" {
			n = "! " + l.Problem
		}
		path := l.Path
		if l.Resolved != "" {
			path += " → " + l.Resolved
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", termsafe.String(path), l.Kind, termsafe.String(n), readers(l.Sources))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if missing > 0 {
		p.f("  (%d other places clients look do not exist here; --json lists them)\n", missing)
	}
	if certs {
		for _, l := range a.Locations {
			if len(l.Certs) == 0 {
				continue
			}
			p.f("\n%s\n", l.Path)
			for _, c := range l.Certs {
				p.f("  %s  %s  %s\n", c.SubjectHash, c.NotAfter.Format("2006-01-02"), c.Subject)
			}
		}
	}
	p.f("\nFINDINGS\n")
	if p.err != nil {
		return p.err
	}
	FindingsWidth(w, a.Findings, o.width())
	return nil
}

// readers shortens a location's sources ("go: root_linux.go certFiles", …)
// to the distinct clients that read it.
func readers(sources []string) string {
	var names []string
	seen := map[string]bool{}
	for _, s := range sources {
		name, _, _ := strings.Cut(s, ":")
		for _, n := range strings.Split(name, "/") {
			if n = strings.TrimSpace(n); n != "" && !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return strings.Join(names, ", ")
}

// Stacks writes which TLS stacks on this machine trust a chain for
// serverName (leaf is the leaf's subject, "" if unknown): one line per
// stack with its roots, and why and how to fix it when one refuses. It is
// the one view of the stacks' verdicts: `tlskit check --stacks` and
// `tlskit truststore --verify` both print it.
func Stacks(w io.Writer, serverName, leaf string, verdicts []truststore.StackVerdict, o Options) error {
	p := &printer{w: w}
	text := o.width() - 6
	head := "WHO ON THIS MACHINE TRUSTS THIS CHAIN"
	var about []string
	if serverName != "" {
		about = append(about, "for "+serverName)
	}
	if leaf != "" {
		about = append(about, "leaf "+leaf)
	}
	if len(about) > 0 {
		head += fmt.Sprintf(" (%s)", strings.Join(about, ", "))
	}
	p.f("\n%s\n", wrap(head, o.width()))
	for _, v := range verdicts {
		mark := "✓ trusts "
		if !v.Trusted {
			mark = "✗ refuses"
		}
		p.f("%s", wrapParts(fmt.Sprintf("  %-16s %s", v.Stack, mark), []string{fmt.Sprintf("(%d roots from %s)", v.Roots, orDash(strings.Join(v.Sources, ", ")))}, o.width(), "      "))
		for _, l := range v.Lenient {
			p.f("%s", indent(wrap("lenient: "+l, text), "      "))
		}
		if v.Stricter != "" {
			p.f("%s", indent(wrap("but tlskit refuses it: "+v.Stricter, text), "      "))
		}
		if v.Reason != "" {
			p.f("%s", indent(wrap("why: "+v.Reason, text), "      "))
		}
		if v.Fix != "" {
			p.f("%s", indent(wrap("fix: "+v.Fix, text), "      "))
		}
		if v.Note != "" {
			p.f("%s", indent(wrap("note: "+v.Note, text), "      "))
		}
	}
	return p.err
}
