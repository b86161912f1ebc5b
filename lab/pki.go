package lab

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Domain is the DNS suffix of every name the lab uses. Each case serves a
// leaf for <case name>.lab.tlskit.test and is reached with that name in SNI.
// The suffix is under the reserved .test TLD (RFC 6761), so none of these
// names resolve on a real network.
const Domain = "lab.tlskit.test"

// ServerName returns the name the case called name is reached with, such as
// "expired.lab.tlskit.test".
func ServerName(name string) string { return name + "." + Domain }

// AIAURL is the caIssuers URL written into leaves that omit their
// intermediate (the chain-incomplete case). Nothing serves it: the point is
// that a client can see where the missing certificate would have come from.
const AIAURL = "http://pki." + Domain + "/intermediate.crt"

// KeyType selects the key algorithm of a generated leaf.
type KeyType int

// The key types. The zero value is ECDSA P-256, which is fast to generate.
const (
	// ECDSAP256 is an ECDSA key on NIST P-256.
	ECDSAP256 KeyType = iota
	// RSA is an RSA key of LeafOptions.RSABits bits (2048 if zero).
	RSA
)

// PKI is a throw-away test PKI, generated in memory by [NewPKI]. Keys are
// ECDSA P-256 for speed, except the RSA intermediate that signs the SHA-1
// leaf. Validity periods are relative to the time given to NewPKI. Nothing
// touches the disk until [PKI.WriteFiles].
//
// The trust picture is:
//
//	Root ──► Intermediate ──► (most leaves)
//	 │  └──► RSAIntermediate ──► (the SHA-1 leaf)
//	ClientCA ──► Client             the client certificate servers accept
//	OtherRoot ──► BadClient         a root nobody trusts, and its client
//
// A client that trusts only Root (root.pem) must accept exactly the leaves
// meant to be good.
type PKI struct {
	// Now is the time the PKI was generated for; validity periods are
	// computed from it.
	Now time.Time

	// Root is the lab's trust anchor, written to root.pem.
	Root    *x509.Certificate
	RootKey crypto.Signer
	// Intermediate is issued by Root and issues the leaves by default.
	Intermediate    *x509.Certificate
	IntermediateKey crypto.Signer
	// RSAIntermediate is an RSA-2048 intermediate issued by Root. It exists
	// because a sha1WithRSAEncryption signature needs an RSA issuer.
	RSAIntermediate    *x509.Certificate
	RSAIntermediateKey crypto.Signer

	// OtherRoot is a self-signed root that no client or server of the lab
	// trusts.
	OtherRoot    *x509.Certificate
	OtherRootKey crypto.Signer

	// ClientCA is the root the client-certificate servers accept, and whose
	// name they list in their CertificateRequest.
	ClientCA    *x509.Certificate
	ClientCAKey crypto.Signer
	// Client is a client certificate (clientAuth) issued by ClientCA.
	Client tls.Certificate
	// BadClient is a client certificate issued by OtherRoot, which the
	// servers do not trust.
	BadClient tls.Certificate
}

// LeafOptions describes a leaf for [PKI.Leaf]. The zero value (plus
// DNSNames) is a healthy server certificate: ECDSA P-256, serverAuth, valid
// from an hour before PKI.Now for 90 days, issued by the Intermediate.
type LeafOptions struct {
	// CommonName is the subject CN; it defaults to the first DNS name.
	CommonName string
	// DNSNames and IPs are the subject alternative names.
	DNSNames []string
	IPs      []net.IP
	// NotBefore and NotAfter bound the validity; zero values mean
	// PKI.Now-1h and NotBefore+90 days.
	NotBefore, NotAfter time.Time
	// Issuer and IssuerKey sign the leaf; nil means the Intermediate.
	Issuer    *x509.Certificate
	IssuerKey crypto.Signer
	// SelfSigned makes the leaf sign itself, ignoring Issuer.
	SelfSigned bool
	// KeyType and RSABits choose the leaf's key.
	KeyType KeyType
	RSABits int
	// SignatureAlgorithm is the issuer's signature algorithm; zero lets
	// crypto/x509 choose. x509.SHA1WithRSA is supported (crypto/x509
	// refuses to create it) when the issuer key is RSA.
	SignatureAlgorithm x509.SignatureAlgorithm
	// EKU is the extended key usage; nil means serverAuth.
	EKU []x509.ExtKeyUsage
	// AIA is the caIssuers URL list of the Authority Information Access
	// extension.
	AIA []string
	// PSSKey makes the leaf's key (RSA) an RSA-PSS key: its
	// SubjectPublicKeyInfo names id-RSASSA-PSS, as `openssl req -newkey
	// rsa-pss` does, so it signs only with the rsa_pss_pss_* schemes.
	// crypto/tls can serve no such certificate; the lab's pss-key server
	// does.
	PSSKey bool
	// CRLDistributionPoints are the leaf's CRL URLs.
	CRLDistributionPoints []string
	// MustStaple adds the TLS feature extension with status_request
	// (RFC 7633): the server promises to staple an OCSP response.
	MustStaple bool
	// Serial is the serial number; nil means a random one.
	Serial *big.Int
}

// NewPKI generates a PKI whose validity periods are relative to now.
func NewPKI(now time.Time) (*PKI, error) {
	p := &PKI{Now: now}
	var err error
	caFrom, caTo := now.Add(-24*time.Hour), now.AddDate(10, 0, 0)

	if p.Root, p.RootKey, err = newCA(caName("tlskit Lab Root CA"), nil, nil, ECDSAP256, caFrom, caTo); err != nil {
		return nil, err
	}
	if p.Intermediate, p.IntermediateKey, err = newCA(caName("tlskit Lab Intermediate CA"), p.Root, p.RootKey, ECDSAP256, caFrom, caTo); err != nil {
		return nil, err
	}
	if p.RSAIntermediate, p.RSAIntermediateKey, err = newCA(caName("tlskit Lab RSA Intermediate CA"), p.Root, p.RootKey, RSA, caFrom, caTo); err != nil {
		return nil, err
	}
	if p.OtherRoot, p.OtherRootKey, err = newCA(caName("tlskit Lab Other Root CA (untrusted)"), nil, nil, ECDSAP256, caFrom, caTo); err != nil {
		return nil, err
	}
	if p.ClientCA, p.ClientCAKey, err = newCA(caName("tlskit Lab Client CA"), nil, nil, ECDSAP256, caFrom, caTo); err != nil {
		return nil, err
	}
	clientEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if p.Client, err = p.Leaf(LeafOptions{CommonName: "lab client", Issuer: p.ClientCA, IssuerKey: p.ClientCAKey, EKU: clientEKU}); err != nil {
		return nil, err
	}
	if p.BadClient, err = p.Leaf(LeafOptions{CommonName: "lab bad client", Issuer: p.OtherRoot, IssuerKey: p.OtherRootKey, EKU: clientEKU}); err != nil {
		return nil, err
	}
	return p, nil
}

// caName is the subject of a lab CA.
func caName(cn string) pkix.Name {
	return pkix.Name{Organization: []string{"tlskit lab"}, CommonName: cn}
}

// newCA issues a CA certificate; a nil parent makes it self-signed.
func newCA(name pkix.Name, parent *x509.Certificate, parentKey crypto.Signer, kt KeyType, from, to time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := newKey(kt, 2048)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		Subject:               name,
		NotBefore:             from,
		NotAfter:              to,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	cert, err := issue(tmpl, key.Public(), parent, parentKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("lab: issuing CA %q: %w", name.CommonName, err)
	}
	return cert, key, nil
}

// newKey generates a key of the given type.
func newKey(kt KeyType, rsaBits int) (crypto.Signer, error) {
	switch kt {
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA:
		if rsaBits == 0 {
			rsaBits = 2048
		}
		return rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		return nil, fmt.Errorf("lab: unknown key type %d", kt)
	}
}

// issue signs tmpl for pub with parent/parentKey, or self-signs with selfKey
// when parent is nil. It fills in the serial number (unless set) and the
// subject key id.
func issue(tmpl *x509.Certificate, pub crypto.PublicKey, parent *x509.Certificate, parentKey, selfKey crypto.Signer) (*x509.Certificate, error) {
	if tmpl.SerialNumber == nil {
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		if err != nil {
			return nil, err
		}
		tmpl.SerialNumber = serial
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	ski := sha1.Sum(spki) // RFC 5280, Section 4.2.1.2, method (1)-like: an id, not a security property
	tmpl.SubjectKeyId = ski[:]
	if parent == nil {
		parent, parentKey = tmpl, selfKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// Leaf issues an end-entity certificate and returns it ready to serve: the
// chain holds the leaf, then its issuer when the issuer is not a
// self-signed root (so a leaf from the Intermediate comes with the
// Intermediate). Callers that want another chain rearrange
// tls.Certificate.Certificate.
func (p *PKI) Leaf(opts LeafOptions) (tls.Certificate, error) {
	key, err := newKey(opts.KeyType, opts.RSABits)
	if err != nil {
		return tls.Certificate{}, err
	}
	notBefore, notAfter := opts.NotBefore, opts.NotAfter
	if notBefore.IsZero() {
		notBefore = p.Now.Add(-time.Hour)
	}
	if notAfter.IsZero() {
		notAfter = notBefore.AddDate(0, 0, 90)
	}
	cn := opts.CommonName
	if cn == "" && len(opts.DNSNames) > 0 {
		cn = opts.DNSNames[0]
	}
	eku := opts.EKU
	if eku == nil {
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	ku := x509.KeyUsageDigitalSignature
	if opts.KeyType == RSA {
		ku |= x509.KeyUsageKeyEncipherment // TLS 1.2 RSA key exchange
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"tlskit lab"}, CommonName: cn},
		DNSNames:              opts.DNSNames,
		IPAddresses:           opts.IPs,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              ku,
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true,
		IssuingCertificateURL: opts.AIA,
		CRLDistributionPoints: opts.CRLDistributionPoints,
		SerialNumber:          opts.Serial,
	}
	if opts.MustStaple {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, mustStapleExt())
	}
	issuer, issuerKey := opts.Issuer, opts.IssuerKey
	if issuer == nil {
		issuer, issuerKey = p.Intermediate, p.IntermediateKey
	}
	if opts.SelfSigned {
		issuer, issuerKey = nil, nil
	}
	sha1RSA := opts.SignatureAlgorithm == x509.SHA1WithRSA
	var sha1Key *rsa.PrivateKey
	if sha1RSA {
		signer := issuerKey
		if issuer == nil {
			signer = key
		}
		var ok bool
		if sha1Key, ok = signer.(*rsa.PrivateKey); !ok {
			return tls.Certificate{}, fmt.Errorf("lab: leaf %q: SHA1WithRSA needs an RSA issuer key, not %T", cn, signer)
		}
		tmpl.SignatureAlgorithm = x509.SHA256WithRSA // swapped for SHA-1 below
	} else {
		tmpl.SignatureAlgorithm = opts.SignatureAlgorithm
	}
	cert, err := issue(tmpl, key.Public(), issuer, issuerKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("lab: issuing leaf %q: %w", cn, err)
	}
	if sha1RSA {
		der, err := resignSHA1(cert.Raw, sha1Key)
		if err != nil {
			return tls.Certificate{}, err
		}
		if cert, err = x509.ParseCertificate(der); err != nil {
			return tls.Certificate{}, fmt.Errorf("lab: reparsing SHA-1 leaf: %w", err)
		}
	}
	if opts.PSSKey {
		signer := issuerKey
		if issuer == nil {
			signer = key
		}
		der, err := withPSSKey(cert.Raw, signer)
		if err != nil {
			return tls.Certificate{}, err
		}
		if cert, err = x509.ParseCertificate(der); err != nil {
			return tls.Certificate{}, fmt.Errorf("lab: reparsing the PSS-key leaf: %w", err)
		}
	}
	out := tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
	if issuer != nil && !isSelfSigned(issuer) {
		out.Certificate = append(out.Certificate, issuer.Raw)
	}
	return out, nil
}

// isSelfSigned reports whether c names itself as issuer.
func isSelfSigned(c *x509.Certificate) bool {
	return string(c.RawIssuer) == string(c.RawSubject)
}

// Pin returns the RFC 7469 pin of a public key, "sha256/" followed by the
// base64 SHA-256 of its SubjectPublicKeyInfo, as `tlskit check --pin` takes
// it.
func Pin(pub crypto.PublicKey) (string, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("lab: pin: %w", err)
	}
	sum := sha256.Sum256(spki)
	return "sha256/" + base64.StdEncoding.EncodeToString(sum[:]), nil
}

// Files names the PKI files written by [PKI.WriteFiles], as absolute paths.
type Files struct {
	// Dir is the directory holding the files.
	Dir string
	// Root is root.pem, the lab's trust anchor: give it to clients with
	// --ca-file.
	Root string
	// Intermediate is intermediate.pem (the Intermediate only).
	Intermediate string
	// ClientCert and ClientKey are client.pem and client.key, a client
	// certificate the lab's servers accept.
	ClientCert, ClientKey string
	// BadClientCert and BadClientKey are badclient.pem and badclient.key, a
	// client certificate from OtherRoot, which the servers reject.
	BadClientCert, BadClientKey string
	// OtherRoot is other-root.pem, the root nobody trusts.
	OtherRoot string
	// ClientCA is client-ca.pem, the CA the servers accept clients from.
	ClientCA string
	// CRL is intermediate.crl (DER), the Intermediate's CRL: it revokes
	// the revoked case's leaf. [Start] writes it; [PKI.WriteFiles] does not.
	CRL string
	// StaleCRL is intermediate-stale.crl (DER), an older CRL of the
	// Intermediate whose next update has passed (the crl-stale case).
	// [Start] writes it; [PKI.WriteFiles] does not.
	StaleCRL string
}

// WriteFiles writes the PKI's certificates and client keys into dir,
// creating it (0700) if needed. Keys are written 0600, certificates 0644.
func (p *PKI) WriteFiles(dir string) (Files, error) {
	if dir == "" {
		return Files{}, errors.New("lab: no directory given for the PKI files")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Files{}, fmt.Errorf("lab: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("lab: creating the PKI directory: %w", err)
	}
	f := Files{
		Dir:           dir,
		Root:          filepath.Join(dir, "root.pem"),
		Intermediate:  filepath.Join(dir, "intermediate.pem"),
		ClientCert:    filepath.Join(dir, "client.pem"),
		ClientKey:     filepath.Join(dir, "client.key"),
		BadClientCert: filepath.Join(dir, "badclient.pem"),
		BadClientKey:  filepath.Join(dir, "badclient.key"),
		OtherRoot:     filepath.Join(dir, "other-root.pem"),
		ClientCA:      filepath.Join(dir, "client-ca.pem"),
	}
	certs := []struct {
		path string
		der  []byte
	}{
		{f.Root, p.Root.Raw},
		{f.Intermediate, p.Intermediate.Raw},
		{f.ClientCert, p.Client.Certificate[0]},
		{f.BadClientCert, p.BadClient.Certificate[0]},
		{f.OtherRoot, p.OtherRoot.Raw},
		{f.ClientCA, p.ClientCA.Raw},
	}
	for _, c := range certs {
		if err := writePEM(c.path, "CERTIFICATE", c.der, 0o644); err != nil {
			return Files{}, err
		}
	}
	keys := []struct {
		path string
		key  crypto.PrivateKey
	}{
		{f.ClientKey, p.Client.PrivateKey},
		{f.BadClientKey, p.BadClient.PrivateKey},
	}
	for _, k := range keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.key)
		if err != nil {
			return Files{}, fmt.Errorf("lab: encoding %s: %w", k.path, err)
		}
		if err := writePEM(k.path, "PRIVATE KEY", der, 0o600); err != nil {
			return Files{}, err
		}
	}
	return f, nil
}

// writePEM writes one PEM block to path with the given mode, tightening the
// mode of a file that already exists.
func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("lab: writing %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("lab: setting the mode of %s: %w", path, err)
	}
	return nil
}
