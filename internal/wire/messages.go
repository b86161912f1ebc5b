package wire

import (
	"bytes"
	"encoding/json"

	"golang.org/x/crypto/cryptobyte"
)

// Context tells [ParseMessage] what the conversation negotiated so far,
// because several encodings depend on it: Certificate, CertificateRequest
// and NewSessionTicket differ between TLS 1.2 and 1.3, and
// ServerKeyExchange and ClientKeyExchange depend on the cipher suite's key
// exchange. A zero field means "not known yet"; the parser then tries the
// plausible encodings in turn.
type Context struct {
	Version     Version     `json:"version"`
	CipherSuite CipherSuite `json:"cipher_suite"`
}

// Message is a parsed handshake message.
type Message interface {
	// Type returns the handshake type the message is framed with.
	Type() HandshakeType
	// Marshal re-encodes the body (without the 4-byte handshake header). For
	// a parsed message it returns exactly the bytes that were parsed. It
	// returns nil if a field is too long for its length prefix.
	Marshal() []byte
}

// ParseMessage decodes the body of a handshake message of type typ. Unknown
// types, and types whose encoding this package does not decode, return an
// [*Unknown] and no error. A malformed body of a known type returns an error
// naming the field that was wrong, such as
// "wire: ClientHello: cipher_suites length 3 is odd".
func ParseMessage(typ HandshakeType, body []byte, ctx Context) (Message, error) {
	switch typ {
	case TypeHelloRequest:
		return parseEmpty[HelloRequest](body, "HelloRequest")
	case TypeClientHello:
		return parseClientHello(body)
	case TypeServerHello:
		return parseServerHello(body)
	case TypeHelloVerifyRequest:
		return parseHelloVerifyRequest(body)
	case TypeNewSessionTicket:
		return parseNewSessionTicket(body, ctx)
	case TypeEndOfEarlyData:
		return parseEmpty[EndOfEarlyData](body, "EndOfEarlyData")
	case TypeEncryptedExtensions:
		exts, err := parseExtensionBlock(body, "EncryptedExtensions", inEncryptedExtensions)
		if err != nil {
			return nil, err
		}
		return &EncryptedExtensions{Extensions: exts}, nil
	case TypeCertificate:
		return parseCertificate(body, ctx)
	case TypeServerKeyExchange:
		return parseServerKeyExchange(body, ctx)
	case TypeCertificateRequest:
		return parseCertificateRequest(body, ctx)
	case TypeServerHelloDone:
		return parseEmpty[ServerHelloDone](body, "ServerHelloDone")
	case TypeCertificateVerify:
		return parseCertificateVerify(body, ctx)
	case TypeClientKeyExchange:
		return parseClientKeyExchange(body, ctx), nil
	case TypeFinished:
		return &Finished{VerifyData: body}, nil
	case TypeCertificateStatus:
		return parseCertificateStatus(body, "CertificateStatus")
	case TypeKeyUpdate:
		if len(body) != 1 {
			return nil, errf("KeyUpdate", "body is %d bytes, want 1 (request_update)", len(body))
		}
		return &KeyUpdate{RequestUpdate: KeyUpdateRequest(body[0])}, nil
	case TypeCompressedCertificate:
		return parseCompressedCertificate(body)
	case TypeMessageHash:
		return &MessageHash{Hash: body}, nil
	}
	return &Unknown{Typ: typ, Body: body}, nil
}

// build runs f on a fresh builder and returns the bytes, or nil if a length
// prefix overflowed.
func build(f func(b *cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	f(&b)
	out, err := b.Bytes()
	if err != nil {
		return nil
	}
	if out == nil {
		out = []byte{}
	}
	return out
}

func addU8Bytes(b *cryptobyte.Builder, v []byte) {
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(v) })
}

func addU16Bytes(b *cryptobyte.Builder, v []byte) {
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(v) })
}

func addU24Bytes(b *cryptobyte.Builder, v []byte) {
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(v) })
}

// emptyMessage is implemented by the messages with an empty body.
type emptyMessage interface {
	HelloRequest | EndOfEarlyData | ServerHelloDone
}

func parseEmpty[T emptyMessage](body []byte, name string) (Message, error) {
	if len(body) != 0 {
		return nil, errf(name, "body is %d bytes, want empty", len(body))
	}
	var m T
	return any(&m).(Message), nil
}

// HelloRequest asks the client to renegotiate (RFC 5246 §7.4.1.1).
type HelloRequest struct{}

// Type returns TypeHelloRequest.
func (*HelloRequest) Type() HandshakeType { return TypeHelloRequest }

// Marshal returns the empty body.
func (*HelloRequest) Marshal() []byte { return []byte{} }

// EndOfEarlyData ends the client's 0-RTT data (RFC 8446 §4.5).
type EndOfEarlyData struct{}

// Type returns TypeEndOfEarlyData.
func (*EndOfEarlyData) Type() HandshakeType { return TypeEndOfEarlyData }

// Marshal returns the empty body.
func (*EndOfEarlyData) Marshal() []byte { return []byte{} }

// ServerHelloDone ends the server's TLS 1.2 flight (RFC 5246 §7.4.5).
type ServerHelloDone struct{}

// Type returns TypeServerHelloDone.
func (*ServerHelloDone) Type() HandshakeType { return TypeServerHelloDone }

// Marshal returns the empty body.
func (*ServerHelloDone) Marshal() []byte { return []byte{} }

// ClientHello is the client's first message (RFC 8446 §4.1.2,
// RFC 5246 §7.4.1.2, and RFC 6347 §4.2.1 for the DTLS cookie).
type ClientHello struct {
	Version            Version             `json:"legacy_version"`
	Random             HexBytes            `json:"random"`
	SessionID          HexBytes            `json:"session_id"`
	Cookie             HexBytes            `json:"cookie,omitempty"` // DTLS only
	CipherSuites       []CipherSuite       `json:"cipher_suites"`
	CompressionMethods []CompressionMethod `json:"compression_methods"`
	// Extensions is nil when the message has no extensions block at all
	// (SSL 3.0 style) and non-nil, possibly empty, otherwise.
	Extensions Extensions `json:"extensions"`
	// SSLv2 is set when the hello came in SSL 2.0 format
	// ([ParseSSLv2ClientHello]): its cipher specs and challenge.
	SSLv2 *SSLv2Hello `json:"sslv2,omitempty"`
}

// Type returns TypeClientHello.
func (*ClientHello) Type() HandshakeType { return TypeClientHello }

func isDTLS(v Version) bool { return v.IsDTLS() }

func parseClientHello(body []byte) (*ClientHello, error) {
	const what = "ClientHello"
	s := cryptobyte.String(body)
	m := &ClientHello{}
	var random, sid, cookie, suites, comp cryptobyte.String
	if !s.ReadUint16((*uint16)(&m.Version)) {
		return nil, errf(what, "legacy_version: truncated")
	}
	if !s.ReadBytes((*[]byte)(&random), 32) {
		return nil, errf(what, "random: truncated, want 32 bytes")
	}
	if !s.ReadUint8LengthPrefixed(&sid) {
		return nil, errf(what, "legacy_session_id: truncated")
	}
	if len(sid) > 32 {
		return nil, errf(what, "legacy_session_id length %d exceeds 32", len(sid))
	}
	if isDTLS(m.Version) {
		if !s.ReadUint8LengthPrefixed(&cookie) {
			return nil, errf(what, "cookie: truncated")
		}
		m.Cookie = HexBytes(cookie)
	}
	if !s.ReadUint16LengthPrefixed(&suites) {
		return nil, errf(what, "cipher_suites: truncated")
	}
	if len(suites)%2 != 0 {
		return nil, errf(what, "cipher_suites length %d is odd", len(suites))
	}
	m.CipherSuites = make([]CipherSuite, 0, len(suites)/2)
	for !suites.Empty() {
		var c uint16
		suites.ReadUint16(&c)
		m.CipherSuites = append(m.CipherSuites, CipherSuite(c))
	}
	if !s.ReadUint8LengthPrefixed(&comp) {
		return nil, errf(what, "legacy_compression_methods: truncated")
	}
	m.CompressionMethods = make([]CompressionMethod, len(comp))
	for i, c := range comp {
		m.CompressionMethods[i] = CompressionMethod(c)
	}
	m.Random, m.SessionID = HexBytes(random), HexBytes(sid)
	if s.Empty() {
		return m, nil
	}
	exts, err := parseExtensions(&s, what, inClientHello)
	if err != nil {
		return nil, err
	}
	if !s.Empty() {
		return nil, errf(what, "%d trailing bytes after the extensions", len(s))
	}
	m.Extensions = exts
	return m, nil
}

// Marshal re-encodes the body; for a hello in SSL 2.0 format, the SSL 2.0
// message from its type to the end of the challenge.
func (m *ClientHello) Marshal() []byte {
	if m.SSLv2 != nil {
		return m.marshalSSLv2()
	}
	return build(func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(m.Version))
		b.AddBytes(m.Random)
		addU8Bytes(b, m.SessionID)
		if isDTLS(m.Version) {
			addU8Bytes(b, m.Cookie)
		}
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, c := range m.CipherSuites {
				b.AddUint16(uint16(c))
			}
		})
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, c := range m.CompressionMethods {
				b.AddUint8(uint8(c))
			}
		})
		if m.Extensions != nil {
			m.Extensions.marshal(b)
		}
	})
}

// helloRetryRequestRandom is SHA-256("HelloRetryRequest"), the random of a
// HelloRetryRequest (RFC 8446 §4.1.3).
const helloRetryRequestRandom = "\xcf\x21\xad\x74\xe5\x9a\x61\x11\xbe\x1d\x8c\x02\x1e\x65\xb8\x91" +
	"\xc2\xa2\x11\x16\x7a\xbb\x8c\x5e\x07\x9e\x09\xe2\xc8\xa8\x33\x9c"

// ServerHello is the server's answer to a ClientHello, and in TLS 1.3 also
// the HelloRetryRequest (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3).
type ServerHello struct {
	Version           Version           `json:"legacy_version"`
	Random            HexBytes          `json:"random"`
	SessionID         HexBytes          `json:"session_id"`
	CipherSuite       CipherSuite       `json:"cipher_suite"`
	CompressionMethod CompressionMethod `json:"compression_method"`
	// Extensions is nil when the message has no extensions block.
	Extensions Extensions `json:"extensions"`
}

// Type returns TypeServerHello.
func (*ServerHello) Type() HandshakeType { return TypeServerHello }

// IsHelloRetryRequest reports whether m is a TLS 1.3 HelloRetryRequest,
// recognized by its special random (RFC 8446 §4.1.3).
func (m *ServerHello) IsHelloRetryRequest() bool {
	return string(m.Random) == helloRetryRequestRandom
}

// SelectedVersion returns the version the server chose: the
// supported_versions extension if present (TLS 1.3), else legacy_version.
func (m *ServerHello) SelectedVersion() Version {
	if v, ok := m.Extensions.Find(ExtSupportedVersions).Parsed.(Version); ok {
		return v
	}
	return m.Version
}

func parseServerHello(body []byte) (*ServerHello, error) {
	what := "ServerHello"
	s := cryptobyte.String(body)
	m := &ServerHello{}
	var random, sid cryptobyte.String
	var comp uint8
	if !s.ReadUint16((*uint16)(&m.Version)) {
		return nil, errf(what, "legacy_version: truncated")
	}
	if !s.ReadBytes((*[]byte)(&random), 32) {
		return nil, errf(what, "random: truncated, want 32 bytes")
	}
	m.Random = HexBytes(random)
	if m.isDraftFormat() {
		// TLS 1.3 drafts before 22 had no legacy_session_id_echo and no
		// legacy_compression_method (draft-ietf-tls-tls13-21 §4.1.3).
		if !s.ReadUint16((*uint16)(&m.CipherSuite)) {
			return nil, errf(what, "cipher_suite: truncated")
		}
		exts, err := parseExtensions(&s, what, inServerHello)
		if err != nil {
			return nil, err
		}
		if !s.Empty() {
			return nil, errf(what, "%d trailing bytes after the extensions", len(s))
		}
		m.Extensions = exts
		return m, nil
	}
	if !s.ReadUint8LengthPrefixed(&sid) {
		return nil, errf(what, "legacy_session_id: truncated")
	}
	if len(sid) > 32 {
		return nil, errf(what, "legacy_session_id length %d exceeds 32", len(sid))
	}
	m.SessionID = HexBytes(sid)
	if !s.ReadUint16((*uint16)(&m.CipherSuite)) {
		return nil, errf(what, "cipher_suite: truncated")
	}
	if !s.ReadUint8(&comp) {
		return nil, errf(what, "legacy_compression_method: truncated")
	}
	m.CompressionMethod = CompressionMethod(comp)
	if s.Empty() {
		return m, nil
	}
	where := inServerHello
	if m.IsHelloRetryRequest() {
		what, where = "HelloRetryRequest", inHelloRetryRequest
	}
	exts, err := parseExtensions(&s, what, where)
	if err != nil {
		return nil, err
	}
	if !s.Empty() {
		return nil, errf(what, "%d trailing bytes after the extensions", len(s))
	}
	m.Extensions = exts
	return m, nil
}

// isDraftFormat reports a ServerHello of a TLS 1.3 draft before 22, whose
// version field is the negotiated draft (0x7f00 + n).
func (m *ServerHello) isDraftFormat() bool {
	return m.Version>>8 == 0x7f && m.Version&0xff < 22
}

// Marshal re-encodes the body.
func (m *ServerHello) Marshal() []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(m.Version))
		b.AddBytes(m.Random)
		if m.isDraftFormat() {
			b.AddUint16(uint16(m.CipherSuite))
			m.Extensions.marshal(b)
			return
		}
		addU8Bytes(b, m.SessionID)
		b.AddUint16(uint16(m.CipherSuite))
		b.AddUint8(uint8(m.CompressionMethod))
		if m.Extensions != nil {
			m.Extensions.marshal(b)
		}
	})
}

// HelloVerifyRequest is the DTLS server's stateless cookie challenge
// (RFC 6347 §4.2.1).
type HelloVerifyRequest struct {
	Version Version  `json:"server_version"`
	Cookie  HexBytes `json:"cookie"`
}

// Type returns TypeHelloVerifyRequest.
func (*HelloVerifyRequest) Type() HandshakeType { return TypeHelloVerifyRequest }

func parseHelloVerifyRequest(body []byte) (*HelloVerifyRequest, error) {
	s := cryptobyte.String(body)
	m := &HelloVerifyRequest{}
	var cookie cryptobyte.String
	if !s.ReadUint16((*uint16)(&m.Version)) || !s.ReadUint8LengthPrefixed(&cookie) {
		return nil, errf("HelloVerifyRequest", "truncated")
	}
	if !s.Empty() {
		return nil, errf("HelloVerifyRequest", "%d trailing bytes after the cookie", len(s))
	}
	m.Cookie = HexBytes(cookie)
	return m, nil
}

// Marshal re-encodes the body.
func (m *HelloVerifyRequest) Marshal() []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(m.Version))
		addU8Bytes(b, m.Cookie)
	})
}

// NewSessionTicket carries a session ticket: the TLS 1.2 form of RFC 5077
// §3.3 or the TLS 1.3 form of RFC 8446 §4.6.1.
type NewSessionTicket struct {
	TLS13 bool `json:"tls13"`
	// Lifetime is ticket_lifetime (TLS 1.3) or ticket_lifetime_hint (TLS
	// 1.2), in seconds.
	Lifetime   uint32     `json:"lifetime"`
	AgeAdd     uint32     `json:"age_add,omitempty"` // TLS 1.3
	Nonce      HexBytes   `json:"nonce,omitempty"`   // TLS 1.3
	Ticket     HexBytes   `json:"ticket"`
	Extensions Extensions `json:"extensions,omitempty"` // TLS 1.3
}

// Type returns TypeNewSessionTicket.
func (*NewSessionTicket) Type() HandshakeType { return TypeNewSessionTicket }

func parseNewSessionTicket(body []byte, ctx Context) (*NewSessionTicket, error) {
	const what = "NewSessionTicket"
	parse12 := func() (*NewSessionTicket, error) {
		s := cryptobyte.String(body)
		m := &NewSessionTicket{}
		var ticket cryptobyte.String
		if !s.ReadUint32(&m.Lifetime) || !s.ReadUint16LengthPrefixed(&ticket) {
			return nil, errf(what, "TLS 1.2 ticket: truncated")
		}
		if !s.Empty() {
			return nil, errf(what, "%d trailing bytes after the TLS 1.2 ticket", len(s))
		}
		m.Ticket = HexBytes(ticket)
		return m, nil
	}
	parse13 := func() (*NewSessionTicket, error) {
		s := cryptobyte.String(body)
		m := &NewSessionTicket{TLS13: true}
		var nonce, ticket cryptobyte.String
		switch {
		case !s.ReadUint32(&m.Lifetime):
			return nil, errf(what, "ticket_lifetime: truncated")
		case !s.ReadUint32(&m.AgeAdd):
			return nil, errf(what, "ticket_age_add: truncated")
		case !s.ReadUint8LengthPrefixed(&nonce):
			return nil, errf(what, "ticket_nonce: truncated")
		case !s.ReadUint16LengthPrefixed(&ticket) || len(ticket) == 0:
			return nil, errf(what, "ticket: truncated or empty")
		}
		exts, err := parseExtensions(&s, what, inNewSessionTicket)
		if err != nil {
			return nil, err
		}
		if !s.Empty() {
			return nil, errf(what, "%d trailing bytes after the extensions", len(s))
		}
		m.Nonce, m.Ticket, m.Extensions = HexBytes(nonce), HexBytes(ticket), exts
		return m, nil
	}
	switch {
	case ctx.Version.IsTLS13():
		return parse13()
	case ctx.Version != 0:
		return parse12()
	}
	if m, err := parse12(); err == nil {
		return m, nil
	}
	return parse13()
}

// Marshal re-encodes the body.
func (m *NewSessionTicket) Marshal() []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint32(m.Lifetime)
		if !m.TLS13 {
			addU16Bytes(b, m.Ticket)
			return
		}
		b.AddUint32(m.AgeAdd)
		addU8Bytes(b, m.Nonce)
		addU16Bytes(b, m.Ticket)
		m.Extensions.marshal(b)
	})
}

// EncryptedExtensions carries the TLS 1.3 server's extensions that are not
// needed to establish keys (RFC 8446 §4.3.1).
type EncryptedExtensions struct {
	Extensions Extensions `json:"extensions"`
}

// Type returns TypeEncryptedExtensions.
func (*EncryptedExtensions) Type() HandshakeType { return TypeEncryptedExtensions }

// Marshal re-encodes the body.
func (m *EncryptedExtensions) Marshal() []byte {
	return build(func(b *cryptobyte.Builder) { m.Extensions.marshal(b) })
}

// Certificate carries a certificate chain, leaf first: in TLS 1.2 a list of
// DER certificates (RFC 5246 §7.4.2), in TLS 1.3 a request context and
// entries with extensions (RFC 8446 §4.4.2). An empty list from a client
// means it has no certificate to offer.
type Certificate struct {
	TLS13          bool               `json:"tls13"`
	RequestContext HexBytes           `json:"request_context,omitempty"` // TLS 1.3
	Entries        []CertificateEntry `json:"entries"`
}

// CertificateEntry is one certificate and, in TLS 1.3, its extensions
// (status_request with an OCSP response, signed_certificate_timestamp).
type CertificateEntry struct {
	Data       []byte     `json:"-"` // DER, or a SubjectPublicKeyInfo for raw public keys
	Extensions Extensions `json:"extensions,omitempty"`
}

// MarshalJSON shows the size of the certificate rather than its bytes.
func (e CertificateEntry) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Size       int        `json:"size"`
		Extensions Extensions `json:"extensions,omitempty"`
	}{len(e.Data), e.Extensions})
}

// Type returns TypeCertificate.
func (*Certificate) Type() HandshakeType { return TypeCertificate }

// Certificates returns the DER certificates, leaf first.
func (m *Certificate) Certificates() [][]byte {
	out := make([][]byte, len(m.Entries))
	for i, e := range m.Entries {
		out[i] = e.Data
	}
	return out
}

func parseCertificate(body []byte, ctx Context) (*Certificate, error) {
	const what = "Certificate"
	parse := func(tls13 bool) (*Certificate, error) {
		s := cryptobyte.String(body)
		m := &Certificate{TLS13: tls13, Entries: []CertificateEntry{}}
		var reqCtx, list cryptobyte.String
		if tls13 && !s.ReadUint8LengthPrefixed(&reqCtx) {
			return nil, errf(what, "certificate_request_context: truncated")
		}
		if !s.ReadUint24LengthPrefixed(&list) {
			return nil, errf(what, "certificate_list: truncated")
		}
		if !s.Empty() {
			return nil, errf(what, "%d trailing bytes after certificate_list", len(s))
		}
		m.RequestContext = HexBytes(reqCtx)
		for !list.Empty() {
			var cert cryptobyte.String
			if !list.ReadUint24LengthPrefixed(&cert) || len(cert) == 0 {
				return nil, errf(what, "certificate %d: truncated or empty", len(m.Entries))
			}
			e := CertificateEntry{Data: cert}
			if tls13 {
				exts, err := parseExtensions(&list, what, inCertificate)
				if err != nil {
					return nil, err
				}
				e.Extensions = exts
			}
			m.Entries = append(m.Entries, e)
		}
		return m, nil
	}
	switch {
	case ctx.Version.IsTLS13():
		return parse(true)
	case ctx.Version != 0:
		return parse(false)
	}
	if m, err := parse(false); err == nil {
		return m, nil
	}
	return parse(true)
}

// Marshal re-encodes the body.
func (m *Certificate) Marshal() []byte {
	return build(func(b *cryptobyte.Builder) {
		if m.TLS13 {
			addU8Bytes(b, m.RequestContext)
		}
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, e := range m.Entries {
				addU24Bytes(b, e.Data)
				if m.TLS13 {
					e.Extensions.marshal(b)
				}
			}
		})
	})
}

// ServerKeyExchange carries the server's ephemeral key exchange parameters in
// TLS 1.2 and earlier (RFC 5246 §7.4.3, RFC 8422 §5.4, RFC 4279 §2). Which
// fields are set depends on KeyExchange.
type ServerKeyExchange struct {
	// KeyExchange is "ecdhe", "dhe", "psk", "ecdhe_psk", "dhe_psk", or
	// "unknown" when the cipher suite's key exchange is not known or not
	// decoded, in which case only Raw is set.
	KeyExchange     string   `json:"key_exchange"`
	PSKIdentityHint HexBytes `json:"psk_identity_hint,omitempty"`
	// CurveType is 3 (named_curve), the only ECDHE form decoded.
	CurveType uint8      `json:"curve_type,omitempty"`
	Group     NamedGroup `json:"group,omitempty"`
	PublicKey HexBytes   `json:"public_key,omitempty"` // ECDHE point
	P         HexBytes   `json:"dh_p,omitempty"`
	G         HexBytes   `json:"dh_g,omitempty"`
	Ys        HexBytes   `json:"dh_ys,omitempty"`
	// SignatureScheme is set in TLS 1.2; TLS 1.0 and 1.1 signatures have no
	// algorithm field.
	SignatureScheme SignatureScheme `json:"signature_scheme,omitempty"`
	Signature       HexBytes        `json:"signature,omitempty"`
	Raw             HexBytes        `json:"raw,omitempty"`

	signed, hasScheme bool
}

// Type returns TypeServerKeyExchange.
func (*ServerKeyExchange) Type() HandshakeType { return TypeServerKeyExchange }

func parseServerKeyExchange(body []byte, ctx Context) (*ServerKeyExchange, error) {
	const what = "ServerKeyExchange"
	k := ctx.CipherSuite.keyExchange()
	if k == kexUnknown || k == kexNone {
		// Most unknown-suite ServerKeyExchanges are signed ECDHE: try it.
		if m, err := parseSKE(body, kexECDHE, ctx.Version != VersionTLS10 && ctx.Version != VersionTLS11); err == nil {
			return m, nil
		}
		return &ServerKeyExchange{KeyExchange: "unknown", Raw: body}, nil
	}
	switch ctx.Version {
	case VersionTLS12, VersionDTLS12:
		return parseSKE(body, k, true)
	case 0:
		m, err := parseSKE(body, k, true)
		if err != nil {
			if m2, err2 := parseSKE(body, k, false); err2 == nil {
				return m2, nil
			}
		}
		return m, err
	}
	if ctx.Version < VersionTLS12 || ctx.Version == VersionDTLS10 {
		return parseSKE(body, k, false)
	}
	return nil, errf(what, "not used in %v", ctx.Version)
}

func parseSKE(body []byte, k kex, withScheme bool) (*ServerKeyExchange, error) {
	const what = "ServerKeyExchange"
	s := cryptobyte.String(body)
	m := &ServerKeyExchange{hasScheme: withScheme}
	if k == kexPSK || k == kexECDHEPSK || k == kexDHEPSK {
		var hint cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&hint) {
			return nil, errf(what, "psk_identity_hint: truncated")
		}
		m.PSKIdentityHint = HexBytes(hint)
	}
	switch k {
	case kexECDHE, kexECDHEAnon, kexECDHEPSK:
		m.KeyExchange = "ecdhe"
		var point cryptobyte.String
		if !s.ReadUint8(&m.CurveType) || !s.ReadUint16((*uint16)(&m.Group)) {
			return nil, errf(what, "ECParameters: truncated")
		}
		if m.CurveType != 3 {
			return nil, errf(what, "curve_type %d is not named_curve (3); explicit curves are not supported", m.CurveType)
		}
		if !s.ReadUint8LengthPrefixed(&point) || len(point) == 0 {
			return nil, errf(what, "ECPoint public: truncated or empty")
		}
		m.PublicKey = HexBytes(point)
	case kexDHE, kexDHEAnon, kexDHEPSK:
		m.KeyExchange = "dhe"
		var p, g, y cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&p) || !s.ReadUint16LengthPrefixed(&g) || !s.ReadUint16LengthPrefixed(&y) {
			return nil, errf(what, "ServerDHParams: truncated")
		}
		if len(p) == 0 || len(g) == 0 || len(y) == 0 {
			return nil, errf(what, "ServerDHParams: empty dh_p, dh_g or dh_Ys")
		}
		m.P, m.G, m.Ys = HexBytes(p), HexBytes(g), HexBytes(y)
	case kexPSK:
		m.KeyExchange = "psk"
	}
	switch k {
	case kexECDHEPSK:
		m.KeyExchange = "ecdhe_psk"
	case kexDHEPSK:
		m.KeyExchange = "dhe_psk"
	}
	if k == kexECDHE || k == kexDHE {
		m.signed = true
		var sig cryptobyte.String
		if withScheme && !s.ReadUint16((*uint16)(&m.SignatureScheme)) {
			return nil, errf(what, "signature algorithm: truncated")
		}
		if !s.ReadUint16LengthPrefixed(&sig) || len(sig) == 0 {
			return nil, errf(what, "signature: truncated or empty")
		}
		m.Signature = HexBytes(sig)
	}
	if !s.Empty() {
		return nil, errf(what, "%d trailing bytes after the %s parameters", len(s), m.KeyExchange)
	}
	return m, nil
}

// Marshal re-encodes the body.
func (m *ServerKeyExchange) Marshal() []byte {
	if m.KeyExchange == "unknown" {
		return bytes.Clone(m.Raw)
	}
	return build(func(b *cryptobyte.Builder) {
		switch m.KeyExchange {
		case "psk", "ecdhe_psk", "dhe_psk":
			addU16Bytes(b, m.PSKIdentityHint)
		}
		switch m.KeyExchange {
		case "ecdhe", "ecdhe_psk":
			b.AddUint8(m.CurveType)
			b.AddUint16(uint16(m.Group))
			addU8Bytes(b, m.PublicKey)
		case "dhe", "dhe_psk":
			addU16Bytes(b, m.P)
			addU16Bytes(b, m.G)
			addU16Bytes(b, m.Ys)
		}
		if m.signed {
			if m.hasScheme {
				b.AddUint16(uint16(m.SignatureScheme))
			}
			addU16Bytes(b, m.Signature)
		}
	})
}

// CertificateRequest asks the client for a certificate: in TLS 1.2 with
// certificate types, signature algorithms and CA names (RFC 5246 §7.4.4;
// TLS 1.0 and 1.1 have no signature algorithms), in TLS 1.3 with a context
// and extensions (RFC 8446 §4.3.2).
type CertificateRequest struct {
	TLS13                        bool                    `json:"tls13"`
	CertificateTypes             []ClientCertificateType `json:"certificate_types,omitempty"`
	SupportedSignatureAlgorithms []SignatureScheme       `json:"supported_signature_algorithms,omitempty"`
	CertificateAuthorities       []HexBytes              `json:"certificate_authorities,omitempty"` // DER names
	RequestContext               HexBytes                `json:"request_context,omitempty"`         // TLS 1.3
	Extensions                   Extensions              `json:"extensions,omitempty"`              // TLS 1.3

	hasSigAlgs bool
}

// Type returns TypeCertificateRequest.
func (*CertificateRequest) Type() HandshakeType { return TypeCertificateRequest }

// CANames returns the DER distinguished names of the certificate
// authorities the server accepts; none means any.
func (m *CertificateRequest) CANames() [][]byte {
	names := m.CertificateAuthorities
	if m.TLS13 {
		names, _ = m.Extensions.Find(ExtCertificateAuthorities).Parsed.([]HexBytes)
	}
	out := make([][]byte, len(names))
	for i, n := range names {
		out[i] = n
	}
	return out
}

// SignatureSchemes returns the signature schemes the server accepts for the
// client's CertificateVerify.
func (m *CertificateRequest) SignatureSchemes() []SignatureScheme {
	if m.TLS13 {
		s, _ := m.Extensions.Find(ExtSignatureAlgorithms).Parsed.([]SignatureScheme)
		return s
	}
	return m.SupportedSignatureAlgorithms
}

func parseCertificateRequest(body []byte, ctx Context) (*CertificateRequest, error) {
	const what = "CertificateRequest"
	parse13 := func() (*CertificateRequest, error) {
		s := cryptobyte.String(body)
		var reqCtx cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&reqCtx) {
			return nil, errf(what, "certificate_request_context: truncated")
		}
		exts, err := parseExtensions(&s, what, inCertificateRequest)
		if err != nil {
			return nil, err
		}
		if !s.Empty() {
			return nil, errf(what, "%d trailing bytes after the extensions", len(s))
		}
		return &CertificateRequest{TLS13: true, RequestContext: HexBytes(reqCtx), Extensions: exts}, nil
	}
	parse12 := func(sigAlgs bool) (*CertificateRequest, error) {
		s := cryptobyte.String(body)
		m := &CertificateRequest{hasSigAlgs: sigAlgs}
		var types, algs, cas cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&types) {
			return nil, errf(what, "certificate_types: truncated")
		}
		for _, t := range types {
			m.CertificateTypes = append(m.CertificateTypes, ClientCertificateType(t))
		}
		if sigAlgs {
			if !s.ReadUint16LengthPrefixed(&algs) {
				return nil, errf(what, "supported_signature_algorithms: truncated")
			}
			var err error
			if m.SupportedSignatureAlgorithms, err = readSchemes(algs, what+": supported_signature_algorithms"); err != nil {
				return nil, err
			}
		}
		if !s.ReadUint16LengthPrefixed(&cas) {
			return nil, errf(what, "certificate_authorities: truncated")
		}
		names, err := readDNs(cas, what+": certificate_authorities")
		if err != nil {
			return nil, err
		}
		m.CertificateAuthorities = names
		if !s.Empty() {
			return nil, errf(what, "%d trailing bytes after certificate_authorities", len(s))
		}
		return m, nil
	}
	switch {
	case ctx.Version.IsTLS13():
		return parse13()
	case ctx.Version == VersionTLS12 || ctx.Version == VersionDTLS12:
		return parse12(true)
	case ctx.Version != 0:
		return parse12(false)
	}
	m, err := parse12(true)
	if err == nil {
		return m, nil
	}
	if m, err := parse12(false); err == nil {
		return m, nil
	}
	if m, err := parse13(); err == nil {
		return m, nil
	}
	return nil, err
}

// Marshal re-encodes the body.
func (m *CertificateRequest) Marshal() []byte {
	return build(func(b *cryptobyte.Builder) {
		if m.TLS13 {
			addU8Bytes(b, m.RequestContext)
			m.Extensions.marshal(b)
			return
		}
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, t := range m.CertificateTypes {
				b.AddUint8(uint8(t))
			}
		})
		if m.hasSigAlgs {
			addSchemes(b, m.SupportedSignatureAlgorithms)
		}
		addDNs(b, m.CertificateAuthorities)
	})
}

// CertificateVerify proves possession of the certificate's private key
// (RFC 8446 §4.4.3, RFC 5246 §7.4.8). TLS 1.0 and 1.1 signatures have no
// algorithm field.
type CertificateVerify struct {
	SignatureScheme SignatureScheme `json:"signature_scheme,omitempty"`
	Signature       HexBytes        `json:"signature"`

	noScheme bool
}

// Type returns TypeCertificateVerify.
func (*CertificateVerify) Type() HandshakeType { return TypeCertificateVerify }

func parseCertificateVerify(body []byte, ctx Context) (*CertificateVerify, error) {
	const what = "CertificateVerify"
	parse := func(withScheme bool) (*CertificateVerify, error) {
		s := cryptobyte.String(body)
		m := &CertificateVerify{noScheme: !withScheme}
		var sig cryptobyte.String
		if withScheme && !s.ReadUint16((*uint16)(&m.SignatureScheme)) {
			return nil, errf(what, "algorithm: truncated")
		}
		if !s.ReadUint16LengthPrefixed(&sig) || len(sig) == 0 {
			return nil, errf(what, "signature: truncated or empty")
		}
		if !s.Empty() {
			return nil, errf(what, "%d trailing bytes after the signature", len(s))
		}
		m.Signature = HexBytes(sig)
		return m, nil
	}
	if ctx.Version != 0 && ctx.Version < VersionTLS12 || ctx.Version == VersionDTLS10 {
		return parse(false)
	}
	m, err := parse(true)
	if err != nil && ctx.Version == 0 {
		if m2, err2 := parse(false); err2 == nil {
			return m2, nil
		}
	}
	return m, err
}

// Marshal re-encodes the body.
func (m *CertificateVerify) Marshal() []byte {
	return build(func(b *cryptobyte.Builder) {
		if !m.noScheme {
			b.AddUint16(uint16(m.SignatureScheme))
		}
		addU16Bytes(b, m.Signature)
	})
}

// ClientKeyExchange carries the client's key exchange in TLS 1.2 and
// earlier (RFC 5246 §7.4.7, RFC 8422 §5.7, RFC 4279). Raw is the whole body;
// PSKIdentity and ExchangeKeys are decoded from it when the cipher suite is
// known and the body matches its key exchange.
type ClientKeyExchange struct {
	Raw         HexBytes `json:"raw"`
	PSKIdentity HexBytes `json:"psk_identity,omitempty"`
	// ExchangeKeys is the ECDHE point, the DH public value or the
	// RSA-encrypted premaster secret.
	ExchangeKeys HexBytes `json:"exchange_keys,omitempty"`
}

// Type returns TypeClientKeyExchange.
func (*ClientKeyExchange) Type() HandshakeType { return TypeClientKeyExchange }

func parseClientKeyExchange(body []byte, ctx Context) *ClientKeyExchange {
	m := &ClientKeyExchange{Raw: body}
	s := cryptobyte.String(body)
	info, _ := ctx.CipherSuite.Info()
	var id, keys cryptobyte.String
	k := ctx.CipherSuite.keyExchange()
	if k == kexPSK || k == kexECDHEPSK || k == kexDHEPSK {
		if !s.ReadUint16LengthPrefixed(&id) {
			return m
		}
	}
	var ok bool
	switch {
	case k == kexECDHE || k == kexECDHEAnon || k == kexECDHEPSK:
		ok = s.ReadUint8LengthPrefixed(&keys)
	case k == kexDHE || k == kexDHEAnon || k == kexDHEPSK || k == kexPSK && info.Kx == KxRSAPSK:
		ok = s.ReadUint16LengthPrefixed(&keys)
	case k == kexPSK:
		ok = true
	case k == kexNone && info.Kx == KxRSA && ctx.Version != VersionSSL30:
		ok = s.ReadUint16LengthPrefixed(&keys)
	}
	if ok && s.Empty() {
		m.PSKIdentity, m.ExchangeKeys = HexBytes(id), HexBytes(keys)
	}
	return m
}

// Marshal returns the body.
func (m *ClientKeyExchange) Marshal() []byte { return bytes.Clone(m.Raw) }

// Finished carries verify_data, the MAC over the transcript
// (RFC 8446 §4.4.4, RFC 5246 §7.4.9).
type Finished struct {
	VerifyData HexBytes `json:"verify_data"`
}

// Type returns TypeFinished.
func (*Finished) Type() HandshakeType { return TypeFinished }

// Marshal returns the body.
func (m *Finished) Marshal() []byte { return bytes.Clone(m.VerifyData) }

// CertificateStatus carries a stapled OCSP response (RFC 6066 §8). The same
// structure is the body of a TLS 1.3 status_request extension in a
// certificate entry (RFC 8446 §4.4.2.1).
type CertificateStatus struct {
	StatusType CertificateStatusType `json:"status_type"`
	// Response is the DER OCSPResponse for status type ocsp, and the
	// undecoded rest of the body for other types.
	Response HexBytes `json:"response"`
}

// Type returns TypeCertificateStatus.
func (*CertificateStatus) Type() HandshakeType { return TypeCertificateStatus }

func parseCertificateStatus(body []byte, what string) (*CertificateStatus, error) {
	s := cryptobyte.String(body)
	m := &CertificateStatus{}
	if !s.ReadUint8((*uint8)(&m.StatusType)) {
		return nil, errf(what, "status_type: truncated")
	}
	if m.StatusType != 1 {
		m.Response = HexBytes(s)
		return m, nil
	}
	var resp cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&resp) || len(resp) == 0 {
		return nil, errf(what, "OCSPResponse: truncated or empty")
	}
	if !s.Empty() {
		return nil, errf(what, "%d trailing bytes after the OCSP response", len(s))
	}
	m.Response = HexBytes(resp)
	return m, nil
}

// Marshal re-encodes the body.
func (m *CertificateStatus) Marshal() []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(m.StatusType))
		if m.StatusType == 1 {
			addU24Bytes(b, m.Response)
		} else {
			b.AddBytes(m.Response)
		}
	})
}

// KeyUpdate updates TLS 1.3 traffic keys (RFC 8446 §4.6.3).
type KeyUpdate struct {
	RequestUpdate KeyUpdateRequest `json:"request_update"`
}

// Type returns TypeKeyUpdate.
func (*KeyUpdate) Type() HandshakeType { return TypeKeyUpdate }

// Marshal re-encodes the body.
func (m *KeyUpdate) Marshal() []byte { return []byte{byte(m.RequestUpdate)} }

// CompressedCertificate is a compressed Certificate message (RFC 8879 §4).
type CompressedCertificate struct {
	Algorithm          CertificateCompressionAlgorithm `json:"algorithm"`
	UncompressedLength uint32                          `json:"uncompressed_length"`
	Compressed         HexBytes                        `json:"-"`
}

// Type returns TypeCompressedCertificate.
func (*CompressedCertificate) Type() HandshakeType { return TypeCompressedCertificate }

func parseCompressedCertificate(body []byte) (*CompressedCertificate, error) {
	const what = "CompressedCertificate"
	s := cryptobyte.String(body)
	m := &CompressedCertificate{}
	var data cryptobyte.String
	if !s.ReadUint16((*uint16)(&m.Algorithm)) || !s.ReadUint24(&m.UncompressedLength) {
		return nil, errf(what, "algorithm or uncompressed_length: truncated")
	}
	if !s.ReadUint24LengthPrefixed(&data) || len(data) == 0 {
		return nil, errf(what, "compressed_certificate_message: truncated or empty")
	}
	if !s.Empty() {
		return nil, errf(what, "%d trailing bytes after compressed_certificate_message", len(s))
	}
	m.Compressed = HexBytes(data)
	return m, nil
}

// Marshal re-encodes the body.
func (m *CompressedCertificate) Marshal() []byte {
	return build(func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(m.Algorithm))
		b.AddUint24(m.UncompressedLength)
		addU24Bytes(b, m.Compressed)
	})
}

// MessageHash stands for ClientHello1 in the transcript after a
// HelloRetryRequest (RFC 8446 §4.4.1); it never appears on the wire.
type MessageHash struct {
	Hash HexBytes `json:"hash"`
}

// Type returns TypeMessageHash.
func (*MessageHash) Type() HandshakeType { return TypeMessageHash }

// Marshal returns the body.
func (m *MessageHash) Marshal() []byte { return bytes.Clone(m.Hash) }

// Unknown is a handshake message of a type this package does not decode.
type Unknown struct {
	Typ  HandshakeType `json:"type"`
	Body HexBytes      `json:"body"`
}

// Type returns the message's type.
func (m *Unknown) Type() HandshakeType { return m.Typ }

// Marshal returns the body.
func (m *Unknown) Marshal() []byte { return bytes.Clone(m.Body) }
