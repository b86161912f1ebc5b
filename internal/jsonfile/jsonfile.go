// Package jsonfile reads the JSON files tlskit's users write by hand (policy
// files, the exporter's config): JSON with whole-line "#" and "//"
// comments, decoded strictly (unknown keys and data after the object are
// errors), with the comment lines blanked in place so that an error's byte
// offset still gives the file's line.
package jsonfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// TrailingDataError is data after the file's one JSON value.
type TrailingDataError struct {
	// Offset is the byte offset at which the extra data starts.
	Offset int64
}

// Error implements error.
func (e *TrailingDataError) Error() string { return "unexpected data after the JSON object" }

// Decode decodes data, comments blanked, into v, refusing unknown object
// keys and anything after the first value ([*TrailingDataError]). It
// returns the text it decoded (data with its comment lines blanked, every
// offset kept), for locating an error's line.
func Decode(data []byte, v any) (clean []byte, err error) {
	clean = StripComments(data)
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			err = ErrEmpty // not json's bare "EOF"
		}
		if strings.HasPrefix(err.Error(), "json: unknown field ") { // encoding/json has no type for it
			if uk := unknownKey(clean, reflect.TypeOf(v)); uk != nil {
				err = uk
			}
		}
		return clean, err
	}
	if dec.More() {
		return clean, &TrailingDataError{Offset: dec.InputOffset()}
	}
	return clean, nil
}

// UnknownKeyError is an object key that the type decoded into has no
// field for.
type UnknownKeyError struct {
	// Key is the key, Path the keys (and list indexes) of the objects that
	// hold it from the top ("modules.internal", "targets[2]"; "" at the
	// top), and Offset the byte offset of the key.
	Key, Path string
	Offset    int64
}

// Error implements error.
func (e *UnknownKeyError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("unknown key %q", e.Key)
	}
	return fmt.Sprintf("%s: unknown key %q", e.Path, e.Key)
}

// unknownKey walks data as decoding it into t does and returns the first
// key that t has no field for, or nil.
func unknownKey(data []byte, t reflect.Type) *UnknownKeyError {
	dec := json.NewDecoder(bytes.NewReader(data))
	var found *UnknownKeyError
	var walk func(t reflect.Type, path string) bool // false: stop
	walk = func(t reflect.Type, path string) bool {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				off := dec.InputOffset()
				k, err := dec.Token()
				if err != nil {
					return false
				}
				key, _ := k.(string)
				var et reflect.Type
				sub := key
				if path != "" {
					sub = path + "." + key
				}
				switch {
				case t == nil:
				case t.Kind() == reflect.Map:
					et = t.Elem()
				case t.Kind() == reflect.Struct:
					ft, ok := fieldOf(t, key)
					if !ok {
						found = &UnknownKeyError{Key: key, Path: path, Offset: keyOffset(data, off)}
						return false
					}
					et = ft
				}
				if !walk(et, sub) {
					return false
				}
			}
			_, err = dec.Token() // '}'
			return err == nil
		case json.Delim('['):
			var et reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				et = t.Elem()
			}
			for i := 0; dec.More(); i++ {
				if !walk(et, fmt.Sprintf("%s[%d]", path, i)) {
					return false
				}
			}
			_, err = dec.Token() // ']'
			return err == nil
		}
		return true
	}
	walk(t, "")
	return found
}

// fieldOf is the type of struct t's field for a JSON key, matched as
// encoding/json matches it (the tag's name, or the field's; exact, else
// without regard to case; embedded structs' fields too).
func fieldOf(t reflect.Type, key string) (reflect.Type, bool) {
	var fold reflect.Type
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if et, ok := fieldOf(ft, key); ok {
					return et, true
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f.Type, true
		}
		if fold == nil && strings.EqualFold(name, key) {
			fold = f.Type
		}
	}
	return fold, fold != nil
}

// keyOffset is the offset of the key's opening quote at or after off (the
// decoder's offset before the key: after the previous value, or its comma).
func keyOffset(data []byte, off int64) int64 {
	if i := bytes.IndexByte(data[min(off, int64(len(data))):], '"'); i >= 0 {
		return off + int64(i)
	}
	return off
}

// Locate turns a Decode error into the line it is on (0 when the error has
// no place) and a message for a person: data after the object, invalid
// JSON, a value of the wrong type ("services.max_conns: want int, got a
// JSON string"), an unknown key (an [*UnknownKeyError], kept as is). what
// names the file's object in the first: "config", "policy".
func Locate(clean []byte, err error, what string) (line int, msg error) {
	var trailing *TrailingDataError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var uk *UnknownKeyError
	switch {
	case errors.As(err, &trailing):
		return Line(clean, int(trailing.Offset)), fmt.Errorf("unexpected data after the %s object", what)
	case errors.As(err, &se):
		return Line(clean, int(se.Offset)), fmt.Errorf("invalid JSON: %w", err)
	case errors.As(err, &te):
		return Line(clean, int(te.Offset)), fmt.Errorf("%s: want %s, got a JSON %s", te.Field, te.Type, te.Value)
	case errors.As(err, &uk):
		return Line(clean, int(uk.Offset)), uk
	}
	return 0, err
}

// ErrEmpty is Decode's error for data with nothing but blanks and comments.
var ErrEmpty = errors.New("the file is empty: want a JSON object ({...})")

// StripComments returns a copy of data with every line whose first
// non-blank characters are "#" or "//" turned into spaces, keeping every
// offset.
func StripComments(data []byte) []byte {
	out := bytes.Clone(data)
	for start := 0; start < len(out); {
		end := bytes.IndexByte(out[start:], '\n')
		if end < 0 {
			end = len(out)
		} else {
			end += start
		}
		line := bytes.TrimLeft(out[start:end], " \t\r")
		if bytes.HasPrefix(line, []byte("#")) || bytes.HasPrefix(line, []byte("//")) {
			for i := start; i < end; i++ {
				out[i] = ' '
			}
		}
		start = end + 1
	}
	return out
}

// Line returns the 1-based line of byte offset off in data.
func Line(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// Keys lists the keys of a JSON object decoded into struct type t, as its
// fields' json tags name them; a key whose value is an object (a struct
// pointer, or a map or list of structs) is followed by that object's keys
// in parentheses. Error messages list them so that they never fall behind
// the type.
func Keys(t reflect.Type) string {
	var ks []string
	for f := range t.Fields() {
		k, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		ft := f.Type
		switch ft.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice:
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			k += " (" + Keys(ft) + ")"
		}
		ks = append(ks, k)
	}
	return strings.Join(ks, ", ")
}
