package scan

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/trust"
	"github.com/tlskit/tlskit/truststore"
)

// This file is "who can connect": each client profile's ClientHello is
// sent to the server as that client would send it, and the server's
// answer says whether the client connects, with which version, suite,
// group and certificate; then the client's trust store (truststore's model
// of the stack on this machine, where the client uses one) judges the
// chain.

// ClientProfile is one client's default ClientHello: what it offers, in
// its order, and the trust store it uses.
type ClientProfile struct {
	// Name names the client and its version, e.g. "Firefox 132+".
	Name string `json:"name"`
	// Source says where the parameters come from: the documentation or
	// source they are transcribed from, or "recorded on this machine".
	Source string `json:"source"`
	// Versions are the versions offered, highest first (a GREASE value
	// may lead); with TLS 1.3 they go in supported_versions, otherwise the
	// first is legacy_version.
	Versions []wire.Version `json:"versions"`
	// Suites, Groups, KeyShares (the groups it sends shares for), SigAlgs
	// and ALPN are what the hello offers, in the client's order.
	Suites    []wire.CipherSuite     `json:"suites"`
	Groups    []wire.NamedGroup      `json:"groups"`
	KeyShares []wire.NamedGroup      `json:"key_shares,omitempty"`
	SigAlgs   []wire.SignatureScheme `json:"signature_algorithms"`
	ALPN      []string               `json:"alpn,omitempty"`
	// EMS, ETM, Ticket, StatusRequest and SCTs say the client sends
	// extended_master_secret, encrypt_then_mac, session_ticket,
	// status_request and signed_certificate_timestamp.
	EMS, ETM, Ticket, StatusRequest, SCTs bool `json:"-"`
	// TrustStore is the truststore stack whose roots the client uses on
	// this machine ("go", "curl", "python", "gnutls", "openssl"), or ""
	// when its roots are not this machine's (TrustNote says whose).
	TrustStore string `json:"trust_store,omitempty"`
	TrustNote  string `json:"trust_note,omitempty"`
	// Hello, for a recorded client, is the ClientHello it sent.
	Hello *wire.ClientHello `json:"-"`
	// MinRSABits is the shortest RSA key the client accepts in the
	// server's certificate (1: any; 0: not known), and RSANote where that
	// comes from.
	MinRSABits int    `json:"min_rsa_bits,omitempty"`
	RSANote    string `json:"rsa_note,omitempty"`
	// Current says the client is in use today (a current browser, OS or
	// library release, or a client recorded on this machine): a server
	// that turns it away fails its users, where turning away an old
	// client can be a choice.
	Current bool `json:"current,omitempty"`
}

// ClientResult says whether one client connects.
type ClientResult struct {
	// Client and Source are the profile's name and source.
	Client string `json:"client"`
	Source string `json:"source"`
	// Connects says the server accepted the client's hello and went on
	// with a handshake the client supports.
	Connects bool   `json:"connects"`
	Version  string `json:"version,omitempty"`
	Suite    string `json:"suite,omitempty"`
	Group    string `json:"group,omitempty"`
	// Certificate describes the leaf the client got: "ECDSA P-256 CN=…".
	Certificate string `json:"certificate,omitempty"`
	// TrustStore names the trust store judged; Trusted says whether it
	// trusts the chain (nil: not known, TrustDetail says why).
	TrustStore  string `json:"trust_store,omitempty"`
	Trusted     *bool  `json:"trusted,omitempty"`
	TrustDetail string `json:"trust_detail,omitempty"`
	// Reason says why the client does not connect, or what is notable.
	Reason string `json:"reason,omitempty"`
	// Probe is the probe that sent the client's hello.
	Probe int `json:"probe"`
	// Current is the profile's: a client in use today.
	Current bool `json:"current,omitempty"`

	chain       []*x509.Certificate
	store       string
	hybridShare bool // the client's hello carries a hybrid post-quantum key share
	keyRefused  int  // the client refuses the server's RSA key of this many bits
}

// spec is the hello a profile sends.
func (c *ClientProfile) spec(sni string) helloSpec {
	if c.Hello != nil {
		return helloSpec{raw: c.Hello, sni: sni, version: c.Hello.Version}
	}
	sp := helloSpec{sni: sni, suites: c.Suites, groups: c.Groups, sigalgs: c.SigAlgs, alpn: c.ALPN,
		ems: c.EMS, etm: c.ETM, ticket: c.Ticket, statusRequest: c.StatusRequest, scts: c.SCTs, renegExt: true}
	top := c.Versions[0]
	if top.IsGREASE() && len(c.Versions) > 1 {
		top = c.Versions[1]
	}
	if top == wire.VersionTLS13 {
		sp.version = wire.VersionTLS12
		sp.versions = c.Versions
		sp.shares = c.KeyShares
		sp.pskModes = []wire.PSKKeyExchangeMode{1}
	} else {
		sp.version = top
	}
	return sp
}

// supports reports whether the profile offers version v.
func (c *ClientProfile) supports(v wire.Version) bool {
	if c.Hello != nil {
		return slices.Contains(c.Hello.OfferedVersions(), v) || c.Hello.Version == v ||
			c.Hello.Version > v && !c.Hello.Extensions.Has(wire.ExtSupportedVersions)
	}
	if slices.Contains(c.Versions, v) {
		return true
	}
	return false
}

// hybridGroup reports whether g is a hybrid post-quantum group, whose key
// share (over a kilobyte) makes a hello about 1,500 bytes.
func hybridGroup(g wire.NamedGroup) bool {
	switch g {
	case groupX25519MLKEM768, groupSecP256r1MLKEM768, groupSecP384r1MLKEM1024, 0x6399, 0x639a:
		return true
	}
	return false
}

// groupsOffered returns the groups the profile offers.
func (c *ClientProfile) groupsOffered() []wire.NamedGroup {
	if c.Hello != nil {
		g, _ := c.Hello.Extensions.Find(wire.ExtSupportedGroups).Parsed.([]wire.NamedGroup)
		return g
	}
	return c.Groups
}

// clients simulates every client profile.
func (s *scanner) clients(ctx context.Context) []ClientResult {
	profiles := s.opts.Clients
	if profiles == nil {
		profiles = DefaultClients()
	}
	out := make([]ClientResult, len(profiles))
	s.progress(len(profiles), "client simulation")
	var wg sync.WaitGroup
	for i := range profiles {
		wg.Go(func() { out[i] = s.simulate(ctx, &profiles[i]) })
	}
	wg.Wait()
	return out
}

// simulate sends one client's hello and reads the server's flight.
func (s *scanner) simulate(ctx context.Context, c *ClientProfile) ClientResult {
	cr := ClientResult{Client: c.Name, Source: c.Source, store: c.TrustStore, TrustStore: c.TrustStore, Current: c.Current}
	for _, g := range c.KeyShares {
		cr.hybridShare = cr.hybridShare || hybridGroup(g)
	}
	if c.TrustStore == "" {
		cr.TrustDetail = "not judged: " + c.TrustNote
	} else if c.TrustNote != "" {
		cr.TrustDetail = c.TrustNote
	}
	r := s.probe(ctx, "client "+c.Name, c.spec(s.sni), toFlight, afterHandshake{}, nil)
	cr.Probe = r.probe
	if r.hrr != nil && r.sh == nil {
		// The client would send a second hello with the group asked for,
		// if it offers that group; tlskit could not (it cannot make that
		// key share), so the rest of the handshake is not seen.
		if slices.Contains(c.groupsOffered(), r.group) {
			cr.Connects = true
			cr.Version, cr.Suite, cr.Group = r.version.String(), r.suite.String(), r.group.String()
			cr.Reason = "after a HelloRetryRequest for " + r.group.String() + "; " + r.stopped
			return cr
		}
		cr.Reason = fmt.Sprintf("the server asked for %v, which the client does not offer", r.group)
		return cr
	}
	if r.sh == nil {
		cr.Reason = r.answer()
		return cr
	}
	cr.Version, cr.Suite = r.version.String(), r.suite.String()
	if r.group != 0 {
		cr.Group = r.group.String()
	} else if r.ske != nil && r.ske.KeyExchange == "dhe" {
		cr.Group = dhDesc(r.ske.P)
	}
	switch {
	case !c.supports(r.version):
		cr.Reason = fmt.Sprintf("the server chose %s, which the client does not offer", r.version)
		return cr
	case r.alert != nil:
		cr.Reason = "the server ended the handshake: alert " + r.alert.String()
		return cr
	case r.notTLS != "":
		cr.Reason = r.notTLS
		return cr
	}
	cr.Connects = true
	if r.hrr != nil {
		cr.Reason = "after a HelloRetryRequest for " + r.group.String()
	}
	if r.certReq {
		cr.Reason = strings.TrimPrefix(cr.Reason+"; ", "; ") + "the server asks for a client certificate (see the session's client certificate row: if it is required, this client connects only with one the server accepts)"
	}
	if r.stopped != "" {
		cr.Reason = strings.TrimPrefix(cr.Reason+"; ", "; ") + "tlskit could not read further: " + r.stopped
	}
	for _, der := range r.certs {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			break
		}
		cr.chain = append(cr.chain, c)
	}
	if len(cr.chain) > 0 {
		d := trust.Describe(cr.chain[0])
		cr.Certificate = d.Key + " " + d.Subject
		if k, ok := cr.chain[0].PublicKey.(*rsa.PublicKey); ok {
			switch bits := k.N.BitLen(); {
			case bits < c.MinRSABits:
				cr.Connects, cr.keyRefused = false, bits
				cr.Reason = fmt.Sprintf("the client refuses the server's %d-bit RSA key: %s", bits, c.RSANote)
			case c.MinRSABits == 0 && bits < 2048:
				cr.Reason = strings.TrimPrefix(cr.Reason+"; ", "; ") + fmt.Sprintf("whether the client accepts the server's %d-bit RSA key is not known", bits)
			}
		}
	}
	return cr
}

// trustClients asks truststore which stacks trust each client's chain,
// once per distinct chain.
func (s *scanner) trustClients() {
	at := time.Now()
	if s.opts.Time != nil {
		at = s.opts.Time()
	}
	opts := truststore.Options{Env: truststore.ProcessEnv()}
	if s.opts.Stacks != nil {
		opts = *s.opts.Stacks
	}
	opts.Time = func() time.Time { return at }
	cache := map[string][]truststore.StackVerdict{}
	for i := range s.rep.Clients {
		c := &s.rep.Clients[i]
		if c.store == "" || !c.Connects {
			continue
		}
		if len(c.chain) == 0 {
			c.TrustDetail = strings.TrimPrefix(c.TrustDetail+"; ", "; ") + "not judged: tlskit did not read the chain this client gets"
			continue
		}
		key := string(c.chain[0].Raw)
		vs, ok := cache[key]
		if !ok {
			var err error
			vs, err = truststore.WhoTrusts(opts, c.chain, s.name)
			if err != nil {
				c.TrustDetail = "not judged: " + err.Error()
				continue
			}
			cache[key] = vs
		}
		names := []string{c.store}
		if c.store == "openssl" {
			names = []string{"openssl-cafile", "openssl-capath"}
		}
		var reasons []string
		trusted := false
		for _, v := range vs {
			if !slices.Contains(names, v.Stack) {
				continue
			}
			if v.Trusted {
				trusted = true
			} else if v.Reason != "" {
				reasons = append(reasons, v.Reason)
			}
		}
		c.Trusted = &trusted
		if !trusted {
			c.TrustDetail = strings.Join(reasons, "; ")
		}
	}
}
