package trust

import (
	"crypto/x509"
	"regexp"
	"strings"
	"testing"
)

// TestClientSideWording: with Usage clientAuth the peer is a client, and
// every finding says so: none speaks of a server, and a certificate from
// an unknown CA is explained as such, not as "the server did not send the
// intermediate". (The same chains verified as server certificates keep
// their server wording.)
func TestClientSideWording(t *testing.T) {
	l := newLab(t)
	eku := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	clientCA := issue(t, spec{cn: "Client CA", ca: true, to: t0.Add(3650 * day)}, nil)
	otherCA := issue(t, spec{cn: "Unknown CA", ca: true, to: t0.Add(3650 * day)}, nil)
	otherInter := issue(t, spec{cn: "Client Intermediate", ca: true}, clientCA)
	cases := []struct {
		name  string
		chain []*x509.Certificate
		id    string
		words string // in the finding's title, detail or fix
	}{
		{"unknown CA", certs(issue(t, spec{cn: "stranger", eku: eku}, otherCA)), "chain.incomplete", `the client's certificate is issued by "CN=Unknown CA,O=tlskit lab", which is not a trusted client CA and which the client did not send`},
		{"intermediate not sent", certs(issue(t, spec{cn: "batch", eku: eku}, otherInter)), "chain.incomplete", "the client must send it after its certificate"},
		{"self-signed", certs(issue(t, spec{cn: "self", eku: eku}, nil)), "cert.self-signed", "if you trust this client"},
		{"expired", certs(issue(t, spec{cn: "old", eku: eku, from: t0.Add(-60 * day), to: t0.Add(-30 * day)}, clientCA)), "cert.expired", "install the new one on the client"},
		{"root of another chain", certs(issue(t, spec{cn: "x", eku: eku}, l.inter), l.inter), "chain.untrusted-root", "trusted client CAs"},
		{"server certificate", certs(l.leaf, l.inter), "cert.wrong-eku", "clientAuth"},
		{"name not allowed", certs(issue(t, spec{cn: "web", dns: []string{"web.internal"}, eku: eku}, clientCA)), "name.mismatch", "give the client a certificate whose subjectAltName is an allowed name"},
	}
	server := regexp.MustCompile(`(?i)\bserver('s)?\b`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &Verifier{Anchors: NewAnchors("clients.pem", clientCA.cert), Usage: x509.ExtKeyUsageClientAuth}
			if c.name == "server certificate" {
				p.Anchors = NewAnchors("clients.pem", clientCA.cert, l.root.cert)
			}
			if c.name == "name not allowed" {
				p.Names = []string{"batch.internal"}
			}
			r := p.Verify(c.chain, "", t0)
			f := find(t, r, c.id)
			all := f.Title + "\n" + f.Detail + "\n" + f.Fix
			if !strings.Contains(strings.ToLower(all), strings.ToLower(c.words)) {
				t.Errorf("%s does not say %q:\n%s", c.id, c.words, all)
			}
			for _, g := range r.Findings {
				text := strings.ReplaceAll(g.Title+" "+g.Detail+" "+g.Fix, "tunnel server --client-ca", "")
				if m := server.FindString(text); m != "" {
					t.Errorf("%s speaks of a %q about a client's certificate: %s / %s / %s", g.ID, m, g.Title, g.Detail, g.Fix)
				}
			}
			if err := r.Err(); err == nil || server.MatchString(err.Error()) {
				t.Errorf("error %v", err)
			}
		})
	}
	// The server's wording stays.
	r := l.policy().Verify(certs(l.leaf), "www.lab.example", t0)
	if f := find(t, r, "chain.incomplete"); !strings.HasPrefix(f.Title, "The server did not send the intermediate certificate") {
		t.Errorf("server side title %q", f.Title)
	}
}
