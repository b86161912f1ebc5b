package wire

import (
	"bytes"
	"strings"
)

// Sniff identifies what a peer that does not speak TLS sent, from the first
// bytes it sent. protocol is "HTTP", "HTTP/2", "SSH", "SMTP", "FTP", "POP3",
// "IMAP", "Redis", "POP3 or Redis" (a bare "-ERR" reply), "PostgreSQL", "MySQL", "plaintext" for other printable
// text, or "" for unrecognized binary. excerpt is a short printable rendering
// of the first line (for SSH, the banner), with other bytes shown as '.'.
func Sniff(b []byte) (protocol string, excerpt string) {
	excerpt = printable(firstLine(b), 80)
	upper := strings.ToUpper(string(b[:min(len(b), 256)]))
	has := func(p string) bool { return bytes.HasPrefix(b, []byte(p)) }
	switch {
	case has("HTTP/1.") || has("HTTP/0.9"):
		return "HTTP", excerpt
	case has("PRI * HTTP/2.0"):
		return "HTTP/2", excerpt
	case isHTTPRequest(b):
		return "HTTP", excerpt
	case has("SSH-"):
		return "SSH", excerpt
	case has("220 ") || has("220-"):
		if strings.Contains(upper, "FTP") {
			return "FTP", excerpt
		}
		return "SMTP", excerpt
	case has("+OK"):
		return "POP3", excerpt
	case has("* OK") || has("* PREAUTH") || has("* BYE"):
		return "IMAP", excerpt
	case has("-NOAUTH") || has("-DENIED") || has("-WRONGPASS") || has("+PONG"):
		return "Redis", excerpt
	case has("-ERR"):
		// Both a POP3 server and Redis answer bytes they cannot parse
		// with "-ERR …": the reply alone does not tell them apart.
		return "POP3 or Redis", excerpt
	case isPostgresError(b):
		return "PostgreSQL", printable(bytes.ReplaceAll(b[5:min(len(b), 128)], []byte{0}, []byte{' '}), 80)
	case isMySQLGreeting(b):
		v, _, _ := bytes.Cut(b[5:], []byte{0})
		return "MySQL", "MySQL " + printable(v, 40)
	case len(b) > 0 && isText(b):
		return "plaintext", excerpt
	}
	return "", excerpt
}

func isHTTPRequest(b []byte) bool {
	method, _, ok := bytes.Cut(b[:min(len(b), 8)], []byte{' '})
	if !ok {
		return false
	}
	switch string(method) {
	case "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE":
		return true
	}
	return false
}

// isPostgresError recognizes the ErrorResponse ('E', int32 length, fields)
// a PostgreSQL server sends to a client that starts with a TLS ClientHello.
func isPostgresError(b []byte) bool {
	return len(b) > 6 && b[0] == 'E' && b[1] == 0 && bytes.Contains(b[5:], []byte("SFATAL"))
}

// isMySQLGreeting recognizes the initial handshake packet, protocol 10.
func isMySQLGreeting(b []byte) bool {
	if len(b) < 8 || b[3] != 0 || b[4] != 10 {
		return false
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
	return n >= 4 && n < 1024 && b[5] >= '0' && b[5] <= '9'
}

func firstLine(b []byte) []byte {
	b = b[:min(len(b), 512)]
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		return b[:i]
	}
	return b
}

func isText(b []byte) bool {
	b = b[:min(len(b), 512)]
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\r' && c != '\n' && c != '\t' {
			return false
		}
	}
	return true
}

func printable(b []byte, max int) string {
	var sb strings.Builder
	for i, c := range b {
		if i == max {
			sb.WriteString("…")
			break
		}
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		sb.WriteByte(c)
	}
	return sb.String()
}
