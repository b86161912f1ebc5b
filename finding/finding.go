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
	SettingStartTLS   = "starttls"           // the in-band upgrade spoken before TLS, or none
	SettingCRL        = "crl"                // the CRLs revocation is checked against
	SettingFetch      = "fetch"              // fetching missing intermediates and CRLs from their URLs
	SettingIPVersion  = "ip-version"         // the IP version connected over: IPv4 only, IPv6 only or either
	SettingCertPolicy = "cert-policy"        // the certificate policies a verified path must be valid for
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

// Network findings: the host's name did not resolve, or the TCP
// connection itself failed.
const (
	NetDNS         = "net.dns"         // the name does not exist, or its lookup timed out or failed
	NetRefused     = "net.refused"     // nothing listens on the port
	NetTimeout     = "net.timeout"     // no answer in time
	NetReset       = "net.reset"       // the peer reset the TCP connection
	NetUnreachable = "net.unreachable" // no route to the address
	NetFallback    = "net.fallback"    // the name's first addresses did not connect; another one did
)

// Protocol findings: the TLS conversation failed before certificates mattered.
const (
	ProtocolNotTLS             = "protocol.not-tls"
	ProtocolVersionMismatch    = "protocol.version-mismatch"
	ProtocolVersionIntolerance = "protocol.version-intolerance" // the server refuses a hello offering a version above one it speaks, instead of choosing that one
	ProtocolNoSharedCipher     = "protocol.no-shared-cipher"
	ProtocolHelloRejected      = "protocol.hello-rejected" // the client's hello refused, tlskit's own offering the same answered: its size or an extension
	ProtocolAlert              = "protocol.alert"          // any other fatal alert, named in the detail
	ProtocolMalformed          = "protocol.malformed"
	ProtocolTruncated          = "protocol.truncated"          // closed after application data without close_notify (warning)
	CaptureIncomplete          = "capture.incomplete"          // bytes of the connection are missing from the capture (warning)
	ProtocolDeprecatedVersion  = "protocol.deprecated-version" // TLS 1.0/1.1 or SSL 3.0 negotiated (warning; RFC 8996)
	ProtocolLegacySuite        = "protocol.legacy-suite"       // a suite without forward secrecy or AEAD negotiated (warning)
	ProtocolClientUnsupported  = "protocol.client-unsupported" // the server only offers what tlskit's TLS client (Go's crypto/tls) does not speak
	SNIUnrecognizedName        = "sni.unrecognized-name"
)

// Certificate findings: a problem with one certificate.
const (
	CertExpired          = "cert.expired"
	CertNotYetValid      = "cert.not-yet-valid"
	CertSelfSigned       = "cert.self-signed"
	CertWeakKey          = "cert.weak-key"
	CertWeakSignature    = "cert.weak-signature"
	CertWrongEKU         = "cert.wrong-eku"
	CertNotCA            = "cert.not-ca"            // a certificate that issues another is not a CA (basicConstraints) or may not sign certificates (keyUsage)
	CertCAAsLeaf         = "cert.ca-as-leaf"        // the leaf is a CA certificate, or may sign certificates
	CertUnparseable      = "cert.unparseable"       // a certificate the peer sent does not parse
	CertNonconforming    = "cert.nonconforming"     // a certificate breaks an encoding rule of RFC 5280 or of the webpki profile
	CertRevoked          = "cert.revoked"           // a CRL or a stapled OCSP response says the certificate is revoked
	CRLInvalid           = "crl.invalid"            // a CRL of the issuer cannot be used (signature, cRLSign, stale, critical extension)
	RevocationUnknown    = "revocation.unknown"     // no CRL or OCSP response covers a certificate of the path (an info; an error for the leaf when CRLs were given)
	OCSPInvalid          = "ocsp.invalid"           // the stapled OCSP response does not verify, is stale, or is not about the leaf
	OCSPStapled          = "ocsp.stapled"           // info: the server stapled a good OCSP response
	OCSPMustStaple       = "ocsp.must-staple"       // the leaf requires a stapled OCSP response (TLS feature) and none came
	ChainNameConstraints = "chain.name-constraints" // a name outside a CA's name constraints, or constraints that cannot be evaluated
	ChainPolicy          = "chain.policy"           // the path fails certificate policy processing (RFC 5280 §6.1): a CA requires an explicit policy and none is valid, or a mapping maps anyPolicy
	ChainCycle           = "chain.cycle"            // the issuers form a loop and never reach an anchor
	ChainFetched         = "chain.fetched"          // info: --fetch fetched an issuer or a CRL, and what it served
	CertExpiringSoon     = "cert.expiring-soon"
	NameMismatch         = "name.mismatch"
	NameNotChecked       = "name.not-checked" // no name was known to check the leaf against (warning), or the name given cannot be one (error: nothing sent)
	ChainIncomplete      = "chain.incomplete"
	ChainUntrustedRoot   = "chain.untrusted-root"
	ChainWrongOrder      = "chain.wrong-order"
	ChainExpiredCross    = "chain.expired-cross-sign"
	ChainRootSent        = "chain.root-sent"
	ChainUnneeded        = "chain.unneeded-certificate"
	ChainTooLong         = "chain.too-long"
	ChainInvalid         = "chain.invalid" // any other verification failure, named in the detail
	PinMismatch          = "pin.mismatch"
	PinExpired           = "pin.expired"
	ClientCertRequired   = "client-cert.required"
	ClientCertRejected   = "client-cert.rejected"
	ClientCertRequested  = "client-cert.requested" // asked for, optional, none sent (info)
	ServerCertRejected   = "server-cert.rejected"  // a client refused the server's certificate (tunnel server)
	VerifySkipped        = "verify.skipped"        // --insecure: verification was turned off by the user
	PolicyInvalid        = "policy.invalid"
)

// STARTTLS findings: the in-band upgrade to TLS of a protocol that starts in
// plaintext (check --starttls, pcap, a tunnel's protocol).
const (
	StartTLSNotOffered = "starttls.not-offered"             // the capabilities do not list the upgrade
	StartTLSRefused    = "starttls.refused"                 // the upgrade command was answered with an error
	StartTLSUnexpected = "starttls.unexpected-reply"        // a reply the protocol does not allow there
	StartTLSPlaintext  = "starttls.plaintext-after-upgrade" // plaintext pipelined after the upgrade, before TLS
	StartTLSImplicit   = "starttls.implicit-tls"            // STARTTLS pointed at a port that speaks TLS from the first byte
)

// Limit findings: the tunnel refused a connection to protect the service
// (logged and counted like any refusal).
const (
	LimitMaxConns  = "limit.max-conns"  // closed at once: max-conns connections are open
	LimitFirstByte = "limit.first-byte" // the client sent nothing within the first-byte timeout
)

// Scan findings (tlskit scan): what a server accepts, each derived from
// the probes its evidence names.
const (
	ScanSSL2                  = "scan.sslv2"                  // SSL 2.0 accepted (RFC 6176; DROWN)
	ScanSSL3                  = "scan.sslv3"                  // SSL 3.0 accepted (RFC 7568; POODLE)
	ScanTLS10                 = "scan.tls10"                  // TLS 1.0 accepted (RFC 8996)
	ScanTLS11                 = "scan.tls11"                  // TLS 1.1 accepted (RFC 8996)
	ScanNoTLS12               = "scan.no-tls12"               // neither TLS 1.2 nor 1.3 accepted
	ScanNoTLS13               = "scan.no-tls13"               // TLS 1.3 not accepted (info)
	ScanNullCipher            = "scan.null-cipher"            // a suite without encryption accepted
	ScanAnonCipher            = "scan.anon-cipher"            // an anonymous (unauthenticated) suite accepted
	ScanExportCipher          = "scan.export-cipher"          // an export-grade suite accepted (FREAK, Logjam)
	ScanRC4                   = "scan.rc4"                    // an RC4 suite accepted (RFC 7465)
	ScanDES                   = "scan.des"                    // a single-DES suite accepted
	ScanSweet32               = "scan.sweet32"                // a 64-bit block cipher suite accepted (3DES, IDEA)
	ScanCBCOnly               = "scan.cbc-only"               // a version accepts only CBC suites, no AEAD
	ScanNoForwardSecrecy      = "scan.no-forward-secrecy"     // suites without forward secrecy accepted
	ScanInsecureRenegotiation = "scan.insecure-renegotiation" // no RFC 5746 secure renegotiation
	ScanClientRenegotiation   = "scan.client-renegotiation"   // client-initiated renegotiation accepted (warning)
	ScanCompression           = "scan.compression"            // TLS compression accepted (CRIME)
	ScanHeartbleed            = "scan.heartbleed"             // the server answered an over-long heartbeat (CVE-2014-0160)
	ScanWeakDH                = "scan.weak-dh"                // DHE with a prime under 2048 bits (Logjam)
	ScanNoFallbackSCSV        = "scan.no-fallback-scsv"       // a downgrade is possible and TLS_FALLBACK_SCSV is ignored
	ScanClientsRefused        = "scan.clients-refused"        // current clients (a browser, Go, OpenSSL…) turned away at the hello
	ScanVersionIntolerance    = "scan.version-intolerance"    // a hello offering TLS 1.2 and 1.3 refused by a TLS 1.2 server
	ScanNoPQ                  = "scan.no-pq-group"            // no hybrid post-quantum group (info)
	ScanCCSInjection          = "scan.ccs-injection"          // an early ChangeCipherSpec is accepted (CVE-2014-0224)
	ScanROBOT                 = "scan.robot"                  // the RSA key exchange is a Bleichenbacher oracle (ROBOT; warning for a weak oracle)
	ScanTicketbleed           = "scan.ticketbleed"            // a ticket resumption echoes memory in the session id (CVE-2016-9244)
	ScanBEAST                 = "scan.beast"                  // CBC suites in SSL 3.0 or TLS 1.0 (CVE-2011-3389; info when higher versions are accepted)
	ScanLucky13               = "scan.lucky13"                // CBC suites accepted (CVE-2013-0169, potentially) (info)
	ScanEarlyData             = "scan.early-data"             // TLS 1.3 0-RTT accepted: replayable (info)
	ScanNoHSTS                = "scan.no-hsts"                // the HTTPS answer has no valid Strict-Transport-Security, or max-age=0
	ScanHSTSShort             = "scan.hsts-short"             // HSTS max-age under 180 days
	ScanBREACH                = "scan.breach"                 // the HTTPS answer is compressed (CVE-2013-3587, potentially)
)

// Profile findings (tlskit scan --profile): each deviation from the chosen
// TLS configuration profile (Mozilla's modern, intermediate or old, or a
// user's).
const (
	ProfileVersion     = "profile.version"      // a version the profile forbids is accepted, or one it names is not
	ProfileSuite       = "profile.suite"        // a suite the profile does not list is accepted
	ProfileGroup       = "profile.group"        // a group the profile does not list is accepted
	ProfileCertificate = "profile.certificate"  // the certificate's key type, size, curve, signature or lifespan
	ProfileDHSize      = "profile.dh-size"      // DHE parameters smaller than the profile's
	ProfileOrder       = "profile.server-order" // the suite order is not the one the profile asks for
	ProfileOCSP        = "profile.ocsp-staple"  // the profile asks for OCSP stapling, none was stapled
	ProfileHSTS        = "profile.hsts"         // HSTS missing or shorter than the profile asks (warning)
	ProfileNotChecked  = "profile.not-checked"  // a requirement the scan could not check (HSTS without an HTTP request) (info)
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
	TruststoreJavaOutOfSync       = "truststore.java-out-of-sync" // Java's keystore and the system bundle hold different roots
	TruststoreNotInstalled        = "truststore.not-installed"    // a root in a local source directory (update-ca-certificates, update-ca-trust) the system bundle lacks
)

// Tidy makes the prose of fs read as sentences: Title, Detail and Fix start
// with a capital letter, and Detail and Fix end with a full stop. Producers
// call it once on what they return, so every source of findings reads alike.
func Tidy(fs []Finding) {
	for i := range fs {
		f := &fs[i]
		f.Title = Capitalize(strings.TrimSuffix(f.Title, "."))
		f.Detail = sentence(f.Detail)
		f.Fix = sentence(f.Fix)
	}
}

// Capitalize upper-cases the first letter of s, the start of a sentence,
// unless its first word is a name that is written as it is: a host name or
// an address ("localhost:25 speaks TLS…", "example.com does not…"), which
// holds a dot or a colon.
func Capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsLower(r) {
		return s
	}
	if word, _, _ := strings.Cut(s, " "); strings.ContainsAny(strings.TrimRight(word, ".,;:"), ".:") {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// ListAnd joins phrases as a sentence lists them: "a", "a and b", "a, b
// and c".
func ListAnd(p []string) string {
	if len(p) <= 1 {
		return strings.Join(p, "")
	}
	return strings.Join(p[:len(p)-1], ", ") + " and " + p[len(p)-1]
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = Capitalize(s)
	switch s[len(s)-1] {
	case '.', '!', '?', ':', ')', '"':
		return s
	}
	return s + "."
}
