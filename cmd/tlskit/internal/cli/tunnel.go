package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/tunnel"
)

// tunnelFlags are the options shared by `tlskit tunnel` and its modes.
type tunnelFlags struct {
	listen, target    string
	trust             trustFlags
	legacy            bool
	certFile, keyFile string
	clientCAs         []string
	allow             []string
	alpn              []string
	proxyProtocol     bool
	protocol          string
	maxConns          int
	handshakeTimeout  time.Duration
	firstByteTimeout  time.Duration
	idleTimeout       time.Duration
	grace             time.Duration
	metrics           string
	allowPublicPlain  bool
	logFormat         string
	configFile        string
}

func (f *tunnelFlags) registerCommon(fs *pflag.FlagSet) {
	fs.IntVar(&f.maxConns, "max-conns", 1024, "maximum concurrent connections per service; more are closed at once (0: no limit)")
	fs.DurationVar(&f.firstByteTimeout, "first-byte-timeout", tunnel.DefaultFirstByteTimeout, "server mode: close a client that sends nothing this long after connecting (negative: off)")
	fs.DurationVar(&f.handshakeTimeout, "handshake-timeout", 10*time.Second, "bound on the TLS handshake and the target connection")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 5*time.Minute, "close a connection idle both ways this long (0: never)")
	fs.DurationVar(&f.grace, "grace", 30*time.Second, "on SIGTERM, how long open connections may drain")
	fs.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics on ADDR (/metrics)")
	fs.BoolVar(&f.allowPublicPlain, "allow-public-plaintext", false, "allow the plaintext side on a non-loopback address")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json (logs go to stderr)")
}

func (f *tunnelFlags) registerService(fs *pflag.FlagSet, server bool) {
	fs.StringVar(&f.listen, "listen", "", "address to accept connections on, e.g. 127.0.0.1:8080")
	fs.StringVar(&f.target, "target", "", "address to forward to, HOST:PORT")
	fs.StringVar(&f.certFile, "cert", "", "certificate chain PEM (server: required; client: a client certificate)")
	fs.StringVar(&f.keyFile, "key", "", "private key PEM for --cert")
	fs.StringSliceVar(&f.alpn, "alpn", nil, "application protocols to offer or accept, e.g. h2,http/1.1")
	fs.BoolVar(&f.proxyProtocol, "proxy-protocol", false, "send a PROXY protocol v2 header to the target")
	registerTunnelProtocol(fs, &f.protocol, server)
	fs.BoolVar(&f.legacy, "legacy", false, "allow the legacy profile: TLS 1.0/1.1 (with --min-version) and TLS 1.2 suites without forward secrecy or AEAD (logged)")
	if server {
		fs.StringArrayVar(&f.clientCAs, "client-ca", nil, "require client certificates from the CA in `FILE` (repeatable)")
		fs.StringArrayVar(&f.allow, "allow", nil, "allow only clients whose certificate names this DNS `NAME` or IP (repeatable; implies a certificate is required)")
		f.trust.register(fs, groupPolicy|groupVersions|groupTime, 0)
		return
	}
	f.trust.register(fs, groupTrust|groupName|groupVersions|groupTime, 0)
}

func newTunnelCmd(stdio Stdio) *cobra.Command {
	var f tunnelFlags
	cmd := &cobra.Command{
		Use:   "tunnel client|server [flags] | tunnel --config FILE",
		Short: "Carry plain TCP over verified TLS, or terminate TLS in front of a plain service",
		Long: `tunnel does stunnel's job with tlskit's trust policy.

  client: plain TCP in on --listen, verified TLS out to --target
  server: TLS in on --listen (mTLS with --client-ca), plain TCP out to --target
  --config FILE: several services in one process (JSON, see the README)

A refused peer is logged with the finding id tlskit check would print
(finding=pin.mismatch, finding=cert.expired…). SIGHUP reloads certificates
and policies, keeping the last good configuration when the new one is bad;
SIGTERM stops accepting and lets connections drain for --grace.

Plaintext sides must be on loopback unless --allow-public-plaintext.`,
		Example: `  tlskit tunnel client --listen 127.0.0.1:6379 --target redis.internal:6380 --ca-file corp-root.pem
  tlskit tunnel client --listen 127.0.0.1:8080 --target api.example.com:443 --pin sha256/AAAA… --pin sha256/BBBB…
  tlskit tunnel server --listen :8443 --target 127.0.0.1:8080 --cert server.pem --key server.key --client-ca clients.pem --allow batch.internal
  tlskit tunnel --config tunnels.json --metrics 127.0.0.1:9090`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.configFile == "" {
				return usagef("run 'tlskit tunnel client --help' or 'tlskit tunnel server --help'", "tunnel needs a mode (client or server) or --config FILE")
			}
			svcs, metricsAddr, err := loadTunnelConfig(f.configFile)
			if err != nil {
				return err
			}
			if f.metrics == "" {
				f.metrics = metricsAddr
			}
			return runTunnels(cmd.Context(), stdio, &f, svcs)
		},
	}
	cmd.PersistentFlags().StringVar(&f.configFile, "config", "", "run the services of this JSON file")
	f.registerCommon(cmd.PersistentFlags())
	for _, mode := range []string{"client", "server"} {
		sub := &cobra.Command{
			Use:   mode + " --listen ADDR --target HOST:PORT [flags]",
			Short: map[string]string{"client": "Plain TCP in, verified TLS out", "server": "TLS in (optionally mTLS), plain TCP out"}[mode],
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				svc, err := f.service(mode)
				if err != nil {
					return err
				}
				return runTunnels(cmd.Context(), stdio, &f, []*tunnelService{svc})
			},
		}
		f.registerService(sub.Flags(), mode == "server")
		cmd.AddCommand(sub)
	}
	return cmd
}

// tunnelService is one configured service.
type tunnelService struct {
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

	// build returns the policy afresh (flags or file), for start and
	// reload; warn receives warnings for the user.
	build func(warn io.Writer) (*tlskit.Policy, error)
}

// service turns the mode flags into a service.
func (f *tunnelFlags) service(mode string) (*tunnelService, error) {
	if f.listen == "" || f.target == "" {
		return nil, usagef(fmt.Sprintf("example: tlskit tunnel %s --listen 127.0.0.1:8443 --target 127.0.0.1:8080 …", mode), "tunnel %s needs --listen and --target", mode)
	}
	if _, _, err := net.SplitHostPort(f.target); err != nil {
		return nil, usagef("example: --target db.internal:5432", "--target %q: want HOST:PORT", f.target)
	}
	svc := &tunnelService{Name: mode, Mode: mode, Listen: f.listen, Target: f.target, ProxyProtocol: f.proxyProtocol, Protocol: f.protocol}
	if (f.certFile == "") != (f.keyFile == "") {
		return nil, usagef("give both: --cert FILE --key FILE", "--cert and --key go together")
	}
	if mode == "server" && f.certFile == "" && f.trust.policyFile == "" {
		return nil, usagef("example: tlskit tunnel server --cert server.pem --key server.key --listen :8443 --target 127.0.0.1:8080", "tunnel server needs --cert and --key: the certificate it presents to clients")
	}
	if len(f.allow) > 0 && len(f.clientCAs) == 0 && f.trust.policyFile == "" {
		return nil, usagef("example: --client-ca clients-ca.pem --allow batch.internal", "--allow needs --client-ca: the CA that issues the allowed clients' certificates")
	}
	flags := *f
	svc.build = func(warn io.Writer) (*tlskit.Policy, error) {
		p, err := flags.trust.policy(warn)
		if err != nil {
			return nil, err
		}
		if flags.certFile != "" {
			p.CertFile, p.KeyFile = flags.certFile, flags.keyFile
		}
		if len(flags.alpn) > 0 {
			p.ALPN = flags.alpn
		}
		if flags.legacy {
			p.Legacy = true
		}
		if len(flags.clientCAs) > 0 {
			p.ClientTrust = nil
			for _, ca := range flags.clientCAs {
				p.ClientTrust = append(p.ClientTrust, "file:"+ca)
			}
			p.RequireClientCert = true
		}
		if len(flags.allow) > 0 {
			p.AllowedClients = flags.allow
		}
		return p, nil
	}
	return svc, nil
}

// tunnelConfig is the JSON file of `tlskit tunnel --config`.
type tunnelConfig struct {
	Metrics  string           `json:"metrics"`
	Services []*tunnelService `json:"services"`
}

// loadTunnelConfig reads a config file; policies are relative to it.
func loadTunnelConfig(path string) ([]*tunnelService, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", usagef("", "--config: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c tunnelConfig
	if err := dec.Decode(&c); err != nil {
		return nil, "", usagef(`the file is {"metrics": "127.0.0.1:9090", "services": [{"name", "mode", "listen", "target", "policy", "proxy_protocol", "protocol", "max_conns", "handshake_timeout", "first_byte_timeout", "idle_timeout"}]}`, "--config %s: %v", path, err)
	}
	if len(c.Services) == 0 {
		return nil, "", usagef("", "--config %s: no services", path)
	}
	seen := map[string]bool{}
	for i, s := range c.Services {
		if s.Name == "" || seen[s.Name] {
			return nil, "", usagef("", "--config %s: service %d: every service needs a unique name", path, i+1)
		}
		seen[s.Name] = true
		if s.Mode != "client" && s.Mode != "server" {
			return nil, "", usagef("", "--config %s: service %q: mode %q, want \"client\" or \"server\"", path, s.Name, s.Mode)
		}
		if s.Listen == "" || s.Target == "" || s.Policy == "" {
			return nil, "", usagef("", "--config %s: service %q needs listen, target and policy", path, s.Name)
		}
		pol := s.Policy
		if !filepath.IsAbs(pol) {
			pol = filepath.Join(filepath.Dir(path), pol)
		}
		s.build = func(io.Writer) (*tlskit.Policy, error) { return tlskit.LoadPolicy(pol) }
	}
	return c.Services, c.Metrics, nil
}

// isLoopback reports whether a listen or target address is on loopback.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// running is a started service.
type running struct {
	svc    *tunnelService
	trusts string // what the service trusts, for the log
	cfg    atomic.Pointer[tls.Config]
	proxy  *tunnel.Proxy
	ln     net.Listener
}

// built is a service's TLS config and what the log says about it.
type built struct {
	cfg    *tls.Config
	trusts string // what the service trusts, in one line
	legacy bool   // the legacy profile is on
}

// buildConfig builds the service's TLS config.
func (r *running) buildConfig(warn io.Writer) (built, error) {
	p, err := r.svc.build(warn)
	if err != nil {
		return built{}, err
	}
	b := built{legacy: p.Legacy, trusts: "no client certificates"}
	if r.svc.Mode == "server" {
		if b.cfg, err = p.ServerConfig(); err != nil {
			return built{}, err
		}
		if b.cfg.ClientAuth != tls.NoClientCert {
			v, err := p.ClientVerifier()
			if err != nil {
				return built{}, err
			}
			b.trusts = "clients: " + v.Describe()
		}
		return b, nil
	}
	// The name to verify is decided from the target (or --servername) by
	// the same rule as everywhere: an IP address is checked too.
	if b.cfg, err = p.DialConfig(r.svc.Target); err != nil {
		return built{}, err
	}
	v, err := p.Verifier()
	if err != nil {
		return built{}, err
	}
	b.trusts = v.Describe()
	return b, nil
}

// runTunnels starts every service and runs until SIGTERM/SIGINT or ctx.
func runTunnels(ctx context.Context, stdio Stdio, f *tunnelFlags, svcs []*tunnelService) error {
	var h slog.Handler
	switch f.logFormat {
	case "text":
		h = slog.NewTextHandler(stdio.Err, nil)
	case "json":
		h = slog.NewJSONHandler(stdio.Err, nil)
	default:
		return usagef("", "--log-format %q: want text or json", f.logFormat)
	}
	log := slog.New(h)
	metrics := &tunnel.Metrics{}
	var started []*running
	defer func() {
		for _, r := range started {
			r.ln.Close()
		}
	}()
	for _, svc := range svcs {
		plain := svc.Listen
		if svc.Mode == "server" {
			plain = svc.Target
		}
		if !f.allowPublicPlain && !isLoopback(plain) {
			return usagef("bind the plaintext side to 127.0.0.1 or ::1, or pass --allow-public-plaintext if the network is trusted",
				"service %q: the plaintext side %s is not on loopback: unencrypted traffic would cross the network", svc.Name, plain)
		}
		r := &running{svc: svc}
		b, err := r.buildConfig(stdio.Err)
		if err != nil {
			var ue *usageError
			if errors.As(err, &ue) {
				return err
			}
			return usagef("", "service %q: %s", svc.Name, libMessage(err))
		}
		r.trusts = b.trusts
		if b.legacy {
			log.Warn("legacy profile: TLS versions below 1.2 (if --min-version allows them) and TLS 1.2 suites without forward secrecy or AEAD are allowed", "service", svc.Name, "min_version", tls.VersionName(b.cfg.MinVersion))
		}
		r.cfg.Store(b.cfg)
		p, err := r.newProxy(f, log, metrics)
		if err != nil {
			return err
		}
		r.proxy = p
		if r.ln, err = net.Listen("tcp", svc.Listen); err != nil {
			return usagef("", "service %q: %v", svc.Name, err)
		}
		started = append(started, r)
	}
	if f.metrics != "" {
		mln, err := net.Listen("tcp", f.metrics)
		if err != nil {
			return usagef("", "--metrics: %v", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics)
		ms := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go ms.Serve(mln)
		defer ms.Close()
		log.Info("metrics", "addr", mln.Addr().String())
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	var wg sync.WaitGroup
	for _, r := range started {
		wg.Add(1)
		go func() { defer wg.Done(); r.proxy.Serve(r.ln) }()
		log.Info("listening", "service", r.svc.Name, "mode", r.svc.Mode, "addr", r.ln.Addr().String(), "target", r.svc.Target, "trust", r.trusts)
	}
	for {
		select {
		case <-ctx.Done():
		case s := <-sigs:
			if s == syscall.SIGHUP {
				for _, r := range started {
					b, err := r.buildConfig(io.Discard)
					metrics.Reloaded(err)
					if err != nil {
						log.Error("reload failed; the last good configuration stays", "service", r.svc.Name, "error", err.Error())
						continue
					}
					r.cfg.Store(b.cfg)
					log.Info("reloaded", "service", r.svc.Name)
				}
				continue
			}
		}
		break
	}
	log.Info("shutting down", "grace", f.grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), f.grace)
	defer cancel()
	for _, r := range started {
		r.proxy.Shutdown(sctx)
	}
	wg.Wait()
	log.Info("stopped")
	return nil
}

// newProxy builds the proxy of a service; its hooks read the current config.
func (r *running) newProxy(f *tunnelFlags, log *slog.Logger, m *tunnel.Metrics) (*tunnel.Proxy, error) {
	p := &tunnel.Proxy{
		Name: r.svc.Name, Logger: log, Metrics: m, ProxyProtocol: r.svc.ProxyProtocol,
		MaxConns: f.maxConns, HandshakeTimeout: f.handshakeTimeout, FirstByteTimeout: f.firstByteTimeout, IdleTimeout: f.idleTimeout,
	}
	if r.svc.MaxConns != nil {
		p.MaxConns = *r.svc.MaxConns
	}
	for _, d := range []struct {
		s   string
		dst *time.Duration
		key string
	}{{r.svc.HandshakeTimeout, &p.HandshakeTimeout, "handshake_timeout"}, {r.svc.FirstByteTimeout, &p.FirstByteTimeout, "first_byte_timeout"}, {r.svc.IdleTimeout, &p.IdleTimeout, "idle_timeout"}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil || v < 0 {
			return nil, usagef("durations look like 10s or 5m", "service %q: %s %q", r.svc.Name, d.key, d.s)
		}
		*d.dst = v
	}
	target := r.svc.Target
	var dialer net.Dialer
	if ok, err := r.startTLSHooks(p, &dialer); ok || err != nil {
		return p, err
	}
	if r.svc.Mode == "server" {
		p.Handshake = func(ctx context.Context, c net.Conn) (net.Conn, error) {
			tc := tls.Server(c, r.cfg.Load())
			return tc, tc.HandshakeContext(ctx)
		}
		p.Dial = func(ctx context.Context, _ net.Conn) (net.Conn, error) { return dialer.DialContext(ctx, "tcp", target) }
	} else {
		p.Dial = func(ctx context.Context, _ net.Conn) (net.Conn, error) {
			return (&tls.Dialer{NetDialer: &dialer, Config: r.cfg.Load()}).DialContext(ctx, "tcp", target)
		}
	}
	return p, nil
}
