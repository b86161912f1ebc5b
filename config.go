package tlskit

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/tlskit/tlskit/trust"
)

// ClientConfig returns a client *tls.Config that verifies the server under
// the policy for serverName: "" means [Policy.ServerName]. The name is
// bound to the config: an IP address is verified against the certificate's
// IP SANs (and sent without SNI), and an empty name is an error, never "check
// no name". Use one config per server name; [Dial] and [Policy.Transport]
// decide the name from each dial address.
//
// Verification is replaced, not skipped: InsecureSkipVerify is set so that
// crypto/tls's own verifier steps aside, and VerifyConnection runs package
// trust's verifier, which fails the handshake with a [*VerifyError]. Do not
// clear VerifyConnection.
func (p *Policy) ClientConfig(serverName string) (*tls.Config, error) {
	c, err := p.clients()
	if err != nil {
		return nil, err
	}
	return c.config(serverName)
}

// clientConfigs makes the client configs of one policy: what does not
// depend on the server name is built once (the verifier, which reads the
// trust sources and the CRL files, the client certificate, the versions
// and suites), so that a Transport does not read them again for every
// connection.
type clientConfigs struct {
	p    *Policy
	lv   *liveVerifier
	base *tls.Config // everything but the server name and its verification
}

// clients builds p's clientConfigs.
func (p *Policy) clients() (*clientConfigs, error) {
	v, crlFiles, err := p.serverVerifier()
	if err != nil {
		return nil, err
	}
	cfg, err := p.baseConfig()
	if err != nil {
		return nil, err
	}
	cfg.InsecureSkipVerify = true // replaced by VerifyConnection
	switch {
	case p.CertFile != "" || p.KeyFile != "":
		get, err := p.LiveClientCertificate()
		if err != nil {
			return nil, err
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return get(), nil }
	case len(p.Certificates) > 0:
		cfg.Certificates = p.Certificates // crypto/tls picks among them by the server's request
	}
	return &clientConfigs{p: p, lv: newLiveVerifier(v, crlFiles, p.OnReload), base: cfg}, nil
}

// config is the client config for serverName ("" means the policy's
// ServerName), as ClientConfig describes it.
func (c *clientConfigs) config(serverName string) (*tls.Config, error) {
	p := c.p
	if serverName == "" {
		serverName = p.ServerName
	}
	if serverName == "" && len(p.Names) == 0 {
		return nil, errors.New("tlskit: no server name to verify: pass one, set ServerName, or list the acceptable names in Names")
	}
	if serverName != "" {
		name, err := trust.ServerName(serverName, "")
		if err != nil {
			return nil, err
		}
		serverName = name
	}
	cfg := c.base.Clone()
	cfg.ServerName = trust.SNI(serverName)
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		f, err := c.lv.get().VerifyServer(serverName, p.now())
		if err != nil {
			return err
		}
		return f(cs)
	}
	return cfg, nil
}

// baseConfig is what client and server configs share: the versions, ALPN,
// the cipher suites, the key log and the clock.
func (p *Policy) baseConfig() (*tls.Config, error) {
	minV, maxV, err := p.versions()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		NextProtos:   p.ALPN,
		MinVersion:   minV,
		MaxVersion:   maxV,
		CipherSuites: p.cipherSuites(),
		KeyLogWriter: p.KeyLog,
		Time:         p.Time,
	}, nil
}

// ServerConfig returns a server *tls.Config presenting the policy's
// certificate. With ClientTrust, RequireClientCert or AllowedClients set it
// verifies client certificates under the policy (clientAuth usage, the
// pins, the AllowedClients allow-list) and fails the handshake with a
// [*VerifyError]. An allow-list implies that a certificate is required.
func (p *Policy) ServerConfig() (*tls.Config, error) {
	cfg, err := p.baseConfig()
	if err != nil {
		return nil, err
	}
	switch {
	case p.CertFile != "" || p.KeyFile != "":
		kp, err := loadKeyPair(p.CertFile, p.KeyFile, p.OnReload)
		if err != nil {
			return nil, err
		}
		cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return kp.get(), nil }
	case len(p.Certificates) > 0:
		cfg.Certificates = p.Certificates
	default:
		return nil, errors.New("tlskit: a server needs a certificate: set CertFile and KeyFile, or Certificates")
	}
	if p.needsClientVerifier() {
		v, crlFiles, err := p.clientVerifier()
		if err != nil {
			return nil, err
		}
		// crypto/tls does not verify the chain with RequireAnyClientCert or
		// RequestClientCert: VerifyConnection does, with diagnosis.
		cfg.ClientAuth = tls.RequestClientCert
		if p.requiresClientCert() {
			cfg.ClientAuth = tls.RequireAnyClientCert
		}
		lv, required, at := newLiveVerifier(v, crlFiles, p.OnReload), p.requiresClientCert(), p.now()
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			return lv.get().VerifyClient(required, at)(cs)
		}
		pool := x509.NewCertPool()
		for _, c := range v.Anchors.Certs {
			pool.AddCert(c) // names the acceptable CAs in the CertificateRequest
		}
		cfg.ClientCAs = pool
	}
	return cfg, nil
}

// liveVerifier is the verifier of a long-lived config (a server's, a
// client's used for many connections, a tunnel's) with the policy's CRL
// files as they are on disk: when one changes, they are read again at the
// next handshake. A CA publishes a new CRL before the last one's next
// update, and a CRL that turns stale fails every verification closed, so
// a server must not go on with the one it started with. A file that fails
// to read keeps its last good CRLs (a stale one then says so in each
// refusal: crl.invalid), and onReload hears of it.
type liveVerifier struct {
	base     trust.Verifier // as built, its CRLs replaced when the files change
	onReload func(Reload)   // Policy.OnReload

	mu    sync.Mutex
	v     *trust.Verifier
	files watch // the CRL files, as v read them
}

// newLiveVerifier watches the CRL files v was built from.
func newLiveVerifier(v *trust.Verifier, files watch, onReload func(Reload)) *liveVerifier {
	return &liveVerifier{base: *v, v: v, files: files, onReload: onReload}
}

// get returns the verifier with the CRL files as they are now.
func (l *liveVerifier) get() *trust.Verifier {
	if len(l.files.paths) == 0 {
		return l.v
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.files.changed() {
		return l.v
	}
	// Read once for each change, whether they read or not: each file
	// that does not keeps the CRLs last read from it.
	r := Reload{What: ReloadCRL, Files: slices.Clone(l.files.paths), Errs: make([]error, len(l.files.paths))}
	for i, f := range l.files.paths {
		crls, err := trust.ReadCRLFile(f)
		if err != nil {
			r.Errs[i] = err
			crls = crlsFrom(l.v.CRLs, f)
		}
		r.CRLs = append(r.CRLs, crls...)
	}
	v := l.base
	v.CRLs = r.CRLs
	l.v = &v
	if l.onReload != nil {
		l.onReload(r)
	}
	return l.v
}

// crlsFrom returns the CRLs read from the file path.
func crlsFrom(crls []*trust.CRL, path string) []*trust.CRL {
	var out []*trust.CRL
	for _, c := range crls {
		if c.Source == path {
			out = append(out, c)
		}
	}
	return out
}

// keyPair is a certificate and key loaded from files, re-read when they
// change.
type keyPair struct {
	certFile, keyFile string

	onReload func(Reload) // Policy.OnReload

	mu    sync.Mutex
	cert  *tls.Certificate
	files watch // the two files, as last read
}

// watch notices when files change on disk: their stamps, taken before they
// are read (a file replaced meanwhile is read again at the next look).
type watch struct {
	paths  []string
	stamps []fileStamp
}

// newWatch stamps paths as they are now.
func newWatch(paths ...string) watch {
	w := watch{paths: slices.Clone(paths), stamps: make([]fileStamp, len(paths))}
	for i, f := range w.paths {
		w.stamps[i] = stamp(f)
	}
	return w
}

// changed reports whether a file changed since the stamps were taken, and
// takes them anew.
func (w *watch) changed() bool {
	now := newWatch(w.paths...)
	if slices.Equal(now.stamps, w.stamps) {
		return false
	}
	w.stamps = now.stamps
	return true
}

// fileStamp identifies a version of a file.
type fileStamp struct {
	mod  time.Time
	size int64
}

// stamp returns the file's stamp, or the zero stamp when it cannot be read.
func stamp(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{fi.ModTime(), fi.Size()}
}

// loadKeyPair loads a key pair; the first load must succeed.
func loadKeyPair(certFile, keyFile string, onReload func(Reload)) (*keyPair, error) {
	if certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("tlskit: certificate %q and key %q: give both files", certFile, keyFile)
	}
	kp := &keyPair{certFile: certFile, keyFile: keyFile, files: newWatch(certFile, keyFile), onReload: onReload}
	if err := kp.reload(); err != nil {
		return nil, err
	}
	return kp, nil
}

// reload reads the files (stamped before); on failure the last good pair
// stays.
func (kp *keyPair) reload() error {
	c, err := LoadKeyPair(kp.certFile, kp.keyFile)
	if err != nil {
		return err
	}
	kp.cert = &c
	return nil
}

// get returns the current pair, re-reading the files when they changed.
func (kp *keyPair) get() *tls.Certificate {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	if kp.files.changed() {
		err := kp.reload() // a bad pair keeps the last good one
		if kp.onReload != nil {
			kp.onReload(Reload{What: ReloadCertificate, Files: []string{kp.certFile, kp.keyFile}, Errs: []error{err, err}})
		}
	}
	return kp.cert
}
