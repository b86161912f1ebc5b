package wire

import (
	"bytes"
	"errors"
	"testing"
)

// contexts are the negotiated states FuzzParseMessage explores, picked by
// the first input byte.
var fuzzContexts = [...]Context{
	{},
	{Version: VersionTLS13, CipherSuite: 0x1301},
	{Version: VersionTLS12, CipherSuite: 0xc02f}, // ECDHE_RSA
	{Version: VersionTLS10, CipherSuite: 0x0033}, // DHE_RSA
	{Version: VersionTLS12, CipherSuite: 0xccac}, // ECDHE_PSK
	{Version: VersionTLS12, CipherSuite: 0x002f}, // RSA
	{Version: VersionTLS12},
	{Version: VersionTLS11, CipherSuite: 0xc013},
}

func FuzzParseMessage(f *testing.F) {
	for _, fx := range fixtures(f) {
		for i, c := range fuzzContexts {
			if c == fx.ctx || i == 0 {
				f.Add(byte(fx.raw.Type), byte(i), fx.raw.Body)
			}
		}
	}
	f.Fuzz(func(t *testing.T, typ, ctxIndex byte, body []byte) {
		ctx := fuzzContexts[int(ctxIndex)%len(fuzzContexts)]
		m, err := ParseMessage(HandshakeType(typ), body, ctx)
		if err != nil {
			return
		}
		if got := m.Marshal(); !bytes.Equal(got, body) {
			t.Fatalf("%T does not round-trip in %+v:\n got %x\nwant %x", m, ctx, got, body)
		}
		Fields(m)
	})
}

func FuzzSplitRecords(f *testing.F) {
	files := []string{"testdata/gotls/Client-TLSv12-ClientCert-RSA-RSA", "testdata/gotls/Server-TLSv13-HelloRetryRequest"}
	for _, p := range files {
		c, s := flows(f, p)
		f.Add(c)
		f.Add(s[:min(len(s), 4000)])
	}
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, used, err := SplitRecords(b)
		if used > len(b) {
			t.Fatalf("used %d > %d", used, len(b))
		}
		n := 0
		for _, r := range recs {
			if len(r.Payload) != r.Header.Length || r.Header.Length > MaxCiphertext {
				t.Fatalf("record %+v has %d payload bytes", r.Header, len(r.Payload))
			}
			n += RecordHeaderLen + len(r.Payload)
			if r.Header.Type == ContentAlert {
				ParseAlert(r.Payload)
			}
		}
		if n != used {
			t.Fatalf("records cover %d bytes, used %d", n, used)
		}
		if err == nil && len(b)-used >= RecordHeaderLen {
			h, err := ParseRecordHeader(b[used:])
			if err != nil || used+RecordHeaderLen+h.Length <= len(b) {
				t.Fatalf("complete record left unsplit at %d: %v", used, err)
			}
		}
		Sniff(b)
	})
}

func FuzzAssembler(f *testing.F) {
	for _, fx := range fixtures(f) {
		f.Add(fx.raw.Raw, uint8(7))
	}
	f.Add([]byte("\x0e\x00\x00\x00\x14\x00\x00\x05hello"), uint8(3))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		step := int(chunk%64) + 1
		var a Assembler
		var out []byte
		for i := 0; i < len(stream); i += step {
			msgs, err := a.Write(stream[i:min(i+step, len(stream))])
			for _, m := range msgs {
				if len(m.Raw) != 4+len(m.Body) || m.Raw[0] != byte(m.Type) {
					t.Fatalf("bad message framing %x", m.Raw)
				}
				out = append(out, m.Raw...)
			}
			if err != nil {
				return
			}
		}
		if !bytes.Equal(append(out, stream[len(out):]...), stream) || len(stream)-len(out) != a.Pending() {
			t.Fatalf("messages + pending (%d) do not add up to the stream", a.Pending())
		}
	})
}

func FuzzDTLSRecordHeader(f *testing.F) {
	for _, d := range dtlsCapture(f) {
		b := d.raw
		for _, h := range d.headers {
			f.Add(b)
			b = b[DTLSRecordHeaderLen+h.Length:]
		}
	}
	f.Add([]byte("\x14\x01\x00\x00\x02\x80\x00\x00\x00\x00\x01\x00\x01\x01")) // OpenSSL 0x0100
	f.Add([]byte("\x16\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x46"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseDTLSRecordHeader(b)
		if len(b) < DTLSRecordHeaderLen {
			if err != ErrShort {
				t.Fatalf("%d bytes: err = %v, want ErrShort", len(b), err)
			}
			return
		}
		if err != nil {
			if nt, ok := err.(*NotTLSError); !ok || !bytes.Equal(nt.Header, b[:DTLSRecordHeaderLen]) || h != (DTLSRecordHeader{}) {
				t.Fatalf("error %#v with header %+v", err, h)
			}
			return
		}
		if got := dtlsRecordHeaderBytes(h); !bytes.Equal(got, b[:DTLSRecordHeaderLen]) {
			t.Fatalf("%+v re-encodes to %x, want %x", h, got, b[:DTLSRecordHeaderLen])
		}
		if !h.Version.IsDTLS() || h.Length > MaxCiphertext || h.Seq >= 1<<48 {
			t.Fatalf("impossible header accepted: %+v", h)
		}
	})
}

// dtlsStream joins record payloads for FuzzDTLSAssembler, each after a
// length byte.
func dtlsStream(payloads ...[]byte) []byte {
	var s []byte
	for _, p := range payloads {
		s = append(append(s, byte(len(p))), p...)
	}
	return s
}

func FuzzDTLSAssembler(f *testing.F) {
	var client, server [][]byte
	for _, d := range dtlsCapture(f) {
		for i, h := range d.headers {
			if h.Type != ContentHandshake || h.Epoch != 0 {
				continue
			}
			if d.client {
				client = append(client, d.records[i])
			} else {
				server = append(server, d.records[i])
			}
		}
	}
	f.Add(dtlsStream(client...), false)
	f.Add(dtlsStream(server...), false)
	// The server's flight cut into fragments, reordered, partly resent.
	sh := server[1]
	body := sh[DTLSHandshakeHeaderLen:]
	cut := len(body) / 2
	f.Add(dtlsStream(
		server[0],
		dtlsFrag(HandshakeType(sh[0]), len(body), 1, cut-3, body[cut-3:]),
		cat(server[2], dtlsFrag(HandshakeType(sh[0]), len(body), 1, 0, body[:cut])),
		server[0], sh,
	), false)
	// A renegotiation: the client's messages, then its ClientHello again.
	f.Add(dtlsStream(append(client, client[0])...), true)
	f.Fuzz(func(t *testing.T, stream []byte, newHandshake bool) {
		var a DTLSAssembler
		last := -1 // message_seq of the last message delivered
		for len(stream) > 0 {
			n := min(int(stream[0]), len(stream)-1)
			payload := stream[1 : 1+n]
			stream = stream[1+n:]
			retransmitted := a.Retransmitted
			msgs, _ := a.Write(payload, newHandshake) // and go on after an error
			for _, m := range msgs {
				r := m.Raw
				if len(r) != DTLSHandshakeHeaderLen+len(m.Body) || r[0] != byte(m.Type) || !bytes.Equal(r[DTLSHandshakeHeaderLen:], m.Body) {
					t.Fatalf("bad message framing %x (body %x)", r, m.Body)
				}
				length := int(r[1])<<16 | int(r[2])<<8 | int(r[3])
				off := int(r[6])<<16 | int(r[7])<<8 | int(r[8])
				fragLen := int(r[9])<<16 | int(r[10])<<8 | int(r[11])
				if length != len(m.Body) || off != 0 || fragLen != len(m.Body) {
					t.Fatalf("header %x does not describe a whole message of %d bytes", r[:DTLSHandshakeHeaderLen], len(m.Body))
				}
				seq := int(r[4])<<8 | int(r[5])
				if last >= 0 && seq != (last+1)&0xffff && !(newHandshake && seq <= last && startsHandshake(m.Type)) {
					t.Fatalf("message_seq %d (%v) delivered after %d", seq, m.Type, last)
				}
				last = seq
			}
			if a.Pending() > maxPendingDTLS || a.Retransmitted < retransmitted {
				t.Fatalf("Pending() = %d, Retransmitted %d after %d", a.Pending(), a.Retransmitted, retransmitted)
			}
		}
	})
}

func FuzzSSLv2ClientHello(f *testing.F) {
	rec := sslv2Fixture(f)
	f.Add(rec)
	f.Add(rec[:40])
	f.Add([]byte{0x80, 0x1e, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00, 0x10, 0x01, 0x00, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := SSLv2ClientHelloLen(b)
		if err != nil {
			if err != ErrShort && !errors.Is(err, ErrNotTLS) {
				t.Fatalf("SSLv2ClientHelloLen: untyped error %v", err)
			}
			if _, err := ParseSSLv2ClientHello(b); err == nil {
				t.Fatal("parsed a record SSLv2ClientHelloLen refused")
			}
			return
		}
		if n < SSLv2HeaderLen || n > SSLv2HeaderLen+0x7fff {
			t.Fatalf("length %d", n)
		}
		m, err := ParseSSLv2ClientHello(b[:min(n, len(b))])
		if err != nil {
			return
		}
		if len(m.Random) != 32 || !bytes.HasSuffix(m.Random, m.SSLv2.Challenge) {
			t.Fatalf("random %x from challenge %x", m.Random, m.SSLv2.Challenge)
		}
		if got := m.Marshal(); !bytes.Equal(got, b[SSLv2HeaderLen:n]) {
			t.Fatalf("does not round-trip:\n got %x\nwant %x", got, b[SSLv2HeaderLen:n])
		}
		if len(m.CipherSuites)+len(m.SSLv2.SSLv2OnlySpecs()) != len(m.SSLv2.CipherSpecs) {
			t.Fatal("suites and SSL 2.0 specs do not add up")
		}
		Fields(m)
	})
}
