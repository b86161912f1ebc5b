package capture

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/internal/servertest"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/transcript"
	"github.com/tlskit/tlskit/trust"
)

// servers are the real servers of every protocol, started once for the
// package by the first test that needs one.
var servers = servertest.NewSet(servertest.Names()...)

func TestMain(m *testing.M) { os.Exit(servers.Run(m)) }

// startTLSCase is one session recorded by TestCaptureStartTLS: a real
// client (openssl s_client -starttls, or tlskit's own check for IRC, which
// s_client cannot speak to InspIRCd) against a real server.
type startTLSCase struct {
	server, proto string
	variant       servertest.Variant
	send          string // written by the client inside TLS
	outcome       string
	finding       string
}

// TestCaptureStartTLS records real STARTTLS sessions of every protocol
// with dumpcap on loopback (high ports, so the protocol must be
// recognised from the preamble, not the port) and decodes them with
// pcap's engine: the preamble as plaintext events, then TLS from the
// first byte after the go-ahead, decrypted with the clients' key logs; a
// refusal is reported as starttls.refused, a session that never asked is
// not reported at all. tshark, given the same capture and key log, must
// see the same decrypted SMTP command.
func TestCaptureStartTLS(t *testing.T) {
	peertest.Need(t, "dumpcap")
	peertest.Need(t, "openssl")
	cases := []startTLSCase{
		{"postfix", "smtp", servertest.Good, "EHLO via-openssl\r\n", "upgraded", ""},
		{"postfix", "smtp", servertest.Refused, "", "refused", finding.StartTLSRefused},
		{"dovecot", "imap", servertest.Good, "a1 CAPABILITY\r\n", "upgraded", ""},
		{"dovecot", "pop3", servertest.Good, "CAPA\r\n", "upgraded", ""},
		{"dovecot", "lmtp", servertest.Good, "LHLO via-openssl\r\n", "upgraded", ""},
		{"dovecot", "sieve", servertest.Good, "CAPABILITY\r\n", "upgraded", ""},
		{"slapd", "ldap", servertest.Good, "", "upgraded", ""},
		{"postgres", "postgres", servertest.Good, "", "upgraded", ""},
		{"mariadb", "mysql", servertest.Good, "", "upgraded", ""},
		{"prosody", "xmpp", servertest.Good, "<presence/>", "upgraded", ""},
		{"prosody", "xmpp-server", servertest.Expired, "", "upgraded", finding.CertExpired},
		{"vsftpd", "ftp", servertest.Good, "FEAT\r\n", "upgraded", ""},
		{"inn", "nntp", servertest.Good, "CAPABILITIES\r\n", "upgraded", ""},
		{"inspircd", "irc", servertest.Good, "", "upgraded", ""},
		{"postfix", "smtp", servertest.NoTLS, "", "", ""}, // never asks: not reported
	}
	var targets []servertest.Target
	var filter []string
	for _, c := range cases {
		tg := servers.Need(t, c.server).Target(t, c.proto, c.variant)
		targets = append(targets, tg)
		filter = append(filter, "tcp port "+strconv.Itoa(tg.Port()))
	}
	dir := t.TempDir()
	lc := peertest.StartCapture(t, strings.Join(filter, " or "))

	keyFiles := make([]string, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		keyFiles[i] = filepath.Join(dir, strconv.Itoa(i)+".keys")
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c.proto == "irc" {
				kf, _ := os.OpenFile(keyFiles[i], os.O_CREATE|os.O_WRONLY, 0o600)
				defer kf.Close()
				probe.Run(context.Background(), probe.Options{Address: targets[i].Addr, ServerName: targets[i].ServerName,
					StartTLS: starttls.IRC, KeyLog: kf, Verifier: &trust.Verifier{Anchors: trust.NewAnchors("lab", servers.PKI().Root)}})
				return
			}
			if c.proto == "smtp" && c.variant == servertest.NoTLS {
				probe.Run(context.Background(), probe.Options{Address: targets[i].Addr, ServerName: targets[i].ServerName, StartTLS: starttls.SMTP})
				return
			}
			openssl(t, targets[i], c, keyFiles[i])
		}()
	}
	wg.Wait()
	pcap := lc.Stop()

	keys := &keylog.Log{}
	var all []byte
	for _, f := range keyFiles {
		b, _ := os.ReadFile(f)
		all = append(all, b...)
		if l, err := keylog.ParseFile(f); err == nil {
			keys.Merge(l)
		}
	}
	allKeys := filepath.Join(dir, "all.keys")
	os.WriteFile(allKeys, all, 0o600)

	res := analyze(t, pcap, "", Options{Keys: keys, Time: func() time.Time { return servers.PKI().Now }})
	if res.err != nil {
		t.Fatal(res.err)
	}
	byPort := map[string]*Connection{}
	for _, c := range res.conns {
		byPort[port(c.Server)] = c
	}
	for i, c := range cases {
		t.Run(c.server+"/"+c.proto+"/"+string(c.variant), func(t *testing.T) {
			conn := byPort[strconv.Itoa(targets[i].Port())]
			if c.outcome == "" {
				if conn != nil {
					t.Fatalf("a session that never asked for STARTTLS was reported: %+v", conn.StartTLS)
				}
				return
			}
			if conn == nil {
				t.Fatalf("no connection to %s in the capture (%d reported, %d ignored)", targets[i].Addr, len(res.conns), res.sum.Ignored)
			}
			up := conn.StartTLS
			if up == nil || up.Protocol != c.proto || up.Outcome != c.outcome {
				t.Fatalf("upgrade %+v, want %s %s", up, c.proto, c.outcome)
			}
			// Every server here offers the upgrade; the capture shows it
			// where the client asked for the list (s_client sends POP3's
			// STLS and FTP's AUTH TLS without CAPA or FEAT, so there the
			// capture holds no list and offered stays false).
			if want := c.proto != "pop3" && c.proto != "ftp"; up.Offered != want {
				t.Errorf("offered %v, want %v", up.Offered, want)
			}
			var plain int
			for _, e := range conn.Transcript {
				if e.Type == transcript.TypePlaintext {
					plain++
				}
				if e.Type == transcript.TypeEncrypted {
					t.Errorf("record %d of the %s stayed encrypted: %s", e.Record, e.From, e.Note)
				}
			}
			if plain < 2 {
				t.Errorf("%d plaintext events", plain)
			}
			if c.finding != "" && !hasFinding(conn.Findings, c.finding) {
				t.Errorf("findings %v lack %s", ids(conn.Findings), c.finding)
			}
			if c.outcome != "upgraded" {
				// No TLS session was established: the verdict of the same
				// server checked live (probe) is failed, not untrusted.
				if conn.Verdict != diagnose.Failed {
					t.Errorf("verdict %s, want failed: the upgrade was %s and no handshake happened", conn.Verdict, up.Outcome)
				}
				// openssl, not tlskit, spoke in this capture.
				for _, f := range conn.Findings {
					if strings.Contains(f.Detail, "tlskit sent") {
						t.Errorf("%s says tlskit sent the command of the captured client: %s", f.ID, f.Detail)
					}
				}
				return
			}
			tr := &transcript.Transcript{Events: conn.Transcript}
			for _, side := range []transcript.Side{transcript.Client, transcript.Server} {
				if f := tr.First(side, "finished"); f == nil || !f.Decrypted {
					t.Errorf("the %s's Finished was not decrypted", side)
				}
			}
			if tr.Events[0].Type != transcript.TypePlaintext {
				t.Errorf("the transcript starts with %s", tr.Events[0].Type)
			}
			if c.send != "" && !bytes.Contains(res.data[conn.Index], []byte(strings.TrimSpace(c.send))) {
				t.Errorf("the decrypted data lacks %q: %.300q", c.send, res.data[conn.Index])
			}
		})
	}

	// tshark's own reading of the SMTP session, with the same key log.
	if _, err := exec.LookPath("tshark"); err == nil {
		out, err := peertest.Tshark(t, "-r", pcap, "-o", "tls.keylog_file:"+allKeys,
			"-d", "tcp.port=="+strconv.Itoa(targets[0].Port())+",smtp", "-Y", "smtp.req.command", "-T", "fields", "-e", "smtp.req.command", "-e", "smtp.req.parameter").CombinedOutput()
		if err != nil {
			t.Fatalf("tshark: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "EHLO\tvia-openssl") {
			t.Errorf("tshark does not see the EHLO inside TLS that pcap decrypted:\n%s", out)
		}
	} else if os.Getenv("TLSKIT_REQUIRE_PEERS") == "1" {
		t.Fatal("tshark is not installed")
	}
}

// openssl runs openssl s_client -starttls against tg, with its key log in
// keys, and once the handshake is done (its application secrets are in the
// key log) writes c.send and ends its input: s_client then sends the data,
// a close_notify, and exits. Every step waits for what it needs, up to a
// bound that only a broken peer reaches, and a peer that reaches it is an
// error with its output.
func openssl(t *testing.T, tg servertest.Target, c startTLSCase, keys string) {
	proto := c.proto
	args := []string{"s_client", "-connect", tg.Addr, "-starttls", proto, "-keylogfile", keys, "-servername", tg.ServerName,
		"-quiet", "-no_ign_eof", "-nocommands"}
	if strings.HasPrefix(proto, "xmpp") {
		args = append(args, "-xmpphost", tg.ServerName)
	}
	cmd := exec.Command("openssl", args...)
	in, _ := cmd.StdinPipe()
	var out peertest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Error(err)
		return
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	const bound = 60 * time.Second
	if c.outcome == "upgraded" {
		deadline := time.After(bound)
		for {
			if b, err := os.ReadFile(keys); err == nil && (bytes.Contains(b, []byte("CLIENT_TRAFFIC_SECRET_0 ")) || bytes.Contains(b, []byte("CLIENT_RANDOM "))) {
				break
			}
			select {
			case <-done:
				t.Errorf("openssl -starttls %s ended before its handshake: %s", proto, out.String())
				return
			case <-deadline:
				cmd.Process.Kill()
				<-done
				t.Errorf("openssl -starttls %s: no handshake in %v: %s", proto, bound, out.String())
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		in.Write([]byte(c.send))
	}
	in.Close()
	select {
	case <-done:
	case <-time.After(bound):
		cmd.Process.Kill()
		<-done
		t.Errorf("openssl -starttls %s did not end in %v after its input: %s", proto, bound, out.String())
	}
}
