package transcript

import (
	"errors"
	"fmt"
	"time"

	"github.com/tlskit/tlskit/internal/wire"
)

// This file is the framing of a TLS byte stream: each direction's bytes cut
// into records (complete records decoded in place, an unfinished one
// buffered), record headers that cannot be TLS where they come, the next
// record boundary found again after bytes went missing (Gap), and the end of
// what a recorder kept (Truncate). What comes before the first record is
// decided here too: an SSL 2.0-format ClientHello (sslv2.go), or bytes that
// are not TLS at all. A plaintext preamble (STARTTLS) would be decided here
// the same way.

// framing is how far a direction's bytes were cut into records.
type framing struct {
	buf     []byte // an unfinished record, or bytes searched for a record boundary
	records int    // records seen
	payload int    // payload bytes of the records seen, for estimating how many were lost
	dead    bool   // stop decoding: not TLS or unrecoverable
	started bool   // at least one valid record was seen
	// After bytes went missing (a capture's gap), resync says the next
	// record boundary must be found again, and lost counts the missing
	// bytes.
	resync bool
	lost   int
}

// Data decodes bytes that from sent, seen at t. Partial records are kept until
// the rest arrives.
func (d *Decoder) Data(from Side, t time.Time, b []byte) {
	dir := d.dir(from)
	if dir.dead || len(b) == 0 {
		return
	}
	if dir.resync {
		dir.buf = append(dir.buf, b...)
		if !d.resync(dir) {
			return
		}
		// Decode from the boundary found; the buffer is reused below for
		// any unfinished record, so hand its bytes over first.
		b = append([]byte(nil), dir.buf...)
		dir.buf = dir.buf[:0]
	}
	if dir.side == Client && dir.records == 0 && dir.lost == 0 {
		var ok bool
		if b, ok = d.sslv2Hello(dir, t, b); !ok {
			return
		}
	}
	// Complete records are decoded straight from b, without copying: the
	// handshake assembler copies what it keeps, and nothing else holds on
	// to record bytes. Only an unfinished record is buffered, and the next
	// call completes it with just the bytes it lacks.
	for len(dir.buf) > 0 {
		want := wire.RecordHeaderLen
		if len(dir.buf) >= want {
			hdr, err := wire.ParseRecordHeader(dir.buf)
			if err != nil {
				d.notTLS(dir, t, err)
				return
			}
			want += hdr.Length
		}
		if len(dir.buf) == want {
			if _, ok := d.records(dir, t, dir.buf); !ok {
				return
			}
			dir.buf = dir.buf[:0]
			break
		}
		if len(b) == 0 {
			return
		}
		take := min(want-len(dir.buf), len(b))
		dir.buf = append(dir.buf, b[:take]...)
		b = b[take:]
	}
	rest, ok := d.records(dir, t, b)
	if ok {
		dir.buf = append(dir.buf[:0], rest...)
	}
}

// records decodes the complete records at the start of src and returns the
// unfinished rest. ok is false when the direction stopped being decodable.
func (d *Decoder) records(dir *direction, t time.Time, src []byte) (rest []byte, ok bool) {
	for len(src) >= wire.RecordHeaderLen {
		hdr, err := wire.ParseRecordHeader(src)
		if err != nil {
			dir.buf = append(dir.buf[:0], src...)
			d.notTLS(dir, t, err)
			return nil, false
		}
		if why := d.badVersion(hdr); why != "" {
			if !dir.started {
				dir.buf = append(dir.buf[:0], src...)
				d.notTLS(dir, t, &wire.NotTLSError{Header: src[:wire.RecordHeaderLen:wire.RecordHeaderLen], Reason: why})
				return nil, false
			}
			d.malformed(dir, t, src[:wire.RecordHeaderLen], why)
			return nil, false
		}
		n := wire.RecordHeaderLen + hdr.Length
		if len(src) < n {
			break
		}
		dir.started = true
		d.record(dir, t, hdr, src[:wire.RecordHeaderLen], src[wire.RecordHeaderLen:n])
		if dir.dead {
			return nil, false
		}
		src = src[n:]
	}
	return src, true
}

// Gap records that n bytes from a side are missing (a capture lost them).
// Decoding of that direction resumes at the next record boundary found
// after them, and decryption at the sequence number found by trial.
func (d *Decoder) Gap(from Side, t time.Time, n int) {
	dir := d.dir(from)
	if dir.dead {
		return
	}
	// What was buffered belongs to a record that cannot be completed, and
	// so does any unfinished handshake message.
	dir.lost += n + len(dir.buf)
	dir.buf = dir.buf[:0]
	dir.asm = wire.Assembler{}
	dir.resync = true
	dir.protection.recordsLost()
	d.hsLog.broken = true
	d.add(Event{Time: t, From: from, Type: TypeGap, Bytes: n,
		Note: fmt.Sprintf("%d bytes from the %s are missing from the capture; decoding resumes at the next record boundary", n, from)})
	d.problem("%d bytes sent by the %s are missing from the capture", n, from)
}

// Truncate records that the bytes from after t were not kept: whoever
// recorded the connection stopped at a bound (probe keeps a few hundred KiB
// after the handshake). Decoding of that direction stops; an unfinished
// record or handshake message it had buffered is dropped, not reported as
// cut short by the peer. note says what was not kept, in words.
func (d *Decoder) Truncate(from Side, t time.Time, note string) {
	d.stop(d.dir(from))
	d.add(Event{Time: t, From: from, Type: TypeTruncated, Note: note})
	d.problem("%s", note)
}

// stop ends decoding of a direction, dropping what it had buffered.
func (d *Decoder) stop(dir *direction) {
	dir.dead = true
	dir.buf = nil
	dir.asm = wire.Assembler{}
}

// maxResync bounds the bytes searched for a record boundary after a gap.
const maxResync = 4 * (wire.RecordHeaderLen + wire.MaxCiphertext)

// resync looks for the next record boundary in dir.buf after a gap: a
// plausible record header followed by another one (or by exactly the end of
// the bytes). It reports whether one was found, leaving dir.buf starting
// there.
func (d *Decoder) resync(dir *direction) bool {
	b := dir.buf
	for i := 0; i+wire.RecordHeaderLen <= len(b); i++ {
		if !plausibleHeader(b[i:]) {
			continue
		}
		next := i + wire.RecordHeaderLen + (int(b[i+3])<<8 | int(b[i+4]))
		switch {
		case next+wire.RecordHeaderLen <= len(b) && plausibleHeader(b[next:]):
		case next == len(b):
		case next+wire.RecordHeaderLen > len(b):
			// Not enough bytes yet to confirm this candidate: wait.
			dir.lost += i
			dir.buf = append(dir.buf[:0], b[i:]...)
			return false
		default:
			continue
		}
		dir.lost += i
		dir.buf = append(dir.buf[:0], b[i:]...)
		dir.resync = false
		d.problem("the %s's records resumed after %d missing or skipped bytes", dir.side, dir.lost)
		return true
	}
	if len(b) > maxResync {
		keep := wire.RecordHeaderLen - 1
		dir.lost += len(b) - keep
		dir.buf = append(dir.buf[:0], b[len(b)-keep:]...)
	}
	return false
}

// plausibleHeader reports whether b starts like a TLS record header: a known
// content type, version 3.x (SSL 3.0 to TLS 1.3, whose records say 3.3),
// and a legal length.
func plausibleHeader(b []byte) bool {
	if len(b) < wire.RecordHeaderLen || b[0] < 20 || b[0] > 24 || b[1] != 3 || b[2] > 4 {
		return false
	}
	return int(b[3])<<8|int(b[4]) <= wire.MaxCiphertext
}

// notTLS stops decoding a direction whose bytes are not TLS records.
func (d *Decoder) notTLS(dir *direction, t time.Time, err error) {
	dir.dead = true
	if !dir.started {
		proto, excerpt := wire.Sniff(dir.buf)
		note := fmt.Sprintf("the %s sent %d bytes that are not TLS", dir.side, len(dir.buf))
		if proto != "" {
			note = fmt.Sprintf("the %s speaks %s, not TLS", dir.side, proto)
		}
		d.add(Event{Time: t, From: dir.side, Type: TypeNotTLS, Bytes: len(dir.buf), Note: note,
			Fields: []wire.Field{{Name: "protocol", Value: proto}, {Name: "excerpt", Value: excerpt}}})
		dir.buf = nil
		return
	}
	var nt *wire.NotTLSError
	if errors.As(err, &nt) {
		d.malformed(dir, t, nt.Header, nt.Reason)
		return
	}
	d.problem("after record %d the %s sent bytes that are not a TLS record (%v)", dir.records, dir.side, err)
	dir.buf = nil
}

// malformed stops decoding a direction that, after valid records, sent a
// record header that cannot be TLS at this point, and names its bytes.
func (d *Decoder) malformed(dir *direction, t time.Time, header []byte, why string) {
	dir.dead = true
	dir.buf = nil
	hex := fmt.Sprintf("% x", header)
	d.add(Event{Time: t, From: dir.side, Type: TypeMalformed, Record: dir.records + 1,
		Fields: []wire.Field{{Name: "header", Value: hex}, {Name: "reason", Value: why}},
		Note:   fmt.Sprintf("record header %s cannot be TLS here: %s; decoding of the %s's bytes stopped", hex, why, dir.side)})
	d.problem("after record %d the %s sent a record header that cannot be TLS there (%s): %s", dir.records, dir.side, hex, why)
}

// badVersion says why a record header's version cannot be right at this
// point of the connection, or "" when it can. SSL 3.0 to TLS 1.3 records
// say 3.0 to 3.4 (TLS 1.3's say 3.3, RFC 8446 §5.1); once a ServerHello
// chose a version, TLS 1.2 and earlier records carry exactly that version
// (RFC 5246 Appendix E.1), and TLS 1.3 ones 3.3 (3.1 and 3.2 tolerated).
func (d *Decoder) badVersion(hdr wire.RecordHeader) string {
	v := hdr.Version
	if v&0xff > 4 {
		return fmt.Sprintf("version %d.%d (0x%04x) is no SSL or TLS version", v>>8, v&0xff, uint16(v))
	}
	switch {
	case d.dtls || d.version == 0:
		return ""
	case d.tls13 || d.version>>8 == 0x7f:
		if v >= wire.VersionTLS10 && v <= wire.VersionTLS12 {
			return ""
		}
		return fmt.Sprintf("the record says %s (0x%04x), but TLS 1.3 records say TLS 1.2 (0x0303)", v, uint16(v))
	case v != d.version:
		return fmt.Sprintf("the record says %s (0x%04x), but the ServerHello chose %s", v, uint16(v), d.version)
	}
	return ""
}
