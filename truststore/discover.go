package truststore

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/tlskit/tlskit/finding"
)

// checkRoot refuses a Root that is not a directory.
func checkRoot(root string) error {
	if root == "" || root == "/" {
		return nil
	}
	info, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("truststore: root %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("truststore: root %s is not a directory (pass the top of an unpacked image, not a file in it)", root)
	}
	return nil
}

// Discover finds every trust location any client in [Stacks] reads under
// opts.Root (bundles, certificate and hashed directories, the inputs of the
// distribution tools, the environment overrides in opts.Env), reads what
// each holds, and audits them. It returns an error only for unusable
// options; anything wrong on disk becomes a finding.
func Discover(opts Options) (*Audit, error) {
	if err := checkRoot(opts.Root); err != nil {
		return nil, err
	}
	a := newAuditor(opts)
	d := &discovery{a: a, index: make(map[string]int), reported: make(map[string]bool)}
	d.collect()
	for i := range d.locs {
		d.fill(&d.locs[i])
	}
	d.incomplete()
	d.notInstalled()
	d.javaSync()
	d.expired()
	d.envFindings()
	finding.Tidy(d.findings)
	finding.Sort(d.findings)
	root := opts.Root
	if root == "" {
		root = "/"
	}
	return &Audit{Root: root, Env: opts.Env, OpenSSLDir: a.osslDir, Locations: d.locs, Findings: d.findings}, nil
}

// discovery is the state of one Discover call.
type discovery struct {
	a        *auditor
	locs     []Location
	index    map[string]int  // resolved (or named) path → locs index
	reported map[string]bool // finding keys already emitted
	findings []finding.Finding
}

func (d *discovery) add(f finding.Finding, key string) {
	if key != "" {
		if d.reported[key] {
			return
		}
		d.reported[key] = true
	}
	d.findings = append(d.findings, f)
}

// collect builds the location list from every stack's plan.
func (d *discovery) collect() {
	a := d.a
	for _, s := range Stacks() {
		p := a.plan(s.Name)
		kind := KindBundle
		if p.keystore {
			kind = KindKeystore
		}
		for _, f := range p.files {
			d.location(f.path, kind, f.why)
		}
		for _, f := range p.dirs {
			d.location(f.path, KindDir, f.why)
		}
		for _, f := range p.hashDirs {
			for _, dp := range splitList(f.path) {
				d.location(dp, KindDir, f.why)
			}
		}
	}
	// Go, Qt and GnuTLS fall back along lists; show every candidate.
	for _, f := range GoCertFiles() {
		d.location(f, KindBundle, "go: root_linux.go certFiles (first readable wins)")
	}
	for _, f := range gnutlsBundles {
		d.location(f, KindBundle, "gnutls: configure default-trust-store-file candidate")
	}
	for _, f := range qtDirs {
		d.location(f, KindDir, "qt5/qt6: unixRootCertDirectories")
	}
	d.location(p11kitBundle, KindBundle, "p11-kit: update-ca-trust extract")
	d.location("/etc/pki/ca-trust/extracted/pem/directory-hash", KindDir, "p11-kit: pem-directory-hash (read only where linked)")
	for _, s := range sourceDirs {
		d.location(s.path, KindSourceDir, s.source)
	}
	for _, k := range keystores {
		d.location(k, KindKeystore, "java: lib/security/cacerts target")
	}
	// A JDK's own keystore, when it is not a link to the distribution's:
	// a JDK unpacked from a tarball, Docker's eclipse-temurin images.
	if h := a.getenv("JAVA_HOME"); h != "" {
		d.location(path.Join(h, "lib/security/cacerts"), KindKeystore, "java: $JAVA_HOME/lib/security/cacerts")
	}
	d.location(temurinKeystore, KindKeystore, "java: eclipse-temurin images' JDK")
	if jvms := a.listDir("/usr/lib/jvm"); jvms.exists {
		for _, n := range jvms.names {
			for _, rel := range []string{"lib/security/cacerts", "jre/lib/security/cacerts"} {
				p := path.Join("/usr/lib/jvm", n, rel)
				if f := a.open(p); f.state != fileMissing && f.state != fileBroken {
					d.location(p, KindKeystore, "java: /usr/lib/jvm/"+n)
				}
			}
		}
	}
}

// location registers a named path, merging paths that resolve to the same
// place.
func (d *discovery) location(p, kind, why string) {
	p = path.Clean("/" + strings.TrimSuffix(p, "/"))
	key := p
	resolved, _, err := d.a.fs.resolve(p)
	if err == nil {
		key = resolved
	}
	if i, ok := d.index[key]; ok {
		l := &d.locs[i]
		if l.Path != p && !slices.Contains(l.Aliases, p) {
			l.Aliases = append(l.Aliases, p)
		}
		if !slices.Contains(l.Sources, why) {
			l.Sources = append(l.Sources, why)
		}
		return
	}
	l := Location{Path: p, Kind: kind, Sources: []string{why}, Exists: err == nil}
	if err == nil && resolved != p {
		l.Resolved = resolved
	}
	d.index[key] = len(d.locs)
	d.locs = append(d.locs, l)
}

// fill reads one location and emits the findings about its files.
func (d *discovery) fill(l *Location) {
	a := d.a
	switch l.Kind {
	case KindBundle, KindKeystore:
		f := a.open(l.Path)
		if l.Kind == KindKeystore {
			f = a.openKeystore(l.Path)
		}
		switch f.state {
		case fileMissing:
			return
		case fileDir:
			l.Problem = "is a directory, but clients read it as a file"
			return
		}
		l.Exists = true
		if l.Kind == KindKeystore && f.state == fileRead && f.content.noCerts != "" {
			// Not a keystore Java reads without a password, or none
			// at all: say so, without a finding about certificates.
			l.Problem = f.content.noCerts
			return
		}
		d.fileFindings(l.Path, f)
		if f.state != fileRead {
			l.Problem = f.problem
			return
		}
		l.Certs = d.certs(l.Path, f.content.certs)
	default:
		dl := a.listDir(l.Path)
		if !dl.exists {
			if dl.problem != "" {
				l.Exists, l.Problem = true, dl.problem
				d.add(finding.Finding{ID: finding.TruststoreUnreadable, Severity: finding.Warning,
					Title:  "trust directory " + l.Path + " cannot be read",
					Detail: l.Path + ": " + dl.problem + "; clients that read it get no roots from it",
					Fix:    "make it a readable directory, or remove it"}, "unreadable:"+l.Path)
			}
			return
		}
		d.fillDir(l, dl, 0)
	}
}

// fileFindings reports a file that is broken, unreadable or not a
// certificate, once per file.
func (d *discovery) fileFindings(named string, f *file) {
	switch {
	case f.state == fileBroken && f.loop:
		d.add(finding.Finding{ID: finding.TruststoreUnreadable, Severity: finding.Warning,
			Title:    named + " is a symlink loop",
			Detail:   named + ": " + f.problem + "; clients cannot open it (ELOOP), and OpenSSL treats it like a dangling link",
			Fix:      "remove " + named + " and the links it cycles through",
			Evidence: []string{named + " -> " + f.target}}, "loop:"+named)
	case f.state == fileBroken:
		d.add(finding.Finding{ID: finding.TruststoreDanglingLink, Severity: finding.Warning,
			Title:    named + " is a dangling symlink",
			Detail:   fmt.Sprintf("%s: %s; clients skip it, and it can end OpenSSL's HASH.N scan", named, f.problem),
			Fix:      "remove " + named + ", or rerun update-ca-certificates / update-ca-trust, which rebuild the links",
			Evidence: []string{named + " -> " + f.target}}, "broken:"+named)
	case f.state == fileUnreadable:
		d.add(finding.Finding{ID: finding.TruststoreUnreadable, Severity: finding.Warning,
			Title:  named + " cannot be read",
			Detail: named + ": " + f.problem + "; clients get no roots from it",
			Fix:    "replace " + named + " with a readable PEM file, or remove it"}, "unreadable:"+named)
	case f.state == fileRead:
		key := "content:" + f.resolved
		if f.content.noCerts != "" {
			d.add(finding.Finding{ID: finding.TruststoreNotACertificate, Severity: finding.Warning,
				Title:  named + " holds no certificate",
				Detail: named + ": " + f.content.noCerts,
				Fix:    "remove " + named + " from the trust location, or replace it with the PEM certificate it should hold"}, key)
			return
		}
		for _, s := range f.content.skipped {
			if strings.Contains(s, "does not parse") {
				d.add(finding.Finding{ID: finding.TruststoreNotACertificate, Severity: finding.Warning,
					Title:  named + " has a CERTIFICATE block that does not parse",
					Detail: named + ": " + s + "; every client skips it",
					Fix:    "remove the broken block from " + named}, key+s)
			}
		}
		seen := make(map[[32]byte]int)
		for i, c := range f.content.certs {
			k := sha256.Sum256(c.Raw)
			if j, ok := seen[k]; ok {
				d.add(finding.Finding{ID: finding.TruststoreDuplicate, Severity: finding.Info,
					Title:  fmt.Sprintf("%s holds %q twice", named, nameOf(c, false)),
					Detail: fmt.Sprintf("%s: certificates %d and %d are the same (sha256 %x)", named, j+1, i+1, k),
					Fix:    "harmless for verification; regenerate " + named + " with update-ca-certificates / update-ca-trust to drop the copy"}, fmt.Sprintf("dup:%s:%x", f.resolved, k))
				continue
			}
			seen[k] = i
		}
	}
}

// certs converts certificates to Cert values, dropping repeats.
func (d *discovery) certs(where string, cs []*x509.Certificate) []Cert {
	var out []Cert
	seen := make(map[[32]byte]bool)
	for _, c := range cs {
		if k := sha256.Sum256(c.Raw); !seen[k] {
			seen[k] = true
			out = append(out, d.a.cert(c, where))
		}
	}
	return out
}

// fillDir reads a directory location; depth bounds the recursion into the
// subdirectories of source directories.
func (d *discovery) fillDir(l *Location, dl *dir, depth int) {
	a := d.a
	type entry struct {
		name string
		f    *file
	}
	var hashed, plain []entry
	byHash := make(map[uint32]map[int]*file)
	for _, n := range dl.names {
		full := path.Join(dl.resolved, n)
		shown := path.Join(l.Path, n)
		if depth > 0 {
			shown = full
		}
		_, _, isHash := hashName(n)
		if !isHash && !certLike(n) {
			if l.Kind == KindSourceDir && depth < 2 {
				if sub := a.listDir(full); sub.exists {
					d.fillDir(l, sub, depth+1)
				}
			}
			continue
		}
		f := a.open(full)
		if f.state == fileDir {
			continue
		}
		f.path = shown
		l.Files++
		d.fileFindings(shown, f)
		if isHash {
			l.HashLinks++
			h, k, _ := hashName(n)
			if byHash[h] == nil {
				byHash[h] = make(map[int]*file)
			}
			byHash[h][k] = f
			hashed = append(hashed, entry{n, f})
		} else {
			plain = append(plain, entry{n, f})
		}
	}
	// Certificates: named files first, so a cert shows its real name.
	seen := make(map[[32]byte]bool)
	for _, c := range l.Certs { // from shallower levels of a source dir
		seen[sha256.Sum256(c.X509.Raw)] = true
	}
	files := make(map[[32]byte]string) // single-cert files by cert, for duplicates
	for _, e := range append(plain, hashed...) {
		if e.f.state != fileRead {
			continue
		}
		for _, c := range e.f.content.certs {
			if k := sha256.Sum256(c.Raw); !seen[k] {
				seen[k] = true
				l.Certs = append(l.Certs, a.cert(c, e.f.path))
			}
		}
		if len(e.f.content.certs) == 1 {
			k := sha256.Sum256(e.f.content.certs[0].Raw)
			if other, ok := files[k]; ok && other != e.f.resolved {
				if _, _, isHash := hashName(e.name); !isHash {
					d.add(finding.Finding{ID: finding.TruststoreDuplicate, Severity: finding.Info,
						Title:  fmt.Sprintf("%q is in %s twice", nameOf(e.f.content.certs[0], false), l.Path),
						Detail: fmt.Sprintf("%s and %s are separate files holding the same certificate (sha256 %x)", other, e.f.resolved, k),
						Fix:    "remove one copy and rerun update-ca-certificates / `openssl rehash " + l.Path + "`"}, fmt.Sprintf("dupdir:%s:%x", l.Path, k))
				}
			} else if !ok {
				files[k] = e.f.resolved
			}
		}
	}
	if depth > 0 {
		return
	}
	for _, e := range hashed {
		if e.f.state == fileRead || e.f.state == fileUnreadable {
			if l.Kind == KindDir {
				l.Kind = KindHashedDir
			}
		}
		d.hashNameFindings(l, e.name, e.f)
	}
	d.hiddenFindings(l, byHash)
}

// hashNameFindings checks that HASH.N names its certificate's subject hash.
func (d *discovery) hashNameFindings(l *Location, name string, f *file) {
	if f.state != fileRead || f.content.noCerts != "" {
		return
	}
	h, _, _ := hashName(name)
	var got []string
	for _, c := range f.content.certs {
		if hh, err := SubjectHash(c); err == nil && hh == h {
			return
		}
	}
	old := false
	for _, c := range f.content.certs {
		if SubjectHashOld(c) == h {
			old = true
		}
		got = append(got, d.a.cert(c, f.path).SubjectHash)
	}
	c := f.content.certs[0]
	shown := path.Join(l.Path, name)
	detail := fmt.Sprintf("%s holds %q, whose subject hash is %s, not %08x: OpenSSL looking for that root opens %s.0 and never finds this file", shown, nameOf(c, false), strings.Join(got, ","), h, got[0])
	if old {
		detail = fmt.Sprintf("%s is named by the pre-1.0 MD5 hash (-subject_hash_old) of %q; OpenSSL 1.0.0 and later only look for %s.0", shown, nameOf(c, false), got[0])
	}
	d.add(finding.Finding{ID: finding.TruststoreHashMismatch, Severity: finding.Warning,
		Title:    shown + " is not named by its certificate's subject hash",
		Detail:   detail,
		Fix:      "run `openssl rehash " + l.Path + "` (Debian: update-ca-certificates), which names links by `openssl x509 -subject_hash`",
		Evidence: []string{fmt.Sprintf("%s -> %s", shown, f.target)}}, "mismatch:"+shown)
}

// hiddenFindings reports HASH.N files OpenSSL never reaches: behind a
// dangling HASH.k (OpenSSL 3.0 before 3.0.22 stops there) or behind a gap.
func (d *discovery) hiddenFindings(l *Location, byHash map[uint32]map[int]*file) {
	hashes := make([]uint32, 0, len(byHash))
	for h := range byHash {
		hashes = append(hashes, h)
	}
	slices.Sort(hashes)
	for _, h := range hashes {
		ks := byHash[h]
		idx := make([]int, 0, len(ks))
		for k := range ks {
			idx = append(idx, k)
		}
		slices.Sort(idx)
		stop, why := -1, ""
		for want := 0; want <= idx[len(idx)-1]; want++ {
			f, ok := ks[want]
			if !ok {
				stop, why = want, fmt.Sprintf("%08x.%d is missing, which ends every OpenSSL's scan", h, want)
				break
			}
			if f.state == fileBroken {
				stop, why = want, fmt.Sprintf("%08x.%d is a dangling link, which ends the scan in OpenSSL before 3.0.22 (fixed by openssl/openssl PR #31594)", h, want)
				break
			}
		}
		if stop < 0 {
			continue
		}
		var hidden []string
		for _, k := range idx {
			if f := ks[k]; k > stop && f.state == fileRead && len(f.content.certs) > 0 {
				hidden = append(hidden, fmt.Sprintf("%s (%s)", f.path, nameOf(f.content.certs[0], false)))
			}
		}
		if len(hidden) == 0 {
			continue
		}
		d.add(finding.Finding{ID: finding.TruststoreHashCollisionHidden, Severity: finding.Error,
			Title:    fmt.Sprintf("%s hides %s from OpenSSL's hashed lookup", path.Join(l.Path, fmt.Sprintf("%08x.%d", h, stop)), hidden[0]),
			Detail:   fmt.Sprintf("in %s, %s, so OpenSSL and Qt never load %s", l.Path, why, strings.Join(hidden, ", ")),
			Fix:      fmt.Sprintf("remove the broken %08x.%d and run `openssl rehash %s` (Debian: update-ca-certificates) to renumber the links", h, stop, l.Path),
			Evidence: hidden}, fmt.Sprintf("hidden:%s:%08x", l.Path, h))
	}
}

// systemBundle returns the bundle the distribution generated: Go's first
// readable certFiles entry, ignoring the environment.
func (d *discovery) systemBundle() (string, *file) {
	for _, p := range GoCertFiles() {
		if f := d.a.open(p); f.state == fileRead && len(f.content.certs) > 0 {
			return p, f
		}
	}
	return "", nil
}

// incomplete reports hashed directories that miss roots of the system
// bundle: hash-only clients (Qt on-demand, OpenSSL CApath) can't find them.
// Roots hidden behind dangling links count as present here; they are
// reported as hash-collision-hidden instead.
func (d *discovery) incomplete() {
	bundle, bf := d.systemBundle()
	if bf == nil {
		return
	}
	for _, l := range d.locs {
		if l.Kind != KindHashedDir {
			continue
		}
		if !slices.ContainsFunc(l.Sources, func(s string) bool {
			return strings.Contains(s, "qt") || strings.Contains(s, "openssl") || strings.Contains(s, "python") || strings.Contains(s, "curl")
		}) {
			continue
		}
		var missing []string
		for _, c := range bf.content.certs {
			if found, _ := d.a.lookupHash([]string{l.Path}, c.RawSubject, true); !slices.ContainsFunc(found, func(f *x509.Certificate) bool {
				return string(f.RawSubjectPublicKeyInfo) == string(c.RawSubjectPublicKeyInfo)
			}) {
				h, _ := SubjectHash(c)
				missing = append(missing, fmt.Sprintf("%08x.0 %s", h, nameOf(c, false)))
			}
		}
		if len(missing) == 0 {
			continue
		}
		d.add(finding.Finding{ID: finding.TruststoreIncompleteHashDir, Severity: finding.Error,
			Title: fmt.Sprintf("hashed directory %s misses %d of the %d roots in %s", l.Path, len(missing), len(bf.content.certs), bundle),
			Detail: fmt.Sprintf("%s has HASH.N links, so Qt (which then reads roots only by hash) and OpenSSL CApath-only clients look roots up there, and cannot find %d roots that %s has; Go, curl and OpenSSL CAfile clients read the bundle and do trust them, e.g. %s",
				l.Path, len(missing), bundle, missing[0]),
			Fix:      fmt.Sprintf("put each root in %s as its own .pem file and run `openssl rehash %s` (Debian/Ubuntu: update-ca-certificates does both from /usr/local/share/ca-certificates); Qt applications can call QSslConfiguration::setCaCertificates(QSslConfiguration::systemCaCertificates())", l.Path, l.Path),
			Evidence: missing}, "incomplete:"+l.Path)
	}
}

// localSources are the directories where an administrator puts a root for
// the system tools to install, and the tool that does it.
var localSources = []struct{ dir, tool string }{
	{"/usr/local/share/ca-certificates", "update-ca-certificates"},
	{"/etc/pki/ca-trust/source/anchors", "update-ca-trust"},
}

// notInstalled reports a certificate put in a local source directory that
// the system bundle does not hold: the step that installs it has not run
// since (update-ca-certificates, update-ca-trust), or, on Debian, it never
// will, because update-ca-certificates reads only files named *.crt. No
// client here trusts such a root, whatever the directory's name suggests.
// A certificate counts as installed under the same subject and key.
func (d *discovery) notInstalled() {
	bundle, bf := d.systemBundle()
	if bf == nil {
		return
	}
	for _, src := range localSources {
		i, ok := d.index[src.dir]
		if !ok || d.locs[i].Kind != KindSourceDir {
			continue
		}
		for _, c := range d.locs[i].Certs {
			if slices.ContainsFunc(bf.content.certs, func(b *x509.Certificate) bool {
				return bytes.Equal(b.RawSubject, c.X509.RawSubject) && bytes.Equal(b.RawSubjectPublicKeyInfo, c.X509.RawSubjectPublicKeyInfo)
			}) {
				continue
			}
			name := nameOf(c.X509, false)
			f := finding.Finding{ID: finding.TruststoreNotInstalled, Severity: finding.Error,
				Title:    fmt.Sprintf("%q in %s is not in the system bundle %s: no client here trusts it", name, c.Path, bundle),
				Detail:   fmt.Sprintf("%s is where %s finds roots to install into %s (and the hashed directory); it has not run since %s was put there, so Go, curl, OpenSSL and the rest do not trust %q", src.dir, src.tool, bundle, c.Path, name),
				Fix:      fmt.Sprintf("run %s as root", src.tool),
				Evidence: []string{c.Path}}
			if src.tool == "update-ca-certificates" && !strings.HasSuffix(c.Path, ".crt") {
				f.Detail = fmt.Sprintf("Debian's %s reads only the files of %s whose name ends in .crt; %s does not, so running it does not install %q, and no client here trusts it", src.tool, src.dir, c.Path, name)
				f.Fix = fmt.Sprintf("rename it to %s.crt and run %s as root", strings.TrimSuffix(c.Path, path.Ext(c.Path)), src.tool)
			}
			d.add(f, "notinstalled:"+c.Path)
		}
	}
}

// javaSync reports a Java keystore whose roots are not the system
// bundle's: Java reads only its keystore, which the distribution generates
// from the same roots (Debian's ca-certificates-java hook, Fedora's
// update-ca-trust), so a root added or removed since, or a JDK with a
// keystore of its own, makes Java trust what the other stacks do not, or
// the reverse. A root counts as present under the same subject and key.
func (d *discovery) javaSync() {
	bundle, bf := d.systemBundle()
	if bf == nil {
		return
	}
	key := func(c *x509.Certificate) string { return string(c.RawSubject) + string(c.RawSubjectPublicKeyInfo) }
	inBundle := make(map[string]bool)
	for _, c := range bf.content.certs {
		inBundle[key(c)] = true
	}
	for _, l := range d.locs {
		if l.Kind != KindKeystore || !l.Exists || l.Problem != "" {
			continue
		}
		f := d.a.openKeystore(l.Path)
		if f.state != fileRead || f.content.noCerts != "" {
			continue
		}
		inJava := make(map[string]bool)
		for _, c := range f.content.certs {
			inJava[key(c)] = true
		}
		var missing, extra []string
		for _, c := range bf.content.certs {
			if !inJava[key(c)] {
				missing = append(missing, "not in Java's keystore: "+nameOf(c, false))
			}
		}
		for _, c := range f.content.certs {
			if !inBundle[key(c)] {
				extra = append(extra, "only in Java's keystore: "+nameOf(c, false))
			}
		}
		if len(missing)+len(extra) == 0 {
			continue
		}
		var title, detail []string
		if len(missing) > 0 {
			title = append(title, fmt.Sprintf("misses %d of the %d roots in %s", len(missing), len(bf.content.certs), bundle))
			detail = append(detail, fmt.Sprintf("Java refuses servers whose chains end at the %d roots it misses, which Go, OpenSSL, GnuTLS and curl trust through %s", len(missing), bundle))
		}
		if len(extra) > 0 {
			title = append(title, fmt.Sprintf("holds %d roots %s does not", len(extra), bundle))
			detail = append(detail, fmt.Sprintf("Java trusts %d roots the other stacks do not (removed from the system store, or added to Java's alone)", len(extra)))
		}
		d.add(finding.Finding{ID: finding.TruststoreJavaOutOfSync, Severity: finding.Warning,
			Title:    fmt.Sprintf("Java's keystore %s %s", l.Path, strings.Join(title, " and ")),
			Detail:   fmt.Sprintf("Java (every JVM application using the default trust store) reads only %s, not the system bundle. %s", l.Path, strings.Join(detail, "; ")),
			Fix:      "Rebuild Java's keystore from the system store: Debian/Ubuntu: install ca-certificates-java and run `update-ca-certificates -f`; Fedora/RHEL: `update-ca-trust extract`. A root Java alone must trust: `keytool -importcert -cacerts -alias NAME -file ROOT.pem`",
			Evidence: append(missing, extra...)}, "java:"+l.Path)
	}
}

// expired reports every expired certificate once, with where it is.
func (d *discovery) expired() {
	type hit struct {
		c     Cert
		paths []string
	}
	var order []string
	hits := make(map[string]*hit)
	for _, l := range d.locs {
		for _, c := range l.Certs {
			if !d.a.now.After(c.NotAfter) {
				continue
			}
			h, ok := hits[c.SHA256]
			if !ok {
				h = &hit{c: c}
				hits[c.SHA256] = h
				order = append(order, c.SHA256)
			}
			if !slices.Contains(h.paths, c.Path) {
				h.paths = append(h.paths, c.Path)
			}
		}
	}
	for _, k := range order {
		h := hits[k]
		d.add(finding.Finding{ID: finding.TruststoreExpiredRoot, Severity: finding.Warning,
			Title:    fmt.Sprintf("root %q expired on %s", nameOf(h.c.X509, false), h.c.NotAfter.Format(time.DateOnly)),
			Detail:   fmt.Sprintf("%q (sha256 %s) is past its notAfter %s; no client can anchor to it, and OpenSSL 1.0.x-era clients that build chains to it fail even when a newer cross-signed root is trusted", h.c.Subject, h.c.SHA256, h.c.NotAfter.Format(time.RFC3339)),
			Fix:      "remove it from the store (Debian: mark it `!` in /etc/ca-certificates.conf and run update-ca-certificates; Fedora/RHEL: update the ca-certificates package or blocklist it)",
			Evidence: h.paths}, "expired:"+k)
	}
}

// envFindings reports SSL_CERT_FILE, SSL_CERT_DIR and CURL_CA_BUNDLE.
func (d *discovery) envFindings() {
	for _, v := range []string{"SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE"} {
		val := d.a.getenv(v)
		if val == "" {
			continue
		}
		who := "Go, OpenSSL's default paths (openssl, Python) and curl"
		if v == "CURL_CA_BUNDLE" {
			who = "the curl tool"
		}
		n, points := 0, []string{}
		var paths []string
		if v == "SSL_CERT_DIR" {
			paths = splitList(val)
		} else {
			paths = []string{val}
		}
		for _, p := range paths {
			if v == "SSL_CERT_DIR" {
				if dl := d.a.listDir(p); dl.exists {
					points = append(points, p)
					n += d.countIn(p)
				}
			} else if f := d.a.open(p); f.state == fileRead {
				points = append(points, p)
				n += len(f.content.certs)
			}
		}
		f := finding.Finding{ID: finding.TruststoreEnvOverride, Severity: finding.Info,
			Title:  fmt.Sprintf("%s=%s overrides the default roots", v, val),
			Detail: fmt.Sprintf("%s is set: %s read it instead of their defaults, while Qt and GnuTLS ignore it, so clients can disagree; it points at %d certificates", v, who, n),
			Fix:    "unset it unless you mean every Go/OpenSSL/curl client to use these roots; Qt and GnuTLS need the roots in the system store"}
		if len(points) == 0 || n == 0 {
			f.Severity = finding.Warning
			f.Title = fmt.Sprintf("%s=%s points at no certificates", v, val)
			f.Detail = fmt.Sprintf("%s is set, but %s holds no readable certificate: %s then find no roots there (Go still reads its other list), while Qt and GnuTLS ignore the variable", v, val, who)
			f.Fix = "unset " + v + " or point it at an existing bundle such as the system one"
		}
		d.add(f, "env:"+v)
	}
}

// countIn counts the distinct certificates in the location at p.
func (d *discovery) countIn(p string) int {
	resolved, _, err := d.a.fs.resolve(p)
	if err != nil {
		return 0
	}
	if i, ok := d.index[resolved]; ok {
		return len(d.locs[i].Certs)
	}
	return 0
}
