package starttls

import (
	"strings"
	"testing"
	"time"
)

// exchange is a recorded conversation: the client's and the server's
// bytes, in the order they were sent.
type exchange []struct {
	from Side
	b    string
}

// watch feeds ex to a watcher, cutting every message into pieces of at
// most cut bytes, and returns the messages, the TLS bytes of each side and
// the result.
func watch(hint Protocol, ex exchange, cut int) ([]Message, [2]string, *Result, *Watcher) {
	w := NewWatcher(hint)
	var msgs []Message
	var tls [2]string
	for _, m := range ex {
		b := m.b
		for len(b) > 0 {
			n := min(cut, len(b))
			ms, rest := w.Feed(m.from, time.Time{}, []byte(b[:n]))
			msgs = append(msgs, ms...)
			tls[sideIndex(m.from)] += string(rest)
			b = b[n:]
		}
	}
	msgs = append(msgs, w.Flush()...)
	return msgs, tls, w.Result(), w
}

const hello = "\x16\x03\x01\x00\x05hello"

func TestWatcher(t *testing.T) {
	tests := []struct {
		name      string
		hint      Protocol
		ex        exchange
		proto     Protocol
		outcome   Outcome
		attempted bool
		tls       [2]string
		pipelined string
	}{
		{"smtp", "", exchange{{Server, "220 mx ESMTP\r\n"}, {Client, "EHLO c\r\n"}, {Server, "250-mx\r\n250 STARTTLS\r\n"},
			{Client, "STARTTLS\r\n"}, {Server, "220 go\r\n"}, {Client, hello}, {Server, "\x16\x03\x03\x00\x02sh"}},
			SMTP, Upgraded, true, [2]string{hello, "\x16\x03\x03\x00\x02sh"}, ""},
		{"smtp pipelined by the server", "", exchange{{Server, "220 mx\r\n"}, {Client, "EHLO c\r\n"}, {Server, "250 STARTTLS\r\n"},
			{Client, "STARTTLS\r\n"}, {Server, "220 go\r\n250 injected\r\n"}, {Client, hello}, {Server, "\x16\x03\x03\x00\x02sh"}},
			SMTP, Upgraded, true, [2]string{hello, "\x16\x03\x03\x00\x02sh"}, "250 injected\r\n"},
		{"smtp refused", "", exchange{{Server, "220 mx\r\n"}, {Client, "EHLO c\r\n"}, {Server, "250 STARTTLS\r\n"},
			{Client, "STARTTLS\r\n"}, {Server, "454 4.7.0 no\r\n"}, {Client, "QUIT\r\n"}},
			SMTP, Refused, true, [2]string{}, ""},
		{"smtp never asked", "", exchange{{Server, "220 mx\r\n"}, {Client, "EHLO c\r\n"}, {Server, "250 SIZE\r\n"}, {Client, "QUIT\r\n"}},
			SMTP, "", false, [2]string{}, ""},
		{"lmtp by its command", SMTP, exchange{{Server, "220 lmtp\r\n"}, {Client, "LHLO c\r\n"}, {Server, "250 STARTTLS\r\n"},
			{Client, "STARTTLS\r\n"}, {Server, "220 go\r\n"}}, LMTP, Upgraded, true, [2]string{}, ""},
		{"ftp by its command", "", exchange{{Server, "220-FTP\r\nwelcome\r\n220 ready\r\n"}, {Client, "AUTH TLS\r\n"},
			{Server, "234 go\r\n"}, {Client, hello}}, FTP, Upgraded, true, [2]string{hello, ""}, ""},
		{"imap untagged before OK", "", exchange{{Server, "* OK ready\r\n"}, {Client, "x1 STARTTLS\r\n"},
			{Server, "* NOTE x\r\nx1 OK go\r\n"}, {Client, hello}}, IMAP, Upgraded, true, [2]string{hello, ""}, ""},
		{"pop3", "", exchange{{Server, "+OK\r\n"}, {Client, "STLS\r\n"}, {Server, "+OK go\r\n"}}, POP3, Upgraded, true, [2]string{}, ""},
		{"postgres", "", exchange{{Client, string(pgSSLRequest)}, {Server, "S"}, {Client, hello}}, Postgres, Upgraded, true, [2]string{hello, ""}, ""},
		{"postgres N", "", exchange{{Client, string(pgSSLRequest)}, {Server, "N"}, {Client, "\x00\x00\x00\x09\x00\x03\x00\x00\x00"}}, Postgres, NotOffered, true, [2]string{}, ""},
		{"ldap", "", exchange{{Client, string(ldapExtendedRequest(1, oidStartTLS))}, {Server, string(ldapExtendedResponse(1, 0, ""))}, {Client, hello}},
			LDAP, Upgraded, true, [2]string{hello, ""}, ""},
		{"mysql", "", exchange{{Server, seeds[MySQL][0]}, {Client, myPacket(1, "\x05\xaa\x00\x00\x00\x00\x00\x01\x21"+strings.Repeat("\x00", 23))}, {Client, hello}},
			MySQL, Upgraded, true, [2]string{hello, ""}, ""},
		{"xmpp", "", exchange{{Client, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' to='x'>"},
			{Server, xmppOpen + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>"},
			{Client, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"}, {Server, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"}, {Client, hello}},
			XMPP, Upgraded, true, [2]string{hello, ""}, ""},
		{"irc", "", exchange{{Client, "CAP LS 302\r\n"}, {Server, ":irc NOTICE * :hi\r\n:irc CAP * LS :tls\r\n"}, {Client, "STARTTLS\r\n"},
			{Server, ":irc 670 * :go\r\n"}}, IRC, Upgraded, true, [2]string{}, ""},
		{"http is not a preamble", "", exchange{{Client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"}, {Server, "HTTP/1.1 200 OK\r\n\r\n"}},
			"", "", false, [2]string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n"}, ""},
	}
	for _, tt := range tests {
		for _, cut := range []int{1, 3, 1 << 20} {
			msgs, tls, res, w := watch(tt.hint, tt.ex, cut)
			if w.Protocol() != tt.proto || w.Attempted() != tt.attempted {
				t.Errorf("%s/%d: protocol %q attempted %v", tt.name, cut, w.Protocol(), w.Attempted())
				continue
			}
			if tt.attempted && res.Outcome != tt.outcome {
				t.Errorf("%s/%d: outcome %s, want %s", tt.name, cut, res.Outcome, tt.outcome)
			}
			if tt.proto != "" && (tls[0] != tt.tls[0] || tls[1] != tt.tls[1]) {
				t.Errorf("%s/%d: TLS bytes %q, want %q", tt.name, cut, tls, tt.tls)
			}
			if tt.proto == "" && tls[0]+tls[1] != tt.tls[0]+tt.tls[1] {
				t.Errorf("%s/%d: the bytes given back %q, want all of them", tt.name, cut, tls)
			}
			if string(res.Pipelined) != tt.pipelined {
				t.Errorf("%s/%d: pipelined %q, want %q", tt.name, cut, res.Pipelined, tt.pipelined)
			}
			if tt.attempted && len(msgs) < 2 {
				t.Errorf("%s/%d: messages %v", tt.name, cut, msgs)
			}
		}
	}
}

// FuzzWatcher feeds arbitrary bytes of both sides, cut at arbitrary
// points: no panic, the bounds hold, and no byte is lost or invented once
// the watcher gives up.
func FuzzWatcher(f *testing.F) {
	f.Add([]byte("220 mx\r\n"), []byte("EHLO c\r\nSTARTTLS\r\n"), 3)
	f.Add([]byte("S"), pgSSLRequest, 1)
	f.Add([]byte(seeds[XMPP][0]), []byte("<?xml version='1.0'?><stream:stream xmlns='jabber:client'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), 7)
	f.Fuzz(func(t *testing.T, server, client []byte, cut int) {
		if cut <= 0 {
			cut = 1
		}
		w := NewWatcher("")
		for len(server) > 0 || len(client) > 0 {
			for _, s := range []struct {
				side Side
				b    *[]byte
			}{{Client, &client}, {Server, &server}} {
				n := min(cut, len(*s.b))
				if n == 0 {
					continue
				}
				msgs, _ := w.Feed(s.side, time.Time{}, (*s.b)[:n])
				*s.b = (*s.b)[n:]
				for _, m := range msgs {
					if len(m.Text) > maxText+64 {
						t.Fatalf("a message of %d bytes", len(m.Text))
					}
				}
			}
		}
		w.Flush()
		if r := w.Result(); len(r.Pipelined) > MaxPipelined*2 {
			t.Fatalf("kept %d pipelined bytes", len(r.Pipelined))
		}
	})
}

// TestWatcherOffered: the upgrade counts as offered when the server's
// capability list names it as its protocol lists it, not when a greeting
// or a reply merely mentions TLS. The listing lines are those of the real
// servers the capture tests record (Postfix, Dovecot, vsftpd, INN,
// InspIRCd).
func TestWatcherOffered(t *testing.T) {
	tests := []struct {
		name    string
		ex      exchange
		offered bool
	}{
		{"smtp ehlo", exchange{{Server, "220 postfix ESMTP\r\n"}, {Client, "EHLO c\r\n"}, {Server, "250-postfix\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 CHUNKING\r\n"}, {Client, "QUIT\r\n"}}, true},
		{"smtp greeting mentions TLS", exchange{{Server, "220 mx ESMTP STARTTLS required\r\n"}, {Client, "EHLO c\r\n"}, {Server, "250-mx\r\n250 SIZE 1000\r\n"}, {Client, "QUIT\r\n"}}, false},
		{"smtp reply mentions TLS", exchange{{Server, "220 mx ESMTP\r\n"}, {Client, "EHLO c\r\n"}, {Server, "250-mx\r\n250 AUTH PLAIN\r\n"}, {Client, "HELP\r\n"}, {Server, "214 STARTTLS is not here\r\n"}, {Client, "QUIT\r\n"}}, false},
		{"imap greeting code", exchange{{Server, "* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS LOGINDISABLED] Dovecot ready.\r\n"}, {Client, "a LOGOUT\r\n"}}, true},
		{"imap capability", exchange{{Server, "* OK ready\r\n"}, {Client, "a CAPABILITY\r\n"}, {Server, "* CAPABILITY IMAP4rev1 STARTTLS\r\na OK done\r\n"}, {Client, "a LOGOUT\r\n"}}, true},
		{"imap text mentions TLS", exchange{{Server, "* OK no STARTTLS today\r\n"}, {Client, "a LOGOUT\r\n"}}, false},
		{"imap text mentions capability", exchange{{Server, "* OK capability STARTTLS soon\r\n"}, {Client, "a LOGOUT\r\n"}}, false},
		{"imap tagged response code", exchange{{Server, "* OK ready\r\n"}, {Client, "a LOGIN x y\r\n"}, {Server, "a OK [CAPABILITY IMAP4rev1 STARTTLS] in\r\n"}, {Client, "b LOGOUT\r\n"}}, true},
		{"imap long s", exchange{{Server, "* OK [CAPABILITY IMAP4rev1 \u017fTARTTLS] ready\r\n"}, {Client, "a LOGOUT\r\n"}}, false},
		{"smtp long s", exchange{{Server, "220 mx ESMTP\r\n"}, {Client, "EHLO c\r\n"}, {Server, "250-mx\r\n250 \u017fTARTTLS\r\n"}, {Client, "QUIT\r\n"}}, false},
		{"pop3 capa", exchange{{Server, "+OK Dovecot ready.\r\n"}, {Client, "CAPA\r\n"}, {Server, "+OK\r\nCAPA\r\nTOP\r\nSTLS\r\n.\r\n"}, {Client, "QUIT\r\n"}}, true},
		{"ftp feat", exchange{{Server, "220 (vsFTPd 3.0.3)\r\n"}, {Client, "FEAT\r\n"}, {Server, "211-Features:\r\n AUTH TLS\r\n PBSZ\r\n211 End\r\n"}, {Client, "QUIT\r\n"}}, true},
		{"ftp feat without tls", exchange{{Server, "220 (vsFTPd 3.0.3)\r\n"}, {Client, "FEAT\r\n"}, {Server, "211-Features:\r\n AUTH SSL\r\n MDTM\r\n211 End\r\n"}, {Client, "QUIT\r\n"}}, false},
		{"nntp capabilities", exchange{{Server, "200 inn ready\r\n"}, {Client, "CAPABILITIES\r\n"}, {Server, "101 Capability list:\r\nVERSION 2\r\nSTARTTLS\r\n.\r\n"}, {Client, "QUIT\r\n"}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, r, _ := watch("", tc.ex, 7)
			if r.Protocol == "" {
				t.Fatal("the protocol was not recognised")
			}
			if r.Offered != tc.offered {
				t.Errorf("offered %v, want %v (%s)", r.Offered, tc.offered, r.Protocol)
			}
		})
	}
}
