// Package servertest runs the real servers that speak STARTTLS (Postfix,
// Dovecot, OpenLDAP slapd, PostgreSQL, MariaDB, Prosody, vsftpd, INN,
// InspIRCd, ngIRCd) on loopback for tests, from the distribution packages
// .ci/run installs. Each server is configured in a temporary directory,
// listens on free high ports of 127.0.0.1, runs as its own unprivileged
// user where it has one (postgres, mysql, prosody, news, irc, openldap;
// Postfix, Dovecot and vsftpd start as root and drop privileges
// themselves, as they do in production) and is killed when the tests end.
//
// A package declares the servers it needs in a [Set] and runs its tests
// through [Set.Run] from TestMain; the first test that asks for a server
// with [Set.Need] starts them all, once, in parallel. Need skips the test
// when its server could not be started, or fails it under
// TLSKIT_REQUIRE_PEERS=1 (CI), never hiding a missing server.
//
// Every server is served in three variants where the protocol allows:
// [Good] (a certificate from the lab PKI for its name), [Expired] (the same
// name, expired) and [NoTLS] (the upgrade not offered). Certificates come
// from a [lab.PKI] generated at start; [Set.Root] is its trust anchor.
package servertest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tlskit/tlskit/lab"
)

// Variant is one configuration of a server.
type Variant string

// The variants every server is run in.
const (
	// Good has a certificate from the lab PKI for the target's name.
	Good Variant = "good"
	// Expired has a certificate for the same name that expired 30 days
	// ago.
	Expired Variant = "expired"
	// NoTLS does not offer the upgrade.
	NoTLS Variant = "notls"
	// Refused offers the upgrade and refuses it (Postfix with a
	// certificate it cannot load answers 454).
	Refused Variant = "refused"
	// TurnsAway greets with an error: the server rejects the client
	// before anything is asked (Postfix with smtpd_delay_reject = no and
	// smtpd_client_restrictions = reject: 554 5.7.1). Not in [Offerings].
	TurnsAway Variant = "turns-away"
	// DefersHello answers the client's hello with a temporary error
	// (Postfix with smtpd_delay_reject = no and smtpd_helo_restrictions
	// = defer: EHLO answered 450 4.3.2), though it offers STARTTLS to
	// clients it accepts. Not in [Offerings].
	DefersHello Variant = "defers-hello"
	// ClientUnsupported upgrades and then speaks only what Go's
	// crypto/tls client does not (Postfix limited to TLS 1.2 and
	// ECDHE-ECDSA-AES128-CCM: it answers a Go ClientHello with
	// handshake_failure). Not in [Offerings].
	ClientUnsupported Variant = "client-unsupported"
)

// Target is one address a server listens on, for one protocol and variant.
type Target struct {
	// Server is the server's name: "postfix", "dovecot"…
	Server string
	// Protocol is the starttls protocol name spoken there: "smtp", "imap"…
	Protocol string
	// Variant is the configuration.
	Variant Variant
	// Addr is 127.0.0.1:PORT.
	Addr string
	// ServerName is the name the certificate is for; for XMPP also the
	// domain to open the stream to.
	ServerName string
}

// Port returns the target's port.
func (t Target) Port() int {
	_, p, _ := net.SplitHostPort(t.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Server is a started server: one or more processes, and its targets.
type Server struct {
	// Name is the server's name: "postfix", "dovecot"…
	Name    string
	targets []Target
	procs   []*proc
	cleanup []func()
}

// Target returns the server's address for protocol in variant v, failing
// the test when the server has none.
func (s *Server) Target(t testing.TB, protocol string, v Variant) Target {
	t.Helper()
	for _, tg := range s.targets {
		if tg.Protocol == protocol && tg.Variant == v {
			return tg
		}
	}
	t.Fatalf("servertest: %s serves no %s target in variant %s", s.Name, protocol, v)
	return Target{}
}

// Targets returns every target of the server.
func (s *Server) Targets() []Target { return append([]Target(nil), s.targets...) }

// Log returns what the server's processes printed so far (bounded).
func (s *Server) Log() string {
	var b strings.Builder
	for _, p := range s.procs {
		fmt.Fprintf(&b, "--- %s\n%s", p.name, p.out.String())
	}
	return b.String()
}

func (s *Server) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].stop()
	}
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
}

// Set is the servers a test package runs: started together, once, by the
// first test that needs one, and stopped by [Set.Run] when the tests end.
type Set struct {
	names   []string
	once    sync.Once
	dir     string
	env     *Env
	envErr  error
	mu      sync.Mutex
	servers map[string]*Server
	errs    map[string]error
}

// NewSet returns a set of the named servers; see [Names].
func NewSet(names ...string) *Set {
	return &Set{names: names, servers: map[string]*Server{}, errs: map[string]error{}}
}

// Names lists the servers this package can run.
func Names() []string {
	var out []string
	for _, d := range catalog() {
		out = append(out, d.name)
	}
	return out
}

// Offering is a protocol one real server serves, and the variants it is
// started in.
type Offering struct {
	// Server names the server ([Names]), Protocol the protocol (a
	// starttls.Protocol name).
	Server, Protocol string
	// Variants are the variants of the server that serve Protocol.
	Variants []Variant
}

// Offerings lists every protocol of every server with its variants, in a
// fixed order: the cases of a test that meets each protocol's real server
// in each state it can be in.
func Offerings() []Offering {
	all := []Variant{Good, Expired, NoTLS}
	return []Offering{
		{"postfix", "smtp", []Variant{Good, Expired, NoTLS, Refused}},
		{"dovecot", "imap", all},
		{"dovecot", "pop3", all},
		{"dovecot", "lmtp", all},
		{"dovecot", "sieve", all},
		{"slapd", "ldap", all},
		{"postgres", "postgres", all},
		{"mariadb", "mysql", all},
		{"prosody", "xmpp", all},
		{"prosody", "xmpp-server", all},
		{"vsftpd", "ftp", all},
		{"inn", "nntp", []Variant{Good, Expired, Refused}},
		{"inspircd", "irc", []Variant{Good, Expired}},
		{"ngircd", "irc", []Variant{NoTLS}},
	}
}

// Run runs the tests, then stops the servers they started and returns the
// tests' exit code. Call it from TestMain. The servers start with the
// first [Set.Need], all at once and in parallel, so that a run of tests
// that need none (go test -run Fuzz…, fuzzing workers) starts none.
func (s *Set) Run(m *testing.M) int {
	code := m.Run()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, srv := range s.servers {
		srv.stop()
	}
	if s.env != nil {
		s.env.ports.release()
	}
	if s.dir != "" {
		if os.Getenv("TLSKIT_SERVERTEST_KEEP") != "" {
			fmt.Fprintf(os.Stderr, "servertest: kept %s\n", s.dir)
		} else {
			os.RemoveAll(s.dir)
		}
	}
	return code
}

// startAll starts the servers, each on its own goroutine.
func (s *Set) startAll() {
	dir, err := os.MkdirTemp("", "tlskit-servers-")
	if err != nil {
		s.envErr = err
		return
	}
	s.dir = dir
	// Servers running as their own users must reach their files.
	os.Chmod(dir, 0o755)
	if s.env, s.envErr = newEnv(dir); s.envErr != nil {
		return
	}
	var wg sync.WaitGroup
	for _, name := range s.names {
		d, ok := find(name)
		if !ok {
			s.errs[name] = fmt.Errorf("servertest: no server called %q", name)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			srv, err := s.start(d)
			s.mu.Lock()
			defer s.mu.Unlock()
			if err != nil {
				s.errs[name] = err
				return
			}
			s.servers[name] = srv
			if os.Getenv("TLSKIT_SERVERTEST_VERBOSE") != "" {
				fmt.Fprintf(os.Stderr, "servertest: %s ready in %v\n", name, time.Since(start).Round(time.Millisecond))
			}
		}()
	}
	wg.Wait()
}

// start runs one server's definition, cleaning up after a failure.
func (s *Set) start(d definition) (*Server, error) {
	for _, bin := range d.binaries {
		if _, err := exec.LookPath(bin); err != nil {
			if _, serr := os.Stat(bin); serr != nil {
				return nil, &missingError{name: d.name, bin: bin, pkg: d.pkg}
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		dir := filepath.Join(s.dir, d.name+"-"+strconv.Itoa(attempt))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		srv := &Server{Name: d.name}
		if err = d.start(ctx, s.env, dir, srv); err == nil {
			return srv, nil
		}
		log := srv.Log()
		srv.stop()
		if log != "" {
			err = fmt.Errorf("%w\n%s", err, log)
		}
		// Another process took one of its ports between freePorts and
		// the server's bind: start it again on others.
		if !strings.Contains(err.Error(), "in use") || ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("servertest: starting %s: %w", d.name, err)
}

// missingError is a server whose program is not installed.
type missingError struct{ name, bin, pkg string }

func (e *missingError) Error() string {
	return fmt.Sprintf("servertest: %s is not installed (%s; .ci/run installs the Debian package %s)", e.name, e.bin, e.pkg)
}

// Need returns the started server called name, or skips the test when it
// is not there (fails it under TLSKIT_REQUIRE_PEERS=1, which CI sets).
func (s *Set) Need(t testing.TB, name string) *Server {
	t.Helper()
	s.once.Do(s.startAll)
	s.mu.Lock()
	srv, err := s.servers[name], s.errs[name]
	s.mu.Unlock()
	if srv != nil {
		return srv
	}
	if err == nil {
		err = s.envErr
	}
	if err == nil {
		err = fmt.Errorf("servertest: %s is not in this package's set (NewSet)", name)
	}
	var me *missingError
	if errors.As(err, &me) && os.Getenv("TLSKIT_REQUIRE_PEERS") != "1" {
		t.Skip(err)
	}
	if os.Getenv("TLSKIT_REQUIRE_PEERS") == "1" {
		t.Fatal(err)
	}
	t.Skip(err)
	return nil
}

// Root returns the path of the lab PKI's root certificate (PEM), the
// trust anchor of every Good and Expired target; "" before the first
// [Set.Need].
func (s *Set) Root() string {
	if s.env == nil {
		return ""
	}
	return s.env.files.Root
}

// PKI returns the lab PKI the certificates come from; nil before the
// first [Set.Need].
func (s *Set) PKI() *lab.PKI {
	if s.env == nil {
		return nil
	}
	return s.env.pki
}

// Env is what every server's configuration shares: the PKI and its files.
type Env struct {
	pki   *lab.PKI
	files lab.Files
	root  bool // running as root: servers get their own users
	ports portLocks
}

func newEnv(dir string) (*Env, error) {
	p, err := lab.NewPKI(time.Now().Truncate(time.Second))
	if err != nil {
		return nil, err
	}
	f, err := p.WriteFiles(filepath.Join(dir, "pki"))
	if err != nil {
		return nil, err
	}
	os.Chmod(f.Dir, 0o755)
	return &Env{pki: p, files: f, root: os.Geteuid() == 0}, nil
}

// certPair is a certificate chain and key written for a server.
type certPair struct{ cert, key, chain string }

// writeCert writes a leaf for name (expired or not) into dir as
// NAME.pem (leaf then intermediate), NAME-leaf.pem, NAME-chain.pem (the
// intermediate) and NAME.key, owned by owner ("" for the current user),
// the key 0600.
func (e *Env) writeCert(dir, file, name string, expired bool, owner string) (certPair, error) {
	o := lab.LeafOptions{DNSNames: []string{name}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}
	if expired {
		o.NotBefore, o.NotAfter = e.pki.Now.AddDate(0, 0, -120), e.pki.Now.AddDate(0, 0, -30)
	}
	leaf, err := e.pki.Leaf(o)
	if err != nil {
		return certPair{}, err
	}
	var full, chain bytes.Buffer
	for i, der := range leaf.Certificate {
		pem.Encode(&full, &pem.Block{Type: "CERTIFICATE", Bytes: der})
		if i > 0 {
			pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: der})
		}
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		return certPair{}, err
	}
	p := certPair{
		cert:  filepath.Join(dir, file+".pem"),
		key:   filepath.Join(dir, file+".key"),
		chain: filepath.Join(dir, file+"-chain.pem"),
	}
	if err := os.WriteFile(p.cert, full.Bytes(), 0o644); err != nil {
		return p, err
	}
	if err := os.WriteFile(p.chain, chain.Bytes(), 0o644); err != nil {
		return p, err
	}
	if err := os.WriteFile(filepath.Join(dir, file+"-leaf.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Certificate[0]}), 0o644); err != nil {
		return p, err
	}
	if err := os.WriteFile(p.key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return p, err
	}
	if err := e.chown(owner, p.key, p.cert, p.chain); err != nil {
		return p, err
	}
	return p, nil
}

// account is a system user a server runs as.
type account struct {
	uid, gid uint32
}

// lookup returns the account called name.
func lookup(name string) (account, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return account{}, fmt.Errorf("servertest: the user %s (created by its package) is missing: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return account{uint32(uid), uint32(gid)}, nil
}

// chown gives paths to the user owner when running as root; "" or not
// root leaves them alone.
func (e *Env) chown(owner string, paths ...string) error {
	if owner == "" || !e.root {
		return nil
	}
	a, err := lookup(owner)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if err := os.Lchown(p, int(a.uid), int(a.gid)); err != nil {
			return err
		}
	}
	return nil
}

// chownTree gives a directory tree to owner (see chown).
func (e *Env) chownTree(owner, dir string) error {
	if owner == "" || !e.root {
		return nil
	}
	var paths []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return nil
	})
	return e.chown(owner, paths...)
}

// freePorts returns n ports of 127.0.0.1 that nothing listens on now and
// that no other server of this process or of another test binary has been
// given, chosen below the kernel's ephemeral range (ip_local_port_range)
// when there is room: a port taken from that range could be handed to a
// client's outgoing connection before the server binds it.
//
// Each port is reserved with an flock(2) on a file named after it in
// os.TempDir()/tlskit-test-ports, held until [Set.Run] ends. Without it,
// two servers started at once (this package's, in parallel, or another
// package's under go test -p 2) could both be given a port that was free
// when each looked, and the readiness check (a connection to the port)
// passed for the one that had not bound it because the other answered
// there: a recorded IRC session once turned out to be vsftpd's. A program outside the
// tests can still take a port in between; [Set.start] starts a server
// again on other ports when it could not bind.
func (e *Env) freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	lo := ephemeralLow()
	var ports []int
	for i := 0; len(ports) < n; i++ {
		addr := "127.0.0.1:0"
		if lo > 20000+1000 && i < 100*n {
			addr = "127.0.0.1:" + strconv.Itoa(20000+rand.IntN(lo-20000))
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			if addr != "127.0.0.1:0" {
				continue
			}
			return nil, err
		}
		ls = append(ls, l)
		port := l.Addr().(*net.TCPAddr).Port
		if !e.ports.reserve(port) {
			continue
		}
		ports = append(ports, port)
	}
	return ports, nil
}

// portLocks holds the lock files of the ports a set's servers were given.
type portLocks struct {
	mu    sync.Mutex
	files []*os.File
}

// reserve locks port's file, or reports that another server (of this
// process or another) holds it. When the lock file cannot be made at all,
// the port is taken unreserved, as before reservations.
func (p *portLocks) reserve(port int) bool {
	dir := filepath.Join(os.TempDir(), "tlskit-test-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return true
	}
	os.Chmod(dir, 0o777|os.ModeSticky) // shared by every user's tests
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return !os.IsPermission(err) // another user's lock: leave the port to it
	}
	// flock locks belong to the open file: a second open of the same file
	// in this process is refused too.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return false
	}
	p.mu.Lock()
	p.files = append(p.files, f)
	p.mu.Unlock()
	return true
}

// release closes the lock files, freeing their ports for other tests.
func (p *portLocks) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.files {
		f.Close()
	}
	p.files = nil
}

// ephemeralLow returns the first port of the kernel's ephemeral range, or
// 0 when it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0
	}
	lo, _ := strconv.Atoi(f[0])
	return lo
}

// proc is one server process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    *limitedBuffer
	done   chan struct{}
	onStop func() // run before killing (postfix abort)
	once   sync.Once
}

// run starts argv as the user owner (when root and owner is not ""), in
// its own process group, killed with the test process if that dies.
func (e *Env) run(name, owner, dir string, env []string, argv ...string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out := &limitedBuffer{max: 256 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if owner != "" && e.root {
		a, err := lookup(owner)
		if err != nil {
			return nil, err
		}
		attr.Credential = &syscall.Credential{Uid: a.uid, Gid: a.gid}
	}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("servertest: starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	return p, nil
}

// exited reports whether the process ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process group: SIGTERM, then SIGKILL after 3 seconds.
func (p *proc) stop() {
	p.once.Do(func() {
		if p.onStop != nil {
			p.onStop()
		}
		if p.exited() {
			return
		}
		pgid := p.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
	})
}

// waitPorts waits until every address accepts TCP connections, failing
// early when the process exits.
func waitPorts(ctx context.Context, p *proc, addrs ...string) error {
	for _, a := range addrs {
		for {
			if p != nil && p.exited() {
				return fmt.Errorf("%s exited: %v", p.name, p.cmd.ProcessState)
			}
			c, err := net.DialTimeout("tcp", a, 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s did not listen on %s in time", p.name, a)
			case <-time.After(25 * time.Millisecond):
			}
		}
	}
	return nil
}

// runOnce runs a set-up command to its end.
func (e *Env) runOnce(ctx context.Context, owner, dir string, env []string, argv ...string) error {
	p, err := e.run(filepath.Base(argv[0]), owner, dir, env, argv...)
	if err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		p.stop()
		return fmt.Errorf("%s timed out: %s", argv[0], p.out.String())
	}
	if !p.cmd.ProcessState.Success() {
		return fmt.Errorf("%s failed (%v): %s", strings.Join(argv, " "), p.cmd.ProcessState, p.out.String())
	}
	return nil
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
