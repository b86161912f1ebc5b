package scan

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/tlskit/tlskit/internal/keysched"
	"github.com/tlskit/tlskit/internal/wire"
)

// This file is the scanner's own TLS client: it sends a ClientHello built
// from a helloSpec and goes as far as the probe needs. Most probes stop at
// the server's first answer (a ServerHello, a HelloRetryRequest or an
// alert): that is the server's choice. Others read the server's whole
// first flight (in TLS 1.3 decrypted with keys derived from our key share:
// certificate, CertificateVerify, EncryptedExtensions), and a few finish
// the handshake to learn what only a finished session shows (tickets,
// resumption, renegotiation, heartbeats). Nothing here depends on what
// crypto/tls implements: any suite keysched protects and any group
// keyshare.go computes can be completed.

// stage says how far a probe goes.
type stage int

const (
	toServerHello stage = iota // the server's first answer
	toFlight                   // its whole first flight (TLS 1.3: retrying once after a HelloRetryRequest, decrypted)
	toComplete                 // finish the handshake, then do what after says
)

// afterHandshake lists what a probe does once the handshake is complete.
type afterHandshake struct {
	tickets     bool // TLS 1.3: wait for NewSessionTicket
	renegotiate bool // TLS 1.2: start a client-initiated renegotiation
	heartbleed  bool // TLS 1.2: send an over-long heartbeat, then a valid one
	// After the server's first flight (TLS 1.0–1.2, at ServerHelloDone),
	// instead of a key exchange:
	ccs   bool          // send ChangeCipherSpec early (CVE-2014-0224)
	robot *robotPayload // send a ClientKeyExchange with this PKCS#1 v1.5 variant (ROBOT)
	// http, when set, is the request to send in the finished session and
	// read the answer's header of.
	http *httpRequest
}

// ticket13 is what resuming a TLS 1.3 session needs.
type ticket13 struct {
	suite    wire.CipherSuite
	ticket   []byte
	psk      []byte
	ageAdd   uint32
	lifetime uint32
	maxEarly uint32
	received time.Time
}

// session12 is what resuming a TLS 1.2 session needs.
type session12 struct {
	version   wire.Version
	suite     wire.CipherSuite
	sessionID []byte
	ticket    []byte
	lifetime  uint32
	master    []byte
}

// pskOffer is a TLS 1.3 resumption offer: the ticket, its PSK, and
// whether to offer 0-RTT.
type pskOffer struct {
	t *ticket13
}

// result is what one probe connection learnt.
type result struct {
	probe   int // the Probe's id
	hello   *wire.ClientHello
	hrr     *wire.ServerHello
	sh      *wire.ServerHello
	version wire.Version
	suite   wire.CipherSuite
	// group is the TLS 1.3 key share group (the HelloRetryRequest's, or the
	// ServerHello's), or the TLS 1.2 ServerKeyExchange's named curve.
	group   wire.NamedGroup
	ske     *wire.ServerKeyExchange
	certs   [][]byte
	ocsp    []byte // a stapled OCSP response
	certReq bool
	ee      *wire.EncryptedExtensions
	cv      *wire.CertificateVerify
	sslv2   *wire.SSLv2ServerHello
	// nameWarning: the server sent a warning unrecognized_name before its
	// ServerHello, and went on.
	nameWarning bool
	// How the server's answer ended, if not with what the probe wanted.
	alert   *wire.Alert
	closed  string // "fin", "rst", "timeout"
	notTLS  string
	stopped string // why the probe could not go further (our limit, not the server's)
	netErr  error  // dialing or writing failed
	// notAsked says why the probe was stopped before its connection was
	// made (its question is unanswered; not a failed connection).
	notAsked string
	// What a completed handshake showed.
	done       bool
	resumed    bool // TLS 1.2: an abbreviated handshake answered the offered session
	pskOK      bool // TLS 1.3: the server accepted the offered PSK
	earlyOK    bool // TLS 1.3: the server accepted 0-RTT
	session    *session12
	tickets13  []*ticket13
	reneg      string // "accepted", "refused: …"
	heartbleed string // "vulnerable", "not vulnerable", "no answer"
	// What the vulnerability probes saw.
	ccs    *ccsAnswer   // the answer to an early ChangeCipherSpec
	robot  *robotAnswer // the answer to a ROBOT ClientKeyExchange
	leaked int          // Ticketbleed: bytes of the echoed session id beyond the one offered (zeroed)
	http   *httpAnswer  // the answer to the HTTP request
}

// hsState is a probe's handshake in progress.
type hsState struct {
	v        *conv
	spec     helloSpec
	stop     stage
	after    afterHandshake
	psk      *pskOffer
	res      *result
	q        pendingItems
	msgs     []byte // the handshake messages, framed, for the transcript hash
	shares   map[wire.NamedGroup]*keyShare
	k13      *sched13
	timeout  time.Duration
	hello    []byte // the ClientHello as sent (framed)
	retried  bool
	resuming bool // a TLS 1.2 session id or ticket was offered
	// certReqCtx is the context of the server's TLS 1.3 CertificateRequest.
	certReqCtx []byte
}

// runHandshake runs one probe's handshake on v.
func runHandshake(v *conv, spec helloSpec, stop stage, after afterHandshake, psk *pskOffer, timeout time.Duration) *result {
	h := &hsState{v: v, spec: spec, stop: stop, after: after, psk: psk, res: &result{}, timeout: timeout}
	if spec.sslv2 {
		h.sslv2()
		return h.res
	}
	if err := h.sendHello(); err != nil {
		h.res.netErr = err
		return h.res
	}
	h.loop()
	return h.res
}

// sslv2 sends an SSL 2.0 CLIENT-HELLO offering every SSL 2.0 cipher kind
// and reads the answer.
func (h *hsState) sslv2() {
	challenge := make([]byte, 16)
	rand.Read(challenge)
	m := &wire.ClientHello{Version: 0x0002, SessionID: []byte{}, SSLv2: &wire.SSLv2Hello{Challenge: challenge,
		CipherSpecs: []wire.SSLv2CipherSpec{0x010080, 0x020080, 0x030080, 0x040080, 0x050080, 0x060040, 0x0700c0}}}
	h.res.hello = m
	h.v.sslv2ok = true
	if err := h.v.send(wire.SSLv2Record(m.Marshal())); err != nil {
		h.res.netErr = err
		return
	}
	it, err := h.v.next(&h.q)
	if err != nil {
		h.ended(err)
		return
	}
	switch it.kind {
	case itemSSLv2:
		h.res.sslv2 = it.sslv2
		h.res.version = 0x0002
	case itemAlert:
		h.res.alert = &it.alert
	default:
		h.res.notTLS = it.note
	}
}

// sendHello builds and sends the ClientHello.
func (h *hsState) sendHello() error {
	m, shares, err := h.spec.build()
	if err != nil {
		return err
	}
	h.shares = shares
	if h.psk != nil {
		if err := h.addPSK(m); err != nil {
			return err
		}
	}
	h.res.hello = m
	h.resuming = h.spec.ticketData != nil || len(h.spec.sessionID) > 0 && !h.spec.tls13()
	h.hello = wire.HandshakeMessage(m)
	h.msgs = append(h.msgs[:0], h.hello...)
	return h.v.send(wire.AppendRecords(nil, wire.ContentHandshake, h.spec.recordVersion(), h.hello))
}

// addPSK appends the pre_shared_key extension with its binder.
func (h *hsState) addPSK(m *wire.ClientHello) error {
	t := h.psk.t
	k, err := newSched13(t.suite, t.psk)
	if err != nil {
		return err
	}
	age := uint32(time.Since(t.received).Milliseconds()) + t.ageAdd
	offer := wire.OfferedPSKs{Identities: []wire.PSKIdentity{{Identity: t.ticket, ObfuscatedTicketAge: age}},
		Binders: []wire.HexBytes{make([]byte, k.hash.Size())}}
	m.Extensions = append(m.Extensions, wire.PreSharedKeyExtension(offer))
	offer.Binders[0] = k.binder(m.MarshalWithoutBinders())
	m.Extensions[len(m.Extensions)-1] = wire.PreSharedKeyExtension(offer)
	return nil
}

// ended records how the connection ended when the probe wanted more.
func (h *hsState) ended(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF):
		h.res.closed = "fin"
	case errors.Is(err, syscall.ECONNRESET):
		h.res.closed = "rst"
	case errors.As(err, &ne) && ne.Timeout():
		h.res.closed = "timeout"
	case errors.Is(err, errCut):
		h.res.stopped = err.Error()
	default:
		h.res.closed = err.Error()
	}
}

// loop reads the server's items until the probe has what it wants.
func (h *hsState) loop() {
	for {
		it, err := h.v.next(&h.q)
		if err != nil {
			h.ended(err)
			return
		}
		if !h.item(it) {
			return
		}
	}
}

// item handles one server item and reports whether to read on.
func (h *hsState) item(it item) bool {
	r := h.res
	switch it.kind {
	case itemAlert:
		if it.alert.Level == wire.AlertWarning && it.alert.Description != wire.AlertCloseNotify {
			if it.alert.Description == 112 && r.sh == nil {
				r.nameWarning = true
			}
			return true // e.g. a warning no_renegotiation is handled where it matters
		}
		r.alert = &it.alert
		return false
	case itemNotTLS:
		r.notTLS = it.note
		return false
	case itemCCS:
		if h.resuming && r.sh != nil && r.sh.SelectedVersion() != wire.VersionTLS13 && len(r.certs) == 0 {
			// An abbreviated handshake: the server resumed the session
			// (RFC 5246 §7.3; RFC 5077 §3.1 with a ticket).
			r.resumed = true
			if h.spec.ticketData != nil && len(h.spec.sessionID) > 0 {
				r.leaked = h.ticketbleed(r.sh)
			}
			return false
		}
		return true
	case itemAppData:
		if it.encrypted {
			r.stopped = "the server's flight is encrypted and this probe has no key share to read it"
			return false
		}
		return true
	case itemHandshake:
		return h.message(it)
	}
	return true
}

// message handles one handshake message.
func (h *hsState) message(it item) bool {
	r := h.res
	m, err := wire.ParseMessage(it.msg.Type, it.msg.Body, wire.Context{Version: r.version, CipherSuite: r.suite})
	if err != nil {
		r.notTLS = err.Error()
		return false
	}
	switch m := m.(type) {
	case *wire.ServerHello:
		if m.IsHelloRetryRequest() {
			return h.helloRetry(m, it.msg.Raw)
		}
		h.msgs = append(h.msgs, it.msg.Raw...)
		r.sh, r.version, r.suite = m, m.SelectedVersion(), m.CipherSuite
		if r.version == wire.VersionTLS13 {
			if ks, ok := m.Extensions.Find(wire.ExtKeyShare).Parsed.(wire.KeyShare); ok {
				r.group = ks.Group
			}
			if _, ok := m.Extensions.Find(wire.ExtPreSharedKey).Parsed.(uint16); ok {
				r.pskOK = true
			}
		}
		if h.stop == toServerHello && !h.resuming && !(r.version == wire.VersionTLS13 && h.psk != nil) {
			return false
		}
		if r.version == wire.VersionTLS13 {
			return h.keys13(m)
		}
		return true
	case *wire.Certificate:
		h.msgs = append(h.msgs, it.msg.Raw...)
		r.certs = m.Certificates()
		if len(m.Entries) > 0 {
			if cs, ok := m.Entries[0].Extensions.Find(wire.ExtStatusRequest).Parsed.(*wire.CertificateStatus); ok {
				r.ocsp = cs.Response
			}
		}
		if h.resuming {
			return false // a full handshake: the session was not resumed
		}
	case *wire.CertificateStatus:
		h.msgs = append(h.msgs, it.msg.Raw...)
		r.ocsp = m.Response
	case *wire.ServerKeyExchange:
		h.msgs = append(h.msgs, it.msg.Raw...)
		r.ske = m
		if m.KeyExchange == "ecdhe" {
			r.group = m.Group
		}
	case *wire.CertificateRequest:
		h.msgs = append(h.msgs, it.msg.Raw...)
		r.certReq = true
		h.certReqCtx = append([]byte(nil), m.RequestContext...)
	case *wire.EncryptedExtensions:
		h.msgs = append(h.msgs, it.msg.Raw...)
		r.ee = m
		if m.Extensions.Has(wire.ExtEarlyData) {
			r.earlyOK = true
		}
		if h.stop == toServerHello {
			return false // a resumption probe: the acceptance of 0-RTT is all it asked
		}
	case *wire.CertificateVerify:
		h.msgs = append(h.msgs, it.msg.Raw...)
		r.cv = m
	case *wire.ServerHelloDone:
		if r.sh == nil || r.version == wire.VersionTLS13 {
			r.notTLS = "the server sent ServerHelloDone out of order"
			return false
		}
		h.msgs = append(h.msgs, it.msg.Raw...)
		switch {
		case h.after.ccs:
			r.ccs = h.earlyCCS()
			return false
		case h.after.robot != nil:
			r.robot = h.robotExchange(h.after.robot)
			return false
		case h.stop == toFlight:
			return false
		}
		return h.complete12()
	case *wire.Finished:
		if r.version == wire.VersionTLS13 && h.k13 == nil {
			r.notTLS = "the server sent Finished out of order"
			return false
		}
		if r.version == wire.VersionTLS13 {
			want := h.k13.finished(h.k13.sHS, h.msgs)
			h.msgs = append(h.msgs, it.msg.Raw...)
			if !bytes.Equal(want, m.VerifyData) {
				r.stopped = "the server's Finished does not verify (tlskit's key schedule and the server disagree)"
				return false
			}
			if h.stop == toFlight {
				return false
			}
			return h.complete13()
		}
	case *wire.NewSessionTicket:
		h.msgs = append(h.msgs, it.msg.Raw...)
		if !m.TLS13 && r.session != nil {
			r.session.ticket = append([]byte(nil), m.Ticket...)
			r.session.lifetime = m.Lifetime
		}
	case *wire.HelloRequest:
		// Not part of the handshake hash; a server asking to renegotiate
		// is answered by closing.
	default:
		h.msgs = append(h.msgs, it.msg.Raw...)
	}
	return true
}

// helloRetry handles a HelloRetryRequest: the answer for a probe that
// stops at the server's first answer; otherwise the hello is sent again
// with a key share for the group asked for.
func (h *hsState) helloRetry(m *wire.ServerHello, raw []byte) bool {
	r := h.res
	r.hrr, r.version, r.suite = m, m.SelectedVersion(), m.CipherSuite
	if g, ok := m.Extensions.Find(wire.ExtKeyShare).Parsed.(wire.NamedGroup); ok {
		r.group = g
	}
	if h.stop == toServerHello && h.psk == nil || h.retried {
		return false
	}
	h.retried = true
	if !canShare(r.group) {
		r.stopped = fmt.Sprintf("the server asked for a %v key share, which tlskit cannot make", r.group)
		return false
	}
	hash, err := hashOf(r.suite)
	if err != nil {
		r.stopped = err.Error()
		return false
	}
	ks, err := newKeyShare(r.group)
	if err != nil {
		r.stopped = err.Error()
		return false
	}
	h.shares = map[wire.NamedGroup]*keyShare{r.group: ks}
	ch := *r.hello
	ch.Extensions = nil
	for _, e := range r.hello.Extensions {
		switch e.Type {
		case wire.ExtKeyShare:
			e = wire.KeyShareExtension([]wire.KeyShare{{Group: r.group, KeyExchange: ks.public}})
		case wire.ExtEarlyData, wire.ExtPadding:
			continue
		case wire.ExtPreSharedKey:
			continue // re-added with a binder over the new transcript below
		}
		ch.Extensions = append(ch.Extensions, e)
	}
	if c, ok := m.Extensions.Find(wire.ExtCookie).Parsed.(wire.HexBytes); ok {
		ch.Extensions = append(ch.Extensions, wire.CookieExtension(c))
	}
	h.msgs = append(messageHash(hash, h.hello), raw...)
	if h.psk != nil {
		// The binder of the second hello covers the first exchange too.
		k, err := newSched13(h.psk.t.suite, h.psk.t.psk)
		if err == nil {
			offer := wire.OfferedPSKs{Identities: []wire.PSKIdentity{{Identity: h.psk.t.ticket,
				ObfuscatedTicketAge: uint32(time.Since(h.psk.t.received).Milliseconds()) + h.psk.t.ageAdd}},
				Binders: []wire.HexBytes{make([]byte, k.hash.Size())}}
			ch.Extensions = append(ch.Extensions, wire.PreSharedKeyExtension(offer))
			offer.Binders[0] = k.binder(append(append([]byte(nil), h.msgs...), ch.MarshalWithoutBinders()...))
			ch.Extensions[len(ch.Extensions)-1] = wire.PreSharedKeyExtension(offer)
		}
	}
	second := wire.HandshakeMessage(&ch)
	h.msgs = append(h.msgs, second...)
	h.hello = second
	if err := h.v.send(wire.AppendRecords(nil, wire.ContentHandshake, wire.VersionTLS12, second)); err != nil {
		r.netErr = err
		return false
	}
	return true
}

// keys13 derives the handshake keys after a TLS 1.3 ServerHello so the
// server's encrypted flight can be read.
func (h *hsState) keys13(sh *wire.ServerHello) bool {
	r := h.res
	ks, ok := sh.Extensions.Find(wire.ExtKeyShare).Parsed.(wire.KeyShare)
	if !ok {
		r.stopped = "the TLS 1.3 ServerHello has no key_share"
		return false
	}
	mine := h.shares[ks.Group]
	if mine == nil {
		r.stopped = fmt.Sprintf("the server chose %v, for which this probe sent no key share", ks.Group)
		return false
	}
	shared, err := mine.shared(ks.KeyExchange)
	if err != nil {
		r.stopped = err.Error()
		return false
	}
	var psk []byte
	if h.psk != nil && r.pskOK {
		psk = h.psk.t.psk
	}
	if h.k13, err = newSched13(r.suite, psk); err != nil {
		r.stopped = err.Error()
		return false
	}
	if err := h.k13.handshake(shared, h.msgs); err != nil {
		r.stopped = err.Error()
		return false
	}
	cr := r.hello.Random
	h.v.keys.Add("CLIENT_HANDSHAKE_TRAFFIC_SECRET", cr, h.k13.cHS)
	h.v.keys.Add("SERVER_HANDSHAKE_TRAFFIC_SECRET", cr, h.k13.sHS)
	o, err := keysched.NewTLS13Opener(uint16(r.suite), h.k13.sHS)
	if err != nil {
		r.stopped = err.Error()
		return false
	}
	h.v.setOpener(o, false)
	return true
}

// complete13 sends the client's Finished and, if asked, waits for the
// session tickets.
func (h *hsState) complete13() bool {
	r := h.res
	k := h.k13
	if err := k.application(h.msgs); err != nil {
		r.stopped = err.Error()
		return false
	}
	cr := r.hello.Random
	h.v.keys.Add("CLIENT_TRAFFIC_SECRET_0", cr, k.cAP)
	h.v.keys.Add("SERVER_TRAFFIC_SECRET_0", cr, k.sAP)
	seal, err := keysched.NewTLS13Sealer(uint16(r.suite), k.cHS)
	if err != nil {
		r.stopped = err.Error()
		return false
	}
	out := wire.AppendRecords(nil, wire.ContentChangeCipherSpec, wire.VersionTLS12, []byte{1})
	if r.certReq {
		// No client certificate: an empty Certificate (RFC 8446 §4.4.2).
		empty := wire.HandshakeMessage(&wire.Certificate{TLS13: true, RequestContext: h.certReqCtx, Entries: []wire.CertificateEntry{}})
		h.msgs = append(h.msgs, empty...)
		rec, err := seal.Seal(uint8(wire.ContentHandshake), empty)
		if err != nil {
			r.stopped = err.Error()
			return false
		}
		out = append(out, rec...)
	}
	fin := &wire.Finished{VerifyData: k.finished(k.cHS, h.msgs)}
	finRaw := wire.HandshakeMessage(fin)
	rec, err := seal.Seal(uint8(wire.ContentHandshake), finRaw)
	if err != nil {
		r.stopped = err.Error()
		return false
	}
	if err := h.v.send(append(out, rec...)); err != nil {
		r.netErr = err
		return false
	}
	h.msgs = append(h.msgs, finRaw...)
	r.done = true
	if !h.after.tickets && h.after.http == nil {
		return false
	}
	o, err := keysched.NewTLS13Opener(uint16(r.suite), k.sAP)
	if err != nil {
		r.stopped = err.Error()
		return false
	}
	h.v.setOpener(o, false)
	if h.after.http != nil {
		app, err := keysched.NewTLS13Sealer(uint16(r.suite), k.cAP)
		if err != nil {
			r.stopped = err.Error()
			return false
		}
		r.http = h.httpExchange(app)
		if rec, err := app.Seal(uint8(wire.ContentAlert), []byte{1, 0}); err == nil {
			h.v.send(rec)
		}
		return false
	}
	h.v.c.SetReadDeadline(time.Now().Add(min(h.timeout, 2*time.Second)))
	for {
		it, err := h.v.next(&h.q)
		if err != nil {
			if len(r.tickets13) == 0 {
				h.ended(err)
			}
			return false
		}
		if it.kind == itemAlert {
			r.alert = &it.alert
			return false
		}
		if it.kind != itemHandshake || it.msg.Type != wire.TypeNewSessionTicket {
			continue
		}
		m, err := wire.ParseMessage(it.msg.Type, it.msg.Body, wire.Context{Version: wire.VersionTLS13})
		if err != nil {
			r.notTLS = err.Error()
			return false
		}
		nst := m.(*wire.NewSessionTicket)
		t := &ticket13{suite: r.suite, ticket: append([]byte(nil), nst.Ticket...), psk: k.resumptionPSK(h.msgs, nst.Nonce),
			ageAdd: nst.AgeAdd, lifetime: nst.Lifetime, received: time.Now()}
		if n, ok := nst.Extensions.Find(wire.ExtEarlyData).Parsed.(uint32); ok {
			t.maxEarly = n
		}
		r.tickets13 = append(r.tickets13, t)
		if len(h.q.items) == 0 {
			return false // the tickets that came together are all read
		}
	}
}

// complete12 finishes a TLS 1.0–1.2 handshake after ServerHelloDone: the
// key exchange, ChangeCipherSpec and Finished, then the server's
// NewSessionTicket, ChangeCipherSpec and Finished.
func (h *hsState) complete12() bool {
	r := h.res
	info, _ := r.suite.Info()
	cr, sr := []byte(r.hello.Random), []byte(r.sh.Random)
	ver := uint16(r.version)
	var preMaster, cke []byte
	switch {
	case info.Kx == wire.KxECDHE && r.ske != nil && r.ske.KeyExchange == "ecdhe":
		if curveOf(r.ske.Group) == nil && r.ske.Group != wire.GroupX448 {
			r.stopped = fmt.Sprintf("tlskit cannot complete an ECDHE exchange on %v", r.ske.Group)
			return false
		}
		ks, err := newKeyShare(r.ske.Group)
		if err != nil {
			r.stopped = err.Error()
			return false
		}
		if preMaster, err = ks.shared(r.ske.PublicKey); err != nil {
			r.stopped = err.Error()
			return false
		}
		cke = append([]byte{byte(len(ks.public))}, ks.public...)
	case info.Kx == wire.KxDHE && r.ske != nil && r.ske.KeyExchange == "dhe":
		pub, pm, err := dheClient(r.ske.P, r.ske.G, r.ske.Ys)
		if err != nil {
			r.stopped = err.Error()
			return false
		}
		preMaster, cke = pm, append([]byte{byte(len(pub) >> 8), byte(len(pub))}, pub...)
	case info.Kx == wire.KxRSA && len(r.certs) > 0:
		c, err := x509.ParseCertificate(r.certs[0])
		var pub *rsa.PublicKey
		ok := false
		if err == nil {
			pub, ok = c.PublicKey.(*rsa.PublicKey)
		}
		if !ok {
			r.stopped = "the server's certificate has no RSA key for the RSA key exchange"
			return false
		}
		preMaster = make([]byte, 48)
		rand.Read(preMaster)
		preMaster[0], preMaster[1] = byte(r.hello.Version>>8), byte(r.hello.Version)
		enc, err := rsa.EncryptPKCS1v15(rand.Reader, pub, preMaster)
		if err != nil {
			r.stopped = err.Error()
			return false
		}
		cke = append([]byte{byte(len(enc) >> 8), byte(len(enc))}, enc...)
		if r.version == wire.VersionSSL30 {
			cke = enc // SSL 3.0 sends the encrypted secret without a length (RFC 6101 §5.6.7.1)
		}
	default:
		r.stopped = fmt.Sprintf("tlskit does not complete %s handshakes (%v key exchange)", r.version, info.Kx)
		return false
	}
	if _, ok := keysched.LookupSuite(uint16(r.suite)); !ok {
		r.stopped = fmt.Sprintf("tlskit cannot protect records with %v", r.suite)
		return false
	}
	var out []byte
	if r.certReq {
		empty := wire.HandshakeMessage(&wire.Certificate{Entries: []wire.CertificateEntry{}})
		h.msgs = append(h.msgs, empty...)
		out = wire.AppendRecords(out, wire.ContentHandshake, r.version, empty)
	}
	ckeRaw := wire.HandshakeMessage(&wire.ClientKeyExchange{Raw: cke})
	h.msgs = append(h.msgs, ckeRaw...)
	out = wire.AppendRecords(out, wire.ContentHandshake, r.version, ckeRaw)
	var ms []byte
	var err error
	ems := r.sh.Extensions.Has(wire.ExtExtendedMasterSecret)
	if ems {
		var sh []byte
		if sh, err = keysched.HandshakeHash(ver, uint16(r.suite), h.msgs); err == nil {
			ms, err = keysched.ExtendedMasterSecret(ver, uint16(r.suite), preMaster, sh)
		}
	} else {
		ms, err = keysched.MasterSecret(ver, uint16(r.suite), preMaster, cr, sr)
	}
	if err != nil {
		r.stopped = err.Error()
		return false
	}
	h.v.keys.Add("CLIENT_RANDOM", cr, ms)
	etm := r.sh.Extensions.Has(wire.ExtEncryptThenMAC)
	cs, _, err := keysched.NewTLS12Sealers(uint16(r.suite), ver, ms, cr, sr, etm)
	if err != nil {
		r.stopped = err.Error()
		return false
	}
	_, so, err := keysched.NewTLS12Openers(uint16(r.suite), ver, ms, cr, sr, etm)
	if err != nil {
		r.stopped = err.Error()
		return false
	}
	vd, err := finished12(ver, uint16(r.suite), ms, true, h.msgs)
	if err != nil {
		r.stopped = err.Error()
		return false
	}
	finRaw := wire.HandshakeMessage(&wire.Finished{VerifyData: vd})
	h.msgs = append(h.msgs, finRaw...)
	rec, err := cs.Seal(uint8(wire.ContentHandshake), finRaw)
	if err != nil {
		r.stopped = err.Error()
		return false
	}
	out = wire.AppendRecords(out, wire.ContentChangeCipherSpec, r.version, []byte{1})
	out = append(out, rec...)
	if err := h.v.send(out); err != nil {
		r.netErr = err
		return false
	}
	r.session = &session12{version: r.version, suite: r.suite, sessionID: append([]byte(nil), r.sh.SessionID...), master: ms}
	// The server's answer: [NewSessionTicket], ChangeCipherSpec, Finished.
	for {
		it, err := h.v.next(&h.q)
		if err != nil {
			h.ended(err)
			return false
		}
		switch it.kind {
		case itemCCS:
			h.v.setOpener(so, true)
			continue
		case itemAlert:
			r.alert = &it.alert
			return false
		case itemHandshake:
			if it.msg.Type == wire.TypeFinished {
				want, _ := finished12(ver, uint16(r.suite), ms, false, h.msgs)
				h.msgs = append(h.msgs, it.msg.Raw...)
				if !bytes.Equal(want, it.msg.Body) {
					r.stopped = "the server's Finished does not verify"
					return false
				}
				r.done = true
				return h.after12(cs, vd, it.msg.Body)
			}
			if !h.message(it) {
				return false
			}
		case itemNotTLS:
			r.notTLS = it.note
			return false
		}
	}
}

// finished12 is the verify data of the client's or the server's Finished
// in SSL 3.0 to TLS 1.2, over the handshake messages before it.
func finished12(version, suite uint16, ms []byte, client bool, msgs []byte) ([]byte, error) {
	if version == uint16(wire.VersionSSL30) {
		return keysched.SSL3Finished(ms, client, msgs), nil
	}
	hash, err := keysched.HandshakeHash(version, suite, msgs)
	if err != nil {
		return nil, err
	}
	label := "server finished"
	if client {
		label = "client finished"
	}
	return keysched.VerifyData(version, suite, ms, label, hash)
}

// after12 does what the probe asks of a completed TLS 1.2 session.
func (h *hsState) after12(seal *keysched.Sealer, clientVD, serverVD []byte) bool {
	r := h.res
	switch {
	case h.after.heartbleed:
		r.heartbleed = h.heartbleed(seal)
		return false
	case h.after.renegotiate:
		r.reneg = h.renegotiate(seal, clientVD)
	case h.after.http != nil:
		r.http = h.httpExchange(seal)
	}
	// A clean close_notify: OpenSSL drops a session from its cache when
	// the connection ends without one, and the session id is then never
	// resumable.
	if rec, err := seal.Seal(uint8(wire.ContentAlert), []byte{1, 0}); err == nil {
		h.v.send(rec)
	}
	return false
}

// heartbleed sends a heartbeat_request whose payload_length claims more
// than the payload it carries (CVE-2014-0160), then a valid one. A server
// that answers the first has read past our bytes: vulnerable. A correct
// server discards it silently (RFC 6520 §4) and answers only the second.
// What a vulnerable server leaks is never kept: only its length.
func (h *hsState) heartbleed(seal *keysched.Sealer) string {
	const payload, claimed = 16, 64
	bad := make([]byte, 3+payload+16)
	bad[0], bad[1], bad[2] = 1, 0, claimed
	good := make([]byte, 3+payload+16)
	good[0], good[1], good[2] = 1, 0, payload
	rand.Read(good[3 : 3+payload])
	var out []byte
	for _, m := range [][]byte{bad, good} {
		rec, err := seal.Seal(uint8(wire.ContentHeartbeat), m)
		if err != nil {
			return "not tested: " + err.Error()
		}
		out = append(out, rec...)
	}
	if err := h.v.send(out); err != nil {
		return "not tested: " + err.Error()
	}
	h.v.c.SetReadDeadline(time.Now().Add(min(h.timeout, 2*time.Second)))
	for {
		it, err := h.v.next(&h.q)
		if err != nil {
			return "no answer: the server answered neither heartbeat (not vulnerable)"
		}
		switch it.kind {
		case itemAlert:
			return "not vulnerable: the server answered with alert " + it.alert.String()
		case itemHeartbeat:
			n := 0
			if len(it.data) >= 3 {
				n = int(it.data[1])<<8 | int(it.data[2])
			}
			clear(it.data) // never keep what a vulnerable server leaked
			if it.data != nil && n == claimed {
				return fmt.Sprintf("vulnerable: the server answered a heartbeat claiming %d bytes with %d of its memory", claimed, claimed-payload)
			}
			return "not vulnerable: the server ignored the over-long heartbeat and answered the valid one"
		}
	}
}

// renegotiate sends a client-initiated renegotiation (a new ClientHello in
// the session, with renegotiation_info carrying our Finished, RFC 5746
// §3.5) and reports the server's answer.
func (h *hsState) renegotiate(seal *keysched.Sealer, clientVD []byte) string {
	spec := h.spec
	spec.renegExt, spec.renegInfo = true, clientVD
	m, _, err := spec.build()
	if err != nil {
		return "not tested: " + err.Error()
	}
	rec, err := seal.Seal(uint8(wire.ContentHandshake), wire.HandshakeMessage(m))
	if err != nil {
		return "not tested: " + err.Error()
	}
	if err := h.v.send(rec); err != nil {
		return "not tested: " + err.Error()
	}
	h.v.c.SetReadDeadline(time.Now().Add(min(h.timeout, 2*time.Second)))
	for {
		it, err := h.v.next(&h.q)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				return "refused: the server closed the connection"
			}
			return "refused: no answer"
		}
		switch it.kind {
		case itemAlert:
			return "refused: alert " + it.alert.String()
		case itemHandshake:
			if it.msg.Type == wire.TypeServerHello {
				return "accepted"
			}
		}
	}
}
