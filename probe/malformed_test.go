package probe

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
)

// TestJunkAfterServerHello: a server that sends a valid TLS 1.2 ServerHello
// and then a record no TLS stack sends. crypto/tls answers with alert
// protocol_version, which used to be reported as protocol.version-mismatch
// ("enable TLS 1.2") although the client offered TLS 1.2 and the server
// chose it. It is protocol.malformed, naming the header bytes. No real
// server can be made to do this: the server is an in-process fake. (A real
// version mismatch, openssl s_server -tls1_1, is TestOpenSSLProtocolFindings'
// version-mismatch case.)
func TestJunkAfterServerHello(t *testing.T) {
	cases := []struct {
		name   string
		junk   []byte
		header string // as the finding names it
		why    string
	}{
		{"impossible version 3.9", []byte{22, 3, 9, 0, 5, 1, 2, 3, 4, 5}, "16 03 09 00 05", "version 3.9 (0x0309) is no SSL or TLS version"},
		{"garbage", []byte{0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33}, "de ad be ef 00", "content type 222 is not one of 20..26"},
		{"TLS 1.0 record after TLS 1.2 was chosen", []byte{22, 3, 1, 0, 4, 14, 0, 0, 0}, "16 03 01 00 04", "the record says TLS 1.0 (0x0301), but the ServerHello chose TLS 1.2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr := fakeServer(t, func(conn net.Conn) {
				conn.Write(serverHello12())
				conn.Write(c.junk)
				io.Copy(io.Discard, conn)
			})
			rep := Run(context.Background(), Options{Address: addr, ServerName: "junk.test", Timeout: 5 * time.Second, Linger: 300 * time.Millisecond})
			expect(t, rep, diagnose.Failed, finding.ProtocolMalformed, finding.Error)
			if finding.Has(rep.Findings, finding.ProtocolVersionMismatch) {
				t.Errorf("junk after the ServerHello reported as a version mismatch")
			}
			var f finding.Finding
			for _, x := range rep.Findings {
				if x.ID == finding.ProtocolMalformed {
					f = x
				}
			}
			if !strings.Contains(f.Title, c.header) || !strings.Contains(f.Detail, c.why) || !strings.Contains(f.Detail, "After its server_hello, the server sent a record whose header is "+c.header) {
				t.Errorf("finding does not name the bytes and why: %+v", f)
			}
			if !strings.Contains(f.Detail, "not about the versions offered (the client offered TLS 1.3, TLS 1.2; the server chose TLS 1.2)") {
				t.Errorf("finding does not clear the versions: %s", f.Detail)
			}
		})
	}
}

// serverHello12 is a record holding a minimal TLS 1.2 ServerHello choosing
// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.
func serverHello12() []byte {
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // session id
	body = append(body, 0xc0, 0x2f, 0)       // suite, compression
	msg := append([]byte{2, 0, 0, byte(len(body))}, body...)
	return append([]byte{22, 3, 3, 0, byte(len(msg))}, msg...)
}

// fakeServer reads a ClientHello record and hands the connection to handle.
func fakeServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	return peertest.Serve(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(c, hdr); err != nil {
			return
		}
		if _, err := io.ReadFull(c, make([]byte, int(hdr[3])<<8|int(hdr[4]))); err != nil {
			return
		}
		handle(c)
	})
}
