// Package truststore audits where a Linux machine's TLS clients get their
// trusted roots, and answers which of them would trust a given chain.
//
// Curl can trust a server that a Qt application on the same machine
// rejects, because the two load system roots differently. This package
// models each client's loading rule as it is written in that client's
// source, reads the files under a root directory (this machine, or an
// unpacked container image), and explains the differences as
// [finding.Finding] values.
//
// # Discovery
//
// [Discover] lists every [Location] a client in [Stacks] reads: Go's
// root_linux.go bundles and directories, OpenSSL's OPENSSLDIR/cert.pem and
// OPENSSLDIR/certs, Qt's nine hard-coded directories, curl's and GnuTLS's
// configure-time bundles, the p11-kit extraction on Fedora/RHEL, and
// SSL_CERT_FILE / SSL_CERT_DIR / CURL_CA_BUNDLE from [Options.Env]. It
// reports dangling and looping links, HASH.N names that are not their
// certificate's subject hash, dangling HASH.N links that hide a later
// HASH.N+1 from OpenSSL before 3.0.22, hashed directories missing roots the
// bundle has, expired roots, duplicates, unreadable files and files that
// are not certificates.
//
// Paths are resolved inside [Options.Root] like a chroot: absolute symlink
// targets restart at Root, ".." stops there, at most 40 links are followed
// per path, files over 16 MiB are not read, and FIFOs and devices are never
// opened.
//
// # Subject hashes
//
// [SubjectHash] is OpenSSL's X509_NAME_hash_ex: SHA-1 over [CanonicalName]
// (string values converted to UTF-8, trimmed, whitespace folded, ASCII
// lower-cased, re-tagged UTF8String, multi-valued RDNs re-sorted), first
// four bytes little-endian. It equals `openssl x509 -subject_hash`.
// [SubjectHashOld] is the MD5-based `-subject_hash_old`.
//
// # Verdicts
//
// [WhoTrusts] verifies a chain once per stack, each time against only the
// roots that stack would load (eagerly read bundles, or for OpenSSL's
// CApath and Qt's on-demand mode, HASH.0, HASH.1, ... looked up by each
// issuer's subject hash) and by that stack's own rules: Go's verdict is
// crypto/x509's; OpenSSL-based stacks (openssl, curl, python, Qt) and GnuTLS
// are judged by a model of their rules (name matching and the Common Name,
// wildcards, security level or verification profile, SHA-1, extended and
// plain key usage, CA flags, critical extensions, partial chains,
// validity), checked against the real clients in the tests and documented
// in docs/stacks.md. Each [StackVerdict] that says no names the rule
// ([StackVerdict.Rule]), the missing file or link, and the fix; one that
// says yes lists what it accepted that a strict verifier refuses
// ([StackVerdict.Lenient]).
//
// # Limits
//
// Java keystores are read as Java reads a trust store without a password
// (JKS, JCEKS, PKCS#12 without encryption), compared with the system
// bundle, and judged as the java stack with the JDK's default constraints;
// NSS databases are not read. Name constraints, policies and revocation
// are not modelled, nor what an application configures for itself (its
// own trust store, java.security or security level).
package truststore
