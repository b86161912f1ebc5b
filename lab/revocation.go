package lab

import (
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ocsp"
)

// The paths the lab's PKI server serves, under [Lab.PKIURL].
const (
	// PathIntermediate serves the Intermediate (DER): the AIA caIssuers
	// URL of the aia-fetch case's leaf.
	PathIntermediate = "/intermediate.crt"
	// PathWrongIssuer serves the other root (DER): an AIA URL that serves
	// something else (the aia-wrong case).
	PathWrongIssuer = "/wrong-issuer.crt"
	// PathCRL serves the Intermediate's CRL (DER), which revokes the
	// revoked case's leaf.
	PathCRL = "/intermediate.crl"
)

// oidTLSFeature is the TLS feature extension (RFC 7633); mustStaple is its
// value with status_request (5): OCSP must-staple.
var (
	oidTLSFeature = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 24}
	mustStaple    = []byte{0x30, 0x03, 0x02, 0x01, 0x05}
)

// pkiServer is the lab's plain-HTTP server of CA material: what AIA
// caIssuers URLs and CRL distribution points point at, so that
// `tlskit check --fetch` is tested against a server of the lab, never the
// internet.
type pkiServer struct {
	base    string // http://127.0.0.1:PORT
	ln      net.Listener
	srv     *http.Server
	revoked tls.Certificate // the leaf the CRL revokes
	crl     []byte
	done    chan struct{} // closed when Serve returns
}

// startPKIServer listens on host, issues the revoked leaf and the
// Intermediate's CRL, writes the CRL to f.CRL (and a stale one of before
// to f.StaleCRL), and serves them.
func startPKIServer(host string, p *PKI, f *Files, logf func(string, ...any)) (*pkiServer, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("lab: listening for the PKI server on %s: %w", host, err)
	}
	s := &pkiServer{base: "http://" + ln.Addr().String(), ln: ln}
	s.revoked, err = p.Leaf(LeafOptions{DNSNames: []string{ServerName("revoked")}, CRLDistributionPoints: []string{s.base + PathCRL}})
	if err == nil {
		s.crl, err = x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number:     big.NewInt(1),
			ThisUpdate: p.Now.Add(-time.Hour),
			NextUpdate: p.Now.AddDate(0, 0, 7),
			RevokedCertificateEntries: []x509.RevocationListEntry{{
				SerialNumber:   s.revoked.Leaf.SerialNumber,
				RevocationTime: p.Now.Add(-30 * time.Minute),
				ReasonCode:     1, // keyCompromise
			}},
		}, p.Intermediate, p.IntermediateKey)
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("lab: issuing the CRL: %w", err)
	}
	f.CRL = filepath.Join(f.Dir, "intermediate.crl")
	if err := os.WriteFile(f.CRL, s.crl, 0o644); err != nil {
		ln.Close()
		return nil, fmt.Errorf("lab: writing %s: %w", f.CRL, err)
	}
	// The crl-stale case's: the Intermediate's CRL of before, whose next
	// update passed two days ago (nobody fetched the new one).
	stale, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:     big.NewInt(0),
		ThisUpdate: p.Now.AddDate(0, 0, -9),
		NextUpdate: p.Now.AddDate(0, 0, -2),
	}, p.Intermediate, p.IntermediateKey)
	if err == nil {
		f.StaleCRL = filepath.Join(f.Dir, "intermediate-stale.crl")
		err = os.WriteFile(f.StaleCRL, stale, 0o644)
	}
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("lab: the stale CRL: %w", err)
	}
	mux := http.NewServeMux()
	serve := func(path, typ string, body []byte) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", typ)
			w.Write(body)
		})
	}
	serve(PathIntermediate, "application/pkix-cert", p.Intermediate.Raw)
	serve(PathWrongIssuer, "application/pkix-cert", p.OtherRoot.Raw)
	serve(PathCRL, "application/pkix-crl", s.crl)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: connTimeout}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			logf("lab: PKI server: %v", err)
		}
	}()
	return s, nil
}

// close stops the server and its connections.
func (s *pkiServer) close() error {
	if s == nil {
		return nil
	}
	err := s.srv.Close()
	<-s.done
	return err
}

// staple returns an OCSP response for leaf signed by its issuer (the
// Intermediate): status good or revoked, valid from thisUpdate to
// nextUpdate.
func staple(p *PKI, leaf *x509.Certificate, status int, thisUpdate, nextUpdate time.Time) ([]byte, error) {
	tmpl := ocsp.Response{
		Status:       status,
		SerialNumber: leaf.SerialNumber,
		ThisUpdate:   thisUpdate,
		NextUpdate:   nextUpdate,
	}
	if status == ocsp.Revoked {
		tmpl.RevokedAt = thisUpdate.Add(-time.Hour)
		tmpl.RevocationReason = ocsp.KeyCompromise
	}
	der, err := ocsp.CreateResponse(p.Intermediate, p.Intermediate, tmpl, p.IntermediateKey)
	if err != nil {
		return nil, fmt.Errorf("lab: signing an OCSP response: %w", err)
	}
	return der, nil
}

// ncCA issues a CA under Root whose name constraints permit only permit.
func ncCA(p *PKI, permit string) (*x509.Certificate, crypto.Signer, error) {
	key, err := newKey(ECDSAP256, 0)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		Subject:                     caName("tlskit Lab Constrained CA (" + permit + " only)"),
		NotBefore:                   p.Intermediate.NotBefore,
		NotAfter:                    p.Intermediate.NotAfter,
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid:       true,
		IsCA:                        true,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         []string{permit},
	}
	c, err := issue(tmpl, key.Public(), p.Root, p.RootKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("lab: issuing the constrained CA: %w", err)
	}
	return c, key, nil
}

// policyCA issues a CA under Root whose policy constraints require an
// explicit policy from it down (requireExplicitPolicy 0, critical, RFC
// 5280 §4.2.1.11), itself under anyPolicy: a leaf it issues without a
// certificate policies extension has no valid policy (chain.policy).
func policyCA(p *PKI) (*x509.Certificate, crypto.Signer, error) {
	key, err := newKey(ECDSAP256, 0)
	if err != nil {
		return nil, nil, err
	}
	anyPolicy, err := asn1.Marshal([]struct{ ID asn1.ObjectIdentifier }{{asn1.ObjectIdentifier{2, 5, 29, 32, 0}}})
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		Subject:               caName("tlskit Lab Policy CA (explicit policy required)"),
		NotBefore:             p.Intermediate.NotBefore,
		NotAfter:              p.Intermediate.NotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		ExtraExtensions: []pkix.Extension{
			{Id: asn1.ObjectIdentifier{2, 5, 29, 32}, Value: anyPolicy},
			{Id: asn1.ObjectIdentifier{2, 5, 29, 36}, Critical: true, Value: []byte{0x30, 0x03, 0x80, 0x01, 0x00}},
		},
	}
	c, err := issue(tmpl, key.Public(), p.Root, p.RootKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("lab: issuing the policy CA: %w", err)
	}
	return c, key, nil
}

// mustStapleExt is the TLS feature extension requiring a stapled OCSP
// response.
func mustStapleExt() pkix.Extension { return pkix.Extension{Id: oidTLSFeature, Value: mustStaple} }
