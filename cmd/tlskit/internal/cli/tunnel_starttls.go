package cli

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/tlskit/tlskit/starttls"
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
