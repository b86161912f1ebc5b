package transcript

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/keylog"
)

// Options configure a [Decoder]. The zero value decodes without decrypting.
type Options struct {
	// Keys holds the secrets to decrypt with. Nil means none: encrypted
	// records are listed but not opened.
	Keys *keylog.Log
	// KeepData keeps decrypted application data in the events, up to
	// MaxData bytes per direction (1 MiB when zero).
	KeepData bool
	MaxData  int
	// OnData, if set, receives every decrypted application data record as
	// it is decoded, in order, whatever KeepData says. The slice is only
	// valid during the call. Streaming consumers (pcap --data on captures
	// larger than memory) use it instead of KeepData.
	OnData func(from Side, t time.Time, data []byte)
	// MaxEvents, when positive, bounds the events kept: once it is
	// reached, one TypeTruncated event says so, decoding stops, and only
	// the closes are still recorded. A peer sending endless tiny records
	// (alerts, ChangeCipherSpecs) then cannot make the transcript grow
	// without bound. Zero means no bound.
	MaxEvents int
	// EventCap, when positive, is room reserved for that many events up
	// front, for a caller that knows about how many a connection has (a
	// live check's handshake: a dozen or so), instead of the list growing
	// from empty by doubling.
	EventCap int
}

// Decoder decodes one TLS connection from the bytes each side sent. Feed it
// with [Decoder.Data] in the order the bytes were seen (the two directions
// interleaved as on the wire), then call [Decoder.Close] if the end was seen,
// and [Decoder.Transcript] for the result. A Decoder is not safe for
// concurrent use.
//
// Its work is cut into parts, a file and a state type each:
//   - stream.go (framing): each direction's bytes into records, headers that
//     cannot be TLS, the next record boundary found again after a gap;
//   - sslv2.go: the SSL 2.0-format ClientHello that may start the client's bytes;
//   - protect.go (protection): which records are protected, opening them,
//     and the sequence number found again after a gap;
//   - keys.go (keyState): key derivation, from the key log's secrets to the
//     openers: TLS 1.3 key generations, the TLS 1.2 master secret;
//   - handshake.go (handshakeState): the meaning of the plaintext: handshake
//     messages, alerts and application data as events, and what the
//     handshake negotiated so far;
//   - hslog.go (handshakeLog): the handshake messages a key derivation hashes;
//   - dtls.go (dtlsState): DTLS datagrams instead of a TLS byte stream.
type Decoder struct {
	opts Options
	tr   Transcript
	dirs [2]direction

	handshakeState
	keyState
	dtls    bool  // fed with Datagram: DTLS records
	summed  bool  // Transcript already added the end-of-input problems
	capped  bool  // MaxEvents was reached
	scratch Event // where events beyond MaxEvents go
}

// direction is the decoding state of the bytes one side sends.
type direction struct {
	side Side
	framing
	protection
	asm  wire.Assembler // handshake messages across records
	kept int            // decrypted application data bytes kept (Options.KeepData)
	dtls dtlsState
}

// NewDecoder returns a decoder for one connection.
func NewDecoder(opts Options) *Decoder {
	if opts.MaxData <= 0 {
		opts.MaxData = 1 << 20
	}
	d := &Decoder{opts: opts}
	if opts.EventCap > 0 {
		d.tr.Events = make([]Event, 0, opts.EventCap)
	}
	d.dirs[0].side = Client
	d.dirs[1].side = Server
	return d
}

func (d *Decoder) dir(s Side) *direction {
	if s == Client {
		return &d.dirs[0]
	}
	return &d.dirs[1]
}

// unfinished records the record a side began and did not finish before
// the connection ended (TypeUnfinished): its number and declared length,
// and how many of its bytes came. A flight that stops inside a record is
// what a path that drops large packets shows (a path MTU black hole).
func (d *Decoder) unfinished(dir *direction, t time.Time) {
	if dir.resync {
		return // bytes after a capture's gap, before a record boundary: no record known
	}
	e := Event{Time: t, From: dir.side, Type: TypeUnfinished, Record: dir.records + 1}
	if h := dir.buf; len(h) >= 5 {
		e.RecordLen, e.Bytes = int(binary.BigEndian.Uint16(h[3:5])), len(h)-5
		e.Fields = []wire.Field{{Name: "content_type", Value: wire.ContentType(h[0]).String()}}
		e.Note = fmt.Sprintf("%d of the %d bytes of the %s record came; the rest never did", e.Bytes, e.RecordLen, wire.ContentType(h[0]))
	} else {
		e.Bytes = len(h)
		e.Note = fmt.Sprintf("%d bytes of a record header came; the rest never did", len(h))
	}
	d.add(e)
}

// Close records that from ended the connection in the way how, at t. A
// side closes once, except that a reset may follow its FIN (a server that
// closed and then reset the connection when more data came): that is an
// event of its own, and [Transcript.Closed] stays the first close.
func (d *Decoder) Close(from Side, t time.Time, how CloseHow) {
	if d.tr.Closed != nil && d.tr.Closed.By == from && !(how == CloseRST && d.closedWith(from) == CloseFIN) {
		return
	}
	if dir := d.dir(from); len(dir.buf) > 0 && !dir.dead {
		if !dir.started && !dir.resync && dir.lost == 0 && !canStartRecord(dir.buf[0], from) {
			// Fewer bytes than a record header, and the first cannot
			// start one: not TLS, however short ("220", "-ERR").
			d.notTLS(dir, t, nil)
		} else {
			d.unfinished(dir, t)
			d.problem("the %s sent %d bytes of an unfinished TLS record before closing", from, len(dir.buf))
			dir.buf = nil
		}
	}
	e := Event{Time: t, From: from, Type: TypeClose, Note: closeNote(how), how: how}
	if d.tr.Closed == nil {
		c := &Closure{By: from, How: how, Time: t}
		for i := len(d.tr.Events) - 1; i >= 0; i-- {
			if a := d.tr.Events[i]; a.Type == TypeAlert && a.From == from && a.Description != "" {
				c.AfterAlert = a.Level + " " + a.Description
				break
			}
		}
		d.tr.Closed = c
	}
	d.add(e)
}

// closedWith returns how side last closed the connection, "" if it did
// not.
func (d *Decoder) closedWith(side Side) CloseHow {
	for i := len(d.tr.Events) - 1; i >= 0; i-- {
		if e := &d.tr.Events[i]; e.Type == TypeClose && e.From == side {
			return e.how
		}
	}
	return ""
}

// canStartRecord reports whether b can be the first byte a side sends in
// TLS: a record's content type (20 to 24), or for a client the length
// byte of an SSL 2.0-format ClientHello (high bit set).
func canStartRecord(b byte, from Side) bool {
	return b >= 20 && b <= 24 || from == Client && b&0x80 != 0
}

func closeNote(how CloseHow) string {
	switch how {
	case CloseFIN:
		return "TCP FIN: closed the connection"
	case CloseRST:
		return "TCP RST: reset the connection"
	case CloseTimeout:
		return "sent nothing more before the deadline"
	case CloseLocal:
		return "closed the connection"
	case CloseAlert:
		return "ended the connection with an alert"
	}
	return string(how)
}

// Transcript returns the decoded conversation so far. The decoder keeps
// ownership; callers must not feed more data after using the result.
func (d *Decoder) Transcript() *Transcript {
	if d.summed {
		return &d.tr
	}
	d.summed = true
	for i := range d.dirs {
		dir := &d.dirs[i]
		if d.dtls {
			d.dtlsSummary(dir)
		}
		if p := dir.asm.Pending(); p > 0 && !dir.dead {
			d.problem("the %s sent an incomplete handshake message (%d bytes)", dir.side, p)
		}
	}
	return &d.tr
}

func (d *Decoder) problem(format string, args ...any) {
	d.tr.Problems = append(d.tr.Problems, fmt.Sprintf(format, args...))
}

func (d *Decoder) add(e Event) *Event {
	if max := d.opts.MaxEvents; max > 0 && len(d.tr.Events) >= max && e.Type != TypeClose && e.Type != TypeTruncated {
		if !d.capped {
			d.capped = true
			for i := range d.dirs {
				d.stop(&d.dirs[i])
			}
			d.add(Event{Time: e.Time, From: e.From, Type: TypeTruncated,
				Note: fmt.Sprintf("more than %d events: decoding stopped here, and what followed was not kept", max)})
			d.problem("the transcript was cut after %d events; what followed was not decoded", max)
		}
		d.scratch = e // callers may still update the event they added
		return &d.scratch
	}
	e.Seq = len(d.tr.Events) + 1
	d.tr.Events = append(d.tr.Events, e)
	return &d.tr.Events[len(d.tr.Events)-1]
}
