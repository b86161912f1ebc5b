package schematest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidator checks the validator on a schema of its own: each keyword
// accepts what it should and names what it refuses.
func TestValidator(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("base.json", `{"$defs": {"thing": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer", "minimum": 1}, "tag": {"enum": ["a", "b"]}}}}}`)
	write("top.json", `{"type": "object", "required": ["things"], "additionalProperties": false, "properties": {
		"things": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/ext"}},
		"name": {"type": ["string", "null"], "pattern": "^n"},
		"either": {"anyOf": [{"type": "null"}, {"const": 3}]}},
		"$defs": {"ext": {"allOf": [{"$ref": "base.json#/$defs/thing"}], "properties": {"extra": {"type": "boolean"}}, "unevaluatedProperties": false}}}`)
	s, err := Load(filepath.Join(dir, "top.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		doc  string
		errs []string // each must appear; none means valid
	}{
		{`{"things": [{"id": 1, "tag": "a", "extra": true}], "name": "nope", "either": 3}`, nil},
		{`{"things": [{"id": 2}], "name": null, "either": null}`, nil},
		{`{"things": []}`, []string{"$.things: has 0 items"}},
		{`{}`, []string{`lacks the required field "things"`}},
		{`{"things": [{"id": 0, "tag": "c", "more": 1}], "x": 1}`, []string{"$.things[0].id: is 0, below the minimum", `$.things[0].tag: is "c"`, `$.things[0]: has the field "more"`, `$: has the field "x"`}},
		{`{"things": [{"id": 1.5}], "name": "yes", "either": 4}`, []string{"$.things[0].id: is number, want integer", `"yes" does not match`, "matches none of anyOf"}},
		{`{"things": [{"id": 1}]} {}`, []string{"more than one JSON document"}},
	} {
		err := s.Validate([]byte(tc.doc))
		if len(tc.errs) == 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.doc, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: valid, want %q", tc.doc, tc.errs)
			continue
		}
		for _, e := range tc.errs {
			if !strings.Contains(err.Error(), e) {
				t.Errorf("%s: %v\nwant %q", tc.doc, err, e)
			}
		}
	}
	write("bad.json", `{"type": "object", "maxProperties": 3}`)
	b, _ := Load(filepath.Join(dir, "bad.json"))
	if err := b.Validate([]byte(`{}`)); err == nil || !strings.Contains(err.Error(), "does not implement") || b.Lint() == nil {
		t.Errorf("an unknown keyword was accepted: %v", err)
	}
}

// TestSchemasLoad: the schemas in docs/ use only what the validator
// implements, and their $refs resolve.
func TestSchemasLoad(t *testing.T) {
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"check.schema.json", "pcap.schema.json"} {
		s, err := Load(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Lint(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
