package transcript

import (
	"fmt"
	"time"

	"github.com/tlskit/tlskit/internal/keysched"
	"github.com/tlskit/tlskit/internal/wire"
)

// dtlsState is the DTLS part of one direction's decoding state.
type dtlsState struct {
	asm    wire.DTLSAssembler
	epoch  uint16           // the epoch whose keys are in direction.opener
	prev   *keysched.Opener // the keys of epoch-1, for late records
	replay replayWindow
	dups   int // records seen twice
}

// replayWindow tells records seen before by their 64-bit epoch and
// sequence number, within the last 64 numbers (RFC 6347 §4.1.2.6).
type replayWindow struct {
	top  uint64
	bits uint64 // bit i: top-i was seen
	any  bool
}

// fresh reports whether n was not seen yet, and marks it seen.
func (w *replayWindow) fresh(n uint64) bool {
	switch {
	case !w.any:
		w.any, w.top, w.bits = true, n, 1
	case n > w.top:
		if shift := n - w.top; shift < 64 {
			w.bits = w.bits<<shift | 1
		} else {
			w.bits = 1
		}
		w.top = n
	case w.top-n >= 64:
		// Too old to tell; a capture rarely reorders this far.
	default:
		bit := uint64(1) << (w.top - n)
		if w.bits&bit != 0 {
			return false
		}
		w.bits |= bit
	}
	return true
}

// Datagram decodes one UDP datagram that from sent, seen at t: the DTLS 1.0
// or 1.2 records in it (RFC 6347). Feed a connection's datagrams in capture
// order. Unlike TLS over TCP, datagrams may be lost, reordered or
// duplicated: every record carries its epoch and sequence number, so each
// one is decrypted on its own, duplicates are dropped, handshake fragments
// are put back together, and retransmitted handshake flights are counted
// rather than shown twice. A Decoder is fed either with Data or with
// Datagram, not both. (DTLS 1.3's encrypted record numbers are not
// supported.)
func (d *Decoder) Datagram(from Side, t time.Time, b []byte) {
	d.dtls = true
	dir := d.dir(from)
	if dir.dead {
		return
	}
	for len(b) > 0 {
		hdr, err := wire.ParseDTLSRecordHeader(b)
		if err != nil {
			if !dir.started {
				dir.buf = b
				d.notTLS(dir, t, err)
			} else {
				d.problem("after record %d the %s sent a datagram with %d bytes that are not a DTLS record", dir.records, dir.side, len(b))
			}
			return
		}
		n := wire.DTLSRecordHeaderLen + hdr.Length
		if len(b) < n {
			d.problem("the %s sent a datagram that ends inside a DTLS record (%d of %d bytes): truncated by the capture's snap length?", dir.side, len(b), n)
			return
		}
		dir.started = true
		d.dtlsRecord(dir, t, hdr, b[:wire.DTLSRecordHeaderLen], b[wire.DTLSRecordHeaderLen:n])
		if dir.dead {
			return
		}
		b = b[n:]
	}
}

// dtlsRecord handles one complete DTLS record.
func (d *Decoder) dtlsRecord(dir *direction, t time.Time, hdr wire.DTLSRecordHeader, header, payload []byte) {
	if !dir.dtls.replay.fresh(uint64(hdr.Epoch)<<48 | hdr.Seq) {
		dir.dtls.dups++
		return
	}
	dir.records++
	dir.payload += hdr.Length
	base := Event{Time: t, From: dir.side, Record: dir.records, RecordLen: hdr.Length}
	if hdr.Epoch == 0 {
		if hdr.Type == wire.ContentChangeCipherSpec {
			e := base
			e.Type = TypeChangeCipherSpec
			d.add(e)
			if hdr.Version == wire.VersionDTLS10OpenSSL && len(payload) == 3 {
				// Pre-standard OpenSSL gave its ChangeCipherSpec a
				// message_seq; the next handshake message follows it.
				for _, m := range dir.dtls.asm.Consumed(uint16(payload[1])<<8 | uint16(payload[2])) {
					d.handshake(dir, base, m)
				}
			}
			if dir.dtls.epoch == 0 { // not when a reordered record of epoch 1 came first
				d.dtlsNextEpoch(dir)
			}
			return
		}
		d.content(dir, base, hdr.Type, payload)
		return
	}
	base.Encrypted = true
	plain, ctype, err := d.dtlsOpen(dir, hdr.Epoch, header, payload)
	if err != nil {
		d.add(undecrypted(base, hdr.Type, err))
		return
	}
	base.Decrypted = true
	if wire.ContentType(ctype) == wire.ContentChangeCipherSpec {
		e := base
		e.Type = TypeChangeCipherSpec
		e.Note = "renegotiation: the following records use the new handshake's keys"
		d.add(e)
		if dir.dtls.epoch == hdr.Epoch {
			d.dtlsNextEpoch(dir)
		}
		return
	}
	d.content(dir, base, wire.ContentType(ctype), plain)
}

// dtlsNextEpoch moves dir to its next epoch after its ChangeCipherSpec,
// keeping the old keys for records of the old epoch that arrive late.
func (d *Decoder) dtlsNextEpoch(dir *direction) {
	dir.dtls.prev = dir.opener
	dir.dtls.epoch++
	dir.encrypted = true
	d.tls12Keys(dir)
}

// dtlsOpen decrypts a record of the given epoch.
func (d *Decoder) dtlsOpen(dir *direction, epoch uint16, header, payload []byte) ([]byte, uint8, error) {
	if epoch == dir.dtls.epoch+1 && d.serverRandom != nil {
		// The ChangeCipherSpec that started this epoch was lost (or
		// reordered after it): the keys follow from the handshake anyway.
		d.dtlsNextEpoch(dir)
	}
	var o *keysched.Opener
	switch epoch {
	case dir.dtls.epoch:
		o = dir.opener
	case dir.dtls.epoch - 1:
		o = dir.dtls.prev
	default:
		return nil, 0, fmt.Errorf("encrypted under epoch %d, but the %s is in epoch %d", epoch, dir.side, dir.dtls.epoch)
	}
	if o == nil {
		return nil, 0, d.noKey(dir)
	}
	plain, ctype, err := o.OpenDTLS(header, payload)
	if err != nil {
		return nil, 0, d.openFailed(dir, err)
	}
	return plain, ctype, nil
}

// dtlsHandshake reassembles the handshake fragments of one record.
func (d *Decoder) dtlsHandshake(dir *direction, base Event, data []byte) {
	msgs, err := dir.dtls.asm.Write(data, base.Encrypted)
	for _, m := range msgs {
		d.handshake(dir, base, m)
	}
	if err != nil {
		d.problem("the %s sent a malformed DTLS handshake fragment: %v", dir.side, err)
	}
}

// dtlsSummary adds what the DTLS layer dropped to the problems.
func (d *Decoder) dtlsSummary(dir *direction) {
	if n := dir.dtls.asm.Retransmitted; n > 0 {
		d.problem("the %s retransmitted %d DTLS handshake fragments (a flight is resent when no answer comes in time); each message is shown once", dir.side, n)
	}
	if n := dir.dtls.asm.Pending(); n > 0 {
		d.problem("the %s sent %d DTLS handshake messages that were not complete, or whose predecessor never arrived", dir.side, n)
	}
	if n := dir.dtls.dups; n > 0 {
		d.problem("%d DTLS records from the %s appear twice in the capture; the copies were ignored", n, dir.side)
	}
}
