package cli

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/lab"
)

// hostileName is a common name a server's certificate can carry: an ANSI
// colour, an xterm title (OSC … BEL), a carriage return that would
// overwrite the line, a right-to-left override, and a C1 CSI (U+009B)
// that clears the screen on terminals reading C1 controls.
const hostileName = "evil\x1b[31mRED\x1b[0m\x1b]0;pwned\x07\rFAKE VERDICT  TRUSTED \u202emoc.knab \u009b2J"

// TestHostileNamesEscaped: a certificate whose subject holds terminal
// control sequences, served by openssl s_server, is shown by check (text,
// brief, many targets), scan and verify with those characters escaped,
// never raw, on standard output and standard error alike; JSON keeps the
// name as it is (encoding/json escapes control characters itself). In a
// distinguished name the C0 controls are RFC 4514's escapes already
// (\1B, as OpenSSL writes them); the rest (C1, bidi) is termsafe's.
func TestHostileNamesEscaped(t *testing.T) {
	dir := t.TempDir()
	pki, err := lab.NewPKI(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := pki.Leaf(lab.LeafOptions{CommonName: hostileName, DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, SelfSigned: true})
	if err != nil {
		t.Fatal(err)
	}
	cert, keyFile := (&bypassWorld{pki: pki, dir: dir}).writePair(t, "hostile", leaf)
	// A server for each command: s_server takes 100 connections, and a
	// scan makes more.
	addr := func() string { return peertest.OpenSSL(t, "-cert", cert, "-key", keyFile).Addr }

	for _, args := range [][]string{
		{"check", "--ca-file", cert, "--servername", "localhost", addr()},
		{"check", "--servername", "localhost", addr()}, // untrusted: the name is in the findings too
		{"check", "--brief", "--servername", "localhost", addr()},
		{"check", "--ca-file", cert, "--servername", "localhost", addr(), addr()},
		{"check", "--csv", "--ca-file", cert, "--servername", "localhost", addr(), addr()},
		{"scan", "--servername", "localhost", addr()},
		{"verify", "--servername", "localhost", cert},
		{"verify", "--ca-file", cert, cert},
	} {
		_, out, errs := runCLI(context.Background(), args...)
		all := out + errs
		for _, raw := range []string{"\x1b", "\x07", "\r", "\u202e", "\u009b"} {
			if strings.Contains(all, raw) {
				i := strings.Index(all, raw)
				t.Errorf("tlskit %s printed %q raw: …%q…", strings.Join(args, " "), raw, all[max(0, i-40):min(len(all), i+40)])
			}
		}
		if !shownEscaped(all) {
			t.Errorf("tlskit %s does not show the organization, escaped:\n%s", strings.Join(args, " "), all)
		}
	}

	// The HTML pages of check and scan show it escaped too: a browser
	// applies the right-to-left override as a terminal would.
	for _, args := range [][]string{
		{"check", "--html", filepath.Join(dir, "check.html"), "--ca-file", cert, "--servername", "localhost", addr(), addr()},
		{"scan", "--html", filepath.Join(dir, "scan.html"), "--servername", "localhost", addr()},
	} {
		runCLI(context.Background(), args...)
		page, err := os.ReadFile(args[2])
		if err != nil {
			t.Fatalf("tlskit %s: %v", strings.Join(args, " "), err)
		}
		for _, raw := range []string{"\x1b", "\x07", "\r", "\u202e", "\u009b"} {
			if strings.Contains(string(page), raw) {
				t.Errorf("tlskit %s: the page holds %q raw", strings.Join(args, " "), raw)
			}
		}
		if !shownEscaped(string(page)) {
			t.Errorf("tlskit %s: the page does not show the organization, escaped", strings.Join(args, " "))
		}
	}

	// JSON carries the name as the certificate has it, or as a
	// distinguished name's text.
	_, out, _ := runCLI(context.Background(), "check", "--json", "--ca-file", cert, "--servername", "localhost", addr())
	if !strings.Contains(out, `evil\u001b[31mRED`) && !strings.Contains(out, `evil\\1B[31mRED`) {
		t.Errorf("check --json does not carry the organization as it is:\n%.2000s", out)
	}
}

// shownEscaped reports whether out shows the hostile name's start with its
// escape character escaped: by termsafe (\x1b), or in a distinguished
// name by RFC 4514 (\1B).
func shownEscaped(out string) bool {
	return strings.Contains(out, `evil\x1b[31mRED`) || strings.Contains(out, `evil\1B[31mRED`)
}
