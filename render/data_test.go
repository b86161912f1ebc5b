package render

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestIndexControl checks the word-at-a-time scan against a plain loop.
func TestIndexControl(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		b := make([]byte, r.IntN(40))
		for j := range b {
			switch r.IntN(6) {
			case 0:
				b[j] = byte(r.IntN(256))
			case 1:
				b[j] = byte(r.IntN(0x21))
			default:
				b[j] = byte(0x20 + r.IntN(0x60))
			}
		}
		want := -1
		for j, c := range b {
			if c < 0x20 && c != '\t' || c == 0x7f {
				want = j
				break
			}
		}
		if got := indexControl(b); got != want {
			t.Fatalf("indexControl(%q) = %d, want %d", b, got, want)
		}
	}
}

func TestAppendData(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "| GET / HTTP/1.1\n| Host: x\n| \n"},
		{"no newline", "| no newline\n"},
		{"bell\a in text, tab\tkept", "| bell. in text, tab\tkept\n"},
		{"csi \u009b2J, rlo \u202emoc.knab, lri \u2066x\u2069 é 中 © — ’", "| csi .2J, rlo .moc.knab, lri .x. é 中 © — ’\n"},
		{"a line of text long enough to be shown as text: \x1b[31mred", "| a line of text long enough to be shown as text: .[31mred\n"},
		{"\u202e\r\n\u0085x\u200f", "| .\n| .x.\n"},
		{"\x00\x01\x02binary\xff", "| 0000  00 01 02 62 69 6e 61 72 79 ff\n"},
		{"\x00123456789abcdef0", "| 0000  00 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66\n| 0010  30\n"},
	} {
		if got := string(appendData(nil, []byte(tc.in), "| ")); got != tc.want {
			t.Errorf("appendData(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
		}
	}
}

// TestIndexC1Bidi checks the search for C1 and bidirectional controls
// against a plain decoding loop.
func TestIndexC1Bidi(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "é", "©", "中", "—", "’", "\u0085", "\u009b", "\u202e", "\u200f", "\u2066", "\u2069", "\u061c", "\u2028", "\xc2", "\xe2\x80", "\n"}
	for n := 0; n < 5000; n++ {
		var sb strings.Builder
		for k := r.IntN(12); k > 0; k-- {
			sb.WriteString(pieces[r.IntN(len(pieces))])
		}
		b := []byte(sb.String())
		want, wantN := -1, 0
		for j := 0; j < len(b); {
			c, size := utf8.DecodeRune(b[j:])
			if c != utf8.RuneError && c >= 0x80 && (unicode.IsControl(c) || unicode.Is(unicode.Bidi_Control, c)) {
				want, wantN = j, size
				break
			}
			j += size
		}
		if got, gotN := indexC1Bidi(b); got != want || gotN != wantN {
			t.Fatalf("indexC1Bidi(%q) = %d, %d, want %d, %d", b, got, gotN, want, wantN)
		}
	}
}

// BenchmarkAppendText: decrypted text as pcap --data shows it, ASCII (an
// HTML page) and mostly non-ASCII (the same page in Russian).
func BenchmarkAppendText(b *testing.B) {
	for _, tc := range []struct{ name, line string }{
		{"ascii", "<p class=\"x\">The quick brown fox jumps over the lazy dog, 0123456789.</p>\r\n"},
		{"utf8", "<p>Съешь же ещё этих мягких французских булок, да выпей чаю. 0123456789</p>\r\n"},
		{"punctuation", "<p>“Quotes” — dashes, ’apostrophes’ and © signs… 0123456789 abcdefghij</p>\r\n"},
	} {
		data := []byte(strings.Repeat(tc.line, 64<<10/len(tc.line)))
		dst := make([]byte, 0, 2*len(data))
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				dst = appendText(dst[:0], data, "  | ")
			}
		})
	}
}
