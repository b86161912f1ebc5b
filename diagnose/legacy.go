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
	if s := tr.CipherSuite; s != 0 && tr.Version != wire.VersionTLS13 {
		if why := legacySuite(s.String()); why != "" {
			out = append(out, finding.Finding{ID: finding.ProtocolLegacySuite, Severity: finding.Warning,
				Title:  fmt.Sprintf("The session used %s, a legacy cipher suite", s),
				Detail: "This suite " + why + ". It is negotiated only when the client offers it and the server prefers or accepts it.",
				Fix:    "Prefer ECDHE suites with AES-GCM or ChaCha20-Poly1305 on the server (Mozilla's intermediate configuration), and TLS 1.3."})
		}
	}
	return out
}

// legacySuite says why a TLS 1.2-or-older suite, by its IANA name, is
// legacy: no forward secrecy, no AEAD, or a broken cipher. "" means it is
// an ECDHE or DHE suite with an AEAD cipher.
func legacySuite(name string) string {
	var why []string
	kx, cipher, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(name, "TLS_"), "SSL_"), "_WITH_")
	switch {
	case strings.Contains(kx, "ECDHE") || strings.Contains(kx, "DHE"):
	case strings.Contains(kx, "anon"):
		why = append(why, "authenticates nobody (anonymous key exchange)")
	default:
		why = append(why, "has no forward secrecy (a stolen server key decrypts recorded traffic)")
	}
	switch {
	case strings.Contains(cipher, "NULL"):
		why = append(why, "does not encrypt at all")
	case strings.Contains(cipher, "RC4"):
		why = append(why, "uses RC4, which RFC 7465 prohibits")
	case strings.Contains(cipher, "3DES") || strings.Contains(cipher, "DES"):
		why = append(why, "uses a 64-bit block cipher open to SWEET32")
	case strings.Contains(name, "EXPORT"):
		why = append(why, "uses export-grade keys")
	case strings.Contains(cipher, "GCM") || strings.Contains(cipher, "CCM") || strings.Contains(cipher, "POLY1305"):
	default:
		why = append(why, "uses CBC with MAC-then-encrypt rather than an AEAD cipher (Lucky 13 and padding-oracle attacks)")
	}
	return strings.Join(why, ", and ")
}
