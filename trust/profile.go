package trust

import (
	"fmt"
	"strings"
)

// Profile is the set of certificate rules a chain is judged by, beyond the
// path validation of RFC 5280 §6 that every profile performs (signatures,
// validity, basic constraints, key usage, path length, name constraints,
// extended key usage, revocation when CRLs are given).
//
// Both profiles refuse what is unsafe everywhere: weak keys and signatures,
// a leaf that may sign certificates without being a CA, name constraints in
// a leaf or that tlskit cannot evaluate, unknown critical extensions, and
// the RFC 5280 MUSTs on how certificates are encoded (serial numbers,
// authority and subject key identifiers, critical basic constraints in CA
// certificates, a critical subjectAltName for an empty subject, names in
// preferred syntax). They differ where the Web PKI is stricter than what
// private PKIs routinely do:
//
//   - [ProfileWebPKI] adds the CA/Browser Forum Baseline Requirements: the
//     leaf must have an extended key usage, without anyExtendedKeyUsage,
//     not critical; it must not be a CA certificate; its Common Name must
//     be a copy of one of its subjectAltNames; no wildcard may cover a
//     public suffix (*.com, *.co.uk, *.s3.amazonaws.com); RSA moduli must be
//     a multiple of 8 bits; a weak root key is an error, not a warning; a
//     root you trust explicitly must not carry an extended key usage, and
//     its authority key identifier, if any, only its own key identifier.
//     Name constraints may be non-critical (the BRs allow it).
//   - [ProfileRFC5280] is RFC 5280 alone: a CA certificate may be the leaf
//     (a warning), the leaf needs no extended key usage, and name
//     constraints must be critical.
//
// Roots from the system store are trusted as the distribution ships them:
// rules about how a root is encoded (key identifiers, critical basic
// constraints, serial numbers) are not applied to them, because several
// roots every browser trusts predate those rules.
type Profile string

// The profiles.
const (
	// ProfileAuto chooses per path, from where its trust anchor came from:
	// webpki for a system root, rfc5280 for an anchor given explicitly
	// (a CA file, a directory, inline PEM, or certificates built in code).
	ProfileAuto Profile = ""
	// ProfileWebPKI is the CA/Browser Forum profile of public TLS
	// certificates.
	ProfileWebPKI Profile = "webpki"
	// ProfileRFC5280 is RFC 5280 alone, for private PKIs.
	ProfileRFC5280 Profile = "rfc5280"
)

// ParseProfile parses "auto" (or ""), "webpki" or "rfc5280".
func ParseProfile(s string) (Profile, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return ProfileAuto, nil
	case "webpki", "web", "cabf":
		return ProfileWebPKI, nil
	case "rfc5280", "5280", "private":
		return ProfileRFC5280, nil
	}
	return "", fmt.Errorf("trust: profile %q: want auto, webpki or rfc5280", clip(s))
}

// String returns the profile's name; "auto" for ProfileAuto.
func (p Profile) String() string {
	if p == ProfileAuto {
		return "auto"
	}
	return string(p)
}

// describe says which rules a profile stands for, for findings.
func (p Profile) describe() string {
	if p == ProfileWebPKI {
		return "the webpki profile (CA/Browser Forum Baseline Requirements)"
	}
	return "the rfc5280 profile"
}
