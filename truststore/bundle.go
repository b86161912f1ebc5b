package truststore

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// Bundle is what [ParseBundle] found in one trust-store file.
type Bundle struct {
	// Certs are the certificates of the file's CERTIFICATE blocks, in file
	// order, duplicates included.
	Certs []*x509.Certificate
	// Skipped explains every PEM block that yielded no certificate
	// ("block 3: TRUSTED CERTIFICATE: ..."). It may be empty.
	Skipped []string
}

// ParseBundle reads a PEM trust-store file: a single certificate, a bundle
// such as ca-certificates.crt, or a hashed-directory entry. It reads
// CERTIFICATE blocks as Go's AppendCertsFromPEM and OpenSSL's file lookup
// do, and notes every other block in [Bundle.Skipped]. OpenSSL's TRUSTED
// CERTIFICATE blocks are skipped (Go ignores them; only OpenSSL's own
// ca-bundle.trust.crt readers use them).
//
// ParseBundle returns an error when data holds no certificate at all; the
// error names what the data looks like instead (DER, a private key, text).
// It never panics, whatever data holds.
func ParseBundle(data []byte) (*Bundle, error) {
	b, why := parseBundle(data)
	if why != "" {
		return b, errors.New("truststore: " + why)
	}
	return b, nil
}

// parseBundle is [ParseBundle], saying in words why data holds no
// certificate ("" when it holds some).
func parseBundle(data []byte) (*Bundle, string) {
	b := &Bundle{}
	rest := data
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		switch block.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				b.Skipped = append(b.Skipped, fmt.Sprintf("block %d: CERTIFICATE does not parse: %v", n, err))
				continue
			}
			b.Certs = append(b.Certs, c)
		case "TRUSTED CERTIFICATE":
			b.Skipped = append(b.Skipped, fmt.Sprintf("block %d: TRUSTED CERTIFICATE is OpenSSL's trust format, which Go, Qt and GnuTLS do not read", n))
		case "X509 CRL":
			b.Skipped = append(b.Skipped, fmt.Sprintf("block %d: X509 CRL is a revocation list, not a certificate", n))
		default:
			b.Skipped = append(b.Skipped, fmt.Sprintf("block %d: %s is not a certificate", n, block.Type))
		}
	}
	if len(b.Certs) > 0 {
		return b, ""
	}
	switch {
	case len(data) == 0:
		return b, "empty file"
	case n > 0:
		return b, fmt.Sprintf("no certificate among %d PEM blocks (%s)", n, b.Skipped[0])
	case looksDER(data):
		if _, err := x509.ParseCertificate(data); err == nil {
			return b, "DER certificate, but trust stores are read as PEM only; convert it with `openssl x509 -inform der -outform pem`"
		}
		return b, "binary DER data that is not a certificate"
	case bytes.Contains(data[:min(len(data), 4096)], []byte("-----BEGIN")):
		return b, "a -----BEGIN line without a well-formed PEM block (truncated file or broken base64?)"
	case isText(data[:min(len(data), 4096)]):
		return b, "text without PEM blocks"
	default:
		return b, "binary data that is neither PEM nor DER"
	}
}

// looksDER reports whether data starts like a DER SEQUENCE.
func looksDER(data []byte) bool {
	return len(data) > 2 && data[0] == tagSequence && data[1] >= 0x80
}

// isText reports whether b looks like printable text.
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}
