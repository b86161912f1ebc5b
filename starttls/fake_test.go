package starttls

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
)

// The tests of this file use in-process fake servers, for the failure
// modes no real server of real_test.go can be made to show: refusals with
// other codes, malformed replies, pipelined bytes, hostile sizes.

// step is one move of a fake server: send says what to write, expect what
// the next client line (or, with n, the next n bytes) must be.
type step struct {
	send   string
	expect string
	n      int
	close  bool // close the connection after sending
}

// fake serves one connection with the steps and returns its address.
func fake(t *testing.T, steps ...step) string {
	t.Helper()
	return peertest.ServeOne(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		for _, s := range steps {
			if s.send != "" {
				if _, err := io.WriteString(c, s.send); err != nil {
					return
				}
			}
			if s.close {
				return
			}
			switch {
			case s.n > 0:
				b := make([]byte, s.n)
				if _, err := io.ReadFull(r, b); err != nil {
					return
				}
				if s.expect != "" && string(b) != s.expect {
					t.Errorf("fake: got % x, want % x", b, s.expect)
					return
				}
			case s.expect != "":
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if got := strings.TrimRight(line, "\r\n"); got != s.expect {
					t.Errorf("fake: got %q, want %q", got, s.expect)
					return
				}
			}
		}
		// Linger so the client reads everything before the close.
		io.Copy(io.Discard, r)
	})
}

func negotiate(t *testing.T, addr string, cfg Config) (*Result, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return Negotiate(ctx, c, cfg)
}

func TestFakeServers(t *testing.T) {
	ehlo := step{expect: "EHLO tlskit.invalid"}
	tests := []struct {
		name     string
		proto    Protocol
		steps    []step
		outcome  Outcome
		reply    string // substring of the Error's Reply
		pipeline string
	}{
		{"smtp multi-line greeting and upgrade", SMTP, []step{
			{send: "220-mail.example ESMTP\r\n220-second line\r\n220 last\r\n"}, ehlo,
			{send: "250-mail.example\r\n250-SIZE 100\r\n250 starttls\r\n", expect: "STARTTLS"},
			{send: "220 2.0.0 go ahead\r\n"}}, Upgraded, "", ""},
		{"smtp refused 454", SMTP, []step{{send: "220 x\r\n"}, ehlo,
			{send: "250-x\r\n250 STARTTLS\r\n", expect: "STARTTLS"}, {send: "454 4.7.0 TLS not available\r\n"}},
			Refused, "454 4.7.0 TLS not available", ""},
		{"smtp refused 502", SMTP, []step{{send: "220 x\r\n"}, ehlo,
			{send: "250-x\r\n250 STARTTLS\r\n", expect: "STARTTLS"}, {send: "502 5.5.1 no\r\n"}},
			Refused, "502 5.5.1 no", ""},
		{"smtp not offered", SMTP, []step{{send: "220 x\r\n"}, ehlo, {send: "250-x\r\n250-SIZE 1\r\n250 8BITMIME\r\n"}},
			NotOffered, "SIZE 1 8BITMIME", ""},
		{"smtp EHLO unknown", SMTP, []step{{send: "220 x\r\n"}, ehlo, {send: "500 what\r\n"}},
			NotOffered, "500 what", ""},
		{"smtp 554 greeting", SMTP, []step{{send: "554 no service for you\r\n"}},
			Refused, "554 no service", ""},
		{"smtp greeting not a reply", SMTP, []step{{send: "hello there\r\n"}},
			Unexpected, "hello there", ""},
		{"smtp mixed codes", SMTP, []step{{send: "220 x\r\n"}, ehlo, {send: "250-x\r\n251 y\r\n"}},
			Unexpected, "251 y", ""},
		{"smtp odd upgrade code", SMTP, []step{{send: "220 x\r\n"}, ehlo,
			{send: "250-x\r\n250 STARTTLS\r\n", expect: "STARTTLS"}, {send: "250 sure\r\n"}},
			Unexpected, "250 sure", ""},
		{"smtp pipelined after 220", SMTP, []step{{send: "220 x\r\n"}, ehlo,
			{send: "250-x\r\n250 STARTTLS\r\n", expect: "STARTTLS"}, {send: "220 go\r\n250 injected\r\n"}},
			Upgraded, "", "250 injected\r\n"},
		{"smtp implicit TLS alert", SMTP, []step{{send: "\x15\x03\x01\x00\x02\x02\x32"}},
			ImplicitTLS, "a TLS record", ""},
		{"smtp closed after greeting", SMTP, []step{{send: "220 x\r\n", close: true}},
			Failed, "", ""},
		{"smtp line too long", SMTP, []step{{send: "220 " + strings.Repeat("x", MaxLine) + "\r\n"}},
			Unexpected, "", ""},
		{"smtp endless reply", SMTP, []step{{send: "220 x\r\n"}, ehlo, {send: strings.Repeat("250-x\r\n", MaxLines+1)}},
			Unexpected, "", ""},
		{"lmtp", LMTP, []step{{send: "220 x LMTP\r\n", expect: "LHLO tlskit.invalid"},
			{send: "250-x\r\n250 STARTTLS\r\n", expect: "STARTTLS"}, {send: "220 go\r\n"}}, Upgraded, "", ""},
		// Keywords are ASCII: a long s (U+017F) does not spell them, though
		// Unicode upper-cases it to S.
		{"smtp long-s STARTTLS", SMTP, []step{{send: "220 x\r\n"}, ehlo, {send: "250-x\r\n250 \u017fTARTTLS\r\n"}},
			NotOffered, "\u017fTARTTLS", ""},
		{"imap long-s STARTTLS", IMAP, []step{{send: "* OK [CAPABILITY IMAP4rev1 \u017fTARTTLS] hi\r\n"}},
			NotOffered, "", ""},
		{"imap caps in greeting", IMAP, []step{{send: "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n", expect: "a2 STARTTLS"},
			{send: "a2 OK go\r\n"}}, Upgraded, "", ""},
		{"imap capability command", IMAP, []step{{send: "* OK hi\r\n", expect: "a1 CAPABILITY"},
			{send: "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na1 OK done\r\n", expect: "a2 STARTTLS"},
			{send: "a2 NO [UNAVAILABLE] TLS is broken\r\n"}}, Refused, "a2 NO", ""},
		{"imap preauth", IMAP, []step{{send: "* PREAUTH [CAPABILITY IMAP4rev1] welcome\r\n"}}, NotOffered, "PREAUTH", ""},
		{"imap bye", IMAP, []step{{send: "* BYE too busy\r\n"}}, Refused, "BYE too busy", ""},
		{"imap no starttls", IMAP, []step{{send: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n"}}, NotOffered, "IMAP4rev1 AUTH=PLAIN", ""},
		{"pop3 no CAPA", POP3, []step{{send: "+OK hi\r\n", expect: "CAPA"}, {send: "-ERR unknown\r\n", expect: "STLS"},
			{send: "+OK begin\r\n"}}, Upgraded, "", ""},
		{"pop3 refused", POP3, []step{{send: "+OK hi\r\n", expect: "CAPA"}, {send: "+OK\r\nSTLS\r\nUSER\r\n.\r\n", expect: "STLS"},
			{send: "-ERR not now\r\n"}}, Refused, "-ERR not now", ""},
		{"pop3 not offered", POP3, []step{{send: "+OK hi\r\n", expect: "CAPA"}, {send: "+OK\r\nUSER\r\n..dot\r\n.\r\n"}},
			NotOffered, "USER .dot", ""},
		{"ftp no FEAT", FTP, []step{{send: "220 hi\r\n", expect: "FEAT"}, {send: "500 FEAT unknown\r\n", expect: "AUTH TLS"},
			{send: "234 go\r\n"}}, Upgraded, "", ""},
		{"ftp refused", FTP, []step{{send: "220-hi\r\nmore\r\n220 end\r\n", expect: "FEAT"},
			{send: "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n211 End\r\n", expect: "AUTH TLS"}, {send: "534 policy says no\r\n"}},
			Refused, "534 policy", ""},
		{"ftp not offered", FTP, []step{{send: "220 hi\r\n", expect: "FEAT"}, {send: "211-Features:\r\n MDTM\r\n211 End\r\n"}},
			NotOffered, "MDTM", ""},
		{"nntp 502 greeting", NNTP, []step{{send: "502 go away\r\n"}}, Refused, "502 go away", ""},
		{"nntp refused 580", NNTP, []step{{send: "200 hi\r\n", expect: "CAPABILITIES"}, {send: "101 caps\r\nVERSION 2\r\nSTARTTLS\r\n.\r\n", expect: "STARTTLS"},
			{send: "580 no\r\n"}}, Refused, "580 no", ""},
		{"sieve refused", Sieve, []step{{send: "\"IMPLEMENTATION\" \"x\"\r\n\"STARTTLS\"\r\nOK \"hi\"\r\n", expect: "STARTTLS"},
			{send: "NO \"no TLS today\"\r\n"}}, Refused, "NO \"no TLS today\"", ""},
		{"sieve garbage", Sieve, []step{{send: "hello\r\n"}}, Unexpected, "hello", ""},
		{"irc without CAP", IRC, []step{{send: ":irc NOTICE * :hi\r\n", expect: "CAP LS 302"}, {send: ":irc 421 * CAP :Unknown command\r\n", expect: "STARTTLS"},
			{send: ":irc 691 * :STARTTLS failed\r\n"}}, Refused, "691", ""},
		{"irc multi-line CAP", IRC, []step{{expect: "CAP LS 302"}, {send: ":irc CAP * LS * :a b\r\nPING :x\r\n", expect: "PONG :x"},
			{send: ":irc CAP * LS :tls c\r\n", expect: "STARTTLS"}, {send: ":irc 670 * :go ahead\r\n"}}, Upgraded, "", ""},
		{"ldap unavailable", LDAP, []step{{n: 31}, {send: ldapResponse(1, 52, "TLS not configured")}}, Refused, "unavailable (52)", ""},
		{"ldap notice of disconnection", LDAP, []step{{n: 31}, {send: ldapNotice()}}, Refused, "1.3.6.1.4.1.1466.20036", ""},
		{"ldap wrong id", LDAP, []step{{n: 31}, {send: ldapResponse(7, 0, "")}}, Unexpected, "messageID 7", ""},
		{"ldap garbage", LDAP, []step{{n: 31}, {send: "HTTP/1.1 400 Bad Request\r\n\r\n"}}, Unexpected, "", ""},
		{"ldap huge length", LDAP, []step{{n: 31}, {send: "\x30\x84\x7f\xff\xff\xff"}}, Unexpected, "", ""},
		{"ldap pipelined", LDAP, []step{{n: 31}, {send: ldapResponse(1, 0, "") + "junk"}}, Upgraded, "", "junk"},
		{"postgres error", Postgres, []step{{n: 8, expect: string(pgSSLRequest)}, {send: "E\x00\x00\x00\x20SFATAL\x00C0A000\x00Mno SSL here\x00\x00"}}, Refused, "FATAL 0A000: no SSL here", ""},
		{"postgres junk", Postgres, []step{{n: 8}, {send: "X"}}, Unexpected, "0x58", ""},
		{"postgres pipelined after S", Postgres, []step{{n: 8}, {send: "SZ\x00\x00\x00\x05I"}}, Upgraded, "", "Z\x00\x00\x00\x05I"},
		{"postgres implicit TLS", Postgres, []step{{n: 8}, {send: "\x15\x03\x03\x00\x02\x02\x46"}}, ImplicitTLS, "", ""},
		{"mysql error greeting", MySQL, []step{{send: myPacket(0, "\xff\x6a\x04Host '1.2.3.4' is blocked")}}, Refused, "1130: Host", ""},
		{"mysql short greeting", MySQL, []step{{send: myPacket(0, "\x0a5.0\x00\x01")}}, Unexpected, "", ""},
		{"xmpp failure", XMPP, []step{{send: xmppOpen + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>"},
			{send: "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>"}}, Refused, "<failure", ""},
		{"xmpp stream error", XMPP, []step{{send: xmppOpen + "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"}},
			Refused, "host-unknown", ""},
		{"xmpp split features", XMPP, []step{{send: xmppOpen + "<stream:feat"}, {send: "ures><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"},
			{send: "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"}}, Upgraded, "", ""},
		{"xmpp not xml", XMPP, []step{{send: "SSH-2.0-OpenSSH_9\r\n"}}, Unexpected, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := fake(t, tt.steps...)
			res, err := negotiate(t, addr, Config{Protocol: tt.proto, Domain: "example.test"})
			for _, m := range res.Messages {
				t.Logf("%s %s: %q", m.From, m.Stage, m.Text)
			}
			if res.Outcome != tt.outcome || OutcomeOf(err) != tt.outcome {
				t.Fatalf("outcome %s, error %v; want %s", res.Outcome, err, tt.outcome)
			}
			var e *Error
			if tt.outcome == Upgraded {
				if err != nil {
					t.Fatal(err)
				}
			} else if !errors.As(err, &e) {
				t.Fatalf("error %T, want *Error", err)
			} else if !strings.Contains(e.Reply, tt.reply) && !strings.Contains(e.Error(), tt.reply) {
				t.Errorf("error %q does not quote %q", e.Error(), tt.reply)
			}
			if string(res.Pipelined) != tt.pipeline {
				t.Errorf("pipelined %q, want %q", res.Pipelined, tt.pipeline)
			}
		})
	}
}

const xmppOpen = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='example.test' id='1' version='1.0'>"

// ldapResponse encodes an ExtendedResponse (short lengths only).
func ldapResponse(id, code int, diag string) string {
	op := []byte{tagEnumerated, 1, byte(code), tagOctetString, 0, tagOctetString, byte(len(diag))}
	op = append(op, diag...)
	msg := append([]byte{tagInteger, 1, byte(id), tagExtendedRes, byte(len(op))}, op...)
	return string(append([]byte{tagSequence, byte(len(msg))}, msg...))
}

// ldapNotice encodes a Notice of Disconnection (RFC 4511, Section 4.4.1).
func ldapNotice() string {
	op := []byte{tagEnumerated, 1, 52, tagOctetString, 0, tagOctetString, 0, tagRespName, byte(len(oidNoticeOfDisc))}
	op = append(op, oidNoticeOfDisc...)
	msg := append([]byte{tagInteger, 1, 0, tagExtendedRes, byte(len(op))}, op...)
	return string(append([]byte{tagSequence, byte(len(msg))}, msg...))
}

func myPacket(seq byte, payload string) string {
	n := len(payload)
	return string([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}) + payload
}

// TestSilentServer: a server that never greets makes the dialogue fail
// at the context's deadline, not hang.
func TestSilentServer(t *testing.T) {
	addr := fake(t, step{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := Negotiate(ctx, c, Config{Protocol: SMTP})
	if res.Outcome != Failed || !isTimeout(err) {
		t.Fatalf("outcome %s, %v; want failed with a timeout", res.Outcome, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestCancelledNegotiation: cancelling the context ends the dialogue at
// once, and the error says it was cancelled (context.Canceled), not that
// the server timed out; only the deadline is a timeout.
func TestCancelledNegotiation(t *testing.T) {
	addr := fake(t, step{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	res, err := Negotiate(ctx, c, Config{Protocol: SMTP})
	if res.Outcome != Failed || !errors.Is(err, context.Canceled) || isTimeout(err) {
		t.Fatalf("outcome %s, %v; want failed, cancelled, not a timeout", res.Outcome, err)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("%T is not an *Error", err)
	}
	if msg := err.Error(); !strings.HasSuffix(msg, "reading the greeting: cancelled") {
		t.Errorf("%q: want the step, then that it was cancelled", msg)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestLDAPRequest checks the StartTLS request against RFC 4511's
// encoding: SEQUENCE { INTEGER 1, [APPLICATION 23] { [0] OID } }.
func TestLDAPRequest(t *testing.T) {
	want := "\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + oidStartTLS
	if got := string(ldapExtendedRequest(1, oidStartTLS)); got != want {
		t.Errorf("got % x\nwant % x", got, want)
	}
}

func TestParseProtocolAndPorts(t *testing.T) {
	for in, want := range map[string]Protocol{"SMTP": SMTP, "postgresql": Postgres, "mariadb": MySQL, "managesieve": Sieve, " xmpp-server ": XMPPServer} {
		if p, err := ParseProtocol(in); err != nil || p != want {
			t.Errorf("ParseProtocol(%q) = %q, %v", in, p, err)
		}
	}
	if _, err := ParseProtocol("gopher"); err == nil || !strings.Contains(err.Error(), "smtp, lmtp") {
		t.Errorf("ParseProtocol(gopher) = %v", err)
	}
	for port, want := range map[int]Protocol{25: SMTP, 587: SMTP, 143: IMAP, 5432: Postgres, 443: ""} {
		if got := ForPort(port); got != want {
			t.Errorf("ForPort(%d) = %q", port, got)
		}
	}
	if ip, ok := ImplicitTLSPort(465); !ok || ip.Protocol != SMTP || ip.StartTLSPort != 587 {
		t.Errorf("ImplicitTLSPort(465) = %+v", ip)
	}
	if _, ok := ImplicitTLSPort(587); ok {
		t.Errorf("587 is not implicit TLS")
	}
	for addr, want := range map[string]bool{"mail.example.com:465": true, "[::1]:993": true, "127.0.0.1:587": false, "mail.example.com": false, "x:y": false} {
		if ip, ok := ImplicitTLSAddress(addr); ok != want || ok && ip.Port == 0 {
			t.Errorf("ImplicitTLSAddress(%q) = %+v, %v", addr, ip, ok)
		}
	}
}

func TestEscape(t *testing.T) {
	if got := escape([]byte("a\r\n\x00é\xff")); got != `a\r\n\x00é\xff` {
		t.Errorf("escape: %q", got)
	}
	if got := clip(strings.Repeat("é", maxText)); !strings.HasSuffix(got, "more bytes)") {
		t.Errorf("clip did not clip")
	}
	_ = bytes.MinRead
}

// TestOffer runs the server side against scripted clients: what the client
// sends, what it must read back, and how Offer ends.
func TestOffer(t *testing.T) {
	tests := []struct {
		name    string
		proto   Protocol
		send    string
		want    string // substring of everything the client reads
		outcome Outcome
	}{
		{"smtp", SMTP, "EHLO c\r\nSTARTTLS\r\n", "250-h\r\n250 STARTTLS\r\n220 2.0.0 Ready to start TLS\r\n", Upgraded},
		{"smtp mail first", SMTP, "EHLO c\r\nMAIL FROM:<a@b>\r\nQUIT\r\n", "530 5.7.0 Must issue a STARTTLS command first", Unexpected},
		{"smtp pipelined", SMTP, "EHLO c\r\nSTARTTLS\r\nRSET\r\n", "250 STARTTLS\r\n", Pipelined},
		{"lmtp helo", LMTP, "HELO c\r\nLHLO c\r\nSTARTTLS\r\n", "500 5.5.1 LMTP speaks LHLO", Upgraded},
		{"imap", IMAP, "a CAPABILITY\r\nb LOGIN u p\r\nc STARTTLS\r\n", "b NO [PRIVACYREQUIRED]", Upgraded},
		{"imap greeting", IMAP, "a LOGOUT\r\n", "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] backend ready", Unexpected},
		{"pop3", POP3, "CAPA\r\nUSER u\r\nSTLS\r\n", "+OK capability list follows\r\nSTLS\r\n.\r\n-ERR TLS first", Upgraded},
		{"ldap", LDAP, string(ldapExtendedRequest(3, oidStartTLS)), string(ldapExtendedResponse(3, 0, "")), Upgraded},
		{"ldap whoami", LDAP, string(ldapExtendedRequest(2, oidWhoAmI)), "TLS first", Unexpected},
		{"ldap bind", LDAP, "\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00", "", Unexpected},
		{"postgres gss then ssl", Postgres, "\x00\x00\x00\x08\x04\xd2\x16\x30" + string(pgSSLRequest), "NS", Upgraded},
		{"postgres plaintext", Postgres, "\x00\x00\x00\x10\x00\x03\x00\x00user\x00x\x00\x00", "28000", Unexpected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			type result struct {
				res *Result
				err error
			}
			done := make(chan result, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					done <- result{nil, err}
					return
				}
				defer c.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				var greeting []byte
				if tt.proto == IMAP {
					greeting = []byte("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] backend ready\r\n")
				}
				_, res, err := Offer(ctx, c, ServerConfig{Protocol: tt.proto, Hostname: "h", Greeting: greeting})
				done <- result{res, err}
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// Send line by line, so that only the pipelined case
			// pipelines.
			for _, part := range strings.SplitAfter(tt.send, "\r\n") {
				if tt.outcome == Pipelined && strings.HasPrefix(part, "STARTTLS") {
					part += "RSET\r\n"
				} else if tt.outcome == Pipelined && part == "RSET\r\n" {
					continue
				}
				io.WriteString(c, part)
				time.Sleep(20 * time.Millisecond)
			}
			r := <-done
			c.SetReadDeadline(time.Now().Add(time.Second))
			got, _ := io.ReadAll(c)
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("the client read %q, want %q in it", got, tt.want)
			}
			if r.res == nil || r.res.Outcome != tt.outcome || OutcomeOf(r.err) != tt.outcome {
				t.Fatalf("outcome %v, %v; want %s", r.res, r.err, tt.outcome)
			}
			if tt.outcome == Pipelined && strings.Contains(string(got), "220 2.0.0") {
				t.Errorf("the go-ahead was sent to a client that pipelined")
			}
		})
	}
}
