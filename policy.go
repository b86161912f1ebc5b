package tlskit

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tlskit/tlskit/trust"
)

// VerifyError is the error a handshake fails with when the peer's chain does
// not satisfy the policy. It is [trust.VerifyError]: its ID is a finding id
// (the same ids `tlskit check` prints), Findings explains every problem and
// Chain is the chain the peer sent. Use errors.As with a *VerifyError.
type VerifyError = trust.VerifyError

// Policy is what a TLS endpoint trusts and presents. The zero value is not
// usable: a Policy must name at least one trust source (see [Policy.Trust]).
// A Policy is read, never modified, by the configs built from it; build new
// configs after changing it.
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
	// anchor; 0 means no limit.
	MaxIntermediates int
	// Names are extra names (DNS names or IP addresses) the peer's leaf
	// may carry instead of the server name, on the client side.
	Names []string
	// ServerName is the name sent in SNI and verified when the caller
	// gives none; "" means the host of the dialled address.
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
	// verified unless RequireClientCert is set.
	ClientTrust []string
	// RequireClientCert makes a server refuse clients without a
	// certificate (mTLS).
	RequireClientCert bool
	// AllowedClients, when set, is the allow-list of client names (DNS
	// names or IP addresses in the subjectAltName): a client certificate
	// must carry one of them, or it is refused with name.mismatch.
	AllowedClients []string

	// ALPN lists the application protocols offered (client) or accepted
	// (server), most preferred first.
	ALPN []string
	// MinVersion is the lowest TLS version, such as tls.VersionTLS13;
	// zero means TLS 1.2.
	MinVersion uint16
	// KeyLog, when set, receives the session secrets in NSS key log
	// format (for Wireshark). It makes the traffic decryptable: use it for
	// debugging only.
	KeyLog io.Writer
	// Time returns the verification time; nil means time.Now.
	Time func() time.Time
	// SystemRoots loads the roots "system" names; nil means
	// [trust.DefaultSystemRoots].
	SystemRoots func() ([]*x509.Certificate, error)
}

// Validate checks the policy without connecting: every trust source loads
// and yields a certificate, pins parse, the certificate and key load.
func (p *Policy) Validate() error {
	if _, err := p.trustPolicy(p.Trust, x509.ExtKeyUsageServerAuth); err != nil {
		return err
	}
	if len(p.ClientTrust) > 0 || p.RequireClientCert {
		if _, err := p.clientPolicy(); err != nil {
			return err
		}
	}
	if p.CertFile != "" || p.KeyFile != "" {
		if _, err := loadKeyPair(p.CertFile, p.KeyFile); err != nil {
			return err
		}
	}
	return nil
}

// trustPolicy resolves sources and the policy's pins and limits into a
// trust.Policy for the given usage.
func (p *Policy) trustPolicy(sources []string, usage x509.ExtKeyUsage) (*trust.Policy, error) {
	tp := &trust.Policy{
		MaxIntermediates: p.MaxIntermediates,
		PinsExpire:       p.PinsExpire,
		Usage:            usage,
		SystemRoots:      p.SystemRoots,
	}
	if p.MaxIntermediates < 0 {
		return nil, fmt.Errorf("tlskit: max intermediates %d: want 0 (no limit) or more", p.MaxIntermediates)
	}
	if len(sources) == 0 {
		return nil, errors.New(`tlskit: no trust sources: an empty set trusts nothing; list "system" for the system roots, or your CA with "file:PATH"`)
	}
	for _, src := range sources {
		kind, arg, _ := strings.Cut(src, ":")
		var (
			certs []*x509.Certificate
			err   error
		)
		switch kind {
		case "system":
			if arg != "" {
				return nil, fmt.Errorf("tlskit: trust source %q: \"system\" takes no argument", src)
			}
			tp.System = true
			continue
		case "file":
			certs, err = trust.LoadCertificatesFile(arg)
		case "dir":
			certs, err = loadDir(arg)
		case "pem":
			certs, err = trust.ParseCertificatesPEM([]byte(arg), "inline PEM")
			arg = "inline PEM"
		default:
			hint := ""
			if _, statErr := os.Stat(src); statErr == nil {
				hint = fmt.Sprintf(" (to trust that file, write \"file:%s\")", src)
			}
			return nil, fmt.Errorf("tlskit: trust source %q: want \"system\", \"file:PATH\", \"dir:PATH\" or \"pem:PEM\"%s", clip(src), hint)
		}
		if err != nil {
			return nil, fmt.Errorf("tlskit: trust source %q: %w", clip(src), err)
		}
		if len(certs) == 0 {
			return nil, fmt.Errorf("tlskit: trust source %q holds no certificate", clip(src))
		}
		tp.Roots = append(tp.Roots, certs...)
		tp.RootSources = append(tp.RootSources, arg)
	}
	for _, s := range p.Pins {
		pin, err := trust.ParsePin(s)
		if err != nil {
			return nil, fmt.Errorf("tlskit: %w", err)
		}
		tp.Pins = append(tp.Pins, pin)
	}
	if len(tp.Pins) == 1 && !p.AllowSinglePin {
		return nil, errors.New("tlskit: a single pin has no backup: when that key is replaced every connection fails; add the pin of a backup key (or of the issuing CA), or set AllowSinglePin")
	}
	if len(tp.Pins) == 0 && !p.PinsExpire.IsZero() {
		return nil, errors.New("tlskit: pins expiry set but no pins: give the pins, or drop the expiry")
	}
	return tp, nil
}

// clientPolicy is the trust.Policy for client certificates on a server.
func (p *Policy) clientPolicy() (*trust.Policy, error) {
	src := p.ClientTrust
	if len(src) == 0 {
		return nil, errors.New("tlskit: client certificates are required but no client trust source is given: set ClientTrust (--client-ca) to the CA that issues them")
	}
	tp, err := p.trustPolicy(src, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, fmt.Errorf("%w (client trust)", err)
	}
	tp.Names = p.AllowedClients
	return tp, nil
}

// loadDir loads every certificate file in dir.
func loadDir(dir string) ([]*x509.Certificate, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all []*x509.Certificate
	for _, e := range ents {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".pem", ".crt", ".cer":
		default:
			continue
		}
		certs, err := trust.LoadCertificatesFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		all = append(all, certs...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no .pem, .crt or .cer certificate file in %s", dir)
	}
	return all, nil
}

// clip shortens user input quoted in an error message.
func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// now returns the verification time function.
func (p *Policy) now() func() time.Time {
	if p.Time != nil {
		return p.Time
	}
	return time.Now
}

// minVersion returns the effective minimum version.
func (p *Policy) minVersion() uint16 {
	if p.MinVersion == 0 {
		return tls.VersionTLS12
	}
	return p.MinVersion
}
