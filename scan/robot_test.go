package scan

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
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

// robotFake is an in-process TLS 1.2 server with an RSA key exchange
// (TLS_RSA_WITH_AES_128_GCM_SHA256 only), for the Bleichenbacher oracles
// no real server on this machine has: OpenSSL 3.0, GnuTLS 3.7 and nginx
// all answer the five ROBOT variants alike (their side is tested against
// the real servers in vulns_test.go). Its modes:
//
//   - "": a correct server (RFC 5246 §7.4.7.1): a block that is not a
//     well-formed 48-byte premaster secret of the offered version is
//     replaced by a random one, and the handshake fails at the Finished.
//   - "strong": a block that is not PKCS#1 v1.5 conformant (wrong first
//     bytes, no 00 separator) is refused at once with handshake_failure:
//     a strong oracle.
//   - "alone": the same refusal, but only when no ChangeCipherSpec follows
//     the ClientKeyExchange in the same flight: an oracle that shows only
//     when the key exchange is sent alone.
//   - "flaky": refuses the first two non-conformant blocks it sees, then
//     instead the conformant ones whose secret is not 48 bytes long:
//     differences that do not repeat the same way.
type robotFake struct {
	mode     string
	ssl3     bool // speak SSL 3.0 (see version)
	key      *rsa.PrivateKey
	cert     []byte
	mu       sync.Mutex
	flaky    int
	sessions map[string][]byte // session id → master secret
}

func startRobotFake(t *testing.T, mode string, ssl3 bool) (string, *robotFake) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	f := &robotFake{mode: mode, ssl3: ssl3, key: key}
	f.cert, _ = x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	addr := peertest.Serve(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		f.serve(c)
	})
	return addr, f
}

const robotFakeSuite = 0x009c // TLS_RSA_WITH_AES_128_GCM_SHA256

// version and suite are what the fake speaks: TLS 1.2 with
// TLS_RSA_WITH_AES_128_GCM_SHA256, or with ssl3 SSL 3.0 with
// TLS_RSA_WITH_AES_128_CBC_SHA.
func (f *robotFake) version() (wire.Version, uint16) {
	if f.ssl3 {
		return wire.VersionSSL30, 0x002f
	}
	return wire.VersionTLS12, robotFakeSuite
}

// finished is the verify data of a Finished.
func (f *robotFake) finished(ms []byte, client bool, msgs []byte) []byte {
	v, suite := f.version()
	if f.ssl3 {
		return keysched.SSL3Finished(ms, client, msgs)
	}
	h, _ := keysched.HandshakeHash(uint16(v), suite, msgs)
	label := "server finished"
	if client {
		label = "client finished"
	}
	vd, _ := keysched.VerifyData(uint16(v), suite, ms, label, h)
	return vd
}

func (f *robotFake) serve(c net.Conn) {
	fc := &fakeConn{c: c}
	raw, err := fc.message()
	if err != nil || raw.Type != wire.TypeClientHello {
		return
	}
	m, err := wire.ParseMessage(raw.Type, raw.Body, wire.Context{})
	if err != nil {
		return
	}
	ch := m.(*wire.ClientHello)
	version, suite := f.version()
	if ch.Version < version || !ch.OffersCipherSuite(wire.CipherSuite(suite)) {
		c.Write(wire.AppendRecords(nil, wire.ContentAlert, version, []byte{2, 40}))
		return
	}
	fc.msgs = append(fc.msgs, raw.Raw...)
	sr := make([]byte, 32)
	rand.Read(sr)
	f.mu.Lock()
	ms := f.sessions[string(ch.SessionID)]
	f.mu.Unlock()
	if len(ch.SessionID) > 0 && ms != nil {
		// Resume: ServerHello with the session id, ChangeCipherSpec, Finished.
		sh := &wire.ServerHello{Version: version, Random: sr, SessionID: ch.SessionID, CipherSuite: wire.CipherSuite(suite)}
		b := wire.HandshakeMessage(sh)
		fc.msgs = append(fc.msgs, b...)
		_, so, _ := keysched.NewTLS12Sealers(suite, uint16(version), ms, ch.Random, sr, false)
		fin, _ := so.Seal(uint8(wire.ContentHandshake), wire.HandshakeMessage(&wire.Finished{VerifyData: f.finished(ms, false, fc.msgs)}))
		out := wire.AppendRecords(nil, wire.ContentHandshake, version, b)
		out = wire.AppendRecords(out, wire.ContentChangeCipherSpec, version, []byte{1})
		c.Write(append(out, fin...))
		fc.record()
		return
	}
	sid := make([]byte, 32)
	rand.Read(sid)
	sh := &wire.ServerHello{Version: version, Random: sr, SessionID: sid, CipherSuite: wire.CipherSuite(suite)}
	if !f.ssl3 {
		sh.Extensions = wire.Extensions{wire.RenegotiationInfoExtension(nil)}
	}
	var flight []byte
	for _, msg := range []wire.Message{sh, &wire.Certificate{Entries: []wire.CertificateEntry{{Data: f.cert}}}, &wire.ServerHelloDone{}} {
		b := wire.HandshakeMessage(msg)
		fc.msgs = append(fc.msgs, b...)
		flight = append(flight, b...)
	}
	c.Write(wire.AppendRecords(nil, wire.ContentHandshake, version, flight))
	alert := func(d byte) { c.Write(wire.AppendRecords(nil, wire.ContentAlert, version, []byte{2, d})) }
	ct, data, err := fc.record()
	if err != nil || ct != wire.ContentHandshake {
		if err == nil {
			alert(10) // unexpected_message: an early ChangeCipherSpec
		}
		return
	}
	if msgs, err := fc.asm.Write(data); err != nil {
		return
	} else if len(msgs) > 0 {
		raw = msgs[0]
	} else if raw, err = fc.message(); err != nil {
		return
	}
	if raw.Type != wire.TypeClientKeyExchange || len(raw.Body) < 2 {
		alert(10)
		return
	}
	fc.msgs = append(fc.msgs, raw.Raw...)
	k := (f.key.N.BitLen() + 7) / 8
	enc := raw.Body[2:]
	if f.ssl3 {
		enc = raw.Body // no length in SSL 3.0 (RFC 6101 §5.6.7.1)
	}
	if len(enc) != k {
		alert(50)
		return
	}
	// Textbook RSA decryption, then the PKCS#1 v1.5 checks by hand.
	block := new(big.Int).Exp(new(big.Int).SetBytes(enc), f.key.D, f.key.N).FillBytes(make([]byte, k))
	conformant, pms := false, []byte(nil)
	if block[0] == 0 && block[1] == 2 {
		if i := bytes.IndexByte(block[2:], 0); i >= 8 {
			conformant, pms = true, block[2+i+1:]
		}
	}
	refuse := false
	switch f.mode {
	case "strong":
		refuse = !conformant
	case "alone":
		// Refuse only when nothing follows the ClientKeyExchange.
		if !conformant && len(fc.buf) == 0 {
			c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
			p := make([]byte, 1024)
			got, _ := c.Read(p)
			fc.buf = append(fc.buf, p[:got]...)
			c.SetDeadline(time.Now().Add(10 * time.Second))
			refuse = got == 0
		}
	case "flaky":
		f.mu.Lock()
		switch {
		case !conformant && f.flaky < 2:
			refuse = true
			f.flaky++
		case f.flaky >= 2:
			refuse = conformant && len(pms) != 48
		}
		f.mu.Unlock()
	}
	if refuse {
		alert(40) // handshake_failure
		return
	}
	if !conformant || len(pms) != 48 || pms[0] != byte(ch.Version>>8) || pms[1] != byte(ch.Version) {
		pms = make([]byte, 48)
		rand.Read(pms)
	}
	ms, _ = keysched.MasterSecret(uint16(version), suite, pms, ch.Random, sr)
	co, _, _ := keysched.NewTLS12Openers(suite, uint16(version), ms, ch.Random, sr, false)
	_, so, _ := keysched.NewTLS12Sealers(suite, uint16(version), ms, ch.Random, sr, false)
	if ct, _, err := fc.record(); err != nil || ct != wire.ContentChangeCipherSpec {
		return
	}
	fc.opener = co
	raw, err = fc.message()
	if err != nil {
		alert(20) // bad_record_mac: the Finished does not decrypt
		return
	}
	if raw.Type != wire.TypeFinished || !bytes.Equal(f.finished(ms, true, fc.msgs), raw.Body) {
		alert(51)
		return
	}
	fc.msgs = append(fc.msgs, raw.Raw...)
	fin, _ := so.Seal(uint8(wire.ContentHandshake), wire.HandshakeMessage(&wire.Finished{VerifyData: f.finished(ms, false, fc.msgs)}))
	// The session is cached before the Finished goes out: the client may
	// offer it on its next connection as soon as it has read it (under
	// load, before this goroutine ran again: TestFakeSSL3 failed 1 run in
	// 40 while the session was stored after the write).
	f.mu.Lock()
	if f.sessions == nil {
		f.sessions = map[string][]byte{}
	}
	f.sessions[string(sid)] = ms
	f.mu.Unlock()
	c.Write(append(wire.AppendRecords(nil, wire.ContentChangeCipherSpec, version, []byte{1}), fin...))
	fc.record()
}

func robotOf(t *testing.T, rep *Report) Vulnerability {
	t.Helper()
	for _, v := range rep.Vulnerabilities {
		if v.Name == "ROBOT" {
			return v
		}
	}
	t.Fatal("no ROBOT entry")
	return Vulnerability{}
}

// TestFakeROBOT: in-process servers with a Bleichenbacher oracle (no real
// server here has one) are reported vulnerable with the finding, a
// correct one not, and one whose differences do not repeat is unknown.
// The correct fake finishes handshakes with tlskit's own client, so its
// RSA key exchange is right.
func TestFakeROBOT(t *testing.T) {
	for _, c := range []struct {
		mode  string
		state string
		sev   finding.Severity
		conns int // the ROBOT probes
		flow  string
	}{
		{mode: "", state: NotVulnerable, conns: 10},
		{mode: "strong", state: Vulnerable, sev: finding.Error, conns: 10, flow: "with ChangeCipherSpec and Finished"},
		{mode: "alone", state: Vulnerable, sev: finding.Error, conns: 15, flow: "alone"},
		{mode: "flaky", state: Unknown, conns: 10},
	} {
		t.Run("mode="+c.mode, func(t *testing.T) {
			t.Parallel()
			addr, _ := startRobotFake(t, c.mode, false)
			// A timeout of 2 s: the longer wait of a repetition.
			rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", NoClients: true, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			v := robotOf(t, rep)
			if v.State != c.state {
				t.Fatalf("ROBOT %s (%s), want %s; evidence:\n%s", v.State, v.Detail, c.state, strings.Join(v.Evidence, "\n"))
			}
			if len(v.Probes) != c.conns {
				t.Errorf("ROBOT made %d connections, want %d", len(v.Probes), c.conns)
			}
			if c.state != Vulnerable {
				wantFindings(t, rep, nil, []string{finding.ScanROBOT})
				return
			}
			wantFindings(t, rep, []string{finding.ScanROBOT}, nil)
			for _, f := range rep.Findings {
				if f.ID == finding.ScanROBOT && f.Severity != c.sev {
					t.Errorf("severity %s, want %s", f.Severity, c.sev)
				}
			}
			refused := false
			for _, e := range v.Evidence {
				if strings.HasPrefix(e, "wrong first two bytes (41 17), "+c.flow) && strings.Contains(e, ": alert fatal handshake_failure") {
					refused = true
				}
			}
			if !refused {
				t.Errorf("the evidence does not show the refusal %s:\n%s", c.flow, strings.Join(v.Evidence, "\n"))
			}
		})
	}
	// The correct fake's handshakes complete: its RSA key exchange is the
	// one ROBOT's well-formed block follows.
	addr, _ := startRobotFake(t, "", false)
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, "session id resumption (a finished RSA handshake)", rep.Session.ResumptionID, Supported)
}

// TestFakeSSL3: an in-process SSL 3.0 server (no real server on this
// machine speaks SSL 3.0: OpenSSL 3.0 and GnuTLS 3.7 are built without
// it) with an RSA key exchange and a session cache. tlskit finishes SSL
// 3.0 handshakes (the encrypted secret without a length, the Finished of
// RFC 6101 §5.6.9, which keysched computes as the recorded SSL 3.0
// handshakes of Wireshark's rsasnakeoil2.pcap show: capture's
// TestSSL3Corpus), so its session features are known: resumption by
// session id; and SSL 3.0's weaknesses are reported by name: POODLE and
// BEAST for the CBC suite. ROBOT's blocks go without a length too.
func TestFakeSSL3(t *testing.T) {
	addr, _ := startRobotFake(t, "", true)
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Versions) != 1 || rep.Versions[0].Version != "SSL 3.0" {
		t.Fatalf("versions %+v", rep.Versions)
	}
	wantState(t, "session id resumption", rep.Session.ResumptionID, Supported)
	wantFindings(t, rep, []string{finding.ScanSSL3, finding.ScanBEAST}, nil)
	wantVuln(t, rep, "POODLE (SSL 3.0)", Vulnerable)
	wantVuln(t, rep, "ROBOT", NotVulnerable)
	wantVuln(t, rep, "CCS injection", NotVulnerable)
}

// TestRobotMessage: the five blocks have the modulus' length and the
// layouts of robot-detect (its payloads, which sslyze and testssl.sh use
// too), and only the first and the last are PKCS#1 v1.5 conformant with
// a 48-byte secret; only the first has the right version.
func TestRobotMessage(t *testing.T) {
	const k = 256
	for v := range robotVariants {
		m := robotMessage(v, k, wire.VersionTLS12)
		if len(m) != k {
			t.Fatalf("variant %d: %d bytes, want %d", v, len(m), k)
		}
		conformant, pms := false, []byte(nil)
		if m[0] == 0 && m[1] == 2 {
			if i := bytes.IndexByte(m[2:], 0); i >= 8 {
				conformant, pms = true, m[2+i+1:]
			}
		}
		ok48 := conformant && len(pms) == 48
		rightVersion := ok48 && pms[0] == 3 && pms[1] == 3
		want := map[int][3]bool{robotValid: {true, true, true}, robotWrongFirst: {false, false, false},
			robotWrong00: {true, false, false}, robotNo00: {false, false, false}, robotWrongVersion: {true, true, false}}[v]
		if got := [3]bool{conformant, ok48, rightVersion}; got != want {
			t.Errorf("variant %d (%s): conformant, 48 bytes, version = %v, want %v", v, robotVariantNames[v], got, want)
		}
	}
}

// TestDecideRobot: the verdict from two rounds' answers, by
// robot-detect's rules: the same groups twice is an oracle (weak when
// the three non-conformant blocks get one answer), a difference that
// vanishes with a longer wait is none, and one that changes is unknown.
func TestDecideRobot(t *testing.T) {
	mk := func(a ...string) *robotRound {
		rr := &robotRound{}
		copy(rr.answers[:], a)
		return rr
	}
	const x, y, z = "alert fatal bad_record_mac; the connection closed", "alert fatal handshake_failure; the connection was reset", "no answer before the deadline"
	for _, c := range []struct {
		name        string
		first, next *robotRound
		state       string
		strong      bool
	}{
		{"strong", mk(x, y, x, y, x), mk(x, y, x, y, x), Vulnerable, true},
		{"weak", mk(x, y, y, y, x), mk(x, y, y, y, x), Vulnerable, false},
		{"same groups, other words", mk(z, y, z, y, z), mk(x, y, x, y, x), Vulnerable, true},
		{"gone with a longer wait", mk(z, x, x, x, x), mk(x, x, x, x, x), NotVulnerable, false},
		{"other groups", mk(x, y, x, y, x), mk(x, x, y, y, x), Unknown, false},
	} {
		got := decideRobot(c.first, c.next)
		if got.state != c.state || got.state == Vulnerable && got.strong != c.strong {
			t.Errorf("%s: %s strong=%v (%s), want %s strong=%v", c.name, got.state, got.strong, got.detail, c.state, c.strong)
		}
	}
}
