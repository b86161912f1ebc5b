package trust

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/truststore"
)

// Anchors is a resolved set of trust anchors: what a list of trust sources
// means. Build it with [LoadAnchors] (sources from flags and policy files)
// or [NewAnchors] (certificates built in code); the zero value and nil
// trust nothing.
//
// The one rule of tlskit's trust model: the sources replace the system
// roots unless "system" is listed. "Only trust this CA" means only that CA.
//
// An Anchors is safe for concurrent use. The system roots, when included,
// are loaded on first use and then kept.
type Anchors struct {
	// System says the system roots are included.
	System bool
	// Certs are the explicitly given anchors, in source order.
	Certs []*x509.Certificate
	// Sources says where each group of Certs came from, for messages:
	// file paths, "dir:PATH", "inline PEM", or a caller's name.
	Sources []string
	// SystemRoots loads the system roots when System is set; nil means
	// [truststore.SystemRoots] with the process environment.
	SystemRoots func() ([]*x509.Certificate, error)

	once     sync.Once
	resolved *anchorSet
}

// Source kinds of a trust source string.
const (
	SourceSystem = "system"
	SourceFile   = "file"
	SourceDir    = "dir"
	SourcePEM    = "pem"
)

// LoadAnchors resolves trust sources into anchors. This is the only place
// where a trust source is given meaning. Each source is "system" (the
// machine's roots, see [truststore.SystemRoots]), "file:PATH" (PEM or DER
// certificates), "dir:PATH" (every .pem, .crt and .cer file in it) or
// "pem:<inline PEM>". Relative paths are taken from base when it is not
// empty (a policy file's directory).
//
// An empty list is an error: it would trust nothing. So is a source that
// loads no certificate.
func LoadAnchors(sources []string, base string) (*Anchors, error) {
	if len(sources) == 0 {
		return nil, errors.New(`trust: no trust sources: an empty set trusts nothing; list "system" for the system roots, or your CA with "file:PATH"`)
	}
	a := &Anchors{}
	for _, src := range sources {
		kind, arg, _ := strings.Cut(src, ":")
		var (
			certs []*x509.Certificate
			name  = arg
			err   error
		)
		if (kind == SourceFile || kind == SourceDir) && base != "" && arg != "" && !filepath.IsAbs(arg) {
			arg = filepath.Join(base, arg)
		}
		switch kind {
		case SourceSystem:
			if arg != "" {
				return nil, &SourceError{src, errors.New(`"system" takes no argument`)}
			}
			a.System = true
			continue
		case SourceFile:
			if arg == "" {
				return nil, &SourceError{src, errors.New("give the file, as file:PATH")}
			}
			certs, err = truststore.ReadCertificatesFile(arg)
		case SourceDir:
			if arg == "" {
				return nil, &SourceError{src, errors.New("give the directory, as dir:PATH")}
			}
			certs, err = loadDir(arg)
			name = "dir:" + name
		case SourcePEM:
			certs, err = truststore.ParseCertificates([]byte(arg), "inline PEM")
			name = "inline PEM"
		default:
			hint := ""
			if _, statErr := os.Stat(src); statErr == nil {
				hint = fmt.Sprintf(" (to trust that file, write \"file:%s\")", src)
			}
			return nil, &SourceError{src, fmt.Errorf(`want "system", "file:PATH", "dir:PATH" or "pem:PEM"%s`, hint)}
		}
		if err != nil {
			return nil, &SourceError{src: src, err: err}
		}
		if len(certs) == 0 {
			return nil, &SourceError{src, errors.New("holds no certificate")}
		}
		a.Certs = append(a.Certs, certs...)
		a.Sources = append(a.Sources, name)
	}
	return a, nil
}

// NewAnchors returns anchors of certificates built in code, without the
// system roots. name says where they came from, for messages.
func NewAnchors(name string, certs ...*x509.Certificate) *Anchors {
	a := &Anchors{Certs: certs}
	if name != "" {
		a.Sources = []string{name}
	}
	return a
}

// SystemAnchors returns anchors that are the system roots only: the
// default of a client that was told nothing.
func SystemAnchors() *Anchors { return &Anchors{System: true} }

// Describe says in one line what the anchors are, for reports and logs:
// "1 certificate from corp-root.pem; system roots not included" or
// "the system roots".
func (a *Anchors) Describe() string {
	if a == nil || !a.System && len(a.Certs) == 0 {
		return "nothing (no trust anchors)"
	}
	var parts []string
	if a.System {
		parts = append(parts, "the system roots")
	}
	if n := len(a.Certs); n > 0 {
		what := fmt.Sprintf("%d %s", n, plural(n, "certificate"))
		if len(a.Sources) > 0 {
			what += " from " + strings.Join(a.Sources, ", ")
		}
		parts = append(parts, what)
	}
	s := strings.Join(parts, " + ")
	if !a.System {
		s += "; system roots not included"
	}
	return s
}

// Preload loads the anchors now (the system roots, when included), so that
// the first verification does not wait for them; it may run on another
// goroutine while the caller reads its input.
func (a *Anchors) Preload() { a.resolve() }

// resolve loads the anchors once: the system roots when included, and
// every certificate into a pool.
func (a *Anchors) resolve() *anchorSet {
	if a == nil {
		return (&Anchors{}).load()
	}
	a.once.Do(func() { a.resolved = a.load() })
	return a.resolved
}

// anchorSet is the anchors as the verifier uses them.
type anchorSet struct {
	certs     []*x509.Certificate
	system    map[*x509.Certificate]bool // which of certs are system roots
	bySubject map[string][]*x509.Certificate
	desc      string            // which anchors were tried, for messages
	problems  []finding.Finding // policy.invalid findings
}

// load resolves the anchors.
func (a *Anchors) load() *anchorSet {
	s := &anchorSet{system: make(map[*x509.Certificate]bool), bySubject: make(map[string][]*x509.Certificate), desc: a.Describe()}
	add := func(c *x509.Certificate, system bool) {
		if c != nil {
			s.certs = append(s.certs, c)
			s.bySubject[string(c.RawSubject)] = append(s.bySubject[string(c.RawSubject)], c)
			if system {
				s.system[c] = true
			}
		}
	}
	if a.System {
		load := a.SystemRoots
		if load == nil {
			load = DefaultSystemRoots
		}
		sys, err := load()
		if err != nil || len(sys) == 0 {
			detail := "the system root loader returned no certificates"
			if err != nil {
				detail = err.Error()
			}
			s.problems = append(s.problems, finding.Finding{
				ID:       finding.PolicyInvalid,
				Severity: finding.Error,
				Title:    "the system roots could not be loaded",
				Detail:   detail,
				Fix:      "install the ca-certificates package, set SSL_CERT_FILE to a CA bundle, or trust your CA explicitly (a file: trust source)",
				Setting:  finding.SettingTrust,
			})
		} else {
			for _, c := range sys {
				add(c, true)
			}
			s.desc = strings.Replace(s.desc, "the system roots", fmt.Sprintf("the system roots (%d certificates)", len(sys)), 1)
		}
	}
	for _, c := range a.Certs {
		add(c, false)
	}
	if len(s.certs) == 0 && len(s.problems) == 0 {
		s.problems = append(s.problems, finding.Finding{
			ID:       finding.PolicyInvalid,
			Severity: finding.Error,
			Title:    "no trust anchors: the policy trusts nothing",
			Detail:   "the policy neither includes the system roots nor lists any root certificate, so no chain can be trusted",
			Fix:      "include the system roots (the trust source system), or give the CA certificate to trust (a file: trust source)",
			Setting:  finding.SettingTrust,
		})
	}
	return s
}

// DefaultSystemRoots loads the system roots of the process environment:
// [truststore.SystemRoots] without the file each came from.
func DefaultSystemRoots() ([]*x509.Certificate, error) {
	roots, err := truststore.SystemRoots(truststore.ProcessEnv())
	if err != nil {
		return nil, err
	}
	certs := make([]*x509.Certificate, len(roots))
	for i, r := range roots {
		certs[i] = r.Cert
	}
	return certs, nil
}

// loadDir loads every certificate file in dir.
func loadDir(dir string) ([]*x509.Certificate, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var all []*x509.Certificate
	for _, e := range ents {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".pem", ".crt", ".cer":
		default:
			continue
		}
		certs, err := truststore.ReadCertificatesFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		all = append(all, certs...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no .pem, .crt or .cer certificate file in %s", dir)
	}
	return all, nil
}

// plural returns word, with an "s" unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// SourceError is a trust source that does not load or does not parse.
type SourceError struct {
	src string
	err error
}

// Source is the trust source as it was given.
func (e *SourceError) Source() string { return e.src }

func (e *SourceError) Error() string {
	return fmt.Sprintf("trust: source %q: %v", clip(e.src), e.err)
}

func (e *SourceError) Unwrap() error { return e.err }
