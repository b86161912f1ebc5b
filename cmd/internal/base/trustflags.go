package base

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/trust"
)

// FlagGroup selects which of the shared flags a command registers: a
// command registers only those that mean something for it, and every
// command that registers one gives it the same name, meaning and help.
type FlagGroup int

// The groups of shared flags.
const (
	// GroupPolicy: --policy.
	GroupPolicy FlagGroup = 1 << iota
	// GroupTrust: --trust, --ca-file, --pin, --no-system-roots (and
	// --policy).
	GroupTrust
	// GroupName: --servername.
	GroupName
	// GroupVersions: --min-version, --max-version.
	GroupVersions
	// GroupTime: --verify-time.
	GroupTime
	// GroupTimeout: --timeout.
	GroupTimeout
	// GroupChecks: --profile, --max-depth, --cert-policy, --crl, --fetch.
	GroupChecks
	// GroupNetwork: -4/--ipv4, -6/--ipv6.
	GroupNetwork
)

// TrustFlags are the flags of every command that verifies a peer, defined
// once here (step-cli's flags package is the model). [TrustFlags.Register]
// defines them on a flag set; the fields hold their values.
type TrustFlags struct {
	// Groups are the groups registered.
	Groups FlagGroup
	// Trust: --trust.
	Trust []string
	// CAFiles: --ca-file.
	CAFiles []string
	// PolicyFile: --policy.
	PolicyFile string
	// Pins: --pin.
	Pins []string
	// NoSystemRoots: --no-system-roots.
	NoSystemRoots bool
	// ServerName: --servername.
	ServerName string
	// MinVersion: --min-version.
	MinVersion string
	// MaxVersion: --max-version.
	MaxVersion string
	// VerifyTime: --verify-time.
	VerifyTime string
	// Timeout: --timeout.
	Timeout time.Duration
	// Profile: --profile.
	Profile string
	// MaxDepth: --max-depth.
	MaxDepth int
	// CertPolicies: --cert-policy.
	CertPolicies []string
	// CRLs: --crl.
	CRLs []string
	// Fetch: --fetch.
	Fetch bool
	// IPv4 and IPv6: -4/--ipv4 and -6/--ipv6 (see [TrustFlags.Network]).
	IPv4, IPv6 bool
	// Prog is the program that prints warnings, and says where the trust
	// flags are explained: "" or "tlskit" is tlskit (tlskit help check),
	// any other name a program whose root command has them (PROG --help).
	Prog string

	fs *pflag.FlagSet
}

// TrustHelp is the paragraph every verifying command's --help carries.
const TrustHelp = `Trust: the system roots (SSL_CERT_FILE and SSL_CERT_DIR are honoured), unless
--trust or --ca-file name the anchors: they replace the system roots unless
--trust system is among them ("only trust this CA" means only that CA).
--policy FILE reads a JSON policy file; flags given with it override its
fields. --pin requires one of the given SPKI pins in the verified chain.`

// Register defines the groups' flags on fs.
func (f *TrustFlags) Register(fs *pflag.FlagSet, groups FlagGroup, timeoutDefault time.Duration) {
	if groups&GroupTrust != 0 {
		groups |= GroupPolicy
	}
	f.Groups = groups
	f.fs = fs
	if groups&GroupTrust != 0 {
		fs.StringArrayVar(&f.Trust, "trust", nil, "trust `SOURCE`: system, file:PATH, dir:PATH or pem:PEM; replaces the system roots unless system is listed (repeatable)")
		fs.StringArrayVar(&f.CAFiles, "ca-file", nil, "trust the CA certificates in `FILE` (PEM, DER, PKCS#7 or a Java keystore), the same as --trust file:FILE (repeatable)")
	}
	if groups&GroupPolicy != 0 {
		fs.StringVar(&f.PolicyFile, "policy", "", "read the trust policy from `FILE` (JSON; see the README); flags given too override its fields")
	}
	if groups&GroupTrust != 0 {
		fs.StringArrayVar(&f.Pins, "pin", nil, "require this SPKI `PIN`, sha256/BASE64 or curl's sha256//BASE64, in the verified chain (repeatable; give a backup)")
		fs.BoolVar(&f.NoSystemRoots, "no-system-roots", false, "no effect, kept for scripts: --ca-file and --trust already replace the system roots")
	}
	if groups&GroupName != 0 {
		fs.StringVar(&f.ServerName, "servername", "", "`NAME` to verify the certificate for and to send as SNI (default: the target's host; an IP address is checked against IP SANs)")
	}
	if groups&GroupVersions != 0 {
		fs.StringVar(&f.MinVersion, "min-version", "", "lowest TLS `VERSION`: 1.0, 1.1, 1.2 or 1.3 (default 1.2)")
		fs.StringVar(&f.MaxVersion, "max-version", "", "highest TLS `VERSION`: 1.0, 1.1, 1.2 or 1.3 (default 1.3)")
	}
	if groups&GroupTime != 0 {
		fs.StringVar(&f.VerifyTime, "verify-time", "", "verify certificates as of this `TIME` (RFC 3339); default: now (pcap: when the chain was captured)")
	}
	if groups&GroupTimeout != 0 {
		fs.DurationVar(&f.Timeout, "timeout", timeoutDefault, "give up connecting and handshaking after this `DURATION`")
	}
	if groups&GroupChecks != 0 {
		fs.StringVar(&f.Profile, "profile", "", "judge the chain by `PROFILE`: webpki (CA/Browser Forum rules), rfc5280 (RFC 5280 alone) or auto (default: webpki for a system root, rfc5280 for a CA you trust explicitly)")
		fs.IntVar(&f.MaxDepth, "max-depth", 0, "allow at most `N` intermediates between the leaf and the anchor (0: the leaf must be issued by an anchor; self-issued key rollover certificates do not count; default: no limit)")
		fs.StringArrayVar(&f.CertPolicies, "cert-policy", nil, "require the verified path to be valid for this certificate policy `OID` (dotted, repeatable: one of them), whatever the CAs' policy constraints say (RFC 5280's initial policy set, with an explicit policy required)")
		fs.StringArrayVar(&f.CRLs, "crl", nil, "check revocation against the CRL in `FILE` (PEM or DER; repeatable): a revoked certificate, a CRL of its issuer that cannot be used, or a leaf none of them covers refuses the chain")
		fs.BoolVar(&f.Fetch, "fetch", false, "fetch what the chain points at: a missing intermediate from its AIA URL and CRLs from their distribution points (http, bounded); off by default: no network")
	}
	if groups&GroupNetwork != 0 {
		fs.BoolVarP(&f.IPv4, "ipv4", "4", false, "connect over IPv4 only: a name's A records (default: either IP version)")
		fs.BoolVarP(&f.IPv6, "ipv6", "6", false, "connect over IPv6 only: a name's AAAA records, not its A records")
	}
}

// Network returns the network -4 and -6 ask for: "tcp4", "tcp6", or "tcp"
// (either) when neither is given. Both are a usage error.
func (f *TrustFlags) Network() (string, error) {
	switch {
	case f.IPv4 && f.IPv6:
		return "", Usagef("give -4 for IPv4 only, -6 for IPv6 only, or neither for either", "-4 and -6 exclude each other")
	case f.IPv4:
		return "tcp4", nil
	case f.IPv6:
		return "tcp6", nil
	}
	return "tcp", nil
}

// SettingFlags maps the client settings a finding's fix may name
// (finding.Setting*) to the flags this command registered for them, plus
// the command's own (extra), so that render can name the flag: the
// library's findings name no flag.
func (f *TrustFlags) SettingFlags(extra map[string]string) map[string]string {
	m := make(map[string]string)
	add := func(g FlagGroup, setting, flag string) {
		if f.Groups&g != 0 {
			m[setting] = flag
		}
	}
	add(GroupTrust, finding.SettingTrust, "--trust or --ca-file")
	add(GroupTrust, finding.SettingPin, "--pin")
	add(GroupName, finding.SettingServerName, "--servername")
	add(GroupVersions, finding.SettingMinVersion, "--min-version")
	add(GroupVersions, finding.SettingMaxVersion, "--max-version")
	add(GroupTime, finding.SettingVerifyTime, "--verify-time")
	add(GroupTimeout, finding.SettingTimeout, "--timeout")
	add(GroupChecks, finding.SettingCRL, "--crl")
	add(GroupChecks, finding.SettingFetch, "--fetch")
	add(GroupChecks, finding.SettingMaxInterm, "--max-depth")
	add(GroupChecks, finding.SettingCertPolicy, "--cert-policy")
	add(GroupNetwork, finding.SettingIPVersion, "-4 or -6")
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// Policy builds the one trust model, a tlskit.Policy, from the policy file
// (if any) and the flags. warn receives warnings for the user.
func (f *TrustFlags) Policy(warn io.Writer) (*tlskit.Policy, error) {
	p := &tlskit.Policy{}
	if f.PolicyFile != "" {
		var err error
		if p, err = tlskit.LoadPolicy(f.PolicyFile); err != nil {
			return nil, Usage(err, "the policy file format is in the README ("+f.helpCommand()+" shows the trust flags)")
		}
	}
	sources := append([]string(nil), f.Trust...)
	for _, path := range f.CAFiles {
		sources = append(sources, "file:"+path)
	}
	if len(sources) > 0 {
		p.Trust = sources
	}
	if f.NoSystemRoots {
		for _, s := range p.Trust {
			if s == "system" {
				return nil, Usagef("drop one of them", "--no-system-roots contradicts --trust system")
			}
		}
		if len(p.Trust) == 0 {
			return nil, Usagef("add the CA to trust: --ca-file ca.pem (or --trust file:ca.pem)", "--no-system-roots without --ca-file or --trust would trust nothing")
		}
	}
	if len(p.Trust) == 0 {
		p.Trust = []string{"system"}
	}
	for _, s := range f.Pins {
		if _, err := trust.ParsePin(s); err != nil {
			return nil, Usage(err, "a pin looks like sha256/YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg=")
		}
	}
	if len(f.Pins) > 0 {
		p.Pins = f.Pins
		if len(f.Pins) == 1 {
			p.AllowSinglePin = true
			fmt.Fprintln(warn, f.prog()+": warning: a single --pin has no backup: when that key is replaced, connections fail; add a second --pin for a backup key or the issuing CA")
		}
	}
	if f.ServerName != "" {
		if _, err := trust.ServerName("", f.ServerName); err != nil {
			return nil, Usagef("--servername takes a host name or an IP address, e.g. --servername www.example.com", "--servername: %s", strings.TrimPrefix(err.Error(), "trust: "))
		}
		p.ServerName = f.ServerName
	}
	if f.Groups&GroupVersions != 0 {
		if v, err := ParseVersion("--min-version", f.MinVersion); err != nil {
			return nil, err
		} else if v != 0 {
			p.MinVersion = v
		}
		if v, err := ParseVersion("--max-version", f.MaxVersion); err != nil {
			return nil, err
		} else if v != 0 {
			p.MaxVersion = v
		}
		if p.MinVersion != 0 && p.MaxVersion != 0 && p.MinVersion > p.MaxVersion {
			return nil, Usagef("", "--min-version %s is above --max-version %s", tls.VersionName(p.MinVersion), tls.VersionName(p.MaxVersion))
		}
	}
	if f.VerifyTime != "" {
		at, perr := time.Parse(time.RFC3339, f.VerifyTime)
		if perr != nil {
			return nil, Usagef("example: --verify-time 2026-11-23T06:00:00Z", "--verify-time: %v", perr)
		}
		p.Time = func() time.Time { return at }
	}
	if f.Groups&GroupChecks != 0 {
		if f.Profile != "" {
			if _, err := trust.ParseProfile(f.Profile); err != nil {
				return nil, Usagef("--profile is auto, webpki or rfc5280", "--profile %q is not a profile", f.Profile)
			}
			p.Profile = f.Profile
		}
		switch {
		case !f.fs.Changed("max-depth"):
		case f.MaxDepth == 0:
			p.MaxIntermediates = trust.NoIntermediates
		case f.MaxDepth > 0:
			p.MaxIntermediates = f.MaxDepth
		default:
			return nil, Usagef("example: --max-depth 2", "--max-depth %d: give 0 or more", f.MaxDepth)
		}
		if len(f.CertPolicies) > 0 {
			p.CertPolicies.Acceptable = nil
			for _, s := range f.CertPolicies {
				oid, err := tlskit.ParseCertPolicy(s)
				if err != nil {
					return nil, Usagef("example: --cert-policy 2.23.140.1.2.1 (the CA/Browser Forum's domain-validated policy)", "--cert-policy: %s", strings.TrimPrefix(err.Error(), "tlskit: "))
				}
				p.CertPolicies.Acceptable = append(p.CertPolicies.Acceptable, oid)
			}
			p.CertPolicies.RequireExplicit = true
		}
		p.CRLFiles = append(p.CRLFiles, f.CRLs...)
		p.Fetch = p.Fetch || f.Fetch
	}
	if err := f.CheckTimeout(); err != nil {
		return nil, err
	}
	return p, nil
}

// prog is the program name warnings start with.
func (f *TrustFlags) prog() string {
	if f.Prog == "" {
		return "tlskit"
	}
	return f.Prog
}

// helpCommand is the command whose --help explains the trust flags.
func (f *TrustFlags) helpCommand() string {
	if f.prog() == "tlskit" {
		return "tlskit help check"
	}
	return f.Prog + " --help"
}

// CheckTimeout checks --timeout, when the command has it.
func (f *TrustFlags) CheckTimeout() error {
	if f.Groups&GroupTimeout != 0 && f.Timeout <= 0 {
		return Usagef("example: --timeout 5s", "--timeout must be positive")
	}
	return nil
}

// Verifier resolves p into the verifier of server chains, as a usage error
// when a source does not load.
func Verifier(p *tlskit.Policy) (*trust.Verifier, error) {
	v, err := p.Verifier()
	var se *trust.SourceError
	switch {
	case errors.As(err, &se):
		return nil, Usage(err, "trust sources are system, file:PATH, dir:PATH or pem:PEM; --ca-file takes a file of PEM or DER CA certificates, a PKCS#7 bundle (.p7b) or a Java keystore (JKS, JCEKS)")
	case err != nil && strings.Contains(err.Error(), "CRL"):
		return nil, Usage(err, "--crl takes a CRL file in PEM (X509 CRL) or DER, as `openssl crl` writes it")
	case err != nil:
		return nil, Usage(err, "")
	}
	return v, nil
}

// ParseVersion parses a --min-version or --max-version value; "" is 0.
func ParseVersion(flag, s string) (uint16, error) {
	switch strings.TrimPrefix(strings.ToLower(s), "tls") {
	case "":
		return 0, nil
	case "1.0", "10":
		return tls.VersionTLS10, nil
	case "1.1", "11":
		return tls.VersionTLS11, nil
	case "1.2", "12":
		return tls.VersionTLS12, nil
	case "1.3", "13":
		return tls.VersionTLS13, nil
	}
	return 0, Usagef("versions are 1.0, 1.1, 1.2 or 1.3", "%s %q is not a TLS version", flag, s)
}

// VersionFlag is the --min-version/--max-version value of a TLS version.
func VersionFlag(v uint16) string {
	return strings.TrimPrefix(tls.VersionName(v), "TLS ")
}
