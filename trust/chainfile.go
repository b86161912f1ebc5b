package trust

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxChainFile bounds a chain file: a chain is a few kilobytes.
const maxChainFile = 16 << 20

// ReadChainFile reads a certificate chain as a peer would send it, leaf
// first: the CERTIFICATE blocks of a PEM file in order, or one DER
// certificate. The certificates are not parsed here: [Verifier.Check]
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
		return [][]byte{data}, nil // one DER certificate
	}
	return nil, errors.New("trust: " + name + " holds no certificate (want PEM CERTIFICATE blocks, leaf first, or one DER certificate)")
}
