package lab

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
)

// smtpServer is a lab SMTP server on the STARTTLS path, built to show one
// failure: it greets, answers EHLO (offering STARTTLS or not), and answers
// STARTTLS with a refusal, or with its go-ahead (followed by pipelined
// plaintext when pipeline is set) and a TLS handshake with cfg.
type smtpServer struct {
	name     string
	offer    bool
	refuse   string // the refusal reply, e.g. "454 4.7.0 …"
	pipeline string // plaintext sent right after the go-ahead
	cfg      *tls.Config
	logf     func(string, ...any)
}

// inTLS completes the TLS handshake and answers EHLO inside TLS (without
// STARTTLS now), then quits.
func (s smtpServer) inTLS(ctx context.Context, c net.Conn) error {
	tc := tls.Server(c, s.cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	r := bufio.NewReaderSize(io.LimitReader(tc, 64<<10), 1024)
	for range 16 {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		verb, _, _ := strings.Cut(strings.ToUpper(strings.TrimSpace(line)), " ")
		switch verb {
		case "EHLO":
			_, err = fmt.Fprintf(tc, "250-%s\r\n250-PIPELINING\r\n250 8BITMIME\r\n", ServerName(s.name))
		case "QUIT":
			io.WriteString(tc, "221 2.0.0 Bye\r\n")
			return tc.Close()
		default:
			_, err = io.WriteString(tc, "502 5.5.2 Error: command not recognized\r\n")
		}
		if err != nil {
			return err
		}
	}
	return tc.Close()
}

// handle serves one SMTP session.
func (s smtpServer) handle(ctx context.Context, c net.Conn) error {
	host := ServerName(s.name)
	r := bufio.NewReaderSize(io.LimitReader(c, 64<<10), 1024)
	if _, err := fmt.Fprintf(c, "220 %s ESMTP tlskit lab\r\n", host); err != nil {
		return err
	}
	for range 16 {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		verb, _, _ := strings.Cut(strings.ToUpper(strings.TrimSpace(line)), " ")
		switch verb {
		case "EHLO":
			caps := "250-" + host + "\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
			if s.offer {
				caps += "250-STARTTLS\r\n"
			}
			caps += "250 8BITMIME\r\n"
			_, err = io.WriteString(c, caps)
		case "HELO":
			_, err = fmt.Fprintf(c, "250 %s\r\n", host)
		case "STARTTLS":
			switch {
			case !s.offer:
				_, err = io.WriteString(c, "502 5.5.1 Error: command not implemented\r\n")
			case s.refuse != "":
				_, err = io.WriteString(c, s.refuse+"\r\n")
			default:
				if _, err := io.WriteString(c, "220 2.0.0 Ready to start TLS\r\n"+s.pipeline); err != nil {
					return err
				}
				return s.inTLS(ctx, c)
			}
		case "QUIT":
			io.WriteString(c, "221 2.0.0 Bye\r\n")
			return nil
		default:
			_, err = io.WriteString(c, "530 5.7.0 Must issue a STARTTLS command first\r\n")
		}
		if err != nil {
			return err
		}
	}
	return nil
}
