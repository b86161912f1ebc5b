package tunnel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// proxySignature starts every PROXY protocol v2 header.
const proxySignature = "\r\n\r\n\x00\r\nQUIT\n"

// PROXY protocol v2 TLV types (proxy-protocol.txt §2.2.1–2.2.5).
const (
	pp2TypeALPN       = 0x01
	pp2TypeAuthority  = 0x02
	pp2TypeSSL        = 0x20
	pp2SubtypeVersion = 0x21
	pp2SubtypeCN      = 0x22
	pp2SubtypeCipher  = 0x23
	pp2ClientSSL      = 0x01
	pp2ClientCertConn = 0x02
)

// ProxyHeader is a PROXY protocol v2 header: who the client is, and what it
// negotiated over TLS.
type ProxyHeader struct {
	// Source and Destination are the client's address and the address it
	// connected to. When either is invalid the header is LOCAL: the
	// target must use the connection's own addresses.
	Source, Destination netip.AddrPort
	// ALPN is the negotiated application protocol (PP2_TYPE_ALPN).
	ALPN string
	// Authority is the server name the client sent in SNI
	// (PP2_TYPE_AUTHORITY).
	Authority string
	// TLS describes the client's TLS connection (PP2_TYPE_SSL); nil when
	// the client spoke plain TCP.
	TLS *ProxyTLS
}

// ProxyTLS is the PP2_TYPE_SSL TLV.
type ProxyTLS struct {
	// Version is the protocol version, such as "TLSv1.3".
	Version string
	// Cipher is the cipher suite name.
	Cipher string
	// CommonName is the client certificate's subject CN, if any.
	CommonName string
	// ClientCert is true when the client presented a certificate on this
	// connection; Verified when it was verified.
	ClientCert, Verified bool
}

// AppendBinary appends the encoded header to b.
func (h *ProxyHeader) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, proxySignature...)
	src, dst := h.Source, h.Destination
	var body []byte
	switch {
	case !src.IsValid() || !dst.IsValid():
		b = append(b, 0x20, 0x00) // LOCAL, UNSPEC
	case src.Addr().Unmap().Is4() && dst.Addr().Unmap().Is4():
		b = append(b, 0x21, 0x11) // PROXY, TCP over IPv4
		s4, d4 := src.Addr().Unmap().As4(), dst.Addr().Unmap().As4()
		body = append(append(body, s4[:]...), d4[:]...)
		body = binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(body, src.Port()), dst.Port())
	default:
		b = append(b, 0x21, 0x21) // PROXY, TCP over IPv6
		s6, d6 := src.Addr().As16(), dst.Addr().As16()
		body = append(append(body, s6[:]...), d6[:]...)
		body = binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(body, src.Port()), dst.Port())
	}
	var err error
	if h.ALPN != "" {
		body, err = appendTLV(body, pp2TypeALPN, []byte(h.ALPN))
	}
	if err == nil && h.Authority != "" {
		body, err = appendTLV(body, pp2TypeAuthority, []byte(h.Authority))
	}
	if err == nil && h.TLS != nil {
		var client byte = pp2ClientSSL
		if h.TLS.ClientCert {
			client |= pp2ClientCertConn
		}
		var verify uint32 = 1
		if h.TLS.Verified {
			verify = 0
		}
		ssl := binary.BigEndian.AppendUint32([]byte{client}, verify)
		for _, sub := range []struct {
			typ byte
			v   string
		}{{pp2SubtypeVersion, h.TLS.Version}, {pp2SubtypeCipher, h.TLS.Cipher}, {pp2SubtypeCN, h.TLS.CommonName}} {
			if sub.v != "" && err == nil {
				ssl, err = appendTLV(ssl, sub.typ, []byte(sub.v))
			}
		}
		if err == nil {
			body, err = appendTLV(body, pp2TypeSSL, ssl)
		}
	}
	if err != nil {
		return nil, err
	}
	if len(body) > 0xffff {
		return nil, fmt.Errorf("tunnel: PROXY header of %d bytes exceeds 65535", len(body))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...), nil
}

// appendTLV appends one type-length-value.
func appendTLV(b []byte, typ byte, v []byte) ([]byte, error) {
	if len(v) > 0xffff {
		return nil, fmt.Errorf("tunnel: PROXY TLV 0x%02x of %d bytes exceeds 65535", typ, len(v))
	}
	b = append(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...), nil
}

// ErrShortProxyHeader is returned by [ParseProxyHeader] when b holds only
// the beginning of a header: read more and try again.
var ErrShortProxyHeader = errors.New("tunnel: PROXY v2 header: truncated")

// ParseProxyHeader parses a PROXY protocol v2 header at the start of b and
// returns it with its length. Unknown TLVs are skipped.
func ParseProxyHeader(b []byte) (*ProxyHeader, int, error) {
	if len(b) < 16 {
		if bytes.HasPrefix([]byte(proxySignature), b[:min(len(b), 12)]) {
			return nil, 0, ErrShortProxyHeader
		}
		return nil, 0, errors.New("tunnel: not a PROXY v2 header: the signature is missing")
	}
	if string(b[:12]) != proxySignature {
		if bytes.HasPrefix(b, []byte("PROXY ")) {
			return nil, 0, errors.New("tunnel: this is a PROXY v1 (text) header; only v2 is supported")
		}
		return nil, 0, errors.New("tunnel: not a PROXY v2 header: the signature is missing")
	}
	if b[12]>>4 != 2 {
		return nil, 0, fmt.Errorf("tunnel: PROXY header version %d, want 2", b[12]>>4)
	}
	cmd := b[12] & 0x0f
	if cmd > 1 {
		return nil, 0, fmt.Errorf("tunnel: PROXY v2 command %d, want 0 (LOCAL) or 1 (PROXY)", cmd)
	}
	n := int(binary.BigEndian.Uint16(b[14:16]))
	if len(b) < 16+n {
		return nil, 0, ErrShortProxyHeader
	}
	body := b[16 : 16+n]
	h := &ProxyHeader{}
	var alen int
	switch b[13] {
	case 0x11, 0x12:
		alen = 12
	case 0x21, 0x22:
		alen = 36
	case 0x31, 0x32:
		alen = 216
	case 0x00:
	default:
		return nil, 0, fmt.Errorf("tunnel: PROXY v2 address family/protocol 0x%02x is not defined", b[13])
	}
	if len(body) < alen {
		return nil, 0, fmt.Errorf("tunnel: PROXY v2 addresses: %d bytes for family 0x%02x, want %d", len(body), b[13], alen)
	}
	if cmd == 1 {
		switch alen {
		case 12:
			s, d := netip.AddrFrom4([4]byte(body[0:4])), netip.AddrFrom4([4]byte(body[4:8]))
			h.Source = netip.AddrPortFrom(s, binary.BigEndian.Uint16(body[8:10]))
			h.Destination = netip.AddrPortFrom(d, binary.BigEndian.Uint16(body[10:12]))
		case 36:
			s, d := netip.AddrFrom16([16]byte(body[0:16])), netip.AddrFrom16([16]byte(body[16:32]))
			h.Source = netip.AddrPortFrom(s, binary.BigEndian.Uint16(body[32:34]))
			h.Destination = netip.AddrPortFrom(d, binary.BigEndian.Uint16(body[34:36]))
		}
	}
	err := walkTLVs(body[alen:], func(typ byte, v []byte) error {
		switch typ {
		case pp2TypeALPN:
			h.ALPN = string(v)
		case pp2TypeAuthority:
			h.Authority = string(v)
		case pp2TypeSSL:
			if len(v) < 5 {
				return fmt.Errorf("PP2_TYPE_SSL of %d bytes, want at least 5", len(v))
			}
			t := &ProxyTLS{ClientCert: v[0]&pp2ClientCertConn != 0, Verified: binary.BigEndian.Uint32(v[1:5]) == 0}
			h.TLS = t
			return walkTLVs(v[5:], func(typ byte, v []byte) error {
				switch typ {
				case pp2SubtypeVersion:
					t.Version = string(v)
				case pp2SubtypeCipher:
					t.Cipher = string(v)
				case pp2SubtypeCN:
					t.CommonName = string(v)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("tunnel: PROXY v2 TLVs: %w", err)
	}
	return h, 16 + n, nil
}

// walkTLVs calls fn for each TLV in b.
func walkTLVs(b []byte, fn func(typ byte, v []byte) error) error {
	for len(b) > 0 {
		if len(b) < 3 {
			return fmt.Errorf("%d trailing bytes, too short for a TLV", len(b))
		}
		n := int(binary.BigEndian.Uint16(b[1:3]))
		if len(b) < 3+n {
			return fmt.Errorf("TLV 0x%02x claims %d bytes, %d remain", b[0], n, len(b)-3)
		}
		if err := fn(b[0], b[3:3+n]); err != nil {
			return err
		}
		b = b[3+n:]
	}
	return nil
}
