package render

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"

	"github.com/tlskit/tlskit/scan"
	"github.com/tlskit/tlskit/transcript"
)

// scanHTML is the template of a scan's sections in an [HTMLPage]: the
// tables, the findings and every probe's ladder, with the little style and
// script of their own (a probe filter; a link to a probe opens it).
//
//go:embed scan.html
var scanHTML string

// featureRow is one row of the session features table.
type featureRow struct {
	Name, State, Class, Detail string
	Probes                     []int
}

// scanTemplate is the scan report's template, parsed on first use (see
// htmlTemplates).
var scanTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("scan").Funcs(scanFuncs()).Parse(scanHTML))
})

// scanFuncs returns the scan template's functions.
func scanFuncs() template.FuncMap {
	return template.FuncMap{
		"seconds": func(ms float64) float64 { return ms / 1000 },
		"inc":     func(n int) int { return n + 1 },
		"join":    func(s []string) string { return strings.Join(s, ", ") },
		"features": func(s scan.SessionFeatures) []featureRow {
			var out []featureRow
			for _, r := range sessionRows(s) {
				class := "no"
				switch {
				case r.heartbleed && r.f.State == "VULNERABLE":
					class = "vulnerable"
				case r.heartbleed && r.f.State == "not vulnerable":
					class = "yes"
				case r.f.State == scan.Supported:
					class = "supported"
				case r.f.State == scan.Unknown:
					class = "warning"
				}
				out = append(out, featureRow{Name: r.name, State: r.f.State, Class: class, Detail: r.f.Detail, Probes: r.f.Probes})
			}
			return out
		},
		"trust": func(c scan.ClientResult) string {
			switch {
			case c.Trusted != nil && *c.Trusted:
				return "✓ " + c.TrustStore + " trusts it"
			case c.Trusted != nil:
				return "✗ " + c.TrustStore + ": " + c.TrustDetail
			}
			return c.TrustDetail
		},
		"ladder": ladderLine,
		"vulnclass": func(state string) string {
			switch state {
			case scan.Vulnerable:
				return "vulnerable"
			case scan.PotentiallyVulnerable, scan.Unknown:
				return "warning"
			case scan.NotVulnerable:
				return "yes"
			}
			return "no"
		},
	}
}

// ladderLine is one event of a probe's ladder, in words.
func ladderLine(e transcript.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s", e.From.Arrow(), eventName(e))
	if e.RecordLen > 0 {
		fmt.Fprintf(&b, "  %d B", e.RecordLen)
	}
	switch {
	case e.Decrypted:
		b.WriteString(" [decrypted]")
	case e.Encrypted:
		b.WriteString(" [encrypted]")
	}
	if d := eventDetail(e); d != "" {
		b.WriteString("  " + d)
	}
	return b.String()
}

// ScanHTML writes the reports as one self-contained HTML page in
// tlskit's page shell ([HTMLPage]: inline styles and script, sortable
// tables).
func ScanHTML(w io.Writer, reps []*scan.Report) error {
	page := HTMLPage{Title: "tlskit scan"}
	var targets []string
	for _, r := range reps {
		targets = append(targets, r.Target)
	}
	if len(reps) > 0 {
		page.Subtitle = fmt.Sprintf("%s, scanned %s", strings.Join(targets, ", "), reps[0].Started.UTC().Format("2006-01-02 15:04:05Z"))
	}
	if err := page.Begin(w); err != nil {
		return err
	}
	if err := executeSafe(w, scanTemplate(), "scan-sections", reps); err != nil {
		return err
	}
	return page.End(w)
}
