// Package schematest validates JSON documents against the JSON Schemas in
// docs/ (check.schema.json, pcap.schema.json), for tests: every JSON output
// of `tlskit check` and `tlskit pcap` in the tests goes through [Schema.Validate].
//
// It implements the subset of JSON Schema 2020-12 those schemas use: type
// (one or a list), properties, required, additionalProperties (false or a
// schema), unevaluatedProperties (false), items, enum, const, pattern,
// minimum, minItems, anyOf, allOf, $ref to "#/$defs/NAME" and to
// "FILE#/$defs/NAME" beside the schema, and $defs; title, description,
// $schema, $id, $comment and examples are annotations. Any other keyword is
// an error, so that a schema never claims what is not checked.
package schematest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Schema is a loaded schema file and the files it refers to.
type Schema struct {
	dir   string
	files map[string]map[string]any
	root  map[string]any
	name  string
}

// Load reads the schema file path; $refs to other files resolve beside it.
func Load(path string) (*Schema, error) {
	s := &Schema{dir: filepath.Dir(path), files: map[string]map[string]any{}, name: filepath.Base(path)}
	root, err := s.file(s.name)
	if err != nil {
		return nil, err
	}
	s.root = root
	return s, nil
}

func (s *Schema) file(name string) (map[string]any, error) {
	if f, ok := s.files[name]; ok {
		return f, nil
	}
	data, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		return nil, fmt.Errorf("schematest: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("schematest: %s: %w", name, err)
	}
	s.files[name] = m
	return m, nil
}

// Dir finds docs/ of the module, looking upwards from the working
// directory.
func Dir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "docs"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("schematest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Check validates doc against the schema file name in docs/ ("check" for
// check.schema.json, "pcap" for pcap.schema.json), or against one of its
// definitions ("pcap#/$defs/connection"), and fails the test with every
// violation.
func Check(t testing.TB, name string, doc []byte) {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Fatal(err)
	}
	file, frag, _ := strings.Cut(name, "#")
	s, err := Load(filepath.Join(dir, file+".schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if frag != "" {
		err = s.ValidateRef("#"+frag, doc)
	} else {
		err = s.Validate(doc)
	}
	if err != nil {
		t.Errorf("the JSON does not follow docs/%s.schema.json:\n%v", file, err)
	}
}

// Validate checks doc, one JSON document, against the schema and returns
// every violation found, each with its JSON path.
func (s *Schema) Validate(doc []byte) error {
	return s.validate(s.root, s.name, doc)
}

// ValidateRef checks doc against the definition ref ("#/$defs/NAME") of
// the schema.
func (s *Schema) ValidateRef(ref string, doc []byte) error {
	c := &checker{s: s}
	f, sch, err := c.resolve(s.name, ref)
	if err != nil {
		return err
	}
	return s.validate(sch, f, doc)
}

func (s *Schema) validate(sch map[string]any, file string, doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("schematest: not JSON: %w", err)
	}
	if dec.More() {
		return errors.New("schematest: more than one JSON document")
	}
	c := &checker{s: s}
	c.check(file, sch, v, "$")
	if len(c.errs) == 0 {
		return nil
	}
	if len(c.errs) > 20 {
		c.errs = append(c.errs[:20], fmt.Sprintf("… and %d more", len(c.errs)-20))
	}
	return errors.New(strings.Join(c.errs, "\n"))
}

type checker struct {
	s    *Schema
	errs []string
}

func (c *checker) fail(path, format string, args ...any) {
	c.errs = append(c.errs, path+": "+fmt.Sprintf(format, args...))
}

// annotations are keywords that assert nothing.
var annotations = []string{"title", "description", "$schema", "$id", "$comment", "examples", "$defs"}

// check validates v against schema sch (from file) and returns the object
// property names it evaluated (for unevaluatedProperties).
func (c *checker) check(file string, sch map[string]any, v any, path string) map[string]bool {
	evaluated := map[string]bool{}
	keys := make([]string, 0, len(sch))
	for k := range sch {
		keys = append(keys, k)
	}
	sort.Strings(keys) // unevaluatedProperties after the rest
	if i := slices.Index(keys, "unevaluatedProperties"); i >= 0 {
		keys = append(slices.Delete(keys, i, i+1), "unevaluatedProperties")
	}
	obj, isObj := v.(map[string]any)
	for _, k := range keys {
		kv := sch[k]
		switch k {
		case "$ref":
			f, target, err := c.resolve(file, kv.(string))
			if err != nil {
				c.fail(path, "%v", err)
				continue
			}
			for n := range c.check(f, target, v, path) {
				evaluated[n] = true
			}
		case "type":
			var types []string
			switch t := kv.(type) {
			case string:
				types = []string{t}
			case []any:
				for _, x := range t {
					types = append(types, x.(string))
				}
			}
			if !slices.ContainsFunc(types, func(t string) bool { return isType(v, t) }) {
				c.fail(path, "is %s, want %s", typeOf(v), strings.Join(types, " or "))
			}
		case "properties":
			if !isObj {
				continue
			}
			for name, ps := range kv.(map[string]any) {
				if pv, ok := obj[name]; ok {
					evaluated[name] = true
					c.check(file, ps.(map[string]any), pv, path+"."+name)
				}
			}
		case "required":
			if !isObj {
				continue
			}
			for _, r := range kv.([]any) {
				if _, ok := obj[r.(string)]; !ok {
					c.fail(path, "lacks the required field %q", r)
				}
			}
		case "additionalProperties":
			if !isObj {
				continue
			}
			props, _ := sch["properties"].(map[string]any)
			for name, pv := range obj {
				if _, ok := props[name]; ok {
					continue
				}
				evaluated[name] = true
				switch a := kv.(type) {
				case bool:
					if !a {
						c.fail(path, "has the field %q, which the schema does not list", name)
					}
				case map[string]any:
					c.check(file, a, pv, path+"."+name)
				}
			}
		case "unevaluatedProperties":
			if b, ok := kv.(bool); !ok || b {
				c.fail(path, "schematest supports only unevaluatedProperties: false")
				continue
			}
			for name := range obj {
				if !evaluated[name] {
					c.fail(path, "has the field %q, which the schema does not list", name)
				}
			}
		case "items":
			arr, ok := v.([]any)
			if !ok {
				continue
			}
			for i, x := range arr {
				c.check(file, kv.(map[string]any), x, fmt.Sprintf("%s[%d]", path, i))
			}
		case "minItems":
			if arr, ok := v.([]any); ok && float64(len(arr)) < num(kv) {
				c.fail(path, "has %d items, want at least %v", len(arr), kv)
			}
		case "enum":
			if !slices.ContainsFunc(kv.([]any), func(e any) bool { return equal(e, v) }) {
				c.fail(path, "is %s, not one of %v", show(v), kv)
			}
		case "const":
			if !equal(kv, v) {
				c.fail(path, "is %s, want %v", show(v), kv)
			}
		case "pattern":
			str, ok := v.(string)
			if !ok {
				continue
			}
			re, err := regexp.Compile(kv.(string))
			if err != nil {
				c.fail(path, "bad pattern in the schema: %v", err)
			} else if !re.MatchString(str) {
				c.fail(path, "%q does not match %s", str, kv)
			}
		case "minimum":
			if n, ok := v.(json.Number); ok {
				if f, _ := n.Float64(); f < num(kv) {
					c.fail(path, "is %v, below the minimum %v", n, kv)
				}
			}
		case "anyOf":
			ok := false
			for _, sub := range kv.([]any) {
				trial := &checker{s: c.s}
				ev := trial.check(file, sub.(map[string]any), v, path)
				if len(trial.errs) == 0 {
					ok = true
					for n := range ev {
						evaluated[n] = true
					}
					break
				}
			}
			if !ok {
				c.fail(path, "matches none of anyOf")
			}
		case "allOf":
			for _, sub := range kv.([]any) {
				for n := range c.check(file, sub.(map[string]any), v, path) {
					evaluated[n] = true
				}
			}
		default:
			if !slices.Contains(annotations, k) {
				c.fail(path, "the schema uses %q, which schematest does not implement", k)
			}
		}
	}
	return evaluated
}

// known are the keywords the checker implements, annotations included.
var known = append([]string{"$ref", "type", "properties", "required", "additionalProperties", "unevaluatedProperties",
	"items", "minItems", "enum", "const", "pattern", "minimum", "anyOf", "allOf"}, annotations...)

// Lint walks every schema of the file, definitions included, and returns
// the keywords the checker does not implement and the $refs that do not
// resolve.
func (s *Schema) Lint() error {
	c := &checker{s: s}
	var walk func(file string, sch map[string]any, path string)
	walk = func(file string, sch map[string]any, path string) {
		for k, v := range sch {
			if !slices.Contains(known, k) {
				c.fail(path, "the schema uses %q, which schematest does not implement", k)
			}
			switch k {
			case "$ref":
				if _, _, err := c.resolve(file, v.(string)); err != nil {
					c.fail(path, "%v", err)
				}
			case "properties", "$defs":
				for n, sub := range v.(map[string]any) {
					walk(file, sub.(map[string]any), path+"/"+k+"/"+n)
				}
			case "items", "additionalProperties":
				if m, ok := v.(map[string]any); ok {
					walk(file, m, path+"/"+k)
				}
			case "anyOf", "allOf":
				for i, sub := range v.([]any) {
					walk(file, sub.(map[string]any), fmt.Sprintf("%s/%s/%d", path, k, i))
				}
			}
		}
	}
	walk(s.name, s.root, "#")
	if len(c.errs) > 0 {
		return errors.New(strings.Join(c.errs, "\n"))
	}
	return nil
}

// resolve finds the schema a $ref names: "#/$defs/NAME" in file, or
// "OTHER.json#/$defs/NAME".
func (c *checker) resolve(file, ref string) (string, map[string]any, error) {
	f, frag, _ := strings.Cut(ref, "#")
	if f == "" {
		f = file
	}
	doc, err := c.s.file(f)
	if err != nil {
		return "", nil, err
	}
	var cur any = doc
	for _, p := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if p == "" {
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return "", nil, fmt.Errorf("$ref %q: %q is not an object", ref, p)
		}
		if cur, ok = m[p]; !ok {
			return "", nil, fmt.Errorf("$ref %q: no %q", ref, p)
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("$ref %q is not a schema", ref)
	}
	return f, m, nil
}

func isType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		return err == nil && f == math.Trunc(f)
	}
	return false
}

func typeOf(v any) string {
	for _, t := range []string{"null", "boolean", "string", "object", "array", "integer", "number"} {
		if isType(v, t) {
			return t
		}
	}
	return "unknown"
}

func num(v any) float64 {
	if f, ok := v.(float64); ok {
		return f
	}
	return 0
}

func equal(a, b any) bool {
	if n, ok := b.(json.Number); ok {
		f, _ := n.Float64()
		return num(a) == f
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func show(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}
