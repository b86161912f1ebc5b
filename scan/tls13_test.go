package scan

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/tlskit/tlskit/internal/keysched"
	"github.com/tlskit/tlskit/internal/wire"
)

// rfc8448Trace is the subset of the RFC 8448 traces (testdata/, copied
// from internal/keysched/testdata) this test reads.
type rfc8448Trace struct {
	Records []struct {
		Dir    string `json:"dir"`
		Field  string `json:"field"`
		Record string `json:"record"`
	} `json:"records"`
	EarlySecret      string `json:"early_secret"`
	SharedSecret     string `json:"shared_secret"`
	HandshakeSecret  string `json:"handshake_secret"`
	ClientHS         string `json:"client_handshake_traffic_secret"`
	ServerHS         string `json:"server_handshake_traffic_secret"`
	MasterSecret     string `json:"master_secret"`
	ClientAP         string `json:"client_application_traffic_secret_0"`
	ServerAP         string `json:"server_application_traffic_secret_0"`
	ResumptionMaster string `json:"resumption_master_secret"`
	PSK              string `json:"psk"`
}

func loadTrace(t *testing.T, name string) (rfc8448Trace, map[string][]byte) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var tr rfc8448Trace
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	recs := map[string][]byte{}
	for _, r := range tr.Records {
		if _, ok := recs[r.Field]; !ok {
			recs[r.Field] = unhex(t, r.Record)
		}
	}
	return tr, recs
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func check(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if hex.EncodeToString(got) != want {
		t.Errorf("%s:\n got %x\nwant %s", what, got, want)
	}
}

// open decrypts one TLS 1.3 record and returns its handshake messages.
func open(t *testing.T, secret []byte, rec []byte) []byte {
	t.Helper()
	o, err := keysched.NewTLS13Opener(0x1301, secret)
	if err != nil {
		t.Fatal(err)
	}
	pt, typ, err := o.Open(rec[:5], rec[5:])
	if err != nil || typ != 22 {
		t.Fatalf("open: type %d, %v", typ, err)
	}
	return append([]byte(nil), pt...)
}

// TestSched13RFC8448 runs the client's key schedule on RFC 8448's
// handshakes and checks every secret against the RFC, the Finished values
// against the ones the RFC's peers sent, the resumption PSK of §3 against
// the PSK §4 resumes with, and the binder against §4's ClientHello.
func TestSched13RFC8448(t *testing.T) {
	tr, recs := loadTrace(t, "rfc8448-sec3-Simple_1RTT_Handshake.json")
	ch, sh := recs["Record_ClientHello_1"][5:], recs["Record_ServerHello"][5:]
	k, err := newSched13(0x1301, nil)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "early secret", k.early, tr.EarlySecret)
	msgs := append(append([]byte(nil), ch...), sh...)
	if err := k.handshake(unhex(t, tr.SharedSecret), msgs); err != nil {
		t.Fatal(err)
	}
	check(t, "handshake secret", k.hs, tr.HandshakeSecret)
	check(t, "c hs traffic", k.cHS, tr.ClientHS)
	check(t, "s hs traffic", k.sHS, tr.ServerHS)
	flight := open(t, k.sHS, recs["Record_ServerHandshakeMessages"])
	fin := flight[len(flight)-4-32:]
	if want := k.finished(k.sHS, append(append([]byte(nil), msgs...), flight[:len(flight)-len(fin)]...)); !bytes.Equal(fin[4:], want) {
		t.Errorf("server Finished: computed %x, the RFC's server sent %x", want, fin[4:])
	}
	msgs = append(msgs, flight...)
	if err := k.application(msgs); err != nil {
		t.Fatal(err)
	}
	check(t, "master secret", k.master, tr.MasterSecret)
	check(t, "c ap traffic", k.cAP, tr.ClientAP)
	check(t, "s ap traffic", k.sAP, tr.ServerAP)
	cfin := open(t, k.cHS, recs["Record_ClientFinished"])
	if want := k.finished(k.cHS, msgs); !bytes.Equal(cfin[4:], want) {
		t.Errorf("client Finished: computed %x, the RFC's client sent %x", want, cfin[4:])
	}
	msgs = append(msgs, cfin...)
	tr4, recs4 := loadTrace(t, "rfc8448-sec4-Resumed_0RTT_Handshake.json")
	psk := k.resumptionPSK(msgs, []byte{0, 0})
	check(t, "resumption PSK (§3 ticket, nonce 0000) = §4's PSK", psk, tr4.PSK)

	k4, err := newSched13(0x1301, psk)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "§4 early secret", k4.early, tr4.EarlySecret)
	ch4 := recs4["Record_ClientHello_1"][5:]
	m, err := wire.ParseMessage(wire.TypeClientHello, ch4[4:], wire.Context{})
	if err != nil {
		t.Fatal(err)
	}
	hello := m.(*wire.ClientHello)
	binder := k4.binder(hello.MarshalWithoutBinders())
	if got := hello.Extensions.Find(wire.ExtPreSharedKey).Parsed.(wire.OfferedPSKs).Binders[0]; !bytes.Equal(got, binder) {
		t.Errorf("binder: computed %x, the RFC's ClientHello has %x", binder, got)
	}
	msgs4 := append(append([]byte(nil), ch4...), recs4["Record_ServerHello"][5:]...)
	if err := k4.handshake(unhex(t, tr4.SharedSecret), msgs4); err != nil {
		t.Fatal(err)
	}
	check(t, "§4 handshake secret", k4.hs, tr4.HandshakeSecret)
	check(t, "§4 c hs traffic", k4.cHS, tr4.ClientHS)
	check(t, "§4 s hs traffic", k4.sHS, tr4.ServerHS)
}
