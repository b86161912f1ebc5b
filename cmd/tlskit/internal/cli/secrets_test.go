package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/lab"
)

// TestPrivateKeysNeverPrinted runs every command that takes a client
// certificate's private key, in text and JSON, through success, refusal
// and the mistakes users make with key files, and requires that nothing
// of the key reaches standard output or standard error: not its PEM lines,
// not its DER in hex or base64, not the private scalar. (The key log that
// --keylog writes holds the connection's secrets by design; it is a file,
// not output.)
func TestPrivateKeysNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	l, err := lab.Start(context.Background(), lab.Options{Dir: filepath.Join(dir, "lab")})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f := l.Files()
	forbidden := append(keyTraces(t, f.ClientKey), keyTraces(t, f.BadClientKey)...)

	target := func(name string) (addr, serverName string) {
		c, ok := l.Case(name)
		if !ok {
			t.Fatalf("no lab case %q", name)
		}
		return c.Addr, name + ".lab.tlskit.test"
	}
	config := filepath.Join(dir, "exporter.json")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`{"modules": {"mtls": {"trust": ["file:%s"], "cert": %q, "key": %q}}}`, f.Root, f.ClientCert, f.ClientKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	var runs [][]string
	for _, name := range []string{"client-cert-required-tls13", "client-cert-required-tls12", "client-cert-rejected-tls13", "client-cert-rejected-tls12", "good"} {
		addr, sn := target(name)
		for _, pair := range [][2]string{{f.ClientCert, f.ClientKey}, {f.BadClientCert, f.BadClientKey}} {
			base := []string{"check", "--ca-file", f.Root, "--servername", sn, "--cert", pair[0], "--key", pair[1], "--timeout", "5s"}
			runs = append(runs,
				append(append([]string{}, base...), addr),
				append(append([]string{}, base...), "--json", addr),
				append(append([]string{}, base...), "--brief", "--keylog", filepath.Join(dir, name+".keys"), addr),
			)
		}
	}
	addr, sn := target("client-cert-required-tls13")
	runs = append(runs,
		// The key where the certificate goes, the certificate where the key
		// goes, the key for both: errors that name the files.
		[]string{"check", "--cert", f.ClientKey, "--key", f.ClientCert, "--servername", sn, addr},
		[]string{"check", "--json", "--cert", f.ClientKey, "--key", f.ClientKey, "--servername", sn, addr},
		[]string{"check", "--cert", f.ClientCert, "--key", f.BadClientKey, "--servername", sn, addr},
		[]string{"verify", f.ClientKey},
		[]string{"verify", "--json", f.ClientKey},
		[]string{"exporter", "--config", config, "--check-config"},
		[]string{"exporter", "--config", config, "--check-config", "--json"},
	)
	// The tunnel's logs, text and JSON, for a client certificate the server
	// accepts and one it rejects.
	for _, pair := range [][2]string{{f.ClientCert, f.ClientKey}, {f.BadClientCert, f.BadClientKey}} {
		for _, format := range []string{"text", "json"} {
			listen, logs, ok := startTunnel(t, []string{"tunnel", "client", "--target", addr, "--servername", sn, "--ca-file", f.Root,
				"--cert", pair[0], "--key", pair[1], "--log-format", format})
			if !ok {
				t.Fatalf("the tunnel did not start:\n%s", logs.String())
			}
			if c, err := net.Dial("tcp", listen); err == nil {
				c.SetDeadline(time.Now().Add(2 * time.Second))
				c.Write([]byte("hello\n"))
				io.Copy(io.Discard, c)
				c.Close()
			}
			time.Sleep(100 * time.Millisecond)
			for _, s := range forbidden {
				if strings.Contains(logs.String(), s) {
					t.Errorf("tunnel client (%s logs) printed the private key (%.16s…):\n%s", format, s, logs.String())
				}
			}
		}
	}
	for _, args := range runs {
		_, out, errs := runCLI(context.Background(), args...)
		if out == "" && errs == "" {
			t.Errorf("tlskit %s printed nothing", strings.Join(args, " "))
		}
		for _, s := range forbidden {
			if strings.Contains(out, s) || strings.Contains(errs, s) {
				t.Errorf("tlskit %s printed the private key (%.16s…):\n%s%s", strings.Join(args, " "), s, out, errs)
			}
		}
	}
}

// keyTraces returns the forms in which the private key in the PEM file
// path could show up in output: its PEM's base64 lines, its DER in hex
// (both cases, and colon-separated as fingerprints are printed) and in
// base64, and the private scalar or exponent the same ways.
func keyTraces(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	var traces []string
	for _, line := range strings.Split(string(pem.EncodeToMemory(block)), "\n") {
		if len(line) >= 32 && !strings.HasPrefix(line, "-----") {
			traces = append(traces, line)
		}
	}
	if len(traces) == 0 || !strings.Contains(string(data), traces[0]) {
		t.Fatalf("%s: its PEM lines are not found in it", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		if key, err = x509.ParseECPrivateKey(block.Bytes); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var secret []byte
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		secret, err = k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
	case *rsa.PrivateKey:
		secret = k.D.Bytes()
	default:
		t.Fatalf("%s: a %T", path, key)
	}
	for _, b := range [][]byte{block.Bytes, secret} {
		h := hex.EncodeToString(b)
		colons := make([]string, len(b))
		for i, c := range b {
			colons[i] = fmt.Sprintf("%02X", c)
		}
		// Any 16 bytes of it would be too many: look for its middle.
		mid := len(b) / 2
		traces = append(traces,
			h[mid:mid+32], strings.ToUpper(h[mid:mid+32]),
			strings.Join(colons[mid:mid+16], ":"),
			base64.StdEncoding.EncodeToString(b)[mid/3*4:mid/3*4+20],
		)
	}
	return traces
}
