package wire

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		v    fmt.Stringer
		want string
	}{
		{Version(0x0300), "SSL 3.0"},
		{VersionTLS10, "TLS 1.0"},
		{VersionTLS13, "TLS 1.3"},
		{Version(0x7f14), "TLS 1.3 (draft 20)"},
		{VersionDTLS12, "DTLS 1.2"},
		{Version(0x1a1a), "GREASE(0x1a1a)"},
		{Version(0x0305), "unknown(0x0305)"},
		{ContentHandshake, "handshake"},
		{ContentType(99), "unknown(99)"},
		{TypeClientHello, "client_hello"},
		{TypeMessageHash, "message_hash"},
		{HandshakeType(250), "unknown(250)"},
		{ExtServerName, "server_name"},
		{ExtALPN, "application_layer_protocol_negotiation"},
		{ExtEncryptedClientHello, "encrypted_client_hello"},
		{ExtRenegotiationInfo, "renegotiation_info"},
		{ExtensionType(0xfafa), "GREASE(0xfafa)"},
		{ExtensionType(0x1234), "unknown(0x1234)"},
		{CipherSuite(0x1301), "TLS_AES_128_GCM_SHA256"},
		{CipherSuite(0xc02b), "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
		{CipherSuite(0xcca8), "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
		{CipherSuite(0x000a), "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
		{CipherSuite(0x00ff), "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
		{CipherSuite(0x5600), "TLS_FALLBACK_SCSV"},
		{CipherSuite(0xc0a4), "TLS_PSK_WITH_AES_128_CCM"},
		{CipherSuite(0x2a2a), "GREASE(0x2a2a)"},
		{CipherSuite(0x1234), "unknown(0x1234)"},
		{GroupX25519, "x25519"},
		{NamedGroup(0x11ec), "X25519MLKEM768"},
		{NamedGroup(0x11eb), "SecP256r1MLKEM768"},
		{NamedGroup(0x0201), "MLKEM768"},
		{NamedGroup(0x0101), "ffdhe3072"},
		{NamedGroup(0x0a0a), "GREASE(0x0a0a)"},
		{SignatureScheme(0x0403), "ecdsa_secp256r1_sha256"},
		{SignatureScheme(0x0201), "rsa_pkcs1_sha1"},
		{SignatureScheme(0x0303), "ecdsa_sha224"},
		{SignatureScheme(0x0202), "dsa_sha1"},
		{SignatureScheme(0x0807), "ed25519"},
		{SignatureScheme(0x0905), "mldsa65"},
		{SignatureScheme(0xeaea), "GREASE(0xeaea)"},
		{SignatureScheme(0x0700), "unknown(0x0700)"},
		{AlertCertificateRequired, "certificate_required"},
		{AlertDescription(120), "no_application_protocol"},
		{AlertDescription(121), "ech_required"},
		{AlertDescription(200), "unknown(200)"},
		{AlertFatal, "fatal"},
		{CompressionMethod(0), "null"},
		{CertificateCompressionAlgorithm(2), "brotli"},
		{PSKKeyExchangeMode(1), "psk_dhe_ke"},
		{PSKKeyExchangeMode(0x2a), "GREASE(0x2a)"},
		{PSKKeyExchangeMode(7), "unknown(7)"},
		{CertificateStatusType(1), "ocsp"},
		{ECPointFormat(0), "uncompressed"},
		{ClientCertificateType(64), "ecdsa_sign"},
		{KeyUpdateRequest(1), "update_requested"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%T(%#x).String() = %q, want %q", tc.v, tc.v, got, tc.want)
		}
	}
	for _, g := range []uint16{0x0a0a, 0x1a1a, 0xfafa} {
		if !isGREASE16(g) {
			t.Errorf("%#x is GREASE", g)
		}
	}
	for _, g := range []uint16{0x0a1a, 0x0b0b, 0x0a0b} {
		if isGREASE16(g) {
			t.Errorf("%#x is not GREASE", g)
		}
	}
	j, err := json.Marshal(struct {
		S []CipherSuite
		G NamedGroup
		V Version
		H HexBytes
	}{[]CipherSuite{0x1301, 0x0a0a}, GroupX25519, VersionTLS12, HexBytes{0xab, 0x01}})
	if err != nil || string(j) != `{"S":["TLS_AES_128_GCM_SHA256","GREASE(0x0a0a)"],"G":"x25519","V":"TLS 1.2","H":"ab01"}` {
		t.Errorf("JSON = %s, %v", j, err)
	}
}

// TestKeyExchange checks what ServerKeyExchange and ClientKeyExchange are
// decoded as, by suite: RFC 5246 §7.4.3 and §7.4.7, RFC 4279, RFC 5489,
// RFC 8422. Export DHE suites send ordinary ServerDHParams (RFC 4346
// §7.4.3); TLS_PSK_DHE_WITH_AES_*_CCM_8 use the DHE_PSK key exchange (RFC
// 6655 §4); RSA_EXPORT sends a temporary RSA key, which is not decoded.
func TestKeyExchange(t *testing.T) {
	for c, want := range map[CipherSuite]kex{
		0xc02f: kexECDHE, 0xc018: kexECDHEAnon, 0x009e: kexDHE, 0x00a6: kexDHEAnon, 0x00a8: kexPSK,
		0x00ac: kexPSK, 0xccac: kexECDHEPSK, 0x00aa: kexDHEPSK, 0x002f: kexNone, 0x1301: kexNone, 0x1234: kexUnknown,
		0x0014: kexDHE, 0x0019: kexDHEAnon, 0xc0aa: kexDHEPSK, 0x0003: kexUnknown, 0x00ff: kexNone,
		0xc01d: kexUnknown, // SRP: not decoded
	} {
		if got := c.keyExchange(); got != want {
			t.Errorf("%v.keyExchange() = %d, want %d", c, got, want)
		}
	}
}
