// Package termsafe makes text that came from outside (a certificate's
// names, a server's banner, an error message quoting either) safe to
// print on a terminal. A peer chooses those bytes: raw, an ESC sequence in
// a certificate's subject could recolour, move the cursor, clear the
// screen or retitle the window, a carriage return could overwrite the
// verdict printed before it, and a right-to-left override could make
// "moc.knab" read as "bank.com".
package termsafe

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// String returns s with every character a terminal would act on instead
// of showing written as a Go escape: the C0 controls other than newline
// and tab (\r, \x1b, \a…), DEL, the C1 controls (\u009b is a CSI), the
// Unicode bidirectional formatting characters (\u202e…) and every byte
// that is not UTF-8 (\xfc). Text without any is returned as it is,
// without allocating.
func String(s string) string {
	i := firstEscaped(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1, Obeyed(r) && r < utf8.RuneSelf:
			b.WriteString(`\x`)
			if s[i] < 0x10 {
				b.WriteByte('0')
			}
			b.WriteString(strconv.FormatUint(uint64(s[i]), 16))
		case Obeyed(r):
			b.WriteString(`\u`)
			h := strconv.FormatUint(uint64(r), 16)
			b.WriteString(strings.Repeat("0", 4-len(h)))
			b.WriteString(h)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// firstEscaped returns the index of the first character String escapes,
// or -1.
func firstEscaped(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if Obeyed(rune(c)) {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || Obeyed(r) {
			return i
		}
		i += n
	}
	return -1
}

// Obeyed reports whether a terminal acts on r rather than showing it: the
// characters String escapes, bytes that are not UTF-8 aside.
func Obeyed(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20, r == 0x7f, 0x80 <= r && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, 0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069:
		return true // bidirectional formatting (Unicode's Bidi_Control)
	}
	return false
}
