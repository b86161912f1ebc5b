package wire

import (
	"strconv"

	"golang.org/x/crypto/cryptobyte"
)

// Extension is one TLS extension. Data is the extension_data exactly as
// sent; Parsed is its decoded value, or nil for types this package does not
// decode (including GREASE). The Go type of Parsed depends on the extension
// and on the message carrying it:
//
//	server_name                  []string (ClientHello), Empty (acknowledgement)
//	max_fragment_length          uint8
//	status_request               StatusRequest (ClientHello), *CertificateStatus (TLS 1.3 certificate entry), Empty
//	supported_groups             []NamedGroup
//	ec_point_formats             []ECPointFormat
//	signature_algorithms(_cert)  []SignatureScheme
//	use_srtp                     UseSRTP
//	heartbeat                    uint8 (mode)
//	application_layer_protocol_negotiation, application_settings (ClientHello)  []string
//	signed_certificate_timestamp []HexBytes (SCTs), Empty (ClientHello)
//	client/server_certificate_type  []CertificateType (ClientHello), CertificateType
//	padding                      Padding
//	encrypt_then_mac, extended_master_secret, post_handshake_auth  Empty
//	compress_certificate         []CertificateCompressionAlgorithm
//	record_size_limit            uint16
//	session_ticket, cookie, renegotiation_info, encrypted_client_hello  HexBytes
//	pre_shared_key               OfferedPSKs (ClientHello), uint16 selected_identity (ServerHello)
//	early_data                   uint32 max_early_data_size (NewSessionTicket), Empty
//	supported_versions           []Version (ClientHello), Version (ServerHello)
//	psk_key_exchange_modes       []PSKKeyExchangeMode
//	certificate_authorities      []HexBytes (DER distinguished names)
//	oid_filters                  []OIDFilter
//	key_share                    []KeyShare (ClientHello), KeyShare (ServerHello), NamedGroup (HelloRetryRequest)
type Extension struct {
	Type   ExtensionType `json:"type"`
	Data   HexBytes      `json:"data"`
	Parsed any           `json:"parsed,omitempty"`
}

// Extensions is an extensions block, in wire order.
type Extensions []Extension

// Find returns the extension of type t, or the zero Extension (with nil
// Parsed) if there is none.
func (e Extensions) Find(t ExtensionType) Extension {
	for _, x := range e {
		if x.Type == t {
			return x
		}
	}
	return Extension{}
}

// Has reports whether the block contains an extension of type t.
func (e Extensions) Has(t ExtensionType) bool {
	for _, x := range e {
		if x.Type == t {
			return true
		}
	}
	return false
}

func (e Extensions) marshal(b *cryptobyte.Builder) {
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, x := range e {
			b.AddUint16(uint16(x.Type))
			addU16Bytes(b, x.Data)
		}
	})
}

// Empty is the Parsed value of an extension whose presence is the message,
// such as extended_master_secret or a server's server_name acknowledgement.
type Empty struct{}

// StatusRequest is a ClientHello's status_request (RFC 6066 §8).
type StatusRequest struct {
	StatusType   CertificateStatusType `json:"status_type"`
	ResponderIDs []HexBytes            `json:"responder_ids,omitempty"`
	Extensions   HexBytes              `json:"request_extensions,omitempty"`
}

// UseSRTP is the use_srtp extension (RFC 5764 §4.1.1).
type UseSRTP struct {
	Profiles []uint16 `json:"profiles"`
	MKI      HexBytes `json:"mki,omitempty"`
}

// Padding is the padding extension (RFC 7685); only its length matters.
type Padding struct {
	Length int `json:"length"`
}

// OfferedPSKs is a ClientHello's pre_shared_key (RFC 8446 §4.2.11).
type OfferedPSKs struct {
	Identities []PSKIdentity `json:"identities"`
	Binders    []HexBytes    `json:"binders"`
}

// PSKIdentity is one offered pre-shared key identity, usually a ticket.
type PSKIdentity struct {
	Identity            HexBytes `json:"identity"`
	ObfuscatedTicketAge uint32   `json:"obfuscated_ticket_age"`
}

// KeyShare is one key_share entry (RFC 8446 §4.2.8).
type KeyShare struct {
	Group       NamedGroup `json:"group"`
	KeyExchange HexBytes   `json:"key_exchange"`
}

// OIDFilter is one oid_filters entry (RFC 8446 §4.2.5).
type OIDFilter struct {
	OID    HexBytes `json:"oid"` // DER contents of the OBJECT IDENTIFIER
	Values HexBytes `json:"values"`
}

// extContext says which message carries an extensions block, because
// several extensions are encoded differently in each.
type extContext int

const (
	inClientHello extContext = iota
	inServerHello
	inHelloRetryRequest
	inEncryptedExtensions
	inCertificate
	inCertificateRequest
	inNewSessionTicket
)

// parseExtensionBlock parses a body that is exactly one extensions block.
func parseExtensionBlock(body []byte, what string, where extContext) (Extensions, error) {
	s := cryptobyte.String(body)
	exts, err := parseExtensions(&s, what, where)
	if err != nil {
		return nil, err
	}
	if !s.Empty() {
		return nil, errf(what, "%d trailing bytes after the extensions", len(s))
	}
	return exts, nil
}

// parseExtensions reads a uint16-length-prefixed extensions block from s,
// rejecting duplicates (RFC 8446 §4.2) and malformed known extensions.
func parseExtensions(s *cryptobyte.String, what string, where extContext) (Extensions, error) {
	var block cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&block) {
		return nil, errf(what, "extensions: truncated")
	}
	exts := Extensions{}
	for !block.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !block.ReadUint16(&typ) || !block.ReadUint16LengthPrefixed(&data) {
			return nil, errf(what, "extension %d: truncated", len(exts))
		}
		t := ExtensionType(typ)
		if exts.Has(t) {
			return nil, errf(what, "duplicate extension %v", t)
		}
		parsed, err := parseExtension(t, data, where)
		if err != nil {
			return nil, errf(what, "extension %v: %w", t, err)
		}
		exts = append(exts, Extension{Type: t, Data: HexBytes(data), Parsed: parsed})
	}
	return exts, nil
}

type extError string

func (e extError) Error() string { return string(e) }

// parseExtension decodes one extension's data. It returns nil, nil for
// extensions it does not decode in this context.
func parseExtension(t ExtensionType, d cryptobyte.String, where extContext) (any, error) {
	full := d
	var v any
	ok := true
	switch t {
	case ExtServerName: // RFC 6066 §3
		if where != inClientHello {
			v = Empty{}
			ok = d.Empty()
			break
		}
		var list cryptobyte.String
		names := []string{}
		ok = d.ReadUint16LengthPrefixed(&list) && !list.Empty()
		for ok && !list.Empty() {
			var typ uint8
			var name cryptobyte.String
			if ok = list.ReadUint8(&typ) && list.ReadUint16LengthPrefixed(&name); ok && typ == 0 {
				names = append(names, string(name))
			}
		}
		v = names
	case ExtMaxFragmentLength: // RFC 6066 §4
		var n uint8
		ok = d.ReadUint8(&n)
		v = n
	case ExtStatusRequest: // RFC 6066 §8, RFC 8446 §4.4.2.1
		switch {
		case where == inCertificateRequest && d.Empty():
			v = Empty{} // RFC 8446 §4.4.2.1: a server asks for OCSP with an empty extension
		case where == inClientHello, where == inCertificateRequest:
			var r StatusRequest
			var ids, exts cryptobyte.String
			ok = d.ReadUint8((*uint8)(&r.StatusType))
			if ok && r.StatusType == 1 {
				ok = d.ReadUint16LengthPrefixed(&ids) && d.ReadUint16LengthPrefixed(&exts)
				for ok && !ids.Empty() {
					var id cryptobyte.String
					ok = ids.ReadUint16LengthPrefixed(&id)
					r.ResponderIDs = append(r.ResponderIDs, HexBytes(id))
				}
				r.Extensions = HexBytes(exts)
			} else {
				d = nil // other status types: opaque
			}
			v = r
		case where == inCertificate:
			cs, err := parseCertificateStatus(d, "status_request")
			if err != nil {
				return nil, err
			}
			v, d = cs, nil
		default:
			v = Empty{}
		}
	case ExtSupportedGroups: // RFC 8446 §4.2.7
		var list cryptobyte.String
		groups := []NamedGroup{}
		ok = d.ReadUint16LengthPrefixed(&list) && len(list)%2 == 0
		for ok && !list.Empty() {
			var g uint16
			list.ReadUint16(&g)
			groups = append(groups, NamedGroup(g))
		}
		v = groups
	case ExtECPointFormats: // RFC 8422 §5.1.2
		var list cryptobyte.String
		ok = d.ReadUint8LengthPrefixed(&list)
		formats := make([]ECPointFormat, len(list))
		for i, f := range list {
			formats[i] = ECPointFormat(f)
		}
		v = formats
	case ExtSignatureAlgorithms, ExtSignatureAlgorithmsCert: // RFC 8446 §4.2.3
		var list cryptobyte.String
		if ok = d.ReadUint16LengthPrefixed(&list); ok {
			s, err := readSchemes(list, "supported_signature_algorithms")
			if err != nil {
				return nil, err
			}
			v = s
		}
	case ExtUseSRTP: // RFC 5764 §4.1.1
		var u UseSRTP
		var list, mki cryptobyte.String
		ok = d.ReadUint16LengthPrefixed(&list) && len(list)%2 == 0 && d.ReadUint8LengthPrefixed(&mki)
		for ok && !list.Empty() {
			var p uint16
			list.ReadUint16(&p)
			u.Profiles = append(u.Profiles, p)
		}
		u.MKI = HexBytes(mki)
		v = u
	case ExtHeartbeat: // RFC 6520 §2
		var mode uint8
		ok = d.ReadUint8(&mode)
		v = mode
	case ExtALPN, ExtApplicationSettings, ExtApplicationSettingsOld: // RFC 7301 §3.1
		if t != ExtALPN && where != inClientHello {
			v, d = HexBytes(d), nil
			break
		}
		var list cryptobyte.String
		protos := []string{}
		ok = d.ReadUint16LengthPrefixed(&list) && (!list.Empty() || t != ExtALPN)
		for ok && !list.Empty() {
			var p cryptobyte.String
			ok = list.ReadUint8LengthPrefixed(&p) && !p.Empty()
			protos = append(protos, string(p))
		}
		v = protos
	case ExtSCT: // RFC 6962 §3.3
		if where == inClientHello || where == inCertificateRequest { // RFC 8446 §4.2: empty in a request
			v = Empty{}
			ok = d.Empty()
			break
		}
		var list cryptobyte.String
		scts := []HexBytes{}
		ok = d.ReadUint16LengthPrefixed(&list) && !list.Empty()
		for ok && !list.Empty() {
			var sct cryptobyte.String
			ok = list.ReadUint16LengthPrefixed(&sct) && !sct.Empty()
			scts = append(scts, HexBytes(sct))
		}
		v = scts
	case ExtClientCertificateType, ExtServerCertificateType: // RFC 7250 §4.2
		if where == inClientHello {
			var list cryptobyte.String
			ok = d.ReadUint8LengthPrefixed(&list) && !list.Empty()
			types := make([]CertificateType, len(list))
			for i, c := range list {
				types[i] = CertificateType(c)
			}
			v = types
			break
		}
		var c uint8
		ok = d.ReadUint8(&c)
		v = CertificateType(c)
	case ExtPadding: // RFC 7685
		v, d = Padding{Length: len(d)}, nil
	case ExtEncryptThenMAC, ExtExtendedMasterSecret, ExtPostHandshakeAuth:
		v = Empty{}
		ok = d.Empty()
	case ExtCompressCertificate: // RFC 8879 §3
		var list cryptobyte.String
		ok = d.ReadUint8LengthPrefixed(&list) && len(list) >= 2 && len(list)%2 == 0
		algs := []CertificateCompressionAlgorithm{}
		for ok && !list.Empty() {
			var a uint16
			list.ReadUint16(&a)
			algs = append(algs, CertificateCompressionAlgorithm(a))
		}
		v = algs
	case ExtRecordSizeLimit: // RFC 8449 §4
		var n uint16
		ok = d.ReadUint16(&n)
		v = n
	case ExtSessionTicket, ExtEncryptedClientHello: // RFC 5077 §3.2; ECH stays raw
		v, d = HexBytes(d), nil
	case ExtPreSharedKey: // RFC 8446 §4.2.11
		switch where {
		case inClientHello:
			var p OfferedPSKs
			var ids, binders cryptobyte.String
			ok = d.ReadUint16LengthPrefixed(&ids) && !ids.Empty() && d.ReadUint16LengthPrefixed(&binders) && !binders.Empty()
			for ok && !ids.Empty() {
				var id PSKIdentity
				var b cryptobyte.String
				ok = ids.ReadUint16LengthPrefixed(&b) && !b.Empty() && ids.ReadUint32(&id.ObfuscatedTicketAge)
				id.Identity = HexBytes(b)
				p.Identities = append(p.Identities, id)
			}
			for ok && !binders.Empty() {
				var b cryptobyte.String
				ok = binders.ReadUint8LengthPrefixed(&b) && len(b) >= 32
				p.Binders = append(p.Binders, HexBytes(b))
			}
			v = p
		case inServerHello:
			var n uint16
			ok = d.ReadUint16(&n)
			v = n
		default:
			return nil, nil
		}
	case ExtEarlyData: // RFC 8446 §4.2.10
		if where == inNewSessionTicket {
			var n uint32
			ok = d.ReadUint32(&n)
			v = n
			break
		}
		v = Empty{}
		ok = d.Empty()
	case ExtSupportedVersions: // RFC 8446 §4.2.1
		if where == inClientHello {
			var list cryptobyte.String
			vers := []Version{}
			ok = d.ReadUint8LengthPrefixed(&list) && len(list) >= 2 && len(list)%2 == 0
			for ok && !list.Empty() {
				var ver uint16
				list.ReadUint16(&ver)
				vers = append(vers, Version(ver))
			}
			v = vers
			break
		}
		var ver uint16
		ok = d.ReadUint16(&ver)
		v = Version(ver)
	case ExtCookie, ExtRenegotiationInfo: // RFC 8446 §4.2.2, RFC 5746 §3.2
		var c cryptobyte.String
		if t == ExtCookie {
			ok = d.ReadUint16LengthPrefixed(&c) && !c.Empty()
		} else {
			ok = d.ReadUint8LengthPrefixed(&c)
		}
		v = HexBytes(c)
	case ExtPSKKeyExchangeModes: // RFC 8446 §4.2.9
		var list cryptobyte.String
		ok = d.ReadUint8LengthPrefixed(&list) && !list.Empty()
		modes := make([]PSKKeyExchangeMode, len(list))
		for i, m := range list {
			modes[i] = PSKKeyExchangeMode(m)
		}
		v = modes
	case ExtCertificateAuthorities: // RFC 8446 §4.2.4
		var list cryptobyte.String
		if ok = d.ReadUint16LengthPrefixed(&list) && !list.Empty(); ok {
			names, err := readDNs(list, "authorities")
			if err != nil {
				return nil, err
			}
			v = names
		}
	case ExtOIDFilters: // RFC 8446 §4.2.5
		var list cryptobyte.String
		filters := []OIDFilter{}
		ok = d.ReadUint16LengthPrefixed(&list)
		for ok && !list.Empty() {
			var oid, vals cryptobyte.String
			ok = list.ReadUint8LengthPrefixed(&oid) && !oid.Empty() && list.ReadUint16LengthPrefixed(&vals)
			filters = append(filters, OIDFilter{OID: HexBytes(oid), Values: HexBytes(vals)})
		}
		v = filters
	case ExtKeyShare: // RFC 8446 §4.2.8
		readShare := func(s *cryptobyte.String) (KeyShare, bool) {
			var ks KeyShare
			var key cryptobyte.String
			ok := s.ReadUint16((*uint16)(&ks.Group)) && s.ReadUint16LengthPrefixed(&key) && !key.Empty()
			ks.KeyExchange = HexBytes(key)
			return ks, ok
		}
		switch where {
		case inClientHello:
			var list cryptobyte.String
			shares := []KeyShare{}
			ok = d.ReadUint16LengthPrefixed(&list)
			for ok && !list.Empty() {
				var ks KeyShare
				ks, ok = readShare(&list)
				shares = append(shares, ks)
			}
			v = shares
		case inServerHello:
			v, ok = readShare(&d)
		case inHelloRetryRequest:
			var g uint16
			ok = d.ReadUint16(&g)
			v = NamedGroup(g)
		default:
			return nil, nil
		}
	default:
		return nil, nil
	}
	if !ok {
		return nil, extError("malformed or truncated data " + HexBytes(full[:min(len(full), 16)]).String())
	}
	if !d.Empty() {
		return nil, extError(strconv.Itoa(len(d)) + " trailing bytes")
	}
	return v, nil
}

// readSchemes reads a list of uint16 signature schemes.
func readSchemes(list cryptobyte.String, what string) ([]SignatureScheme, error) {
	if len(list)%2 != 0 || list.Empty() {
		return nil, errf(what, "length %d is odd or zero", len(list))
	}
	out := make([]SignatureScheme, 0, len(list)/2)
	for !list.Empty() {
		var s uint16
		list.ReadUint16(&s)
		out = append(out, SignatureScheme(s))
	}
	return out, nil
}

func addSchemes(b *cryptobyte.Builder, schemes []SignatureScheme) {
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, s := range schemes {
			b.AddUint16(uint16(s))
		}
	})
}

// readDNs reads a list of uint16-length-prefixed DER distinguished names
// (RFC 5246 §7.4.4, RFC 8446 §4.2.4).
func readDNs(list cryptobyte.String, what string) ([]HexBytes, error) {
	names := []HexBytes{}
	for !list.Empty() {
		var dn cryptobyte.String
		if !list.ReadUint16LengthPrefixed(&dn) || dn.Empty() {
			return nil, errf(what, "distinguished name %d: truncated or empty", len(names))
		}
		names = append(names, HexBytes(dn))
	}
	return names, nil
}

func addDNs(b *cryptobyte.Builder, names []HexBytes) {
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, n := range names {
			addU16Bytes(b, n)
		}
	})
}
