package capture

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/transcript"
)

// streamDecryption is what one decoder made of one connection: how many
// records of each direction it decrypted, and the decrypted application
// data of each direction, by length and SHA-256. Index 0 is the client's
// direction, 1 the server's.
type streamDecryption struct {
	Transport string    `json:"transport"`
	Stream    int       `json:"stream"`
	Client    string    `json:"client"`
	Server    string    `json:"server"`
	Records   [2]int    `json:"decrypted_records"`
	Bytes     [2]int    `json:"app_data_bytes"`
	SHA256    [2]string `json:"app_data_sha256"`
}

func (s streamDecryption) key() string { return fmt.Sprintf("%s.stream %d", s.Transport, s.Stream) }

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// tsharkDecryption runs tshark over a capture with the given options (key
// material) and reports, per TCP or UDP stream with a decrypted record,
// what tshark decrypted. The oracle, in tshark's own words:
//
//   - records: tshark's TLS/DTLS debug log (-o tls.debug_file) names each
//     record it tries to decrypt ("decrypt_ssl3_record: app_data len N",
//     then "using client decoder" or "using server decoder"); the record
//     decrypted when a "Plaintext[N]" dump follows before the next record
//     and no "mac failed" does (0-RTT data is tried on a path of its own,
//     "Trying early data encryption");
//   - the stream and endpoints of each record: `-T fields -e frame.number
//     -e tcp.stream -e udp.stream`, the debug log naming each frame
//     ("dissect_ssl enter frame #N"); the client is the sender of the
//     ClientHello;
//   - TLS application data: `-z follow,tls,raw,N` per TCP stream (client
//     lines unindented, server lines indented, as tshark prints them);
//   - DTLS application data (tshark 4.0 has no DTLS follow): the plaintext
//     of each decrypted DTLS record of content type 23 from the debug log,
//     cut at the length tshark's MAC check names ("checking mac (len N").
func tsharkDecryption(t testing.TB, capture string, opts []string) []streamDecryption {
	t.Helper()
	dir := t.TempDir()
	tlsDebug, dtlsDebug := filepath.Join(dir, "tls.txt"), filepath.Join(dir, "dtls.txt")
	args := append([]string{"-r", capture}, opts...)
	args = append(args, "-o", "tls.debug_file:"+tlsDebug, "-o", "dtls.debug_file:"+dtlsDebug,
		"-T", "fields", "-E", "separator=|", "-e", "frame.number", "-e", "tcp.stream", "-e", "udp.stream",
		"-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "udp.srcport",
		"-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport", "-e", "udp.dstport",
		"-e", "tls.handshake.type", "-e", "dtls.handshake.type")
	out := runTshark(t, args)

	type frameInfo struct {
		key         string
		transport   string
		stream      int
		src, dst    string
		clientHello bool
	}
	frames := map[int]frameInfo{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "|")
		if len(f) < 13 {
			continue
		}
		n, _ := strconv.Atoi(f[0])
		fi := frameInfo{transport: "tcp"}
		sp, dp, st := f[5], f[9], f[1]
		if st == "" {
			fi.transport, sp, dp, st = "udp", f[6], f[10], f[2]
		}
		s, err := strconv.Atoi(strings.Split(st, ",")[0])
		if err != nil {
			continue
		}
		fi.stream = s
		src, dst := f[3], f[7]
		if src == "" {
			src, dst = f[4], f[8]
		}
		fi.src, fi.dst = joinHostPort(src, sp), joinHostPort(dst, dp)
		fi.key = fmt.Sprintf("%s.stream %d", fi.transport, s)
		fi.clientHello = slices.Contains(strings.Split(f[11]+","+f[12], ","), "1")
		frames[n] = fi
	}

	streams := map[string]*streamDecryption{}
	get := func(fi frameInfo) *streamDecryption {
		s := streams[fi.key]
		if s == nil {
			s = &streamDecryption{Transport: fi.transport, Stream: fi.stream}
			streams[fi.key] = s
		}
		return s
	}
	numbers := make([]int, 0, len(frames))
	for n := range frames {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	for _, n := range numbers {
		if fi := frames[n]; fi.clientHello {
			if s := get(fi); s.Client == "" {
				s.Client, s.Server = fi.src, fi.dst
			}
		}
	}
	dtlsData := map[string]*[2][]byte{}
	for _, log := range []string{tlsDebug, dtlsDebug} {
		for _, r := range debugRecords(t, log) {
			fi, ok := frames[r.frame]
			if !ok || !r.decrypted {
				continue
			}
			s := get(fi)
			s.Records[r.dir]++
			if fi.transport == "udp" && r.contentType == 23 {
				d := dtlsData[fi.key]
				if d == nil {
					d = &[2][]byte{}
					dtlsData[fi.key] = d
				}
				d[r.dir] = append(d[r.dir], r.plain...)
			}
		}
	}

	// Application data of the TCP streams with decrypted records, one
	// tshark run for all of them.
	var follow []string
	for _, s := range streams {
		if s.Transport == "tcp" && s.Records != [2]int{} {
			follow = append(follow, "-z", fmt.Sprintf("follow,tls,raw,%d", s.Stream))
		}
	}
	if len(follow) > 0 {
		out := runTshark(t, append(append([]string{"-r", capture, "-q"}, opts...), follow...))
		for stream, data := range parseFollow(t, out) {
			s := streams[fmt.Sprintf("tcp.stream %d", stream)]
			d := data.data
			if data.node0 == s.Server { // node 0 is the first sender; say it by roles
				d[0], d[1] = d[1], d[0]
			}
			for i := range 2 {
				s.Bytes[i], s.SHA256[i] = len(d[i]), sum(d[i])
			}
		}
	}
	var list []streamDecryption
	for k, s := range streams {
		if s.Records == [2]int{} {
			continue
		}
		if d := dtlsData[k]; d != nil {
			for i := range 2 {
				s.Bytes[i], s.SHA256[i] = len(d[i]), sum(d[i])
			}
		}
		if s.SHA256[0] == "" {
			s.SHA256 = [2]string{sum(nil), sum(nil)}
		}
		list = append(list, *s)
	}
	slices.SortFunc(list, func(a, b streamDecryption) int {
		if a.Transport != b.Transport {
			return strings.Compare(a.Transport, b.Transport)
		}
		return a.Stream - b.Stream
	})
	return list
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

func runTshark(t testing.TB, args []string) string {
	t.Helper()
	cmd := peertest.Tshark(t, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %q: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// debugRecord is one record tshark's debug log says it tried to decrypt.
type debugRecord struct {
	frame       int
	dir         int // 0 client, 1 server
	contentType int
	decrypted   bool
	plain       []byte // DTLS: the plaintext, cut to the data length
}

// debugRecords reads tshark's TLS or DTLS debug log.
func debugRecords(t testing.TB, path string) []debugRecord {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []debugRecord
	var cur *debugRecord
	frame, ctype := 0, 0
	inPlain, macFailed := false, false
	dataLen := -1
	flush := func() {
		if cur != nil {
			cur.decrypted = cur.decrypted && !macFailed
			if dataLen >= 0 && dataLen <= len(cur.plain) {
				cur.plain = cur.plain[:dataLen]
			}
			out = append(out, *cur)
		}
		cur, inPlain, macFailed, dataLen = nil, false, false, -1
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "dissect_ssl enter frame #"), strings.HasPrefix(line, "dissect_dtls enter frame #"):
			flush()
			frame, _ = strconv.Atoi(strings.Fields(line[strings.Index(line, "#")+1:])[0])
		case strings.HasPrefix(line, "dissect_ssl3_record: content_type "), strings.HasPrefix(line, "dissect_dtls_record: content_type "):
			ctype, _ = strconv.Atoi(strings.Fields(line)[2])
		case strings.HasPrefix(line, "decrypt_ssl3_record: app_data len"), strings.HasPrefix(line, "decrypt_dtls_record: app_data len"):
			flush()
			cur = &debugRecord{frame: frame, contentType: ctype}
		case strings.HasPrefix(line, "Trying early data encryption"):
			// TLS 1.3 0-RTT data, tried with the early secret on its own path.
			flush()
			cur = &debugRecord{frame: frame, contentType: ctype}
		case cur != nil && strings.HasSuffix(line, "using server decoder"):
			cur.dir = 1
		case cur != nil && strings.HasPrefix(line, "Plaintext["):
			cur.decrypted, inPlain = true, true
			continue
		case cur != nil && strings.HasPrefix(line, "ssl_decrypt_record: mac failed"),
			cur != nil && strings.Contains(line, "mac failed") && !strings.Contains(line, "mac ok"):
			macFailed = true
		case cur != nil && strings.HasPrefix(line, "checking mac (len "):
			dataLen, _ = strconv.Atoi(strings.TrimSuffix(strings.Fields(line)[3], ","))
		}
		if inPlain {
			if !strings.HasPrefix(line, "| ") {
				inPlain = false
				continue
			}
			hexPart := line[2 : strings.Index(line[2:], "|")+2]
			b, err := hex.DecodeString(strings.ReplaceAll(hexPart, " ", ""))
			if err != nil {
				t.Fatalf("%s: bad plaintext dump line %q", path, line)
			}
			cur.plain = append(cur.plain, b...)
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// followed is one `-z follow,tls,raw` block: the first sender's endpoint
// and the data of each node.
type followed struct {
	node0 string
	data  [2][]byte
}

// parseFollow reads tshark's follow,tls,raw output, by stream.
func parseFollow(t testing.TB, out string) map[int]followed {
	t.Helper()
	res := map[int]followed{}
	stream := -1
	var cur followed
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "Filter: tcp.stream eq "):
			stream, _ = strconv.Atoi(strings.TrimPrefix(line, "Filter: tcp.stream eq "))
			cur = followed{}
		case strings.HasPrefix(line, "Node 0: "):
			cur.node0 = strings.TrimPrefix(line, "Node 0: ")
		case strings.HasPrefix(line, "Node 1: "), strings.HasPrefix(line, "Follow: "):
		case strings.HasPrefix(line, "====="):
			if stream >= 0 {
				res[stream] = cur
				stream = -1
			}
		case stream >= 0 && line != "":
			node := 0
			if strings.HasPrefix(line, "\t") {
				node = 1
			}
			b, err := hex.DecodeString(strings.TrimSpace(line))
			if err != nil {
				t.Fatalf("follow: bad line %q", line)
			}
			cur.data[node] = append(cur.data[node], b...)
		}
	}
	return res
}

// tlskitDecryption runs Analyze over a capture and reports, per
// connection with a decrypted record, the same figures as
// tsharkDecryption.
func tlskitDecryption(t testing.TB, path string, opts Options) []streamDecryption {
	t.Helper()
	data := map[string]*[2][]byte{}
	ckey := func(udp bool, index int) string { return streamName(udp, index) }
	opts.OnData = func(c *Conn, from transcript.Side, _ time.Time, b []byte) {
		k := ckey(c.UDP, c.Index)
		d := data[k]
		if d == nil {
			d = &[2][]byte{}
			data[k] = d
		}
		i := 0
		if from == transcript.Server {
			i = 1
		}
		d[i] = append(d[i], b...)
	}
	var list []streamDecryption
	opts.OnConnection = func(c *Connection) error {
		s := streamDecryption{Transport: c.Transport, Stream: c.Index, Client: c.Client, Server: c.Server}
		seen := map[[2]int]bool{}
		for _, e := range c.Transcript {
			if !e.Decrypted || e.Record == 0 {
				continue
			}
			i := 0
			if e.From == transcript.Server {
				i = 1
			}
			// One record may carry several messages; a merged
			// application data event covers Records records from Record.
			for r := e.Record; r < e.Record+max(e.Records, 1); r++ {
				if !seen[[2]int{i, r}] {
					seen[[2]int{i, r}] = true
					s.Records[i]++
				}
			}
		}
		if s.Records == [2]int{} {
			return nil
		}
		var d [2][]byte
		if p := data[ckey(c.Transport == "udp", c.Index)]; p != nil {
			d = *p
		}
		for i := range 2 {
			s.Bytes[i], s.SHA256[i] = len(d[i]), sum(d[i])
		}
		list = append(list, s)
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := Analyze(f, opts); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(list, func(a, b streamDecryption) int {
		if a.Transport != b.Transport {
			return strings.Compare(a.Transport, b.Transport)
		}
		return a.Stream - b.Stream
	})
	return list
}
