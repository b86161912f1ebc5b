// Package exportercmd is the exporter command: `tlskit exporter` in the
// tlskit binary and the root command of tlskit-exporter, one
// implementation with the same flags, help and behaviour. It links the
// exporter and what the exporter needs, and none of tlskit's other
// commands (no capture, render, scan or lab), so that tlskit-exporter stays
// small.
package exportercmd

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/exporter"
	"github.com/tlskit/tlskit/internal/termsafe"
	"github.com/tlskit/tlskit/render/exporterconfig"
)

// exporterFlags are the options of `tlskit exporter` and tlskit-exporter.
type exporterFlags struct {
	trust       base.TrustFlags
	listen      string
	configFile  string
	certFile    string
	keyFile     string
	expiring    base.DaysDuration
	postQuantum bool
	checkConfig bool
	jsonOut     bool
	// The exporter's own endpoint over TLS: its certificate and key, and
	// the CAs and names of the clients (Prometheus) it requires.
	webCert, webKey string
	webClientCA     []string
	webAllow        []string
}

// New returns the exporter command. path is the command as a person types
// it, which its usage, --help examples and messages show: "tlskit
// exporter" for the subcommand of tlskit, "tlskit-exporter" for the root
// command of its own binary. The command's name is path's last word; the
// program's (warnings) its first. gcPercent, when positive, is the garbage
// collector's target (GOGC) the exporter serves with unless GOGC is set in
// the environment: the best value depends on the binary (its globals count
// towards the heap goal), so each binary chooses it.
func New(stdio base.Stdio, path string, gcPercent int) *cobra.Command {
	var f exporterFlags
	words := strings.Fields(path)
	name, prog := words[len(words)-1], words[0]
	f.trust.Prog = prog
	cmd := &cobra.Command{
		Use:   name + " [--listen ADDR] [--config FILE] [flags]",
		Short: "Prometheus exporter: probe targets like blackbox_exporter, keeping the facts when they fail",
		Long: name + ` serves Prometheus metrics about TLS endpoints and certificates.

/probe?target=HOST:PORT&module=NAME is blackbox_exporter's multi-target
endpoint: Prometheus' relabelling that sends targets to blackbox_exporter
works with the exporter's address instead. Each probe runs a tlskit check
and exports probe success and the duration of each phase, every certificate
of the chain the server sent, of the verified path and of the client
certificate (not_after and not_before, labelled by position, subject,
issuer, serial and SHA-256), the TLS version and cipher suite, and every
finding as tlskit_finding{id, severity}, whether the probe succeeded or
failed: the chain is kept when verification fails, and behind a server that
requires a client certificate. &servername=NAME sets the name to verify;
&debug=true answers, for a person, the probe's findings with their fixes,
its report as tlskit check --json writes it, and its metrics.

/metrics serves the exporter's own metrics, the targets of the config file
(probed at each scrape) and the certificates of the files, directories and
globs it lists. /-/healthy answers Healthy; /config shows the
configuration served.

The "default" module comes from the trust flags (--trust, --ca-file, --pin,
--policy, --cert/--key, --timeout, --expiring-within, -4/-6,
--post-quantum) unless the config file defines one. The config file is JSON; see the README. A probe
connects over IPv4 or IPv6, whichever the target's name leads to first;
a module with "ip_protocol": "ip4" or "ip6" (or -4, -6) watches one, and
tlskit_probe_ip_protocol says which was used.

SIGHUP and POST /-/reload read the config file (and the trust flags' files)
again, as blackbox_exporter does; one that cannot be used changes nothing,
and the last good configuration is still served.

` + base.TrustHelp + `

Exit status: 0 after SIGINT or SIGTERM (or --check-config: the config is
good); 1 it cannot listen; 2 usage error, or a config file or module that
cannot be used.`,
		Example: strings.ReplaceAll(`  PATH --listen :9219
  PATH --listen :9219 --config exporter.json
  PATH --ca-file corp-root.pem --expiring-within 21d
  PATH --config exporter.json --check-config --json
  PATH --web-cert exporter.pem --web-key exporter.key --web-client-ca prometheus-ca.pem
  curl 'http://localhost:9219/probe?target=example.com:443&module=default'`, "PATH", path),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkListen(f.listen); err != nil {
				return err
			}
			web, err := f.webConfig(stdio, cmd.CommandPath())
			if err != nil {
				return err
			}
			ex, cfg, err := f.build(stdio)
			if err != nil {
				return err
			}
			if f.checkConfig {
				return printConfig(stdio, cfg, f.jsonOut)
			}
			if _, set := os.LookupEnv("GOGC"); !set && gcPercent > 0 {
				debug.SetGCPercent(gcPercent)
			}
			reload := func() error {
				cfg, err := f.config(stdio)
				if err != nil {
					return err
				}
				return ex.Reload(cfg)
			}
			return serve(cmd.Context(), stdio, cmd.CommandPath(), f.listen, web, ex, reload)
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&f.listen, "listen", ":9219", "serve /probe and /metrics on `ADDR`")
	fl.StringVar(&f.configFile, "config", "", "read modules, static targets and certificate files from `FILE` (JSON)")
	f.trust.Register(fl, base.GroupTrust|base.GroupVersions|base.GroupTimeout|base.GroupNetwork, 10*time.Second)
	fl.StringVar(&f.certFile, "cert", "", "default module: client certificate `FILE` (PEM) to present")
	fl.StringVar(&f.keyFile, "key", "", "default module: private key `FILE` (PEM) of --cert")
	f.expiring = base.DaysDuration(base.DefaultExpiringWithin)
	fl.Var(&f.expiring, "expiring-within", "default module: warn about certificates that expire within this `DURATION` (30d, 720h; 0 turns it off)")
	fl.BoolVar(&f.postQuantum, "post-quantum", false, "default module: offer the hybrid post-quantum key share, as current browsers do (a larger hello, about a third more CPU a probe)")
	fl.StringVar(&f.webCert, "web-cert", "", "serve over TLS with this certificate `FILE` (PEM, leaf first; read again when it changes)")
	fl.StringVar(&f.webKey, "web-key", "", "the private key `FILE` (PEM) of --web-cert")
	fl.StringArrayVar(&f.webClientCA, "web-client-ca", nil, "with --web-cert: require a client certificate issued by a CA of this `FILE` (PEM; repeatable)")
	fl.StringArrayVar(&f.webAllow, "web-allow", nil, "with --web-client-ca: accept only clients with this `NAME` (DNS name, IP, URI or e-mail SAN; repeatable)")
	fl.BoolVar(&f.checkConfig, "check-config", false, "check the config file and the modules, print them and exit")
	fl.BoolVar(&f.jsonOut, "json", false, "with --check-config: print JSON")
	return cmd
}

// build turns the flags and the config file into an exporter.
func (f *exporterFlags) build(stdio base.Stdio) (*exporter.Exporter, *exporter.Config, error) {
	cfg, err := f.config(stdio)
	if err != nil {
		return nil, nil, err
	}
	ex, err := exporter.New(cfg, exporter.Options{})
	if err != nil {
		return nil, nil, base.Usage(err, "")
	}
	return ex, cfg, nil
}

// webConfig is the TLS config of the exporter's own endpoint: nil for
// plain HTTP, or TLS with --web-cert and --web-key, verifying clients with
// tlskit's verifier when --web-client-ca is given (tlskit.Policy's server
// config). Its files are read now (a usage error, as a module's are); the
// certificate and key are read again when they change, and stderr says so.
func (f *exporterFlags) webConfig(stdio base.Stdio, path string) (*tls.Config, error) {
	if f.webCert == "" && f.webKey == "" {
		if len(f.webClientCA) > 0 || len(f.webAllow) > 0 {
			return nil, base.Usagef("give the endpoint a certificate: --web-cert server.pem --web-key server.key", "--web-client-ca and --web-allow need TLS")
		}
		return nil, nil
	}
	if f.webCert == "" || f.webKey == "" {
		return nil, base.Usagef("give both: --web-cert server.pem --web-key server.key", "--web-cert and --web-key go together")
	}
	if len(f.webAllow) > 0 && len(f.webClientCA) == 0 {
		return nil, base.Usagef("name the CA that issues the clients' certificates: --web-client-ca clients-ca.pem", "--web-allow needs --web-client-ca")
	}
	p := &tlskit.Policy{CertFile: f.webCert, KeyFile: f.webKey, RequireClientCert: len(f.webClientCA) > 0, AllowedClients: f.webAllow,
		ALPN: []string{"http/1.1"},
		OnReload: func(r tlskit.Reload) {
			if err := r.Err(); err != nil {
				fmt.Fprintf(stdio.Err, "%s: the endpoint's %s no longer loads; the last good one is served: %v\n", path, strings.Join(r.Files, " and "), err)
				return
			}
			fmt.Fprintf(stdio.Err, "%s: the endpoint's %s read again\n", path, strings.Join(r.Files, " and "))
		}}
	for _, ca := range f.webClientCA {
		p.ClientTrust = append(p.ClientTrust, "file:"+ca)
	}
	cfg, err := p.ServerConfig()
	if err != nil {
		return nil, base.Usage(err, "")
	}
	return cfg, nil
}

// config reads the config file and the flags' default module: at start,
// and again at each reload.
func (f *exporterFlags) config(stdio base.Stdio) (*exporter.Config, error) {
	cfg := &exporter.Config{Modules: map[string]*exporter.Module{}}
	if f.configFile != "" {
		var err error
		if cfg, err = exporter.LoadConfig(f.configFile); err != nil {
			return nil, base.Usage(err, "")
		}
	}
	network, err := f.trust.Network()
	if err != nil {
		return nil, err
	}
	if cfg.Modules["default"] == nil {
		pol, err := f.trust.Policy(stdio.Err)
		if err != nil {
			return nil, err
		}
		if (f.certFile == "") != (f.keyFile == "") {
			return nil, base.Usagef("give both: --cert client.pem --key client.key", "--cert and --key go together")
		}
		if f.certFile != "" {
			pol.CertFile, pol.KeyFile = f.certFile, f.keyFile
		}
		cfg.Modules["default"] = &exporter.Module{Policy: pol, Timeout: f.trust.Timeout, ExpiringWithin: time.Duration(f.expiring), Network: network, PostQuantum: f.postQuantum}
	} else if err := f.trust.CheckTimeout(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// printConfig prints what --check-config shows of cfg, through
// render/exporterconfig.
func printConfig(stdio base.Stdio, cfg *exporter.Config, jsonOut bool) error {
	v, err := exporterconfig.New(cfg)
	if err != nil {
		return base.Usage(err, "")
	}
	if jsonOut {
		return v.JSON(stdio.Out)
	}
	return v.Text(stdio.Out)
}

// checkListen refuses a --listen address that cannot be one (a usage
// error), so that exit status 1 stays for an address that is one but
// cannot be listened on (in use, not this host's).
func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		if n, perr := strconv.Atoi(port); perr == nil && (n < 0 || n > 65535) {
			err = fmt.Errorf("port %d is not from 0 to 65535", n)
		}
	}
	if err != nil {
		return base.Usagef("--listen takes HOST:PORT or :PORT, e.g. --listen :9219", "--listen %q: %v", addr, err)
	}
	return nil
}

// serve serves ex on addr (over TLS with web, if not nil) until ctx ends;
// path names the command in the lines that say where it listens and how a
// reload went. reload reads
// the config again and hands it to ex, at SIGHUP and at POST /-/reload
// (blackbox_exporter's endpoint), one at a time.
func serve(ctx context.Context, stdio base.Stdio, path, addr string, web *tls.Config, ex *exporter.Exporter, reload func() error) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("exporter: %w", err)
	}
	how := ""
	if web != nil {
		ln = tls.NewListener(ln, web)
		how = "; TLS"
		if web.ClientAuth == tls.RequireAnyClientCert {
			how += ", client certificates required"
		}
	}
	var mu sync.Mutex
	reloaded := func() error {
		mu.Lock()
		defer mu.Unlock()
		err := reload()
		if err != nil {
			fmt.Fprintf(stdio.Err, "%s: reload failed; the last good configuration stays: %v\n", path, err)
			return err
		}
		fmt.Fprintf(stdio.Err, "%s: configuration reloaded\n", path)
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("/", ex.Handler())
	mux.HandleFunc("/config", func(w http.ResponseWriter, r *http.Request) {
		// What --check-config --json prints, of the config served now.
		v, err := exporterconfig.New(ex.Config())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		v.JSON(w)
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "/-/reload takes a POST request", http.StatusMethodNotAllowed)
			return
		}
		if err := reloaded(); err != nil {
			http.Error(w, "reload failed; the last good configuration stays: "+err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "configuration reloaded")
	})
	// The server's own complaints (a TLS handshake a client failed, with
	// the finding tlskit's verifier gave it) are lines of the command's,
	// with the peer's words made safe for a terminal.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(safeWriter{stdio.Err}, path+": ", 0)}
	fmt.Fprintf(stdio.Err, "%s: listening on %s (/probe, /metrics%s)\n", path, ln.Addr(), how)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
loop:
	for {
		select {
		case err := <-done:
			return fmt.Errorf("exporter: %w", err)
		case <-hup:
			reloaded()
		case <-ctx.Done():
			break loop
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return nil
}

// safeWriter writes text made safe for a terminal (termsafe.String): the
// server's error lines quote what clients sent.
type safeWriter struct{ w io.Writer }

func (s safeWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(s.w, termsafe.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
