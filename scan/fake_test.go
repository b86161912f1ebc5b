package scan

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/keysched"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/wire"
)

// An in-process server for the failure modes no real server on this
// machine can show: a Heartbleed-vulnerable heartbeat, TLS compression,
// no RFC 5746, SSL 2.0, an early ChangeCipherSpec taken (CCS injection),
// a session id padded with memory on a ticket resumption (Ticketbleed).
// Every real library here (OpenSSL 3.0, GnuTLS 3.7, nginx on OpenSSL) has
// fixed or removed them (Ticketbleed was F5's alone), so only a fake can
// make the findings fire; their not-vulnerable side is tested against the
// real servers (peers_test.go, vulns_test.go).
// It speaks TLS 1.2 with TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 on X25519
// (its ServerKeyExchange signature is not checked by a scanner, which only
// learns the server's choices) and finishes the handshake.
type fakeServer struct {
	heartbleed  bool   // answer over-long heartbeats with what follows the payload
	memory      []byte // what a vulnerable heartbeat leaks
	compression bool   // choose DEFLATE when offered
	noReneg     bool   // no renegotiation_info (no RFC 5746)
	sslv2       bool   // answer an SSL 2.0 CLIENT-HELLO
	// earlyCCS takes a ChangeCipherSpec before the key exchange, as
	// OpenSSL before 1.0.1h did: it switches to keys from an all-zero
	// master secret, so the next record fails to decrypt (bad_record_mac).
	// Without it, an early ChangeCipherSpec gets unexpected_message.
	earlyCCS bool
	// tickets issues session tickets and resumes from them; ticketbleed
	// answers a resumption offered with a short session id with 32 bytes,
	// the rest taken from memory (F5's CVE-2016-9244).
	tickets     bool
	ticketbleed bool
	mu          sync.Mutex
	issued      map[string][]byte // ticket → master secret
	cert        []byte
}

func startFake(t *testing.T, f *fakeServer) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	f.cert, _ = x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	return peertest.Serve(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		f.serve(c)
	})
}

// fakeConn reads records and handshake messages.
type fakeConn struct {
	c      net.Conn
	buf    []byte
	asm    wire.Assembler
	opener *keysched.Opener
	msgs   []byte
}

func (fc *fakeConn) record() (wire.ContentType, []byte, error) {
	for {
		if len(fc.buf) >= 5 {
			h, err := wire.ParseRecordHeader(fc.buf)
			if err != nil {
				return 0, nil, err
			}
			if len(fc.buf) >= 5+h.Length {
				hdr, payload := fc.buf[:5], fc.buf[5:5+h.Length]
				fc.buf = fc.buf[5+h.Length:]
				if fc.opener != nil && h.Type != wire.ContentChangeCipherSpec {
					pt, _, err := fc.opener.Open(hdr, payload)
					if err != nil {
						return 0, nil, err
					}
					return h.Type, append([]byte(nil), pt...), nil
				}
				return h.Type, append([]byte(nil), payload...), nil
			}
		}
		p := make([]byte, 8192)
		n, err := fc.c.Read(p)
		if n == 0 && err != nil {
			return 0, nil, err
		}
		fc.buf = append(fc.buf, p[:n]...)
	}
}

func (fc *fakeConn) message() (wire.RawMessage, error) {
	for {
		ct, data, err := fc.record()
		if err != nil {
			return wire.RawMessage{}, err
		}
		if ct != wire.ContentHandshake {
			continue
		}
		msgs, err := fc.asm.Write(data)
		if err != nil {
			return wire.RawMessage{}, err
		}
		if len(msgs) > 0 {
			return msgs[0], nil
		}
	}
}

func alert(desc byte) []byte {
	return wire.AppendRecords(nil, wire.ContentAlert, wire.VersionTLS12, []byte{2, desc})
}

func (f *fakeServer) serve(c net.Conn) {
	fc := &fakeConn{c: c}
	first := make([]byte, 2)
	if _, err := c.Read(first); err != nil {
		return
	}
	if first[0]&0x80 != 0 {
		if f.sslv2 {
			sh := &wire.SSLv2ServerHello{CertificateType: 1, Version: 0x0002, Certificate: f.cert,
				CipherSpecs: []wire.SSLv2CipherSpec{0x010080, 0x0700c0}, ConnectionID: bytes.Repeat([]byte{7}, 16)}
			c.Write(sh.Marshal())
		}
		return
	}
	fc.buf = first
	raw, err := fc.message()
	if err != nil || raw.Type != wire.TypeClientHello {
		return
	}
	m, err := wire.ParseMessage(raw.Type, raw.Body, wire.Context{})
	if err != nil {
		return
	}
	ch := m.(*wire.ClientHello)
	groups, _ := ch.Extensions.Find(wire.ExtSupportedGroups).Parsed.([]wire.NamedGroup)
	switch {
	case ch.Version < wire.VersionTLS12 || ch.Extensions.Has(wire.ExtSupportedVersions) && !ch.OffersCipherSuite(0xc02b):
		c.Write(alert(70)) // protocol_version
		return
	case !ch.OffersCipherSuite(0xc02b) || !bytesHasGroup(groups, wire.GroupX25519):
		c.Write(alert(40))
		return
	}
	fc.msgs = append(fc.msgs, raw.Raw...)
	sr := make([]byte, 32)
	rand.Read(sr)
	ticket, _ := ch.Extensions.Find(wire.ExtSessionTicket).Parsed.(wire.HexBytes)
	if f.tickets && len(ticket) > 0 && len(ch.SessionID) > 0 {
		f.mu.Lock()
		ms := f.issued[string(ticket)]
		f.mu.Unlock()
		if ms != nil {
			f.resume(fc, ch, sr, ms)
			return
		}
	}
	sid := make([]byte, 32)
	rand.Read(sid)
	sh := &wire.ServerHello{Version: wire.VersionTLS12, Random: sr, SessionID: sid, CipherSuite: 0xc02b, Extensions: wire.Extensions{}}
	if f.tickets && ch.Extensions.Has(wire.ExtSessionTicket) {
		sh.Extensions = append(sh.Extensions, wire.Extension{Type: wire.ExtSessionTicket, Data: []byte{}})
	}
	if f.compression && slices0(ch.CompressionMethods, 1) {
		sh.CompressionMethod = 1
	}
	if !f.noReneg {
		sh.Extensions = append(sh.Extensions, wire.RenegotiationInfoExtension(nil))
	}
	if ch.Extensions.Has(wire.ExtHeartbeat) {
		sh.Extensions = append(sh.Extensions, wire.HeartbeatExtension(1))
	}
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	ske := &wire.ServerKeyExchange{KeyExchange: "unknown",
		Raw: append(append([]byte{3, 0, 29, 32}, priv.PublicKey().Bytes()...), 0x04, 0x03, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8)}
	var flight []byte
	for _, msg := range []wire.Message{sh, &wire.Certificate{Entries: []wire.CertificateEntry{{Data: f.cert}}}, ske, &wire.ServerHelloDone{}} {
		b := wire.HandshakeMessage(msg)
		fc.msgs = append(fc.msgs, b...)
		flight = append(flight, b...)
	}
	c.Write(wire.AppendRecords(nil, wire.ContentHandshake, wire.VersionTLS12, flight))
	// ClientKeyExchange, ChangeCipherSpec, Finished; or an early
	// ChangeCipherSpec.
	ct, data, err := fc.record()
	if err != nil {
		return
	}
	if ct == wire.ContentChangeCipherSpec {
		if !f.earlyCCS {
			c.Write(alert(10)) // unexpected_message
			return
		}
		// Every record from here on is decrypted, the next
		// ChangeCipherSpec too.
		zero := make([]byte, 48)
		co, _, _ := keysched.NewTLS12Openers(0xc02b, 0x0303, zero, ch.Random, sr, false)
		ct, data, err := fc.record()
		if err != nil {
			return
		}
		hdr := []byte{byte(ct), 3, 3, byte(len(data) >> 8), byte(len(data))}
		if _, _, err := co.Open(hdr, data); err != nil {
			c.Write(alert(20)) // bad_record_mac
		}
		return
	}
	if ct != wire.ContentHandshake {
		return
	}
	msgs, err := fc.asm.Write(data)
	if err != nil {
		return
	}
	if len(msgs) > 0 {
		raw = msgs[0]
	} else if raw, err = fc.message(); err != nil {
		return
	}
	if raw.Type != wire.TypeClientKeyExchange || len(raw.Body) < 1 {
		return
	}
	fc.msgs = append(fc.msgs, raw.Raw...)
	pub, err := ecdh.X25519().NewPublicKey(raw.Body[1:])
	if err != nil {
		return
	}
	pm, _ := priv.ECDH(pub)
	ms, _ := keysched.MasterSecret(0x0303, 0xc02b, pm, ch.Random, sr)
	_, so, _ := keysched.NewTLS12Sealers(0xc02b, 0x0303, ms, ch.Random, sr, false)
	co, _, _ := keysched.NewTLS12Openers(0xc02b, 0x0303, ms, ch.Random, sr, false)
	if ct, _, err := fc.record(); err != nil || ct != wire.ContentChangeCipherSpec {
		return
	}
	fc.opener = co
	raw, err = fc.message()
	if err != nil || raw.Type != wire.TypeFinished {
		return
	}
	h, _ := keysched.HandshakeHash(0x0303, 0xc02b, fc.msgs)
	if want, _ := keysched.VerifyData(0x0303, 0xc02b, ms, "client finished", h); !bytes.Equal(want, raw.Body) {
		c.Write(alert(51)) // decrypt_error
		return
	}
	fc.msgs = append(fc.msgs, raw.Raw...)
	var nst []byte
	if f.tickets && ch.Extensions.Has(wire.ExtSessionTicket) {
		t := make([]byte, 16)
		rand.Read(t)
		f.mu.Lock()
		if f.issued == nil {
			f.issued = map[string][]byte{}
		}
		f.issued[string(t)] = ms
		f.mu.Unlock()
		nst = wire.HandshakeMessage(&wire.NewSessionTicket{Lifetime: 300, Ticket: t})
		fc.msgs = append(fc.msgs, nst...)
	}
	h, _ = keysched.HandshakeHash(0x0303, 0xc02b, fc.msgs)
	vd, _ := keysched.VerifyData(0x0303, 0xc02b, ms, "server finished", h)
	fin, _ := so.Seal(uint8(wire.ContentHandshake), wire.HandshakeMessage(&wire.Finished{VerifyData: vd}))
	out := wire.AppendRecords(nil, wire.ContentHandshake, wire.VersionTLS12, nst)
	if nst == nil {
		out = nil
	}
	c.Write(append(append(out, wire.AppendRecords(nil, wire.ContentChangeCipherSpec, wire.VersionTLS12, []byte{1})...), fin...))
	for {
		ct, data, err := fc.record()
		if err != nil {
			return
		}
		switch ct {
		case wire.ContentHeartbeat:
			if len(data) < 3 || data[0] != 1 {
				continue
			}
			n := int(data[1])<<8 | int(data[2])
			if n+16 > len(data)-3 && !f.heartbleed {
				continue // RFC 6520 §4: discard silently
			}
			// A vulnerable server copies n bytes from the payload on,
			// past its end into its memory.
			src := append(append([]byte(nil), data[3:]...), f.memory...)
			resp := append([]byte{2, byte(n >> 8), byte(n)}, src[:min(n, len(src))]...)
			resp = append(resp, make([]byte, 16)...)
			rec, _ := so.Seal(uint8(wire.ContentHeartbeat), resp)
			c.Write(rec)
		case wire.ContentHandshake:
			rec, _ := so.Seal(uint8(wire.ContentAlert), []byte{1, 100}) // warning no_renegotiation
			c.Write(rec)
		case wire.ContentAlert:
			return
		}
	}
}

// resume answers a hello with a ticket it issued by an abbreviated
// handshake: ServerHello with the client's session id (RFC 5077 §3.4),
// or, vulnerable to Ticketbleed, with 32 bytes of which the rest is
// memory; then ChangeCipherSpec and Finished.
func (f *fakeServer) resume(fc *fakeConn, ch *wire.ClientHello, sr, ms []byte) {
	sid := append([]byte(nil), ch.SessionID...)
	if f.ticketbleed && len(sid) < 32 {
		sid = append(sid, f.memory...)[:32]
	}
	sh := &wire.ServerHello{Version: wire.VersionTLS12, Random: sr, SessionID: sid, CipherSuite: 0xc02b,
		Extensions: wire.Extensions{wire.RenegotiationInfoExtension(nil)}}
	b := wire.HandshakeMessage(sh)
	fc.msgs = append(fc.msgs, b...)
	_, so, _ := keysched.NewTLS12Sealers(0xc02b, 0x0303, ms, ch.Random, sr, false)
	h, _ := keysched.HandshakeHash(0x0303, 0xc02b, fc.msgs)
	vd, _ := keysched.VerifyData(0x0303, 0xc02b, ms, "server finished", h)
	fin, _ := so.Seal(uint8(wire.ContentHandshake), wire.HandshakeMessage(&wire.Finished{VerifyData: vd}))
	out := wire.AppendRecords(nil, wire.ContentHandshake, wire.VersionTLS12, b)
	out = wire.AppendRecords(out, wire.ContentChangeCipherSpec, wire.VersionTLS12, []byte{1})
	fc.c.Write(append(out, fin...))
	fc.record() // the client's answer, or its close
}

func bytesHasGroup(gs []wire.NamedGroup, g wire.NamedGroup) bool {
	for _, x := range gs {
		if x == g {
			return true
		}
	}
	return false
}

func slices0(ms []wire.CompressionMethod, m wire.CompressionMethod) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

// TestFakeHeartbleed: a server that answers an over-long heartbeat is
// reported vulnerable, and nothing it leaked appears in the report.
func TestFakeHeartbleed(t *testing.T) {
	secret := []byte("PRIVATE-KEY-MATERIAL-THAT-MUST-NOT-LEAK-INTO-THE-REPORT-0123456789")
	addr := startFake(t, &fakeServer{heartbleed: true, memory: secret})
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, "heartbeat", rep.Session.Heartbeat, Supported)
	wantState(t, "heartbleed", rep.Session.Heartbleed, Supported)
	if !strings.Contains(rep.Session.Heartbleed.Detail, "claiming 64 bytes with 48 of its memory") {
		t.Errorf("heartbleed detail: %s", rep.Session.Heartbleed.Detail)
	}
	wantFindings(t, rep, []string{finding.ScanHeartbleed}, nil)
	b, _ := json.Marshal(rep)
	if bytes.Contains(b, secret[:16]) {
		t.Error("the JSON report holds bytes the server leaked")
	}
	for _, p := range rep.Probes {
		for _, e := range p.Transcript {
			if len(e.Data) > 0 {
				t.Errorf("probe %d keeps data: %q", p.ID, e.Data)
			}
		}
	}
}

// TestFakeNotVulnerable: the same server, fixed, discards the over-long
// heartbeat and answers the valid one.
func TestFakeNotVulnerable(t *testing.T) {
	addr := startFake(t, &fakeServer{})
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, "heartbleed", rep.Session.Heartbleed, NotSupported)
	if !strings.Contains(rep.Session.Heartbleed.Detail, "answered the valid one") {
		t.Errorf("heartbleed detail: %s", rep.Session.Heartbleed.Detail)
	}
	wantFindings(t, rep, nil, []string{finding.ScanHeartbleed, finding.ScanCompression, finding.ScanInsecureRenegotiation, finding.ScanSSL2})
}

// TestFakeLegacy: SSL 2.0, compression and no RFC 5746 are reported.
func TestFakeLegacy(t *testing.T) {
	addr := startFake(t, &fakeServer{sslv2: true, compression: true, noReneg: true})
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	wantFindings(t, rep, []string{finding.ScanSSL2, finding.ScanCompression, finding.ScanInsecureRenegotiation, finding.ScanNoTLS13}, nil)
	var v2 *VersionSupport
	for i := range rep.Versions {
		if rep.Versions[i].Version == "SSL 2.0" {
			v2 = &rep.Versions[i]
		}
	}
	if v2 == nil || len(v2.Suites) != 2 || v2.Suites[0] != "SSL2_RC4_128_WITH_MD5" {
		t.Errorf("SSL 2.0: %+v", v2)
	}
	wantState(t, "session id resumption", rep.Session.ResumptionID, NotSupported)
}
