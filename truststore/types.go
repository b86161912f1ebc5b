package truststore

import (
	"crypto/x509"
	"time"

	"github.com/tlskit/tlskit/finding"
)

// Options says which machine to audit and how its clients are configured.
type Options struct {
	// Root is the directory that stands for "/": "" or "/" audits this
	// machine, anything else an unpacked image or a test tree. Every path
	// is resolved inside Root like a chroot: absolute symlink targets
	// restart at Root and ".." never leaves it.
	Root string
	// Env holds the environment the clients run with (SSL_CERT_FILE,
	// SSL_CERT_DIR, CURL_CA_BUNDLE). Nil means none is set; pass a copy of
	// os.Environ's values to audit the current shell.
	Env map[string]string
	// Time returns the time certificates are checked against: expiry in
	// [Discover], the whole chain in [WhoTrusts]. Nil means time.Now.
	Time func() time.Time
	// OpenSSLDir is OpenSSL's OPENSSLDIR inside Root (`openssl version -d`).
	// Empty means the first that exists of /usr/lib/ssl (Debian),
	// /etc/pki/tls (Fedora/RHEL), /etc/ssl (Alpine) and /usr/local/ssl.
	OpenSSLDir string
	// OpenSSLSkipsDangling models the machine's libssl hashed-directory
	// lookup. The zero value is the behaviour of most deployed libraries
	// (OpenSSL 1.1.1, 3.0 before 3.0.22): a dangling HASH.N link ends the
	// scan and hides HASH.N+1. True models OpenSSL 3.0.22 and later
	// (openssl/openssl PR #31594), which skip the dangling link.
	OpenSSLSkipsDangling bool
	// OpenSSLSecLevel is the security level of OpenSSL-based clients
	// (SSL_CTX_set_security_level: minimum key sizes, no SHA-1 signatures
	// from level 1). Zero means the machine's: @SECLEVEL=N in
	// OPENSSLDIR/openssl.cnf or the crypto policy, else 2 on Debian and
	// Fedora, else 1.
	OpenSSLSecLevel int
}

// now returns the time to check certificates against.
func (o Options) now() time.Time {
	if o.Time != nil {
		return o.Time()
	}
	return time.Now()
}

// Cert is one certificate found in a trust location.
type Cert struct {
	// Subject is the subject in Go's RFC 2253 form.
	Subject string `json:"subject"`
	// SHA256 is the lower-case hex SHA-256 of the DER certificate.
	SHA256 string `json:"sha256"`
	// SubjectHash is OpenSSL's `-subject_hash` (8 hex digits), or "" when
	// the subject cannot be canonicalised.
	SubjectHash string `json:"subject_hash"`
	// SubjectHashOld is OpenSSL's `-subject_hash_old` (MD5, pre-1.0).
	SubjectHashOld string `json:"subject_hash_old"`
	// NotAfter is the end of the validity period, in UTC.
	NotAfter time.Time `json:"not_after"`
	// Path is the file it was read from, inside Root.
	Path string `json:"path"`
	// X509 is the parsed certificate.
	X509 *x509.Certificate `json:"-"`
}

// Location kinds.
const (
	KindBundle    = "bundle"     // one file read whole
	KindDir       = "dir"        // a directory of certificate files
	KindHashedDir = "hashed-dir" // a directory with OpenSSL HASH.N names
	KindSourceDir = "source-dir" // where update-ca-certificates/update-ca-trust read from
	KindKeystore  = "keystore"   // a Java keystore (JKS, JCEKS, or PKCS#12 without a password)
)

// Location is one place a client on the machine reads trusted roots from.
type Location struct {
	// Path is the path a client names, inside Root.
	Path string `json:"path"`
	// Aliases are other named paths that lead to the same place.
	Aliases []string `json:"aliases,omitempty"`
	// Resolved is where Path's symlinks lead, when that differs from Path.
	Resolved string `json:"resolved,omitempty"`
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// Sources says which clients read it and why ("go: root_linux.go
	// certFiles", "SSL_CERT_FILE", ...).
	Sources []string `json:"sources"`
	// Exists reports whether Path exists.
	Exists bool `json:"exists"`
	// Problem says why an existing location could not be read.
	Problem string `json:"problem,omitempty"`
	// Files is how many entries of a directory were examined.
	Files int `json:"files,omitempty"`
	// HashLinks is how many entries of a directory have OpenSSL HASH.N
	// names.
	HashLinks int `json:"hash_links,omitempty"`
	// Certs are the distinct certificates it holds, in file order.
	Certs []Cert `json:"certs"`
}

// Audit is the result of [Discover].
type Audit struct {
	// Root is the audited root directory.
	Root string `json:"root"`
	// Env is the environment the audit assumed.
	Env map[string]string `json:"env,omitempty"`
	// OpenSSLDir is the OPENSSLDIR the audit assumed.
	OpenSSLDir string `json:"openssl_dir"`
	// Locations are every place a known client looks, existing or not.
	Locations []Location `json:"locations"`
	// Findings are the problems found, most serious first.
	Findings []finding.Finding `json:"findings"`
}

// Stack is a client TLS stack whose root loading [WhoTrusts] emulates.
type Stack struct {
	// Name is the stack's identifier, such as "qt5".
	Name string `json:"name"`
	// Description says how the stack finds its roots.
	Description string `json:"description"`
}

// StackVerdict says whether one stack would trust a chain.
type StackVerdict struct {
	// Stack is the [Stack] name.
	Stack string `json:"stack"`
	// Trusted reports whether the stack would accept the chain.
	Trusted bool `json:"trusted"`
	// Roots is how many roots the stack would load (for hashed-directory
	// lookup: how many it could find by hash).
	Roots int `json:"roots"`
	// Sources are the files and directories the roots come from.
	Sources []string `json:"sources"`
	// Reason names the concrete cause when Trusted is false.
	Reason string `json:"reason,omitempty"`
	// Fix is the concrete remedy when Trusted is false.
	Fix string `json:"fix,omitempty"`
	// Rule names which of the stack's rules refused the chain (one of the
	// Rule constants: roots, name, key-size, signature…) when Trusted is
	// false.
	Rule string `json:"rule,omitempty"`
	// Lenient lists what this stack accepted that a strict verifier
	// (tlskit's, Go's, a browser's) refuses: a name matched by the
	// Common Name, a 1024-bit key, a partial chain.
	Lenient []string `json:"lenient,omitempty"`
	// Note states an assumption the verdict rests on (a Python 3.13 whose
	// strict mode is not modelled).
	Note string `json:"note,omitempty"`
	// Stricter is set, by a caller that verified the chain with tlskit's
	// own verifier (check --stacks, truststore --verify), when this stack
	// accepts a chain tlskit refuses: the rule tlskit enforces and the
	// stack does not, and why it still matters.
	Stricter string `json:"tlskit_refuses,omitempty"`
}
