package trust

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tlskit/tlskit/truststore"
)

// Anchor is one trust anchor together with the file it was read from.
type Anchor struct {
	Cert   *x509.Certificate
	Source string
}

// OpenSSL's compiled-in defaults on Debian (OPENSSLDIR=/usr/lib/ssl).
const (
	opensslCertFile = "/usr/lib/ssl/cert.pem"
	opensslCertDir  = "/usr/lib/ssl/certs"
)

// DefaultSystemRoots loads the roots Go and OpenSSL use on this machine.
// It honours SSL_CERT_FILE and SSL_CERT_DIR as crypto/x509 does (SSL_CERT_DIR
// is colon-separated); otherwise it reads the first bundle file of Go's list
// in root_linux.go, Go's directories, and OpenSSL's default file and
// directory. Certificates are de-duplicated by their raw bytes. Use
// [SystemAnchors] to learn where each one came from.
func DefaultSystemRoots() ([]*x509.Certificate, error) {
	anchors, err := SystemAnchors()
	if err != nil {
		return nil, err
	}
	certs := make([]*x509.Certificate, len(anchors))
	for i, a := range anchors {
		certs[i] = a.Cert
	}
	return certs, nil
}

// SystemAnchors is [DefaultSystemRoots] with the source file of each root.
// It returns an error only when no root at all could be loaded.
func SystemAnchors() ([]Anchor, error) {
	files := truststore.GoCertFiles()
	fileEnv := os.Getenv("SSL_CERT_FILE")
	if fileEnv != "" {
		files = []string{fileEnv}
	}
	dirs := truststore.GoCertDirs()
	dirEnv := os.Getenv("SSL_CERT_DIR")
	if dirEnv != "" {
		dirs = strings.Split(dirEnv, ":")
	}
	l := rootLoader{seen: make(map[string]bool)}
	for _, f := range files {
		if l.file(f) {
			break // Go stops at the first bundle it can read
		}
	}
	if fileEnv == "" {
		l.file(opensslCertFile)
	}
	for _, d := range dirs {
		l.dir(d)
	}
	if dirEnv == "" {
		l.dir(opensslCertDir)
	}
	if len(l.out) == 0 {
		looked := append(append([]string{}, files...), dirs...)
		return nil, fmt.Errorf("trust: no system roots found (looked in %s; set SSL_CERT_FILE or use explicit roots)", strings.Join(looked, ", "))
	}
	return l.out, nil
}

// rootLoader accumulates anchors, skipping duplicates.
type rootLoader struct {
	seen map[string]bool
	out  []Anchor
}

// file loads one PEM bundle and reports whether it could be read.
func (l *rootLoader) file(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	l.add(data, path)
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

// add parses PEM certificates in data, ignoring anything unparsable, as a
// system pool does.
func (l *rootLoader) add(data []byte, source string) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return
		}
		if b.Type != "CERTIFICATE" || l.seen[string(b.Bytes)] {
			continue
		}
		l.seen[string(b.Bytes)] = true
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			continue
		}
		l.out = append(l.out, Anchor{Cert: c, Source: source})
	}
}
