package transcript

import (
	"testing"
	"time"
)

// TestFirstFatalAlert: the alert that ended a side's part of the
// connection is its first fatal one, not a warning before it, nor the
// other side's, nor a later one (RFC 8446 §6: a fatal alert ends the
// connection; anything after it is not the peer's answer).
func TestFirstFatalAlert(t *testing.T) {
	at := time.Unix(1, 0)
	d := NewDecoder(Options{})
	d.Data(Client, at, []byte{21, 3, 3, 0, 2, 2, 10}) // the client's fatal unexpected_message
	d.Data(Server, at, []byte{
		21, 3, 3, 0, 2, 1, 112, // warning unrecognized_name
		21, 3, 3, 0, 2, 2, 70, // fatal protocol_version
		21, 3, 3, 0, 2, 2, 40, // fatal handshake_failure, after the end
	})
	d.Close(Server, at, CloseFIN)
	tr := d.Transcript()
	e := tr.FirstFatalAlert(Server)
	if e == nil || e.AlertCode != 70 || e.Level != "fatal" {
		t.Fatalf("server's first fatal alert = %+v, want protocol_version (70)", e)
	}
	if c := tr.FirstFatalAlert(Client); c == nil || c.AlertCode != 10 {
		t.Errorf("client's first fatal alert = %+v, want unexpected_message (10)", c)
	}
	if tr.Index(e) < 0 {
		t.Errorf("the alert is not an event of the transcript")
	}

	d = NewDecoder(Options{})
	d.Data(Server, at, []byte{21, 3, 3, 0, 2, 1, 0}) // warning close_notify only
	d.Close(Server, at, CloseFIN)
	if e := d.Transcript().FirstFatalAlert(Server); e != nil {
		t.Errorf("a warning alert taken as fatal: %+v", e)
	}
}
