package cli

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/probe"
	"github.com/tlskit/tlskit/starttls"
)

// startTLSFlags are the flags of check and scan for protocols that
// upgrade in band.
type startTLSFlags struct {
	proto      string
	xmppDomain string
}

// register defines --starttls and --xmpp-domain on fl.
func (f *startTLSFlags) register(fl *pflag.FlagSet) {
	var names []string
	for _, p := range starttls.Protocols() {
		names = append(names, string(p))
	}
	fl.StringVar(&f.proto, "starttls", "", "upgrade in band with `PROTO` before TLS: "+strings.Join(names, ", ")+"; default: chosen by well-known port (25, 587 smtp; 143 imap; 5432 postgres…); none: plain TLS")
	fl.StringVar(&f.xmppDomain, "xmpp-domain", "", "the XMPP `DOMAIN` to open the stream to (default: the server name)")
}

// port is the port of a target given without one: the named protocol's
// (--starttls smtp: 25), else 443 (see probe.PortFor).
func (f *startTLSFlags) port() int {
	p, _ := starttls.ParseProtocol(f.proto) // "" for none, auto, or a bad name (refused later)
	return probe.PortFor(p)
}

// apply sets the options' upgrade for the target addr (HOST:PORT): the
// protocol given, or the one of a well-known port, or none.
func (f *startTLSFlags) apply(opts *probe.Options, addr string) error {
	opts.XMPPDomain = f.xmppDomain
	p, chosenBy, err := f.protocol(addr)
	opts.StartTLS, opts.StartTLSChosenBy = p, chosenBy
	return err
}

// protocol returns the upgrade for the target addr (HOST:PORT), and how it
// was chosen when the user did not name it; "" for none.
func (f *startTLSFlags) protocol(addr string) (starttls.Protocol, string, error) {
	switch strings.ToLower(f.proto) {
	case "none", "off", "no":
		return "", "", nil
	case "", "auto":
		_, port, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(port)
		if p := starttls.ForPort(n); p != "" {
			return p, fmt.Sprintf("from port %d; --starttls none turns it off", n), nil
		}
		return "", "", nil
	}
	p, err := starttls.ParseProtocol(f.proto)
	if err != nil {
		return "", "", base.Usagef("--starttls takes a protocol name, none, or nothing (chosen by port)", "--starttls: %s", strings.TrimPrefix(err.Error(), "starttls: "))
	}
	return p, "", nil
}
