package render

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/tlskit/tlskit/capture"
	"github.com/tlskit/tlskit/transcript"
)

// This file decodes HTTP/2 for pcap --data, as tshark's http2 dissector
// shows it: frames with their type, stream and flags, header blocks
// decoded with HPACK into name: value lines, and DATA as the payload. A
// connection is taken for HTTP/2 when the client's data starts with the
// connection preface (RFC 9113 §3.4), or the server's with a SETTINGS
// frame. Frames are cut with x/net/http2's Framer, which checks them, and
// header blocks decoded with its hpack, one decoder per direction (each
// keeps its own dynamic table).

// h2Preface is the client connection preface.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// h2MaxFrame bounds the bytes held for one frame: larger frames (a peer may
// allow up to 16 MiB) stop the decoding of that direction.
const h2MaxFrame = 1 << 20

// h2Conn is the HTTP/2 state of one connection, per direction.
type h2Conn struct {
	dirs [2]h2Dir
}

// h2Dir decodes one direction's frames.
type h2Dir struct {
	buf     []byte // the bytes of an unfinished frame
	preface int    // bytes of the client preface still to skip
	rd      bytes.Reader
	fr      *http2.Framer
	dec     *hpack.Decoder
	block   []byte // a header block awaiting its CONTINUATION frames
	blockOf string // the frame that started it, for the heading
	failed  bool   // not HTTP/2 after all, or broken: print raw
	headers []hpack.HeaderField
}

type connKey struct {
	udp   bool
	index int
}

// h2Start reports whether data, the first of its side on a connection,
// starts HTTP/2.
func h2Start(from transcript.Side, data []byte) bool {
	if from == transcript.Client {
		n := min(len(data), len(h2Preface))
		return n >= 4 && string(data[:n]) == h2Preface[:n]
	}
	// A SETTINGS frame on stream 0 whose length is a multiple of 6.
	if len(data) < 9 || data[3] != byte(http2.FrameSettings) || data[5]&0x7f|data[6]|data[7]|data[8] != 0 {
		return false
	}
	n := int(data[0])<<16 | int(data[1])<<8 | int(data[2])
	return n%6 == 0 && (data[4]&1 == 0 || n == 0)
}

// h2Data prints one record of an HTTP/2 connection's data: the frames it
// completes.
func (d *DataPrinter) h2Data(b []byte, head func([]byte, string) []byte, h *h2Conn, from transcript.Side, data []byte) []byte {
	i := 0
	if from == transcript.Server {
		i = 1
	}
	s := &h.dirs[i]
	if s.failed {
		return d.raw(head(b, ""), data)
	}
	if s.preface > 0 {
		n := min(s.preface, len(data))
		s.preface -= n
		data = data[n:]
		if s.preface == 0 && len(data) == 0 {
			return append(head(b, "HTTP/2 connection preface"), '\n')
		}
	}
	s.buf = append(s.buf, data...)
	for len(s.buf) >= 9 {
		n := 9 + (int(s.buf[0])<<16 | int(s.buf[1])<<8 | int(s.buf[2]))
		if n > h2MaxFrame {
			s.failed = true
			b = append(head(b, fmt.Sprintf("HTTP/2 frame of %d bytes, over tlskit's limit of %d: the rest of this direction is shown raw", n-9, h2MaxFrame)), '\n')
			return d.raw(b, s.buf)
		}
		if len(s.buf) < n {
			break
		}
		b = d.h2Frame(b, head, s, &h.dirs[1-i], s.buf[:n])
		if s.failed {
			return d.raw(b, s.buf[n:])
		}
		s.buf = s.buf[n:]
	}
	if len(s.buf) == 0 {
		s.buf = nil // do not keep the record's buffer
	} else {
		s.buf = append([]byte(nil), s.buf...)
	}
	return b
}

// raw prints data as the non-HTTP/2 printer would.
func (d *DataPrinter) raw(b, data []byte) []byte {
	switch {
	case len(data) == 0:
	case looksLikeText(data):
		b = appendText(b, data, "  | ")
	case d.Hex || len(data) <= 32:
		b = appendHex(b, data, "  | ")
	default:
		b = appendHex(b, data[:32], "  | ")
		b = fmt.Appendf(b, "  | … %d more bytes of binary data (--hex shows them all)\n", len(data)-32)
	}
	return b
}

// h2Frame prints one complete frame.
func (d *DataPrinter) h2Frame(b []byte, head func([]byte, string) []byte, s, other *h2Dir, frame []byte) []byte {
	s.init()
	s.rd.Reset(frame)
	f, err := s.fr.ReadFrame()
	if err != nil {
		s.failed = true
		return append(head(b, fmt.Sprintf("HTTP/2 frame that does not decode (%v): the rest of this direction is shown raw", err)), '\n')
	}
	fh := f.Header()
	title := fmt.Sprintf("HTTP/2 %s", fh.Type)
	if fh.StreamID != 0 {
		title += fmt.Sprintf(" stream %d", fh.StreamID)
	}
	flags := h2Flags(fh)
	switch f := f.(type) {
	case *http2.DataFrame:
		title += fmt.Sprintf(", %d bytes", len(f.Data()))
		b = append(head(b, title+flags), '\n')
		return d.raw(b, f.Data())
	case *http2.HeadersFrame:
		s.block = append(s.block[:0], f.HeaderBlockFragment()...)
		s.blockOf = title + flags
		if !f.HeadersEnded() {
			return append(head(b, title+flags+" (continued)"), '\n')
		}
		return d.h2Headers(b, head, s)
	case *http2.ContinuationFrame:
		if len(s.block)+len(f.HeaderBlockFragment()) > h2MaxFrame {
			s.failed = true
			return append(head(b, fmt.Sprintf("HTTP/2 header block over %d bytes: the rest of this direction is shown raw", h2MaxFrame)), '\n')
		}
		s.block = append(s.block, f.HeaderBlockFragment()...)
		if !f.HeadersEnded() {
			return append(head(b, title+flags), '\n')
		}
		return d.h2Headers(b, head, s)
	case *http2.PushPromiseFrame:
		s.block = append(s.block[:0], f.HeaderBlockFragment()...)
		s.blockOf = fmt.Sprintf("%s, promised stream %d%s", title, f.PromiseID, flags)
		if !f.HeadersEnded() {
			return append(head(b, s.blockOf+" (continued)"), '\n')
		}
		return d.h2Headers(b, head, s)
	case *http2.SettingsFrame:
		var set []string
		f.ForeachSetting(func(x http2.Setting) error {
			set = append(set, fmt.Sprintf("%s=%d", strings.TrimPrefix(x.ID.String(), "SETTINGS_"), x.Val))
			if x.ID == http2.SettingHeaderTableSize {
				// The table the peer's encoder may use for what it
				// sends to this side (RFC 9113 §6.5.2).
				other.init()
				other.dec.SetAllowedMaxDynamicTableSize(min(x.Val, h2MaxFrame))
			}
			return nil
		})
		if len(set) > 0 {
			title += ": " + strings.Join(set, ", ")
		}
	case *http2.WindowUpdateFrame:
		title += fmt.Sprintf(", increment %d", f.Increment)
	case *http2.RSTStreamFrame:
		title += ", " + f.ErrCode.String()
	case *http2.GoAwayFrame:
		title += fmt.Sprintf(", last stream %d, %s", f.LastStreamID, f.ErrCode)
		if dbg := f.DebugData(); len(dbg) > 0 {
			title += fmt.Sprintf(" (%q)", printable(dbg, 80))
		}
	case *http2.PingFrame:
		title += fmt.Sprintf(", % x", f.Data)
	case *http2.PriorityFrame:
		title += fmt.Sprintf(", depends on stream %d, weight %d", f.StreamDep, int(f.Weight)+1)
	}
	return append(head(b, title+flags), '\n')
}

// init makes the direction's framer and HPACK decoder.
func (s *h2Dir) init() {
	if s.fr != nil {
		return
	}
	s.fr = http2.NewFramer(nil, &s.rd)
	s.fr.SetMaxReadFrameSize(h2MaxFrame)
	s.dec = hpack.NewDecoder(4096, nil)
	s.dec.SetMaxStringLength(h2MaxFrame)
	s.dec.SetEmitFunc(func(f hpack.HeaderField) { s.headers = append(s.headers, f) })
}

// h2Headers decodes a complete header block and prints its fields.
func (d *DataPrinter) h2Headers(b []byte, head func([]byte, string) []byte, s *h2Dir) []byte {
	s.headers = s.headers[:0]
	if _, err := s.dec.Write(s.block); err != nil {
		s.failed = true
		return append(head(b, fmt.Sprintf("%s: the header block does not decode (%v): the rest of this direction is shown raw", s.blockOf, err)), '\n')
	}
	b = append(head(b, s.blockOf), '\n')
	for _, f := range s.headers {
		b = append(b, "  | "...)
		b = append(b, printable([]byte(f.Name), 200)...)
		b = append(b, ": "...)
		b = append(b, printable([]byte(f.Value), 4096)...)
		b = append(b, '\n')
	}
	s.block = s.block[:0]
	return b
}

// h2Flags names a frame's flags, as tshark does.
func h2Flags(fh http2.FrameHeader) string {
	var names []string
	for _, f := range []http2.Flags{http2.FlagDataEndStream, http2.FlagHeadersEndHeaders, http2.FlagHeadersPadded, http2.FlagHeadersPriority} {
		if fh.Flags.Has(f) {
			switch {
			case f == http2.FlagDataEndStream && (fh.Type == http2.FrameData || fh.Type == http2.FrameHeaders):
				names = append(names, "END_STREAM")
			case f == http2.FlagHeadersEndHeaders && (fh.Type == http2.FrameHeaders || fh.Type == http2.FrameContinuation || fh.Type == http2.FramePushPromise):
				names = append(names, "END_HEADERS")
			case f == http2.FlagHeadersPadded && (fh.Type == http2.FrameData || fh.Type == http2.FrameHeaders || fh.Type == http2.FramePushPromise):
				names = append(names, "PADDED")
			case f == http2.FlagHeadersPriority && fh.Type == http2.FrameHeaders:
				names = append(names, "PRIORITY")
			}
		}
	}
	if (fh.Type == http2.FrameSettings || fh.Type == http2.FramePing) && fh.Flags.Has(http2.FlagSettingsAck) {
		names = append(names, "ACK")
	}
	if len(names) == 0 {
		return ""
	}
	return " [" + strings.Join(names, " ") + "]"
}

// h2State returns the HTTP/2 state of a connection, deciding on its first
// data (from either side) whether it is HTTP/2; nil when it is not.
func (d *DataPrinter) h2State(c *capture.Conn, from transcript.Side, data []byte) *h2Conn {
	k := connKey{c.UDP, c.Index}
	if h, ok := d.h2[k]; ok {
		return h
	}
	if d.h2 == nil {
		d.h2 = map[connKey]*h2Conn{}
	}
	var h *h2Conn
	if !c.UDP && h2Start(from, data) {
		h = &h2Conn{}
		h.dirs[0].preface = len(h2Preface)
	}
	d.h2[k] = h
	return h
}

// End forgets what the printer kept about a connection (its HTTP/2
// decoding state), once its report is printed.
func (d *DataPrinter) End(c *capture.Connection) {
	k := connKey{c.Transport == "udp", c.Index}
	delete(d.h2, k)
}

// h2Heading is the heading of a decoded HTTP/2 frame, like a record's.
func h2Heading(b []byte, c *capture.Conn, t time.Time, from transcript.Side, what string) []byte {
	field := "tcp.stream"
	if c.UDP {
		field = "udp.stream"
	}
	return fmt.Appendf(b, "%s %d %s %s  %s", field, c.Index, stamp(t), from.Arrow(), what)
}

// printable renders b as text of at most max bytes, bytes outside
// printable ASCII as '.'.
func printable(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}
