package probe

import (
	"context"
	"strings"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/starttls"
)

// Explain checks target under p, after the STARTTLS upgrade proto ("" for
// none), second look included, and returns the id of its first
// protocol.* error or sni.unrecognized-name: why the server refuses a
// hello made under p, as `tlskit check` says it
// (protocol.client-unsupported, protocol.version-mismatch,
// protocol.hello-rejected…); "" when the check finds none. The check
// ends with ctx's deadline. It is `tlskit tunnel`'s
// [tunnel.Supervisor.Explain].
func Explain(ctx context.Context, target string, proto starttls.Protocol, p *tlskit.Policy) string {
	v, err := p.Verifier()
	if err != nil {
		return ""
	}
	opts := Options{Address: target, LingerOnlyIfAsked: true, StartTLS: proto}
	opts.UsePolicy(p, v)
	if dl, ok := ctx.Deadline(); ok {
		opts.Deadline, opts.Timeout = dl, time.Until(dl)
	}
	if opts.Certificate, err = p.ClientCertificate(); err != nil {
		return ""
	}
	for _, f := range Run(ctx, opts).Findings {
		if f.Severity == finding.Error && (strings.HasPrefix(f.ID, "protocol.") || f.ID == finding.SNIUnrecognizedName) {
			return f.ID
		}
	}
	return ""
}
