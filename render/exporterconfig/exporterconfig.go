// Package exporterconfig is the view of the exporter's configuration that
// `tlskit exporter --check-config` (and tlskit-exporter's) prints, as text
// or JSON. It is part of the presentation layer, kept apart from package
// render so that a binary with only the exporter links neither render nor
// what render imports (capture and its pcap decoders): it imports the
// exporter package and the standard library, nothing else.
package exporterconfig

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/tlskit/tlskit/exporter"
)

// Config is what --check-config prints: the modules by name, the static
// targets and the certificate file patterns, in the JSON shape of
// `--check-config --json`.
type Config struct {
	Modules          []Module `json:"modules"`
	Targets          []Target `json:"targets"`
	CertificateFiles []string `json:"certificate_files"`
}

// Module is one module of the config.
type Module struct {
	// Name is the module's name, "default" for the default module.
	Name string `json:"name"`
	// Trust says what the module's verifier trusts (trust.Verifier's
	// Describe); empty when the module has no trust policy.
	Trust      string `json:"trust"`
	ServerName string `json:"server_name,omitempty"`
	ClientCert string `json:"client_cert,omitempty"`
	// Timeout and ExpiringWithin are in seconds.
	Timeout        float64 `json:"timeout_seconds"`
	ExpiringWithin float64 `json:"expiring_within_seconds"`
}

// Target is one static target of the config file.
type Target struct {
	Target     string `json:"target"`
	Module     string `json:"module"`
	ServerName string `json:"server_name,omitempty"`
}

// New describes cfg: its modules sorted by name, each module's trust
// policy resolved to say what it trusts. The error is the policy's, as it
// is, when a module's trust sources cannot be loaded.
func New(cfg *exporter.Config) (*Config, error) {
	var v Config
	names := make([]string, 0, len(cfg.Modules))
	for n := range cfg.Modules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := cfg.Modules[n]
		mv := Module{Name: n, Timeout: m.Timeout.Seconds(), ExpiringWithin: m.ExpiringWithin.Seconds()}
		if m.Policy != nil {
			vr, err := m.Policy.Verifier()
			if err != nil {
				return nil, err
			}
			mv.Trust, mv.ServerName, mv.ClientCert = vr.Describe(), m.Policy.ServerName, m.Policy.CertFile
		}
		v.Modules = append(v.Modules, mv)
	}
	for _, t := range cfg.Targets {
		v.Targets = append(v.Targets, Target{t.Target, t.Module, t.ServerName})
	}
	v.CertificateFiles = append([]string{}, cfg.CertificateFiles...)
	return &v, nil
}

// Text writes c for a person: one line per module, then the number of
// static targets and certificate file patterns.
func (c *Config) Text(w io.Writer) error {
	for _, m := range c.Modules {
		if _, err := fmt.Fprintf(w, "module %s: trust %s; timeout %gs; expiring within %gd\n", m.Name, m.Trust, m.Timeout, m.ExpiringWithin/86400); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%d static targets, %d certificate file patterns\n", len(c.Targets), len(c.CertificateFiles))
	return err
}

// JSON writes c as one indented JSON object, as render.JSON writes its
// values (two spaces, no HTML escaping).
func (c *Config) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(c)
}
