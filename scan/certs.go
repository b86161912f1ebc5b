package scan

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"sync"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/trust"
)

// This file asks for the server's certificate of each key type, with and
// without SNI: a TLS 1.2 hello whose suites (and signature schemes) only
// one key type can serve, or a TLS 1.3 hello whose signature schemes only
// that key type can sign with, decrypting the server's flight.

// keyTypes are the certificate key types a scan asks for.
var keyTypes = []struct {
	name    string
	auth    wire.Authentication
	sigs    []wire.SignatureScheme
	needs12 bool // only TLS 1.2 or 1.3 can ask for it (signature schemes)
}{
	{"RSA", wire.AuthRSA, []wire.SignatureScheme{0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0401, 0x0501, 0x0601, 0x0201}, false},
	{"ECDSA", wire.AuthECDSA, []wire.SignatureScheme{0x0403, 0x0503, 0x0603, 0x081a, 0x081b, 0x081c, 0x0203}, false},
	{"EdDSA", wire.AuthECDSA, []wire.SignatureScheme{0x0807, 0x0808}, true},
	{"DSA", wire.AuthDSS, []wire.SignatureScheme{0x0402, 0x0502, 0x0602, 0x0202}, false},
}

// certProbe is one chain a probe received.
type certProbe struct {
	keyType string
	sni     bool
	version wire.Version
	chain   [][]byte
	ocsp    bool
	probe   int
}

// certificates asks for each key type's chain, with and without SNI.
func (s *scanner) certificates(ctx context.Context, accepted map[wire.Version]bool) []CertificateResult {
	sniModes := []bool{false}
	if s.sni != "" {
		sniModes = []bool{true, false}
	}
	var mu sync.Mutex
	var got []certProbe
	var wg sync.WaitGroup
	s.progress(len(keyTypes)*len(sniModes), "certificates")
	for _, kt := range keyTypes {
		for _, withSNI := range sniModes {
			wg.Go(func() {
				sp, stop, v := s.certSpec(kt.name, kt.auth, kt.sigs, kt.needs12, accepted)
				if stop < 0 {
					return
				}
				sp.statusRequest = true
				if !withSNI {
					sp.sni = ""
				}
				what := "with SNI " + s.sni
				if !withSNI {
					what = "without SNI"
				}
				r := s.probe(ctx, fmt.Sprintf("%s certificate, %s", kt.name, what), sp, stop, afterHandshake{}, nil)
				if len(r.certs) == 0 || !leafIs(r.certs[0], kt.name) {
					return
				}
				mu.Lock()
				got = append(got, certProbe{keyType: kt.name, sni: withSNI, version: v, chain: r.certs, ocsp: len(r.ocsp) > 0, probe: r.probe})
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	return s.describeChains(got)
}

// certSpec is the hello that asks for a key type's certificate, and the
// version it uses; stop < 0 when no accepted version can ask for it.
func (s *scanner) certSpec(name string, auth wire.Authentication, sigs []wire.SignatureScheme, needs12 bool, accepted map[wire.Version]bool) (helloSpec, stage, wire.Version) {
	if v := best12(accepted); v != 0 && (v == wire.VersionTLS12 || !needs12) {
		sp := s.baseSpec(v)
		sp.suites = suitesWhere(v, func(i wire.CipherSuiteInfo) bool {
			return i.Auth == auth && i.Kx != wire.KxPSK && i.Kx != wire.KxRSAPSK && i.Kx != wire.KxSRP
		})
		if v == wire.VersionTLS12 {
			sp.sigalgs, sp.sigalgsCert = sigs, sigalgs12
		}
		if v == wire.VersionSSL30 {
			sp.sslv3Style = true
		}
		return sp, toFlight, v
	}
	if accepted[wire.VersionTLS13] && name != "DSA" {
		sp := s.spec13Keyed()
		sp.sigalgs = sigs
		return sp, toFlight, wire.VersionTLS13
	}
	return helloSpec{}, -1, 0
}

// leafIs reports whether a DER certificate's key is of the named type.
func leafIs(der []byte, name string) bool {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return false
	}
	switch c.PublicKeyAlgorithm {
	case x509.RSA:
		return name == "RSA"
	case x509.ECDSA:
		return name == "ECDSA"
	case x509.Ed25519:
		return name == "EdDSA"
	case x509.DSA:
		return name == "DSA"
	}
	return name == "EdDSA" // Ed448 and others crypto/x509 does not know
}

// describeChains merges the probes' chains (the same chain with and
// without SNI is one row) and verifies each.
func (s *scanner) describeChains(got []certProbe) []CertificateResult {
	var out []CertificateResult
	var ders [][][]byte
	for _, kt := range keyTypes {
		for _, g := range got {
			if g.keyType != kt.name {
				continue
			}
			i := -1
			for j, d := range ders {
				if chainEqual(d, g.chain) {
					i = j
				}
			}
			if i < 0 {
				out = append(out, CertificateResult{KeyType: g.keyType, Version: g.version.String()})
				ders = append(ders, g.chain)
				i = len(out) - 1
			}
			r := &out[i]
			if g.sni {
				r.WithSNI = true
			} else {
				r.WithoutSNI = true
			}
			r.OCSPStapled = r.OCSPStapled || g.ocsp
			r.Probes = append(r.Probes, g.probe)
		}
	}
	at := time.Now()
	if s.opts.Time != nil {
		at = s.opts.Time()
	}
	for i := range out {
		var chain []*x509.Certificate
		for _, der := range ders[i] {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				out[i].Findings = append(out[i].Findings, finding.Finding{ID: finding.ChainInvalid, Severity: finding.Error,
					Title: "The server sent a certificate that does not parse", Detail: err.Error(),
					Fix: "Replace the malformed certificate in the server's configuration."})
				break
			}
			chain = append(chain, c)
			out[i].Chain = append(out[i].Chain, trust.Describe(c))
		}
		if len(chain) == 0 {
			continue
		}
		out[i].Key = out[i].Chain[0].Key
		res := s.opts.Verifier.Verify(chain, s.name, at)
		out[i].Trusted = res.Trusted
		out[i].Findings = append(out[i].Findings, res.Findings...)
		s.mu.Lock()
		s.chains = append(s.chains, chain)
		s.mu.Unlock()
	}
	if out == nil {
		out = []CertificateResult{}
	}
	return out
}

func chainEqual(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
