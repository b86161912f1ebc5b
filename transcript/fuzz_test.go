package transcript

import (
	"encoding/binary"
	"encoding/hex"
	"testing"
	"time"

	"github.com/tlskit/tlskit/keylog"
)

// FuzzDecoder feeds arbitrary bytes to a decoder as a conversation: the input
// is a sequence of chunks, each a control byte (bit 0: the server sent it;
// bit 1: the bytes were lost, a capture's gap), a 2-byte length and the
// bytes. With the RFC 8448 §3 secrets loaded, decryption paths are reached
// too. The decoder must never panic, and every event must be well formed.
func FuzzDecoder(f *testing.F) {
	keys := &keylog.Log{}
	cr, _ := hex.DecodeString("cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7")
	for _, l := range []struct{ label, secret string }{
		{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21"},
		{"SERVER_HANDSHAKE_TRAFFIC_SECRET", "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"},
		{"CLIENT_TRAFFIC_SECRET_0", "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5"},
		{"SERVER_TRAFFIC_SECRET_0", "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643"},
		{"CLIENT_RANDOM", "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d04029191dc826e93606aa6fdc0aadc1"},
	} {
		s, _ := hex.DecodeString(l.secret)
		keys.Add(l.label, cr, s)
	}
	// Seeds: the RFC 8448 §3 conversation when the corpus is present, and a
	// few hand-made starts.
	f.Add([]byte{0, 0, 5, 0x16, 0x03, 0x01, 0x00, 0x00})
	f.Add([]byte("\x01\x00\x10HTTP/1.1 400 Bad"))
	f.Add([]byte{0, 0, 7, 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28})
	if hello, err := hex.DecodeString(sslv2Hello); err == nil { // an SSL 2.0-format ClientHello, in two chunks
		f.Add(append(append([]byte{0, 0, 40}, hello[:40]...), append([]byte{0, 0, byte(len(hello) - 40)}, hello[40:]...)...))
	}
	// testdata/fuzz/FuzzDecoder holds the RFC 8448 §3 and §4 conversations
	// in this chunk format.
	f.Fuzz(func(t *testing.T, in []byte) {
		d := NewDecoder(Options{Keys: keys, KeepData: true, MaxData: 64})
		at := time.Unix(0, 0)
		for len(in) >= 3 {
			side, in0 := Client, in[0]
			if in0&1 == 1 {
				side = Server
			}
			n := int(binary.BigEndian.Uint16(in[1:3]))
			in = in[3:]
			n = min(n, len(in))
			switch {
			case n == 0:
				d.Close(side, at, CloseFIN)
			case in0&2 != 0:
				d.Gap(side, at, n) // bytes lost by the capture
			default:
				d.Data(side, at, in[:n])
			}
			in = in[n:]
		}
		tr := d.Transcript()
		for i, e := range tr.Events {
			if e.Seq != i+1 || e.Type == "" || (e.From != Client && e.From != Server) {
				t.Fatalf("malformed event %d: %+v", i, e)
			}
			if e.Decrypted && !e.Encrypted {
				t.Fatalf("event %d decrypted but not encrypted", i)
			}
			if len(e.Data) > 64 {
				t.Fatalf("kept %d bytes of data, more than MaxData", len(e.Data))
			}
		}
	})
}
