package probe

import (
	"net"
	"strings"
	"testing"
)

func TestSplitTarget(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "example.com", want: "example.com:443"},
		{in: "example.com:8443", want: "example.com:8443"},
		{in: "https://example.com/path?q#f", want: "example.com:443"},
		{in: "https://example.com:9443/", want: "example.com:9443"},
		{in: "HTTPS://user:secret@example.com/x", want: "example.com:443"},
		{in: "ldaps://ldap.example.com", want: "ldap.example.com:636"},
		{in: "imaps://[2001:db8::1]/INBOX", want: "[2001:db8::1]:993"},
		{in: "smtps://mail.example.com", want: "mail.example.com:465"},
		{in: "pop3s://mail.example.com:1995", want: "mail.example.com:1995"},
		{in: "smtp://mail.example.com", err: "smtp:// upgrades to TLS in band: check mail.example.com with the SMTP upgrade (STARTTLS protocol smtp)"},
		{in: "postgresql://db.example.com:5432/app", err: "(STARTTLS protocol postgres)"},
		{in: "http://example.com/", err: "http:// is plaintext; the TLS service is https://example.com"},
		{in: "tcp://example.com:1", err: `unknown URL scheme "tcp://"`},
		{in: "10.0.0.7", want: "10.0.0.7:443"},
		{in: "[2001:db8::1]:993", want: "[2001:db8::1]:993"},
		{in: "[2001:db8::1]", want: "[2001:db8::1]:443"},
		{in: "2001:db8::1", want: "[2001:db8::1]:443"},
		{in: "::1:18446", err: "an IPv6 address with a port is written in brackets, [::1]:18446"},
		{in: "[", err: "no host name"},
		{in: "]x", err: "not a host name"},
		{in: "a b", err: "not a host name"},
		{in: "-ä.example", err: "not a host name: idna"},
		{in: "example.com:0", err: "port must be a number from 1 to 65535"},
		{in: "example.com:https", err: "port must be a number"},
		{in: ":443", err: "no host name"},
		// IDNA maps a zero-width space or a soft hyphen to nothing: such a
		// host dialled ":443", this machine.
		{in: "\u200b", err: "characters that show nothing"},
		{in: "\u00ad:8443", err: "characters that show nothing"},
		{in: "https://\u200b/", err: "characters that show nothing"},
		{in: "\u200b.example", err: "characters that show nothing"},
		{in: "b\u200bücher.example", want: "xn--bcher-kva.example:443"},
		{in: "", err: "empty target"},
	} {
		got, err := SplitTarget(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("SplitTarget(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("SplitTarget(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// FuzzSplitTarget: any input gives an error or a HOST:PORT that net can split.
func FuzzSplitTarget(f *testing.F) {
	for _, s := range []string{"example.com", "a:1", "https://x/y", "[::1]", "[::1]:5", "::1", "a:b:c", "https://", "[", "]", "ldaps://u@h:1/p", "smtp://x", "://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := SplitTarget(s)
		if err != nil {
			return
		}
		if _, _, err := net.SplitHostPort(got); err != nil {
			t.Fatalf("SplitTarget(%q) = %q, which does not split: %v", s, got, err)
		}
	})
}

// TestSplitTargetPort: a target without a port gets the default given (a
// STARTTLS protocol's port); one with a port keeps it, and an https:// URL
// means 443 whatever the default. An internationalised host name becomes
// its A-labels, which DNS looks up.
func TestSplitTargetPort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		port int
		want string
	}{
		{"mail.example.com", 25, "mail.example.com:25"},
		{"mail.example.com:587", 25, "mail.example.com:587"},
		{"192.0.2.1", 5432, "192.0.2.1:5432"},
		{"::1", 143, "[::1]:143"},
		{"[::1]", 143, "[::1]:143"},
		{"[::1]:993", 143, "[::1]:993"},
		{"https://example.com/x", 25, "example.com:443"},
		{"https://example.com:8443", 25, "example.com:8443"},
		{"example.com", 443, "example.com:443"},
		{"bücher.example", 443, "xn--bcher-kva.example:443"},
		{"BÜCHER.example:8443", 443, "xn--bcher-kva.example:8443"},
		{"https://bücher.example/x", 25, "xn--bcher-kva.example:443"},
	} {
		if got, err := SplitTargetPort(tc.in, tc.port); err != nil || got != tc.want {
			t.Errorf("SplitTargetPort(%q, %d) = %q, %v; want %q", tc.in, tc.port, got, err, tc.want)
		}
	}
}
