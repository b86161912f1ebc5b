package keysched

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/keylog"
)

// rfc8448Section is one derived/*.json oracle of the RFC 8448 traces.
type rfc8448Section struct {
	Section string            `json:"section"`
	Records []rfc8448Record   `json:"records"`
	Values  map[string]string `json:"-"`
}

type rfc8448Record struct {
	Dir       string `json:"dir"`
	Field     string `json:"field"`
	Record    string `json:"record"`
	OuterType int    `json:"outer_type"`
	InnerType int    `json:"inner_type"`
	Plaintext string `json:"plaintext"`
}

func loadRFC8448(t *testing.T) map[string]*rfc8448Section {
	t.Helper()
	files, err := filepath.Glob("testdata/rfc8448-sec*.json")
	if err != nil || len(files) != 5 {
		t.Fatalf("want 5 RFC 8448 sections in testdata, got %d (%v)", len(files), err)
	}
	out := make(map[string]*rfc8448Section)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := new(rfc8448Section)
		if err := json.Unmarshal(b, s); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		s.Values = make(map[string]string)
		for k, v := range raw {
			if str, ok := v.(string); ok {
				s.Values[k] = str
			}
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = s
	}
	return out
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// TestRFC8448TrafficKeys derives every write key and IV of RFC 8448 from
// its traffic secrets.
func TestRFC8448TrafficKeys(t *testing.T) {
	for name, s := range loadRFC8448(t) {
		checked := 0
		for _, pair := range [][3]string{
			{"client_handshake_traffic_secret", "client_handshake_key", "client_handshake_iv"},
			{"server_handshake_traffic_secret", "server_handshake_key", "server_handshake_iv"},
			{"client_application_traffic_secret_0", "client_application_key", "client_application_iv"},
			{"server_application_traffic_secret_0", "server_application_key", "server_application_iv"},
		} {
			secret, ok := s.Values[pair[0]]
			if !ok {
				continue
			}
			key, iv, err := TrafficKeys(0x1301, unhex(t, secret))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := hex.EncodeToString(key), s.Values[pair[1]]; got != want {
				t.Errorf("%s: %s = %s, want %s", name, pair[1], got, want)
			}
			if got, want := hex.EncodeToString(iv), s.Values[pair[2]]; got != want {
				t.Errorf("%s: %s = %s, want %s", name, pair[2], got, want)
			}
			checked++
		}
		if checked != 4 {
			t.Errorf("%s: checked %d secrets, want 4", name, checked)
		}
		// The secrets chain: early → handshake → master (RFC 8446 §7.1).
		empty := sha256.Sum256(nil)
		zeros := make([]byte, 32)
		early, err := hkdf.Extract(sha256.New, zeros, nil)
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := s.Values["early_secret"]; ok {
			early = unhex(t, e)
			ikm := zeros
			if psk, ok := s.Values["psk"]; ok {
				ikm = unhex(t, psk)
			}
			if psk, err := hkdf.Extract(sha256.New, ikm, nil); err != nil || !bytes.Equal(psk, early) {
				t.Errorf("%s: early secret from PSK = %x, want %x", name, psk, early)
			}
		}
		hs, err := hkdf.Extract(sha256.New, unhex(t, s.Values["shared_secret"]), DeriveSecret(sha256.New, early, "derived", empty[:]))
		if err != nil || hex.EncodeToString(hs) != s.Values["handshake_secret"] {
			t.Errorf("%s: handshake secret = %x, want %s", name, hs, s.Values["handshake_secret"])
		}
		ms, err := hkdf.Extract(sha256.New, zeros, DeriveSecret(sha256.New, hs, "derived", empty[:]))
		if err != nil || hex.EncodeToString(ms) != s.Values["master_secret"] {
			t.Errorf("%s: master secret = %x, want %s", name, ms, s.Values["master_secret"])
		}
	}
}

// TestRFC8448HandshakeSecretDerived checks DeriveSecret against the §3
// numbers: handshake_secret = HKDF-Extract(Derive-Secret(early, "derived", ""), shared).
func TestRFC8448HandshakeSecretDerived(t *testing.T) {
	// RFC 8448 §3: early secret (no PSK) and "derived" secret.
	early := unhex(t, "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
	empty := sha256.Sum256(nil)
	got := DeriveSecret(sha256.New, early, "derived", empty[:])
	if want := "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"; hex.EncodeToString(got) != want {
		t.Errorf("derived = %x, want %s", got, want)
	}
}

// TestRFC8448Records opens every encrypted record of RFC 8448 §3–§7 with
// keys derived from the key log secrets, switching keys the way a decoder
// does: after EndOfEarlyData and after each side's Finished.
func TestRFC8448Records(t *testing.T) {
	for name, s := range loadRFC8448(t) {
		t.Run(name, func(t *testing.T) {
			kl, err := keylog.ParseFile(filepath.Join("..", "..", "keylog", "testdata", name+".keys"))
			if err != nil {
				t.Fatal(err)
			}
			cr := unhex(t, s.Values["client_random"])
			if cr == nil {
				cr = clientRandomOf(t, s)
			}
			secret := func(label string) []byte {
				b, ok := kl.Secret(label, cr)
				if !ok {
					t.Fatalf("key log has no %s for %x", label, cr)
				}
				return b
			}
			stages := map[string][]string{
				"C": {keylog.ClientHandshakeTrafficSecret, keylog.ClientTrafficSecret0},
				"S": {keylog.ServerHandshakeTrafficSecret, keylog.ServerTrafficSecret0},
			}
			if _, ok := kl.Secret(keylog.ClientEarlyTrafficSecret, cr); ok {
				stages["C"] = append([]string{keylog.ClientEarlyTrafficSecret}, stages["C"]...)
			}
			openers := map[string]*Opener{}
			next := func(dir string) {
				label := stages[dir][0]
				stages[dir] = stages[dir][1:]
				o, err := NewTLS13Opener(0x1301, secret(label))
				if err != nil {
					t.Fatal(err)
				}
				openers[dir] = o
			}
			next("C")
			next("S")
			opened := 0
			for i, r := range s.Records {
				rec := unhex(t, r.Record)
				if r.OuterType != 23 {
					continue
				}
				o := openers[r.Dir]
				pt, typ, err := o.Open(rec[:5], rec[5:])
				if err != nil {
					t.Fatalf("record %d (%s, %s): %v", i, r.Dir, r.Field, err)
				}
				if int(typ) != r.InnerType {
					t.Errorf("record %d (%s): inner type %d, want %d", i, r.Field, typ, r.InnerType)
				}
				if want := unhex(t, r.Plaintext); !bytes.Equal(pt, want) {
					t.Errorf("record %d (%s): plaintext\n got %x\nwant %x", i, r.Field, pt, want)
				}
				opened++
				if typ == TypeHandshake && (hasHandshake(pt, 20) || hasHandshake(pt, 5)) && len(stages[r.Dir]) > 0 {
					next(r.Dir)
				}
			}
			if opened < 4 {
				t.Errorf("opened %d records, want at least 4", opened)
			}
		})
	}
}

// clientRandomOf reads the client random from the first ClientHello.
func clientRandomOf(t *testing.T, s *rfc8448Section) []byte {
	rec := unhex(t, s.Records[0].Record)
	return rec[11:43]
}

// hasHandshake reports whether the handshake messages in pt include one
// of type typ.
func hasHandshake(pt []byte, typ byte) bool {
	for len(pt) >= 4 {
		n := int(pt[1])<<16 | int(pt[2])<<8 | int(pt[3])
		if pt[0] == typ {
			return true
		}
		if len(pt) < 4+n {
			return false
		}
		pt = pt[4+n:]
	}
	return false
}
