package render

import (
	"math/rand/v2"
	"testing"
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
		{"\x00\x01\x02binary\xff", "| 0000  00 01 02 62 69 6e 61 72 79 ff\n"},
		{"\x00123456789abcdef0", "| 0000  00 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66\n| 0010  30\n"},
	} {
		if got := string(appendData(nil, []byte(tc.in), "| ")); got != tc.want {
			t.Errorf("appendData(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
		}
	}
}
