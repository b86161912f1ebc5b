package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/transcript"
)

func readCorpus(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(peertest.Corpus(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTruncated cuts a capture at every offset: no panic, a ReadError that
// names the offset unless the cut falls on a packet boundary, and the
// connections before the cut still reported.
func TestTruncated(t *testing.T) {
	for _, rel := range []string{"wireshark/captures/tls12-dsb.pcapng", "wireshark/captures/tls13-rfc8446.pcap"} {
		full := readCorpus(t, rel)
		for cut := 0; cut < len(full); cut += 53 {
			res := analyzeReader(t, bytes.NewReader(full[:cut]), Options{})
			if res.err == nil {
				continue // a cut on a block boundary is a shorter, valid file
			}
			var re *ReadError
			if !errors.As(res.err, &re) && !errors.Is(res.err, ErrNotCapture) {
				t.Fatalf("%s cut at %d: %v is neither a ReadError nor ErrNotCapture", rel, cut, res.err)
			}
			if re != nil && (re.Offset > int64(cut) || !strings.Contains(re.Error(), "truncated")) {
				t.Fatalf("%s cut at %d: %v", rel, cut, re)
			}
		}
		// Cut halfway: the first connection is still analysed.
		res := analyzeReader(t, bytes.NewReader(full[:len(full)*3/4]), Options{})
		if res.err == nil || len(res.conns) == 0 || len(res.sum.Problems) == 0 {
			t.Errorf("%s cut at 3/4: err %v, %d connections, problems %q", rel, res.err, len(res.conns), res.sum.Problems)
		}
	}
}

// TestGarbage: not a capture at all.
func TestGarbage(t *testing.T) {
	for _, in := range []string{"", "GET / HTTP/1.1\r\n", "\x1f\x8bnot gzip", "\x0a\x0d\x0d\x0a"} {
		_, err := Analyze(strings.NewReader(in), Options{})
		if err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	_, err := Analyze(strings.NewReader("PK\x03\x04 a zip file"), Options{})
	if !errors.Is(err, ErrNotCapture) || !strings.Contains(err.Error(), "50 4b 03 04") {
		t.Errorf("zip: %v", err)
	}
}

// TestBrokenBlockLength: a pcapng block whose length is impossible.
func TestBrokenBlockLength(t *testing.T) {
	full := readCorpus(t, "wireshark/captures/tls12-dsb.pcapng")
	b := bytes.Clone(full)
	// The SHB is first; break the length of the block after it.
	shb := binary.LittleEndian.Uint32(b[4:])
	binary.LittleEndian.PutUint32(b[shb+4:], 0xfffffff0)
	_, err := Analyze(bytes.NewReader(b), Options{})
	var re *ReadError
	if !errors.As(err, &re) || re.Offset != int64(shb) || !strings.Contains(err.Error(), "impossible") {
		t.Errorf("err %v, want a ReadError at %d", err, shb)
	}
	// A block whose trailing length disagrees.
	b = bytes.Clone(full)
	binary.LittleEndian.PutUint32(b[shb-4:], shb+4)
	if _, err := Analyze(bytes.NewReader(b), Options{}); err == nil || !strings.Contains(err.Error(), "trailing copy") {
		t.Errorf("err %v", err)
	}
}

// TestKeyLogOfAnotherCapture says once that the secrets match nothing.
func TestKeyLogOfAnotherCapture(t *testing.T) {
	dir := peertest.Corpus(t, "wireshark")
	res := analyze(t, filepath.Join(dir, "captures/tls13-rfc8446.pcap"), filepath.Join(dir, "keys/tls12-chacha20poly1305.keys"), Options{})
	if res.sum.Keyed != 0 {
		t.Errorf("keyed %d", res.sum.Keyed)
	}
	n := 0
	for _, p := range res.sum.Problems {
		if strings.Contains(p, "no secrets for any of the 2 TLS connections") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("problems %q: want the key log mismatch said once", res.sum.Problems)
	}
}

// TestDSBWithBadLines: a DSB holding a bad line is reported with its
// offset and line number; its good lines still decrypt.
func TestDSBWithBadLines(t *testing.T) {
	var buf bytes.Buffer
	le := binary.LittleEndian
	block := func(typ uint32, body []byte) {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		n := uint32(12 + len(body))
		binary.Write(&buf, le, typ)
		binary.Write(&buf, le, n)
		buf.Write(body)
		binary.Write(&buf, le, n)
	}
	shb := []byte{0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	block(ngSHB, shb)
	keys := readCorpus(t, "wireshark/keys/dhe1_keylog.dat")
	text := append([]byte("CLIENT_RANDOM nothex\n"), keys...)
	dsb := le.AppendUint32(nil, dsbTLSKeyLog)
	dsb = le.AppendUint32(dsb, uint32(len(text)))
	block(ngDSB, append(dsb, text...))
	// Then the packets of dhe1 (a pcapng): everything after its SHB.
	var src bytes.Buffer
	// Rather than re-encode packets, append dhe1's IDB and EPBs verbatim.
	raw := gunzip(t, readCorpus(t, "wireshark/captures/dhe1.pcapng.gz"))
	src.Write(raw[le.Uint32(raw[4:]):])
	buf.Write(src.Bytes())

	res := analyzeReader(t, bytes.NewReader(buf.Bytes()), Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.sum.SecretsBlocks != 1 || len(res.sum.Problems) != 1 || !strings.Contains(res.sum.Problems[0], "line 1") || !strings.Contains(res.sum.Problems[0], "byte 28") {
		t.Errorf("DSBs %d, problems %q", res.sum.SecretsBlocks, res.sum.Problems)
	}
	if !bytes.Contains(res.allData(), []byte("GET /test")) {
		t.Error("the DSB's good line did not decrypt")
	}
}

// TestGapIsReported: a lost segment becomes a gap event with the number of
// missing bytes; the connection is still reported with its close.
func TestGapIsReported(t *testing.T) {
	var pk packets
	pk.syn()
	hello := tlsRecord(22, append([]byte{1, 0, 0, 40, 3, 3}, make([]byte, 40-2)...))
	pk.data(true, hello)
	pk.data(false, tlsRecord(23, make([]byte, 100)))
	pk.skip(false, 500) // lost
	pk.data(false, tlsRecord(23, make([]byte, 100)))
	pk.fin(true)
	pk.fin(false)
	res := analyzeReader(t, bytes.NewReader(pk.pcap()), Options{})
	if len(res.conns) != 1 {
		t.Fatalf("%d connections", len(res.conns))
	}
	c := res.conns[0]
	var gap *transcript.Event
	for i := range c.Transcript {
		if c.Transcript[i].Type == transcript.TypeGap {
			gap = &c.Transcript[i]
		}
	}
	if gap == nil || gap.Bytes != 500 || gap.From != transcript.Server {
		t.Errorf("gap %+v", gap)
	}
	if c.ClosedBy == nil || c.ClosedBy.By != transcript.Client || c.Client != "10.0.0.1:40000" {
		t.Errorf("closed by %+v, client %s", c.ClosedBy, c.Client)
	}
}

// TestMidStreamResync: a connection captured from the middle of a record
// is picked up at the next record boundary, and the problems say so.
func TestMidStreamResync(t *testing.T) {
	var pk packets
	rec := tlsRecord(23, make([]byte, 64))
	pk.data(false, append(bytes.Repeat([]byte{0xaa}, 37), rec...)) // tail of a record, then a whole one
	pk.data(false, rec)
	pk.data(true, rec)
	res := analyzeReader(t, bytes.NewReader(pk.pcap()), Options{})
	if len(res.conns) != 1 {
		t.Fatalf("%d connections", len(res.conns))
	}
	c := res.conns[0]
	if c.Server != "10.0.0.2:443" {
		t.Errorf("server %s", c.Server)
	}
	if !strings.Contains(strings.Join(c.Problems, "\n"), "first 37 bytes") {
		t.Errorf("problems %q", c.Problems)
	}
	n := 0
	for _, e := range c.Transcript {
		switch {
		case e.Records > 0: // merged application data
			n += e.Records
		case e.Record > 0: // one record: protected, since a side sent application data before any hello
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d records, want 3: %+v", n, c.Transcript)
	}
}

// TestNonTLSIgnored: a plain HTTP flow is counted, not reported.
func TestNonTLSIgnored(t *testing.T) {
	var pk packets
	pk.syn()
	pk.data(true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	pk.data(false, []byte("HTTP/1.1 200 OK\r\n\r\n"))
	res := analyzeReader(t, bytes.NewReader(pk.pcap()), Options{})
	if len(res.conns) != 0 || res.sum.Ignored != 1 {
		t.Errorf("%d connections, %d ignored", len(res.conns), res.sum.Ignored)
	}
}

// TestKeysNotModified: DSB secrets go into a copy of Options.Keys.
func TestKeysNotModified(t *testing.T) {
	l := &keylog.Log{}
	analyzeReader(t, bytes.NewReader(readCorpus(t, "wireshark/captures/tls12-dsb.pcapng")), Options{Keys: l})
	if l.Len() != 0 {
		t.Errorf("Options.Keys grew to %d secrets", l.Len())
	}
}

// packets builds a small pcap of one IPv4 TCP connection 10.0.0.1:40000 →
// 10.0.0.2:443.
type packets struct {
	frames [][]byte
	seq    [2]uint32 // next sequence number: 0 client, 1 server
	t      time.Time
}

func (p *packets) frame(fromClient bool, flags byte, payload []byte) {
	d := 1
	src, dst := []byte{10, 0, 0, 2}, []byte{10, 0, 0, 1}
	sp, dp := uint16(443), uint16(40000)
	if fromClient {
		d = 0
		src, dst, sp, dp = dst, src, dp, sp
	}
	if p.seq[0] == 0 && p.seq[1] == 0 {
		p.seq = [2]uint32{1000, 5000}
	}
	tcp := make([]byte, 20)
	binary.BigEndian.PutUint16(tcp[0:], sp)
	binary.BigEndian.PutUint16(tcp[2:], dp)
	binary.BigEndian.PutUint32(tcp[4:], p.seq[d])
	binary.BigEndian.PutUint32(tcp[8:], p.seq[1-d])
	tcp[12] = 5 << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	ip := make([]byte, 20)
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+20+len(payload)))
	ip[8], ip[9] = 64, 6
	copy(ip[12:], src)
	copy(ip[16:], dst)
	f := append(append(ip, tcp...), payload...)
	p.frames = append(p.frames, f)
	p.seq[d] += uint32(len(payload))
	if flags&0x03 != 0 { // SYN or FIN take a sequence number
		p.seq[d]++
	}
}

func (p *packets) syn() {
	p.frame(true, 0x02, nil)
	p.frame(false, 0x12, nil)
	p.frame(true, 0x10, nil)
}
func (p *packets) data(fromClient bool, b []byte) { p.frame(fromClient, 0x18, b) }
func (p *packets) fin(fromClient bool)            { p.frame(fromClient, 0x11, nil) }
func (p *packets) skip(fromClient bool, n int) {
	d := 1
	if fromClient {
		d = 0
	}
	p.seq[d] += uint32(n)
}

// pcap encodes the frames as a raw-IPv4 pcap file.
func (p *packets) pcap() []byte {
	le := binary.LittleEndian
	out := le.AppendUint32(nil, 0xa1b2c3d4)
	out = le.AppendUint16(out, 2)
	out = le.AppendUint16(out, 4)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint32(out, 0)
	out = le.AppendUint32(out, 65535)
	out = le.AppendUint32(out, uint32(layers.LinkTypeRaw))
	for i, f := range p.frames {
		out = le.AppendUint32(out, uint32(1700000000+i))
		out = le.AppendUint32(out, 0)
		out = le.AppendUint32(out, uint32(len(f)))
		out = le.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

func tlsRecord(typ byte, body []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
