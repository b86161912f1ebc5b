package wire

import (
	"golang.org/x/crypto/cryptobyte"
)

// SSL 2.0 SERVER-HELLO (the SSL 2.0 draft, "SERVER-HELLO (Phase 1; Sent
// in the clear)"): what an SSL 2.0 server answers a CLIENT-HELLO with. A
// scanner learns from it that the server speaks SSL 2.0, with which cipher
// kinds and certificate, without going further.

// sslv2MsgServerHello is SSL 2.0's MSG-SERVER-HELLO.
const sslv2MsgServerHello = 4

// SSLv2ServerHello is an SSL 2.0 SERVER-HELLO.
type SSLv2ServerHello struct {
	// SessionIDHit is non-zero when the server found the client's session
	// id in its cache (then the certificate and specs are empty).
	SessionIDHit uint8 `json:"session_id_hit"`
	// CertificateType is 1 (SSL_CT_X509_CERTIFICATE) for an X.509
	// certificate.
	CertificateType uint8 `json:"certificate_type"`
	// Version is the server's version: 0x0002 for SSL 2.0.
	Version Version `json:"server_version"`
	// Certificate is the server's DER certificate.
	Certificate HexBytes `json:"-"`
	// CipherSpecs are the cipher kinds the server accepts of those the
	// client offered.
	CipherSpecs []SSLv2CipherSpec `json:"cipher_specs"`
	// ConnectionID is the server's connection id.
	ConnectionID HexBytes `json:"connection_id"`
}

// ParseSSLv2ServerHello parses an SSL 2.0 record that holds a
// SERVER-HELLO, its header included: a 2-byte header (high bit set) or a
// 3-byte one (high bit clear, with a padding count that must be zero for
// an unencrypted message). It returns the message and the number of bytes
// the record used; [ErrShort] when b does not hold the whole record yet.
func ParseSSLv2ServerHello(b []byte) (*SSLv2ServerHello, int, error) {
	const what = "SSLv2 ServerHello"
	if len(b) < 3 {
		return nil, 0, ErrShort
	}
	var hdr, n int
	if b[0]&0x80 != 0 {
		hdr, n = 2, int(b[0]&0x7f)<<8|int(b[1])
	} else {
		hdr, n = 3, int(b[0]&0x3f)<<8|int(b[1])
		if b[2] != 0 {
			return nil, 0, errf(what, "a 3-byte record header with %d bytes of padding is not a plaintext SERVER-HELLO", b[2])
		}
	}
	if n < 11 {
		return nil, 0, errf(what, "record of %d bytes is shorter than a SERVER-HELLO (11)", n)
	}
	if len(b) < hdr+n {
		return nil, 0, ErrShort
	}
	s := cryptobyte.String(b[hdr : hdr+n])
	var typ, hit, certType uint8
	var version, certLen, specLen, idLen uint16
	if !s.ReadUint8(&typ) || !s.ReadUint8(&hit) || !s.ReadUint8(&certType) || !s.ReadUint16(&version) ||
		!s.ReadUint16(&certLen) || !s.ReadUint16(&specLen) || !s.ReadUint16(&idLen) {
		return nil, 0, errf(what, "truncated")
	}
	if typ != sslv2MsgServerHello {
		return nil, 0, errf(what, "message type %d is not SERVER-HELLO (4)", typ)
	}
	if specLen%3 != 0 {
		return nil, 0, errf(what, "cipher_specs_length %d is not a multiple of 3", specLen)
	}
	m := &SSLv2ServerHello{SessionIDHit: hit, CertificateType: certType, Version: Version(version)}
	var cert, specs, id cryptobyte.String
	if !s.ReadBytes((*[]byte)(&cert), int(certLen)) || !s.ReadBytes((*[]byte)(&specs), int(specLen)) || !s.ReadBytes((*[]byte)(&id), int(idLen)) {
		return nil, 0, errf(what, "the lengths add up to more than the %d-byte record", n)
	}
	if !s.Empty() {
		return nil, 0, errf(what, "%d trailing bytes after the connection id", len(s))
	}
	m.Certificate, m.ConnectionID = HexBytes(cert), HexBytes(id)
	m.CipherSpecs = make([]SSLv2CipherSpec, 0, specLen/3)
	for !specs.Empty() {
		var c uint32
		specs.ReadUint24(&c)
		m.CipherSpecs = append(m.CipherSpecs, SSLv2CipherSpec(c))
	}
	return m, hdr + n, nil
}

// Marshal re-encodes the SERVER-HELLO as a record with a 2-byte header.
func (m *SSLv2ServerHello) Marshal() []byte {
	msg := build(func(b *cryptobyte.Builder) {
		b.AddUint8(sslv2MsgServerHello)
		b.AddUint8(m.SessionIDHit)
		b.AddUint8(m.CertificateType)
		b.AddUint16(uint16(m.Version))
		b.AddUint16(uint16(len(m.Certificate)))
		b.AddUint16(uint16(len(m.CipherSpecs) * 3))
		b.AddUint16(uint16(len(m.ConnectionID)))
		b.AddBytes(m.Certificate)
		for _, c := range m.CipherSpecs {
			b.AddUint24(uint32(c))
		}
		b.AddBytes(m.ConnectionID)
	})
	return SSLv2Record(msg)
}
