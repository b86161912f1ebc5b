package wire

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/cryptobyte"
)

// SSL 2.0-format ClientHello (RFC 5246 Appendix E.2, RFC 6101 Appendix E,
// and the SSL 2.0 draft's CLIENT-HELLO): the compatibility hello that SSL
// 3.0 and early TLS clients sent so that SSL 2.0 servers could answer too.
// It travels in an SSL 2.0 record with a 2-byte header whose high bit is
// set, and only ever as the client's first record.

// SSLv2HeaderLen is the size of the SSL 2.0 record header that carries an
// SSL 2.0-format ClientHello: the high bit set, then a 15-bit length.
const SSLv2HeaderLen = 2

// sslv2HelloFixed is msg_type(1) + version(2) + cipher_spec_length(2) +
// session_id_length(2) + challenge_length(2).
const sslv2HelloFixed = 9

// sslv2MsgClientHello is SSL 2.0's MSG-CLIENT-HELLO.
const sslv2MsgClientHello = 1

// SSLv2CipherSpec is one 3-byte entry of the cipher specs of an SSL
// 2.0-format ClientHello. An entry whose first byte is zero is a TLS
// cipher suite (RFC 5246 Appendix E.2); the others are SSL 2.0 cipher
// kinds, which SSL 3.0 and TLS cannot negotiate.
type SSLv2CipherSpec uint32

// IsCipherSuite reports whether the spec is a TLS cipher suite, one that
// an SSL 3.0 or TLS server can choose.
func (c SSLv2CipherSpec) IsCipherSuite() bool { return c>>16 == 0 }

// String returns the cipher suite's IANA name, the SSL 2.0 cipher kind's
// name as Wireshark prints it (such as "SSL2_RC4_128_WITH_MD5"), or
// "unknown(0x123456)".
func (c SSLv2CipherSpec) String() string {
	if c.IsCipherSuite() {
		return CipherSuite(c).String()
	}
	switch c {
	case 0x010080:
		return "SSL2_RC4_128_WITH_MD5"
	case 0x020080:
		return "SSL2_RC4_128_EXPORT40_WITH_MD5"
	case 0x030080:
		return "SSL2_RC2_128_CBC_WITH_MD5"
	case 0x040080:
		return "SSL2_RC2_128_CBC_EXPORT40_WITH_MD5"
	case 0x050080:
		return "SSL2_IDEA_128_CBC_WITH_MD5"
	case 0x060040:
		return "SSL2_DES_64_CBC_WITH_MD5"
	case 0x0700c0:
		return "SSL2_DES_192_EDE3_CBC_WITH_MD5"
	}
	s := strconv.FormatUint(uint64(c), 16)
	return "unknown(0x" + strings.Repeat("0", max(0, 6-len(s))) + s + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (c SSLv2CipherSpec) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// SSLv2Hello is what an SSL 2.0-format ClientHello carries beyond the
// fields of a [ClientHello] made from it.
type SSLv2Hello struct {
	// CipherSpecs are all the cipher specs, in order. Those that are
	// cipher suites are also the ClientHello's CipherSuites.
	CipherSpecs []SSLv2CipherSpec `json:"cipher_specs"`
	// Challenge is the challenge (16 to 32 bytes); the ClientHello's Random
	// is it right-aligned in 32 bytes, zero-padded on the left.
	Challenge HexBytes `json:"challenge"`
}

// SSLv2OnlySpecs returns the cipher specs that are not TLS cipher suites.
func (h *SSLv2Hello) SSLv2OnlySpecs() []SSLv2CipherSpec {
	var out []SSLv2CipherSpec
	for _, c := range h.CipherSpecs {
		if !c.IsCipherSuite() {
			out = append(out, c)
		}
	}
	return out
}

// SSLv2ClientHelloLen looks at the start of a client's first bytes for an
// SSL 2.0 record holding a ClientHello and returns the record's length,
// header included. It returns [ErrShort] until it has the 5 bytes that
// tell (the header, the message type and the version), and a
// [*NotTLSError] when the bytes are not such a record: no high bit in the
// header, a message type other than CLIENT-HELLO, or a version other than
// SSL 2.0 (0x0002) or 3.x, or a record too short for a hello.
func SSLv2ClientHelloLen(b []byte) (int, error) {
	const minLen = SSLv2HeaderLen + sslv2HelloFixed + 3 + 16 // one spec, a 16-byte challenge
	if len(b) > 0 && b[0]&0x80 == 0 {
		return 0, &NotTLSError{Header: clip(b), Reason: "not an SSL 2.0 record header (high bit clear)"}
	}
	if len(b) < SSLv2HeaderLen+3 {
		return 0, ErrShort
	}
	n := SSLv2HeaderLen + (int(b[0]&0x7f)<<8 | int(b[1]))
	bad := func(format string, args ...any) (int, error) {
		return 0, &NotTLSError{Header: clip(b), Reason: "not an SSL 2.0 ClientHello: " + fmt.Sprintf(format, args...)}
	}
	switch {
	case b[2] != sslv2MsgClientHello:
		return bad("message type %d is not CLIENT-HELLO (1)", b[2])
	case b[3] != 3 && (b[3] != 0 || b[4] != 2):
		return bad("version 0x%02x%02x is neither SSL 2.0 nor 3.x", b[3], b[4])
	case n < minLen:
		return bad("record of %d bytes is shorter than the smallest hello (%d)", n, minLen)
	}
	return n, nil
}

// clip returns a copy of at most the first RecordHeaderLen bytes of b.
func clip(b []byte) []byte { return append([]byte(nil), b[:min(len(b), RecordHeaderLen)]...) }

// ParseSSLv2ClientHello parses one SSL 2.0 record holding a ClientHello,
// header included, as [SSLv2ClientHelloLen] measured it, and returns it as
// a [ClientHello]: the version it asks for, the cipher specs that are
// cipher suites, the session id, the challenge as random, the null
// compression method, and no extensions block; SSLv2 holds every cipher
// spec and the challenge. The hello's Marshal re-encodes the SSL 2.0
// message (from the message type to the end of the challenge), which is
// what the handshake hash covers.
func ParseSSLv2ClientHello(record []byte) (*ClientHello, error) {
	const what = "SSLv2 ClientHello"
	n, err := SSLv2ClientHelloLen(record)
	if err != nil {
		return nil, errf(what, "%v", err)
	}
	if n != len(record) {
		return nil, errf(what, "record header says %d bytes but %d were given", n, len(record))
	}
	s := cryptobyte.String(record[SSLv2HeaderLen:])
	var typ uint8
	var version, specLen, sidLen, chLen uint16
	if !s.ReadUint8(&typ) || !s.ReadUint16(&version) || !s.ReadUint16(&specLen) || !s.ReadUint16(&sidLen) || !s.ReadUint16(&chLen) {
		return nil, errf(what, "truncated")
	}
	switch {
	case specLen == 0 || specLen%3 != 0:
		return nil, errf(what, "cipher_spec_length %d is not a positive multiple of 3", specLen)
	case sidLen > 32:
		return nil, errf(what, "session_id_length %d exceeds 32", sidLen)
	case chLen < 16 || chLen > 32:
		return nil, errf(what, "challenge_length %d is not between 16 and 32", chLen)
	}
	var specs, sid, challenge cryptobyte.String
	if !s.ReadBytes((*[]byte)(&specs), int(specLen)) || !s.ReadBytes((*[]byte)(&sid), int(sidLen)) || !s.ReadBytes((*[]byte)(&challenge), int(chLen)) {
		return nil, errf(what, "the lengths add up to more than the %d-byte record", len(record))
	}
	if !s.Empty() {
		return nil, errf(what, "%d trailing bytes after the challenge", len(s))
	}
	h := &SSLv2Hello{CipherSpecs: make([]SSLv2CipherSpec, 0, specLen/3), Challenge: HexBytes(challenge)}
	m := &ClientHello{
		Version:            Version(version),
		SessionID:          HexBytes(sid),
		CipherSuites:       []CipherSuite{},
		CompressionMethods: []CompressionMethod{0},
		SSLv2:              h,
	}
	for !specs.Empty() {
		var c uint32
		specs.ReadUint24(&c)
		h.CipherSpecs = append(h.CipherSpecs, SSLv2CipherSpec(c))
		if SSLv2CipherSpec(c).IsCipherSuite() {
			m.CipherSuites = append(m.CipherSuites, CipherSuite(c))
		}
	}
	m.Random = make(HexBytes, 32)
	copy(m.Random[32-len(challenge):], challenge)
	return m, nil
}

// marshalSSLv2 re-encodes the SSL 2.0 message of a hello made by
// ParseSSLv2ClientHello, without the record header.
func (m *ClientHello) marshalSSLv2() []byte {
	h := m.SSLv2
	if len(h.CipherSpecs)*3 > 0xffff || len(m.SessionID) > 0xffff || len(h.Challenge) > 0xffff {
		return nil
	}
	return build(func(b *cryptobyte.Builder) {
		b.AddUint8(sslv2MsgClientHello)
		b.AddUint16(uint16(m.Version))
		b.AddUint16(uint16(len(h.CipherSpecs) * 3))
		b.AddUint16(uint16(len(m.SessionID)))
		b.AddUint16(uint16(len(h.Challenge)))
		for _, c := range h.CipherSpecs {
			b.AddUint24(uint32(c))
		}
		b.AddBytes(m.SessionID)
		b.AddBytes(h.Challenge)
	})
}

// sslv2Specs renders the count and up to max specs, with "…" if there are
// more, or "" for none.
func sslv2Specs(specs []SSLv2CipherSpec, max int) string {
	if len(specs) == 0 {
		return ""
	}
	names := make([]string, 0, max+1)
	for _, c := range specs[:min(len(specs), max)] {
		names = append(names, c.String())
	}
	if len(specs) > max {
		names = append(names, "…")
	}
	return strconv.Itoa(len(specs)) + ": " + strings.Join(names, ", ")
}
