package cli

import (
	"crypto/tls"
	"net"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/tunnel"
)

// registerTunnelProtocol defines a tunnel mode's --protocol flag.
func registerTunnelProtocol(fs *pflag.FlagSet, dst *string, server bool) {
	var names []string
	list := starttls.Protocols()
	if server {
		list = starttls.ServerProtocols()
	}
	for _, p := range list {
		names = append(names, string(p))
	}
	what := "the target upgrades to TLS in band with `PROTO` (STARTTLS…): " + strings.Join(names, ", ")
	if server {
		what = "offer plaintext clients the in-band upgrade of `PROTO` and terminate TLS after it: " + strings.Join(names, ", ")
	}
	fs.StringVar(dst, "protocol", "", what)
}

// startTLSHooks sets the proxy's hooks for a service whose TLS side
// upgrades in band (its protocol); it reports false for plain TLS.
func (r *running) startTLSHooks(p *tunnel.Proxy, dialer *net.Dialer) (bool, error) {
	proto, err := tunnel.ParseProtocol(r.svc.Protocol, r.svc.Mode == "server")
	if err != nil {
		return false, usagef("", "service %q: protocol: %s", r.svc.Name, strings.TrimPrefix(err.Error(), "tunnel: "))
	}
	if proto == "" {
		return false, nil
	}
	cfg := func() *tls.Config { return r.cfg.Load() }
	if r.svc.Mode == "server" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "localhost"
		}
		p.Handshake, p.Dial = tunnel.StartTLSServe(proto, r.svc.Target, host, dialer.DialContext, cfg)
		return true, nil
	}
	p.Dial = tunnel.StartTLSDial(proto, r.svc.Target, "", dialer.DialContext, cfg)
	return true, nil
}
