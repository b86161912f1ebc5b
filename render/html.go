package render

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/internal/termsafe"
)

// HTMLPage is the shell of tlskit's HTML pages: one self-contained file
// (styles and script inline, no external asset, so it can be mailed or
// archived), with a header, and any number of sections a command writes
// between [HTMLPage.Begin] and [HTMLPage.End]. In a page, every
// <table class="sortable"> sorts by a column when its header is clicked
// (by each cell's data-sort attribute when it has one, else its text;
// numbers as numbers), and an element with class "first" is shown at the
// top of the page whatever its place in the file, so that a summary known
// only at the end of a streamed page can be read first. `check` with
// --html uses it through [HTMLRun]; other commands write their own
// sections in the same shell.
type HTMLPage struct {
	// Title is the page's title and heading.
	Title string
	// Subtitle is one line under the heading (what was run, when).
	Subtitle string
}

// executeSafe runs the template name of t into w with what
// termsafe.String escapes escaped: a page's values are a peer's
// (certificate names, banners, alerts), and a right-to-left override in
// one would reorder the text around it in the browser as on a terminal.
func executeSafe(w io.Writer, t *template.Template, name string, data any) error {
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return err
	}
	_, err := io.WriteString(w, termsafe.String(b.String()))
	return err
}

// Begin writes everything up to the page's first section.
func (p HTMLPage) Begin(w io.Writer) error {
	return executeSafe(w, htmlTemplates(), "begin", p)
}

// End writes the end of the page.
func (p HTMLPage) End(w io.Writer) error {
	return executeSafe(w, htmlTemplates(), "end", p)
}

// HTMLRun writes the page of a check over many targets as the reports come,
// so that a run of any length costs the memory of one report: a sortable
// table with a row per target (verdict, negotiated version and suite, the
// soonest expiry, the findings) whose details hold the target's handshake
// ladder, chain and findings, and the run's summary, shown first.
type HTMLRun struct {
	w     io.Writer
	page  HTMLPage
	now   time.Time
	begun bool
	n     int
	err   error
}

// NewHTMLRun starts a page on w; now is when the run was verified as of
// (validity is phrased against it).
func NewHTMLRun(w io.Writer, page HTMLPage, now time.Time) *HTMLRun {
	return &HTMLRun{w: w, page: page, now: now}
}

// htmlRow is what the row template shows of one report.
type htmlRow struct {
	N        int
	Report   *diagnose.Report
	Expiry   string
	ExpirySo int64 // sort key: Unix seconds, or the largest value when unknown
	Days     string
	Ladder   string
	Findings []htmlFinding
}

type htmlFinding struct {
	ID, Severity, Title, Detail, Fix string
	Evidence                         []string
}

// Add writes the row of one report.
func (h *HTMLRun) Add(r *diagnose.Report) error {
	if h.err != nil {
		return h.err
	}
	if !h.begun {
		h.begun = true
		if h.err = h.page.Begin(h.w); h.err != nil {
			return h.err
		}
		if h.err = executeSafe(h.w, htmlTemplates(), "run-begin", nil); h.err != nil {
			return h.err
		}
	}
	h.n++
	row := htmlRow{N: h.n, Report: r, ExpirySo: 1 << 62}
	if t, ok := EarliestNotAfter(r); ok {
		row.Expiry = t.UTC().Format("2006-01-02")
		row.ExpirySo = t.Unix()
		row.Days = fmt.Sprintf("%d days", int(t.Sub(h.now).Hours()/24))
	}
	var b bytes.Buffer
	Transcript(&b, r.Transcript, Options{})
	if r.Closed != nil {
		fmt.Fprintf(&b, "  %s\n", Closure(r.Closed))
	}
	Chain(&b, r.Chain, r.VerifiedPath, h.now)
	row.Ladder = strings.TrimLeft(b.String(), "\n")
	for _, f := range r.Findings {
		row.Findings = append(row.Findings, htmlFinding{f.ID, string(f.Severity), f.Title, f.Detail, f.Fix, f.Evidence})
	}
	h.err = executeSafe(h.w, htmlTemplates(), "run-row", row)
	return h.err
}

// Close writes the summary and the end of the page.
func (h *HTMLRun) Close(s diagnose.Summary) error {
	if h.err != nil {
		return h.err
	}
	if !h.begun {
		if h.err = h.page.Begin(h.w); h.err != nil {
			return h.err
		}
		if h.err = executeSafe(h.w, htmlTemplates(), "run-begin", nil); h.err != nil {
			return h.err
		}
	}
	type expiring struct {
		diagnose.ExpiringCert
		Left string
	}
	var exp []expiring
	for _, c := range s.Expiring {
		t, _ := time.Parse(time.RFC3339, c.NotAfter)
		exp = append(exp, expiring{c, fmt.Sprintf("%d days", int(t.Sub(h.now).Hours()/24))})
	}
	if h.err = executeSafe(h.w, htmlTemplates(), "run-end", map[string]any{"S": s, "Expiring": exp}); h.err != nil {
		return h.err
	}
	h.err = h.page.End(h.w)
	return h.err
}

// htmlTemplates are the page shell's and the fleet table's templates,
// parsed on first use: parsing them took 1.3 ms and 3,400 allocations at
// the start of every tlskit command (GODEBUG=inittrace=1), most of which
// write no HTML.
var htmlTemplates = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Parse(htmlTemplateText))
})

const htmlTemplateText = `
{{define "begin"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:1em 2em;max-width:1400px;color:#1b1f24;background:#fff;display:flex;flex-direction:column}
header{order:-2} .first{order:-1}
h1{font-size:1.4em;margin:.2em 0} h2{font-size:1.15em;margin:1.2em 0 .4em}
.sub{color:#57606a}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border-bottom:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}
table.sortable th{cursor:pointer;user-select:none} table.sortable th:after{content:" \2195";color:#8c959f}
table.sortable th.asc:after{content:" \2191"} table.sortable th.desc:after{content:" \2193"}
.num{text-align:right;font-variant-numeric:tabular-nums}
.v{font-weight:600;text-transform:uppercase;font-size:.85em;padding:.1em .4em;border-radius:3px}
.v-trusted{background:#dafbe1;color:#116329} .v-untrusted{background:#ffebe9;color:#a40e26}
.v-failed{background:#ffebe9;color:#a40e26} .v-unverified{background:#fff8c5;color:#7d4e00} .v-unknown{background:#fff8c5;color:#7d4e00}
.s-error{color:#a40e26;font-weight:600} .s-warning{color:#7d4e00;font-weight:600} .s-info{color:#57606a}
code,pre{font:12px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;border-radius:4px}
details summary{cursor:pointer;color:#0969da}
ul.f{margin:.3em 0;padding-left:1.2em} ul.f li{margin:.3em 0}
.ev{color:#57606a;font-size:.9em}
</style>
<script>
document.addEventListener("click", function (ev) {
  var th = ev.target.closest("table.sortable th");
  if (!th) return;
  var table = th.closest("table"), body = table.tBodies[0], col = th.cellIndex;
  var dir = th.classList.contains("asc") ? -1 : 1;
  Array.prototype.forEach.call(th.parentNode.children, function (h) { h.classList.remove("asc", "desc"); });
  th.classList.add(dir > 0 ? "asc" : "desc");
  function key(row) {
    var c = row.cells[col]; if (!c) return "";
    var k = c.hasAttribute("data-sort") ? c.getAttribute("data-sort") : c.textContent.trim();
    var n = Number(k); return k !== "" && !isNaN(n) ? n : k.toLowerCase();
  }
  var rows = Array.prototype.slice.call(body.rows);
  rows.sort(function (a, b) {
    var x = key(a), y = key(b);
    if (typeof x === typeof y) return (x < y ? -1 : x > y ? 1 : 0) * dir;
    return (typeof x === "number" ? -1 : 1) * dir;
  });
  rows.forEach(function (r) { body.appendChild(r); });
});
</script>
</head><body>
<header><h1>{{.Title}}</h1>{{with .Subtitle}}<div class="sub">{{.}}</div>{{end}}</header>
{{end}}

{{define "end"}}</body></html>
{{end}}

{{define "run-begin"}}<section><h2>Targets</h2>
<table class="sortable"><thead><tr><th class="num">#</th><th>target</th><th>verdict</th><th>TLS</th><th>expires first</th><th class="num">left</th><th>findings</th></tr></thead><tbody>
{{end}}

{{define "run-row"}}<tr><td class="num">{{.N}}</td>
<td><code>{{.Report.Target}}</code>{{with .Report.ServerName}}<br><span class="sub">{{.}}</span>{{end}}</td>
<td data-sort="{{.Report.Verdict}}"><span class="v v-{{.Report.Verdict}}">{{.Report.Verdict}}</span></td>
<td>{{.Report.Version}}{{with .Report.CipherSuite}}<br><span class="sub">{{.}}</span>{{end}}</td>
<td data-sort="{{.ExpirySo}}">{{.Expiry}}</td><td class="num" data-sort="{{.ExpirySo}}">{{.Days}}</td>
<td data-sort="{{len .Findings}}">{{range .Findings}}<span class="s-{{.Severity}}">{{.ID}}</span> {{end}}
<details><summary>ladder and findings</summary>
{{if .Findings}}<ul class="f">{{range .Findings}}<li><span class="s-{{.Severity}}">{{.Severity}} {{.ID}}</span>: {{.Title}}<br>{{.Detail}}<br><em>Fix:</em> {{.Fix}}{{range .Evidence}}<br><code class="ev">{{.}}</code>{{end}}</li>{{end}}</ul>{{end}}
<pre>{{.Ladder}}</pre></details></td></tr>
{{end}}

{{define "run-end"}}</tbody></table></section>
<section class="first"><h2>Summary</h2>
<p>{{.S.Targets}} targets{{range .S.Verdicts}} · {{.Count}} <span class="v v-{{.Verdict}}">{{.Verdict}}</span>{{end}}</p>
{{if .S.Findings}}<table class="sortable"><thead><tr><th>finding</th><th>severity</th><th class="num">targets</th><th class="num">findings</th></tr></thead><tbody>
{{range .S.Findings}}<tr><td><code>{{.ID}}</code></td><td class="s-{{.Severity}}">{{.Severity}}</td><td class="num">{{.Targets}}</td><td class="num">{{.Count}}</td></tr>
{{end}}</tbody></table>{{end}}
{{if .Expiring}}<h2>Certificates that expire first</h2>
<table class="sortable"><thead><tr><th>not after</th><th class="num">left</th><th>subject</th><th>issuer</th><th>first seen at</th><th class="num">targets</th></tr></thead><tbody>
{{range .Expiring}}<tr><td>{{.NotAfter}}</td><td class="num" data-sort="{{.NotAfter}}">{{.Left}}</td><td>{{.Subject}}</td><td>{{.Issuer}}</td><td><code>{{.Target}}</code></td><td class="num">{{.Targets}}</td></tr>
{{end}}</tbody></table>{{end}}
</section>
{{end}}
`
