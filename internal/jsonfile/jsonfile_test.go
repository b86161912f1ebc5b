package jsonfile

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestDecode(t *testing.T) {
	type file struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	tests := []struct {
		name, in string
		want     file
		err      string // substring; "" for none
		trailing int64  // the offset of a TrailingDataError
	}{
		{"plain", `{"a": 1, "b": "x"}`, file{1, "x"}, "", 0},
		{"comments", "# a comment\n{\n  // another\n  \"a\": 2\n}\n", file{A: 2}, "", 0},
		{"indented comment", "{\n\t  # indented\n\"b\": \"#not a comment\"}", file{B: "#not a comment"}, "", 0},
		{"unknown key", `{"c": 1}`, file{}, `unknown key "c"`, 0},
		{"trailing", "{}\n{}", file{}, "unexpected data", 3},
		{"syntax", `{"a": }`, file{}, "invalid character", 0},
		{"empty", ``, file{}, "the file is empty", 0},
		{"only comments", "# nothing\n  \n// here\n", file{}, "the file is empty", 0},
		{"cut", `{"a": 1`, file{}, "unexpected EOF", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got file
			clean, err := Decode([]byte(tt.in), &got)
			if len(clean) != len(tt.in) {
				t.Errorf("clean text is %d bytes, the file %d: offsets moved", len(clean), len(tt.in))
			}
			if tt.err == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.err)) {
				t.Fatalf("error %v, want one saying %q", err, tt.err)
			}
			var te *TrailingDataError
			if errors.As(err, &te) != (tt.trailing > 0) || (te != nil && te.Offset != tt.trailing) {
				t.Errorf("trailing data error %+v, want offset %d", te, tt.trailing)
			}
		})
	}
}

// FuzzDecode: any bytes decode or fail with an error, never panic, and the
// comment-stripped text keeps every offset.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":1}`, "# c\n{}", "{}\n{}", "// x\r\n{\"b\":\"y\"}", "{\"a\":[1,2,{\"x\":null}]}", ""} {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"m": {"x": {"a": 1, "q": 2}}}`))
	f.Add([]byte(`{"l": [{"a": 1}, {"z": 2}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v map[string]any
		clean, _ := Decode(data, &v)
		if len(clean) != len(data) {
			t.Fatalf("%d bytes became %d", len(data), len(clean))
		}
		// A typed value: unknown keys are found and placed in the text.
		var typed nested
		_, err := Decode(data, &typed)
		var uk *UnknownKeyError
		if errors.As(err, &uk) && (uk.Offset < 0 || uk.Offset > int64(len(data))) {
			t.Fatalf("unknown key %q at offset %d, outside %d bytes", uk.Key, uk.Offset, len(data))
		}
	})
}

// nested is a type with objects in a map, a list and an embedded struct.
type nested struct {
	Embedded
	M map[string]*inner `json:"m"`
	L []inner           `json:"l"`
	S string            `json:"s"`
}

// Embedded is embedded in nested: its keys are nested's.
type Embedded struct {
	E int `json:"e"`
}

type inner struct {
	A     int `json:"a"`
	Plain int
}

// TestUnknownKey: an unknown key is named with the objects that hold it and
// its own line, found by walking the text as the type decodes it (not by
// searching for the word, which a value may hold first).
func TestUnknownKey(t *testing.T) {
	tests := []struct {
		in, path, key string
		line          int
	}{
		{"{\n \"s\": \"q\",\n \"m\": {\"x\": {\"a\": 1,\n  \"q\": 2}}}", "m.x", "q", 4},
		{"{\"l\": [{\"a\": 1},\n {\"A\": 2, \"plain\": 3},\n {\"b\": 1}]}", "l[2]", "b", 3},
		{"{\"e\": 1,\n\"m\": {}, \"zz\": 0}", "", "zz", 2},
		{"# c\n{\"s\": \"x\", \"m\": {\"k\": null},\n\n \"l\": [], \"extra\": {\"a\": 1}}", "", "extra", 4},
	}
	for _, tt := range tests {
		var v nested
		clean, err := Decode([]byte(tt.in), &v)
		var uk *UnknownKeyError
		if !errors.As(err, &uk) {
			t.Errorf("%q: error %v, want an UnknownKeyError", tt.in, err)
			continue
		}
		if uk.Path != tt.path || uk.Key != tt.key || Line(clean, int(uk.Offset)) != tt.line {
			t.Errorf("%q: %q in %q on line %d, want %q in %q on line %d", tt.in, uk.Key, uk.Path, Line(clean, int(uk.Offset)), tt.key, tt.path, tt.line)
		}
	}
}

// TestKeys: the keys of an object type, with the keys of the objects it
// holds (by pointer, in a map, in a list) in parentheses, as error
// messages list them.
func TestKeys(t *testing.T) {
	type inner struct {
		A string `json:"a"`
		B bool   `json:"b,omitempty"`
	}
	type outer struct {
		Ptr   *inner           `json:"ptr"`
		Map   map[string]inner `json:"map"`
		List  []inner          `json:"list"`
		Names []string         `json:"names"`
		N     int              `json:"n"`
	}
	want := "ptr (a, b), map (a, b), list (a, b), names, n"
	if got := Keys(reflect.TypeFor[outer]()); got != want {
		t.Errorf("Keys = %q, want %q", got, want)
	}
	if got := Line([]byte("a\nb\nc"), 2); got != 2 {
		t.Errorf("Line = %d, want 2", got)
	}
}
