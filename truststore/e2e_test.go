package truststore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
)

// serveChain starts a crypto/tls server on 127.0.0.1 sending leaf and
// intermediates, and returns its address.
func serveChain(t *testing.T, leaf *ca, inter ...*x509.Certificate) string {
	t.Helper()
	cert := tls.Certificate{Certificate: [][]byte{leaf.cert.Raw}, PrivateKey: leaf.key}
	for _, c := range inter {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return peertest.ServeTLS(t, &tls.Config{Certificates: []tls.Certificate{cert}}, func(c *tls.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if err := c.Handshake(); err != nil {
			return
		}
		c.Read(make([]byte, 1)) // until the client leaves
	})
}

// fetchChain returns the chain the server sends, unverified.
func fetchChain(t *testing.T, addr, name string) []*x509.Certificate {
	t.Helper()
	d := tls.Dialer{Config: &tls.Config{ServerName: name, InsecureSkipVerify: true}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState().PeerCertificates
}

// sClient runs the real `openssl s_client` with only the given trust
// arguments and returns its "Verify return code" line.
func sClient(t *testing.T, addr, name string, trust ...string) string {
	t.Helper()
	args := append([]string{"s_client", "-connect", addr, "-servername", name, "-verify_hostname", name}, trust...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader("")
	out, _ := cmd.CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "Verify return code:") {
			return strings.TrimSpace(line)
		}
	}
	t.Fatalf("openssl s_client printed no verify result:\n%s", out)
	return ""
}

// TestSeedCaseEndToEnd reproduces the seed story against a live server: a
// root only in the bundle, a hashed directory without it. Our verdicts say
// go and openssl-cafile trust, qt5 and openssl-capath do not, and the real
// openssl s_client agrees for both OpenSSL modes, which proves the CApath
// emulation against the library Qt itself calls.
func TestSeedCaseEndToEnd(t *testing.T) {
	peertest.Need(t, "openssl")
	f := newFixture(t)
	tr := debian(t, map[string]*x509.Certificate{"Test_Root_A": f.rootA.cert}, f.rootB.cert)
	addr := serveChain(t, f.leafB, f.interB.cert)
	chain := fetchChain(t, addr, "b.test")
	if len(chain) != 2 {
		t.Fatalf("server sent %d certificates, want 2", len(chain))
	}

	vs := verdicts(t, tr, nil, chain, "b.test")
	wantTrust(t, vs, "go", "openssl-cafile", "gnutls", "curl", "python")
	if !strings.Contains(vs["qt5"].Reason, hashOf(t, f.rootB.cert)+".0") {
		t.Errorf("qt5 reason %q", vs["qt5"].Reason)
	}

	capath := sClient(t, addr, "b.test", "-CApath", tr.host("/etc/ssl/certs"), "-no-CAfile", "-no-CAstore")
	if !strings.Contains(capath, "20 (unable to get local issuer certificate)") {
		t.Errorf("openssl -CApath: %s; want error 20 as emulated", capath)
	}
	cafile := sClient(t, addr, "b.test", "-CAfile", tr.host("/etc/ssl/certs/ca-certificates.crt"), "-no-CApath", "-no-CAstore")
	if !strings.Contains(cafile, "0 (ok)") {
		t.Errorf("openssl -CAfile: %s; want ok as emulated", cafile)
	}
	// And after `openssl rehash` of a directory holding the root, both the
	// emulation and OpenSSL trust by hash.
	tr.write("/usr/share/ca-certificates/test/Test_Root_B.crt", pemOf(f.rootB.cert))
	tr.link("../../../usr/share/ca-certificates/test/Test_Root_B.crt", "/etc/ssl/certs/Test_Root_B.pem")
	tr.rehash("/etc/ssl/certs")
	wantTrust(t, verdicts(t, tr, nil, chain, "b.test"), allStacks...)
	if got := sClient(t, addr, "b.test", "-CApath", tr.host("/etc/ssl/certs"), "-no-CAfile", "-no-CAstore"); !strings.Contains(got, "0 (ok)") {
		t.Errorf("openssl -CApath after rehash: %s", got)
	}
}
