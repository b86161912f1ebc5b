// Package trust decides whether to trust a certificate chain and, when it
// must not, says exactly why and how to fix it.
//
// A [Policy] names the trust anchors (the system roots, extra roots, or
// both), SPKI pins, the acceptable names, the extended key usage and a limit
// on intermediates. [Policy.Verify] checks a chain as the peer sent it and
// returns a [Result] holding every [finding.Finding] it can prove, not just
// the first failure. [Policy.VerifyConnection] plugs the same check into
// [crypto/tls.Config.VerifyConnection] and fails the handshake with a
// [*VerifyError] that carries the finding id.
//
// # Trust anchors
//
// The zero Policy trusts nothing. Roots listed in [Policy.Roots] replace the
// system roots unless [Policy.System] is also set: nothing is merged
// silently. [DefaultSystemRoots] loads the same files crypto/x509 and
// OpenSSL read on Linux, honouring SSL_CERT_FILE and SSL_CERT_DIR.
//
// # Diagnosis
//
// Path building and signature checking are delegated to
// [crypto/x509.Certificate.Verify]. Around it, Verify inspects the chain's
// structure and repeats the verification with variations (another time, any
// key usage) to isolate each cause, so that it can tell apart, for
// instance, a server that omitted its intermediate ([finding.ChainIncomplete])
// from a store that lacks the root ([finding.ChainUntrustedRoot]).
//
// # Pins
//
// A [Pin] is the SHA-256 of a certificate's SubjectPublicKeyInfo (RFC 7469
// §2.4). Pins are matched against the verified chains only, never against
// the list the peer sent (CVE-2016-2402). After [Policy.PinsExpire] a pin set
// that does not match fails closed with [finding.PinExpired], so a stale pin
// set is reported as stale rather than silently ignored.
package trust
