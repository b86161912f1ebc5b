package capture

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"hash"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/internal/keysched"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/transcript"
)

// TestSSL3Corpus decodes Wireshark's rsasnakeoil2.pcap as tshark does: two
// SSL 3.0 connections, the first opened with an SSL 2.0-format ClientHello
// (AES_256_CBC_SHA) and renegotiated inside the encrypted connection
// (3DES_EDE_CBC_SHA), the second resuming that session (3DES_EDE_CBC_SHA).
// Every record decrypts, the 11 HTTP requests and 11 responses tshark shows
// are in the data, and the 36-byte SSL 3.0 Finished messages match the
// handshake messages as decoded, the SSL 2.0 hello included.
func TestSSL3Corpus(t *testing.T) {
	dir := peertest.Corpus(t, "wireshark")
	keys := filepath.Join(dir, "derived/rsasnakeoil2.keylog")
	res := analyze(t, filepath.Join(dir, "captures/rsasnakeoil2.pcap"), keys, Options{KeepData: true})
	if res.err != nil || len(res.conns) != 2 {
		t.Fatalf("err %v, %d connections", res.err, len(res.conns))
	}
	for _, c := range res.conns {
		if c.Version != "SSL 3.0" {
			t.Errorf("connection %d: version %q", c.Index, c.Version)
		}
		for _, p := range c.Problems {
			t.Errorf("connection %d: problem %q", c.Index, p)
		}
		for _, e := range c.Transcript {
			if e.Encrypted && !e.Decrypted || strings.Contains(e.Note, "not decrypted") {
				t.Errorf("connection %d: %s record %d of the %s: %s", c.Index, e.Type, e.Record, e.From, e.Note)
			}
		}
	}
	suites := func(c *Connection) []wire.CipherSuite {
		var out []wire.CipherSuite
		for _, e := range c.Transcript {
			if m, ok := e.Message.(*wire.ServerHello); ok {
				out = append(out, m.CipherSuite)
			}
		}
		return out
	}
	c0, c1 := res.conns[0], res.conns[1]
	if got := suites(c0); len(got) != 2 || got[0] != 0x0035 || got[1] != 0x000a {
		t.Errorf("connection 0: suites %v, want 0x0035 then 0x000a (renegotiation)", got)
	}
	if got := suites(c1); len(got) != 1 || got[0] != 0x000a {
		t.Errorf("connection 1: suites %v, want 0x000a", got)
	}

	// Connection 0 starts with the SSL 2.0-format hello.
	ch, ok := c0.Transcript[0].Message.(*wire.ClientHello)
	if !ok || ch.SSLv2 == nil || c0.Transcript[0].Type != "client_hello" {
		t.Fatalf("connection 0 starts with %+v", c0.Transcript[0])
	}
	// The renegotiation's handshake, frames 13-18, is decrypted.
	var reneg []string
	for _, e := range c0.Transcript {
		if e.Decrypted && e.Message != nil {
			reneg = append(reneg, e.From.Arrow()+" "+e.Type)
		}
	}
	want := []string{
		"client → server finished", "server → client finished",
		"server → client hello_request", "client → server client_hello", "server → client server_hello",
		"server → client certificate", "server → client server_hello_done", "client → server client_key_exchange",
		"client → server finished", "server → client finished",
	}
	if strings.Join(reneg, "; ") != strings.Join(want, "; ") {
		t.Errorf("decrypted handshake messages of connection 0:\n got %q\nwant %q", reneg, want)
	}

	// The HTTP tshark shows (-Y http): 11 requests, 11 responses.
	all := string(res.allData())
	if n := strings.Count(all, " HTTP/1.1\r\n"); n != 11 {
		t.Errorf("%d HTTP requests, want 11", n)
	}
	if n := strings.Count(all, "HTTP/1.1 "); n != 11 {
		t.Errorf("%d HTTP responses, want 11", n)
	}
	if !strings.Contains(string(res.data[c1.Index]), "GET /favicon.ico HTTP/1.1\r\n") {
		t.Error("connection 1 does not request /favicon.ico")
	}

	l, err := keylog.ParseFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, c := range res.conns {
		checked += checkSSL3Finished(t, c, l)
	}
	if checked != 6 {
		t.Errorf("checked %d Finished messages, want 6 (3 handshakes)", checked)
	}
}

// checkSSL3Finished recomputes every Finished of c (RFC 6101 §5.6.9) from
// the handshake messages before it and the master secret of its client
// random, and returns how many it checked.
func checkSSL3Finished(t *testing.T, c *Connection, keys *keylog.Log) int {
	t.Helper()
	var msgs []byte
	var ms []byte
	n := 0
	for _, e := range c.Transcript {
		m := e.Message
		if m == nil {
			continue
		}
		switch m := m.(type) {
		case *wire.HelloRequest:
			continue // not part of the handshake hash
		case *wire.ClientHello:
			msgs = nil
			var ok bool
			if ms, ok = keys.Secret("CLIENT_RANDOM", m.Random); !ok {
				t.Fatalf("connection %d: no master secret for client random %x", c.Index, m.Random)
			}
		case *wire.Finished:
			sender := "CLNT"
			if e.From == transcript.Server {
				sender = "SRVR"
			}
			want := append(ssl3FinishedHash(md5.New, 48, msgs, sender, ms), ssl3FinishedHash(sha1.New, 40, msgs, sender, ms)...)
			if !bytes.Equal(m.VerifyData, want) {
				t.Errorf("connection %d: %s Finished %x, want %x", c.Index, e.From, m.VerifyData, want)
			}
			// keysched's, which scan's client finishes SSL 3.0 handshakes
			// with, computes what the recorded peers sent.
			if got := keysched.SSL3Finished(ms, e.From == transcript.Client, msgs); !bytes.Equal(got, m.VerifyData) {
				t.Errorf("connection %d: keysched.SSL3Finished for the %s's Finished %x, recorded %x", c.Index, e.From, got, m.VerifyData)
			}
			n++
		}
		body := m.Marshal()
		if ch, ok := m.(*wire.ClientHello); ok && ch.SSLv2 != nil {
			msgs = append(msgs, body...) // hashed without a handshake header
		} else {
			msgs = append(msgs, byte(m.Type()), byte(len(body)>>16), byte(len(body)>>8), byte(len(body)))
			msgs = append(msgs, body...)
		}
	}
	return n
}

// ssl3FinishedHash is hash(master_secret + pad_2 + hash(handshake_messages +
// Sender + master_secret + pad_1)).
func ssl3FinishedHash(h func() hash.Hash, pad int, msgs []byte, sender string, ms []byte) []byte {
	inner := h()
	inner.Write(msgs)
	inner.Write([]byte(sender))
	inner.Write(ms)
	inner.Write(bytes.Repeat([]byte{0x36}, pad))
	outer := h()
	outer.Write(ms)
	outer.Write(bytes.Repeat([]byte{0x5c}, pad))
	outer.Write(inner.Sum(nil))
	return outer.Sum(nil)
}
