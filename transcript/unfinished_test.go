package transcript

import (
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/wire"
)

// TestUnfinishedRecord: a side that ends the connection inside a record
// leaves an unfinished_record event with the record's declared length and
// the bytes of it that came (a header cut short: only the bytes), before
// the close.
func TestUnfinishedRecord(t *testing.T) {
	hello := wire.AppendRecords(nil, wire.ContentHandshake, wire.VersionTLS12, wire.HandshakeMessage(&wire.ClientHello{Version: wire.VersionTLS12, Random: make([]byte, 32)}))
	for _, tc := range []struct {
		name       string
		tail       []byte
		recordLen  int
		bytes      int
		wantFields bool
	}{
		{"inside a record", append([]byte{23, 3, 3, 0x05, 0x00}, make([]byte, 434)...), 1280, 434, true},
		{"inside a header", []byte{23, 3}, 0, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(Options{})
			now := time.Unix(0, 0)
			d.Data(Client, now, hello)
			d.Data(Server, now, append(wire.AppendRecords(nil, wire.ContentAlert, wire.VersionTLS12, []byte{1, 112}), tc.tail...))
			d.Close(Server, now, CloseTimeout)
			tr := d.Transcript()
			var u *Event
			for i := range tr.Events {
				if tr.Events[i].Type == TypeUnfinished {
					u = &tr.Events[i]
				}
			}
			if u == nil {
				t.Fatalf("no %s event: %+v", TypeUnfinished, tr.Events)
			}
			if u.From != Server || u.RecordLen != tc.recordLen || u.Bytes != tc.bytes || u.Record != 2 {
				t.Errorf("%+v, want record 2 from the server, %d declared, %d came", u, tc.recordLen, tc.bytes)
			}
			if ct, ok := u.Field("content_type"); ok != tc.wantFields || ok && ct != "application_data" {
				t.Errorf("content_type %q %v", ct, ok)
			}
			if last := tr.Events[len(tr.Events)-1]; last.Type != TypeClose {
				t.Errorf("the last event is %s, want the close", last.Type)
			}
		})
	}
}
