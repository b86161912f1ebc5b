package wire

import (
	"golang.org/x/crypto/cryptobyte"
)

// This file builds what a client sends: the extensions of a ClientHello
// with their data encoded (and Parsed set from that encoding, so that a
// built extension reads exactly like a received one), handshake framing,
// and records. A scanner builds its own ClientHellos with these instead of
// asking a TLS stack for one.

// clientExtension returns the ClientHello extension t with data, parsed as
// a received one would be.
func clientExtension(t ExtensionType, data []byte) Extension {
	if data == nil {
		data = []byte{}
	}
	parsed, _ := parseExtension(t, data, inClientHello)
	return Extension{Type: t, Data: HexBytes(data), Parsed: parsed}
}

// EmptyExtension returns an extension whose presence is its message, such
// as extended_master_secret, encrypt_then_mac, early_data or
// signed_certificate_timestamp in a ClientHello.
func EmptyExtension(t ExtensionType) Extension { return clientExtension(t, nil) }

// RawExtension returns an extension with the given data as sent, for
// types this file has no constructor for (and for malformed ones on
// purpose).
func RawExtension(t ExtensionType, data []byte) Extension { return clientExtension(t, data) }

// ServerNameExtension returns a server_name extension (RFC 6066 §3) with
// one host name.
func ServerNameExtension(host string) Extension {
	return clientExtension(ExtServerName, build(func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint8(0) // host_name
			addU16Bytes(b, []byte(host))
		})
	}))
}

// SupportedGroupsExtension returns a supported_groups extension
// (RFC 8446 §4.2.7) listing groups in order.
func SupportedGroupsExtension(groups []NamedGroup) Extension {
	return clientExtension(ExtSupportedGroups, build(func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, g := range groups {
				b.AddUint16(uint16(g))
			}
		})
	}))
}

// ECPointFormatsExtension returns an ec_point_formats extension
// (RFC 8422 §5.1.2).
func ECPointFormatsExtension(formats []ECPointFormat) Extension {
	return clientExtension(ExtECPointFormats, build(func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, f := range formats {
				b.AddUint8(uint8(f))
			}
		})
	}))
}

// SignatureAlgorithmsExtension returns a signature_algorithms (or, with
// t = ExtSignatureAlgorithmsCert, signature_algorithms_cert) extension
// (RFC 8446 §4.2.3).
func SignatureAlgorithmsExtension(t ExtensionType, schemes []SignatureScheme) Extension {
	return clientExtension(t, build(func(b *cryptobyte.Builder) { addSchemes(b, schemes) }))
}

// SupportedVersionsExtension returns a ClientHello's supported_versions
// extension (RFC 8446 §4.2.1).
func SupportedVersionsExtension(versions []Version) Extension {
	return clientExtension(ExtSupportedVersions, build(func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, v := range versions {
				b.AddUint16(uint16(v))
			}
		})
	}))
}

// KeyShareExtension returns a ClientHello's key_share extension
// (RFC 8446 §4.2.8). An empty list is legal: it asks the server to pick a
// group with a HelloRetryRequest.
func KeyShareExtension(shares []KeyShare) Extension {
	return clientExtension(ExtKeyShare, build(func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, s := range shares {
				b.AddUint16(uint16(s.Group))
				addU16Bytes(b, s.KeyExchange)
			}
		})
	}))
}

// ALPNExtension returns an application_layer_protocol_negotiation
// extension (RFC 7301 §3.1).
func ALPNExtension(protos []string) Extension {
	return clientExtension(ExtALPN, build(func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, p := range protos {
				addU8Bytes(b, []byte(p))
			}
		})
	}))
}

// RenegotiationInfoExtension returns a renegotiation_info extension
// (RFC 5746 §3.2); empty on an initial handshake.
func RenegotiationInfoExtension(verifyData []byte) Extension {
	return clientExtension(ExtRenegotiationInfo, build(func(b *cryptobyte.Builder) { addU8Bytes(b, verifyData) }))
}

// SessionTicketExtension returns a session_ticket extension (RFC 5077
// §3.2): empty to ask for a ticket, or the ticket to resume with.
func SessionTicketExtension(ticket []byte) Extension {
	return clientExtension(ExtSessionTicket, append([]byte{}, ticket...))
}

// StatusRequestExtension returns a status_request extension asking for a
// stapled OCSP response, with no responder ids or request extensions
// (RFC 6066 §8).
func StatusRequestExtension() Extension {
	return clientExtension(ExtStatusRequest, []byte{1, 0, 0, 0, 0})
}

// HeartbeatExtension returns a heartbeat extension (RFC 6520 §2): mode 1
// is peer_allowed_to_send, 2 peer_not_allowed_to_send.
func HeartbeatExtension(mode uint8) Extension {
	return clientExtension(ExtHeartbeat, []byte{mode})
}

// PSKKeyExchangeModesExtension returns a psk_key_exchange_modes
// extension (RFC 8446 §4.2.9).
func PSKKeyExchangeModesExtension(modes []PSKKeyExchangeMode) Extension {
	return clientExtension(ExtPSKKeyExchangeModes, build(func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, m := range modes {
				b.AddUint8(uint8(m))
			}
		})
	}))
}

// PreSharedKeyExtension returns a ClientHello's pre_shared_key extension
// (RFC 8446 §4.2.11). It must be the last extension of the hello; the
// binders are computed over the hello up to them ([ClientHello.MarshalWithoutBinders]).
func PreSharedKeyExtension(p OfferedPSKs) Extension {
	return clientExtension(ExtPreSharedKey, build(func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, id := range p.Identities {
				addU16Bytes(b, id.Identity)
				b.AddUint32(id.ObfuscatedTicketAge)
			}
		})
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, bd := range p.Binders {
				addU8Bytes(b, bd)
			}
		})
	}))
}

// PaddingExtension returns a padding extension (RFC 7685) of n zero bytes.
func PaddingExtension(n int) Extension {
	return clientExtension(ExtPadding, make([]byte, max(n, 0)))
}

// CookieExtension returns a cookie extension (RFC 8446 §4.2.2), echoing
// the one a HelloRetryRequest sent.
func CookieExtension(cookie []byte) Extension {
	return clientExtension(ExtCookie, build(func(b *cryptobyte.Builder) { addU16Bytes(b, cookie) }))
}

// MarshalWithoutBinders returns the handshake message (header included)
// of a ClientHello whose last extension is pre_shared_key, cut before the
// binders list: what the PSK binders are computed over (RFC 8446 §4.2.11.2).
// The binders must already have their final lengths. It returns nil when
// the last extension is not pre_shared_key.
func (m *ClientHello) MarshalWithoutBinders() []byte {
	if len(m.Extensions) == 0 || m.Extensions[len(m.Extensions)-1].Type != ExtPreSharedKey {
		return nil
	}
	p, ok := m.Extensions[len(m.Extensions)-1].Parsed.(OfferedPSKs)
	if !ok {
		return nil
	}
	n := 2 // the binders list's length
	for _, b := range p.Binders {
		n += 1 + len(b)
	}
	full := HandshakeMessage(m)
	if len(full) < n {
		return nil
	}
	return full[:len(full)-n]
}

// HandshakeMessage frames a message as it travels in handshake records:
// type(1), length(3), body (RFC 8446 §4).
func HandshakeMessage(m Message) []byte {
	body := m.Marshal()
	out := make([]byte, 4, 4+len(body))
	out[0] = byte(m.Type())
	out[1], out[2], out[3] = byte(len(body)>>16), byte(len(body)>>8), byte(len(body))
	return append(out, body...)
}

// maxPlaintext is the largest record payload a sender may use (RFC 8446
// §5.1).
const maxPlaintext = 16384

// AppendRecords appends payload to dst as plaintext records of type ct and
// record version v, split into fragments of at most 2^14 bytes. An empty
// payload makes one empty record.
func AppendRecords(dst []byte, ct ContentType, v Version, payload []byte) []byte {
	for first := true; first || len(payload) > 0; first = false {
		n := min(len(payload), maxPlaintext)
		dst = append(dst, byte(ct), byte(v>>8), byte(v), byte(n>>8), byte(n))
		dst = append(dst, payload[:n]...)
		payload = payload[n:]
	}
	return dst
}

// SSLv2Record frames an SSL 2.0 message (such as the Marshal of a
// ClientHello in SSL 2.0 format) in an SSL 2.0 record with a 2-byte
// header. It returns nil for a message over 32767 bytes.
func SSLv2Record(msg []byte) []byte {
	if len(msg) > 0x7fff {
		return nil
	}
	return append([]byte{0x80 | byte(len(msg)>>8), byte(len(msg))}, msg...)
}
