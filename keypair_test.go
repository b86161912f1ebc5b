package tlskit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/internal/peertest"
)

// TestLoadKeyPair: key pairs as openssl writes them, good and bad. The
// errors say what is wrong in the user's terms (crypto/tls said "failed to
// parse private key" for an encrypted key and "private key type does not
// match public key type" for another key), and never quote the key.
func TestLoadKeyPair(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("rsa.key"), "-out", p("rsa.pem"), "-days", "1", "-subj", "/CN=rsa")
	run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", p("ec.key"), "-out", p("ec.pem"), "-days", "1", "-subj", "/CN=ec")
	run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", p("ec2.key"), "-out", p("ec2.pem"), "-days", "1", "-subj", "/CN=ec2")
	run("pkey", "-in", p("rsa.key"), "-aes256", "-passout", "pass:secret", "-out", p("pkcs8-enc.key"))
	run("rsa", "-in", p("rsa.key"), "-aes256", "-traditional", "-passout", "pass:secret", "-out", p("pkcs1-enc.key"))
	run("pkey", "-in", p("ec.key"), "-out", p("ec-pkcs8.key"))
	run("ec", "-in", p("ec.key"), "-out", p("ec-sec1.key"))

	for _, tc := range []struct {
		name, cert, key string
		err             string
	}{
		{"rsa", "rsa.pem", "rsa.key", ""},
		{"ec-pkcs8", "ec.pem", "ec-pkcs8.key", ""},
		{"ec-sec1", "ec.pem", "ec-sec1.key", ""},
		{"encrypted-pkcs8", "rsa.pem", "pkcs8-enc.key", "holds an encrypted private key"},
		{"encrypted-pkcs1", "rsa.pem", "pkcs1-enc.key", "holds an encrypted private key"},
		{"other-kind", "rsa.pem", "ec.key", "is not the key of the certificate in " + p("rsa.pem") + " (the certificate has an RSA 2048-bit key, the file an ECDSA P-256 key)"},
		{"other-key", "ec.pem", "ec2.key", "(both are ECDSA P-256 keys, but not the same one)"},
		{"switched", "rsa.key", "rsa.pem", "PEM inputs may have been switched"},
		{"missing", "rsa.pem", "nope.key", "no such file"},
		{"directory", "rsa.pem", ".", "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadKeyPair(p(tc.cert), p(tc.key))
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			key, _ := os.ReadFile(p(tc.key))
			for _, line := range strings.Split(string(key), "\n") {
				if len(line) > 20 && !strings.HasPrefix(line, "-----") && strings.Contains(err.Error(), line) {
					t.Errorf("the error quotes the key file: %v", err)
				}
			}
		})
	}

	// Policy.ClientCertificate: files first, then Certificates, else none;
	// a half-given pair is an error, never "no certificate".
	got, err := (&Policy{CertFile: p("ec.pem"), KeyFile: p("ec-sec1.key")}).ClientCertificate()
	if err != nil || got == nil || len(got.Certificate) != 1 {
		t.Errorf("ClientCertificate from files = %v, %v", got, err)
	}
	if _, err := (&Policy{KeyFile: p("ec-sec1.key")}).ClientCertificate(); err == nil {
		t.Errorf("ClientCertificate with a key and no certificate: no error")
	}
	if got, err := (&Policy{}).ClientCertificate(); got != nil || err != nil {
		t.Errorf("ClientCertificate of a policy without one = %v, %v", got, err)
	}
}
