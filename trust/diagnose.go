package trust

import (
	"crypto/dsa" // DSA keys are diagnosed, never used
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/dn"
)

// name returns c's subject as an RFC 4514 string, quoted.
func name(c *x509.Certificate) string {
	if s := dn.String(c.RawSubject); s != "" {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("(empty subject, serial %s)", SerialHex(c.SerialNumber))
}

// issuerName returns c's issuer as an RFC 4514 string, quoted.
func issuerName(c *x509.Certificate) string {
	return fmt.Sprintf("%q", dn.String(c.RawIssuer))
}

// where says which certificate c is: its position in the sent chain, or
// that it is a trust anchor.
func (v *verifier) where(c *x509.Certificate) string {
	if w, ok := v.wheres[c]; ok {
		return w
	}
	w := name(c)
	switch i := v.position(c); {
	case i == 0:
		w = "the leaf " + w
	case i > 0:
		w = fmt.Sprintf("certificate #%d %s", i+1, w)
	case v.isAnchor(c):
		w = "the trust anchor " + w
	}
	if v.wheres == nil {
		v.wheres = make(map[*x509.Certificate]string)
	}
	v.wheres[c] = w
	return w
}

// position returns c's index in the sent chain, or -1.
func (v *verifier) position(c *x509.Certificate) int {
	return slices.IndexFunc(v.sent, func(s *x509.Certificate) bool { return s == c || s.Equal(c) })
}

// peer names the side whose certificate is verified: "client" when the
// policy's usage is clientAuth (a server verifying its clients), else
// "server". Every finding names that side, never the other.
func (v *verifier) peer() string {
	if v.usage == x509.ExtKeyUsageClientAuth {
		return "client"
	}
	return "server"
}

// trustHint says how to add an anchor for this side: the server's roots
// are the client's --ca-file; a client's CA is the server's --client-ca.
func (v *verifier) trustHint() string {
	if v.peer() == "client" {
		return "the trusted client CAs (\"clients\": {\"trust\"} in a policy file)"
	}
	return "the trust anchors (a file: trust source, or the system roots if it is a public CA)"
}

// servedChain names the chain the peer presents, for fixes.
func (v *verifier) servedChain() string {
	if v.peer() == "client" {
		return "the chain the client presents"
	}
	return "the served chain"
}

const day = 24 * time.Hour

// window describes c's validity period.
func window(c *x509.Certificate) string {
	return fmt.Sprintf("valid from %s to %s", c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
}

// pinLine is an evidence line: a certificate's pin and subject.
func pinLine(c *x509.Certificate) string {
	return PinOf(c).String() + "  " + dn.String(c.RawSubject)
}

// selfSigned reports a self-signed leaf that is not an anchor.
func (v *verifier) selfSigned(leaf *x509.Certificate) {
	v.add(finding.Finding{
		ID:       finding.CertSelfSigned,
		Severity: finding.Error,
		Title:    fmt.Sprintf("the leaf %s is self-signed and is not a trust anchor", name(leaf)),
		Detail:   fmt.Sprintf("the certificate is issued by itself (%s) and no CA vouches for it; anchors tried: %s", window(leaf), v.a.desc),
		Fix:      v.selfSignedFix(),
		Evidence: []string{pinLine(leaf)},
	})
}

// selfSignedFix says what to do about a self-signed leaf on this side.
func (v *verifier) selfSignedFix() string {
	if v.peer() == "client" {
		return "if you trust this client, add its certificate to " + v.trustHint() + "; otherwise give the client a certificate issued by a CA you trust"
	}
	return "if you trust this server, add this certificate to the trust anchors or pin it (pin below); otherwise install a certificate issued by a CA on the server"
}

// untrustedRoot reports a chain that ends at a root that is not an anchor.
// When the root itself is missing, path ends at the certificate it issued.
func (v *verifier) untrustedRoot(path []*x509.Certificate, nameOnly []*x509.Certificate) {
	last := path[len(path)-1]
	f := finding.Finding{
		ID:       finding.ChainUntrustedRoot,
		Severity: finding.Error,
		Fix:      "if you trust this CA, add its root certificate to " + v.trustHint() + "; otherwise the server uses a private CA or a TLS-intercepting proxy",
	}
	if v.peer() == "client" {
		f.Fix = "if you trust this CA for clients, add its root certificate to " + v.trustHint() + "; otherwise the client's certificate comes from a CA this service does not accept: give the client one issued by a trusted CA"
	}
	if v.isSelfSigned(last) {
		f.Title = fmt.Sprintf("the chain ends at the root %s, which is not a trust anchor", name(last))
		f.Detail = fmt.Sprintf("the peer sent the root itself as %s; it is self-signed and is not among the anchors tried: %s", v.where(last), v.a.desc)
		f.Evidence = []string{pinLine(last)}
	} else {
		f.Title = fmt.Sprintf("the chain ends at %s, issued by %s, which is not a trust anchor", name(last), issuerName(last))
		f.Detail = fmt.Sprintf("the peer sent the chain up to %s; its issuer %s is neither sent nor among the anchors tried: %s", v.where(last), issuerName(last), v.a.desc)
		if len(last.IssuingCertificateURL) > 0 {
			f.Detail += fmt.Sprintf("; its AIA caIssuers URL is %s (if that is an intermediate rather than a root, the %s must send it too)", strings.Join(last.IssuingCertificateURL, ", "), v.peer())
		}
		f.Detail += v.nameOnlyNote(last, nameOnly)
	}
	v.add(f)
}

// incomplete reports a missing intermediate. A server's missing
// intermediate is a configuration error of the server; for a client
// certificate the same path cannot tell a missing intermediate from a CA
// that is not trusted for clients, so the finding says both.
func (v *verifier) incomplete(last *x509.Certificate, nameOnly []*x509.Certificate) {
	if v.peer() == "client" {
		v.incompleteClient(last, nameOnly)
		return
	}
	title := fmt.Sprintf("the server did not send the intermediate certificate %s", issuerName(last))
	detail := fmt.Sprintf("%s is issued by %s, which the peer did not send and which is not among the anchors tried (%s)", v.where(last), issuerName(last), v.a.desc)
	fix := "the server must send it: configure the full chain (leaf then intermediates, e.g. fullchain.pem rather than cert.pem)"
	if urls := last.IssuingCertificateURL; len(urls) > 0 {
		title += " (fetch it from " + urls[0] + ")"
		detail += fmt.Sprintf("; the certificate's AIA caIssuers URL is %s", strings.Join(urls, ", "))
		detail += ". Browsers that cached or fetched it may work; curl, Go, OpenSSL and Python fail. If this issuer is itself a root you trust, add it to the anchors instead."
	} else {
		// Without an AIA URL nothing tells an intermediate the server
		// left out from the root of a private CA nobody installed, the
		// more common case for internal services: say both.
		title = fmt.Sprintf("the issuer %s of %s is neither sent by the server nor a trust anchor", issuerName(last), name(last))
		detail += "; the certificate has no AIA caIssuers URL, so nothing says whether that issuer is an intermediate the server should send or the root of a private CA that is not trusted here. Browsers that cached an intermediate may work; curl, Go, OpenSSL and Python fail."
		fix = fmt.Sprintf("if %s is the root of your private CA, trust it: add it to %s; if it is an intermediate, the server must send it: configure the full chain (leaf then intermediates, e.g. fullchain.pem rather than cert.pem)", issuerName(last), v.trustHint())
	}
	detail += v.nameOnlyNote(last, nameOnly)
	v.add(finding.Finding{
		ID:       finding.ChainIncomplete,
		Severity: finding.Error,
		Title:    title,
		Detail:   detail,
		Fix:      fix,
		Evidence: last.IssuingCertificateURL,
	})
}

// incompleteClient reports a client certificate whose issuer is neither
// sent by the client nor a trusted client CA.
func (v *verifier) incompleteClient(last *x509.Certificate, nameOnly []*x509.Certificate) {
	detail := fmt.Sprintf("%s is issued by %s, which the client did not send and which is not among the trusted client CAs (%s). Either that issuer is a CA this service does not trust for clients (most often: the client's certificate comes from another CA), or it is an intermediate the client should have sent with its certificate", v.where(last), issuerName(last), v.a.desc)
	if urls := last.IssuingCertificateURL; len(urls) > 0 {
		detail += fmt.Sprintf("; the certificate's AIA caIssuers URL is %s", strings.Join(urls, ", "))
	}
	detail += "." + v.nameOnlyNote(last, nameOnly)
	v.add(finding.Finding{
		ID:       finding.ChainIncomplete,
		Severity: finding.Error,
		Title:    fmt.Sprintf("the client's certificate is issued by %s, which is not a trusted client CA and which the client did not send", issuerName(last)),
		Detail:   detail,
		Fix:      fmt.Sprintf("if %s issues your clients' certificates, add it to %s; if it is an intermediate of a trusted CA, the client must send it after its certificate (its certificate file holds the leaf then the intermediates); otherwise give the client a certificate from a trusted CA", issuerName(last), v.trustHint()),
		Evidence: last.IssuingCertificateURL,
	})
}

// nameOnlyNote explains certificates that carry the missing issuer's name
// but not its key.
func (v *verifier) nameOnlyNote(last *x509.Certificate, nameOnly []*x509.Certificate) string {
	var notes []string
	for _, c := range nameOnly {
		what := "sent by the peer"
		if v.isAnchor(c) {
			what = "among the trust anchors"
		}
		notes = append(notes, fmt.Sprintf(" A certificate named %s is %s, but its key (%s) did not sign %s: it is another generation or a look-alike of the issuer, not the issuer.", dn.String(c.RawSubject), what, PinOf(c), dn.String(last.RawSubject)))
	}
	return strings.Join(notes, "")
}

// tooLong reports a chain with more intermediates than the policy allows.
func (v *verifier) tooLong(path []*x509.Certificate) {
	n := len(path) - 2
	var names []string
	for _, c := range path[1 : len(path)-1] {
		names = append(names, dn.String(c.RawSubject))
	}
	v.add(finding.Finding{
		ID:       finding.ChainTooLong,
		Severity: finding.Error,
		Title:    fmt.Sprintf("the chain has %d intermediates, more than the policy allows (%d)", n, v.p.MaxIntermediates),
		Detail:   fmt.Sprintf("the shortest path to an anchor passes through %s", strings.Join(names, ", ")),
		Fix:      "raise max_intermediates if this path is expected, or trust a CA closer to the leaf",
		Evidence: names,
	})
}

// allowsUsage reports whether c's extended key usages permit usage; no
// extension means any usage, as in crypto/x509.
func allowsUsage(c *x509.Certificate, usage x509.ExtKeyUsage) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) || slices.Contains(c.ExtKeyUsage, usage)
}

// ago renders a duration in days or hours.
func ago(d time.Duration) string {
	if d >= 2*day {
		return fmt.Sprintf("%d days", int(d/day))
	}
	return d.Round(time.Second).String()
}

// weakKey reports whether c's key is too weak, and describes it.
func weakKey(c *x509.Certificate) (bool, string) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return k.N.BitLen() < 2048, keyDesc(c)
	case *ecdsa.PublicKey:
		return k.Curve.Params().BitSize < 256, keyDesc(c)
	case *dsa.PublicKey:
		return true, keyDesc(c)
	}
	return false, keyDesc(c)
}

// keyDesc describes c's public key: "RSA 2048", "ECDSA P-256", "Ed25519".
func keyDesc(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case *dsa.PublicKey:
		return fmt.Sprintf("DSA %d", k.P.BitLen())
	}
	return c.PublicKeyAlgorithm.String()
}

// checkOrder reports a sent list that is not in leaf→issuer order.
func (v *verifier) checkOrder(path []*x509.Certificate) (misplacedLeaf *x509.Certificate) {
	leaf := v.sent[0]
	if leaf.IsCA {
		for i, s := range v.sent[1:] {
			if !s.IsCA && v.signedBy(s, leaf) {
				v.add(finding.Finding{
					ID:       finding.ChainWrongOrder,
					Severity: finding.Error,
					Title:    fmt.Sprintf("the peer sent its certificates in the wrong order: the leaf %s is #%d, not first", name(s), i+2),
					Detail:   fmt.Sprintf("the first certificate, which every client takes as the leaf, is the CA %s; the certificate it issued, %s, comes later. Sent order: %s", dn.String(leaf.RawSubject), dn.String(s.RawSubject), v.sentOrder()),
					Fix:      "list the leaf first, then each issuer in turn (cat cert.pem intermediate.pem > fullchain.pem)",
				})
				return s
			}
		}
	}
	// The path's certificates must come in path order; certificates
	// that are not on the path at all are checkExtras' business, not an
	// ordering problem.
	var order []string
	sorted := true
	last := -1
	for _, c := range path {
		i := v.position(c)
		if i < 0 {
			continue
		}
		order = append(order, fmt.Sprintf("#%d", i+1))
		sorted = sorted && i > last
		last = i
	}
	if !sorted {
		v.add(finding.Finding{
			ID:       finding.ChainWrongOrder,
			Severity: finding.Warning,
			Title:    "the peer sent its certificates out of order",
			Detail:   fmt.Sprintf("from the leaf up, the path takes the sent certificates in the order %s. Sent order: %s. RFC 8446 §4.4.2 lets clients tolerate this; older clients do not", strings.Join(order, ", "), v.sentOrder()),
			Fix:      "list the leaf first, then each issuer in turn",
		})
	}
	return nil
}

// sentOrder lists the sent certificates' subjects.
func (v *verifier) sentOrder() string {
	var s []string
	for i, c := range v.sent {
		s = append(s, fmt.Sprintf("#%d %s", i+1, name(c)))
	}
	return strings.Join(s, ", ")
}

// checkExtras reports sent certificates that are not on path: a root, an
// expired cross-sign, or an unneeded certificate.
func (v *verifier) checkExtras(path []*x509.Certificate, skip *x509.Certificate) {
	for i, s := range v.sent {
		selfIssued := v.factsOf(s).selfIssued
		if i == 0 || s == skip || slices.ContainsFunc(path, func(c *x509.Certificate) bool { return c == s || c.Equal(s) }) && !selfIssued {
			continue
		}
		if selfIssued && v.isAnchor(s) {
			v.add(finding.Finding{
				ID:       finding.ChainRootSent,
				Severity: finding.Info,
				Title:    fmt.Sprintf("the peer sends the root %s", name(s)),
				Detail:   fmt.Sprintf("certificate #%d is a self-signed root that is already a trust anchor; a client must have it anyway, so sending it wastes %d bytes per handshake", i+1, len(s.Raw)),
				Fix:      "drop the root from " + v.servedChain(),
			})
			continue
		}
		if selfIssued && slices.ContainsFunc(path, func(c *x509.Certificate) bool { return c == s || c.Equal(s) }) {
			continue // a self-issued certificate on the path (key rollover)
		}
		// twin is a certificate on the path, or an anchor, with the same
		// name and key: then s is another version of it (a cross-sign).
		var twin *x509.Certificate
		for _, c := range append(slices.Clone(path), v.a.certs...) {
			if sameKeyAndName(c, s) {
				twin = c
				break
			}
		}
		if twin != nil && v.at.After(s.NotAfter) {
			v.add(finding.Finding{
				ID:       finding.ChainExpiredCross,
				Severity: finding.Warning,
				Title:    fmt.Sprintf("the peer sends the expired cross-signed certificate %s, issued by %s", name(s), issuerName(s)),
				Detail:   fmt.Sprintf("certificate #%d expired on %s; the verified path does not need it, since the same name and key are trusted as %s. Old clients may build their path through it and fail (the 2021 DST Root CA X3 / ISRG Root X1 case)", i+1, s.NotAfter.UTC().Format(time.RFC3339), v.where(twin)),
				Fix:      "drop the expired cross-sign from " + v.servedChain(),
			})
			continue
		}
		if twin != nil {
			v.add(finding.Finding{
				ID:       finding.ChainUnneeded,
				Severity: finding.Info,
				Title:    fmt.Sprintf("the peer sends %s, a cross-signed version of a certificate on the path, which this path does not use", name(s)),
				Detail:   fmt.Sprintf("certificate #%d (issued by %s, %s) has the name and key of %s; clients with older trust stores may build their path through it", i+1, dn.String(s.RawIssuer), window(s), v.where(twin)),
				Fix:      "keep it if older clients need the cross-sign; otherwise drop it from " + v.servedChain(),
			})
			continue
		}
		v.add(finding.Finding{
			ID:       finding.ChainUnneeded,
			Severity: finding.Warning,
			Title:    fmt.Sprintf("the peer sends %s, which is not on the path from the leaf to the anchor", name(s)),
			Detail:   fmt.Sprintf("certificate #%d (%s, issued by %s, %s) has nothing to do with the leaf's path (neither an issuer on it nor another version of one). Sent order: %s. Clients ignore it at best; a client that builds paths from the list in order may trip over it", i+1, dn.String(s.RawSubject), dn.String(s.RawIssuer), window(s), v.sentOrder()),
			Fix:      "remove it from " + v.servedChain() + ": send the leaf, then only the intermediates on its path",
		})
	}
}

// checkName checks the leaf against the host and the policy's extra names,
// and returns the finding to report, if any.
func (v *verifier) checkName(leaf *x509.Certificate) *finding.Finding {
	var want []string
	if v.host != "" {
		want = append(want, v.host)
	}
	want = append(want, v.p.Names...)
	if len(want) == 0 {
		if v.usage == x509.ExtKeyUsageServerAuth {
			return &finding.Finding{
				ID:       finding.NameNotChecked,
				Severity: finding.Warning,
				Title:    "no server name to check the certificate against",
				Detail:   "the name the client meant to reach is not known here (no SNI in the ClientHello, and no server name given), so the certificate's names were not checked: a certificate for any name would pass",
				Fix:      "give the server name to verify",
				Setting:  finding.SettingServerName,
			}
		}
		return nil
	}
	for _, n := range want {
		if a, err := ASCIIName(n); err == nil {
			n = a // certificates carry A-labels (see ASCIIName)
		}
		if leaf.VerifyHostname(n) == nil {
			return nil
		}
	}
	var sans []string
	for _, d := range leaf.DNSNames {
		sans = append(sans, "DNS:"+d)
	}
	for _, ip := range leaf.IPAddresses {
		sans = append(sans, "IP:"+ip.String())
	}
	detail := "the certificate has no subjectAltName names"
	if len(sans) > 0 {
		detail = "the certificate's names are " + strings.Join(sans, ", ")
	}
	target := want[0]
	if cn := leaf.Subject.CommonName; cn != "" && slices.ContainsFunc(want, func(n string) bool { return cnMatches(cn, n) }) {
		detail += fmt.Sprintf("; only its Common Name %q matches. ", cn) + cnFallback(leaf)
	}
	title := fmt.Sprintf("the certificate is not valid for %q", target)
	if len(want) > 1 {
		title = fmt.Sprintf("the certificate is valid for none of %q", want)
	}
	return &finding.Finding{
		ID:       finding.NameMismatch,
		Severity: finding.Error,
		Title:    title,
		Detail:   detail,
		Fix:      v.nameFix(target),
		Evidence: sans,
	}
}

// cnFallback says who accepts a name that only a certificate's Common Name
// carries: the clients that still fall back to the Common Name do so only
// when the certificate has no DNS name in its subjectAltName (OpenSSL's
// X509_check_host, GnuTLS's gnutls_x509_crt_check_hostname, Java's
// HostnameChecker); Go since 1.15 and the browsers (RFC 6125 §6.4.4, RFC
// 9525 §6.3) never do. The probe tests check the claim against the real
// clients on the machine.
func cnFallback(leaf *x509.Certificate) string {
	if len(leaf.DNSNames) > 0 {
		return "No client accepts it: the certificate has DNS names in its subjectAltName, and then even the clients that still read the Common Name (OpenSSL, GnuTLS, Java) check those names only"
	}
	return "Clients disagree: Go (since 1.15), Chrome (since 58), Firefox and Safari refuse it (RFC 6125 §6.4.4, RFC 9525), while OpenSSL's host check (openssl s_client -verify_hostname, curl with OpenSSL, Python's ssl), GnuTLS and Java still fall back to the Common Name of a certificate without DNS names and accept it"
}

// nameFix says what to do about a name mismatch on this side.
func (v *verifier) nameFix(target string) string {
	if v.peer() == "client" {
		return fmt.Sprintf("give the client a certificate whose subjectAltName is an allowed name (such as %s), or allow one of its names", target)
	}
	return fmt.Sprintf("connect with one of the certificate's names, or have it reissued with a subjectAltName for %s", target)
}

// cnMatches reports whether a Common Name names host, with a leading
// wildcard label.
func cnMatches(cn, host string) bool {
	if strings.EqualFold(cn, host) {
		return true
	}
	if net.ParseIP(host) != nil {
		return false
	}
	if rest, ok := strings.CutPrefix(cn, "*."); ok {
		if _, after, ok := strings.Cut(host, "."); ok {
			return strings.EqualFold(rest, after)
		}
	}
	return false
}

// checkPins checks the policy's pins against the verified chains.
func (v *verifier) checkPins() {
	if len(v.p.Pins) == 0 {
		return
	}
	expired := !v.p.PinsExpire.IsZero() && v.at.After(v.p.PinsExpire)
	matches := func(chain []*x509.Certificate) bool {
		return slices.ContainsFunc(chain, func(c *x509.Certificate) bool { return slices.Contains(v.p.Pins, PinOf(c)) })
	}
	matched := slices.ContainsFunc(v.r.Verified, matches)
	shown, from := v.sent, "sent chain (nothing verified)"
	if len(v.r.Verified) > 0 {
		shown, from = v.r.Verified[0], "verified chain"
	} else if matches(v.sent) {
		// A pin matches a certificate the peer sent, but the chain did not
		// verify: the chain's own findings explain the failure.
		return
	}
	if matched {
		if expired {
			v.add(finding.Finding{
				ID:       finding.PinExpired,
				Severity: finding.Warning,
				Title:    fmt.Sprintf("the pin set expired on %s (it still matches)", v.p.PinsExpire.UTC().Format(time.RFC3339)),
				Detail:   "a pin matched the verified chain, but the pin set is past its expiry date and will fail closed as soon as the " + v.peer() + "'s keys change",
				Fix:      "review the pins and set a new expiry date",
			})
		}
		return
	}
	var ev []string
	for _, p := range v.p.Pins {
		ev = append(ev, "configured: "+p.String())
	}
	for i, c := range shown {
		ev = append(ev, fmt.Sprintf("#%d %s", i+1, pinLine(c)))
	}
	f := finding.Finding{
		ID:       finding.PinMismatch,
		Severity: finding.Error,
		Title:    "no configured pin matches the " + from,
		Detail:   fmt.Sprintf("%d %s configured; none is the key of a certificate of the %s (pins are checked against verified chains only)", len(v.p.Pins), plural(len(v.p.Pins), "pin is"), from),
		Fix:      "if the " + v.peer() + "'s keys changed legitimately, pin one of the keys listed below (a CA key survives renewals); otherwise the connection may be intercepted",
		Evidence: ev,
	}
	if len(v.p.Pins) > 1 {
		f.Detail = fmt.Sprintf("%d pins are configured; none is the key of a certificate of the %s (pins are checked against verified chains only)", len(v.p.Pins), from)
	}
	if expired {
		f.ID = finding.PinExpired
		f.Title = fmt.Sprintf("the pin set expired on %s and no pin matches the %s", v.p.PinsExpire.UTC().Format(time.RFC3339), from)
		f.Detail += "; the pin set is past its expiry date, and expired pins fail closed"
		f.Fix = "update the pin set (and its expiry date) with the current keys listed below"
	}
	v.add(f)
}

// ekuName names an extended key usage as OpenSSL does.
func ekuName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageAny:
		return "any"
	case x509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	case x509.ExtKeyUsageCodeSigning:
		return "codeSigning"
	case x509.ExtKeyUsageEmailProtection:
		return "emailProtection"
	case x509.ExtKeyUsageIPSECEndSystem:
		return "ipsecEndSystem"
	case x509.ExtKeyUsageIPSECTunnel:
		return "ipsecTunnel"
	case x509.ExtKeyUsageIPSECUser:
		return "ipsecUser"
	case x509.ExtKeyUsageTimeStamping:
		return "timeStamping"
	case x509.ExtKeyUsageOCSPSigning:
		return "OCSPSigning"
	case x509.ExtKeyUsageMicrosoftServerGatedCrypto:
		return "msSGC"
	case x509.ExtKeyUsageNetscapeServerGatedCrypto:
		return "nsSGC"
	case x509.ExtKeyUsageMicrosoftCommercialCodeSigning:
		return "msCodeCom"
	case x509.ExtKeyUsageMicrosoftKernelCodeSigning:
		return "msKernelCodeSigning"
	}
	return fmt.Sprintf("eku(%d)", int(u))
}

// ekuNames lists c's extended key usages, unknown ones as OIDs.
func ekuNames(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.ExtKeyUsage {
		out = append(out, ekuName(u))
	}
	for _, o := range c.UnknownExtKeyUsage {
		out = append(out, o.String())
	}
	return out
}
