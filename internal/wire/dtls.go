package wire

import (
	"encoding/binary"
	"fmt"
)

// DTLSRecordHeaderLen is the size of a DTLS 1.0/1.2 record header: type(1),
// version(2), epoch(2), sequence_number(6), length(2) (RFC 6347 §4.1).
const DTLSRecordHeaderLen = 13

// DTLSHandshakeHeaderLen is the size of a DTLS handshake fragment header:
// msg_type(1), length(3), message_seq(2), fragment_offset(3),
// fragment_length(3) (RFC 6347 §4.2.2).
const DTLSHandshakeHeaderLen = 12

// VersionDTLS10OpenSSL is the version OpenSSL before 0.9.8f sent for DTLS
// 1.0 (DTLS1_BAD_VER), still seen in old captures.
const VersionDTLS10OpenSSL Version = 0x0100

// IsDTLS reports whether v is a DTLS version (including OpenSSL's
// pre-standard 0x0100).
func (v Version) IsDTLS() bool { return v>>8 == 0xfe || v == VersionDTLS10OpenSSL }

// DTLSRecordHeader is the plaintext header of a DTLS 1.0 or 1.2 record.
type DTLSRecordHeader struct {
	Type    ContentType `json:"type"`
	Version Version     `json:"version"`
	// Epoch counts the key changes of the sender; 0 is plaintext.
	Epoch uint16 `json:"epoch"`
	// Seq is the 48-bit record sequence number within the epoch.
	Seq    uint64 `json:"seq"`
	Length int    `json:"length"`
}

// ParseDTLSRecordHeader parses the 13-byte DTLS record header at the start
// of b. It returns [ErrShort] if b is shorter than [DTLSRecordHeaderLen]
// and a [*NotTLSError] if the bytes cannot be a DTLS 1.0/1.2 record header:
// an unknown content type, a version that is not DTLS, or a length over
// [MaxCiphertext]. (DTLS 1.3's unified header is not parsed.)
func ParseDTLSRecordHeader(b []byte) (DTLSRecordHeader, error) {
	if len(b) < DTLSRecordHeaderLen {
		return DTLSRecordHeader{}, ErrShort
	}
	h := DTLSRecordHeader{
		Type:    ContentType(b[0]),
		Version: Version(binary.BigEndian.Uint16(b[1:])),
		Epoch:   binary.BigEndian.Uint16(b[3:]),
		Seq:     uint64(binary.BigEndian.Uint16(b[5:]))<<32 | uint64(binary.BigEndian.Uint32(b[7:])),
		Length:  int(binary.BigEndian.Uint16(b[11:])),
	}
	bad := func(format string, args ...any) (DTLSRecordHeader, error) {
		return DTLSRecordHeader{}, &NotTLSError{Header: append([]byte(nil), b[:DTLSRecordHeaderLen]...), Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case h.Type < ContentChangeCipherSpec || h.Type > ContentACK:
		return bad("content type %d is not one of 20..26", b[0])
	case !h.Version.IsDTLS():
		return bad("version 0x%04x is not DTLS", uint16(h.Version))
	case h.Length > MaxCiphertext:
		return bad("length %d exceeds the maximum %d", h.Length, MaxCiphertext)
	}
	return h, nil
}

// DTLSAssembler reassembles the handshake messages of one direction of a
// DTLS connection (RFC 6347 §4.2.2–4.2.4): a message may be cut into
// fragments carried by several records, fragments may arrive out of order
// or twice, and a whole flight is retransmitted when the peer did not
// answer in time. Messages come out once each, in message_seq order. The
// zero value is ready to use.
type DTLSAssembler struct {
	next    uint16 // message_seq of the next message to deliver
	started bool
	pending []*dtlsMessage
	// Retransmitted counts handshake fragments of messages already
	// delivered: retransmitted flights.
	Retransmitted int
	restart       restartPoint // the hello that began the current renegotiation
}

// restartPoint names the hello a renegotiation began with, so that its
// retransmission is not taken for yet another handshake.
type restartPoint struct {
	typ HandshakeType
	seq uint16
	set bool
}

// dtlsMessage is a message being reassembled.
type dtlsMessage struct {
	typ    HandshakeType
	seq    uint16
	body   []byte
	filled []span // received byte ranges of body, sorted and merged
}

type span struct{ from, to int }

func (m *dtlsMessage) complete() bool {
	return len(m.body) == 0 || len(m.filled) == 1 && m.filled[0] == span{0, len(m.body)}
}

// add merges a received range into filled.
func (m *dtlsMessage) add(s span) {
	out := m.filled[:0:0]
	for _, f := range m.filled {
		if f.to < s.from || s.to < f.from {
			out = append(out, f)
			continue
		}
		s = span{min(s.from, f.from), max(s.to, f.to)}
	}
	out = append(out, s)
	for i := len(out) - 1; i > 0 && out[i].from < out[i-1].from; i-- {
		out[i], out[i-1] = out[i-1], out[i]
	}
	m.filled = out
}

// maxPendingDTLS bounds the messages held while an earlier one is missing.
const maxPendingDTLS = 8

// Write adds the payload of one handshake record (one or more fragments)
// and returns the messages it completed, in order. newHandshake says the
// record may start a new handshake (a renegotiation, whose message_seq
// starts again at 0): a hello with a lower message_seq is then taken as
// new rather than as a retransmission. Each RawMessage's Raw is the message
// with a DTLS handshake header as one unfragmented piece, which is how
// DTLS hashes it (RFC 6347 §4.2.6). The returned slices do not alias
// payload.
func (a *DTLSAssembler) Write(payload []byte, newHandshake bool) ([]RawMessage, error) {
	var msgs []RawMessage
	for len(payload) > 0 {
		if len(payload) < DTLSHandshakeHeaderLen {
			return msgs, fmt.Errorf("wire: DTLS handshake fragment header truncated: %d bytes, want 12", len(payload))
		}
		typ := HandshakeType(payload[0])
		length := int(payload[1])<<16 | int(payload[2])<<8 | int(payload[3])
		seq := binary.BigEndian.Uint16(payload[4:])
		off := int(payload[6])<<16 | int(payload[7])<<8 | int(payload[8])
		n := int(payload[9])<<16 | int(payload[10])<<8 | int(payload[11])
		switch {
		case length > maxHandshakeMessage:
			return msgs, fmt.Errorf("wire: DTLS %v message declares %d bytes, over the %d limit", typ, length, maxHandshakeMessage)
		case off+n > length:
			return msgs, fmt.Errorf("wire: DTLS %v fragment %d+%d overruns the message length %d", typ, off, n, length)
		case len(payload)-DTLSHandshakeHeaderLen < n:
			return msgs, fmt.Errorf("wire: DTLS %v fragment of %d bytes, but the record holds only %d", typ, n, len(payload)-DTLSHandshakeHeaderLen)
		}
		frag := payload[DTLSHandshakeHeaderLen : DTLSHandshakeHeaderLen+n]
		payload = payload[DTLSHandshakeHeaderLen+n:]

		if a.started && seq < a.next {
			again := a.restart == (restartPoint{typ, seq, true}) // the hello that started this handshake, resent
			if !newHandshake || !startsHandshake(typ) || again {
				a.Retransmitted++
				continue
			}
			a.next, a.pending = seq, nil // a new handshake
			a.restart = restartPoint{typ, seq, true}
		}
		if !a.started {
			a.started, a.next = true, seq
		}
		m := a.find(seq)
		if m == nil {
			if len(a.pending) >= maxPendingDTLS {
				return msgs, fmt.Errorf("wire: DTLS handshake message %d never arrived; %d later messages are waiting", a.next, len(a.pending))
			}
			m = &dtlsMessage{typ: typ, seq: seq, body: make([]byte, length)}
			a.pending = append(a.pending, m)
		}
		if m.typ != typ || len(m.body) != length {
			return msgs, fmt.Errorf("wire: DTLS message_seq %d is a %v of %d bytes in one fragment and a %v of %d bytes in another", seq, m.typ, len(m.body), typ, length)
		}
		copy(m.body[off:], frag)
		if n > 0 {
			m.add(span{off, off + n})
		}
		msgs = a.deliver(msgs)
	}
	return msgs, nil
}

// startsHandshake reports whether a message of type t can begin a
// handshake.
func startsHandshake(t HandshakeType) bool {
	return t == TypeClientHello || t == TypeHelloRequest || t == TypeServerHello || t == TypeHelloVerifyRequest
}

func (a *DTLSAssembler) find(seq uint16) *dtlsMessage {
	for _, m := range a.pending {
		if m.seq == seq {
			return m
		}
	}
	return nil
}

// deliver appends the complete messages that are next in order.
func (a *DTLSAssembler) deliver(msgs []RawMessage) []RawMessage {
	for {
		m := a.find(a.next)
		if m == nil || !m.complete() {
			return msgs
		}
		raw := make([]byte, DTLSHandshakeHeaderLen+len(m.body))
		n := len(m.body)
		raw[0] = byte(m.typ)
		raw[1], raw[2], raw[3] = byte(n>>16), byte(n>>8), byte(n)
		binary.BigEndian.PutUint16(raw[4:], m.seq)
		raw[9], raw[10], raw[11] = byte(n>>16), byte(n>>8), byte(n)
		copy(raw[DTLSHandshakeHeaderLen:], m.body)
		msgs = append(msgs, RawMessage{Type: m.typ, Body: raw[DTLSHandshakeHeaderLen:], Raw: raw})
		if m.typ == TypeFinished {
			a.restart = restartPoint{} // done: the next hello starts a handshake of its own
		}
		for i, p := range a.pending {
			if p == m {
				a.pending = append(a.pending[:i], a.pending[i+1:]...)
				break
			}
		}
		a.next++
	}
}

// Consumed records that message_seq seq was used by something other than
// a handshake message: OpenSSL's pre-standard DTLS (version 0x0100) numbered
// its ChangeCipherSpec messages too. It returns the messages this lets
// through.
func (a *DTLSAssembler) Consumed(seq uint16) []RawMessage {
	if !a.started || seq != a.next {
		return nil
	}
	a.next++
	return a.deliver(nil)
}

// Pending returns the number of messages started but not delivered.
func (a *DTLSAssembler) Pending() int { return len(a.pending) }
