package wire

import (
	"bytes"
	"errors"
	"testing"
)

// rebuild makes a ClientHello extension again from its parsed value with
// the constructors of build.go, or reports false for a type they do not
// build.
func rebuild(t *testing.T, e Extension) (Extension, bool) {
	t.Helper()
	switch v := e.Parsed.(type) {
	case []string:
		switch e.Type {
		case ExtServerName:
			if len(v) != 1 {
				t.Fatalf("server_name with %d names", len(v))
			}
			return ServerNameExtension(v[0]), true
		case ExtALPN:
			return ALPNExtension(v), true
		}
	case []NamedGroup:
		return SupportedGroupsExtension(v), true
	case []ECPointFormat:
		return ECPointFormatsExtension(v), true
	case []SignatureScheme:
		return SignatureAlgorithmsExtension(e.Type, v), true
	case []Version:
		return SupportedVersionsExtension(v), true
	case []KeyShare:
		return KeyShareExtension(v), true
	case []PSKKeyExchangeMode:
		return PSKKeyExchangeModesExtension(v), true
	case OfferedPSKs:
		return PreSharedKeyExtension(v), true
	case Padding:
		return PaddingExtension(v.Length), true
	case uint8:
		if e.Type == ExtHeartbeat {
			return HeartbeatExtension(v), true
		}
	case HexBytes:
		switch e.Type {
		case ExtRenegotiationInfo:
			return RenegotiationInfoExtension(v), true
		case ExtSessionTicket:
			return SessionTicketExtension(v), true
		case ExtCookie:
			return CookieExtension(v), true
		}
	case Empty:
		return EmptyExtension(e.Type), true
	case StatusRequest:
		if len(v.ResponderIDs) == 0 && len(v.Extensions) == 0 && v.StatusType == 1 {
			return StatusRequestExtension(), true
		}
	}
	return RawExtension(e.Type, e.Data), false
}

// TestBuildRFC8448ClientHellos rebuilds the ClientHellos of RFC 8448 (a
// full handshake, a resumption with 0-RTT and a PSK binder, a
// HelloRetryRequest's second hello) from their fields with the
// constructors, and checks the bytes against the RFC's: the oracle is the
// RFC's own encoding, not this package's parser.
func TestBuildRFC8448ClientHellos(t *testing.T) {
	for _, f := range []string{
		"testdata/rfc8448/rfc8448-sec3-Simple_1RTT_Handshake.json",
		"testdata/rfc8448/rfc8448-sec4-Resumed_0RTT_Handshake.json",
		"testdata/rfc8448/rfc8448-sec5-HelloRetryRequest_Handshake.json",
	} {
		raws, _ := rfc8448Messages(t, f)
		built := 0
		for _, raw := range raws {
			if raw.Type != TypeClientHello {
				continue
			}
			m, err := ParseMessage(raw.Type, raw.Body, Context{})
			if err != nil {
				t.Fatal(err)
			}
			orig := m.(*ClientHello)
			ch := *orig
			ch.Extensions = nil
			for _, e := range orig.Extensions {
				r, ok := rebuild(t, e)
				if ok {
					built++
				}
				if !bytes.Equal(r.Data, e.Data) {
					t.Errorf("%s: %v rebuilt as %x, RFC has %x", f, e.Type, r.Data, e.Data)
				}
				ch.Extensions = append(ch.Extensions, r)
			}
			if got := HandshakeMessage(&ch); !bytes.Equal(got, raw.Raw) {
				t.Errorf("%s: ClientHello rebuilt:\n got %x\nwant %x", f, got, raw.Raw)
			}
			if p := ch.MarshalWithoutBinders(); ch.Extensions.Has(ExtPreSharedKey) {
				// RFC 8448 §4: the binder is computed over the first 477
				// octets of the 512-octet ClientHello.
				if len(p) != 477 || !bytes.Equal(p, raw.Raw[:477]) {
					t.Errorf("%s: truncated ClientHello is %d bytes, want the first 477", f, len(p))
				}
			} else if p != nil {
				t.Errorf("%s: MarshalWithoutBinders without pre_shared_key returned %d bytes", f, len(p))
			}
		}
		if built == 0 {
			t.Errorf("%s: no extension rebuilt", f)
		}
	}
}

func TestAppendRecords(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 16384+10)
	out := AppendRecords(nil, ContentHandshake, VersionTLS10, big)
	recs, used, err := SplitRecords(out)
	if err != nil || used != len(out) || len(recs) != 2 || recs[0].Header.Length != 16384 || recs[1].Header.Length != 10 {
		t.Fatalf("records: %d, used %d of %d, %v", len(recs), used, len(out), err)
	}
	if recs[0].Header.Version != VersionTLS10 || recs[0].Header.Type != ContentHandshake {
		t.Errorf("header %+v", recs[0].Header)
	}
	if out := AppendRecords(nil, ContentAlert, VersionTLS12, nil); len(out) != 5 {
		t.Errorf("empty payload: %x", out)
	}
}

// sslv2ServerHelloVector is a SERVER-HELLO written from the SSL 2.0
// draft's layout (no SSL 2.0 server exists on this machine to record one):
// 2-byte header, MSG-SERVER-HELLO, SESSION-ID-HIT 0, CERTIFICATE-TYPE 1
// (X.509), SERVER-VERSION 0x0002, a 3-byte "certificate", two cipher
// specs (SSL_CK_RC4_128_WITH_MD5, SSL_CK_DES_192_EDE3_CBC_WITH_MD5) and a
// 16-byte connection id.
var sslv2ServerHelloVector = []byte{
	0x80, 0x24,
	0x04, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x06, 0x00, 0x10,
	0x30, 0x01, 0x00,
	0x01, 0x00, 0x80, 0x07, 0x00, 0xc0,
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
}

func TestParseSSLv2ServerHello(t *testing.T) {
	m, n, err := ParseSSLv2ServerHello(sslv2ServerHelloVector)
	if err != nil || n != len(sslv2ServerHelloVector) {
		t.Fatalf("n %d, %v", n, err)
	}
	if m.Version != 0x0002 || m.CertificateType != 1 || len(m.CipherSpecs) != 2 ||
		m.CipherSpecs[0].String() != "SSL2_RC4_128_WITH_MD5" || m.CipherSpecs[1].String() != "SSL2_DES_192_EDE3_CBC_WITH_MD5" ||
		len(m.ConnectionID) != 16 || !bytes.Equal(m.Certificate, []byte{0x30, 1, 0}) {
		t.Errorf("parsed %+v", m)
	}
	if got := m.Marshal(); !bytes.Equal(got, sslv2ServerHelloVector) {
		t.Errorf("round trip:\n got %x\nwant %x", got, sslv2ServerHelloVector)
	}
	if _, _, err := ParseSSLv2ServerHello(sslv2ServerHelloVector[:20]); !errors.Is(err, ErrShort) {
		t.Errorf("short: %v", err)
	}
	// A TLS alert is not an SSL 2.0 record that holds a SERVER-HELLO.
	if _, _, err := ParseSSLv2ServerHello([]byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28}); err == nil {
		t.Error("a TLS alert parsed as a SERVER-HELLO")
	}
}

func FuzzParseSSLv2ServerHello(f *testing.F) {
	f.Add(sslv2ServerHelloVector)
	f.Add([]byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28})
	f.Add([]byte{0x00, 0x0b, 0x00, 0x04, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := ParseSSLv2ServerHello(b)
		if err != nil {
			return
		}
		if n > len(b) {
			t.Fatalf("used %d of %d", n, len(b))
		}
		if b[0]&0x80 != 0 {
			if got := m.Marshal(); !bytes.Equal(got, b[:n]) {
				t.Fatalf("round trip:\n got %x\nwant %x", got, b[:n])
			}
		}
	})
}
