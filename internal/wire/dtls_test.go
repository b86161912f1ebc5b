package wire

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dtlsFragHeader encodes a DTLS handshake fragment header (RFC 6347
// §4.2.2): a message of type typ, length bytes long, with message_seq seq,
// of which this fragment holds n bytes at offset off.
func dtlsFragHeader(typ HandshakeType, length int, seq uint16, off, n int) []byte {
	return []byte{
		byte(typ),
		byte(length >> 16), byte(length >> 8), byte(length),
		byte(seq >> 8), byte(seq),
		byte(off >> 16), byte(off >> 8), byte(off),
		byte(n >> 16), byte(n >> 8), byte(n),
	}
}

// dtlsFrag encodes one fragment: its header followed by data, the bytes
// at offset off of a message of length bytes.
func dtlsFrag(typ HandshakeType, length int, seq uint16, off int, data []byte) []byte {
	return append(dtlsFragHeader(typ, length, seq, off, len(data)), data...)
}

// dtlsMsg encodes a whole message as one fragment, which is also the Raw
// form DTLSAssembler delivers.
func dtlsMsg(typ HandshakeType, seq uint16, body string) []byte {
	return dtlsFrag(typ, len(body), seq, 0, []byte(body))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// dtlsRecordHeaderBytes encodes h as the 13 bytes of a DTLS record header.
func dtlsRecordHeaderBytes(h DTLSRecordHeader) []byte {
	return []byte{
		byte(h.Type),
		byte(h.Version >> 8), byte(h.Version),
		byte(h.Epoch >> 8), byte(h.Epoch),
		byte(h.Seq >> 40), byte(h.Seq >> 32), byte(h.Seq >> 24), byte(h.Seq >> 16), byte(h.Seq >> 8), byte(h.Seq),
		byte(h.Length >> 8), byte(h.Length),
	}
}

type dtlsWant struct {
	typ  HandshakeType
	seq  uint16
	body string
}

// checkDTLSMsgs fails unless msgs are exactly want, each with its Raw the
// unfragmented encoding of the message.
func checkDTLSMsgs(t *testing.T, what string, msgs []RawMessage, want ...dtlsWant) {
	t.Helper()
	if len(msgs) != len(want) {
		t.Fatalf("%s: %d messages %v, want %d", what, len(msgs), msgs, len(want))
	}
	for i, w := range want {
		m := msgs[i]
		if m.Type != w.typ || string(m.Body) != w.body || !bytes.Equal(m.Raw, dtlsMsg(w.typ, w.seq, w.body)) {
			t.Errorf("%s: message %d = %v %q raw %x; want %v seq %d %q", what, i, m.Type, m.Body, m.Raw, w.typ, w.seq, w.body)
		}
	}
}

func TestDTLSRecordHeader(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    DTLSRecordHeader
		err     error
		errText string
	}{
		{
			in:   "\x16\xfe\xff\x00\x00\x00\x00\x00\x00\x00\x00\x00\x46",
			want: DTLSRecordHeader{ContentHandshake, VersionDTLS10, 0, 0, 70},
		},
		{
			// The top 16 bits of the sequence number and the low 32 are
			// both set, to catch a wrong shift or a swapped half.
			in:   "\x17\xfe\xfd\x00\x01\x00\x01\x00\x00\x00\x02\x00\x30",
			want: DTLSRecordHeader{ContentApplicationData, VersionDTLS12, 1, 0x0000_0001_0000_0002, 48},
		},
		{
			in:   "\x15\xfe\xfd\xab\xcd\x12\x34\x56\x78\x9a\xbc\x48\x00",
			want: DTLSRecordHeader{ContentAlert, VersionDTLS12, 0xabcd, 0x1234_5678_9abc, MaxCiphertext},
		},
		{
			in:   "\x1a\xfe\xfd\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00",
			want: DTLSRecordHeader{ContentACK, VersionDTLS12, 0xffff, 1<<48 - 1, 0},
		},
		{
			// OpenSSL before 0.9.8f (DTLS1_BAD_VER).
			in:   "\x14\x01\x00\x00\x02\x80\x00\x00\x00\x00\x01\x00\x01",
			want: DTLSRecordHeader{ContentChangeCipherSpec, VersionDTLS10OpenSSL, 2, 0x8000_0000_0001, 1},
		},
		{in: "", err: ErrShort},
		{in: "\x16\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00", err: ErrShort}, // 12 bytes
		{in: "\x16\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x46", err: ErrNotTLS, errText: "version 0x0303 is not DTLS"},
		{in: "\x16\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x46", err: ErrNotTLS, errText: "version 0x0101"},
		{in: "\x13\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x46", err: ErrNotTLS, errText: "content type 19"},
		{in: "\x1b\xfe\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x46", err: ErrNotTLS, errText: "content type 27"},
		{in: "\x17\xfe\xfd\x00\x01\x00\x00\x00\x00\x00\x01\x48\x01", err: ErrNotTLS, errText: "length 18433"},
		{in: "GET / HTTP/1.1\r\n", err: ErrNotTLS},
	} {
		h, err := ParseDTLSRecordHeader([]byte(tc.in))
		if !errors.Is(err, tc.err) || (err == nil && h != tc.want) || (err != nil && h != DTLSRecordHeader{}) {
			t.Errorf("ParseDTLSRecordHeader(%q) = %+v, %v; want %+v, %v", tc.in, h, err, tc.want, tc.err)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), tc.errText) {
			t.Errorf("ParseDTLSRecordHeader(%q) error %q does not mention %q", tc.in, err, tc.errText)
		}
		var nt *NotTLSError
		if errors.As(err, &nt) && !bytes.Equal(nt.Header, []byte(tc.in)[:DTLSRecordHeaderLen]) {
			t.Errorf("ParseDTLSRecordHeader(%q): NotTLSError.Header = %x, want the 13 header bytes", tc.in, nt.Header)
		}
		if tc.err == ErrNotTLS && nt == nil {
			t.Errorf("ParseDTLSRecordHeader(%q) error %T is not a *NotTLSError", tc.in, err)
		}
	}
}

func TestDTLSAssemblerOneFragment(t *testing.T) {
	var a DTLSAssembler
	payload := dtlsMsg(TypeClientHello, 0, "client hello body")
	msgs, err := a.Write(payload, false)
	if err != nil {
		t.Fatal(err)
	}
	checkDTLSMsgs(t, "ClientHello", msgs, dtlsWant{TypeClientHello, 0, "client hello body"})
	if !bytes.Equal(msgs[0].Raw, payload) || a.Pending() != 0 || a.Retransmitted != 0 {
		t.Errorf("Raw = %x (want %x), pending %d, retransmitted %d", msgs[0].Raw, payload, a.Pending(), a.Retransmitted)
	}
	// The result must not alias the payload.
	for i := range payload {
		payload[i] = 0xee
	}
	checkDTLSMsgs(t, "ClientHello after payload reuse", msgs, dtlsWant{TypeClientHello, 0, "client hello body"})

	// A capture may start in the middle of a handshake: the first
	// message seen sets the expected message_seq.
	var b DTLSAssembler
	msgs, err = b.Write(cat(dtlsMsg(TypeServerHello, 3, "sh"), dtlsMsg(TypeCertificate, 4, "cert")), false)
	if err != nil {
		t.Fatal(err)
	}
	checkDTLSMsgs(t, "mid-handshake start", msgs, dtlsWant{TypeServerHello, 3, "sh"}, dtlsWant{TypeCertificate, 4, "cert"})
}

// permutations returns every ordering of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

func TestDTLSAssemblerFragments(t *testing.T) {
	const body = "0123456789abcdefghijABCDEFGHIJ" // 30 bytes
	type piece struct{ from, to int }
	for _, tc := range []struct {
		name  string
		spans []piece
	}{
		{"adjacent", []piece{{0, 10}, {10, 20}, {20, 30}}},
		{"overlapping", []piece{{0, 12}, {10, 22}, {20, 30}}},
		{"contained", []piece{{0, 30}, {5, 9}, {9, 9}}},
		{"gap filled last", []piece{{0, 10}, {20, 30}, {9, 21}}},
		{"duplicate", []piece{{0, 16}, {0, 16}, {16, 30}}},
		{"spanning two", []piece{{3, 7}, {15, 18}, {0, 30}}},
		{"four pieces", []piece{{0, 1}, {29, 30}, {1, 15}, {14, 29}}},
	} {
		for _, order := range permutations(len(tc.spans)) {
			var a DTLSAssembler
			// message_seq 0 comes first so that message_seq 1 is the one
			// being reassembled, whatever fragment arrives first.
			if _, err := a.Write(dtlsMsg(TypeServerHello, 0, "sh"), false); err != nil {
				t.Fatal(err)
			}
			// The message is complete once the fragments seen cover it.
			covered := make([]bool, len(body))
			done := false
			for i, k := range order {
				s := tc.spans[k]
				what := fmt.Sprintf("%s, order %v, fragment %d %v", tc.name, order, i, s)
				msgs, err := a.Write(dtlsFrag(TypeCertificate, len(body), 1, s.from, []byte(body[s.from:s.to])), false)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				for j := s.from; j < s.to; j++ {
					covered[j] = true
				}
				all := true
				for _, c := range covered {
					all = all && c
				}
				switch {
				case all && !done:
					checkDTLSMsgs(t, what, msgs, dtlsWant{TypeCertificate, 1, body})
					done = true
				case all && done:
					checkDTLSMsgs(t, what, msgs)
					if a.Retransmitted == 0 {
						t.Errorf("%s: a fragment after delivery is not counted as retransmitted", what)
					}
				default:
					checkDTLSMsgs(t, what, msgs)
					if a.Pending() != 1 {
						t.Errorf("%s: Pending() = %d, want 1", what, a.Pending())
					}
				}
			}
			if !done || a.Pending() != 0 {
				t.Errorf("%s, order %v: delivered %v, pending %d", tc.name, order, done, a.Pending())
			}
		}
	}
}

func TestDTLSAssemblerPacked(t *testing.T) {
	var a DTLSAssembler
	cert := "certificate chain bytes"
	// One record: a whole ServerHello and the first part of the
	// Certificate; the next: the rest of the Certificate, a
	// ServerKeyExchange and a ServerHelloDone.
	msgs, err := a.Write(cat(
		dtlsMsg(TypeServerHello, 1, "server hello"),
		dtlsFrag(TypeCertificate, len(cert), 2, 0, []byte(cert[:8])),
	), false)
	if err != nil {
		t.Fatal(err)
	}
	checkDTLSMsgs(t, "first record", msgs, dtlsWant{TypeServerHello, 1, "server hello"})
	if a.Pending() != 1 {
		t.Errorf("Pending() = %d after the first record, want 1", a.Pending())
	}
	msgs, err = a.Write(cat(
		dtlsFrag(TypeCertificate, len(cert), 2, 8, []byte(cert[8:])),
		dtlsMsg(TypeServerKeyExchange, 3, "ske"),
		dtlsMsg(TypeServerHelloDone, 4, ""),
	), false)
	if err != nil {
		t.Fatal(err)
	}
	checkDTLSMsgs(t, "second record", msgs,
		dtlsWant{TypeCertificate, 2, cert}, dtlsWant{TypeServerKeyExchange, 3, "ske"}, dtlsWant{TypeServerHelloDone, 4, ""})

	// Both fragments of one message in one record, in reverse order.
	msgs, err = a.Write(cat(
		dtlsFrag(TypeClientKeyExchange, 6, 5, 3, []byte("def")),
		dtlsFrag(TypeClientKeyExchange, 6, 5, 0, []byte("abc")),
	), false)
	if err != nil {
		t.Fatal(err)
	}
	checkDTLSMsgs(t, "one record, two fragments", msgs, dtlsWant{TypeClientKeyExchange, 5, "abcdef"})
	if a.Pending() != 0 || a.Retransmitted != 0 {
		t.Errorf("pending %d, retransmitted %d; want 0, 0", a.Pending(), a.Retransmitted)
	}
}

func TestDTLSAssemblerRetransmission(t *testing.T) {
	var a DTLSAssembler
	if _, err := a.Write(dtlsMsg(TypeClientHello, 0, "ch"), false); err != nil {
		t.Fatal(err)
	}
	cert := "0123456789"
	flight := [][]byte{
		dtlsMsg(TypeServerHello, 1, "sh"),
		dtlsFrag(TypeCertificate, len(cert), 2, 0, []byte(cert[:5])),
		dtlsFrag(TypeCertificate, len(cert), 2, 5, []byte(cert[5:])),
		dtlsMsg(TypeServerHelloDone, 3, ""),
	}
	msgs, err := a.Write(cat(flight...), false)
	if err != nil {
		t.Fatal(err)
	}
	checkDTLSMsgs(t, "flight", msgs, dtlsWant{TypeServerHello, 1, "sh"}, dtlsWant{TypeCertificate, 2, cert}, dtlsWant{TypeServerHelloDone, 3, ""})

	// The whole flight again, as one record and then one record per
	// fragment, and cut differently: nothing comes out twice.
	msgs, err = a.Write(cat(flight...), false)
	if err != nil || len(msgs) != 0 || a.Retransmitted != 4 {
		t.Fatalf("retransmitted flight: %v, %v, retransmitted %d; want none, 4", msgs, err, a.Retransmitted)
	}
	for _, f := range flight {
		if msgs, err := a.Write(f, false); err != nil || len(msgs) != 0 {
			t.Fatalf("retransmitted fragment %x: %v, %v", f, msgs, err)
		}
	}
	if msgs, err := a.Write(dtlsFrag(TypeCertificate, len(cert), 2, 2, []byte(cert[2:9])), false); err != nil || len(msgs) != 0 {
		t.Fatalf("re-cut fragment: %v, %v", msgs, err)
	}
	// So is the very first message.
	if msgs, err := a.Write(dtlsMsg(TypeClientHello, 0, "ch"), false); err != nil || len(msgs) != 0 {
		t.Fatalf("retransmitted ClientHello: %v, %v", msgs, err)
	}
	if a.Retransmitted != 10 || a.Pending() != 0 {
		t.Errorf("retransmitted %d, pending %d; want 10, 0", a.Retransmitted, a.Pending())
	}
	// The next new message still comes through.
	msgs, err = a.Write(dtlsMsg(TypeFinished, 4, "fin"), false)
	if err != nil {
		t.Fatal(err)
	}
	checkDTLSMsgs(t, "after retransmissions", msgs, dtlsWant{TypeFinished, 4, "fin"})
}

func TestDTLSAssemblerOutOfOrder(t *testing.T) {
	var a DTLSAssembler
	if _, err := a.Write(dtlsMsg(TypeServerHello, 0, "sh"), false); err != nil {
		t.Fatal(err)
	}
	// message_seq 3 and 2 complete before 1 has arrived.
	for _, p := range [][]byte{dtlsMsg(TypeServerHelloDone, 3, ""), dtlsMsg(TypeServerKeyExchange, 2, "ske")} {
		if msgs, err := a.Write(p, false); err != nil || len(msgs) != 0 {
			t.Fatalf("early message %x: %v, %v", p, msgs, err)
		}
	}
	// The first half of 1, then 2 again (held, not yet retransmitted).
	if msgs, err := a.Write(dtlsFrag(TypeCertificate, 4, 1, 0, []byte("ce")), false); err != nil || len(msgs) != 0 {
		t.Fatalf("half of message 1: %v, %v", msgs, err)
	}
	if msgs, err := a.Write(dtlsMsg(TypeServerKeyExchange, 2, "ske"), false); err != nil || len(msgs) != 0 || a.Pending() != 3 || a.Retransmitted != 0 {
		t.Fatalf("message 2 again: %v, %v, pending %d, retransmitted %d; want none, 3 pending, 0", msgs, err, a.Pending(), a.Retransmitted)
	}
	msgs, err := a.Write(dtlsFrag(TypeCertificate, 4, 1, 2, []byte("rt")), false)
	if err != nil {
		t.Fatal(err)
	}
	checkDTLSMsgs(t, "after message 1", msgs,
		dtlsWant{TypeCertificate, 1, "cert"}, dtlsWant{TypeServerKeyExchange, 2, "ske"}, dtlsWant{TypeServerHelloDone, 3, ""})
	if a.Pending() != 0 {
		t.Errorf("Pending() = %d, want 0", a.Pending())
	}
}

func TestDTLSAssemblerRenegotiation(t *testing.T) {
	first := func(t *testing.T) *DTLSAssembler {
		var a DTLSAssembler
		msgs, err := a.Write(cat(
			dtlsMsg(TypeClientHello, 0, "ch"),
			dtlsMsg(TypeClientKeyExchange, 1, "cke"),
			dtlsMsg(TypeFinished, 2, "fin"),
		), false)
		if err != nil || len(msgs) != 3 {
			t.Fatalf("first handshake: %v, %v", msgs, err)
		}
		return &a
	}
	t.Run("new ClientHello", func(t *testing.T) {
		a := first(t)
		// A message of the old handshake that has not arrived yet is
		// dropped by the new one.
		if msgs, err := a.Write(dtlsMsg(TypeFinished, 4, "late"), false); err != nil || len(msgs) != 0 || a.Pending() != 1 {
			t.Fatalf("held message: %v, %v, pending %d", msgs, err, a.Pending())
		}
		msgs, err := a.Write(cat(dtlsMsg(TypeClientHello, 0, "ch2"), dtlsMsg(TypeClientKeyExchange, 1, "cke2")), true)
		if err != nil {
			t.Fatal(err)
		}
		checkDTLSMsgs(t, "renegotiation", msgs, dtlsWant{TypeClientHello, 0, "ch2"}, dtlsWant{TypeClientKeyExchange, 1, "cke2"})
		if a.Retransmitted != 0 || a.Pending() != 0 {
			t.Errorf("retransmitted %d, pending %d; want 0, 0", a.Retransmitted, a.Pending())
		}
	})
	t.Run("retransmitted new ClientHello", func(t *testing.T) {
		a := first(t)
		ch2 := dtlsMsg(TypeClientHello, 0, "ch2")
		if msgs, _ := a.Write(ch2, true); len(msgs) != 1 {
			t.Fatalf("renegotiation ClientHello: %d messages", len(msgs))
		}
		// The client resends it (no answer in time): not a third handshake.
		if msgs, err := a.Write(ch2, true); err != nil || len(msgs) != 0 || a.Retransmitted != 1 {
			t.Errorf("resent ClientHello: %v, %v, retransmitted %d; want none, 1", msgs, err, a.Retransmitted)
		}
		// Once that handshake finished, a ClientHello 0 is a new one again.
		if msgs, _ := a.Write(cat(dtlsMsg(TypeClientKeyExchange, 1, "cke2"), dtlsMsg(TypeFinished, 2, "fin2")), true); len(msgs) != 2 {
			t.Fatalf("rest of the renegotiation: %d messages", len(msgs))
		}
		if msgs, _ := a.Write(dtlsMsg(TypeClientHello, 0, "ch3"), true); len(msgs) != 1 {
			t.Errorf("second renegotiation: %d messages, want its ClientHello", len(msgs))
		}
	})
	t.Run("HelloRequest", func(t *testing.T) {
		a := first(t)
		msgs, err := a.Write(dtlsMsg(TypeHelloRequest, 0, ""), true)
		if err != nil {
			t.Fatal(err)
		}
		checkDTLSMsgs(t, "HelloRequest", msgs, dtlsWant{TypeHelloRequest, 0, ""})
	})
	t.Run("not a new handshake", func(t *testing.T) {
		a := first(t)
		if msgs, err := a.Write(dtlsMsg(TypeClientHello, 0, "ch2"), false); err != nil || len(msgs) != 0 || a.Retransmitted != 1 {
			t.Errorf("ClientHello with newHandshake=false: %v, %v, retransmitted %d; want none, 1", msgs, err, a.Retransmitted)
		}
		if msgs, err := a.Write(dtlsMsg(TypeHelloRequest, 0, ""), false); err != nil || len(msgs) != 0 || a.Retransmitted != 2 {
			t.Errorf("HelloRequest with newHandshake=false: %v, %v, retransmitted %d; want none, 2", msgs, err, a.Retransmitted)
		}
		// Only a hello starts a handshake.
		if msgs, err := a.Write(dtlsMsg(TypeFinished, 2, "fin"), true); err != nil || len(msgs) != 0 || a.Retransmitted != 3 {
			t.Errorf("Finished with newHandshake=true: %v, %v, retransmitted %d; want none, 3", msgs, err, a.Retransmitted)
		}
		msgs, err := a.Write(dtlsMsg(TypeCertificate, 3, "next"), false)
		if err != nil {
			t.Fatal(err)
		}
		checkDTLSMsgs(t, "next message", msgs, dtlsWant{TypeCertificate, 3, "next"})
	})
}

func TestDTLSAssemblerConsumed(t *testing.T) {
	var zero DTLSAssembler
	if msgs := zero.Consumed(0); msgs != nil {
		t.Errorf("Consumed on a zero DTLSAssembler = %v", msgs)
	}
	if msgs, err := zero.Write(dtlsMsg(TypeClientHello, 0, "ch"), false); err != nil || len(msgs) != 1 {
		t.Fatalf("ClientHello after Consumed on a zero DTLSAssembler: %v, %v", msgs, err)
	}

	// OpenSSL 0.9.8e: ClientHello 0, ClientKeyExchange 1,
	// ChangeCipherSpec 2, Finished 3.
	var a DTLSAssembler
	msgs, err := a.Write(cat(dtlsMsg(TypeClientHello, 0, "ch"), dtlsMsg(TypeClientKeyExchange, 1, "cke")), false)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("first flight: %v, %v", msgs, err)
	}
	// The Finished arrives before the ChangeCipherSpec.
	if msgs, err := a.Write(dtlsMsg(TypeFinished, 3, "fin"), false); err != nil || len(msgs) != 0 || a.Pending() != 1 {
		t.Fatalf("Finished before the ChangeCipherSpec: %v, %v, pending %d", msgs, err, a.Pending())
	}
	if msgs := a.Consumed(3); msgs != nil {
		t.Errorf("Consumed(3) while 2 is expected = %v", msgs)
	}
	if msgs := a.Consumed(1); msgs != nil {
		t.Errorf("Consumed(1) (already used) = %v", msgs)
	}
	checkDTLSMsgs(t, "Consumed(2)", a.Consumed(2), dtlsWant{TypeFinished, 3, "fin"})
	if a.Pending() != 0 {
		t.Errorf("Pending() = %d, want 0", a.Pending())
	}

	// The ChangeCipherSpec first, then the Finished.
	var b DTLSAssembler
	if _, err := b.Write(dtlsMsg(TypeServerHelloDone, 4, ""), false); err != nil {
		t.Fatal(err)
	}
	if msgs := b.Consumed(5); len(msgs) != 0 {
		t.Errorf("Consumed(5) = %v, want nothing", msgs)
	}
	msgs, err = b.Write(dtlsMsg(TypeFinished, 6, "fin"), false)
	if err != nil {
		t.Fatal(err)
	}
	checkDTLSMsgs(t, "Finished after Consumed", msgs, dtlsWant{TypeFinished, 6, "fin"})
}

func TestDTLSAssemblerErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prefix  [][]byte // written first, without error
		payload []byte
		want    string
		msgs    int // messages delivered before the error
	}{
		{name: "empty header", payload: []byte{byte(TypeClientHello)}, want: "header truncated: 1 bytes"},
		{name: "truncated header", payload: dtlsMsg(TypeClientHello, 0, "")[:11], want: "header truncated: 11 bytes"},
		{name: "trailing bytes", payload: cat(dtlsMsg(TypeClientHello, 0, "ch"), []byte("\x02\x00\x00")), want: "header truncated: 3 bytes", msgs: 1},
		{name: "overrun", payload: dtlsFrag(TypeCertificate, 10, 0, 8, []byte("abcd")), want: "fragment 8+4 overruns the message length 10"},
		{name: "offset past the end", payload: dtlsFrag(TypeCertificate, 10, 0, 11, nil), want: "overruns"},
		{name: "24-bit offset and length", payload: dtlsFragHeader(TypeCertificate, 1<<20, 0, 0xffffff, 0xffffff), want: "overruns"},
		{name: "longer than the record", payload: append(dtlsFragHeader(TypeCertificate, 10, 0, 0, 10), "abcde"...), want: "fragment of 10 bytes, but the record holds only 5"},
		{name: "over 1 MiB", payload: dtlsFrag(TypeCertificate, 1<<20+1, 0, 0, []byte("x")), want: "declares 1048577 bytes, over the 1048576 limit"},
		{name: "max length header", payload: dtlsFragHeader(TypeCertificate, 0xffffff, 0, 0, 0), want: "limit"},
		{
			name:    "type disagrees",
			prefix:  [][]byte{dtlsFrag(TypeCertificate, 20, 1, 0, []byte("0123456789"))},
			payload: dtlsFrag(TypeServerKeyExchange, 20, 1, 10, []byte("0123456789")),
			want:    "message_seq 1 is a certificate of 20 bytes in one fragment and a server_key_exchange of 20 bytes in another",
		},
		{
			name:    "length disagrees",
			prefix:  [][]byte{dtlsFrag(TypeCertificate, 20, 1, 0, []byte("0123456789"))},
			payload: dtlsFrag(TypeCertificate, 21, 1, 10, []byte("0123456789")),
			want:    "of 20 bytes in one fragment and a certificate of 21 bytes",
		},
		{
			name:    "held message disagrees",
			prefix:  [][]byte{dtlsMsg(TypeServerHello, 0, "sh"), dtlsMsg(TypeServerHelloDone, 2, "")},
			payload: dtlsMsg(TypeFinished, 2, "x"),
			want:    "message_seq 2",
		},
		{
			name: "too many pending",
			prefix: [][]byte{
				dtlsMsg(TypeServerHello, 0, "sh"),
				// message_seq 1 is lost; 2..9 are held.
				dtlsMsg(TypeCertificate, 2, "c"), dtlsMsg(TypeCertificate, 3, "c"),
				dtlsMsg(TypeCertificate, 4, "c"), dtlsMsg(TypeCertificate, 5, "c"),
				dtlsMsg(TypeCertificate, 6, "c"), dtlsMsg(TypeCertificate, 7, "c"),
				dtlsMsg(TypeCertificate, 8, "c"), dtlsFrag(TypeCertificate, 2, 9, 0, []byte("c")),
			},
			payload: dtlsMsg(TypeCertificate, 10, "c"),
			want:    "message 1 never arrived; 8 later messages are waiting",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a DTLSAssembler
			for _, p := range tc.prefix {
				if _, err := a.Write(p, false); err != nil {
					t.Fatalf("prefix %x: %v", p, err)
				}
			}
			pending := a.Pending()
			msgs, err := a.Write(tc.payload, false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Write(%x) error = %v, want it to contain %q", tc.payload, err, tc.want)
			}
			if len(msgs) != tc.msgs {
				t.Errorf("Write(%x) delivered %d messages before the error, want %d", tc.payload, len(msgs), tc.msgs)
			}
			if a.Pending() > maxPendingDTLS || tc.msgs == 0 && a.Pending() > pending {
				t.Errorf("Pending() = %d after the error, %d before", a.Pending(), pending)
			}
		})
	}

	// Exactly 1 MiB is allowed.
	var a DTLSAssembler
	if msgs, err := a.Write(dtlsFragHeader(TypeCertificate, 1<<20, 0, 1<<20, 0), false); err != nil || len(msgs) != 0 || a.Pending() != 1 {
		t.Errorf("empty fragment of a 1 MiB message: %v, %v, pending %d", msgs, err, a.Pending())
	}
}

func TestDTLSAssemblerZeroLength(t *testing.T) {
	var a DTLSAssembler
	msgs, err := a.Write(dtlsMsg(TypeServerHelloDone, 7, ""), false)
	if err != nil {
		t.Fatal(err)
	}
	checkDTLSMsgs(t, "ServerHelloDone", msgs, dtlsWant{TypeServerHelloDone, 7, ""})
	if len(msgs[0].Raw) != DTLSHandshakeHeaderLen || len(msgs[0].Body) != 0 || a.Pending() != 0 {
		t.Errorf("Raw %x, body %x, pending %d", msgs[0].Raw, msgs[0].Body, a.Pending())
	}
	// Held while an earlier message is missing, then delivered with it.
	if msgs, err := a.Write(dtlsMsg(TypeHelloRequest, 9, ""), false); err != nil || len(msgs) != 0 || a.Pending() != 1 {
		t.Fatalf("early HelloRequest: %v, %v, pending %d", msgs, err, a.Pending())
	}
	msgs, err = a.Write(dtlsMsg(TypeFinished, 8, "f"), false)
	if err != nil {
		t.Fatal(err)
	}
	checkDTLSMsgs(t, "Finished", msgs, dtlsWant{TypeFinished, 8, "f"}, dtlsWant{TypeHelloRequest, 9, ""})
}

// dtlsDatagram is one UDP payload of testdata/dtls: the records a client
// or server sent in one datagram.
type dtlsDatagram struct {
	name    string
	client  bool
	raw     []byte
	headers []DTLSRecordHeader
	records [][]byte // payloads
}

// dtlsCapture reads the datagrams of testdata/dtls in order and splits
// them into records.
func dtlsCapture(t testing.TB) []dtlsDatagram {
	t.Helper()
	files, err := filepath.Glob("testdata/dtls/*.bin")
	if err != nil || len(files) == 0 {
		t.Fatalf("no DTLS fixtures: %v", err)
	}
	var out []dtlsDatagram
	for _, f := range files { // 1-…, 2-…: Glob sorts them
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := dtlsDatagram{name: filepath.Base(f), client: strings.Contains(f, "client"), raw: b}
		for len(b) > 0 {
			h, err := ParseDTLSRecordHeader(b)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(b) < DTLSRecordHeaderLen+h.Length {
				t.Fatalf("%s: record of %d bytes truncated to %d", f, h.Length, len(b)-DTLSRecordHeaderLen)
			}
			d.headers = append(d.headers, h)
			d.records = append(d.records, b[DTLSRecordHeaderLen:DTLSRecordHeaderLen+h.Length])
			b = b[DTLSRecordHeaderLen+h.Length:]
		}
		out = append(out, d)
	}
	return out
}

// TestDTLSCapture reassembles the plaintext handshake of a real DTLS 1.2
// connection (OpenSSL, PSK-AES128-CCM8, with a HelloVerifyRequest).
func TestDTLSCapture(t *testing.T) {
	var client, server DTLSAssembler
	var got []string
	var ctx Context
	for _, d := range dtlsCapture(t) {
		a, side := &server, "server"
		if d.client {
			a, side = &client, "client"
		}
		for i, h := range d.headers {
			got = append(got, fmt.Sprintf("%s %v %v epoch %d seq %d", side, h.Version, h.Type, h.Epoch, h.Seq))
			if h.Type != ContentHandshake || h.Epoch != 0 {
				continue
			}
			msgs, err := a.Write(d.records[i], false)
			if err != nil {
				t.Fatalf("%s: %v", d.name, err)
			}
			for _, m := range msgs {
				// None is fragmented, so Raw is the record payload.
				if !bytes.Equal(m.Raw, d.records[i]) {
					t.Errorf("%s: %v Raw = %x, want the record %x", d.name, m.Type, m.Raw, d.records[i])
				}
				pm, err := ParseMessage(m.Type, m.Body, ctx)
				if err != nil {
					t.Errorf("%s: %v", d.name, err)
					continue
				}
				if sh, ok := pm.(*ServerHello); ok {
					ctx = Context{Version: sh.Version, CipherSuite: sh.CipherSuite}
				}
				if !bytes.Equal(pm.Marshal(), m.Body) {
					t.Errorf("%s: %v does not round-trip", d.name, m.Type)
				}
				got = append(got, fmt.Sprintf("  %v %d", m.Type, int(m.Raw[4])<<8|int(m.Raw[5])))
			}
		}
	}
	want := []string{
		"client DTLS 1.0 handshake epoch 0 seq 0",
		"  client_hello 0",
		"server DTLS 1.0 handshake epoch 0 seq 0",
		"  hello_verify_request 0",
		"client DTLS 1.0 handshake epoch 0 seq 1",
		"  client_hello 1",
		"server DTLS 1.2 handshake epoch 0 seq 1",
		"  server_hello 1",
		"server DTLS 1.2 handshake epoch 0 seq 2",
		"  server_hello_done 2",
		"client DTLS 1.2 handshake epoch 0 seq 2",
		"  client_key_exchange 2",
		"client DTLS 1.2 change_cipher_spec epoch 0 seq 3",
		"client DTLS 1.2 handshake epoch 1 seq 0",
	}
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("capture:\n%s\nwant:\n%s", g, w)
	}
	if client.Pending() != 0 || server.Pending() != 0 || client.Retransmitted != 0 || server.Retransmitted != 0 {
		t.Errorf("pending %d/%d, retransmitted %d/%d", client.Pending(), server.Pending(), client.Retransmitted, server.Retransmitted)
	}
}
