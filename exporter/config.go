// Package exporter is tlskit's Prometheus exporter: a blackbox_exporter
// compatible multi-target endpoint, /probe?target=HOST:PORT&module=NAME,
// that runs one [probe.Run] and exports what it found, and /metrics for the
// static targets and the certificate files of its configuration.
//
// Unlike exporters that export only what a successful handshake shows, it
// keeps the facts when things fail: the chain the server sent when
// verification fails, the chain a server sends before it demands a client
// certificate (TLS 1.2, and TLS 1.3 where tlskit decrypts the Certificate
// message), and every finding as a series labelled with its id and
// severity, so "why did this fail" is a label rather than a log search.
//
// It knows nothing of flags: `tlskit exporter` builds a [Config] from its
// flags and config file and serves [Exporter.Handler].
package exporter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/internal/jsonfile"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/trust"
)

// Module is how a target is probed, as a blackbox_exporter module is: the
// trust policy (anchors, pins, server name, client certificate, versions),
// the STARTTLS protocol, the timeout and the expiry warning threshold.
type Module struct {
	// Policy is the trust policy; nil means the system roots.
	Policy *tlskit.Policy
	// StartTLS is the protocol to upgrade with before the handshake (a
	// name of [starttls.Protocols]: smtp, imap, postgres…); "" for TLS
	// from the first byte.
	StartTLS string
	// XMPPDomain is the domain an XMPP stream is opened to; empty means
	// the server name.
	XMPPDomain string
	// Network is the network probes connect on: "tcp4" for IPv4 only,
	// "tcp6" for IPv6 only, "" for either (a name's addresses in the
	// resolver's order, each tried in turn). A dual-stack target needs a
	// module for each version to have both watched.
	Network string
	// Timeout bounds one probe (connect and handshake); 0 means 10 s. A
	// scrape's own timeout (Prometheus' X-Prometheus-Scrape-Timeout-Seconds
	// header) shortens it.
	Timeout time.Duration
	// ExpiringWithin is the cert.expiring-soon threshold; 0 turns the
	// warning off.
	ExpiringWithin time.Duration
	// PostQuantum makes probes offer crypto/tls's default groups with
	// their hybrid X25519MLKEM768 key share, as current browsers and Go
	// do, so that a server that turns such hellos away (about 1,500
	// bytes: tldr.fail) fails its probes as it fails those clients. A
	// probe costs about a third more CPU. Otherwise probes offer X25519,
	// P-256 and P-384 with one X25519 share.
	PostQuantum bool
}

// StaticTarget is a target of the config file, probed at each scrape of
// /metrics.
type StaticTarget struct {
	// Target is HOST[:PORT].
	Target string
	// Module names the module; "" means "default".
	Module string
	// ServerName overrides the module's server name.
	ServerName string
}

// Config is what the exporter serves.
type Config struct {
	// Modules by name. "default" is used when a probe names none.
	Modules map[string]*Module
	// Targets are probed at each scrape of /metrics.
	Targets []StaticTarget
	// CertificateFiles are files, directories (their .pem, .crt, .cer and
	// .der files) and glob patterns of certificates on disk, read at each
	// scrape of /metrics.
	CertificateFiles []string
	// MaxConcurrentProbes bounds the probes running at once, /probe and
	// static targets together; a /probe beyond it waits. 0 means 1024.
	MaxConcurrentProbes int
}

// configFile is the JSON form of a Config.
type configFile struct {
	Modules          map[string]moduleFile `json:"modules"`
	Targets          []targetFile          `json:"targets"`
	CertificateFiles []string              `json:"certificate_files"`
	MaxConcurrent    int                   `json:"max_concurrent_probes"`
}

type moduleFile struct {
	Policy         string   `json:"policy"`
	Trust          []string `json:"trust"`
	Pins           []string `json:"pins"`
	ServerName     string   `json:"server_name"`
	Cert           string   `json:"cert"`
	Key            string   `json:"key"`
	MinTLS         string   `json:"min_tls"`
	MaxTLS         string   `json:"max_tls"`
	StartTLS       string   `json:"starttls"`
	XMPPDomain     string   `json:"xmpp_domain"`
	IPProtocol     string   `json:"ip_protocol"`
	Timeout        string   `json:"timeout"`
	ExpiringWithin *string  `json:"expiring_within"`
	PostQuantum    bool     `json:"post_quantum"`
}

type targetFile struct {
	Target     string `json:"target"`
	Module     string `json:"module"`
	ServerName string `json:"server_name"`
}

// ConfigError is a config file that cannot be used, with its place.
type ConfigError struct {
	// File is the config file's name, and Line the line of what is wrong
	// when the JSON decoder says (0 otherwise).
	File string
	Line int
	// Where is the module, target or key the error is about; may be "".
	Where string
	// Err says what is wrong.
	Err error
}

func (e *ConfigError) Error() string {
	s := "exporter: " + e.File + ": "
	if e.Line > 0 {
		s = fmt.Sprintf("exporter: %s:%d: ", e.File, e.Line)
	}
	if e.Where != "" {
		s += e.Where + ": "
	}
	return s + e.Err.Error()
}

func (e *ConfigError) Unwrap() error { return e.Err }

// Hint points at the documentation of the format.
func (e *ConfigError) Hint() string {
	return "the exporter's config file is JSON, its keys " + jsonfile.Keys(reflect.TypeFor[configFile]()) + " (modules by name); see the README"
}

// DefaultTimeout bounds a module's probe when the module sets no timeout.
const DefaultTimeout = 10 * time.Second

// DefaultExpiringWithin is a module's cert.expiring-soon threshold when the
// config file does not give one: 30 days.
const DefaultExpiringWithin = 30 * 24 * time.Hour

// LoadConfig reads a config file (see [ParseConfig]).
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{File: path, Err: err}
	}
	return ParseConfig(path, data)
}

// ParseConfig parses a config file named name (for messages, and to
// resolve relative paths against its directory). The format is JSON with
// "#" or "//" comment lines; unknown keys are errors:
//
//	{
//	  "modules": {
//	    "default":  {"trust": ["system"]},
//	    "internal": {"trust": ["file:corp-root.pem"], "server_name": "api.internal", "timeout": "5s"},
//	    "mtls":     {"policy": "mtls.policy.json", "cert": "client.pem", "key": "client.key", "expiring_within": "14d"},
//	    "smtp":     {"starttls": "smtp", "server_name": "mail.example.com"}
//	  },
//	  "targets": [{"target": "api.internal:443", "module": "internal"}],
//	  "certificate_files": ["/etc/nginx/tls/*.pem", "/etc/ssl/private/"]
//	}
//
// A module's "policy" is a tlskit policy file (see [tlskit.ParsePolicy]);
// the module's other keys override its fields. Policies are loaded, and
// client certificates read, here: a broken one is an error at start, not
// at the first probe.
func ParseConfig(name string, data []byte) (*Config, error) {
	var f configFile
	if clean, err := jsonfile.Decode(data, &f); err != nil {
		line, msg := jsonfile.Locate(clean, err, "config")
		return nil, &ConfigError{File: name, Line: line, Err: msg}
	}
	dir := filepath.Dir(name)
	cfg := &Config{Modules: map[string]*Module{}, MaxConcurrentProbes: f.MaxConcurrent}
	if f.MaxConcurrent < 0 {
		return nil, &ConfigError{File: name, Where: "max_concurrent_probes", Err: errors.New("must not be negative")}
	}
	names := make([]string, 0, len(f.Modules))
	for n := range f.Modules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, " \t\n\"") {
			return nil, &ConfigError{File: name, Where: "modules", Err: fmt.Errorf("%q is not a module name", n)}
		}
		m, err := f.Modules[n].module(dir)
		if err != nil {
			return nil, &ConfigError{File: name, Where: "module " + n, Err: err}
		}
		cfg.Modules[n] = m
	}
	for i, t := range f.Targets {
		where := fmt.Sprintf("targets[%d]", i)
		if _, err := probe.SplitTarget(t.Target); err != nil {
			return nil, &ConfigError{File: name, Where: where, Err: err}
		}
		if t.ServerName != "" {
			if _, err := trust.ServerName("", t.ServerName); err != nil {
				return nil, &ConfigError{File: name, Where: where, Err: err}
			}
		}
		if t.Module != "" && t.Module != "default" && cfg.Modules[t.Module] == nil {
			return nil, &ConfigError{File: name, Where: where, Err: fmt.Errorf("no module named %q", t.Module)}
		}
		cfg.Targets = append(cfg.Targets, StaticTarget{Target: t.Target, Module: t.Module, ServerName: t.ServerName})
	}
	for _, p := range f.CertificateFiles {
		if p == "" {
			return nil, &ConfigError{File: name, Where: "certificate_files", Err: errors.New("an empty path")}
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, &ConfigError{File: name, Where: "certificate_files", Err: fmt.Errorf("%q: %w", p, err)}
		}
		cfg.CertificateFiles = append(cfg.CertificateFiles, p)
	}
	return cfg, nil
}

// module resolves one module of the file.
func (m moduleFile) module(dir string) (*Module, error) {
	out := &Module{StartTLS: strings.ToLower(m.StartTLS), XMPPDomain: m.XMPPDomain, ExpiringWithin: DefaultExpiringWithin}
	p := &tlskit.Policy{}
	if m.Policy != "" {
		var err error
		if p, err = tlskit.LoadPolicy(resolve(dir, m.Policy)); err != nil {
			return nil, err
		}
	}
	if len(m.Trust) > 0 {
		p.Trust = nil
		for _, s := range m.Trust {
			if rest, ok := strings.CutPrefix(s, "file:"); ok {
				s = "file:" + resolve(dir, rest)
			} else if rest, ok := strings.CutPrefix(s, "dir:"); ok {
				s = "dir:" + resolve(dir, rest)
			}
			p.Trust = append(p.Trust, s)
		}
	}
	if len(p.Trust) == 0 {
		p.Trust = []string{"system"}
	}
	if len(m.Pins) > 0 {
		p.Pins = m.Pins
		p.AllowSinglePin = len(m.Pins) == 1 // monitoring a pin needs no backup
	}
	if m.ServerName != "" {
		if _, err := trust.ServerName("", m.ServerName); err != nil {
			return nil, fmt.Errorf("server_name: %w", err)
		}
		p.ServerName = m.ServerName
	}
	if (m.Cert == "") != (m.Key == "") {
		return nil, errors.New(`"cert" and "key" go together`)
	}
	if m.Cert != "" {
		p.CertFile, p.KeyFile = resolve(dir, m.Cert), resolve(dir, m.Key)
	}
	for _, v := range []struct {
		s   string
		dst *uint16
	}{{m.MinTLS, &p.MinVersion}, {m.MaxTLS, &p.MaxVersion}} {
		switch v.s {
		case "":
		case "1.0":
			*v.dst = 0x0301
		case "1.1":
			*v.dst = 0x0302
		case "1.2":
			*v.dst = 0x0303
		case "1.3":
			*v.dst = 0x0304
		default:
			return nil, fmt.Errorf("%q is not a TLS version (1.0, 1.1, 1.2 or 1.3)", v.s)
		}
	}
	switch m.IPProtocol {
	case "":
	case "ip4":
		out.Network = "tcp4"
	case "ip6":
		out.Network = "tcp6"
	default:
		return nil, fmt.Errorf("ip_protocol: %q is not ip4 (IPv4 only) or ip6 (IPv6 only); leave it out for either", m.IPProtocol)
	}
	if m.Timeout != "" {
		d, err := time.ParseDuration(m.Timeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("timeout: %q is not a positive duration (5s, 1m)", m.Timeout)
		}
		out.Timeout = d
	}
	if m.ExpiringWithin != nil {
		d, err := diagnose.ParseDays(*m.ExpiringWithin)
		if err != nil {
			return nil, fmt.Errorf("expiring_within: %w", err)
		}
		out.ExpiringWithin = d
	}
	out.PostQuantum = m.PostQuantum
	out.Policy = p
	return out, nil
}

func resolve(dir, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}
