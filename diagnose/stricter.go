package diagnose

import (
	"fmt"
	"strings"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/trust"
	"github.com/tlskit/tlskit/truststore"
)

// MarkStricter notes, on each stack that accepts a chain tlskit's own
// verifier refused (res), what tlskit refuses it for, what the stack
// applied instead (its StackVerdict.Lenient rules: the Common Name, a small
// key, a partial chain) and why the refusal still matters. A refusal for
// the anchors or pins alone (a root this policy does not trust) is not
// noted: the stacks have their own roots, which is what they are asked
// about.
func MarkStricter(stacks []truststore.StackVerdict, res *trust.Result) {
	if res == nil || res.Trusted {
		return
	}
	var first *finding.Finding
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Severity != finding.Error {
			continue
		}
		switch f.ID {
		case finding.ChainUntrustedRoot, finding.ChainIncomplete, finding.PolicyInvalid, finding.PinMismatch, finding.PinExpired, finding.CertSelfSigned:
			continue
		}
		first = f
		break
	}
	if first == nil {
		return
	}
	for i := range stacks {
		s := &stacks[i]
		if !s.Trusted {
			continue
		}
		how := "this stack does not enforce that rule"
		if len(s.Lenient) > 0 {
			how = "this stack " + strings.Join(s.Lenient, "; ")
		}
		s.Stricter = fmt.Sprintf("%s (%s): %s. %s", first.ID, strings.TrimSuffix(first.Title, "."), how, whyItMatters(first.ID))
	}
}

// whyItMatters says why a chain a lenient stack accepts must still be
// fixed, by the finding tlskit refuses it with.
func whyItMatters(id string) string {
	switch id {
	case finding.NameMismatch:
		return "Go, every browser and any client following RFC 6125 refuse it, and more libraries drop the Common Name fallback over time: put the name in the subjectAltName extension"
	case finding.CertWeakKey:
		return "A key that small is within reach of an attacker with resources, and OpenSSL at security level 2 (Debian, Fedora, Python) already refuses it: reissue with RSA 2048 or ECDSA P-256"
	case finding.CertWeakSignature:
		return "SHA-1 collisions are practical (SHAttered, 2017), so such a signature proves little, and Go, browsers and OpenSSL at security level 1 and up refuse it: reissue with SHA-256"
	case finding.CertWrongEKU:
		return "The certificate was not issued for TLS servers, and Go, OpenSSL and GnuTLS check the purpose: reissue it with extendedKeyUsage serverAuth"
	case finding.CertExpired, finding.CertNotYetValid:
		return "Every client checks validity periods as of its own clock; renew the certificate"
	}
	return "Clients that enforce the rule refuse the connection, and the certificate is wrong all the same: fix it rather than rely on the lenient stack"
}
