package termsafe

import (
	"strings"
	"testing"
	"unicode"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"":                                 "",
		"CN=example.com,O=Example":         "CN=example.com,O=Example",
		"a\nb\tc":                          "a\nb\tc",
		"Société Générale 中 😀":             "Société Générale 中 😀",
		"evil\x1b[31mRED\x1b[0m":           `evil\x1b[31mRED\x1b[0m`,
		"over\rwrite\a\x00\x7f":            `over\x0dwrite\x07\x00\x7f`,
		"csi\u009b2J":                      `csi\u009b2J`,
		"bank\u202emoc.":                   `bank\u202emoc.`,
		"\u2066isolate\u2069 \u200f\u061c": `\u2066isolate\u2069 \u200f\u061c`,
		"latin1 caf\xe9 \xfc[CAPABILITY":   `latin1 caf\xe9 \xfc[CAPABILITY`,
		"title\x1b]0;pwned\x07":            `title\x1b]0;pwned\x07`,
	} {
		if got := String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
	// No character a terminal acts on survives, whichever rune it is.
	for r := rune(0); r <= 0x2FFFF; r++ {
		got := String(string(r))
		if strings.ContainsRune(got, r) && (unicode.IsControl(r) && r != '\n' && r != '\t' || unicode.Is(unicode.Bidi_Control, r)) {
			t.Errorf("String(%q) = %q keeps it", r, got)
		}
	}
	s := "plain text, nothing to escape"
	if n := testing.AllocsPerRun(100, func() { String(s) }); n != 0 {
		t.Errorf("String of plain text allocates %v times", n)
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"evil\x1b[31m", "caf\xe9", "\u202e", "ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if firstEscaped(out) >= 0 {
			t.Errorf("String(%q) = %q still holds %q", s, out, out[firstEscaped(out):])
		}
		if firstEscaped(s) < 0 && out != s {
			t.Errorf("String(%q) changed safe text to %q", s, out)
		}
	})
}
