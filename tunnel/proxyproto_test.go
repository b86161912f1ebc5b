package tunnel_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tlskit/tlskit/tunnel"
)

// TestProxyHeaderBytes checks the encoding against the layout of
// proxy-protocol.txt §2.2 written out by hand.
func TestProxyHeaderBytes(t *testing.T) {
	h := &tunnel.ProxyHeader{
		Source:      netip.MustParseAddrPort("192.0.2.1:56324"),
		Destination: netip.MustParseAddrPort("198.51.100.7:443"),
		ALPN:        "h2",
	}
	got, err := h.AppendBinary(nil)
	must(t, err)
	want := "0d0a0d0a000d0a515549540a" + // signature
		"21" + "11" + "0011" + // v2 PROXY, TCP/IPv4, 17 bytes follow
		"c0000201" + "c6336407" + "dc04" + "01bb" + // addresses and ports
		"01" + "0002" + "6832" // PP2_TYPE_ALPN "h2"
	if hex.EncodeToString(got) != want {
		t.Fatalf("got  %x\nwant %s", got, want)
	}
}

func TestProxyHeaderRoundTrip(t *testing.T) {
	for _, h := range []*tunnel.ProxyHeader{
		{},
		{Source: netip.MustParseAddrPort("[2001:db8::1]:1"), Destination: netip.MustParseAddrPort("[::1]:2")},
		{Source: netip.MustParseAddrPort("10.0.0.1:1"), Destination: netip.MustParseAddrPort("10.0.0.2:2"), ALPN: "http/1.1", Authority: "api.example",
			TLS: &tunnel.ProxyTLS{Version: "TLSv1.3", Cipher: "TLS_AES_128_GCM_SHA256", CommonName: "client", ClientCert: true, Verified: true}},
	} {
		b, err := h.AppendBinary(nil)
		must(t, err)
		got, n, err := tunnel.ParseProxyHeader(append(b, "payload"...))
		must(t, err)
		if n != len(b) {
			t.Errorf("length %d, want %d", n, len(b))
		}
		if diff := cmp.Diff(h, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		for i := range len(b) - 1 {
			if _, _, err := tunnel.ParseProxyHeader(b[:i]); err == nil {
				t.Fatalf("a %d-byte prefix of a %d-byte header parsed", i, len(b))
			}
		}
	}
	if _, _, err := tunnel.ParseProxyHeader([]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n")); err == nil || !strings.Contains(err.Error(), "v1") {
		t.Errorf("v1 header: %v", err)
	}
	if _, _, err := tunnel.ParseProxyHeader([]byte("\r\n\r\n\x00")); !errors.Is(err, tunnel.ErrShortProxyHeader) {
		t.Errorf("short header: %v", err)
	}
}

func FuzzParseProxyHeader(f *testing.F) {
	h := &tunnel.ProxyHeader{Source: netip.MustParseAddrPort("10.0.0.1:1"), Destination: netip.MustParseAddrPort("10.0.0.2:2"), ALPN: "h2", Authority: "a",
		TLS: &tunnel.ProxyTLS{Version: "TLSv1.3", CommonName: "c", ClientCert: true}}
	b, _ := h.AppendBinary(nil)
	f.Add(b)
	b6, _ := (&tunnel.ProxyHeader{Source: netip.MustParseAddrPort("[::1]:1"), Destination: netip.MustParseAddrPort("[::1]:2")}).AppendBinary(nil)
	f.Add(b6)
	f.Add([]byte("\r\n\r\n\x00\r\nQUIT\n\x21\x31\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, n, err := tunnel.ParseProxyHeader(data)
		if err != nil {
			return
		}
		if n > len(data) || n < 16 {
			t.Fatalf("length %d of %d bytes", n, len(data))
		}
		if _, err := h.AppendBinary(nil); err != nil {
			t.Fatalf("re-encoding a parsed header: %v", err)
		}
	})
}

// TestProxyProtocolThroughServerTunnel: the target receives the client's
// address, SNI, ALPN and TLS version before the data.
func TestProxyProtocolThroughServerTunnel(t *testing.T) {
	f := newFixture(t)
	ln := listen(t)
	defer ln.Close()
	got := make(chan *tunnel.ProxyHeader, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		h, n, err := tunnel.ParseProxyHeader(b)
		if err != nil || string(b[n:]) != "data" {
			got <- nil
			return
		}
		got <- h
	}()
	pol := f.serverPolicy()
	pol.ALPN = []string{"x-test"}
	p := serverTunnel(t, pol, ln.Addr().String())
	p.ProxyProtocol = true
	addr := serve(t, p)
	cert, err := tls.LoadX509KeyPair(f.clientCert, f.clientKey)
	must(t, err)
	cfg, err := f.clientPolicy().ClientConfig("")
	must(t, err)
	cfg.Certificates, cfg.NextProtos = []tls.Certificate{cert}, []string{"x-test"}
	c, err := tls.Dial("tcp", addr, cfg)
	must(t, err)
	io.WriteString(c, "data")
	c.CloseWrite()
	io.ReadAll(c)
	c.Close()
	h := <-got
	if h == nil {
		t.Fatal("the target did not get a valid PROXY header followed by the data")
	}
	if h.Source.String() != c.LocalAddr().String() || h.Authority != "good.lab.tlskit.test" || h.ALPN != "x-test" || h.TLS == nil || h.TLS.Version != "TLSv1.3" || !h.TLS.ClientCert {
		t.Fatalf("header %+v %+v", h, h.TLS)
	}
}

// TestMetrics checks the Prometheus text after a served and a refused
// connection.
func TestMetrics(t *testing.T) {
	var m tunnel.Metrics
	echo := echoServer(t)
	p := &tunnel.Proxy{Name: `svc"1`, Metrics: &m, Dial: func(ctx context.Context, _ net.Conn) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", echo)
	}}
	addr := serve(t, p)
	roundTrip(t, addr, "hello")
	bad := &tunnel.Proxy{Name: "down", Metrics: &m, Dial: func(ctx context.Context, _ net.Conn) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Err: errors.New("i/o timeout"), Net: "tcp"}
	}}
	c, err := net.Dial("tcp", serve(t, bad))
	must(t, err)
	c.SetDeadline(time.Now().Add(2 * time.Second))
	io.ReadAll(c)
	c.Close()
	m.Reloaded(nil)
	m.Reloaded(errors.New("bad"))
	var out bytes.Buffer
	deadline := time.Now().Add(2 * time.Second)
	for {
		out.Reset()
		m.WriteTo(&out)
		if strings.Contains(out.String(), `tlskit_tunnel_connections_active{service="svc\"1"} 0`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range []string{
		"# TYPE tlskit_tunnel_connections_total counter",
		`tlskit_tunnel_connections_total{service="svc\"1"} 1`,
		`tlskit_tunnel_connections_active{service="svc\"1"} 0`,
		`tlskit_tunnel_connections_refused_total{finding="protocol.alert",service="down"} 1`,
		`tlskit_tunnel_bytes_total{direction="from_client",service="svc\"1"} 5`,
		`tlskit_tunnel_bytes_total{direction="to_client",service="svc\"1"} 5`,
		`tlskit_tunnel_handshake_seconds_bucket{service="svc\"1",le="+Inf"} 1`,
		`tlskit_tunnel_handshake_seconds_count{service="svc\"1"} 1`,
		"tlskit_tunnel_reloads_total 2",
		"tlskit_tunnel_reload_errors_total 1",
	} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, out.String())
		}
	}
}
