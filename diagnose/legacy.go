package diagnose

import (
	"fmt"
	"strings"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/transcript"
)

// legacyFindings warns when a completed session used a deprecated protocol
// version (SSL 3.0, TLS 1.0 and 1.1: RFC 7568, RFC 8996) or a TLS 1.2 suite
// without forward secrecy or without AEAD. Nothing failed: the server
// accepted what the client offered, but a current client would not (or
// should not) settle for it.
func legacyFindings(in Input, tr *transcript.Transcript) []finding.Finding {
	if !in.HandshakeDone || tr == nil || tr.Version == 0 {
		return nil
	}
	var out []finding.Finding
	switch v := tr.Version; v {
	case wire.VersionSSL30, wire.VersionTLS10, wire.VersionTLS11, wire.VersionDTLS10:
		rfc := "RFC 8996 deprecates TLS 1.0 and 1.1 (and DTLS 1.0)"
		if v == wire.VersionSSL30 {
			rfc = "RFC 7568 prohibits SSL 3.0 (POODLE)"
		}
		out = append(out, finding.Finding{ID: finding.ProtocolDeprecatedVersion, Severity: finding.Warning,
			Title:  fmt.Sprintf("The session used %s, a deprecated protocol version", v),
			Detail: rfc + "; current browsers, curl and Go refuse it by default, so this server works only for clients that opt in to legacy versions.",
			Fix:    "Enable TLS 1.2 and 1.3 on the server (and disable the older versions once no client needs them)."})
	}
	if s, ok := tr.CipherSuite.Info(); ok && !s.TLS13 {
		if why := legacySuite(s); why != "" {
			out = append(out, finding.Finding{ID: finding.ProtocolLegacySuite, Severity: finding.Warning,
				Title:  fmt.Sprintf("The session used %s, a legacy cipher suite", s.Name),
				Detail: "This suite " + why + ". It is negotiated only when the client offers it and the server prefers or accepts it.",
				Fix:    "Prefer ECDHE suites with AES-GCM or ChaCha20-Poly1305 on the server (Mozilla's intermediate configuration), and TLS 1.3."})
		}
	}
	return out
}

// legacySuite says why a TLS 1.2-or-older suite is legacy: no forward
// secrecy, no authentication, no AEAD, or a broken cipher. "" means it is
// an ephemeral key exchange with an AEAD cipher.
func legacySuite(s wire.CipherSuiteInfo) string {
	var why []string
	switch {
	case s.Anonymous():
		why = append(why, "authenticates nobody (anonymous key exchange)")
	case !s.ForwardSecret():
		why = append(why, fmt.Sprintf("has no forward secrecy (%s key exchange: a stolen server key decrypts recorded traffic)", s.Kx))
	}
	switch {
	case s.NullCipher():
		why = append(why, "does not encrypt at all")
	case s.Export:
		why = append(why, fmt.Sprintf("uses export-grade %d-bit keys", s.KeyBits))
	case s.Cipher == wire.CipherRC4:
		why = append(why, "uses RC4, which RFC 7465 prohibits")
	case s.Cipher == wire.Cipher3DESCBC || s.Cipher == wire.CipherDESCBC || s.Cipher == wire.CipherIDEACBC || s.Cipher == wire.CipherRC2CBC:
		why = append(why, fmt.Sprintf("uses %s, a 64-bit block cipher open to SWEET32", s.Cipher))
	case !s.AEAD():
		why = append(why, fmt.Sprintf("uses %s with MAC-then-encrypt rather than an AEAD cipher (Lucky 13 and padding-oracle attacks)", s.Cipher))
	}
	return strings.Join(why, ", and ")
}
