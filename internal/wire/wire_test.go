package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

type fixture struct {
	raw RawMessage
	ctx Context
}

// fixtures returns every plaintext handshake message of the copied
// transcripts and RFC 8448 traces, with the context it was parsed in.
func fixtures(t testing.TB) []fixture {
	t.Helper()
	var out []fixture
	files, _ := filepath.Glob("testdata/gotls/*")
	for _, f := range files {
		c, s := flows(t, f)
		var ctx Context
		for _, raw := range plainMessages(t, f, s, false) {
			if raw.Type == TypeServerHello {
				m, err := ParseMessage(raw.Type, raw.Body, Context{})
				if err != nil {
					t.Fatal(err)
				}
				sh := m.(*ServerHello)
				ctx = Context{Version: sh.SelectedVersion(), CipherSuite: sh.CipherSuite}
				break
			}
		}
		for _, raw := range append(plainMessages(t, f, c, ctx.Version.IsTLS13()), plainMessages(t, f, s, ctx.Version.IsTLS13())...) {
			out = append(out, fixture{raw, ctx})
		}
	}
	files, _ = filepath.Glob("testdata/rfc8448/*.json")
	for _, f := range files {
		raws, _ := rfc8448Messages(t, f)
		for _, raw := range raws {
			out = append(out, fixture{raw, Context{Version: VersionTLS13, CipherSuite: 0x1301}})
		}
	}
	return out
}

// TestNoPrefixParses is crypto/tls's habit: no strict prefix of a valid
// encoding may parse, except where the format makes a prefix valid (opaque
// bodies, and hellos without an extensions block).
func TestNoPrefixParses(t *testing.T) {
	seen := map[HandshakeType]bool{}
	for _, f := range fixtures(t) {
		m, err := ParseMessage(f.raw.Type, f.raw.Body, f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		switch m := m.(type) {
		case *Finished, *ClientKeyExchange, *Unknown, *MessageHash:
			continue
		case *ServerKeyExchange:
			if m.KeyExchange == "unknown" {
				continue
			}
		}
		seen[f.raw.Type] = true
		noExtensions := -1
		switch m := m.(type) {
		case *ClientHello:
			noExtensions = len(m.Marshal()) - len(extBlock(m.Extensions))
		case *ServerHello:
			noExtensions = len(m.Marshal()) - len(extBlock(m.Extensions))
		}
		for i := 0; i < len(f.raw.Body); i++ {
			if i == noExtensions {
				continue
			}
			if _, err := ParseMessage(f.raw.Type, f.raw.Body[:i], f.ctx); err == nil {
				t.Errorf("%v: prefix of %d/%d bytes parses", f.raw.Type, i, len(f.raw.Body))
				break
			}
		}
	}
	for _, typ := range []HandshakeType{TypeClientHello, TypeServerHello, TypeCertificate, TypeServerKeyExchange,
		TypeCertificateRequest, TypeCertificateVerify, TypeNewSessionTicket, TypeEncryptedExtensions} {
		if !seen[typ] {
			t.Errorf("no fixture of type %v", typ)
		}
	}
}

func extBlock(e Extensions) []byte {
	if e == nil {
		return nil
	}
	return build(func(b *cryptobyteBuilder) { e.marshal(b) })
}

func TestRecordHeader(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    RecordHeader
		err     error
		errText string
	}{
		{in: "\x16\x03\x01\x00\xc4", want: RecordHeader{ContentHandshake, VersionTLS10, 196}},
		{in: "\x17\x03\x03\x48\x00", want: RecordHeader{ContentApplicationData, VersionTLS12, 0x4800}},
		{in: "\x16\x03", err: ErrShort},
		{in: "HTTP/", err: ErrNotTLS, errText: "content type 72"},
		{in: "SSH-2", err: ErrNotTLS},
		{in: "\x16\x02\x00\x00\x01", err: ErrNotTLS, errText: "major version 2"},
		{in: "\x17\x03\x03\x48\x01", err: ErrNotTLS, errText: "length 18433"},
	} {
		h, err := ParseRecordHeader([]byte(tc.in))
		if !errors.Is(err, tc.err) || (err == nil && h != tc.want) {
			t.Errorf("ParseRecordHeader(%q) = %+v, %v; want %+v, %v", tc.in, h, err, tc.want, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), tc.errText) {
			t.Errorf("ParseRecordHeader(%q) error %q does not mention %q", tc.in, err, tc.errText)
		}
	}
}

func TestSplitRecords(t *testing.T) {
	b := []byte("\x15\x03\x03\x00\x02\x02\x74\x16\x03\x03\x00\x04\x0e\x00\x00\x00\x17\x03\x03\x00\x05abc")
	recs, used, err := SplitRecords(b)
	if err != nil || used != 16 || len(recs) != 2 {
		t.Fatalf("SplitRecords = %d records, %d used, %v; want 2, 16, nil", len(recs), used, err)
	}
	a, err := ParseAlert(recs[0].Payload)
	if err != nil || a.String() != "fatal certificate_required" {
		t.Errorf("alert = %v, %v", a, err)
	}
	if recs[1].Header.Type != ContentHandshake || !bytes.Equal(recs[1].Payload, []byte{14, 0, 0, 0}) {
		t.Errorf("record 2 = %+v", recs[1])
	}
	recs, used, err = SplitRecords(append(b[:16:16], "GET / HTTP/1.1\r\n"...))
	if !errors.Is(err, ErrNotTLS) || used != 16 || len(recs) != 2 || !strings.Contains(err.Error(), "offset 16") {
		t.Errorf("SplitRecords with trailing HTTP = %d, %d, %v", len(recs), used, err)
	}
	if _, err := ParseAlert([]byte{2}); err == nil {
		t.Error("ParseAlert accepted 1 byte")
	}
	j, _ := json.Marshal(Alert{AlertFatal, AlertUnknownCA})
	if string(j) != `{"level":"fatal","description":"unknown_ca"}` {
		t.Errorf("alert JSON = %s", j)
	}
}

func TestAssembler(t *testing.T) {
	// Two messages packed in one record, the second split across three.
	stream := []byte("\x0e\x00\x00\x00\x14\x00\x00\x05hello")
	var a Assembler
	m, err := a.Write(stream[:6])
	if err != nil || len(m) != 1 || m[0].Type != TypeServerHelloDone || a.Pending() != 2 {
		t.Fatalf("first write: %v, %v, pending %d", m, err, a.Pending())
	}
	if m, _ := a.Write(stream[6:10]); len(m) != 0 || a.Pending() != 6 {
		t.Fatalf("second write: %v, pending %d", m, a.Pending())
	}
	m, err = a.Write(stream[10:])
	if err != nil || len(m) != 1 || string(m[0].Body) != "hello" || !bytes.Equal(m[0].Raw, stream[4:]) || a.Pending() != 0 {
		t.Fatalf("third write: %+v, %v, pending %d", m, err, a.Pending())
	}
	if _, err := a.Write([]byte("\x0b\x7f\xff\xff")); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("huge length: err = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	ch := func(tail string) []byte {
		return []byte("\x03\x03" + strings.Repeat("r", 32) + "\x00" + tail)
	}
	for _, tc := range []struct {
		typ  HandshakeType
		body []byte
		want string
	}{
		{TypeClientHello, ch("\x00\x03\x13\x01\x13\x01\x00"), "wire: ClientHello: cipher_suites length 3 is odd"},
		{TypeClientHello, ch("\x00\x02\x13\x01\x01\x00\x00\x08\x00\x17\x00\x00\x00\x17\x00\x00"), "duplicate extension extended_master_secret"},
		{TypeClientHello, ch("\x00\x02\x13\x01\x01\x00\x00\x05\x00\x2b\x00\x01\x02"), "extension supported_versions"},
		{TypeClientHello, ch("\x00\x02\x13\x01\x01\x00\x00\x00\x00"), "1 trailing bytes"},
		{TypeClientHello, ch("")[:20], "random: truncated"},
		{TypeKeyUpdate, []byte{1, 0}, "KeyUpdate: body is 2 bytes"},
		{TypeServerHelloDone, []byte{0}, "ServerHelloDone: body is 1 bytes"},
		{TypeCertificate, []byte("\x00\x00\x04\x00\x00\x01"), "Certificate"},
	} {
		_, err := ParseMessage(tc.typ, tc.body, Context{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseMessage(%v, %x) error = %v, want it to contain %q", tc.typ, tc.body, err, tc.want)
		}
	}
	// Unknown extensions (here GREASE) stay raw and never fail.
	m, err := ParseMessage(TypeClientHello, ch("\x00\x02\x13\x01\x01\x00\x00\x05\x0a\x0a\x00\x01\xff"), Context{})
	if err != nil {
		t.Fatal(err)
	}
	e := m.(*ClientHello).Extensions[0]
	if e.Parsed != nil || e.Type.String() != "GREASE(0x0a0a)" || !bytes.Equal(e.Data, []byte{0xff}) {
		t.Errorf("GREASE extension = %+v", e)
	}
	if m, err := ParseMessage(99, []byte("x"), Context{}); err != nil || m.Type() != 99 || string(m.Marshal()) != "x" {
		t.Errorf("unknown type: %v, %v", m, err)
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct{ in, proto, excerpt string }{
		{"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n", "HTTP", "HTTP/1.1 400 Bad Request"},
		{"GET / HTTP/1.1\r\nHost: x\r\n", "HTTP", "GET / HTTP/1.1"},
		{"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "SSH", "SSH-2.0-OpenSSH_9.2p1 Debian-2"},
		{"220 mail.example.com ESMTP Postfix\r\n", "SMTP", "220 mail.example.com ESMTP Postfix"},
		{"220 (vsFTPd 3.0.3)\r\n", "FTP", "220 (vsFTPd 3.0.3)"},
		{"+OK Dovecot ready.\r\n", "POP3", "+OK Dovecot ready."},
		{"* OK [CAPABILITY IMAP4rev1] ready\r\n", "IMAP", "* OK [CAPABILITY IMAP4rev1] ready"},
		{"-ERR unknown command '\x16\x03\x01'\r\n", "POP3 or Redis", "-ERR unknown command '...'"},
		{"-ERR Unknown command.\r\n", "POP3 or Redis", "-ERR Unknown command."},
		{"-NOAUTH Authentication required.\r\n", "Redis", "-NOAUTH Authentication required."},
		{"E\x00\x00\x00\x56SFATAL\x00VFATAL\x00C0A000\x00Munsupported frontend protocol\x00", "PostgreSQL", "SFATAL VFATAL C0A000 Munsupported frontend protocol "},
		{"\x4a\x00\x00\x00\x0a8.0.36\x00\x01\x02", "MySQL", "MySQL 8.0.36"},
		{"hello there\n", "plaintext", "hello there"},
		{"\x00\x01\x02\xff", "", "...."},
	} {
		p, e := Sniff([]byte(tc.in))
		if p != tc.proto || e != tc.excerpt {
			t.Errorf("Sniff(%q) = %q, %q; want %q, %q", tc.in, p, e, tc.proto, tc.excerpt)
		}
	}
}
