package finding

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTidy(t *testing.T) {
	fs := []Finding{
		{Title: "the leaf expired.", Detail: "it expired on 2026-01-01", Fix: "renew it"},
		{Title: "Already fine", Detail: "Ends with a quote \"x\"", Fix: ""},
		{Title: "", Detail: "ö is lower case", Fix: "see (this)"},
		{Title: "localhost:25 speaks TLS", Detail: "example.com: nothing", Fix: "mail.example.com, then."},
	}
	Tidy(fs)
	want := []Finding{
		{Title: "The leaf expired", Detail: "It expired on 2026-01-01.", Fix: "Renew it."},
		{Title: "Already fine", Detail: "Ends with a quote \"x\"", Fix: ""},
		{Title: "", Detail: "Ö is lower case.", Fix: "See (this)"},
		{Title: "localhost:25 speaks TLS", Detail: "example.com: nothing.", Fix: "mail.example.com, then."},
	}
	if diff := cmp.Diff(want, fs); diff != "" {
		t.Error(diff)
	}
}

func TestSortAndWorst(t *testing.T) {
	fs := []Finding{{ID: "a", Severity: Info}, {ID: "b", Severity: Error}, {ID: "c", Severity: Warning}, {ID: "d", Severity: Error}}
	if Worst(fs) != Error || Worst(nil) != "" {
		t.Errorf("Worst")
	}
	Sort(fs)
	var ids string
	for _, f := range fs {
		ids += f.ID
	}
	if ids != "bdca" {
		t.Errorf("Sort gave %s, want bdca (stable, errors first)", ids)
	}
	if !Has(fs, "c") || Has(fs, "z") {
		t.Errorf("Has")
	}
}
