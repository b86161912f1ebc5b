package wire

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/internal/peertest"
)

// flows reads one of crypto/tls's recorded transcripts (">>> Flow N (client
// to server)" followed by hexdump -C lines) and returns the bytes each side
// sent, concatenated.
func flows(t testing.TB, path string) (client, server []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cur *[]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, ">>> Flow"):
			cur = &server
			if strings.Contains(line, "client to server") {
				cur = &client
			}
		case cur != nil && len(line) > 10 && line[8] == ' ':
			hexPart, _, _ := strings.Cut(line[10:], "|")
			b, err := hex.DecodeString(strings.ReplaceAll(hexPart, " ", ""))
			if err != nil {
				t.Fatalf("%s: %q: %v", path, line, err)
			}
			*cur = append(*cur, b...)
		}
	}
	return client, server
}

// plainMessages returns the handshake messages a side sent in plaintext
// records: everything before its ChangeCipherSpec (TLS 1.2) or before its
// first application_data record (TLS 1.3).
func plainMessages(t testing.TB, name string, stream []byte, tls13 bool) []RawMessage {
	t.Helper()
	recs, used, err := SplitRecords(stream)
	if err != nil || used != len(stream) {
		t.Fatalf("%s: SplitRecords used %d of %d bytes, err %v", name, used, len(stream), err)
	}
	var a Assembler
	var msgs []RawMessage
	for _, r := range recs {
		if r.Header.Type == ContentChangeCipherSpec && tls13 {
			continue // RFC 8446 §D.4 middlebox compatibility
		}
		if r.Header.Type == ContentChangeCipherSpec || r.Header.Type == ContentApplicationData {
			break
		}
		if r.Header.Type == ContentAlert {
			if _, err := ParseAlert(r.Payload); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if r.Header.Type != ContentHandshake {
			t.Fatalf("%s: unexpected %v record", name, r.Header.Type)
		}
		m, err := a.Write(r.Payload)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		msgs = append(msgs, m...)
	}
	return msgs
}

// checkTranscript parses every plaintext handshake message of a transcript
// and checks each re-encodes to its original bytes. It returns the types.
func checkTranscript(t *testing.T, path string) (client, server []HandshakeType) {
	t.Helper()
	c, s := flows(t, path)
	var ctx Context
	for _, raw := range plainMessages(t, path+" (server)", s, false) {
		if raw.Type == TypeServerHello {
			m, err := ParseMessage(raw.Type, raw.Body, Context{})
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			sh := m.(*ServerHello)
			ctx = Context{Version: sh.SelectedVersion(), CipherSuite: sh.CipherSuite}
			break
		}
	}
	cm := plainMessages(t, path+" (client)", c, ctx.Version.IsTLS13())
	sm := plainMessages(t, path+" (server)", s, ctx.Version.IsTLS13())
	parse := func(msgs []RawMessage, types *[]HandshakeType) {
		for _, raw := range msgs {
			m, err := ParseMessage(raw.Type, raw.Body, ctx)
			if err != nil {
				t.Errorf("%s: %v", path, err)
				continue
			}
			if _, ok := m.(*Unknown); ok {
				t.Errorf("%s: %v parsed as Unknown", path, raw.Type)
			}
			if got := m.Marshal(); !bytes.Equal(got, raw.Body) {
				t.Errorf("%s: %v does not round-trip:\n got %x\nwant %x", path, raw.Type, got, raw.Body)
			}
			if _, err := json.Marshal(m); err != nil {
				t.Errorf("%s: %v: json: %v", path, raw.Type, err)
			}
			*types = append(*types, raw.Type)
		}
	}
	parse(cm, &client)
	parse(sm, &server)
	return client, server
}

func TestGoTranscripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/gotls/*")
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata/gotls")
	}
	want := map[string]string{
		"Client-TLSv12-ClientCert-RSA-RSA":          "client_hello certificate client_key_exchange certificate_verify | server_hello certificate server_key_exchange certificate_request server_hello_done",
		"Server-TLSv12-ClientAuthRequestedNotGiven": "client_hello certificate client_key_exchange | server_hello certificate certificate_request server_hello_done",
		"Client-TLSv10-ECDHE-RSA-AES":               "client_hello client_key_exchange | server_hello certificate server_key_exchange server_hello_done",
		"Server-TLSv13-HelloRetryRequest":           "client_hello client_hello | server_hello server_hello",
		"Server-TLSv12-IssueTicket":                 "client_hello client_key_exchange | server_hello certificate server_hello_done new_session_ticket",
		"Server-TLSv10-RSA-3DES":                    "client_hello client_key_exchange | server_hello certificate server_hello_done",
	}
	for _, f := range files {
		c, s := checkTranscript(t, f)
		got := strings.TrimSpace(join(c) + " | " + join(s))
		if w, ok := want[filepath.Base(f)]; ok && got != w {
			t.Errorf("%s: messages\n got %s\nwant %s", f, got, w)
		}
	}
}

// TestGOROOTTranscripts walks every recorded transcript of the installed Go
// tree (TLS 1.0 to 1.3, client and server), when it is present.
func TestGOROOTTranscripts(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(runtime.GOROOT(), "src", "crypto", "tls", "testdata", "*-TLSv1*"))
	if len(files) == 0 {
		peertest.Skip(t, "GOROOT (%s) has no crypto/tls testdata", runtime.GOROOT())
	}
	n := 0
	for _, f := range files {
		c, s := checkTranscript(t, f)
		n += len(c) + len(s)
	}
	t.Logf("%d transcripts, %d messages", len(files), n)
	if n < 500 {
		t.Errorf("only %d messages parsed; the transcript reader is probably broken", n)
	}
}

func join(ts []HandshakeType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, " ")
}

type rfc8448 struct {
	Records []struct {
		Dir       string   `json:"dir"`
		Field     string   `json:"field"`
		Record    HexIn    `json:"record"`
		InnerType int      `json:"inner_type"`
		Plaintext HexIn    `json:"plaintext"`
		Messages  []string `json:"messages"`
	} `json:"records"`
}

// HexIn decodes a hex JSON string.
type HexIn []byte

func (h *HexIn) UnmarshalText(b []byte) error {
	var err error
	*h, err = hex.DecodeString(string(b))
	return err
}

// rfc8448Messages returns every handshake message of an RFC 8448 trace with
// its expected type name from the oracle.
func rfc8448Messages(t testing.TB, path string) (msgs []RawMessage, names []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tr rfc8448
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	for _, r := range tr.Records {
		recs, used, err := SplitRecords(r.Record)
		if err != nil || used != len(r.Record) || len(recs) != 1 {
			t.Fatalf("%s %s: SplitRecords: %d records, used %d of %d, %v", path, r.Field, len(recs), used, len(r.Record), err)
		}
		payload := recs[0].Payload
		if recs[0].Header.Type == ContentApplicationData {
			if r.InnerType != int(ContentHandshake) {
				continue
			}
			payload = r.Plaintext
		} else if recs[0].Header.Type != ContentHandshake {
			continue
		}
		var a Assembler
		m, err := a.Write(payload)
		if err != nil || a.Pending() != 0 {
			t.Fatalf("%s %s: assembler: %v, %d pending", path, r.Field, err, a.Pending())
		}
		msgs = append(msgs, m...)
		names = append(names, r.Messages...)
	}
	return msgs, names
}

func TestRFC8448(t *testing.T) {
	files, _ := filepath.Glob("testdata/rfc8448/*.json")
	if len(files) != 5 {
		t.Fatalf("want 5 RFC 8448 traces, have %d", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raws, names := rfc8448Messages(t, f)
			if len(raws) != len(names) {
				t.Fatalf("%d messages, oracle lists %d: %v", len(raws), len(names), names)
			}
			ctx := Context{Version: VersionTLS13, CipherSuite: 0x1301}
			for i, raw := range raws {
				m, err := ParseMessage(raw.Type, raw.Body, ctx)
				if err != nil {
					t.Fatal(err)
				}
				got := strings.TrimPrefix(strings.TrimPrefix(typeName(m), "*wire."), "wire.")
				if sh, ok := m.(*ServerHello); ok && sh.IsHelloRetryRequest() {
					got = "HelloRetryRequest"
				}
				if got != names[i] {
					t.Errorf("message %d: got %s, want %s", i, got, names[i])
				}
				if b := m.Marshal(); !bytes.Equal(b, raw.Body) {
					t.Errorf("%s does not round-trip:\n got %x\nwant %x", got, b, raw.Body)
				}
			}
		})
	}
}

func typeName(m Message) string { return strings.TrimPrefix(fmtType(m), "*") }
