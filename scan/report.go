package scan

import (
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/transcript"
	"github.com/tlskit/tlskit/trust"
)

// Report is everything one scan learnt about one server: what `tlskit
// scan --json` prints for each target. Every row names the probes it was
// learnt from (Probe ids), and every probe carries its transcript.
type Report struct {
	// Target is what was scanned, e.g. "example.com:443".
	Target string `json:"target"`
	// Address is the address every connection of the scan went to: the
	// one its first connection reached (see Options.Dial).
	Address string `json:"address,omitempty"`
	// DialFailures are the addresses of the target's name tried in vain,
	// in order: before Address (net.fallback), or each one tried when no
	// connection opened. Absent for a target given as an IP address.
	DialFailures []diagnose.Attempt `json:"dial_failures,omitempty"`
	// ServerName is the name sent as SNI and verified.
	ServerName string `json:"server_name,omitempty"`
	// Trust says which anchors chains were verified against.
	Trust string `json:"trust,omitempty"`
	// StartTLS is what the in-band upgrade before TLS established (the
	// first probe's), when the scan spoke one.
	StartTLS *transcript.Upgrade `json:"starttls,omitempty"`
	// Versions lists the protocol versions the server accepts, oldest
	// first, each with its cipher suites; a version it refuses is absent.
	Versions []VersionSupport `json:"versions"`
	// Protocols lists every version tried, accepted or not, with the
	// evidence.
	Protocols []ProtocolResult `json:"protocols"`
	// Groups are the key exchange groups the server accepts, in its
	// preference order when GroupOrder is "server".
	Groups []GroupSupport `json:"groups"`
	// GroupOrder is "server" (the server picks by its own preference),
	// "client" (it takes the client's first supported group) or "one group".
	GroupOrder string `json:"group_order,omitempty"`
	// PreferredGroup is the group the server picks first when it has a
	// preference of its own.
	PreferredGroup string `json:"preferred_group,omitempty"`
	// SignatureAlgorithms are the schemes the server signs its key
	// exchange (TLS 1.2) or CertificateVerify (TLS 1.3) with.
	SignatureAlgorithms []SigAlgSupport `json:"signature_algorithms"`
	// ALPN is what the server negotiates of the application protocols tried.
	ALPN ALPNResult `json:"alpn"`
	// Certificates are the server's certificates by key type, with and
	// without SNI.
	Certificates []CertificateResult `json:"certificates"`
	// Session lists the session features.
	Session SessionFeatures `json:"session"`
	// Vulnerabilities are the known attacks testssl.sh checks by name, in
	// its order, each with tlskit's verdict and where it came from.
	Vulnerabilities []Vulnerability `json:"vulnerabilities"`
	// HTTP is what the one HTTPS request showed (HSTS, compression), when
	// the service is HTTPS and the scan made it.
	HTTP *HTTPResult `json:"http,omitempty"`
	// Findings are the weaknesses (and policy deviations), most serious
	// first, each derived from the facts above.
	Findings []finding.Finding `json:"findings"`
	// Profile is the compliance with the chosen TLS profile, if one was.
	Profile *ProfileResult `json:"profile,omitempty"`
	// Clients says which client profiles can connect.
	Clients []ClientResult `json:"clients"`
	// Probes are every connection the scan made, with what it offered,
	// what came back, and the transcript.
	Probes []*Probe `json:"probes"`
	// Connections counts the connections made.
	Connections int `json:"connections"`
	// Stopped says why the scan ended after the protocol versions, when
	// it did although the server accepts one: the tables after them are
	// empty, and the findings say why.
	Stopped string `json:"stopped,omitempty"`
	// Problems are what the scan could not find out, in words.
	Problems []string `json:"problems,omitempty"`
	// Started is when the scan began; DurationMS how long it took.
	Started    time.Time `json:"started"`
	DurationMS float64   `json:"duration_ms"`
}

// VersionSupport is one accepted protocol version and its suites.
type VersionSupport struct {
	// Version is "SSL 2.0", "SSL 3.0", "TLS 1.0" … "TLS 1.3".
	Version string `json:"version"`
	// ServerOrder says the server picks suites by its own preference; then
	// Suites is in that order. Otherwise it takes the client's first
	// suite it supports, and Suites is in tlskit's offer order.
	ServerOrder bool `json:"server_order"`
	// Order is "server", "client", or "one suite" (nothing to order).
	Order string `json:"order"`
	// Suites are the accepted suites by IANA name.
	Suites []string `json:"suites"`
	// Details describe each suite, in the same order.
	Details []SuiteDetail `json:"details"`
	// Probe is the probe that showed the version accepted.
	Probe int `json:"probe"`
}

// SuiteDetail describes one accepted suite.
type SuiteDetail struct {
	// Name is the IANA name and ID the code point ("0xc02f").
	Name string `json:"name"`
	ID   string `json:"id"`
	// Kx, Auth, Cipher and MAC are the suite's key exchange,
	// authentication, record cipher and MAC (AEAD for AEAD ciphers), and
	// Bits the cipher's effective key strength, from wire's table.
	Kx     string `json:"kx"`
	Auth   string `json:"auth"`
	Cipher string `json:"cipher"`
	MAC    string `json:"mac"`
	Bits   int    `json:"bits"`
	// Strength is "strong", "weak" or "insecure"; Note says why.
	Strength string `json:"strength"`
	Note     string `json:"note,omitempty"`
	// KeyExchange is what the server's key exchange used when the suite
	// was picked: "x25519", "DH 2048 (ffdhe2048)", "RSA".
	KeyExchange string `json:"key_exchange,omitempty"`
	// Probe is the probe in which the server picked the suite.
	Probe int `json:"probe"`
}

// ProtocolResult is one protocol version tried.
type ProtocolResult struct {
	// Version is the version tried and Accepted whether the server
	// answered with it.
	Version  string `json:"version"`
	Accepted bool   `json:"accepted"`
	// Unknown says the question went unanswered: the probe's connection
	// could not be made, or its in-band upgrade cannot work, so that not
	// Accepted is not a refusal.
	Unknown bool `json:"unknown,omitempty"`
	// Answer says what the server answered: "ServerHello TLS 1.2",
	// "alert fatal protocol_version", "ServerHello for TLS 1.2 instead".
	Answer string `json:"answer"`
	// Probe is the probe's id.
	Probe int `json:"probe"`
}

// GroupSupport is one accepted key exchange group.
type GroupSupport struct {
	// Name is the IANA name and ID the code point ("0x11ec").
	Name string `json:"name"`
	ID   string `json:"id"`
	// Kind is "ECDHE", "FFDHE", "hybrid post-quantum" or "post-quantum".
	Kind string `json:"kind"`
	// Versions are the versions in which the server accepted it.
	Versions []string `json:"versions"`
	// Bits is the key size (the DH prime, the curve).
	Bits int `json:"bits,omitempty"`
	// Probes are the probes in which the server picked it.
	Probes []int `json:"probes"`
}

// SigAlgSupport is one signature scheme the server signs with.
type SigAlgSupport struct {
	// Name is the IANA name and ID the code point ("0x0403").
	Name string `json:"name"`
	ID   string `json:"id"`
	// Versions are the versions in which the server signed with it, and
	// Probes the probes that showed it.
	Versions []string `json:"versions"`
	Probes   []int    `json:"probes"`
}

// ALPNResult is the application protocol negotiation.
type ALPNResult struct {
	// Protocols are the protocols the server selected, in the order it
	// picked them when offered all.
	Protocols []string `json:"protocols"`
	// Note says what the answer means (no ALPN, a refusal, which version).
	Note string `json:"note,omitempty"`
	// Probes are the probes that asked.
	Probes []int `json:"probes,omitempty"`
}

// CertificateResult is the chain the server sends for one key type.
type CertificateResult struct {
	// KeyType is "RSA", "ECDSA", "EdDSA" or "DSA": what the probe asked for.
	KeyType string `json:"key_type"`
	// Key describes the leaf's key, e.g. "ECDSA P-256".
	Key string `json:"key"`
	// WithSNI and WithoutSNI say whether this chain is served when the
	// client sends the server name, and when it sends none.
	WithSNI    bool `json:"with_sni"`
	WithoutSNI bool `json:"without_sni"`
	// Version is the protocol version the chain was read with.
	Version string `json:"version"`
	// Chain is the chain as sent, leaf first.
	Chain []trust.CertInfo `json:"chain"`
	// Trusted says whether the chain verified under the trust policy for
	// the server name; Findings are the verifier's.
	Trusted  bool              `json:"trusted"`
	Findings []finding.Finding `json:"findings"`
	// OCSPStapled says a stapled OCSP response came with this chain.
	OCSPStapled bool `json:"ocsp_stapled"`
	// Probes are the probes that received this chain.
	Probes []int `json:"probes"`
}

// Feature states.
const (
	Supported     = "supported"
	NotSupported  = "not supported"
	NotApplicable = "not applicable"
	Unknown       = "unknown"
)

// Feature is one session feature: its state and the evidence.
type Feature struct {
	// State is supported, not supported, not applicable or unknown.
	State string `json:"state"`
	// Detail says what was seen, or why the state is unknown.
	Detail string `json:"detail,omitempty"`
	// Probes are the probes the state was learnt from.
	Probes []int `json:"probes,omitempty"`
}

// SessionFeatures are the session features a scan tests: resumption by
// session id and by ticket (RFC 5077) with the ticket lifetime in seconds
// (TLS 1.2's hint, else TLS 1.3's), TLS 1.3 PSK resumption and 0-RTT,
// extended master secret (RFC 7627), encrypt-then-MAC (RFC 7366), secure
// renegotiation (RFC 5746) and client-initiated renegotiation,
// TLS_FALLBACK_SCSV (RFC 7507), compression, heartbeat (RFC 6520) and
// Heartbleed (Supported means vulnerable), OCSP stapling.
type SessionFeatures struct {
	ResumptionID        Feature `json:"resumption_session_id"`
	ResumptionTicket    Feature `json:"resumption_ticket"`
	TicketLifetime      int     `json:"ticket_lifetime_s,omitempty"`
	PSK13               Feature `json:"tls13_psk_resumption"`
	EarlyData           Feature `json:"tls13_early_data"`
	ExtendedMasterSec   Feature `json:"extended_master_secret"`
	EncryptThenMAC      Feature `json:"encrypt_then_mac"`
	SecureRenegotiation Feature `json:"secure_renegotiation"`
	ClientRenegotiation Feature `json:"client_renegotiation"`
	FallbackSCSV        Feature `json:"fallback_scsv"`
	// VersionTolerance says whether a server whose highest version is
	// TLS 1.2 answers a hello that offers TLS 1.3 too with TLS 1.2, as
	// RFC 8446 §4.2.1 requires (not supported: it refuses it).
	VersionTolerance Feature `json:"version_tolerance"`
	Compression      Feature `json:"compression"`
	Heartbeat        Feature `json:"heartbeat"`
	Heartbleed       Feature `json:"heartbleed"`
	OCSPStapling     Feature `json:"ocsp_stapling"`
	// ClientCertificate says whether the server asks for a client
	// certificate (supported: it does; the detail says whether it is
	// required, optional, or not found out).
	ClientCertificate Feature `json:"client_certificate"`
}

// Vulnerability is one known attack, under the name testssl.sh gives it.
type Vulnerability struct {
	// Name is the attack's name ("CCS injection"), CVE its CVE ids, and
	// TestsslID the id of the same check in testssl.sh's JSON ("CCS"),
	// empty when testssl.sh has none.
	Name      string   `json:"name"`
	CVE       []string `json:"cve,omitempty"`
	TestsslID string   `json:"testssl_id,omitempty"`
	// State is vulnerable, potentially vulnerable (the exposure is there,
	// whether it can be exploited depends on what a scan cannot see), not
	// vulnerable, not applicable, or unknown; Detail says what was seen.
	State  string `json:"state"`
	Detail string `json:"detail"`
	// Evidence lists the answers a probe compared (ROBOT's five).
	Evidence []string `json:"evidence,omitempty"`
	// Finding is the id of the finding that reports it, when it is
	// (potentially) vulnerable.
	Finding string `json:"finding,omitempty"`
	// Probes are the probes it was learnt from.
	Probes []int `json:"probes,omitempty"`
}

// Probe is one connection of a scan: why it was made, what the hello
// offered, what the server answered, and the whole conversation.
type Probe struct {
	// ID numbers the probes from 1, in the order they were made.
	ID int `json:"id"`
	// Purpose says what the probe asks, e.g. "TLS 1.2 suites (round 3)".
	Purpose string `json:"purpose"`
	// Offered summarises the ClientHello (its full content is the first
	// event of the transcript).
	Offered string `json:"offered"`
	// Answer summarises what the server answered.
	Answer string `json:"answer"`
	// Transcript is the conversation, decrypted where the probe derived
	// keys, as `tlskit check` shows it.
	Transcript []transcript.Event `json:"transcript"`
	// Problems are what the decoder could not make sense of.
	Problems []string `json:"problems,omitempty"`
	// DurationMS is the connection's time, from dialling to closing.
	DurationMS float64 `json:"duration_ms"`
}
