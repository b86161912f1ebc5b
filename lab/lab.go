package lab

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// connTimeout bounds every connection the lab accepts: a client that goes
// quiet is dropped after this long, so an idle lab holds nothing.
const connTimeout = 10 * time.Second

// Options configures [Start].
type Options struct {
	// Dir is where the PKI files are written; required.
	Dir string
	// Host is the address the servers listen on; "" means 127.0.0.1.
	Host string
	// Time is the clock the PKI is generated from (certificates valid,
	// expired or not yet valid relative to it); nil means time.Now.
	Time func() time.Time
	// Logf receives one line per noteworthy event (a server's handshake
	// error, an accept failure); nil discards them.
	Logf func(format string, args ...any)
}

// Lab is a set of running servers, one per [Case], started by [Start].
// Its methods are safe for concurrent use.
type Lab struct {
	pki   *PKI
	files Files
	cases []Case
	logf  func(string, ...any)

	ctx       context.Context // cancelled by Close
	cancel    context.CancelFunc
	stopWatch func() bool // stops the Start context's watcher

	mu        sync.Mutex
	closed    bool
	listeners []net.Listener
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup

	closeOnce sync.Once
	release   func() // frees the refused case's port
	pkiSrv    *pkiServer
}

// Start generates a PKI, writes its files to opts.Dir and starts one
// listener per case on opts.Host, port 0. It returns once every listener
// is accepting. The lab runs until [Lab.Close] or until ctx is done.
//
// The refused case gets a port held by a TCP socket that is bound but never
// listens, so connections to it are refused for as long as the lab runs.
func Start(ctx context.Context, opts Options) (*Lab, error) {
	if opts.Dir == "" {
		return nil, errors.New("lab: Options.Dir is empty; give a directory for the PKI files")
	}
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	now := time.Now
	if opts.Time != nil {
		now = opts.Time
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lab: not starting: %w", err)
	}
	p, err := NewPKI(now())
	if err != nil {
		return nil, err
	}
	files, err := p.WriteFiles(opts.Dir)
	if err != nil {
		return nil, err
	}
	l := &Lab{pki: p, logf: logf, conns: make(map[net.Conn]struct{})}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	if l.pkiSrv, err = startPKIServer(host, p, &files, logf); err != nil {
		l.cancel()
		return nil, err
	}
	l.files = files
	chainDir := filepath.Join(files.Dir, "chains")
	if err := os.MkdirAll(chainDir, 0o755); err != nil {
		l.pkiSrv.close()
		l.cancel()
		return nil, fmt.Errorf("lab: %w", err)
	}

	type pending struct {
		name   string
		ln     net.Listener
		handle handler
	}
	var servers []pending
	fail := func(err error) (*Lab, error) {
		for _, s := range servers {
			s.ln.Close()
		}
		if l.release != nil {
			l.release()
		}
		l.pkiSrv.close()
		l.cancel()
		return nil, err
	}
	for _, c := range Catalog() {
		cs, err := buildCase(c.Name, p, files, l.pkiSrv, logf)
		if err != nil {
			return fail(err)
		}
		if cs.handle == nil { // refused: a port that is bound but never listens
			addr, release, err := ReserveRefused(host)
			if err != nil {
				return fail(err)
			}
			l.release = release
			c.Addr = addr
		} else {
			ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
			if err != nil {
				return fail(fmt.Errorf("lab: listening for case %s on %s: %w", c.Name, host, err))
			}
			c.Addr = ln.Addr().String()
			servers = append(servers, pending{c.Name, ln, cs.handle})
		}
		c.Client = cs.client
		c.Client.ServerName, c.Client.CAFile = c.ServerName(), files.Root
		if len(cs.chain) > 0 {
			c.ChainFile = filepath.Join(chainDir, c.Name+".pem")
			if err := writeChain(c.ChainFile, cs.chain); err != nil {
				return fail(err)
			}
		}
		l.cases = append(l.cases, c)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range servers {
		l.listeners = append(l.listeners, s.ln)
		l.wg.Add(1)
		go l.acceptLoop(s.name, s.ln, s.handle)
	}
	l.stopWatch = context.AfterFunc(ctx, func() { l.Close() })
	return l, nil
}

// acceptLoop serves ln until it is closed.
func (l *Lab) acceptLoop(name string, ln net.Listener, handle handler) {
	defer l.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || l.ctx.Err() != nil {
				return
			}
			l.logf("lab: %s: accept: %v", name, err)
			select { // for example EMFILE: back off rather than spin
			case <-time.After(100 * time.Millisecond):
			case <-l.ctx.Done():
				return
			}
			continue
		}
		if !l.track(c) {
			c.Close()
			return
		}
		go l.serveConn(name, c, handle)
	}
}

// track registers c so Close can close it; it reports false once the lab
// is closing. A tracked connection holds a WaitGroup count.
func (l *Lab) track(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.conns[c] = struct{}{}
	l.wg.Add(1)
	return true
}

// serveConn runs one handler with the connection deadline and cleans up.
func (l *Lab) serveConn(name string, c net.Conn, handle handler) {
	defer l.wg.Done()
	defer func() {
		l.mu.Lock()
		delete(l.conns, c)
		l.mu.Unlock()
		c.Close()
	}()
	c.SetDeadline(time.Now().Add(connTimeout))
	ctx, cancel := context.WithTimeout(l.ctx, connTimeout)
	defer cancel()
	if err := handle(ctx, c); err != nil && !quiet(err) {
		l.logf("lab: %s: %s: %v", name, c.RemoteAddr(), err)
	}
}

// quiet reports whether err is the ordinary end of a connection.
func quiet(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// tlsHandler returns a handler that completes a handshake with cfg and
// answers one HTTP request with a short text. The handshake is explicit so
// that TLS 1.3 client-certificate alerts are sent even if the client never
// writes.
func tlsHandler(name string, cfg *tls.Config, logf func(string, ...any)) handler {
	return func(ctx context.Context, c net.Conn) error {
		tc := tls.Server(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("handshake: %w", err)
		}
		// The request, up to the end of its headers: a TLS 1.0 client
		// splits its first record (1/n-1), so one Read may hold one byte.
		buf := make([]byte, 0, 4096)
		for !strings.Contains(string(buf), "\r\n\r\n") && len(buf) < cap(buf) {
			n, err := tc.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err != nil {
				if len(buf) == 0 {
					return err
				}
				break
			}
		}
		n := len(buf)
		if strings.HasPrefix(string(buf[:n]), "GET ") || strings.HasPrefix(string(buf[:n]), "HEAD ") {
			body := "tlskit lab: " + name + "\n"
			fmt.Fprintf(tc, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
		}
		return tc.Close()
	}
}

// Cases returns the running cases, with addresses and what their clients
// need.
func (l *Lab) Cases() []Case {
	out := make([]Case, len(l.cases))
	for i, c := range l.cases {
		c.Client.Pins = append([]string(nil), c.Client.Pins...)
		out[i] = c
	}
	return out
}

// Case returns the running case called name.
func (l *Lab) Case(name string) (Case, bool) {
	for _, c := range l.Cases() {
		if c.Name == name {
			return c, true
		}
	}
	return Case{}, false
}

// Files returns the paths of the PKI files the lab wrote.
func (l *Lab) Files() Files { return l.files }

// Env is the running lab as environment variables, for scripts (the
// testscript tests of tlskit's binaries): LAB_ROOT (the trust anchor),
// LAB_CLIENT_CERT and LAB_CLIENT_KEY (a client certificate the servers
// accept), LAB_BADCLIENT_CERT and LAB_BADCLIENT_KEY (one they reject),
// LAB_CLIENT_CA, LAB_CRL (the Intermediate's CRL), LAB_STALE_CRL (an older one,
// past its next update), and for each case, its
// name in upper case with dashes as underscores: LAB_<CASE> (its
// address), LAB_<CASE>_NAME (its server name) and LAB_CHAIN_<CASE> (the
// chain it serves, PEM, when it has one), e.g. LAB_EXPIRED,
// LAB_EXPIRED_NAME, LAB_CHAIN_EXPIRED.
func (l *Lab) Env() map[string]string {
	f := l.files
	env := map[string]string{
		"LAB_ROOT": f.Root, "LAB_CLIENT_CERT": f.ClientCert, "LAB_CLIENT_KEY": f.ClientKey,
		"LAB_BADCLIENT_CERT": f.BadClientCert, "LAB_BADCLIENT_KEY": f.BadClientKey,
		"LAB_CLIENT_CA": f.ClientCA, "LAB_CRL": f.CRL, "LAB_STALE_CRL": f.StaleCRL,
	}
	for _, c := range l.cases {
		name := strings.ToUpper(strings.ReplaceAll(c.Name, "-", "_"))
		env["LAB_"+name] = c.Addr
		env["LAB_"+name+"_NAME"] = c.ServerName()
		if c.ChainFile != "" {
			env["LAB_CHAIN_"+name] = c.ChainFile
		}
	}
	return env
}

// PKIURL returns the base URL (http://127.0.0.1:PORT) of the lab's PKI
// server, which serves [PathIntermediate], [PathWrongIssuer] and [PathCRL].
func (l *Lab) PKIURL() string { return l.pkiSrv.base }

// writeChain writes a chain of DER certificates as PEM.
func writeChain(path string, chain [][]byte) error {
	var b []byte
	for _, der := range chain {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("lab: writing %s: %w", path, err)
	}
	return nil
}

// PKI returns the lab's PKI. Callers must not modify it.
func (l *Lab) PKI() *PKI { return l.pki }

// Close stops every listener, closes every open connection and waits for
// every goroutine of the lab to return. It is safe to call more than once;
// the files in Options.Dir are left in place.
func (l *Lab) Close() error {
	var err error
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		for _, ln := range l.listeners {
			if e := ln.Close(); e != nil && err == nil {
				err = fmt.Errorf("lab: closing %s: %w", ln.Addr(), e)
			}
		}
		for c := range l.conns {
			c.Close()
		}
		stopWatch := l.stopWatch
		l.mu.Unlock()
		if e := l.pkiSrv.close(); e != nil && err == nil {
			err = fmt.Errorf("lab: closing the PKI server: %w", e)
		}
		l.cancel()
		l.wg.Wait()
		stopWatch()
		if l.release != nil {
			l.release()
		}
	})
	return err
}
