package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func sslv2Fixture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/sslv2/rsasnakeoil2-frame4.bin")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSSLv2ClientHello parses frame 4 of rsasnakeoil2.pcap and compares
// with what tshark -V shows of it.
func TestSSLv2ClientHello(t *testing.T) {
	rec := sslv2Fixture(t)
	n, err := SSLv2ClientHelloLen(rec)
	if err != nil || n != len(rec) || n != 105 {
		t.Fatalf("SSLv2ClientHelloLen = %d, %v; want 105", n, err)
	}
	m, err := ParseSSLv2ClientHello(rec)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != VersionSSL30 || len(m.SessionID) != 0 || m.Extensions != nil {
		t.Errorf("version %v, session id %x, extensions %v", m.Version, m.SessionID, m.Extensions)
	}
	if len(m.CompressionMethods) != 1 || m.CompressionMethods[0] != 0 {
		t.Errorf("compression methods %v, want [null]", m.CompressionMethods)
	}
	// tshark: 26 specs, the first six SSL 2.0 kinds, then 20 suites.
	wantSpecs := []string{
		"SSL2_RC4_128_WITH_MD5", "SSL2_RC2_128_CBC_WITH_MD5", "SSL2_DES_192_EDE3_CBC_WITH_MD5",
		"SSL2_DES_64_CBC_WITH_MD5", "SSL2_RC4_128_EXPORT40_WITH_MD5", "SSL2_RC2_128_CBC_EXPORT40_WITH_MD5",
	}
	if len(m.SSLv2.CipherSpecs) != 26 || len(m.CipherSuites) != 20 {
		t.Fatalf("%d specs, %d suites; want 26 and 20", len(m.SSLv2.CipherSpecs), len(m.CipherSuites))
	}
	for i, want := range wantSpecs {
		if got := m.SSLv2.CipherSpecs[i].String(); got != want {
			t.Errorf("spec %d = %s, want %s", i, got, want)
		}
	}
	if got := len(m.SSLv2.SSLv2OnlySpecs()); got != 6 {
		t.Errorf("%d SSL 2.0-only specs, want 6", got)
	}
	if m.CipherSuites[0] != 0x0039 || m.CipherSuites[2] != 0x0035 || m.CipherSuites[19] != 0x0006 || !hasSuite(m.CipherSuites, 0x000a) {
		t.Errorf("cipher suites %v", m.CipherSuites)
	}
	// The key log's CLIENT_RANDOM for this connection is the challenge
	// right-aligned.
	wantRandom := "00000000000000000000000000000000a8b893bb90e92aa24d6dcc1ce72a8021"
	if m.Random.String() != wantRandom || m.SSLv2.Challenge.String() != wantRandom[32:] {
		t.Errorf("random %s, challenge %s", m.Random, m.SSLv2.Challenge)
	}
	if got := m.Marshal(); !bytes.Equal(got, rec[SSLv2HeaderLen:]) {
		t.Errorf("Marshal = %x\nwant %x", got, rec[SSLv2HeaderLen:])
	}
	var fields []string
	for _, f := range Fields(m) {
		fields = append(fields, f.Name+"="+f.Value)
	}
	got := strings.Join(fields, "; ")
	want := "format=SSL 2.0; version=SSL 3.0; cipher suites=20: TLS_DHE_RSA_WITH_AES_256_CBC_SHA, TLS_DHE_DSS_WITH_AES_256_CBC_SHA, TLS_RSA_WITH_AES_256_CBC_SHA, …; " +
		"SSL 2.0 cipher specs=6: SSL2_RC4_128_WITH_MD5, SSL2_RC2_128_CBC_WITH_MD5, SSL2_DES_192_EDE3_CBC_WITH_MD5, …"
	if got != want {
		t.Errorf("fields\n got %s\nwant %s", got, want)
	}
	js, err := json.Marshal(m)
	if err != nil || !bytes.Contains(js, []byte(`"sslv2":{"cipher_specs":["SSL2_RC4_128_WITH_MD5",`)) {
		t.Errorf("JSON %s (%v)", js, err)
	}
}

func hasSuite(suites []CipherSuite, s CipherSuite) bool {
	for _, c := range suites {
		if c == s {
			return true
		}
	}
	return false
}

// TestSSLv2ClientHelloLen: the header tells an SSL 2.0 hello from TLS
// records and other protocols after 5 bytes, never before.
func TestSSLv2ClientHelloLen(t *testing.T) {
	rec := sslv2Fixture(t)
	for i := 1; i < 5; i++ {
		if _, err := SSLv2ClientHelloLen(rec[:i]); err != ErrShort {
			t.Errorf("%d bytes: %v, want ErrShort", i, err)
		}
	}
	if _, err := SSLv2ClientHelloLen(nil); err != ErrShort {
		t.Errorf("no bytes: %v, want ErrShort", err)
	}
	for name, b := range map[string][]byte{
		"TLS record":     {0x16, 0x03, 0x01, 0x00, 0x30},
		"HTTP":           []byte("GET / HTTP/1.1\r\n"),
		"SERVER-HELLO":   {0x80, 0x67, 0x04, 0x00, 0x02},
		"version 4.0":    {0x80, 0x67, 0x01, 0x04, 0x00},
		"version 0x0003": {0x80, 0x67, 0x01, 0x00, 0x03},
		"too short":      {0x80, 0x10, 0x01, 0x03, 0x01},
	} {
		_, err := SSLv2ClientHelloLen(b)
		var nt *NotTLSError
		if !errors.As(err, &nt) || !errors.Is(err, ErrNotTLS) {
			t.Errorf("%s: %v, want a NotTLSError", name, err)
		}
	}
	// A pure SSL 2.0 client (version 0x0002) is recognized too.
	v2 := append([]byte(nil), rec...)
	v2[3], v2[4] = 0, 2
	if m, err := ParseSSLv2ClientHello(v2); err != nil || m.Version.String() != "SSL 2.0" {
		t.Errorf("SSL 2.0 client: %v, %v", m, err)
	}
}

// TestSSLv2ClientHelloErrors: malformed hellos return errors naming the
// field, never panic, and no prefix parses.
func TestSSLv2ClientHelloErrors(t *testing.T) {
	rec := sslv2Fixture(t)
	for i := range rec {
		if _, err := ParseSSLv2ClientHello(rec[:i]); err == nil {
			t.Errorf("prefix of %d bytes parsed", i)
		}
	}
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), rec...)) }
	setLen := func(b []byte) []byte {
		n := len(b) - SSLv2HeaderLen
		b[0], b[1] = 0x80|byte(n>>8), byte(n)
		return b
	}
	cases := []struct {
		name, want string
		rec        []byte
	}{
		{"spec length not a multiple of 3", "cipher_spec_length 77", mutate(func(b []byte) []byte { b[6] = 77; return b })},
		{"no specs", "cipher_spec_length 0", mutate(func(b []byte) []byte { b[5], b[6] = 0, 0; return b })},
		{"session id too long", "session_id_length 33", mutate(func(b []byte) []byte { b[8] = 33; return b })},
		{"challenge too short", "challenge_length 15", mutate(func(b []byte) []byte { b[10] = 15; return setLen(b[:len(b)-1]) })},
		{"challenge too long", "challenge_length 33", mutate(func(b []byte) []byte { b[10] = 33; return b })},
		{"lengths overflow", "add up to more", mutate(func(b []byte) []byte { b[8] = 16; return b })},
		{"trailing bytes", "trailing", mutate(func(b []byte) []byte { return setLen(append(b, 0)) })},
		{"header mismatch", "record header says 105", mutate(func(b []byte) []byte { return append(b, 0) })},
	}
	for _, c := range cases {
		_, err := ParseSSLv2ClientHello(c.rec)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "wire: SSLv2 ClientHello: ") {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
