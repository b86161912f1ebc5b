package starttls

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// AfterTLS sends the protocol's first command inside TLS and reads the
// reply, for orientation: EHLO (LHLO) again for SMTP (LMTP), CAPABILITY for
// IMAP, CAPA for POP3, FEAT for FTP, CAPABILITIES for NNTP, a new stream
// for XMPP, CAP LS for IRC, the WhoAmI extended operation for LDAP; a
// ManageSieve server sends its capabilities unasked. PostgreSQL and MySQL
// go on with a login, which AfterTLS does not attempt: it returns nothing
// for them.
//
// c is the TLS connection; its messages are returned (and traced) with
// StageAfterTLS. Reads are bounded as in [Negotiate] and end at ctx's
// deadline. An error says the reply did not come or did not parse; the
// messages up to there are still returned.
func AfterTLS(ctx context.Context, c net.Conn, cfg Config) ([]Message, error) {
	stop := bind(ctx, c)
	defer stop()
	s := newSession(c, cfg.Protocol, Server, cfg.Trace)
	s.read = 1 // the TLS check of a first read does not apply inside TLS
	if cfg.ClientName == "" {
		cfg.ClientName = DefaultClientName
	}
	err := s.after(cfg)
	if err != nil {
		err = fmt.Errorf("starttls: %s after TLS: %w", cfg.Protocol.Name(), err)
	}
	return s.res.Messages, err
}

// HasAfterTLS reports whether [AfterTLS] has a command for p.
func HasAfterTLS(p Protocol) bool { return p != Postgres && p != MySQL }

func (s *session) after(cfg Config) error {
	st := StageAfterTLS
	switch cfg.Protocol {
	case SMTP, LMTP:
		hello := "EHLO"
		if cfg.Protocol == LMTP {
			hello = "LHLO"
		}
		if err := s.sendLine(st, hello+" "+cfg.ClientName); err != nil {
			return err
		}
		_, err := s.codeReply(st, false)
		return err
	case IMAP:
		if err := s.sendLine(st, "a3 CAPABILITY"); err != nil {
			return err
		}
		_, _, err := s.imapTagged("a3", st)
		return err
	case POP3:
		if err := s.sendLine(st, "CAPA"); err != nil {
			return err
		}
		_, _, err := s.dotReply(st, func(first string) (bool, bool) {
			return strings.HasPrefix(first, "+OK"), strings.HasPrefix(first, "-ERR")
		})
		return err
	case FTP:
		if err := s.sendLine(st, "FEAT"); err != nil {
			return err
		}
		_, err := s.codeReply(st, true)
		return err
	case NNTP:
		if err := s.sendLine(st, "CAPABILITIES"); err != nil {
			return err
		}
		_, _, err := s.dotReply(st, func(first string) (bool, bool) {
			code, _, _, ok := codeLine(first)
			return ok && code == 101, ok && code != 101
		})
		return err
	case Sieve:
		_, _, err := s.sieveResponse(st)
		return err
	case IRC:
		if err := s.sendLine(st, "CAP LS 302"); err != nil {
			return err
		}
		for i := 0; i < 16; i++ {
			m, err := s.ircLine(st)
			if err != nil {
				return err
			}
			if m.command == "CAP" || m.command == "421" || m.command == "451" || m.command == "ERROR" {
				return nil
			}
		}
		return nil
	case LDAP:
		req := ldapExtendedRequest(2, oidWhoAmI)
		if err := s.send(st, "ExtendedRequest (messageID 2): WhoAmI "+oidWhoAmI, req); err != nil {
			return err
		}
		raw, err := s.readLDAPMessage()
		if err != nil {
			return err
		}
		r, err := parseLDAPExtendedResponse(raw)
		if err != nil {
			s.emit(s.peer, st, fmt.Sprintf("%d bytes that are not an ExtendedResponse", len(raw)), len(raw))
			return err
		}
		text := r.String()
		if r.code == 0 {
			who := printable(string(r.value))
			if who == "" {
				who = "anonymous"
			}
			text += ", authzId " + who
		}
		s.emit(s.peer, st, text, len(raw))
		return nil
	case XMPP, XMPPServer:
		header := xmppHeader(cfg.Protocol, cfg.Domain, cfg.ClientName)
		if err := s.send(st, header, []byte(header)); err != nil {
			return err
		}
		_, err := s.xmppStreamStart(st)
		return err
	}
	return nil
}
