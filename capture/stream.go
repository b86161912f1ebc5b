package capture

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"

	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/transcript"
)

// factory makes one conn per TCP connection for the assembler.
type factory struct{ a *analyzer }

// New implements reassembly.StreamFactory.
func (f *factory) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, ac reassembly.AssemblerContext) reassembly.Stream {
	a := f.a
	c := &conn{a: a, synFrom: -1}
	c.id.Index = a.stream // the packet being assembled
	// Raw, not String: a reused port pair's flow has an endpoint type
	// of its own (reusedFlow).
	c.ends[0] = net.JoinHostPort(net.IP(netFlow.Src().Raw()).String(), strconv.Itoa(int(tcp.SrcPort)))
	c.ends[1] = net.JoinHostPort(net.IP(netFlow.Dst().Raw()).String(), strconv.Itoa(int(tcp.DstPort)))
	c.ports = [2]int{int(tcp.SrcPort), int(tcp.DstPort)}
	c.first = ac.GetCaptureInfo().Timestamp
	return c
}

// conn is one TCP connection being reassembled and decoded. Index 0 of its
// arrays is the direction of the connection's first packet (gopacket's
// TCPDirClientToServer, whatever the real roles), 1 the other.
type conn struct {
	a     *analyzer
	id    Conn
	ends  [2]string // sender endpoint of each direction
	ports [2]int
	first time.Time
	last  time.Time

	synFrom  int // direction whose sender is the client, from the SYN; -1 unknown
	client   int // direction whose sender is the TLS client, once roles are known
	roles    bool
	udp      bool // a DTLS flow, fed datagram by datagram
	filtered bool
	sawData  bool
	dec      *transcript.Decoder
	watch    *starttls.Watcher // follows a plaintext preamble (STARTTLS) until TLS starts
	halves   [2]half
	problems []string
}

// half is the state of one direction.
type half struct {
	midstream bool   // its first packet was not a SYN
	synced    bool   // a TLS record boundary has been found (or was never in doubt)
	pending   []byte // bytes held while looking for a record boundary
	skipped   int
	closeHow  transcript.CloseHow
	closeAt   time.Time
	closed    bool      // the close was given to the decoder
	ended     bool      // reassembly reached its close before the decoder existed
	resetAt   time.Time // an RST that followed its FIN
	reset     bool      // that RST was given to the decoder
}

func idx(dir reassembly.TCPFlowDirection) int {
	if dir == reassembly.TCPDirClientToServer {
		return 0
	}
	return 1
}

func (c *conn) side(d int) transcript.Side {
	if d == c.client {
		return transcript.Client
	}
	return transcript.Server
}

// Accept implements reassembly.Stream: every segment is accepted; a
// connection seen without its SYN starts at its first segment.
func (c *conn) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, ac reassembly.AssemblerContext) bool {
	d := idx(dir)
	if t := ci.Timestamp; t.After(c.last) {
		c.last = t
	}
	h := &c.halves[d]
	if tcp.SYN && c.synFrom < 0 {
		if tcp.ACK {
			c.synFrom = 1 - d
		} else {
			c.synFrom = d
		}
	}
	if nextSeq == -1 && !tcp.SYN {
		*start = true
		h.midstream = true
	}
	if tcp.RST && h.closeHow == transcript.CloseFIN && h.resetAt.IsZero() {
		// A reset after its FIN (a server that closed, then reset the
		// connection when the client's data came): shown in its place
		// when the FIN is already in the transcript.
		h.resetAt = ci.Timestamp
		c.giveReset(d)
	}
	if (tcp.RST || tcp.FIN) && h.closeHow == "" {
		h.closeHow, h.closeAt = transcript.CloseFIN, ci.Timestamp
		if tcp.RST {
			h.closeHow = transcript.CloseRST
		}
	}
	return true
}

// giveReset gives the decoder the RST that followed direction d's FIN,
// once the FIN is given.
func (c *conn) giveReset(d int) {
	if h := &c.halves[d]; c.dec != nil && h.closed && !h.reset && !h.resetAt.IsZero() {
		h.reset = true
		c.dec.Close(c.side(d), h.resetAt, transcript.CloseRST)
	}
}

// ReassembledSG implements reassembly.Stream: in-order bytes of one
// direction, possibly after a hole.
func (c *conn) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	dir, _, end, skip := sg.Info()
	d := idx(dir)
	n, _ := sg.Lengths()
	t := ac.GetCaptureInfo().Timestamp
	var data []byte
	if n > 0 {
		data = sg.Fetch(n)
		t = sg.CaptureInfo(0).Timestamp
		c.sawData = true
		c.setRoles(d, data)
	}
	if c.dec != nil {
		if skip > 0 {
			c.stopWatching(t) // a hole in the plaintext: the preamble cannot be followed
			c.dec.Gap(c.side(d), t, skip)
		}
		if n > 0 {
			c.feed(d, t, data, false)
		}
		if end {
			c.close(d, t)
		}
	} else if end {
		// A close before any data (a server that closes as soon as it
		// accepts): given when the decoder starts, before that data.
		h := &c.halves[d]
		h.ended = true
		if h.closeAt.IsZero() {
			h.closeAt = t
		}
	}
}

// ReassemblyComplete implements reassembly.Stream: the connection ended
// (both directions closed, or it went idle, or the file ended).
func (c *conn) ReassemblyComplete(ac reassembly.AssemblerContext) bool {
	if c.dec != nil {
		c.stopWatching(c.last)
		for d := range c.halves {
			if h := &c.halves[d]; h.midstream && !h.synced && len(h.pending) > 0 {
				c.feed(d, c.last, nil, true)
			}
		}
		// Closes not yet given (an RST out of sequence, a FIN after a
		// hole) go in time order.
		order := []int{0, 1}
		if c.halves[1].closeAt.Before(c.halves[0].closeAt) {
			order = []int{1, 0}
		}
		for _, d := range order {
			if h := &c.halves[d]; h.closeHow != "" && !h.closed {
				c.close(d, h.closeAt)
			}
		}
		for _, d := range order {
			c.giveReset(d)
		}
	}
	c.a.done = append(c.a.done, c)
	return true
}

// close gives the decoder the close of direction d.
func (c *conn) close(d int, t time.Time) {
	h := &c.halves[d]
	if h.closed {
		return
	}
	h.closed = true
	how, at := h.closeHow, h.closeAt
	if how == "" {
		how, at = transcript.CloseFIN, t
	}
	c.dec.Close(c.side(d), at, how)
}

// setRoles decides who is the client, on the first data of the connection.
func (c *conn) setRoles(d int, data []byte) {
	if c.roles {
		return
	}
	c.roles = true
	hello := isHello
	if c.udp {
		hello = isDTLSHello
	}
	switch {
	case c.synFrom >= 0:
		c.client = c.synFrom
	case hello(data, wire.TypeClientHello):
		c.client = d
	case hello(data, wire.TypeServerHello), hello(data, wire.TypeHelloVerifyRequest):
		c.client = 1 - d
	case c.ports[0] < c.ports[1]: // the first packet came from the lower port: the server
		c.client = 1
	default:
		c.client = 0
	}
	c.id.Client, c.id.Server = c.ends[c.client], c.ends[1-c.client]
	if f := c.a.opts.Filter; f != nil && !f(c.id.Client, c.id.Server) {
		c.filtered = true
		return
	}
	opts := transcript.Options{Keys: c.a.keys, KeepData: c.a.opts.KeepData, MaxData: c.a.opts.MaxData}
	if on := c.a.opts.OnData; on != nil {
		opts.OnData = func(from transcript.Side, t time.Time, b []byte) { on(&c.id, from, t, b) }
	}
	c.dec = transcript.NewDecoder(opts)
	// Closes that came before this first data go first, in time order.
	order := []int{0, 1}
	if c.halves[1].closeAt.Before(c.halves[0].closeAt) {
		order = []int{1, 0}
	}
	for _, d := range order {
		if h := &c.halves[d]; h.ended {
			c.close(d, h.closeAt)
		}
	}
	if !c.udp && !isRecord(data) {
		// Plaintext first: a protocol that may upgrade in band. The port
		// is a hint; the preamble decides.
		c.watch = starttls.NewWatcher(starttls.ForPort(c.ports[1-c.client]))
	}
}

// isRecord reports whether b starts like a TLS record.
func isRecord(b []byte) bool {
	return len(b) >= 3 && b[0] >= 20 && b[0] <= 24 && b[1] == 3
}

// watched passes bytes of direction d through the STARTTLS watcher, if
// there is one: the preamble's messages become plaintext events, and what
// remains for the TLS decoder is returned.
func (c *conn) watched(d int, t time.Time, data []byte) []byte {
	w := c.watch
	if w == nil {
		return data
	}
	side := c.side(d)
	msgs, rest := w.Feed(starttls.Side(side), t, data)
	c.plaintext(msgs)
	if w.GaveUp() {
		// Not a preamble: what the watcher held of the other side goes
		// to the decoder too, and watching stops.
		other := 1 - d
		c.watch = nil
		if held := w.Held(starttls.Side(c.side(other))); len(held) > 0 {
			c.dec.Data(c.side(other), t, held)
		}
	}
	return rest
}

// plaintext adds the watcher's messages to the transcript.
func (c *conn) plaintext(msgs []starttls.Message) {
	for _, m := range msgs {
		c.dec.Plaintext(transcript.Side(m.From), m.At, string(c.watch.Protocol()), string(m.Stage), m.Text, m.Bytes)
	}
}

// stopWatching ends the watch (at the end of the connection, or at a hole
// in the capture): the last messages, and the upgrade's facts when the
// client asked for one.
func (c *conn) stopWatching(t time.Time) {
	w := c.watch
	if w == nil {
		return
	}
	c.plaintext(w.Flush())
	if w.Attempted() {
		r := w.Result()
		up := transcript.Upgrade{Protocol: string(r.Protocol), ChosenBy: "recognised from the preamble", Outcome: string(r.Outcome),
			Offered: r.Offered, Capabilities: r.Capabilities, Command: r.Command, Reply: r.Reply}
		if len(r.Pipelined) > 0 {
			up.Pipelined, up.PipelinedFrom = len(r.Pipelined), transcript.Server
			q := strconv.QuoteToASCII(string(r.Pipelined))
			up.PipelinedText = q[1 : len(q)-1]
		}
		if r.Outcome == starttls.Failed {
			up.Error = fmt.Sprintf("%s: the client sent %s and the capture holds no answer to it", r.Protocol.Name(), r.Command)
		}
		c.dec.SetUpgrade(up)
	}
	c.watch = nil
}

// isHello reports whether b starts with a handshake record holding a
// handshake message of type typ.
func isHello(b []byte, typ wire.HandshakeType) bool {
	return len(b) >= 6 && b[0] == byte(wire.ContentHandshake) && b[1] == 3 && b[5] == byte(typ)
}

// maxResync bounds the bytes held while looking for the first record
// boundary of a connection picked up mid-stream.
const maxResync = 64 << 10

// feed passes bytes of direction d to the decoder, first finding a record
// boundary when the direction was picked up mid-stream. final says no more
// bytes will come.
func (c *conn) feed(d int, t time.Time, data []byte, final bool) {
	if c.watch != nil && len(data) > 0 {
		if data = c.watched(d, t, data); len(data) == 0 {
			return
		}
	}
	h := &c.halves[d]
	side := c.side(d)
	if !h.midstream || h.synced {
		c.dec.Data(side, t, data)
		return
	}
	h.pending = append(h.pending, data...)
	final = final || len(h.pending) > maxResync
	off, found := findRecord(h.pending, final)
	switch {
	case found:
		if off > 0 {
			c.problems = append(c.problems, fmt.Sprintf("the capture starts in the middle of this connection: the first %d bytes seen from the %s were skipped up to the first TLS record header", off, side))
		}
	case !final:
		return // wait for more bytes
	default:
		off = 0 // no TLS record in sight: let the decoder say what it is
	}
	h.synced = true
	b := h.pending[off:]
	h.pending = nil
	c.dec.Data(side, t, b)
}

// plausible reports whether b starts with a believable TLS record header.
func plausible(b []byte) (int, bool) {
	if len(b) < wire.RecordHeaderLen || b[0] < 20 || b[0] > 24 || b[1] != 3 || b[2] > 4 {
		return 0, false
	}
	n := int(b[3])<<8 | int(b[4])
	return n, n > 0 && n <= wire.MaxCiphertext
}

// findRecord finds the first offset in b where a plausible TLS record
// header is followed by another plausible header or by the end of b. When
// a candidate needs more bytes to be judged and final is false it reports
// not found, so that the caller waits.
func findRecord(b []byte, final bool) (int, bool) {
	for i := 0; i+wire.RecordHeaderLen <= len(b); i++ {
		n, ok := plausible(b[i:])
		if !ok {
			continue
		}
		next := i + wire.RecordHeaderLen + n
		switch {
		case next == len(b):
			return i, true
		case next+wire.RecordHeaderLen <= len(b):
			if _, ok := plausible(b[next:]); ok {
				return i, true
			}
		case !final:
			return 0, false
		case next > len(b) && i == 0:
			return 0, true // a record cut by the end of the capture
		}
	}
	return 0, false
}
