package trust

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"
)

// dnString is pkix.Name.String, the RFC 4514 form crypto/x509 prints,
// without its cost (it rebuilds the RDN sequence and concatenates string
// by string: a few microseconds a name, and a report names certificates
// many times). TestDNStringMatchesPkix holds it equal on every certificate
// of the conformance corpora.
func dnString(n pkix.Name) string {
	var b strings.Builder
	b.Grow(64)
	// The order of Name.String: its RDN sequence is the unparsed extra
	// attributes, then the named fields in ToRDNSequence's order; printed
	// last RDN first.
	type atv struct {
		oid   asn1.ObjectIdentifier
		value any
	}
	var seq [][]atv
	if n.ExtraNames == nil {
		for _, a := range n.Names {
			t := a.Type
			if len(t) == 4 && t[0] == 2 && t[1] == 5 && t[2] == 4 {
				switch t[3] {
				case 3, 5, 6, 7, 8, 9, 10, 11, 17:
					continue
				}
			}
			seq = append(seq, []atv{{a.Type, a.Value}})
		}
	}
	add := func(vals []string, last int) {
		if len(vals) == 0 {
			return
		}
		oid := asn1.ObjectIdentifier{2, 5, 4, last}
		for _, e := range n.ExtraNames {
			if e.Type.Equal(oid) {
				return
			}
		}
		rdn := make([]atv, len(vals))
		for i, v := range vals {
			rdn[i] = atv{oid, v}
		}
		seq = append(seq, rdn)
	}
	add(n.Country, 6)
	add(n.Province, 8)
	add(n.Locality, 7)
	add(n.StreetAddress, 9)
	add(n.PostalCode, 17)
	add(n.Organization, 10)
	add(n.OrganizationalUnit, 11)
	if n.CommonName != "" {
		add([]string{n.CommonName}, 3)
	}
	if n.SerialNumber != "" {
		add([]string{n.SerialNumber}, 5)
	}
	for _, a := range n.ExtraNames {
		seq = append(seq, []atv{{a.Type, a.Value}})
	}
	for i := len(seq) - 1; i >= 0; i-- {
		if i < len(seq)-1 {
			b.WriteByte(',')
		}
		for j, a := range seq[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			name := attrName(a.oid)
			if name == "" {
				der, err := asn1.Marshal(a.value)
				if err == nil {
					b.WriteString(a.oid.String())
					b.WriteString("=#")
					b.WriteString(hex.EncodeToString(der))
					continue
				}
				name = a.oid.String()
			}
			b.WriteString(name)
			b.WriteByte('=')
			var val string
			if s, ok := a.value.(string); ok {
				val = s
			} else {
				val = fmt.Sprint(a.value)
			}
			for k, c := range val {
				esc := false
				switch c {
				case ',', '+', '"', '\\', '<', '>', ';':
					esc = true
				case ' ':
					esc = k == 0 || k == len(val)-1
				case '#':
					esc = k == 0
				}
				if esc {
					b.WriteByte('\\')
				}
				b.WriteRune(c)
			}
		}
	}
	return b.String()
}

// attrName is the short name crypto/x509 prints for an attribute type,
// or "".
func attrName(oid asn1.ObjectIdentifier) string {
	if len(oid) != 4 || oid[0] != 2 || oid[1] != 5 || oid[2] != 4 {
		return ""
	}
	switch oid[3] {
	case 3:
		return "CN"
	case 5:
		return "SERIALNUMBER"
	case 6:
		return "C"
	case 7:
		return "L"
	case 8:
		return "ST"
	case 9:
		return "STREET"
	case 10:
		return "O"
	case 11:
		return "OU"
	case 17:
		return "POSTALCODE"
	}
	return ""
}
