package keysched

import (
	"bytes"
	"strings"
	"testing"
)

// TestTLS13Draft: drafts 20–24 authenticate no additional data, so a record
// sealed without AAD opens only with the draft opener; drafts before 20
// are refused with a reason.
func TestTLS13Draft(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	s, err := NewTLS13Sealer(0x1303, secret)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.Seal(TypeApplicationData, []byte("draft data"))
	if err != nil {
		t.Fatal(err)
	}
	final, _ := NewTLS13Opener(0x1303, secret)
	if _, _, err := final.Open(rec[:5], rec[5:]); err != nil {
		t.Fatalf("final opener: %v", err)
	}
	draft, err := NewTLS13DraftOpener(0x1303, secret, 20)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := draft.Open(rec[:5], rec[5:]); err == nil {
		t.Fatal("a draft-20 opener accepted a record whose header was authenticated")
	}
	if _, err := NewTLS13DraftOpener(0x1303, secret, 18); err == nil || !strings.Contains(err.Error(), "draft 18 is not supported") {
		t.Fatalf("draft 18: %v", err)
	}
	d25, _ := NewTLS13DraftOpener(0x1303, secret, 28)
	if _, _, err := d25.Open(rec[:5], rec[5:]); err != nil {
		t.Fatalf("draft 28 (with AAD like the RFC): %v", err)
	}
}
