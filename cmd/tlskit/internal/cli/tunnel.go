package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/tunnel"
)

// tunnelFlags are the options shared by `tlskit tunnel` and its modes.
type tunnelFlags struct {
	listen, target    string
	trust             base.TrustFlags // the service flags of a mode
	common            base.TrustFlags // --timeout, for every service
	legacy            bool
	certFile, keyFile string
	clientCAs         []string
	allow             []string
	alpn              []string
	proxyProtocol     bool
	protocol          string
	maxConns          int
	firstByteTimeout  time.Duration
	idleTimeout       time.Duration
	grace             time.Duration
	metrics           string
	allowPublicPlain  bool
	logFormat         string
	configFile        string
	reread            func() ([]*tunnel.Service, error) // --config: the file read again at SIGHUP
}

func (f *tunnelFlags) registerCommon(fs *pflag.FlagSet) {
	fs.IntVar(&f.maxConns, "max-conns", 1024, "at most `N` concurrent connections per service; more are closed at once (0: no limit)")
	fs.DurationVar(&f.firstByteTimeout, "first-byte-timeout", tunnel.DefaultFirstByteTimeout, "server mode: close a client that sends nothing this `DURATION` after connecting (negative: off)")
	f.common.Register(fs, base.GroupTimeout, tunnel.DefaultHandshakeTimeout)
	// The old name of --timeout, kept for scripts: hidden, and run warns
	// that it is deprecated when it is used (cobra keeps pflag's own
	// deprecation notice in a buffer it never prints).
	fs.DurationVar(&f.common.Timeout, "handshake-timeout", tunnel.DefaultHandshakeTimeout, "the same as --timeout (`DURATION`)")
	fs.MarkHidden("handshake-timeout")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 5*time.Minute, "close a connection idle both ways this `DURATION` (0: never)")
	fs.DurationVar(&f.grace, "grace", tunnel.DefaultGrace, "on SIGTERM, let open connections drain for up to `DURATION`")
	fs.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics on `ADDR` (/metrics)")
	fs.BoolVar(&f.allowPublicPlain, "allow-public-plaintext", false, "allow the plaintext side on a non-loopback address")
	fs.StringVar(&f.logFormat, "log-format", "text", "log `FORMAT`: text or json (logs go to stderr)")
}

func (f *tunnelFlags) registerService(fs *pflag.FlagSet, server bool) {
	fs.StringVar(&f.listen, "listen", "", "`ADDR` to accept connections on, e.g. 127.0.0.1:8080")
	fs.StringVar(&f.target, "target", "", "the `HOST:PORT` to forward to")
	fs.StringVar(&f.certFile, "cert", "", "certificate chain `FILE`, PEM (server: required; client: a client certificate)")
	fs.StringVar(&f.keyFile, "key", "", "private key `FILE`, PEM, for --cert")
	fs.StringSliceVar(&f.alpn, "alpn", nil, "application `PROTOCOLS` to offer or accept, e.g. h2,http/1.1")
	fs.BoolVar(&f.proxyProtocol, "proxy-protocol", false, "send a PROXY protocol v2 header to the target")
	registerTunnelProtocol(fs, &f.protocol, server)
	fs.BoolVar(&f.legacy, "legacy", false, "allow the legacy profile: TLS 1.0/1.1 (with --min-version) and TLS 1.2 suites without forward secrecy or AEAD (logged)")
	if server {
		fs.StringArrayVar(&f.clientCAs, "client-ca", nil, "require client certificates from the CA in `FILE` (repeatable)")
		fs.StringArrayVar(&f.allow, "allow", nil, "allow only clients whose certificate names this DNS `NAME` or IP (repeatable; implies a certificate is required)")
		f.trust.Register(fs, base.GroupPolicy|base.GroupVersions|base.GroupTime, 0)
		return
	}
	f.trust.Register(fs, base.GroupTrust|base.GroupName|base.GroupVersions|base.GroupTime, 0)
}

func newTunnelCmd(stdio base.Stdio) *cobra.Command {
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
and policies (and reads --config's file again: changes other than a
service's policy are logged and need a restart), keeping the last good
configuration when the new one is bad. SIGTERM stops accepting and lets
connections drain for --grace; a second SIGTERM or SIGINT ends the process
at once.

` + base.TrustHelp + `

--timeout bounds connecting to the target plus the TLS handshake
(--handshake-timeout is its old name). Plaintext sides must be on loopback
unless --allow-public-plaintext.

Exit status: 0 stopped by SIGTERM or SIGINT; 1 a runtime failure (cannot
listen); 2 usage error, or a policy or config file that does not load.`,
		Example: `  tlskit tunnel client --listen 127.0.0.1:6379 --target redis.internal:6380 --ca-file corp-root.pem
  tlskit tunnel client --listen 127.0.0.1:8080 --target api.example.com:443 --pin sha256/AAAA… --pin sha256/BBBB…
  tlskit tunnel server --listen :8443 --target 127.0.0.1:8080 --cert server.pem --key server.key --client-ca clients.pem --allow batch.internal
  tlskit tunnel --config tunnels.json --metrics 127.0.0.1:9090`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.configFile == "" {
				return base.Usagef("run 'tlskit tunnel client --help' or 'tlskit tunnel server --help'", "tunnel needs a mode (client or server) or --config FILE")
			}
			limits, err := f.limits()
			if err != nil {
				return err
			}
			c, err := tunnel.LoadConfig(f.configFile, limits)
			if err != nil {
				return base.Usage(err, "")
			}
			if f.metrics == "" {
				f.metrics = c.Metrics
			}
			f.reread = func() ([]*tunnel.Service, error) {
				c, err := tunnel.LoadConfig(f.configFile, limits)
				if err != nil {
					return nil, err
				}
				return c.Services, nil
			}
			return f.run(cmd, stdio, c.Services)
		},
	}
	cmd.PersistentFlags().StringVar(&f.configFile, "config", "", "run the services of this JSON `FILE`")
	f.registerCommon(cmd.PersistentFlags())
	for _, mode := range []tunnel.Mode{tunnel.ModeClient, tunnel.ModeServer} {
		sub := &cobra.Command{
			Use:   string(mode) + " --listen ADDR --target HOST:PORT [flags]",
			Short: map[tunnel.Mode]string{tunnel.ModeClient: "Plain TCP in, verified TLS out", tunnel.ModeServer: "TLS in (optionally mTLS), plain TCP out"}[mode],
			Example: map[tunnel.Mode]string{
				tunnel.ModeClient: `  tlskit tunnel client --listen 127.0.0.1:6379 --target redis.internal:6380 --ca-file corp-root.pem
  tlskit tunnel client --listen 127.0.0.1:6379 --target 10.0.0.7:6380 --ca-file corp-root.pem   # verifies IP:10.0.0.7
  tlskit tunnel client --listen 127.0.0.1:8080 --target api.example.com:443 --pin sha256/AAAA… --pin sha256/BBBB…
  tlskit tunnel client --protocol smtp --listen 127.0.0.1:2525 --target mail.example.com:587`,
				tunnel.ModeServer: `  tlskit tunnel server --listen :8443 --target 127.0.0.1:8080 --cert server.pem --key server.key
  tlskit tunnel server --listen :8443 --target 127.0.0.1:8080 --cert server.pem --key server.key --client-ca clients.pem --allow batch.internal
  tlskit tunnel server --protocol postgres --listen :5433 --target 127.0.0.1:5432 --cert db.pem --key db.key`,
			}[mode],
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				svc, err := f.service(mode)
				if err != nil {
					return err
				}
				return f.run(cmd, stdio, []*tunnel.Service{svc})
			},
		}
		f.registerService(sub.Flags(), mode == tunnel.ModeServer)
		cmd.AddCommand(sub)
	}
	return cmd
}

// limits are the flags' limits of every service.
func (f *tunnelFlags) limits() (tunnel.Limits, error) {
	if err := f.common.CheckTimeout(); err != nil {
		return tunnel.Limits{}, err
	}
	return tunnel.Limits{MaxConns: f.maxConns, HandshakeTimeout: f.common.Timeout, FirstByteTimeout: f.firstByteTimeout, IdleTimeout: f.idleTimeout}, nil
}

// service turns the mode flags into a service.
func (f *tunnelFlags) service(mode tunnel.Mode) (*tunnel.Service, error) {
	if f.listen == "" || f.target == "" {
		return nil, base.Usagef(fmt.Sprintf("example: tlskit tunnel %s --listen 127.0.0.1:8443 --target 127.0.0.1:8080 …", mode), "tunnel %s needs --listen and --target", mode)
	}
	if _, _, err := net.SplitHostPort(f.target); err != nil {
		return nil, base.Usagef("example: --target db.internal:5432", "--target %q: want HOST:PORT", f.target)
	}
	if (f.certFile == "") != (f.keyFile == "") {
		return nil, base.Usagef("give both: --cert FILE --key FILE", "--cert and --key go together")
	}
	if mode == tunnel.ModeServer && f.certFile == "" && f.trust.PolicyFile == "" {
		return nil, base.Usagef("example: tlskit tunnel server --cert server.pem --key server.key --listen :8443 --target 127.0.0.1:8080", "tunnel server needs --cert and --key: the certificate it presents to clients")
	}
	if len(f.allow) > 0 && len(f.clientCAs) == 0 && f.trust.PolicyFile == "" {
		return nil, base.Usagef("example: --client-ca clients-ca.pem --allow batch.internal", "--allow needs --client-ca: the CA that issues the allowed clients' certificates")
	}
	limits, err := f.limits()
	if err != nil {
		return nil, err
	}
	proto, err := tunnel.ParseProtocol(f.protocol, mode == tunnel.ModeServer)
	if err != nil {
		return nil, base.Usagef("", "--protocol: %s", strings.TrimPrefix(err.Error(), "tunnel: "))
	}
	flags := *f
	policy := func(warn io.Writer) (*tlskit.Policy, error) {
		p, err := flags.trust.Policy(warn)
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
		if p.MinVersion != 0 && p.MinVersion < tls.VersionTLS12 && !p.Legacy {
			return nil, base.Usagef("add --legacy to allow it explicitly", "--min-version %s: %s is deprecated (RFC 8996) and needs the legacy profile", tls.VersionName(p.MinVersion), tls.VersionName(p.MinVersion))
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
	return &tunnel.Service{Name: string(mode), Mode: mode, Listen: f.listen, Target: f.target, ProxyProtocol: f.proxyProtocol, Protocol: proto, Limits: limits, Policy: policy}, nil
}

// run supervises the services until SIGTERM/SIGINT or the context ends.
func (f *tunnelFlags) run(cmd *cobra.Command, stdio base.Stdio, svcs []*tunnel.Service) error {
	if fl := cmd.Flag("handshake-timeout"); fl != nil && fl.Changed {
		fmt.Fprintln(stdio.Err, "tlskit: warning: --handshake-timeout is deprecated: use --timeout, which means the same")
	}
	log, err := tunnel.NewLogger(stdio.Err, f.logFormat)
	if err != nil {
		return base.Usage(err, "")
	}
	s := &tunnel.Supervisor{
		Services: svcs, Metrics: f.metrics, AllowPublicPlaintext: f.allowPublicPlain,
		Grace: f.grace, Logger: log, Warn: stdio.Err, Signals: true, Reread: f.reread,
		Explain: probe.Explain,
	}
	err = s.Run(cmd.Context())
	var ce *tunnel.ConfigError
	if errors.As(err, &ce) {
		var pe *tunnel.PublicPlaintextError
		if errors.As(err, &pe) {
			return base.Usage(err, "bind the plaintext side to 127.0.0.1 or ::1, or pass --allow-public-plaintext if the network is trusted")
		}
		return base.Usage(err, "")
	}
	return err // cannot listen: a runtime failure
}
