package truststore

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
)

// keytoolStore makes a Java keystore of storetype with Java's own keytool,
// one trusted certificate entry per certificate.
func keytoolStore(t testing.TB, storetype string, certs ...*x509.Certificate) []byte {
	t.Helper()
	keytool := peertest.Need(t, "keytool")
	dir := t.TempDir()
	store := filepath.Join(dir, "cacerts")
	for i, c := range certs {
		pem := filepath.Join(dir, fmt.Sprintf("c%d.pem", i))
		if err := os.WriteFile(pem, pemOf(c), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(keytool, "-importcert", "-noprompt", "-storetype", storetype, "-keystore", store,
			"-storepass", "changeit", "-alias", fmt.Sprintf("root%d", i), "-file", pem)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("keytool -importcert: %v\n%s", err, out)
		}
	}
	data, err := os.ReadFile(store)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestJavaKeystore reads keystores written by Java's keytool, JKS and
// JCEKS: the certificates are those imported. A PKCS#12 keystore is not
// read, and says so.
func TestJavaKeystore(t *testing.T) {
	f := newFixture(t)
	for _, typ := range []string{"JKS", "JCEKS"} {
		t.Run(typ, func(t *testing.T) {
			data := keytoolStore(t, typ, f.rootA.cert, f.rootB.cert)
			if !IsJavaKeystore(data) {
				t.Fatal("not recognised as a Java keystore")
			}
			ders, err := ParseJavaKeystore(data)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range ders {
				got = append(got, fmt.Sprintf("%x", sha256.Sum256(d)))
			}
			want := []string{fmt.Sprintf("%x", sha256.Sum256(f.rootA.cert.Raw)), fmt.Sprintf("%x", sha256.Sum256(f.rootB.cert.Raw))}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("certificates %v, want %v", got, want)
			}
			for n := range data {
				if _, err := ParseJavaKeystore(data[:n]); err == nil && n < len(data)-20 {
					t.Fatalf("a keystore cut at %d of %d bytes read without error", n, len(data))
				}
			}
		})
	}
	t.Run("PKCS12", func(t *testing.T) {
		data := keytoolStore(t, "PKCS12", f.rootA.cert)
		if IsJavaKeystore(data) {
			t.Fatal("a PKCS#12 keystore taken for JKS")
		}
		tr := debian(t, map[string]*x509.Certificate{"Test_Root_A": f.rootA.cert})
		tr.write("/etc/ssl/certs/java/cacerts", data)
		a := discover(t, tr, nil)
		l := location(t, a, "/etc/ssl/certs/java/cacerts")
		if !strings.HasPrefix(l.Problem, "not read") || len(l.Certs) != 0 {
			t.Errorf("a PKCS#12 keystore: problem %q, %d certificates", l.Problem, len(l.Certs))
		}
		if finding.Has(a.Findings, finding.TruststoreNotACertificate) || finding.Has(a.Findings, finding.TruststoreJavaOutOfSync) {
			t.Errorf("findings about a keystore that was not read: %v", ids(a.Findings))
		}
	})
}

// TestJavaOutOfSync: the classic "curl trusts it, Java does not": a root
// added to the system store after Java's keystore was made (here by
// keytool, from the roots of the day), and a root removed from the system
// store that Java still trusts.
func TestJavaOutOfSync(t *testing.T) {
	f := newFixture(t)
	tr := debian(t, map[string]*x509.Certificate{"Test_Root_A": f.rootA.cert, "Test_Root_B": f.rootB.cert})
	tr.write("/etc/ssl/certs/java/cacerts", keytoolStore(t, "JKS", f.rootA.cert, f.old.cert))
	a := discover(t, tr, nil)
	if l := location(t, a, "/etc/ssl/certs/java/cacerts"); len(l.Certs) != 2 {
		t.Errorf("Java's keystore: %d certificates, want 2", len(l.Certs))
	}
	fd := wantFinding(t, a.Findings, finding.TruststoreJavaOutOfSync, "/etc/ssl/certs/java/cacerts", "misses 1 of the 2 roots", "holds 1 roots",
		"not in Java's keystore: Test Root B", "only in Java's keystore: Test Old Root")
	if fd.Severity != finding.Warning {
		t.Errorf("severity %s", fd.Severity)
	}

	// In sync: no finding.
	tr2 := debian(t, map[string]*x509.Certificate{"Test_Root_A": f.rootA.cert})
	tr2.write("/etc/ssl/certs/java/cacerts", keytoolStore(t, "JKS", f.rootA.cert))
	if a := discover(t, tr2, nil); finding.Has(a.Findings, finding.TruststoreJavaOutOfSync) {
		t.Errorf("a keystore in sync reported: %v", ids(a.Findings))
	}
}

// TestMachineJavaKeystore reads this machine's Java cacerts (written by
// Debian's ca-certificates-java) and checks it against keytool -list: the
// same certificates, by SHA-256 fingerprint.
func TestMachineJavaKeystore(t *testing.T) {
	keytool := peertest.Need(t, "keytool")
	const path = "/etc/ssl/certs/java/cacerts"
	data, err := os.ReadFile(path)
	if err != nil {
		peertest.Skip(t, "%s: %v (.ci/run installs ca-certificates-java)", path, err)
	}
	if !IsJavaKeystore(data) {
		t.Skipf("%s is not JKS or JCEKS", path)
	}
	ders, err := ParseJavaKeystore(data)
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for _, d := range ders {
		ours = append(ours, fmt.Sprintf("%X", sha256.Sum256(d)))
	}
	out, err := exec.Command(keytool, "-list", "-keystore", path, "-storepass", "changeit").Output()
	if err != nil {
		t.Fatalf("keytool -list: %v", err)
	}
	var theirs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if _, fp, ok := strings.Cut(sc.Text(), "Certificate fingerprint (SHA-256): "); ok {
			theirs = append(theirs, strings.ReplaceAll(fp, ":", ""))
		}
	}
	slices.Sort(ours)
	slices.Sort(theirs)
	if len(theirs) == 0 || !slices.Equal(ours, theirs) {
		t.Errorf("%d certificates, keytool lists %d", len(ours), len(theirs))
	}
}

func location(t *testing.T, a *Audit, p string) Location {
	t.Helper()
	for _, l := range a.Locations {
		if l.Path == p {
			return l
		}
	}
	t.Fatalf("no location %s", p)
	return Location{}
}

// TestJDKOwnKeystore: a JDK with a keystore of its own (Docker's
// eclipse-temurin images; JDK 18 writes it as a PKCS#12 keystore without
// a password) misses the root an image added with update-ca-certificates.
// keytool writes that keystore here; the certificates read are those
// keytool -list lists.
func TestJDKOwnKeystore(t *testing.T) {
	f := newFixture(t)
	keytool := peertest.Need(t, "keytool")
	dir := t.TempDir()
	store := filepath.Join(dir, "cacerts")
	if err := os.WriteFile(filepath.Join(dir, "a.pem"), pemOf(f.rootA.cert), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(keytool, "-J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE", "-J-Dkeystore.pkcs12.macAlgorithm=NONE",
		"-importcert", "-noprompt", "-storetype", "PKCS12", "-keystore", store, "-storepass", "changeit", "-alias", "a", "-file", filepath.Join(dir, "a.pem"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("keytool: %v\n%s", err, out)
	}
	data, err := os.ReadFile(store)
	if err != nil {
		t.Fatal(err)
	}
	tr := debian(t, map[string]*x509.Certificate{"Test_Root_A": f.rootA.cert, "Local_Root_B": f.rootB.cert})
	tr.write("/opt/java/openjdk/lib/security/cacerts", data)
	a := discover(t, tr, nil)
	if l := location(t, a, "/opt/java/openjdk/lib/security/cacerts"); len(l.Certs) != 1 || l.Problem != "" {
		t.Errorf("the JDK's keystore: %d certificates, problem %q; keytool lists 1", len(l.Certs), l.Problem)
	}
	wantFinding(t, a.Findings, finding.TruststoreJavaOutOfSync, "/opt/java/openjdk/lib/security/cacerts", "misses 1 of the 2 roots", "not in Java's keystore: Test Root B")

	// JAVA_HOME names another JDK.
	tr.write("/srv/jdk/lib/security/cacerts", data)
	a = discover(t, tr, map[string]string{"JAVA_HOME": "/srv/jdk"})
	wantFinding(t, a.Findings, finding.TruststoreJavaOutOfSync, "/srv/jdk/lib/security/cacerts")
}

// TestOpenSSLPKCS12Truststore: a PKCS#12 file made by openssl pkcs12 has no
// Java trusted mark on its certificates, and Java's keytool lists 0
// entries in it: as a keystore it trusts nothing, and the audit says so.
func TestOpenSSLPKCS12Truststore(t *testing.T) {
	f := newFixture(t)
	openssl := peertest.Need(t, "openssl")
	keytool := peertest.Need(t, "keytool")
	dir := t.TempDir()
	pem, p12 := filepath.Join(dir, "a.pem"), filepath.Join(dir, "a.p12")
	if err := os.WriteFile(pem, pemOf(f.rootA.cert), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(openssl, "pkcs12", "-export", "-nokeys", "-in", pem, "-certpbe", "NONE", "-nomac", "-passout", "pass:", "-out", p12).CombinedOutput(); err != nil {
		t.Fatalf("openssl pkcs12: %v\n%s", err, out)
	}
	out, err := exec.Command(keytool, "-list", "-keystore", p12, "-storepass", "changeit").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "contains 0 entries") {
		t.Fatalf("keytool -list does not list 0 entries (%v):\n%s", err, out)
	}
	data, err := os.ReadFile(p12)
	if err != nil {
		t.Fatal(err)
	}
	tr := debian(t, map[string]*x509.Certificate{"Test_Root_A": f.rootA.cert})
	tr.write("/etc/ssl/certs/java/cacerts", data)
	a := discover(t, tr, nil)
	l := location(t, a, "/etc/ssl/certs/java/cacerts")
	if len(l.Certs) != 0 || !strings.Contains(l.Problem, "Java trusts none of its 1 certificates") {
		t.Errorf("%d certificates, problem %q", len(l.Certs), l.Problem)
	}
}
