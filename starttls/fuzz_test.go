package starttls

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// streamConn is a net.Conn whose peer's bytes are a fixed stream; what is
// written is discarded.
type streamConn struct {
	r *bytes.Reader
}

func (c *streamConn) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if err == io.EOF {
		return n, io.EOF
	}
	return n, err
}
func (c *streamConn) Write(b []byte) (int, error)        { return len(b), nil }
func (c *streamConn) Close() error                       { return nil }
func (c *streamConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (c *streamConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *streamConn) SetDeadline(t time.Time) error      { return nil }
func (c *streamConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(t time.Time) error { return nil }

// seeds are server sides of real dialogues (recorded from the servers of
// real_test.go) and of the fakes, one per protocol.
var seeds = map[Protocol][]string{
	SMTP: {"220 postfix.lab.tlskit.test ESMTP Postfix\r\n250-postfix.lab.tlskit.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n220 2.0.0 Ready to start TLS\r\n",
		"220 x\r\n250-x\r\n250 STARTTLS\r\n454 4.7.0 TLS not available due to local problem\r\n"},
	LMTP: {"220 dovecot.lab.tlskit.test Dovecot (Debian) ready.\r\n250-dovecot.lab.tlskit.test\r\n250-8BITMIME\r\n250-CHUNKING\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250 STARTTLS\r\n220 2.0.0 Begin TLS negotiation now.\r\n"},
	IMAP: {"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot (Debian) ready.\r\na2 OK Begin TLS negotiation now.\r\n",
		"* OK hi\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\na2 NO nope\r\n"},
	POP3:     {"+OK Dovecot (Debian) ready.\r\n+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL PLAIN\r\n.\r\n+OK Begin TLS negotiation now.\r\n"},
	FTP:      {"220 tlskit test FTP server\r\n211-Features:\r\n AUTH SSL\r\n AUTH TLS\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n PBSZ\r\n PROT\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n211 End\r\n234 Proceed with negotiation.\r\n"},
	NNTP:     {"201 inn.lab.tlskit.test InterNetNews NNRP server INN 2.7.1 ready (no posting)\r\n101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION INN 2.7.1\r\nSTARTTLS\r\n.\r\n382 Begin TLS negotiation now\r\n"},
	Sieve:    {"\"IMPLEMENTATION\" \"Dovecot (Debian) Pigeonhole\"\r\n\"SIEVE\" \"fileinto reject\"\r\n\"SASL\" \"PLAIN\"\r\n\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\nOK \"Dovecot (Debian) ready.\"\r\nOK \"Begin TLS negotiation now.\"\r\n"},
	IRC:      {":inspircd.lab.tlskit.test CAP * LS :inspircd.org/poison inspircd.org/standard-replies tls\r\n:inspircd.lab.tlskit.test 670 * :STARTTLS successful, go ahead with TLS handshake\r\n"},
	LDAP:     {ldapResponse(1, 0, ""), ldapResponse(1, 2, "unsupported extended operation"), ldapNotice()},
	Postgres: {"S", "N", "E\x00\x00\x00\x20SFATAL\x00C0A000\x00Mno SSL here\x00\x00"},
	MySQL: {myPacket(0, "\x0a5.5.5-10.11.19-MariaDB-0+deb12u1\x00\x04\x00\x00\x00abcdefgh\x00\xfe\xff\x2d\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00ijklmnopqrst\x00mysql_native_password\x00"),
		myPacket(0, "\xff\x6a\x04Host '1.2.3.4' is blocked")},
	XMPP:       {xmppOpen + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"},
	XMPPServer: {"<?xml version='1.0'?><stream:stream xmlns='jabber:server' xml:lang='en' to='tlskit.invalid' version='1.0' xmlns:db='jabber:server:dialback' xmlns:stream='http://etherx.jabber.org/streams' from='prosody.lab.tlskit.test' id='c1'><stream:features><dialback xmlns='urn:xmpp:features:dialback'/><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features><failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"},
}

// FuzzNegotiate runs the client dialogue of every protocol against
// arbitrary server bytes: it must end with a result and a known outcome,
// never panic, and keep its bounds.
func FuzzNegotiate(f *testing.F) {
	for i, p := range Protocols() {
		for _, s := range seeds[p] {
			f.Add(byte(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which byte, server []byte) {
		ps := Protocols()
		p := ps[int(which)%len(ps)]
		c := &streamConn{r: bytes.NewReader(server)}
		res, err := Negotiate(context.Background(), c, Config{Protocol: p, Domain: "example.test"})
		if res == nil {
			t.Fatal("nil result")
		}
		switch res.Outcome {
		case Upgraded:
			if err != nil {
				t.Fatalf("upgraded with error %v", err)
			}
		case NotOffered, Refused, Unexpected, ImplicitTLS, Failed:
			var e *Error
			if !errors.As(err, &e) || e.Outcome != res.Outcome {
				t.Fatalf("outcome %s with error %v", res.Outcome, err)
			}
		default:
			t.Fatalf("outcome %q", res.Outcome)
		}
		if len(res.Pipelined) > MaxPipelined {
			t.Fatalf("kept %d pipelined bytes", len(res.Pipelined))
		}
		for _, m := range res.Messages {
			if len(m.Text) > maxText+64 {
				t.Fatalf("a message text of %d bytes", len(m.Text))
			}
		}
		// The same bytes as the first exchange inside TLS.
		c = &streamConn{r: bytes.NewReader(server)}
		AfterTLS(context.Background(), c, Config{Protocol: p, Domain: "example.test"})
	})
}

// FuzzLDAPResponse decodes arbitrary bytes as an LDAP ExtendedResponse.
func FuzzLDAPResponse(f *testing.F) {
	for _, s := range seeds[LDAP] {
		f.Add([]byte(s))
	}
	f.Add([]byte("\x30\x84\x00\x00\x00\x05\x02\x01\x01\x78\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseLDAPExtendedResponse(b)
		if err == nil {
			_ = r.String()
		}
	})
}

// FuzzMySQLGreeting decodes arbitrary bytes as a MySQL greeting.
func FuzzMySQLGreeting(f *testing.F) {
	for _, s := range seeds[MySQL] {
		f.Add([]byte(s)[4:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if g, err := parseMyGreeting(b); err == nil {
			_ = myCaps(g.caps)
		}
		_ = myErr(b)
		_ = pgFields(b)
	})
}

// FuzzXMPPStream decodes arbitrary bytes as the start of a server stream.
func FuzzXMPPStream(f *testing.F) {
	for _, s := range append(seeds[XMPP], seeds[XMPPServer]...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseXMPPStream(b)
		if err == nil && st.complete && (st.end <= 0 || st.end > len(b)) {
			t.Fatalf("end %d of %d bytes", st.end, len(b))
		}
		if name, err := xmppElement(b); err == nil && name != "" {
			if end := xmppEnd(b); end <= 0 || end > len(b) {
				t.Fatalf("element end %d of %d bytes", end, len(b))
			}
		}
	})
}

// FuzzLines parses arbitrary lines as SMTP, IMAP, IRC and ManageSieve
// replies, and rewrites them as an IMAP greeting for the tunnel's client.
func FuzzLines(f *testing.F) {
	for _, s := range []string{"250-STARTTLS", "250 ok", "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi", "@a=b :irc CAP * LS * :tls", "\"STARTTLS\"", "\"a\\\"b\" \"c\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		codeLine(s)
		imapCaps(s)
		AppGreeting(IMAP, &Result{Greeting: []byte(s)})
		parseIRC(s)
		sieveString(s)
		printable(s)
	})
}

// clientSeeds are client sides of dialogues the tunnel's server side
// answers, one per server protocol.
var clientSeeds = map[Protocol][]string{
	SMTP:     {"EHLO x\r\nSTARTTLS\r\n", "EHLO x\r\nSTARTTLS\r\nMAIL FROM:<a@b>\r\n", "HELO x\r\nMAIL FROM:<a@b>\r\nQUIT\r\n"},
	LMTP:     {"LHLO x\r\nSTARTTLS\r\n"},
	IMAP:     {"a1 CAPABILITY\r\na2 STARTTLS\r\n", "a1 LOGIN u p\r\na2 LOGOUT\r\n"},
	POP3:     {"CAPA\r\nSTLS\r\n", "USER u\r\nQUIT\r\n"},
	LDAP:     {string(ldapExtendedRequest(1, oidStartTLS)), string(ldapExtendedRequest(5, oidWhoAmI)), "\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00"},
	Postgres: {string(pgSSLRequest), "\x00\x00\x00\x08\x04\xd2\x16\x30" + string(pgSSLRequest), "\x00\x00\x00\x10\x00\x03\x00\x00user\x00x\x00\x00"},
	MySQL:    {myPacket(1, "\x05\xaa\x00\x00\x00\x00\x00\x01\x21"+strings.Repeat("\x00", 23)), myPacket(1, "\x05\xa2\x00\x00\x00\x00\x00\x01\x21"+strings.Repeat("\x00", 23)+"root\x00\x00")},
}

// FuzzOffer runs the server side of every protocol the tunnel serves
// against arbitrary client bytes.
func FuzzOffer(f *testing.F) {
	for i, p := range ServerProtocols() {
		for _, s := range clientSeeds[p] {
			f.Add(byte(i), []byte(s))
		}
	}
	greeting := []byte(seeds[MySQL][0])
	f.Fuzz(func(t *testing.T, which byte, client []byte) {
		ps := ServerProtocols()
		p := ps[int(which)%len(ps)]
		c := &streamConn{r: bytes.NewReader(client)}
		cfg := ServerConfig{Protocol: p}
		if p == MySQL {
			cfg.Greeting = greeting
		}
		hc, res, err := Offer(context.Background(), c, cfg)
		if res == nil || (err == nil) != (res.Outcome == Upgraded) || (err == nil) != (hc != nil) {
			t.Fatalf("result %+v, connection %v, with error %v", res, hc, err)
		}
		if len(res.Pipelined) > MaxPipelined {
			t.Fatalf("kept %d pipelined bytes", len(res.Pipelined))
		}
	})
}

// FuzzMySQLRelay rewrites arbitrary bytes as a connection phase, split at
// an arbitrary point: the bytes after the phase ends pass untouched, and
// the lengths never change.
func FuzzMySQLRelay(f *testing.F) {
	f.Add([]byte(myPacket(1, "\x05\xa2\x00\x00login")+myPacket(2, "\x00\x00\x00\x02\x00\x00\x00")), 3, true)
	f.Add([]byte(myPacket(2, "\xfe\x6d\x79\x73\x71\x6c")+myPacket(4, "\xff\x15\x04#28000denied")), 0, false)
	f.Fuzz(func(t *testing.T, b []byte, cut int, up bool) {
		var done atomic.Bool
		shift := 1
		if !up {
			shift = -1
		}
		s := mySeq{shift: shift, flag: shift, watch: true, done: &done}
		buf := append([]byte(nil), b...)
		if cut < 0 || cut > len(buf) {
			cut = len(buf) / 2
		}
		s.transform(buf[:cut])
		s.transform(buf[cut:])
		if len(buf) != len(b) {
			t.Fatal("length changed")
		}
	})
}

// TestCaseFoldKeepsIndexes: what servers send is matched against ASCII
// keywords without changing its length, so that an index found in the
// upper-cased line is one in the line. strings.ToUpper made the three
// bytes of U+FFFD of an invalid byte, and imapCaps sliced past the end
// (found by FuzzLines: "\xfc[CAPABILITY ").
func TestCaseFoldKeepsIndexes(t *testing.T) {
	for _, tc := range []struct {
		line string
		caps []string
	}{
		{"\xfc[CAPABILITY ", nil},
		{"\xfc[CAPABILITY IMAP4rev1 starttls] ok", []string{"IMAP4rev1", "starttls"}},
		{"* ok \xff\xfe [capability imap4rev1 STARTTLS] é", []string{"imap4rev1", "STARTTLS"}},
		{"* capability \xc0 imap4rev1", []string{"\xc0", "imap4rev1"}},
		// "ſ" (U+017F) upper-cases to "S" in Unicode; IMAP's keywords are
		// ASCII, so this is no CAPABILITY response code.
		{"* OK [CAPABILITY ſTARTTLS] [ſ", []string{"ſTARTTLS"}},
		{"* OK [CAPABILıTY STARTTLS]", nil},
	} {
		if got := imapCaps(tc.line); !slices.Equal(got, tc.caps) {
			t.Errorf("imapCaps(%q) = %q, want %q", tc.line, got, tc.caps)
		}
		AppGreeting(IMAP, &Result{Greeting: []byte(tc.line + "\r\n")})
	}
	if got := string(AppGreeting(IMAP, &Result{Greeting: []byte("* OK \xfc [capability IMAP4rev1 STARTTLS] ready\r\n")})); got != "* OK \xfc ready\r\n" {
		t.Errorf("AppGreeting left %q", got)
	}
	for in, want := range map[string]string{"": "", "abc": "ABC", "ABC": "ABC", "a\xfcb": "A\xfcB", "ſé": "ſé", "x-1_z": "X-1_Z"} {
		if got := asciiUpper(in); got != want {
			t.Errorf("asciiUpper(%q) = %q, want %q", in, got, want)
		}
	}
}
