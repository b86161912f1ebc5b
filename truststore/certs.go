package truststore

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// ParseCertificates parses every certificate in data that a user gave as
// trust anchors or as a chain: PEM (CERTIFICATE, X509 CERTIFICATE or
// OpenSSL's TRUSTED CERTIFICATE blocks, and PKCS7 bundles) or DER (one or
// more concatenated certificates, or a PKCS#7 bundle: .p7b, .p7c). name says where data came from, for messages.
//
// It is more lenient than [ParseBundle], which reads a system trust store
// the way the client stacks do: a user's file is read for what it means.
// Private keys mixed with certificates (a combined cert+key file) are
// skipped; a file holding only a key, a CSR or no certificate at all is an
// error that names the probable mistake. Error messages never include key
// material.
func ParseCertificates(data []byte, name string) ([]*x509.Certificate, error) {
	if name == "" {
		name = "input"
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("truststore: %s: empty, want PEM or DER certificates", name)
	}
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		if ders, err := PKCS7Certificates(data); err == nil {
			return parseEach(ders, name, "PKCS#7 bundle")
		}
		certs, err := x509.ParseCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("truststore: %s: no PEM block found, and not DER certificates (or a PKCS#7 bundle) either: %w", name, err)
		}
		if len(certs) == 0 {
			return nil, fmt.Errorf("truststore: %s: no certificate found", name)
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
				return nil, fmt.Errorf("truststore: %s: PEM block %d: %w", name, n, err)
			}
			certs = append(certs, c)
		case "TRUSTED CERTIFICATE":
			// OpenSSL appends trust settings after the certificate.
			var rv asn1.RawValue
			if _, err := asn1.Unmarshal(block.Bytes, &rv); err != nil {
				return nil, fmt.Errorf("truststore: %s: PEM block %d (TRUSTED CERTIFICATE): %w", name, n, err)
			}
			c, err := x509.ParseCertificate(rv.FullBytes)
			if err != nil {
				return nil, fmt.Errorf("truststore: %s: PEM block %d (TRUSTED CERTIFICATE): %w", name, n, err)
			}
			certs = append(certs, c)
		case "PKCS7":
			ders, err := PKCS7Certificates(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("truststore: %s: PEM block %d (PKCS7): %w", name, n, err)
			}
			cs, err := parseEach(ders, name, fmt.Sprintf("PEM block %d (PKCS7)", n))
			if err != nil {
				return nil, err
			}
			certs = append(certs, cs...)
		default:
			other = append(other, block.Type)
		}
	}
	if len(certs) > 0 {
		return certs, nil
	}
	if len(other) == 0 {
		return nil, fmt.Errorf("truststore: %s: no PEM block found (a \"-----BEGIN\" line is there, but no complete block)", name)
	}
	for _, t := range other {
		if strings.Contains(t, "PRIVATE KEY") {
			return nil, fmt.Errorf("truststore: %s: file holds a %s, not a certificate (PEM inputs may have been switched)", name, t)
		}
	}
	if other[0] == "CERTIFICATE REQUEST" || other[0] == "NEW CERTIFICATE REQUEST" {
		return nil, fmt.Errorf("truststore: %s: file holds a CERTIFICATE REQUEST (a CSR), not a certificate; it must be signed by a CA first", name)
	}
	return nil, fmt.Errorf("truststore: %s: no CERTIFICATE block, only %s", name, strings.Join(other, ", "))
}

// parseEach parses the certificates of a PKCS#7 bundle; where says where
// the bundle is, for messages.
func parseEach(ders [][]byte, name, where string) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(ders))
	for i, d := range ders {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return nil, fmt.Errorf("truststore: %s: %s, certificate %d: %w", name, where, i+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// ReadCertificatesFile reads the certificates in the PEM or DER file at
// path (see [ParseCertificates]). It refuses anything but a regular file of
// at most 16 MiB, so a FIFO or a device never blocks or floods it.
func ReadCertificatesFile(path string) ([]*x509.Certificate, error) {
	data, err := readUserFile(path)
	if err != nil {
		return nil, err
	}
	return ParseCertificates(data, path)
}

// readUserFile reads a regular file a user named, bounded like a trust-store
// file.
func readUserFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &missingError{path}
		}
		return nil, fmt.Errorf("truststore: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("truststore: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("truststore: %s is a directory, not a certificate file (for a directory of CA files use dir:%s)", path, path)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("truststore: %s is a %s, not a regular file", path, describeMode(st.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("truststore: reading %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("truststore: %s is over the %d MiB limit for a certificate file", path, maxFileSize>>20)
	}
	return data, nil
}

// missingError is a file that does not exist; it wraps fs.ErrNotExist.
type missingError struct{ path string }

func (e *missingError) Error() string { return "truststore: " + e.path + " does not exist" }
func (e *missingError) Unwrap() error { return fs.ErrNotExist }
