package peertest

import (
	"os/exec"
	"strings"
	"testing"
)

// OpenSSLPrint is what the real openssl prints when run with args, after
// prefix ("serial=", "notAfter="): an oracle's answer for a test to
// compare with tlskit's.
func OpenSSLPrint(t testing.TB, prefix string, args ...string) string {
	t.Helper()
	openssl := Need(t, "openssl")
	out, err := exec.Command(openssl, args...).Output()
	if err != nil {
		t.Fatalf("openssl %v: %v", args, err)
	}
	v, ok := strings.CutPrefix(strings.TrimSpace(string(out)), prefix)
	if !ok {
		t.Fatalf("openssl %v: %q, want %s…", args, out, prefix)
	}
	return v
}

// X509Field is what openssl x509 prints for the certificate file cert
// with flags (-serial, -enddate, -fingerprint -sha256), after prefix.
func X509Field(t testing.TB, cert, prefix string, flags ...string) string {
	t.Helper()
	return OpenSSLPrint(t, prefix, append([]string{"x509", "-in", cert, "-noout"}, flags...)...)
}

// Reach says what the real openssl s_client meets at addr within a
// second: "connected" (a TCP connection opened), "refused", or "silent"
// (no answer: a black hole, or a port that accepts nothing). An oracle of
// what each of a name's addresses does, for the tests of what tlskit
// says of them.
func Reach(t testing.TB, addr string) string {
	t.Helper()
	openssl := Need(t, "openssl")
	out, _ := exec.Command("timeout", "1", openssl, "s_client", "-connect", addr).CombinedOutput()
	switch s := string(out); {
	case strings.Contains(s, "CONNECTED"):
		return "connected"
	case strings.Contains(s, "Connection refused"):
		return "refused"
	}
	return "silent"
}
