package scan

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/wire"
)

// fuzzFlights are server answers to seed the fuzzers with: a TLS 1.2
// flight (ServerHello, Certificate, ServerKeyExchange, ServerHelloDone), a
// HelloRetryRequest, a TLS 1.3 ServerHello, an alert, an SSL 2.0
// SERVER-HELLO and an HTTP answer.
func fuzzFlights() [][]byte {
	rnd := bytes.Repeat([]byte{1}, 32)
	sh := &wire.ServerHello{Version: wire.VersionTLS12, Random: rnd, SessionID: bytes.Repeat([]byte{2}, 32), CipherSuite: 0xc02b,
		Extensions: wire.Extensions{wire.RenegotiationInfoExtension(nil), wire.EmptyExtension(wire.ExtExtendedMasterSecret)}}
	ske := &wire.ServerKeyExchange{KeyExchange: "unknown", Raw: append(append([]byte{3, 0, 29, 32}, bytes.Repeat([]byte{9}, 32)...), 4, 3, 0, 2, 1, 2)}
	var flight []byte
	for _, m := range []wire.Message{sh, &wire.Certificate{Entries: []wire.CertificateEntry{{Data: []byte{0x30, 0}}}}, ske, &wire.ServerHelloDone{}} {
		flight = append(flight, wire.HandshakeMessage(m)...)
	}
	hrrRandom := []byte("\xcf\x21\xad\x74\xe5\x9a\x61\x11\xbe\x1d\x8c\x02\x1e\x65\xb8\x91\xc2\xa2\x11\x16\x7a\xbb\x8c\x5e\x07\x9e\x09\xe2\xc8\xa8\x33\x9c")
	hrr := &wire.ServerHello{Version: wire.VersionTLS12, Random: hrrRandom, SessionID: []byte{}, CipherSuite: 0x1301,
		Extensions: wire.Extensions{{Type: wire.ExtSupportedVersions, Data: []byte{3, 4}}, {Type: wire.ExtKeyShare, Data: []byte{0, 23}}}}
	sh13 := &wire.ServerHello{Version: wire.VersionTLS12, Random: rnd, SessionID: []byte{}, CipherSuite: 0x1301,
		Extensions: wire.Extensions{{Type: wire.ExtSupportedVersions, Data: []byte{3, 4}}, {Type: wire.ExtKeyShare, Data: append([]byte{0, 29, 0, 32}, bytes.Repeat([]byte{9}, 32)...)}}}
	return [][]byte{
		wire.AppendRecords(nil, wire.ContentHandshake, wire.VersionTLS12, flight),
		wire.AppendRecords(nil, wire.ContentHandshake, wire.VersionTLS12, wire.HandshakeMessage(hrr)),
		append(wire.AppendRecords(nil, wire.ContentHandshake, wire.VersionTLS12, wire.HandshakeMessage(sh13)), 23, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20),
		{21, 3, 3, 0, 2, 2, 40},
		(&wire.SSLv2ServerHello{CertificateType: 1, Version: 2, Certificate: []byte{0x30, 0}, CipherSpecs: []wire.SSLv2CipherSpec{0x010080}, ConnectionID: bytes.Repeat([]byte{7}, 16)}).Marshal(),
		[]byte("HTTP/1.1 400 Bad Request\r\n\r\n"),
	}
}

// FuzzServerAnswer feeds arbitrary server bytes to the scanner's client at
// every stage a probe stops at: whatever a hostile server sends, the probe
// ends with a result, never a panic, and its transcript decodes.
func FuzzServerAnswer(f *testing.F) {
	for _, b := range fuzzFlights() {
		for st := byte(0); st < 4; st++ {
			f.Add(st, b)
		}
	}
	f.Fuzz(func(t *testing.T, which byte, answer []byte) {
		s := &scanner{sni: "example.com"}
		specs := []helloSpec{s.baseSpec(wire.VersionTLS12), s.spec13Keyed(), s.baseSpec(wire.VersionTLS13), {sslv2: true}}
		spec := specs[int(which)%len(specs)]
		stop := []stage{toServerHello, toFlight, toComplete}[int(which/4)%3]
		client, server := net.Pipe()
		go func() {
			buf := make([]byte, 64<<10)
			server.SetDeadline(time.Now().Add(time.Second))
			server.Read(buf) // the ClientHello
			server.Write(answer)
			server.Close()
		}()
		client.SetDeadline(time.Now().Add(2 * time.Second))
		v := newConv(client)
		r := runHandshake(v, spec, stop, afterHandshake{tickets: true}, nil, time.Second)
		v.close()
		v.transcript()
		r.answer()
	})
}

// FuzzReadClientHello reads arbitrary bytes as a local client's first
// flight: a ClientHello or a clear error.
func FuzzReadClientHello(f *testing.F) {
	s := &scanner{sni: "example.com"}
	sp := s.spec13Keyed()
	m, _, _ := sp.build()
	f.Add(wire.AppendRecords(nil, wire.ContentHandshake, wire.VersionTLS10, wire.HandshakeMessage(m)))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{22, 3, 1, 0, 4, 1, 0, 0, 99})
	f.Fuzz(func(t *testing.T, b []byte) {
		client, server := net.Pipe()
		go func() { client.Write(b); client.Close() }()
		server.SetDeadline(time.Now().Add(time.Second))
		readClientHello(server)
		server.Close()
	})
}
