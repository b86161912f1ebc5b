package wire

import (
	"crypto/tls"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
)

// TestClientHelloAccessorsOpenSSL has openssl s_client send its ClientHello,
// with a server name, ALPN protocols and a version range it was told, to a
// listener that only records it; the accessors must return what openssl was
// told to offer.
func TestClientHelloAccessorsOpenSSL(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		var buf []byte
		b := make([]byte, 4096)
		for {
			// Read until one whole handshake message is in: the hello.
			if recs, _, err := SplitRecords(buf); err == nil && len(recs) > 0 {
				var a Assembler
				for _, r := range recs {
					if msgs, _ := a.Write(r.Payload); len(msgs) > 0 {
						got <- msgs[0].Body
						return
					}
				}
			}
			n, err := c.Read(b)
			buf = append(buf, b[:n]...)
			if err != nil {
				got <- nil
				return
			}
		}
	}()
	cmd := exec.Command(openssl, "s_client", "-connect", ln.Addr().String(), "-servername", "hello.example",
		"-alpn", "h2,http/1.1", "-min_protocol", "TLSv1.2", "-max_protocol", "TLSv1.3")
	stdin, _ := cmd.StdinPipe() // kept open: s_client quits at EOF, maybe before its hello
	defer stdin.Close()
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var body []byte
	select {
	case body = <-got:
	case <-time.After(10 * time.Second):
	}
	if body == nil {
		ln.Close()
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no ClientHello from openssl s_client:\n%s", out)
	}
	m, err := ParseMessage(TypeClientHello, body, Context{})
	if err != nil {
		t.Fatal(err)
	}
	ch := m.(*ClientHello)
	if s := ch.ServerName(); s != "hello.example" {
		t.Errorf("ServerName() = %q, want hello.example", s)
	}
	if p := ch.ALPN(); !slices.Equal(p, []string{"h2", "http/1.1"}) {
		t.Errorf("ALPN() = %q, want [h2 http/1.1]", p)
	}
	if v := ch.OfferedVersions(); !slices.Equal(v, []Version{VersionTLS13, VersionTLS12}) {
		t.Errorf("OfferedVersions() = %v, want [TLS 1.3, TLS 1.2]", v)
	}
	if !ch.OffersCipherSuite(0x1301) || ch.OffersCipherSuite(0x0005) {
		t.Errorf("OffersCipherSuite: TLS_AES_128_GCM_SHA256 %v (want true), TLS_RSA_WITH_RC4_128_SHA %v (want false)",
			ch.OffersCipherSuite(0x1301), ch.OffersCipherSuite(0x0005))
	}
	if ch.OffersEarlyData() {
		t.Error("OffersEarlyData() = true for a first connection")
	}
}

// TestServerHelloSelectedALPNOpenSSL records the TLS 1.2 ServerHello of an
// openssl s_server told to speak only http/1.1: SelectedALPN must say so.
func TestServerHelloSelectedALPNOpenSSL(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	cert, key := peertest.SelfSigned(t, "/CN=localhost", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.Command(openssl, "s_server", "-accept", addr, "-cert", cert, "-key", key,
		"-alpn", "http/1.1", "-tls1_2", "-naccept", "1", "-quiet")
	stdin, _ := srv.StdinPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); srv.Process.Kill(); srv.Wait() })
	var raw net.Conn
	for range 50 {
		if raw, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("s_server did not start: %v", err)
	}
	rc := &recordingConn{Conn: raw}
	c := tls.Client(rc, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}})
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	c.Close()
	msgs := plainMessages(t, "server", rc.rx, false)
	m, err := ParseMessage(msgs[0].Type, msgs[0].Body, Context{})
	if err != nil {
		t.Fatal(err)
	}
	sh, ok := m.(*ServerHello)
	if !ok {
		t.Fatalf("first server message is %T", m)
	}
	if p := sh.SelectedALPN(); p != "http/1.1" {
		t.Errorf("SelectedALPN() = %q, want http/1.1", p)
	}
}

// TestHelloAccessorsEdgeCases covers what the peers above do not send:
// GREASE versions (RFC 8701), no supported_versions (legacy_version only),
// a session ticket, early_data (RFC 8448 §3's first ClientHello has none,
// §4's resumed one offers 0-RTT), and an EncryptedExtensions with ALPN.
func TestHelloAccessorsEdgeCases(t *testing.T) {
	grease := &ClientHello{Version: VersionTLS12, Extensions: Extensions{
		{Type: ExtSupportedVersions, Parsed: []Version{0x1a1a, VersionTLS13, VersionTLS12}},
	}}
	if v := grease.OfferedVersions(); !slices.Equal(v, []Version{VersionTLS13, VersionTLS12}) {
		t.Errorf("OfferedVersions() with GREASE = %v", v)
	}
	legacy := &ClientHello{Version: VersionTLS10}
	if v := legacy.OfferedVersions(); !slices.Equal(v, []Version{VersionTLS10}) {
		t.Errorf("OfferedVersions() without supported_versions = %v, want [TLS 1.0]", v)
	}
	if legacy.ServerName() != "" || legacy.ALPN() != nil || legacy.SessionTicket() != nil || legacy.OffersEarlyData() {
		t.Error("a ClientHello without extensions has a server name, ALPN, ticket or early data")
	}
	ticket := &ClientHello{Extensions: Extensions{{Type: ExtSessionTicket, Data: HexBytes{1, 2, 3}}}}
	if b := ticket.SessionTicket(); string(b) != "\x01\x02\x03" {
		t.Errorf("SessionTicket() = %x", b)
	}

	var hellos []*ClientHello
	for _, sec := range []string{"sec3-Simple_1RTT_Handshake", "sec4-Resumed_0RTT_Handshake"} {
		raws, _ := rfc8448Messages(t, "testdata/rfc8448/rfc8448-"+sec+".json")
		m, err := ParseMessage(raws[0].Type, raws[0].Body, Context{})
		if err != nil {
			t.Fatal(err)
		}
		hellos = append(hellos, m.(*ClientHello))
	}
	if hellos[0].OffersEarlyData() || !hellos[1].OffersEarlyData() {
		t.Errorf("OffersEarlyData(): first %v (want false), resumed %v (want true)", hellos[0].OffersEarlyData(), hellos[1].OffersEarlyData())
	}
	if s := hellos[1].ServerName(); s != "server" {
		t.Errorf("ServerName() = %q, want server (RFC 8448)", s)
	}

	ee := &EncryptedExtensions{Extensions: Extensions{{Type: ExtALPN, Parsed: []string{"h2"}}}}
	if p := ee.SelectedALPN(); p != "h2" {
		t.Errorf("EncryptedExtensions.SelectedALPN() = %q, want h2", p)
	}
	if p := (&EncryptedExtensions{}).SelectedALPN(); p != "" {
		t.Errorf("SelectedALPN() without ALPN = %q", p)
	}
}
