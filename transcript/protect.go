package transcript

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/tlskit/tlskit/internal/keysched"
	"github.com/tlskit/tlskit/internal/wire"
)

// This file is record protection: which records are protected (after a
// TLS 1.2 ChangeCipherSpec, every TLS 1.3 record after ServerHello, 0-RTT
// data), opening them with the direction's opener and the TLS 1.3 key
// generations still to come, and after a gap, finding the sequence number
// again by trial. Where the openers come from is keys.go.

// protection is the decryption state of a direction.
type protection struct {
	// encrypted says TLS 1.2 records from this side are protected (after
	// its ChangeCipherSpec).
	encrypted bool
	// opener decrypts this side's records; epochs are the TLS 1.3 key
	// generations still to come, tried in order when opener fails.
	opener *keysched.Opener
	epochs []epoch
	// failed is set once decryption failed, to report it only once.
	failed bool
	// label is the key log label of the opener's secret (TLS 1.3; ""
	// for TLS 1.2), and opened says a record opened with it. missing is
	// the label this direction needed and the key log lacked.
	label   string
	opened  bool
	missing string
	// After a gap, seqLost says the opener's sequence number must be
	// found again; tries counts the records tried without finding it, and
	// chainResumed says the TLS 1.0 CBC IV was taken from the first record
	// after the gap.
	seqLost      bool
	tries        int
	chainResumed bool
}

// recordsLost notes that records of the direction went missing: if they were
// protected, the sequence number of the next one must be found again.
func (p *protection) recordsLost() {
	p.seqLost = p.opener != nil || p.encrypted || len(p.epochs) > 0
	p.tries = 0
	p.chainResumed = false
}

// record handles one complete TLS record.
func (d *Decoder) record(dir *direction, t time.Time, hdr wire.RecordHeader, header, payload []byte) {
	dir.records++
	dir.payload += hdr.Length
	base := Event{Time: t, From: dir.side, Record: dir.records, RecordLen: hdr.Length}

	if hdr.Type == wire.ContentChangeCipherSpec && !dir.encrypted {
		e := base
		e.Type = TypeChangeCipherSpec
		if d.tls13 || d.hrr || (dir.side == Client && d.earlyOffered && d.version == 0) {
			e.Note = "middlebox compatibility (RFC 8446 §D.4); not a key change in TLS 1.3"
		} else if !dir.encrypted {
			dir.encrypted = true
			d.tls12Keys(dir)
		}
		d.add(e)
		return
	}

	if !dir.encrypted && dir.lost > 0 && !d.tls13 && d.version != 0 && !d.dtls &&
		(hdr.Type == wire.ContentApplicationData || d.dir(dir.side.Other()).encrypted) {
		// Bytes of this direction were lost and its ChangeCipherSpec was
		// not seen, yet it sends application data, or the other side has
		// switched to its keys: the ChangeCipherSpec was in the lost
		// bytes. Its records are protected from here on, at a sequence
		// number found by trial.
		dir.encrypted = true
		d.tls12Keys(dir)
		dir.protection.recordsLost()
		d.problem("the %s's ChangeCipherSpec was in the bytes missing from the capture; its records after them are taken as protected", dir.side)
	}
	if !dir.encrypted && !d.dtls && d.clientRandom == nil && d.serverRandom == nil &&
		(hdr.Type == wire.ContentApplicationData || hdr.Type == wire.ContentAlert && hdr.Length != 2) {
		// No hello was seen (the capture starts mid-connection), yet this
		// side sends application data, which only follows a key change,
		// or an alert that is not the 2 bytes of a plaintext one (as
		// Wireshark reads it: "Encrypted Alert"): its records are
		// protected from here on.
		dir.encrypted = true
	}
	protected := dir.encrypted
	if !protected && hdr.Type == wire.ContentApplicationData {
		// TLS 1.3 protects every record under the application_data outer
		// type (RFC 8446 §5.2), including 0-RTT data before ServerHello.
		protected = d.tls13 || (dir.side == Client && d.earlyOffered)
	}
	if !protected {
		d.content(dir, base, hdr.Type, payload)
		return
	}

	base.Encrypted = true
	plain, ctype, err := d.open(dir, header, payload)
	if err != nil {
		if !d.finished13 {
			d.hsLog.broken = true // it may have held handshake messages
		}
		e := undecrypted(base, hdr.Type, err)
		var early earlyError
		if hdr.Type == wire.ContentApplicationData && d.tls13 && !errors.As(err, &early) {
			e.Note += "; " + guess13(hdr.Length, d.suite)
		}
		d.add(e)
		return
	}
	base.Decrypted = true
	if wire.ContentType(ctype) == wire.ContentChangeCipherSpec && !d.tls13 {
		// A TLS 1.2 renegotiation: the ChangeCipherSpec comes encrypted
		// under the old keys and switches to the new handshake's keys.
		e := base
		e.Type = TypeChangeCipherSpec
		e.Note = "renegotiation: the following records use the new handshake's keys"
		d.add(e)
		d.tls12Keys(dir)
		return
	}
	d.content(dir, base, wire.ContentType(ctype), plain)
}

// undecrypted is the event of a protected record that did not open: an
// alert by its outer type (TLS 1.2 and earlier say so in the clear), else
// an encrypted record, with the reason as its note.
func undecrypted(base Event, outer wire.ContentType, err error) Event {
	e := base
	e.Type = TypeEncrypted
	if outer == wire.ContentAlert {
		e.Type = TypeAlert
	}
	e.Note = err.Error()
	e.unread = err
	return e
}

// guess13 says what an undecryptable TLS 1.3 record probably is, from its
// position and size, as far as that can honestly be told.
func guess13(length int, suite wire.CipherSuite) string {
	tag := 16 // all TLS 1.3 AEADs but AES-CCM-8
	if s, ok := suite.Info(); ok && s.TagLen > 0 {
		tag = s.TagLen
	}
	if length == 2+1+tag {
		return "its size fits an alert (2 bytes + type + tag)"
	}
	return "it may hold handshake messages, an alert or application data"
}

// open decrypts one protected record, moving to the next TLS 1.3 key
// generation when the current key does not fit.
func (d *Decoder) open(dir *direction, header, payload []byte) ([]byte, uint8, error) {
	if dir.opener == nil && len(dir.epochs) == 0 && dir.side == Client && d.earlyOffered && d.version == 0 {
		return d.openEarly(dir, header, payload)
	}
	if dir.opener == nil && len(dir.epochs) > 0 {
		d.nextEpoch(dir)
	}
	if dir.opener == nil {
		return nil, 0, d.noKey(dir)
	}
	if dir.seqLost {
		return d.openAfterGap(dir, header, payload)
	}
	plain, ctype, err := dir.opener.Open(header, payload)
	if err != nil && d.earlySkip(dir) {
		return nil, 0, d.earlyMissing(dir, len(payload))
	}
	for err != nil && len(dir.epochs) > 0 {
		// In TLS 1.3 a side changes keys after its Finished (and the client
		// after 0-RTT data). If the current key fails, try the next one.
		if !d.nextEpoch(dir) {
			break
		}
		plain, ctype, err = dir.opener.Open(header, payload)
	}
	if err != nil {
		return nil, 0, d.openFailed(dir, err)
	}
	dir.opened = true
	return plain, ctype, nil
}

// earlySkip reports whether a client record that did not open with the
// handshake key is 0-RTT data under the early key, which the key log
// lacks: the client offered early data, and no record has opened with the
// handshake key yet. Those records run up to the client's EndOfEarlyData
// when the server accepted early data (RFC 8446 §4.2.10), and the records
// after them use the handshake key, so decryption goes on with it instead
// of giving up on the direction.
func (d *Decoder) earlySkip(dir *direction) bool {
	return dir.side == Client && d.earlyOffered && dir.label == "CLIENT_HANDSHAKE_TRAFFIC_SECRET" && !dir.opened
}

// earlyMissing is the error of a 0-RTT record that cannot be opened because
// the key log has no CLIENT_EARLY_TRAFFIC_SECRET.
func (d *Decoder) earlyMissing(dir *direction, n int) error {
	why := d.missingLabel("CLIENT_EARLY_TRAFFIC_SECRET")
	switch d.earlyAccepted {
	case 1:
		why = "0-RTT data: the server accepted early data, so the client's records up to its EndOfEarlyData use the early key; " + why
		if n == 4+1+d.tagLen() {
			why += "; its size fits EndOfEarlyData (4 bytes + type + tag)"
		}
	case -1:
		why = "0-RTT data, which the server rejected (its EncryptedExtensions has no early_data) and skipped; " + why
	default:
		why = "probably 0-RTT data; " + why
	}
	return earlyError("not decrypted: " + why + "; the records after it use the handshake key")
}

// earlyError is why a 0-RTT record was not decrypted: what it is is known.
type earlyError string

func (e earlyError) Error() string { return string(e) }

// tagLen is the AEAD tag length of the negotiated TLS 1.3 suite.
func (d *Decoder) tagLen() int {
	if s, ok := d.suite.Info(); ok && s.TagLen > 0 {
		return s.TagLen
	}
	return 16
}

// openFailed says why a record of dir did not open: in full the first time,
// then by reference to it.
func (d *Decoder) openFailed(dir *direction, err error) error {
	if dir.failed {
		return errors.New("not decrypted: an earlier record of this direction failed to decrypt")
	}
	dir.failed = true
	with := ""
	if dir.label != "" {
		with = " with the key log's " + dir.label
	}
	if dir.missing != "" {
		return fmt.Errorf("not decrypted%s: %v; the key log has no %s for this connection, which the records before it needed", with, err, dir.missing)
	}
	return fmt.Errorf("not decrypted%s: %v (is the key log for this connection?)", with, err)
}

// openAfterGap opens the first records after a gap, whose sequence number
// is unknown: lost records advanced it. It tries the explicit nonce of TLS
// 1.2 AES-GCM/CCM records (stacks send the sequence number there), then
// numbers near an estimate from the lost bytes and the average record size.
// The record's authentication tag tells the right one. After a few records
// without success it gives up on the direction.
func (d *Decoder) openAfterGap(dir *direction, header, payload []byte) ([]byte, uint8, error) {
	if dir.tries >= 4 {
		return nil, 0, errors.New("not decrypted: records were lost before it, and the decryption could not resume")
	}
	o := dir.opener
	if !dir.chainResumed && o.ResumeChain(payload) {
		dir.chainResumed = true
		return nil, 0, errors.New("not decrypted: records were lost before it, and TLS 1.0 CBC takes each record's IV from the record before; decryption resumes with the next record")
	}
	base := o.Seq()
	avg := wire.RecordHeaderLen + wire.MaxCiphertext/2
	if dir.records > 1 {
		avg = wire.RecordHeaderLen + dir.payload/dir.records
	}
	est := base + uint64(dir.lost/avg)
	var cands []uint64
	if s := o.Suite(); !s.TLS13 && s.Cipher.AEAD() && s.IVLen == 4 && len(payload) >= 8 {
		if n := binary.BigEndian.Uint64(payload); n >= base && n <= est+uint64(dir.lost/16)+64 {
			cands = append(cands, n)
		}
	}
	cands = append(cands, est)
	for delta := uint64(1); delta <= 48; delta++ {
		cands = append(cands, est+delta)
		if est >= base+delta {
			cands = append(cands, est-delta)
		}
	}
	for _, c := range cands {
		o.SetSeq(c)
		if plain, ctype, err := o.Open(header, payload); err == nil {
			dir.seqLost = false
			d.problem("the %s's decryption resumed after the gap at record sequence number %d (%d records lost)", dir.side, c, c-base)
			return plain, ctype, nil
		}
	}
	o.SetSeq(base)
	// TLS 1.3: the lost records may have ended this key generation (the
	// Finished, a KeyUpdate); the next one starts at sequence number 0.
	for i, ep := range dir.epochs {
		secret, ok := d.secret(ep.label)
		if !ok {
			continue
		}
		next, err := d.opener13(uint16(d.suite), secret)
		if err != nil {
			continue
		}
		for c := uint64(0); c <= 48; c++ {
			next.SetSeq(c)
			if plain, ctype, err := next.Open(header, payload); err == nil {
				dir.opener, dir.label, dir.opened = next, ep.label, true
				dir.epochs = dir.epochs[i+1:]
				dir.seqLost = false
				d.problem("the %s's decryption resumed after the gap with its %s key at record sequence number %d: the lost records included the end of its %s", dir.side, ep.name, c, map[string]string{"handshake": "early data", "application": "handshake"}[ep.name])
				return plain, ctype, nil
			}
		}
	}
	if dir.tries++; dir.tries >= 4 {
		d.problem("after the gap, the %s's records could not be decrypted again", dir.side)
	}
	return nil, 0, errors.New("not decrypted: records were lost before it, and its sequence number was not found")
}

// openEarly tries 0-RTT data, sent before ServerHello told us the suite, with
// each TLS 1.3 suite the client offered.
func (d *Decoder) openEarly(dir *direction, header, payload []byte) ([]byte, uint8, error) {
	secret, ok := d.secret("CLIENT_EARLY_TRAFFIC_SECRET")
	if !ok {
		if d.opts.Keys == nil || d.clientRandom == nil {
			return nil, 0, d.noKey(dir)
		}
		return nil, 0, errors.New("encrypted; 0-RTT data: " + d.missingLabel("CLIENT_EARLY_TRAFFIC_SECRET"))
	}
	for _, s := range d.offered13 {
		o, err := d.opener13(uint16(s), secret)
		if err != nil {
			continue
		}
		if plain, ctype, err := o.Open(header, payload); err == nil {
			dir.opener, dir.label, dir.opened = o, "CLIENT_EARLY_TRAFFIC_SECRET", true
			dir.epochs = []epoch{{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "handshake"}, {"CLIENT_TRAFFIC_SECRET_0", "application"}}
			return plain, ctype, nil
		}
	}
	return nil, 0, errors.New("not decrypted: 0-RTT data did not open with CLIENT_EARLY_TRAFFIC_SECRET")
}
