package diagnose

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/transcript"
)

// SecondLook is what a live check learned from ClientHellos of its own
// after the server refused tlskit's (an alert right after the hello, a
// close, or a ServerHello the client could not accept): one that offered
// every version, cipher suite, key exchange group and signature scheme a
// server may choose (its transcript, TLS 1.3 messages decrypted with its own
// key share), and, when versions are the question, which versions the
// server accepts offered one at a time. It lets the findings say what the
// server wants instead of guessing from an alert.
type SecondLook struct {
	// Transcript is the wide hello's connection, decoded; nil when Err.
	Transcript *transcript.Transcript
	// Err is why the second look could not be taken.
	Err error
	// Versions lists the versions offered alone, in order, and whether the
	// server answered each with a ServerHello; empty when the versions
	// were not the question. A version that could not be offered alone, or
	// that the server did not answer, is listed with Unknown set.
	Versions []VersionTry
	// Padded is the wide hello sent again padded to the size of the
	// client's hello, when the server answered the wide hello, refused the
	// client's, and the client's was the larger; nil otherwise.
	Padded *SizeTry
}

// SizeTry is the wide hello padded (RFC 7685) to the size of the client's
// hello: whether the server refuses a hello for its size.
type SizeTry struct {
	// SharesOnly says the wide hello got a HelloRetryRequest, which tells
	// nothing of the rest of the hello, so the hellos of this try offered
	// only the groups of their key shares; Answered says such a hello,
	// unpadded, got a ServerHello (when it did not, AlertCode or Unknown
	// says what it got, and nothing was padded). Answered is true when
	// the wide hello itself got the ServerHello.
	SharesOnly, Answered bool
	// NameRefused says that, not answered, the shares-only hello was
	// answered with a ServerHello when sent without a server name (SNI):
	// the name is what the server refuses.
	NameRefused bool
	// Size is the client's hello's length, to which the wide hello was
	// padded, and WideSize the wide hello's own (handshake headers
	// included); Size is 0 when the client's hello was not the larger.
	Size, WideSize int
	// Accepted says the server answered the padded hello with a
	// ServerHello (or a HelloRetryRequest); AlertCode is the fatal alert
	// it refused it with, 0 for none.
	Accepted  bool
	AlertCode int
	// Unknown says why the padded hello got no answer either way ("" when
	// it got one).
	Unknown string
}

// VersionTry is one version offered alone in a second look.
type VersionTry struct {
	Version  wire.Version
	Accepted bool
	// AlertCode is the fatal alert the server refused it with (70 is
	// protocol_version); 0 when it sent none.
	AlertCode int
	// Key is the server's certificate key when it accepted the version
	// alone ("RSA 512", "ECDSA P-256"), "" when it sent none; Scheme the
	// signature scheme of its ServerKeyExchange then (TLS 1.2 and
	// earlier), 0 when none.
	Key    string
	Scheme wire.SignatureScheme
	// Unknown says why the version is neither accepted nor refused: it
	// could not be offered alone (the connection failed, no time was left)
	// or the server did not answer. "" when the server answered.
	Unknown string
}

// known reports whether the server answered the version: accepted or
// refused.
func (v VersionTry) known() bool { return v.Unknown == "" }

// UnknownVersion is a version offered alone that the server neither
// accepted nor refused, and why.
type UnknownVersion struct {
	Version string `json:"version"`
	Why     string `json:"why"`
}

// LookSummary is the report's account of a second look.
type LookSummary struct {
	// Transcript is the second look's connection.
	Transcript []transcript.Event `json:"transcript"`
	// Version, CipherSuite, Group and SignatureScheme are what the server
	// chose from everything offered; CertificateKey is its leaf's key
	// algorithm. Empty when it did not say.
	Version         string `json:"version,omitempty"`
	CipherSuite     string `json:"cipher_suite,omitempty"`
	Group           string `json:"group,omitempty"`
	SignatureScheme string `json:"signature_scheme,omitempty"`
	CertificateKey  string `json:"certificate_key,omitempty"`
	// Refused is the server's alert when it refused the second look too.
	Refused string `json:"refused,omitempty"`
	// ServerVersions and RefusedVersions are the versions the server
	// accepted and refused when offered one at a time; UnknownVersions
	// those it did neither to, because they could not be offered or it
	// did not answer.
	ServerVersions  []string         `json:"server_versions,omitempty"`
	RefusedVersions []string         `json:"refused_versions,omitempty"`
	UnknownVersions []UnknownVersion `json:"unknown_versions,omitempty"`
	// Padded is what the further hellos found when the server answered
	// tlskit's hello but refused the client's (see SizeTry).
	Padded *PaddedSummary `json:"padded,omitempty"`
	// Error is why the second look could not be taken.
	Error string `json:"error,omitempty"`
}

// PaddedSummary is a SizeTry as a report shows it.
type PaddedSummary struct {
	// SharesOnly: the hellos offered only the groups of their key shares
	// (the widest got a HelloRetryRequest); Answered: such a hello got a
	// ServerHello; NameRefused: refused, it was answered without a server
	// name.
	SharesOnly  bool `json:"shares_only,omitempty"`
	Answered    bool `json:"answered"`
	NameRefused bool `json:"name_refused,omitempty"`
	// Size is the client's hello's length the hello was padded to, and
	// WideSize that hello's own; 0 when nothing was padded.
	Size     int `json:"size,omitempty"`
	WideSize int `json:"wide_size,omitempty"`
	// Accepted: the padded hello was answered; Refused: how it (or the
	// shares-only hello) was refused; Unknown: why it got no answer.
	Accepted bool   `json:"accepted"`
	Refused  string `json:"refused,omitempty"`
	Unknown  string `json:"unknown,omitempty"`
}

// choice is what the server chose from a wide hello.
type choice struct {
	answered bool // a ServerHello (or HelloRetryRequest) came
	hrr      bool
	version  wire.Version
	suite    wire.CipherSuite
	group    wire.NamedGroup // TLS 1.3 key share or HRR group, TLS 1.2 ECDHE curve
	dhBits   int             // TLS 1.2 finite-field DHE: the prime's size
	scheme   wire.SignatureScheme
	key      string // the leaf's key algorithm, "" if unknown
	keyOK    bool   // crypto/tls can use that key
	alert    *transcript.Event
}

func (l *SecondLook) choice() choice {
	var c choice
	if l == nil || l.Transcript == nil {
		return c
	}
	tr := l.Transcript
	c.alert = tr.FirstFatalAlert(transcript.Server)
	e := tr.First(transcript.Server, "server_hello")
	if e == nil {
		e = tr.First(transcript.Server, "hello_retry_request")
	}
	if e == nil {
		return c
	}
	sh, ok := e.Message.(*wire.ServerHello)
	if !ok {
		return c
	}
	c.answered, c.version, c.suite = true, sh.SelectedVersion(), sh.CipherSuite
	if sh.IsHelloRetryRequest() {
		c.hrr = true
		c.group, _ = sh.Extensions.Find(wire.ExtKeyShare).Parsed.(wire.NamedGroup)
		return c
	}
	if ks, ok := sh.Extensions.Find(wire.ExtKeyShare).Parsed.(wire.KeyShare); ok {
		c.group = ks.Group
	}
	if e := tr.First(transcript.Server, "server_key_exchange"); e != nil {
		if m, ok := e.Message.(*wire.ServerKeyExchange); ok {
			if m.Group != 0 {
				c.group = m.Group
			}
			if len(m.P) > 0 {
				c.dhBits = new(big.Int).SetBytes(m.P).BitLen()
			}
			c.scheme = m.SignatureScheme
		}
	}
	if e := tr.First(transcript.Server, "certificate_verify"); e != nil {
		if m, ok := e.Message.(*wire.CertificateVerify); ok {
			c.scheme = m.SignatureScheme
		}
	}
	if e := tr.First(transcript.Server, "certificate"); e != nil {
		if m, ok := e.Message.(*wire.Certificate); ok && len(m.Certificates()) > 0 {
			c.key, c.keyOK = leafKey(m.Certificates()[0])
		}
	}
	return c
}

// leafKey names a certificate's public key algorithm and says whether Go's
// crypto/tls can use it (RSA, ECDSA P-256/384/521, Ed25519).
func leafKey(der []byte) (string, bool) {
	var cert struct {
		TBS struct {
			Version   int `asn1:"optional,explicit,default:0,tag:0"`
			Serial    asn1.RawValue
			Sig       asn1.RawValue
			Issuer    asn1.RawValue
			Validity  asn1.RawValue
			Subject   asn1.RawValue
			PublicKey struct {
				Algorithm struct {
					OID    asn1.ObjectIdentifier
					Params asn1.RawValue `asn1:"optional"`
				}
				Key asn1.BitString
			}
		} `asn1:""`
	}
	if rest, err := asn1.Unmarshal(der, &cert); err != nil || len(rest) > 0 {
		return "", false
	}
	switch oid := cert.TBS.PublicKey.Algorithm.OID; {
	case oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}):
		return "RSASSA-PSS", false
	case oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}):
		return "DSA", false
	case oid.Equal(asn1.ObjectIdentifier{1, 3, 101, 113}):
		return "Ed448", false
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return "", false
	}
	switch c.PublicKeyAlgorithm {
	case x509.RSA:
		if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.N.BitLen() < 1024 {
			return fmt.Sprintf("RSA %d", k.N.BitLen()), false // crypto/rsa refuses it
		}
		return "RSA", true
	case x509.Ed25519:
		return c.PublicKeyAlgorithm.String(), true
	case x509.ECDSA:
		return "ECDSA", true
	}
	return fmt.Sprintf("public key algorithm %v", cert.TBS.PublicKey.Algorithm.OID), false
}

// Summary returns the report's account of the second look.
func (l *SecondLook) Summary() *LookSummary {
	if l == nil {
		return nil
	}
	s := &LookSummary{Transcript: []transcript.Event{}}
	if l.Err != nil {
		s.Error = l.Err.Error()
	}
	if l.Transcript != nil {
		s.Transcript = l.Transcript.Events
	}
	if p := l.Padded; p != nil {
		s.Padded = &PaddedSummary{SharesOnly: p.SharesOnly, Answered: p.Answered, NameRefused: p.NameRefused,
			Size: p.Size, WideSize: p.WideSize, Accepted: p.Accepted, Unknown: p.Unknown}
		if p.Unknown == "" && (!p.Answered || p.Size > 0 && !p.Accepted) {
			s.Padded.Refused = refusedHow(p.AlertCode)
		}
	}
	c := l.choice()
	if c.answered {
		s.Version = c.version.String()
		if c.suite != 0 {
			s.CipherSuite = c.suite.String()
		}
		if c.group != 0 {
			s.Group = c.group.String()
		} else if c.dhBits > 0 {
			s.Group = fmt.Sprintf("finite-field DH, %d-bit prime", c.dhBits)
		}
		if c.scheme != 0 {
			s.SignatureScheme = c.scheme.String()
		}
		s.CertificateKey = c.key
	} else if c.alert != nil {
		s.Refused = fmt.Sprintf("%s %s (%d)", c.alert.Level, c.alert.Description, c.alert.AlertCode)
	}
	for _, v := range l.Versions {
		switch {
		case !v.known():
			s.UnknownVersions = append(s.UnknownVersions, UnknownVersion{v.Version.String(), v.Unknown})
		case v.Accepted:
			s.ServerVersions = append(s.ServerVersions, v.Version.String())
		default:
			s.RefusedVersions = append(s.RefusedVersions, v.Version.String())
		}
	}
	return s
}

// said says in a sentence what the server chose from the wide hello.
func (c choice) said() string {
	if c.hrr {
		return fmt.Sprintf("the server chose %s and asked for another key share, group %s (HelloRetryRequest)", c.suite, c.group)
	}
	parts := []string{c.version.String(), c.suite.String()}
	switch {
	case c.group != 0:
		parts = append(parts, "group "+c.group.String())
	case c.dhBits > 0:
		parts = append(parts, fmt.Sprintf("finite-field DH with a %d-bit prime", c.dhBits))
	}
	if c.scheme != 0 {
		parts = append(parts, "signature scheme "+c.scheme.String())
	}
	if c.key != "" {
		parts = append(parts, "a certificate with an "+c.key+" key")
	}
	return "the server chose " + strings.Join(parts, ", ")
}

// lookIntro is the evidence sentence every second-look finding starts its
// second half with.
const lookIntro = "tlskit then sent a second ClientHello of its own that offers every version, cipher suite, key exchange group and signature scheme a server may choose"

// secondLookFinding explains a refused hello from the second look: a
// version outside the client's range, or something the server wants that
// tlskit's client does not offer. ok is false when the second look does
// not explain it; note is then evidence to add to the usual finding.
func secondLookFinding(in Input, f facts, evidence string) (fd finding.Finding, ok bool, note string) {
	l := in.SecondLook
	if l == nil || f.clientHello == nil {
		return fd, false, ""
	}
	if l.Err != nil {
		return fd, false, fmt.Sprintf(" (A second look at what the server wants failed: %v.)", l.Err)
	}
	c := l.choice()
	offered := f.clientHello.OfferedVersions()
	if !c.answered {
		// A version accepted alone, after the widest hello was refused:
		// the server speaks it and refuses a hello that offers more.
		if best := l.bestAccepted(offered); best.Accepted {
			if len(offered) > 1 {
				return versionIntolerance(in, f, evidence, c, best), true, ""
			}
			// The client offered that version alone too: the version is
			// not what the server refused in its hello.
			return fd, false, fmt.Sprintf(" %s, and the server %s, but it answered %s offered alone with everything else the same: the version is not what it refused in the client's hello.", lookIntro, c.refusal(), best.Version)
		}
		if slices.ContainsFunc(l.Versions, func(v VersionTry) bool { return v.Accepted }) {
			return versionMismatch(in, f, evidence, c), true, "" // it speaks only versions the client did not offer
		}
		if c.alert == nil {
			return fd, false, " " + lookIntro + "; the server did not answer it either."
		}
		if c.alert.AlertCode == 70 || l.versionRefused() {
			return versionMismatch(in, f, evidence, c), true, ""
		}
		with := ""
		if name := f.clientHello.ServerName(); name != "" {
			with = fmt.Sprintf(" with the server name %q", name) // both hellos sent it: the name may be what it refuses
		}
		return fd, false, fmt.Sprintf(" %s, and the server refused that too (alert %s): it accepts nothing a TLS 1.0 to 1.3 client can offer%s, as it is configured now.%s", lookIntro, c.alert.Description, with, l.otherRefusals())
	}
	if !slices.Contains(offered, c.version) {
		return versionMismatch(in, f, evidence, c), true, ""
	}
	ch := f.clientHello
	groups, _ := ch.Extensions.Find(wire.ExtSupportedGroups).Parsed.([]wire.NamedGroup)
	schemes, _ := ch.Extensions.Find(wire.ExtSignatureAlgorithms).Parsed.([]wire.SignatureScheme)
	said := c.said()
	if c.hrr && !slices.Contains(groups, c.group) {
		return unsupported(evidence, said, fmt.Sprintf("the key exchange group %s", c.group), groupWhy(c.group), groupFix), true, ""
	}
	if c.hrr && ch.OffersCipherSuite(c.suite) {
		// A HelloRetryRequest comes before the server looks at the rest
		// of the hello (a certificate for the name, for one): that it
		// asked is no sign it would have answered.
		p := l.Padded
		if p != nil && p.Answered {
			return helloRejected(in, f, evidence, c), true, ""
		}
		note := fmt.Sprintf(" %s; %s, which the client's hello offers too, so neither is the cause.", lookIntro, said)
		if p != nil && p.NameRefused {
			return nameRefused(f, evidence+note, p), true, ""
		}
		if p != nil && p.Unknown == "" {
			how := refusedHow(p.AlertCode)
			what := "the server name"
			if f.clientHello.ServerName() == "" {
				what = "the missing server name"
			}
			note += fmt.Sprintf(" Offering only the groups of its key shares, so that no HelloRetryRequest came, tlskit's hello was refused too (%s): what the server refuses is in every hello (%s, for one), not its size.", how, what)
		}
		return fd, false, note
	}
	if !ch.OffersCipherSuite(c.suite) {
		info, _ := c.suite.Info()
		if why := brokenSuite(info); why != "" {
			return onlyBroken(f, evidence, said, info, why), true, ""
		}
		return unsupported(evidence, said, "the cipher suite "+c.suite.String(), suiteWhy(info), suiteFix(info)), true, ""
	}
	if c.group != 0 && !slices.Contains(groups, c.group) {
		return unsupported(evidence, said, fmt.Sprintf("the key exchange group %s", c.group), groupWhy(c.group), groupFix), true, ""
	}
	if c.key != "" && !c.keyOK {
		if bits, ok := strings.CutPrefix(c.key, "RSA "); ok {
			fd := unsupported(evidence, said, "a certificate with a "+bits+"-bit RSA key", "", "")
			fd.Title = fmt.Sprintf("The server's certificate has a %s-bit RSA key, which tlskit's TLS client (Go's crypto/tls) refuses", bits)
			fd.Detail = fmt.Sprintf("%s %s; %s. %s. tlskit cannot complete this handshake, so it cannot verify the server's chain.", evidence, lookIntro, said, keyWhy(c.key, c.scheme))
			fd.Fix = "Have the certificate reissued with an RSA key of 2048 bits or more, or an ECDSA P-256 key: no current client accepts this one."
			return fd, true, ""
		}
		return unsupported(evidence, said, "a certificate with an "+c.key+" key", keyWhy(c.key, c.scheme), keyFix), true, ""
	}
	if c.scheme != 0 && !slices.Contains(schemes, c.scheme) {
		return unsupported(evidence, said, "the signature scheme "+c.scheme.String(), schemeWhy(c.scheme), ""), true, ""
	}
	if f.serverHello != nil {
		// The server answered the client's hello: whatever ended the
		// handshake came after it (the client's own alert says what).
		return fd, false, ""
	}
	return helloRejected(in, f, evidence, c), true, ""
}

// helloRejected is protocol.hello-rejected: the server refused the
// client's hello but answered tlskit's own with a ServerHello (not a
// HelloRetryRequest, which comes before a server looks at the rest of the
// hello), which offers what the client's does and more, choosing only what
// the client's offers too. Something
// else in the client's hello is what it refuses; the padded look says
// whether it is the size.
func helloRejected(in Input, f facts, evidence string, c choice) finding.Finding {
	size, wide := f.clientHello.Len(), 0
	if l := in.SecondLook; l.Transcript != nil {
		if e := l.Transcript.First(transcript.Client, "client_hello"); e != nil {
			if ch, ok := e.Message.(*wire.ClientHello); ok {
				wide = ch.Len()
			}
		}
	}
	detail := fmt.Sprintf("%s %s; %s, all of which the client's hello offers too.", evidence, lookIntro, c.said())
	p := in.SecondLook.Padded
	if p != nil && p.SharesOnly {
		detail = fmt.Sprintf("%s %s; %s, which the client's hello offers too. Offering only the groups of its key shares, so that no HelloRetryRequest came, tlskit's hello was answered with a ServerHello.", evidence, lookIntro, c.said())
		wide = p.WideSize
	}
	fd := finding.Finding{ID: finding.ProtocolHelloRejected, Severity: finding.Error,
		Title: "The server refuses the client's ClientHello, though it answers one that offers the same",
		Fix:   "The server's log says why it refused the hello; update its TLS stack, or the device in front of it (a load balancer, a firewall that inspects TLS).",
	}
	switch {
	case p != nil && p.Size == 0:
		detail += " That hello was no smaller than the client's, so the size is not the cause: what the server refuses is one of the client's extensions or their order (the ladder shows them)."
	case p != nil && p.Unknown == "" && !p.Accepted:
		how := refusedHow(p.AlertCode)
		fd.Title = fmt.Sprintf("The server refuses a ClientHello of %d bytes, though it answers a smaller one that offers the same", p.Size)
		detail += fmt.Sprintf(" Padded from its %d bytes to the client's %d (RFC 7685), tlskit's hello was refused too (%s): the size of the hello is what the server refuses. Servers and middleboxes that read only the first TCP segment of a ClientHello, or break on one over 512 bytes, do this (tldr.fail).", p.WideSize, p.Size, how)
		if f.clientHello.HasKeyShare(wire.GroupX25519MLKEM768) {
			detail += " The client's hybrid post-quantum key share (X25519MLKEM768, 1,216 bytes), which current browsers and Go send, is what makes its hello this large."
		}
		fd.Fix = "Update the server, or the load balancer or firewall in front of it, so that it reads a ClientHello of any size (TLS allows 16 KiB; tldr.fail lists fixed versions). Meanwhile only clients whose hello is small (no post-quantum key share) get past it."
	case p != nil && p.Unknown == "":
		detail += fmt.Sprintf(" Padded to the client's %d bytes (RFC 7685), tlskit's hello was answered too, so the size is not the cause either: what the server refuses is one of the client's extensions or their order (the ladder shows them).", p.Size)
	case p != nil:
		detail += fmt.Sprintf(" Whether it is the size of the client's hello (%d bytes, against %d) is not known: tlskit's hello padded to that size got no answer (%s).", p.Size, p.WideSize, p.Unknown)
	case wide >= size:
		detail += fmt.Sprintf(" tlskit's hello was the larger (%d bytes, against the client's %d), so the size is not the cause: what the server refuses is one of the client's extensions or their order (the ladder shows them).", wide, size)
	default:
		detail += " What the server refuses is something else in the client's hello: its size or one of its extensions."
	}
	fd.Detail = detail
	return fd
}

// unsupported is protocol.client-unsupported: the server wants something
// tlskit's TLS client does not speak.
func unsupported(evidence, said, what, why, fix string) finding.Finding {
	if fix == "" {
		fix = "For Go clients (and tlskit), also enable on the server ECDHE key exchange with AES-GCM or ChaCha20-Poly1305, TLS 1.3, and an RSA (rsaEncryption) or ECDSA P-256 certificate"
	}
	return finding.Finding{ID: finding.ProtocolClientUnsupported, Severity: finding.Error,
		Title:  fmt.Sprintf("This server only offers %s, which tlskit's TLS client (Go's crypto/tls) does not speak", what),
		Detail: fmt.Sprintf("%s %s; %s. tlskit's own ClientHello did not offer it: %s. tlskit cannot complete this handshake, so it cannot verify the server's chain.", evidence, lookIntro, said, why),
		Fix:    fix + ". Meanwhile, check the server with a client that speaks it (the detail says which)."}
}

// onlyBroken is protocol.no-shared-cipher when the one suite the server
// accepts is one no current client offers.
func onlyBroken(f facts, evidence, said string, s wire.CipherSuiteInfo, why string) finding.Finding {
	fd := noSharedCipher(f, evidence)
	fd.Title = fmt.Sprintf("The server accepts only %s, which no current client offers", s.Name)
	fd.Detail = fmt.Sprintf("%s %s; %s. That suite %s: Go's crypto/tls, OpenSSL 3's default list and curl no longer offer it.", evidence, lookIntro, said, why)
	fd.Fix = "Enable modern suites on the server (TLS 1.3, and TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305) and retire " + s.Name + "."
	return fd
}

// The fixes of protocol.client-unsupported by cause.
const (
	groupFix = "For Go clients (and tlskit), also offer an elliptic-curve group on the server (x25519, P-256; X25519MLKEM768 for post-quantum key exchange)"
	keyFix   = "For Go clients (and tlskit), also serve a certificate with an ordinary RSA (rsaEncryption) or ECDSA P-256 key; rsaEncryption keys sign with RSA-PSS as well (rsa_pss_rsae_*)"
)

// suiteFix is the fix of protocol.client-unsupported for a suite.
func suiteFix(s wire.CipherSuiteInfo) string {
	if s.Kx == wire.KxRSA {
		return "Enable ECDHE suites on the server (TLS 1.3, TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305): RSA key exchange has no forward secrecy and Go clients no longer offer it"
	}
	return "For Go clients (and tlskit), also enable on the server TLS 1.3 and TLS 1.2 ECDHE suites with AES-GCM or ChaCha20-Poly1305"
}

// brokenSuite says why a suite is one nobody should offer ("" if not).
func brokenSuite(s wire.CipherSuiteInfo) string {
	switch {
	case s.NullCipher():
		return "does not encrypt"
	case s.Export:
		return "uses export-grade keys"
	case s.Anonymous():
		return "authenticates nobody"
	case s.Cipher == wire.CipherRC4:
		return "uses RC4, which RFC 7465 prohibits"
	case s.Cipher == wire.Cipher3DESCBC, s.Cipher == wire.CipherDESCBC, s.Cipher == wire.CipherIDEACBC, s.Cipher == wire.CipherRC2CBC:
		return fmt.Sprintf("uses %s, a 64-bit block cipher open to SWEET32", s.Cipher)
	}
	return ""
}

// suiteWhy says why tlskit's client did not offer a suite, and who does.
func suiteWhy(s wire.CipherSuiteInfo) string {
	disabled := slices.ContainsFunc(tls.InsecureCipherSuites(), func(c *tls.CipherSuite) bool { return c.ID == uint16(s.ID) })
	switch {
	case s.Kx == wire.KxRSA && disabled:
		return "Go's crypto/tls implements RSA key exchange but stopped offering it in Go 1.22 (it has no forward secrecy). OpenSSL-based clients (openssl s_client, curl, Python) still offer it and can connect; the server should also offer ECDHE, since RSA key exchange lets a stolen server key decrypt recorded traffic"
	case disabled:
		return "Go's crypto/tls implements it but does not offer it unless told to (it is in tls.InsecureCipherSuites)"
	case s.Kx == wire.KxDHE:
		return "Go's crypto/tls does not implement finite-field Diffie-Hellman (DHE) key exchange. OpenSSL-based clients (openssl s_client, curl, Python) and GnuTLS do and can connect"
	case s.Cipher == wire.CipherAESCCM || s.Cipher == wire.CipherAESCCM8:
		return "Go's crypto/tls does not implement AES-CCM suites (OpenSSL and GnuTLS do, though not in their default lists)"
	}
	return fmt.Sprintf("Go's crypto/tls does not implement %s (%s key exchange, %s)", s.Name, s.Kx, s.Cipher)
}

// groupWhy says why tlskit's client did not offer a group, and who does.
func groupWhy(g wire.NamedGroup) string {
	switch {
	case g >= 256 && g <= 260:
		return fmt.Sprintf("Go's crypto/tls does not implement the finite-field groups of RFC 7919 (%s). OpenSSL-based clients (openssl s_client, curl, Python) and GnuTLS offer them and can connect", g)
	case g == wire.GroupX448:
		return "Go's crypto/tls does not implement X448. OpenSSL-based clients (openssl s_client, curl, Python) and GnuTLS offer it and can connect"
	}
	return fmt.Sprintf("Go's crypto/tls does not implement the group %s", g)
}

// keyWhy says why tlskit's client cannot use a certificate's key.
func keyWhy(key string, scheme wire.SignatureScheme) string {
	if key == "RSASSA-PSS" {
		s := "Go's crypto/tls (and crypto/x509) do not implement RSA-PSS public keys (id-RSASSA-PSS: an RSA key restricted to PSS signatures), which sign only with the rsa_pss_pss_* signature schemes, so tlskit's ClientHello offers none of them and the server has no certificate to offer it"
		if scheme != 0 {
			s += fmt.Sprintf(" (it signed with %s here)", scheme)
		}
		return s + ". OpenSSL-based clients (openssl s_client, curl, Python) and GnuTLS can connect; a certificate with an ordinary RSA (rsaEncryption) key works for every client, PSS signatures included (rsa_pss_rsae_*)"
	}
	if bits, ok := strings.CutPrefix(key, "RSA "); ok {
		return fmt.Sprintf("Go's crypto/rsa refuses RSA keys shorter than 1024 bits (since Go 1.24), so tlskit's client cannot check the server's signature with this %s-bit one. No current client accepts it: OpenSSL 3 (openssl s_client, curl) fails its verification with \"EE certificate key too weak\"", bits)
	}
	return fmt.Sprintf("Go's crypto/tls does not support %s keys in TLS", key)
}

// schemeWhy says why tlskit's client did not offer a signature scheme.
func schemeWhy(s wire.SignatureScheme) string {
	switch {
	case s >= 0x0809 && s <= 0x080b:
		return fmt.Sprintf("Go's crypto/tls does not implement %s (RSA-PSS public keys). OpenSSL-based clients and GnuTLS do", s)
	case s == 0x0201 || s == 0x0203:
		return fmt.Sprintf("Go's crypto/tls stopped offering %s (SHA-1) in TLS 1.2 in Go 1.25; the server should sign with SHA-256", s)
	}
	return fmt.Sprintf("Go's crypto/tls does not implement the signature scheme %s", s)
}

// versionMismatch is protocol.version-mismatch with both sides' ranges:
// what the client offered (and whether the user restricted it), and what
// the second look found the server to accept.
func versionMismatch(in Input, f facts, evidence string, c choice) finding.Finding {
	offered := f.offeredVersions()
	client := versionList(offered)
	restricted := in.MinVersion != 0 || in.MaxVersion != 0
	server, known := serverVersions(in.SecondLook, c)
	title := fmt.Sprintf("The server and the client share no TLS version: the client offered %s", client)
	if known != "" {
		title += ", the server speaks " + known
	}
	detail := evidence + fmt.Sprintf(" The client offered %s", client)
	switch {
	case restricted:
		detail += fmt.Sprintf(" (restricted by its settings to %s)", rangeOf(in.MinVersion, in.MaxVersion))
	case in.SecondLook != nil:
		detail += " (tlskit's default range, TLS 1.2 to 1.3)" // a live check: the client is tlskit's
	}
	detail += "."
	if server != "" {
		detail += " " + server
	}
	fd := finding.Finding{ID: finding.ProtocolVersionMismatch, Severity: finding.Error, Title: title, Detail: detail}
	top, low := c.version, wire.Version(0)
	for _, v := range in.SecondLook.versions() {
		if v.Accepted && (low == 0 || v.Version < low) {
			low = v.Version
		}
		if v.Accepted && v.Version > top {
			top = v.Version
		}
	}
	switch {
	case in.SecondLook == nil && !c.answered:
		// No ClientHello of tlskit's own asked the server (a capture):
		// all that is known is that it refused what the client offered.
		fd.Fix = fmt.Sprintf("Which versions the server accepts is not known from this connection, only that it refused %s. Have the client offer TLS 1.2 and 1.3, and enable them on the server (a live check or scan of the server asks it which versions it speaks).", client)
	case top == 0:
		fd.Fix = "The server accepted no version from TLS 1.0 to 1.3: it may speak only SSL 3.0, or refuse this client for another reason (its logs say which). Enable TLS 1.2 and 1.3 on the server."
	case restricted && in.MinVersion != 0 && uint16(top) < in.MinVersion:
		fd.Setting = finding.SettingMinVersion
		fd.Fix = fmt.Sprintf("The client's minimum version (%s) is above what the server speaks: lower it to %s, or leave the default, to reach this server; and enable TLS 1.2 and 1.3 on the server.", wire.Version(in.MinVersion), top)
		if top >= wire.VersionTLS12 {
			fd.Fix = fmt.Sprintf("The client's minimum version (%s) is above what the server speaks: lower it to %s, or leave the default (TLS 1.2 to 1.3), to reach this server.", wire.Version(in.MinVersion), top)
		}
	case restricted && in.MaxVersion != 0 && low != 0 && uint16(low) > in.MaxVersion || restricted && in.MaxVersion != 0 && uint16(top) > in.MaxVersion && low == 0:
		fd.Setting = finding.SettingMaxVersion
		fd.Fix = fmt.Sprintf("The client's maximum version (%s) is below what the server speaks: raise it to %s, or leave the default (TLS 1.2 to 1.3), to reach this server. The server is right to refuse older versions.", wire.Version(in.MaxVersion), lowOr(low, top))
	case top < wire.VersionTLS12:
		fd.Setting = finding.SettingMinVersion
		fd.Fix = fmt.Sprintf("Enable TLS 1.2 and 1.3 on the server (RFC 8996 deprecates TLS 1.0 and 1.1). Only to test this server, lower the client's minimum version to %s (never in production).", top)
	default:
		fd.Fix = "Enable TLS 1.2 and 1.3 on the server."
	}
	return fd
}

// refusal says how the server refused the wide hello, after "the server".
func (c choice) refusal() string {
	if c.alert != nil {
		return fmt.Sprintf("refused that too (alert %s)", c.alert.Description)
	}
	return "closed the connection without an answer"
}

// bestAccepted returns the highest version the server accepted alone of
// those in offered; its Accepted is false when there is none.
func (l *SecondLook) bestAccepted(offered []wire.Version) VersionTry {
	var best VersionTry
	for _, v := range l.versions() {
		if v.Accepted && slices.Contains(offered, v.Version) && v.Version > best.Version {
			best = v
		}
	}
	return best
}

// versionIntolerance is protocol.version-intolerance: the server refused
// the hello that offered every version (and the client's), yet answered
// best, a version the client offered, when it was offered alone. A server
// must answer a hello that offers versions it does not support with the
// highest one it does; this one refuses the hello instead, or takes a
// higher version it then cannot complete.
func versionIntolerance(in Input, f facts, evidence string, c choice, best VersionTry) finding.Finding {
	var above []string
	for _, v := range f.clientHello.OfferedVersions() {
		if v > best.Version {
			above = append(above, v.String())
		}
	}
	// The versions above best that the server refused alone with an alert
	// other than protocol_version: it took them as versions, then failed.
	var taken, how []string
	for _, v := range in.SecondLook.versions() {
		if v.known() && !v.Accepted && v.Version > best.Version && v.AlertCode != 0 && v.AlertCode != 70 {
			taken = append(taken, v.Version.String())
			how = append(how, fmt.Sprintf("%s with %s", v.Version, wire.AlertDescription(v.AlertCode)))
		}
	}
	refusal := c.refusal()
	versions, _ := serverVersions(in.SecondLook, c)
	fd := finding.Finding{ID: finding.ProtocolVersionIntolerance, Severity: finding.Error, Setting: finding.SettingMaxVersion,
		Title:  fmt.Sprintf("The server refuses a ClientHello that offers %s, though it speaks %s", versionList(above), best.Version),
		Detail: fmt.Sprintf("%s %s, and the server %s. %s", evidence, lookIntro, refusal, versions),
		Fix:    fmt.Sprintf("Fix the server so that it answers a hello that offers %s with %s (update its TLS stack, or whatever sits in front of it). Meanwhile a client limited to %s gets past the hello.", versionList(above), best.Version, best.Version),
	}
	if len(above) == 0 {
		// best is the client's highest: what the server refuses is the
		// lower versions offered with it.
		var below []string
		for _, v := range f.clientHello.OfferedVersions() {
			if v < best.Version {
				below = append(below, v.String())
			}
		}
		fd.Setting = finding.SettingMinVersion
		fd.Title = fmt.Sprintf("The server refuses a ClientHello that also offers %s, though it answers %s offered alone", versionList(below), best.Version)
		fd.Detail += fmt.Sprintf(" A server must choose the highest version both sides support (RFC 8446 §4.2.1); this one refuses a hello that offers %s besides %s, so a client that offers both fails where one that offers %s alone gets an answer.", versionList(below), best.Version, best.Version)
		fd.Fix = fmt.Sprintf("Fix the server so that it answers such a hello with %s (update its TLS stack, or whatever sits in front of it). Meanwhile a client whose minimum version is %s gets past the hello.", best.Version, best.Version)
		return fd
	}
	fails := fmt.Sprintf("so a client that offers %s fails where one that offers %s at most gets an answer", versionList(above), best.Version)
	if len(taken) == 0 {
		fd.Detail += fmt.Sprintf(" A server must answer a ClientHello that offers versions it does not support with the highest version it does (RFC 8446 §4.2.1, RFC 5246 Appendix E.1); this one refuses the hello instead (version intolerance, in the server or a device in front of it), %s.", fails)
		return fd
	}
	fd.Detail += fmt.Sprintf(" Offered alone, it refused %s, not protocol_version: it takes %s as a version and then cannot complete the handshake, and it does so even when the hello offers %s too, instead of choosing that; %s.", finding.ListAnd(how), versionList(taken), best.Version, fails)
	fd.Fix = fmt.Sprintf("Fix %s on the server, or disable it there. Meanwhile a client limited to %s gets past the hello.", versionList(taken), best.Version)
	if !slices.Contains(taken, wire.VersionTLS13.String()) {
		return fd
	}
	if bits, ok := rsaBits(best.Key); ok && bits < 528 {
		fd.Detail += fmt.Sprintf(" Its certificate's key, %s (as it sent it for %s), is too small for the RSA-PSS signatures with SHA-256 that TLS 1.3 requires (RFC 8446 §4.2.3; at least 528 bits): that is why.", best.Key, best.Version)
		fd.Fix = fmt.Sprintf("Replace the server's certificate with one of an RSA 2048-bit or ECDSA P-256 key (TLS 1.3 then works), or disable TLS 1.3 on the server. Meanwhile a client limited to %s gets past the hello.", best.Version)
		return fd
	}
	if best.Scheme != 0 && !signsTLS13(best.Scheme) {
		fd.Detail += fmt.Sprintf(" For %s it signed with %s, though tlskit's hello put RSA-PSS and ECDSA first; TLS 1.3 allows only RSA-PSS, ECDSA and EdDSA handshake signatures (RFC 8446 §4.2.3): the server's signature algorithms may leave it nothing to sign TLS 1.3 with.", best.Version, best.Scheme)
		fd.Fix = fmt.Sprintf("Allow RSA-PSS (rsa_pss_rsae_sha256) or ECDSA signatures in the server's signature algorithms, or disable TLS 1.3 there. Meanwhile a client limited to %s gets past the hello.", best.Version)
		return fd
	}
	fd.Detail += " A certificate that cannot sign for TLS 1.3 does this (OpenSSL chooses TLS 1.3 before it finds that an RSA key under 528 bits cannot make its RSA-PSS signatures); the server's log says what failed."
	return fd
}

// signsTLS13 reports whether a TLS 1.3 CertificateVerify may use s: RSA-PSS,
// ECDSA with its curve's hash, EdDSA (RFC 8446 §4.2.3); not PKCS #1 v1.5,
// SHA-1 or DSA.
func signsTLS13(s wire.SignatureScheme) bool {
	switch s {
	case 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x081a, 0x081b, 0x081c:
		return true
	}
	return false
}

// nameRefused is sni.unrecognized-name found by the looks: every hello
// with the client's server name was refused, and the same without a name
// was answered. Go servers (Caddy, Traefik) without a certificate for a
// name end the handshake with internal_error, not unrecognized_name.
func nameRefused(f facts, evidence string, p *SizeTry) finding.Finding {
	how := refusedHow(p.AlertCode)
	name := f.clientHello.ServerName()
	return finding.Finding{ID: finding.SNIUnrecognizedName, Severity: finding.Error, Setting: finding.SettingServerName,
		Title: fmt.Sprintf("The server does not serve the name %q", name),
		Detail: fmt.Sprintf("%s Offering only the groups of its key shares, so that no HelloRetryRequest came, tlskit's hello was refused too (%s); the same hello without a server name (SNI) was answered with a ServerHello: the server has no certificate, or no site, for %q. Servers written in Go (Caddy, Traefik) end such a handshake with internal_error rather than unrecognized_name.",
			evidence, how, name),
		Fix: "Send the name the server is configured for as the server name (SNI), or add this name to the server's sites and certificates."}
}

// refusedHow says how a look was refused: with alert code, or a close when
// code is 0.
func refusedHow(code int) string {
	if code == 0 {
		return "the server closed the connection"
	}
	return "alert " + wire.AlertDescription(code).String()
}

// rsaBits reads the size of an RSA key described as "RSA 2048".
func rsaBits(key string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(key, "RSA "))
	return n, err == nil && strings.HasPrefix(key, "RSA ")
}

func lowOr(low, top wire.Version) wire.Version {
	if low != 0 {
		return low
	}
	return top
}

// versionRefused reports whether the versions offered alone show that the
// server refuses versions: none accepted, at least one refused with
// protocol_version (the alert a server sends for a version it does not
// speak), none refused with another alert, and none unknown (a version
// that could not be offered alone may be the one the server speaks). A
// version refused with handshake_failure got past the version: the server
// speaks it and refuses something else in the hello.
func (l *SecondLook) versionRefused() bool {
	if len(l.Versions) == 0 {
		return false
	}
	other := slices.ContainsFunc(l.Versions, func(v VersionTry) bool {
		return !v.known() || v.Accepted || v.AlertCode != 0 && v.AlertCode != 70
	})
	return !other && slices.ContainsFunc(l.Versions, func(v VersionTry) bool { return v.AlertCode == 70 })
}

// otherRefusals says, when the versions offered alone were all refused but
// not all for the version (or not all could be offered), how the server
// refused each: a sentence of evidence; "" when no version was tried, one
// was accepted, or versionRefused.
func (l *SecondLook) otherRefusals() string {
	if len(l.Versions) == 0 || l.versionRefused() || slices.ContainsFunc(l.Versions, func(v VersionTry) bool { return v.Accepted }) {
		return ""
	}
	var order []string
	byHow := map[string][]string{}
	var spoken []string
	asVersion := false
	for _, v := range l.Versions {
		if !v.known() {
			continue
		}
		how := "closing without an alert"
		switch v.AlertCode {
		case 0:
		case 70:
			how = "protocol_version"
			asVersion = true
		default:
			how = wire.AlertDescription(v.AlertCode).String()
			spoken = append(spoken, v.Version.String())
		}
		if _, ok := byHow[how]; !ok {
			order = append(order, how)
		}
		byHow[how] = append(byHow[how], v.Version.String())
	}
	var s string
	if len(order) > 0 {
		parts := make([]string, len(order))
		for i, how := range order {
			parts[i] = fmt.Sprintf("%s with %s", versionList(byHow[how]), how)
		}
		s = " Offered one at a time, the server refused " + finding.ListAnd(parts)
		switch {
		case len(spoken) > 0:
			s += fmt.Sprintf(": an alert other than protocol_version (the alert for a version a server does not speak) means it did not refuse %s as a version, but something else in the hello.", versionList(spoken))
		case asVersion:
			s += "."
		default:
			s += ", never with protocol_version, so nothing says the version is the cause."
		}
	}
	return s + l.unknownVersions()
}

// unknownVersions says which versions offered alone the server neither
// accepted nor refused, and why: a sentence of evidence, "" when none.
func (l *SecondLook) unknownVersions() string {
	var order []string
	byWhy := map[string][]string{}
	for _, v := range l.versions() {
		if v.known() {
			continue
		}
		if _, ok := byWhy[v.Unknown]; !ok {
			order = append(order, v.Unknown)
		}
		byWhy[v.Unknown] = append(byWhy[v.Unknown], v.Version.String())
	}
	if len(order) == 0 {
		return ""
	}
	parts := make([]string, len(order))
	for i, why := range order {
		parts[i] = versionList(byWhy[why]) + " " + why
	}
	return " Whether the server speaks each version is not known: " + strings.Join(parts, "; ") + "."
}

func (l *SecondLook) versions() []VersionTry {
	if l == nil {
		return nil
	}
	return l.Versions
}

// serverVersions says what the second look found out about the server's
// versions: a sentence of evidence, and the range in a few words ("" when
// the versions offered alone do not tell it).
func serverVersions(l *SecondLook, c choice) (sentence, short string) {
	var acc, ref []string
	for _, v := range l.versions() {
		switch {
		case !v.known():
		case v.Accepted:
			acc = append(acc, v.Version.String())
		default:
			ref = append(ref, v.Version.String())
		}
	}
	unknown := l.unknownVersions()
	switch {
	case len(acc) > 0:
		sentence = fmt.Sprintf("Offered one at a time, the server accepted %s", versionList(acc))
		if len(ref) > 0 {
			sentence += fmt.Sprintf(" and refused %s", versionList(ref))
		}
		sentence += "." + unknown
		short = versionList(acc)
		if len(ref) > 0 && len(acc) == 1 && unknown == "" {
			short += " only"
		}
	case c.answered:
		sentence = fmt.Sprintf("%s, and the server chose %s, its highest.", lookIntro, c.version) + unknown
		short = c.version.String() + " at most"
	case len(ref) > 0 && unknown == "":
		sentence = fmt.Sprintf("Offered one at a time, the server refused every one of %s.", versionList(ref))
		short = "none of them"
	case len(ref) > 0:
		sentence = fmt.Sprintf("Offered one at a time, the server refused %s.", versionList(ref)) + unknown
	default:
		sentence = strings.TrimPrefix(unknown, " ")
	}
	return sentence, short
}

// versionList writes versions, lowest first, as "TLS 1.3", "TLS 1.2 and
// 1.3", "TLS 1.0, 1.1 and 1.2".
func versionList(vs []string) string {
	if len(vs) == 0 {
		return "nothing readable"
	}
	vs = slices.Clone(vs)
	slices.Sort(vs) // "SSL 3.0" < "TLS 1.0" < … < "TLS 1.3"
	short := make([]string, len(vs))
	for i, v := range vs {
		short[i] = v
		if i > 0 {
			short[i] = strings.TrimPrefix(v, "TLS ")
		}
	}
	if len(short) == 1 {
		return short[0]
	}
	return strings.Join(short[:len(short)-1], ", ") + " and " + short[len(short)-1]
}

// rangeOf writes a configured version range.
func rangeOf(lo, hi uint16) string {
	l, h := "TLS 1.2", "TLS 1.3"
	if lo != 0 {
		l = wire.Version(lo).String()
	}
	if hi != 0 {
		h = wire.Version(hi).String()
	}
	if l == h {
		return l + " only"
	}
	return l + " to " + strings.TrimPrefix(h, "TLS ")
}
