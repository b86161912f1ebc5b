// Package exporterconfig is the view of the exporter's configuration that
// `tlskit exporter --check-config` (and tlskit-exporter's) prints, as text
// or JSON. It is part of the presentation layer, kept apart from package
// render so that a binary with only the exporter links neither render nor
// what render imports (capture and its pcap decoders): it imports the
// exporter package, internal/dn and internal/termsafe (names, and text
// from files made safe for a terminal) and the standard library, nothing
// else.
package exporterconfig

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/tlskit/tlskit/exporter"
	"github.com/tlskit/tlskit/internal/dn"
	"github.com/tlskit/tlskit/internal/termsafe"
	"github.com/tlskit/tlskit/probe"
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
	// StartTLS is the module's in-band upgrade, if any.
	StartTLS string `json:"starttls,omitempty"`
	// IPProtocol is ip4 or ip6 for a module that connects over that IP
	// version only, as the config file says it; empty for either.
	IPProtocol string `json:"ip_protocol,omitempty"`
	// PostQuantum says probes offer the hybrid post-quantum key share.
	PostQuantum bool `json:"post_quantum,omitempty"`
	// Timeout and ExpiringWithin are in seconds.
	Timeout        float64 `json:"timeout_seconds"`
	ExpiringWithin float64 `json:"expiring_within_seconds"`
	// CRLs are the CRLs the module checks revocation against, from its
	// policy's crl files.
	CRLs []CRL `json:"crls,omitempty"`
}

// CRL is a CRL a module checks revocation against: the file it is in, its
// issuer (RFC 4514, as tlskit names certificates), and when the next is due (RFC
// 3339; empty when the CRL names no next update).
type CRL struct {
	Path       string `json:"path"`
	Issuer     string `json:"issuer"`
	NextUpdate string `json:"next_update,omitempty"`
	line       string // trust.CRL.Describe: the text line, as the tunnel's log says it
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
		timeout := m.Timeout
		if timeout <= 0 {
			timeout = exporter.DefaultTimeout
		}
		mv := Module{Name: n, Timeout: timeout.Seconds(), ExpiringWithin: m.ExpiringWithin.Seconds(), StartTLS: m.StartTLS, PostQuantum: m.PostQuantum}
		if ip := probe.LookupNetwork(m.Network); ip != "ip" {
			mv.IPProtocol = ip // as the config file says it
		}
		if m.Policy != nil {
			vr, err := m.Policy.Verifier()
			if err != nil {
				return nil, err
			}
			mv.Trust, mv.ServerName, mv.ClientCert = vr.Describe(), m.Policy.ServerName, m.Policy.CertFile
			for _, crl := range vr.CRLs {
				c := CRL{Path: crl.Source, Issuer: dn.String(crl.List.RawIssuer), line: crl.Describe()}
				if !crl.List.NextUpdate.IsZero() {
					c.NextUpdate = crl.List.NextUpdate.UTC().Format(time.RFC3339)
				}
				mv.CRLs = append(mv.CRLs, c)
			}
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
		var extra string
		if m.StartTLS != "" {
			extra += "; starttls " + termsafe.String(m.StartTLS)
		}
		if m.PostQuantum {
			extra += "; post-quantum key share"
		}
		switch m.IPProtocol {
		case "ip4":
			extra += "; IPv4 only"
		case "ip6":
			extra += "; IPv6 only"
		}
		if _, err := fmt.Fprintf(w, "module %s: trust %s; timeout %gs; expiring within %gd%s\n", termsafe.String(m.Name), termsafe.String(m.Trust), m.Timeout, m.ExpiringWithin/86400, extra); err != nil {
			return err
		}
		for _, c := range m.CRLs {
			if _, err := fmt.Fprintf(w, "  crl %s\n", termsafe.String(c.line)); err != nil {
				return err
			}
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
