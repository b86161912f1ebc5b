package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Packet is one captured frame.
type Packet struct {
	// Time is when the frame was captured.
	Time time.Time
	// Link is the frame's link-layer type (Ethernet, raw IP, Linux SLL…).
	Link layers.LinkType
	// Data holds the captured bytes. It is only valid until the next call
	// to [Reader.Next].
	Data []byte
}

// Format names a capture file format.
type Format string

// The capture formats Reader understands.
const (
	FormatPcap   Format = "pcap"
	FormatPcapng Format = "pcapng"
)

// ReadError is a problem with the capture file itself, at a known place.
type ReadError struct {
	// Offset is the byte offset in the (decompressed) file where the bad
	// data starts.
	Offset int64
	// Packet is the number of packets read successfully before it.
	Packet int
	// Reason says what is wrong.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *ReadError) Error() string {
	s := fmt.Sprintf("capture: at byte %d, after %d packets: %s", e.Offset, e.Packet, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *ReadError) Unwrap() error { return e.Err }

// ErrNotCapture says the input is neither pcap nor pcapng (nor gzip of them).
var ErrNotCapture = errors.New("capture: not a pcap or pcapng file")

// maxBlock bounds a pcapng block or a pcap record: anything larger is a
// corrupt length field, not a packet.
const maxBlock = 16 << 20

// Reader reads packets from a pcap or pcapng stream, gzip-compressed or not,
// and hands out the TLS key log text of pcapng Decryption Secrets Blocks
// wherever they appear in the file.
type Reader struct {
	format  Format
	pcap    *pcapReader
	ng      *ngReader
	cr      *countingReader
	packets int
	// OnSecrets, if set, receives the text of each TLS key log found in a
	// Decryption Secrets Block, with the block's offset.
	OnSecrets func(offset int64, keylog []byte)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// NewReader detects the format of r (pcap in either byte order and
// timestamp precision, pcapng, either one gzip-compressed) and returns a
// Reader positioned at the first packet.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: the file is only %d bytes long", ErrNotCapture, len(magic))
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("capture: the file looks gzip-compressed but is not: %w", err)
		}
		br = bufio.NewReaderSize(zr, 1<<16)
		if magic, err = br.Peek(4); err != nil {
			return nil, fmt.Errorf("%w: the gzip-compressed content is only %d bytes long", ErrNotCapture, len(magic))
		}
	}
	cr := &countingReader{r: br}
	rd := &Reader{cr: cr}
	switch binary.LittleEndian.Uint32(magic) {
	case 0x0a0d0d0a:
		rd.format = FormatPcapng
		rd.ng = &ngReader{r: cr, rd: rd}
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		rd.format = FormatPcap
		p, err := newPcapReader(cr)
		if err != nil {
			return nil, err
		}
		rd.pcap = p
	default:
		return nil, fmt.Errorf("%w: it starts with % x (pcap starts with d4 c3 b2 a1 or a1 b2 c3 d4, pcapng with 0a 0d 0d 0a)", ErrNotCapture, magic)
	}
	return rd, nil
}

// Format returns the detected file format.
func (r *Reader) Format() Format { return r.format }

// Next returns the next packet. It returns io.EOF at the clean end of the
// file, and a [*ReadError] when the file is truncated or corrupt.
func (r *Reader) Next() (Packet, error) {
	if r.ng != nil {
		p, err := r.ng.next()
		if err == nil {
			r.packets++
		}
		return p, err
	}
	p, err := r.pcap.next(r.packets)
	if err == nil {
		r.packets++
	}
	return p, err
}

// pcapReader reads classic pcap (either byte order, micro- or nanosecond
// timestamps). It is ours rather than pcapgo's so that a corrupt length
// is an error with its offset instead of a 4 GB allocation.
type pcapReader struct {
	r     *countingReader
	order binary.ByteOrder
	nano  bool
	link  layers.LinkType
	hdr   [16]byte
	buf   []byte
}

func newPcapReader(r *countingReader) (*pcapReader, error) {
	var h [24]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, &ReadError{Reason: "the file ends inside the 24-byte pcap file header (truncated capture)", Err: err}
	}
	p := &pcapReader{r: r}
	switch binary.LittleEndian.Uint32(h[:]) {
	case 0xa1b2c3d4:
		p.order = binary.LittleEndian
	case 0xa1b23c4d:
		p.order, p.nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		p.order = binary.BigEndian
	case 0x4d3cb2a1:
		p.order, p.nano = binary.BigEndian, true
	}
	p.link = layers.LinkType(p.order.Uint32(h[20:]) & 0xffff) // the upper bits carry FCS flags
	return p, nil
}

func (p *pcapReader) next(packets int) (Packet, error) {
	off := p.r.n
	if _, err := io.ReadFull(p.r, p.hdr[:]); err != nil {
		if err == io.EOF {
			return Packet{}, io.EOF
		}
		return Packet{}, &ReadError{Offset: off, Packet: packets, Reason: "the file ends inside a packet header (truncated capture)"}
	}
	sec, frac := p.order.Uint32(p.hdr[0:]), p.order.Uint32(p.hdr[4:])
	n := p.order.Uint32(p.hdr[8:])
	if n > maxBlock {
		return Packet{}, &ReadError{Offset: off, Packet: packets, Reason: fmt.Sprintf("packet length %d is impossible (at most %d): the file is corrupt", n, maxBlock)}
	}
	if cap(p.buf) < int(n) {
		p.buf = make([]byte, n)
	}
	b := p.buf[:n]
	if _, err := io.ReadFull(p.r, b); err != nil {
		return Packet{}, &ReadError{Offset: off, Packet: packets, Reason: fmt.Sprintf("the file ends inside a packet of %d bytes (truncated capture)", n)}
	}
	nsec := int64(frac)
	if !p.nano {
		nsec *= 1000
	}
	return Packet{Time: time.Unix(int64(sec), nsec).UTC(), Link: p.link, Data: b}, nil
}

// ngReader reads pcapng blocks itself: gopacket's NgReader keeps Decryption
// Secrets Blocks private and reads them only before the first interface.
type ngReader struct {
	r      io.Reader
	rd     *Reader
	order  binary.ByteOrder
	ifaces []ngIface
	buf    []byte
	hdr    [8]byte
}

// ngIface is what an Interface Description Block says about timestamps.
type ngIface struct {
	link   layers.LinkType
	tsUnit int64 // timestamp units per second
	tsOff  int64 // seconds to add
}

// pcapng block types (draft-ietf-opsawg-pcapng).
const (
	ngSHB = 0x0a0d0d0a
	ngIDB = 0x00000001
	ngOPB = 0x00000002 // obsolete packet block
	ngSPB = 0x00000003
	ngEPB = 0x00000006
	ngDSB = 0x0000000a

	dsbTLSKeyLog = 0x544c534b // "TLSK"
)

func (n *ngReader) fail(off int64, format string, args ...any) error {
	return &ReadError{Offset: off, Packet: n.rd.packets, Reason: fmt.Sprintf(format, args...)}
}

func (n *ngReader) next() (Packet, error) {
	for {
		off := n.rd.cr.n
		if _, err := io.ReadFull(n.r, n.hdr[:]); err != nil {
			if err == io.EOF {
				return Packet{}, io.EOF
			}
			return Packet{}, n.fail(off, "the file ends in the middle of a block header (truncated capture)")
		}
		typ := binary.LittleEndian.Uint32(n.hdr[:4])
		if typ == ngSHB {
			// The byte order comes from the magic after the length.
			var bom [4]byte
			if _, err := io.ReadFull(n.r, bom[:]); err != nil {
				return Packet{}, n.fail(off, "the file ends inside a section header block (truncated capture)")
			}
			switch binary.LittleEndian.Uint32(bom[:]) {
			case 0x1a2b3c4d:
				n.order = binary.LittleEndian
			case 0x4d3c2b1a:
				n.order = binary.BigEndian
			default:
				return Packet{}, n.fail(off, "section header block with a bad byte-order magic % x", bom)
			}
			n.ifaces = n.ifaces[:0]
			length := n.order.Uint32(n.hdr[4:])
			if _, err := n.body(off, length, 4); err != nil {
				return Packet{}, err
			}
			continue
		}
		if n.order == nil {
			return Packet{}, n.fail(off, "pcapng block before any section header")
		}
		typ = n.order.Uint32(n.hdr[:4])
		length := n.order.Uint32(n.hdr[4:])
		body, err := n.body(off, length, 0)
		if err != nil {
			return Packet{}, err
		}
		switch typ {
		case ngIDB:
			if len(body) < 8 {
				return Packet{}, n.fail(off, "interface description block of %d bytes is too short", len(body))
			}
			ifc := ngIface{link: layers.LinkType(n.order.Uint16(body)), tsUnit: 1e6}
			n.options(body[8:], func(code uint16, v []byte) {
				switch {
				case code == 9 && len(v) >= 1: // if_tsresol
					ifc.tsUnit = tsUnit(v[0])
				case code == 14 && len(v) >= 8: // if_tsoffset
					ifc.tsOff = int64(n.order.Uint64(v))
				}
			})
			n.ifaces = append(n.ifaces, ifc)
		case ngEPB, ngOPB:
			if len(body) < 20 {
				return Packet{}, n.fail(off, "packet block of %d bytes is too short", len(body))
			}
			var id uint32
			if typ == ngEPB {
				id = n.order.Uint32(body)
			} else {
				id = uint32(n.order.Uint16(body))
			}
			if int(id) >= len(n.ifaces) {
				return Packet{}, n.fail(off, "packet block names interface %d, but only %d are described", id, len(n.ifaces))
			}
			ts := uint64(n.order.Uint32(body[4:]))<<32 | uint64(n.order.Uint32(body[8:]))
			caplen := n.order.Uint32(body[12:])
			if uint64(caplen) > uint64(len(body)-20) {
				return Packet{}, n.fail(off, "packet block claims %d captured bytes but holds %d", caplen, len(body)-20)
			}
			ifc := n.ifaces[id]
			return Packet{Time: ifc.time(ts), Link: ifc.link, Data: body[20 : 20+caplen]}, nil
		case ngSPB:
			if len(n.ifaces) == 0 {
				return Packet{}, n.fail(off, "simple packet block before any interface description")
			}
			if len(body) < 4 {
				return Packet{}, n.fail(off, "simple packet block of %d bytes is too short", len(body))
			}
			caplen := min(int(n.order.Uint32(body)), len(body)-4)
			return Packet{Link: n.ifaces[0].link, Data: body[4 : 4+caplen]}, nil
		case ngDSB:
			if len(body) < 8 {
				return Packet{}, n.fail(off, "decryption secrets block of %d bytes is too short", len(body))
			}
			st, sl := n.order.Uint32(body), n.order.Uint32(body[4:])
			if uint64(sl) > uint64(len(body)-8) {
				return Packet{}, n.fail(off, "decryption secrets block claims %d bytes of secrets but holds %d", sl, len(body)-8)
			}
			if st == dsbTLSKeyLog && n.rd.OnSecrets != nil {
				n.rd.OnSecrets(off, body[8:8+sl])
			}
		}
	}
}

// body reads the rest of a block of total length length whose 8-byte header
// (and already bytes more) were read, checks the trailing length copy, and
// returns the block body without the trailer.
func (n *ngReader) body(off int64, length uint32, already int) ([]byte, error) {
	if length < 12 || length%4 != 0 || length > maxBlock {
		return nil, n.fail(off, "block length %d is impossible (it must be a multiple of 4 from 12 to %d): the file is corrupt", length, maxBlock)
	}
	rest := int(length) - 8 - already
	if cap(n.buf) < rest {
		n.buf = make([]byte, rest)
	}
	b := n.buf[:rest]
	if _, err := io.ReadFull(n.r, b); err != nil {
		return nil, n.fail(off, "the file ends inside a block of %d bytes (truncated capture)", length)
	}
	if trail := n.order.Uint32(b[rest-4:]); trail != length {
		return nil, n.fail(off, "block length %d does not match its trailing copy %d: the file is corrupt", length, trail)
	}
	return b[:rest-4], nil
}

// options calls fn for each option in b.
func (n *ngReader) options(b []byte, fn func(code uint16, v []byte)) {
	for len(b) >= 4 {
		code, l := n.order.Uint16(b), int(n.order.Uint16(b[2:]))
		if code == 0 || 4+l > len(b) {
			return
		}
		fn(code, b[4:4+l])
		adv := 4 + (l+3)&^3
		if adv > len(b) {
			return
		}
		b = b[adv:]
	}
}

// tsUnit decodes if_tsresol: 10^-v or, with the top bit set, 2^-v.
func tsUnit(v byte) int64 {
	if v&0x80 != 0 {
		e := v & 0x7f
		if e > 62 {
			return 1e6
		}
		return 1 << e
	}
	if v > 18 {
		return 1e6
	}
	u := int64(1)
	for range v {
		u *= 10
	}
	return u
}

func (i ngIface) time(ts uint64) time.Time {
	sec := int64(ts / uint64(i.tsUnit))
	frac := int64(ts % uint64(i.tsUnit))
	var nsec int64
	if i.tsUnit <= 1e9 {
		nsec = frac * 1e9 / i.tsUnit
	} else {
		nsec = int64(float64(frac) * 1e9 / float64(i.tsUnit))
	}
	return time.Unix(sec+i.tsOff, nsec).UTC()
}
