package cli

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

// flagGroup selects which of the shared flags a command registers: a
// command registers only those that mean something for it, and every
// command that registers one gives it the same name, meaning and help.
type flagGroup int

// The groups of shared flags.
const (
	// groupPolicy: --policy.
	groupPolicy flagGroup = 1 << iota
	// groupTrust: --trust, --ca-file, --pin, --no-system-roots (and
	// --policy).
	groupTrust
	// groupName: --servername.
	groupName
	// groupVersions: --min-version, --max-version.
	groupVersions
	// groupTime: --verify-time.
	groupTime
	// groupTimeout: --timeout.
	groupTimeout
	// groupChecks: --profile, --max-depth, --crl, --fetch.
	groupChecks
)

// trustFlags are the flags of every command that verifies a peer, defined
// once here (step-cli's flags package is the model).
type trustFlags struct {
	groups        flagGroup
	trust         []string
	caFiles       []string
	policyFile    string
	pins          []string
	noSystemRoots bool
	serverName    string
	minVersion    string
	maxVersion    string
	verifyTime    string
	timeout       time.Duration
	profile       string
	maxDepth      int
	fs            *pflag.FlagSet
	crls          []string
	fetch         bool
}

// trustHelp is the paragraph every verifying command's --help carries.
const trustHelp = `Trust: the system roots (SSL_CERT_FILE and SSL_CERT_DIR are honoured), unless
--trust or --ca-file name the anchors: they replace the system roots unless
--trust system is among them ("only trust this CA" means only that CA).
--policy FILE reads a JSON policy file; flags given with it override its
fields. --pin requires one of the given SPKI pins in the verified chain.`

// register defines the groups' flags on fs.
func (f *trustFlags) register(fs *pflag.FlagSet, groups flagGroup, timeoutDefault time.Duration) {
	if groups&groupTrust != 0 {
		groups |= groupPolicy
	}
	f.groups = groups
	f.fs = fs
	if groups&groupTrust != 0 {
		fs.StringArrayVar(&f.trust, "trust", nil, "trust `SOURCE`: system, file:PATH, dir:PATH or pem:PEM; replaces the system roots unless system is listed (repeatable)")
		fs.StringArrayVar(&f.caFiles, "ca-file", nil, "trust the CA certificates in `FILE` (PEM or DER), the same as --trust file:FILE (repeatable)")
	}
	if groups&groupPolicy != 0 {
		fs.StringVar(&f.policyFile, "policy", "", "read the trust policy from `FILE` (JSON; see the README); flags given too override its fields")
	}
	if groups&groupTrust != 0 {
		fs.StringArrayVar(&f.pins, "pin", nil, "require this SPKI pin, sha256/BASE64 or curl's sha256//BASE64, in the verified chain (repeatable; give a backup)")
		fs.BoolVar(&f.noSystemRoots, "no-system-roots", false, "no effect, kept for scripts: --ca-file and --trust already replace the system roots")
	}
	if groups&groupName != 0 {
		fs.StringVar(&f.serverName, "servername", "", "`NAME` to verify the certificate for and to send as SNI (default: the target's host; an IP address is checked against IP SANs)")
	}
	if groups&groupVersions != 0 {
		fs.StringVar(&f.minVersion, "min-version", "", "lowest TLS `VERSION`: 1.0, 1.1, 1.2 or 1.3 (default 1.2)")
		fs.StringVar(&f.maxVersion, "max-version", "", "highest TLS `VERSION`: 1.0, 1.1, 1.2 or 1.3 (default 1.3)")
	}
	if groups&groupTime != 0 {
		fs.StringVar(&f.verifyTime, "verify-time", "", "verify certificates as of this `TIME` (RFC 3339); default: now (pcap: when the chain was captured)")
	}
	if groups&groupTimeout != 0 {
		fs.DurationVar(&f.timeout, "timeout", timeoutDefault, "give up connecting and handshaking after this `DURATION`")
	}
	if groups&groupChecks != 0 {
		fs.StringVar(&f.profile, "profile", "", "judge the chain by `PROFILE`: webpki (CA/Browser Forum rules), rfc5280 (RFC 5280 alone) or auto (default: webpki for a system root, rfc5280 for a CA you trust explicitly)")
		fs.IntVar(&f.maxDepth, "max-depth", 0, "allow at most `N` intermediates between the leaf and the anchor (0: the leaf must be issued by an anchor; self-issued key rollover certificates do not count; default: no limit)")
		fs.StringArrayVar(&f.crls, "crl", nil, "check revocation against the CRL in `FILE` (PEM or DER; repeatable): a revoked certificate, or a CRL of its issuer that cannot be used, refuses the chain")
		fs.BoolVar(&f.fetch, "fetch", false, "fetch what the chain points at: a missing intermediate from its AIA URL and CRLs from their distribution points (http, bounded); off by default: no network")
	}
}

// settingFlags maps the client settings a finding's fix may name
// (finding.Setting*) to the flags this command registered for them, plus
// the command's own (extra), so that render can name the flag: the
// library's findings name no flag.
func (f *trustFlags) settingFlags(extra map[string]string) map[string]string {
	m := make(map[string]string)
	add := func(g flagGroup, setting, flag string) {
		if f.groups&g != 0 {
			m[setting] = flag
		}
	}
	add(groupTrust, finding.SettingTrust, "--trust or --ca-file")
	add(groupTrust, finding.SettingPin, "--pin")
	add(groupName, finding.SettingServerName, "--servername")
	add(groupVersions, finding.SettingMinVersion, "--min-version")
	add(groupVersions, finding.SettingMaxVersion, "--max-version")
	add(groupTime, finding.SettingVerifyTime, "--verify-time")
	add(groupTimeout, finding.SettingTimeout, "--timeout")
	add(groupChecks, finding.SettingCRL, "--crl")
	add(groupChecks, finding.SettingFetch, "--fetch")
	add(groupChecks, finding.SettingMaxInterm, "--max-depth")
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// policy builds the one trust model, a tlskit.Policy, from the policy file
// (if any) and the flags. warn receives warnings for the user.
func (f *trustFlags) policy(warn io.Writer) (*tlskit.Policy, error) {
	p := &tlskit.Policy{}
	if f.policyFile != "" {
		var err error
		if p, err = tlskit.LoadPolicy(f.policyFile); err != nil {
			return nil, usage(err, "the policy file format is in the README (tlskit help check shows the trust flags)")
		}
	}
	sources := append([]string(nil), f.trust...)
	for _, path := range f.caFiles {
		sources = append(sources, "file:"+path)
	}
	if len(sources) > 0 {
		p.Trust = sources
	}
	if f.noSystemRoots {
		for _, s := range p.Trust {
			if s == "system" {
				return nil, usagef("drop one of them", "--no-system-roots contradicts --trust system")
			}
		}
		if len(p.Trust) == 0 {
			return nil, usagef("add the CA to trust: --ca-file ca.pem (or --trust file:ca.pem)", "--no-system-roots without --ca-file or --trust would trust nothing")
		}
	}
	if len(p.Trust) == 0 {
		p.Trust = []string{"system"}
	}
	for _, s := range f.pins {
		if _, err := trust.ParsePin(s); err != nil {
			return nil, usage(err, "a pin looks like sha256/YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg=")
		}
	}
	if len(f.pins) > 0 {
		p.Pins = f.pins
		if len(f.pins) == 1 {
			p.AllowSinglePin = true
			fmt.Fprintln(warn, "tlskit: warning: a single --pin has no backup: when that key is replaced, connections fail; add a second --pin for a backup key or the issuing CA")
		}
	}
	if f.serverName != "" {
		p.ServerName = f.serverName
	}
	if f.groups&groupVersions != 0 {
		if v, err := parseVersion("--min-version", f.minVersion); err != nil {
			return nil, err
		} else if v != 0 {
			p.MinVersion = v
		}
		if v, err := parseVersion("--max-version", f.maxVersion); err != nil {
			return nil, err
		} else if v != 0 {
			p.MaxVersion = v
		}
		if p.MinVersion != 0 && p.MaxVersion != 0 && p.MinVersion > p.MaxVersion {
			return nil, usagef("", "--min-version %s is above --max-version %s", tls.VersionName(p.MinVersion), tls.VersionName(p.MaxVersion))
		}
	}
	if f.verifyTime != "" {
		at, perr := time.Parse(time.RFC3339, f.verifyTime)
		if perr != nil {
			return nil, usagef("example: --verify-time 2026-11-23T06:00:00Z", "--verify-time: %v", perr)
		}
		p.Time = func() time.Time { return at }
	}
	if f.groups&groupChecks != 0 {
		if f.profile != "" {
			if _, err := trust.ParseProfile(f.profile); err != nil {
				return nil, usagef("--profile is auto, webpki or rfc5280", "--profile %q is not a profile", f.profile)
			}
			p.Profile = f.profile
		}
		switch {
		case !f.fs.Changed("max-depth"):
		case f.maxDepth == 0:
			p.MaxIntermediates = trust.NoIntermediates
		case f.maxDepth > 0:
			p.MaxIntermediates = f.maxDepth
		default:
			return nil, usagef("example: --max-depth 2", "--max-depth %d: give 0 or more", f.maxDepth)
		}
		p.CRLFiles = append(p.CRLFiles, f.crls...)
		p.Fetch = p.Fetch || f.fetch
	}
	if err := f.checkTimeout(); err != nil {
		return nil, err
	}
	return p, nil
}

// checkTimeout checks --timeout, when the command has it.
func (f *trustFlags) checkTimeout() error {
	if f.groups&groupTimeout != 0 && f.timeout <= 0 {
		return usagef("example: --timeout 5s", "--timeout must be positive")
	}
	return nil
}

// verifier resolves p into the verifier of server chains, as a usage error
// when a source does not load.
func verifier(p *tlskit.Policy) (*trust.Verifier, error) {
	v, err := p.Verifier()
	var se *trust.SourceError
	switch {
	case errors.As(err, &se):
		return nil, usage(err, "trust sources are system, file:PATH, dir:PATH or pem:PEM; --ca-file takes a file of PEM or DER CA certificates")
	case err != nil && strings.Contains(err.Error(), "CRL"):
		return nil, usage(err, "--crl takes a CRL file in PEM (X509 CRL) or DER, as `openssl crl` writes it")
	case err != nil:
		return nil, usage(err, "")
	}
	return v, nil
}

// parseVersion parses a --min-version or --max-version value; "" is 0.
func parseVersion(flag, s string) (uint16, error) {
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
	return 0, usagef("versions are 1.0, 1.1, 1.2 or 1.3", "%s %q is not a TLS version", flag, s)
}

// versionFlag is the --min-version/--max-version value of a TLS version.
func versionFlag(v uint16) string {
	return strings.TrimPrefix(tls.VersionName(v), "TLS ")
}
