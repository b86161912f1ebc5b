package tlskit

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxKeyPairFile bounds a certificate or key file: a chain is a few
// kilobytes.
const maxKeyPairFile = 1 << 20

// ClientCertificate returns the certificate the policy presents as a
// client: CertFile and KeyFile loaded with [LoadKeyPair], else the first
// of Certificates; nil when the policy has none.
func (p *Policy) ClientCertificate() (*tls.Certificate, error) {
	switch {
	case p.CertFile != "" || p.KeyFile != "":
		c, err := LoadKeyPair(p.CertFile, p.KeyFile)
		if err != nil {
			return nil, err
		}
		return &c, nil
	case len(p.Certificates) > 0:
		return &p.Certificates[0], nil
	}
	return nil, nil
}

// LiveClientCertificate is [Policy.ClientCertificate] for long-lived use
// (a monitor): each call of the function it returns gives the certificate
// as its files are on disk now, read again when one has changed (files
// that fail to read keep the last good pair, and [Policy.OnReload] hears
// of it), as the client configs' own certificate is. The first read must
// succeed. The function is nil when the policy has no client certificate.
// Safe for concurrent use.
func (p *Policy) LiveClientCertificate() (func() *tls.Certificate, error) {
	switch {
	case p.CertFile != "" || p.KeyFile != "":
		kp, err := loadKeyPair(p.CertFile, p.KeyFile, p.OnReload)
		if err != nil {
			return nil, err
		}
		return kp.get, nil
	case len(p.Certificates) > 0:
		c := &p.Certificates[0]
		return func() *tls.Certificate { return c }, nil
	}
	return nil, nil
}

// LoadKeyPair reads a certificate chain (PEM, leaf first) and its private
// key (PEM: PKCS #1, PKCS #8 or SEC 1) as [tls.LoadX509KeyPair] does, with
// errors that say what is wrong in the user's terms: a key file that is
// encrypted, a key that is not the certificate's (naming both keys' kinds),
// the two files switched. No error includes key material.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := readSmall(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := readSmall(keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err == nil {
		return c, nil
	}
	if b := firstBlock(keyPEM); b != nil && (b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] == "4,ENCRYPTED") {
		return tls.Certificate{}, fmt.Errorf("tlskit: %s holds an encrypted private key; tlskit reads unencrypted keys only: decrypt it to a file only you can read (openssl pkey -in %s -out KEY.pem)", keyFile, keyFile)
	}
	if leaf, key := leafOf(certPEM), keyOf(keyPEM); leaf != nil && key != nil {
		if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); ok && !pub.Equal(leaf.PublicKey) {
			kinds := fmt.Sprintf("the certificate has %s, the file %s", keyKind(leaf.PublicKey), keyKind(key.Public()))
			if keyKind(leaf.PublicKey) == keyKind(key.Public()) {
				kinds = fmt.Sprintf("both are %s, but not the same one", strings.TrimPrefix(strings.TrimPrefix(keyKind(key.Public()), "an "), "a ")+"s")
			}
			return tls.Certificate{}, fmt.Errorf("tlskit: the private key in %s is not the key of the certificate in %s (%s)", keyFile, certFile, kinds)
		}
	}
	return tls.Certificate{}, fmt.Errorf("tlskit: loading certificate %s and key %s: %w", certFile, keyFile, err)
}

// readSmall reads a regular file of at most maxKeyPairFile bytes.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tlskit: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("tlskit: %s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyPairFile+1))
	if err != nil {
		return nil, fmt.Errorf("tlskit: reading %s: %w", path, err)
	}
	if len(b) > maxKeyPairFile {
		return nil, fmt.Errorf("tlskit: %s is larger than %d KiB; a certificate or key file is a few kilobytes", path, maxKeyPairFile>>10)
	}
	return b, nil
}

// firstBlock returns the first PEM block of data, or nil.
func firstBlock(data []byte) *pem.Block {
	b, _ := pem.Decode(data)
	return b
}

// leafOf parses the first CERTIFICATE block of data, or returns nil.
func leafOf(data []byte) *x509.Certificate {
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil
			}
			return c
		}
	}
}

// keyOf parses the first private key block of data, or returns nil.
func keyOf(data []byte) crypto.Signer {
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil
		}
		if !bytes.HasSuffix([]byte(b.Type), []byte("PRIVATE KEY")) {
			continue
		}
		if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
			s, _ := k.(crypto.Signer)
			return s
		}
		if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
			return k
		}
		if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
			return k
		}
		return nil
	}
}

// keyKind names a public key: "an RSA 2048-bit key", "an ECDSA P-256 key".
func keyKind(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("an RSA %d-bit key", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "an ECDSA " + k.Curve.Params().Name + " key"
	case ed25519.PublicKey:
		return "an Ed25519 key"
	}
	return fmt.Sprintf("a %T key", pub)
}
