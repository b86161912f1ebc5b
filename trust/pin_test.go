package trust

import (
	"strings"
	"testing"
)

// TestParsePinLeadingSlash: base64 may itself start with "/" (one key in
// 64), which must not be mistaken for curl's "sha256//" form.
func TestParsePinLeadingSlash(t *testing.T) {
	var p Pin
	p.SHA256[0] = 0xfc // base64 "/..."
	s := p.String()
	if !strings.HasPrefix(s, "sha256//") {
		t.Fatalf("test pin %s does not start with sha256//", s)
	}
	for _, in := range []string{s, "sha256//" + s[len("sha256/"):], "sha256:" + s[len("sha256/"):]} {
		got, err := ParsePin(in)
		if err != nil || got != p {
			t.Errorf("ParsePin(%q) = %v, %v; want %v", in, got, err, p)
		}
	}
}
