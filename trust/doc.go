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
// # Validation and diagnosis, in one pass
//
// tlskit builds and validates paths itself, on crypto/x509's parser and
// signature checks. [Verifier.Check] first checks the name (the cheapest
// refusal), then searches paths from the leaf the way a client does: every
// candidate issuer by name among the anchors (first) and the sent
// certificates, ordered by key identifier, validity and CA status,
// backtracking when a path fails, within a budget of signature checks and
// steps. Each path that reaches an anchor is validated per RFC 5280 §6
// (validity, CA status and key usage, path length with self-issued
// certificates not counted, name constraints of every form including
// directory names, extended key usage nesting, signature algorithms, key
// sizes, revocation with [CRL]s) and the [Profile]'s rules. The first
// valid path ends the search. When none is valid, the path that got
// furthest is explained from the problems recorded during that same
// search: one that reaches an anchor beats one that does not, then the
// one whose first problem is furthest from the leaf. So a server that
// omitted its intermediate ([finding.ChainIncomplete]), a store that lacks
// the root ([finding.ChainUntrustedRoot]), an issuer loop
// ([finding.ChainCycle]) and an expired cross-sign on an otherwise good
// path ([finding.CertExpired]) are told apart.
//
// [Verifier.Fetch] (opt-in) fetches a missing issuer from its AIA URL and
// CRLs from their distribution points; a stapled OCSP response given in
// the [Request] is validated and reported.
//
// # Pins
//
// A [Pin] is the SHA-256 of a certificate's SubjectPublicKeyInfo (RFC 7469
// §2.4). Pins are matched against the verified chains only, never against
// the list the peer sent (CVE-2016-2402). After [Verifier.PinsExpire] a pin set
// that does not match fails closed with [finding.PinExpired], so a stale pin
// set is reported as stale rather than silently ignored.
package trust
