package capture

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlskit/tlskit/internal/peertest"
)

// pcapBuilder writes a synthetic Ethernet capture, one packet per call.
type pcapBuilder struct {
	t   testing.TB
	buf bytes.Buffer
	w   *pcapgo.Writer
	n   int
}

func newPcapBuilder(t testing.TB) *pcapBuilder {
	b := &pcapBuilder{t: t}
	b.w = pcapgo.NewWriter(&b.buf)
	if err := b.w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	return b
}

// ip returns the IP layer from src to dst (IPv6 when src has a colon).
func ipLayer(src, dst string, proto layers.IPProtocol) gopacket.SerializableLayer {
	if strings.Contains(src, ":") {
		return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
	}
	return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

// serialize builds the bytes of layers, with lengths and checksums.
func (b *pcapBuilder) serialize(ls ...gopacket.SerializableLayer) []byte {
	b.t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		b.t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

// frame writes an IP packet (its bytes) inside an Ethernet frame.
func (b *pcapBuilder) frame(ipPacket []byte, v6 bool) {
	b.t.Helper()
	et := layers.EthernetTypeIPv4
	if v6 {
		et = layers.EthernetTypeIPv6
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: et}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{}, eth, gopacket.Payload(ipPacket)); err != nil {
		b.t.Fatal(err)
	}
	b.n++
	ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, 0).Add(time.Duration(b.n) * time.Millisecond), CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}
	if err := b.w.WritePacket(ci, buf.Bytes()); err != nil {
		b.t.Fatal(err)
	}
}

// tcpPacket returns an IP packet carrying one TCP segment; flags is a
// string of S, A, F, R, P.
func (b *pcapBuilder) tcpPacket(src, dst string, sp, dp uint16, seq, ack uint32, flags string, payload []byte) []byte {
	ip := ipLayer(src, dst, layers.IPProtocolTCP)
	t := &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), Seq: seq, Ack: ack, Window: 8192,
		SYN: strings.Contains(flags, "S"), ACK: strings.Contains(flags, "A"), FIN: strings.Contains(flags, "F"),
		RST: strings.Contains(flags, "R"), PSH: strings.Contains(flags, "P")}
	t.SetNetworkLayerForChecksum(ip.(gopacket.NetworkLayer))
	return b.serialize(ip, t, gopacket.Payload(payload))
}

func (b *pcapBuilder) tcp(src, dst string, sp, dp uint16, seq, ack uint32, flags string, payload []byte) {
	b.frame(b.tcpPacket(src, dst, sp, dp, seq, ack, flags, payload), strings.Contains(src, ":"))
}

func (b *pcapBuilder) udpPacket(src, dst string, sp, dp uint16, payload []byte) []byte {
	ip := ipLayer(src, dst, layers.IPProtocolUDP)
	u := &layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}
	u.SetNetworkLayerForChecksum(ip.(gopacket.NetworkLayer))
	return b.serialize(ip, u, gopacket.Payload(payload))
}

func (b *pcapBuilder) udp(src, dst string, sp, dp uint16, payload []byte) {
	b.frame(b.udpPacket(src, dst, sp, dp, payload), strings.Contains(src, ":"))
}

// icmpError writes an ICMP destination unreachable from src to dst quoting
// the IP packet quote.
func (b *pcapBuilder) icmpError(src, dst string, quote []byte) {
	v6 := strings.Contains(src, ":")
	if v6 {
		ip := ipLayer(src, dst, layers.IPProtocolICMPv6)
		ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(1, 4)}
		ic.SetNetworkLayerForChecksum(ip.(gopacket.NetworkLayer))
		b.frame(b.serialize(ip, ic, gopacket.Payload(append(make([]byte, 4), quote...))), true)
		return
	}
	ip := ipLayer(src, dst, layers.IPProtocolICMPv4)
	b.frame(b.serialize(ip, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}, gopacket.Payload(quote)), false)
}

// tlsConn writes a TCP connection from client:cport to server:sport whose
// client sends hello (a TLS ClientHello, or anything) and, when close, ends
// with FIN both ways.
func (b *pcapBuilder) tlsConn(client, server string, cport, sport uint16, isn uint32, hello []byte, close string) {
	c, s := client, server
	b.tcp(c, s, cport, sport, isn, 0, "S", nil)
	b.tcp(s, c, sport, cport, 9000, isn+1, "SA", nil)
	b.tcp(c, s, cport, sport, isn+1, 9001, "A", nil)
	b.tcp(c, s, cport, sport, isn+1, 9001, "PA", hello)
	end := isn + 1 + uint32(len(hello))
	switch close {
	case "fin":
		b.tcp(c, s, cport, sport, end, 9001, "FA", nil)
		b.tcp(s, c, sport, cport, 9001, end+1, "FA", nil)
		b.tcp(c, s, cport, sport, end+1, 9002, "A", nil)
	case "rst":
		b.tcp(s, c, sport, cport, 9001, end, "R", nil)
	}
}

// clientHello returns the first flight of a crypto/tls client.
func clientHello(t testing.TB) []byte {
	c, s := net.Pipe()
	defer s.Close()
	go tls.Client(c, &tls.Config{ServerName: "streams.test", InsecureSkipVerify: true}).Handshake()
	buf := make([]byte, 4096)
	n, err := s.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	return buf[:n]
}

// dtlsHello is a minimal DTLS 1.2 ClientHello record.
func dtlsHello() []byte {
	body := []byte{0xfe, 0xfd}
	body = append(body, make([]byte, 32)...)          // random
	body = append(body, 0, 0, 0, 2, 0xc0, 0x2b, 1, 0) // session id, cookie, one suite, null compression
	n := len(body)
	hs := []byte{1, 0, byte(n >> 8), byte(n), 0, 0, 0, 0, 0, 0, byte(n >> 8), byte(n)}
	hs = append(hs, body...)
	rec := []byte{22, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, byte(len(hs) >> 8), byte(len(hs))}
	return append(rec, hs...)
}

// streamsCapture is a capture whose connection numbering exercises each of
// Wireshark's rules: TLS connections among non-TLS TCP and UDP
// conversations, a port pair reused after FIN and after RST, a reused pair
// with the same initial sequence number (not a new conversation), a
// retransmitted SYN, ICMP errors quoting unseen TCP and UDP headers (and a
// quote too short to count), IPv6, and DTLS among other UDP.
func streamsCapture(t testing.TB) []byte {
	hello := clientHello(t)
	b := newPcapBuilder(t)
	const c, s = "10.1.0.1", "10.1.0.2"
	b.tlsConn(c, s, 40000, 443, 100, []byte("GET / HTTP/1.0\r\n\r\n"), "fin") // tcp 0: not TLS
	b.udp(c, "10.1.0.53", 5353, 53, []byte("not dns"))                        // udp 0
	b.tlsConn(c, s, 40001, 443, 100, hello, "fin")                            // tcp 1
	b.tlsConn(c, s, 40001, 443, 5000, hello, "fin")                           // tcp 2: reused after FIN
	b.tlsConn(c, s, 40001, 443, 5000, hello, "fin")                           // still tcp 2: same ISN
	b.tcp(c, s, 40002, 443, 7, 0, "S", nil)                                   // tcp 3
	b.tcp(c, s, 40002, 443, 7, 0, "S", nil)                                   // retransmitted: tcp 3
	b.icmpError(s, c, b.tcpPacket(c, "10.1.0.9", 40003, 80, 1, 0, "S", nil))  // tcp 4, quoted
	b.tlsConn(c, s, 40004, 443, 100, hello, "rst")                            // tcp 5
	b.tlsConn(c, s, 40004, 443, 800, hello, "fin")                            // tcp 6: reused after RST
	q := b.tcpPacket(c, "10.1.0.9", 40005, 80, 1, 0, "S", nil)
	b.icmpError(s, c, q[:28])                                                       // 8 bytes of TCP: no conversation
	b.icmpError("10.1.0.53", c, b.udpPacket(c, "10.1.0.53", 5354, 53, []byte("q"))) // udp 1, quoted
	b.udp(c, s, 40006, 4433, dtlsHello())                                           // udp 2: DTLS
	b.udp(s, c, 4433, 40006, []byte("not dtls"))
	b.tlsConn("fd00::1", "fd00::2", 40007, 443, 100, hello, "fin") // tcp 7
	b.udp("fd00::1", "fd00::53", 5355, 53, []byte("x"))            // udp 3
	b.tlsConn(c, s, 40008, 443, 100, hello, "")                    // tcp 8, open at the end
	b.udp(c, s, 40009, 4433, dtlsHello())                          // udp 4: DTLS
	return b.buf.Bytes()
}

// streamsWant is what streamsCapture numbers, by client endpoint of the TLS
// connections tlskit reports.
var streamsWant = []struct {
	transport, client string
	index             int
}{
	{"tcp", "10.1.0.1:40001", 1},
	{"tcp", "10.1.0.1:40001", 2},
	{"tcp", "10.1.0.1:40004", 5},
	{"tcp", "10.1.0.1:40004", 6},
	{"tcp", "[fd00::1]:40007", 7},
	{"tcp", "10.1.0.1:40008", 8},
	{"udp", "10.1.0.1:40006", 2},
	{"udp", "10.1.0.1:40009", 4},
}

// TestStreamNumbers: connections are numbered as Wireshark's tcp.stream
// and udp.stream, on a capture built to exercise each rule.
func TestStreamNumbers(t *testing.T) {
	res := analyzeReader(t, bytes.NewReader(streamsCapture(t)), Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	var got []string
	for _, c := range res.conns {
		got = append(got, c.Transport+" "+strconv.Itoa(c.Index)+" "+c.Client)
	}
	// Reported as they end (the connection reset by the server only
	// ends with the file); compare in number order.
	slices.SortFunc(got, func(a, b string) int {
		fa, fb := strings.Fields(a), strings.Fields(b)
		na, _ := strconv.Atoi(fa[1])
		nb, _ := strconv.Atoi(fb[1])
		return cmp.Or(strings.Compare(fa[0], fb[0]), na-nb)
	})
	var want []string
	for _, w := range streamsWant {
		want = append(want, w.transport+" "+strconv.Itoa(w.index)+" "+w.client)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("connections:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestStreamNumbersTshark checks streamsWant against tshark itself: the
// stream number tshark gives the first packet of each connection.
func TestStreamNumbersTshark(t *testing.T) {
	peertest.Need(t, "tshark")
	path := filepath.Join(t.TempDir(), "streams.pcap")
	if err := os.WriteFile(path, streamsCapture(t), 0o600); err != nil {
		t.Fatal(err)
	}
	streams := tsharkStreams(t, path)
	for _, w := range streamsWant {
		if !slices.Contains(streams[w.transport+" "+w.client], w.index) {
			t.Errorf("tshark numbers %s %s as %v, the test expects %d", w.transport, w.client, streams[w.transport+" "+w.client], w.index)
		}
	}
}

// tsharkStreams runs tshark over a capture and returns, per transport and
// SYN sender or first sender endpoint ("tcp 10.0.0.1:5000"), the stream
// numbers tshark gives its packets (ICMP errors left out).
func tsharkStreams(t testing.TB, path string) map[string][]int {
	t.Helper()
	cmd := peertest.Tshark(t, "-r", path, "-Y", "not icmp and not icmpv6", "-T", "fields", "-E", "separator=|",
		"-e", "tcp.stream", "-e", "udp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "udp.srcport")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	m := map[string][]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) < 6 {
			continue
		}
		transport, stream, port := "tcp", f[0], f[4]
		if stream == "" {
			transport, stream, port = "udp", f[1], f[5]
		}
		n, err := strconv.Atoi(stream)
		if err != nil {
			continue
		}
		host := f[2]
		if host == "" {
			host = f[3]
		}
		k := transport + " " + net.JoinHostPort(host, port)
		if !slices.Contains(m[k], n) {
			m[k] = append(m[k], n)
		}
	}
	return m
}
