package scan

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/wire"
)

// This file checks a scan against a TLS configuration profile: Mozilla's
// Server Side TLS configurations (modern, intermediate, old) or a user's,
// in the same JSON schema as Mozilla's guidelines files
// (https://ssl-config.mozilla.org/guidelines/). Every deviation is a
// finding; [ProfileResult.Compliant] says whether the profile is met, as
// sslyze's --mozilla_config does for CI pipelines.

// Profile is a TLS configuration a server should meet, in the schema of
// one configuration of Mozilla's guidelines JSON.
type Profile struct {
	// Name and Source say which profile this is, for reports.
	Name   string `json:"name,omitempty"`
	Source string `json:"source,omitempty"`
	// TLSVersions are the versions the server accepts: "TLSv1", "TLSv1.1",
	// "TLSv1.2", "TLSv1.3" ("SSLv3" too).
	TLSVersions []string `json:"tls_versions"`
	// Ciphers are the TLS 1.2-and-earlier suites allowed, by IANA name.
	Ciphers []string `json:"-"`
	// Ciphersuites are the TLS 1.3 suites allowed.
	Ciphersuites []string `json:"ciphersuites"`
	// TLSCurves are the key exchange groups allowed ("X25519",
	// "prime256v1", "X25519MLKEM768"…).
	TLSCurves []string `json:"tls_curves"`
	// CertificateTypes are the leaf key types allowed: "rsa", "ecdsa".
	CertificateTypes []string `json:"certificate_types"`
	// CertificateCurves are the ECDSA curves allowed.
	CertificateCurves []string `json:"certificate_curves"`
	// CertificateSignatures are the leaf signature algorithms allowed,
	// by OpenSSL name ("sha256WithRSAEncryption", "ecdsa-with-SHA256").
	CertificateSignatures []string `json:"certificate_signatures"`
	// RSAKeySize is the least RSA key size; nil means no requirement.
	RSAKeySize *int `json:"rsa_key_size"`
	// DHParamSize is the least DHE prime size; nil means no requirement.
	DHParamSize *int `json:"dh_param_size"`
	// ECDHParamSize is the least ECDHE group size in bits.
	ECDHParamSize int `json:"ecdh_param_size"`
	// MaximumCertificateLifespan is the longest leaf validity in days.
	MaximumCertificateLifespan int `json:"maximum_certificate_lifespan"`
	// OCSPStaple asks for a stapled OCSP response (a recommendation: a
	// warning, not a failure).
	OCSPStaple bool `json:"ocsp_staple"`
	// ServerPreferredOrder asks the server to enforce its suite order.
	ServerPreferredOrder bool `json:"server_preferred_order"`
	// HSTSMinAge is the least HSTS max-age, checked on the HTTPS answer
	// when the scan made an HTTP request (a recommendation: a warning).
	HSTSMinAge int `json:"hsts_min_age,omitempty"`
}

// profileJSON is the file schema: Mozilla's keys, "ciphers" as either a
// list of IANA names or Mozilla's object of lists by format.
type profileJSON struct {
	Profile
	Ciphers                        json.RawMessage `json:"ciphers"`
	OldestClients                  []string        `json:"oldest_clients,omitempty"`
	RecommendedCertificateLifespan int             `json:"recommended_certificate_lifespan,omitempty"`
}

// ParseProfile reads a profile from JSON: one configuration object of
// Mozilla's schema, or a whole guidelines file ({"configurations": {…}})
// with name choosing the configuration. Unknown keys are errors.
func ParseProfile(data []byte, name string) (*Profile, error) {
	var probe struct {
		Configurations map[string]json.RawMessage `json:"configurations"`
		Version        any                        `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("scan: profile: %w", err)
	}
	if probe.Configurations != nil {
		var keys []string
		for k := range probe.Configurations {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		raw, ok := probe.Configurations[name]
		if !ok {
			return nil, fmt.Errorf("scan: profile: the guidelines file has configurations %s; choose one (FILE#NAME)", strings.Join(keys, ", "))
		}
		p, err := parseConfiguration(raw)
		if err != nil {
			return nil, err
		}
		p.Name = name
		return p, nil
	}
	if name != "" {
		return nil, fmt.Errorf("scan: profile: #%s names a configuration, but the file is a single configuration", name)
	}
	return parseConfiguration(data)
}

func parseConfiguration(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var pj profileJSON
	if err := dec.Decode(&pj); err != nil {
		return nil, fmt.Errorf("scan: profile: %w", err)
	}
	p := pj.Profile
	if len(pj.Ciphers) > 0 {
		var list []string
		if err := json.Unmarshal(pj.Ciphers, &list); err != nil {
			var byFormat map[string][]string
			if err := json.Unmarshal(pj.Ciphers, &byFormat); err != nil {
				return nil, errors.New(`scan: profile: "ciphers" is a list of IANA suite names or Mozilla's {"iana": […]}`)
			}
			if list = byFormat["iana"]; list == nil && len(byFormat) > 0 {
				return nil, errors.New(`scan: profile: "ciphers" has no "iana" list (tlskit compares IANA names)`)
			}
		}
		p.Ciphers = list
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// validate checks every name the profile uses.
func (p *Profile) validate() error {
	if len(p.TLSVersions) == 0 {
		return errors.New(`scan: profile: "tls_versions" is empty`)
	}
	for _, v := range p.TLSVersions {
		if profileVersion(v) == 0 {
			return fmt.Errorf("scan: profile: unknown version %q (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, SSLv3)", v)
		}
	}
	for _, n := range append(slices.Clone(p.Ciphers), p.Ciphersuites...) {
		if suiteByName(n) == 0 {
			return fmt.Errorf("scan: profile: unknown cipher suite %q (use IANA names, such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)", n)
		}
	}
	for _, g := range p.TLSCurves {
		if groupByName(g) == 0 {
			return fmt.Errorf("scan: profile: unknown group %q", g)
		}
	}
	for _, t := range p.CertificateTypes {
		if t != "rsa" && t != "ecdsa" && t != "ed25519" {
			return fmt.Errorf("scan: profile: unknown certificate type %q (rsa, ecdsa, ed25519)", t)
		}
	}
	return nil
}

// LoadProfile returns a built-in profile ("modern", "intermediate",
// "old") or reads FILE (FILE#NAME for a configuration of a guidelines
// file).
func LoadProfile(spec string) (*Profile, error) {
	if p, ok := builtinProfiles()[spec]; ok {
		return p, nil
	}
	path, name, _ := strings.Cut(spec, "#")
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !strings.ContainsAny(spec, "/.") {
			return nil, fmt.Errorf("scan: profile %q is neither modern, intermediate, old nor a file", spec)
		}
		return nil, fmt.Errorf("scan: profile: %w", err)
	}
	p, err := ParseProfile(data, name)
	if err != nil {
		return nil, err
	}
	if p.Name == "" {
		p.Name = path
	}
	if p.Source == "" {
		p.Source = path
	}
	return p, nil
}

// ProfileResult is the outcome of a profile check.
type ProfileResult struct {
	// Name and Source say which profile was checked.
	Name   string `json:"name"`
	Source string `json:"source"`
	// Compliant says no deviation of severity error was found.
	Compliant bool `json:"compliant"`
	// Deviations counts the error findings; Warnings the recommendations
	// not followed.
	Deviations int `json:"deviations"`
	Warnings   int `json:"warnings"`
}

// profileVersion maps Mozilla's version names.
func profileVersion(s string) wire.Version {
	switch s {
	case "SSLv3":
		return wire.VersionSSL30
	case "TLSv1", "TLSv1.0":
		return wire.VersionTLS10
	case "TLSv1.1":
		return wire.VersionTLS11
	case "TLSv1.2":
		return wire.VersionTLS12
	case "TLSv1.3":
		return wire.VersionTLS13
	}
	return 0
}

// suiteByName finds a suite by IANA name.
func suiteByName(n string) wire.CipherSuite {
	for _, s := range wire.CipherSuites() {
		if s.Name == n {
			return s.ID
		}
	}
	return 0
}

// groupByName finds a group by its IANA or OpenSSL name, in any case.
func groupByName(n string) wire.NamedGroup {
	switch strings.ToLower(n) {
	case "prime256v1", "p-256":
		return wire.GroupSecp256r1
	case "p-384":
		return wire.GroupSecp384r1
	case "p-521":
		return wire.GroupSecp521r1
	}
	for g := wire.NamedGroup(1); g < 0xffff; g++ {
		if s := g.String(); !strings.HasPrefix(s, "unknown") && strings.EqualFold(s, n) {
			return g
		}
	}
	return 0
}

// ecdhBits is a group's strength for ecdh_param_size (X25519 counts as
// 256, as Mozilla lists it with a 256-bit floor).
func ecdhBits(g GroupSupport) int {
	if g.Name == "x25519" {
		return 256
	}
	return g.Bits
}

// x509SigName maps crypto/x509's names to OpenSSL's, as Mozilla's
// certificate_signatures uses them.
var x509SigName = map[x509.SignatureAlgorithm]string{
	x509.SHA1WithRSA: "sha1WithRSAEncryption", x509.SHA256WithRSA: "sha256WithRSAEncryption",
	x509.SHA384WithRSA: "sha384WithRSAEncryption", x509.SHA512WithRSA: "sha512WithRSAEncryption",
	x509.SHA256WithRSAPSS: "rsassaPss", x509.SHA384WithRSAPSS: "rsassaPss", x509.SHA512WithRSAPSS: "rsassaPss",
	x509.ECDSAWithSHA1: "ecdsa-with-SHA1", x509.ECDSAWithSHA256: "ecdsa-with-SHA256",
	x509.ECDSAWithSHA384: "ecdsa-with-SHA384", x509.ECDSAWithSHA512: "ecdsa-with-SHA512",
	x509.PureEd25519: "ED25519", x509.MD5WithRSA: "md5WithRSAEncryption",
}

// Check compares a report with the profile and returns the result and
// one finding per deviation.
func (p *Profile) Check(rep *Report) (*ProfileResult, []finding.Finding) {
	var fs []finding.Finding
	title := func(format string, args ...any) string {
		return fmt.Sprintf("%s profile: ", p.Name) + fmt.Sprintf(format, args...)
	}
	dev := func(id, t, detail, fix string, ev []string) {
		fs = append(fs, finding.Finding{ID: id, Severity: finding.Error, Title: t, Detail: detail, Fix: fix, Evidence: ev})
	}
	// Versions.
	allowed := map[wire.Version]bool{}
	for _, v := range p.TLSVersions {
		allowed[profileVersion(v)] = true
	}
	accepted := map[wire.Version]bool{}
	for _, v := range rep.Versions {
		accepted[versionOf(v.Version)] = true
		if !allowed[versionOf(v.Version)] {
			dev(finding.ProfileVersion, title("%s is accepted", v.Version),
				fmt.Sprintf("The profile allows %s; the server accepts %s (probe %d).", strings.Join(p.TLSVersions, ", "), v.Version, v.Probe),
				"Disable "+v.Version+".", nil)
		}
	}
	for _, name := range p.TLSVersions {
		if v := profileVersion(name); !accepted[v] {
			pr := protocol(rep, v.String())
			refuses, t := "the server refuses it", title("%s is not accepted", v)
			if pr.Unknown {
				refuses, t = "whether the server accepts it is not known: its probe went unanswered", title("%s is not known to be accepted", v)
			}
			dev(finding.ProfileVersion, t,
				fmt.Sprintf("The profile enables %s (its oldest clients need it); %s (probe %d: %s).", v, refuses, pr.Probe, pr.Answer),
				"Enable "+v.String()+".", nil)
		}
	}
	// Suites.
	okSuite := map[string]bool{}
	for _, n := range p.Ciphers {
		okSuite[n] = true
	}
	ok13 := map[string]bool{}
	for _, n := range p.Ciphersuites {
		ok13[n] = true
	}
	for _, v := range rep.Versions {
		var extra []string
		for _, d := range v.Details {
			if v.Version == "TLS 1.3" && !ok13[d.Name] || v.Version != "TLS 1.3" && !okSuite[d.Name] {
				extra = append(extra, fmt.Sprintf("%s (probe %d)", d.Name, d.Probe))
			}
		}
		if len(extra) > 0 {
			list := p.Ciphers
			if v.Version == "TLS 1.3" {
				list = p.Ciphersuites
			}
			dev(finding.ProfileSuite, title("%s: %d accepted suites are not in the profile", v.Version, len(extra)),
				fmt.Sprintf("The profile lists %d suites for %s; the server also accepts these.", len(list), v.Version),
				"Configure exactly the profile's suites (Mozilla's generator writes the line for each server: ssl-config.mozilla.org).", extra)
		}
		if p.ServerPreferredOrder && v.Order == "client" {
			dev(finding.ProfileOrder, title("%s: the server does not enforce its suite order", v.Version),
				"The profile asks the server to choose by its own order (server_preferred_order); it takes the client's first suite.",
				"Enable server order (nginx ssl_prefer_server_ciphers on; OpenSSL SSL_OP_CIPHER_SERVER_PREFERENCE).", nil)
		}
	}
	// Groups.
	okGroup := map[wire.NamedGroup]bool{}
	for _, g := range p.TLSCurves {
		okGroup[groupByName(g)] = true
	}
	var extraG, smallG, smallFF []string
	for _, g := range rep.Groups {
		var id uint16
		fmt.Sscanf(g.ID, "0x%04x", &id)
		if g.Kind == "FFDHE" {
			// Mozilla's tls_curves lists the elliptic curve (and hybrid)
			// groups; finite-field DH is governed by dh_param_size,
			// checked below with the DHE suites.
			if p.DHParamSize != nil && g.Bits < *p.DHParamSize {
				smallFF = append(smallFF, g.Name)
			}
			continue
		}
		if !okGroup[wire.NamedGroup(id)] {
			extraG = append(extraG, fmt.Sprintf("%s (%s; probes %s)", g.Name, strings.Join(g.Versions, ", "), intsString(g.Probes)))
		}
		if g.Kind == "ECDHE" && p.ECDHParamSize > 0 && ecdhBits(g) < p.ECDHParamSize {
			smallG = append(smallG, g.Name)
		}
	}
	if len(extraG) > 0 {
		dev(finding.ProfileGroup, title("%d accepted groups are not in the profile", len(extraG)),
			"The profile allows "+strings.Join(p.TLSCurves, ", ")+"; the server also accepts these.",
			"Configure the profile's groups (nginx ssl_ecdh_curve; OpenSSL -groups).", extraG)
	}
	if len(smallG) > 0 {
		dev(finding.ProfileGroup, title("groups under %d bits are accepted", p.ECDHParamSize),
			"The profile asks for ECDHE groups of at least "+itoa(p.ECDHParamSize)+" bits.", "Remove the small curves from the server's groups.", smallG)
	}
	if len(smallFF) > 0 {
		dev(finding.ProfileDHSize, title("FFDHE groups under %d bits are accepted", *p.DHParamSize),
			fmt.Sprintf("The profile asks for DH parameters of at least %d bits.", *p.DHParamSize), "Remove the small FFDHE groups.", smallFF)
	}
	// DH parameters.
	if p.DHParamSize != nil {
		var small []string
		for _, r := range acceptedSuites(rep) {
			if n := dhBitsOf(r.detail.KeyExchange); n > 0 && n < *p.DHParamSize {
				small = append(small, fmt.Sprintf("%s %s: %s (probe %d)", r.version, r.info.Name, r.detail.KeyExchange, r.detail.Probe))
			}
		}
		if len(small) > 0 {
			dev(finding.ProfileDHSize, title("DHE primes under %d bits", *p.DHParamSize),
				fmt.Sprintf("The profile asks for DH parameters of at least %d bits.", *p.DHParamSize),
				"Use larger DH parameters (RFC 7919's ffdhe2048 or larger).", small)
		}
	}
	// Certificates.
	for _, c := range rep.Certificates {
		if len(c.Chain) == 0 {
			continue
		}
		fs = append(fs, p.checkCert(c, rep)...)
	}
	// Recommendations (warnings) and what cannot be checked.
	if p.OCSPStaple && rep.Session.OCSPStapling.State != Supported {
		fs = append(fs, finding.Finding{ID: finding.ProfileOCSP, Severity: finding.Warning, Title: title("no OCSP response is stapled"),
			Detail: "The profile recommends OCSP stapling: " + rep.Session.OCSPStapling.Detail + ".",
			Fix:    "Enable stapling (nginx ssl_stapling on) when the CA runs an OCSP responder; many CAs now publish CRLs only.", Evidence: probesEvidence(rep.Session.OCSPStapling)})
	}
	if p.HSTSMinAge > 0 {
		fs = append(fs, p.checkHSTS(rep.HTTP, title)...)
	}
	res := &ProfileResult{Name: p.Name, Source: p.Source}
	for _, f := range fs {
		switch f.Severity {
		case finding.Error:
			res.Deviations++
		case finding.Warning:
			res.Warnings++
		}
	}
	res.Compliant = res.Deviations == 0
	return res, fs
}

// checkHSTS compares the HTTPS answer's HSTS with the profile's
// hsts_min_age: a recommendation (a warning), or not checked when no HTTP
// request was answered.
func (p *Profile) checkHSTS(h *HTTPResult, title func(string, ...any) string) []finding.Finding {
	if h == nil || h.Status == "" {
		why := "no HTTP request was made (the service is not HTTPS by its port or ALPN, or the request was turned off)"
		if h != nil {
			why = "the HTTP request got no answer: " + h.Note
		}
		return []finding.Finding{{ID: finding.ProfileNotChecked, Severity: finding.Info, Title: title("HSTS not checked"),
			Detail: fmt.Sprintf("The profile asks HTTPS servers for Strict-Transport-Security with max-age ≥ %d; %s.", p.HSTSMinAge, why),
			Fix:    "Check the header with curl -sI https://HOST/ | grep -i strict-transport-security."}}
	}
	hs := h.HSTS
	var got string
	switch {
	case !hs.Present:
		got = "the answer has no Strict-Transport-Security header"
	case hs.Problem != "":
		got = "the header is invalid: " + hs.Problem
	case hs.MaxAge < int64(p.HSTSMinAge):
		got = fmt.Sprintf("max-age is %d", hs.MaxAge)
	default:
		return nil
	}
	ev := []string{fmt.Sprintf("%s: %s (probe %d)", h.Request, h.Status, h.Probe)}
	if hs.Present {
		ev = append(ev, "Strict-Transport-Security: "+hs.Header)
	}
	return []finding.Finding{{ID: finding.ProfileHSTS, Severity: finding.Warning, Title: title("HSTS shorter than the profile asks"),
		Detail: fmt.Sprintf("The profile asks for Strict-Transport-Security with max-age ≥ %d; %s.", p.HSTSMinAge, got),
		Fix:    fmt.Sprintf("Send Strict-Transport-Security: max-age=%d (nginx: add_header Strict-Transport-Security \"max-age=%d\" always;).", p.HSTSMinAge, p.HSTSMinAge), Evidence: ev}}
}

// checkCert checks one certificate against the profile.
func (p *Profile) checkCert(c CertificateResult, rep *Report) []finding.Finding {
	var fs []finding.Finding
	leaf := c.Chain[0]
	where := fmt.Sprintf("%s certificate %s (probes %s)", c.KeyType, leaf.Subject, intsString(c.Probes))
	dev := func(t, detail, fix string) {
		fs = append(fs, finding.Finding{ID: finding.ProfileCertificate, Severity: finding.Error,
			Title: fmt.Sprintf("%s profile: %s", p.Name, t), Detail: detail, Fix: fix, Evidence: []string{where}})
	}
	typ := strings.ToLower(c.KeyType)
	if typ == "eddsa" {
		typ = "ed25519"
	}
	if len(p.CertificateTypes) > 0 && !slices.Contains(p.CertificateTypes, typ) {
		dev(fmt.Sprintf("the server has a %s certificate", c.KeyType),
			"The profile allows "+strings.Join(p.CertificateTypes, ", ")+" certificates; the server sends a "+leaf.Key+" one.",
			"Serve only the profile's certificate types.")
	}
	var bits int
	if typ == "rsa" && p.RSAKeySize != nil {
		fmt.Sscanf(leaf.Key, "RSA %d", &bits)
		if bits < *p.RSAKeySize {
			dev(fmt.Sprintf("RSA key of %d bits", bits), fmt.Sprintf("The profile asks for RSA keys of at least %d bits.", *p.RSAKeySize), "Issue a certificate for a larger RSA key, or an ECDSA P-256 key.")
		}
	}
	if typ == "ecdsa" && len(p.CertificateCurves) > 0 {
		curve := map[string]string{"ECDSA P-256": "prime256v1", "ECDSA P-384": "secp384r1", "ECDSA P-521": "secp521r1"}[leaf.Key]
		if !slices.Contains(p.CertificateCurves, curve) {
			dev("certificate curve "+leaf.Key, "The profile allows "+strings.Join(p.CertificateCurves, ", ")+".", "Issue the certificate for a P-256 or P-384 key.")
		}
	}
	if len(p.CertificateSignatures) > 0 {
		if sig := certSigName(leaf.SignatureAlgorithm); !slices.Contains(p.CertificateSignatures, sig) {
			dev("certificate signed with "+leaf.SignatureAlgorithm, "The profile allows certificates signed with "+strings.Join(p.CertificateSignatures, ", ")+".", "Have the CA sign with an allowed algorithm.")
		}
	}
	if p.MaximumCertificateLifespan > 0 {
		nb, err1 := time.Parse(time.RFC3339, leaf.NotBefore)
		na, err2 := time.Parse(time.RFC3339, leaf.NotAfter)
		if err1 == nil && err2 == nil {
			days := int(na.Sub(nb).Hours() / 24)
			if days > p.MaximumCertificateLifespan {
				dev(fmt.Sprintf("the certificate is valid for %d days", days), fmt.Sprintf("The profile allows at most %d days.", p.MaximumCertificateLifespan), "Issue certificates with shorter validity (90 days is Mozilla's recommendation).")
			}
		}
	}
	return fs
}

// certSigName maps trust.CertInfo's signature algorithm (crypto/x509's
// String) to OpenSSL's name.
func certSigName(s string) string {
	for a, n := range x509SigName {
		if a.String() == s {
			return n
		}
	}
	return s
}
