package truststore

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"

	"github.com/tlskit/tlskit/internal/peertest"
)

// testNow is the pinned audit and verification time.
var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// at returns a clock stopped at t, for Options.Time.
func at(t time.Time) func() time.Time { return func() time.Time { return t } }

// ca is a test certificate with its key.
type ca struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// newCert issues a certificate for cn, self-signed when parent is nil.
// CAs get no DNS names; leaves get cn as their DNS name.
func newCert(t testing.TB, cn string, parent *ca, isCA bool, notAfter time.Time) *ca {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"tlskit test"}},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              notAfter,
		BasicConstraintsValid: true,
		IsCA:                  isCA,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	if isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	} else {
		tmpl.DNSNames = []string{cn}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	signer, issuer := crypto.Signer(key), tmpl
	if parent != nil {
		signer, issuer = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &ca{cert: c, key: key}
}

var farFuture = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)

func pemOf(cs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range cs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// tree is a fake root filesystem under a temporary directory.
type tree struct {
	t    testing.TB
	root string
}

func newTree(t testing.TB) *tree { return &tree{t: t, root: t.TempDir()} }

func (tr *tree) host(p string) string { return filepath.Join(tr.root, p) }

func (tr *tree) write(p string, data []byte) {
	tr.t.Helper()
	if err := os.MkdirAll(filepath.Dir(tr.host(p)), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(tr.host(p), data, 0o644); err != nil {
		tr.t.Fatal(err)
	}
}

// link makes p a symlink to target, written as given (absolute targets are
// Root-relative for the audit, like a chroot).
func (tr *tree) link(target, p string) {
	tr.t.Helper()
	if err := os.MkdirAll(filepath.Dir(tr.host(p)), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	os.Remove(tr.host(p))
	if err := os.Symlink(target, tr.host(p)); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) remove(p string) {
	if err := os.Remove(tr.host(p)); err != nil {
		tr.t.Fatal(err)
	}
}

// rehash runs the real `openssl rehash` on a directory of the tree.
func (tr *tree) rehash(dir string) {
	tr.t.Helper()
	peertest.Need(tr.t, "openssl")
	cmd := exec.Command("openssl", "rehash", tr.host(dir))
	cmd.Env = cleanEnv()
	if out, err := cmd.CombinedOutput(); err != nil && !strings.Contains(string(out), "skipping") {
		tr.t.Fatalf("openssl rehash: %v\n%s", err, out)
	}
}

// cleanEnv is the process environment without the SSL_CERT_* overrides
// this machine sets.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SSL_CERT_") && !strings.HasPrefix(kv, "CURL_CA_") {
			env = append(env, kv)
		}
	}
	return env
}

func hashOf(t testing.TB, c *x509.Certificate) string {
	h, err := SubjectHash(c)
	if err != nil {
		t.Fatal(err)
	}
	return formatHash(h)
}

// debian builds Debian's layout: each root as
// /usr/share/ca-certificates/test/NAME.crt, linked (relative, so the real
// openssl rehash can follow it) from /etc/ssl/certs/NAME.pem, the bundle
// /etc/ssl/certs/ca-certificates.crt with bundleOnly added, HASH.0 links
// made by `openssl rehash`, and OPENSSLDIR /usr/lib/ssl with absolute links.
func debian(t testing.TB, roots map[string]*x509.Certificate, bundleOnly ...*x509.Certificate) *tree {
	tr := newTree(t)
	tr.write("/etc/debian_version", []byte("12.8\n"))
	var all []*x509.Certificate
	for _, name := range sortedKeys(roots) {
		tr.write("/usr/share/ca-certificates/test/"+name+".crt", pemOf(roots[name]))
		tr.link("../../../usr/share/ca-certificates/test/"+name+".crt", "/etc/ssl/certs/"+name+".pem")
		all = append(all, roots[name])
	}
	tr.write("/etc/ssl/certs/ca-certificates.crt", pemOf(append(all, bundleOnly...)...))
	tr.rehash("/etc/ssl/certs")
	tr.link("/etc/ssl/certs", "/usr/lib/ssl/certs")
	tr.link("/etc/ssl/certs/ca-certificates.crt", "/usr/lib/ssl/cert.pem")
	return tr
}

func sortedKeys(m map[string]*x509.Certificate) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	for i := range ks {
		for j := i + 1; j < len(ks); j++ {
			if ks[j] < ks[i] {
				ks[i], ks[j] = ks[j], ks[i]
			}
		}
	}
	return ks
}

// fixture is a small PKI: two roots, an expired root and a leaf chain
// under each.
type fixture struct {
	rootA, rootB, old *ca
	interA, leafA     *ca
	interB, leafB     *ca
}

func newFixture(t testing.TB) *fixture {
	f := &fixture{
		rootA: newCert(t, "Test Root A", nil, true, farFuture),
		rootB: newCert(t, "Test Root B", nil, true, farFuture),
		old:   newCert(t, "Test Old Root", nil, true, time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)),
	}
	f.interA = newCert(t, "Test Intermediate A", f.rootA, true, farFuture)
	f.leafA = newCert(t, "a.test", f.interA, false, farFuture)
	f.interB = newCert(t, "Test Intermediate B", f.rootB, true, farFuture)
	f.leafB = newCert(t, "b.test", f.interB, false, farFuture)
	return f
}

func (f *fixture) chainA() []*x509.Certificate {
	return []*x509.Certificate{f.leafA.cert, f.interA.cert}
}
func (f *fixture) chainB() []*x509.Certificate {
	return []*x509.Certificate{f.leafB.cert, f.interB.cert}
}

func discover(t testing.TB, tr *tree, env map[string]string) *Audit {
	t.Helper()
	a, err := Discover(Options{Root: tr.root, Env: env, Time: at(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// ids returns "id path-or-title" for each finding, for failure messages.
func ids(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID+": "+f.Title)
	}
	return out
}

// wantFinding asserts a finding with id whose title or detail mentions
// every string in about.
func wantFinding(t testing.TB, fs []finding.Finding, id string, about ...string) finding.Finding {
	t.Helper()
	for _, f := range fs {
		if f.ID != id {
			continue
		}
		text := f.Title + "\n" + f.Detail + "\n" + strings.Join(f.Evidence, "\n")
		ok := true
		for _, s := range about {
			ok = ok && strings.Contains(text, s)
		}
		if ok {
			return f
		}
	}
	t.Fatalf("no %s finding about %q; have:\n%s", id, about, strings.Join(ids(fs), "\n"))
	return finding.Finding{}
}

func verdicts(t testing.TB, tr *tree, env map[string]string, chain []*x509.Certificate, name string, opts ...func(*Options)) map[string]StackVerdict {
	t.Helper()
	o := Options{Root: tr.root, Env: env, Time: at(testNow)}
	for _, f := range opts {
		f(&o)
	}
	vs, err := WhoTrusts(o, chain, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(Stacks()) {
		t.Fatalf("%d verdicts for %d stacks", len(vs), len(Stacks()))
	}
	m := make(map[string]StackVerdict)
	for _, v := range vs {
		m[v.Stack] = v
		if v.Trusted != (v.Reason == "") {
			t.Errorf("%s: trusted=%v but reason %q", v.Stack, v.Trusted, v.Reason)
		}
	}
	return m
}

// wantTrust asserts exactly which stacks trust.
func wantTrust(t testing.TB, vs map[string]StackVerdict, trusted ...string) {
	t.Helper()
	for _, s := range Stacks() {
		want := false
		for _, n := range trusted {
			want = want || n == s.Name
		}
		if v := vs[s.Name]; v.Trusted != want {
			t.Errorf("%s: trusted=%v, want %v (roots %d from %v; reason %q)", s.Name, v.Trusted, want, v.Roots, v.Sources, v.Reason)
		}
	}
}

var allStacks = []string{"go", "openssl-cafile", "openssl-capath", "qt5", "qt6", "gnutls", "curl", "python"}

func TestDebianClean(t *testing.T) {
	f := newFixture(t)
	tr := debian(t, map[string]*x509.Certificate{"Test_Root_A": f.rootA.cert, "Test_Root_B": f.rootB.cert})
	a := discover(t, tr, nil)
	if len(a.Findings) != 0 {
		t.Errorf("clean Debian tree has findings:\n%s", strings.Join(ids(a.Findings), "\n"))
	}
	if a.OpenSSLDir != "/usr/lib/ssl" {
		t.Errorf("OpenSSLDir = %q", a.OpenSSLDir)
	}
	var dir *Location
	for i, l := range a.Locations {
		if l.Path == "/etc/ssl/certs" {
			dir = &a.Locations[i]
		}
	}
	if dir == nil || dir.Kind != KindHashedDir || dir.HashLinks != 2 || len(dir.Certs) != 2 {
		t.Fatalf("/etc/ssl/certs location = %+v", dir)
	}
	if len(dir.Aliases) != 1 || dir.Aliases[0] != "/usr/lib/ssl/certs" {
		t.Errorf("aliases = %v, want the absolute link /usr/lib/ssl/certs resolved inside the root", dir.Aliases)
	}
	for _, c := range dir.Certs {
		if c.SubjectHash != hashOf(t, c.X509) || len(c.SHA256) != 64 || len(c.SubjectHashOld) != 8 {
			t.Errorf("cert %+v", c)
		}
		if strings.HasPrefix(filepath.Base(c.Path), c.SubjectHash) {
			t.Errorf("cert path %s is the hash link, want the named file", c.Path)
		}
	}
	wantTrust(t, verdicts(t, tr, nil, f.chainA(), "a.test"), allStacks...)
	// A name the leaf does not cover fails everywhere, with x509's reason.
	vs := verdicts(t, tr, nil, f.chainA(), "other.test")
	wantTrust(t, vs)
	if !strings.Contains(vs["go"].Reason, "other.test") {
		t.Errorf("go reason %q does not name the host", vs["go"].Reason)
	}
}

func TestFedoraLayout(t *testing.T) {
	f := newFixture(t)
	tr := newTree(t)
	tr.write("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", pemOf(f.rootA.cert, f.rootB.cert))
	tr.link("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/pki/tls/certs/ca-bundle.crt")
	tr.link("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/pki/tls/cert.pem")
	tr.link("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem")
	tr.link("/etc/pki/tls/certs", "/etc/ssl/certs")
	tr.write("/etc/pki/ca-trust/source/anchors/.keep", nil)
	a := discover(t, tr, nil)
	if a.OpenSSLDir != "/etc/pki/tls" {
		t.Errorf("OpenSSLDir = %q, want /etc/pki/tls", a.OpenSSLDir)
	}
	if len(a.Findings) != 0 {
		t.Errorf("findings:\n%s", strings.Join(ids(a.Findings), "\n"))
	}
	vs := verdicts(t, tr, nil, f.chainA(), "a.test")
	// No hash links in /etc/pki/tls/certs: CApath-only OpenSSL finds
	// nothing, while Qt (no hash names, so systemCaCertificates) reads
	// ca-bundle.crt.
	wantTrust(t, vs, "go", "openssl-cafile", "qt5", "qt6", "gnutls", "curl", "python")
	if !strings.Contains(vs["gnutls"].Sources[0], "tls-ca-bundle.pem") {
		t.Errorf("gnutls sources %v, want the p11-kit extracted bundle", vs["gnutls"].Sources)
	}
	if !strings.Contains(vs["openssl-capath"].Reason, "/etc/pki/tls/certs") {
		t.Errorf("openssl-capath reason %q", vs["openssl-capath"].Reason)
	}
}

func TestAlpineLayout(t *testing.T) {
	f := newFixture(t)
	tr := newTree(t)
	tr.write("/etc/ssl/certs/ca-certificates.crt", pemOf(f.rootA.cert, f.rootB.cert))
	tr.link("certs/ca-certificates.crt", "/etc/ssl/cert.pem")
	tr.write("/etc/ssl/openssl.cnf", []byte("# config\n"))
	a := discover(t, tr, nil)
	if a.OpenSSLDir != "/etc/ssl" || len(a.Findings) != 0 {
		t.Errorf("OpenSSLDir %q, findings:\n%s", a.OpenSSLDir, strings.Join(ids(a.Findings), "\n"))
	}
	vs := verdicts(t, tr, nil, f.chainB(), "b.test")
	wantTrust(t, vs, "go", "openssl-cafile", "qt5", "qt6", "gnutls", "curl", "python")
	if vs["go"].Roots != 2 {
		t.Errorf("go roots = %d, want 2", vs["go"].Roots)
	}
}

// TestSeedCase is the story that started the package: a root only in the
// bundle, a hashed directory without it.
func TestSeedCase(t *testing.T) {
	f := newFixture(t)
	tr := debian(t, map[string]*x509.Certificate{"Test_Root_A": f.rootA.cert}, f.rootB.cert)
	a := discover(t, tr, nil)
	h := hashOf(t, f.rootB.cert)
	inc := wantFinding(t, a.Findings, finding.TruststoreIncompleteHashDir, "/etc/ssl/certs", "1 of the 2 roots", h+".0 Test Root B")
	if inc.Severity != finding.Error {
		t.Errorf("severity %s", inc.Severity)
	}
	vs := verdicts(t, tr, nil, f.chainB(), "b.test")
	wantTrust(t, vs, "go", "openssl-cafile", "gnutls", "curl", "python")
	qt := vs["qt5"]
	for _, s := range []string{"so Qt loads roots only by hash", h + ".0", "Test Root B", "/etc/ssl/certs/ca-certificates.crt is never read"} {
		if !strings.Contains(qt.Reason, s) {
			t.Errorf("qt5 reason %q lacks %q", qt.Reason, s)
		}
	}
	if !strings.Contains(qt.Fix, "setCaCertificates(QSslConfiguration::systemCaCertificates())") || !strings.Contains(qt.Fix, "openssl rehash /etc/ssl/certs") {
		t.Errorf("qt5 fix %q", qt.Fix)
	}
	if c := vs["openssl-capath"]; !strings.Contains(c.Reason, h+".0") || !strings.Contains(c.Reason, "although /etc/ssl/certs/ca-certificates.crt has it") || !strings.Contains(c.Reason, "/usr/lib/ssl/certs (-> /etc/ssl/certs)") {
		t.Errorf("openssl-capath reason %q", c.Reason)
	}
	// SSL_CERT_FILE pointing elsewhere turns Go and OpenSSL's CAfile off
	// the bundle, and the fix says so.
	tr.write("/opt/other.pem", pemOf(f.rootA.cert))
	vs = verdicts(t, tr, map[string]string{"SSL_CERT_FILE": "/opt/other.pem"}, f.chainB(), "b.test")
	// Go still reads every non-hash file in /etc/ssl/certs, bundle included;
	// GnuTLS ignores the variable.
	wantTrust(t, vs, "go", "gnutls")
	if c := vs["openssl-cafile"]; !strings.Contains(c.Fix, "SSL_CERT_FILE=/opt/other.pem replaces the system bundle") {
		t.Errorf("openssl-cafile fix %q", c.Fix)
	}
}
