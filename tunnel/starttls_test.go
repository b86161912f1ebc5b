package tunnel_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/servertest"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/tunnel"
)

// servers are the real servers behind (or in front of) the STARTTLS
// tunnels, started once for the package by the first test that needs one.
var servers = servertest.NewSet("postfix", "dovecot", "slapd", "postgres", "mariadb")

func TestMain(m *testing.M) { os.Exit(servers.Run(m)) }

// startTLSClientTunnel is a client-mode proxy whose target upgrades in
// band; it verifies the target against the servers' lab root.
func startTLSClientTunnel(t *testing.T, p starttls.Protocol, tg servertest.Target, log *logBuf) string {
	t.Helper()
	pol := &tlskit.Policy{Trust: []string{"file:" + servers.Root()}, ServerName: tg.ServerName, Time: func() time.Time { return servers.PKI().Now }}
	cfg, err := pol.ClientConfig("")
	must(t, err)
	var d net.Dialer
	px := &tunnel.Proxy{Name: "client-" + string(p), Logger: log.logger(),
		Dial: tunnel.StartTLSDial(p, tg.Addr, "", d.DialContext, func() *tls.Config { return cfg })}
	return serve(t, px)
}

// startTLSServerTunnel is a server-mode proxy offering p's upgrade in
// front of the plaintext target, with a lab certificate for 127.0.0.1.
func startTLSServerTunnel(t *testing.T, p starttls.Protocol, target string, log *logBuf) string {
	t.Helper()
	leaf, err := servers.PKI().Leaf(lab.LeafOptions{DNSNames: []string{"tunnel.lab.tlskit.test"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
	must(t, err)
	cfg := &tls.Config{Certificates: []tls.Certificate{leaf}}
	var d net.Dialer
	hs, dial := tunnel.StartTLSServe(p, target, "tunnel.lab.tlskit.test", d.DialContext, func() *tls.Config { return cfg })
	px := &tunnel.Proxy{Name: "server-" + string(p), Logger: log.logger(), Handshake: hs, Dial: dial}
	return serve(t, px)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	peertest.Need(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func hostPort(addr string) (string, string) {
	h, p, _ := net.SplitHostPort(addr)
	return h, p
}

// TestStartTLSClientTunnel: real plaintext clients (curl for SMTP, IMAP and
// POP3, ldapsearch, psql, mariadb) talk through a client-mode tunnel to the
// real servers, which upgrade with STARTTLS; each server says its side of
// the session is encrypted (PostgreSQL's pg_stat_ssl, MariaDB's
// Ssl_cipher) or the exchange can only have happened inside TLS.
func TestStartTLSClientTunnel(t *testing.T) {
	msg := filepath.Join(t.TempDir(), "mail.txt")
	must(t, os.WriteFile(msg, []byte("Subject: tlskit\r\n\r\nthrough the tunnel\r\n"), 0o644))
	tests := []struct {
		server, proto string
		client        func(t *testing.T, addr string) string
		want          string
	}{
		{"postfix", "smtp", func(t *testing.T, addr string) string {
			return run(t, "curl", "-sS", "-v", "smtp://"+addr, "--mail-from", "a@lab.tlskit.test", "--mail-rcpt", "b@lab.tlskit.test", "-T", msg)
		}, "250 2.0.0 Ok: queued"},
		{"dovecot", "imap", func(t *testing.T, addr string) string {
			return run(t, "curl", "-sS", "imap://u:tlskit@"+addr+"/")
		}, "INBOX"},
		{"dovecot", "pop3", func(t *testing.T, addr string) string {
			return run(t, "curl", "-sS", "-v", "pop3://u:tlskit@"+addr+"/")
		}, "+OK Logged in"},
		{"slapd", "ldap", func(t *testing.T, addr string) string {
			return run(t, "ldapsearch", "-x", "-H", "ldap://"+addr, "-b", "", "-s", "base", "supportedExtension")
		}, "1.3.6.1.4.1.1466.20037"},
		{"postgres", "postgres", func(t *testing.T, addr string) string {
			h, p := hostPort(addr)
			return run(t, "psql", "-X", "-A", "-t", fmt.Sprintf("host=%s port=%s user=postgres dbname=postgres sslmode=prefer", h, p),
				"-c", "select 'ssl='||ssl||' '||version from pg_stat_ssl where pid = pg_backend_pid()")
		}, "ssl=true TLSv1.3"},
		{"mariadb", "mysql", func(t *testing.T, addr string) string {
			h, p := hostPort(addr)
			return run(t, "mariadb", "--no-defaults", "-h", h, "-P", p, "-u", "root", "--skip-ssl", "-N", "-e", "SHOW SESSION STATUS LIKE 'Ssl_version'")
		}, "TLSv1.3"},
	}
	for _, tt := range tests {
		t.Run(tt.proto, func(t *testing.T) {
			srv := servers.Need(t, tt.server)
			p, _ := starttls.ParseProtocol(tt.proto)
			var log logBuf
			addr := startTLSClientTunnel(t, p, srv.Target(t, tt.proto, servertest.Good), &log)
			out := tt.client(t, addr)
			if !strings.Contains(out, tt.want) {
				t.Fatalf("%s through the tunnel said:\n%s\nwant %q", tt.proto, out, tt.want)
			}
			if r := log.records("refused"); len(r) > 0 {
				t.Errorf("refusals: %v", r)
			}
		})
	}
}

// TestStartTLSClientTunnelRefusals: the client-mode tunnel refuses a
// server that does not offer the upgrade (real servers with TLS off), one
// that refuses it (Postfix answering 454), one with an expired
// certificate, and logs each with its finding id.
func TestStartTLSClientTunnelRefusals(t *testing.T) {
	tests := []struct {
		server, proto string
		variant       servertest.Variant
		finding       string
	}{
		{"postfix", "smtp", servertest.NoTLS, finding.StartTLSNotOffered},
		{"postfix", "smtp", servertest.Refused, finding.StartTLSRefused},
		{"postfix", "smtp", servertest.Expired, finding.CertExpired},
		{"dovecot", "imap", servertest.NoTLS, finding.StartTLSNotOffered},
		{"dovecot", "pop3", servertest.NoTLS, finding.StartTLSNotOffered},
		{"slapd", "ldap", servertest.NoTLS, finding.StartTLSNotOffered},
		{"postgres", "postgres", servertest.NoTLS, finding.StartTLSNotOffered},
		{"mariadb", "mysql", servertest.NoTLS, finding.StartTLSNotOffered},
	}
	for _, tt := range tests {
		t.Run(tt.proto+"/"+string(tt.variant), func(t *testing.T) {
			srv := servers.Need(t, tt.server)
			p, _ := starttls.ParseProtocol(tt.proto)
			var log logBuf
			addr := startTLSClientTunnel(t, p, srv.Target(t, tt.proto, tt.variant), &log)
			c, err := net.Dial("tcp", addr)
			must(t, err)
			defer c.Close()
			if p == starttls.Postgres {
				// The client speaks first; the tunnel dials once it did.
				c.Write([]byte{0, 0, 0, 8, 0, 3, 0, 0})
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			b, _ := io.ReadAll(c)
			r := log.waitFinding(t, tt.finding)
			if r["side"] != "target" {
				t.Errorf("side %v, want target", r["side"])
			}
			if len(b) > 0 {
				t.Errorf("the client was sent %q from a refused session", b)
			}
		})
	}
}

// TestStartTLSServerTunnel: real TLS clients that upgrade in band (curl
// --ssl-reqd for SMTP, IMAP and POP3, ldapsearch -ZZ, psql
// sslmode=verify-ca, mariadb --ssl) talk to a server-mode tunnel in front
// of the real servers running without TLS.
func TestStartTLSServerTunnel(t *testing.T) {
	root := func() string { return servers.Root() }
	msg := filepath.Join(t.TempDir(), "mail.txt")
	must(t, os.WriteFile(msg, []byte("Subject: tlskit\r\n\r\nthrough the tunnel\r\n"), 0o644))
	tests := []struct {
		server, proto string
		client        func(t *testing.T, addr string) string
		want          string
	}{
		{"postfix", "smtp", func(t *testing.T, addr string) string {
			return run(t, "curl", "-sS", "-v", "--ssl-reqd", "--cacert", root(), "smtp://"+addr, "--mail-from", "a@lab.tlskit.test", "--mail-rcpt", "b@lab.tlskit.test", "-T", msg)
		}, "250 2.0.0 Ok: queued"},
		{"dovecot", "imap", func(t *testing.T, addr string) string {
			return run(t, "curl", "-sS", "-v", "--ssl-reqd", "--cacert", root(), "imap://u:tlskit@"+addr+"/")
		}, "INBOX"},
		{"dovecot", "pop3", func(t *testing.T, addr string) string {
			return run(t, "curl", "-sS", "-v", "--ssl-reqd", "--cacert", root(), "pop3://u:tlskit@"+addr+"/")
		}, "+OK Logged in"},
		{"slapd", "ldap", func(t *testing.T, addr string) string {
			os.Setenv("LDAPTLS_CACERT", root())
			defer os.Unsetenv("LDAPTLS_CACERT")
			return run(t, "ldapsearch", "-ZZ", "-x", "-H", "ldap://"+addr, "-b", "", "-s", "base", "namingContexts")
		}, "result: 0 Success"},
		{"postgres", "postgres", func(t *testing.T, addr string) string {
			h, p := hostPort(addr)
			return run(t, "psql", "-X", "-A", "-t", fmt.Sprintf("host=%s port=%s user=postgres dbname=postgres sslmode=verify-full sslrootcert=%s", h, p, root()),
				"-c", "select 'through '||current_user")
		}, "through postgres"},
		{"mariadb", "mysql", func(t *testing.T, addr string) string {
			h, p := hostPort(addr)
			return run(t, "mariadb", "--no-defaults", "-h", h, "-P", p, "-u", "root", "--ssl", "--ssl-ca", root(), "--ssl-verify-server-cert", "-N", "-e", "SELECT CONCAT('through ', 6*7)")
		}, "through 42"},
	}
	for _, tt := range tests {
		t.Run(tt.proto, func(t *testing.T) {
			srv := servers.Need(t, tt.server)
			p, _ := starttls.ParseProtocol(tt.proto)
			var log logBuf
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("the tunnel's log:\n%s", log.String())
				}
			})
			addr := startTLSServerTunnel(t, p, srv.Target(t, tt.proto, servertest.NoTLS).Addr, &log)
			out := tt.client(t, addr)
			if !strings.Contains(out, tt.want) {
				t.Fatalf("%s through the tunnel said:\n%s\nwant %q", tt.proto, out, tt.want)
			}
			if strings.Contains(tt.proto, "smtp") || strings.Contains(tt.proto, "imap") || strings.Contains(tt.proto, "pop3") {
				if !strings.Contains(out, "TLSv1.3") {
					t.Errorf("curl shows no TLS handshake:\n%s", out)
				}
			}
			if r := log.records("refused"); len(r) > 0 {
				t.Errorf("refusals: %v", r)
			}
		})
	}
}

// TestStartTLSServerTunnelRefusals: the server-mode tunnel refuses a
// client that pipelines commands after STARTTLS (the CVE-2011-0411 class:
// they must not run inside TLS) and one that goes on in plaintext (curl
// without --ssl-reqd, which tries to send mail after the 530).
func TestStartTLSServerTunnelRefusals(t *testing.T) {
	srv := servers.Need(t, "postfix")
	backend := srv.Target(t, "smtp", servertest.NoTLS).Addr
	t.Run("pipelined", func(t *testing.T) {
		var log logBuf
		addr := startTLSServerTunnel(t, starttls.SMTP, backend, &log)
		c, err := net.Dial("tcp", addr)
		must(t, err)
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		line, _ := r.ReadString('\n')
		if !strings.HasPrefix(line, "220 postfix.lab.tlskit.test") {
			t.Fatalf("greeting %q: the backend's greeting is passed on", line)
		}
		io.WriteString(c, "EHLO x\r\n")
		for line, _ = r.ReadString('\n'); strings.HasPrefix(line, "250-"); line, _ = r.ReadString('\n') {
		}
		if line != "250 STARTTLS\r\n" {
			t.Fatalf("EHLO reply ends with %q", line)
		}
		io.WriteString(c, "STARTTLS\r\nMAIL FROM:<a@x>\r\n")
		rest, _ := io.ReadAll(r)
		if strings.Contains(string(rest), "220") {
			t.Errorf("the tunnel accepted STARTTLS with commands pipelined after it: %q", rest)
		}
		rec := log.waitFinding(t, finding.StartTLSPlaintext)
		if rec["side"] != "client" {
			t.Errorf("side %v", rec["side"])
		}
	})
	t.Run("plaintext client", func(t *testing.T) {
		peertest.Need(t, "curl")
		var log logBuf
		addr := startTLSServerTunnel(t, starttls.SMTP, backend, &log)
		msg := filepath.Join(t.TempDir(), "mail.txt")
		must(t, os.WriteFile(msg, []byte("Subject: x\r\n\r\nx\r\n"), 0o644))
		out, err := exec.Command("curl", "-sS", "smtp://"+addr, "--mail-from", "a@lab.tlskit.test", "--mail-rcpt", "b@lab.tlskit.test", "-T", msg).CombinedOutput()
		if err == nil {
			t.Fatalf("curl sent mail in plaintext through the tunnel:\n%s", out)
		}
		log.waitFinding(t, finding.StartTLSUnexpected)
	})
}

// TestStartTLSClientTunnelExplained: a Postfix that upgrades and then
// speaks only ECDHE-ECDSA-AES128-CCM in TLS 1.2 (servertest's
// client-unsupported variant) answers the tunnel's Go ClientHello with a
// bare handshake_failure. The oracle that it does speak TLS, only not
// what Go offers, is OpenSSL's client, which upgrades and connects with
// that suite. The tunnel asks Supervisor.Explain after the same upgrade
// (proto smtp) and logs its answer; here Explain is what `tlskit tunnel`
// sets, probe.Explain (a check with its second look), which must name the
// suite Go does not speak: protocol.client-unsupported, not
// protocol.no-shared-cipher.
func TestStartTLSClientTunnelExplained(t *testing.T) {
	srv := servers.Need(t, "postfix")
	tg := srv.Target(t, "smtp", servertest.ClientUnsupported)
	out := run(t, "openssl", "s_client", "-connect", tg.Addr, "-starttls", "smtp", "-brief", "-tls1_2",
		"-cipher", "ECDHE-ECDSA-AES128-CCM", "-CAfile", servers.Root(), "-servername", tg.ServerName)
	if !strings.Contains(out, "CONNECTION ESTABLISHED") || !strings.Contains(out, "ECDHE-ECDSA-AES128-CCM") {
		t.Fatalf("openssl s_client does not connect with ECDHE-ECDSA-AES128-CCM: not the server the test needs:\n%s", out)
	}
	var asked starttls.Protocol
	policy := func(io.Writer) (*tlskit.Policy, error) {
		return &tlskit.Policy{Trust: []string{"file:" + servers.Root()}, ServerName: tg.ServerName, Time: func() time.Time { return servers.PKI().Now }}, nil
	}
	var logs logBuf
	s := &tunnel.Supervisor{
		Services: []*tunnel.Service{{Name: "smtp", Mode: tunnel.ModeClient, Listen: "127.0.0.1:0", Target: tg.Addr, Protocol: starttls.SMTP, Policy: policy}},
		Logger:   logs.logger(),
		Explain: func(ctx context.Context, target string, proto starttls.Protocol, p *tlskit.Policy) string {
			asked = proto
			return probe.Explain(ctx, target, proto, p)
		},
	}
	addr, _ := runSupervisor(t, s, &logs)
	c, err := net.Dial("tcp", addr)
	must(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if b, _ := io.ReadAll(c); len(b) > 0 {
		t.Errorf("the client was sent %q from a refused session", b)
	}
	r := logs.waitFinding(t, finding.ProtocolClientUnsupported)
	if r["side"] != "target" || asked != starttls.SMTP {
		t.Errorf("refusal %v, Explain asked for %q: want the target side and smtp", r, asked)
	}
}
