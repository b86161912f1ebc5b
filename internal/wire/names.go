package wire

import (
	"strconv"
	"strings"
)

// This file holds the TLS registries as named integer types. Every type has
// a String method returning the IANA name, "unknown(0x1234)" (or
// "unknown(250)" for 8-bit types) for unregistered values and
// "GREASE(0x0a0a)" for RFC 8701 values, and a MarshalText method returning
// the same string so that encoding/json renders names.

func unknown16(v uint16) string { return "unknown(0x" + hex4(v) + ")" }
func unknown8(v uint8) string   { return "unknown(" + strconv.Itoa(int(v)) + ")" }
func grease16(v uint16) string  { return "GREASE(0x" + hex4(v) + ")" }

func hex4(v uint16) string {
	s := strconv.FormatUint(uint64(v), 16)
	return strings.Repeat("0", 4-len(s)) + s
}

// isGREASE16 reports whether v is one of the sixteen RFC 8701 values
// 0x0a0a, 0x1a1a, ..., 0xfafa.
func isGREASE16(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// Version is a TLS or DTLS protocol version (RFC 8446 §4.2.1, RFC 9147 §5.3).
type Version uint16

// The protocol versions.
const (
	VersionSSL30  Version = 0x0300
	VersionTLS10  Version = 0x0301
	VersionTLS11  Version = 0x0302
	VersionTLS12  Version = 0x0303
	VersionTLS13  Version = 0x0304
	VersionDTLS10 Version = 0xfeff
	VersionDTLS12 Version = 0xfefd
	VersionDTLS13 Version = 0xfefc
)

// String returns the version's common name, such as "TLS 1.2",
// "TLS 1.3 (draft 20)" or "DTLS 1.2".
func (v Version) String() string {
	switch v {
	case 0x0002, 0x0200:
		return "SSL 2.0"
	case VersionSSL30:
		return "SSL 3.0"
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	case 0x0100:
		return "DTLS 1.0 (OpenSSL pre-0.9.8f)"
	case VersionDTLS10:
		return "DTLS 1.0"
	case VersionDTLS12:
		return "DTLS 1.2"
	case VersionDTLS13:
		return "DTLS 1.3"
	}
	if v>>8 == 0x7f {
		return "TLS 1.3 (draft " + strconv.Itoa(int(v&0xff)) + ")"
	}
	if v.IsGREASE() {
		return grease16(uint16(v))
	}
	return unknown16(uint16(v))
}

// IsGREASE reports whether v is an RFC 8701 GREASE value.
func (v Version) IsGREASE() bool { return isGREASE16(uint16(v)) }

// IsTLS13 reports whether v is TLS 1.3, a TLS 1.3 draft or DTLS 1.3, that is
// whether handshake messages use their TLS 1.3 encodings.
func (v Version) IsTLS13() bool { return v == VersionTLS13 || v == VersionDTLS13 || v>>8 == 0x7f }

// MarshalText implements encoding.TextMarshaler.
func (v Version) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// ContentType is the record layer content type (RFC 8446 §5.1).
type ContentType uint8

// The record content types.
const (
	ContentChangeCipherSpec ContentType = 20
	ContentAlert            ContentType = 21
	ContentHandshake        ContentType = 22
	ContentApplicationData  ContentType = 23
	ContentHeartbeat        ContentType = 24
	ContentTLS12CID         ContentType = 25
	ContentACK              ContentType = 26
)

// String returns the IANA name, such as "handshake".
func (t ContentType) String() string {
	switch t {
	case ContentChangeCipherSpec:
		return "change_cipher_spec"
	case ContentAlert:
		return "alert"
	case ContentHandshake:
		return "handshake"
	case ContentApplicationData:
		return "application_data"
	case ContentHeartbeat:
		return "heartbeat"
	case ContentTLS12CID:
		return "tls12_cid"
	case ContentACK:
		return "ack"
	}
	return unknown8(uint8(t))
}

// MarshalText implements encoding.TextMarshaler.
func (t ContentType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// HandshakeType is the handshake message type (RFC 8446 §4, RFC 5246 §7.4).
type HandshakeType uint8

// The handshake message types.
const (
	TypeHelloRequest          HandshakeType = 0
	TypeClientHello           HandshakeType = 1
	TypeServerHello           HandshakeType = 2
	TypeHelloVerifyRequest    HandshakeType = 3
	TypeNewSessionTicket      HandshakeType = 4
	TypeEndOfEarlyData        HandshakeType = 5
	TypeHelloRetryRequest     HandshakeType = 6 // draft TLS 1.3 only; RFC 8446 uses a ServerHello
	TypeEncryptedExtensions   HandshakeType = 8
	TypeCertificate           HandshakeType = 11
	TypeServerKeyExchange     HandshakeType = 12
	TypeCertificateRequest    HandshakeType = 13
	TypeServerHelloDone       HandshakeType = 14
	TypeCertificateVerify     HandshakeType = 15
	TypeClientKeyExchange     HandshakeType = 16
	TypeFinished              HandshakeType = 20
	TypeCertificateURL        HandshakeType = 21
	TypeCertificateStatus     HandshakeType = 22
	TypeSupplementalData      HandshakeType = 23
	TypeKeyUpdate             HandshakeType = 24
	TypeCompressedCertificate HandshakeType = 25
	TypeNextProtocol          HandshakeType = 67
	TypeMessageHash           HandshakeType = 254
)

// String returns the IANA name, such as "client_hello".
func (t HandshakeType) String() string {
	switch t {
	case 0:
		return "hello_request"
	case 1:
		return "client_hello"
	case 2:
		return "server_hello"
	case 3:
		return "hello_verify_request"
	case 4:
		return "new_session_ticket"
	case 5:
		return "end_of_early_data"
	case 6:
		return "hello_retry_request"
	case 8:
		return "encrypted_extensions"
	case 9:
		return "request_connection_id"
	case 10:
		return "new_connection_id"
	case 11:
		return "certificate"
	case 12:
		return "server_key_exchange"
	case 13:
		return "certificate_request"
	case 14:
		return "server_hello_done"
	case 15:
		return "certificate_verify"
	case 16:
		return "client_key_exchange"
	case 17:
		return "client_certificate_request"
	case 20:
		return "finished"
	case 21:
		return "certificate_url"
	case 22:
		return "certificate_status"
	case 23:
		return "supplemental_data"
	case 24:
		return "key_update"
	case 25:
		return "compressed_certificate"
	case 26:
		return "ekt_key"
	case 67:
		return "next_protocol"
	case 254:
		return "message_hash"
	}
	return unknown8(uint8(t))
}

// MarshalText implements encoding.TextMarshaler.
func (t HandshakeType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// ExtensionType is a TLS extension code point (IANA TLS ExtensionType
// Values).
type ExtensionType uint16

// The extension types this package decodes.
const (
	ExtServerName                 ExtensionType = 0
	ExtMaxFragmentLength          ExtensionType = 1
	ExtStatusRequest              ExtensionType = 5
	ExtSupportedGroups            ExtensionType = 10
	ExtECPointFormats             ExtensionType = 11
	ExtSignatureAlgorithms        ExtensionType = 13
	ExtUseSRTP                    ExtensionType = 14
	ExtHeartbeat                  ExtensionType = 15
	ExtALPN                       ExtensionType = 16
	ExtSCT                        ExtensionType = 18
	ExtClientCertificateType      ExtensionType = 19
	ExtServerCertificateType      ExtensionType = 20
	ExtPadding                    ExtensionType = 21
	ExtEncryptThenMAC             ExtensionType = 22
	ExtExtendedMasterSecret       ExtensionType = 23
	ExtCompressCertificate        ExtensionType = 27
	ExtRecordSizeLimit            ExtensionType = 28
	ExtSessionTicket              ExtensionType = 35
	ExtPreSharedKey               ExtensionType = 41
	ExtEarlyData                  ExtensionType = 42
	ExtSupportedVersions          ExtensionType = 43
	ExtCookie                     ExtensionType = 44
	ExtPSKKeyExchangeModes        ExtensionType = 45
	ExtCertificateAuthorities     ExtensionType = 47
	ExtOIDFilters                 ExtensionType = 48
	ExtPostHandshakeAuth          ExtensionType = 49
	ExtSignatureAlgorithmsCert    ExtensionType = 50
	ExtKeyShare                   ExtensionType = 51
	ExtApplicationSettingsOld     ExtensionType = 17513
	ExtApplicationSettings        ExtensionType = 17613
	ExtEncryptedClientHello       ExtensionType = 0xfe0d
	ExtECHOuterExtensions         ExtensionType = 0xfd00
	ExtRenegotiationInfo          ExtensionType = 0xff01
	ExtNextProtocolNegotiation    ExtensionType = 13172
	ExtQUICTransportParameters    ExtensionType = 57
	ExtDelegatedCredential        ExtensionType = 34
	ExtTransparencyInfo           ExtensionType = 52
	ExtConnectionID               ExtensionType = 54
	ExtTicketRequest              ExtensionType = 58
	ExtChannelID                  ExtensionType = 30032
	ExtQUICTransportParametersOld ExtensionType = 0xffa5
)

// String returns the IANA name, such as "server_name".
func (t ExtensionType) String() string {
	switch t {
	case 0:
		return "server_name"
	case 1:
		return "max_fragment_length"
	case 2:
		return "client_certificate_url"
	case 3:
		return "trusted_ca_keys"
	case 4:
		return "truncated_hmac"
	case 5:
		return "status_request"
	case 6:
		return "user_mapping"
	case 7:
		return "client_authz"
	case 8:
		return "server_authz"
	case 9:
		return "cert_type"
	case 10:
		return "supported_groups"
	case 11:
		return "ec_point_formats"
	case 12:
		return "srp"
	case 13:
		return "signature_algorithms"
	case 14:
		return "use_srtp"
	case 15:
		return "heartbeat"
	case 16:
		return "application_layer_protocol_negotiation"
	case 17:
		return "status_request_v2"
	case 18:
		return "signed_certificate_timestamp"
	case 19:
		return "client_certificate_type"
	case 20:
		return "server_certificate_type"
	case 21:
		return "padding"
	case 22:
		return "encrypt_then_mac"
	case 23:
		return "extended_master_secret"
	case 24:
		return "token_binding"
	case 25:
		return "cached_info"
	case 26:
		return "tls_lts"
	case 27:
		return "compress_certificate"
	case 28:
		return "record_size_limit"
	case 29:
		return "pwd_protect"
	case 30:
		return "pwd_clear"
	case 31:
		return "password_salt"
	case 32:
		return "ticket_pinning"
	case 33:
		return "tls_cert_with_extern_psk"
	case 34:
		return "delegated_credential"
	case 35:
		return "session_ticket"
	case 36:
		return "TLMSP"
	case 37:
		return "TLMSP_proxying"
	case 38:
		return "TLMSP_delegate"
	case 39:
		return "supported_ekt_ciphers"
	case 41:
		return "pre_shared_key"
	case 42:
		return "early_data"
	case 43:
		return "supported_versions"
	case 44:
		return "cookie"
	case 45:
		return "psk_key_exchange_modes"
	case 47:
		return "certificate_authorities"
	case 48:
		return "oid_filters"
	case 49:
		return "post_handshake_auth"
	case 50:
		return "signature_algorithms_cert"
	case 51:
		return "key_share"
	case 52:
		return "transparency_info"
	case 53:
		return "connection_id_deprecated"
	case 54:
		return "connection_id"
	case 55:
		return "external_id_hash"
	case 56:
		return "external_session_id"
	case 57:
		return "quic_transport_parameters"
	case 58:
		return "ticket_request"
	case 59:
		return "dnssec_chain"
	case 60:
		return "sequence_number_encryption_algorithms"
	case 61:
		return "rrc"
	case 62:
		return "tls_flags"
	case 13172:
		return "next_protocol_negotiation"
	case 17513:
		return "application_settings_old"
	case 17613:
		return "application_settings"
	case 30031:
		return "channel_id_old"
	case 30032:
		return "channel_id"
	case 0xfd00:
		return "ech_outer_extensions"
	case 0xfe0d:
		return "encrypted_client_hello"
	case 0xff01:
		return "renegotiation_info"
	case 0xffa5:
		return "quic_transport_parameters_draft"
	}
	if t.IsGREASE() {
		return grease16(uint16(t))
	}
	return unknown16(uint16(t))
}

// IsGREASE reports whether t is an RFC 8701 GREASE value.
func (t ExtensionType) IsGREASE() bool { return isGREASE16(uint16(t)) }

// MarshalText implements encoding.TextMarshaler.
func (t ExtensionType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// CipherSuite is a TLS cipher suite (IANA TLS Cipher Suites registry).
type CipherSuite uint16

// String returns the IANA name, such as "TLS_AES_128_GCM_SHA256".
func (c CipherSuite) String() string {
	if s := cipherSuiteName(c); s != "" {
		return s
	}
	if c.IsGREASE() {
		return grease16(uint16(c))
	}
	return unknown16(uint16(c))
}

// IsGREASE reports whether c is an RFC 8701 GREASE value.
func (c CipherSuite) IsGREASE() bool { return isGREASE16(uint16(c)) }

// MarshalText implements encoding.TextMarshaler.
func (c CipherSuite) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// kex is the key exchange of a TLS 1.2 (or earlier) cipher suite, as far as
// it shapes ServerKeyExchange and ClientKeyExchange.
type kex int

const (
	kexUnknown   kex = iota
	kexNone          // RSA, static (EC)DH and TLS 1.3 suites: no ServerKeyExchange
	kexECDHE         // ServerECDHParams + signature
	kexECDHEAnon     // ServerECDHParams, no signature
	kexDHE           // ServerDHParams + signature
	kexDHEAnon       // ServerDHParams, no signature
	kexPSK           // psk_identity_hint
	kexECDHEPSK      // psk_identity_hint + ServerECDHParams
	kexDHEPSK        // psk_identity_hint + ServerDHParams
)

// keyExchange classifies c by what its key exchange puts in
// ServerKeyExchange and ClientKeyExchange.
func (c CipherSuite) keyExchange() kex {
	s, ok := c.Info()
	switch {
	case !ok:
		return kexUnknown
	case s.TLS13 || s.Signaling:
		return kexNone
	}
	switch s.Kx {
	case KxRSA:
		if s.Export {
			return kexUnknown // a temporary RSA key in ServerKeyExchange, not decoded
		}
		return kexNone
	case KxDH, KxECDH:
		return kexNone
	case KxDHE:
		if s.Auth == AuthAnon {
			return kexDHEAnon
		}
		return kexDHE
	case KxECDHE:
		if s.Auth == AuthAnon {
			return kexECDHEAnon
		}
		return kexECDHE
	case KxPSK, KxRSAPSK:
		return kexPSK
	case KxECDHEPSK:
		return kexECDHEPSK
	case KxDHEPSK:
		return kexDHEPSK
	}
	return kexUnknown // NULL, SRP, KRB5, ECCPWD, EC J-PAKE, GOST: not decoded
}

// NamedGroup is a key exchange group (RFC 8446 §4.2.7, IANA TLS Supported
// Groups).
type NamedGroup uint16

// Common named groups.
const (
	GroupSecp256r1      NamedGroup = 23
	GroupSecp384r1      NamedGroup = 24
	GroupSecp521r1      NamedGroup = 25
	GroupX25519         NamedGroup = 29
	GroupX448           NamedGroup = 30
	GroupFFDHE2048      NamedGroup = 256
	GroupX25519MLKEM768 NamedGroup = 0x11ec
)

var sectNames = [...]string{1: "sect163k1", "sect163r1", "sect163r2", "sect193r1", "sect193r2",
	"sect233k1", "sect233r1", "sect239k1", "sect283k1", "sect283r1", "sect409k1", "sect409r1",
	"sect571k1", "sect571r1", "secp160k1", "secp160r1", "secp160r2", "secp192k1", "secp192r1",
	"secp224k1", "secp224r1", "secp256k1", "secp256r1", "secp384r1", "secp521r1",
	"brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1", "x25519", "x448",
	"brainpoolP256r1tls13", "brainpoolP384r1tls13", "brainpoolP512r1tls13",
	"GC256A", "GC256B", "GC256C", "GC256D", "GC512A", "GC512B", "GC512C", "curveSM2"}

// String returns the IANA name, such as "x25519" or "X25519MLKEM768".
func (g NamedGroup) String() string {
	if g > 0 && int(g) < len(sectNames) {
		return sectNames[g]
	}
	switch g {
	case 256:
		return "ffdhe2048"
	case 257:
		return "ffdhe3072"
	case 258:
		return "ffdhe4096"
	case 259:
		return "ffdhe6144"
	case 260:
		return "ffdhe8192"
	case 0x0200:
		return "MLKEM512"
	case 0x0201:
		return "MLKEM768"
	case 0x0202:
		return "MLKEM1024"
	case 0x11eb:
		return "SecP256r1MLKEM768"
	case 0x11ec:
		return "X25519MLKEM768"
	case 0x11ed:
		return "SecP384r1MLKEM1024"
	case 0x6399:
		return "X25519Kyber768Draft00"
	case 0x639a:
		return "SecP256r1Kyber768Draft00"
	case 0xff01:
		return "arbitrary_explicit_prime_curves"
	case 0xff02:
		return "arbitrary_explicit_char2_curves"
	}
	if g.IsGREASE() {
		return grease16(uint16(g))
	}
	return unknown16(uint16(g))
}

// IsGREASE reports whether g is an RFC 8701 GREASE value.
func (g NamedGroup) IsGREASE() bool { return isGREASE16(uint16(g)) }

// MarshalText implements encoding.TextMarshaler.
func (g NamedGroup) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// SignatureScheme is a TLS 1.3 signature scheme or a TLS 1.2
// SignatureAndHashAlgorithm pair (RFC 8446 §4.2.3, RFC 5246 §7.4.1.4.1).
type SignatureScheme uint16

// String returns the IANA name, such as "ecdsa_secp256r1_sha256"; TLS 1.2
// pairs without a TLS 1.3 name are spelled like "ecdsa_sha224".
func (s SignatureScheme) String() string {
	switch s {
	case 0x0201:
		return "rsa_pkcs1_sha1"
	case 0x0203:
		return "ecdsa_sha1"
	case 0x0401:
		return "rsa_pkcs1_sha256"
	case 0x0403:
		return "ecdsa_secp256r1_sha256"
	case 0x0420:
		return "rsa_pkcs1_sha256_legacy"
	case 0x0501:
		return "rsa_pkcs1_sha384"
	case 0x0503:
		return "ecdsa_secp384r1_sha384"
	case 0x0520:
		return "rsa_pkcs1_sha384_legacy"
	case 0x0601:
		return "rsa_pkcs1_sha512"
	case 0x0603:
		return "ecdsa_secp521r1_sha512"
	case 0x0620:
		return "rsa_pkcs1_sha512_legacy"
	case 0x0704:
		return "eccsi_sha256"
	case 0x0705:
		return "iso_ibs1"
	case 0x0706:
		return "iso_ibs2"
	case 0x0707:
		return "iso_chinese_ibs"
	case 0x0708:
		return "sm2sig_sm3"
	case 0x0709:
		return "gostr34102012_256a"
	case 0x070a:
		return "gostr34102012_256b"
	case 0x070b:
		return "gostr34102012_256c"
	case 0x070c:
		return "gostr34102012_256d"
	case 0x070d:
		return "gostr34102012_512a"
	case 0x070e:
		return "gostr34102012_512b"
	case 0x070f:
		return "gostr34102012_512c"
	case 0x0804:
		return "rsa_pss_rsae_sha256"
	case 0x0805:
		return "rsa_pss_rsae_sha384"
	case 0x0806:
		return "rsa_pss_rsae_sha512"
	case 0x0807:
		return "ed25519"
	case 0x0808:
		return "ed448"
	case 0x0809:
		return "rsa_pss_pss_sha256"
	case 0x080a:
		return "rsa_pss_pss_sha384"
	case 0x080b:
		return "rsa_pss_pss_sha512"
	case 0x081a:
		return "ecdsa_brainpoolP256r1tls13_sha256"
	case 0x081b:
		return "ecdsa_brainpoolP384r1tls13_sha384"
	case 0x081c:
		return "ecdsa_brainpoolP512r1tls13_sha512"
	case 0x0904:
		return "mldsa44"
	case 0x0905:
		return "mldsa65"
	case 0x0906:
		return "mldsa87"
	}
	// RFC 5246 §7.4.1.4.1 HashAlgorithm × SignatureAlgorithm.
	hash, sig := uint8(s>>8), uint8(s)
	hashes := [...]string{1: "md5", "sha1", "sha224", "sha256", "sha384", "sha512"}
	sigs := [...]string{1: "rsa_pkcs1_", "dsa_", "ecdsa_"}
	if hash >= 1 && int(hash) < len(hashes) && sig >= 1 && int(sig) < len(sigs) {
		return sigs[sig] + hashes[hash]
	}
	if s.IsGREASE() {
		return grease16(uint16(s))
	}
	return unknown16(uint16(s))
}

// IsGREASE reports whether s is an RFC 8701 GREASE value.
func (s SignatureScheme) IsGREASE() bool { return isGREASE16(uint16(s)) }

// MarshalText implements encoding.TextMarshaler.
func (s SignatureScheme) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// AlertLevel is the level of an alert (RFC 8446 §6).
type AlertLevel uint8

// The alert levels.
const (
	AlertWarning AlertLevel = 1
	AlertFatal   AlertLevel = 2
)

// String returns "warning" or "fatal".
func (l AlertLevel) String() string {
	switch l {
	case AlertWarning:
		return "warning"
	case AlertFatal:
		return "fatal"
	}
	return unknown8(uint8(l))
}

// MarshalText implements encoding.TextMarshaler.
func (l AlertLevel) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// AlertDescription says why an alert was sent (RFC 8446 §6, RFC 5246 §7.2,
// IANA TLS Alerts).
type AlertDescription uint8

// Alert descriptions that diagnoses refer to by name.
const (
	AlertCloseNotify           AlertDescription = 0
	AlertUnexpectedMessage     AlertDescription = 10
	AlertBadRecordMAC          AlertDescription = 20
	AlertHandshakeFailure      AlertDescription = 40
	AlertBadCertificate        AlertDescription = 42
	AlertCertificateExpired    AlertDescription = 45
	AlertCertificateUnknown    AlertDescription = 46
	AlertIllegalParameter      AlertDescription = 47
	AlertUnknownCA             AlertDescription = 48
	AlertDecodeError           AlertDescription = 50
	AlertDecryptError          AlertDescription = 51
	AlertProtocolVersion       AlertDescription = 70
	AlertInsufficientSecurity  AlertDescription = 71
	AlertInternalError         AlertDescription = 80
	AlertInappropriateFallback AlertDescription = 86
	AlertMissingExtension      AlertDescription = 109
	AlertUnrecognizedName      AlertDescription = 112
	AlertCertificateRequired   AlertDescription = 116
	AlertNoApplicationProtocol AlertDescription = 120
	AlertECHRequired           AlertDescription = 121
)

// String returns the IANA name, such as "certificate_required".
func (d AlertDescription) String() string {
	switch d {
	case 0:
		return "close_notify"
	case 10:
		return "unexpected_message"
	case 20:
		return "bad_record_mac"
	case 21:
		return "decryption_failed"
	case 22:
		return "record_overflow"
	case 30:
		return "decompression_failure"
	case 40:
		return "handshake_failure"
	case 41:
		return "no_certificate"
	case 42:
		return "bad_certificate"
	case 43:
		return "unsupported_certificate"
	case 44:
		return "certificate_revoked"
	case 45:
		return "certificate_expired"
	case 46:
		return "certificate_unknown"
	case 47:
		return "illegal_parameter"
	case 48:
		return "unknown_ca"
	case 49:
		return "access_denied"
	case 50:
		return "decode_error"
	case 51:
		return "decrypt_error"
	case 52:
		return "too_many_cids_requested"
	case 60:
		return "export_restriction"
	case 70:
		return "protocol_version"
	case 71:
		return "insufficient_security"
	case 80:
		return "internal_error"
	case 86:
		return "inappropriate_fallback"
	case 90:
		return "user_canceled"
	case 100:
		return "no_renegotiation"
	case 109:
		return "missing_extension"
	case 110:
		return "unsupported_extension"
	case 111:
		return "certificate_unobtainable"
	case 112:
		return "unrecognized_name"
	case 113:
		return "bad_certificate_status_response"
	case 114:
		return "bad_certificate_hash_value"
	case 115:
		return "unknown_psk_identity"
	case 116:
		return "certificate_required"
	case 117:
		return "general_error"
	case 120:
		return "no_application_protocol"
	case 121:
		return "ech_required"
	}
	return unknown8(uint8(d))
}

// MarshalText implements encoding.TextMarshaler.
func (d AlertDescription) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// CompressionMethod is a TLS 1.2 record compression method (RFC 3749).
type CompressionMethod uint8

// String returns the IANA name: "null", "DEFLATE" or "LZS".
func (c CompressionMethod) String() string {
	switch c {
	case 0:
		return "null"
	case 1:
		return "DEFLATE"
	case 64:
		return "LZS"
	}
	return unknown8(uint8(c))
}

// MarshalText implements encoding.TextMarshaler.
func (c CompressionMethod) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// CertificateCompressionAlgorithm is an RFC 8879 certificate compression
// algorithm.
type CertificateCompressionAlgorithm uint16

// String returns "zlib", "brotli" or "zstd".
func (a CertificateCompressionAlgorithm) String() string {
	switch a {
	case 1:
		return "zlib"
	case 2:
		return "brotli"
	case 3:
		return "zstd"
	}
	if a.IsGREASE() {
		return grease16(uint16(a))
	}
	return unknown16(uint16(a))
}

// IsGREASE reports whether a is an RFC 8701 GREASE value.
func (a CertificateCompressionAlgorithm) IsGREASE() bool { return isGREASE16(uint16(a)) }

// MarshalText implements encoding.TextMarshaler.
func (a CertificateCompressionAlgorithm) MarshalText() ([]byte, error) {
	return []byte(a.String()), nil
}

// PSKKeyExchangeMode is a TLS 1.3 PSK key exchange mode (RFC 8446 §4.2.9).
type PSKKeyExchangeMode uint8

// String returns "psk_ke" or "psk_dhe_ke".
func (m PSKKeyExchangeMode) String() string {
	switch m {
	case 0:
		return "psk_ke"
	case 1:
		return "psk_dhe_ke"
	}
	if m.IsGREASE() {
		return "GREASE(0x" + hex4(uint16(m))[2:] + ")"
	}
	return unknown8(uint8(m))
}

// IsGREASE reports whether m is one of the RFC 8701 GREASE values
// 0x0b, 0x2a, 0x49, ..., 0xe4 reserved for PSK key exchange modes.
func (m PSKKeyExchangeMode) IsGREASE() bool { return m >= 0x0b && (m-0x0b)%0x1f == 0 }

// MarshalText implements encoding.TextMarshaler.
func (m PSKKeyExchangeMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// CertificateStatusType is the type of a status_request (RFC 6066 §8,
// RFC 6961).
type CertificateStatusType uint8

// String returns "ocsp" or "ocsp_multi".
func (t CertificateStatusType) String() string {
	switch t {
	case 1:
		return "ocsp"
	case 2:
		return "ocsp_multi"
	}
	return unknown8(uint8(t))
}

// MarshalText implements encoding.TextMarshaler.
func (t CertificateStatusType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// ECPointFormat is an RFC 8422 §5.1.2 point format.
type ECPointFormat uint8

// String returns the IANA name, such as "uncompressed".
func (f ECPointFormat) String() string {
	switch f {
	case 0:
		return "uncompressed"
	case 1:
		return "ansiX962_compressed_prime"
	case 2:
		return "ansiX962_compressed_char2"
	}
	return unknown8(uint8(f))
}

// MarshalText implements encoding.TextMarshaler.
func (f ECPointFormat) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// ClientCertificateType is a TLS 1.2 CertificateRequest certificate type
// (RFC 5246 §7.4.4, RFC 8422 §5.5).
type ClientCertificateType uint8

// String returns the IANA name, such as "ecdsa_sign".
func (t ClientCertificateType) String() string {
	switch t {
	case 1:
		return "rsa_sign"
	case 2:
		return "dss_sign"
	case 3:
		return "rsa_fixed_dh"
	case 4:
		return "dss_fixed_dh"
	case 5:
		return "rsa_ephemeral_dh"
	case 6:
		return "dss_ephemeral_dh"
	case 20:
		return "fortezza_dms"
	case 64:
		return "ecdsa_sign"
	case 65:
		return "rsa_fixed_ecdh"
	case 66:
		return "ecdsa_fixed_ecdh"
	case 67:
		return "gost_sign256"
	case 68:
		return "gost_sign512"
	}
	return unknown8(uint8(t))
}

// MarshalText implements encoding.TextMarshaler.
func (t ClientCertificateType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// CertificateType is an RFC 7250 certificate type, as negotiated by
// client_certificate_type and server_certificate_type.
type CertificateType uint8

// String returns "X509", "OpenPGP", "RawPublicKey" or "1609Dot2".
func (t CertificateType) String() string {
	switch t {
	case 0:
		return "X509"
	case 1:
		return "OpenPGP"
	case 2:
		return "RawPublicKey"
	case 3:
		return "1609Dot2"
	}
	return unknown8(uint8(t))
}

// MarshalText implements encoding.TextMarshaler.
func (t CertificateType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// KeyUpdateRequest is the request_update field of a KeyUpdate
// (RFC 8446 §4.6.3).
type KeyUpdateRequest uint8

// String returns "update_not_requested" or "update_requested".
func (r KeyUpdateRequest) String() string {
	switch r {
	case 0:
		return "update_not_requested"
	case 1:
		return "update_requested"
	}
	return unknown8(uint8(r))
}

// MarshalText implements encoding.TextMarshaler.
func (r KeyUpdateRequest) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
