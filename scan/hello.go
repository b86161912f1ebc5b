package scan

import (
	"cmp"
	"crypto/rand"
	"slices"
	"strings"

	"github.com/tlskit/tlskit/internal/wire"
)

// This file says what a probe offers (helloSpec) and builds the
// ClientHello from it with internal/wire, and holds the candidate lists
// the enumerations start from: every suite of wire's table that a version
// can negotiate, every named group, every signature scheme.

// helloSpec says what a ClientHello offers.
type helloSpec struct {
	// version is the highest version offered in legacy_version (TLS 1.2
	// for a TLS 1.3 hello, which lists versions in supported_versions).
	version wire.Version
	// versions, if set, is the supported_versions extension.
	versions      []wire.Version
	suites        []wire.CipherSuite
	groups        []wire.NamedGroup // supported_groups; nil: no extension
	shares        []wire.NamedGroup // key shares to make; with versions set and none, an empty key_share
	sigalgs       []wire.SignatureScheme
	sigalgsCert   []wire.SignatureScheme
	sni           string
	alpn          []string
	compression   []wire.CompressionMethod
	sslv3Style    bool // no extensions block at all (SSL 3.0 clients)
	ems, etm      bool
	ticket        bool   // an empty session_ticket: ask for a ticket
	ticketData    []byte // a ticket to resume with
	sessionID     []byte // nil: a fresh random 32-byte id for TLS 1.3 middlebox compatibility, none otherwise
	statusRequest bool
	scts          bool
	heartbeat     bool
	renegInfo     []byte // renegotiation_info's data; with renegExt
	renegExt      bool   // send renegotiation_info (else TLS_EMPTY_RENEGOTIATION_INFO_SCSV)
	noReneg       bool   // neither the extension nor the SCSV
	fallbackSCSV  bool
	pskModes      []wire.PSKKeyExchangeMode
	earlyData     bool
	extra         []wire.Extension
	// raw, if set, is a recorded ClientHello sent as it is but for a fresh
	// random and fresh key shares for the groups it shares (client
	// profiles recorded from the clients on this machine).
	raw *wire.ClientHello
	// sslv2 sends an SSL 2.0 CLIENT-HELLO with every SSL 2.0 cipher kind.
	sslv2 bool
}

// recordVersion is the version in the records that carry the hello: SSL
// 3.0 for an SSL 3.0 hello, TLS 1.0 otherwise (as deployed clients do,
// for servers that refuse higher record versions in the first flight).
func (s *helloSpec) recordVersion() wire.Version {
	if s.version == wire.VersionSSL30 {
		return wire.VersionSSL30
	}
	return wire.VersionTLS10
}

// tls13 reports whether the hello offers TLS 1.3.
func (s *helloSpec) tls13() bool { return slices.Contains(s.versions, wire.VersionTLS13) }

// build returns the ClientHello and the key shares made for it.
func (s *helloSpec) build() (*wire.ClientHello, map[wire.NamedGroup]*keyShare, error) {
	random := make([]byte, 32)
	rand.Read(random)
	shares := map[wire.NamedGroup]*keyShare{}
	if s.raw != nil {
		return s.buildRaw(random, shares)
	}
	m := &wire.ClientHello{Version: s.version, Random: random, CompressionMethods: []wire.CompressionMethod{0}}
	if len(s.compression) > 0 {
		m.CompressionMethods = s.compression
	}
	m.CipherSuites = append([]wire.CipherSuite(nil), s.suites...)
	if !s.renegExt && !s.noReneg {
		m.CipherSuites = append(m.CipherSuites, 0x00ff) // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
	}
	if s.fallbackSCSV {
		m.CipherSuites = append(m.CipherSuites, 0x5600) // TLS_FALLBACK_SCSV
	}
	switch {
	case s.sessionID != nil:
		m.SessionID = s.sessionID
	case s.tls13():
		m.SessionID = make([]byte, 32)
		rand.Read(m.SessionID)
	default:
		m.SessionID = []byte{}
	}
	if s.sslv3Style {
		return m, shares, nil
	}
	e := wire.Extensions{}
	if s.sni != "" {
		e = append(e, wire.ServerNameExtension(s.sni))
	}
	if s.groups != nil {
		if slices.ContainsFunc(s.groups, isECGroup) {
			e = append(e, wire.ECPointFormatsExtension([]wire.ECPointFormat{0}))
		}
		e = append(e, wire.SupportedGroupsExtension(s.groups))
	}
	if s.ticket || s.ticketData != nil {
		e = append(e, wire.SessionTicketExtension(s.ticketData))
	}
	if len(s.alpn) > 0 {
		e = append(e, wire.ALPNExtension(s.alpn))
	}
	if s.etm {
		e = append(e, wire.EmptyExtension(wire.ExtEncryptThenMAC))
	}
	if s.ems {
		e = append(e, wire.EmptyExtension(wire.ExtExtendedMasterSecret))
	}
	if len(s.sigalgs) > 0 {
		e = append(e, wire.SignatureAlgorithmsExtension(wire.ExtSignatureAlgorithms, s.sigalgs))
	}
	if len(s.sigalgsCert) > 0 {
		e = append(e, wire.SignatureAlgorithmsExtension(wire.ExtSignatureAlgorithmsCert, s.sigalgsCert))
	}
	if s.statusRequest {
		e = append(e, wire.StatusRequestExtension())
	}
	if s.scts {
		e = append(e, wire.EmptyExtension(wire.ExtSCT))
	}
	if s.heartbeat {
		e = append(e, wire.HeartbeatExtension(1))
	}
	if len(s.versions) > 0 {
		e = append(e, wire.SupportedVersionsExtension(s.versions))
	}
	if s.tls13() {
		if len(s.pskModes) > 0 {
			e = append(e, wire.PSKKeyExchangeModesExtension(s.pskModes))
		}
		var ks []wire.KeyShare
		for _, g := range s.shares {
			k, err := newKeyShare(g)
			if err != nil {
				return nil, nil, err
			}
			shares[g] = k
			ks = append(ks, wire.KeyShare{Group: g, KeyExchange: k.public})
		}
		e = append(e, wire.KeyShareExtension(ks))
		if s.earlyData {
			e = append(e, wire.EmptyExtension(wire.ExtEarlyData))
		}
	}
	if s.renegExt {
		e = append(e, wire.RenegotiationInfoExtension(s.renegInfo))
	}
	e = append(e, s.extra...)
	m.Extensions = e
	pad(m)
	return m, shares, nil
}

// buildRaw reuses a recorded hello with a fresh random and fresh key
// shares for the groups this package can make; shares of other groups are
// kept as recorded (the server's choice is still learnt from them).
func (s *helloSpec) buildRaw(random []byte, shares map[wire.NamedGroup]*keyShare) (*wire.ClientHello, map[wire.NamedGroup]*keyShare, error) {
	m := *s.raw
	m.Random = random
	m.Extensions = nil
	for _, e := range s.raw.Extensions {
		switch e.Type {
		case wire.ExtKeyShare:
			old, _ := e.Parsed.([]wire.KeyShare)
			var ks []wire.KeyShare
			for _, k := range old {
				if canShare(k.Group) {
					n, err := newKeyShare(k.Group)
					if err != nil {
						return nil, nil, err
					}
					shares[k.Group] = n
					k = wire.KeyShare{Group: k.Group, KeyExchange: n.public}
				}
				ks = append(ks, k)
			}
			e = wire.KeyShareExtension(ks)
		case wire.ExtServerName:
			if s.sni == "" {
				continue
			}
			e = wire.ServerNameExtension(s.sni)
		case wire.ExtPreSharedKey, wire.ExtEarlyData:
			continue // a recorded ticket means nothing to this server
		}
		m.Extensions = append(m.Extensions, e)
	}
	if s.sni != "" && !m.Extensions.Has(wire.ExtServerName) {
		m.Extensions = append(wire.Extensions{wire.ServerNameExtension(s.sni)}, m.Extensions...)
	}
	return &m, shares, nil
}

// pad adds a padding extension when the hello's handshake message would
// be 256 to 511 bytes long, as BoringSSL and NSS do: some servers hang on
// hellos of that size (the F5 "ClientHello length" bug).
func pad(m *wire.ClientHello) {
	n := len(wire.HandshakeMessage(m))
	if n <= 0xff || n >= 0x200 {
		return
	}
	p := 0x200 - n
	if p >= 4+1 {
		p -= 4
	} else {
		p = 1
	}
	m.Extensions = append(m.Extensions, wire.PaddingExtension(p))
}

// isECGroup reports whether g is an elliptic curve group (which makes
// ec_point_formats meaningful).
func isECGroup(g wire.NamedGroup) bool { return g >= 1 && g <= 30 || g >= 31 && g <= 33 }

// versionsTLS are the versions scanned with TLS-format hellos, oldest
// first.
var versionsTLS = []wire.Version{wire.VersionSSL30, wire.VersionTLS10, wire.VersionTLS11, wire.VersionTLS12, wire.VersionTLS13}

// tls12Only reports whether a suite needs TLS 1.2: an AEAD, or an HMAC
// or PRF with SHA-256 or SHA-384 (RFC 5246 §A.5, RFC 5288, RFC 5289).
func tls12Only(s wire.CipherSuiteInfo) bool {
	return s.AEAD() || s.MAC == wire.MACSHA256 || s.MAC == wire.MACSHA384
}

// suiteRank orders candidate suites the way a careful client would offer
// them, so that a server without a preference of its own picks from a
// sensible order: forward secrecy, then AEAD, then key bits, then ECDSA
// before RSA, then the code point.
func suiteRank(a, b wire.CipherSuiteInfo) int {
	bool2 := func(x bool) int {
		if x {
			return 0
		}
		return 1
	}
	if c := cmp.Compare(bool2(a.ForwardSecret() && !a.Anonymous()), bool2(b.ForwardSecret() && !b.Anonymous())); c != 0 {
		return c
	}
	if c := cmp.Compare(bool2(a.AEAD()), bool2(b.AEAD())); c != 0 {
		return c
	}
	if c := cmp.Compare(b.KeyBits, a.KeyBits); c != 0 {
		return c
	}
	if c := cmp.Compare(bool2(a.Auth == wire.AuthECDSA), bool2(b.Auth == wire.AuthECDSA)); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// candidateSuites returns every suite of wire's table that version v can
// negotiate, in suiteRank order: the TLS 1.3 suites for TLS 1.3; for
// earlier versions every other suite except the signaling values and
// TLS_NULL_WITH_NULL_NULL, without the TLS 1.2-only ones before TLS 1.2.
func candidateSuites(v wire.Version) []wire.CipherSuite {
	var infos []wire.CipherSuiteInfo
	for _, s := range wire.CipherSuites() {
		switch {
		case s.Signaling || s.ID == 0:
		case v == wire.VersionTLS13:
			if s.TLS13 {
				infos = append(infos, s)
			}
		case s.TLS13:
		case v < wire.VersionTLS12 && tls12Only(s):
		default:
			infos = append(infos, s)
		}
	}
	slices.SortStableFunc(infos, suiteRank)
	out := make([]wire.CipherSuite, len(infos))
	for i, s := range infos {
		out[i] = s.ID
	}
	return out
}

// suitesWhere returns the candidates for v that f accepts.
func suitesWhere(v wire.Version, f func(wire.CipherSuiteInfo) bool) []wire.CipherSuite {
	var out []wire.CipherSuite
	for _, id := range candidateSuites(v) {
		if s, _ := id.Info(); f(s) {
			out = append(out, id)
		}
	}
	return out
}

// Groups a scan tries.
var (
	// groups13 are the groups TLS 1.3 can negotiate (RFC 8446 §4.2.7 and
	// the registry since): the hybrids first, as current clients prefer.
	groups13 = []wire.NamedGroup{
		groupX25519MLKEM768, groupSecP256r1MLKEM768, groupSecP384r1MLKEM1024,
		0x0200, 0x0201, 0x0202, // MLKEM512, MLKEM768, MLKEM1024
		0x6399, 0x639a, // X25519Kyber768Draft00, SecP256r1Kyber768Draft00
		wire.GroupX25519, wire.GroupSecp256r1, wire.GroupX448, wire.GroupSecp384r1, wire.GroupSecp521r1,
		31, 32, 33, // brainpoolP256r1tls13, brainpoolP384r1tls13, brainpoolP512r1tls13
		41,                         // curveSM2
		34, 35, 36, 37, 38, 39, 40, // GOST GC256A–D, GC512A–C
		256, 257, 258, 259, 260, // ffdhe2048–8192
	}
	// groups12 are the elliptic curves TLS 1.2 ECDHE can use (RFC 8422,
	// RFC 7027, RFC 4492's deprecated curves), the common ones first.
	groups12 = []wire.NamedGroup{
		wire.GroupX25519, wire.GroupSecp256r1, wire.GroupX448, wire.GroupSecp384r1, wire.GroupSecp521r1,
		26, 27, 28, // brainpoolP256r1, P384r1, P512r1
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, // sect163k1 … sect571r1
		15, 16, 17, 18, 19, 20, 21, 22, // secp160k1 … secp256k1
	}
	// ffdheGroups are RFC 7919's groups.
	ffdheGroups = []wire.NamedGroup{256, 257, 258, 259, 260}
)

// allGroups12 is groups12 and the FFDHE groups: what a TLS 1.2 probe
// offers when the group is not what it asks about.
func allGroups12() []wire.NamedGroup { return append(slices.Clone(groups12), ffdheGroups...) }

// isPQ reports whether g is a post-quantum (hybrid or pure ML-KEM) group.
func isPQ(g wire.NamedGroup) bool {
	switch g {
	case groupX25519MLKEM768, groupSecP256r1MLKEM768, groupSecP384r1MLKEM1024, 0x0200, 0x0201, 0x0202, 0x6399, 0x639a:
		return true
	}
	return false
}

// Signature schemes a scan tries.
var (
	// sigalgs13 are the schemes TLS 1.3 allows for CertificateVerify.
	sigalgs13 = []wire.SignatureScheme{
		0x0403, 0x0503, 0x0603, // ecdsa_secp256r1_sha256 … secp521r1_sha512
		0x0807, 0x0808, // ed25519, ed448
		0x0804, 0x0805, 0x0806, // rsa_pss_rsae_sha256 … sha512
		0x0809, 0x080a, 0x080b, // rsa_pss_pss_sha256 … sha512
		0x081a, 0x081b, 0x081c, // ecdsa_brainpool*tls13
		0x0904, 0x0905, 0x0906, // mldsa44, 65, 87
		0x0708,                                                 // sm2sig_sm3
		0x0709, 0x070a, 0x070b, 0x070c, 0x070d, 0x070e, 0x070f, // GOST
	}
	// sigalgs12 are TLS 1.2's SignatureAndHashAlgorithm pairs and schemes.
	sigalgs12 = []wire.SignatureScheme{
		0x0403, 0x0503, 0x0603, 0x0807, 0x0808,
		0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b,
		0x081a, 0x081b, 0x081c,
		0x0401, 0x0501, 0x0601, // rsa_pkcs1_sha256 … sha512
		0x0303, 0x0301, 0x0302, // sha224: ecdsa, rsa, dsa
		0x0402, 0x0502, 0x0602, // dsa_sha256 … sha512
		0x0203, 0x0201, 0x0202, // sha1: ecdsa, rsa, dsa
		0x0103, 0x0101, 0x0102, // md5: ecdsa, rsa, dsa
	}
)

// names returns the String of each value.
func names[T interface{ String() string }](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}

// without returns vs without x.
func without[T comparable](vs []T, x T) []T {
	out := make([]T, 0, len(vs))
	for _, v := range vs {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

// summary describes what a hello offers, in one line, for a probe's
// evidence.
func summary(m *wire.ClientHello) string {
	var parts []string
	vs := m.OfferedVersions()
	parts = append(parts, strings.Join(names(vs), ", "))
	parts = append(parts, plural(len(m.CipherSuites), "suite"))
	if g, ok := m.Extensions.Find(wire.ExtSupportedGroups).Parsed.([]wire.NamedGroup); ok {
		parts = append(parts, plural(len(g), "group"))
	}
	if ks, ok := m.Extensions.Find(wire.ExtKeyShare).Parsed.([]wire.KeyShare); ok {
		if len(ks) == 0 {
			parts = append(parts, "no key share")
		} else {
			var gs []wire.NamedGroup
			for _, k := range ks {
				gs = append(gs, k.Group)
			}
			parts = append(parts, "key shares "+strings.Join(names(gs), ", "))
		}
	}
	if s, ok := m.Extensions.Find(wire.ExtSignatureAlgorithms).Parsed.([]wire.SignatureScheme); ok {
		parts = append(parts, plural(len(s), "signature scheme"))
	}
	if n := m.ServerName(); n != "" {
		parts = append(parts, "SNI "+n)
	}
	return strings.Join(parts, "; ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return itoa(n) + " " + what + "s"
}
