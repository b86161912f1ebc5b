package scan

import "github.com/tlskit/tlskit/internal/wire"

// The documented client profiles. Each is the ClientHello a client sends
// by default, transcribed from the client's own documentation or source
// (cited in Source), not measured against any server. Lists are in the
// client's order. GREASE values (RFC 8701) are included where the client
// sends them, as servers see them.

// Shorthands for the lists several profiles share.
var (
	s13     = []wire.CipherSuite{0x1301, 0x1302, 0x1303}
	s13ossl = []wire.CipherSuite{0x1302, 0x1303, 0x1301} // OpenSSL 1.1.1/3.x order
	// OpenSSL 3.0's DEFAULT TLS 1.2 list (openssl ciphers -V 'DEFAULT' on 3.0).
	ossl3Suites12 = []wire.CipherSuite{0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f, 0x009e,
		0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033,
		0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f}
	// OpenSSL 3.0's default groups and signature algorithms.
	ossl3Groups  = []wire.NamedGroup{29, 23, 30, 25, 24, 256, 257, 258, 259, 260}
	ossl3SigAlgs = []wire.SignatureScheme{0x0403, 0x0503, 0x0603, 0x0807, 0x0808,
		0x0809, 0x080a, 0x080b, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602}
	// BoringSSL's TLS 1.2 list as Chrome and Android offer it.
	boringSuites12 = []wire.CipherSuite{0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	chromeSigAlgs  = []wire.SignatureScheme{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
	javaSuites     = []wire.CipherSuite{0xc02c, 0xc02b, 0xcca9, 0xc030, 0xcca8, 0xc02f, 0x009f, 0xccaa, 0x00a3, 0x009e, 0x00a2,
		0xc024, 0xc028, 0xc023, 0xc027, 0x006b, 0x006a, 0x0067, 0x0040, 0xc00a, 0xc014, 0xc009, 0xc013, 0x0039, 0x0038,
		0x0033, 0x0032, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f}
	javaGroups  = []wire.NamedGroup{29, 23, 24, 25, 30, 256, 257, 258, 259, 260}
	javaSigAlgs = []wire.SignatureScheme{0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b,
		0x0401, 0x0501, 0x0601, 0x0402, 0x0303, 0x0301, 0x0302, 0x0203, 0x0201, 0x0202}
	v13  = []wire.Version{wire.VersionTLS13, wire.VersionTLS12}
	v12  = []wire.Version{wire.VersionTLS12}
	v120 = []wire.Version{wire.VersionTLS12, wire.VersionTLS11, wire.VersionTLS10}
)

// DefaultClients returns the documented client profiles.
func DefaultClients() []ClientProfile {
	return []ClientProfile{
		{Name: "Chrome 131+", MinRSABits: 1024, RSANote: "Chromium's certificate verifier (net/cert/cert_verify_proc.cc) fails RSA keys under 1024 bits with ERR_CERT_WEAK_KEY", Current: true, Source: "BoringSSL defaults as Chrome enables them: X25519MLKEM768 on by default since Chrome 131 (chromestatus.com feature 5257822742249472), no DHE, no TLS 1.0/1.1 since Chrome 84",
			Versions: append([]wire.Version{0x0a0a}, v13...), Suites: append(append([]wire.CipherSuite{0x1a1a}, s13...), boringSuites12...),
			Groups: []wire.NamedGroup{0x2a2a, 0x11ec, 29, 23, 24}, KeyShares: []wire.NamedGroup{0x11ec, 29}, SigAlgs: chromeSigAlgs,
			ALPN: []string{"h2", "http/1.1"}, EMS: true, Ticket: true, StatusRequest: true, SCTs: true,
			TrustNote: "Chrome Root Store, shipped with Chrome (not this machine's store)"},
		{Name: "Firefox 132+", MinRSABits: 1024, RSANote: "mozilla::pkix as Firefox runs it (NSSCertDBTrustDomain) accepts RSA keys of 1024 bits and more outside EV", Current: true, Source: "NSS defaults as Firefox enables them (security.tls.* and security.ssl3.* prefs): X25519MLKEM768 by default since Firefox 132, FFDHE groups offered, DHE suites removed in Firefox 78",
			Versions: v13, Suites: append([]wire.CipherSuite{0x1301, 0x1303, 0x1302}, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035),
			Groups: []wire.NamedGroup{0x11ec, 29, 23, 24, 25, 256, 257}, KeyShares: []wire.NamedGroup{0x11ec, 29, 23},
			SigAlgs: []wire.SignatureScheme{0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201},
			ALPN:    []string{"h2", "http/1.1"}, EMS: true, Ticket: true, StatusRequest: true, SCTs: true,
			TrustNote: "NSS's built-in roots (Mozilla's root program), shipped with Firefox"},
		{Name: "Safari 18", MinRSABits: 2048, RSANote: "Apple's requirements for trusted certificates since iOS 13 and macOS 10.15 (support.apple.com HT210176): RSA keys under 2048 bits are not trusted for TLS", Current: true, Source: "Apple's TLS stack in macOS 15 / iOS 18 (Apple Platform Security guide, TLS section): TLS 1.0/1.1 removed, ECDHE and RSA key exchange, 3DES kept last",
			Versions: append([]wire.Version{0x1a1a}, v13...), Suites: append(append([]wire.CipherSuite{0x2a2a}, s13...), 0xc02c, 0xc02b, 0xcca9, 0xc030, 0xc02f, 0xcca8, 0xc00a, 0xc009, 0xc014, 0xc013, 0x009d, 0x009c, 0x0035, 0x002f, 0xc008, 0xc012, 0x000a),
			Groups: []wire.NamedGroup{0x3a3a, 29, 23, 24, 25}, KeyShares: []wire.NamedGroup{29},
			SigAlgs: []wire.SignatureScheme{0x0403, 0x0804, 0x0401, 0x0503, 0x0203, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201},
			ALPN:    []string{"h2", "http/1.1"}, EMS: true, StatusRequest: true, SCTs: true,
			TrustNote: "Apple's trust store, shipped with the OS"},
		{Name: "Go 1.26 crypto/tls", MinRSABits: 1024, RSANote: "Go's crypto/rsa refuses RSA keys under 1024 bits since Go 1.24 (pkg.go.dev/crypto/rsa, minimum key size), so the handshake fails even unverified", Current: true, Source: "crypto/tls defaults of Go 1.26 (go.dev/src/crypto/tls/defaults.go): TLS 1.2 minimum, no RSA key exchange since Go 1.22, no 3DES since 1.23, the three ML-KEM hybrids first (X25519MLKEM768 since 1.24, the NIST ones since 1.26), no SHA-1 signatures; the TLS 1.3 suites after the others, as Go sends them",
			Versions: v13, Suites: []wire.CipherSuite{0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc009, 0xc013, 0xc00a, 0xc014, 0x1301, 0x1302, 0x1303},
			Groups: []wire.NamedGroup{0x11ec, 0x11eb, 0x11ed, 29, 23, 24, 25}, KeyShares: []wire.NamedGroup{0x11ec, 29},
			SigAlgs: []wire.SignatureScheme{0x0804, 0x0403, 0x0807, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0503, 0x0603},
			ALPN:    nil, EMS: true, Ticket: true, StatusRequest: true, SCTs: true, TrustStore: "go"},
		{Name: "curl 7.88 / OpenSSL 3.0", MinRSABits: 2048, RSANote: "Debian builds OpenSSL 3 with security level 2 as the default (RSA keys of 2048 bits and more; verification fails with \"EE certificate key too weak\"); upstream's default, level 1, accepts 1024", Current: true, Source: "OpenSSL 3.0's defaults (openssl ciphers DEFAULT; SSL_CTX defaults: TLS 1.0 to 1.3 offered, TLS 1.0/1.1 unusable at security level 1 without SHA-1) and curl's ALPN",
			Versions: []wire.Version{wire.VersionTLS13, wire.VersionTLS12, wire.VersionTLS11, wire.VersionTLS10}, Suites: append(append([]wire.CipherSuite{}, s13ossl...), ossl3Suites12...),
			Groups: ossl3Groups, KeyShares: []wire.NamedGroup{29}, SigAlgs: ossl3SigAlgs, ALPN: []string{"h2", "http/1.1"},
			EMS: true, ETM: true, Ticket: true, StatusRequest: true, TrustStore: "curl"},
		{Name: "GnuTLS 3.7 (NORMAL)", MinRSABits: 1024, RSANote: "GnuTLS 3.7's default verification profile accepts RSA keys of 1024 bits and more (gnutls-cli on this machine: a 768-bit key is \"insecure algorithm\", a 1024-bit one trusted)", Current: true, Source: "GnuTLS 3.7's NORMAL priority string (gnutls-cli --priority NORMAL --list): AES-256 before ChaCha20, CCM, SHA-1 signatures last, the NIST curves before X25519",
			Versions: []wire.Version{wire.VersionTLS13, wire.VersionTLS12, wire.VersionTLS11, wire.VersionTLS10},
			Suites: []wire.CipherSuite{0x1302, 0x1303, 0x1301, 0x1304, 0xc02c, 0xcca9, 0xc0ad, 0xc00a, 0xc02b, 0xc0ac, 0xc009, 0xc030, 0xcca8, 0xc014, 0xc02f, 0xc013,
				0x009d, 0xc09d, 0x0035, 0x009c, 0xc09c, 0x002f, 0x009f, 0xccaa, 0xc09f, 0x0039, 0x009e, 0xc09e, 0x0033},
			Groups: []wire.NamedGroup{23, 24, 25, 29, 30, 256, 257, 258, 259, 260}, KeyShares: []wire.NamedGroup{23, 29},
			SigAlgs: []wire.SignatureScheme{0x0401, 0x0809, 0x0804, 0x0403, 0x0807, 0x0501, 0x080a, 0x0805, 0x0503, 0x0808, 0x0601, 0x080b, 0x0806, 0x0603, 0x0201, 0x0203},
			EMS:     true, ETM: true, Ticket: true, StatusRequest: true, TrustStore: "gnutls"},
		{Name: "Python 3.11 ssl (OpenSSL 3.0)", MinRSABits: 2048, RSANote: "its cipher string sets @SECLEVEL=2: RSA keys of 2048 bits and more", Current: true, Source: "ssl.create_default_context(): TLS 1.2 minimum and Python's cipher string @SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:!aNULL:!eNULL:!aDSS:!SHA1:!AESCCM (Modules/_ssl.c PY_SSL_DEFAULT_CIPHER_STRING)",
			Versions: v13, Suites: append(append([]wire.CipherSuite{}, s13ossl...), 0xc02c, 0xc030, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc024, 0xc028, 0xc023, 0xc027, 0x009f, 0x009e, 0x006b, 0x0067),
			Groups: ossl3Groups, KeyShares: []wire.NamedGroup{29}, SigAlgs: ossl3SigAlgs, EMS: true, ETM: true, Ticket: true, TrustStore: "python"},
		{Name: "Java 8u291+", MinRSABits: 1024, RSANote: "jdk.certpath.disabledAlgorithms holds \"RSA keySize < 1024\"", Source: "JSSE in JDK 8 (Oracle JDK 8 Security Providers guide: default cipher suite order) with TLS 1.0/1.1 disabled by jdk.tls.disabledAlgorithms since 8u291, TLS 1.3 off on the client",
			Versions: v12, Suites: []wire.CipherSuite{0xc02c, 0xc02b, 0xc030, 0x009d, 0xc02e, 0xc032, 0x009f, 0x00a3, 0xc02f, 0x009c, 0xc02d, 0xc031, 0x009e, 0x00a2,
				0xc024, 0xc028, 0x003d, 0xc026, 0xc02a, 0x006b, 0x006a, 0xc00a, 0xc014, 0x0035, 0xc005, 0xc00f, 0x0039, 0x0038,
				0xc023, 0xc027, 0x003c, 0xc025, 0xc029, 0x0067, 0x0040, 0xc009, 0xc013, 0x002f, 0xc004, 0xc00e, 0x0033, 0x0032},
			Groups: []wire.NamedGroup{23, 24, 25, 256, 257, 258, 259, 260}, SigAlgs: []wire.SignatureScheme{0x0603, 0x0601, 0x0503, 0x0501, 0x0403, 0x0401, 0x0303, 0x0301, 0x0203, 0x0201, 0x0202},
			EMS: true, StatusRequest: true, TrustStore: "java", TrustNote: "modelled as the default JDK's cacerts keystore on this machine (the application may set javax.net.ssl.trustStore)"},
		{Name: "Java 17", MinRSABits: 1024, RSANote: "jdk.certpath.disabledAlgorithms holds \"RSA keySize < 1024\"", Source: "JSSE in JDK 17 (JDK 17 Security Developer's Guide: default enabled cipher suites and named groups)",
			Versions: v13, Suites: append([]wire.CipherSuite{0x1302, 0x1301, 0x1303}, javaSuites...),
			Groups: javaGroups, KeyShares: []wire.NamedGroup{29, 23}, SigAlgs: javaSigAlgs, EMS: true, StatusRequest: true,
			TrustStore: "java", TrustNote: "modelled as the default JDK's cacerts keystore on this machine (the application may set javax.net.ssl.trustStore)"},
		{Name: "Java 21", MinRSABits: 1024, RSANote: "jdk.certpath.disabledAlgorithms holds \"RSA keySize < 1024\"", Current: true, Source: "JSSE in JDK 21 (JDK 21 Security Developer's Guide): as JDK 17, without the TLS_ECDH_* and DSS suites",
			Versions: v13, Suites: append([]wire.CipherSuite{0x1302, 0x1301, 0x1303}, without(without(javaSuites, 0x00a3), 0x00a2)...),
			Groups: javaGroups, KeyShares: []wire.NamedGroup{29, 23}, SigAlgs: javaSigAlgs, EMS: true, StatusRequest: true,
			TrustStore: "java", TrustNote: "modelled as the default JDK's cacerts keystore on this machine (the application may set javax.net.ssl.trustStore)"},
		{Name: "Android 7.0", Source: "BoringSSL/Conscrypt in Android 7.0 (Android SSLSocket documentation: protocols and cipher suites enabled by default, API 24)",
			Versions: v120, Suites: []wire.CipherSuite{0xc02b, 0xc02c, 0xcca9, 0xc02f, 0xc030, 0xcca8, 0xc009, 0xc00a, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
			Groups: []wire.NamedGroup{29, 23, 24}, SigAlgs: []wire.SignatureScheme{0x0601, 0x0603, 0x0501, 0x0503, 0x0401, 0x0403, 0x0201, 0x0203},
			ALPN: []string{"h2", "http/1.1"}, EMS: true, Ticket: true, StatusRequest: true, SCTs: true, TrustNote: "Android's system CA store"},
		{Name: "Android 9", Source: "BoringSSL/Conscrypt in Android 9 (Android SSLSocket documentation, API 28): TLS 1.2 and earlier",
			Versions: v120, Suites: []wire.CipherSuite{0xc02b, 0xc02c, 0xcca9, 0xc02f, 0xc030, 0xcca8, 0xc009, 0xc00a, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}, Groups: []wire.NamedGroup{29, 23, 24},
			SigAlgs: []wire.SignatureScheme{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201},
			ALPN:    []string{"h2", "http/1.1"}, EMS: true, Ticket: true, StatusRequest: true, SCTs: true, TrustNote: "Android's system CA store"},
		{Name: "Android 14", Current: true, Source: "BoringSSL/Conscrypt in Android 14 (Android SSLSocket documentation, API 34): TLS 1.3 and 1.2",
			Versions: v13, Suites: append(append([]wire.CipherSuite{}, s13...), 0xc02b, 0xc02c, 0xcca9, 0xc02f, 0xc030, 0xcca8, 0xc009, 0xc00a, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035),
			Groups: []wire.NamedGroup{29, 23, 24}, KeyShares: []wire.NamedGroup{29}, SigAlgs: chromeSigAlgs,
			ALPN: []string{"h2", "http/1.1"}, EMS: true, Ticket: true, StatusRequest: true, SCTs: true, TrustNote: "Android's system CA store"},
		{Name: "Windows Server 2012 R2 (Schannel)", MinRSABits: 1024, RSANote: "Microsoft Security Advisory 2661254 (2012): certificates with RSA keys under 1024 bits are blocked", Source: "Microsoft Learn, \"TLS Cipher Suites in Windows 8.1\": the default priority order; TLS 1.2, 1.1, 1.0; NIST curves only",
			Versions: v120, Suites: []wire.CipherSuite{0xc028, 0xc027, 0xc014, 0xc013, 0x009f, 0x009e, 0x0039, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f,
				0xc02c, 0xc02b, 0xc024, 0xc023, 0xc00a, 0xc009, 0x006a, 0x0040, 0x0038, 0x0032, 0x000a, 0x0013},
			Groups: []wire.NamedGroup{23, 24, 25}, SigAlgs: []wire.SignatureScheme{0x0401, 0x0501, 0x0201, 0x0403, 0x0503, 0x0203, 0x0402, 0x0202},
			EMS: true, StatusRequest: true, TrustNote: "the Windows certificate store"},
		{Name: "Windows Server 2016 (Schannel)", MinRSABits: 1024, RSANote: "Microsoft Security Advisory 2661254 (2012): certificates with RSA keys under 1024 bits are blocked", Source: "Microsoft Learn, \"TLS Cipher Suites in Windows 10 v1607\": the default priority order; TLS 1.2, 1.1, 1.0; X25519 added",
			Versions: v120, Suites: []wire.CipherSuite{0xc02c, 0xc02b, 0xc030, 0xc02f, 0x009f, 0x009e, 0xc024, 0xc023, 0xc028, 0xc027, 0xc00a, 0xc009, 0xc014, 0xc013,
				0x0039, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x006a, 0x0040, 0x0038, 0x0032, 0x000a, 0x0013},
			Groups: []wire.NamedGroup{29, 23, 24}, SigAlgs: []wire.SignatureScheme{0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0403, 0x0503, 0x0603, 0x0201, 0x0203, 0x0202, 0x0402},
			EMS: true, StatusRequest: true, TrustNote: "the Windows certificate store"},
		{Name: "OpenSSL 1.0.2", MinRSABits: 1, RSANote: "OpenSSL 1.0.2 has no security levels: it accepts an RSA key of any size", Source: "OpenSSL 1.0.2's DEFAULT cipher list (ALL:!aNULL:!eNULL:!SSLv2, openssl ciphers -V on 1.0.2u) and its default curve list",
			Versions: v120, Suites: []wire.CipherSuite{0xc030, 0xc02c, 0xc028, 0xc024, 0xc014, 0xc00a, 0x00a5, 0x00a3, 0x00a1, 0x009f, 0x006b, 0x006a, 0x0069, 0x0068,
				0x0039, 0x0038, 0x0037, 0x0036, 0x0088, 0x0087, 0x0086, 0x0085, 0xc032, 0xc02e, 0xc02a, 0xc026, 0xc00f, 0xc005, 0x009d, 0x003d,
				0x0035, 0x0084, 0xc02f, 0xc02b, 0xc027, 0xc023, 0xc013, 0xc009, 0x00a4, 0x00a2, 0x00a0, 0x009e, 0x0067, 0x0040, 0x003f, 0x003e,
				0x0033, 0x0032, 0x0031, 0x0030, 0x009a, 0x0099, 0x0098, 0x0097, 0x0045, 0x0044, 0x0043, 0x0042, 0xc031, 0xc02d, 0xc029, 0xc025,
				0xc00e, 0xc004, 0x009c, 0x003c, 0x002f, 0x0096, 0x0041, 0xc011, 0xc007, 0xc00c, 0xc002, 0x0005, 0x0004, 0xc012, 0xc008,
				0x0016, 0x0013, 0x0010, 0x000d, 0xc00d, 0xc003, 0x000a},
			Groups:    []wire.NamedGroup{14, 13, 25, 28, 11, 12, 27, 9, 10, 26, 22, 23, 8, 6, 7, 20, 21, 4, 5, 18, 19, 1, 2, 3, 15, 16, 17},
			SigAlgs:   []wire.SignatureScheme{0x0601, 0x0602, 0x0603, 0x0501, 0x0502, 0x0503, 0x0401, 0x0402, 0x0403, 0x0301, 0x0302, 0x0303, 0x0201, 0x0202, 0x0203, 0x0101},
			Ticket:    true,
			TrustNote: "OpenSSL 1.0.2 builds a path unlike this machine's OpenSSL 3 (no trusted-first: it follows the certificates the server sent, and an expired root or cross-sign on that way fails it where OpenSSL 3 finds another path, as Let's Encrypt's chain through DST Root CA X3 did in September 2021), and there is no OpenSSL 1.0.2 here to judge with"},
	}
}
