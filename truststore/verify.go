package truststore

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// loaded is the eager part of a stack's roots.
type loaded struct {
	certs   []*x509.Certificate
	sources []string // "path (N)"
}

// loadEager reads the bundles and directories a plan reads whole.
func (a *auditor) loadEager(p plan) loaded {
	var l loaded
	seenCert := make(map[[32]byte]bool)
	seenFile := make(map[string]bool)
	add := func(where string, f *file) {
		if f.state != fileRead || seenFile[f.resolved] {
			return
		}
		seenFile[f.resolved] = true
		n := 0
		for _, c := range f.content.certs {
			k := sha256.Sum256(c.Raw)
			if !seenCert[k] {
				seenCert[k] = true
				l.certs = append(l.certs, c)
				n++
			}
		}
		if n > 0 {
			l.sources = append(l.sources, fmt.Sprintf("%s (%d)", where, n))
		}
	}
	for _, s := range p.files {
		f := a.open(s.path)
		if p.keystore {
			f = a.openKeystore(s.path)
		}
		if p.firstOnly && f.state == fileRead {
			add(s.path, f)
			break
		}
		add(s.path, f)
	}
	for _, s := range p.dirs {
		d := a.listDir(s.path)
		if !d.exists {
			continue
		}
		before := len(l.certs)
		for _, n := range d.names {
			full := path.Join(d.resolved, n)
			switch p.dirMode {
			case dirGo:
				// root_unix.go isSameDirSymlink: skip links whose target
				// has no "/" (Debian's HASH.0 -> Name.pem).
				if res := a.fs.lstat(full); res.target != "" && !strings.Contains(res.target, "/") {
					continue
				}
			case dirQt:
				ext := strings.ToLower(path.Ext(n))
				if ext != ".pem" && ext != ".crt" {
					continue
				}
			}
			f := a.open(full)
			if f.state != fileRead || seenFile[f.resolved] {
				continue
			}
			seenFile[f.resolved] = true
			for _, c := range f.content.certs {
				k := sha256.Sum256(c.Raw)
				if !seenCert[k] {
					seenCert[k] = true
					l.certs = append(l.certs, c)
				}
			}
		}
		if n := len(l.certs) - before; n > 0 {
			l.sources = append(l.sources, fmt.Sprintf("%s (%d)", s.path, n))
		}
	}
	return l
}

// hashStep is what one HASH.N probe found.
type hashStep struct {
	dir, name string
	state     string // "missing", "dangling", "loaded", "unreadable"
	matched   bool
}

// lookupHash emulates OpenSSL's by_dir get_cert_by_subject_ex for one
// subject name: per directory, load HASH.0, HASH.1, ... until the first
// missing name (or, before OpenSSL 3.0.22, the first dangling link), and
// stop at the first directory that has a match.
func (a *auditor) lookupHash(dirs []string, rawName []byte, skipDangling bool) ([]*x509.Certificate, []hashStep) {
	h, err := SubjectHashDER(rawName)
	if err != nil {
		return nil, nil
	}
	want := a.canonical(rawName)
	var steps []hashStep
	for _, dp := range dirs {
		d := a.listDir(dp)
		if !d.exists {
			continue
		}
		var found []*x509.Certificate
		for k := 0; ; k++ {
			name := fmt.Sprintf("%08x.%d", h, k)
			st := hashStep{dir: d.resolved, name: name}
			if !containsSorted(d.names, name) {
				st.state = "missing"
				steps = append(steps, st)
				break
			}
			f := a.open(path.Join(d.resolved, name))
			if f.state == fileBroken || f.state == fileMissing {
				st.state = "dangling"
				steps = append(steps, st)
				if skipDangling {
					continue
				}
				break
			}
			if f.state != fileRead {
				st.state = "unreadable"
				steps = append(steps, st)
				continue
			}
			st.state = "loaded"
			for _, c := range f.content.certs {
				if a.canonical(c.RawSubject) == want {
					found = append(found, c)
					st.matched = true
				}
			}
			steps = append(steps, st)
		}
		if len(found) > 0 {
			return found, steps
		}
	}
	return nil, steps
}

func containsSorted(names []string, n string) bool {
	lo, hi := 0, len(names)
	for lo < hi {
		m := (lo + hi) / 2
		if names[m] < n {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(names) && names[lo] == n
}

// hashIndexed counts the distinct certificates reachable through valid
// HASH.N names in dirs: the roots a CApath client can find.
func (a *auditor) hashIndexed(dirs []string) int {
	seen := make(map[[32]byte]bool)
	for _, dp := range dirs {
		d := a.listDir(dp)
		for _, n := range d.names {
			h, _, ok := hashName(n)
			if !ok {
				continue
			}
			f := a.open(path.Join(d.resolved, n))
			if f.state != fileRead {
				continue
			}
			for _, c := range f.content.certs {
				if hh, err := SubjectHash(c); err == nil && hh == h {
					seen[sha256.Sum256(c.Raw)] = true
				}
			}
		}
	}
	return len(seen)
}

// WhoTrusts verifies chain (leaf first, as a server sends it) for the DNS
// name name as of opts.Time, once per [Stacks] entry: against the roots that
// stack would load under opts.Root with opts.Env, and by that stack's own
// rules (how it matches names and whether it reads the Common Name, its
// minimum key sizes and signature hashes (OpenSSL's security level,
// GnuTLS's verification profile, the JDK's algorithm constraints),
// extended key usage, whether a trusted intermediate may end the path,
// validity). Go's verdict is crypto/x509's; the others are this package's
// model of OpenSSL, GnuTLS and Java's PKIX, checked against the real
// clients in its tests (docs/stacks.md). An empty name
// skips the name check.
func WhoTrusts(opts Options, chain []*x509.Certificate, name string) ([]StackVerdict, error) {
	if len(chain) == 0 || chain[0] == nil {
		return nil, errors.New("truststore: WhoTrusts needs a chain with at least the leaf certificate")
	}
	for i, c := range chain {
		if c == nil {
			return nil, fmt.Errorf("truststore: chain[%d] is nil", i)
		}
	}
	if err := checkRoot(opts.Root); err != nil {
		return nil, err
	}
	a := newAuditor(opts)
	var out []StackVerdict
	for _, s := range Stacks() {
		out = append(out, a.verdict(a.plan(s.Name), chain, name, a.now))
	}
	return out, nil
}

// verdict verifies chain against one stack's roots, by its rules.
func (a *auditor) verdict(p plan, chain []*x509.Certificate, name string, at time.Time) StackVerdict {
	v := StackVerdict{Stack: p.stack}
	l := a.loadEager(p)
	roots := slices.Clone(l.certs)
	v.Roots = len(l.certs)
	v.Sources = l.sources
	var hashDirs []string
	for _, d := range p.hashDirs {
		hashDirs = append(hashDirs, splitList(d.path)...)
	}
	var steps []hashStep
	if len(hashDirs) > 0 {
		v.Roots += a.hashIndexed(hashDirs)
		for _, d := range hashDirs {
			if a.listDir(d).exists {
				v.Sources = append(v.Sources, d+" (by hash)")
			}
		}
		// Look up every issuer the chain names, then the issuers of what
		// was found, as OpenSSL's chain builder does one step at a time.
		queue := make([][]byte, 0, len(chain))
		for _, c := range chain {
			queue = append(queue, c.RawIssuer)
		}
		seen := make(map[string]bool)
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			k := a.canonical(n)
			if seen[k] {
				continue
			}
			seen[k] = true
			found, st := a.lookupHash(hashDirs, n, a.opts.OpenSSLSkipsDangling)
			steps = append(steps, st...)
			for _, c := range found {
				if !slices.ContainsFunc(roots, c.Equal) {
					roots = append(roots, c)
				}
				if !bytes.Equal(c.RawIssuer, c.RawSubject) {
					queue = append(queue, c.RawIssuer)
				}
			}
		}
	}
	r := a.rulesFor(p.stack)
	v.Note = r.note
	var ref *refusal
	if r.engine == engineGo {
		var found bool
		ref, v.Lenient, found = a.judgeGo(chain, roots, name, at)
		if !found {
			a.explain(&v, p, chain, hashDirs, steps)
			return v
		}
	} else {
		var found bool
		ref, v.Lenient, found = a.judge(r, p.stack, chain, roots, name, at)
		if !found {
			a.explain(&v, p, chain, hashDirs, steps)
			return v
		}
	}
	if ref != nil {
		v.Lenient = nil
		v.Reason, v.Fix, v.Rule = ref.reason, ref.fix, ref.rule
		return v
	}
	v.Trusted = true
	return v
}

// judgeGo verifies with crypto/x509 itself, for the server-auth usage: Go's
// verdict is Go's. found is false when the failure is a missing root.
func (a *auditor) judgeGo(chain, roots []*x509.Certificate, name string, at time.Time) (ref *refusal, lenient []string, found bool) {
	pool := x509.NewCertPool()
	for _, c := range roots {
		pool.AddCert(c)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	chains, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         pool,
		Intermediates: inter,
		DNSName:       name,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err == nil {
		p := chains[0]
		for _, c := range p {
			if alg, bits, sec := keyStrength(c); sec > 0 && sec < 112 {
				lenient = append(lenient, fmt.Sprintf("accepts the %d-bit %s key of %q (crypto/x509 sets no minimum key size)", bits, alg, nameOf(c, false)))
			}
		}
		if last := p[len(p)-1]; len(p) > 1 && !a.selfIssued(last) {
			lenient = append(lenient, fmt.Sprintf("trusts %q, which is not a self-signed root, as an anchor (crypto/x509 accepts any certificate of its root pool as one)", nameOf(last, false)))
		}
		return nil, lenient, true
	}
	leaf := chain[0]
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var uc x509.UnhandledCriticalExtension
	switch {
	case errors.As(err, &he):
		if len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) == 0 && slices.ContainsFunc(commonNames(leaf), func(cn string) bool {
			ok, _ := stackRules{wild: wildLabel}.matchPattern(cn, strings.ToLower(name))
			return ok
		}) {
			return &refusal{rule: RuleName,
				reason: fmt.Sprintf("go: %v: Go (since 1.15), like browsers, matches names only against the subjectAltName extension, which this leaf does not have; its Common Name %q is ignored", err, leaf.Subject.CommonName),
				fix:    fmt.Sprintf("reissue the leaf with %q as a DNS subjectAltName (every current CA does; OpenSSL, GnuTLS, curl and Python fall back to the Common Name, Go and browsers do not)", name)}, nil, true
		}
		return &refusal{rule: RuleName, reason: "go: " + err.Error() + " (Go matches the DNS and IP subjectAltNames; '*' only as the whole left-most label)",
			fix: fmt.Sprintf("reissue the leaf with %q as a subjectAltName", name)}, nil, true
	case errors.As(err, &ci):
		rule := RuleOther
		switch ci.Reason {
		case x509.Expired:
			rule = RuleValidity
		case x509.NotAuthorizedToSign, x509.TooManyIntermediates:
			rule = RuleCA
		case x509.IncompatibleUsage:
			rule = RulePurpose
		}
		return &refusal{rule: rule, reason: "go: " + err.Error(), fix: goFix(rule)}, nil, true
	case errors.As(err, &uc):
		return &refusal{rule: RuleCritical, reason: "go: " + err.Error(), fix: goFix(RuleCritical)}, nil, true
	}
	// Unknown authority: a missing root, unless a path exists that
	// crypto/x509 refused for its signature hash (it refuses SHA-1 and
	// MD5 signatures outright).
	for _, p := range func() [][]*x509.Certificate { ps, _ := a.paths(chain, roots, true); return ps }() {
		for i, c := range p {
			if i > 0 && !(c.BasicConstraintsValid && c.IsCA) && !(c.Version == 1 && a.selfIssued(c)) {
				return &refusal{rule: RuleCA,
					reason: fmt.Sprintf("go: %v: %q issues %q but is not a CA (no basicConstraints CA:TRUE)", err, nameOf(c, false), nameOf(p[i-1], false)),
					fix:    fmt.Sprintf("reissue %q with basicConstraints CA:TRUE, or send the right intermediate", nameOf(c, false))}, nil, true
			}
			if i == len(p)-1 {
				break
			}
			if h, sec := sigHash(c.SignatureAlgorithm); sec < 80 {
				return &refusal{rule: RuleSignature,
					reason: fmt.Sprintf("go: x509: %q is signed with %s, which crypto/x509 refuses (insecure algorithm) since Go 1.18", nameOf(c, false), h),
					fix:    fmt.Sprintf("reissue %q with a SHA-256 signature", nameOf(c, false))}, nil, true
			}
		}
		return &refusal{rule: RuleOther, reason: "go: " + err.Error(), fix: "see the reason"}, nil, true
	}
	return nil, nil, false
}

// goFix is the remedy for a crypto/x509 refusal by rule.
func goFix(rule string) string {
	switch rule {
	case RuleValidity:
		return "renew the certificate that is out of its validity period (for a root: replace it with its successor)"
	case RuleCA:
		return "send the intermediates that lead to the root, each a CA (basicConstraints CA:TRUE, keyUsage keyCertSign) within its path length"
	case RulePurpose:
		return "reissue the certificates with extendedKeyUsage serverAuth (or without the extension)"
	case RuleCritical:
		return "reissue the certificate without the unknown critical extension"
	}
	return "see the reason"
}

// topIssuer follows the sent chain from the leaf by issuer name and
// signature and returns the last certificate reached: the one whose issuer
// must come from the trust store.
func topIssuer(chain []*x509.Certificate) *x509.Certificate {
	top := chain[0]
	used := map[*x509.Certificate]bool{top: true}
	for {
		next := (*x509.Certificate)(nil)
		for _, c := range chain[1:] {
			if !used[c] && bytes.Equal(c.RawSubject, top.RawIssuer) && top.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil {
			return top
		}
		used[next] = true
		top = next
	}
}

// nameOf is a short human name for an X.509 name: its CN, else the whole.
func nameOf(c *x509.Certificate, issuer bool) string {
	n := c.Subject
	if issuer {
		n = c.Issuer
	}
	if n.CommonName != "" {
		return n.CommonName
	}
	if s := n.String(); s != "" {
		return s
	}
	return "(empty name)"
}

// explain fills Reason and Fix for an unknown-authority failure.
func (a *auditor) explain(v *StackVerdict, p plan, chain []*x509.Certificate, hashDirs []string, steps []hashStep) {
	top := topIssuer(chain)
	issuer := nameOf(top, true)
	h, _ := SubjectHashDER(top.RawIssuer)
	hash := formatHash(h)
	what := fmt.Sprintf("%q (subject hash %s), the issuer of %q", issuer, hash, nameOf(top, false))
	whose := fmt.Sprintf("%q, the issuer of %q", issuer, nameOf(top, false))
	holders := a.holders(top.RawIssuer)
	elsewhere := ""
	switch len(holders) {
	case 0:
	case 1:
		elsewhere = ", although " + holders[0] + " has it"
	default:
		elsewhere = ", although " + strings.Join(holders, " and ") + " have it"
	}
	install := "add the root to the system store (Debian/Ubuntu/Alpine: copy it to /usr/local/share/ca-certificates/NAME.crt and run update-ca-certificates; Fedora/RHEL: copy it to /etc/pki/ca-trust/source/anchors/ and run update-ca-trust)"
	if file, fix := a.pending(top); file != "" {
		// The root is on its way in: put where the installer reads it,
		// not installed (truststore.not-installed).
		elsewhere += fmt.Sprintf("; it is in %s, which is not installed", file)
		install = fix
	}
	if len(hashDirs) == 0 {
		from := "no root at all"
		if len(v.Sources) > 0 {
			from = fmt.Sprintf("%d roots from %s", v.Roots, strings.Join(v.Sources, ", "))
		}
		v.Reason = fmt.Sprintf("%s: loads %s, and none is %s%s", p.stack, from, what, elsewhere)
		v.Fix = install
		switch p.stack {
		case "java":
			v.Reason = fmt.Sprintf("java: PKIX path building failed: unable to find valid certification path to requested target: loads %s, and none is %s%s", from, what, elsewhere)
			v.Fix = "add the root to Java's keystore: `keytool -importcert -cacerts -alias NAME -file ROOT.pem` (Debian/Ubuntu: install ca-certificates-java, then the system store's update-ca-certificates updates /etc/ssl/certs/java/cacerts too); a JDK with a keystore of its own (eclipse-temurin images, tarballs) needs the import in its own lib/security/cacerts"
		case "gnutls":
			v.Fix += "; GnuTLS reads only its compile-time bundle and ignores SSL_CERT_FILE/SSL_CERT_DIR"
		case "go", "openssl-cafile":
			if f := a.getenv("SSL_CERT_FILE"); f != "" && len(holders) > 0 {
				v.Fix = fmt.Sprintf("SSL_CERT_FILE=%s replaces the system bundle: unset it or point it at %s", f, holders[0])
			}
		}
		return
	}
	// Hashed-directory lookup: say what the probes found.
	var dangling []string
	for _, s := range steps {
		if s.state == "dangling" && strings.HasPrefix(s.name, hash+".") {
			dangling = append(dangling, path.Join(s.dir, s.name))
		}
	}
	where := strings.Join(existing(a, hashDirs), ", ")
	if where == "" {
		where = strings.Join(hashDirs, ", ") + " (none exists)"
	}
	probe := fmt.Sprintf("%s.0 (the subject hash of %s) is missing in %s", hash, whose, where)
	if len(dangling) > 0 && !a.opts.OpenSSLSkipsDangling {
		probe = fmt.Sprintf("%s is a dangling link and ends OpenSSL's scan for %s before 3.0.22, hiding any later %s.N", dangling[0], what, hash)
	} else if hit := firstLoaded(steps, hash); hit != "" {
		probe = fmt.Sprintf("%s holds no certificate named %q, so %s is not found", hit, issuer, what)
	}
	dir := "DIR"
	for _, d := range hashDirs {
		if ld := a.listDir(d); ld.exists {
			dir = ld.resolved
			break
		}
	}
	rehash := fmt.Sprintf("run update-ca-certificates (Debian/Ubuntu) or `openssl rehash %s` so %s/%s.0 exists; rehash skips multi-certificate bundles, so the root must be its own .pem or .crt file there", dir, dir, hash)
	if len(dangling) > 0 && !a.opts.OpenSSLSkipsDangling {
		rehash = fmt.Sprintf("remove the dangling link %s and run `openssl rehash %s` (OpenSSL 3.0.22 and later skip dangling links)", dangling[0], dir)
	}
	switch {
	case p.qtTrigger != "":
		bundle := "the bundle"
		if len(holders) > 0 {
			bundle = "the bundle " + holders[0]
		}
		v.Reason = fmt.Sprintf("%s: %s is a hashed name, so Qt loads roots only by hash from its nine directories; %s, and %s is never read", p.stack, p.qtTrigger, probe, bundle)
		v.Fix = rehash + "; or, in the application, call QSslConfiguration::setCaCertificates(QSslConfiguration::systemCaCertificates()) so Qt reads the bundle (addCaCertificates alone drops the on-demand system roots)"
	case len(p.files) == 0:
		v.Reason = fmt.Sprintf("%s: looks roots up by subject hash only; %s%s", p.stack, probe, elsewhere)
		v.Fix = rehash + ", or use the bundle as CAfile"
	default:
		v.Reason = fmt.Sprintf("%s: its CAfile does not have %s, and by hash: %s%s", p.stack, what, probe, elsewhere)
		v.Fix = install
	}
}

func existing(a *auditor, dirs []string) []string {
	var out []string
	for _, d := range dirs {
		ld := a.listDir(d)
		if !ld.exists {
			continue
		}
		d = path.Clean(d)
		if ld.resolved != d {
			d += " (-> " + ld.resolved + ")"
		}
		out = append(out, d)
	}
	return out
}

func firstLoaded(steps []hashStep, hash string) string {
	for _, s := range steps {
		if s.state == "loaded" && !s.matched && strings.HasPrefix(s.name, hash+".") {
			return path.Join(s.dir, s.name)
		}
	}
	return ""
}

// pending finds the issuer of top, a certificate with its issuer's name
// whose key signed it, in a local source directory (localSources), and the
// fix that installs it: the file, or "".
func (a *auditor) pending(top *x509.Certificate) (file, fix string) {
	want := a.canonical(top.RawIssuer)
	for _, src := range localSources {
		ld := a.listDir(src.dir)
		if !ld.exists {
			continue
		}
		for _, n := range ld.names {
			if !certLike(n) {
				continue
			}
			p := path.Join(src.dir, n)
			o := a.open(p)
			if o.state != fileRead {
				continue
			}
			for _, c := range o.content.certs {
				if a.canonical(c.RawSubject) != want || top.CheckSignatureFrom(c) != nil {
					continue
				}
				if src.tool == "update-ca-certificates" && !strings.HasSuffix(n, ".crt") {
					return p, fmt.Sprintf("rename %s to %s.crt (update-ca-certificates reads only *.crt) and run update-ca-certificates as root", p, strings.TrimSuffix(p, path.Ext(p)))
				}
				return p, "run " + src.tool + " as root, which installs it"
			}
		}
	}
	return "", ""
}

// holders lists the bundles of any stack that hold a certificate with the
// given subject: evidence that the root is on the machine, just not where
// the failing stack looks.
func (a *auditor) holders(rawName []byte) []string {
	want := a.canonical(rawName)
	var out []string
	seen := make(map[string]bool)
	for _, s := range Stacks() {
		for _, f := range a.plan(s.Name).files {
			o := a.open(f.path)
			if o.state != fileRead || seen[o.resolved] {
				continue
			}
			seen[o.resolved] = true
			for _, c := range o.content.certs {
				if a.canonical(c.RawSubject) == want {
					out = append(out, f.path)
					break
				}
			}
		}
	}
	return out
}
