package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/servertest"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/render"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/transcript"
	"github.com/tlskit/tlskit/trust"
)

// servers are the real servers of every protocol, started once for the
// package by the first test that needs one.
var servers = servertest.NewSet(servertest.Names()...)

func TestMain(m *testing.M) { os.Exit(servers.Run(m)) }

// checkTarget runs a check of a real server's target with STARTTLS,
// trusting the servers' lab root as of the PKI's time.
func checkTarget(t *testing.T, tg servertest.Target, mod func(*Options)) *diagnose.Report {
	t.Helper()
	p, err := starttls.ParseProtocol(tg.Protocol)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Address: tg.Addr, ServerName: tg.ServerName, StartTLS: p,
		Verifier: &trust.Verifier{Anchors: trust.NewAnchors("lab root", servers.PKI().Root)},
		Time:     func() time.Time { return servers.PKI().Now },
		Timeout:  10 * time.Second, Linger: 500 * time.Millisecond,
	}
	if mod != nil {
		mod(&opts)
	}
	rep := Run(context.Background(), opts)
	var b bytes.Buffer
	render.Report(&b, rep, render.Options{Time: func() time.Time { return servers.PKI().Now }})
	t.Log("\n" + b.String())
	return rep
}

// stages returns the stages of the plaintext events, by side.
func stages(rep *diagnose.Report) (client, server []string) {
	for _, e := range rep.Transcript {
		if e.Type != transcript.TypePlaintext {
			continue
		}
		if e.From == transcript.Client {
			client = append(client, e.Stage)
		} else {
			server = append(server, e.Stage)
		}
	}
	return client, server
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCheckStartTLSRealServers checks every protocol's real server: the
// good certificate is trusted and the preamble and the first reply inside
// TLS are in the transcript; the expired one is cert.expired; TLS off is
// starttls.not-offered quoting the capabilities; Postfix's 454 and INN's
// 580 are starttls.refused quoting the reply.
func TestCheckStartTLSRealServers(t *testing.T) {
	for _, pc := range servertest.Offerings() {
		for _, v := range pc.Variants {
			t.Run(pc.Server+"/"+pc.Protocol+"/"+string(v), func(t *testing.T) {
				t.Parallel()
				srv := servers.Need(t, pc.Server)
				tg := srv.Target(t, pc.Protocol, v)
				rep := checkTarget(t, tg, nil)
				if rep.StartTLS == nil || rep.StartTLS.Protocol != pc.Protocol {
					t.Fatalf("report upgrade %+v", rep.StartTLS)
				}
				client, server := stages(rep)
				switch v {
				case servertest.Good:
					if rep.Verdict != diagnose.Trusted {
						t.Fatalf("verdict %s, findings %v\n%s", rep.Verdict, rep.Findings, srv.Log())
					}
					if rep.StartTLS.Outcome != "upgraded" || !has(client, "upgrade") {
						t.Errorf("outcome %s, client stages %v", rep.StartTLS.Outcome, client)
					}
					p, _ := starttls.ParseProtocol(pc.Protocol)
					if starttls.HasAfterTLS(p) && !has(server, "after_tls") {
						t.Errorf("no reply inside TLS in the transcript (server stages %v)", server)
					}
					if rep.Transcript[0].Type != transcript.TypePlaintext {
						t.Errorf("the transcript starts with %s, not the preamble", rep.Transcript[0].Type)
					}
					if len(rep.Chain) == 0 || !strings.Contains(rep.Chain[0].Subject, tg.ServerName) {
						t.Errorf("chain %v", rep.Chain)
					}
				case servertest.Expired:
					if !finding.Has(rep.Findings, finding.CertExpired) || rep.Verdict != diagnose.Untrusted {
						t.Errorf("verdict %s findings %v, want cert.expired", rep.Verdict, ids(rep))
					}
				case servertest.NoTLS:
					if !finding.Has(rep.Findings, finding.StartTLSNotOffered) || rep.Verdict != diagnose.Failed {
						t.Fatalf("verdict %s findings %v, want starttls.not-offered", rep.Verdict, ids(rep))
					}
					f := rep.Findings[0]
					if p, _ := starttls.ParseProtocol(pc.Protocol); p != starttls.Postgres && p != starttls.LDAP && p != starttls.MySQL && len(f.Evidence) == 0 {
						t.Errorf("the capabilities are not quoted: %+v", f)
					}
					if len(rep.Findings) != 1 {
						t.Errorf("findings beyond the upgrade's: %v", ids(rep))
					}
				case servertest.Refused:
					want := map[string]string{"postfix": "454 4.7.0", "inn": "580 "}[pc.Server]
					if !finding.Has(rep.Findings, finding.StartTLSRefused) || !strings.Contains(rep.Findings[0].Title+rep.Findings[0].Detail, want) {
						t.Errorf("findings %+v, want starttls.refused quoting %q", rep.Findings, want)
					}
				}
			})
		}
	}
}

func ids(rep *diagnose.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.ID)
	}
	return out
}

// TestCheckStartTLSJSON: the JSON report has the preamble as events of
// type plaintext (protocol, direction, the line) and the upgrade's facts.
func TestCheckStartTLSJSON(t *testing.T) {
	srv := servers.Need(t, "postfix")
	rep := checkTarget(t, srv.Target(t, "smtp", servertest.Good), nil)
	var b bytes.Buffer
	if err := render.JSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		StartTLS struct {
			Protocol, Outcome string
			Capabilities      []string
		} `json:"starttls"`
		Transcript []struct {
			Type, From, Protocol, Stage, Text string
		} `json:"transcript"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.StartTLS.Protocol != "smtp" || doc.StartTLS.Outcome != "upgraded" || !has(doc.StartTLS.Capabilities, "STARTTLS") {
		t.Errorf("starttls %+v", doc.StartTLS)
	}
	first := doc.Transcript[0]
	if first.Type != "plaintext" || first.From != "server" || first.Protocol != "smtp" || first.Stage != "greeting" || !strings.HasPrefix(first.Text, "220 postfix.lab.tlskit.test ESMTP") {
		t.Errorf("first event %+v", first)
	}
}

// TestCheckStartTLSImplicitPort: pointed at an implicit-TLS port, the
// upgrade cannot work, and the finding says so: openssl s_server (which
// waits for a ClientHello) reached as port 465 with --starttls smtp, and as
// 636 with --starttls ldap (it answers the LDAP request by closing).
func TestCheckStartTLSImplicitPort(t *testing.T) {
	w := getWorld(t)
	leaf := w.leaf(t, "mail.lab.tlskit.test", lab.LeafOptions{})
	cert, key, chain := w.serverFiles(t, "implicit", leaf, w.pki.Intermediate)
	s := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-cert_chain", chain)
	for _, tc := range []struct {
		port  string
		proto starttls.Protocol
	}{{"465", starttls.SMTP}, {"636", starttls.LDAP}} {
		t.Run(tc.port, func(t *testing.T) {
			start := time.Now()
			rep := Run(context.Background(), Options{
				Address: "127.0.0.1:" + tc.port, ServerName: "mail.lab.tlskit.test", StartTLS: tc.proto,
				Verifier: &trust.Verifier{Anchors: trust.NewAnchors("lab root", w.pki.Root)},
				Dialer: func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, s.Addr)
				},
			})
			if !finding.Has(rep.Findings, finding.StartTLSImplicit) {
				t.Fatalf("findings %+v, want starttls.implicit-tls", rep.Findings)
			}
			if f := rep.Findings[0]; !strings.Contains(f.Fix, `STARTTLS protocol "none"`) || f.Setting != finding.SettingStartTLS {
				t.Errorf("fix %q", f.Fix)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v: a greeting that cannot come is waited for %v at most", d, implicitWait)
			}
		})
	}
}

// TestCheckStartTLSOnATLSPort: --starttls smtp at a port that speaks TLS
// from the first byte but is not a well-known implicit-TLS port (stunnel
// in front of the real Postfix, SMTPS on a port of its own) used to wait
// the whole timeout and report net.timeout. The server sends nothing and
// waits for a ClientHello; after a few seconds of silence the check asks
// on a second connection, which stunnel answers with TLS, and reports
// starttls.implicit-tls at once. The oracle is OpenSSL's client, which
// connects without an upgrade and reads Postfix's greeting inside TLS.
func TestCheckStartTLSOnATLSPort(t *testing.T) {
	srv := servers.Need(t, "postfix")
	tg := srv.Target(t, "smtp", servertest.NoTLS)
	w := getWorld(t)
	leaf := w.leaf(t, "smtps.lab.tlskit.test", lab.LeafOptions{})
	cert, key, _ := w.serverFiles(t, "smtps", leaf, w.pki.Intermediate)
	addr := peertest.Stunnel(t, fmt.Sprintf("connect = %s\ncert = %s\nkey = %s\n", tg.Addr, cert, key))
	cmd := exec.Command("openssl", "s_client", "-connect", addr, "-brief", "-ign_eof")
	cmd.Stdin = strings.NewReader("QUIT\r\n")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "CONNECTION ESTABLISHED") || !strings.Contains(string(out), "220 ") {
		t.Fatalf("openssl s_client without an upgrade does not read a greeting inside TLS at %s: not the server the test needs:\n%s", addr, out)
	}
	// The target is a name (its address handed out by the dialer); the
	// second connection must go to the address the first reached.
	_, port, _ := net.SplitHostPort(addr)
	var mu sync.Mutex
	var asked []string
	dial := func(ctx context.Context, network, a string) (net.Conn, error) {
		mu.Lock()
		asked = append(asked, a)
		mu.Unlock()
		if a == "smtps.lab.tlskit.test:"+port {
			a = addr
		}
		return (&net.Dialer{}).DialContext(ctx, network, a)
	}
	start := time.Now()
	rep := Run(context.Background(), Options{Address: "smtps.lab.tlskit.test:" + port, StartTLS: starttls.SMTP,
		Verifier: &trust.Verifier{Anchors: trust.NewAnchors("lab root", w.pki.Root)}, Timeout: 10 * time.Second, Dialer: dial})
	took := time.Since(start)
	mu.Lock()
	if want := []string{"smtps.lab.tlskit.test:" + port, addr}; !slices.Equal(asked, want) {
		t.Errorf("connections asked for %q, want %q (the second to the address the first reached)", asked, want)
	}
	mu.Unlock()
	if len(rep.Findings) == 0 || rep.Findings[0].ID != finding.StartTLSImplicit {
		t.Fatalf("findings %v, want starttls.implicit-tls", ids(rep))
	}
	f := rep.Findings[0]
	if !strings.Contains(f.Detail, "another connection") || !strings.Contains(f.Fix, `STARTTLS protocol "none"`) {
		t.Errorf("finding %+v", f)
	}
	if took > diagnose.SpeaksTLSAfter+3*time.Second {
		t.Errorf("took %v: the silence is asked about after %v, not waited out", took, diagnose.SpeaksTLSAfter)
	}
}

// TestCheckStartTLSOnAOneConnectionTLSServer: --starttls smtp at openssl
// s_server, which serves one connection at a time and so leaves the second
// connection's ClientHello unanswered while the first (silent, waiting
// for its own ClientHello) is open. The check closes the first shortly
// before its end, the server answers the second, and the report is
// starttls.implicit-tls within the timeout instead of net.timeout. The
// oracle that the server serves one connection at a time and speaks TLS
// from the first byte is openssl s_client: with a first connection held
// open, its handshake does not complete, and once that closes it does.
func TestCheckStartTLSOnAOneConnectionTLSServer(t *testing.T) {
	w := getWorld(t)
	leaf := w.leaf(t, "one.lab.tlskit.test", lab.LeafOptions{})
	cert, key, _ := w.serverFiles(t, "one", leaf, w.pki.Intermediate)
	addr := peertest.OpenSSL(t, "-cert", cert, "-key", key).Addr
	held, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	handshake := func(d time.Duration) bool {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		out, _ := exec.CommandContext(ctx, "openssl", "s_client", "-connect", addr, "-brief").CombinedOutput()
		return strings.Contains(string(out), "CONNECTION ESTABLISHED")
	}
	if handshake(2 * time.Second) {
		t.Fatal("s_server served a second connection while the first was open: not the server this test needs")
	}
	held.Close()
	if !handshake(5 * time.Second) {
		t.Fatalf("s_server does not speak TLS from the first byte at %s", addr)
	}
	const timeout = 6 * time.Second
	start := time.Now()
	rep := Run(context.Background(), Options{Address: addr, ServerName: "one.lab.tlskit.test", StartTLS: starttls.SMTP,
		Verifier: &trust.Verifier{Anchors: trust.NewAnchors("lab root", w.pki.Root)}, Timeout: timeout})
	took := time.Since(start)
	if len(rep.Findings) == 0 || rep.Findings[0].ID != finding.StartTLSImplicit {
		t.Fatalf("findings %v, want starttls.implicit-tls", ids(rep))
	}
	if took > timeout+time.Second {
		t.Errorf("took %v with a timeout of %v", took, timeout)
	}
}

// TestCheckPlainTLSAtStartTLSPort: --starttls none at a STARTTLS port
// (Postfix reached as port 587) is protocol.not-tls, and the fix names
// the upgrade.
func TestCheckPlainTLSAtStartTLSPort(t *testing.T) {
	srv := servers.Need(t, "postfix")
	tg := srv.Target(t, "smtp", servertest.Good)
	rep := Run(context.Background(), Options{
		Address: "127.0.0.1:587", ServerName: tg.ServerName,
		Dialer: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, tg.Addr)
		},
	})
	if !finding.Has(rep.Findings, finding.ProtocolNotTLS) || !strings.Contains(rep.Findings[0].Fix, `STARTTLS protocol "smtp"`) || rep.Findings[0].Setting != finding.SettingStartTLS {
		t.Fatalf("findings %+v", rep.Findings)
	}
}

// TestCheckPlaintextAtImplicitPort: a server that speaks SMTP in plaintext
// on port 465 (Postfix reached as port 465; openssl s_client -connect says
// "wrong version number" there) is protocol.not-tls, and the fix says 465
// is the implicit-TLS port, not that the user wants it.
func TestCheckPlaintextAtImplicitPort(t *testing.T) {
	srv := servers.Need(t, "postfix")
	tg := srv.Target(t, "smtp", servertest.Good)
	rep := Run(context.Background(), Options{
		Address: "127.0.0.1:465", ServerName: tg.ServerName,
		Dialer: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, tg.Addr)
		},
	})
	if !finding.Has(rep.Findings, finding.ProtocolNotTLS) {
		t.Fatalf("findings %+v", rep.Findings)
	}
	f := rep.Findings[0]
	if strings.Contains(f.Fix, "you want the implicit-TLS port") || !strings.Contains(f.Fix, "Port 465 is SMTPS") || !strings.Contains(f.Fix, `STARTTLS protocol "smtp"`) || f.Setting != finding.SettingStartTLS {
		t.Errorf("fix %q (setting %q)", f.Fix, f.Setting)
	}
}

// TestCheckStartTLSWrongProtocol: IMAP spoken to MariaDB, whose greeting
// is a binary packet, is starttls.unexpected-reply quoting the server's
// bytes escaped once ("d\x00\x00\x00", as the reply itself), not twice.
func TestCheckStartTLSWrongProtocol(t *testing.T) {
	srv := servers.Need(t, "mariadb")
	tg := srv.Target(t, "mysql", servertest.Good)
	tg.Protocol = "imap"
	rep := checkTarget(t, tg, nil)
	if len(rep.Findings) != 1 || rep.Findings[0].ID != finding.StartTLSUnexpected {
		t.Fatalf("findings %v, want starttls.unexpected-reply", ids(rep))
	}
	if d := rep.Findings[0].Detail; !strings.Contains(d, `last words were "`) || strings.Contains(d, `\\x`) {
		t.Errorf("detail %q: the server's bytes are escaped twice", d)
	}
}

// TestCheckStartTLSIRCToAnotherServer: IRC spoken to Postfix, to vsftpd
// and to Dovecot's POP3 ends at the server's first line, which no IRC
// server sends (a numeric reply without the server's prefix, "+OK"), as
// starttls.unexpected-reply whose fix names the protocol the server's
// greeting is; before, the IRC dialogue skipped those lines and waited for
// its reply to CAP LS until the check timed out.
func TestCheckStartTLSIRCToAnotherServer(t *testing.T) {
	for _, c := range []struct{ server, protocol string }{{"postfix", "smtp"}, {"vsftpd", "ftp"}, {"dovecot", "pop3"}} {
		t.Run(c.server, func(t *testing.T) {
			t.Parallel()
			tg := servers.Need(t, c.server).Target(t, c.protocol, servertest.Good)
			tg.Protocol = "irc"
			start := time.Now()
			rep := checkTarget(t, tg, nil)
			if len(rep.Findings) != 1 || rep.Findings[0].ID != finding.StartTLSUnexpected {
				t.Fatalf("findings %v, want starttls.unexpected-reply", ids(rep))
			}
			if want := fmt.Sprintf("STARTTLS protocol %q", c.protocol); !strings.Contains(rep.Findings[0].Fix, want) {
				t.Errorf("fix %q does not name the protocol the server speaks: %s", rep.Findings[0].Fix, want)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v: the check waited for an IRC reply", took)
			}
		})
	}
}

// TestCheckStartTLSPipelined: a server that pipelines plaintext after its
// go-ahead (no real server can be made to, so an in-process one) is
// starttls.plaintext-after-upgrade, and the handshake still completes.
func TestCheckStartTLSPipelined(t *testing.T) {
	w := getWorld(t)
	leaf := w.leaf(t, "mail.lab.tlskit.test", lab.LeafOptions{})
	addr := peertest.ServeOne(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 512)
		io.WriteString(c, "220 mail ESMTP\r\n")
		c.Read(buf)
		io.WriteString(c, "250-mail\r\n250 STARTTLS\r\n")
		c.Read(buf)
		io.WriteString(c, "220 go ahead\r\n250 injected before TLS\r\n")
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{leaf}})
		if tc.Handshake() == nil {
			io.Copy(io.Discard, tc)
		}
	})
	rep := Run(context.Background(), Options{Address: addr, ServerName: "mail.lab.tlskit.test", StartTLS: starttls.SMTP,
		Verifier: &trust.Verifier{Anchors: trust.NewAnchors("lab root", w.pki.Root)}, Linger: 200 * time.Millisecond})
	if !finding.Has(rep.Findings, finding.StartTLSPlaintext) || rep.Version == "" {
		t.Fatalf("findings %v, version %q", ids(rep), rep.Version)
	}
	if rep.StartTLS.PipelinedText != `250 injected before TLS\r\n` {
		t.Errorf("pipelined %q", rep.StartTLS.PipelinedText)
	}
}

// TestCheckStartTLSPlaintextInsteadOfTLS: a server whose plaintext comes
// after the ClientHello, where its ServerHello belongs, is
// starttls.plaintext-after-upgrade too, not protocol.not-tls.
func TestCheckStartTLSPlaintextInsteadOfTLS(t *testing.T) {
	addr := peertest.ServeOne(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		io.WriteString(c, "+OK pop3 ready\r\n")
		c.Read(buf) // CAPA
		io.WriteString(c, "+OK\r\nSTLS\r\n.\r\n")
		c.Read(buf) // STLS
		io.WriteString(c, "+OK go ahead\r\n")
		c.Read(buf) // ClientHello
		io.WriteString(c, "-ERR unknown command\r\n")
		io.Copy(io.Discard, c)
	})
	rep := Run(context.Background(), Options{Address: addr, ServerName: "pop.lab.tlskit.test", StartTLS: starttls.POP3, Linger: 200 * time.Millisecond})
	if !finding.Has(rep.Findings, finding.StartTLSPlaintext) || finding.Has(rep.Findings, finding.ProtocolNotTLS) {
		t.Fatalf("findings %v", ids(rep))
	}
}

// TestCheckStartTLSTurnedAway: a Postfix that rejects the client in its
// greeting (554) or defers its EHLO (450) is starttls.refused quoting that
// reply and saying that whether it offers STARTTLS is not known; not
// starttls.not-offered ("no TLS here"), and not a refusal of a STARTTLS
// that was never sent. posttls-finger reports the same two servers as
// "SMTP service not available: 554 …" and "EHLO rejected: 450 …"
// (starttls.TestRealPostfixTurnsAway).
func TestCheckStartTLSTurnedAway(t *testing.T) {
	srv := servers.Need(t, "postfix")
	for _, tc := range []struct {
		v    servertest.Variant
		code string
	}{{servertest.TurnsAway, "554 5.7.1 "}, {servertest.DefersHello, "450 4.3.2 "}} {
		t.Run(string(tc.v), func(t *testing.T) {
			t.Parallel()
			rep := checkTarget(t, srv.Target(t, "smtp", tc.v), nil)
			if rep.Verdict != diagnose.Failed || len(rep.Findings) != 1 || rep.Findings[0].ID != finding.StartTLSRefused {
				t.Fatalf("verdict %s findings %v, want one starttls.refused", rep.Verdict, ids(rep))
			}
			f := rep.Findings[0]
			text := f.Title + "\n" + f.Detail
			if !strings.Contains(f.Title, tc.code) || len(f.Evidence) != 1 || !strings.HasPrefix(f.Evidence[0], tc.code) {
				t.Errorf("the server's %q… reply is not quoted: %+v", tc.code, f)
			}
			if !strings.Contains(text, "not known") || strings.Contains(text, "answered it with nothing") || strings.Contains(text, "asked for STARTTLS .") {
				t.Errorf("the finding does not say STARTTLS was never asked:\n%s", text)
			}
			if rep.StartTLS.Command != "" || !strings.HasPrefix(rep.StartTLS.Reply, tc.code) {
				t.Errorf("upgrade command %q reply %q", rep.StartTLS.Command, rep.StartTLS.Reply)
			}
		})
	}
}

// TestCheckStartTLSXMPPUnknownDomain: Prosody answers a stream opened to a
// domain it does not serve with the stream error host-unknown, before
// <starttls/> could be asked: starttls.refused quoting it, whose fix is the
// domain, not a certificate.
func TestCheckStartTLSXMPPUnknownDomain(t *testing.T) {
	srv := servers.Need(t, "prosody")
	rep := checkTarget(t, srv.Target(t, "xmpp", servertest.Good), func(o *Options) { o.XMPPDomain = "unserved.example" })
	if len(rep.Findings) != 1 || rep.Findings[0].ID != finding.StartTLSRefused {
		t.Fatalf("findings %v, want one starttls.refused", ids(rep))
	}
	f := rep.Findings[0]
	if !strings.Contains(f.Title, "host-unknown") || !strings.Contains(f.Detail, "not known") || !strings.Contains(f.Fix, "domain") || strings.Contains(f.Detail, "asked for <starttls/> .") {
		t.Errorf("finding %+v", f)
	}
}
