// Package trust decides whether to trust a certificate chain and, when it
// must not, says exactly why and how to fix it.
//
// A [Verifier] holds the trust anchors ([Anchors]), SPKI pins, the
// acceptable names, the extended key usage and a limit on intermediates.
// [Verifier.Verify] checks a chain as the peer sent it and returns a
// [Result] holding every [finding.Finding] it can prove, not just the first
// failure. [Verifier.VerifyServer] and [Verifier.VerifyClient] plug the
// same check into [crypto/tls.Config.VerifyConnection] and fail the
// handshake with a [*VerifyError] that carries the finding id.
//
// # Trust anchors
//
// [LoadAnchors] is the one place trust sources ("system", "file:PATH",
// "dir:PATH", "pem:PEM") get their meaning: the sources replace the system
// roots unless "system" is listed, so nothing is merged silently. The zero
// Verifier trusts nothing. "system" is [truststore.SystemRoots]: the files
// crypto/x509 and OpenSSL read on Linux, honouring SSL_CERT_FILE and
// SSL_CERT_DIR.
//
// # Server names
//
// [ServerName] decides, once for every client path, the name a server's
// certificate must carry: the configured name, else the host of the dial
// target, IP addresses included (checked against IP SANs). An empty name is
// an error, never "check no name".
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
// the list the peer sent (CVE-2016-2402). After [Verifier.PinsExpire] a pin set
// that does not match fails closed with [finding.PinExpired], so a stale pin
// set is reported as stale rather than silently ignored.
package trust
