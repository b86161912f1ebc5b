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
// trust anchors, as a chain or as certificates to watch: PEM (CERTIFICATE,
// X509 CERTIFICATE or OpenSSL's TRUSTED CERTIFICATE blocks, and PKCS7
// bundles), DER (one or more concatenated certificates, or a PKCS#7 bundle:
// .p7b, .p7c), or a Java keystore (JKS or JCEKS: the certificates Java's
// trust manager takes from it, see [ParseJavaKeystore]). name says where
// data came from, for messages.
//
// It is more lenient than [ParseBundle], which reads a system trust store
// the way the client stacks do: a user's file is read for what it means.
// Private keys mixed with certificates (a combined cert+key file) are
// skipped; a file holding only a key, a CSR or no certificate at all is an
// error that names the probable mistake. Errors are [*InputError]; they
// never include key material.
func ParseCertificates(data []byte, name string) ([]*x509.Certificate, error) {
	if name == "" {
		name = "input"
	}
	certs, err := parseCertificates(data)
	if err != nil {
		return nil, &InputError{Name: name, Err: err}
	}
	return certs, nil
}

// An InputError is why [ParseCertificates] found no certificates in an
// input, and which input it was, as [os.PathError] is for a path: Err's
// text does not repeat Name, for a place that shows the name apart (a
// metric's label).
type InputError struct {
	// Name is where the input came from: a path, "inline PEM".
	Name string
	// Err is what is wrong with it.
	Err error
}

// Error returns "truststore: NAME: REASON".
func (e *InputError) Error() string { return "truststore: " + e.Name + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *InputError) Unwrap() error { return e.Err }

// parseCertificates is ParseCertificates without the input's name.
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty, want PEM or DER certificates")
	}
	if IsJavaKeystore(data) {
		ders, err := ParseJavaKeystore(data)
		if err != nil {
			return nil, err
		}
		if len(ders) == 0 {
			return nil, errors.New("a Java keystore without certificates")
		}
		return parseEach(ders, "Java keystore")
	}
	if !bytes.Contains(data, []byte("-----BEGIN")) {
		if ders, err := PKCS7Certificates(data); err == nil {
			return parseEach(ders, "PKCS#7 bundle")
		}
		certs, err := x509.ParseCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("no PEM block found, and not DER certificates (or a PKCS#7 bundle or a Java keystore) either: %w", err)
		}
		if len(certs) == 0 {
			return nil, errors.New("no certificate found")
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
				return nil, fmt.Errorf("PEM block %d: %w", n, err)
			}
			certs = append(certs, c)
		case "TRUSTED CERTIFICATE":
			// OpenSSL appends trust settings after the certificate.
			var rv asn1.RawValue
			if _, err := asn1.Unmarshal(block.Bytes, &rv); err != nil {
				return nil, fmt.Errorf("PEM block %d (TRUSTED CERTIFICATE): %w", n, err)
			}
			c, err := x509.ParseCertificate(rv.FullBytes)
			if err != nil {
				return nil, fmt.Errorf("PEM block %d (TRUSTED CERTIFICATE): %w", n, err)
			}
			certs = append(certs, c)
		case "PKCS7":
			ders, err := PKCS7Certificates(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("PEM block %d (PKCS7): %w", n, err)
			}
			cs, err := parseEach(ders, fmt.Sprintf("PEM block %d (PKCS7)", n))
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
		return nil, errors.New("no PEM block found (a \"-----BEGIN\" line is there, but no complete block)")
	}
	for _, t := range other {
		if strings.Contains(t, "PRIVATE KEY") {
			return nil, fmt.Errorf("file holds a private key (a %s block), not a certificate (PEM inputs may have been switched)", t)
		}
	}
	if other[0] == "CERTIFICATE REQUEST" || other[0] == "NEW CERTIFICATE REQUEST" {
		return nil, errors.New("file holds a CERTIFICATE REQUEST (a CSR), not a certificate; it must be signed by a CA first")
	}
	return nil, fmt.Errorf("no CERTIFICATE block, only %s", strings.Join(other, ", "))
}

// parseEach parses the encoded certificates of a bundle; where says where
// the bundle is, for messages.
func parseEach(ders [][]byte, where string) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(ders))
	for i, d := range ders {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return nil, fmt.Errorf("%s, certificate %d: %w", where, i+1, err)
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
