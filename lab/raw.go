package lab

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
)

// TLS record layer constants (RFC 8446, Section 5.1).
const (
	recordHeaderLen     = 5
	recordTypeHandshake = 22
	// maxCiphertext is the largest record length a peer may send
	// (2^14 + 2048, RFC 5246, Section 6.2.3); larger means not TLS.
	maxCiphertext = 1<<14 + 2048
)

// The raw servers' fixed bytes.
const (
	// alertUnrecognizedName is a fatal unrecognized_name(112) alert record
	// (RFC 6066, Section 3), version TLS 1.2 as a TLS 1.3 server would send.
	alertUnrecognizedName = "\x15\x03\x03\x00\x02\x02\x70"
	// httpBadRequest is what an HTTP/1.1 server answers to a ClientHello.
	httpBadRequest = "HTTP/1.1 400 Bad Request\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Connection: close\r\n" +
		"Content-Length: 16\r\n" +
		"\r\n" +
		"400 Bad Request\n"
	// sshBanner is an OpenSSH identification string (RFC 4253, Section 4.2).
	sshBanner = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"
	// smtpGreeting is an SMTP server greeting (RFC 5321, Section 4.2).
	smtpGreeting = "220 mail." + Domain + " ESMTP\r\n"
)

// record is one TLS record as read off the wire.
type record struct {
	typ     uint8
	version uint16
	body    []byte
}

// readRecord reads one TLS record. It refuses a header whose length
// exceeds what RFC 5246 allows, so garbage never makes it allocate much.
func readRecord(r io.Reader) (record, error) {
	var hdr [recordHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return record{}, fmt.Errorf("lab: reading a TLS record header: %w", err)
	}
	rec := record{typ: hdr[0], version: binary.BigEndian.Uint16(hdr[1:3])}
	n := int(binary.BigEndian.Uint16(hdr[3:5]))
	if rec.typ < 20 || rec.typ > 24 || hdr[1] != 3 {
		return record{}, fmt.Errorf("lab: peer did not speak TLS: record header % x", hdr)
	}
	if n > maxCiphertext {
		return record{}, fmt.Errorf("lab: TLS record length %d exceeds the maximum %d", n, maxCiphertext)
	}
	rec.body = make([]byte, n)
	if _, err := io.ReadFull(r, rec.body); err != nil {
		return record{}, fmt.Errorf("lab: reading a %d-byte TLS record: %w", n, err)
	}
	return rec, nil
}

// readClientHello reads the first record and checks that it carries a
// handshake message of type client_hello (1).
func readClientHello(r io.Reader) error {
	rec, err := readRecord(r)
	if err != nil {
		return err
	}
	if rec.typ != recordTypeHandshake || len(rec.body) == 0 || rec.body[0] != 1 {
		return errors.New("lab: first record is not a ClientHello")
	}
	return nil
}

// finish ends a connection politely: it sends FIN, then reads and discards
// whatever the peer still sends until it closes (or the deadline passes),
// so that closing never turns unread data into a TCP reset.
func finish(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	io.Copy(io.Discard, c)
}

// handler serves one accepted connection; the lab closes the connection
// when the handler returns and cancels ctx when the lab closes.
type handler func(ctx context.Context, c net.Conn) error

// silent accepts and never answers: the client's own timeout fires.
func silent(ctx context.Context, c net.Conn) error {
	_, err := io.Copy(io.Discard, c)
	return err
}

// reset reads the ClientHello, then aborts the connection with a TCP RST
// (SO_LINGER 0 makes close discard the socket instead of sending FIN).
func reset(ctx context.Context, c net.Conn) error {
	if err := readClientHello(c); err != nil {
		return err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		if err := tc.SetLinger(0); err != nil {
			return fmt.Errorf("lab: setting SO_LINGER: %w", err)
		}
	}
	return nil // the caller's Close sends the RST
}

// plaintextHTTP answers the first bytes it gets with an HTTP 400, as an
// HTTP/1.1 server on a port the client thought was TLS would.
func plaintextHTTP(ctx context.Context, c net.Conn) error {
	buf := make([]byte, 4096)
	if _, err := c.Read(buf); err != nil {
		return err
	}
	if _, err := io.WriteString(c, httpBadRequest); err != nil {
		return err
	}
	finish(c)
	return nil
}

// greeter returns a handler that speaks first with banner, as SSH and SMTP
// servers do, and then waits for the client to give up.
func greeter(banner string) handler {
	return func(ctx context.Context, c net.Conn) error {
		if _, err := io.WriteString(c, banner); err != nil {
			return err
		}
		finish(c)
		return nil
	}
}

// unrecognizedName reads the ClientHello and answers with a fatal
// unrecognized_name alert, like a server that has no certificate for the
// requested SNI name and refuses to guess.
func unrecognizedName(ctx context.Context, c net.Conn) error {
	if err := readClientHello(c); err != nil {
		return err
	}
	if _, err := io.WriteString(c, alertUnrecognizedName); err != nil {
		return err
	}
	finish(c)
	return nil
}

// versionIntolerant serves a TLS 1.2 server behind the fault of the stacks
// and middleboxes that broke when TLS 1.3 came: a ClientHello that offers
// TLS 1.3 (in supported_versions) gets the connection closed, without an
// alert, instead of the TLS 1.2 answer RFC 8446 Section 4.2.1 asks for;
// any other hello is served by tls12.
func versionIntolerant(tls12 handler) handler {
	return func(ctx context.Context, c net.Conn) error {
		rec, err := readRecord(c)
		if err != nil {
			return err
		}
		if offersTLS13(rec.body) {
			return c.Close()
		}
		hdr := []byte{rec.typ, byte(rec.version >> 8), byte(rec.version), byte(len(rec.body) >> 8), byte(len(rec.body))}
		return tls12(ctx, &replayConn{Conn: c, r: io.MultiReader(bytes.NewReader(append(hdr, rec.body...)), c)})
	}
}

// smallReads serves tls behind the fault of the servers and middleboxes
// that read a ClientHello with one read of a small buffer (tldr.fail): a
// hello that does not fit in the first read of maxHello bytes gets the
// connection closed, without an alert. Current browsers' and Go's hellos,
// with their hybrid post-quantum key share, are about 1,500 bytes.
func smallReads(maxHello int, tls handler) handler {
	return func(ctx context.Context, c net.Conn) error {
		buf := make([]byte, maxHello)
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		if n < recordHeaderLen || n < recordHeaderLen+int(binary.BigEndian.Uint16(buf[3:5])) {
			return c.Close()
		}
		return tls(ctx, &replayConn{Conn: c, r: io.MultiReader(bytes.NewReader(buf[:n]), c)})
	}
}

// offersTLS13 reports whether a record's body holding a ClientHello
// offers TLS 1.3 in its supported_versions extension (RFC 8446, Section
// 4.2.1). A hello split across records, or malformed, offers nothing.
func offersTLS13(body []byte) bool {
	if len(body) < 4 || body[0] != 1 {
		return false
	}
	h, err := parseHello(body[4:])
	return err == nil && slices.Contains(h.versions, 0x0304)
}

// replayConn reads r (bytes already read from the connection, then the
// connection) and writes to the connection.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(b []byte) (int, error) { return c.r.Read(b) }
