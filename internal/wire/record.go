package wire

import (
	"errors"
	"fmt"
)

// RecordHeaderLen is the size of a TLS record header: type(1), version(2),
// length(2) (RFC 8446 §5.1).
const RecordHeaderLen = 5

// MaxCiphertext is the largest legal record payload: 2^14 plus the 2048
// bytes of expansion RFC 5246 §6.2.3 allows (RFC 8446 §5.2 allows only 256,
// but TLS 1.2 peers may use the full margin).
const MaxCiphertext = 16384 + 2048

// ErrShort is returned when there are not enough bytes yet to decide.
var ErrShort = errors.New("wire: not enough data")

// ErrNotTLS is matched (with errors.Is) by every error saying that bytes
// cannot be TLS records, which usually means the peer speaks another
// protocol; see [Sniff].
var ErrNotTLS = errors.New("wire: not a TLS record")

// NotTLSError describes bytes that cannot start a TLS record. It matches
// [ErrNotTLS] with errors.Is.
type NotTLSError struct {
	// Header is the offending record header bytes (at most 5).
	Header []byte
	// Reason says which field was impossible.
	Reason string
}

// Error implements error.
func (e *NotTLSError) Error() string {
	return fmt.Sprintf("wire: not a TLS record (header % x): %s", e.Header, e.Reason)
}

// Is makes errors.Is(err, ErrNotTLS) true.
func (e *NotTLSError) Is(target error) bool { return target == ErrNotTLS }

// RecordHeader is the plaintext header of a TLS record (RFC 8446 §5.1,
// RFC 5246 §6.2.1).
type RecordHeader struct {
	Type    ContentType `json:"type"`
	Version Version     `json:"version"`
	Length  int         `json:"length"`
}

// ParseRecordHeader parses the 5-byte record header at the start of b. It
// returns [ErrShort] if b is shorter than [RecordHeaderLen] and a
// [*NotTLSError] if the bytes cannot be a TLS record header: an unknown
// content type, a major version other than 3, or a length over
// [MaxCiphertext].
func ParseRecordHeader(b []byte) (RecordHeader, error) {
	if len(b) < RecordHeaderLen {
		return RecordHeader{}, ErrShort
	}
	h := RecordHeader{
		Type:    ContentType(b[0]),
		Version: Version(b[1])<<8 | Version(b[2]),
		Length:  int(b[3])<<8 | int(b[4]),
	}
	bad := func(format string, args ...any) (RecordHeader, error) {
		return RecordHeader{}, &NotTLSError{Header: append([]byte(nil), b[:RecordHeaderLen]...), Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case h.Type < ContentChangeCipherSpec || h.Type > ContentACK:
		return bad("content type %d is not one of 20..26", b[0])
	case b[1] != 3:
		return bad("major version %d is not 3", b[1])
	case h.Length > MaxCiphertext:
		return bad("length %d exceeds the maximum %d", h.Length, MaxCiphertext)
	}
	return h, nil
}

// Record is one TLS record. Payload aliases the buffer it was split from.
type Record struct {
	Header  RecordHeader `json:"header"`
	Payload []byte       `json:"-"`
}

// SplitRecords returns the complete records at the start of b and the number
// of bytes they used. An incomplete record at the end is left for the caller
// to complete; an error is returned only for a header that cannot be TLS,
// together with the records before it.
func SplitRecords(b []byte) (recs []Record, used int, err error) {
	for {
		h, err := ParseRecordHeader(b[used:])
		if err == ErrShort {
			return recs, used, nil
		}
		if err != nil {
			return recs, used, fmt.Errorf("wire: record at offset %d: %w", used, err)
		}
		end := used + RecordHeaderLen + h.Length
		if end > len(b) {
			return recs, used, nil
		}
		recs = append(recs, Record{Header: h, Payload: b[used+RecordHeaderLen : end : end]})
		used = end
	}
}

// Alert is a TLS alert message (RFC 8446 §6).
type Alert struct {
	Level       AlertLevel       `json:"level"`
	Description AlertDescription `json:"description"`
}

// ParseAlert parses the payload of an alert record, which must be exactly
// two bytes. An encrypted alert (longer payload) is reported as such.
func ParseAlert(b []byte) (Alert, error) {
	if len(b) != 2 {
		return Alert{}, fmt.Errorf("wire: alert is %d bytes, want 2 (an encrypted alert cannot be read without keys)", len(b))
	}
	return Alert{Level: AlertLevel(b[0]), Description: AlertDescription(b[1])}, nil
}

// String returns the level and description, such as
// "fatal certificate_required".
func (a Alert) String() string { return a.Level.String() + " " + a.Description.String() }

// maxHandshakeMessage caps the length of one handshake message. The largest
// legitimate messages are certificate chains of a few hundred kilobytes.
const maxHandshakeMessage = 1 << 20

// RawMessage is one handshake message as framed on the wire
// (RFC 8446 §4): type(1) + length(3) + body.
type RawMessage struct {
	Type HandshakeType `json:"type"`
	Body []byte        `json:"-"`
	Raw  []byte        `json:"-"` // header + body, as hashed into the transcript
}

// Assembler reassembles the handshake messages of one direction of a
// connection from the payloads of its handshake records, which may split a
// message across records or pack several into one (RFC 8446 §5.1). The zero
// value is ready to use.
type Assembler struct {
	buf []byte
}

// Write adds the payload of the next handshake record and returns the
// messages it completed. The returned slices do not alias fragment. A
// message that declares a length over 1 MiB is an error, after which the
// Assembler should be discarded.
func (a *Assembler) Write(fragment []byte) ([]RawMessage, error) {
	a.buf = append(a.buf, fragment...)
	var msgs []RawMessage
	off := 0
	for len(a.buf)-off >= 4 {
		n := int(a.buf[off+1])<<16 | int(a.buf[off+2])<<8 | int(a.buf[off+3])
		if n > maxHandshakeMessage {
			return msgs, fmt.Errorf("wire: %v handshake message declares %d bytes, over the %d limit (is this stream really plaintext handshake data?)",
				HandshakeType(a.buf[off]), n, maxHandshakeMessage)
		}
		if len(a.buf)-off < 4+n {
			break
		}
		raw := append([]byte(nil), a.buf[off:off+4+n]...)
		msgs = append(msgs, RawMessage{Type: HandshakeType(raw[0]), Body: raw[4:], Raw: raw})
		off += 4 + n
	}
	a.buf = append(a.buf[:0], a.buf[off:]...)
	return msgs, nil
}

// Pending returns the number of buffered bytes of an unfinished message.
func (a *Assembler) Pending() int { return len(a.buf) }
