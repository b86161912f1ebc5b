package tunnel

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/internal/jsonfile"
	"github.com/tlskit/tlskit/starttls"
)

// Mode says which side of a [Service] speaks TLS.
type Mode string

// The modes of a service.
const (
	// ModeClient accepts plain TCP and dials its target with verified TLS.
	ModeClient Mode = "client"
	// ModeServer accepts TLS (optionally mTLS) and dials its target in
	// plain TCP.
	ModeServer Mode = "server"
)

// Limits bound a service's connections; see the [Proxy] fields of the same
// names.
type Limits struct {
	// MaxConns is the limit of concurrent connections; zero means none.
	MaxConns int
	// HandshakeTimeout bounds the connection to the target and the TLS
	// handshake; zero means [DefaultHandshakeTimeout].
	HandshakeTimeout time.Duration
	// FirstByteTimeout (server mode) bounds the wait for a client's first
	// byte; zero means [DefaultFirstByteTimeout], negative turns it off.
	FirstByteTimeout time.Duration
	// IdleTimeout closes a connection idle both ways this long; zero
	// means never.
	IdleTimeout time.Duration
}

// Service is one tunnel a [Supervisor] runs: a listener, a target, the
// side that speaks TLS, and the policy that says how.
type Service struct {
	// Name names the service in logs and metrics; unique in a Supervisor.
	Name string
	// Mode is ModeClient or ModeServer.
	Mode Mode
	// Listen is the address to accept connections on, Target the
	// HOST:PORT to forward them to.
	Listen, Target string
	// ProxyProtocol sends a PROXY protocol v2 header to the target.
	ProxyProtocol bool
	// Protocol, when set, is the protocol whose in-band upgrade comes
	// before TLS on the TLS side (stunnel's "protocol ="): in client mode
	// the service upgrades towards its target ([StartTLSDial]), in server
	// mode it offers the upgrade to its clients ([StartTLSServe]; one of
	// [starttls.ServerProtocols]).
	Protocol starttls.Protocol
	// Limits bound the service's connections.
	Limits
	// Policy returns the service's TLS policy, built afresh when the
	// service starts and at every reload (so that changed files are read
	// again). warn receives warnings for the person starting it (a single
	// pin without backup); it is io.Discard at reloads.
	Policy func(warn io.Writer) (*tlskit.Policy, error)
}

// plaintext returns the address of the service's plain TCP side.
func (s *Service) plaintext() string {
	if s.Mode == ModeServer {
		return s.Target
	}
	return s.Listen
}

// Config is a file of services, as `tlskit tunnel --config` reads it:
//
//	{"metrics": "127.0.0.1:9090",
//	 "services": [{"name": "redis", "mode": "client", "listen": "127.0.0.1:6379",
//	               "target": "redis.internal:6380", "policy": "redis.policy.json",
//	               "proxy_protocol": false, "protocol": "", "max_conns": 100, "handshake_timeout": "10s",
//	               "first_byte_timeout": "3s", "idle_timeout": "5m"}]}
//
// Every service needs a unique name, a mode, listen, target and a policy
// file ([tlskit.LoadPolicy]; a relative path is relative to the config
// file). The limits are optional.
type Config struct {
	// Metrics is the address to serve Prometheus metrics on; "" for none.
	Metrics string
	// Services are the services of the file, in order.
	Services []*Service
}

// configFile is the JSON form of a Config.
type configFile struct {
	Metrics  string        `json:"metrics"`
	Services []serviceFile `json:"services"`
}

// serviceFile is the JSON form of a Service.
type serviceFile struct {
	Name             string `json:"name"`
	Mode             string `json:"mode"`
	Listen           string `json:"listen"`
	Target           string `json:"target"`
	Policy           string `json:"policy"`
	ProxyProtocol    bool   `json:"proxy_protocol"`
	Protocol         string `json:"protocol"`
	MaxConns         *int   `json:"max_conns"`
	HandshakeTimeout string `json:"handshake_timeout"`
	FirstByteTimeout string `json:"first_byte_timeout"`
	IdleTimeout      string `json:"idle_timeout"`
}

// ConfigError is a configuration that cannot run: a config file that does
// not parse or is incomplete, or a service whose settings or policy are
// wrong. Its message names the file or the service.
type ConfigError struct {
	// File is the config file, when the error is in one, and Line the
	// line of what is wrong when the JSON decoder says (0 otherwise).
	File string
	Line int
	// Service is the service's name, when the error is about one.
	Service string
	// Err says what is wrong.
	Err error

	hint string
}

// Error implements error.
func (e *ConfigError) Error() string {
	s := "tunnel: "
	switch {
	case e.File != "" && e.Line > 0:
		s += fmt.Sprintf("%s:%d: ", e.File, e.Line)
	case e.File != "":
		s += e.File + ": "
	}
	if e.Service != "" {
		s += fmt.Sprintf("service %q: ", e.Service)
	}
	return s + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// Hint says how to fix it, when there is something useful to say.
func (e *ConfigError) Hint() string { return e.hint }

// PublicPlaintextError is a service whose plain TCP side is not on
// loopback, refused unless [Supervisor.AllowPublicPlaintext] is set.
type PublicPlaintextError struct {
	// Addr is the plain side's address.
	Addr string
}

// Error implements error.
func (e *PublicPlaintextError) Error() string {
	return fmt.Sprintf("the plaintext side %s is not on loopback: unencrypted traffic would cross the network", e.Addr)
}

// configHint says what a config file holds, its keys from its own type.
func configHint() string {
	return "the tunnel's config file is JSON (with \"#\" or \"//\" comment lines), its keys " + jsonfile.Keys(reflect.TypeFor[configFile]()) + "; see the README"
}

// LoadConfig reads a config file (see [Config]). Services get defaults for
// the limits the file leaves out; their policies are read when they start.
// Its errors are [*ConfigError]s.
func LoadConfig(path string, defaults Limits) (*Config, error) {
	fail := func(service string, hint string, format string, args ...any) (*Config, error) {
		return nil, &ConfigError{File: path, Service: service, Err: fmt.Errorf(format, args...), hint: hint}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) { // the message names the file already
			err = pe.Err
		}
		return nil, &ConfigError{File: path, Err: fmt.Errorf("cannot read it: %w", err)}
	}
	var f configFile
	if clean, err := jsonfile.Decode(data, &f); err != nil {
		ce := &ConfigError{File: path, hint: configHint()}
		ce.Line, ce.Err = jsonfile.Locate(clean, err, "config")
		return nil, ce
	}
	if len(f.Services) == 0 {
		return fail("", configHint(), "no services")
	}
	c := &Config{Metrics: f.Metrics}
	seen := map[string]bool{}
	for i, sf := range f.Services {
		if sf.Name == "" || seen[sf.Name] {
			return fail("", "", "service %d: every service needs a unique name", i+1)
		}
		seen[sf.Name] = true
		s := &Service{Name: sf.Name, Mode: Mode(sf.Mode), Listen: sf.Listen, Target: sf.Target, ProxyProtocol: sf.ProxyProtocol, Limits: defaults}
		if s.Mode != ModeClient && s.Mode != ModeServer {
			return fail(s.Name, "", "mode %q, want \"client\" or \"server\"", sf.Mode)
		}
		if sf.Listen == "" || sf.Target == "" || sf.Policy == "" {
			return fail(s.Name, "", "needs listen, target and policy")
		}
		if s.Protocol, err = ParseProtocol(sf.Protocol, s.Mode == ModeServer); err != nil {
			return fail(s.Name, "", "protocol: %s", strings.TrimPrefix(err.Error(), "tunnel: "))
		}
		if sf.MaxConns != nil {
			s.MaxConns = *sf.MaxConns
		}
		for _, d := range []struct {
			s   string
			dst *time.Duration
			key string
		}{{sf.HandshakeTimeout, &s.HandshakeTimeout, "handshake_timeout"}, {sf.FirstByteTimeout, &s.FirstByteTimeout, "first_byte_timeout"}, {sf.IdleTimeout, &s.IdleTimeout, "idle_timeout"}} {
			if d.s == "" {
				continue
			}
			v, err := time.ParseDuration(d.s)
			if err != nil || v < 0 {
				return fail(s.Name, "durations look like 10s or 5m", "%s %q", d.key, d.s)
			}
			*d.dst = v
		}
		pol := sf.Policy
		if !filepath.IsAbs(pol) {
			pol = filepath.Join(filepath.Dir(path), pol)
		}
		s.Policy = func(io.Writer) (*tlskit.Policy, error) { return tlskit.LoadPolicy(pol) }
		c.Services = append(c.Services, s)
	}
	return c, nil
}

// NewLogger returns the logger of `tlskit tunnel`: slog lines on w, as
// logfmt-like text ("text") or one JSON object a line ("json").
func NewLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("tunnel: log format %q: want text or json", format)
}
