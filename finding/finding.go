// Package finding defines the vocabulary every tlskit diagnosis is written
// in: a [Finding] with a stable identifier, a [Severity], the evidence and
// the fix.
//
// Finding identifiers are a public contract. They appear in `tlskit check
// --json`, in `tlskit truststore`, in `tlskit pcap`, in the tunnel's logs and
// in the library's typed errors; once published an identifier never changes
// meaning. The constants below are the complete list.
package finding

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Severity says how much a finding matters.
type Severity string

// The severities, from most to least serious.
const (
	// Error means the connection failed or must not be trusted.
	Error Severity = "error"
	// Warning means the connection works here but is fragile or weak.
	Warning Severity = "warning"
	// Info is context that helps to read the rest.
	Info Severity = "info"
)

// rank orders severities for sorting: errors first.
func (s Severity) rank() int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	default:
		return 2
	}
}

// Finding is one explained problem (or noteworthy fact) about a connection,
// a certificate chain or a trust store.
type Finding struct {
	// ID is the stable identifier, such as "chain.incomplete".
	ID string `json:"id"`
	// Severity is error, warning or info.
	Severity Severity `json:"severity"`
	// Title is a one-line statement of the problem, for a person.
	Title string `json:"title"`
	// Detail is the evidence: what was observed that proves the title.
	Detail string `json:"detail"`
	// Fix says what to change, and where.
	Fix string `json:"fix"`
	// Evidence holds extra lines a person may want to copy (pins, names,
	// paths). It may be empty.
	Evidence []string `json:"evidence,omitempty"`
	// Setting names the client setting the fix changes, one of the
	// Setting constants ("min-version", "timeout"…), when the fix is a
	// change on the client's side; the texts say it in words and name no
	// command-line flag.
	Setting string `json:"setting,omitempty"`
	// Flag is the command-line flag of Setting, filled in by the program
	// that has one (tlskit's CLI): library packages leave it empty.
	Flag string `json:"flag,omitempty"`
}

// The client settings a finding's fix may name ([Finding.Setting]). They
// are the fields of a tlskit.Policy and of probe.Options, not flags.
const (
	SettingMinVersion = "min-version"        // the lowest TLS version offered
	SettingMaxVersion = "max-version"        // the highest TLS version offered
	SettingTimeout    = "timeout"            // how long to wait for the connection and the handshake
	SettingServerName = "server-name"        // the name sent as SNI and verified
	SettingTrust      = "trust"              // the trust anchors
	SettingPin        = "pin"                // the SPKI pins
	SettingClientCert = "client-certificate" // the client certificate and key to present
	SettingALPN       = "alpn"               // the application protocols offered
	SettingKeyLog     = "keylog"             // the key log that decrypts a capture
	SettingInsecure   = "insecure"           // verification turned off by the user
	SettingVerifyTime = "verify-time"        // the time a chain is verified as of
	SettingMaxInterm  = "max-intermediates"  // the longest path the policy allows
	SettingServerKey  = "rsa-key"            // a server RSA key that decrypts a capture
)

// Sort orders findings by severity (errors first), keeping the original
// order among findings of equal severity.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Compare(a.Severity.rank(), b.Severity.rank())
	})
}

// Has reports whether fs contains a finding with the given id.
func Has(fs []Finding, id string) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.ID == id })
}

// Worst returns the most serious severity in fs, or "" when fs is empty.
func Worst(fs []Finding) Severity {
	var worst Severity
	for _, f := range fs {
		if worst == "" || f.Severity.rank() < worst.rank() {
			worst = f.Severity
		}
	}
	return worst
}

// Network findings: the TCP connection itself failed.
const (
	NetRefused     = "net.refused"     // nothing listens on the port
	NetTimeout     = "net.timeout"     // no answer in time
	NetReset       = "net.reset"       // the peer reset the TCP connection
	NetUnreachable = "net.unreachable" // no route, or the name does not resolve
)

// Protocol findings: the TLS conversation failed before certificates mattered.
const (
	ProtocolNotTLS            = "protocol.not-tls"
	ProtocolVersionMismatch   = "protocol.version-mismatch"
	ProtocolNoSharedCipher    = "protocol.no-shared-cipher"
	ProtocolAlert             = "protocol.alert" // any other fatal alert, named in the detail
	ProtocolMalformed         = "protocol.malformed"
	ProtocolDeprecatedVersion = "protocol.deprecated-version" // TLS 1.0/1.1 or SSL 3.0 negotiated (warning; RFC 8996)
	ProtocolLegacySuite       = "protocol.legacy-suite"       // a suite without forward secrecy or AEAD negotiated (warning)
	ProtocolClientUnsupported = "protocol.client-unsupported" // the server only offers what tlskit's TLS client (Go's crypto/tls) does not speak
	SNIUnrecognizedName       = "sni.unrecognized-name"
)

// Certificate findings: a problem with one certificate.
const (
	CertExpired         = "cert.expired"
	CertNotYetValid     = "cert.not-yet-valid"
	CertSelfSigned      = "cert.self-signed"
	CertWeakKey         = "cert.weak-key"
	CertWeakSignature   = "cert.weak-signature"
	CertWrongEKU        = "cert.wrong-eku"
	CertNotCA           = "cert.not-ca"
	CertExpiringSoon    = "cert.expiring-soon"
	NameMismatch        = "name.mismatch"
	NameNotChecked      = "name.not-checked" // no name was known to check the leaf against (warning)
	ChainIncomplete     = "chain.incomplete"
	ChainUntrustedRoot  = "chain.untrusted-root"
	ChainWrongOrder     = "chain.wrong-order"
	ChainExpiredCross   = "chain.expired-cross-sign"
	ChainRootSent       = "chain.root-sent"
	ChainUnneeded       = "chain.unneeded-certificate"
	ChainTooLong        = "chain.too-long"
	ChainInvalid        = "chain.invalid" // any other verification failure, named in the detail
	PinMismatch         = "pin.mismatch"
	PinExpired          = "pin.expired"
	ClientCertRequired  = "client-cert.required"
	ClientCertRejected  = "client-cert.rejected"
	ClientCertRequested = "client-cert.requested" // asked for, optional, none sent (info)
	ServerCertRejected  = "server-cert.rejected"  // a client refused the server's certificate (tunnel server)
	VerifySkipped       = "verify.skipped"        // --insecure: verification was turned off by the user
	PolicyInvalid       = "policy.invalid"
)

// Limit findings: the tunnel refused a connection to protect the service
// (logged and counted like any refusal).
const (
	LimitMaxConns  = "limit.max-conns"  // closed at once: max-conns connections are open
	LimitFirstByte = "limit.first-byte" // the client sent nothing within the first-byte timeout
)

// Trust store findings (tlskit truststore).
const (
	TruststoreDanglingLink        = "truststore.dangling-link"
	TruststoreHashMismatch        = "truststore.hash-mismatch"
	TruststoreHashCollisionHidden = "truststore.hash-collision-hidden"
	TruststoreIncompleteHashDir   = "truststore.incomplete-hash-dir"
	TruststoreExpiredRoot         = "truststore.expired-root"
	TruststoreDuplicate           = "truststore.duplicate"
	TruststoreUnreadable          = "truststore.unreadable"
	TruststoreNotACertificate     = "truststore.not-a-certificate"
	TruststoreEnvOverride         = "truststore.env-override"
)

// Tidy makes the prose of fs read as sentences: Title, Detail and Fix start
// with a capital letter, and Detail and Fix end with a full stop. Producers
// call it once on what they return, so every source of findings reads alike.
func Tidy(fs []Finding) {
	for i := range fs {
		f := &fs[i]
		f.Title = capitalize(strings.TrimSuffix(f.Title, "."))
		f.Detail = sentence(f.Detail)
		f.Fix = sentence(f.Fix)
	}
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = capitalize(s)
	switch s[len(s)-1] {
	case '.', '!', '?', ':', ')', '"':
		return s
	}
	return s + "."
}
