package trust

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/tlskit/tlskit/truststore"
)

// maxChainFile bounds a chain file: a chain is a few kilobytes.
const maxChainFile = 16 << 20

// ReadChainFile reads a certificate chain as a peer would send it, leaf
// first: the CERTIFICATE blocks of a PEM file in order, or one DER
// certificate; or the certificates of a PKCS#7 bundle (.p7b, .p7c; DER or
// a PEM PKCS7 block), whose certificates come in no defined order (a SET),
// so the leaf is put first: the one certificate that issued none of the
// others. The certificates are not parsed here: [Verifier.Check]
// parses them and reports one that does not parse
// ([finding.CertUnparseable]) instead of dropping it. A file with no
// certificate at all is an error.
func ReadChainFile(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxChainFile+1))
	if err != nil {
		return nil, fmt.Errorf("trust: reading %s: %w", path, err)
	}
	if len(data) > maxChainFile {
		return nil, fmt.Errorf("trust: %s is larger than %d MiB; a certificate chain is a few kilobytes", path, maxChainFile>>20)
	}
	return ParseChain(data, path)
}

// ParseChain is ReadChainFile for bytes in memory; name is used in errors.
func ParseChain(data []byte, name string) ([][]byte, error) {
	var ders [][]byte
	rest := data
	other := ""
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "PKCS7" {
			certs, err := truststore.PKCS7Certificates(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("trust: %s: a PKCS7 block: %w", name, err)
			}
			ders = append(ders, leafFirst(certs)...)
			continue
		}
		if b.Type != "CERTIFICATE" {
			if other == "" {
				other = b.Type
			}
			continue
		}
		ders = append(ders, b.Bytes)
	}
	switch {
	case len(ders) > 0:
		return ders, nil
	case other != "":
		return nil, fmt.Errorf("trust: %s holds a %s but no CERTIFICATE", name, other)
	case bytes.Contains(data, []byte("-----BEGIN")):
		return nil, fmt.Errorf("trust: %s: a PEM block that does not decode", name)
	case len(data) > 0 && data[0] == 0x30:
		if certs, err := truststore.PKCS7Certificates(data); err == nil {
			return leafFirst(certs), nil
		}
		return [][]byte{data}, nil // one DER certificate
	}
	return nil, errors.New("trust: " + name + " holds no certificate")
}

// leafFirst orders the certificates of a PKCS#7 bundle as a chain is sent:
// the one that issued none of the others first, then the rest as they
// came (a path builder takes intermediates in any order). When that
// certificate is not alone, or one does not parse, the order is kept.
func leafFirst(ders [][]byte) [][]byte {
	certs := make([]*x509.Certificate, len(ders))
	for i, d := range ders {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			return ders
		}
		certs[i] = c
	}
	leaf := -1
	for i, c := range certs {
		issued := false
		for j, o := range certs {
			if i != j && bytes.Equal(o.RawIssuer, c.RawSubject) && !bytes.Equal(o.RawSubject, c.RawSubject) {
				issued = true
				break
			}
		}
		if !issued {
			if leaf >= 0 {
				return ders
			}
			leaf = i
		}
	}
	if leaf <= 0 {
		return ders
	}
	out := append([][]byte{ders[leaf]}, ders[:leaf]...)
	return append(out, ders[leaf+1:]...)
}
