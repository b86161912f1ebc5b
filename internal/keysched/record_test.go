package keysched

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/internal/wire"
)

// allSuites returns every suite LookupSuite knows.
func allSuites() []Suite {
	var out []Suite
	for id := 0; id <= 0xFFFF; id++ {
		if s, ok := LookupSuite(uint16(id)); ok {
			out = append(out, s)
		}
	}
	return out
}

// pairConfig is one way of protecting records.
type pairConfig struct {
	suite   Suite
	version uint16
	etm     bool
}

func (c pairConfig) String() string {
	s := fmt.Sprintf("%s/%s", versionName(c.version), c.suite.Name)
	if c.etm {
		s += "/EtM"
	}
	return s
}

// configs lists every suite with every version (and EtM setting) it works with.
func configs() []pairConfig {
	var out []pairConfig
	for _, s := range allSuites() {
		if s.TLS13 {
			out = append(out, pairConfig{s, VersionTLS13, false})
			continue
		}
		versions := []uint16{VersionTLS12}
		if !s.Cipher.AEAD() && s.MACLen == 20 {
			versions = append(versions, VersionSSL30, VersionTLS10, VersionTLS11)
		}
		for _, v := range versions {
			out = append(out, pairConfig{s, v, false})
			if s.Cipher == wire.CipherAESCBC || s.Cipher == wire.Cipher3DESCBC {
				out = append(out, pairConfig{s, v, true})
			}
		}
	}
	return out
}

// newPair returns a Sealer and the Opener for the same direction.
func newPair(t testing.TB, c pairConfig) (*Sealer, *Opener) {
	t.Helper()
	secret := bytes.Repeat([]byte{0x5a}, 48)
	if c.version == VersionTLS13 {
		secret = secret[:c.suite.Hash.Size()]
		s, err := NewTLS13Sealer(c.suite.ID, secret)
		if err != nil {
			t.Fatal(err)
		}
		o, err := NewTLS13Opener(c.suite.ID, secret)
		if err != nil {
			t.Fatal(err)
		}
		return s, o
	}
	cr, sr := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	_, s, err := NewTLS12Sealers(c.suite.ID, c.version, secret, cr, sr, c.etm)
	if err != nil {
		t.Fatal(err)
	}
	_, o, err := NewTLS12Openers(c.suite.ID, c.version, secret, cr, sr, c.etm)
	if err != nil {
		t.Fatal(err)
	}
	return s, o
}

func TestSuiteTable(t *testing.T) {
	suites := allSuites()
	if len(suites) < 110 {
		t.Errorf("only %d suites", len(suites))
	}
	for _, tc := range []struct {
		id     uint16
		cipher wire.Cipher
		key    int
		mac    int
		hash   int
	}{
		{0x1301, wire.CipherAESGCM, 16, 0, 32},
		{0x1302, wire.CipherAESGCM, 32, 0, 48},
		{0x1305, wire.CipherAESCCM8, 16, 0, 32},
		{0xC02F, wire.CipherAESGCM, 16, 0, 32},
		{0xC030, wire.CipherAESGCM, 32, 0, 48},
		{0xCCA8, wire.CipherChaCha20Poly1305, 32, 0, 32},
		{0xC0A4, wire.CipherAESCCM, 16, 0, 32},
		{0xC0AF, wire.CipherAESCCM8, 32, 0, 32},
		{0x0035, wire.CipherAESCBC, 32, 20, 32},
		{0xC027, wire.CipherAESCBC, 16, 32, 32},
		{0xC028, wire.CipherAESCBC, 32, 48, 48},
		{0x000A, wire.Cipher3DESCBC, 24, 20, 32},
		{0x003B, wire.CipherNULL, 0, 32, 32},
	} {
		s, ok := LookupSuite(tc.id)
		if !ok || s.Cipher != tc.cipher || s.KeyLen != tc.key || s.MACLen != tc.mac || s.Hash.Size() != tc.hash {
			t.Errorf("LookupSuite(0x%04x) = %+v, %v", tc.id, s, ok)
		}
	}
	for _, id := range []uint16{0x0000, 0x0005 /* RC4 */, 0x0041 /* Camellia */, 0xFFFF, 0x0001 /* HMAC-MD5 */, 0x0009, /* DES */
		0x00c6 /* SM4 */, 0xc0b4 /* TLS 1.3 integrity only */, 0x00ff /* SCSV */} {
		if s, ok := LookupSuite(id); ok {
			t.Errorf("LookupSuite(0x%04x) = %s, want unknown", id, s.Name)
		}
	}
}

// TestRoundTrip seals and opens records of every suite, version and MAC
// mode, including empty and maximum-size records, and checks that every
// single-bit change to a record is rejected without disturbing the Opener.
func TestRoundTrip(t *testing.T) {
	cfgs := configs()
	if len(cfgs) < 150 {
		t.Errorf("only %d configurations", len(cfgs))
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1024)
	for _, c := range cfgs {
		s, o := newPair(t, c)
		for i, msg := range [][]byte{[]byte("hello"), {}, big, []byte("GET / HTTP/1.1\r\n\r\n"), big[:1000]} {
			typ := TypeApplicationData
			if i == 1 {
				typ = TypeAlert
			}
			rec, err := s.Seal(typ, msg)
			if err != nil {
				t.Fatalf("%v: Seal: %v", c, err)
			}
			if i == 3 {
				// Corrupt one bit at a time: every variant must fail and
				// leave the Opener ready for the intact record.
				for j := 0; j < len(rec); j += 1 + len(rec)/40 {
					bad := bytes.Clone(rec)
					bad[j] ^= 0x01
					if j == 3 || j == 4 {
						continue // the length bytes: covered by the length check
					}
					if (j == 1 || j == 2) && c.version == VersionSSL30 {
						continue // SSL 3.0 does not MAC the version (RFC 6101 §5.2.3.1)
					}
					if pt, _, err := o.Open(bad[:5], bad[5:]); err == nil {
						t.Fatalf("%v: Open accepted a record with byte %d flipped: %q", c, j, pt)
					}
				}
			}
			pt, gotType, err := o.Open(rec[:5], rec[5:])
			if err != nil {
				t.Fatalf("%v: record %d: Open: %v", c, i, err)
			}
			if gotType != typ || !bytes.Equal(pt, msg) {
				t.Fatalf("%v: record %d: got type %d, %d bytes", c, i, gotType, len(pt))
			}
		}
		if o.Seq() != 5 || s.Seq() != 5 {
			t.Errorf("%v: Seq = %d/%d, want 5", c, o.Seq(), s.Seq())
		}
	}
}

// TestTLS10ChainedIV checks that TLS 1.0 CBC records depend on the previous
// record: skipping one makes the next fail (the IV chain breaks).
func TestTLS10ChainedIV(t *testing.T) {
	suite, _ := LookupSuite(0x002F)
	s, o := newPair(t, pairConfig{suite, VersionTLS10, false})
	r1, _ := s.Seal(TypeApplicationData, []byte("first"))
	r2, _ := s.Seal(TypeApplicationData, []byte("second"))
	if len(r1) != 5+32 { // 5 + 20 MAC = 25 → 32 bytes, no explicit IV
		t.Errorf("TLS 1.0 record is %d bytes, want 37 (no explicit IV)", len(r1))
	}
	if _, _, err := o.Open(r2[:5], r2[5:]); err == nil {
		t.Error("opened the second record without the first: IV chaining ignored")
	}
	for _, r := range [][]byte{r1, r2} {
		if _, _, err := o.Open(r[:5], r[5:]); err != nil {
			t.Fatal(err)
		}
	}
}

func TestKeyUpdate(t *testing.T) {
	for _, id := range []uint16{0x1301, 0x1302, 0x1303, 0x1304, 0x1305} {
		suite, _ := LookupSuite(id)
		s, o := newPair(t, pairConfig{suite, VersionTLS13, false})
		r, _ := s.Seal(TypeApplicationData, []byte("before"))
		if _, _, err := o.Open(r[:5], r[5:]); err != nil {
			t.Fatal(err)
		}
		if err := s.KeyUpdate(); err != nil {
			t.Fatal(err)
		}
		r, _ = s.Seal(TypeApplicationData, []byte("after"))
		if _, _, err := o.Open(r[:5], r[5:]); err == nil {
			t.Fatalf("%s: opened a post-KeyUpdate record with the old key", suite.Name)
		}
		if err := o.KeyUpdate(); err != nil {
			t.Fatal(err)
		}
		if o.Seq() != 0 {
			t.Errorf("Seq after KeyUpdate = %d", o.Seq())
		}
		pt, _, err := o.Open(r[:5], r[5:])
		if err != nil || string(pt) != "after" {
			t.Fatalf("%s: after KeyUpdate: %q, %v", suite.Name, pt, err)
		}
	}
	suite, _ := LookupSuite(0xC02F)
	_, o := newPair(t, pairConfig{suite, VersionTLS12, false})
	if err := o.KeyUpdate(); err == nil || !strings.Contains(err.Error(), "TLS 1.3") {
		t.Errorf("KeyUpdate on TLS 1.2 = %v", err)
	}
}

// TestOpenErrors checks that bad input gives errors that say what failed.
func TestOpenErrors(t *testing.T) {
	suite13, _ := LookupSuite(0x1301)
	s13, o13 := newPair(t, pairConfig{suite13, VersionTLS13, false})
	rec, _ := s13.Seal(TypeHandshake, []byte("x"))
	zero, _ := s13.Seal(0, make([]byte, 10)) // inner plaintext all zero: no content type
	_, other := newPair(t, pairConfig{suite13, VersionTLS13, false})
	other.KeyUpdate() // a different key
	suiteCBC, _ := LookupSuite(0xC027)
	sCBC, oCBC := newPair(t, pairConfig{suiteCBC, VersionTLS12, false})
	cbc, _ := sCBC.Seal(TypeApplicationData, []byte("data"))
	_, oEtM := newPair(t, pairConfig{suiteCBC, VersionTLS12, true})

	for _, tc := range []struct {
		name    string
		o       *Opener
		rec     []byte
		want    string
		authErr bool
	}{
		{"short header", o13, rec[:3], "header is 3 bytes", false},
		{"length mismatch", o13, append(bytes.Clone(rec), 0), "header says", false},
		{"plaintext type", o13, append([]byte{22}, rec[1:]...), "not application_data", false},
		{"wrong key", other, rec, "record 0: authentication failed: wrong key or corrupted record", true},
		{"too short", o13, []byte{23, 3, 3, 0, 4, 1, 2, 3, 4}, "shorter than", false},
		{"CBC not aligned", oCBC, append(append([]byte{23, 3, 3, 0, 21}, cbc[5:25]...), 1), "multiple", false},
		{"EtM expected", oEtM, cbc, "encrypt-then-MAC", true},
	} {
		r := tc.rec
		hdr, payload := r, []byte(nil)
		if len(r) >= 5 {
			hdr, payload = r[:5], r[5:]
		}
		_, _, err := tc.o.Open(hdr, payload)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "keysched: record ") {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, err, tc.want)
		}
		if got := errors.Is(err, ErrAuthentication); got != tc.authErr {
			t.Errorf("%s: errors.Is(err, ErrAuthentication) = %v", tc.name, got)
		}
	}
	// The record after the bad ones still opens: failures do not consume
	// sequence numbers.
	if _, typ, err := o13.Open(rec[:5], rec[5:]); err != nil || typ != TypeHandshake {
		t.Fatalf("good record after failures: %v", err)
	}
	if _, _, err := o13.Open(zero[:5], zero[5:]); err == nil || !strings.Contains(err.Error(), "no content type") {
		t.Errorf("all-zero inner plaintext: %v", err)
	}
}

func TestConstructorErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"1.2 suite to 1.3", func() error { _, err := NewTLS13Opener(0xC02F, make([]byte, 32)); return err }(), "not a TLS 1.3 cipher suite"},
		{"short secret", func() error { _, err := NewTLS13Opener(0x1302, make([]byte, 32)); return err }(), "48-byte traffic secret"},
		{"unknown", func() error { _, err := NewTLS13Opener(0x0005, make([]byte, 32)); return err }(), "unknown or unsupported cipher suite 0x0005"},
		{"1.3 suite to 1.2", func() error {
			_, _, err := NewTLS12Openers(0x1301, VersionTLS12, make([]byte, 48), make([]byte, 32), make([]byte, 32), false)
			return err
		}(), "TLS 1.3 cipher suite"},
		{"GCM on TLS 1.0", func() error {
			_, _, err := NewTLS12Openers(0xC02F, VersionTLS10, make([]byte, 48), make([]byte, 32), make([]byte, 32), false)
			return err
		}(), "needs TLS 1.2"},
		{"SSL 2", func() error {
			_, _, err := NewTLS12Openers(0x002F, 0x0002, make([]byte, 48), make([]byte, 32), make([]byte, 32), false)
			return err
		}(), "SSL 2.0 is not SSL 3.0 or TLS 1.0, 1.1 or 1.2"},
		{"master secret length", func() error {
			_, _, err := NewTLS12Openers(0xC02F, VersionTLS12, make([]byte, 32), make([]byte, 32), make([]byte, 32), false)
			return err
		}(), "master secret must be 48 bytes"},
		{"random length", func() error {
			_, err := MasterSecret(VersionTLS12, 0xC02F, make([]byte, 48), make([]byte, 31), make([]byte, 32))
			return err
		}(), "32 bytes"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) || !strings.HasPrefix(tc.err.Error(), "keysched: ") {
			t.Errorf("%s: err = %v, want %q", tc.name, tc.err, tc.want)
		}
	}
}
