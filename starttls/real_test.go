package starttls_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/servertest"
	"github.com/tlskit/tlskit/starttls"
)

// servers are the real servers of every protocol, started once for the
// package (in parallel) by TestMain.
var servers = servertest.NewSet(servertest.Names()...)

func TestMain(m *testing.M) { os.Exit(servers.Run(m)) }

// realCase is one protocol served by one real server.
// TestRealServers runs the client dialogue of every protocol against the
// real server its users run: the upgrade, then a TLS handshake whose
// chain must be the one the server was given (verified against the lab
// root for Good, expired for Expired), then the first exchange inside
// TLS; NotOffered where the server has no TLS; Postfix's 454 where it
// cannot load its certificate.
func TestRealServers(t *testing.T) {
	for _, rc := range servertest.Offerings() {
		for _, v := range rc.Variants {
			t.Run(rc.Server+"/"+rc.Protocol+"/"+string(v), func(t *testing.T) {
				t.Parallel()
				srv := servers.Need(t, rc.Server)
				tg := srv.Target(t, rc.Protocol, v)
				p, err := starttls.ParseProtocol(rc.Protocol)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				c, err := net.Dial("tcp", tg.Addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				cfg := starttls.Config{Protocol: p, Domain: tg.ServerName}
				res, err := starttls.Negotiate(ctx, c, cfg)
				for _, m := range res.Messages {
					t.Logf("%s %s: %s", m.From, m.Stage, m.Text)
				}
				switch v {
				case servertest.NoTLS:
					if starttls.OutcomeOf(err) != starttls.NotOffered || res.Outcome != starttls.NotOffered {
						t.Fatalf("outcome %s (%v), want not-offered\n%s", res.Outcome, err, srv.Log())
					}
					if res.Offered {
						t.Errorf("Offered is true for a server without TLS")
					}
					if p != starttls.Postgres && p != starttls.LDAP && len(res.Capabilities) == 0 {
						t.Errorf("no capabilities quoted")
					}
					return
				case servertest.Refused:
					// Postfix without its certificate answers 454; INN
					// without one, 580.
					want := map[string]string{"postfix": "454 ", "inn": "580 "}[rc.Server]
					if res.Outcome != starttls.Refused || !strings.HasPrefix(res.Reply, want) {
						t.Fatalf("outcome %s, reply %q (%v), want refused with %q", res.Outcome, res.Reply, err, want)
					}
					if !res.Offered {
						t.Errorf("%s advertised STARTTLS, Offered is false", rc.Server)
					}
					return
				}
				if err != nil {
					t.Fatalf("%v\n%s", err, srv.Log())
				}
				if !res.Offered || res.Outcome != starttls.Upgraded {
					t.Fatalf("offered %v outcome %s", res.Offered, res.Outcome)
				}
				if len(res.Pipelined) > 0 {
					t.Errorf("a real server pipelined %q", res.Pipelined)
				}
				tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: tg.ServerName})
				if err := tc.HandshakeContext(ctx); err != nil {
					t.Fatalf("TLS handshake after the upgrade: %v\n%s", err, srv.Log())
				}
				leaf := tc.ConnectionState().PeerCertificates[0]
				if !slicesContains(leaf.DNSNames, tg.ServerName) {
					t.Errorf("the server presented %v, not the certificate for %s", leaf.DNSNames, tg.ServerName)
				}
				roots := x509.NewCertPool()
				roots.AddCert(servers.PKI().Root)
				inter := x509.NewCertPool()
				for _, c := range tc.ConnectionState().PeerCertificates[1:] {
					inter.AddCert(c)
				}
				_, verr := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: tg.ServerName, CurrentTime: servers.PKI().Now})
				var ie x509.CertificateInvalidError
				switch {
				case v == servertest.Good && verr != nil:
					t.Errorf("the good certificate does not verify: %v", verr)
				case v == servertest.Expired && !(errors.As(verr, &ie) && ie.Reason == x509.Expired):
					t.Errorf("the expired certificate verifies as %v", verr)
				}
				if !starttls.HasAfterTLS(p) {
					return
				}
				msgs, err := starttls.AfterTLS(ctx, tc, cfg)
				for _, m := range msgs {
					t.Logf("in TLS: %s: %s", m.From, m.Text)
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(msgs) < 1 || msgs[len(msgs)-1].From != starttls.Server {
					t.Fatalf("no reply inside TLS: %v", msgs)
				}
				// After TLS the upgrade is no longer offered.
				last := msgs[len(msgs)-1].Text
				if p != starttls.LDAP && p != starttls.XMPP && p != starttls.XMPPServer && strings.Contains(strings.ToUpper(last), "STARTTLS") {
					t.Errorf("STARTTLS still offered inside TLS: %q", last)
				}
			})
		}
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestRealPostfixTurnsAway: a Postfix that rejects the client in its
// greeting (554) or defers its EHLO (450) has said nothing about
// STARTTLS: the outcome is refused before the upgrade command (no
// Command, Reply quoting the server), not not-offered. The oracle is
// Postfix's own posttls-finger, which reports "SMTP service not
// available: 554 …" and "EHLO rejected: 450 …", quoting the same line.
func TestRealPostfixTurnsAway(t *testing.T) {
	finger := peertest.Need(t, "posttls-finger")
	srv := servers.Need(t, "postfix")
	for _, tc := range []struct {
		v      servertest.Variant
		oracle string // what posttls-finger says before the reply
		code   string
	}{
		{servertest.TurnsAway, "SMTP service not available: ", "554 5.7.1 "},
		{servertest.DefersHello, "EHLO rejected: ", "450 4.3.2 "},
	} {
		t.Run(string(tc.v), func(t *testing.T) {
			t.Parallel()
			tg := srv.Target(t, "smtp", tc.v)
			host, port, _ := net.SplitHostPort(tg.Addr)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, _ := exec.CommandContext(ctx, finger, "-o", "myhostname="+starttls.DefaultClientName, "-c", "-l", "may", "["+host+"]:"+port).CombinedOutput()
			_, said, ok := strings.Cut(strings.TrimSpace(string(out)), tc.oracle)
			if !ok || !strings.HasPrefix(said, tc.code) {
				t.Fatalf("posttls-finger said %q, want %q%s…", out, tc.oracle, tc.code)
			}
			c, err := net.Dial("tcp", tg.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			res, err := starttls.Negotiate(ctx, c, starttls.Config{Protocol: starttls.SMTP})
			for _, m := range res.Messages {
				t.Logf("%s %s: %s", m.From, m.Stage, m.Text)
			}
			if res.Outcome != starttls.Refused || starttls.OutcomeOf(err) != starttls.Refused {
				t.Fatalf("outcome %s (%v), want refused", res.Outcome, err)
			}
			if res.Command != "" || res.Offered {
				t.Errorf("command %q, offered %v: STARTTLS was never asked", res.Command, res.Offered)
			}
			if res.Reply != said {
				t.Errorf("reply %q, want the line posttls-finger quotes, %q", res.Reply, said)
			}
			var e *starttls.Error
			if !errors.As(err, &e) || e.Command != "" || !strings.Contains(e.Error(), "turned the session away before STARTTLS") {
				t.Errorf("error %v, want one saying STARTTLS was never asked", err)
			}
		})
	}
}
