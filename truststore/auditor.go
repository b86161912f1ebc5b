package truststore

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tlskit/tlskit/internal/dn"
)

// auditor carries the caches of one Discover or WhoTrusts call. It is never
// shared between calls, so the package holds no mutable state.
type auditor struct {
	fs      *rootFS
	env     map[string]string
	now     time.Time
	opts    Options
	files   map[string]*content // by resolved virtual path
	dirs    map[string]*dir     // by virtual path as asked
	certs   map[*x509.Certificate]*Cert
	canon   map[string]string // raw subject → canonical encoding
	osslDir string
}

func newAuditor(opts Options) *auditor {
	a := &auditor{
		fs:    newRootFS(opts.Root),
		env:   opts.Env,
		now:   opts.now(),
		opts:  opts,
		files: make(map[string]*content),
		dirs:  make(map[string]*dir),
		certs: make(map[*x509.Certificate]*Cert),
		canon: make(map[string]string),
	}
	a.osslDir = a.openSSLDir()
	return a
}

// getenv returns a variable from Options.Env; unset and empty are the same,
// as for Go and OpenSSL.
func (a *auditor) getenv(name string) string {
	return a.env[name]
}

// open inspects one virtual path, following symlinks inside the root,
// read as a PEM or DER bundle is.
func (a *auditor) open(vpath string) *file { return a.openAs(vpath, false) }

// openKeystore is open for a Java keystore: JKS, JCEKS or PKCS#12.
func (a *auditor) openKeystore(vpath string) *file { return a.openAs(vpath, true) }

func (a *auditor) openAs(vpath string, keystore bool) *file {
	f := &file{path: vpath}
	if res := a.fs.lstat(vpath); res.err == nil && res.target != "" {
		f.isLink, f.target = true, res.target
	}
	resolved, info, err := a.fs.resolve(vpath)
	if err != nil {
		var re *resolveError
		switch {
		case errors.As(err, &re) && re.kind == resolveLoop:
			f.state, f.loop, f.problem = fileBroken, true, re.Error()
		case errors.As(err, &re) && re.kind == resolveMissing:
			if f.isLink {
				f.state, f.problem = fileBroken, fmt.Sprintf("symlink to %s, which does not exist", f.target)
			} else if _, _, perr := a.fs.resolve(path.Dir(vpath)); perr == nil {
				f.state, f.problem = fileMissing, "does not exist"
			} else {
				// A parent is missing or a dangling link: the path is
				// missing either way, but say which when it is a link.
				f.state, f.problem = fileMissing, perr.Error()
			}
		default:
			f.state, f.problem = fileUnreadable, err.Error()
		}
		return f
	}
	f.resolved = resolved
	switch {
	case info.IsDir():
		f.state, f.problem = fileDir, "is a directory"
		return f
	case !info.Mode().IsRegular():
		f.state, f.problem = fileUnreadable, fmt.Sprintf("is a %s, not a regular file (never opened)", describeMode(info.Mode()))
		return f
	}
	key := resolved
	if keystore {
		key = "keystore:" + resolved
	}
	if c, ok := a.files[key]; ok {
		f.state, f.content = fileRead, c
		return f
	}
	data, err := a.fs.readRegular(resolved)
	if err != nil {
		f.state, f.problem = fileUnreadable, err.Error()
		return f
	}
	var c *content
	if keystore {
		c = parseKeystore(data)
	} else {
		b, why := parseBundle(data)
		c = &content{certs: b.Certs, skipped: b.Skipped, noCerts: why}
	}
	a.files[key] = c
	f.state, f.content = fileRead, c
	return f
}

// listDir lists a directory inside the root, sorted by name.
func (a *auditor) listDir(vpath string) *dir {
	if d, ok := a.dirs[vpath]; ok {
		return d
	}
	d := &dir{path: vpath}
	a.dirs[vpath] = d
	resolved, info, err := a.fs.resolve(vpath)
	if err != nil {
		var re *resolveError
		if errors.As(err, &re) && re.kind != resolveMissing {
			d.problem = err.Error()
		}
		return d
	}
	d.resolved = resolved
	if !info.IsDir() {
		d.problem = "is not a directory"
		return d
	}
	d.exists = true
	f, err := os.Open(a.fs.host(resolved))
	if err != nil {
		d.problem = err.Error()
		return d
	}
	defer f.Close()
	names, err := f.Readdirnames(maxDirEntries)
	if err != nil && len(names) == 0 {
		d.problem = err.Error()
	}
	slices.Sort(names)
	d.names = names
	return d
}

// cert returns the JSON-ready description of c, computed once.
func (a *auditor) cert(c *x509.Certificate, where string) Cert {
	if d, ok := a.certs[c]; ok {
		out := *d
		out.Path = where
		return out
	}
	sum := sha256.Sum256(c.Raw)
	d := &Cert{
		Subject:        dn.String(c.RawSubject),
		SHA256:         hex.EncodeToString(sum[:]),
		SubjectHashOld: formatHash(SubjectHashOld(c)),
		NotAfter:       c.NotAfter.UTC(),
		X509:           c,
	}
	if h, err := SubjectHash(c); err == nil {
		d.SubjectHash = formatHash(h)
	}
	a.certs[c] = d
	out := *d
	out.Path = where
	return out
}

// canonical returns OpenSSL's canonical form of a raw name as a map key; a
// name OpenSSL could not canonicalise compares by its raw bytes.
func (a *auditor) canonical(raw []byte) string {
	if c, ok := a.canon[string(raw)]; ok {
		return c
	}
	c, err := CanonicalName(raw)
	s := string(c)
	if err != nil {
		s = "raw:" + string(raw)
	}
	a.canon[string(raw)] = s
	return s
}

// hashName parses an OpenSSL hashed-directory name "%08x.%d" (certificates,
// not the ".rN" CRL links).
func hashName(name string) (hash uint32, n int, ok bool) {
	if len(name) < 10 || name[8] != '.' {
		return 0, 0, false
	}
	for _, c := range name[:8] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return 0, 0, false
		}
	}
	suffix := name[9:]
	if len(suffix) > 3 || strings.TrimLeft(suffix, "0123456789") != "" || (len(suffix) > 1 && suffix[0] == '0') {
		return 0, 0, false
	}
	n, _ = strconv.Atoi(suffix)
	h, err := strconv.ParseUint(name[:8], 16, 32)
	if err != nil {
		return 0, 0, false
	}
	return uint32(h), n, true
}

// qtHashName reports whether Qt's glob "[0-9a-f]{8}.[0-9]" matches name.
func qtHashName(name string) bool {
	_, _, ok := hashName(name)
	return ok && len(name) == 10
}

// certLike reports whether a file name looks like it is meant to hold
// certificates.
func certLike(name string) bool {
	if _, _, ok := hashName(name); ok {
		return true
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".pem", ".crt", ".cer", ".der":
		return true
	}
	return false
}

// openSSLDir guesses OPENSSLDIR inside the root: Options.OpenSSLDir, else
// the first of Debian's, RHEL's and Alpine's that exists.
func (a *auditor) openSSLDir() string {
	if a.opts.OpenSSLDir != "" {
		return a.opts.OpenSSLDir
	}
	for _, d := range []string{"/usr/lib/ssl", "/etc/pki/tls", "/etc/ssl", "/usr/local/ssl"} {
		if _, info, err := a.fs.resolve(d); err == nil && info.IsDir() {
			return d
		}
	}
	return "/usr/lib/ssl"
}

// splitList splits a colon-separated directory list, dropping empty and
// repeated entries (OpenSSL's add_cert_dir, Go's root_unix.go).
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ":") {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// parseKeystore reads a Java keystore's certificates as Java's trust
// manager takes them: JKS, JCEKS, or a PKCS#12 keystore without a
// password (JDK 18's own cacerts).
func parseKeystore(data []byte) *content {
	var ders [][]byte
	var err error
	if IsJavaKeystore(data) {
		ders, err = ParseJavaKeystore(data)
		if err != nil {
			err = fmt.Errorf("not read: %w", err)
		}
	} else {
		ders, err = parsePKCS12Trusted(data)
	}
	if err != nil {
		return &content{noCerts: err.Error()}
	}
	c := &content{}
	for i, der := range ders {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			c.skipped = append(c.skipped, fmt.Sprintf("certificate %d does not parse: %v", i+1, err))
			continue
		}
		c.certs = append(c.certs, cert)
	}
	if len(c.certs) == 0 && len(ders) == 0 {
		c.noCerts = "a Java keystore with no trusted certificate"
	}
	return c
}
