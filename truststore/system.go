package truststore

import (
	"crypto/x509"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Root is one trust anchor of the system roots, with the file it was read
// from.
type Root struct {
	Cert   *x509.Certificate
	Source string
}

// SystemRoots loads the roots that Go and OpenSSL use on this machine: what
// tlskit's trust source "system" means. It honours SSL_CERT_FILE and
// SSL_CERT_DIR from env as crypto/x509 and OpenSSL do (SSL_CERT_DIR is
// colon-separated); otherwise it reads the first readable bundle of
// [GoCertFiles], every file of [GoCertDirs], and OpenSSL's default file and
// directory under its OPENSSLDIR (the first of Debian's, RHEL's, Alpine's
// that exists). Files are read as [ParseBundle] reads them (CERTIFICATE
// blocks only, unparsable ones skipped, as a system pool does);
// certificates are de-duplicated by their raw bytes.
//
// It returns an error only when no root at all could be loaded.
func SystemRoots(env map[string]string) ([]Root, error) {
	files := GoCertFiles()
	fileEnv := env["SSL_CERT_FILE"]
	if fileEnv != "" {
		files = []string{fileEnv}
	}
	dirs := GoCertDirs()
	dirEnv := env["SSL_CERT_DIR"]
	if dirEnv != "" {
		dirs = splitList(dirEnv)
	}
	l := rootLoader{seen: make(map[string]bool)}
	for _, f := range files {
		if l.file(f) {
			break // Go stops at the first bundle it can read
		}
	}
	osslDir := (&auditor{fs: newRootFS("/")}).openSSLDir()
	if fileEnv == "" {
		l.file(filepath.Join(osslDir, "cert.pem"))
	}
	for _, d := range dirs {
		l.dir(d)
	}
	if dirEnv == "" {
		l.dir(filepath.Join(osslDir, "certs"))
	}
	if len(l.out) == 0 {
		looked := append(append([]string{}, files...), dirs...)
		return nil, fmt.Errorf("truststore: no system roots found (looked in %s; set SSL_CERT_FILE or trust a CA file explicitly)", strings.Join(looked, ", "))
	}
	return l.out, nil
}

// ProcessEnv returns the variables of the process environment that decide
// where clients read roots from (SSL_CERT_FILE, SSL_CERT_DIR,
// CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE), when set.
func ProcessEnv() map[string]string {
	env := make(map[string]string)
	for _, k := range []string{"SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	return env
}

// rootLoader accumulates roots, skipping duplicates.
type rootLoader struct {
	seen map[string]bool
	out  []Root
}

// file loads one PEM bundle and reports whether it could be read.
func (l *rootLoader) file(path string) bool {
	data, err := readUserFile(path)
	if err != nil {
		return false
	}
	b, _ := ParseBundle(data)
	for _, c := range b.Certs {
		if l.seen[string(c.Raw)] {
			continue
		}
		l.seen[string(c.Raw)] = true
		l.out = append(l.out, Root{Cert: c, Source: path})
	}
	return true
}

// dir loads every file of a directory, skipping symbolic links that point
// inside the same directory (OpenSSL's hash links), as crypto/x509 does.
func (l *rootLoader) dir(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			if target, err := os.Readlink(p); err == nil && !strings.Contains(target, "/") {
				continue
			}
		} else if !e.Type().IsRegular() {
			continue
		}
		l.file(p)
	}
}
