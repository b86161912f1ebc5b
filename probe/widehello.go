package probe

import (
	"context"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/internal/keysched"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/transcript"
	"github.com/tlskit/tlskit/trust"
)

// A wide hello is the second look `tlskit check` takes at a server that
// refused its ClientHello without saying why (an alert right after the
// hello, or a ServerHello the client could not accept): a ClientHello of
// its own, not crypto/tls's, that offers every version asked for, every
// cipher suite of the IANA registry (crypto/tls's first, in its order, then
// the rest), every key exchange group and signature scheme, with key
// shares for x25519 and P-256. A server picks from it what it wants; its
// ServerHello (and in TLS 1.2 its certificate and ServerKeyExchange, in TLS
// 1.3 its encrypted flight, decrypted with the hello's own key share) says
// what that is. The client sends nothing after the server's first flight:
// no key is ever confirmed, no application data flows.

// wideGroups are the groups a wide hello offers: crypto/tls's, then the
// others of the IANA registry that servers implement.
var wideGroups = []wire.NamedGroup{
	wire.GroupX25519MLKEM768, wire.GroupX25519, wire.GroupSecp256r1, wire.GroupSecp384r1, wire.GroupSecp521r1,
	0x11eb, 0x11ed, // SecP256r1MLKEM768, SecP384r1MLKEM1024
	wire.GroupX448, 256, 257, 258, 259, 260, // ffdhe2048 … ffdhe8192
	31, 32, 33, 26, 27, 28, // brainpool (TLS 1.3 and TLS 1.2 code points)
	21, 22, 19, 18, // secp224r1, secp256k1, secp192r1, secp192k1
}

// wideSchemes are the signature schemes a wide hello offers: crypto/tls's
// (Go 1.26 defaultSupportedSignatureAlgorithms), then the others.
var wideSchemes = []wire.SignatureScheme{
	0x0804, 0x0403, 0x0807, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0503, 0x0603,
	0x0809, 0x080a, 0x080b, // rsa_pss_pss_sha256/384/512
	0x0808,                 // ed448
	0x081a, 0x081b, 0x081c, // ecdsa_brainpool*tls13
	0x0201, 0x0203, 0x0301, 0x0303, 0x0202, 0x0402, 0x0502, 0x0602, // SHA-1, SHA-224, DSA
}

// wideSuites returns the cipher suites a wide hello offers for versions:
// TLS 1.3's, crypto/tls's TLS 1.2 defaults in their order, then every other
// suite of the registry except signalling values and suites that need a
// pre-shared secret (PSK, SRP, Kerberos).
func wideSuites(versions []uint16) []wire.CipherSuite {
	var out []wire.CipherSuite
	has13 := slices.Contains(versions, uint16(wire.VersionTLS13))
	legacy := slices.ContainsFunc(versions, func(v uint16) bool { return v < uint16(wire.VersionTLS13) })
	if has13 {
		out = append(out, 0x1301, 0x1302, 0x1303, 0x1304, 0x1305)
	}
	if !legacy {
		return out
	}
	goFirst := []wire.CipherSuite{0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc009, 0xc013, 0xc00a, 0xc014}
	out = append(out, goFirst...)
	// The rest best first, so that what the server picks is the best it
	// has: forward secrecy with AEAD, forward secrecy, RSA key exchange
	// with AEAD, RSA key exchange, anything else, and last what nobody
	// should use (NULL, export, anonymous, RC4, 64-bit block ciphers).
	rank := func(s wire.CipherSuiteInfo) int {
		switch {
		case s.NullCipher() || s.Export || s.Anonymous() || s.Cipher == wire.CipherRC4 || s.Cipher == wire.Cipher3DESCBC ||
			s.Cipher == wire.CipherDESCBC || s.Cipher == wire.CipherIDEACBC || s.Cipher == wire.CipherRC2CBC:
			return 5
		case s.Cipher != wire.CipherAESGCM && s.Cipher != wire.CipherChaCha20Poly1305 && s.Cipher != wire.CipherAESCBC:
			return 4
		case s.ForwardSecret() && s.AEAD():
			return 0
		case s.ForwardSecret():
			return 1
		case s.AEAD():
			return 2
		}
		return 3
	}
	rest := wire.CipherSuites()
	slices.SortStableFunc(rest, func(a, b wire.CipherSuiteInfo) int { return rank(a) - rank(b) })
	for _, s := range rest {
		if s.TLS13 || s.Signaling || !s.Registered || slices.Contains(out, s.ID) {
			continue
		}
		switch s.Kx {
		case wire.KxPSK, wire.KxRSAPSK, wire.KxDHEPSK, wire.KxECDHEPSK, wire.KxSRP, wire.KxKRB5, wire.KxECCPWD, wire.KxECJPAKE, wire.KxGOST, wire.KxNone:
			continue
		}
		out = append(out, s.ID)
	}
	return out
}

// lookTarget is where and how the second look connects, as the check did.
type lookTarget struct {
	dial    func(context.Context, string, string) (net.Conn, error)
	addr    string
	sni     string // "" for an address
	alpn    []string
	timeout time.Duration
	// deadline, when set, is when the check must have ended (see
	// Options.Deadline).
	deadline time.Time
	// upgrade runs the STARTTLS preamble before the hello, when the check
	// did; nil otherwise.
	upgrade func(context.Context, *recorder) (*transcript.Upgrade, error)
}

// left is the timeout of the next look: t.timeout, cut to the time left
// before t.deadline; 0 when less than a quarter of t.timeout is left, too
// little to tell a server's silence from the deadline's.
func (t lookTarget) left() time.Duration {
	if t.deadline.IsZero() {
		return t.timeout
	}
	d := min(t.timeout, time.Until(t.deadline))
	if d < t.timeout/4 {
		return 0
	}
	return d
}

// shape is what a wide hello offers besides everything: its versions,
// the size it is padded to (RFC 7685) when shorter, and whether its
// groups are only those of its key shares (so that no HelloRetryRequest
// comes).
type shape struct {
	versions   []uint16
	pad        int
	sharesOnly bool
}

// wideLook sends a wide hello of shape h and returns the decoded
// transcript of what the server answered.
func wideLook(ctx context.Context, t lookTarget, h shape) (*transcript.Transcript, error) {
	d := t.left()
	if d <= 0 {
		return nil, errors.New("probe: no time was left for the second look before the check's deadline")
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	raw, err := t.dial(ctx, "tcp", t.addr)
	if err != nil {
		return nil, fmt.Errorf("probe: the second look could not connect: %w", err)
	}
	rec := &recorder{Conn: raw}
	rec.allow(maxHandshakeBytes, "in the second look")
	if dl, ok := ctx.Deadline(); ok {
		raw.SetDeadline(dl)
	}
	var up *transcript.Upgrade
	if t.upgrade != nil {
		if up, err = t.upgrade(ctx, rec); err != nil {
			rec.Close()
			return nil, fmt.Errorf("probe: the second look's STARTTLS upgrade failed: %w", err)
		}
		if dl, ok := ctx.Deadline(); ok {
			raw.SetDeadline(dl)
		}
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		rec.Close()
		return nil, err
	}
	p256, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		rec.Close()
		return nil, err
	}
	random := make([]byte, 32)
	sid := make([]byte, 32)
	rand.Read(random)
	rand.Read(sid)
	ch := wideClientHello(random, sid, t.sni, t.alpn, h, map[wire.NamedGroup][]byte{
		wire.GroupX25519:    x25519.PublicKey().Bytes(),
		wire.GroupSecp256r1: p256.PublicKey().Bytes(),
	})
	recVersion := uint16(wire.VersionTLS10)
	if _, err := rec.Write(record(22, recVersion, ch)); err != nil {
		rec.Close()
		return nil, fmt.Errorf("probe: the second look could not send its hello: %w", err)
	}
	keys := keylog.NewCollector(nil)
	l := &flight{ch: ch, random: random, keys: keys, privs: map[wire.NamedGroup]*ecdh.PrivateKey{wire.GroupX25519: x25519, wire.GroupSecp256r1: p256}}
	l.read(rec)
	rec.Close()
	return replayed(rec, keys.Log(), up), nil
}

// flight reads the server's first flight of a wide hello and derives the
// TLS 1.3 handshake keys as soon as the ServerHello arrives.
type flight struct {
	ch     []byte // the ClientHello message, with its header
	random []byte
	keys   *keylog.Collector
	privs  map[wire.NamedGroup]*ecdh.PrivateKey
	opener *keysched.Opener
	hs     []byte // handshake bytes not yet parsed (plaintext, or decrypted in TLS 1.3)
}

// read reads records until the server's flight ends: a ServerHelloDone, a
// HelloRetryRequest, the TLS 1.3 Finished, an alert, a close or an error.
func (l *flight) read(r io.Reader) {
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(hdr[3:]))
		if n > 1<<14+2048 {
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		switch typ := hdr[0]; {
		case typ == 21: // alert
			return
		case typ == 20: // change_cipher_spec (TLS 1.3 middlebox compatibility)
			continue
		case typ == 22 && l.opener == nil:
			if l.messages(body) {
				return
			}
		case typ == 23 && l.opener != nil:
			pt, ct, err := l.opener.Open(hdr[:], body)
			if err != nil || ct != 22 {
				return
			}
			if l.messages(pt) {
				return
			}
		default:
			return
		}
	}
}

// messages adds handshake bytes and handles each complete message; it
// reports whether the flight is over.
func (l *flight) messages(b []byte) bool {
	l.hs = append(l.hs, b...)
	for len(l.hs) >= 4 {
		n := int(l.hs[1])<<16 | int(l.hs[2])<<8 | int(l.hs[3])
		if len(l.hs) < 4+n {
			return false
		}
		msg := l.hs[:4+n]
		l.hs = l.hs[4+n:]
		switch wire.HandshakeType(msg[0]) {
		case wire.TypeServerHello:
			m, err := wire.ParseMessage(wire.TypeServerHello, msg[4:], wire.Context{})
			sh, ok := m.(*wire.ServerHello)
			if err != nil || !ok || sh.IsHelloRetryRequest() {
				return true
			}
			if sh.SelectedVersion() == wire.VersionTLS13 && !l.tls13Keys(sh, msg) {
				return true
			}
		case wire.TypeServerHelloDone, wire.TypeFinished:
			return true
		}
	}
	return false
}

// tls13Keys derives the handshake traffic secrets of RFC 8446 §7.1 from the
// key share the server chose, writes them to the key log for the decoder,
// and opens the server's records from here on.
func (l *flight) tls13Keys(sh *wire.ServerHello, msg []byte) bool {
	ks, ok := sh.Extensions.Find(wire.ExtKeyShare).Parsed.(wire.KeyShare)
	priv := l.privs[ks.Group]
	suite, found := keysched.LookupSuite(uint16(sh.CipherSuite))
	if !ok || priv == nil || !found || !suite.TLS13 {
		return false
	}
	peer, err := priv.Curve().NewPublicKey(ks.KeyExchange)
	if err != nil {
		return false
	}
	shared, err := priv.ECDH(peer)
	if err != nil {
		return false
	}
	h := suite.Hash.New
	th := h()
	th.Write(l.ch)
	th.Write(msg)
	sum := th.Sum(nil)
	early, err := hkdf.Extract(h, make([]byte, h().Size()), nil)
	if err != nil {
		return false
	}
	empty := h().Sum(nil)
	hsSecret, err := hkdf.Extract(h, shared, keysched.DeriveSecret(h, early, "derived", empty))
	if err != nil {
		return false
	}
	c := keysched.DeriveSecret(h, hsSecret, "c hs traffic", sum)
	s := keysched.DeriveSecret(h, hsSecret, "s hs traffic", sum)
	fmt.Fprintf(l.keys, "CLIENT_HANDSHAKE_TRAFFIC_SECRET %x %x\nSERVER_HANDSHAKE_TRAFFIC_SECRET %x %x\n", l.random, c, l.random, s)
	l.opener, err = keysched.NewTLS13Opener(uint16(sh.CipherSuite), s)
	return err == nil
}

// record frames a handshake message as one TLS record.
func record(typ uint8, version uint16, body []byte) []byte {
	out := []byte{typ, byte(version >> 8), byte(version), byte(len(body) >> 8), byte(len(body))}
	return append(out, body...)
}

// wideClientHello builds the ClientHello handshake message (with its
// header) of a wide hello.
func wideClientHello(random, sid []byte, sni string, alpn []string, h shape, shares map[wire.NamedGroup][]byte) []byte {
	groups := wideGroups
	if h.sharesOnly {
		groups = []wire.NamedGroup{wire.GroupX25519, wire.GroupSecp256r1}
	}
	ch := wideHelloPadded(random, sid, sni, alpn, h.versions, groups, shares, -1)
	if n := h.pad - len(ch) - 4; n >= 0 {
		ch = wideHelloPadded(random, sid, sni, alpn, h.versions, groups, shares, n)
	}
	return ch
}

// wideHelloPadded is wideClientHello offering groups, with a padding
// extension of pad zero bytes last, none when pad is negative.
func wideHelloPadded(random, sid []byte, sni string, alpn []string, versions []uint16, groups []wire.NamedGroup, shares map[wire.NamedGroup][]byte, pad int) []byte {
	has13 := slices.Contains(versions, uint16(wire.VersionTLS13))
	legacy := uint16(wire.VersionTLS12)
	if top := slices.Max(versions); top < legacy {
		legacy = top
	}
	var b cryptobyte.Builder
	b.AddUint8(uint8(wire.TypeClientHello))
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(legacy)
		b.AddBytes(random)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(sid) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, s := range wideSuites(versions) {
				b.AddUint16(uint16(s))
			}
		})
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			ext := func(t wire.ExtensionType, f func(b *cryptobyte.Builder)) {
				b.AddUint16(uint16(t))
				b.AddUint16LengthPrefixed(f)
			}
			if sni != "" {
				ext(wire.ExtServerName, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						b.AddUint8(0)
						b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(sni)) })
					})
				})
			}
			ext(wire.ExtSupportedGroups, func(b *cryptobyte.Builder) {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					for _, g := range groups {
						b.AddUint16(uint16(g))
					}
				})
			})
			ext(wire.ExtECPointFormats, func(b *cryptobyte.Builder) {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
			})
			ext(wire.ExtSignatureAlgorithms, func(b *cryptobyte.Builder) {
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					for _, s := range wideSchemes {
						b.AddUint16(uint16(s))
					}
				})
			})
			if len(alpn) > 0 {
				ext(wire.ExtALPN, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						for _, p := range alpn {
							b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(p)) })
						}
					})
				})
			}
			ext(wire.ExtExtendedMasterSecret, func(*cryptobyte.Builder) {})
			ext(wire.ExtRenegotiationInfo, func(b *cryptobyte.Builder) { b.AddUint8(0) })
			ext(wire.ExtSessionTicket, func(*cryptobyte.Builder) {})
			if has13 {
				ext(wire.ExtSupportedVersions, func(b *cryptobyte.Builder) {
					b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
						for _, v := range slices.Backward(slices.Sorted(slices.Values(versions))) {
							b.AddUint16(v)
						}
					})
				})
				ext(wire.ExtPSKKeyExchangeModes, func(b *cryptobyte.Builder) {
					b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(1) })
				})
				ext(wire.ExtKeyShare, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						for _, g := range []wire.NamedGroup{wire.GroupX25519, wire.GroupSecp256r1} {
							b.AddUint16(uint16(g))
							b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(shares[g]) })
						}
					})
				})
			}
			if pad >= 0 {
				ext(wire.ExtPadding, func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, pad)) })
			}
		})
	})
	return b.BytesOrPanic()
}

// needsSecondLook reports whether a failed handshake is one the server
// refused without saying what it wants: a fatal alert (other than
// unrecognized_name and no_application_protocol) or a close before the
// handshake went further than its first flight, with no client
// certificate asked for, nothing that is not TLS and no silence to wait
// out.
func needsSecondLook(tr *transcript.Transcript) bool {
	if tr == nil || tr.First(transcript.Client, "client_hello") == nil ||
		tr.First(transcript.Server, transcript.TypeNotTLS) != nil || tr.First(transcript.Server, "certificate_request") != nil {
		return false
	}
	for i := range tr.Events {
		if tr.Events[i].Type == transcript.TypeMalformed {
			return false
		}
	}
	for _, a := range tr.Alerts() {
		if a.AlertCode == 112 || a.AlertCode == 120 {
			return false // unrecognized_name and no_application_protocol say what the server wants
		}
	}
	if c := tr.Closed; c != nil && c.How == transcript.CloseTimeout && len(tr.Alerts()) == 0 {
		return false
	}
	return !diagnose.FailedAfterHello(tr)
}

// secondLook takes the second look: a wide hello for TLS 1.0 to 1.3 and,
// when the versions are the question (the server refused it too, chose a
// version tlskit's client did not offer, or answered protocol_version), one
// hello per version; otherwise, when the server answered it, paddedLook.
func secondLook(ctx context.Context, t lookTarget, first *transcript.Transcript) *diagnose.SecondLook {
	all := []uint16{uint16(wire.VersionTLS13), uint16(wire.VersionTLS12), uint16(wire.VersionTLS11), uint16(wire.VersionTLS10)}
	tr, err := wideLook(ctx, t, shape{versions: all})
	l := &diagnose.SecondLook{Transcript: tr, Err: err}
	if err != nil {
		return l
	}
	var offered []wire.Version
	if e := first.First(transcript.Client, "client_hello"); e != nil {
		if ch, ok := e.Message.(*wire.ClientHello); ok {
			offered = ch.OfferedVersions()
		}
	}
	if silent(tr) {
		// A server that answers the widest hello with silence would meet
		// one hello per version with the same: each would wait the whole
		// timeout to learn nothing.
		return l
	}
	chosen, hrr := serverVersion(tr)
	question := chosen == 0 || !slices.Contains(offered, chosen)
	for _, a := range first.Alerts() {
		question = question || a.AlertCode == 70
	}
	if !question {
		if chosen != 0 {
			l.Padded = paddedLook(ctx, t, all, first, tr, hrr)
		}
		return l
	}
	for _, v := range all {
		l.Versions = append(l.Versions, tryVersion(ctx, t, v))
	}
	return l
}

// paddedLook asks whether the client's hello, refused where the wide one
// was answered, was refused for its size: the wide hello is sent again
// padded (RFC 7685) to the client's size. A HelloRetryRequest to the wide
// hello tells nothing (it comes before a server reads the rest of the
// hello: its certificate for the name, for one), so after one (hrr) a
// hello offering only the groups of its key shares is sent first, and the
// size is asked only if it is answered with a ServerHello. nil when the
// client's hello was not the larger.
func paddedLook(ctx context.Context, t lookTarget, versions []uint16, first, wide *transcript.Transcript, hrr bool) *diagnose.SizeTry {
	try := &diagnose.SizeTry{SharesOnly: hrr, Answered: !hrr}
	h := shape{versions: versions, sharesOnly: hrr}
	look := func() *transcript.Transcript {
		tr, _, why := ask(ctx, t, h)
		try.Unknown = why
		if tr != nil {
			if a := tr.FirstFatalAlert(transcript.Server); a != nil {
				try.AlertCode = a.AlertCode
			}
		}
		return tr
	}
	if hrr {
		if wide = look(); wide == nil {
			return try
		}
		v, again := serverVersion(wide)
		if try.Answered = v != 0 && !again; !try.Answered {
			if t.sni != "" && try.AlertCode != 0 {
				// Refused whatever the hello offers: is it the name? The
				// same hello without one.
				anon := t
				anon.sni = ""
				if tr, _, _ := ask(ctx, anon, h); tr != nil {
					v, again := serverVersion(tr)
					try.NameRefused = v != 0 && !again
				}
			}
			return try
		}
		try.AlertCode = 0
	}
	try.Size, try.WideSize = helloSize(first), helloSize(wide)
	if try.Size <= try.WideSize || try.WideSize == 0 || try.Size > 1<<14 {
		if !hrr {
			return nil
		}
		try.Size = 0 // answered, and not the smaller: no size to ask about
		return try
	}
	h.pad = try.Size
	if tr := look(); tr != nil {
		v, _ := serverVersion(tr)
		try.Accepted = v != 0
	}
	return try
}

// ask sends one more wide hello of shape h. When it got no answer, tr is
// nil and why says why; sent says whether the hello went out at all (no
// time left, or the connection failed) or went unanswered (the server
// said nothing).
func ask(ctx context.Context, t lookTarget, h shape) (tr *transcript.Transcript, sent bool, why string) {
	if t.left() <= 0 {
		return nil, false, "no time was left before the check's deadline"
	}
	tr, err := wideLook(ctx, t, h)
	switch {
	case err != nil:
		return nil, false, strings.TrimPrefix(err.Error(), "probe: ")
	case silent(tr):
		return nil, true, "the server said nothing before the timeout"
	}
	return tr, true, ""
}

// helloSize is the length of the ClientHello in tr, its handshake header
// included; 0 when there is none.
func helloSize(tr *transcript.Transcript) int {
	e := tr.First(transcript.Client, "client_hello")
	if e == nil {
		return 0
	}
	ch, ok := e.Message.(*wire.ClientHello)
	if !ok {
		return 0
	}
	return ch.Len()
}

// tryVersion offers version v alone. A version that could not be offered
// (no time left, the connection failed) or that the server did not answer
// is neither accepted nor refused: its Unknown says why, so that no
// conclusion about the server's versions rests on it.
func tryVersion(ctx context.Context, t lookTarget, v uint16) diagnose.VersionTry {
	try := diagnose.VersionTry{Version: wire.Version(v)}
	one, sent, why := ask(ctx, t, shape{versions: []uint16{v}})
	switch {
	case one == nil && sent:
		try.Unknown = "went unanswered (" + why + ")"
		return try
	case one == nil:
		try.Unknown = "could not be offered alone (" + why + ")"
		return try
	}
	got, hrr := serverVersion(one)
	try.Accepted = got == wire.Version(v) || hrr && v == uint16(wire.VersionTLS13)
	if a := one.FirstFatalAlert(transcript.Server); a != nil {
		try.AlertCode = a.AlertCode
	}
	if try.Accepted {
		try.Key = leafKey(one)
		if e := one.First(transcript.Server, "server_key_exchange"); e != nil {
			if m, ok := e.Message.(*wire.ServerKeyExchange); ok {
				try.Scheme = m.SignatureScheme
			}
		}
	}
	return try
}

// leafKey describes the key of the server's certificate in tr ("RSA 512"),
// "" when it sent none that parses.
func leafKey(tr *transcript.Transcript) string {
	e := tr.First(transcript.Server, "certificate")
	if e == nil {
		return ""
	}
	m, ok := e.Message.(*wire.Certificate)
	if !ok || len(m.Certificates()) == 0 {
		return ""
	}
	c, err := x509.ParseCertificate(m.Certificates()[0])
	if err != nil {
		return ""
	}
	return trust.Describe(c).Key
}

// silent reports whether the server sent nothing in tr before the deadline
// ended it.
func silent(tr *transcript.Transcript) bool {
	if c := tr.Closed; c == nil || c.By != transcript.Server || c.How != transcript.CloseTimeout {
		return false
	}
	for _, e := range tr.Events {
		if e.From == transcript.Server && e.Type != transcript.TypeClose {
			return false
		}
	}
	return true
}

// serverVersion returns the version of the server's ServerHello in tr, or
// 0; hrr says it was a HelloRetryRequest (which accepts TLS 1.3).
func serverVersion(tr *transcript.Transcript) (wire.Version, bool) {
	for _, typ := range []string{"server_hello", "hello_retry_request"} {
		if e := tr.First(transcript.Server, typ); e != nil {
			if sh, ok := e.Message.(*wire.ServerHello); ok {
				return sh.SelectedVersion(), sh.IsHelloRetryRequest()
			}
		}
	}
	return 0, false
}
