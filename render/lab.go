package render

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tlskit/tlskit/diagnose"
)

// LabCase is one case of the lab as `tlskit lab` shows it.
type LabCase struct {
	// Name, Finding and Title are the case's (lab.Case).
	Name, Finding, Title string
	// Command is the `tlskit check` command that reproduces it; "" before
	// the lab is started.
	Command string
}

// LabList writes the lab's cases as a table, without starting anything
// (`tlskit lab --list`).
func LabList(w io.Writer, cases []LabCase) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "CASE\tFINDING\tWHAT IT SHOWS\n")
	for _, c := range cases {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, orDash(c.Finding), c.Title)
	}
	return tw.Flush()
}

// LabServing writes what a running lab serves: each case with the command
// that reproduces it (`tlskit lab`).
func LabServing(w io.Writer, pkiDir string, cases []LabCase) error {
	p := &printer{w: w}
	p.f("tlskit lab: %d servers on loopback; PKI in %s\n\n", len(cases), pkiDir)
	for _, c := range cases {
		p.f("%-32s %s\n    %s\n", c.Name, c.Title, c.Command)
	}
	p.f("\nServing until interrupted (Ctrl-C).\n")
	return p.err
}

// DemoCase is one case of `tlskit demo`: the case, the check that was run
// against it and whether the report explains it as the case was built to
// show. It is also the JSON of `tlskit demo --json`.
type DemoCase struct {
	// Case and Title are the lab case's name and title.
	Case  string `json:"case"`
	Title string `json:"title"`
	// Expected is the finding id the case was built to show; "" for the
	// healthy cases.
	Expected string `json:"expected_finding,omitempty"`
	// Command is the `tlskit check` command that was run.
	Command string `json:"command"`
	// OK says the report has the expected finding and exit status.
	OK bool `json:"explained_as_expected"`
	// Report is the check's report.
	Report *diagnose.Report `json:"report"`
}

// Demo writes case i of n of `tlskit demo`: the command, the report (the
// verdict and findings only unless full) and whether it was explained as
// expected.
func Demo(w io.Writer, i, n int, c DemoCase, full bool, o Options) error {
	p := &printer{w: w}
	p.f("\n━━ %d/%d  %s: %s\n", i, n, c.Case, c.Title)
	p.f("   $ %s\n", c.Command)
	var buf bytes.Buffer
	o.Brief, o.Width = !full, o.width()-3 // indented by three
	if err := Report(&buf, c.Report, o); err != nil {
		return err
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	for _, line := range lines[1:] { // the first line repeats the command
		p.f("   %s\n", line)
	}
	mark := "✓ explained as expected"
	if !c.OK {
		mark = "✗ NOT explained as expected"
	}
	if c.Expected != "" {
		mark += " (" + c.Expected + ")"
	}
	p.f("   %s\n", mark)
	return p.err
}

// DemoSummary writes the closing lines of `tlskit demo`.
func DemoSummary(w io.Writer, cases []DemoCase) error {
	failed := 0
	for _, c := range cases {
		if !c.OK {
			failed++
		}
	}
	p := &printer{w: w}
	p.f("\n%d cases: %d explained as expected, %d not.\n", len(cases), len(cases)-failed, failed)
	p.f("Next: 'tlskit lab' keeps these servers running so you can try them with curl or openssl; 'tlskit check HOST' checks a real server.\n")
	return p.err
}

// orDash returns s, or "-" for an empty s.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
