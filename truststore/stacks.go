package truststore

import (
	"path"
	"strings"
)

// GoCertFiles returns crypto/x509's bundle list (src/crypto/x509/root_linux.go
// certFiles): Go reads the first of these files that it can read.
func GoCertFiles() []string {
	return []string{
		"/etc/ssl/certs/ca-certificates.crt",                // Debian/Ubuntu/Gentoo etc.
		"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora/RHEL 6
		"/etc/ssl/ca-bundle.pem",                            // OpenSUSE
		"/etc/pki/tls/cacert.pem",                           // OpenELEC
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS/RHEL 7
		"/etc/ssl/cert.pem",                                 // Alpine Linux
	}
}

// GoCertDirs returns crypto/x509's directory list (root_linux.go
// certDirectories): Go reads all of them.
func GoCertDirs() []string {
	return []string{
		"/etc/ssl/certs",     // SLES10/SLES11, https://golang.org/issue/12139
		"/etc/pki/tls/certs", // Fedora/RHEL
	}
}

// Search paths, copied from the sources cited in each comment.
var (
	// qtDirs is qtbase qsslsocket.cpp unixRootCertDirectories (5.15, 6.4).
	qtDirs = []string{
		"/etc/ssl/certs/", "/usr/lib/ssl/certs/", "/usr/share/ssl/", "/usr/local/ssl/",
		"/var/ssl/certs/", "/usr/local/ssl/certs/", "/etc/openssl/certs/", "/opt/openssl/certs/", "/etc/ssl/",
	}
	// qtExtraFiles are the two bundles systemCaCertificates() adds.
	qtExtraFiles = []string{"/etc/pki/tls/certs/ca-bundle.crt", "/usr/local/share/certs/ca-root-nss.crt"}
	// curlBundles is curl's acinclude.m4 CURL_CHECK_CA_BUNDLE order.
	curlBundles = []string{
		"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
		"/usr/share/ssl/certs/ca-bundle.crt", "/usr/local/share/certs/ca-root-nss.crt", "/etc/ssl/cert.pem",
	}
	// gnutlsBundles is GnuTLS configure.ac's default-trust-store-file order.
	gnutlsBundles = []string{
		"/etc/ssl/ca-bundle.pem", "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/cert.pem",
		"/usr/local/share/certs/ca-root-nss.crt", "/etc/ssl/cert.pem",
	}
	// p11kitBundle stands for the p11-kit trust module GnuTLS reads on
	// Fedora/RHEL (--with-default-trust-store-pkcs11="pkcs11:"): its
	// extracted form.
	p11kitBundle = "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
	// sourceDirs are where the distribution tools take roots from.
	sourceDirs = []struct{ path, source string }{
		{"/usr/share/ca-certificates", "debian: update-ca-certificates input (/etc/ca-certificates.conf)"},
		{"/usr/local/share/ca-certificates", "debian/alpine: update-ca-certificates local input"},
		{"/usr/share/pki/ca-trust-source/anchors", "fedora/rhel: update-ca-trust input"},
		{"/etc/pki/ca-trust/source/anchors", "fedora/rhel: update-ca-trust local input"},
	}
	// keystores are Java's default trust stores on Debian and Fedora.
	keystores = []string{"/etc/ssl/certs/java/cacerts", "/etc/pki/java/cacerts"}
	// temurinKeystore is the JDK's own keystore in Docker's
	// eclipse-temurin images (unless USE_SYSTEM_CA_CERTS is set).
	temurinKeystore = "/opt/java/openjdk/lib/security/cacerts"
)

// Stacks returns the client stacks [WhoTrusts] judges, in report order.
func Stacks() []Stack {
	return []Stack{
		{"go", "Go crypto/x509: the first readable bundle of root_linux.go (or SSL_CERT_FILE) plus every PEM file in /etc/ssl/certs and /etc/pki/tls/certs (or SSL_CERT_DIR), skipping same-directory symlinks"},
		{"openssl-cafile", "OpenSSL default CAfile: SSL_CERT_FILE or OPENSSLDIR/cert.pem, read whole"},
		{"openssl-capath", "OpenSSL default CApath: SSL_CERT_DIR or OPENSSLDIR/certs, looked up lazily as HASH.0, HASH.1, ... by issuer subject hash"},
		{"qt5", "Qt 5.15: if any of its nine directories holds a HASH.N file, roots are looked up only by hash in those directories (on-demand); otherwise systemCaCertificates(): every *.pem and *.crt there"},
		{"qt6", "Qt 6 up to at least 6.4: the same rule as qt5"},
		{"gnutls", "GnuTLS system trust: the compile-time bundle (Debian: /etc/ssl/certs/ca-certificates.crt) or p11-kit on Fedora/RHEL; ignores SSL_CERT_*"},
		{"curl", "curl with OpenSSL: CURL_CA_BUNDLE, SSL_CERT_DIR or SSL_CERT_FILE, else the configure-time bundle (and on Debian CApath /etc/ssl/certs)"},
		{"python", "Python ssl.create_default_context: OpenSSL's default CAfile and CApath, honouring SSL_CERT_FILE and SSL_CERT_DIR"},
		{"java", "Java (JSSE, PKIX, HTTPS endpoint identification): the JDK's keystore, lib/security/cacerts of $JAVA_HOME or the default JDK (Debian links it to /etc/ssl/certs/java/cacerts), read as Java reads it without a password; the JDK's default jdk.certpath.disabledAlgorithms; a -Djavax.net.ssl.trustStore of the application's is not seen"},
	}
}

// src is one path a stack reads, with why.
type src struct{ path, why string }

// plan is how one stack loads its roots.
type plan struct {
	stack     string
	files     []src  // bundles read whole
	firstOnly bool   // only the first readable file of files counts (Go)
	dirs      []src  // directories read eagerly
	dirMode   int    // dirGo or dirQt
	hashDirs  []src  // directories looked up by hash (CApath)
	qtTrigger string // qt on-demand: the HASH.N file that switched modes
	keystore  bool   // files are Java keystores
}

const (
	dirGo = iota + 1 // every entry, minus same-directory symlinks
	dirQt            // *.pem and *.crt, deduplicated by resolved path
)

func srcs(paths []string, why string) []src {
	out := make([]src, len(paths))
	for i, p := range paths {
		out[i] = src{p, why}
	}
	return out
}

// osslFile and osslDirs are OpenSSL's default verify paths.
func (a *auditor) osslFile() src {
	if v := a.getenv("SSL_CERT_FILE"); v != "" {
		return src{v, "SSL_CERT_FILE"}
	}
	return src{path.Join(a.osslDir, "cert.pem"), "X509_CERT_FILE (OPENSSLDIR/cert.pem)"}
}

func (a *auditor) osslDirs() []src {
	if v := a.getenv("SSL_CERT_DIR"); v != "" {
		return srcs(splitList(v), "SSL_CERT_DIR")
	}
	return []src{{path.Join(a.osslDir, "certs"), "X509_CERT_DIR (OPENSSLDIR/certs)"}}
}

// javaKeystores lists where the JDK a java command runs finds its default
// trust store, first first: $JAVA_HOME's, the distribution's default JDK
// (Debian's /usr/lib/jvm/default-java), the distribution's keystore, the
// eclipse-temurin images' JDK.
func (a *auditor) javaKeystores() []string {
	var out []string
	if h := a.getenv("JAVA_HOME"); h != "" {
		out = append(out, path.Join(h, "lib/security/cacerts"), path.Join(h, "jre/lib/security/cacerts"))
	}
	out = append(out, "/usr/lib/jvm/default-java/lib/security/cacerts", "/usr/lib/jvm/jre/lib/security/cacerts")
	return append(append(out, keystores...), temurinKeystore)
}

// firstExisting returns the first path that resolves to a regular file.
func (a *auditor) firstExisting(paths []string) (string, bool) {
	for _, p := range paths {
		if f := a.open(p); f.state == fileRead {
			return p, true
		}
	}
	return "", false
}

// qtOnDemand returns the first file in Qt's directories whose name matches
// Qt's hash glob and that is a file (QDir::Files drops dangling links).
func (a *auditor) qtOnDemand() string {
	for _, d := range qtDirs {
		ld := a.listDir(d)
		if !ld.exists {
			continue
		}
		for _, n := range ld.names {
			if !qtHashName(n) {
				continue
			}
			// QDir::Files: regular files and links to them; not dangling
			// links, FIFOs or devices.
			if f := a.open(path.Join(ld.resolved, n)); f.state == fileRead {
				return path.Join(strings.TrimSuffix(d, "/"), n)
			}
		}
	}
	return ""
}

// plan returns how stack loads its roots under the audited root.
func (a *auditor) plan(stack string) plan {
	p := plan{stack: stack}
	switch stack {
	case "go":
		p.files, p.firstOnly = srcs(GoCertFiles(), "go: root_linux.go certFiles"), true
		if v := a.getenv("SSL_CERT_FILE"); v != "" {
			p.files = []src{{v, "go: SSL_CERT_FILE"}}
		}
		p.dirs, p.dirMode = srcs(GoCertDirs(), "go: root_linux.go certDirectories"), dirGo
		if v := a.getenv("SSL_CERT_DIR"); v != "" {
			p.dirs = srcs(splitList(v), "go: SSL_CERT_DIR")
		}
	case "openssl-cafile":
		f := a.osslFile()
		p.files = []src{{f.path, "openssl: " + f.why}}
	case "openssl-capath":
		for _, d := range a.osslDirs() {
			p.hashDirs = append(p.hashDirs, src{d.path, "openssl: " + d.why})
		}
	case "python":
		f := a.osslFile()
		p.files = []src{{f.path, "python: " + f.why}}
		for _, d := range a.osslDirs() {
			p.hashDirs = append(p.hashDirs, src{d.path, "python: " + d.why})
		}
	case "qt5", "qt6":
		if t := a.qtOnDemand(); t != "" {
			p.qtTrigger = t
			p.hashDirs = srcs(qtDirs, stack+": on-demand CApath (unixRootCertDirectories)")
		} else {
			p.dirs, p.dirMode = srcs(qtDirs, stack+": systemCaCertificates (*.pem, *.crt)"), dirQt
			p.files = srcs(qtExtraFiles, stack+": systemCaCertificates")
		}
	case "java":
		p.keystore, p.firstOnly = true, true
		p.files = srcs(a.javaKeystores(), "java: the JDK's lib/security/cacerts")
	case "gnutls":
		if _, info, err := a.fs.resolve("/etc/pki/ca-trust"); err == nil && info.IsDir() {
			p.files = []src{{p11kitBundle, "gnutls: p11-kit trust module (pkcs11:), as extracted by update-ca-trust"}}
		} else if f, ok := a.firstExisting(gnutlsBundles); ok {
			p.files = []src{{f, "gnutls: default-trust-store-file"}}
		} else {
			p.files = []src{{gnutlsBundles[1], "gnutls: default-trust-store-file (Debian)"}}
		}
	case "curl":
		cafile, capath := src{}, src{}
		if f, ok := a.firstExisting(curlBundles); ok {
			cafile = src{f, "curl: configure CA bundle"}
		}
		if _, info, err := a.fs.resolve("/etc/debian_version"); err == nil && info.Mode().IsRegular() {
			cafile = src{curlBundles[0], "curl: Debian --with-ca-bundle"}
			capath = src{"/etc/ssl/certs", "curl: Debian --with-ca-path"}
		}
		switch {
		case a.getenv("CURL_CA_BUNDLE") != "":
			cafile = src{a.getenv("CURL_CA_BUNDLE"), "curl: CURL_CA_BUNDLE"}
		case a.getenv("SSL_CERT_DIR") != "":
			capath = src{a.getenv("SSL_CERT_DIR"), "curl: SSL_CERT_DIR"}
		case a.getenv("SSL_CERT_FILE") != "":
			cafile = src{a.getenv("SSL_CERT_FILE"), "curl: SSL_CERT_FILE"}
		}
		if cafile.path != "" {
			p.files = []src{cafile}
		}
		if capath.path != "" {
			p.hashDirs = []src{capath}
		}
	}
	return p
}
