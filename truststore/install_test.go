package truststore

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
)

// TestNotInstalled: a root put in /usr/local/share/ca-certificates is
// trusted by no client until update-ca-certificates copies it into the
// system bundle, and that reads only files named *.crt. The oracle is the
// real update-ca-certificates, run on the tree (its --localcertsdir,
// --etccertsdir… options): it installs corp.crt and leaves other.pem out.
// Before it runs, the audit names both (run it; rename other.pem); after,
// only other.pem.
func TestNotInstalled(t *testing.T) {
	tool := "/usr/sbin/update-ca-certificates" // not on every user's PATH
	if _, err := os.Stat(tool); err != nil {
		tool = peertest.Need(t, "update-ca-certificates")
	}
	f := newFixture(t)
	tr := debian(t, map[string]*x509.Certificate{"roota": f.rootA.cert})
	tr.write("/usr/local/share/ca-certificates/corp.crt", pemOf(f.rootB.cert))
	tr.write("/usr/local/share/ca-certificates/other.pem", pemOf(f.old.cert))
	tr.write("/etc/ca-certificates.conf", []byte("test/roota.crt\n"))
	if err := os.MkdirAll(tr.host("/etc/ca-certificates/update.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	notInstalled := func(a *Audit) []string {
		var out []string
		for _, fd := range a.Findings {
			if fd.ID == finding.TruststoreNotInstalled {
				out = append(out, fd.Evidence[0]+": "+fd.Fix)
			}
		}
		slices.Sort(out)
		return out
	}
	got := notInstalled(discover(t, tr, nil))
	want := []string{
		"/usr/local/share/ca-certificates/corp.crt: Run update-ca-certificates as root.",
		"/usr/local/share/ca-certificates/other.pem: Rename it to /usr/local/share/ca-certificates/other.crt and run update-ca-certificates as root.",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("before update-ca-certificates: %q, want %q", got, want)
	}
	// A chain to corp.crt's root: curl refuses it, and the reason says
	// where the root waits. The oracle: openssl verify with the bundle.
	chain := f.chainB()
	bundleVerifies := func() bool {
		dir := t.TempDir()
		leaf, inter := dir+"/leaf.pem", dir+"/inter.pem"
		os.WriteFile(leaf, pemOf(chain[0]), 0o644)
		os.WriteFile(inter, pemOf(chain[1]), 0o644)
		cmd := exec.Command(peertest.Need(t, "openssl"), "verify", "-attime", strconv.FormatInt(testNow.Unix(), 10),
			"-CAfile", tr.host("/etc/ssl/certs/ca-certificates.crt"), "-untrusted", inter, leaf)
		cmd.Env = cleanEnv()
		return cmd.Run() == nil
	}
	if bundleVerifies() {
		t.Fatal("openssl verify trusts the chain before update-ca-certificates")
	}
	v := verdicts(t, tr, nil, chain, "b.test")["curl"]
	if v.Trusted || !strings.Contains(v.Reason, "corp.crt, which is not installed") || !strings.Contains(v.Fix, "run update-ca-certificates") {
		t.Errorf("curl before update-ca-certificates: trusted %v, %s; fix %s", v.Trusted, v.Reason, v.Fix)
	}

	cmd := exec.Command(tool, "--fresh", "--certsconf", tr.host("/etc/ca-certificates.conf"),
		"--certsdir", tr.host("/usr/share/ca-certificates"), "--localcertsdir", tr.host("/usr/local/share/ca-certificates"),
		"--etccertsdir", tr.host("/etc/ssl/certs"), "--hooksdir", tr.host("/etc/ca-certificates/update.d"))
	cmd.Env = cleanEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("update-ca-certificates: %v\n%s", err, out)
	}
	// The oracle: what it put in the bundle.
	bundle, err := os.ReadFile(tr.host("/etc/ssl/certs/ca-certificates.crt"))
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for rest := bundle; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		subjects = append(subjects, c.Subject.CommonName)
	}
	if !slices.Contains(subjects, "Test Root B") || slices.Contains(subjects, "Test Old Root") {
		t.Fatalf("update-ca-certificates installed %q: want corp.crt's Test Root B and not other.pem's Test Old Root", subjects)
	}
	if !bundleVerifies() || !verdicts(t, tr, nil, chain, "b.test")["curl"].Trusted {
		t.Errorf("after update-ca-certificates: openssl verify %v, curl trusted %v; want both", bundleVerifies(), verdicts(t, tr, nil, chain, "b.test")["curl"].Trusted)
	}
	got = notInstalled(discover(t, tr, nil))
	if len(got) != 1 || !strings.HasPrefix(got[0], "/usr/local/share/ca-certificates/other.pem: Rename") {
		t.Errorf("after update-ca-certificates: %q, want other.pem alone", got)
	}
}
