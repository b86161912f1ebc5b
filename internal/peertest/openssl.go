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
