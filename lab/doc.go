// Package lab runs broken TLS servers on loopback, one per failure that
// tlskit diagnoses, so that every diagnosis can be reproduced offline: a
// badssl.com that needs no network. `tlskit lab` serves it, `tlskit demo`
// starts it and runs `tlskit check` against every case, and tlskit's own
// tests use it.
//
// [Start] generates a throw-away [PKI], writes its trust anchor and client
// certificates into a directory (see [Files]), and listens on 127.0.0.1
// port 0 once per case. [Lab.Cases] then says, for each case, where it is,
// what a client needs to reach it ([Client]: the name, the root to trust,
// a pin, a client certificate, a timeout, an in-band upgrade), which finding id `tlskit check`
// must report and which exit code it must return. [Catalog] lists the same
// cases without starting anything.
//
// # Names and trust
//
// Each case is reached with its own SNI name, <case>.lab.tlskit.test (see
// [ServerName]), and its leaf certificate carries exactly that name, so a
// case cannot pass by accident on another case's certificate. Clients trust
// only root.pem: every case's Client has its ServerName and CAFile.
// Certificates are ECDSA P-256 unless a case needs RSA, and their validity
// is relative to the time the lab started.
//
// # The cases
//
// Unless noted, a case is a Go crypto/tls server; "raw" means a socket
// writer producing bytes crypto/tls will not. Exit is the exit code of
// `tlskit check`; warnings do not fail a check.
//
//	case                        finding                    exit  server
//	good                        -                          0     TLS 1.3, leaf + intermediate
//	good-tls12                  -                          0     TLS 1.2 only
//	refused                     net.refused                1     a port bound by a socket that never listens
//	timeout                     net.timeout                1     raw: accepts, never writes (Client.Timeout 1s)
//	reset                       net.reset                  1     raw: reads the ClientHello, closes with SO_LINGER 0 (RST)
//	not-tls-http                protocol.not-tls           1     raw: answers "HTTP/1.1 400 Bad Request" in plaintext
//	not-tls-ssh                 protocol.not-tls           1     raw: "SSH-2.0-OpenSSH_9.2p1 Debian-2" banner
//	not-tls-smtp                protocol.not-tls           1     raw: "220 mail.lab.tlskit.test ESMTP" greeting
//	version-mismatch            protocol.version-mismatch  1     TLS 1.0-1.1 only: protocol_version alert (70)
//	version-intolerance         protocol.version-intolerance 1   TLS 1.2; closes on a hello that offers TLS 1.3 (no alert)
//	large-hello                 protocol.hello-rejected    1     raw: one read of 1,024 bytes for the ClientHello; closes on a larger one (no alert)
//	no-shared-cipher            protocol.no-shared-cipher  1     TLS 1.2, TLS_RSA_WITH_3DES_EDE_CBC_SHA only: handshake_failure (40)
//	legacy-version              protocol.deprecated-version 0    TLS 1.0 only; Client.MinVersion opts in to TLS 1.0
//	rsa-key-exchange-only       protocol.client-unsupported 1    TLS 1.2, TLS_RSA_WITH_AES_*_GCM only (Go's clients stopped offering them)
//	pss-key                     protocol.client-unsupported 1    raw TLS 1.2: an RSA-PSS-key leaf, rsa_pss_pss_sha256 only; handshake_failure without it
//	unknown-name-go             sni.unrecognized-name      1     a Go server with a certificate for other.lab.tlskit.test only: internal_error (80)
//	unrecognized-name           sni.unrecognized-name      1     raw: fatal unrecognized_name alert (112) after the ClientHello
//	expired                     cert.expired               1     leaf expired 30 days ago
//	not-yet-valid               cert.not-yet-valid         1     leaf valid from 30 days ahead
//	expiring-soon               cert.expiring-soon         0     leaf valid for 10 more days (warned within 30)
//	self-signed                 cert.self-signed           1     self-signed leaf, sent alone
//	weak-key                    cert.weak-key              1     1024-bit RSA leaf (Go still accepts it)
//	weak-signature              cert.weak-signature        1     sha1WithRSAEncryption leaf from the RSA intermediate
//	wrong-eku                   cert.wrong-eku             1     leaf with extKeyUsage clientAuth only
//	name-mismatch               name.mismatch              1     valid leaf for elsewhere.lab.tlskit.test
//	chain-incomplete            chain.incomplete           1     leaf alone; its AIA caIssuers is AIAURL
//	untrusted-root              chain.untrusted-root       1     leaf + OtherRoot: complete chain, unknown root
//	wrong-order                 chain.wrong-order          0     leaf, intermediate, sub-intermediate (issuer last)
//	expired-cross-sign          chain.expired-cross-sign   0     full chain + expired cross-sign of the root by an old root
//	pin-mismatch                pin.mismatch               1     healthy server; Client.Pins: a pin of another key
//	client-cert-required-tls12  client-cert.required       1     requires a client certificate: handshake_failure (40)
//	client-cert-required-tls13  client-cert.required       1     same in TLS 1.3: certificate_required (116) after the client's Finished
//	client-cert-rejected-tls12  client-cert.rejected       1     Client.CertFile/KeyFile: badclient: unknown_ca (48)
//	client-cert-rejected-tls13  client-cert.rejected       1     same in TLS 1.3
//	revoked                     cert.revoked               1     leaf on the Intermediate's CRL (Client.CRLFiles: intermediate.crl)
//	crl-stale                   crl.invalid                1     healthy leaf; Client.CRLFiles: intermediate-stale.crl, past its next update
//	ocsp-good                   ocsp.stapled               0     staples a good OCSP response from the Intermediate
//	ocsp-revoked                cert.revoked               1     staples an OCSP response saying the leaf is revoked
//	ocsp-stale                  ocsp.invalid               1     staples an OCSP response whose nextUpdate passed yesterday
//	must-staple                 ocsp.must-staple           1     leaf with the TLS feature status_request; no staple
//	aia-fetch                   chain.incomplete           1     leaf alone; AIA → the PKI server's intermediate (Client.Fetch)
//	aia-wrong                   chain.incomplete           1     leaf alone; AIA → the PKI server serves the other root (Client.Fetch)
//	name-constraints            chain.name-constraints     1     intermediate permitted only other.lab.tlskit.test
//	policy-required             chain.policy               1     intermediate with requireExplicitPolicy 0; the leaf has no certificate policies
//	serial-zero                 cert.nonconforming         1     leaf with serial number 0, which real clients accept
//	hrr-client-cert-required    client-cert.required       1     TLS 1.3, P-384 only: a HelloRetryRequest first, then certificate_required
//	starttls-good               -                          0     SMTP (Client.StartTLS smtp): STARTTLS, then TLS 1.3
//	starttls-not-offered        starttls.not-offered       1     SMTP: EHLO lists no STARTTLS
//	starttls-refused            starttls.refused           1     SMTP: STARTTLS offered, answered "454 4.7.0 TLS not available…"
//	starttls-expired            cert.expired               1     SMTP: STARTTLS, then a leaf expired 30 days ago
//	starttls-pipelined          starttls.plaintext-after-upgrade  1  SMTP: "250 …" sent after the 220 go-ahead, before TLS
//
// Every case that sends a certificate also has its chain written to
// chains/<case>.pem ([Case.ChainFile]) for `tlskit verify`. A plain HTTP
// server, the PKI server ([Lab.PKIURL]), serves what AIA and CRL
// distribution point URLs of the lab point at, so that --fetch is tested
// against the lab, never the internet; the Intermediate's CRL is also
// written to intermediate.crl ([Files].CRL).
//
// Every expected finding can be proved from what a client sees: the alert
// number, the bytes instead of a TLS record, the certificates sent and their
// order, the CertificateRequest's CA names (the client CA, client-ca.pem),
// and the time. Two pairs need care. A TLS 1.2 handshake_failure means
// "client certificate required" when the server sent a CertificateRequest
// and "no shared cipher" when it answered the ClientHello directly. A
// chain that stops at an intermediate is chain.incomplete, while one that
// ends at a self-signed root the client does not trust is
// chain.untrusted-root; that is why the untrusted-root server sends its root.
//
// # Resources
//
// The lab is idle-cheap: one goroutine per listener, one per accepted
// connection, and every connection has a 10-second deadline. [Lab.Close]
// closes the listeners and open connections and waits for every goroutine
// to return; cancelling the context given to [Start] does the same.
//
// The refused case's port is held by a TCP socket that is bound but never
// listens: connections to it are refused, and no other program can take the
// port while the lab runs.
package lab
