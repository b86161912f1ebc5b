// Package capture explains the TLS connections in a packet capture: it reads
// pcap and pcapng files (gzip-compressed or not), reassembles each TCP
// connection into the two byte streams its peers sent, and feeds them to the
// same [transcript.Decoder] and [diagnose] findings engine that `tlskit
// check` uses on a live connection. One code path, two sources of bytes.
//
// # Secrets
//
// Secrets come from an NSS key log ([Options.Keys], e.g. SSLKEYLOGFILE) and
// from every pcapng Decryption Secrets Block in the file, wherever it
// appears: gopacket keeps those private and reads them only before the first
// interface, so this package scans pcapng blocks itself. A secret must be
// known by the time the decoder needs it (ServerHello in TLS 1.3, the
// ChangeCipherSpec in TLS 1.2); a DSB written after the packets it unlocks,
// as `editcap --inject-secrets` never does, comes too late.
//
// # TCP
//
// Reassembly is gopacket's reassembly package: out-of-order segments are
// put back in order, retransmissions and overlaps are dropped, and a hole
// that never fills (a segment the capture lost) becomes a
// [transcript.Decoder.Gap]: the transcript says how many bytes are missing,
// and decoding resumes at the next record boundary, with the record
// sequence number found again by trial decryption. A connection whose start
// was not captured (no SYN) is picked up at the first plausible TLS record
// header: a content type 20–24, version 3.x, a legal length, followed by
// another such header or by the end of what was seen. Its problems say so.
//
// The client is the side that sent the SYN; without one, the side that sent
// a ClientHello (or did not send a ServerHello); failing that the side with
// the higher port. TCP flows in which neither side ever sends a TLS record
// are not TLS and are left out of the report (they are counted in
// [Summary.Ignored]).
//
// # UDP
//
// A UDP flow whose first datagram is a DTLS 1.0 or 1.2 record is decoded
// as DTLS with [transcript.Decoder.Datagram], datagram by datagram: each
// record names its own epoch and sequence number, so lost, reordered and
// duplicated datagrams do not stop decryption. The client is the side that
// sent the ClientHello, failing that the side with the higher port. A
// DTLS connection has no FIN: it ends when it has been idle for
// [Options.IdleTimeout] of capture time, or at the end of the file, and
// who closed it is who sent the first close_notify or fatal alert. Other
// UDP traffic is ignored.
//
// # Memory
//
// Nothing is kept per packet. Each connection keeps its decoder state (a
// partial record at most per direction) and the transcript of its events;
// decrypted application data goes to [Options.OnData] as it is decoded and
// is not retained unless [Options.KeepData] asks for it. A connection is
// analysed and handed to [Options.OnConnection] as soon as it ends (FIN or
// RST both ways, or two minutes of capture time without a packet), not at
// the end of the file.
//
// # Verification time
//
// The server's chain is verified as of the capture timestamp of the
// Certificate message that carried it, not now: a capture from 2015 is not
// "expired" because it is read in 2026. [Options.Time] overrides it.
package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/transcript"
	"github.com/tlskit/tlskit/trust"
)

// Options configure [Analyze]. The zero value analyses without decrypting
// and verifies chains against the system roots.
type Options struct {
	// Keys holds key log secrets (--keylog). Secrets from pcapng Decryption
	// Secrets Blocks are added to a copy; Keys itself is not modified.
	Keys *keylog.Log
	// Verifier verifies server chains; nil means the system roots.
	Verifier *trust.Verifier
	// ServerName, if set, is the name server chains are verified for,
	// instead of each ClientHello's SNI. Without an SNI the server's
	// address is (a client that connects to an IP address sends none), and
	// the findings say so; without a ClientHello in the capture, the name
	// is not checked, and the report says so (name.not-checked).
	ServerName string
	// Time, if set, gives the time chains are verified at, instead of the
	// capture time of each server's Certificate message.
	Time func() time.Time
	// KeepData keeps decrypted application data in the transcripts, up to
	// MaxData bytes per direction and connection (1 MiB when zero).
	KeepData bool
	MaxData  int
	// OnData, if set, receives decrypted application data as it is
	// decoded. The slice is valid only during the call.
	OnData func(c *Conn, from transcript.Side, t time.Time, data []byte)
	// OnConnection receives each TLS connection's report when the
	// connection ends, in the order connections end. An error stops the
	// analysis and is returned by Analyze.
	OnConnection func(*Connection) error
	// Filter, if set, decides which connections to decode, by client and
	// server endpoint ("10.0.0.1:50001", "[::1]:443"). It is asked when
	// the roles are known, before any byte is decoded.
	Filter func(client, server string) bool
	// IdleTimeout ends a connection that saw no packet for this long in
	// capture time (2 minutes when zero).
	IdleTimeout time.Duration
}

// Conn identifies a connection while it is being decoded.
type Conn struct {
	// Index is the connection's number in Wireshark: its tcp.stream, or
	// for DTLS its udp.stream (see Stream).
	Index int
	// UDP says the connection is DTLS over UDP.
	UDP bool
	// Client and Server are ip:port endpoints.
	Client, Server string
}

// Stream names the connection as a Wireshark display filter field does:
// "tcp.stream 3", or "udp.stream 0" for DTLS.
func (c *Conn) Stream() string { return streamName(c.UDP, c.Index) }

func streamName(udp bool, index int) string {
	if udp {
		return fmt.Sprintf("udp.stream %d", index)
	}
	return fmt.Sprintf("tcp.stream %d", index)
}

// Connection is the report on one TLS connection of a capture: the same
// transcript, chain and findings `tlskit check` gives, plus who closed it.
type Connection struct {
	// Index is the connection's number in Wireshark: tcp.stream for TLS
	// over TCP, udp.stream for DTLS (Transport says which), so that the
	// display filter `tcp.stream == Index` shows this connection. TCP
	// and UDP are numbered apart, each from 0 in the order of their first
	// packets, counting every TCP or UDP conversation, TLS or not.
	Index int `json:"index"`
	// Transport is "tcp", or "udp" for DTLS.
	Transport string `json:"transport"`
	// Client and Server are the endpoints, ip:port ([ip]:port for IPv6).
	Client string `json:"client"`
	Server string `json:"server"`
	// First and Last are the capture times of its first and last packets.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// ClosedBy says who ended the connection first, how (FIN or RST) and
	// when, and the alert it sent before, if any. Nil when the capture
	// ends while the connection is still open.
	ClosedBy *transcript.Closure `json:"closed_by"`
	// VerifiedAt is the time the chain was verified as of.
	VerifiedAt time.Time `json:"verified_at,omitzero"`
	// Report holds the transcript, chain, findings and verdict, exactly
	// as `tlskit check` reports them.
	diagnose.Report
}

// Stream names the connection as a Wireshark display filter field does:
// "tcp.stream 3", or "udp.stream 0" for DTLS.
func (c *Connection) Stream() string { return streamName(c.Transport == "udp", c.Index) }

// Summary describes the whole capture.
type Summary struct {
	// Format is pcap or pcapng.
	Format Format `json:"format"`
	// Packets counts the frames read.
	Packets int `json:"packets"`
	// Connections counts the TLS connections reported.
	Connections int `json:"connections"`
	// Ignored counts TCP connections that carried no TLS.
	Ignored int `json:"ignored_non_tls"`
	// Filtered counts TLS connections left out by Options.Filter.
	Filtered int `json:"filtered,omitempty"`
	// DTLSPackets counts the UDP datagrams decoded as DTLS.
	DTLSPackets int `json:"dtls_packets"`
	// SecretsBlocks counts pcapng Decryption Secrets Blocks read, and
	// SecretsLines the key log lines they held.
	SecretsBlocks int `json:"secrets_blocks"`
	// Keyed counts connections the secrets (key log or DSB) had any
	// secret for.
	Keyed int `json:"keyed"`
	// Problems lists what went wrong with the file or the secrets, in
	// plain words: bad key log lines in DSBs, a key log that matches no
	// connection, a truncated file.
	Problems []string `json:"problems"`
}

// Analyze reads a capture from r and reports every TLS connection in it to
// opts.OnConnection as it ends. It returns a summary and, if the file is
// truncated or corrupt, a [*ReadError] or an error wrapping [ErrNotCapture];
// connections read before the bad data are still analysed and reported.
func Analyze(r io.Reader, opts Options) (*Summary, error) {
	rd, err := NewReader(r)
	if err != nil {
		return &Summary{}, err
	}
	a := newAnalyzer(opts)
	a.sum.Format = rd.Format()
	rd.OnSecrets = func(off int64, text []byte) {
		a.sum.SecretsBlocks++
		l, err := keylog.Parse(bytes.NewReader(text))
		if err != nil {
			a.sum.Problems = append(a.sum.Problems, fmt.Sprintf("the decryption secrets block at byte %d has bad lines: %v", off, err))
		}
		if l != nil {
			a.keys.Merge(l)
			a.keysGiven = true
		}
	}
	var readErr error
	for {
		p, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			a.sum.Problems = append(a.sum.Problems, err.Error()+"; the packets before it were analysed")
			break
		}
		a.sum.Packets++
		if err := a.packet(p); err != nil {
			return &a.sum, err
		}
	}
	if err := a.finish(); err != nil {
		return &a.sum, err
	}
	return &a.sum, readErr
}

// analyzer holds the state of one Analyze run.
type analyzer struct {
	opts      Options
	keys      *keylog.Log
	keysGiven bool
	// hellos counts the TLS connections whose ClientHello the capture
	// holds: only those can be matched with a key log.
	hellos    int
	sum       Summary
	asm       *reassembly.Assembler
	done      []*conn // connections ended during the last assembler call
	err       error   // first error from OnConnection
	lastFlush time.Time
	now       time.Time
	ip4       layers.IPv4
	ip6       layers.IPv6
	tcp       layers.TCP
	udp       layers.UDP
	dgrams    map[udpKey]*conn // DTLS flows being decoded
	convs     conversations    // tcp.stream and udp.stream numbers
	stream    int              // tcp.stream of the packet being assembled
	fragments int              // IP fragments of TCP or UDP, not reassembled
	tunnels   int              // packets of IP-in-IP or GRE, not looked into
}

func newAnalyzer(opts Options) *analyzer {
	if opts.Verifier == nil {
		opts.Verifier = &trust.Verifier{Anchors: trust.SystemAnchors()}
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 2 * time.Minute
	}
	// An overlay, not a copy: the user's key log may be hundreds of
	// megabytes, and it must not be modified.
	a := &analyzer{opts: opts, keys: keylog.NewOverlay(opts.Keys), dgrams: map[udpKey]*conn{}, convs: newConversations()}
	if opts.Keys != nil {
		a.keysGiven = true
	}
	pool := reassembly.NewStreamPool(&factory{a: a})
	a.asm = reassembly.NewAssembler(pool)
	// Bound what one connection may hold while waiting for a lost
	// segment: 1024 pages of 1900 bytes (about 2 MB), then the hole is
	// skipped and reported as a gap.
	a.asm.MaxBufferedPagesPerConnection = 1024
	a.asm.MaxBufferedPagesTotal = 64 * 1024
	return a
}

// captureContext carries a packet's capture info through the assembler.
type captureContext struct{ ci gopacket.CaptureInfo }

func (c *captureContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

// packet decodes one frame down to TCP and feeds the assembler.
func (a *analyzer) packet(p Packet) error {
	b, v := ipPayload(p.Link, p.Data)
	if v == 0 {
		return nil
	}
	var flow gopacket.Flow
	var proto uint8
	var payload []byte
	switch v {
	case 4:
		if a.ip4.DecodeFromBytes(b, gopacket.NilDecodeFeedback) != nil {
			return nil
		}
		flow, proto, payload = a.ip4.NetworkFlow(), uint8(a.ip4.Protocol), a.ip4.Payload
		if a.ip4.Flags&layers.IPv4MoreFragments != 0 || a.ip4.FragOffset != 0 {
			a.unread(proto, true)
			return nil
		}
	case 6:
		if a.ip6.DecodeFromBytes(b, gopacket.NilDecodeFeedback) != nil {
			return nil
		}
		var frag bool
		flow = a.ip6.NetworkFlow()
		if proto, payload, frag = skipIPv6Ext(uint8(a.ip6.NextHeader), a.ip6.Payload); frag {
			a.unread(proto, true)
			return nil
		}
	}
	switch proto {
	case protoTCP:
		if a.tcp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback) != nil {
			return nil
		}
		a.clock(p.Time)
		t := &a.tcp
		stream, gen := a.convs.TCP(v == 6, flow.Src().Raw(), flow.Dst().Raw(), uint16(t.SrcPort), uint16(t.DstPort), t.Seq, t.SYN, t.ACK)
		a.stream = stream
		ctx := &captureContext{ci: gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: len(p.Data)}}
		a.asm.AssembleWithContext(reusedFlow(flow, v == 6, gen), t, ctx)
	case protoUDP:
		if a.udp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback) != nil {
			return nil
		}
		a.clock(p.Time)
		u := &a.udp
		stream := a.convs.UDP(v == 6, flow.Src().Raw(), flow.Dst().Raw(), uint16(u.SrcPort), uint16(u.DstPort))
		a.datagram(flow, u, p.Time, stream)
	case protoICMPv4, protoICMPv6:
		if (proto == protoICMPv6) != (v == 6) {
			return nil
		}
		// Wireshark dissects the TCP or UDP header an ICMP error quotes,
		// which numbers its conversation too.
		if q, ok := icmpQuote(v == 6, payload); ok {
			a.quoted(q)
		}
		return nil
	default:
		a.unread(proto, false)
		return nil
	}
	if err := a.drain(); err != nil {
		return err
	}
	if a.now.Sub(a.lastFlush) > 10*time.Second {
		a.lastFlush = a.now
		cut := a.now.Add(-a.opts.IdleTimeout)
		a.asm.FlushWithOptions(reassembly.FlushOptions{T: cut, TC: cut})
		a.flushUDP(cut)
		return a.drain()
	}
	return nil
}

// quoted numbers the conversation of the TCP or UDP header an ICMP error
// quotes, as Wireshark does: a whole TCP header, or a UDP one.
func (a *analyzer) quoted(q quoted) {
	switch {
	case q.proto == protoTCP && len(q.hdr) >= tcpMinHeader && q.hdr[12]>>4 >= 5:
		h := q.hdr
		flags := h[13]
		a.convs.TCP(q.v6, q.src, q.dst, binary.BigEndian.Uint16(h), binary.BigEndian.Uint16(h[2:]),
			binary.BigEndian.Uint32(h[4:]), flags&0x02 != 0, flags&0x10 != 0)
	case q.proto == protoUDP && len(q.hdr) >= udpHeaderLen:
		a.convs.UDP(q.v6, q.src, q.dst, binary.BigEndian.Uint16(q.hdr), binary.BigEndian.Uint16(q.hdr[2:]))
	}
}

// unread counts packets that may hold TLS but that tlskit does not read:
// IP fragments of TCP or UDP (not reassembled) and tunnels.
func (a *analyzer) unread(proto uint8, fragment bool) {
	switch {
	case fragment && (proto == protoTCP || proto == protoUDP || proto == protoFragment):
		a.fragments++
	case proto == protoIPinIP || proto == protoIPv6inIP || proto == protoGRE:
		a.tunnels++
	}
}

// clock advances capture time, which idle connections are ended by, to t.
func (a *analyzer) clock(t time.Time) {
	if t.After(a.now) {
		a.now = t
	}
}

// finish flushes every connection still open at the end of the file and
// says once if the secrets matched no connection.
func (a *analyzer) finish() error {
	a.asm.FlushAll()
	a.flushUDP(time.Time{})
	if err := a.drain(); err != nil {
		return err
	}
	if a.fragments > 0 {
		a.sum.Problems = append(a.sum.Problems, fmt.Sprintf("%d IP fragments of TCP or UDP packets were not reassembled: connections carried in fragmented packets are missing or have gaps, and connection numbers after them may differ from Wireshark's tcp.stream and udp.stream", a.fragments))
	}
	if a.tunnels > 0 {
		a.sum.Problems = append(a.sum.Problems, fmt.Sprintf("%d packets are tunnels (IP in IP or GRE), which tlskit does not look into: TLS connections inside them are not reported, and connection numbers may differ from Wireshark's tcp.stream and udp.stream", a.tunnels))
	}
	switch {
	case !a.keysGiven || a.keys.Len() == 0 || a.sum.Keyed > 0 || a.sum.Connections == 0:
	case a.hellos == 0:
		a.sum.Problems = append(a.sum.Problems, fmt.Sprintf("the capture holds the ClientHello of none of its %d TLS connections (it starts after them), and a key log is found by the ClientHello's random: it cannot decrypt them", a.sum.Connections))
	default:
		a.sum.Problems = append(a.sum.Problems, fmt.Sprintf("the key log has no secrets for any of the %d TLS connections in this capture: is it the key log of another capture?", a.sum.Connections))
	}
	return a.err
}

// drain reports the connections that ended, in index order.
func (a *analyzer) drain() error {
	if len(a.done) == 0 {
		return a.err
	}
	slices.SortFunc(a.done, func(x, y *conn) int {
		if x.udp != y.udp { // TCP first: they are numbered apart
			if x.udp {
				return 1
			}
			return -1
		}
		return x.id.Index - y.id.Index
	})
	for _, c := range a.done {
		a.report(c)
	}
	a.done = a.done[:0]
	return a.err
}

// report analyses one ended connection and hands it on.
func (a *analyzer) report(c *conn) {
	var tr *transcript.Transcript
	if c.dec != nil {
		tr = c.dec.Transcript()
	}
	if tr == nil || !isTLS(tr) {
		if c.filtered {
			a.sum.Filtered++
		} else if c.sawData {
			a.sum.Ignored++
		}
		return
	}
	rep := c.analyse(a, tr)
	a.sum.Connections++
	if tr.ClientRandom != nil {
		a.hellos++
	}
	if rep.keyed {
		a.sum.Keyed++
	}
	if a.err == nil && a.opts.OnConnection != nil {
		a.err = a.opts.OnConnection(rep.Connection)
	}
}
