package diagnose

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/transcript"
)

// This file explains the in-band upgrade that precedes TLS on protocols
// such as SMTP (STARTTLS) or PostgreSQL (SSLRequest): the facts are the
// transcript's Upgrade and its plaintext events.

// startTLSFindings explains tr's upgrade. stop says the upgrade did not
// happen, so that nothing about TLS is left to explain.
func startTLSFindings(in Input, tr *transcript.Transcript) (fs []finding.Finding, stop bool) {
	up := tr.StartTLS
	p := starttls.Protocol(up.Protocol)
	name, cmd := p.Name(), p.Command()
	target := in.Target
	switch starttls.Outcome(up.Outcome) {
	case starttls.Upgraded:
		if up.Pipelined > 0 {
			fs = append(fs, pipelinedFinding(up, name, cmd))
		}
		if e := tr.First(transcript.Server, transcript.TypeNotTLS); e != nil {
			// Plaintext where the server's TLS should have started: it
			// came after the client's ClientHello, so the handshake met it.
			excerpt, _ := e.Field("excerpt")
			return append(fs, finding.Finding{ID: finding.StartTLSPlaintext, Severity: finding.Error,
				Title:  fmt.Sprintf("The server answered the TLS handshake with plaintext after agreeing to %s", cmd),
				Detail: fmt.Sprintf("After its go-ahead %s the server sent %d bytes that are not TLS where its ServerHello belonged: %q. %s", quoteReply(up.Reply), e.Bytes, excerpt, errSentence(in.HandshakeErr)),
				Fix:    fmt.Sprintf("The %s server (or something in front of it) does not start TLS after agreeing to: check its TLS configuration and its logs; after its go-ahead it must send nothing but its TLS handshake.", name)}), true
		}
		return fs, false
	case starttls.NotOffered:
		return []finding.Finding{notOffered(up, p, target)}, true
	case starttls.Refused:
		if up.Command == "" {
			return []finding.Finding{turnedAway(up, tr, p, target)}, true
		}
		return []finding.Finding{{ID: finding.StartTLSRefused, Severity: finding.Error,
			Title:  fmt.Sprintf("The server refused %s: %s", cmd, firstLine(up.Reply)),
			Detail: fmt.Sprintf("%s. %s answered it with %s, so no TLS session was started.", askedSentence(up, p), finding.Capitalize(theServer(target)), quoteReply(up.Reply)),
			Fix:    "The server could not or would not start TLS. Its logs say why: a certificate or key it cannot load is the usual cause (Postfix answers \"454 4.7.0 TLS not available due to local problem\", INN \"580 Error initializing TLS\"); some servers refuse TLS to clients or networks their policy excludes."}}, true
	case starttls.ImplicitTLS:
		return []finding.Finding{implicitFinding(up, name, cmd, target, "it answered the plaintext with TLS bytes")}, true
	case starttls.Unexpected:
		fix := fmt.Sprintf("Check that this port serves %s (a wrong STARTTLS protocol in the client's settings, or another service on the port) and what the server's logs say; a capture (tlskit pcap) shows every byte.", name)
		if other := otherProtocol(tr, p); other != "" {
			fix = fmt.Sprintf("The server's first words are %s's, not %s's: this port serves %s. If that is the service meant, check it with STARTTLS protocol %q; otherwise find the port that serves %s.", other.Name(), name, other.Name(), other, name)
		}
		return []finding.Finding{{ID: finding.StartTLSUnexpected, Severity: finding.Error,
			Title:    fmt.Sprintf("The server's answer does not follow %s's upgrade dialogue", name),
			Detail:   fmt.Sprintf("%s. %s", strings.TrimSuffix(strings.TrimPrefix(up.Error, "starttls: "), "."), lastServerWords(tr)),
			Fix:      fix,
			Evidence: quoted(up.Reply),
			Setting:  finding.SettingStartTLS}}, true
	}
	// Failed: the network ended the dialogue.
	heard := serverSpoke(tr)
	err := in.HandshakeErr
	if up.ImplicitPort != "" && !heard {
		return []finding.Finding{implicitFinding(up, name, cmd, target, "it sent nothing in plaintext")}, true
	}
	if up.SpeaksTLS && !heard {
		return []finding.Finding{implicitFinding(up, name, cmd, target,
			"it sent nothing in plaintext, and answered a TLS ClientHello on another connection with TLS")}, true
	}
	stage := "before sending anything"
	if heard {
		stage = "in the middle of the " + name + " dialogue"
	}
	switch {
	case isTimeout(err):
		return []finding.Finding{{ID: finding.NetTimeout, Severity: finding.Error,
			Title:   fmt.Sprintf("The server went quiet %s (%s)", stage, name),
			Detail:  fmt.Sprintf("The TCP connection opened, but the server did not answer within %v. %s", in.Timeout, lastServerWords(tr)),
			Fix:     fmt.Sprintf("Check that this port serves %s (STARTTLS protocol %q): a server that waits for the client to speak first, or for a TLS ClientHello, stays silent. A TLS port needs no upgrade (STARTTLS protocol \"none\"); an overloaded server, a longer timeout.", name, p),
			Setting: finding.SettingStartTLS}}, true
	case errors.Is(err, syscall.ECONNRESET):
		return []finding.Finding{{ID: finding.NetReset, Severity: finding.Error,
			Title:  fmt.Sprintf("The server reset the connection %s", stage),
			Detail: fmt.Sprintf("%s %s", errSentence(err), lastServerWords(tr)),
			Fix:    "Something on the path or the server itself resets connections; check its logs and firewalls."}}, true
	}
	closed := errors.Is(err, io.EOF)
	title := fmt.Sprintf("The %s dialogue failed", name)
	if closed {
		title = fmt.Sprintf("The server closed the connection %s", stage)
	}
	return []finding.Finding{{ID: finding.StartTLSUnexpected, Severity: finding.Error,
		Title:  title,
		Detail: fmt.Sprintf("%s. %s", strings.TrimPrefix(up.Error, "starttls: "), lastServerWords(tr)),
		Fix:    fmt.Sprintf("Check that this port serves %s and what the server's logs say about this connection (too many connections, a client it rejects, a protocol mismatch).", name)}}, true
}

// notOffered explains capabilities without the upgrade, quoting them.
func notOffered(up *transcript.Upgrade, p starttls.Protocol, target string) finding.Finding {
	cmd := p.Command()
	detail := ""
	switch p {
	case starttls.Postgres:
		detail = "The server answered SSLRequest with 'N': it does not perform SSL (ssl = off)."
	case starttls.LDAP:
		detail = fmt.Sprintf("The server answered the StartTLS extended request with %s: it does not know the operation, which OpenLDAP says when it has no certificate configured.", quoteReply(up.Reply))
	case starttls.MySQL:
		detail = "The server's greeting does not set the SSL capability flag: it has no TLS configured."
	default:
		detail = fmt.Sprintf("The capabilities of %s do not list %s", theServer(target), cmd)
		if len(up.Capabilities) > 0 {
			detail += " (they are below)"
		}
		detail += "."
		if up.Reply != "" && len(up.Capabilities) == 0 {
			detail += " It answered: " + quoteReply(up.Reply) + "."
		}
	}
	return finding.Finding{ID: finding.StartTLSNotOffered, Severity: finding.Error,
		Title:    fmt.Sprintf("%s does not offer %s: no TLS here", finding.Capitalize(theServer(target)), cmd),
		Detail:   detail + " Everything on this connection, passwords included, would cross the network in plaintext.",
		Fix:      enableTLS(p),
		Evidence: up.Capabilities}
}

// turnedAway explains a server that refused the session before the
// upgrade command could be sent: its greeting was an error, or it
// rejected the client's hello. Whether it offers the upgrade is not known.
func turnedAway(up *transcript.Upgrade, tr *transcript.Transcript, p starttls.Protocol, target string) finding.Finding {
	reply := up.Reply
	when := "before the upgrade could be asked"
	for i := len(tr.Events) - 1; i >= 0; i-- {
		if e := tr.Events[i]; e.Type == transcript.TypePlaintext && e.From == transcript.Server {
			if reply == "" {
				reply = e.Text
			}
			switch e.Stage {
			case string(starttls.StageGreeting):
				when = "in its greeting"
			case string(starttls.StageCapabilities):
				when = "when asked for its capabilities"
			}
			break
		}
	}
	fix := "Check from a client the server accepts, or look in the server's logs for why it rejected this one."
	switch p {
	case starttls.SMTP, starttls.LMTP:
		fix = "Check from a client the server accepts, or look in the server's logs for why it rejected this one (Postfix: smtpd_client_restrictions, smtpd_helo_restrictions, postscreen); a 4xx reply is temporary: try again later."
	case starttls.XMPP, starttls.XMPPServer:
		fix = "An XMPP server turns away a stream opened to a domain it does not serve (host-unknown): open it to a domain the server serves (the XMPP domain setting, by default the server name). Otherwise its logs say why it rejected this client."
	}
	return finding.Finding{ID: finding.StartTLSRefused, Severity: finding.Error,
		Title: fmt.Sprintf("The server turned the session away before %s could be asked: %s", p.Command(), firstLine(reply)),
		Detail: fmt.Sprintf("%s refused this client %s, answering %s, so tlskit could not ask for %s. Whether the server offers %s is not known: this is its policy towards this client (its address or name, a connection limit, a temporary deferral), not an answer about TLS.",
			finding.Capitalize(theServer(target)), when, quoteReply(reply), p.Command(), p.Command()),
		Fix:      fix,
		Evidence: quoted(reply)}
}

// enableTLS says how the usual servers of p turn TLS on.
func enableTLS(p starttls.Protocol) string {
	switch p {
	case starttls.SMTP:
		return "Give the server a certificate and key and let it offer STARTTLS: Postfix smtpd_tls_cert_file, smtpd_tls_key_file and smtpd_tls_security_level = may (encrypt to require it); Exim tls_certificate, tls_privatekey and tls_advertise_hosts = *."
	case starttls.LMTP, starttls.IMAP, starttls.POP3, starttls.Sieve:
		return "Give the server a certificate and key: Dovecot ssl = yes (required to refuse plaintext logins), ssl_cert = </path/cert.pem, ssl_key = </path/key.pem."
	case starttls.LDAP:
		return "Give slapd a certificate and key: olcTLSCertificateFile and olcTLSCertificateKeyFile in cn=config (TLSCertificateFile and TLSCertificateKeyFile in slapd.conf)."
	case starttls.Postgres:
		return "Set ssl = on, ssl_cert_file and ssl_key_file in postgresql.conf and reload; hostssl lines in pg_hba.conf then make TLS required."
	case starttls.MySQL:
		return "Give the server a certificate and key: ssl_cert and ssl_key in [mysqld] (MariaDB ssl-cert and ssl-key; require_secure_transport = ON to refuse plaintext)."
	case starttls.XMPP, starttls.XMPPServer:
		return "Give the virtual host a certificate for its domain: Prosody certificates in /etc/prosody/certs or ssl = { certificate, key } on the VirtualHost; ejabberd certfiles."
	case starttls.FTP:
		return "Enable TLS in the FTP server: vsftpd ssl_enable=YES with rsa_cert_file and rsa_private_key_file; ProFTPD mod_tls with TLSEngine on."
	case starttls.NNTP:
		return "Give INN a certificate: tlscertfile and tlskeyfile in inn.conf."
	case starttls.IRC:
		return "Load the server's STARTTLS support (InspIRCd: the ssl_gnutls or ssl_openssl module and starttls), or use the server's TLS port (usually 6697) without an upgrade."
	}
	return "Configure a certificate and key on the server so that it offers the upgrade."
}

func pipelinedFinding(up *transcript.Upgrade, name, cmd string) finding.Finding {
	return finding.Finding{ID: finding.StartTLSPlaintext, Severity: finding.Error,
		Title: fmt.Sprintf("The server sent plaintext after agreeing to %s, before the TLS handshake", cmd),
		Detail: fmt.Sprintf("After its go-ahead %s the server sent %d more bytes before the client's ClientHello: \"%s\". A client that reads them as TLS fails; a client that reads them as the answers to its next commands can be fooled into acting on words an attacker injected before TLS (the STARTTLS command-injection class of bugs, CVE-2011-0411). tlskit set them aside and went on with the handshake.",
			quoteReply(up.Reply), up.Pipelined, up.PipelinedText),
		Fix: fmt.Sprintf("Fix or upgrade the %s server (or whatever sits in front of it): after its go-ahead it must send nothing until the TLS handshake, and it must discard anything the client pipelined after %s.", name, cmd)}
}

// SpeaksTLSAfter is how long a live check waits for a greeting that does
// not come before it tries a ClientHello on a second connection.
const SpeaksTLSAfter = 3 * time.Second

func implicitFinding(up *transcript.Upgrade, name, cmd, target, why string) finding.Finding {
	detail := fmt.Sprintf("%s was asked for %s, but %s.", finding.Capitalize(theServer(target)), name, why)
	fix := "This port speaks TLS from the first byte: check it without an upgrade (STARTTLS protocol \"none\")."
	if ip, ok := starttls.ImplicitTLSAddress(target); ok {
		detail += fmt.Sprintf(" Port %d is %s: TLS from the first byte, no %s.", ip.Port, ip.Service, cmd)
		fix = fmt.Sprintf("Check this port without an upgrade (STARTTLS protocol \"none\"), or the %s port of the same service, %d, with the upgrade (STARTTLS protocol %q).", cmd, ip.StartTLSPort, ip.Protocol)
	}
	return finding.Finding{ID: finding.StartTLSImplicit, Severity: finding.Error,
		Title:   fmt.Sprintf("%s speaks TLS from the first byte: %s cannot work there", target, cmd),
		Detail:  detail,
		Fix:     fix,
		Setting: finding.SettingStartTLS}
}

// askedSentence says whether the capabilities listed the upgrade and what
// the client sent (tlskit live, or the client of a capture).
func askedSentence(up *transcript.Upgrade, p starttls.Protocol) string {
	sent := fmt.Sprintf("the client asked for %s", p.Command())
	if up.Command != "" {
		sent = fmt.Sprintf("the client sent %q", up.Command)
	}
	switch {
	case len(up.Capabilities) == 0:
		return finding.Capitalize(sent)
	case up.Offered:
		return fmt.Sprintf("The server listed %s among its capabilities and %s", p.Command(), sent)
	}
	return fmt.Sprintf("The server did not list %s among its capabilities and %s", p.Command(), sent)
}

func theServer(target string) string { return "the server at " + target }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

func quoteReply(s string) string {
	if s == "" {
		return "nothing"
	}
	return strconv.Quote(s)
}

func quoted(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// serverSpoke reports whether the server sent any plaintext.
func serverSpoke(tr *transcript.Transcript) bool {
	for _, e := range tr.Events {
		if e.Type == transcript.TypePlaintext && e.From == transcript.Server {
			return true
		}
	}
	return false
}

// lastServerWords quotes the last plaintext message of the server.
func lastServerWords(tr *transcript.Transcript) string {
	for i := len(tr.Events) - 1; i >= 0; i-- {
		if e := tr.Events[i]; e.Type == transcript.TypePlaintext && e.From == transcript.Server {
			// The text is already escaped (starttls: printable): quoted
			// as is, not escaped twice.
			return fmt.Sprintf("Its last words were \"%s\".", firstLine(e.Text))
		}
	}
	return "It sent nothing in plaintext."
}

// otherProtocol returns the protocol whose greeting the server's first
// plaintext is (wire.Sniff: SMTP, FTP, POP3, IMAP) when it is not p's,
// else "". An LMTP server greets as an SMTP server does.
func otherProtocol(tr *transcript.Transcript, p starttls.Protocol) starttls.Protocol {
	e := tr.First(transcript.Server, transcript.TypePlaintext)
	if e == nil {
		return ""
	}
	sniffed, _ := wire.Sniff([]byte(e.Text))
	var other starttls.Protocol
	switch sniffed {
	case "SMTP":
		other = starttls.SMTP
	case "FTP":
		other = starttls.FTP
	case "POP3":
		other = starttls.POP3
	case "IMAP":
		other = starttls.IMAP
	default:
		return ""
	}
	if other == p || other == starttls.SMTP && p == starttls.LMTP {
		return ""
	}
	return other
}

// startTLSPortHint returns the fix for plain TLS pointed at a port that
// upgrades in band, or "".
func startTLSPortHint(target string) string {
	_, port, _ := net.SplitHostPort(target)
	n, _ := strconv.Atoi(port)
	p := starttls.ForPort(n)
	if p == "" {
		return ""
	}
	return fmt.Sprintf("Port %d speaks %s in plaintext and upgrades with %s: check it with that upgrade (STARTTLS protocol %q, the default for this port, which was turned off).", n, p.Name(), p.Command(), p)
}

// implicitPortHint returns the fix for a well-known implicit-TLS port (465,
// 993…) whose server answered the ClientHello with plaintext (what), or "":
// the port itself is the one that should speak TLS from the first byte.
func implicitPortHint(target, what string) string {
	ip, ok := starttls.ImplicitTLSAddress(target)
	if !ok {
		return ""
	}
	return fmt.Sprintf("Port %d is %s, where TLS starts with the first byte, but this server answered with %s: configure the service on this port for implicit TLS (Postfix: smtpd_tls_wrappermode = yes on its 465 service; Dovecot: ssl = yes and the imaps or pop3s listener), or, if it is meant to upgrade in band, check it with the upgrade (STARTTLS protocol %q; its usual port is %d).", ip.Port, ip.Service, what, ip.Protocol, ip.StartTLSPort)
}
