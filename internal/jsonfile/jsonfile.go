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
		return clean, err
	}
	if dec.More() {
		return clean, &TrailingDataError{Offset: dec.InputOffset()}
	}
	return clean, nil
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
