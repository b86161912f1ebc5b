package keysched

import (
	"bytes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// ssl3Oracle is testdata/ssl3/rsasnakeoil2.json: what tshark derived and
// decrypted, with the server's RSA key, from the three SSL 3.0 key
// derivations of Wireshark's rsasnakeoil2.pcap (a full handshake, its
// renegotiation, and a resumption on a second connection).
type ssl3Oracle struct {
	Handshakes []struct {
		Frame        int      `json:"frame"`
		Suite        uint16   `json:"suite"`
		PreMaster    hexBytes `json:"pre_master"`
		ClientRandom hexBytes `json:"client_random"`
		ServerRandom hexBytes `json:"server_random"`
		MasterSecret hexBytes `json:"master_secret"`
		KeyBlock     hexBytes `json:"key_block"`
		Records      []struct {
			FromServer bool     `json:"from_server"`
			Type       uint8    `json:"type"`
			Ciphertext hexBytes `json:"ciphertext"`
			Plaintext  hexBytes `json:"plaintext"`
			MAC        hexBytes `json:"mac"`
		} `json:"records"`
	} `json:"handshakes"`
}

type hexBytes []byte

func (h *hexBytes) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	*h = v
	return err
}

// TestSSL3WiresharkOracle derives the master secrets (RFC 6101 §6.1) and
// key blocks (§6.2.2) tshark derived, opens every record tshark decrypted
// (SSL 3.0 MAC, chained IV, padding) to tshark's plaintext, and re-seals
// each one to the very ciphertext on the wire.
func TestSSL3WiresharkOracle(t *testing.T) {
	raw, err := os.ReadFile("testdata/ssl3/rsasnakeoil2.json")
	if err != nil {
		t.Fatal(err)
	}
	var o ssl3Oracle
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Handshakes) != 3 {
		t.Fatalf("%d key derivations in the oracle, want 3", len(o.Handshakes))
	}
	records, full, arbitrary := 0, 0, 0
	for _, h := range o.Handshakes {
		suite, ok := LookupSuite(h.Suite)
		if !ok {
			t.Fatalf("frame %d: suite 0x%04x unknown", h.Frame, h.Suite)
		}
		if h.PreMaster != nil {
			full++
			ms, err := MasterSecret(VersionSSL30, h.Suite, h.PreMaster, h.ClientRandom, h.ServerRandom)
			if err != nil || !bytes.Equal(ms, h.MasterSecret) {
				t.Errorf("frame %d: master secret %x (%v), want %x", h.Frame, ms, err, h.MasterSecret)
			}
		}
		kb, err := expandKeys(VersionSSL30, suite, h.MasterSecret, h.ClientRandom, h.ServerRandom)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		for _, k := range [][]byte{kb.clientMAC, kb.serverMAC, kb.clientKey, kb.serverKey, kb.clientIV, kb.serverIV} {
			got = append(got, k...)
		}
		if !bytes.Equal(got, h.KeyBlock) {
			t.Errorf("frame %d (%s): key block\n got %x\nwant %x", h.Frame, suite.Name, got, h.KeyBlock)
		}
		copen, sopen, err := NewTLS12Openers(h.Suite, VersionSSL30, h.MasterSecret, h.ClientRandom, h.ServerRandom, false)
		if err != nil {
			t.Fatal(err)
		}
		cseal, sseal, err := NewTLS12Sealers(h.Suite, VersionSSL30, h.MasterSecret, h.ClientRandom, h.ServerRandom, false)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range h.Records {
			op, se := copen, cseal
			if r.FromServer {
				op, se = sopen, sseal
			}
			seq := op.Seq()
			hdr := []byte{r.Type, 3, 0, byte(len(r.Ciphertext) >> 8), byte(len(r.Ciphertext))}
			if mac := se.st.hmacOf(se.st.macHeader(r.Type, hdr[1:3], len(r.Plaintext)), r.Plaintext); !bytes.Equal(mac, r.MAC) {
				t.Errorf("frame %d record %d: MAC %x, want %x", h.Frame, i, mac, r.MAC)
			}
			// The padding as sent: OpenSSL 0.9.8 left whatever was in its
			// buffer before the length byte, which SSL 3.0 allows.
			full := make([]byte, len(r.Ciphertext))
			cipher.NewCBCDecrypter(op.st.block, op.st.iv).CryptBlocks(full, r.Ciphertext)
			p := int(full[len(full)-1])
			tlsStyle := bytes.Equal(full[len(full)-1-p:], bytes.Repeat([]byte{byte(p)}, p+1))
			pt, typ, err := op.Open(hdr, r.Ciphertext)
			if err != nil {
				t.Fatalf("frame %d (%s) record %d (seq %d): %v", h.Frame, suite.Name, i, seq, err)
			}
			if typ != r.Type || !bytes.Equal(pt, r.Plaintext) {
				t.Errorf("frame %d record %d: type %d %x\nwant type %d %x", h.Frame, i, typ, pt, r.Type, r.Plaintext)
			}
			// Sealing gives the same record when the padding was TLS style
			// (the Sealer's); the IV chains on from the record as sent.
			rec, err := se.Seal(r.Type, r.Plaintext)
			if err != nil || bytes.Equal(rec, append(hdr, r.Ciphertext...)) != tlsStyle {
				t.Errorf("frame %d record %d: re-sealed (padding TLS style: %v)\n got %x (%v)\nwant %x", h.Frame, i, tlsStyle, rec, err, append(hdr, r.Ciphertext...))
			}
			se.st.iv = bytes.Clone(r.Ciphertext[len(r.Ciphertext)-se.st.block.BlockSize():])
			if !tlsStyle {
				arbitrary++
			}
			records++
		}
	}
	if full != 2 || records != 47 {
		t.Errorf("%d full handshakes and %d records checked, want 2 and 47", full, records)
	}
	if arbitrary == 0 {
		t.Error("no record with SSL 3.0-only padding: the oracle no longer tests it")
	}
	t.Logf("%d of %d records have padding bytes other than the length (TLS would reject them)", arbitrary, records)
}

// TestSSL3MAC checks the MAC of RFC 6101 §5.2.3.1 with MD5 (48-byte pads)
// and SHA-1 (40-byte pads) against values computed with Python's hashlib
// from the RFC's formula, and that SSL 3.0 leaves the version out.
func TestSSL3MAC(t *testing.T) {
	for _, c := range []struct {
		st   *state
		want string
	}{
		{&state{version: VersionSSL30, seq: 1, mac: md5.New, macKey: seqBytes(16)}, "2eedad2dd98fe257ce12ffdee5e0a44e"},
		{&state{version: VersionSSL30, seq: 1, mac: sha1.New, macKey: seqBytes(20)}, "94950b39f9a3179713092444e97c57958cf1ae0d"},
	} {
		for _, vers := range [][]byte{{3, 0}, {3, 1}} {
			got := c.st.hmacOf(c.st.macHeader(TypeApplicationData, vers, 5), []byte("hello"))
			if hex.EncodeToString(got) != c.want {
				t.Errorf("%d-byte MAC with version %x: %x, want %s", c.st.mac().Size(), vers, got, c.want)
			}
		}
	}
}

// seqBytes returns 0, 1, … n-1.
func seqBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// TestSSL3Padding: SSL 3.0 padding bytes are arbitrary, but the padding
// must be shorter than a block (RFC 6101 §5.2.3.2); TLS 1.0 (RFC 2246
// §6.2.3.2) wants every padding byte to be the length, and allows more
// than a block.
func TestSSL3Padding(t *testing.T) {
	ms, cr, sr := bytes.Repeat([]byte{7}, 48), bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	arbitrary := func(p int) []byte { return bytes.Repeat([]byte{0xde}, p) }
	zeros := func(p int) []byte { return make([]byte, p) }
	tls := func(p int) []byte { return bytes.Repeat([]byte{byte(p)}, p) }
	for _, id := range []uint16{0x000A, 0x0035} {
		for _, tc := range []struct {
			name     string
			version  uint16
			fill     func(p int) []byte
			ok, more bool // opens with the shortest padding; with a block more
		}{
			{"arbitrary", VersionSSL30, arbitrary, true, false},
			{"zeros", VersionSSL30, zeros, true, false},
			{"TLS style", VersionSSL30, tls, true, false},
			{"arbitrary", VersionTLS10, arbitrary, false, false},
			{"TLS style", VersionTLS10, tls, true, true},
		} {
			for _, extra := range []bool{false, true} {
				s, _, err := newTLS12States(id, tc.version, ms, cr, sr, false)
				if err != nil {
					t.Fatal(err)
				}
				o, _, err := NewTLS12Openers(id, tc.version, ms, cr, sr, false)
				if err != nil {
					t.Fatal(err)
				}
				bs, data := s.block.BlockSize(), []byte("hello, world")
				vers := []byte{byte(tc.version >> 8), byte(tc.version)}
				body := append(bytes.Clone(data), s.hmacOf(s.macHeader(TypeApplicationData, vers, len(data)), data)...)
				p := (bs - (len(body)+1)%bs) % bs
				if extra {
					p += bs
				}
				body = append(append(body, tc.fill(p)...), byte(p))
				cipher.NewCBCEncrypter(s.block, s.iv).CryptBlocks(body, body)
				hdr := []byte{TypeApplicationData, vers[0], vers[1], byte(len(body) >> 8), byte(len(body))}
				pt, _, err := o.Open(hdr, body)
				want := tc.ok
				if extra {
					want = tc.more
				}
				if (err == nil) != want || err == nil && string(pt) != string(data) {
					t.Errorf("suite 0x%04x %s, %s padding of %d bytes: %q, %v; want ok=%v", id, versionName(tc.version), tc.name, p, pt, err, want)
				}
			}
		}
	}
}

// TestSSL3Errors: what SSL 3.0 cannot do is refused with a reason.
func TestSSL3Errors(t *testing.T) {
	ms, r := make([]byte, 48), make([]byte, 32)
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"GCM", func() error { _, _, err := NewTLS12Openers(0xC02F, VersionSSL30, ms, r, r, false); return err }(), "needs TLS 1.2"},
		{"SHA-256 MAC", func() error { _, _, err := NewTLS12Openers(0x003C, VersionSSL30, ms, r, r, false); return err }(), "needs TLS 1.2"},
		{"extended master secret", func() error { _, err := ExtendedMasterSecret(VersionSSL30, 0x0035, ms, r); return err }(), "SSL 3.0 has no \"extended master secret\""},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) || !strings.HasPrefix(tc.err.Error(), "keysched: ") {
			t.Errorf("%s: err = %v, want %q", tc.name, tc.err, tc.want)
		}
	}
	// encrypt_then_mac does not exist in SSL 3.0: asking for it changes nothing.
	seal, _, err := NewTLS12Sealers(0x0035, VersionSSL30, ms, r, r, true)
	if err != nil {
		t.Fatal(err)
	}
	open, _, _ := NewTLS12Openers(0x0035, VersionSSL30, ms, r, r, false)
	rec, _ := seal.Seal(TypeApplicationData, []byte("x"))
	if _, _, err := open.Open(rec[:5], rec[5:]); err != nil {
		t.Errorf("SSL 3.0 with encrypt_then_mac asked: %v", err)
	}
}
