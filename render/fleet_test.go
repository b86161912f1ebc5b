package render

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/trust"
)

// TestCSVHostile: a cell a server controls that a spreadsheet would run
// as a formula (a subject of "=HYPERLINK(…)", "@SUM(…)", "+…", "-…") is
// written as text, with a leading quote; a number stays a number, the
// days left of an expired certificate (-31) included.
func TestCSVHostile(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	rep := &diagnose.Report{Target: "x.example:443", Verdict: diagnose.Untrusted,
		Chain: []trust.CertInfo{{Subject: `=HYPERLINK("http://evil.example","x")`, Issuer: "@SUM(1+1)*cmd|' /C calc'!A0",
			NotAfter: "2026-10-31T00:00:00Z"}}}
	var b bytes.Buffer
	c := NewCSV(&b, func() time.Time { return now })
	if err := c.Write(rep); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	cell := map[string]string{}
	for i, name := range rows[0] {
		cell[name] = rows[1][i]
	}
	for name, want := range map[string]string{
		"leaf_subject":   `'=HYPERLINK("http://evil.example","x")`,
		"leaf_issuer":    "'@SUM(1+1)*cmd|' /C calc'!A0",
		"leaf_days_left": "-31",
	} {
		if cell[name] != want {
			t.Errorf("%s = %q, want %q (row %q)", name, cell[name], want, rows[1])
		}
	}
}
