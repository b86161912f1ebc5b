package fleet

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/trust"
)

// TestEachAddress: a name with an A and an AAAA record (dnsmasq), each
// address a different server (openssl s_server on 127.0.0.1 and on ::1,
// the same port, each with its own certificate), is checked at each
// address: one report each, in the resolver's order, naming the name and
// the address, with that server's certificate (its serial as openssl x509
// prints it from the server's file). An IP address and a name that does
// not resolve stay one target each; -4 keeps to the A record.
func TestEachAddress(t *testing.T) {
	const name = "pool.fleet.test"
	cert4, key4 := peertest.SelfSigned(t, "/CN="+name, "DNS:"+name)
	cert6, key6 := peertest.SelfSigned(t, "/CN="+name, "DNS:"+name)
	addr4 := peertest.OpenSSL(t, "-cert", cert4, "-key", key4).Addr
	_, port, _ := net.SplitHostPort(addr4)
	addr6 := peertest.OpenSSLAt(t, "[::1]:"+port, "-cert", cert6, "-key", key6).Addr
	dns := peertest.DNS(t, "fleet.test", "down.test", map[string]string{name: "127.0.0.1 ::1"})
	r := peertest.Resolver(dns.Addr)
	target := net.JoinHostPort(name, port)
	in := []Target{{Address: target, Source: "argument 1"}, {Address: addr4, Source: "argument 2"}, {Address: "nope.fleet.test:1", Source: "argument 3"}}

	got := EachAddress(context.Background(), in, r, "")
	want := []Target{
		{Address: target, Via: addr6, Source: "argument 1, address 1 of 2"}, // RFC 6724: ::1 first
		{Address: target, Via: addr4, Source: "argument 1, address 2 of 2"},
		in[1], in[2],
	}
	if len(got) != len(want) {
		t.Fatalf("targets %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("target %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if v4 := EachAddress(context.Background(), in[:1], r, "tcp4"); len(v4) != 1 || v4[0].Via != addr4 {
		t.Errorf("tcp4: %+v, want the A record's address alone", v4)
	}

	anchors, err := trust.LoadAnchors([]string{"file:" + cert4, "file:" + cert6}, "")
	if err != nil {
		t.Fatal(err)
	}
	d := &net.Dialer{Resolver: r}
	opts := Options{Probe: probe.Options{Verifier: &trust.Verifier{Anchors: anchors}, Timeout: 5 * time.Second, Dialer: d.DialContext}}
	serials := map[string]string{addr4: peertest.X509Field(t, cert4, "serial=", "-serial"), addr6: peertest.X509Field(t, cert6, "serial=", "-serial")}
	err = Run(context.Background(), got[:2], opts, func(i int, tg Target, rep *diagnose.Report) error {
		if rep.Target != target || rep.Address != tg.Via || rep.Verdict != diagnose.Trusted || len(rep.Chain) == 0 || rep.Chain[0].Serial != serials[tg.Via] {
			t.Errorf("report %d: %s at %s, %s, chain %v; want %s at %s, trusted, serial %s", i, rep.Target, rep.Address, rep.Verdict, rep.Chain, target, tg.Via, serials[tg.Via])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// An address that refuses is named in its report.
	err = Run(context.Background(), []Target{{Address: target, Via: "127.0.0.1:1"}}, opts, func(_ int, _ Target, rep *diagnose.Report) error {
		if rep.Address != "127.0.0.1:1" || rep.Verdict != diagnose.Failed {
			t.Errorf("refused address: %s, %s", rep.Address, rep.Verdict)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
