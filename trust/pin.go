package trust

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
)

// Pin is an SPKI pin: the SHA-256 digest of a certificate's DER-encoded
// SubjectPublicKeyInfo, as defined by RFC 7469 §2.4. The zero Pin matches
// nothing in practice.
type Pin struct {
	SHA256 [32]byte
}

// PinOf returns the pin of c's public key.
func PinOf(c *x509.Certificate) Pin {
	return Pin{SHA256: sha256.Sum256(c.RawSubjectPublicKeyInfo)}
}

// String returns the canonical form "sha256/<base64>", the form used by
// HPKP and OkHttp.
func (p Pin) String() string {
	return "sha256/" + base64.StdEncoding.EncodeToString(p.SHA256[:])
}

// ParsePin parses a pin written as "sha256/<base64>" (HPKP, OkHttp),
// "sha256//<base64>" (curl --pinnedpubkey) or "sha256:<base64>" (ghostunnel).
// The "sha256" prefix is case-insensitive; the base64 may omit its padding.
func ParsePin(s string) (Pin, error) {
	const want = "want sha256/<base64 of 32 bytes>"
	t := strings.TrimSpace(s)
	if len(t) < len("sha256") || !strings.EqualFold(t[:len("sha256")], "sha256") {
		return Pin{}, fmt.Errorf("trust: pin %q: %s (only SHA-256 SPKI pins are supported)", clip(s), want)
	}
	t = t[len("sha256"):]
	switch {
	case strings.HasPrefix(t, "//"):
		// curl's "sha256//" form, or "sha256/" followed by base64 that
		// itself starts with "/" (one key in 64): the length decides.
		if raw, err := decodePin(t[1:]); err == nil && len(raw) == sha256.Size {
			var p Pin
			copy(p.SHA256[:], raw)
			return p, nil
		}
		t = t[2:]
	case strings.HasPrefix(t, "/"), strings.HasPrefix(t, ":"):
		t = t[1:]
	default:
		return Pin{}, fmt.Errorf("trust: pin %q: %s (the prefix must be followed by \"/\", \"//\" or \":\")", clip(s), want)
	}
	raw, err := decodePin(t)
	if err != nil {
		hint := ""
		if len(t) == 64 {
			hint = " (this looks like hex; pins are base64)"
		}
		return Pin{}, fmt.Errorf("trust: pin %q: %s, got invalid base64%s: %w", clip(s), want, hint, err)
	}
	if len(raw) != sha256.Size {
		return Pin{}, fmt.Errorf("trust: pin %q: %s, got %d bytes", clip(s), want, len(raw))
	}
	var p Pin
	copy(p.SHA256[:], raw)
	return p, nil
}

// decodePin decodes base64 with or without padding.
func decodePin(t string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(t)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(t)
	}
	return raw, err
}

// clip shortens user input quoted in an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
