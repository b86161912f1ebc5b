package transcript

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestMaxEvents: a peer sending endless tiny records (here ChangeCipherSpec
// and warning alerts, before any handshake) cannot make the transcript
// longer than MaxEvents plus the event that says it was cut and the close.
func TestMaxEvents(t *testing.T) {
	d := NewDecoder(Options{MaxEvents: 10})
	at := time.Unix(1, 0)
	d.Data(Server, at, bytes.Repeat([]byte{20, 3, 3, 0, 1, 1, 21, 3, 3, 0, 2, 1, 0}, 1000))
	d.Close(Server, at, CloseFIN)
	tr := d.Transcript()
	if len(tr.Events) != 12 {
		t.Fatalf("%d events, want 10 + truncated + close", len(tr.Events))
	}
	if e := tr.Events[10]; e.Type != TypeTruncated || !strings.Contains(e.Note, "more than 10 events") {
		t.Errorf("event 11 = %+v, want the truncation", e)
	}
	if e := tr.Events[11]; e.Type != TypeClose || e.Seq != 12 {
		t.Errorf("event 12 = %+v, want the close", e)
	}
	if !strings.Contains(strings.Join(tr.Problems, "\n"), "cut after 10 events") {
		t.Errorf("problems %q", tr.Problems)
	}
}

// TestTruncate: a recorder that stopped keeping a side's bytes mid-record
// says so, and the unfinished record is not blamed on the peer.
func TestTruncate(t *testing.T) {
	d := NewDecoder(Options{})
	at := time.Unix(1, 0)
	d.Data(Server, at, []byte{23, 3, 3, 0x40, 0, 1, 2, 3}) // a record cut short
	d.Truncate(Server, at, "the server sent more than 256 KiB after the handshake; the rest was not kept")
	d.Data(Server, at, []byte{21, 3, 3, 0, 2, 2, 40}) // ignored: not kept
	d.Close(Client, at, CloseLocal)
	tr := d.Transcript()
	var types []string
	for _, e := range tr.Events {
		types = append(types, e.Type)
	}
	if strings.Join(types, " ") != "truncated close" {
		t.Errorf("events %q", types)
	}
	if len(tr.Problems) != 1 || !strings.Contains(tr.Problems[0], "not kept") {
		t.Errorf("problems %q: want only the truncation", tr.Problems)
	}
}
