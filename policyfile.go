package tlskit

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/tlskit/tlskit/internal/jsonfile"
	"github.com/tlskit/tlskit/trust"
)

// policyFile is the JSON form of a Policy.
type policyFile struct {
	Version int      `json:"version"`
	Trust   []string `json:"trust"`
	Pins    *struct {
		Keys        []string `json:"keys"`
		Expires     string   `json:"expires"`
		AllowSingle bool     `json:"allow_single"`
	} `json:"pins"`
	MaxIntermediates int    `json:"max_intermediates"`
	Profile          string `json:"profile"`
	CertPolicies     *struct {
		Acceptable      []string `json:"acceptable"`
		RequireExplicit bool     `json:"require_explicit"`
		InhibitMapping  bool     `json:"inhibit_mapping"`
		InhibitAny      bool     `json:"inhibit_any"`
	} `json:"cert_policies"`
	CRL        []string `json:"crl"`
	Fetch      bool     `json:"fetch"`
	Names      []string `json:"names"`
	ServerName string   `json:"server_name"`
	Cert       string   `json:"cert"`
	Key        string   `json:"key"`
	ALPN       []string `json:"alpn"`
	MinTLS     string   `json:"min_tls"`
	MaxTLS     string   `json:"max_tls"`
	Legacy     bool     `json:"legacy"`
	Clients    *struct {
		Require bool     `json:"require"`
		Trust   []string `json:"trust"`
		Allow   []string `json:"allow"`
	} `json:"clients"`
}

// PolicyError is a policy file that cannot be read or used, at a known
// line when the problem is in its text. Its message starts with the place,
// like a compiler's: "policy.json:4: unknown key "pin" (…)".
type PolicyError struct {
	// File is the policy file's name, as given.
	File string
	// Line is the 1-based line of the problem; 0 when it is about the
	// whole file (it cannot be read, a trust source does not load).
	Line int
	// Err says what is wrong.
	Err error
}

// Error implements error.
func (e *PolicyError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the underlying error.
func (e *PolicyError) Unwrap() error { return e.Err }

// LoadPolicy reads a policy file (see [ParsePolicy]). Its errors are
// [*PolicyError]s.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) { // the message names the file already
			err = pe.Err
		}
		return nil, &PolicyError{File: path, Err: fmt.Errorf("cannot read the policy: %w", err)}
	}
	return ParsePolicy(path, data)
}

// ParsePolicy parses a policy file named name (for messages, and to resolve
// relative paths against its directory) and validates it: every trust
// source must load. The format is JSON; unknown keys are errors, and lines
// starting with "#" or "//" are comments:
//
//	# Trust only the corporate CA, pin it with a backup key.
//	{
//	  "version": 1,
//	  "trust": ["file:corp-root.pem"],
//	  "pins": {"keys": ["sha256/…", "sha256/…"], "expires": "2027-03-01"},
//	  "max_intermediates": 1,
//	  "profile": "rfc5280",
//	  "cert_policies": {"acceptable": ["2.16.840.1.101.3.2.1.3.13"], "require_explicit": true},
//	  "crl": ["corp-issuing-ca.crl"],
//	  "fetch": false,
//	  "names": ["api.internal"],
//	  "server_name": "api.internal",
//	  "cert": "client.pem", "key": "client.key",
//	  "alpn": ["h2", "http/1.1"],
//	  "min_tls": "1.3", "max_tls": "1.3",
//	  "clients": {"require": true, "trust": ["file:client-ca.pem"], "allow": ["batch.internal"]}
//	}
//
// "file:" and "dir:" sources, cert/key and CRL paths are relative to the
// file's directory. "max_intermediates" is 0 for no limit, -1 for none;
// "profile" is auto, webpki or rfc5280 (see [Policy.Profile]);
// "cert_policies" are RFC 5280's initial policy settings (see
// [trust.CertPolicies]: "acceptable", "require_explicit",
// "inhibit_mapping", "inhibit_any"); "crl" lists CRL files to check
// revocation against; "fetch" lets verification fetch missing
// intermediates and CRLs (see [Policy.Fetch]). "trust" replaces the
// system roots unless it lists "system". "clients" configures a server's client-certificate checks; an
// "allow" list implies "require". "legacy": true is the explicit opt-in to
// TLS 1.0/1.1 ("min_tls": "1.0") and to TLS 1.2 suites without forward
// secrecy or AEAD (see [Policy.Legacy]). Its errors are [*PolicyError]s.
func ParsePolicy(name string, data []byte) (*Policy, error) {
	var f policyFile
	clean, err := jsonfile.Decode(data, &f)
	if err != nil {
		return nil, fileError(name, clean, err)
	}
	at := func(key, format string, args ...any) error {
		return &PolicyError{name, lineOfKey(clean, key), fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...))}
	}
	if f.Version != 1 {
		return nil, at("version", "want 1, got %d (this tlskit reads version 1 policies)", f.Version)
	}
	dir := filepath.Dir(name)
	p := &Policy{
		Trust:            resolveSources(dir, f.Trust),
		MaxIntermediates: f.MaxIntermediates,
		Names:            f.Names,
		ServerName:       f.ServerName,
		CertFile:         resolvePath(dir, f.Cert),
		KeyFile:          resolvePath(dir, f.Key),
		ALPN:             f.ALPN,
		Profile:          f.Profile,
		Fetch:            f.Fetch,
	}
	for _, c := range f.CRL {
		p.CRLFiles = append(p.CRLFiles, resolvePath(dir, c))
	}
	if c := f.CertPolicies; c != nil {
		p.CertPolicies = trust.CertPolicies{Acceptable: c.Acceptable, RequireExplicit: c.RequireExplicit, InhibitMapping: c.InhibitMapping, InhibitAny: c.InhibitAny}
		for _, oid := range c.Acceptable {
			if _, err := ParseCertPolicy(oid); err != nil {
				return nil, at("acceptable", "%v", strings.TrimPrefix(err.Error(), "tlskit: "))
			}
		}
	}
	if len(f.Trust) == 0 {
		return nil, at("trust", `missing or empty: list "system", or your CA as "file:PATH" (an empty set would trust nothing)`)
	}
	if f.Pins != nil {
		p.Pins, p.AllowSinglePin = f.Pins.Keys, f.Pins.AllowSingle
		if f.Pins.Expires != "" {
			t, err := time.Parse(time.DateOnly, f.Pins.Expires)
			if err != nil {
				return nil, at("expires", "want YYYY-MM-DD, got %q", clip(f.Pins.Expires))
			}
			p.PinsExpire = t
		}
	}
	p.Legacy = f.Legacy
	if p.MinVersion, err = policyVersion(f.MinTLS, f.Legacy); err != nil {
		return nil, at("min_tls", "%v", err)
	}
	if p.MaxVersion, err = policyVersion(f.MaxTLS, true); err != nil {
		return nil, at("max_tls", "%v", err)
	}
	if c := f.Clients; c != nil {
		p.RequireClientCert, p.ClientTrust, p.AllowedClients = c.Require, resolveSources(dir, c.Trust), c.Allow
	}
	// The checks Validate makes too, where a line can be named.
	if p.MaxIntermediates < trust.NoIntermediates {
		return nil, at("max_intermediates", "want 0 (no limit), -1 (none) or more, got %d", p.MaxIntermediates)
	}
	if _, err := trust.ParseProfile(p.Profile); err != nil {
		return nil, at("profile", "%v", err)
	}
	for _, s := range p.Pins {
		if _, err := trust.ParsePin(s); err != nil {
			return nil, at("keys", "%v", err)
		}
	}
	if len(p.Pins) == 1 && !p.AllowSinglePin {
		return nil, at("keys", `a single pin has no backup: when that key is replaced every connection fails; add the pin of a backup key (or of the issuing CA), or set "allow_single": true`)
	}
	if err := p.Validate(); err != nil {
		return nil, &PolicyError{File: name, Err: err}
	}
	return p, nil
}

// policyVersion parses a policy file's TLS version; "" is 0 (the default).
func policyVersion(v string, legacy bool) (uint16, error) {
	switch v {
	case "":
		return 0, nil
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	case "1.0", "1.1":
		if !legacy {
			return 0, fmt.Errorf("%s is deprecated (RFC 8996); it needs \"legacy\": true", v)
		}
		if v == "1.0" {
			return tls.VersionTLS10, nil
		}
		return tls.VersionTLS11, nil
	}
	return 0, fmt.Errorf("want \"1.2\" or \"1.3\", got %q", clip(v))
}

// resolveSources makes file: and dir: sources relative to dir.
func resolveSources(dir string, srcs []string) []string {
	out := make([]string, len(srcs))
	for i, s := range srcs {
		kind, arg, _ := strings.Cut(s, ":")
		if kind == "file" || kind == "dir" {
			s = kind + ":" + resolvePath(dir, arg)
		}
		out[i] = s
	}
	return out
}

// resolvePath makes a relative path relative to dir.
func resolvePath(dir, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// fileError turns a JSON decoding error into one naming the line.
func fileError(name string, data []byte, err error) error {
	if errors.Is(err, jsonfile.ErrEmpty) {
		return &PolicyError{File: name, Err: errors.New(`empty policy: want a JSON object with at least "version" and "trust"`)}
	}
	line, msg := jsonfile.Locate(data, err, "policy")
	var uk *jsonfile.UnknownKeyError
	if errors.As(msg, &uk) {
		msg = fmt.Errorf("%w (a misspelt key could weaken the policy; the keys are %s)", uk, jsonfile.Keys(reflect.TypeFor[policyFile]()))
	}
	return &PolicyError{name, line, msg}
}

// lineOfKey returns the line of the first "key": in data, or 1.
func lineOfKey(data []byte, key string) int {
	i := bytes.Index(data, []byte(`"`+key+`"`))
	if i < 0 {
		return 1
	}
	return jsonfile.Line(data, i)
}

// clip shortens user input quoted in an error message.
func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
