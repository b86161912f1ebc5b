package wire

import (
	"bufio"
	"crypto/tls"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
)

// recordingConn keeps what each side sent.
type recordingConn struct {
	net.Conn
	mu       sync.Mutex
	sent, rx []byte
}

func (c *recordingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.sent = append(c.sent, b...)
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *recordingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.rx = append(c.rx, b[:n]...)
	c.mu.Unlock()
	return n, err
}

// TestOpenSSLServer records a TLS 1.2 handshake with a real openssl
// s_server that requests a client certificate from a named CA, and checks
// the decoded flight, including the CA name rendered as RFC 4514.
func TestOpenSSLServer(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	cert, key := peertest.SelfSigned(t, "/O=tlskit test/CN=Test Client CA", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	srv := exec.Command(openssl, "s_server", "-accept", "127.0.0.1:"+strconv.Itoa(port), "-cert", cert, "-key", key,
		"-verify", "1", "-CAfile", cert, "-tls1_2", "-naccept", "1", "-quiet")
	stdout, _ := srv.StdoutPipe()
	srv.Stderr = srv.Stdout
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	go bufio.NewReader(stdout).WriteTo(discard{})

	var raw net.Conn
	for i := 0; i < 50; i++ {
		if raw, err = net.Dial("tcp", ln.Addr().String()); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("s_server did not start: %v", err)
	}
	rc := &recordingConn{Conn: raw}
	c := tls.Client(rc, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost", MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}})
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	c.Close()

	cliMsgs, srvMsgs := plainMessages(t, "client", rc.sent, false), plainMessages(t, "server", rc.rx, false)
	var got []string
	ctx := Context{}
	for _, raw := range srvMsgs {
		m, err := ParseMessage(raw.Type, raw.Body, ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sh, ok := m.(*ServerHello); ok {
			ctx = Context{Version: sh.SelectedVersion(), CipherSuite: sh.CipherSuite}
		}
		got = append(got, raw.Type.String()+" "+fieldString(Fields(m)))
	}
	want := []string{
		"server_hello version=TLS 1.2; cipher suite=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
		"certificate certificates=1",
		"server_key_exchange key exchange=ecdhe; group=x25519; signature scheme=ecdsa_secp256r1_sha256",
		"certificate_request acceptable CAs=CN=Test Client CA,O=tlskit test; signature schemes=",
		"server_hello_done ",
	}
	if len(got) != len(want) {
		t.Fatalf("server flight:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], strings.TrimSpace(want[i])) {
			t.Errorf("message %d:\n got %s\nwant %s…", i, got[i], want[i])
		}
	}
	// Without a certificate to offer, the client answers with an empty
	// Certificate (RFC 5246 §7.4.6).
	if len(cliMsgs) < 2 || cliMsgs[1].Type != TypeCertificate {
		t.Fatalf("client flight: %v", cliMsgs)
	}
	m, err := ParseMessage(TypeCertificate, cliMsgs[1].Body, ctx)
	if err != nil || fieldString(Fields(m)) != "certificates=empty" {
		t.Errorf("client Certificate: %v, %v", Fields(m), err)
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
