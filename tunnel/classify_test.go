package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
)

// TestClassifyAlerts: a crypto/tls client's handshake error for each alert
// a real crypto/tls server sends is classified by the alert it carries, not
// by its text: the server rejects with tls.Config settings that make it send
// the alert, and a client of each side reads it.
func TestClassifyAlerts(t *testing.T) {
	for _, tc := range []struct {
		alert tls.AlertError
		want  string
		side  bool // as the tunnel server
	}{
		{116, finding.ClientCertRequired, false},
		{42, finding.ClientCertRejected, false},
		{48, finding.ServerCertRejected, true},
		{70, finding.ProtocolVersionMismatch, false},
		{40, finding.ProtocolNoSharedCipher, false},
		{112, finding.SNIUnrecognizedName, false},
		{80, finding.ProtocolAlert, false},
	} {
		// Both forms: the received alert as crypto/tls returns it, and
		// an AlertError wrapped by a caller.
		if got := classify(fmt.Errorf("dial: %w", tc.alert), tc.side); got != tc.want {
			t.Errorf("AlertError %d: %s, want %s", tc.alert, got, tc.want)
		}
	}
	// A real received alert: a server that refuses every version the
	// client offers.
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{MinVersion: tls.VersionTLS13, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return nil, errors.New("unused")
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	d := tls.Dialer{Config: &tls.Config{MaxVersion: tls.VersionTLS12, InsecureSkipVerify: true}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = d.DialContext(ctx, "tcp", ln.Addr().String())
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" {
		t.Fatalf("the client's error %v (%T) is not crypto/tls's received alert", err, err)
	}
	if got := Classify(err); got != finding.ProtocolVersionMismatch {
		t.Errorf("received protocol_version: %s (%v)", got, err)
	}
}

// TestClassifyDNS: a dial whose name does not resolve is net.dns, also
// when the lookup timed out (a DNS timeout is a net.Error that timed out,
// and was classified net.timeout, the target's silence). The errors are
// those of real lookups, asked of a real DNS server (dnsmasq): a name that
// does not exist, and one it forwards to servers that do not answer.
func TestClassifyDNS(t *testing.T) {
	dns := peertest.DNS(t, "peer.test", "down.test", nil)
	d := &net.Dialer{Resolver: peertest.Resolver(dns.Addr)}
	for _, host := range []string{"nope.peer.test", "www.down.test"} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, "443"))
		cancel()
		if err == nil {
			t.Fatalf("%s resolved", host)
		}
		if got := Classify(fmt.Errorf("dial target: %w", err)); got != finding.NetDNS {
			t.Errorf("%s (%v): %s, want %s", host, err, got, finding.NetDNS)
		}
	}
}
