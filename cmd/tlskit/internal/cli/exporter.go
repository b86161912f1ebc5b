package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/tlskit/tlskit/exporter"
	"github.com/tlskit/tlskit/render"
)

// exporterGOGC is the garbage collector's target (GOGC) the exporter runs
// with when GOGC is not set in the environment. The binary's globals (5
// MiB, most of them gopacket's protocol tables for pcap) count towards the
// heap goal, so at GOGC=100 the probes' live heap of a few hundred KiB
// lived in a 6 MiB heap between collections; at 50 it is 3 MiB, for twice
// as many collections (each scans those globals: about 3 ms of CPU). The
// README's Exporter performance has the measured trade-off.
const exporterGOGC = 50

// exporterFlags are the options of `tlskit exporter`.
type exporterFlags struct {
	trust       trustFlags
	listen      string
	configFile  string
	certFile    string
	keyFile     string
	expiring    daysDuration
	checkConfig bool
	jsonOut     bool
}

func newExporterCmd(stdio Stdio) *cobra.Command {
	var f exporterFlags
	cmd := &cobra.Command{
		Use:   "exporter [--listen ADDR] [--config FILE] [flags]",
		Short: "Prometheus exporter: probe targets like blackbox_exporter, keeping the facts when they fail",
		Long: `exporter serves Prometheus metrics about TLS endpoints and certificates.

/probe?target=HOST:PORT&module=NAME is blackbox_exporter's multi-target
endpoint: Prometheus' relabelling that sends targets to blackbox_exporter
works with the exporter's address instead. Each probe runs a tlskit check
and exports probe success and the duration of each phase, every certificate
of the chain the server sent, of the verified path and of the client
certificate (not_after and not_before, labelled by position, subject,
issuer, serial and SHA-256), the TLS version and cipher suite, and every
finding as tlskit_finding{id, severity}, whether the probe succeeded or
failed: the chain is kept when verification fails, and behind a server that
requires a client certificate. &servername=NAME sets the name to verify.

/metrics serves the exporter's own metrics, the targets of the config file
(probed at each scrape) and the certificates of the files, directories and
globs it lists.

The "default" module comes from the trust flags (--trust, --ca-file, --pin,
--policy, --cert/--key, --timeout, --expiring-within) unless the config file
defines one. The config file is JSON; see the README.

` + trustHelp + `

Exit status: 0 after SIGINT or SIGTERM (or --check-config: the config is
good); 1 it cannot listen; 2 usage error, or a config file or module that
cannot be used.`,
		Example: `  tlskit exporter --listen :9219
  tlskit exporter --listen :9219 --config exporter.json
  tlskit exporter --ca-file corp-root.pem --expiring-within 21d
  tlskit exporter --config exporter.json --check-config --json
  curl 'http://localhost:9219/probe?target=example.com:443&module=default'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ex, cfg, err := f.build(stdio)
			if err != nil {
				return err
			}
			if f.checkConfig {
				return printExporterConfig(stdio, cfg, f.jsonOut)
			}
			if _, set := os.LookupEnv("GOGC"); !set {
				debug.SetGCPercent(exporterGOGC)
			}
			return serveExporter(cmd.Context(), stdio, f.listen, ex)
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&f.listen, "listen", ":9219", "serve /probe and /metrics on `ADDR`")
	fl.StringVar(&f.configFile, "config", "", "read modules, static targets and certificate files from `FILE` (JSON)")
	f.trust.register(fl, groupTrust|groupVersions|groupTimeout, 10*time.Second)
	fl.StringVar(&f.certFile, "cert", "", "default module: client certificate `FILE` (PEM) to present")
	fl.StringVar(&f.keyFile, "key", "", "default module: private key `FILE` (PEM) of --cert")
	f.expiring = daysDuration(defaultExpiringWithin)
	fl.Var(&f.expiring, "expiring-within", "default module: warn about certificates that expire within this `DURATION` (30d, 720h; 0 turns it off)")
	fl.BoolVar(&f.checkConfig, "check-config", false, "check the config file and the modules, print them and exit")
	fl.BoolVar(&f.jsonOut, "json", false, "with --check-config: print JSON")
	return cmd
}

// build turns the flags and the config file into an exporter.
func (f *exporterFlags) build(stdio Stdio) (*exporter.Exporter, *exporter.Config, error) {
	cfg := &exporter.Config{Modules: map[string]*exporter.Module{}}
	if f.configFile != "" {
		var err error
		if cfg, err = exporter.LoadConfig(f.configFile); err != nil {
			return nil, nil, usage(err, "")
		}
	}
	if cfg.Modules["default"] == nil {
		pol, err := f.trust.policy(stdio.Err)
		if err != nil {
			return nil, nil, err
		}
		if (f.certFile == "") != (f.keyFile == "") {
			return nil, nil, usagef("give both: --cert client.pem --key client.key", "--cert and --key go together")
		}
		if f.certFile != "" {
			pol.CertFile, pol.KeyFile = f.certFile, f.keyFile
		}
		cfg.Modules["default"] = &exporter.Module{Policy: pol, Timeout: f.trust.timeout, ExpiringWithin: time.Duration(f.expiring)}
	} else if err := f.trust.checkTimeout(); err != nil {
		return nil, nil, err
	}
	ex, err := exporter.New(cfg, exporter.Options{})
	if err != nil {
		return nil, nil, usage(err, "")
	}
	return ex, cfg, nil
}

// exporterConfigView is what --check-config prints.
type exporterConfigView struct {
	Modules []exporterModuleView `json:"modules"`
	Targets []struct {
		Target     string `json:"target"`
		Module     string `json:"module"`
		ServerName string `json:"server_name,omitempty"`
	} `json:"targets"`
	CertificateFiles []string `json:"certificate_files"`
}

type exporterModuleView struct {
	Name           string  `json:"name"`
	Trust          string  `json:"trust"`
	ServerName     string  `json:"server_name,omitempty"`
	ClientCert     string  `json:"client_cert,omitempty"`
	Timeout        float64 `json:"timeout_seconds"`
	ExpiringWithin float64 `json:"expiring_within_seconds"`
}

func printExporterConfig(stdio Stdio, cfg *exporter.Config, jsonOut bool) error {
	var v exporterConfigView
	names := make([]string, 0, len(cfg.Modules))
	for n := range cfg.Modules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := cfg.Modules[n]
		mv := exporterModuleView{Name: n, Timeout: m.Timeout.Seconds(), ExpiringWithin: m.ExpiringWithin.Seconds()}
		if m.Policy != nil {
			vr, err := m.Policy.Verifier()
			if err != nil {
				return usage(err, "")
			}
			mv.Trust, mv.ServerName, mv.ClientCert = vr.Describe(), m.Policy.ServerName, m.Policy.CertFile
		}
		v.Modules = append(v.Modules, mv)
	}
	for _, t := range cfg.Targets {
		v.Targets = append(v.Targets, struct {
			Target     string `json:"target"`
			Module     string `json:"module"`
			ServerName string `json:"server_name,omitempty"`
		}{t.Target, t.Module, t.ServerName})
	}
	v.CertificateFiles = append([]string{}, cfg.CertificateFiles...)
	if jsonOut {
		return render.JSON(stdio.Out, v)
	}
	for _, m := range v.Modules {
		if _, err := fmt.Fprintf(stdio.Out, "module %s: trust %s; timeout %gs; expiring within %gd\n", m.Name, m.Trust, m.Timeout, m.ExpiringWithin/86400); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(stdio.Out, "%d static targets, %d certificate file patterns\n", len(v.Targets), len(v.CertificateFiles))
	return err
}

// serveExporter serves ex on addr until ctx ends.
func serveExporter(ctx context.Context, stdio Stdio, addr string, ex *exporter.Exporter) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("exporter: %w", err)
	}
	srv := &http.Server{Handler: ex.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdio.Err, "tlskit exporter: listening on %s (/probe, /metrics)\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("exporter: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return nil
}
