package scan

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/tlskit/tlskit/internal/keysched"
	"github.com/tlskit/tlskit/internal/wire"
)

// This file tests the session features: what the ServerHello echoes
// (extended master secret, encrypt-then-MAC, secure renegotiation,
// heartbeat, compression), what needs a finished handshake (resumption by
// session id and by ticket, TLS 1.3 PSK and 0-RTT, client-initiated
// renegotiation, Heartbleed), and TLS_FALLBACK_SCSV.

// completable12 are the suites of version v whose handshakes tlskit can
// finish: an ECDHE, DHE or RSA key exchange with a cipher keysched
// protects.
func completable12(v wire.Version) []wire.CipherSuite {
	return suitesWhere(v, func(i wire.CipherSuiteInfo) bool {
		if i.Kx != wire.KxECDHE && i.Kx != wire.KxDHE && i.Kx != wire.KxRSA || i.Auth == wire.AuthAnon {
			return false
		}
		_, ok := keysched.LookupSuite(uint16(i.ID))
		return ok
	})
}

// completableGroups12 are the curves tlskit completes ECDHE with.
var completableGroups12 = []wire.NamedGroup{wire.GroupX25519, wire.GroupSecp256r1, wire.GroupX448, wire.GroupSecp384r1, wire.GroupSecp521r1}

// features tests the session features.
func (s *scanner) features(ctx context.Context, accepted map[wire.Version]bool) SessionFeatures {
	var f SessionFeatures
	var wg sync.WaitGroup
	v12 := best12(accepted)
	na := func(why string) Feature { return Feature{State: NotApplicable, Detail: why} }
	if v12 == 0 {
		why := "the server accepts only TLS 1.3, which has none"
		f.ResumptionID, f.ResumptionTicket = na(why+" (TLS 1.3 resumes with PSKs)"), na(why+" (TLS 1.3 resumes with PSKs)")
		f.ExtendedMasterSec = na("TLS 1.3's key schedule always binds the handshake (RFC 8446 §7.1)")
		f.EncryptThenMAC, f.SecureRenegotiation, f.ClientRenegotiation = na(why), na("TLS 1.3 has no renegotiation"), na("TLS 1.3 has no renegotiation")
		f.Compression, f.Heartbeat, f.Heartbleed = na("TLS 1.3 has no compression"), na(why), na(why)
		wg.Go(func() { f.OCSPStapling = s.ocsp13(ctx) })
	} else {
		wg.Go(func() { s.extensions12(ctx, v12, &f) })
		wg.Go(func() { f.EncryptThenMAC = s.etm(ctx, v12) })
		wg.Go(func() { f.Compression = s.compression(ctx, v12) })
		wg.Go(func() { s.resumption12(ctx, v12, &f) })
	}
	if accepted[wire.VersionTLS13] {
		wg.Go(func() { s.resumption13(ctx, &f) })
	} else {
		f.PSK13 = na("the server does not accept TLS 1.3")
		f.EarlyData = na("the server does not accept TLS 1.3")
	}
	wg.Go(func() { f.FallbackSCSV = s.fallback(ctx, accepted) })
	wg.Go(func() { f.VersionTolerance = s.tolerance(ctx, accepted) })
	wg.Wait()
	if v12 != 0 && f.Heartbeat.State == Supported {
		f.Heartbleed = s.heartbleed(ctx, v12)
	} else if v12 != 0 {
		f.Heartbleed = Feature{State: NotApplicable, Detail: "the server does not negotiate the heartbeat extension", Probes: f.Heartbeat.Probes}
	}
	return f
}

// spec12 is a hello of version v that tlskit can complete.
func (s *scanner) spec12(v wire.Version) helloSpec {
	sp := s.baseSpec(v)
	sp.suites = completable12(v)
	if !sp.sslv3Style {
		sp.groups = append(slices.Clone(completableGroups12), ffdheGroups...)
	}
	return sp
}

// echoed returns the state of an extension the ServerHello echoes.
func echoed(r *result, t wire.ExtensionType, what string) Feature {
	f := Feature{Probes: []int{r.probe}}
	switch {
	case r.sh == nil:
		f.State, f.Detail = Unknown, "no ServerHello to tell: "+r.answer()
	case r.sh.Extensions.Has(t):
		f.State, f.Detail = Supported, "the ServerHello carries "+what
	default:
		f.State, f.Detail = NotSupported, "the ServerHello does not carry "+what
	}
	return f
}

// extensions12 reads what one ServerHello echoes of the extensions a
// current client offers, and whether an OCSP response is stapled.
func (s *scanner) extensions12(ctx context.Context, v wire.Version, f *SessionFeatures) {
	s.progress(1, "session features")
	sp := s.baseSpec(v)
	if v == wire.VersionSSL30 {
		sp.sslv3Style = false // SSL 3.0 servers may still echo renegotiation_info
	}
	sp.ems, sp.renegExt, sp.heartbeat, sp.statusRequest = true, true, true, true
	r := s.probe(ctx, v.String()+" extensions: extended_master_secret, renegotiation_info, heartbeat, status_request", sp, toFlight, afterHandshake{}, nil)
	f.ExtendedMasterSec = echoed(r, wire.ExtExtendedMasterSecret, "extended_master_secret (RFC 7627)")
	f.SecureRenegotiation = echoed(r, wire.ExtRenegotiationInfo, "renegotiation_info (RFC 5746)")
	f.Heartbeat = echoed(r, wire.ExtHeartbeat, "the heartbeat extension (RFC 6520)")
	if m, ok := heartbeatMode(r.sh); ok && f.Heartbeat.State == Supported {
		f.Heartbeat.Detail += fmt.Sprintf(" (mode %d: %s)", m, map[uint8]string{1: "peer allowed to send", 2: "peer not allowed to send"}[m])
	}
	f.OCSPStapling = Feature{Probes: []int{r.probe}}
	switch {
	case r.sh == nil:
		f.OCSPStapling.State, f.OCSPStapling.Detail = Unknown, "no ServerHello to tell: "+r.answer()
	case len(r.ocsp) > 0:
		f.OCSPStapling.State, f.OCSPStapling.Detail = Supported, fmt.Sprintf("%s: the server stapled an OCSP response of %d bytes", v, len(r.ocsp))
	default:
		f.OCSPStapling.State, f.OCSPStapling.Detail = NotSupported, v.String()+": the server stapled no OCSP response when asked (status_request)"
	}
}

// ocsp13 asks a TLS 1.3 server for a stapled OCSP response, which comes
// in its encrypted Certificate (RFC 8446 §4.4.2.1).
func (s *scanner) ocsp13(ctx context.Context) Feature {
	s.progress(1, "session features")
	sp := s.spec13Keyed()
	sp.statusRequest = true
	r := s.probe(ctx, "TLS 1.3 status_request", sp, toFlight, afterHandshake{}, nil)
	f := Feature{Probes: []int{r.probe}}
	switch {
	case len(r.certs) == 0:
		f.State, f.Detail = Unknown, "could not read the server's Certificate: "+r.answer()
	case len(r.ocsp) > 0:
		f.State, f.Detail = Supported, fmt.Sprintf("TLS 1.3: the server stapled an OCSP response of %d bytes", len(r.ocsp))
	default:
		f.State, f.Detail = NotSupported, "TLS 1.3: the server stapled no OCSP response when asked (status_request)"
	}
	return f
}

// heartbeatMode returns the heartbeat mode a ServerHello carries.
func heartbeatMode(m *wire.ServerHello) (uint8, bool) {
	if m == nil {
		return 0, false
	}
	v, ok := m.Extensions.Find(wire.ExtHeartbeat).Parsed.(uint8)
	return v, ok
}

// etm offers only CBC suites with encrypt_then_mac.
func (s *scanner) etm(ctx context.Context, v wire.Version) Feature {
	if v == wire.VersionSSL30 {
		return Feature{State: NotApplicable, Detail: "SSL 3.0 has no extensions"}
	}
	s.progress(1, "session features")
	sp := s.baseSpec(v)
	sp.suites = suitesWhere(v, func(i wire.CipherSuiteInfo) bool { return i.CBC() })
	sp.etm = true
	r := s.probe(ctx, v.String()+" encrypt_then_mac with CBC suites", sp, toServerHello, afterHandshake{}, nil)
	if r.sh == nil {
		return Feature{State: NotApplicable, Detail: "the server accepts no CBC suite, so encrypt-then-MAC (RFC 7366) has nothing to protect: " + r.answer(), Probes: []int{r.probe}}
	}
	return echoed(r, wire.ExtEncryptThenMAC, "encrypt_then_mac (RFC 7366) for "+r.suite.String())
}

// compression offers DEFLATE before null compression.
func (s *scanner) compression(ctx context.Context, v wire.Version) Feature {
	s.progress(1, "session features")
	sp := s.baseSpec(v)
	sp.compression = []wire.CompressionMethod{1, 0}
	r := s.probe(ctx, v.String()+" compression: DEFLATE offered", sp, toServerHello, afterHandshake{}, nil)
	f := Feature{Probes: []int{r.probe}}
	switch {
	case r.sh == nil:
		f.State, f.Detail = Unknown, "no ServerHello to tell: "+r.answer()
	case r.sh.CompressionMethod != 0:
		f.State, f.Detail = Supported, fmt.Sprintf("the server chose compression method %v (CRIME)", r.sh.CompressionMethod)
	default:
		f.State, f.Detail = NotSupported, "offered DEFLATE and null, the server chose null"
	}
	return f
}

// resumption12 finishes a handshake, then offers its session id and its
// ticket back.
func (s *scanner) resumption12(ctx context.Context, v wire.Version, f *SessionFeatures) {
	s.progress(4, "session resumption")
	var wg sync.WaitGroup
	// By session id: a hello without session_ticket, as clients that do
	// not do tickets send (servers that issue a ticket may leave the
	// session id empty).
	wg.Go(func() {
		r := s.probe(ctx, v.String()+" full handshake for a session id", s.spec12(v), toComplete, afterHandshake{}, nil)
		switch {
		case !r.done || r.session == nil:
			f.ResumptionID = Feature{State: Unknown, Detail: "could not finish a handshake to get a session: " + r.answer(), Probes: []int{r.probe}}
			return
		case len(r.session.sessionID) == 0:
			f.ResumptionID = Feature{State: NotSupported, Detail: "the server's ServerHello carried an empty session id", Probes: []int{r.probe}}
			return
		}
		rs := s.spec12(v)
		rs.suites, rs.sessionID = []wire.CipherSuite{r.session.suite}, r.session.sessionID
		rr := s.probe(ctx, v.String()+" resumption by session id", rs, toServerHello, afterHandshake{}, nil)
		f.ResumptionID = resumed(rr, r.probe, "the session id")
	})
	if v == wire.VersionSSL30 {
		f.ResumptionTicket = Feature{State: NotApplicable, Detail: "SSL 3.0 has no extensions"}
		wg.Wait()
		return
	}
	sp := s.spec12(v)
	sp.ticket = true
	r := s.probe(ctx, v.String()+" full handshake for a ticket", sp, toComplete, afterHandshake{}, nil)
	if !r.done || r.session == nil {
		f.ResumptionTicket = Feature{State: Unknown, Detail: "could not finish a handshake to get a ticket: " + r.answer(), Probes: []int{r.probe}}
		wg.Wait()
		return
	}
	sess := r.session
	wg.Go(func() {
		if len(sess.ticket) == 0 {
			detail := "the server sent no NewSessionTicket"
			if r.sh.Extensions.Has(wire.ExtSessionTicket) {
				detail = "the server acknowledged session_ticket but sent no ticket"
			}
			f.ResumptionTicket = Feature{State: NotSupported, Detail: detail, Probes: []int{r.probe}}
			return
		}
		what := "the ticket (no lifetime hint)" // 0: unspecified (RFC 5077 §3.3)
		if sess.lifetime > 0 {
			f.TicketLifetime = int(sess.lifetime)
			what = fmt.Sprintf("the ticket (lifetime hint %d s)", sess.lifetime)
		}
		// A one-byte session id with the ticket: the resumption shows it
		// echoed (RFC 5077 §3.4), and the same probe tests Ticketbleed.
		rs := s.spec12(v)
		id := ticketbleedSessionID()
		rs.suites, rs.ticketData, rs.sessionID = []wire.CipherSuite{sess.suite}, sess.ticket, id
		rr := s.probe(ctx, v.String()+" resumption by ticket, with a 1-byte session id (Ticketbleed, CVE-2016-9244)", rs, toServerHello, afterHandshake{}, nil)
		f.ResumptionTicket = resumed(rr, r.probe, what)
		tb := ticketbleed(rr, id, []int{r.probe, rr.probe})
		s.mu.Lock()
		s.ticketbleedV = &tb
		s.mu.Unlock()
	})
	wg.Wait()
}

// resumed states a TLS 1.2 resumption attempt's outcome.
func resumed(r *result, first int, what string) Feature {
	f := Feature{Probes: []int{first, r.probe}}
	switch {
	case r.resumed:
		f.State, f.Detail = Supported, "the server resumed the session from "+what+" (abbreviated handshake)"
	case r.sh != nil:
		f.State, f.Detail = NotSupported, "offered "+what+", the server ran a full handshake"
	default:
		f.State, f.Detail = Unknown, "offered "+what+": "+r.answer()
	}
	return f
}

// resumption13 finishes a TLS 1.3 handshake to get a ticket, then offers
// it as a PSK (with 0-RTT when the ticket allows early data).
func (s *scanner) resumption13(ctx context.Context, f *SessionFeatures) {
	s.progress(2, "TLS 1.3 resumption")
	sp := s.spec13Keyed()
	sp.pskModes = []wire.PSKKeyExchangeMode{1} // psk_dhe_ke
	r := s.probe(ctx, "TLS 1.3 full handshake for a ticket", sp, toComplete, afterHandshake{tickets: true}, nil)
	if len(r.tickets13) == 0 {
		st, detail := NotSupported, "the server sent no NewSessionTicket after the handshake"
		switch {
		case r.certReq && r.alert != nil && r.alert.Level == wire.AlertFatal:
			// The server refused tlskit's empty Certificate: a client
			// with a certificate may well get tickets.
			st, detail = Unknown, "the server requires a client certificate, which tlskit does not have, and ended the handshake before any ticket: "+r.answer()
		case !r.done || r.alert != nil && r.alert.Level == wire.AlertFatal:
			st, detail = Unknown, "could not finish a TLS 1.3 handshake: "+r.answer()
		}
		f.PSK13 = Feature{State: st, Detail: detail, Probes: []int{r.probe}}
		f.EarlyData = Feature{State: st, Detail: detail, Probes: []int{r.probe}}
		return
	}
	t := r.tickets13[0]
	if f.TicketLifetime == 0 {
		f.TicketLifetime = int(t.lifetime)
	}
	rs := s.spec13Keyed()
	rs.pskModes = []wire.PSKKeyExchangeMode{1}
	rs.suites = []wire.CipherSuite{t.suite}
	rs.earlyData = t.maxEarly > 0
	rr := s.probe(ctx, "TLS 1.3 resumption with the ticket as PSK", rs, toServerHello, afterHandshake{}, &pskOffer{t: t})
	probes := []int{r.probe, rr.probe}
	switch {
	case rr.pskOK:
		f.PSK13 = Feature{State: Supported, Detail: fmt.Sprintf("the server accepted its ticket as a PSK (%d tickets, lifetime %d s)", len(r.tickets13), t.lifetime), Probes: probes}
	case rr.sh != nil:
		f.PSK13 = Feature{State: NotSupported, Detail: "the server issued a ticket but ran a full handshake when it was offered", Probes: probes}
	default:
		f.PSK13 = Feature{State: Unknown, Detail: "offered the ticket: " + rr.answer(), Probes: probes}
	}
	switch {
	case t.maxEarly == 0:
		f.EarlyData = Feature{State: NotSupported, Detail: "the server's tickets allow no early data (no early_data extension)", Probes: probes[:1]}
	case rr.earlyOK:
		f.EarlyData = Feature{State: Supported, Detail: fmt.Sprintf("the tickets allow %d bytes of early data and the server accepted 0-RTT", t.maxEarly), Probes: probes}
	case rr.pskOK && rr.ee != nil:
		f.EarlyData = Feature{State: NotSupported, Detail: fmt.Sprintf("the tickets allow %d bytes of early data, but the server declined 0-RTT when offered", t.maxEarly), Probes: probes}
	default:
		f.EarlyData = Feature{State: Unknown, Detail: fmt.Sprintf("the tickets allow %d bytes of early data; offering it: %s", t.maxEarly, rr.answer()), Probes: probes}
	}
}

// clientReneg finishes a handshake and starts a renegotiation.
func (s *scanner) clientReneg(ctx context.Context, v wire.Version) Feature {
	if v == wire.VersionSSL30 {
		return Feature{State: Unknown, Detail: "not tested with SSL 3.0"}
	}
	s.progress(1, "renegotiation")
	sp := s.spec12(v)
	sp.renegExt = true
	r := s.probe(ctx, v.String()+" client-initiated renegotiation", sp, toComplete, afterHandshake{renegotiate: true}, nil)
	f := Feature{Probes: []int{r.probe}}
	switch {
	case !r.done:
		f.State, f.Detail = Unknown, "could not finish a handshake to renegotiate: "+r.answer()
	case r.reneg == "accepted":
		f.State, f.Detail = Supported, "the server answered a client-initiated renegotiation with a ServerHello"
	default:
		f.State, f.Detail = NotSupported, "client-initiated renegotiation "+r.reneg
	}
	return f
}

// heartbleed finishes a handshake with the heartbeat extension and sends
// the over-long heartbeat.
func (s *scanner) heartbleed(ctx context.Context, v wire.Version) Feature {
	s.progress(1, "heartbleed")
	sp := s.spec12(v)
	sp.heartbeat = true
	r := s.probe(ctx, v.String()+" Heartbleed (CVE-2014-0160), safely", sp, toComplete, afterHandshake{heartbleed: true}, nil)
	f := Feature{Probes: []int{r.probe}}
	switch {
	case !r.done:
		f.State, f.Detail = Unknown, "could not finish a handshake to send heartbeats: "+r.answer()
	case len(r.heartbleed) >= 10 && r.heartbleed[:10] == "vulnerable":
		f.State, f.Detail = Supported, r.heartbleed
	case len(r.heartbleed) >= 10 && r.heartbleed[:10] == "not tested":
		f.State, f.Detail = Unknown, r.heartbleed
	default:
		f.State, f.Detail = NotSupported, r.heartbleed
	}
	return f
}

// tolerance sends, to a server whose highest version is TLS 1.2, the
// hello of a current client: TLS 1.2 and 1.3 in supported_versions, the
// suites of both, an X25519 key share. A server must answer it with TLS
// 1.2 (RFC 8446 §4.2.1, Appendix D); one that refuses it, or takes TLS
// 1.3 and then fails, turns away every current client although it speaks
// TLS 1.2 (version intolerance).
func (s *scanner) tolerance(ctx context.Context, accepted map[wire.Version]bool) Feature {
	switch {
	case accepted[wire.VersionTLS13]:
		return Feature{State: NotApplicable, Detail: "the server accepts TLS 1.3: a hello that offers it gets it"}
	case !accepted[wire.VersionTLS12]:
		return Feature{State: NotApplicable, Detail: "the server does not accept TLS 1.2, which current clients offer besides TLS 1.3"}
	}
	s.progress(1, "version tolerance")
	sp := s.baseSpec(wire.VersionTLS12)
	sp.versions = []wire.Version{wire.VersionTLS13, wire.VersionTLS12}
	sp.suites = append(candidateSuites(wire.VersionTLS13), sp.suites...)
	sp.shares = []wire.NamedGroup{wire.GroupX25519}
	if !slices.Contains(sp.groups, wire.GroupX25519) {
		sp.groups = append([]wire.NamedGroup{wire.GroupX25519}, sp.groups...)
	}
	r := s.probe(ctx, "TLS 1.2 and 1.3 offered together, as current clients offer them (the server accepts TLS 1.2, not TLS 1.3)", sp, toServerHello, afterHandshake{}, nil)
	f := Feature{Probes: []int{r.probe}}
	switch {
	case r.sh != nil && r.version == wire.VersionTLS12:
		f.State, f.Detail = Supported, "a hello offering TLS 1.2 and 1.3 was answered with TLS 1.2"
	case r.sh != nil || r.hrr != nil:
		f.State, f.Detail = Supported, fmt.Sprintf("a hello offering TLS 1.2 and 1.3 was answered with %s", r.version)
	case r.netErr != nil:
		f.State, f.Detail = Unknown, "a hello offering TLS 1.2 and 1.3 got: "+r.answer()
	default:
		f.State, f.Detail = NotSupported, fmt.Sprintf("a hello offering TLS 1.2 and 1.3, as current clients send, was refused (%s), although TLS 1.2 offered alone is accepted", r.answer())
	}
	return f
}

// fallback offers the second-highest accepted version with
// TLS_FALLBACK_SCSV (RFC 7507): a server that supports it refuses with
// inappropriate_fallback.
func (s *scanner) fallback(ctx context.Context, accepted map[wire.Version]bool) Feature {
	var vs []wire.Version
	for _, v := range versionsTLS {
		if accepted[v] {
			vs = append(vs, v)
		}
	}
	if len(vs) < 2 {
		return Feature{State: NotApplicable, Detail: "the server accepts one protocol version: there is nothing to fall back to"}
	}
	s.progress(1, "fallback")
	v := vs[len(vs)-2]
	sp := s.baseSpec(v)
	sp.fallbackSCSV = true
	r := s.probe(ctx, fmt.Sprintf("%s with TLS_FALLBACK_SCSV (the server also accepts %s)", v, vs[len(vs)-1]), sp, toServerHello, afterHandshake{}, nil)
	f := Feature{Probes: []int{r.probe}}
	switch {
	case r.alert != nil && r.alert.Description == wire.AlertInappropriateFallback:
		f.State, f.Detail = Supported, fmt.Sprintf("a %s hello with TLS_FALLBACK_SCSV was refused with inappropriate_fallback", v)
	case r.sh != nil:
		f.State, f.Detail = NotSupported, fmt.Sprintf("a %s hello with TLS_FALLBACK_SCSV was accepted (%s), although the server accepts %s", v, r.version, vs[len(vs)-1])
	default:
		f.State, f.Detail = Unknown, "a fallback hello got: "+r.answer()
	}
	return f
}
