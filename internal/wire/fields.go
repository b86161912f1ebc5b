package wire

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strconv"
	"strings"
)

// Field is one labelled value of a handshake message, for a handshake ladder.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Fields returns the fields of m a person wants to see in a handshake
// ladder, in order and with short values: for a ClientHello the versions
// offered, SNI, ALPN, cipher suites, groups, key shares and signature
// algorithms; for a ServerHello the version and cipher suite chosen; for a
// Certificate the count ("empty" when there is none, which from a client
// means it sent no certificate); and so on. GREASE values are left out.
func Fields(m Message) []Field {
	var f []Field
	add := func(name, value string) {
		if value != "" {
			f = append(f, Field{name, value})
		}
	}
	switch m := m.(type) {
	case *ClientHello:
		if m.SSLv2 != nil {
			add("format", "SSL 2.0")
		}
		if vers, ok := m.Extensions.Find(ExtSupportedVersions).Parsed.([]Version); ok {
			add("versions", list(vers, 4))
		} else {
			add("version", m.Version.String())
		}
		addHelloExtensions(add, m.Extensions)
		add("cipher suites", strconv.Itoa(len(m.CipherSuites))+": "+list(m.CipherSuites, 3))
		if m.SSLv2 != nil {
			add("SSL 2.0 cipher specs", sslv2Specs(m.SSLv2.SSLv2OnlySpecs(), 3))
		}
		if groups, ok := m.Extensions.Find(ExtSupportedGroups).Parsed.([]NamedGroup); ok {
			add("groups", list(groups, 4))
		}
		if shares, ok := m.Extensions.Find(ExtKeyShare).Parsed.([]KeyShare); ok {
			groups := make([]NamedGroup, len(shares))
			for i, s := range shares {
				groups[i] = s.Group
			}
			add("key shares", list(groups, 4))
		}
		if algs, ok := m.Extensions.Find(ExtSignatureAlgorithms).Parsed.([]SignatureScheme); ok {
			add("signature algorithms", strconv.Itoa(len(algs)))
		}
		if p, ok := m.Extensions.Find(ExtPreSharedKey).Parsed.(OfferedPSKs); ok {
			add("PSK identities", strconv.Itoa(len(p.Identities)))
		}
		if m.Extensions.Has(ExtEarlyData) {
			add("early data", "offered")
		}
	case *ServerHello:
		if m.IsHelloRetryRequest() {
			// RFC 8446 §4.1.4: the server asks the client for another
			// ClientHello, with a key share for the group it names and/or
			// the cookie it sends.
			if g, ok := m.Extensions.Find(ExtKeyShare).Parsed.(NamedGroup); ok {
				add("server asked for another key share", "group "+g.String())
			} else {
				add("server asked for another ClientHello", "no new key share")
			}
			if m.Extensions.Has(ExtCookie) {
				add("cookie", "sent")
			}
			add("version", m.SelectedVersion().String())
			add("cipher suite", m.CipherSuite.String())
			break
		}
		add("version", m.SelectedVersion().String())
		add("cipher suite", m.CipherSuite.String())
		switch ks := m.Extensions.Find(ExtKeyShare).Parsed.(type) {
		case KeyShare:
			add("key share", ks.Group.String())
		case NamedGroup:
			add("selected group", ks.String())
		}
		if n, ok := m.Extensions.Find(ExtPreSharedKey).Parsed.(uint16); ok {
			add("PSK selected", strconv.Itoa(int(n)))
		}
		addHelloExtensions(add, m.Extensions)
	case *EncryptedExtensions:
		addHelloExtensions(add, m.Extensions)
		if m.Extensions.Has(ExtEarlyData) {
			add("early data", "accepted")
		}
		if len(f) == 0 {
			add("extensions", strconv.Itoa(len(m.Extensions)))
		}
	case *Certificate:
		if len(m.Entries) == 0 {
			add("certificates", "empty")
		} else {
			add("certificates", strconv.Itoa(len(m.Entries)))
		}
	case *CertificateRequest:
		names := m.CANames()
		if len(names) > 0 {
			dns := make([]string, 0, min(len(names), 3))
			for _, n := range names[:min(len(names), 3)] {
				dns = append(dns, DNString(n))
			}
			s := strings.Join(dns, "; ")
			if len(names) > 3 {
				s += fmt.Sprintf("; … (%d in all)", len(names))
			}
			add("acceptable CAs", s)
		} else {
			add("acceptable CAs", "any")
		}
		if s := m.SignatureSchemes(); len(s) > 0 {
			add("signature schemes", strconv.Itoa(len(s))+": "+list(s, 3))
		}
	case *ServerKeyExchange:
		add("key exchange", m.KeyExchange)
		if m.CurveType == 3 {
			add("group", m.Group.String())
		}
		if m.P != nil {
			add("group", fmt.Sprintf("%d-bit DH", bitLen(m.P)))
		}
		if m.hasScheme && m.signed {
			add("signature scheme", m.SignatureScheme.String())
		}
	case *CertificateVerify:
		if !m.noScheme {
			add("signature scheme", m.SignatureScheme.String())
		}
	case *NewSessionTicket:
		add("lifetime", strconv.FormatUint(uint64(m.Lifetime), 10)+"s")
		if n, ok := m.Extensions.Find(ExtEarlyData).Parsed.(uint32); ok {
			add("max early data", strconv.FormatUint(uint64(n), 10))
		}
	case *KeyUpdate:
		add("request_update", m.RequestUpdate.String())
	case *Finished:
		add("verify_data", strconv.Itoa(len(m.VerifyData))+" bytes")
	case *HelloVerifyRequest:
		add("cookie", strconv.Itoa(len(m.Cookie))+" bytes")
	case *CertificateStatus:
		add(m.StatusType.String(), strconv.Itoa(len(m.Response))+" bytes")
	case *CompressedCertificate:
		add("algorithm", m.Algorithm.String())
	case *ClientKeyExchange:
		add("size", strconv.Itoa(len(m.Raw))+" bytes")
	case *Unknown:
		add("body", strconv.Itoa(len(m.Body))+" bytes")
	}
	return f
}

// addHelloExtensions adds the fields common to hellos and EncryptedExtensions.
func addHelloExtensions(add func(name, value string), exts Extensions) {
	switch sni := exts.Find(ExtServerName).Parsed.(type) {
	case []string:
		add("SNI", strings.Join(sni, ", "))
	case Empty:
		add("SNI", "acknowledged")
	}
	if alpn, ok := exts.Find(ExtALPN).Parsed.([]string); ok {
		add("ALPN", strings.Join(alpn, ", "))
	}
}

func bitLen(b []byte) int {
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0
	}
	n := 8 * len(b)
	for c := b[0]; c&0x80 == 0; c <<= 1 {
		n--
	}
	return n
}

// list renders up to max non-GREASE values, with "…" if there are more.
func list[T interface {
	fmt.Stringer
	IsGREASE() bool
}](vs []T, max int) string {
	var out []string
	more := false
	for _, v := range vs {
		if v.IsGREASE() {
			continue
		}
		if len(out) == max {
			more = true
			break
		}
		out = append(out, v.String())
	}
	s := strings.Join(out, ", ")
	if more {
		s += ", …"
	}
	return s
}

// DNString renders a DER distinguished name as an RFC 4514 string, or as
// "<unparsable name: …>" if it is not valid DER.
func DNString(der []byte) string {
	var rdn pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdn); err != nil || len(rest) != 0 {
		return "<unparsable name: " + HexBytes(der[:min(len(der), 16)]).String() + ">"
	}
	return rdn.String()
}
