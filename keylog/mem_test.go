package keylog

import (
	"bufio"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// writeKeyLog writes a key log of about size bytes shaped like a browser's
// SSLKEYLOGFILE: TLS 1.3 connections (five secrets each, SHA-256 and
// SHA-384 suites) and one TLS 1.2 CLIENT_RANDOM line in six.
func writeKeyLog(tb testing.TB, w io.Writer, size int) {
	tb.Helper()
	bw := bufio.NewWriter(w)
	cr := make([]byte, 32)
	sec := make([]byte, 48)
	n, conn := 0, 0
	for n < size {
		rand.Read(cr)
		rand.Read(sec)
		if conn%6 == 5 {
			m, _ := bw.WriteString(Format(ClientRandom, cr, sec))
			n += m
		} else {
			l := 32
			if conn%2 == 0 {
				l = 48
			}
			for _, label := range []string{ClientHandshakeTrafficSecret, ServerHandshakeTrafficSecret, ClientTrafficSecret0, ServerTrafficSecret0, ExporterSecret} {
				m, _ := bw.WriteString(Format(label, cr, sec[:l]))
				n += m
			}
		}
		conn++
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// TestParseMemory: a parsed key log holds its secrets compactly; the live
// heap after parsing a 20 MB log stays under half the log's size (it was
// about 4 times the size when every line kept its strings). README: Speed.
func TestParseMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 20 MB key log")
	}
	const size = 20 << 20
	p := filepath.Join(t.TempDir(), "keys.log")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	writeKeyLog(t, f, size)
	f.Close()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	l, err := ParseFile(p)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d secrets, %d client randoms: live heap %.1f MB for a %.1f MB log (%.2f×)", l.Len(), len(l.ClientRandoms()), float64(live)/1e6, float64(size)/1e6, float64(live)/size)
	if live > size/2 {
		t.Errorf("live heap %d bytes for a %d-byte key log, want under half", live, size)
	}
	runtime.KeepAlive(l)
}

// BenchmarkParse100MB parses a generated 100 MB key log and reports the
// live heap it leaves per byte of log (heap-x) and the peak heap
// (peak-x, from the runtime's total heap size while parsing).
func BenchmarkParse100MB(b *testing.B) {
	const size = 100 << 20
	p := filepath.Join(b.TempDir(), "keys.log")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	writeKeyLog(b, f, size)
	f.Close()
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		l, err := ParseFile(p)
		if err != nil {
			b.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		peak := after.HeapSys - before.HeapReleased
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/size, "heap-x")
		b.ReportMetric(float64(peak)/size, "heapsys-x")
		runtime.KeepAlive(l)
	}
}

// TestOverlay: an overlay reads through to its base and never writes to
// it; its own secrets win.
func TestOverlay(t *testing.T) {
	base := new(Log)
	cr := make([]byte, 32)
	cr[0] = 1
	base.Add(ClientRandom, cr, make([]byte, 48))
	base.put(entryKey{rsaSessionKey, "sid"}, []byte("ms-base"))
	base.SetPSK([]byte("psk"))
	o := NewOverlay(base)
	if s, ok := o.Secret(ClientRandom, cr); !ok || len(s) != 48 {
		t.Errorf("overlay does not read through: %x %v", s, ok)
	}
	if ms, ok := o.MasterSecretForSession([]byte("sid")); !ok || string(ms) != "ms-base" {
		t.Errorf("session through the overlay: %q %v", ms, ok)
	}
	if _, ok := o.PSKPreMaster(); !ok {
		t.Error("PSK through the overlay")
	}
	secret := make([]byte, 48)
	secret[0] = 9
	o.Add(ClientRandom, cr, secret)
	o.AddSession([]byte("sid2"), []byte("ms-overlay"))
	o.AddTicket([]byte("ticket"), []byte("ms-ticket"))
	if s, _ := o.Secret(ClientRandom, cr); s[0] != 9 {
		t.Errorf("the overlay's own secret does not win: %x", s)
	}
	if s, _ := base.Secret(ClientRandom, cr); s[0] != 0 {
		t.Errorf("the base was modified: %x", s)
	}
	if _, ok := base.MasterSecretForSession([]byte("sid2")); ok {
		t.Error("a session added to the overlay reached the base")
	}
	if _, ok := base.MasterSecretForTicket([]byte("ticket")); ok {
		t.Error("a ticket added to the overlay reached the base")
	}
	if got := o.ClientRandoms(); len(got) != 1 {
		t.Errorf("ClientRandoms %d, want 1 (no duplicate)", len(got))
	}
	if got := o.Labels(cr); len(got) != 1 || got[0] != ClientRandom {
		t.Errorf("Labels %q", got)
	}
}

// TestLongSecret: secrets longer than the inline 48 bytes (a
// PMS_CLIENT_RANDOM of a 2048-bit DH group) and replacement by a shorter
// one.
func TestLongSecret(t *testing.T) {
	l := new(Log)
	cr := make([]byte, 32)
	long := make([]byte, 256)
	long[255] = 7
	l.Add(PMSClientRandom, cr, long)
	if s, ok := l.Secret(PMSClientRandom, cr); !ok || len(s) != 256 || s[255] != 7 {
		t.Fatalf("long secret: %d bytes, %v", len(s), ok)
	}
	l.Add(PMSClientRandom, cr, []byte{1, 2, 3})
	if s, _ := l.Secret(PMSClientRandom, cr); len(s) != 3 {
		t.Errorf("replaced by a short secret: %x", s)
	}
	if l.Len() != 1 {
		t.Errorf("Len %d", l.Len())
	}
}
