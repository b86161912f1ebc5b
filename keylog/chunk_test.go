package keylog

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// TestChunkGrowth adds secrets across the growth of the first chunk (8, 16,
// … 1024 entries) and into later chunks, updating some on the way, and
// reads every one back.
func TestChunkGrowth(t *testing.T) {
	var l Log
	cr := func(i int) []byte {
		b := make([]byte, 32)
		binary.BigEndian.PutUint32(b, uint32(i))
		return b
	}
	secret := func(i, gen int) []byte { return bytes.Repeat([]byte{byte(i), byte(i >> 8), byte(gen)}, 16) }
	const n = 1500
	for i := range n {
		l.Add("CLIENT_HANDSHAKE_TRAFFIC_SECRET", cr(i), secret(i, 0))
		l.Add("SERVER_HANDSHAKE_TRAFFIC_SECRET", cr(i), secret(i, 1))
		if i%7 == 0 { // an update of an earlier entry
			l.Add("CLIENT_HANDSHAKE_TRAFFIC_SECRET", cr(i/2), secret(i/2, 2))
		}
	}
	for i := range n {
		want := secret(i, 0)
		for j := 0; j < n; j += 7 {
			if j/2 == i {
				want = secret(i, 2)
			}
		}
		if got, ok := l.Secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET", cr(i)); !ok || !bytes.Equal(got, want) {
			t.Fatalf("client secret %d: %x %v", i, got, ok)
		}
		if got, ok := l.Secret("SERVER_HANDSHAKE_TRAFFIC_SECRET", cr(i)); !ok || !bytes.Equal(got, secret(i, 1)) {
			t.Fatalf("server secret %d: %x %v", i, got, ok)
		}
	}
	if l.Len() != 2*n {
		t.Errorf("Len %d, want %d", l.Len(), 2*n)
	}
}
