package scan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tlskit/tlskit/internal/wire"
)

// This file enumerates what the server accepts: protocol versions, the
// suites of each version in the server's order, key exchange groups, the
// signature schemes it signs with, and ALPN. Each enumeration offers
// everything, takes what the server picks, removes it and asks again
// until the server refuses: n accepted values cost n+1 connections, and
// the picks come in the server's order of preference (or in the offer's
// order when the server has none, which one more probe with the accepted
// values reversed tells apart).

// baseSpec is a hello for version v offering everything but what a probe
// varies.
func (s *scanner) baseSpec(v wire.Version) helloSpec {
	sp := helloSpec{version: v, sni: s.sni, suites: candidateSuites(v)}
	switch v {
	case wire.VersionSSL30:
		sp.sslv3Style = true
	case wire.VersionTLS13:
		sp.version = wire.VersionTLS12
		sp.versions = []wire.Version{wire.VersionTLS13}
		sp.groups = groups13
		sp.sigalgs = sigalgs13
		sp.sigalgsCert = append(slices.Clone(sigalgs13), 0x0401, 0x0501, 0x0601, 0x0201, 0x0203)
	default:
		sp.groups = allGroups12()
		if v == wire.VersionTLS12 {
			sp.sigalgs = sigalgs12
		}
	}
	return sp
}

// versions tries each protocol version with a hello that offers only it.
func (s *scanner) versions(ctx context.Context) []ProtocolResult {
	all := append([]wire.Version{0x0002}, versionsTLS...)
	s.progress(len(all), "protocol versions")
	out := make([]ProtocolResult, len(all))
	results := make([]*result, len(all))
	var wg sync.WaitGroup
	vctx, stop := context.WithCancel(ctx)
	watched := make(chan struct{})
	scanCtx := ctx
	s.silence.arm(stop)
	go func() { defer close(watched); s.watchSilence(scanCtx, vctx, stop) }()
	defer func() { s.silence.arm(nil); stop(); <-watched }()
	ctx = vctx
	for i, v := range all {
		wg.Go(func() {
			if v == 0x0002 {
				results[i] = s.probe(ctx, "SSL 2.0", helloSpec{sslv2: true}, toServerHello, afterHandshake{}, nil)
				return
			}
			sp := s.baseSpec(v)
			if v == wire.VersionTLS13 {
				sp.shares = []wire.NamedGroup{wire.GroupX25519}
			}
			results[i] = s.probe(ctx, v.String(), sp, toServerHello, afterHandshake{}, nil)
		})
	}
	wg.Wait()
	if r := results[0]; r.unanswered() && s.lim.alone.Load() && ctx.Err() == nil {
		// Servers that do not speak SSL 2.0 often close without a word,
		// so that alone does not make the scan go one connection at a
		// time (see probe); once another probe has, SSL 2.0 is asked
		// again alone too.
		s.progress(1, "protocol versions")
		rr := s.probe(ctx, fmt.Sprintf("SSL 2.0 (again, alone: probe %d was closed unanswered while other connections were open)", r.probe),
			helloSpec{sslv2: true}, toServerHello, afterHandshake{}, nil)
		s.mu.Lock()
		s.retried = append(s.retried, retry{first: r.probe, again: rr.probe, answered: !rr.unanswered()})
		s.mu.Unlock()
		results[0] = rr
	}
	s.mu.Lock()
	s.versionResults = append(s.versionResults, results...)
	s.mu.Unlock()
	for i, v := range all {
		r := results[i]
		p := ProtocolResult{Version: v.String(), Probe: r.probe}
		switch {
		case v == 0x0002 && r.sslv2 != nil:
			p.Accepted = true
			s.mu.Lock()
			s.sslv2 = r.sslv2
			s.mu.Unlock()
			p.Answer = r.answer()
		case (r.sh != nil || r.hrr != nil) && r.version == v:
			p.Accepted = true
			p.Answer = r.answer()
		case r.sh != nil:
			p.Answer = fmt.Sprintf("the server answered with %s instead", r.version)
		default:
			p.Answer = r.answer()
			p.Unknown = r.netErr != nil
		}
		out[i] = p
	}
	return out
}

// pick is one suite the server picked.
type pick struct {
	suite wire.CipherSuite
	probe int
	kx    string
}

// suites enumerates the suites of version v in the server's order.
func (s *scanner) suites(ctx context.Context, v wire.Version, versionProbe int) VersionSupport {
	vs := VersionSupport{Version: v.String(), Probe: versionProbe, Suites: []string{}, Details: []SuiteDetail{}}
	if v == 0x0002 {
		// SSL 2.0 has no server preference: the server lists the cipher
		// kinds it shares and the client chooses.
		vs.Order = "client"
		s.mu.Lock()
		h := s.sslv2
		s.mu.Unlock()
		if h != nil {
			for _, c := range h.CipherSpecs {
				vs.Suites = append(vs.Suites, c.String())
				vs.Details = append(vs.Details, SuiteDetail{Name: c.String(), ID: fmt.Sprintf("0x%06x", uint32(c)),
					Strength: "insecure", Note: "SSL 2.0 (RFC 6176)", Probe: versionProbe})
			}
		}
		return vs
	}
	offer := candidateSuites(v)
	var picks []pick
	phase := v.String() + " suites"
	s.progress(2, phase)
	for round := 1; len(offer) > 0; round++ {
		sp := s.baseSpec(v)
		sp.suites = offer
		stop := toFlight // the key exchange shows in ServerKeyExchange
		if v == wire.VersionTLS13 {
			stop = toServerHello // an empty key_share: the HelloRetryRequest names the suite
		}
		r := s.probe(ctx, fmt.Sprintf("%s suites, round %d", v, round), sp, stop, afterHandshake{}, nil)
		chosen := r.sh
		if chosen == nil {
			chosen = r.hrr
		}
		if chosen == nil || r.version != v || !slices.Contains(offer, r.suite) {
			if chosen != nil && !slices.Contains(offer, r.suite) {
				s.problem("%s: the server picked %v, which the probe did not offer (probe %d)", v, r.suite, r.probe)
			}
			break
		}
		picks = append(picks, pick{suite: r.suite, probe: r.probe, kx: kxOf(r)})
		offer = without(offer, r.suite)
		s.progress(1, phase)
	}
	vs.Order = "one suite"
	if len(picks) >= 2 {
		rev := make([]wire.CipherSuite, len(picks))
		for i, p := range picks {
			rev[len(picks)-1-i] = p.suite
		}
		sp := s.baseSpec(v)
		sp.suites = rev
		r := s.probe(ctx, v.String()+" suites: server or client order", sp, toServerHello, afterHandshake{}, nil)
		switch {
		case r.suite == picks[0].suite:
			vs.Order, vs.ServerOrder = "server", true
		case r.suite == rev[0]:
			vs.Order = "client"
		default:
			vs.Order, vs.ServerOrder = "server", true
			s.problem("%s: offered the accepted suites in reverse, the server picked %v, neither its first pick nor the client's first (probe %d); the order shown is the server's picks", v, r.suite, r.probe)
		}
	}
	for _, p := range picks {
		vs.Suites = append(vs.Suites, p.suite.String())
		vs.Details = append(vs.Details, suiteDetail(p))
	}
	return vs
}

// kxOf describes the key exchange a probe saw.
func kxOf(r *result) string {
	switch {
	case r.ske != nil && r.ske.KeyExchange == "ecdhe":
		return r.ske.Group.String()
	case r.ske != nil && r.ske.KeyExchange == "dhe":
		return dhDesc(r.ske.P)
	case r.version == wire.VersionTLS13 && r.group != 0:
		return r.group.String()
	}
	if info, ok := r.suite.Info(); ok && info.Kx == wire.KxRSA {
		return "RSA"
	}
	return ""
}

// suiteDetail describes a picked suite.
func suiteDetail(p pick) SuiteDetail {
	info, _ := p.suite.Info()
	d := SuiteDetail{Name: info.Name, ID: hex4(uint16(p.suite)), Kx: info.Kx.String(), Auth: info.Auth.String(),
		Cipher: info.Cipher.String(), MAC: info.MAC.String(), Bits: info.KeyBits, KeyExchange: p.kx, Probe: p.probe}
	d.Strength, d.Note = strength(info)
	return d
}

// strength grades a suite: insecure (no encryption or authentication,
// export, RC4, DES), weak (no forward secrecy, 64-bit blocks, CBC
// MAC-then-encrypt) or strong.
func strength(s wire.CipherSuiteInfo) (string, string) {
	switch {
	case s.NullCipher():
		return "insecure", "no encryption"
	case s.Anonymous():
		return "insecure", "no authentication"
	case s.Export:
		return "insecure", fmt.Sprintf("export grade (%d-bit keys)", s.KeyBits)
	case s.Cipher == wire.CipherRC4:
		return "insecure", "RC4 (RFC 7465)"
	case s.Cipher == wire.CipherDESCBC:
		return "insecure", "single DES (56-bit key)"
	}
	var why []string
	if !s.TLS13 && !s.ForwardSecret() {
		why = append(why, "no forward secrecy")
	}
	switch {
	case s.Cipher == wire.Cipher3DESCBC || s.Cipher == wire.CipherIDEACBC || s.Cipher == wire.CipherRC2CBC:
		why = append(why, "64-bit block cipher (SWEET32)")
	case s.CBC():
		why = append(why, "CBC (MAC-then-encrypt)")
	}
	if len(why) > 0 {
		return "weak", strings.Join(why, ", ")
	}
	return "strong", ""
}

// groups13 enumerates the TLS 1.3 groups with empty key shares: the
// HelloRetryRequest names the group the server wants.
func (s *scanner) groups13(ctx context.Context) ([]GroupSupport, string) {
	offer := slices.Clone(groups13)
	var picks []wire.NamedGroup
	var probes []int
	s.progress(2, "TLS 1.3 groups")
	for round := 1; len(offer) > 0; round++ {
		sp := s.baseSpec(wire.VersionTLS13)
		sp.groups = offer
		r := s.probe(ctx, fmt.Sprintf("TLS 1.3 groups, round %d", round), sp, toServerHello, afterHandshake{}, nil)
		if r.version != wire.VersionTLS13 || r.group == 0 || !slices.Contains(offer, r.group) {
			break
		}
		picks = append(picks, r.group)
		probes = append(probes, r.probe)
		offer = without(offer, r.group)
		s.progress(1, "TLS 1.3 groups")
	}
	order := s.groupOrder(ctx, picks, func(rev []wire.NamedGroup) *result {
		sp := s.baseSpec(wire.VersionTLS13)
		sp.groups = rev
		return s.probe(ctx, "TLS 1.3 groups: server or client order", sp, toServerHello, afterHandshake{}, nil)
	})
	var out []GroupSupport
	for i, g := range picks {
		out = append(out, groupSupport(g, wire.VersionTLS13, probes[i]))
	}
	return out, order
}

// groupOrder tells a server's own group preference from the client's by
// offering the accepted groups reversed.
func (s *scanner) groupOrder(ctx context.Context, picks []wire.NamedGroup, try func([]wire.NamedGroup) *result) string {
	if len(picks) < 2 {
		if len(picks) == 1 {
			return "one group"
		}
		return ""
	}
	rev := make([]wire.NamedGroup, len(picks))
	for i, g := range picks {
		rev[len(picks)-1-i] = g
	}
	r := try(rev)
	switch r.group {
	case picks[0]:
		return "server"
	case rev[0]:
		return "client"
	}
	return "server"
}

// groups12 enumerates the ECDHE curves of TLS 1.2 (or the best version
// below 1.3) from the ServerKeyExchange, and asks once for the FFDHE
// groups of RFC 7919.
func (s *scanner) groups12(ctx context.Context, v wire.Version) ([]GroupSupport, string) {
	ecdhe := suitesWhere(v, func(i wire.CipherSuiteInfo) bool { return i.Kx == wire.KxECDHE && i.Auth != wire.AuthAnon })
	offer := slices.Clone(groups12)
	var picks []wire.NamedGroup
	var probes []int
	phase := v.String() + " groups"
	s.progress(3, phase)
	for round := 1; len(offer) > 0; round++ {
		sp := s.baseSpec(v)
		sp.suites, sp.groups = ecdhe, offer
		r := s.probe(ctx, fmt.Sprintf("%s ECDHE groups, round %d", v, round), sp, toFlight, afterHandshake{}, nil)
		if r.ske == nil || r.ske.KeyExchange != "ecdhe" || !slices.Contains(offer, r.ske.Group) {
			break
		}
		picks = append(picks, r.ske.Group)
		probes = append(probes, r.probe)
		offer = without(offer, r.ske.Group)
		s.progress(1, phase)
	}
	order := s.groupOrder(ctx, picks, func(rev []wire.NamedGroup) *result {
		sp := s.baseSpec(v)
		sp.suites, sp.groups = ecdhe, rev
		return s.probe(ctx, v.String()+" ECDHE groups: server or client order", sp, toFlight, afterHandshake{}, nil)
	})
	var out []GroupSupport
	for i, g := range picks {
		out = append(out, groupSupport(g, v, probes[i]))
	}
	// FFDHE: DHE suites offered with RFC 7919's groups. A server that
	// negotiates them (RFC 7919 §4) uses one; others use their own prime,
	// which dhDesc names when it is a well-known one.
	dhe := suitesWhere(v, func(i wire.CipherSuiteInfo) bool { return i.Kx == wire.KxDHE && i.Auth != wire.AuthAnon })
	if len(dhe) > 0 {
		sp := s.baseSpec(v)
		sp.suites, sp.groups = dhe, ffdheGroups
		r := s.probe(ctx, v.String()+" FFDHE groups", sp, toFlight, afterHandshake{}, nil)
		if r.ske != nil && r.ske.KeyExchange == "dhe" {
			if g := ffdheGroupOf(r.ske.P); g != 0 {
				gs := groupSupport(g, v, r.probe)
				out = append(out, gs)
			}
		}
	}
	return out, order
}

// groupSupport describes one accepted group.
func groupSupport(g wire.NamedGroup, v wire.Version, probe int) GroupSupport {
	gs := GroupSupport{Name: g.String(), ID: hex4(uint16(g)), Versions: []string{v.String()}, Probes: []int{probe}}
	switch {
	case g == groupX25519MLKEM768 || g == groupSecP256r1MLKEM768 || g == groupSecP384r1MLKEM1024 || g == 0x6399 || g == 0x639a:
		gs.Kind = "hybrid post-quantum"
	case isPQ(g):
		gs.Kind = "post-quantum"
	case g >= 256 && g <= 260:
		gs.Kind = "FFDHE"
		gs.Bits = []int{2048, 3072, 4096, 6144, 8192}[g-256]
	default:
		gs.Kind = "ECDHE"
	}
	switch g {
	case wire.GroupX25519:
		gs.Bits = 253
	case wire.GroupSecp256r1, 31, 26:
		gs.Bits = 256
	case wire.GroupSecp384r1, 32, 27:
		gs.Bits = 384
	case wire.GroupSecp521r1:
		gs.Bits = 521
	case wire.GroupX448:
		gs.Bits = 448
	case 33, 28:
		gs.Bits = 512
	}
	return gs
}

// mergeGroups joins the TLS 1.3 and the TLS 1.2 groups: TLS 1.3's order
// first (the preference that matters to current clients), then groups
// seen only in TLS 1.2.
func mergeGroups(g13 []GroupSupport, order13 string, g12 []GroupSupport, order12 string) ([]GroupSupport, string, string) {
	out := slices.Clone(g13)
	for _, g := range g12 {
		i := slices.IndexFunc(out, func(o GroupSupport) bool { return o.ID == g.ID })
		if i < 0 {
			out = append(out, g)
			continue
		}
		out[i].Versions = append(out[i].Versions, g.Versions...)
		out[i].Probes = append(out[i].Probes, g.Probes...)
	}
	if out == nil {
		out = []GroupSupport{}
	}
	order, first := order13, g13
	if order == "" {
		order, first = order12, g12
	}
	preferred := ""
	if order == "server" || order == "one group" {
		preferred = first[0].Name
	}
	return out, order, preferred
}

// sigalgs12 enumerates the schemes of TLS 1.2 ServerKeyExchange
// signatures.
func (s *scanner) sigalgs12(ctx context.Context) []SigAlgSupport {
	v := wire.VersionTLS12
	signed := suitesWhere(v, func(i wire.CipherSuiteInfo) bool {
		return (i.Kx == wire.KxECDHE || i.Kx == wire.KxDHE) && (i.Auth == wire.AuthRSA || i.Auth == wire.AuthECDSA || i.Auth == wire.AuthDSS)
	})
	offer := slices.Clone(sigalgs12)
	var out []SigAlgSupport
	s.progress(2, "TLS 1.2 signature schemes")
	for round := 1; len(offer) > 0; round++ {
		sp := s.baseSpec(v)
		sp.suites, sp.sigalgs, sp.sigalgsCert = signed, offer, sigalgs12
		r := s.probe(ctx, fmt.Sprintf("TLS 1.2 signature schemes, round %d", round), sp, toFlight, afterHandshake{}, nil)
		if r.ske == nil || r.ske.SignatureScheme == 0 || !slices.Contains(offer, r.ske.SignatureScheme) {
			break
		}
		sch := r.ske.SignatureScheme
		out = append(out, SigAlgSupport{Name: sch.String(), ID: hex4(uint16(sch)), Versions: []string{"TLS 1.2"}, Probes: []int{r.probe}})
		offer = without(offer, sch)
		s.progress(1, "TLS 1.2 signature schemes")
	}
	return out
}

// keyable13 are the TLS 1.3 suites whose records tlskit can open, for
// probes that read the encrypted flight.
var keyable13 = []wire.CipherSuite{0x1301, 0x1302, 0x1303, 0x1304, 0x1305}

// spec13Keyed is a TLS 1.3 hello whose flight the probe can decrypt: key
// shares for X25519 and P-256 (after a HelloRetryRequest for another
// group tlskit can make, the probe sends one).
func (s *scanner) spec13Keyed() helloSpec {
	sp := s.baseSpec(wire.VersionTLS13)
	sp.suites = keyable13
	sp.shares = []wire.NamedGroup{wire.GroupX25519, wire.GroupSecp256r1}
	return sp
}

// sigalgs13 enumerates the schemes of TLS 1.3 CertificateVerify, reading
// the encrypted flight.
func (s *scanner) sigalgs13(ctx context.Context) []SigAlgSupport {
	offer := slices.Clone(sigalgs13)
	var out []SigAlgSupport
	s.progress(2, "TLS 1.3 signature schemes")
	for round := 1; len(offer) > 0; round++ {
		sp := s.spec13Keyed()
		sp.sigalgs = offer
		r := s.probe(ctx, fmt.Sprintf("TLS 1.3 signature schemes, round %d", round), sp, toFlight, afterHandshake{}, nil)
		if r.cv == nil || !slices.Contains(offer, r.cv.SignatureScheme) {
			if r.sh != nil && r.cv == nil && r.stopped != "" {
				s.problem("TLS 1.3 signature schemes: %s (probe %d)", r.stopped, r.probe)
			}
			break
		}
		sch := r.cv.SignatureScheme
		out = append(out, SigAlgSupport{Name: sch.String(), ID: hex4(uint16(sch)), Versions: []string{"TLS 1.3"}, Probes: []int{r.probe}})
		offer = without(offer, sch)
		s.progress(1, "TLS 1.3 signature schemes")
	}
	return out
}

// mergeSigAlgs joins the schemes of both versions.
func mergeSigAlgs(s13, s12 []SigAlgSupport) []SigAlgSupport {
	out := slices.Clone(s13)
	for _, a := range s12 {
		i := slices.IndexFunc(out, func(o SigAlgSupport) bool { return o.ID == a.ID })
		if i < 0 {
			out = append(out, a)
			continue
		}
		out[i].Versions = append(out[i].Versions, a.Versions...)
		out[i].Probes = append(out[i].Probes, a.Probes...)
	}
	if out == nil {
		out = []SigAlgSupport{}
	}
	return out
}

// alpnCandidates are the application protocols offered.
var alpnCandidates = []string{"h2", "http/1.1", "http/1.0", "http/0.9", "spdy/3.1", "acme-tls/1", "imap", "pop3", "smtp", "xmpp-client", "ftp", "postgresql", "mqtt"}

// alpn enumerates the application protocols the server selects, with TLS
// 1.2 when it can (the ServerHello carries the choice) and TLS 1.3's
// decrypted EncryptedExtensions otherwise.
func (s *scanner) alpn(ctx context.Context, accepted map[wire.Version]bool) ALPNResult {
	res := ALPNResult{Protocols: []string{}}
	var spec func() helloSpec
	stop := toServerHello
	switch {
	case accepted[wire.VersionTLS12]:
		spec = func() helloSpec { return s.baseSpec(wire.VersionTLS12) }
	case accepted[wire.VersionTLS13]:
		spec, stop = s.spec13Keyed, toFlight
	default:
		res.Note = "not tested: ALPN needs TLS 1.2 or 1.3"
		return res
	}
	offer := slices.Clone(alpnCandidates)
	s.progress(2, "ALPN")
	for round := 1; len(offer) > 0; round++ {
		sp := spec()
		sp.alpn = offer
		r := s.probe(ctx, fmt.Sprintf("ALPN, round %d", round), sp, stop, afterHandshake{}, nil)
		res.Probes = append(res.Probes, r.probe)
		var got string
		switch {
		case r.ee != nil:
			got = r.ee.SelectedALPN()
		case r.sh != nil && r.version != wire.VersionTLS13:
			got = r.sh.SelectedALPN()
		}
		if got == "" {
			switch {
			case r.alert != nil && r.alert.Description == wire.AlertNoApplicationProtocol:
				if round == 1 {
					res.Note = "the server refuses all of: " + strings.Join(alpnCandidates, ", ") + " (alert no_application_protocol)"
				}
			case r.sh == nil:
				res.Note = "not determined: " + r.answer()
			case round == 1:
				res.Note = "the server selects no application protocol (no ALPN, or none of: " + strings.Join(alpnCandidates, ", ") + ")"
			}
			break
		}
		if !slices.Contains(offer, got) {
			s.problem("ALPN: the server selected %q, which was not offered (probe %d)", got, r.probe)
			break
		}
		res.Protocols = append(res.Protocols, got)
		offer = without(offer, got)
		s.progress(1, "ALPN")
	}
	return res
}

// problem records what the scan could not find out.
func (s *scanner) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rep.Problems = append(s.rep.Problems, fmt.Sprintf(format, args...))
}
