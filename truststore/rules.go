package truststore

import (
	"crypto/dsa" //nolint:staticcheck // DSA keys are judged, never used
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds how each stack judges a chain once it has its roots: the
// rules of the library it is built on (OpenSSL, GnuTLS, or Go's
// crypto/x509) and of the application on top (its host-name check, its
// security level, whether it accepts a partial chain). docs/stacks.md lists
// every rule with its source and the test against the real client.

// engine is the library whose chain validation a stack uses.
type engine int

const (
	engineGo      engine = iota + 1 // crypto/x509 Verify
	engineOpenSSL                   // X509_verify_cert under an SSL_CTX's security level
	engineGnuTLS                    // gnutls_certificate_verify_peers under a verification profile
	engineJava                      // JSSE's PKIXValidator and X509TrustManagerImpl under the JDK's default constraints
)

// cnRule is when a stack matches the name against the subject's Common Name.
type cnRule int

const (
	cnNever    cnRule = iota + 1 // Go 1.15+: never
	cnNoDNSSAN                   // OpenSSL X509_check_host, GnuTLS, curl: only when there is no DNS subjectAltName
	cnAlways                     // Qt: every CN, before the DNS subjectAltNames
)

// wildRule is which wildcard patterns a stack accepts.
type wildRule int

const (
	wildLabel   wildRule = iota + 1 // "*." as the whole left-most label, two labels or more after it
	wildPartial                     // OpenSSL's default: "f*.example.com" too (one '*' in the left-most label)
	wildQt                          // Qt: "*" ends the left-most label, characters before it must match
	wildJava                        // Java's HostnameChecker: '*' anywhere in the left-most label, one label or more after it
)

// stackRules is how one stack judges a chain it has the roots for.
type stackRules struct {
	engine engine
	// lib names the library in reasons ("OpenSSL", "GnuTLS").
	lib string
	// level is OpenSSL's security level (0 to 5) and levelWhy where it
	// comes from; minBits is GnuTLS's verification profile in security
	// bits (80 for LOW) and profileWhy where it comes from.
	level      int
	levelWhy   string
	minBits    int
	profileWhy string
	// partial: a trusted certificate that is not self-signed may end the
	// path (curl's X509_V_FLAG_PARTIAL_CHAIN, GnuTLS's trust list).
	partial bool
	cn      cnRule
	wild    wildRule
	// leafSignKU: the leaf's key usage must allow digitalSignature, which
	// signing a TLS 1.3 or ECDHE handshake needs (GnuTLS checks it during
	// the handshake).
	leafSignKU bool
	// note is said once in every verdict of this stack (an assumption the
	// model makes).
	note string
}

// rulesFor returns the rules of a stack under the audited root.
func (a *auditor) rulesFor(stack string) stackRules {
	level, levelWhy := a.openSSLLevel()
	ossl := stackRules{engine: engineOpenSSL, lib: "OpenSSL", level: level, levelWhy: levelWhy,
		cn: cnNoDNSSAN, wild: wildPartial}
	switch stack {
	case "go":
		return stackRules{engine: engineGo, lib: "crypto/x509", cn: cnNever}
	case "openssl-cafile", "openssl-capath":
		// An application that asks OpenSSL to check the name
		// (SSL_set1_host, X509_VERIFY_PARAM_set1_host with no flags), as
		// `openssl s_client -verify_hostname` does. Many OpenSSL programs
		// check no name at all.
		return ossl
	case "curl":
		// lib/vtls/openssl.c: X509_V_FLAG_PARTIAL_CHAIN; the name is
		// curl's own check (ossl_verifyhost, hostcheck.c).
		ossl.partial, ossl.wild = true, wildLabel
		return ossl
	case "python":
		// Modules/_ssl.c: the default context's cipher string starts with
		// @SECLEVEL=2 (3.10+), check_hostname with
		// X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, hostname_checks_common_name
		// true.
		ossl.level, ossl.levelWhy, ossl.wild = 2, "Python's default context sets @SECLEVEL=2", wildLabel
		if v := a.pythonMinor(); v >= 13 {
			ossl.partial = true
			ossl.note = fmt.Sprintf("Python 3.%d found: create_default_context also sets VERIFY_X509_PARTIAL_CHAIN (modelled) and VERIFY_X509_STRICT (not modelled)", v)
		}
		return ossl
	case "qt5", "qt6":
		// qsslsocket.cpp isMatchingHostname: every CN, then the DNS SANs.
		ossl.cn, ossl.wild = cnAlways, wildQt
		return ossl
	case "java":
		// sun.security.validator.PKIXValidator (every keystore entry is
		// a trust anchor), EndEntityChecker (the leaf's key usages only),
		// sun.security.util.HostnameChecker TYPE_TLS (the DNS
		// subjectAltNames, else the most specific CN), and the JDK's
		// default jdk.certpath.disabledAlgorithms.
		return stackRules{engine: engineJava, lib: "Java", partial: true, cn: cnNoDNSSAN, wild: wildJava, leafSignKU: true,
			note: "Java: the JDK's default java.security (jdk.certpath.disabledAlgorithms=MD2, MD5, SHA1 jdkCA & usage TLSServer, RSA keySize < 1024, DSA keySize < 1024, EC keySize < 224), every root of its keystore a JDK CA"}
	case "gnutls":
		bits, why := a.gnutlsProfile()
		return stackRules{engine: engineGnuTLS, lib: "GnuTLS", minBits: bits, profileWhy: why,
			partial: true, cn: cnNoDNSSAN, wild: wildLabel, leafSignKU: true}
	}
	return ossl
}

// openSSLLevel returns the security level OpenSSL applications run at:
// Options.OpenSSLSecLevel, else @SECLEVEL=N in the system configuration,
// else the build's default (2 on Debian and Ubuntu, whose packages are
// built with OPENSSL_TLS_SECURITY_LEVEL=2; 1 upstream).
func (a *auditor) openSSLLevel() (int, string) {
	if l := a.opts.OpenSSLSecLevel; l > 0 {
		return l, "the security level given"
	}
	for _, p := range []string{path.Join(a.osslDir, "openssl.cnf"), "/etc/crypto-policies/back-ends/opensslcnf.config"} {
		if data, ok := a.readConfig(p); ok {
			if l, ok := secLevelIn(data); ok {
				return l, "@SECLEVEL=" + strconv.Itoa(l) + " in " + p
			}
		}
	}
	if _, info, err := a.fs.resolve("/etc/debian_version"); err == nil && info.Mode().IsRegular() {
		return 2, "Debian's build default"
	}
	if _, info, err := a.fs.resolve("/etc/pki/ca-trust"); err == nil && info.IsDir() {
		return 2, "the DEFAULT crypto policy"
	}
	return 1, "OpenSSL's default"
}

// readConfig reads a configuration file inside the root, following links.
func (a *auditor) readConfig(vpath string) (string, bool) {
	res, info, err := a.fs.resolve(vpath)
	if err != nil || !info.Mode().IsRegular() {
		return "", false
	}
	data, err := a.fs.readRegular(res)
	return string(data), err == nil
}

var secLevelRE = regexp.MustCompile(`@SECLEVEL=([0-5])`)

// secLevelIn finds the first @SECLEVEL=N outside comments.
func secLevelIn(cnf string) (int, bool) {
	for _, line := range strings.Split(cnf, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if m := secLevelRE.FindStringSubmatch(line); m != nil {
			l, _ := strconv.Atoi(m[1])
			return l, true
		}
	}
	return 0, false
}

// gnutlsProfile returns GnuTLS's verification profile in security bits: a
// min-verification-profile in /etc/gnutls/config, else LOW (80 bits), the
// profile of the NORMAL priority string.
func (a *auditor) gnutlsProfile() (int, string) {
	profiles := map[string]int{"very_weak": 64, "low": 80, "legacy": 96, "medium": 112, "high": 128, "ultra": 192, "future": 256, "suiteb128": 128, "suiteb192": 192}
	if data, ok := a.readConfig("/etc/gnutls/config"); ok {
		for _, line := range strings.Split(data, "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.TrimSpace(k) == "min-verification-profile" {
				name := strings.ToLower(strings.TrimSpace(v))
				if bits, ok := profiles[strings.ReplaceAll(name, "-", "_")]; ok && bits > 80 {
					return bits, "min-verification-profile = " + name + " in /etc/gnutls/config"
				}
			}
		}
	}
	return 80, "the NORMAL priority's LOW profile"
}

var pythonDirRE = regexp.MustCompile(`^python3\.([0-9]+)$`)

// pythonMinor returns the highest minor version of a python3.N directory in
// /usr/lib, or 0.
func (a *auditor) pythonMinor() int {
	best := 0
	for _, n := range a.listDir("/usr/lib").names {
		if m := pythonDirRE.FindStringSubmatch(n); m != nil {
			if v, _ := strconv.Atoi(m[1]); v > best {
				best = v
			}
		}
	}
	return best
}

// refusal is why a stack refuses a chain it found roots for.
type refusal struct {
	rule   string // a Rule* constant
	reason string // in the stack's words, then ours
	fix    string
}

// The rules a StackVerdict.Rule names.
const (
	RuleRoots        = "roots"              // no path to a root this stack loads
	RulePartialChain = "partial-chain"      // the path ends at a trusted certificate that is not self-signed
	RuleName         = "name"               // the name is not in the certificate, as this stack matches names
	RuleKeySize      = "key-size"           // a key too small for the security level or profile
	RuleSignature    = "signature"          // a signature hash too weak (SHA-1, MD5)
	RulePurpose      = "purpose"            // the extended key usage does not allow serverAuth
	RuleKeyUsage     = "key-usage"          // the key usage does not allow what TLS needs
	RuleCA           = "ca"                 // an issuer that is not a CA, or a path too long for it
	RuleCritical     = "critical-extension" // a critical extension the stack does not know
	RuleValidity     = "validity"           // a certificate expired or not yet valid
	RuleOther        = "other"              // anything else, named in the reason
)

// judge verifies chain for name at t by rules, against the given roots.
// It returns nil when the stack accepts it, and the lenient rules the stack
// applied on the way (what a strict verifier would refuse); ok is false
// when no path reaches a root (the caller explains which root is missing).
func (a *auditor) judge(r stackRules, stack string, chain, roots []*x509.Certificate, name string, t time.Time) (ref *refusal, lenient []string, ok bool) {
	paths, partialOnly := a.paths(chain, roots, r.partial)
	if len(paths) == 0 {
		if partialOnly != nil {
			return &refusal{rule: RulePartialChain,
				reason: fmt.Sprintf("%s: unable to get issuer certificate (error 2): the store has %q, the issuer of %q, but not the self-signed root above it, and %s accepts only a path that ends at a self-signed root (no X509_V_FLAG_PARTIAL_CHAIN)", stack, nameOf(partialOnly, false), nameOf(a.below(chain, partialOnly), false), r.lib),
				fix:    fmt.Sprintf("install the self-signed root that issued %q (its issuer %q) in this stack's store", nameOf(partialOnly, false), nameOf(partialOnly, true))}, nil, true
		}
		return nil, nil, false
	}
	var first *refusal
	for _, p := range paths {
		ref, len := a.check(r, stack, p, name, t)
		if ref == nil {
			return nil, len, true
		}
		if first == nil {
			first = ref
		}
	}
	return first, nil, true
}

// below returns the certificate of chain that c issued, or the leaf.
func (a *auditor) below(chain []*x509.Certificate, c *x509.Certificate) *x509.Certificate {
	for _, x := range chain {
		if x != c && a.canonical(x.RawIssuer) == a.canonical(c.RawSubject) {
			return x
		}
	}
	return chain[0]
}

// selfIssued reports whether c's subject and issuer are the same name.
func (a *auditor) selfIssued(c *x509.Certificate) bool {
	return a.canonical(c.RawSubject) == a.canonical(c.RawIssuer)
}

// issued reports whether parent issued child: the names match and the
// signature verifies. SHA-1 signatures verify here (whether they are
// acceptable is a rule of the stack, checked later); MD5 ones cannot be
// checked and are taken on the name.
func (a *auditor) issued(parent, child *x509.Certificate) bool {
	if a.canonical(parent.RawSubject) != a.canonical(child.RawIssuer) {
		return false
	}
	err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	var ia x509.InsecureAlgorithmError
	return err == nil || errors.As(err, &ia)
}

// paths builds every path from the leaf to a root, trusted certificates
// first (OpenSSL's X509_V_FLAG_TRUSTED_FIRST, the default since 1.1.0).
// A path ends at a trusted certificate that is self-signed, or at any
// trusted certificate when partial chains are allowed. Without them, a
// trusted certificate whose issuer is nowhere is returned as partialOnly.
func (a *auditor) paths(chain, roots []*x509.Certificate, partial bool) (out [][]*x509.Certificate, partialOnly *x509.Certificate) {
	trusted := func(c *x509.Certificate) bool {
		return slices.ContainsFunc(roots, func(r *x509.Certificate) bool { return r.Equal(c) })
	}
	const maxDepth, maxPaths = 10, 16
	var walk func(p []*x509.Certificate)
	walk = func(p []*x509.Certificate) {
		if len(out) >= maxPaths || len(p) > maxDepth {
			return
		}
		c := p[len(p)-1]
		if trusted(c) && (partial || a.selfIssued(c)) {
			out = append(out, slices.Clone(p))
			return
		}
		found := false
		for _, pool := range [][]*x509.Certificate{roots, chain[1:]} {
			for _, cand := range pool {
				if slices.ContainsFunc(p, cand.Equal) || !a.issued(cand, c) {
					continue
				}
				found = true
				walk(append(p, cand))
			}
		}
		if !found && trusted(c) && partialOnly == nil {
			partialOnly = c
		}
	}
	walk([]*x509.Certificate{chain[0]})
	return out, partialOnly
}

// check applies the stack's rules to one complete path, in OpenSSL's order
// (verify_chain: extensions and purpose, security level, name, then
// validity from the root down). GnuTLS reports all problems together; the
// first is named.
func (a *auditor) check(r stackRules, stack string, p []*x509.Certificate, name string, t time.Time) (*refusal, []string) {
	var lenient []string
	say := func(rule, what, detail, fix string) *refusal {
		return &refusal{rule: rule, reason: fmt.Sprintf("%s: %s: %s", stack, what, detail), fix: fix}
	}
	anchor := len(p) - 1
	leaf := p[0]
	// Extensions, CA flags and the purpose (OpenSSL check_extensions).
	for i, c := range p {
		if unknown := r.unknownCritical(c); len(unknown) > 0 {
			what := "unhandled critical extension (error 34)"
			switch r.engine {
			case engineGnuTLS:
				what = "The certificate contains an unknown critical extension"
			case engineJava:
				what = "PKIX path validation failed: Unrecognized critical extension(s)"
			}
			return say(RuleCritical, what, fmt.Sprintf("%q has a critical extension %s does not know (%s)", nameOf(c, false), r.lib, oids(unknown)),
				"reissue the certificate without the critical extension, or mark it non-critical"), nil
		}
		if i == 0 {
			continue
		}
		if !(c.BasicConstraintsValid && c.IsCA) && !(c.Version == 1 && a.selfIssued(c)) {
			what := "invalid CA certificate (error 79)"
			switch r.engine {
			case engineGnuTLS:
				what = "The certificate issuer is not a CA"
			case engineJava:
				what = "PKIX path validation failed: basic constraints check failed: this is not a CA certificate"
			}
			return say(RuleCA, what, fmt.Sprintf("%q issues %q but is not a CA (no basicConstraints CA:TRUE)", nameOf(c, false), nameOf(p[i-1], false)),
				fmt.Sprintf("reissue %q with basicConstraints CA:TRUE, or send the right intermediate", nameOf(c, false))), nil
		}
		if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
			what := "key usage does not include certificate signing (error 32)"
			switch r.engine {
			case engineGnuTLS:
				what = "The certificate issuer is not a CA"
			case engineJava:
				what = "PKIX path validation failed: CA key usage check failed: keyCertSign bit is not set"
			}
			return say(RuleCA, what, fmt.Sprintf("%q issues %q but its keyUsage lacks keyCertSign", nameOf(c, false), nameOf(p[i-1], false)),
				fmt.Sprintf("reissue %q with keyUsage keyCertSign", nameOf(c, false))), nil
		}
		if below := i - 1; c.BasicConstraintsValid && (c.MaxPathLen > 0 || c.MaxPathLenZero) && below > c.MaxPathLen {
			what := "path length constraint exceeded (error 25)"
			if r.engine == engineJava {
				what = "PKIX path validation failed: basic constraints check failed: pathLenConstraint violated"
			}
			return say(RuleCA, what, fmt.Sprintf("%q allows %d intermediates below it, the path has %d", nameOf(c, false), c.MaxPathLen, below),
				"send a shorter chain, or reissue the CA with a larger pathLenConstraint"), nil
		}
	}
	for i, c := range p[:anchor] {
		if i > 0 && r.engine == engineJava {
			// Java's EndEntityChecker reads the leaf's extended key
			// usage only.
			if len(c.ExtKeyUsage) > 0 && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) {
				lenient = append(lenient, fmt.Sprintf("accepts the intermediate %q, whose extendedKeyUsage (%s) does not allow serverAuth (Java reads the leaf's only)", nameOf(c, false), ekuNames(c)))
			}
			continue
		}
		if r.engine == engineJava && slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) {
			continue
		}
		if (len(c.ExtKeyUsage) > 0 || len(c.UnknownExtKeyUsage) > 0) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth) &&
			!slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageNetscapeServerGatedCrypto) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageMicrosoftServerGatedCrypto) {
			what := "unsuitable certificate purpose (error 26)"
			switch r.engine {
			case engineGnuTLS:
				what = "The certificate chain does not match the intended purpose"
			case engineJava:
				what = "Extended key usage does not permit use for TLS server authentication"
			}
			who := "the leaf"
			if i > 0 {
				who = "the intermediate"
			}
			return say(RulePurpose, what, fmt.Sprintf("%s %q has an extendedKeyUsage without serverAuth (%s)", who, nameOf(c, false), ekuNames(c)),
				fmt.Sprintf("reissue %q with extendedKeyUsage serverAuth (or without the extension)", nameOf(c, false))), nil
		}
	}
	if leaf.KeyUsage != 0 {
		tlsKU := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement
		switch {
		case r.engine == engineOpenSSL && leaf.KeyUsage&tlsKU == 0:
			return say(RuleKeyUsage, "unsuitable certificate purpose (error 26)", fmt.Sprintf("the leaf's keyUsage (%s) has none of digitalSignature, keyEncipherment and keyAgreement, one of which a TLS server certificate needs", kuNames(leaf.KeyUsage)),
				"reissue the leaf with keyUsage digitalSignature (and keyEncipherment for RSA key exchange)"), nil
		case r.engine == engineJava && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0:
			return say(RuleKeyUsage, "KeyUsage does not allow digital signatures", fmt.Sprintf("the leaf's keyUsage (%s) does not allow digitalSignature, and the server signs the handshake with its key (TLS 1.3, ECDHE); Java's EndEntityChecker enforces the key usage", kuNames(leaf.KeyUsage)),
				"reissue the leaf with keyUsage digitalSignature"), nil
		case r.leafSignKU && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0:
			return say(RuleKeyUsage, "Key usage violation in certificate has been detected", fmt.Sprintf("the leaf's keyUsage (%s) does not allow digitalSignature, and the server signs the handshake with its key (TLS 1.3, ECDHE); GnuTLS enforces the key usage", kuNames(leaf.KeyUsage)),
				"reissue the leaf with keyUsage digitalSignature"), nil
		}
	}
	// Key sizes and signature hashes (OpenSSL check_auth_level; GnuTLS's
	// verification profile and its insecure-algorithm list).
	for i, c := range p {
		alg, bits, sec := keyStrength(c)
		if r.engine == engineJava {
			if floor := javaKeyFloor(c); bits < floor && !(i == anchor) {
				return say(RuleKeySize, fmt.Sprintf("Algorithm constraints check failed on keysize limits: %s %d bit key used with certificate", strings.TrimPrefix(strings.Fields(alg)[0], "EC "), bits),
					fmt.Sprintf("%q has a %d-bit %s key, and the JDK's jdk.certpath.disabledAlgorithms refuses %s keys under %d bits", nameOf(c, false), bits, alg, strings.Fields(alg)[0], floor),
					fmt.Sprintf("reissue %q with an RSA key of at least 2048 bits or an ECDSA P-256 key", nameOf(c, false))), nil
			}
			if sec > 0 && sec < 112 {
				lenient = append(lenient, fmt.Sprintf("accepts the %d-bit %s key of %q (the JDK refuses RSA keys only under 1024 bits)", bits, alg, nameOf(c, false)))
			}
			continue
		}
		min := 0
		switch r.engine {
		case engineOpenSSL:
			min = levelBits(r.level)
		case engineGnuTLS:
			min = r.minBits
		}
		if sec < min {
			what := "EE certificate key too weak (error 66)"
			if i > 0 {
				what = "CA certificate key too weak (error 67)"
			}
			limit := fmt.Sprintf("security level %d (%s) requires %d bits of security: RSA keys of %d bits or more, EC keys of %d bits or more", r.level, r.levelWhy, min, rsaBitsFor(min), ecBitsFor(min))
			if r.engine == engineGnuTLS {
				what = "The certificate chain uses insecure algorithm"
				limit = fmt.Sprintf("its verification profile (%s) requires %d bits of security: RSA keys of %d bits or more", r.profileWhy, min, rsaBitsFor(min))
			}
			return say(RuleKeySize, what, fmt.Sprintf("%q has a %d-bit %s key (%d bits of security), and %s", nameOf(c, false), bits, alg, sec, limit),
				fmt.Sprintf("reissue %q with an RSA key of at least 2048 bits or an ECDSA P-256 key", nameOf(c, false))), nil
		}
		if sec > 0 && sec < 112 && r.engine != engineGo {
			lenient = append(lenient, fmt.Sprintf("accepts the %d-bit %s key of %q (%s)", bits, alg, nameOf(c, false), r.why()))
		}
	}
	for i, c := range p {
		if i == anchor && a.selfIssued(c) {
			continue // nobody checks the self-signature of a trust anchor
		}
		h, sec := sigHash(c.SignatureAlgorithm)
		refuse := false
		switch r.engine {
		case engineOpenSSL:
			refuse = r.level >= 1 && sec < levelBits(r.level)
		case engineGnuTLS:
			refuse = sec < 80 // SHA-1 and MD5 are insecure for certificates
		case engineJava:
			// MD2, MD5; SHA-1 under a JDK CA for a TLS server, and every
			// root of the JDK's keystore is one.
			refuse = sec < 80
		}
		if refuse {
			what := "CA signature digest algorithm too weak (error 68)"
			limit := fmt.Sprintf("security level %d (%s) refuses %s signatures", r.level, r.levelWhy, h)
			switch r.engine {
			case engineGnuTLS:
				what = "The certificate chain uses insecure algorithm"
				limit = "GnuTLS treats " + h + " as insecure for certificate signatures"
			case engineJava:
				what = "Algorithm constraints check failed on signature algorithm: " + javaSigName(c.SignatureAlgorithm)
				limit = "the JDK's jdk.certpath.disabledAlgorithms refuses " + h + " (for SHA-1: in a TLS server's chain that ends at a root of the JDK's keystore)"
			}
			return say(RuleSignature, what, fmt.Sprintf("%q is signed with %s, and %s", nameOf(c, false), c.SignatureAlgorithm, limit),
				fmt.Sprintf("reissue %q with a SHA-256 signature", nameOf(c, false))), nil
		}
	}
	// The name (OpenSSL check_id, GnuTLS gnutls_x509_crt_check_hostname2,
	// curl ossl_verifyhost, Qt isMatchingHostname).
	if name != "" {
		if ok, how := r.matchName(leaf, name); !ok {
			what := "hostname mismatch (error 62)"
			switch {
			case r.engine == engineJava && len(leaf.DNSNames) > 0:
				what = fmt.Sprintf("No subject alternative DNS name matching %s found.", name)
			case r.engine == engineJava:
				what = fmt.Sprintf("No name matching %s found", name)
			case r.engine == engineGnuTLS:
				what = "The name in the certificate does not match the expected"
			case stack == "curl":
				what = fmt.Sprintf("no alternative certificate subject name matches target host name '%s'", name)
			}
			return say(RuleName, what, fmt.Sprintf("%q is not a name of the leaf as %s matches names (%s)", name, stack, r.nameRule()),
				fmt.Sprintf("reissue the leaf with %q as a DNS subjectAltName", name)), nil
		} else if how != "" {
			lenient = append(lenient, how)
		}
	}
	// Validity, from the root down (internal_verify).
	for i := anchor; i >= 0; i-- {
		c := p[i]
		expired, early := t.After(c.NotAfter), t.Before(c.NotBefore)
		if !expired && !early {
			continue
		}
		if i == anchor && r.engine == engineJava {
			// PKIX takes the trust anchor's key and name, never its
			// validity.
			lenient = append(lenient, fmt.Sprintf("trusts the root %q outside its validity (Java never checks a trust anchor's dates)", nameOf(c, false)))
			continue
		}
		what, when := "certificate has expired (error 10)", fmt.Sprintf("expired %s", c.NotAfter.UTC().Format(time.RFC3339))
		if early {
			what, when = "certificate is not yet valid (error 9)", fmt.Sprintf("is valid only from %s", c.NotBefore.UTC().Format(time.RFC3339))
		}
		switch r.engine {
		case engineGnuTLS:
			what = "The certificate chain uses expired certificate"
			if early {
				what = "The certificate chain uses not yet valid certificate"
			}
		case engineJava:
			what = "PKIX path validation failed: validity check failed"
		}
		role := "the leaf"
		switch {
		case i == anchor && i > 0:
			role = "the root (trust anchor)"
		case i > 0:
			role = "the intermediate"
		}
		return say(RuleValidity, what, fmt.Sprintf("%s %q %s (checked as of %s)", role, nameOf(c, false), when, t.UTC().Format(time.RFC3339)),
			fmt.Sprintf("renew %q (for a root: replace it in the store with its successor)", nameOf(c, false))), nil
	}
	if anchor > 0 && !a.selfIssued(p[anchor]) {
		lenient = append(lenient, fmt.Sprintf("trusts %q, which is not a self-signed root, as an anchor (partial chain)", nameOf(p[anchor], false)))
	}
	return nil, lenient
}

// why says where a stack's key-size floor comes from.
// gnutlsUnknown are the extensions crypto/x509 processes and GnuTLS does
// not: certificate policy mappings and policy constraints (certtool
// --verify: "The certificate contains an unknown critical extension"; it
// knows inhibitAnyPolicy).
var gnutlsUnknown = []asn1.ObjectIdentifier{{2, 5, 29, 33}, {2, 5, 29, 36}}

// unknownCritical lists c's critical extensions the stack does not know:
// those crypto/x509 does not handle, and for GnuTLS a few more.
func (r stackRules) unknownCritical(c *x509.Certificate) []asn1.ObjectIdentifier {
	unknown := slices.Clone(c.UnhandledCriticalExtensions)
	if r.engine == engineGnuTLS {
		for _, e := range c.Extensions {
			if e.Critical && slices.ContainsFunc(gnutlsUnknown, e.Id.Equal) {
				unknown = append(unknown, e.Id)
			}
		}
	}
	return unknown
}

func (r stackRules) why() string {
	switch r.engine {
	case engineGnuTLS:
		return "GnuTLS: " + r.profileWhy
	case engineJava:
		return "Java: jdk.certpath.disabledAlgorithms"
	}
	return fmt.Sprintf("OpenSSL security level %d: %s", r.level, r.levelWhy)
}

// nameRule says in words how a stack matches names.
func (r stackRules) nameRule() string {
	var s string
	switch r.cn {
	case cnAlways:
		s = "every subject CN, then the DNS subjectAltNames"
	case cnNoDNSSAN:
		s = "the DNS subjectAltNames, or the subject CN when there is none"
	default:
		s = "the DNS subjectAltNames only"
	}
	switch r.wild {
	case wildPartial:
		s += "; a '*' anywhere in the left-most label, two labels or more after it"
	case wildQt:
		s += "; a '*' that ends the left-most label, three labels or more"
	case wildJava:
		s += "; a '*' anywhere in the left-most label, one label or more after it"
	default:
		s += "; '*' only as the whole left-most label, two labels or more after it"
	}
	return s
}

// matchName reports whether the leaf carries name under the stack's rules,
// and, when it matched only by a rule a strict verifier refuses (the
// Common Name, a partial wildcard), says so.
func (r stackRules) matchName(leaf *x509.Certificate, name string) (bool, string) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if ip := net.ParseIP(name); ip != nil {
		for _, a := range leaf.IPAddresses {
			if a.Equal(ip) {
				return true, ""
			}
		}
		if r.cn == cnAlways {
			for _, cn := range commonNames(leaf) {
				if strings.EqualFold(cn, name) {
					return true, fmt.Sprintf("matches %s by the subject Common Name %q", name, cn)
				}
			}
		}
		return false, ""
	}
	cnMatch := func() (bool, string) {
		for _, cn := range commonNames(leaf) {
			if ok, partial := r.matchPattern(cn, name); ok {
				how := fmt.Sprintf("matches %q by the subject Common Name %q, which Go and browsers ignore", name, cn)
				if partial {
					how += " (a partial wildcard)"
				}
				return true, how
			}
		}
		return false, ""
	}
	if r.cn == cnAlways {
		if ok, how := cnMatch(); ok {
			if slices.ContainsFunc(leaf.DNSNames, func(d string) bool { ok, _ := r.matchPattern(d, name); return ok }) {
				return true, ""
			}
			return true, how
		}
	}
	for _, d := range leaf.DNSNames {
		if ok, partial := r.matchPattern(d, name); ok {
			if partial {
				return true, fmt.Sprintf("matches %q by the partial wildcard %q, which Go, GnuTLS, curl and Python refuse", name, d)
			}
			if r.wild == wildJava && strings.HasPrefix(d, "*.") && !strings.Contains(strings.TrimSuffix(d[2:], "."), ".") {
				return true, fmt.Sprintf("matches %q by the wildcard %q over a whole top-level domain, which Go, OpenSSL, GnuTLS, curl and Python refuse (Java checks the public suffix for public CAs' certificates only)", name, d)
			}
			return true, ""
		}
	}
	if r.cn == cnNoDNSSAN && len(leaf.DNSNames) == 0 {
		return cnMatch()
	}
	return false, ""
}

// matchPattern matches one certificate name against a host name; partial
// is set when a '*' that is not the whole label matched.
func (r stackRules) matchPattern(pattern, host string) (ok, partial bool) {
	pattern = strings.ToLower(strings.TrimSuffix(pattern, "."))
	star := strings.IndexByte(pattern, '*')
	if star < 0 {
		return pattern == host, false
	}
	if net.ParseIP(host) != nil || strings.Count(pattern, "*") != 1 {
		return false, false
	}
	pLabel, pRest, ok := strings.Cut(pattern, ".")
	hLabel, hRest, ok2 := strings.Cut(host, ".")
	if !ok || !ok2 || star > len(pLabel) || hRest != pRest {
		return false, false
	}
	switch r.wild {
	case wildQt:
		// "*" must end the first label; three labels or more; the
		// characters before it must match.
		if star != len(pLabel)-1 || strings.Count(pRest, ".") < 1 || strings.HasPrefix(pattern, "xn--") {
			return false, false
		}
		return strings.HasPrefix(hLabel, pLabel[:star]), star > 0
	case wildJava:
		// HostnameChecker.matchLeftmostWildcard: the left-most labels
		// match with '*' for any characters; the rest must be equal. The
		// public-suffix rule applies to certificates of public CAs only.
		pre, suf := pLabel[:star], pLabel[star+1:]
		if len(hLabel) < len(pre)+len(suf) || !strings.HasPrefix(hLabel, pre) || !strings.HasSuffix(hLabel, suf) {
			return false, false
		}
		return true, pLabel != "*"
	case wildPartial:
		// OpenSSL valid_star/wildcard_match: two labels or more after the
		// wildcard label; prefix and suffix must match; not in an IDN
		// label.
		if strings.Count(pRest, ".") < 1 || strings.HasPrefix(pLabel, "xn--") {
			return false, false
		}
		pre, suf := pLabel[:star], pLabel[star+1:]
		if len(hLabel) < len(pre)+len(suf) || !strings.HasPrefix(hLabel, pre) || !strings.HasSuffix(hLabel, suf) {
			return false, false
		}
		return true, pLabel != "*"
	default:
		return pLabel == "*" && strings.Count(pRest, ".") >= 1 && hLabel != "", false
	}
}

// javaSigName is Java's name of a signature algorithm.
func javaSigName(a x509.SignatureAlgorithm) string {
	switch a {
	case x509.MD2WithRSA:
		return "MD2withRSA"
	case x509.MD5WithRSA:
		return "MD5withRSA"
	case x509.SHA1WithRSA:
		return "SHA1withRSA"
	case x509.DSAWithSHA1:
		return "SHA1withDSA"
	case x509.ECDSAWithSHA1:
		return "SHA1withECDSA"
	}
	return a.String()
}

// javaKeyFloor is the smallest key jdk.certpath.disabledAlgorithms allows
// by default: RSA and DSA 1024 bits, EC 224.
func javaKeyFloor(c *x509.Certificate) int {
	switch c.PublicKey.(type) {
	case *rsa.PublicKey, *dsa.PublicKey:
		return 1024
	case *ecdsa.PublicKey:
		return 224
	}
	return 0
}

// commonNames returns every Common Name of the subject, in order.
func commonNames(c *x509.Certificate) []string {
	var out []string
	for _, n := range c.Subject.Names {
		if n.Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 3}) {
			if s, ok := n.Value.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// keyStrength returns the key's algorithm, size and security bits as
// OpenSSL counts them (EVP_PKEY_get_security_bits: RSA and DSA by the
// modulus, EC by half the order).
func keyStrength(c *x509.Certificate) (alg string, bits, sec int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		bits = k.N.BitLen()
		return "RSA", bits, ifcBits(bits)
	case *dsa.PublicKey:
		bits = k.P.BitLen()
		return "DSA", bits, ifcBits(bits)
	case *ecdsa.PublicKey:
		bits = k.Curve.Params().BitSize
		return "EC " + k.Curve.Params().Name, bits, min(bits/2, 256)
	case ed25519.PublicKey:
		return "Ed25519", 256, 128
	}
	return c.PublicKeyAlgorithm.String(), 0, 128 // not judged
}

// ifcBits is OpenSSL's BN_security_bits for RSA and DSA moduli (the
// NIST SP 800-57 table).
func ifcBits(n int) int {
	switch {
	case n >= 15360:
		return 256
	case n >= 7680:
		return 192
	case n >= 3072:
		return 128
	case n >= 2048:
		return 112
	case n >= 1024:
		return 80
	}
	return 0
}

// levelBits is the security bits an OpenSSL security level requires
// (SSL_CTX_set_security_level(3)).
func levelBits(level int) int {
	return [...]int{0, 80, 112, 128, 192, 256}[max(0, min(level, 5))]
}

func rsaBitsFor(sec int) int {
	for _, n := range []int{1024, 2048, 3072, 7680, 15360} {
		if ifcBits(n) >= sec {
			return n
		}
	}
	return 15360
}

func ecBitsFor(sec int) int { return 2 * sec }

// sigHash returns a signature algorithm's hash and its security bits as
// OpenSSL counts them for signatures (SHA-1: 63, MD5: 39).
func sigHash(a x509.SignatureAlgorithm) (string, int) {
	switch a {
	case x509.MD2WithRSA:
		return "MD2", 0
	case x509.MD5WithRSA:
		return "MD5", 39
	case x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return "SHA-1", 63
	case x509.SHA256WithRSA, x509.SHA256WithRSAPSS, x509.ECDSAWithSHA256, x509.DSAWithSHA256:
		return "SHA-256", 128
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		return "SHA-384", 192
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		return "SHA-512", 256
	case x509.PureEd25519:
		return "Ed25519", 128
	}
	return a.String(), 128
}

func oids(ids []asn1.ObjectIdentifier) string {
	var s []string
	for _, id := range ids {
		s = append(s, id.String())
	}
	return strings.Join(s, ", ")
}

func ekuNames(c *x509.Certificate) string {
	names := map[x509.ExtKeyUsage]string{x509.ExtKeyUsageClientAuth: "clientAuth", x509.ExtKeyUsageServerAuth: "serverAuth",
		x509.ExtKeyUsageCodeSigning: "codeSigning", x509.ExtKeyUsageEmailProtection: "emailProtection",
		x509.ExtKeyUsageTimeStamping: "timeStamping", x509.ExtKeyUsageOCSPSigning: "OCSPSigning", x509.ExtKeyUsageAny: "anyExtendedKeyUsage"}
	var s []string
	for _, u := range c.ExtKeyUsage {
		if n, ok := names[u]; ok {
			s = append(s, n)
		} else {
			s = append(s, fmt.Sprintf("usage %d", u))
		}
	}
	for _, o := range c.UnknownExtKeyUsage {
		s = append(s, o.String())
	}
	return strings.Join(s, ", ")
}

func kuNames(ku x509.KeyUsage) string {
	names := []string{"digitalSignature", "contentCommitment", "keyEncipherment", "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"}
	var s []string
	for i, n := range names {
		if ku&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	return strings.Join(s, ", ")
}
