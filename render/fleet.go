package render

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/termsafe"
	"github.com/tlskit/tlskit/trust"
)

// JSONLine writes v as one line of compact JSON (a JSON Lines record).
func JSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// FleetSummaryJSON is the last line of `check --json` over many targets:
// {"summary": {...}}, told apart from the reports by its one key.
type FleetSummaryJSON struct {
	Summary diagnose.Summary `json:"summary"`
}

// CSVColumns are the columns of [CSV], in order.
var CSVColumns = []string{"target", "address", "server_name", "verdict", "version", "cipher_suite",
	"leaf_subject", "leaf_issuer", "leaf_not_after", "leaf_days_left", "earliest_not_after",
	"errors", "warnings", "duration_ms"}

// CSV writes one row per report for spreadsheets: the header first, then
// [CSV.Write] for each report. Cells a spreadsheet would run as a formula
// (starting with =, +, -, @) get a leading quote: a certificate's subject
// is the server's text. Numbers stay numbers (see csvCell).
type CSV struct {
	w   *csv.Writer
	now func() time.Time
	hdr bool
}

// csvCell returns s as a cell a spreadsheet shows as text: one starting
// with = + - @, a tab or a carriage return (a certificate's subject is the
// server's to choose) gets a leading quote, as OWASP advises against
// formula injection; a number (days left, -5 once expired) stays a number.
// Control and bidirectional formatting characters are escaped as in every
// view for people (termsafe): a spreadsheet reorders a cell holding a
// right-to-left override as a terminal would.
func csvCell(s string) string {
	s = termsafe.String(s)
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

// NewCSV returns a CSV writer; now is the time days left are counted from
// (nil means time.Now).
func NewCSV(w io.Writer, now func() time.Time) *CSV {
	if now == nil {
		now = time.Now
	}
	return &CSV{w: csv.NewWriter(w), now: now}
}

// Write writes the row of one report (and the header before the first).
func (c *CSV) Write(r *diagnose.Report) error {
	if !c.hdr {
		c.hdr = true
		if err := c.w.Write(CSVColumns); err != nil {
			return err
		}
	}
	var leafSubject, leafIssuer, leafNotAfter, daysLeft string
	if len(r.Chain) > 0 {
		l := r.Chain[0]
		leafSubject, leafIssuer, leafNotAfter = l.Subject, l.Issuer, l.NotAfter
		if t, err := time.Parse(time.RFC3339, l.NotAfter); err == nil {
			daysLeft = strconv.Itoa(int(t.Sub(c.now()).Hours() / 24))
		}
	}
	earliest := ""
	if t, ok := EarliestNotAfter(r); ok {
		earliest = t.UTC().Format(time.RFC3339)
	}
	row := []string{r.Target, r.Address, r.ServerName, string(r.Verdict), r.Version, r.CipherSuite,
		leafSubject, leafIssuer, leafNotAfter, daysLeft, earliest,
		ids(r.Findings, finding.Error), ids(r.Findings, finding.Warning),
		strconv.FormatFloat(r.DurationMS, 'f', 1, 64)}
	for i, s := range row {
		row[i] = csvCell(s)
	}
	if err := c.w.Write(row); err != nil {
		return err
	}
	c.w.Flush()
	return c.w.Error()
}

// ids lists the distinct finding ids of one severity, space-separated.
func ids(fs []finding.Finding, sev finding.Severity) string {
	var out []string
	for _, f := range fs {
		if f.Severity == sev && !containsString(out, f.ID) {
			out = append(out, f.ID)
		}
	}
	return strings.Join(out, " ")
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// EarliestNotAfter is the soonest end of validity among the certificates
// of the sent chain and the verified path.
func EarliestNotAfter(r *diagnose.Report) (time.Time, bool) {
	var min time.Time
	for _, list := range [][]trust.CertInfo{r.Chain, r.VerifiedPath} {
		for _, c := range list {
			t, err := time.Parse(time.RFC3339, c.NotAfter)
			if err == nil && (min.IsZero() || t.Before(min)) {
				min = t
			}
		}
	}
	return min, !min.IsZero()
}

// FleetSummary writes the summary of a run over many targets for a person:
// the targets by verdict, the findings by id, and the certificates that
// expire first, phrased against now.
func FleetSummary(w io.Writer, s diagnose.Summary, now time.Time) error {
	p := &printer{w: w}
	p.f("\nSUMMARY  %d targets", s.Targets)
	for _, v := range s.Verdicts {
		p.f(" · %d %s", v.Count, v.Verdict)
	}
	p.f("\n")
	if len(s.Findings) > 0 {
		p.f("\nFINDINGS (targets · id · severity)\n")
		for _, f := range s.Findings {
			p.f("  %6d  %-28s %s\n", f.Targets, f.ID, f.Severity)
		}
	}
	if len(s.Expiring) > 0 {
		p.f("\nEXPIRING FIRST\n")
		for _, c := range s.Expiring {
			t, _ := time.Parse(time.RFC3339, c.NotAfter)
			left := ""
			if d := t.Sub(now); d < 0 {
				left = fmt.Sprintf("EXPIRED %d days ago", int(-d.Hours()/24))
			} else {
				left = fmt.Sprintf("%d days left", int(d.Hours()/24))
			}
			seen := c.Target
			if c.Targets > 1 {
				seen += fmt.Sprintf(" and %d more", c.Targets-1)
			}
			p.f("  %s  %-22s %s  (%s)\n", day(c.NotAfter), left, c.Subject, seen)
		}
	}
	return p.err
}
