package tlskit

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/tlskit/tlskit/trust"
)

// VerifyError is the error a handshake fails with when the peer's chain does
// not satisfy the policy. It is [trust.VerifyError]: its ID is a finding id
// (the same ids `tlskit check` prints), Findings explains every problem and
// Chain is the chain the peer sent. Use errors.As with a *VerifyError.
type VerifyError = trust.VerifyError

// Policy is what a TLS endpoint trusts and presents: tlskit's one trust
// model, shared by the library, the policy files and every command of the
// CLI. The zero value is not usable: a Policy must name at least one trust
// source (see [Policy.Trust]). A Policy is read, never modified, by the
// configs built from it; build new configs after changing it.
type Policy struct {
	// Trust lists the trust anchors for the peer's chain: "system",
	// "file:PATH", "dir:PATH" (every .pem, .crt and .cer file in it) or
	// "pem:<inline PEM>". A list without "system" replaces the system
	// roots. Trust verifies servers; ClientTrust verifies clients.
	Trust []string
	// Pins are SPKI pins ("sha256/<base64>", curl's and ghostunnel's
	// spellings too); at least one must match a certificate of the verified
	// chain. Give a backup pin: a single pin is refused unless
	// AllowSinglePin is set.
	Pins []string
	// PinsExpire is when the pin set goes stale; zero means never. After
	// it an unmatched pin set fails with pin.expired (fail closed).
	PinsExpire time.Time
	// AllowSinglePin accepts a pin set of one pin (no backup).
	AllowSinglePin bool
	// MaxIntermediates limits the intermediates between the leaf and the
	// anchor, counting logical CAs (self-issued key rollover certificates
	// do not count); 0 means no limit and [trust.NoIntermediates] (-1)
	// allows none.
	MaxIntermediates int
	// Profile is the rule set chains are judged by: "" or "auto" (webpki
	// for a path to a system root, rfc5280 for one to an anchor given
	// explicitly), "webpki" or "rfc5280". See [trust.Profile].
	Profile string
	// CRLFiles are certificate revocation lists (PEM or DER files) to check
	// the peer's chain against: a certificate on its issuer's CRL is
	// refused (cert.revoked), and a CRL of the issuer that cannot be used
	// fails closed (crl.invalid). A long-lived config ([Policy.ClientConfig],
	// [Policy.ServerConfig] and what builds on them: [Dial], [Listen],
	// [Policy.Transport], the tunnel) reads them again at the next
	// handshake when one changes on disk; files that fail to read keep
	// the last good CRLs.
	CRLFiles []string
	// Fetch lets verification fetch what a chain points at: a missing
	// intermediate from its AIA caIssuers URL, CRLs from their
	// distribution points (http and https, bounded; see [trust.Fetcher]).
	// Off by default: verification then never touches the network.
	Fetch bool
	// CertPolicies are the initial settings of certificate policy
	// processing (RFC 5280 §6.1.1): the policies of which a verified path
	// must be valid for one, and whether one is required whatever the CAs
	// say. The zero value is RFC 5280's default: any policy, none
	// required unless a CA's policy constraints say so.
	CertPolicies trust.CertPolicies
	// Names are extra names (DNS names or IP addresses) the peer's leaf
	// may carry instead of the server name, on the client side.
	Names []string
	// ServerName is the name sent in SNI and verified; "" means the host
	// of the dialled address (an IP address is verified against the
	// certificate's IP SANs and sent without SNI). See [trust.ServerName].
	ServerName string

	// CertFile and KeyFile are this endpoint's certificate chain and key
	// in PEM. They are re-read when either file changes on disk; a pair
	// that fails to load leaves the last good one in use.
	CertFile, KeyFile string
	// Certificates are certificates built in code, used when CertFile is
	// empty. A server picks among them by SNI.
	Certificates []tls.Certificate

	// ClientTrust lists the trust sources for client certificates on a
	// server, in the form of Trust. Nil means no client certificate is
	// verified unless RequireClientCert or AllowedClients is set.
	ClientTrust []string
	// RequireClientCert makes a server refuse clients without a
	// certificate (mTLS).
	RequireClientCert bool
	// AllowedClients, when set, is the allow-list of client names (DNS
	// names or IP addresses in the subjectAltName): a client certificate
	// must carry one of them, or it is refused with name.mismatch. An
	// allow-list implies RequireClientCert: a client without a certificate
	// names nobody on the list.
	AllowedClients []string

	// ALPN lists the application protocols offered (client) or accepted
	// (server), most preferred first.
	ALPN []string
	// MinVersion and MaxVersion bound the TLS versions, such as
	// tls.VersionTLS13; zero means TLS 1.2 and TLS 1.3. Versions below TLS
	// 1.2 need Legacy.
	MinVersion, MaxVersion uint16
	// Legacy is the explicit opt-in to the legacy profile: TLS 1.0 and 1.1
	// (with MinVersion) and TLS 1.2 suites without forward secrecy or AEAD
	// (RSA key exchange, CBC). Without it TLS 1.2 uses ECDHE with AES-GCM
	// or ChaCha20-Poly1305 only, and TLS 1.3 its own suites.
	Legacy bool
	// KeyLog, when set, receives the session secrets in NSS key log
	// format (for Wireshark). It makes the traffic decryptable: use it for
	// debugging only.
	KeyLog io.Writer
	// Time returns the time certificates are verified at; nil means
	// time.Now. It is crypto/tls's spelling, and tlskit's everywhere.
	Time func() time.Time
	// SystemRoots loads the roots "system" names; nil means
	// [trust.DefaultSystemRoots].
	SystemRoots func() ([]*x509.Certificate, error)
	// OnReload, when set, is told each time a long-lived config reads its
	// files again after one changed on disk (see [Reload]): the certificate
	// and key files of [Policy.ServerConfig], [Listen] and a client
	// certificate ([Policy.LiveClientCertificate] too), the CRL files of
	// every config, [Dial], [Policy.Transport] and [Policy.LiveVerifier]. A file that no longer reads keeps its last
	// good contents in use (a certificate that will expire, a CRL that will
	// turn stale) and is named in the Reload: without OnReload that goes
	// unsaid until it fails. It is called from the handshake that noticed
	// the change, with the files' lock held, so that reports come in order:
	// it must return promptly.
	OnReload func(Reload)
}

// Reload is a long-lived config's reading again of files that changed on
// disk ([Policy.OnReload]).
type Reload struct {
	// What names the files: [ReloadCertificate] or [ReloadCRL].
	What string
	// Files are the files read again: the certificate and key files, or
	// every CRL file of the policy.
	Files []string
	// Errs has one entry for each of Files: nil where the file read and
	// its contents are in use now, or why it no longer reads, its last
	// good contents staying in use (for a certificate and key that do not
	// load together, both files have the error).
	Errs []error
	// CRLs are, for ReloadCRL, the CRLs in use from now on: those of the
	// files that read, and the last good ones of those that did not.
	CRLs []*trust.CRL
}

// What a [Reload] read again.
const (
	ReloadCertificate = "certificate" // a certificate and its key
	ReloadCRL         = "crl"         // the CRL files
)

// Err returns the files' errors joined, each once; nil when every file
// read.
func (r Reload) Err() error {
	var errs []error
	for _, err := range r.Errs {
		if err != nil && !slices.Contains(errs, err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Failed returns the files that no longer read, in the order of Files.
func (r Reload) Failed() []string {
	var failed []string
	for i, err := range r.Errs {
		if err != nil {
			failed = append(failed, r.Files[i])
		}
	}
	return failed
}

// Validate checks the policy without connecting: the server name can be
// one, every trust source loads and yields a certificate, pins parse,
// versions are consistent, the certificate and key load.
func (p *Policy) Validate() error {
	_, err := p.validated()
	return err
}

// validated is Validate, and returns the policy's client configs, which
// checking it builds: a Transport uses them rather than reading the
// trust sources, CRL files and key pair a second time.
func (p *Policy) validated() (*clientConfigs, error) {
	if p.ServerName != "" {
		if _, err := trust.ServerName("", p.ServerName); err != nil {
			return nil, err
		}
	}
	c, err := p.clients() // the trust sources, pins, CRL files, versions, certificate and key
	if err != nil {
		return nil, err
	}
	if p.needsClientVerifier() {
		if _, err := p.ClientVerifier(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Verifier resolves the policy into the verifier of server chains: its
// trust sources ([trust.LoadAnchors]), pins, depth limit and extra names.
// `tlskit check`, `pcap` and the tunnel client all verify through it.
func (p *Policy) Verifier() (*trust.Verifier, error) {
	v, _, err := p.serverVerifier()
	return v, err
}

// LiveVerifier is [Policy.Verifier] for long-lived use (a monitor, a
// client used for many connections): each call of the function it returns
// gives the verifier with the policy's CRL files as they are on disk now,
// read again when one has changed (files that fail to read keep the last
// good CRLs, and [Policy.OnReload] hears of it). The configs of
// [Policy.ClientConfig] and [Policy.ServerConfig] verify through the same.
// Safe for concurrent use.
func (p *Policy) LiveVerifier() (func() *trust.Verifier, error) {
	v, crlFiles, err := p.serverVerifier()
	if err != nil {
		return nil, err
	}
	return newLiveVerifier(v, crlFiles, p.OnReload).get, nil
}

// serverVerifier is Verifier, with the CRL files' watch as they were read.
func (p *Policy) serverVerifier() (*trust.Verifier, watch, error) {
	v, crlFiles, err := p.verifier(p.Trust, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, watch{}, err
	}
	v.Names = p.Names
	return v, crlFiles, nil
}

// ClientVerifier resolves the policy into the verifier of client chains on
// a server: ClientTrust, the pins, the depth limit, clientAuth usage and
// the AllowedClients allow-list.
func (p *Policy) ClientVerifier() (*trust.Verifier, error) {
	v, _, err := p.clientVerifier()
	return v, err
}

// clientVerifier is ClientVerifier, with the CRL files' watch as they were
// read.
func (p *Policy) clientVerifier() (*trust.Verifier, watch, error) {
	if len(p.ClientTrust) == 0 {
		if len(p.AllowedClients) > 0 {
			return nil, watch{}, errors.New("tlskit: an allow-list of clients needs the CA that issues their certificates: set ClientTrust")
		}
		return nil, watch{}, errors.New("tlskit: client certificates are required but no client trust source is given: set ClientTrust to the CA that issues them")
	}
	v, crlFiles, err := p.verifier(p.ClientTrust, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, watch{}, fmt.Errorf("tlskit: client trust: %w", err)
	}
	for _, n := range p.AllowedClients {
		// A name that is none (empty, not a host name, or emptied by
		// IDNA's mapping) would match no client: refused here, at start,
		// rather than found out when every client is.
		if _, err := trust.ServerName("", n); err != nil {
			return nil, watch{}, fmt.Errorf("tlskit: allowed client %q is not a DNS name or an IP address", n)
		}
	}
	v.Names = p.AllowedClients
	return v, crlFiles, nil
}

// needsClientVerifier reports whether a server verifies client certificates.
func (p *Policy) needsClientVerifier() bool {
	return len(p.ClientTrust) > 0 || p.RequireClientCert || len(p.AllowedClients) > 0
}

// requiresClientCert reports whether a server refuses clients without a
// certificate: RequireClientCert, or an allow-list.
func (p *Policy) requiresClientCert() bool {
	return p.RequireClientCert || len(p.AllowedClients) > 0
}

// verifier resolves sources and the policy's pins and limits for usage;
// it returns the watch of the CRL files as they were read.
func (p *Policy) verifier(sources []string, usage x509.ExtKeyUsage) (*trust.Verifier, watch, error) {
	if p.MaxIntermediates < trust.NoIntermediates {
		return nil, watch{}, fmt.Errorf("tlskit: max intermediates %d: want 0 (no limit), -1 (none) or more", p.MaxIntermediates)
	}
	prof, err := trust.ParseProfile(p.Profile)
	if err != nil {
		return nil, watch{}, err
	}
	crls, crlFiles, err := readCRLFiles(p.CRLFiles)
	if err != nil {
		return nil, watch{}, err
	}
	certPolicies, err := p.certPolicies()
	if err != nil {
		return nil, watch{}, err
	}
	anchors, err := trust.LoadAnchors(sources, "")
	if err != nil {
		return nil, watch{}, err
	}
	anchors.SystemRoots = p.SystemRoots
	v := &trust.Verifier{
		Anchors:          anchors,
		MaxIntermediates: p.MaxIntermediates,
		PinsExpire:       p.PinsExpire,
		Usage:            usage,
		Profile:          prof,
		CRLs:             crls,
		CertPolicies:     certPolicies,
	}
	if p.Fetch {
		v.Fetch = trust.DefaultFetcher()
	}
	for _, s := range p.Pins {
		pin, err := trust.ParsePin(s)
		if err != nil {
			return nil, watch{}, err
		}
		v.Pins = append(v.Pins, pin)
	}
	if len(v.Pins) == 1 && !p.AllowSinglePin {
		return nil, watch{}, errors.New("tlskit: a single pin has no backup: when that key is replaced every connection fails; add the pin of a backup key (or of the issuing CA), or set AllowSinglePin")
	}
	if len(v.Pins) == 0 && !p.PinsExpire.IsZero() {
		return nil, watch{}, errors.New("tlskit: pins expiry set but no pins: give the pins, or drop the expiry")
	}
	return v, crlFiles, nil
}

// certPolicies returns p.CertPolicies with each acceptable policy in
// dotted form, or why one is not an OID.
func (p *Policy) certPolicies() (trust.CertPolicies, error) {
	cp := p.CertPolicies
	cp.Acceptable = nil
	for _, s := range p.CertPolicies.Acceptable {
		oid, err := ParseCertPolicy(s)
		if err != nil {
			return trust.CertPolicies{}, err
		}
		cp.Acceptable = append(cp.Acceptable, oid)
	}
	return cp, nil
}

// ParseCertPolicy parses a certificate policy identifier in dotted form
// ("2.23.140.1.2.1"; anyPolicy is "2.5.29.32.0") and returns it as
// certificates' policies are compared with it.
func ParseCertPolicy(s string) (string, error) {
	oid, err := x509.ParseOID(s)
	if err != nil {
		return "", fmt.Errorf("tlskit: certificate policy %q is not an OID in dotted form, such as 2.23.140.1.2.1", s)
	}
	return oid.String(), nil
}

// readCRLFiles reads CRL files, stamped before they are read; a file
// listed twice is read once.
func readCRLFiles(paths []string) ([]*trust.CRL, watch, error) {
	var once []string
	for _, f := range paths {
		if !slices.Contains(once, f) {
			once = append(once, f)
		}
	}
	paths = once
	files := newWatch(paths...)
	var crls []*trust.CRL
	for _, f := range paths {
		c, err := trust.ReadCRLFile(f)
		if err != nil {
			return nil, watch{}, err
		}
		crls = append(crls, c...)
	}
	return crls, files, nil
}

// ModernCipherSuites returns the TLS 1.2 suites tlskit's library and tunnel
// use unless [Policy.Legacy] is set: ECDHE key exchange (forward secrecy)
// with AES-GCM or ChaCha20-Poly1305 (AEAD). TLS 1.3's suites are not
// configurable in crypto/tls and are all AEAD.
func ModernCipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// versions returns the effective version range.
func (p *Policy) versions() (minV, maxV uint16, err error) {
	minV, maxV = p.MinVersion, p.MaxVersion
	if minV == 0 {
		minV = tls.VersionTLS12
	}
	if maxV == 0 {
		maxV = tls.VersionTLS13
	}
	if minV > maxV {
		return 0, 0, fmt.Errorf("tlskit: minimum version %s is above maximum version %s", tls.VersionName(minV), tls.VersionName(maxV))
	}
	if minV < tls.VersionTLS12 && !p.Legacy {
		return 0, 0, fmt.Errorf("tlskit: %s is deprecated (RFC 8996) and needs the legacy profile: set Legacy to allow it", tls.VersionName(minV))
	}
	return minV, maxV, nil
}

// cipherSuites returns the TLS 1.2 suites of the policy's profile; nil
// means crypto/tls's defaults (the legacy profile).
func (p *Policy) cipherSuites() []uint16 {
	if p.Legacy {
		var all []uint16
		for _, s := range tls.CipherSuites() {
			all = append(all, s.ID)
		}
		return all
	}
	return ModernCipherSuites()
}

// now returns the verification time function.
func (p *Policy) now() func() time.Time {
	if p.Time != nil {
		return p.Time
	}
	return time.Now
}
