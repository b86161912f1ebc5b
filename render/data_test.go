package render

import (
	"math/rand/v2"
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
			switch r.IntN(7) {
			case 0:
				b[j] = byte(r.IntN(256))
			case 6: // the lead and continuation bytes of C1 and bidi controls
				b[j] = []byte{0xc2, 0x80, 0x9b, 0x9f, 0xa0, 0xe2, 0x81, 0xa6, 0xae, 0x8e, 0xd8, 0x9c}[r.IntN(12)]
			case 1:
				b[j] = byte(r.IntN(0x21))
			default:
				b[j] = byte(0x20 + r.IntN(0x60))
			}
		}
		want, wantN := -1, 0
		for j := 0; j < len(b); j++ {
			c := b[j]
			if c < 0x20 && c != '\t' || c == 0x7f {
				want, wantN = j, 1
				break
			}
			if r, n := utf8.DecodeRune(b[j:]); r != utf8.RuneError && r >= 0x80 && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
				want, wantN = j, n
				break
			}
		}
		if got, n := indexControl(b); got != want || n != wantN {
			t.Fatalf("indexControl(%q) = %d, %d, want %d, %d", b, got, n, want, wantN)
		}
	}
}

func TestAppendData(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "| GET / HTTP/1.1\n| Host: x\n| \n"},
		{"no newline", "| no newline\n"},
		{"bell\a in text, tab\tkept", "| bell. in text, tab\tkept\n"},
		{"csi \u009b2J, rlo \u202emoc.knab, lri \u2066x\u2069 é 中", "| csi .2J, rlo .moc.knab, lri .x. é 中\n"},
		{"a line of text long enough to be shown as text: \x1b[31mred", "| a line of text long enough to be shown as text: .[31mred\n"},
		{"\x00\x01\x02binary\xff", "| 0000  00 01 02 62 69 6e 61 72 79 ff\n"},
		{"\x00123456789abcdef0", "| 0000  00 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66\n| 0010  30\n"},
	} {
		if got := string(appendData(nil, []byte(tc.in), "| ")); got != tc.want {
			t.Errorf("appendData(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
		}
	}
}
