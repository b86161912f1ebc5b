package scan

import (
	"context"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/servertest"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/transcript"
	"github.com/tlskit/tlskit/trust"
)

// servers are the real STARTTLS servers, started once for the package by
// the first test that needs one.
var servers = servertest.NewSet("postfix", "dovecot", "postgres")

func TestMain(m *testing.M) { os.Exit(servers.Run(m)) }

// TestScanStartTLS scans real servers through their in-band upgrade:
// Postfix (SMTP STARTTLS), Dovecot (IMAP) and PostgreSQL (SSLRequest).
// Every probe's transcript starts with the preamble; the versions the
// servers accept are found through it; a server that does not offer the
// upgrade, or refuses it, is explained with check's starttls.* finding.
func TestScanStartTLS(t *testing.T) {
	for _, c := range []struct {
		server, protocol string
		variant          servertest.Variant
		wantFinding      string
	}{
		{"postfix", "smtp", servertest.Good, ""},
		{"dovecot", "imap", servertest.Good, ""},
		{"postgres", "postgres", servertest.Good, ""},
		{"postfix", "smtp", servertest.NoTLS, finding.StartTLSNotOffered},
		{"postfix", "smtp", servertest.Refused, finding.StartTLSRefused},
	} {
		t.Run(c.server+"/"+c.protocol+"/"+string(c.variant), func(t *testing.T) {
			t.Parallel()
			srv := servers.Need(t, c.server)
			tg := srv.Target(t, c.protocol, c.variant)
			p, err := starttls.ParseProtocol(c.protocol)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Run(context.Background(), Options{Address: tg.Addr, ServerName: tg.ServerName, StartTLS: p,
				Verifier: &trust.Verifier{Anchors: trust.NewAnchors("lab root", servers.PKI().Root)},
				Time:     func() time.Time { return servers.PKI().Now }, NoClients: true, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d connections in %.0f ms", rep.Connections, rep.DurationMS)
			if c.wantFinding != "" {
				wantFindings(t, rep, []string{c.wantFinding}, nil)
				if len(rep.Versions) != 0 {
					t.Errorf("versions %v through a failed upgrade", rep.Versions)
				}
				return
			}
			if rep.StartTLS == nil || rep.StartTLS.Outcome != "upgraded" || rep.StartTLS.Protocol != c.protocol {
				t.Fatalf("upgrade %+v", rep.StartTLS)
			}
			var versions []string
			for _, v := range rep.Versions {
				versions = append(versions, v.Version)
			}
			if !strings.Contains(strings.Join(versions, ","), "TLS 1.2") || !strings.Contains(strings.Join(versions, ","), "TLS 1.3") {
				t.Errorf("versions %v: the servers run OpenSSL 3 with TLS 1.2 and 1.3", versions)
			}
			if len(rep.Certificates) == 0 || !rep.Certificates[0].Trusted {
				t.Errorf("certificates %+v", rep.Certificates)
			}
			for _, pr := range rep.Probes {
				if len(pr.Transcript) == 0 || pr.Transcript[0].Type != transcript.TypePlaintext {
					t.Errorf("probe %d (%s) does not start with the preamble", pr.ID, pr.Purpose)
					break
				}
			}
		})
	}
}

// TestScanStartTLSOnATLSPort: scanning with an upgrade a port that speaks
// TLS from the first byte (stunnel in front of the real Postfix, SMTPS on a
// port of its own; openssl s_server, which serves one connection at a
// time) is starttls.implicit-tls, as check says it, not net.timeout: after
// diagnose.SpeaksTLSAfter without a word from the server the scan asks
// with a ClientHello on a connection without the upgrade, and stops its
// probes when the answer is TLS (stunnel: the scan ends then, not after its
// probes' timeouts); s_server, busy with a probe, answers only when the
// probes' upgrades have timed out, and is asked again then. The oracle
// that the port speaks TLS is the server itself (stunnel's accept side is
// TLS; s_server is a TLS server).
func TestScanStartTLSOnATLSPort(t *testing.T) {
	cert, key := peertest.SelfSigned(t, "/CN=localhost", "DNS:localhost")
	for _, c := range []struct {
		name   string
		addr   func(t *testing.T) string
		within time.Duration // the scan's bound, with a probe timeout of 10 s
	}{
		{"stunnel-postfix", func(t *testing.T) string {
			tg := servers.Need(t, "postfix").Target(t, "smtp", servertest.NoTLS)
			return peertest.Stunnel(t, "connect = "+tg.Addr+"\ncert = "+cert+"\nkey = "+key+"\n")
		}, diagnose.SpeaksTLSAfter + 3*time.Second},
		{"openssl-s_server", func(t *testing.T) string { return peertest.OpenSSL(t, "-cert", cert, "-key", key).Addr }, 25 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			addr := c.addr(t)
			start := time.Now()
			rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", StartTLS: starttls.SMTP,
				Verifier: &trust.Verifier{Anchors: trust.NewAnchors("none")}, NoClients: true, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			wantFindings(t, rep, []string{finding.StartTLSImplicit}, nil)
			for _, pr := range rep.Protocols {
				if !pr.Unknown || pr.Accepted {
					t.Errorf("%s: accepted %v, unknown %v (%s): through an upgrade that cannot work, no version is known", pr.Version, pr.Accepted, pr.Unknown, pr.Answer)
				}
			}
			if took := time.Since(start); took > c.within {
				t.Errorf("took %v, want at most %v", took, c.within)
			}
		})
	}
}

// TestScanStartTLSSilentServer: a server that accepts and says nothing
// (in-process: any listener that never writes is one) is scanned in one
// round of the probe timeout, not two: once an upgrade timed out while the
// server had said nothing in any, the version probes not yet connected are
// not asked (their answers say why), and every version is unknown.
func TestScanStartTLSSilentServer(t *testing.T) {
	var accepted atomic.Int64
	addr := peertest.Serve(t, func(c net.Conn) { accepted.Add(1); io.Copy(io.Discard, c) })
	const timeout = 2 * time.Second
	start := time.Now()
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", StartTLS: starttls.SMTP,
		Verifier: &trust.Verifier{Anchors: trust.NewAnchors("none")}, NoClients: true, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	wantFindings(t, rep, []string{finding.NetTimeout}, nil)
	notAsked := 0
	for _, pr := range rep.Protocols {
		if !pr.Unknown {
			t.Errorf("%s: not unknown: %s", pr.Version, pr.Answer)
		}
		if strings.HasPrefix(pr.Answer, "not asked: ") {
			notAsked++
		}
	}
	if notAsked == 0 {
		t.Errorf("no probe of %d versions was left unasked", len(rep.Protocols))
	}
	// The report counts what the server saw: the probes' connections
	// (one whose upgrade was stopped included) and the implicit-TLS
	// question's. The server's accept loop may be a moment behind.
	for wait := time.Now().Add(time.Second); accepted.Load() != int64(rep.Connections) && time.Now().Before(wait); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := accepted.Load(); n != int64(rep.Connections) {
		t.Errorf("the report counts %d connections; the server accepted %d", rep.Connections, n)
	}
	// One round of the timeout, and the implicit-TLS question asked after
	// it (the round ended before diagnose.SpeaksTLSAfter): two timeouts.
	if took > 2*timeout+time.Second {
		t.Errorf("took %v with a probe timeout of %v", took, timeout)
	}
}
