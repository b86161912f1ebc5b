package lab

import (
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/tlskit/tlskit/finding"
)

// Case is one server of the lab and what `tlskit check` must say about it.
type Case struct {
	// Name is a short slug such as "expired" or
	// "client-cert-required-tls13". The case's server name is
	// [ServerName](Name).
	Name string
	// Finding is the finding id the case must produce, such as
	// finding.CertExpired; "" for the healthy cases.
	Finding string
	// Title is one line for `tlskit lab --list`.
	Title string
	// Addr is host:port once the lab is started; "" in [Catalog].
	Addr string
	// Client is how a client reaches the case: the name, the lab's root as
	// the only anchor, and what else the case needs. It names files in
	// Options.Dir and keys generated at start, so it is zero in [Catalog].
	Client Client
	// ExitCode is what `tlskit check` must exit with: 0 when the
	// connection is trusted (warnings do not fail), 1 otherwise.
	ExitCode int
	// ChainFile is the chain the server sends, written as PEM to
	// Options.Dir/chains/NAME.pem for `tlskit verify`; "" in [Catalog] and
	// for cases that send no certificate.
	ChainFile string
}

// Client is what a client needs to reproduce a case, as `tlskit check` (or
// any TLS client) would be told: the lab knows nothing of command lines.
type Client struct {
	// ServerName is the name to send as SNI and to verify: the case's
	// [ServerName].
	ServerName string
	// CAFile is the lab's root (Files.Root), to trust instead of the
	// system roots.
	CAFile string
	// Pins are SPKI pins ("sha256/BASE64") the verified chain must match;
	// the pin-mismatch case gives one of a key the chain does not have.
	Pins []string
	// CertFile and KeyFile are the client certificate to present, when
	// the case needs one (the client-cert-rejected cases: badclient.pem).
	CertFile, KeyFile string
	// Timeout, when not zero, is how long to wait for the connection and
	// the handshake (the timeout case: 1s, so that it ends soon).
	Timeout time.Duration
	// MinVersion, when not zero, is the lowest TLS version to offer
	// (crypto/tls constants): the legacy-version case opts in to TLS 1.0.
	MinVersion uint16
	// CRLFiles are CRLs to check revocation against (the revoked case:
	// the Intermediate's, Files.CRL).
	CRLFiles []string
	// Fetch lets the client fetch what the chain points at (the aia-fetch
	// and aia-wrong cases: the lab's PKI server).
	Fetch bool
	// StartTLS, when set, is the protocol of the in-band upgrade that
	// comes before TLS (the starttls cases: "smtp").
	StartTLS string
}

// ServerName returns the SNI name of the case.
func (c Case) ServerName() string { return ServerName(c.Name) }

// Catalog returns the lab's cases without addresses or arguments, in the
// order the lab serves them; for listing without starting the lab.
func Catalog() []Case {
	return []Case{
		{Name: "good", Title: "healthy TLS 1.3 server with a full chain"},
		{Name: "good-tls12", Title: "healthy TLS 1.2 server with a full chain"},
		{Name: "refused", Finding: finding.NetRefused, Title: "nothing listens on the port", ExitCode: 1},
		{Name: "timeout", Finding: finding.NetTimeout, Title: "accepts the connection and never answers", ExitCode: 1},
		{Name: "reset", Finding: finding.NetReset, Title: "reads the ClientHello, then resets the connection", ExitCode: 1},
		{Name: "not-tls-http", Finding: finding.ProtocolNotTLS, Title: "plaintext HTTP/1.1 server answering 400", ExitCode: 1},
		{Name: "not-tls-ssh", Finding: finding.ProtocolNotTLS, Title: "SSH server banner", ExitCode: 1},
		{Name: "not-tls-smtp", Finding: finding.ProtocolNotTLS, Title: "SMTP server greeting (needs STARTTLS)", ExitCode: 1},
		{Name: "version-mismatch", Finding: finding.ProtocolVersionMismatch, Title: "server speaks TLS 1.0-1.1 only", ExitCode: 1},
		{Name: "version-intolerance", Finding: finding.ProtocolVersionIntolerance, Title: "TLS 1.2 server that closes the connection on any hello offering TLS 1.3", ExitCode: 1},
		{Name: "large-hello", Finding: finding.ProtocolHelloRejected, Title: "reads the ClientHello in one read of 1,024 bytes and closes on a larger one (tldr.fail)", ExitCode: 1},
		{Name: "no-shared-cipher", Finding: finding.ProtocolNoSharedCipher, Title: "TLS 1.2 server with only TLS_RSA_WITH_3DES_EDE_CBC_SHA", ExitCode: 1},
		{Name: "legacy-version", Finding: finding.ProtocolDeprecatedVersion, Title: "TLS 1.0 only; the client opts in to TLS 1.0 (works, deprecated)"},
		{Name: "rsa-key-exchange-only", Finding: finding.ProtocolClientUnsupported, Title: "TLS 1.2, RSA key exchange only: Go no longer offers it, OpenSSL does", ExitCode: 1},
		{Name: "pss-key", Finding: finding.ProtocolClientUnsupported, Title: "TLS 1.2, a leaf with an RSA-PSS key: Go cannot use it, OpenSSL can", ExitCode: 1},
		{Name: "unrecognized-name", Finding: finding.SNIUnrecognizedName, Title: "server rejects the SNI name with unrecognized_name", ExitCode: 1},
		{Name: "unknown-name-go", Finding: finding.SNIUnrecognizedName, Title: "Go server (as Caddy, Traefik) without a certificate for the name: internal_error", ExitCode: 1},
		{Name: "expired", Finding: finding.CertExpired, Title: "leaf expired 30 days ago", ExitCode: 1},
		{Name: "not-yet-valid", Finding: finding.CertNotYetValid, Title: "leaf valid only from 30 days from now", ExitCode: 1},
		{Name: "expiring-soon", Finding: finding.CertExpiringSoon, Title: "valid leaf that expires in 10 days (still trusted)"},
		{Name: "self-signed", Finding: finding.CertSelfSigned, Title: "self-signed leaf", ExitCode: 1},
		{Name: "weak-key", Finding: finding.CertWeakKey, Title: "leaf with a 1024-bit RSA key", ExitCode: 1},
		{Name: "weak-signature", Finding: finding.CertWeakSignature, Title: "leaf signed with sha1WithRSAEncryption", ExitCode: 1},
		{Name: "wrong-eku", Finding: finding.CertWrongEKU, Title: "leaf for clientAuth only", ExitCode: 1},
		{Name: "name-mismatch", Finding: finding.NameMismatch, Title: "valid leaf for another name", ExitCode: 1},
		{Name: "chain-incomplete", Finding: finding.ChainIncomplete, Title: "leaf sent without its intermediate (AIA points at it)", ExitCode: 1},
		{Name: "untrusted-root", Finding: finding.ChainUntrustedRoot, Title: "chain ends at a root the client does not trust", ExitCode: 1},
		{Name: "wrong-order", Finding: finding.ChainWrongOrder, Title: "two intermediates sent in the wrong order (still verifies)"},
		{Name: "expired-cross-sign", Finding: finding.ChainExpiredCross, Title: "chain includes an expired cross-sign of the root (still verifies)"},
		{Name: "pin-mismatch", Finding: finding.PinMismatch, Title: "healthy server checked against a pin of another key", ExitCode: 1},
		{Name: "client-cert-required-tls12", Finding: finding.ClientCertRequired, Title: "TLS 1.2 server requires a client certificate", ExitCode: 1},
		{Name: "client-cert-required-tls13", Finding: finding.ClientCertRequired, Title: "TLS 1.3 server requires a client certificate", ExitCode: 1},
		{Name: "client-cert-rejected-tls12", Finding: finding.ClientCertRejected, Title: "TLS 1.2 server rejects a client certificate from an unknown CA", ExitCode: 1},
		{Name: "client-cert-rejected-tls13", Finding: finding.ClientCertRejected, Title: "TLS 1.3 server rejects a client certificate from an unknown CA", ExitCode: 1},
		{Name: "revoked", Finding: finding.CertRevoked, Title: "leaf on its issuer's CRL (the client checks intermediate.crl)", ExitCode: 1},
		{Name: "crl-stale", Finding: finding.CRLInvalid, Title: "healthy server; the client's CRL is past its next update (it checks intermediate-stale.crl, which nobody refreshed)", ExitCode: 1},
		{Name: "ocsp-good", Finding: finding.OCSPStapled, Title: "healthy server stapling a good OCSP response"},
		{Name: "ocsp-revoked", Finding: finding.CertRevoked, Title: "server staples an OCSP response saying its leaf is revoked", ExitCode: 1},
		{Name: "ocsp-stale", Finding: finding.OCSPInvalid, Title: "server staples an OCSP response that expired yesterday", ExitCode: 1},
		{Name: "must-staple", Finding: finding.OCSPMustStaple, Title: "must-staple leaf, and the server staples nothing", ExitCode: 1},
		{Name: "aia-fetch", Finding: finding.ChainIncomplete, Title: "leaf alone; its AIA URL (the lab's PKI server) serves the intermediate (the client fetches)", ExitCode: 1},
		{Name: "aia-wrong", Finding: finding.ChainIncomplete, Title: "leaf alone; its AIA URL serves another CA's certificate (the client fetches)", ExitCode: 1},
		{Name: "name-constraints", Finding: finding.ChainNameConstraints, Title: "intermediate constrained to other.lab.tlskit.test issues this name", ExitCode: 1},
		{Name: "policy-required", Finding: finding.ChainPolicy, Title: "intermediate requiring an explicit certificate policy (requireExplicitPolicy 0) issues a leaf without one", ExitCode: 1},
		{Name: "serial-zero", Finding: finding.CertNonconforming, Title: "leaf with serial number 0 (RFC 5280 forbids it; OpenSSL, GnuTLS, Go and curl accept it)", ExitCode: 1},
		{Name: "hrr-client-cert-required", Finding: finding.ClientCertRequired, Title: "TLS 1.3 server that asks for another key share (HelloRetryRequest, P-384 only), then requires a client certificate", ExitCode: 1},
		{Name: "starttls-good", Title: "SMTP server upgrading with STARTTLS to a healthy TLS 1.3 session"},
		{Name: "starttls-not-offered", Finding: finding.StartTLSNotOffered, Title: "SMTP server whose EHLO reply lists no STARTTLS", ExitCode: 1},
		{Name: "starttls-refused", Finding: finding.StartTLSRefused, Title: "SMTP server offering STARTTLS and answering it with 454", ExitCode: 1},
		{Name: "starttls-expired", Finding: finding.CertExpired, Title: "SMTP server with an expired certificate behind STARTTLS", ExitCode: 1},
		{Name: "starttls-pipelined", Finding: finding.StartTLSPlaintext, Title: "SMTP server sending plaintext after its STARTTLS go-ahead", ExitCode: 1},
	}
}

// caseServer is what [buildCase] decides for one case: the handler to serve
// it with (nil for the refused case, which has no server) and what its
// client needs beyond the name and the root.
type caseServer struct {
	handle handler
	client Client
	chain  [][]byte // the certificates the server sends, for Case.ChainFile
}

// buildCase generates the certificates and configuration of one case.
func buildCase(name string, p *PKI, f Files, ps *pkiServer, logf func(string, ...any)) (caseServer, error) {
	sn := ServerName(name)
	now := p.Now
	leaf := func(o LeafOptions) (tls.Certificate, error) {
		if o.DNSNames == nil {
			o.DNSNames = []string{sn}
		}
		return p.Leaf(o)
	}
	serve := func(cert tls.Certificate, err error) (caseServer, error) {
		if err != nil {
			return caseServer{}, err
		}
		return caseServer{handle: tlsHandler(name, &tls.Config{Certificates: []tls.Certificate{cert}}, logf), chain: cert.Certificate}, nil
	}
	stapled := func(status int, this, next time.Time) (caseServer, error) {
		cert, err := leaf(LeafOptions{})
		if err != nil {
			return caseServer{}, err
		}
		if cert.OCSPStaple, err = staple(p, cert.Leaf, status, this, next); err != nil {
			return caseServer{}, err
		}
		return serve(cert, nil)
	}
	clientAuth := func(vers uint16, curves ...tls.CurveID) (caseServer, error) {
		cert, err := leaf(LeafOptions{})
		if err != nil {
			return caseServer{}, err
		}
		pool := x509.NewCertPool()
		pool.AddCert(p.ClientCA)
		cfg := &tls.Config{
			Certificates: []tls.Certificate{cert},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    pool,
			MinVersion:   vers,
			MaxVersion:   vers,
			// Without curves, crypto/tls's defaults.
			CurvePreferences: curves,
		}
		return caseServer{handle: tlsHandler(name, cfg, logf), chain: cert.Certificate}, nil
	}
	rejected := func(vers uint16) (caseServer, error) {
		cs, err := clientAuth(vers)
		cs.client.CertFile, cs.client.KeyFile = f.BadClientCert, f.BadClientKey
		return cs, err
	}

	switch name {
	case "good", "pin-mismatch":
		cs, err := serve(leaf(LeafOptions{}))
		if err != nil {
			return cs, err
		}
		if name == "pin-mismatch" {
			pin, err := Pin(p.OtherRoot.PublicKey)
			if err != nil {
				return cs, err
			}
			cs.client.Pins = []string{pin}
		}
		return cs, nil
	case "good-tls12":
		cert, err := leaf(LeafOptions{})
		if err != nil {
			return caseServer{}, err
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12}
		return caseServer{handle: tlsHandler(name, cfg, logf), chain: cert.Certificate}, nil
	case "refused":
		return caseServer{}, nil
	case "timeout":
		return caseServer{handle: silent, client: Client{Timeout: time.Second}}, nil
	case "reset":
		return caseServer{handle: reset}, nil
	case "not-tls-http":
		return caseServer{handle: plaintextHTTP}, nil
	case "not-tls-ssh":
		return caseServer{handle: greeter(sshBanner)}, nil
	case "not-tls-smtp":
		return caseServer{handle: greeter(smtpGreeting)}, nil
	case "unknown-name-go":
		// A certificate for another name, served without SNI too; any
		// other name gets GetCertificate's error, which crypto/tls sends
		// as internal_error (Caddy and Traefik answer unknown names so).
		cert, err := leaf(LeafOptions{DNSNames: []string{"other." + Domain}})
		if err != nil {
			return caseServer{}, err
		}
		cfg := &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if h.ServerName == "" || h.ServerName == "other."+Domain {
				return &cert, nil
			}
			return nil, fmt.Errorf("no certificate for %q", h.ServerName)
		}}
		return caseServer{handle: tlsHandler(name, cfg, logf), chain: cert.Certificate}, nil
	case "unrecognized-name":
		return caseServer{handle: unrecognizedName}, nil
	case "version-mismatch":
		cert, err := leaf(LeafOptions{})
		if err != nil {
			return caseServer{}, err
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
		return caseServer{handle: tlsHandler(name, cfg, logf), chain: cert.Certificate}, nil
	case "version-intolerance":
		cert, err := leaf(LeafOptions{})
		if err != nil {
			return caseServer{}, err
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12}
		return caseServer{handle: versionIntolerant(tlsHandler(name, cfg, logf)), chain: cert.Certificate}, nil
	case "large-hello":
		cert, err := leaf(LeafOptions{})
		if err != nil {
			return caseServer{}, err
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
		return caseServer{handle: smallReads(1024, tlsHandler(name, cfg, logf)), chain: cert.Certificate}, nil
	case "no-shared-cipher":
		// No client offers 3DES by default any more (Go since 1.23,
		// OpenSSL since 1.1.0), and TLS 1.2 lets the server pick only
		// from the list, so the server answers handshake_failure (40).
		cert, err := leaf(LeafOptions{KeyType: RSA})
		if err != nil {
			return caseServer{}, err
		}
		cfg := &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			MaxVersion:   tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA},
		}
		return caseServer{handle: tlsHandler(name, cfg, logf), chain: cert.Certificate}, nil
	case "legacy-version":
		cert, err := leaf(LeafOptions{})
		if err != nil {
			return caseServer{}, err
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}
		return caseServer{handle: tlsHandler(name, cfg, logf), client: Client{MinVersion: tls.VersionTLS10}, chain: cert.Certificate}, nil
	case "rsa-key-exchange-only":
		// crypto/tls serves RSA key exchange when told to, though its
		// clients no longer offer it (Go 1.22).
		cert, err := leaf(LeafOptions{KeyType: RSA})
		if err != nil {
			return caseServer{}, err
		}
		cfg := &tls.Config{
			Certificates: []tls.Certificate{cert},
			MaxVersion:   tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384},
		}
		return caseServer{handle: tlsHandler(name, cfg, logf), chain: cert.Certificate}, nil
	case "pss-key":
		cert, err := leaf(LeafOptions{KeyType: RSA, PSSKey: true})
		if err != nil {
			return caseServer{}, err
		}
		key, ok := cert.PrivateKey.(*rsa.PrivateKey)
		if !ok {
			return caseServer{}, fmt.Errorf("lab: pss-key: key %T", cert.PrivateKey)
		}
		return caseServer{handle: pssServer(cert.Certificate, key), chain: cert.Certificate}, nil
	case "expired":
		return serve(leaf(LeafOptions{NotBefore: now.AddDate(0, 0, -120), NotAfter: now.AddDate(0, 0, -30)}))
	case "not-yet-valid":
		return serve(leaf(LeafOptions{NotBefore: now.AddDate(0, 0, 30), NotAfter: now.AddDate(0, 0, 120)}))
	case "expiring-soon":
		return serve(leaf(LeafOptions{NotBefore: now.AddDate(0, 0, -80), NotAfter: now.AddDate(0, 0, 10)}))
	case "self-signed":
		return serve(leaf(LeafOptions{SelfSigned: true}))
	case "weak-key":
		return serve(leaf(LeafOptions{KeyType: RSA, RSABits: 1024}))
	case "weak-signature":
		return serve(leaf(LeafOptions{Issuer: p.RSAIntermediate, IssuerKey: p.RSAIntermediateKey, SignatureAlgorithm: x509.SHA1WithRSA}))
	case "wrong-eku":
		return serve(leaf(LeafOptions{EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}))
	case "name-mismatch":
		return serve(leaf(LeafOptions{DNSNames: []string{"elsewhere." + Domain}}))
	case "chain-incomplete":
		cert, err := leaf(LeafOptions{AIA: []string{AIAURL}})
		cert.Certificate = cert.Certificate[:1]
		return serve(cert, err)
	case "untrusted-root":
		// The server sends the other root too, so a client can see the
		// chain is complete and ends at a root it does not trust (rather
		// than at a missing intermediate).
		cert, err := leaf(LeafOptions{Issuer: p.OtherRoot, IssuerKey: p.OtherRootKey})
		if err == nil {
			cert.Certificate = append(cert.Certificate, p.OtherRoot.Raw)
		}
		return serve(cert, err)
	case "wrong-order":
		// Root → Intermediate → Sub-intermediate → leaf, sent as
		// leaf, Intermediate, Sub-intermediate (RFC 8446, Section 4.4.2
		// wants each certificate to certify the one before it).
		sub, subKey, err := newCA(caName("tlskit Lab Sub-Intermediate CA"), p.Intermediate, p.IntermediateKey, ECDSAP256, p.Intermediate.NotBefore, p.Intermediate.NotAfter)
		if err != nil {
			return caseServer{}, err
		}
		cert, err := leaf(LeafOptions{Issuer: sub, IssuerKey: subKey})
		if err == nil {
			cert.Certificate = [][]byte{cert.Certificate[0], p.Intermediate.Raw, sub.Raw}
		}
		return serve(cert, err)
	case "expired-cross-sign":
		cross, err := expiredCrossSign(p)
		if err != nil {
			return caseServer{}, err
		}
		cert, err := leaf(LeafOptions{})
		if err == nil {
			cert.Certificate = append(cert.Certificate, cross.Raw)
		}
		return serve(cert, err)
	case "client-cert-required-tls12":
		return clientAuth(tls.VersionTLS12)
	case "client-cert-required-tls13":
		return clientAuth(tls.VersionTLS13)
	case "client-cert-rejected-tls12":
		return rejected(tls.VersionTLS12)
	case "client-cert-rejected-tls13":
		return rejected(tls.VersionTLS13)
	case "revoked":
		cs, err := serve(ps.revoked, nil)
		cs.client.CRLFiles = []string{f.CRL}
		return cs, err
	case "crl-stale":
		cs, err := serve(leaf(LeafOptions{}))
		cs.client.CRLFiles = []string{f.StaleCRL}
		return cs, err
	case "ocsp-good":
		return stapled(ocsp.Good, now.Add(-time.Hour), now.AddDate(0, 0, 3))
	case "ocsp-revoked":
		return stapled(ocsp.Revoked, now.Add(-time.Hour), now.AddDate(0, 0, 3))
	case "ocsp-stale":
		return stapled(ocsp.Good, now.AddDate(0, 0, -4), now.AddDate(0, 0, -1))
	case "must-staple":
		return serve(leaf(LeafOptions{MustStaple: true}))
	case "aia-fetch", "aia-wrong":
		path := PathIntermediate
		if name == "aia-wrong" {
			path = PathWrongIssuer
		}
		cert, err := leaf(LeafOptions{AIA: []string{ps.base + path}})
		cert.Certificate = cert.Certificate[:1]
		cs, err := serve(cert, err)
		cs.client.Fetch = true
		return cs, err
	case "serial-zero":
		return serve(leaf(LeafOptions{Serial: new(big.Int)}))
	case "name-constraints":
		ca, caKey, err := ncCA(p, "other."+Domain)
		if err != nil {
			return caseServer{}, err
		}
		return serve(leaf(LeafOptions{Issuer: ca, IssuerKey: caKey}))
	case "policy-required":
		ca, caKey, err := policyCA(p)
		if err != nil {
			return caseServer{}, err
		}
		return serve(leaf(LeafOptions{Issuer: ca, IssuerKey: caKey}))
	case "hrr-client-cert-required":
		// P-384 only: clients offering X25519 (and X25519MLKEM768) key
		// shares get a HelloRetryRequest first (RFC 8446 §4.1.4).
		return clientAuth(tls.VersionTLS13, tls.CurveP384)
	case "starttls-good", "starttls-not-offered", "starttls-refused", "starttls-expired", "starttls-pipelined":
		o := LeafOptions{}
		if name == "starttls-expired" {
			o = LeafOptions{NotBefore: now.AddDate(0, 0, -120), NotAfter: now.AddDate(0, 0, -30)}
		}
		cert, err := leaf(o)
		if err != nil {
			return caseServer{}, err
		}
		srv := smtpServer{name: name, offer: name != "starttls-not-offered", logf: logf,
			cfg: &tls.Config{Certificates: []tls.Certificate{cert}}}
		switch name {
		case "starttls-refused":
			srv.refuse = "454 4.7.0 TLS not available due to local problem"
		case "starttls-pipelined":
			srv.pipeline = "250 2.1.0 Ok, sent before TLS\r\n"
		}
		return caseServer{handle: srv.handle, client: Client{StartTLS: "smtp"}, chain: cert.Certificate}, nil
	}
	return caseServer{}, fmt.Errorf("lab: no server for case %q", name)
}

// expiredCrossSign issues a certificate for the Root's name and key from a
// fresh "Old Root", expired a year ago: the shape of a legacy cross-sign a
// server keeps sending after it lapsed (Let's Encrypt's DST Root CA X3
// cross-sign of ISRG Root X1 is the famous one).
func expiredCrossSign(p *PKI) (*x509.Certificate, error) {
	from := p.Now.AddDate(-10, 0, 0)
	oldRoot, oldKey, err := newCA(caName("tlskit Lab Old Root CA"), nil, nil, ECDSAP256, from, p.Now.AddDate(-1, 0, 0))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		RawSubject:            p.Root.RawSubject,
		NotBefore:             from,
		NotAfter:              p.Now.AddDate(-1, 0, 0).Add(-time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	cross, err := issue(tmpl, p.RootKey.Public(), oldRoot, oldKey, nil)
	if err != nil {
		return nil, fmt.Errorf("lab: issuing the cross-sign: %w", err)
	}
	if string(cross.RawSubject) != string(p.Root.RawSubject) {
		return nil, fmt.Errorf("lab: cross-sign subject %q differs from the root's %q", cross.Subject, p.Root.Subject)
	}
	return cross, nil
}
