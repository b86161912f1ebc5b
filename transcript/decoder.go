package transcript

import (
	"crypto"
	"crypto/md5"
	"crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tlskit/tlskit/internal/keysched"
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
}

// Decoder decodes one TLS connection from the bytes each side sent. Feed it
// with [Decoder.Data] in the order the bytes were seen (the two directions
// interleaved as on the wire), then call [Decoder.Close] if the end was seen,
// and [Decoder.Transcript] for the result. A Decoder is not safe for
// concurrent use.
type Decoder struct {
	opts Options
	tr   Transcript
	dirs [2]direction

	version      wire.Version
	suite        wire.CipherSuite
	clientRandom []byte
	serverRandom []byte
	sessionID    []byte
	tls13        bool
	etm          bool
	ems          bool
	earlyOffered bool
	offered13    []wire.CipherSuite // TLS 1.3 suites in the ClientHello, for 0-RTT trial decryption
	hsLog        [][]byte           // raw TLS 1.2 handshake messages, for the extended master secret
	keyNote      string             // why keys are missing, said once
	ticket       []byte             // the session ticket a TLS 1.2 ClientHello offered
	ms           []byte             // the TLS 1.2 master secret of the current handshake, once derived
	dtls         bool               // fed with Datagram: DTLS records
	summed       bool               // Transcript already added the end-of-input problems
	hrr          bool               // a HelloRetryRequest was seen: TLS 1.3
	capped       bool               // MaxEvents was reached
	scratch      Event              // where events beyond MaxEvents go
}

// direction is the decoding state of the bytes one side sends.
type direction struct {
	side    Side
	buf     []byte
	records int
	asm     wire.Assembler
	dead    bool // stop decoding: not TLS or unrecoverable
	started bool // at least one valid record was seen

	// encrypted says TLS 1.2 records from this side are protected (after
	// its ChangeCipherSpec).
	encrypted bool
	// opener decrypts this side's records; epochs are the TLS 1.3 key
	// generations still to come, tried in order when opener fails.
	opener *keysched.Opener
	epochs []epoch
	// failed is set once decryption failed, to report it only once.
	failed bool
	kept   int

	// After bytes went missing (a capture's gap), resync says the next
	// record boundary must be found again, lost counts the missing bytes,
	// and seqLost says the opener's sequence number must be found again.
	resync  bool
	lost    int
	seqLost bool
	tries   int // records tried since the gap without finding the sequence number
	// chainResumed says the TLS 1.0 CBC IV was taken from the first record
	// after the gap.
	chainResumed bool
	payload      int // payload bytes of the records seen, for estimating how many were lost

	dtls dtlsState
}

// epoch is a TLS 1.3 traffic secret by key log label.
type epoch struct {
	label string
	name  string
}

// NewDecoder returns a decoder for one connection.
func NewDecoder(opts Options) *Decoder {
	if opts.MaxData <= 0 {
		opts.MaxData = 1 << 20
	}
	d := &Decoder{opts: opts}
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

// sslv2Hello decodes an SSL 2.0-format ClientHello (RFC 5246 Appendix E.2)
// at the very start of the client's bytes, the only place one may be: SSL
// 3.0 and early TLS clients began with it so that SSL 2.0 servers could
// answer too. It returns the bytes after the hello, to be decoded as TLS
// records; ok is false while the hello is incomplete (its bytes wait in
// dir.buf). Bytes that do not start such a hello are returned as they are.
func (d *Decoder) sslv2Hello(dir *direction, t time.Time, b []byte) (rest []byte, ok bool) {
	first := b
	if len(dir.buf) > 0 {
		first = dir.buf
	}
	if len(first) > 0 && first[0]&0x80 == 0 {
		return b, true // TLS content types are below 128
	}
	buf := append(dir.buf, b...)
	n, err := wire.SSLv2ClientHelloLen(buf)
	switch {
	case err == wire.ErrShort || err == nil && len(buf) < n:
		dir.buf = buf
		return nil, false
	case err != nil:
		return b, true
	}
	// The hello is kept (the event's message, the handshake hash), and b
	// belongs to the caller: copy it.
	rec := append([]byte(nil), buf[:n]...)
	rest = append([]byte(nil), buf[n:]...)
	dir.buf = dir.buf[:0]
	dir.records++
	dir.started = true
	dir.payload += n - wire.SSLv2HeaderLen
	base := Event{Time: t, From: dir.side, Record: dir.records, RecordLen: n - wire.SSLv2HeaderLen}
	m, err := wire.ParseSSLv2ClientHello(rec)
	if err != nil {
		base.Type = wire.TypeClientHello.String()
		base.Note = err.Error()
		d.add(base)
		d.problem("the client sent an SSL 2.0-format ClientHello that does not parse: %v", err)
		return rest, true
	}
	// The message's fields say "format SSL 2.0". The handshake hash covers
	// the SSL 2.0 message without its record header, which is what the
	// hello marshals to.
	d.message(dir, base, m, rec[wire.SSLv2HeaderLen:])
	return rest, true
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
	dir.seqLost = dir.opener != nil || dir.encrypted || len(dir.epochs) > 0
	dir.tries = 0
	dir.chainResumed = false
	d.add(Event{Time: t, From: from, Type: TypeGap, Bytes: n,
		Note: fmt.Sprintf("%d bytes from the %s are missing from the capture; decoding resumes at the next record boundary", n, from)})
	d.problem("%d bytes sent by the %s are missing from the capture", n, from)
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

// Close records that from ended the connection in the way how, at t.
func (d *Decoder) Close(from Side, t time.Time, how CloseHow) {
	if d.tr.Closed != nil && d.tr.Closed.By == from {
		return
	}
	if dir := d.dir(from); len(dir.buf) > 0 && !dir.dead {
		d.problem("the %s sent %d bytes of an unfinished TLS record before closing", from, len(dir.buf))
		dir.buf = nil
	}
	e := Event{Time: t, From: from, Type: TypeClose, Note: closeNote(how)}
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
		e := undecrypted(base, hdr.Type, err)
		if hdr.Type == wire.ContentApplicationData && d.tls13 {
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
	return e
}

// guess13 says what an undecryptable TLS 1.3 record probably is, from its
// position and size, as far as that can honestly be told.
func guess13(length int, suite wire.CipherSuite) string {
	tag := 16
	if suite == 0x1305 { // TLS_AES_128_CCM_8_SHA256
		tag = 8
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
	return plain, ctype, nil
}

// openFailed says why a record of dir did not open: in full the first time,
// then by reference to it.
func (d *Decoder) openFailed(dir *direction, err error) error {
	if dir.failed {
		return errors.New("not decrypted: an earlier record of this direction failed to decrypt")
	}
	dir.failed = true
	return fmt.Errorf("not decrypted: %v (is the key log for this connection?)", err)
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
		return nil, 0, d.noKey(dir)
	}
	for _, s := range d.offered13 {
		o, err := d.opener13(uint16(s), secret)
		if err != nil {
			continue
		}
		if plain, ctype, err := o.Open(header, payload); err == nil {
			dir.opener = o
			dir.epochs = []epoch{{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "handshake"}, {"CLIENT_TRAFFIC_SECRET_0", "application"}}
			return plain, ctype, nil
		}
	}
	return nil, 0, errors.New("not decrypted: 0-RTT data did not open with CLIENT_EARLY_TRAFFIC_SECRET")
}

// nextEpoch installs the next TLS 1.3 key generation of dir, if its secret is
// known. It reports whether a new opener was installed.
func (d *Decoder) nextEpoch(dir *direction) bool {
	for len(dir.epochs) > 0 {
		ep := dir.epochs[0]
		dir.epochs = dir.epochs[1:]
		secret, ok := d.secret(ep.label)
		if !ok {
			dir.opener = nil
			continue
		}
		o, err := d.opener13(uint16(d.suite), secret)
		if err != nil {
			d.keyProblem(fmt.Sprintf("cannot decrypt %s: %v", d.suite, err))
			dir.opener = nil
			return false
		}
		dir.opener = o
		return true
	}
	return false
}

// opener13 makes a TLS 1.3 opener, for the final protocol or a draft.
func (d *Decoder) opener13(suite uint16, secret []byte) (*keysched.Opener, error) {
	if d.version>>8 == 0x7f {
		return keysched.NewTLS13DraftOpener(suite, secret, int(d.version&0xff))
	}
	return keysched.NewTLS13Opener(suite, secret)
}

// noKey explains why a record of dir cannot be opened.
func (d *Decoder) noKey(dir *direction) error {
	switch {
	case d.opts.Keys == nil:
		return errors.New("encrypted; give a key log to decrypt it")
	case d.clientRandom == nil:
		return errors.New("encrypted; no ClientHello was seen, so the key log entry cannot be found")
	case d.keyNote != "":
		return errors.New("encrypted; " + d.keyNote)
	}
	return fmt.Errorf("encrypted; the key log has no secret for client random %s", shortHex(d.clientRandom))
}

func (d *Decoder) keyProblem(s string) {
	if d.keyNote == "" {
		d.keyNote = s
		d.problem("%s", s)
	}
}

func shortHex(b []byte) string {
	s := hex.EncodeToString(b)
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

func (d *Decoder) secret(label string) ([]byte, bool) {
	if d.opts.Keys == nil || d.clientRandom == nil {
		return nil, false
	}
	return d.opts.Keys.Secret(label, d.clientRandom)
}

// tls12Keys installs the TLS 1.2 (or earlier) opener for dir after its
// ChangeCipherSpec, from whatever form of secret the key log holds.
func (d *Decoder) tls12Keys(dir *direction) {
	dir.opener = nil
	if d.opts.Keys == nil || d.clientRandom == nil || d.serverRandom == nil {
		return
	}
	ms := d.ms
	if ms == nil { // once per handshake: the other side's ChangeCipherSpec reuses it
		var ok bool
		if ms, ok = d.masterSecret(); !ok {
			return
		}
		d.ms = ms
	}
	c, s, err := keysched.NewTLS12Openers(uint16(d.suite), uint16(d.version), ms, d.clientRandom, d.serverRandom, d.etm)
	if err != nil {
		d.keyProblem(fmt.Sprintf("cannot decrypt %s: %v", d.suite, err))
		return
	}
	if dir.side == Client {
		dir.opener = c
	} else {
		dir.opener = s
	}
}

// masterSecret finds the TLS 1.2 master secret: by client random, by session
// id, or from a logged pre-master secret.
func (d *Decoder) masterSecret() ([]byte, bool) {
	keys := d.opts.Keys
	if ms, ok := keys.Secret("CLIENT_RANDOM", d.clientRandom); ok {
		return ms, true
	}
	if len(d.sessionID) > 0 {
		if ms, ok := keys.MasterSecretForSession(d.sessionID); ok {
			return ms, true
		}
	}
	if ms, ok := keys.MasterSecretForTicket(d.ticket); ok {
		return ms, true
	}
	pms, ok := keys.Secret("PMS_CLIENT_RANDOM", d.clientRandom)
	name := d.suite.String()
	if !ok && strings.HasPrefix(name, "TLS_RSA_WITH_") {
		if cke := d.clientKeyExchange(); len(cke) >= 8 {
			pms, ok = keys.DecryptPreMaster(cke)
		}
	}
	if !ok && strings.HasPrefix(name, "TLS_PSK_WITH_") {
		pms, ok = keys.PSKPreMaster()
	}
	if !ok {
		return nil, false
	}
	var ms []byte
	var err error
	if d.ems {
		ms, err = keysched.ExtendedMasterSecret(uint16(d.version), uint16(d.suite), pms, d.sessionHash())
	} else {
		ms, err = keysched.MasterSecret(uint16(d.version), uint16(d.suite), pms, d.clientRandom, d.serverRandom)
	}
	if err != nil {
		d.keyProblem(fmt.Sprintf("cannot derive the master secret: %v", err))
		return nil, false
	}
	// Remember it, as a key log line would, for handshakes that resume
	// this session (by id here, by ticket when NewSessionTicket comes).
	keys.AddSession(d.sessionID, ms)
	return ms, true
}

// clientKeyExchange returns the encrypted pre-master secret of an RSA
// ClientKeyExchange (without its length prefix), if one was seen.
func (d *Decoder) clientKeyExchange() []byte {
	for i := len(d.tr.Events) - 1; i >= 0; i-- {
		if m, ok := d.tr.Events[i].Message.(*wire.ClientKeyExchange); ok {
			b := m.Marshal()
			if len(b) > 2 && int(b[0])<<8|int(b[1]) == len(b)-2 {
				return b[2:]
			}
			return b
		}
	}
	return nil
}

// content dispatches the plaintext of a record by its content type.
func (d *Decoder) content(dir *direction, base Event, ct wire.ContentType, data []byte) {
	switch ct {
	case wire.ContentHandshake:
		if d.dtls {
			d.dtlsHandshake(dir, base, data)
			return
		}
		msgs, err := dir.asm.Write(data)
		for _, m := range msgs {
			d.handshake(dir, base, m)
		}
		if err != nil {
			dir.dead = true
			d.problem("the %s sent a malformed handshake message: %v", dir.side, err)
		}
	case wire.ContentAlert:
		if len(data) == 0 || len(data)%2 != 0 {
			e := base
			e.Type = TypeAlert
			e.Note = fmt.Sprintf("malformed alert of %d bytes", len(data))
			d.add(e)
			return
		}
		for i := 0; i+1 < len(data); i += 2 {
			a, err := wire.ParseAlert(data[i : i+2])
			e := base
			e.Type = TypeAlert
			if err != nil {
				e.Note = err.Error()
				d.add(e)
				continue
			}
			e.Level = a.Level.String()
			e.Description = a.Description.String()
			e.AlertCode = int(a.Description)
			if a.Description == 41 && dir.side == Client {
				e.Note = "SSL 3.0: the client has no certificate to send (TLS sends an empty Certificate message instead)"
			}
			e.alert = &a
			d.add(e)
			if d.dtls && d.tr.Closed == nil && (a.Level == wire.AlertFatal || a.Description == wire.AlertCloseNotify) {
				d.tr.Closed = &Closure{By: dir.side, How: CloseAlert, AfterAlert: e.Level + " " + e.Description, Time: e.Time}
			}
		}
	case wire.ContentApplicationData:
		d.appData(dir, base, data)
	case wire.ContentHeartbeat:
		e := base
		e.Type = TypeHeartbeat
		e.Bytes = len(data)
		d.add(e)
	default:
		e := base
		e.Type = TypeEncrypted
		e.Note = fmt.Sprintf("unknown content type %d", ct)
		d.add(e)
	}
}

// appData merges runs of application data from one side into one event.
func (d *Decoder) appData(dir *direction, base Event, data []byte) {
	var e *Event
	if n := len(d.tr.Events); n > 0 {
		last := &d.tr.Events[n-1]
		if last.Type == TypeApplicationData && last.From == dir.side && last.Decrypted == base.Decrypted {
			e = last
		}
	}
	if e == nil {
		base.Type = TypeApplicationData
		e = d.add(base)
	} else {
		e.RecordLen += base.RecordLen
	}
	e.Records++
	e.Bytes += len(data)
	if d.opts.OnData != nil && base.Decrypted {
		d.opts.OnData(dir.side, base.Time, data)
	}
	if d.opts.KeepData && base.Decrypted && dir.kept < d.opts.MaxData {
		n := min(len(data), d.opts.MaxData-dir.kept)
		e.Data = append(e.Data, data[:n]...)
		dir.kept += n
	}
}

// handshake handles one complete handshake message.
func (d *Decoder) handshake(dir *direction, base Event, raw wire.RawMessage) {
	ctx := wire.Context{Version: d.version, CipherSuite: d.suite}
	msg, err := wire.ParseMessage(raw.Type, raw.Body, ctx)
	if err != nil {
		e := base
		e.Type = raw.Type.String()
		e.Note = err.Error()
		d.add(e)
		d.problem("the %s sent a %s that does not parse: %v", dir.side, raw.Type, err)
		return
	}
	d.message(dir, base, msg, raw.Raw)
}

// message handles one parsed handshake message; hashed is what it adds to
// the handshake hash.
func (d *Decoder) message(dir *direction, base Event, msg wire.Message, hashed []byte) {
	e := base
	e.Type = msg.Type().String()
	e.Message = msg
	e.Fields = wire.Fields(msg)
	if !d.tls13 && len(d.hsLog) < 16 { // enough for any full TLS 1.2 handshake up to ClientKeyExchange
		d.hsLog = append(d.hsLog, hashed)
	}

	switch m := msg.(type) {
	case *wire.ClientHello:
		switch {
		case d.clientRandom == nil || d.version == 0:
			d.clientRandom = append([]byte(nil), m.Random...)
			d.tr.ClientRandom = d.clientRandom
		case !d.tls13:
			// TLS 1.2 renegotiation: the new handshake has its own
			// randoms and master secret; the transcript keeps naming
			// the connection by its first client random.
			d.clientRandom = append([]byte(nil), m.Random...)
			d.hsLog = [][]byte{hashed}
		}
		d.tr.ServerName = SNI(m)
		d.ticket = m.Extensions.Find(wire.ExtSessionTicket).Data
		d.earlyOffered = m.Extensions.Has(wire.ExtEarlyData)
		d.offered13 = nil
		for _, s := range m.CipherSuites {
			if s>>8 == 0x13 {
				d.offered13 = append(d.offered13, s)
			}
		}
	case *wire.HelloVerifyRequest:
		// The ClientHello it answers and the HelloVerifyRequest itself
		// are not part of the handshake hash (RFC 6347 §4.2.1).
		d.hsLog = nil
	case *wire.ServerHello:
		if m.IsHelloRetryRequest() {
			// Only TLS 1.3 has it: the ChangeCipherSpecs around the
			// second ClientHello are middlebox compatibility, not keys.
			e.Type = "hello_retry_request"
			d.hrr = true
			break
		}
		d.serverRandom = append([]byte(nil), m.Random...)
		d.ms = nil // a new handshake: its own master secret
		d.sessionID = append([]byte(nil), m.SessionID...)
		d.suite = m.CipherSuite
		d.version = m.SelectedVersion()
		d.tr.Version, d.tr.CipherSuite = d.version, d.suite
		d.etm = m.Extensions.Has(wire.ExtEncryptThenMAC)
		d.ems = m.Extensions.Has(wire.ExtExtendedMasterSecret)
		if p := ALPN(m.Extensions); p != "" {
			d.tr.ALPN = p
		}
		if d.version == wire.VersionTLS13 || d.version>>8 == 0x7f {
			d.start13()
		}
	case *wire.EncryptedExtensions:
		if p := ALPN(m.Extensions); p != "" {
			d.tr.ALPN = p
		}
		if !m.Extensions.Has(wire.ExtEarlyData) && d.earlyOffered {
			e.Note = "the server did not accept 0-RTT data"
		}
	case *wire.EndOfEarlyData:
		d.nextEpoch(dir)
	case *wire.Finished:
		if d.tls13 {
			// The side's next records use its application traffic secret.
			for len(dir.epochs) > 1 {
				dir.epochs = dir.epochs[1:]
			}
			d.nextEpoch(dir)
		}
	case *wire.NewSessionTicket:
		if !d.tls13 && d.opts.Keys != nil && d.ms != nil {
			// A later handshake may resume with this ticket: remember
			// the session's master secret under it.
			d.opts.Keys.AddTicket(m.Ticket, d.ms)
		}
	case *wire.KeyUpdate:
		if d.tls13 && dir.opener != nil {
			if err := dir.opener.KeyUpdate(); err != nil {
				d.problem("key update from the %s: %v", dir.side, err)
			}
		}
	}
	d.add(e)
}

// start13 switches both directions to TLS 1.3 handshake protection.
func (d *Decoder) start13() {
	d.tls13 = true
	d.hsLog = nil
	srv := d.dir(Server)
	srv.epochs = []epoch{{"SERVER_HANDSHAKE_TRAFFIC_SECRET", "handshake"}, {"SERVER_TRAFFIC_SECRET_0", "application"}}
	srv.opener = nil
	d.nextEpoch(srv)
	cli := d.dir(Client)
	if cli.opener != nil && len(cli.epochs) > 0 {
		return // 0-RTT keys in use; handshake keys follow EndOfEarlyData
	}
	cli.epochs = []epoch{{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "handshake"}, {"CLIENT_TRAFFIC_SECRET_0", "application"}}
	cli.opener = nil
	d.nextEpoch(cli)
	if d.opts.Keys != nil && srv.opener == nil && cli.opener == nil {
		if _, ok := d.secret("CLIENT_RANDOM"); ok {
			d.keyProblem("the key log has a TLS 1.2 CLIENT_RANDOM line for this connection, but it negotiated TLS 1.3, which needs *_TRAFFIC_SECRET lines")
		}
	}
}

// SNI returns the first host name of a ClientHello's server_name extension.
func SNI(ch *wire.ClientHello) string {
	if names, ok := ch.Extensions.Find(wire.ExtServerName).Parsed.([]string); ok && len(names) > 0 {
		return names[0]
	}
	return ""
}

// ALPN returns the (first) protocol of an application_layer_protocol_negotiation
// extension, as a server selects it.
func ALPN(exts wire.Extensions) string {
	if protos, ok := exts.Find(wire.ExtALPN).Parsed.([]string); ok && len(protos) > 0 {
		return protos[0]
	}
	return ""
}

// OfferedVersions returns the versions a ClientHello offers: its
// supported_versions list (GREASE removed), or else its legacy_version.
func OfferedVersions(ch *wire.ClientHello) []wire.Version {
	if vs, ok := ch.Extensions.Find(wire.ExtSupportedVersions).Parsed.([]wire.Version); ok {
		var out []wire.Version
		for _, v := range vs {
			if !v.IsGREASE() {
				out = append(out, v)
			}
		}
		return out
	}
	return []wire.Version{ch.Version}
}

// sessionHash is the RFC 7627 session hash: the hash of the handshake
// messages up to and including the ClientKeyExchange, with the PRF's hash
// (MD5 and SHA-1 concatenated before TLS 1.2).
func (d *Decoder) sessionHash() []byte {
	var msgs []byte
	for _, m := range d.hsLog {
		msgs = append(msgs, m...)
		if len(m) > 0 && wire.HandshakeType(m[0]) == wire.TypeClientKeyExchange {
			break
		}
	}
	if v := d.version; v < wire.VersionTLS12 || v == wire.VersionDTLS10 {
		m := md5.Sum(msgs)
		s := sha1.Sum(msgs)
		return append(m[:], s[:]...)
	}
	h := crypto.SHA256
	if s, ok := keysched.LookupSuite(uint16(d.suite)); ok && s.Hash != 0 {
		h = s.Hash
	}
	hh := h.New()
	hh.Write(msgs)
	return hh.Sum(nil)
}
