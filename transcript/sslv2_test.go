package transcript

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/wire"
)

// sslv2Hello is frame 4 of Wireshark's rsasnakeoil2.pcap: an SSL
// 2.0-format ClientHello asking for SSL 3.0, with a 16-byte challenge.
const sslv2Hello = "8067010300004e000000100100800300800700c006004002008004008000003900003800003500003300" +
	"003200000400000500002f00001600001300feff00000a00001500001200fefe000009000064000062000003000006" +
	"a8b893bb90e92aa24d6dcc1ce72a8021"

// alertRecord is an SSL 3.0 warning no_certificate alert.
var alertRecord = []byte{0x15, 0x03, 0x00, 0x00, 0x02, 0x01, 41}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSSLv2Hello: the client's first record may be an SSL 2.0-format
// ClientHello, however the bytes arrive; it becomes a client_hello event,
// names the connection by the challenge, and starts the handshake hash
// with the SSL 2.0 message. TLS records follow it.
func TestSSLv2Hello(t *testing.T) {
	hello := mustHex(t, sslv2Hello)
	stream := append(bytes.Clone(hello), alertRecord...)
	for _, step := range []int{len(stream), 1, 2, 3, 4, 5, 7, 104, 105} {
		d := NewDecoder(Options{})
		for i := 0; i < len(stream); i += step {
			d.Data(Client, time.Time{}, bytes.Clone(stream[i:min(i+step, len(stream))]))
		}
		tr := d.Transcript()
		if len(tr.Events) != 2 || len(tr.Problems) != 0 {
			t.Fatalf("chunks of %d: events %+v, problems %q", step, tr.Events, tr.Problems)
		}
		e := tr.Events[0]
		ch, ok := e.Message.(*wire.ClientHello)
		if e.Type != "client_hello" || !ok || ch.SSLv2 == nil || e.Record != 1 || e.RecordLen != 103 {
			t.Fatalf("chunks of %d: first event %+v", step, e)
		}
		if len(e.Fields) == 0 || e.Fields[0] != (wire.Field{Name: "format", Value: "SSL 2.0"}) {
			t.Errorf("fields %v do not say the format", e.Fields)
		}
		if got := tr.ClientRandom.String(); got != "00000000000000000000000000000000a8b893bb90e92aa24d6dcc1ce72a8021" {
			t.Errorf("client random %s", got)
		}
		if len(d.hsLog.msgs) != 1 || !bytes.Equal(d.hsLog.msgs[0], hello[2:]) {
			t.Errorf("handshake hash input %x, want the SSL 2.0 message %x", d.hsLog.msgs, hello[2:])
		}
		a := tr.Events[1]
		if a.Type != TypeAlert || a.Description != "no_certificate" || a.Record != 2 || !strings.Contains(a.Note, "no certificate") {
			t.Errorf("second event %+v", a)
		}
	}
}

// TestSSLv2HelloOnlyFirst: an SSL 2.0 hello is accepted nowhere but as the
// client's first record: not after a TLS record, not from the server, not
// after bytes were lost.
func TestSSLv2HelloOnlyFirst(t *testing.T) {
	hello := mustHex(t, sslv2Hello)

	d := NewDecoder(Options{})
	d.Data(Client, time.Time{}, append(bytes.Clone(alertRecord), hello...))
	tr := d.Transcript()
	if len(tr.Events) != 2 || tr.Events[1].Type != TypeMalformed || len(tr.Problems) != 1 || !strings.Contains(tr.Problems[0], "(80 67 01 03 00): content type 128") {
		t.Errorf("after a TLS record: events %+v, problems %q", tr.Events, tr.Problems)
	}

	d = NewDecoder(Options{})
	d.Data(Server, time.Time{}, bytes.Clone(hello))
	if tr := d.Transcript(); len(tr.Events) != 1 || tr.Events[0].Type != TypeNotTLS {
		t.Errorf("from the server: events %+v", tr.Events)
	}

	// After a gap the decoder looks for a TLS record boundary only.
	d = NewDecoder(Options{})
	d.Gap(Client, time.Time{}, 10)
	d.Data(Client, time.Time{}, append(bytes.Clone(hello), alertRecord...))
	for _, e := range d.Transcript().Events {
		if e.Type == "client_hello" {
			t.Errorf("client_hello after a gap: %+v", e)
		}
	}

	// Not a hello: an SSL 2.0 header with another message type is not TLS.
	d = NewDecoder(Options{})
	bad := bytes.Clone(hello)
	bad[2] = 4
	d.Data(Client, time.Time{}, bad)
	if tr := d.Transcript(); len(tr.Events) != 1 || tr.Events[0].Type != TypeNotTLS {
		t.Errorf("SSL 2.0 SERVER-HELLO type from the client: events %+v", tr.Events)
	}

	// A malformed hello is reported as such.
	d = NewDecoder(Options{})
	bad = bytes.Clone(hello)
	bad[10] = 15 // challenge length
	d.Data(Client, time.Time{}, bad)
	if tr := d.Transcript(); len(tr.Events) != 1 || tr.Events[0].Type != "client_hello" || len(tr.Problems) != 1 ||
		!strings.Contains(tr.Problems[0], "SSL 2.0-format ClientHello that does not parse") {
		t.Errorf("malformed hello: events %+v, problems %q", tr.Events, tr.Problems)
	}
}
