package transcript

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/keylog"
)

// rfc8448 is one section of the RFC 8448 example traces, rebuilt as records
// (shared/corpora/rfc8448/derived, see its README).
type rfc8448 struct {
	Section string `json:"section"`
	Records []struct {
		Dir       string   `json:"dir"`
		Record    string   `json:"record"`
		OuterType int      `json:"outer_type"`
		InnerType int      `json:"inner_type"`
		Messages  []string `json:"messages"`
		AppData   string   `json:"app_data_utf8"`
	} `json:"records"`
}

var rfc8448Sections = []string{
	"sec3-Simple_1RTT_Handshake",
	"sec4-Resumed_0RTT_Handshake",
	"sec5-HelloRetryRequest_Handshake",
	"sec6-Client_Authentication_Handshake",
	"sec7-Middlebox_Compatibility_Mode",
}

// snake turns the corpus's message names (ClientHello) into IANA names
// (client_hello).
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func loadRFC8448(t *testing.T, sec string) (rfc8448, *keylog.Log) {
	t.Helper()
	dir := peertest.Corpus(t, "rfc8448")
	raw, err := os.ReadFile(filepath.Join(dir, "derived", "rfc8448-"+sec+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr rfc8448
	if err := json.Unmarshal(raw, &tr); err != nil {
		t.Fatal(err)
	}
	keys, err := keylog.ParseFile(filepath.Join(dir, "keylog", "rfc8448-"+sec+".keys"))
	if err != nil {
		t.Fatal(err)
	}
	return tr, keys
}

// decode feeds the section's records to a decoder, in order.
func decode(t *testing.T, tr rfc8448, opts Options) *Transcript {
	t.Helper()
	d := NewDecoder(opts)
	at := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, r := range tr.Records {
		b, err := hex.DecodeString(r.Record)
		if err != nil {
			t.Fatal(err)
		}
		side := Client
		if r.Dir == "S" {
			side = Server
		}
		d.Data(side, at.Add(time.Duration(i)*time.Millisecond), b)
	}
	return d.Transcript()
}

// TestRFC8448 decodes and decrypts every RFC 8448 trace: the message sequence,
// direction and decryption of every record must match the corpus exactly, and
// application data must decrypt to the corpus's plaintext.
func TestRFC8448(t *testing.T) {
	for _, sec := range rfc8448Sections {
		t.Run(sec, func(t *testing.T) {
			tr, keys := loadRFC8448(t, sec)
			got := decode(t, tr, Options{Keys: keys, KeepData: true})
			if len(got.Problems) > 0 {
				t.Errorf("problems: %q", got.Problems)
			}
			type ev struct {
				From      Side
				Type      string
				Decrypted bool
			}
			var want []ev
			var wantData []string
			for _, r := range tr.Records {
				side := Client
				if r.Dir == "S" {
					side = Server
				}
				enc := r.OuterType == 23
				switch {
				case r.OuterType == 20:
					want = append(want, ev{side, TypeChangeCipherSpec, false})
				case len(r.Messages) > 0:
					for _, m := range r.Messages {
						want = append(want, ev{side, snake(m), enc})
					}
				case r.InnerType == 23:
					want = append(want, ev{side, TypeApplicationData, true})
					wantData = append(wantData, r.AppData)
				case r.InnerType == 21:
					want = append(want, ev{side, TypeAlert, true})
				}
			}
			var have []ev
			var haveData []string
			for _, e := range got.Events {
				have = append(have, ev{e.From, e.Type, e.Decrypted})
				if e.Type == TypeApplicationData {
					haveData = append(haveData, string(e.Data))
				}
				if e.Type == TypeAlert && e.Description != "close_notify" {
					t.Errorf("alert %q, want close_notify", e.Description)
				}
			}
			if diff := cmp.Diff(want, have); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantData, haveData); diff != "" {
				t.Errorf("application data (-want +got):\n%s", diff)
			}
			if got.Version.String() != "TLS 1.3" {
				t.Errorf("version %v, want TLS 1.3", got.Version)
			}
			// Both Finished messages check against the transcript hash
			// (§5: with message_hash for the first ClientHello).
			for _, side := range []Side{Client, Server} {
				f := got.First(side, "finished")
				if f == nil || !slices.ContainsFunc(f.Fields, func(x wire.Field) bool {
					return x.Name == "verify_data" && strings.HasSuffix(x.Value, "matches the handshake messages (RFC 8446 §4.4.4)")
				}) {
					t.Errorf("the %s's Finished was not checked against the transcript: %+v", side, f)
				}
			}
		})
	}
}

// TestFinishedMismatch alters one byte of §3's ClientHello that neither
// the client random nor the keys depend on (the last byte of the
// signature_algorithms list): every record still decrypts, and both
// Finished messages are said not to match the handshake messages seen.
func TestFinishedMismatch(t *testing.T) {
	tr, keys := loadRFC8448(t, "sec3-Simple_1RTT_Handshake")
	b, _ := hex.DecodeString(tr.Records[0].Record)
	i := bytes.Index(b, []byte{0x00, 0x0d}) // signature_algorithms
	if i < 0 {
		t.Fatal("no signature_algorithms in the ClientHello")
	}
	n := int(b[i+2])<<8 | int(b[i+3])
	b[i+4+n-1] ^= 1
	tr.Records[0].Record = hex.EncodeToString(b)
	got := decode(t, tr, Options{Keys: keys})
	for _, side := range []Side{Client, Server} {
		f := got.First(side, "finished")
		if f == nil || !f.Decrypted || !slices.ContainsFunc(f.Fields, func(x wire.Field) bool { return strings.Contains(x.Value, "does NOT match") }) {
			t.Errorf("the %s's Finished: %+v", side, f)
		}
	}
	if len(got.Problems) != 2 {
		t.Errorf("problems %q, want one per Finished", got.Problems)
	}
}

// TestRFC8448WithoutKeys checks that without secrets nothing is claimed to be
// decrypted, the plaintext hellos still decode, and each encrypted record
// says why it stayed closed.
func TestRFC8448WithoutKeys(t *testing.T) {
	tr, _ := loadRFC8448(t, "sec3-Simple_1RTT_Handshake")
	got := decode(t, tr, Options{})
	var types []string
	for _, e := range got.Events {
		types = append(types, e.Type)
		if e.Decrypted {
			t.Errorf("event %d %s claims to be decrypted without keys", e.Seq, e.Type)
		}
		if e.Type == TypeEncrypted && !strings.Contains(e.Note, "key log") {
			t.Errorf("encrypted record note %q does not say a key log is needed", e.Note)
		}
	}
	want := []string{"client_hello", "server_hello", TypeEncrypted, TypeEncrypted, TypeEncrypted, TypeEncrypted, TypeEncrypted, TypeEncrypted, TypeEncrypted}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("types (-want +got):\n%s", diff)
	}
}

// TestRFC8448WrongKeys decodes §3 with §5's key log: the records must stay
// encrypted and the transcript must say the key log does not fit.
func TestRFC8448WrongKeys(t *testing.T) {
	tr, _ := loadRFC8448(t, "sec3-Simple_1RTT_Handshake")
	_, other := loadRFC8448(t, "sec5-HelloRetryRequest_Handshake")
	got := decode(t, tr, Options{Keys: other})
	for _, e := range got.Events {
		if e.Decrypted {
			t.Fatalf("event %d decrypted with another connection's keys", e.Seq)
		}
	}
	if e := got.First(Server, TypeEncrypted); e == nil || !strings.Contains(e.Note, "no SERVER_HANDSHAKE_TRAFFIC_SECRET for client random") ||
		!strings.Contains(e.Note, "no line for this client random at all") {
		t.Errorf("want a note naming the missing label and client random, got %+v", e)
	}
}

// TestRFC8448WithoutEarlySecret decodes §4 (resumption with accepted 0-RTT
// data) with a key log that lacks CLIENT_EARLY_TRAFFIC_SECRET, as
// Wireshark's tls13-rfc8446-noearly.keys does: the 0-RTT record and
// EndOfEarlyData stay encrypted, each saying which label is missing and
// which the log has, and the client's Finished and everything after it
// decrypt with the handshake and application keys, as in tshark.
func TestRFC8448WithoutEarlySecret(t *testing.T) {
	dir := peertest.Corpus(t, "rfc8448")
	raw, err := os.ReadFile(filepath.Join(dir, "keylog", "rfc8448-sec4-Resumed_0RTT_Handshake.keys"))
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(line, "CLIENT_EARLY_TRAFFIC_SECRET ") {
			kept = append(kept, line)
		}
	}
	keys, err := keylog.Parse(strings.NewReader(strings.Join(kept, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := loadRFC8448(t, "sec4-Resumed_0RTT_Handshake")
	got := decode(t, tr, Options{Keys: keys, KeepData: true})
	var client []string
	for _, e := range got.Events {
		if e.From != Client || e.Record == 0 {
			continue
		}
		client = append(client, fmt.Sprintf("%s %v", e.Type, e.Decrypted))
		if e.Type == TypeEncrypted {
			for _, want := range []string{"0-RTT data", "no CLIENT_EARLY_TRAFFIC_SECRET for client random", "CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET"} {
				if !strings.Contains(e.Note, want) {
					t.Errorf("record %d: note %q lacks %q", e.Record, e.Note, want)
				}
			}
		}
	}
	want := []string{"client_hello false", "encrypted_record false", "encrypted_record false", "finished true", "application_data true", "alert true"}
	if diff := cmp.Diff(want, client); diff != "" {
		t.Errorf("client events (-want +got):\n%s", diff)
	}
	eoed := got.Events[slices.IndexFunc(got.Events, func(e Event) bool { return e.From == Client && e.Type == TypeEncrypted && e.Record == 3 })]
	if !strings.Contains(eoed.Note, "server accepted early data") || !strings.Contains(eoed.Note, "fits EndOfEarlyData") {
		t.Errorf("EndOfEarlyData record: %q", eoed.Note)
	}
}

// TestSplitAnywhere feeds §6 one byte at a time and in odd chunks: record and
// handshake reassembly must give the same transcript as whole records.
func TestSplitAnywhere(t *testing.T) {
	tr, keys := loadRFC8448(t, "sec6-Client_Authentication_Handshake")
	whole := decode(t, tr, Options{Keys: keys})
	for _, size := range []int{1, 3, 7, 100} {
		d := NewDecoder(Options{Keys: keys})
		for _, r := range tr.Records {
			b, _ := hex.DecodeString(r.Record)
			side := Client
			if r.Dir == "S" {
				side = Server
			}
			for len(b) > 0 {
				n := min(size, len(b))
				d.Data(side, time.Time{}, b[:n])
				b = b[n:]
			}
		}
		got := d.Transcript()
		var a, b []string
		for _, e := range whole.Events {
			a = append(a, string(e.From)+" "+e.Type)
		}
		for _, e := range got.Events {
			b = append(b, string(e.From)+" "+e.Type)
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("chunks of %d (-whole +split):\n%s", size, diff)
		}
	}
}
