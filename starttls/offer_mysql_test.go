package starttls

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"math/big"
	"net"
	"testing"
	"time"
)

// TestOfferMySQLClientHelloWithRequest: a MySQL client starts TLS right
// after its SSL request packet, since no reply comes between them, so the
// request and the ClientHello often arrive in one read. The MariaDB client
// did so under load in tunnel's TestStartTLSServerTunnel/mysql and was
// refused as pipelining plaintext. Here a client writes both at once
// (deterministically: a timing no real client can be made to show on
// demand); Offer must hand the handshake's bytes to TLS, which completes.
// A login packet written after the request is still refused as
// pipelined.
func TestOfferMySQLClientHelloWithRequest(t *testing.T) {
	greeting := []byte(seeds[MySQL][0])
	cert, roots := selfSigned(t, "h")
	sslRequest := func() []byte {
		p := make([]byte, 4+32)
		p[0], p[3] = 32, greeting[3]+1
		binary.LittleEndian.PutUint32(p[4:], 0x000aa200|mySSL) // protocol 41, secure connection, plugin auth, SSL
		return p
	}
	tests := []struct {
		name  string
		after func(c net.Conn) error // what the client sends after the request
		want  Outcome
	}{
		{"client hello in the same write", func(c net.Conn) error {
			tc := tls.Client(&firstWrite{Conn: c, prefix: sslRequest()}, &tls.Config{ServerName: "h", RootCAs: roots})
			if err := tc.Handshake(); err != nil {
				return err
			}
			_, err := io.WriteString(tc, "ping")
			return err
		}, Upgraded},
		{"login pipelined after the request", func(c net.Conn) error {
			login := make([]byte, 4+40)
			login[0], login[3] = 40, greeting[3]+2
			_, err := c.Write(append(sslRequest(), login...))
			return err
		}, Pipelined},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			type result struct {
				res  *Result
				err  error
				data string
			}
			done := make(chan result, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					done <- result{err: err}
					return
				}
				defer c.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				hc, res, err := Offer(ctx, c, ServerConfig{Protocol: MySQL, Hostname: "h", Greeting: greeting})
				if err != nil {
					done <- result{res: res, err: err}
					return
				}
				tc := tls.Server(hc, &tls.Config{Certificates: []tls.Certificate{cert}})
				tc.SetDeadline(time.Now().Add(10 * time.Second))
				b := make([]byte, 4)
				_, err = io.ReadFull(tc, b)
				done <- result{res: res, err: err, data: string(b)}
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			g := make([]byte, len(greeting))
			if _, err := io.ReadFull(c, g); err != nil {
				t.Fatalf("reading the greeting: %v", err)
			}
			cerr := tt.after(c)
			r := <-done
			if r.res == nil || r.res.Outcome != tt.want {
				var got Outcome
				if r.res != nil {
					got = r.res.Outcome
				}
				t.Fatalf("outcome %q (error %.200v), want %s", got, r.err, tt.want)
			}
			if tt.want == Upgraded && (r.err != nil || cerr != nil || r.data != "ping") {
				t.Fatalf("TLS after the request: server read %q (%v), client %v", r.data, r.err, cerr)
			}
		})
	}
}

// firstWrite is a connection whose first write is sent after prefix, in
// one write.
type firstWrite struct {
	net.Conn
	prefix []byte
}

func (c *firstWrite) Write(b []byte) (int, error) {
	if c.prefix != nil {
		p := append(c.prefix, b...)
		c.prefix = nil
		if _, err := c.Conn.Write(p); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// selfSigned makes a P-256 certificate for name and a pool holding it.
func selfSigned(t *testing.T, name string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pool
}
