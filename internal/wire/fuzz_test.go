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
