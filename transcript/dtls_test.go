package transcript

import (
	"strings"
	"testing"
	"time"
)

// TestDatagramBadInput: bytes that are not DTLS, a record cut short and
// garbage after good records give an event or a problem in words, never a
// panic, and later datagrams are still decoded.
func TestDatagramBadInput(t *testing.T) {
	// A plaintext DTLS 1.2 alert record: epoch 0, sequence 1, warning close_notify.
	alert := []byte{21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 1, 0}

	alert2 := append([]byte{}, alert...)
	alert2[10] = 2 // sequence 2
	d := NewDecoder(Options{})
	d.Datagram(Client, time.Time{}, []byte("GET / HTTP/1.1\r\n\r\n"))
	d.Datagram(Server, time.Time{}, append(append([]byte{}, alert...), 0xde, 0xad)) // good record, then garbage
	d.Datagram(Server, time.Time{}, alert[:10])                                     // shorter than a header
	d.Datagram(Server, time.Time{}, alert2[:14])                                    // record cut short
	d.Datagram(Server, time.Time{}, alert2)
	d.Datagram(Server, time.Time{}, alert2) // the same record again
	d.Datagram(Client, time.Time{}, alert2) // the client's direction stopped at its HTTP
	tr := d.Transcript()

	if e := tr.First(Client, TypeNotTLS); e == nil || !strings.Contains(e.Note, "not TLS") && !strings.Contains(e.Note, "HTTP") {
		t.Errorf("client's HTTP: event %+v, want not_tls", e)
	}
	if n := len(tr.Alerts()); n != 2 {
		t.Errorf("%d alerts decoded, want 2 (sequence 1 and 2, the copy dropped)", n)
	}
	want := []string{"sent a datagram with 2 bytes that are not a DTLS record", "10 bytes that are not a DTLS record", "ends inside a DTLS record", "appear twice"}
	all := strings.Join(tr.Problems, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("problems lack %q:\n%s", w, all)
		}
	}
}
