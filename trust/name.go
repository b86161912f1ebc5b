package trust

import (
	"fmt"
	"net"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ServerName decides the name a client verifies the server's certificate
// against: configured when it is not empty (a --servername flag, a
// policy's server_name), else the host of addr ("HOST:PORT" or a bare
// host). An IP address is a name like any other: it must be in the
// certificate's IP SANs. It is the one rule every client path of tlskit
// follows (check, Dial, Transport, the tunnel client); an empty result is an
// error, never "check no name".
func ServerName(addr, configured string) (string, error) {
	name := configured
	if name == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr // a bare host
		}
		name = host
	}
	name = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(name, "["), "]"), ".")
	if name == "" {
		return "", &ServerNameError{Name: addr, msg: fmt.Sprintf("%q has no host name to verify the server's certificate against; give the server name", addr)}
	}
	if !hostText(name) {
		return "", &ServerNameError{Name: name, msg: fmt.Sprintf("server name %q is not a host name or an IP address", name)}
	}
	ascii, err := ASCIIName(name)
	if err != nil {
		return "", &ServerNameError{Name: name, msg: fmt.Sprintf("server name %q is not a host name: %v", name, err)}
	}
	return ascii, nil
}

// ASCIIName returns an internationalised host name (bücher.example) in the
// form certificates and DNS carry it, its A-labels (xn--bcher-kva.example),
// by IDNA's lookup rules (UTS #46, as curl and browsers map names); an
// ASCII name is returned as it is. A name that is not valid IDNA is an
// error, and so is one the mapping empties or leaves with an empty label:
// it drops characters that show nothing (a zero-width space, a soft
// hyphen, a byte order mark), and a name of only those is no name, which
// must never become "check no name" (or dial this machine).
func ASCIIName(name string) (string, error) {
	ascii := true
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return name, nil
	}
	mapped, err := idna.Lookup.ToASCII(name)
	if err != nil {
		return "", err
	}
	if a := strings.TrimSuffix(mapped, "."); a == "" || strings.HasPrefix(a, ".") || strings.Contains(a, "..") {
		return "", fmt.Errorf("IDNA maps it to %q: it holds characters that show nothing, such as a zero-width space", mapped)
	}
	return mapped, nil
}

// ServerNameError is a server name that cannot be verified against nor
// sent: empty, or not a host name (spaces, slashes, control characters,
// bytes that are not UTF-8).
type ServerNameError struct {
	// Name is the name given (or the address without a host).
	Name string
	msg  string
}

func (e *ServerNameError) Error() string { return "trust: " + e.msg }

// hostText reports whether s can be a host name or an IP address as text:
// valid UTF-8 without spaces, slashes or control characters.
func hostText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '/' || unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// SNI returns the server_name extension's value for name: name itself, or
// "" for an IP address, which SNI never carries (RFC 6066 §3).
func SNI(name string) string {
	if net.ParseIP(name) != nil {
		return ""
	}
	return name
}
