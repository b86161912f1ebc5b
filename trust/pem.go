package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ParseCertificatesPEM parses every certificate in data, which may be PEM
// (CERTIFICATE or OpenSSL's TRUSTED CERTIFICATE blocks) or DER (one or more
// concatenated certificates). name says where data came from, for messages.
//
// Private keys mixed with certificates (a combined cert+key file) are
// skipped; a file holding only a key, a CSR or no certificate at all is an
// error that names the probable mistake. Error messages never include key
// material.
func ParseCertificatesPEM(data []byte, name string) ([]*x509.Certificate, error) {
	if name == "" {
		name = "input"
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("trust: %s: empty, want PEM or DER certificates", name)
	}
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		certs, err := x509.ParseCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("trust: %s: no PEM block found, and not DER certificates either: %w", name, err)
		}
		if len(certs) == 0 {
			return nil, fmt.Errorf("trust: %s: no certificate found", name)
		}
		return certs, nil
	}
	var (
		certs []*x509.Certificate
		other []string
		rest  = data
		n     int
	)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		switch block.Type {
		case "CERTIFICATE", "X509 CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("trust: %s: PEM block %d: %w", name, n, err)
			}
			certs = append(certs, c)
		case "TRUSTED CERTIFICATE":
			// OpenSSL appends trust settings after the certificate.
			var rv asn1.RawValue
			if _, err := asn1.Unmarshal(block.Bytes, &rv); err != nil {
				return nil, fmt.Errorf("trust: %s: PEM block %d (TRUSTED CERTIFICATE): %w", name, n, err)
			}
			c, err := x509.ParseCertificate(rv.FullBytes)
			if err != nil {
				return nil, fmt.Errorf("trust: %s: PEM block %d (TRUSTED CERTIFICATE): %w", name, n, err)
			}
			certs = append(certs, c)
		default:
			other = append(other, block.Type)
		}
	}
	if len(certs) > 0 {
		return certs, nil
	}
	if len(other) == 0 {
		return nil, fmt.Errorf("trust: %s: no PEM block found (a \"-----BEGIN\" line is there, but no complete block)", name)
	}
	for _, t := range other {
		if strings.Contains(t, "PRIVATE KEY") {
			return nil, fmt.Errorf("trust: %s: file holds a %s, not a certificate (PEM inputs may have been switched)", name, t)
		}
	}
	if other[0] == "CERTIFICATE REQUEST" || other[0] == "NEW CERTIFICATE REQUEST" {
		return nil, fmt.Errorf("trust: %s: file holds a CERTIFICATE REQUEST (a CSR), not a certificate; it must be signed by a CA first", name)
	}
	return nil, fmt.Errorf("trust: %s: no CERTIFICATE block, only %s", name, strings.Join(other, ", "))
}

// LoadCertificatesFile reads the certificates in the PEM or DER file at path.
func LoadCertificatesFile(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("trust: CA file %s does not exist: %w", path, err)
		}
		return nil, fmt.Errorf("trust: reading certificates: %w", err)
	}
	return ParseCertificatesPEM(data, path)
}
