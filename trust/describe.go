package trust

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/tlskit/tlskit/internal/dn"
)

// CertInfo is what a person wants to see about one certificate. It is
// designed to be marshalled as JSON.
type CertInfo struct {
	// Subject and Issuer are RFC 4514 strings.
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// Serial is the serial number in upper-case hex, as OpenSSL prints it.
	Serial string `json:"serial"`
	// NotBefore and NotAfter are RFC 3339 times in UTC.
	NotBefore string `json:"not_before"`
	NotAfter  string `json:"not_after"`
	// Key describes the public key: "RSA 2048", "ECDSA P-256", "Ed25519".
	Key string `json:"key"`
	// SignatureAlgorithm is the algorithm the issuer signed with, such as
	// "SHA256-RSA".
	SignatureAlgorithm string `json:"signature_algorithm"`
	// SANs are the subjectAltName entries.
	SANs SANs `json:"sans"`
	// IsCA reports basicConstraints CA:TRUE.
	IsCA bool `json:"is_ca"`
	// SelfSigned reports a certificate issued by its own subject and key.
	SelfSigned bool `json:"self_signed"`
	// CAIssuers and OCSP are the Authority Information Access URLs.
	CAIssuers []string `json:"ca_issuers,omitempty"`
	OCSP      []string `json:"ocsp,omitempty"`
	// Pin is the SPKI pin, "sha256/<base64>".
	Pin string `json:"pin"`
	// SHA256 is the certificate's fingerprint, colon-separated upper-case
	// hex as `openssl x509 -fingerprint -sha256` prints it.
	SHA256 string `json:"sha256"`
	// EKU lists the extended key usages ("serverAuth", …; unknown ones as
	// OIDs). Empty means the extension is absent: any usage.
	EKU []string `json:"eku,omitempty"`
}

// SANs are a certificate's subjectAltName entries by kind.
type SANs struct {
	DNS   []string `json:"dns,omitempty"`
	IP    []string `json:"ip,omitempty"`
	Email []string `json:"email,omitempty"`
	URI   []string `json:"uri,omitempty"`
}

// Describe summarises c for display.
func Describe(c *x509.Certificate) CertInfo {
	info := CertInfo{
		Subject:            dn.String(c.RawSubject),
		Issuer:             dn.String(c.RawIssuer),
		NotBefore:          c.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:           c.NotAfter.UTC().Format(time.RFC3339),
		Key:                keyDesc(c),
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		IsCA:               c.BasicConstraintsValid && c.IsCA,
		SelfSigned:         isSelfSigned(c),
		CAIssuers:          c.IssuingCertificateURL,
		OCSP:               c.OCSPServer,
		Pin:                PinOf(c).String(),
		SHA256:             fingerprint(c.Raw),
		EKU:                ekuNames(c),
	}
	info.Serial = SerialHex(c.SerialNumber)
	info.SANs.DNS = c.DNSNames
	for _, ip := range c.IPAddresses {
		info.SANs.IP = append(info.SANs.IP, ip.String())
	}
	info.SANs.Email = c.EmailAddresses
	for _, u := range c.URIs {
		info.SANs.URI = append(info.SANs.URI, u.String())
	}
	return info
}

// fingerprint returns the SHA-256 of der as colon-separated hex.
// SerialHex formats a certificate's serial number as `openssl x509
// -serial` prints it (and browsers and Wireshark show it, without their
// colons): the bytes of its magnitude in upper-case hex, two digits a byte,
// so a leading zero is kept (09BB…, not 9BB…); "-" before a negative one,
// "00" for zero, "" for none.
func SerialHex(n *big.Int) string {
	if n == nil {
		return ""
	}
	b := n.Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	s := strings.ToUpper(hex.EncodeToString(b))
	if n.Sign() < 0 {
		return "-" + s
	}
	return s
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String()
}
