package truststore

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// The magic numbers of Java's own keystore formats.
const (
	jksMagic   = 0xFEEDFEED // JKS (sun.security.provider.JavaKeyStore)
	jceksMagic = 0xCECECECE // JCEKS (com.sun.crypto.provider.JceKeyStore)
)

// IsJavaKeystore reports whether data starts like a JKS or JCEKS keystore,
// the format of Java's cacerts on Debian and Fedora.
func IsJavaKeystore(data []byte) bool {
	s := cryptobyte.String(data)
	var magic uint32
	return s.ReadUint32(&magic) && (magic == jksMagic || magic == jceksMagic)
}

// ParseJavaKeystore returns the certificates a Java trust manager takes
// from a JKS or JCEKS keystore, encoded, unparsed: every trusted
// certificate entry, and the first certificate of each private key entry's
// chain (the key itself is skipped, never read). Like Java loading a
// trust store without a password, it does not check the keystore's
// integrity digest. A JCEKS secret key entry, which Java serializes as an
// object, is an error.
func ParseJavaKeystore(data []byte) ([][]byte, error) {
	s := cryptobyte.String(data)
	var magic, version, count uint32
	if !s.ReadUint32(&magic) || magic != jksMagic && magic != jceksMagic {
		return nil, errors.New("not a Java keystore (JKS or JCEKS)")
	}
	if !s.ReadUint32(&version) || version != 1 && version != 2 {
		return nil, fmt.Errorf("a Java keystore of version %d, which Java does not write", version)
	}
	if !s.ReadUint32(&count) {
		return nil, errors.New("a Java keystore cut short in its header")
	}
	var out [][]byte
	for i := uint32(1); i <= count; i++ {
		var tag uint32
		var alias cryptobyte.String
		var date uint64
		if !s.ReadUint32(&tag) || !s.ReadUint16LengthPrefixed(&alias) || !s.ReadUint64(&date) {
			return nil, fmt.Errorf("Java keystore entry %d of %d is cut short", i, count)
		}
		switch tag {
		case 1: // a private key entry: the protected key, then its chain
			var n uint32
			if !skip32(&s) || !s.ReadUint32(&n) {
				return nil, fmt.Errorf("Java keystore entry %d (%q, a private key) is cut short", i, alias)
			}
			for j := uint32(0); j < n; j++ {
				der, err := keystoreCert(&s, version)
				if err != nil {
					return nil, fmt.Errorf("Java keystore entry %d (%q): %w", i, alias, err)
				}
				if j == 0 {
					out = append(out, der)
				}
			}
		case 2: // a trusted certificate entry
			der, err := keystoreCert(&s, version)
			if err != nil {
				return nil, fmt.Errorf("Java keystore entry %d (%q): %w", i, alias, err)
			}
			out = append(out, der)
		default:
			return nil, fmt.Errorf("Java keystore entry %d (%q) is of type %d (3 is a JCEKS secret key), which is not read", i, alias, tag)
		}
	}
	return out, nil
}

// keystoreCert reads one certificate of a keystore entry: its type (from
// version 2) and its encoding.
func keystoreCert(s *cryptobyte.String, version uint32) ([]byte, error) {
	if version == 2 {
		var typ cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&typ) {
			return nil, errors.New("a certificate cut short")
		}
		if string(typ) != "X.509" {
			return nil, fmt.Errorf("a certificate of type %q", typ)
		}
	}
	var n uint32
	var der []byte
	if !s.ReadUint32(&n) || !s.ReadBytes(&der, int(n)) {
		return nil, errors.New("a certificate cut short")
	}
	return der, nil
}

// skip32 skips bytes prefixed by their 32-bit length.
func skip32(s *cryptobyte.String) bool {
	var n uint32
	return s.ReadUint32(&n) && s.Skip(int(n))
}
