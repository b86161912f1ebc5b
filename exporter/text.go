package exporter

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file writes a probe's answer in the Prometheus text format (0.0.4)
// directly, the bytes client_golang's promhttp writes for a registry that
// holds a resultCollector, without building that registry for each probe:
// a registry's Gather alone allocated about 30 KiB a probe (its metric
// channels), and the metrics' protobuf forms as much again. The families
// are sorted by name, the series of a family by their label values in
// label-name order, the labels of a series by name, as Gather sorts them;
// HELP text and label values are escaped as expfmt escapes them, and
// values are formatted as expfmt formats them. TestTextMatchesRegistry
// compares the two answers byte for byte on every lab case.
// Other formats (protobuf, asked for in the Accept header) and requests
// that filter families (name[]) go through a registry and promhttp as
// before.

// textBuf is the scratch space of one answer, pooled by the Exporter.
type textBuf struct {
	series []textSeries
	vals   []string // label values of every series, each series' in its family's label order
	out    []byte
}

// textSeries is one series: its family, value, and its label values,
// vals[at:at+len(f.labels)], in the order the labels are written.
type textSeries struct {
	f   *family
	val float64
	at  int
}

// appendText appends c's series to b.out in the text format. It reports
// false, leaving the answer to a registry, when a label value is not valid
// UTF-8 or two series have the same labels: client_golang refuses both
// (a panic, an HTTP 500), and this writer does not decide otherwise.
func (b *textBuf) appendText(c *resultCollector) bool {
	b.series, b.vals = b.series[:0], b.vals[:0]
	valid := true
	c.each(func(f *family, val float64, labels []string) {
		at := len(b.vals)
		for _, i := range f.order {
			if !utf8.ValidString(labels[i]) {
				valid = false
			}
			b.vals = append(b.vals, labels[i])
		}
		b.series = append(b.series, textSeries{f: f, val: val, at: at})
	})
	if !valid {
		return false
	}
	labels := func(s textSeries) []string { return b.vals[s.at : s.at+len(s.f.labels)] }
	slices.SortFunc(b.series, func(x, y textSeries) int {
		if x.f != y.f {
			return x.f.rank - y.f.rank
		}
		return slices.Compare(labels(x), labels(y))
	})
	out := b.out
	for i, s := range b.series {
		if i > 0 && b.series[i-1].f == s.f && slices.Equal(labels(b.series[i-1]), labels(s)) {
			return false
		}
		if i == 0 || b.series[i-1].f != s.f {
			out = append(out, s.f.header...)
		}
		out = append(out, s.f.name...)
		for j, v := range labels(s) {
			if j == 0 {
				out = append(out, '{')
			} else {
				out = append(out, ',')
			}
			out = append(out, s.f.labels[s.f.order[j]]...)
			out = append(out, '=', '"')
			out = appendEscaped(out, v)
			out = append(out, '"')
		}
		if len(s.f.labels) > 0 {
			out = append(out, '}')
		}
		out = append(out, ' ')
		out = appendFloat(out, s.val)
		out = append(out, '\n')
	}
	b.out = out
	return true
}

// escapeHelp escapes HELP text as expfmt does: backslash and newline.
func escapeHelp(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "\n", `\n`)
}

// appendEscaped appends a label value escaped as expfmt escapes it:
// backslash, newline and double quote.
func appendEscaped(out []byte, v string) []byte {
	if !strings.ContainsAny(v, "\\\n\"") {
		return append(out, v...)
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			out = append(out, '\\', '\\')
		case '\n':
			out = append(out, '\\', 'n')
		case '"':
			out = append(out, '\\', '"')
		default:
			out = append(out, c)
		}
	}
	return out
}

// appendFloat formats a value as expfmt's writeFloat does.
func appendFloat(out []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(out, '1')
	case f == 0:
		return append(out, '0')
	case f == -1:
		return append(out, "-1"...)
	case math.IsNaN(f):
		return append(out, "NaN"...)
	case math.IsInf(f, +1):
		return append(out, "+Inf"...)
	case math.IsInf(f, -1):
		return append(out, "-Inf"...)
	}
	return strconv.AppendFloat(out, f, 'g', -1, 64)
}
