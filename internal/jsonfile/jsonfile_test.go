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
		{"unknown key", `{"c": 1}`, file{}, `unknown field "c"`, 0},
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
	f.Fuzz(func(t *testing.T, data []byte) {
		var v map[string]any
		clean, _ := Decode(data, &v)
		if len(clean) != len(data) {
			t.Fatalf("%d bytes became %d", len(data), len(clean))
		}
	})
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
