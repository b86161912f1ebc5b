package truststore

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// ASN.1 universal tags that matter for names (X.680, Section 8.6).
const (
	tagSequence        = 0x30
	tagSet             = 0x31
	tagOID             = 0x06
	tagUTF8String      = 0x0c
	tagPrintableString = 0x13
	tagT61String       = 0x14
	tagIA5String       = 0x16
	tagVisibleString   = 0x1a
	tagUniversalString = 0x1c
	tagBMPString       = 0x1e
)

// ErrMalformedName is wrapped by every error [CanonicalName] and
// [SubjectHashDER] return for bytes that are not a well-formed X.509 Name.
var ErrMalformedName = errors.New("truststore: malformed X.509 name")

// SubjectHash returns OpenSSL's subject-name hash of c, the value that
// `openssl x509 -subject_hash` prints and that names the HASH.N links of a
// hashed certificate directory (OpenSSL's X509_NAME_hash_ex).
func SubjectHash(c *x509.Certificate) (uint32, error) {
	if c == nil {
		return 0, errors.New("truststore: SubjectHash of a nil certificate")
	}
	return SubjectHashDER(c.RawSubject)
}

// SubjectHashDER returns OpenSSL's subject-name hash of a DER-encoded X.509
// Name: the first four bytes, read little-endian, of the SHA-1 of
// [CanonicalName]. It fails only when name is not a well-formed Name.
func SubjectHashDER(name []byte) (uint32, error) {
	canon, err := CanonicalName(name)
	if err != nil {
		return 0, err
	}
	sum := sha1.Sum(canon)
	return binary.LittleEndian.Uint32(sum[:4]), nil
}

// SubjectHashOld returns OpenSSL's pre-1.0 subject-name hash of c, the value
// that `openssl x509 -subject_hash_old` prints (X509_NAME_hash_old). OpenSSL
// 1.0.0 and later never look files up by it.
func SubjectHashOld(c *x509.Certificate) uint32 {
	if c == nil {
		return 0
	}
	return SubjectHashOldDER(c.RawSubject)
}

// SubjectHashOldDER returns the first four bytes, read little-endian, of the
// MD5 of name, the DER encoding of an X.509 Name exactly as it was sent.
func SubjectHashOldDER(name []byte) uint32 {
	sum := md5.Sum(name)
	return binary.LittleEndian.Uint32(sum[:4])
}

// CanonicalName returns OpenSSL's canonical encoding of the DER X.509 Name
// in name (crypto/x509/x_name.c x509_name_canon): the concatenated DER of
// its RDN SETs without the outer SEQUENCE, where every string value is
// converted to UTF-8, stripped of leading and trailing ASCII whitespace, has
// inner whitespace runs folded to one space and ASCII letters lower-cased,
// and is re-tagged UTF8String; each multi-valued RDN is then re-sorted as a
// DER SET OF. Names that compare equal under [CanonicalName] are the same
// name to OpenSSL.
func CanonicalName(name []byte) ([]byte, error) {
	tag, rdns, rest, err := readTLV(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedName, err)
	}
	if tag != tagSequence {
		return nil, fmt.Errorf("%w: starts with tag 0x%02x, want SEQUENCE (0x30); is this a whole certificate rather than its subject?", ErrMalformedName, tag)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after the name", ErrMalformedName, len(rest))
	}
	var out []byte
	for len(rdns) > 0 {
		var set []byte
		tag, set, rdns, err = readTLV(rdns)
		if err != nil {
			return nil, fmt.Errorf("%w: RDN: %w", ErrMalformedName, err)
		}
		if tag != tagSet {
			return nil, fmt.Errorf("%w: RDN has tag 0x%02x, want SET (0x31)", ErrMalformedName, tag)
		}
		var atvs [][]byte
		for len(set) > 0 {
			var atv []byte
			tag, atv, set, err = readTLV(set)
			if err != nil {
				return nil, fmt.Errorf("%w: attribute: %w", ErrMalformedName, err)
			}
			if tag != tagSequence {
				return nil, fmt.Errorf("%w: attribute has tag 0x%02x, want SEQUENCE (0x30)", ErrMalformedName, tag)
			}
			c, err := canonicalATV(atv)
			if err != nil {
				return nil, err
			}
			atvs = append(atvs, c)
		}
		if len(atvs) == 0 {
			// OpenSSL keeps entries, not RDNs: an empty SET vanishes.
			continue
		}
		// DER SET OF order (X.690, Section 11.6), as OpenSSL's der_cmp:
		// memcmp over the common length, then the shorter first.
		slices.SortFunc(atvs, bytes.Compare)
		out = appendTLV(out, tagSet, bytes.Join(atvs, nil))
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// canonicalATV re-encodes one AttributeTypeAndValue body (OID then value)
// with its value canonicalised.
func canonicalATV(atv []byte) ([]byte, error) {
	tag, oid, rest, err := readTLV(atv)
	if err != nil {
		return nil, fmt.Errorf("%w: attribute type: %w", ErrMalformedName, err)
	}
	if tag != tagOID {
		return nil, fmt.Errorf("%w: attribute type has tag 0x%02x, want OBJECT IDENTIFIER (0x06)", ErrMalformedName, tag)
	}
	if len(oid) == 0 {
		return nil, fmt.Errorf("%w: empty attribute type", ErrMalformedName)
	}
	start := len(atv) - len(rest)
	vtag, val, tail, err := readTLV(rest)
	if err != nil {
		return nil, fmt.Errorf("%w: attribute value: %w", ErrMalformedName, err)
	}
	if len(tail) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after an attribute value", ErrMalformedName, len(tail))
	}
	body := appendTLV(nil, tagOID, oid)
	text, ok, err := stringToUTF8(vtag, val)
	if err != nil {
		return nil, err
	}
	if !ok {
		// Not a string type OpenSSL canonicalises: kept byte for byte.
		body = append(body, atv[start:]...)
	} else {
		body = appendTLV(body, tagUTF8String, canonicalText(text))
	}
	return appendTLV(nil, tagSequence, body), nil
}

// stringToUTF8 converts a string value to UTF-8 as ASN1_STRING_to_UTF8
// does. ok is false for types outside OpenSSL's ASN1_MASK_CANON.
func stringToUTF8(tag byte, val []byte) (text []byte, ok bool, err error) {
	switch tag {
	case tagUTF8String:
		if !utf8.Valid(val) {
			return nil, true, fmt.Errorf("%w: UTF8String is not valid UTF-8", ErrMalformedName)
		}
		return val, true, nil
	case tagPrintableString, tagT61String, tagIA5String, tagVisibleString:
		// One byte per character, read as Latin-1.
		out := make([]byte, 0, len(val))
		for _, b := range val {
			out = utf8.AppendRune(out, rune(b))
		}
		return out, true, nil
	case tagBMPString:
		if len(val)%2 != 0 {
			return nil, true, fmt.Errorf("%w: BMPString has odd length %d", ErrMalformedName, len(val))
		}
		out := make([]byte, 0, len(val))
		for i := 0; i < len(val); i += 2 {
			r := rune(binary.BigEndian.Uint16(val[i:]))
			if utf16.IsSurrogate(r) {
				return nil, true, fmt.Errorf("%w: BMPString holds a surrogate U+%04X", ErrMalformedName, r)
			}
			out = utf8.AppendRune(out, r)
		}
		return out, true, nil
	case tagUniversalString:
		if len(val)%4 != 0 {
			return nil, true, fmt.Errorf("%w: UniversalString length %d is not a multiple of 4", ErrMalformedName, len(val))
		}
		out := make([]byte, 0, len(val))
		for i := 0; i < len(val); i += 4 {
			u := binary.BigEndian.Uint32(val[i:])
			if u > utf8.MaxRune || utf16.IsSurrogate(rune(u)) {
				return nil, true, fmt.Errorf("%w: UniversalString holds invalid code point 0x%X", ErrMalformedName, u)
			}
			out = utf8.AppendRune(out, rune(u))
		}
		return out, true, nil
	}
	return nil, false, nil
}

// isSpace is OpenSSL's ossl_isspace: ASCII space, \t, \n, \v, \f and \r.
func isSpace(b byte) bool {
	return b == ' ' || (b >= '\t' && b <= '\r')
}

// canonicalText applies asn1_string_canon to UTF-8 text: trim, fold inner
// whitespace runs to one space, lower-case ASCII A-Z only.
func canonicalText(s []byte) []byte {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		b := s[i]
		switch {
		case isSpace(b):
			out = append(out, ' ')
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			continue
		case b >= 'A' && b <= 'Z':
			out = append(out, b+('a'-'A'))
		default:
			out = append(out, b)
		}
		i++
	}
	return out
}

// readTLV splits one DER element with a single-byte tag off the front of b.
// It accepts only definite, minimally encoded lengths (DER).
func readTLV(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errors.New("truncated element")
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, fmt.Errorf("multi-byte tag 0x%02x is not used in names", tag)
	}
	n := int(b[1])
	off := 2
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 {
			return 0, nil, nil, errors.New("indefinite length is not DER")
		}
		if k > 4 {
			return 0, nil, nil, fmt.Errorf("%d-byte length is too large", k)
		}
		if len(b) < 2+k {
			return 0, nil, nil, errors.New("truncated length")
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		if b[2] == 0 || n < 0x80 {
			return 0, nil, nil, errors.New("length is not minimally encoded (not DER)")
		}
		off = 2 + k
	}
	if n > len(b)-off {
		return 0, nil, nil, fmt.Errorf("length %d runs past the %d bytes left", n, len(b)-off)
	}
	return tag, b[off : off+n], b[off+n:], nil
}

// appendTLV appends a DER element with the given tag and content.
func appendTLV(b []byte, tag byte, content []byte) []byte {
	b = append(b, tag)
	n := len(content)
	switch {
	case n < 0x80:
		b = append(b, byte(n))
	case n <= 0xff:
		b = append(b, 0x81, byte(n))
	case n <= 0xffff:
		b = append(b, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		b = append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		b = append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, content...)
}

// formatHash prints a hash as OpenSSL does (%08lx).
func formatHash(h uint32) string {
	return fmt.Sprintf("%08x", h)
}
