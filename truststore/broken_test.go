package truststore

import (
	"crypto/x509"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
)

// TestBrokenDebian breaks a real `openssl rehash`ed Debian tree in every
// way the issue lists and asserts each finding's id and path.
func TestBrokenDebian(t *testing.T) {
	f := newFixture(t)
	tr := debian(t, map[string]*x509.Certificate{
		"Test_Root_A": f.rootA.cert, "Test_Root_B": f.rootB.cert, "Test_Old_Root": f.old.cert,
	})
	ha, hb := hashOf(t, f.rootA.cert), hashOf(t, f.rootB.cert)
	// Duplicate in the bundle.
	tr.write("/etc/ssl/certs/ca-certificates.crt", pemOf(f.rootA.cert, f.rootB.cert, f.old.cert, f.rootA.cert))
	// Dangling link.
	tr.link("/usr/share/ca-certificates/test/Gone.crt", "/etc/ssl/certs/Gone.pem")
	// Wrong-name link, and a leftover MD5-style (-old) link.
	tr.link("Test_Root_A.pem", "/etc/ssl/certs/deadbeef.0")
	tr.link("Test_Root_A.pem", "/etc/ssl/certs/"+formatHash(SubjectHashOld(f.rootA.cert))+".0")
	// HASH.0 dangling hiding HASH.1.
	tr.remove("/etc/ssl/certs/" + hb + ".0")
	tr.link("Removed_Root.pem", "/etc/ssl/certs/"+hb+".0")
	tr.link("Test_Root_B.pem", "/etc/ssl/certs/"+hb+".1")
	// Junk, a loop, a huge file and a FIFO.
	tr.write("/etc/ssl/certs/junk.pem", []byte{0x00, 0xff, 0x13, 0x37, 0x42})
	tr.link("loop2.pem", "/etc/ssl/certs/loop1.pem")
	tr.link("loop1.pem", "/etc/ssl/certs/loop2.pem")
	huge, err := os.Create(tr.host("/etc/ssl/certs/huge.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := huge.Truncate(maxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	huge.Close()
	if err := syscall.Mkfifo(tr.host("/etc/ssl/certs/fifo.pem"), 0o644); err != nil {
		t.Fatal(err)
	}

	done := make(chan *Audit)
	go func() { done <- discover(t, tr, nil) }()
	var a *Audit
	select {
	case a = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Discover hung (FIFO opened?)")
	}
	fs := a.Findings
	wantFinding(t, fs, finding.TruststoreDuplicate, "/etc/ssl/certs/ca-certificates.crt", "Test Root A")
	wantFinding(t, fs, finding.TruststoreDanglingLink, "/etc/ssl/certs/Gone.pem")
	wantFinding(t, fs, finding.TruststoreHashMismatch, "/etc/ssl/certs/deadbeef.0", ha+".0")
	wantFinding(t, fs, finding.TruststoreHashMismatch, "pre-1.0 MD5 hash")
	hid := wantFinding(t, fs, finding.TruststoreHashCollisionHidden, "/etc/ssl/certs/"+hb+".0", hb+".1", "dangling")
	if hid.Severity != finding.Error {
		t.Errorf("hidden collision severity %s", hid.Severity)
	}
	wantFinding(t, fs, finding.TruststoreDanglingLink, "/etc/ssl/certs/"+hb+".0")
	wantFinding(t, fs, finding.TruststoreNotACertificate, "/etc/ssl/certs/junk.pem", "neither PEM nor DER")
	wantFinding(t, fs, finding.TruststoreUnreadable, "/etc/ssl/certs/loop1.pem", "symlink loop")
	wantFinding(t, fs, finding.TruststoreUnreadable, "/etc/ssl/certs/huge.pem", "16 MiB")
	wantFinding(t, fs, finding.TruststoreUnreadable, "/etc/ssl/certs/fifo.pem", "FIFO")
	wantFinding(t, fs, finding.TruststoreExpiredRoot, "Test Old Root", "2022-01-01")
	// B is still in the directory (as HASH.1), so the directory is complete
	// for a fixed OpenSSL; the hidden-collision finding covers older ones.
	if finding.Has(fs, finding.TruststoreIncompleteHashDir) {
		t.Errorf("unexpected incomplete-hash-dir: %v", ids(fs))
	}
	if fs[0].Severity != finding.Error {
		t.Errorf("findings not sorted: first is %s", fs[0].ID)
	}

	// Verdicts: the dangling B.0 hides Root B from OpenSSL before 3.0.22
	// (and from Qt, which uses it), not from clients that read the bundle.
	vs := verdicts(t, tr, nil, f.chainB(), "b.test")
	wantTrust(t, vs, "go", "openssl-cafile", "gnutls", "curl", "python")
	if r := vs["openssl-capath"].Reason; !strings.Contains(r, "/etc/ssl/certs/"+hb+".0 is a dangling link") {
		t.Errorf("openssl-capath reason %q", r)
	}
	if fix := vs["qt5"].Fix; !strings.Contains(fix, "remove the dangling link") {
		t.Errorf("qt5 fix %q", fix)
	}
	vs = verdicts(t, tr, nil, f.chainB(), "b.test", func(o *Options) { o.OpenSSLSkipsDangling = true })
	wantTrust(t, vs, allStacks...)
}

// TestQtModeSwitch checks the facts sheet's Qt table: a dangling hash link
// does not switch Qt to on-demand loading, a valid unrelated one does.
func TestQtModeSwitch(t *testing.T) {
	f := newFixture(t)
	tr := newTree(t)
	tr.write("/etc/ssl/certs/ca-bundle.crt", pemOf(f.rootB.cert))
	// Scenario A: bundle only.
	wantTrust(t, verdicts(t, tr, nil, f.chainB(), "b.test"), "go", "qt5", "qt6")
	// Scenario C: bundle plus a dangling hash link.
	tr.link("nowhere.pem", "/etc/ssl/certs/9a28e002.0")
	wantTrust(t, verdicts(t, tr, nil, f.chainB(), "b.test"), "go", "qt5", "qt6")
	// Scenario B: bundle plus one valid hash link to an unrelated CA, in
	// another of Qt's nine directories.
	tr.write("/usr/local/ssl/certs/"+hashOf(t, f.rootA.cert)+".0", pemOf(f.rootA.cert))
	vs := verdicts(t, tr, nil, f.chainB(), "b.test")
	wantTrust(t, vs, "go")
	if r := vs["qt5"].Reason; !strings.Contains(r, "/usr/local/ssl/certs/"+hashOf(t, f.rootA.cert)+".0 is a hashed name") {
		t.Errorf("qt5 reason %q", r)
	}
	// Scenario D: a correct hash link for the CA.
	tr.link("ca-bundle.crt", "/etc/ssl/certs/"+hashOf(t, f.rootB.cert)+".0")
	// (curl finds no bundle of its configure list here, and without
	// /etc/debian_version no CApath either.)
	wantTrust(t, verdicts(t, tr, nil, f.chainB(), "b.test"), "go", "qt5", "qt6", "openssl-capath", "python")
}

// TestEnvOverride covers SSL_CERT_FILE and SSL_CERT_DIR pointing somewhere
// and nowhere.
func TestEnvOverride(t *testing.T) {
	f := newFixture(t)
	tr := debian(t, map[string]*x509.Certificate{"Test_Root_A": f.rootA.cert})
	a := discover(t, tr, map[string]string{"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt", "SSL_CERT_DIR": "/nonexistent:/also/missing"})
	ok := wantFinding(t, a.Findings, finding.TruststoreEnvOverride, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "1 certificates")
	if ok.Severity != finding.Info {
		t.Errorf("SSL_CERT_FILE finding severity %s", ok.Severity)
	}
	bad := wantFinding(t, a.Findings, finding.TruststoreEnvOverride, "SSL_CERT_DIR=/nonexistent:/also/missing points at no certificates")
	if bad.Severity != finding.Warning {
		t.Errorf("SSL_CERT_DIR finding severity %s", bad.Severity)
	}
	// Both set to missing paths: Go and OpenSSL get no roots (as tested
	// with go1.26.8 in the facts sheet); Qt and GnuTLS are unaffected, and
	// the curl tool takes only SSL_CERT_DIR (the first one set), keeping
	// its compiled-in bundle.
	vs := verdicts(t, tr, map[string]string{"SSL_CERT_FILE": "/missing.pem", "SSL_CERT_DIR": "/missing"}, f.chainA(), "a.test")
	wantTrust(t, vs, "qt5", "qt6", "gnutls", "curl")
	if vs["go"].Roots != 0 {
		t.Errorf("go roots %d, want 0", vs["go"].Roots)
	}
}

// TestRootEscape checks that links cannot leave Root: an absolute target
// is Root-relative and ".." stops at Root.
func TestRootEscape(t *testing.T) {
	f := newFixture(t)
	tr := newTree(t)
	tr.write("/etc/ssl/certs/ca-certificates.crt", pemOf(f.rootA.cert))
	tr.link("../../../../../../../../etc/passwd", "/etc/ssl/cert.pem")
	tr.link("/etc/hostname", "/etc/pki/tls/cacert.pem")
	a := discover(t, tr, nil)
	wantFinding(t, a.Findings, finding.TruststoreDanglingLink, "/etc/ssl/cert.pem")
	wantFinding(t, a.Findings, finding.TruststoreDanglingLink, "/etc/pki/tls/cacert.pem")
}

func TestOptionErrors(t *testing.T) {
	if _, err := Discover(Options{Root: t.TempDir()}); err != nil { // nil Time: now
		t.Errorf("nil Time: %v", err)
	}
	if _, err := Discover(Options{Root: "/nonexistent/root", Time: at(testNow)}); err == nil {
		t.Error("missing root accepted")
	}
	f := newFixture(t)
	if _, err := WhoTrusts(Options{Root: t.TempDir(), Time: at(testNow)}, nil, "x"); err == nil {
		t.Error("empty chain accepted")
	}
	// An empty root: nothing trusts, nothing crashes.
	vs := verdicts(t, newTree(t), nil, f.chainA(), "a.test")
	wantTrust(t, vs)
	if r := vs["go"].Reason; !strings.Contains(r, "no root at all") {
		t.Errorf("go reason %q", r)
	}
}
