package keylog

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseCorpus parses every key log of the corpora (RFC 8448, the
// Wireshark test suite and tshark --export-tls-session-keys output).
func TestParseCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/*")
	n := 0
	for _, f := range files {
		if fi, err := os.Stat(f); strings.HasSuffix(f, ".md") || err == nil && fi.IsDir() {
			continue // the README, the RSA keys, fuzz corpora
		}
		l, err := ParseFile(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if l.Len() == 0 {
			t.Errorf("%s: no secrets", f)
		}
		n++
	}
	if n < 15 {
		t.Errorf("parsed %d key logs, want at least 15", n)
	}

	// Spot checks against the files' contents.
	l, _ := ParseFile("testdata/dhe1_keylog.dat") // upper-case hex
	ms, ok := l.Secret(ClientRandom, unhex(t, "531f88d114fcf9ce9729b5458f73e1807324459029ee4bea43f8ee4ce06c77c0"))
	if !ok || hex.EncodeToString(ms) != "3cc9e5068e674393c10e540430f60ab794c028b277cad9c708758400b803ad4fc81d6796afd14d8952f7cd9e4268b4db" {
		t.Errorf("dhe1 master secret = %x, %v", ms, ok)
	}
	l, _ = ParseFile("testdata/tls12-chacha20poly1305.keys")
	pms, ok := l.PreMasterForEncrypted(unhex(t, "3e2ffbd86d10f694aabbcc"))
	if !ok || hex.EncodeToString(pms)[:8] != "0303f4d5" {
		t.Errorf("RSA pre-master = %x, %v", pms, ok)
	}
	if got := len(l.ClientRandoms()); got != 7 {
		t.Errorf("ClientRandoms = %d, want 7", got)
	}
	l, _ = ParseFile("testdata/rsasnakeoil2.keylog")
	ms, ok = l.MasterSecretForSession(unhex(t, "a0fb60863d1e76f330fe0b01fd1a01ed95f67b8ec0d427bff06ec756b147ce98"))
	if !ok || hex.EncodeToString(ms)[:8] != "1edb3595" {
		t.Errorf("RSA Session-ID master key = %x, %v", ms, ok)
	}
	l, _ = ParseFile("testdata/rfc8448-sec4-Resumed_0RTT_Handshake.keys")
	cr := unhex(t, "1bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d95")
	for _, label := range []string{ClientEarlyTrafficSecret, EarlyExporterSecret, ClientHandshakeTrafficSecret,
		ServerHandshakeTrafficSecret, ClientTrafficSecret0, ServerTrafficSecret0, ExporterSecret} {
		if s, ok := l.Secret(label, cr); !ok || len(s) != 32 {
			t.Errorf("RFC 8448 §4: %s = %x, %v", label, s, ok)
		}
	}
}

func TestParseLenient(t *testing.T) {
	cr := strings.Repeat("ab", 32)
	ms := strings.Repeat("CD", 48)
	in := "\ufeff# comment\r\n\r\n   \n" +
		"CLIENT_RANDOM " + strings.ToUpper(cr) + " " + ms + "\r\n" +
		"  CLIENT_TRAFFIC_SECRET_0\t" + cr + "  " + strings.Repeat("01", 48) + "  \n" +
		"CLIENT_TRAFFIC_SECRET_N " + cr + " " + strings.Repeat("03", 48) + "\n" + // OpenSSL 3 after a KeyUpdate
		"SERVER_TRAFFIC_SECRET_12 " + cr + " " + strings.Repeat("04", 48) + "\n" +
		"PMS_CLIENT_RANDOM " + cr + " " + strings.Repeat("02", 48) // no final newline
	l, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 5 {
		t.Errorf("Len = %d, want 5", l.Len())
	}
	if got := strings.Join(l.Labels(unhex(t, cr)), " "); got != "CLIENT_RANDOM CLIENT_TRAFFIC_SECRET_0 CLIENT_TRAFFIC_SECRET_N SERVER_TRAFFIC_SECRET_12 PMS_CLIENT_RANDOM" {
		t.Errorf("Labels = %s", got)
	}
	if s, ok := l.Secret(ClientRandom, unhex(t, cr)); !ok || !bytes.Equal(s, bytes.Repeat([]byte{0xcd}, 48)) {
		t.Errorf("CLIENT_RANDOM = %x", s)
	}
	if s, ok := l.Secret(PMSClientRandom, unhex(t, cr)); !ok || len(s) != 48 {
		t.Errorf("PMS_CLIENT_RANDOM = %x", s)
	}
	if got := len(l.ClientRandoms()); got != 1 {
		t.Errorf("ClientRandoms = %d, want 1", got)
	}
}

// TestParseNotAKeyLog: a file that is no key log (a capture given as
// --keylog, or any binary) has a bad "line" every few dozen bytes; Parse
// describes the first MaxLineErrors and counts the rest, so that neither
// its errors nor the warnings made of them grow with the file. A good line
// among them still counts.
func TestParseNotAKeyLog(t *testing.T) {
	var in bytes.Buffer
	junk := make([]byte, 64)
	for i := range 20000 {
		for j := range junk {
			junk[j] = byte(i*31 + j*7)
		}
		junk[0] = 0x01 // never a comment or a blank line
		in.Write(bytes.ReplaceAll(junk, []byte{'\n'}, []byte{' '}))
		in.WriteByte('\n')
	}
	in.WriteString("CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("00", 48) + "\n")
	l, err := Parse(&in)
	if l.Len() != 1 {
		t.Errorf("Len = %d, want 1", l.Len())
	}
	errs := err.(interface{ Unwrap() []error }).Unwrap()
	if len(errs) != MaxLineErrors+1 {
		t.Fatalf("%d errors, want %d and one that counts the rest", len(errs), MaxLineErrors+1)
	}
	var le *LineError
	if !errors.As(errs[MaxLineErrors-1], &le) || errors.As(errs[MaxLineErrors], &le) {
		t.Errorf("errors %d and %d: %v, %v", MaxLineErrors-1, MaxLineErrors, errs[MaxLineErrors-1], errs[MaxLineErrors])
	}
	if want := fmt.Sprintf("%d more bad lines after line %d", 20000-MaxLineErrors, MaxLineErrors); !strings.Contains(errs[MaxLineErrors].Error(), want) {
		t.Errorf("last error %q, want %q", errs[MaxLineErrors], want)
	}
}

func TestParseErrors(t *testing.T) {
	cr := strings.Repeat("ab", 32)
	lines := []string{
		"CLIENT_RANDOM " + cr + " " + strings.Repeat("00", 48), // good, line 1
		"CLIENT_RANDOM " + cr[:62] + " " + strings.Repeat("00", 48),
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr + " zz",
		"FOO " + cr + " 00",
		"client_random " + cr + " 00",
		"CLIENT_RANDOM " + cr,
		"RSA 0011 " + strings.Repeat("00", 48),
		"RSA Session-ID:00ff Master-Key:0011",
		"CLIENT_RANDOM " + cr + " " + strings.Repeat("00", 47),
		"SERVER_TRAFFIC_SECRET_0 " + strings.Repeat("ab", 33) + " 00",
		"CLIENT_TRAFFIC_SECRET_X " + cr + " 00",
		"# fine",
		"EXPORTER_SECRET " + strings.Repeat("cd", 32) + " 00", // good, line 13
	}
	want := map[int]string{
		2:  "client random must be 32 bytes, got 31",
		3:  "secret is not hex",
		4:  "unknown label FOO",
		5:  `unknown label "client_random" (labels are upper case`,
		6:  "has 2 fields, want 3",
		7:  "encrypted pre-master prefix must be 8 bytes, got 2",
		8:  "master key must be 48 bytes, got 2",
		9:  "master secret must be 48 bytes, got 47",
		10: "client random must be 32 bytes, got 33",
		11: "unknown label CLIENT_TRAFFIC_SECRET_X",
	}
	l, err := Parse(strings.NewReader(strings.Join(lines, "\n")))
	if err == nil {
		t.Fatal("no error")
	}
	if l.Len() != 2 {
		t.Errorf("kept %d good lines, want 2", l.Len())
	}
	var got []*LineError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var le *LineError
		if !errors.As(e, &le) {
			t.Fatalf("%v is not a *LineError", e)
		}
		got = append(got, le)
	}
	if len(got) != len(want) {
		t.Errorf("%d line errors, want %d:\n%v", len(got), len(want), err)
	}
	for _, le := range got {
		w, ok := want[le.Line]
		if !ok || !strings.Contains(le.Error(), w) {
			t.Errorf("line %d: %q, want %q", le.Line, le.Error(), w)
		}
		if !strings.HasPrefix(le.Error(), "keylog: line ") || !strings.HasPrefix(lines[le.Line-1], strings.TrimSuffix(le.Text, "…")) {
			t.Errorf("line %d: error %q text %q", le.Line, le.Error(), le.Text)
		}
	}
	if !strings.Contains(err.Error(), "keylog: line 3: secret is not hex") {
		t.Errorf("joined error lacks the line-3 message:\n%v", err)
	}
	if _, err := ParseFile(filepath.Join(t.TempDir(), "missing.keys")); err == nil || !strings.HasPrefix(err.Error(), "keylog: ") {
		t.Errorf("ParseFile(missing) = %v", err)
	}
}

func TestAddMergeFormat(t *testing.T) {
	cr1, cr2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	var a, b Log // zero values are usable
	a.Add(ClientRandom, cr1, bytes.Repeat([]byte{0xaa}, 48))
	b.Add(ClientRandom, cr1, bytes.Repeat([]byte{0xbb}, 48))
	b.Add(ServerTrafficSecret0, cr2, bytes.Repeat([]byte{0xcc}, 32))
	a.Merge(&b)
	a.Merge(&a)
	a.Merge(nil)
	if a.Len() != 2 {
		t.Errorf("Len after Merge = %d", a.Len())
	}
	if s, _ := a.Secret(ClientRandom, cr1); s[0] != 0xbb {
		t.Errorf("Merge kept the old secret %x", s)
	}
	if rs := a.ClientRandoms(); len(rs) != 2 || !bytes.Equal(rs[0], cr1) || !bytes.Equal(rs[1], cr2) {
		t.Errorf("ClientRandoms = %x", rs)
	}
	// Secret returns a copy.
	s, _ := a.Secret(ClientRandom, cr1)
	s[0] = 0
	if s2, _ := a.Secret(ClientRandom, cr1); s2[0] != 0xbb {
		t.Error("Secret exposed internal storage")
	}
	line := Format(ServerTrafficSecret0, cr2, bytes.Repeat([]byte{0xcc}, 32))
	if line != "SERVER_TRAFFIC_SECRET_0 "+strings.Repeat("02", 32)+" "+strings.Repeat("cc", 32)+"\n" {
		t.Errorf("Format = %q", line)
	}
	back, err := Parse(strings.NewReader(line))
	if err != nil || back.Len() != 1 {
		t.Errorf("Format output does not parse: %v", err)
	}
}

// TestCollectorHandshake runs a real crypto/tls handshake on loopback with
// a Collector as the client's KeyLogWriter, teeing to a file, and checks
// the secrets against the server's own key log.
func TestCollectorHandshake(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"localhost"},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		serverLog := NewCollector(nil)
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
			KeyLogWriter: serverLog, MaxVersion: version,
		})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err == nil {
				err = c.(*tls.Conn).Handshake()
				c.Close()
			}
			done <- err
		}()
		var file bytes.Buffer
		col := NewCollector(&file)
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, KeyLogWriter: col, MaxVersion: version})
		if err != nil {
			t.Fatal(err)
		}
		cr := connClientRandom(t, col)
		conn.Close()
		ln.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := []string{ClientRandom}
		if version == tls.VersionTLS13 {
			want = []string{ClientHandshakeTrafficSecret, ServerHandshakeTrafficSecret, ClientTrafficSecret0, ServerTrafficSecret0}
		}
		for _, label := range want {
			c, ok1 := col.Log().Secret(label, cr)
			s, ok2 := serverLog.Log().Secret(label, cr)
			if !ok1 || !ok2 || !bytes.Equal(c, s) {
				t.Errorf("version %x: %s client %x server %x", version, label, c, s)
			}
		}
		fromFile, err := Parse(&file)
		if err != nil || fromFile.Len() != col.Log().Len() {
			t.Errorf("tee copy holds %d secrets (%v), collector %d", fromFile.Len(), err, col.Log().Len())
		}
	}
}

func connClientRandom(t *testing.T, c *Collector) []byte {
	rs := c.Log().ClientRandoms()
	if len(rs) != 1 {
		t.Fatalf("collector saw %d connections", len(rs))
	}
	return rs[0]
}

func TestCollectorPartialLines(t *testing.T) {
	c := NewCollector(nil)
	line := Format(ClientRandom, bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{8}, 48))
	for i := 0; i < len(line); i += 7 {
		if _, err := c.Write([]byte(line[i:min(i+7, len(line))])); err != nil {
			t.Fatal(err)
		}
	}
	if c.Log().Len() != 1 {
		t.Errorf("Len = %d after a line written in pieces", c.Log().Len())
	}
	if _, err := c.Write([]byte("BOGUS x y\n")); err == nil || !strings.Contains(err.Error(), "line 2: unknown label BOGUS") {
		t.Errorf("bad line: %v", err)
	}
}

// FuzzParse checks that Parse never panics and that every secret it keeps
// survives Format and a second Parse.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 10000 {
			f.Add(b)
		}
	}
	f.Add([]byte("CLIENT_RANDOM 00 00\nRSA Session-ID: Master-Key:\n\r\n#"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, _ := Parse(bytes.NewReader(data))
		var out strings.Builder
		for _, cr := range l.ClientRandoms() {
			for _, label := range l.Labels(cr) {
				if s, ok := l.Secret(label, cr); ok {
					out.WriteString(Format(label, cr, s))
				}
			}
		}
		back, err := Parse(strings.NewReader(out.String()))
		if err != nil {
			t.Fatalf("re-parsing formatted secrets: %v\n%s", err, out.String())
		}
		if len(back.ClientRandoms()) != len(l.ClientRandoms()) {
			t.Fatalf("round trip lost client randoms")
		}
	})
}
