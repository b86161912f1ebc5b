// Package scan finds out what a TLS server supports, whether that meets a
// policy, and which clients can connect: the engine of `tlskit scan`.
//
// Every probe is tlskit's own ClientHello, built with internal/wire from a
// helloSpec, sent on a fresh connection; most stop at the server's first
// answer, which is its choice (a ServerHello or a HelloRetryRequest), so
// nothing depends on which algorithms Go's crypto/tls implements. TLS 1.3
// groups and suites are learnt from HelloRetryRequests (a hello with an
// empty key_share makes the server name the group it wants); what TLS 1.3
// encrypts (certificates, signature schemes, ALPN) is read by deriving the
// handshake keys from the probe's own key share. A few probes finish the
// handshake to learn what only a session shows: tickets, resumption,
// renegotiation, heartbeats.
//
// Every probe's bytes are decoded by package transcript, as `tlskit check`
// decodes its own, so every row of a [Report] names the probes it was
// learnt from and every probe carries its transcript. Weaknesses are
// findings derived from those facts ([finding] ids with evidence and a
// fix), and a [Profile] (Mozilla's modern, intermediate, old, or a user's)
// turns into one finding per deviation.
//
// Connections per host are bounded ([Options.MaxConns]) and may be spaced
// ([Options.Delay]); [Report.Connections] counts them. Each one is opened
// by [Options.Dial], which may perform a STARTTLS upgrade first.
//
// The package knows nothing of flags or printing; render shows a Report.
package scan

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/transcript"
	"github.com/tlskit/tlskit/trust"
	"github.com/tlskit/tlskit/truststore"
)

// Options describe one scan. Only Address is required.
type Options struct {
	// Address is HOST:PORT.
	Address string
	// ServerName is sent as SNI and verified; empty means the host of
	// Address (an IP address is sent without SNI, see [trust.ServerName]).
	ServerName string
	// Via, if set, is the IP address and port every connection goes to
	// instead of Address's host: one of its addresses (see
	// fleet.EachAddress). Address is still what the report names and
	// where the server name comes from; Report.Address is Via, connected
	// or not.
	Via string
	// Network is the network the default dialer connects on: "tcp4" for
	// IPv4 only, "tcp6" for IPv6 only; "" or "tcp" for either (see
	// probe.Options.Network). It is not used with Dial.
	Network string
	// Dial opens each probe connection; nil dials TCP. A STARTTLS dialer
	// upgrades the connection before returning it. It is asked for
	// Address once; once a connection is made, every later one is asked
	// for the address that connection reached (its RemoteAddr), so that
	// the whole scan meets one server (Report.Address).
	Dial DialFunc
	// StartTLS, when set, is the protocol whose in-band upgrade every
	// probe connection speaks before its ClientHello (on top of Dial);
	// StartTLSChosenBy says how it was chosen when the user did not name
	// it. XMPPDomain is the XMPP domain to open streams to (default: the
	// server name).
	StartTLS         starttls.Protocol
	StartTLSChosenBy string
	XMPPDomain       string
	// MaxConns bounds the connections open to the host at once (4 when
	// zero). A STARTTLS scan of a server that says nothing asks whether
	// the port speaks TLS from the first byte on one connection more,
	// while the probes hold theirs.
	MaxConns int
	// Delay is the least time between the starts of two connections;
	// with a delay, starts (the dial, and a STARTTLS upgrade) are
	// serialised, and each begins at least Delay after the previous one
	// ended.
	Delay time.Duration
	// Timeout bounds each connection: connecting and the server's answer
	// (5 s when zero).
	Timeout time.Duration
	// Verifier judges the certificate chains; nil means the system roots.
	Verifier *trust.Verifier
	// Time gives the verification time; nil means time.Now.
	Time func() time.Time
	// Profile, if set, is the TLS configuration the server should meet;
	// every deviation is a finding and [ProfileResult.Compliant] says
	// whether it was met.
	Profile *Profile
	// Clients are the client profiles to simulate; nil means
	// [DefaultClients].
	Clients []ClientProfile
	// NoClients skips the client simulation.
	NoClients bool
	// NoHTTP skips the HTTP request made when the service is HTTPS (port
	// 443, or ALPN h2 or http/1.1): HSTS and BREACH are then not checked.
	NoHTTP bool
	// Stacks describes this machine's trust stores for the clients that
	// use them (Env: SSL_CERT_FILE…); nil means the process's view.
	Stacks *truststore.Options
	// Progress, if set, is called as probes finish (from several
	// goroutines, one call at a time).
	Progress func(Progress)
}

// Progress says how far a scan is.
type Progress struct {
	// Target is the scan's address.
	Target string
	// Done is the number of probes finished, Total the number known so
	// far (it grows as the scan learns what to ask).
	Done, Total int
	// Phase names what the scan is doing.
	Phase string
}

// scanner is one scan in progress.
type scanner struct {
	opts           Options
	plainDial      DialFunc // opts.Dial without the in-band upgrade
	silence        *silence // what the in-band upgrades heard, or did not
	name           string   // the name to verify
	sni            string   // the name to send ("" for an IP address)
	lim            *limiter
	pin            *pin // where the connections go, and the addresses tried in vain
	mu             sync.Mutex
	probes         []*Probe
	total          int
	done           int
	address        string
	rep            *Report
	dialErr        error                  // the first connection failure
	failed         []int                  // probes whose connection could not be made
	versionResults []*result              // the protocol version probes' results
	sslv2          *wire.SSLv2ServerHello // the SSL 2.0 probe's answer
	chains         [][]*x509.Certificate  // the distinct chains the server sent
	upgradeErr     *upgradeError          // the first failed in-band upgrade
	stoppedUp      *upgradeError          // the first in-band upgrade stopped by the silence watcher
	upgraded       *upgradedConn          // the first upgraded connection, for its evidence
	ccsV           Vulnerability          // the CCS injection probe's verdict
	ticketbleedV   *Vulnerability         // Ticketbleed's, when a session was resumed from a ticket
	robotR         robotResult            // ROBOT's
	retried        []retry                // probes asked again alone
	certReq        certRequests           // what the probes learnt of client certificates (under mu)
	retryMu        sync.Mutex             // held while a probe closed unanswered is asked again alone
	silentRefusals int                    // of those, closed again: refusals without an alert (under retryMu)
}

// Run scans one server. Failures of the server or the network are findings
// in the report; the error is for options that cannot work, and ctx's when
// it ended first (SIGINT): a scan cut short would list what the server did
// not say as refused, so no report is returned then.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.MaxConns <= 0 {
		opts.MaxConns = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.Dial == nil {
		network := "tcp"
		switch opts.Network {
		case "", "tcp":
		case "tcp4", "tcp6":
			network = opts.Network
		default:
			return nil, fmt.Errorf("scan: network %q: want tcp, tcp4 (IPv4 only) or tcp6 (IPv6 only)", opts.Network)
		}
		d := &net.Dialer{}
		opts.Dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, network, addr) }
	}
	if to := opts.Via; to != "" {
		dial := opts.Dial
		opts.Dial = func(ctx context.Context, _ string) (net.Conn, error) { return dial(ctx, to) }
	}
	pin := &pin{}
	opts.Dial = pin.dial(opts.Dial)
	plain := opts.Dial
	quiet := &silence{}
	if opts.StartTLS != "" {
		domain := opts.XMPPDomain
		if domain == "" {
			domain, _ = trust.ServerName(opts.Address, opts.ServerName)
		}
		opts.Dial = startTLSDial(opts.Dial, opts.StartTLS, opts.StartTLSChosenBy, domain, quiet)
	}
	if opts.Verifier == nil {
		opts.Verifier = &trust.Verifier{Anchors: trust.SystemAnchors()}
	}
	name, err := trust.ServerName(opts.Address, opts.ServerName)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	s := &scanner{opts: opts, plainDial: plain, silence: quiet, name: name, sni: trust.SNI(name), lim: newLimiter(opts.MaxConns, opts.Delay), pin: pin}
	start := time.Now()
	rep := &Report{Target: opts.Address, ServerName: name, Trust: opts.Verifier.Describe(), Started: start}
	s.rep = rep
	s.run(ctx)
	s.noteRetries()
	s.noteFailures()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("scan: interrupted before the scan ended: %w", err)
	}
	s.progress(0, "done")
	rep.Probes = s.probes
	sort.Slice(rep.Probes, func(i, j int) bool { return rep.Probes[i].ID < rep.Probes[j].ID })
	rep.Connections = int(s.lim.count.Load())
	rep.Address = s.address
	if rep.Address == "" {
		rep.Address = opts.Via // which of the name's addresses failed
	}
	rep.Findings = append(rep.Findings, pin.fallback(opts.Address)...)
	rep.DialFailures = diagnose.Attempts(pin.failures())
	rep.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	finding.Tidy(rep.Findings)
	finding.Sort(rep.Findings)
	// Empty lists, not null, in JSON.
	if rep.Versions == nil {
		rep.Versions = []VersionSupport{}
	}
	if rep.Groups == nil {
		rep.Groups = []GroupSupport{}
	}
	if rep.SignatureAlgorithms == nil {
		rep.SignatureAlgorithms = []SigAlgSupport{}
	}
	if rep.Certificates == nil {
		rep.Certificates = []CertificateResult{}
	}
	if rep.Findings == nil {
		rep.Findings = []finding.Finding{}
	}
	if rep.Clients == nil {
		rep.Clients = []ClientResult{}
	}
	if rep.Vulnerabilities == nil {
		rep.Vulnerabilities = []Vulnerability{}
	}
	if rep.ALPN.Protocols == nil {
		rep.ALPN.Protocols = []string{}
	}
	return rep, nil
}

// run is the scan: the versions first, then everything else at once (the
// limiter bounds the connections).
func (s *scanner) run(ctx context.Context) {
	rep := s.rep
	s.progress(0, "protocol versions")
	protos := s.versions(ctx)
	rep.Protocols = protos
	accepted := map[wire.Version]bool{}
	for _, p := range protos {
		if p.Accepted {
			accepted[versionOf(p.Version)] = true
		}
	}
	if nr := s.nameLook(ctx); nr != nil {
		s.nameRefused(nr)
		return
	}
	if len(accepted) == 0 {
		if s.askImplicitTLS(ctx) {
			for i := range rep.Protocols {
				rep.Protocols[i].Unknown = true
				rep.Protocols[i].Answer = "not known: the upgrade cannot work, the port speaks TLS from the first byte (see the findings)"
			}
		}
		s.unreachable()
		return
	}
	var wg, suitesWG sync.WaitGroup
	var vmu sync.Mutex
	versions := make([]VersionSupport, 0, len(accepted))
	for _, p := range protos {
		if !p.Accepted {
			continue
		}
		v := versionOf(p.Version)
		suitesWG.Go(func() {
			vs := s.suites(ctx, v, p.Probe)
			vmu.Lock()
			versions = append(versions, vs)
			vmu.Unlock()
		})
	}
	// ROBOT once the suites are known: only with an RSA key exchange.
	wg.Go(func() {
		suitesWG.Wait()
		s.robotR = s.robot(ctx, slices.SortedFunc(slices.Values(versions), func(a, b VersionSupport) int {
			return int(versionOf(a.Version)) - int(versionOf(b.Version))
		}))
	})
	var groups13, groups12 []GroupSupport
	var order13, order12 string
	if accepted[wire.VersionTLS13] {
		wg.Go(func() { groups13, order13 = s.groups13(ctx) })
	}
	if v := best12(accepted); v != 0 {
		wg.Go(func() { groups12, order12 = s.groups12(ctx, v) })
	}
	var sig12, sig13 []SigAlgSupport
	if accepted[wire.VersionTLS12] {
		wg.Go(func() { sig12 = s.sigalgs12(ctx) })
	}
	if accepted[wire.VersionTLS13] {
		wg.Go(func() { sig13 = s.sigalgs13(ctx) })
	}
	wg.Go(func() {
		rep.ALPN = s.alpn(ctx, accepted)
		if s.wantHTTP(rep.ALPN) {
			rep.HTTP = s.httpCheck(ctx, accepted)
		}
	})
	wg.Go(func() { s.ccsV = s.ccsInjection(ctx, accepted) })
	wg.Go(func() { rep.Certificates = s.certificates(ctx, accepted) })
	wg.Go(func() { rep.Session = s.features(ctx, accepted) })
	var clients []ClientResult
	if !s.opts.NoClients {
		wg.Go(func() { clients = s.clients(ctx) })
	}
	wg.Wait()
	suitesWG.Wait()
	// Last, on its own: after refusing a renegotiation some servers stall
	// for a while (openssl s_server for a second), which would hold up
	// the probes behind it.
	if v := best12(accepted); v != 0 {
		rep.Session.ClientRenegotiation = s.clientReneg(ctx, v)
	}
	slices.SortFunc(versions, func(a, b VersionSupport) int { return int(versionOf(a.Version)) - int(versionOf(b.Version)) })
	rep.Versions = versions
	rep.Groups, rep.GroupOrder, rep.PreferredGroup = mergeGroups(groups13, order13, groups12, order12)
	rep.SignatureAlgorithms = mergeSigAlgs(sig13, sig12)
	rep.Clients = clients
	rep.Session.ClientCertificate = s.clientCertificate()
	s.trustClients()
	if s.upgraded != nil && s.upgraded.pre.up.Pipelined > 0 {
		// Plaintext pipelined after the go-ahead: check's finding.
		dec := transcript.NewDecoder(transcript.Options{})
		decodePreamble(dec, &s.upgraded.pre)
		for _, f := range diagnose.Findings(diagnose.Input{Target: s.opts.Address, Transcript: dec.Transcript(), HandshakeDone: true}) {
			if strings.HasPrefix(f.ID, "starttls.") {
				rep.Findings = append(rep.Findings, f)
			}
		}
	}
	if f, ok := s.nameWarning(); ok {
		rep.Findings = append(rep.Findings, f)
	}
	rep.Findings = append(rep.Findings, weaknesses(rep)...)
	rep.Findings = append(rep.Findings, clientsRefused(rep.Clients)...)
	rep.Findings = append(rep.Findings, httpFindings(rep.HTTP)...)
	vulns, fs := s.vulnerabilities(rep)
	rep.Vulnerabilities = vulns
	rep.Findings = append(rep.Findings, fs...)
	nameVulnerabilities(rep.Findings, vulns)
	if s.opts.Profile != nil {
		res, fs := s.opts.Profile.Check(rep)
		rep.Profile = res
		rep.Findings = append(rep.Findings, fs...)
	}
}

// unreachable reports a server that accepted no version: the network
// failure, the protocol it speaks instead, or what each probe saw.
func (s *scanner) unreachable() {
	rep := s.rep
	var ev []string
	timeouts, notTLS, sniffed := 0, 0, ""
	var spoken []wire.Version // refused, but not for the version
	byName := 0               // of those, refused with unrecognized_name
	for _, r := range s.versionResults {
		ev = append(ev, fmt.Sprintf("probe %d: %s", r.probe, r.answer()))
		if r.alert != nil && r.alert.Description != 70 && r.hello != nil {
			// A TLS server refuses a version it does not speak with
			// protocol_version; another alert came after the version.
			// Not SSL 3.0: OpenSSL 3, which has none, refuses it with
			// handshake_failure.
			if vs := r.hello.OfferedVersions(); len(vs) == 1 && vs[0] >= wire.VersionTLS10 && vs[0] <= wire.VersionTLS13 {
				spoken = append(spoken, vs[0])
				if r.alert.Description == 112 {
					byName++
				}
			}
		}
		switch {
		case r.closed == "timeout":
			timeouts++
		case r.notTLS != "":
			notTLS++
			if i := strings.LastIndex(r.notTLS, "(looks like "); i >= 0 {
				sniffed = strings.TrimSuffix(r.notTLS[i+len("(looks like "):], ")")
			}
		}
	}
	f := finding.Finding{ID: finding.ProtocolVersionMismatch, Severity: finding.Error,
		Title:    "The server accepted no SSL or TLS version",
		Detail:   "Every protocol version probe failed; the probes' answers are listed.",
		Fix:      "Check that the server has a certificate and enabled protocols, and that the port serves TLS.",
		Evidence: ev}
	switch n := len(s.versionResults); {
	case s.failedUpgrade() != nil:
		// The upgrade's own explanation, as check gives it.
		ue := s.failedUpgrade()
		fs := diagnose.Findings(diagnose.Input{Target: s.opts.Address, Transcript: ue.transcript(),
			HandshakeErr: ue.err, Timeout: s.opts.Timeout})
		if len(fs) > 0 {
			f = fs[0]
		}
	case s.dialFailed() != nil:
		f = dialFinding(s.opts.Address, s.dialFailed(), s.pin.failures())
		f.Evidence = ev
	case timeouts == n:
		f = finding.Finding{ID: finding.NetTimeout, Severity: finding.Error,
			Title:    fmt.Sprintf("%s accepts connections but answers no ClientHello within %v", s.opts.Address, s.opts.Timeout),
			Detail:   "Every probe connected and sent its ClientHello, and the server said nothing before the deadline: it waits for something else (a protocol that speaks first, such as SMTP, or a STARTTLS upgrade), or it is overloaded.",
			Fix:      "Check what the port serves: a protocol that upgrades to TLS in band (SMTP, IMAP, POP3, LDAP, PostgreSQL…) needs its upgrade first (the STARTTLS protocol); allow a longer timeout on slow servers.",
			Evidence: ev, Setting: finding.SettingStartTLS}
	case notTLS == n:
		what := "bytes that are not TLS records"
		if sniffed != "" {
			what = sniffed
		}
		f = finding.Finding{ID: finding.ProtocolNotTLS, Severity: finding.Error,
			Title:    fmt.Sprintf("%s does not speak TLS: it answers with %s", s.opts.Address, what),
			Detail:   "Every probe's ClientHello was answered with bytes that are not TLS records.",
			Fix:      "Scan the TLS port of the service (SMTPS 465, IMAPS 993, HTTPS 443…), or, for a protocol that upgrades to TLS in band, scan with its STARTTLS upgrade.",
			Evidence: ev, Setting: finding.SettingStartTLS}
	case len(spoken) > 0 && byName == len(spoken):
		// Each version it speaks was refused for the server name, not
		// for anything else the hello offered.
		sni := "no server name (SNI)"
		if s.sni != "" {
			sni = fmt.Sprintf("the server name %q", s.sni)
		}
		f = finding.Finding{ID: finding.SNIUnrecognizedName, Severity: finding.Error,
			Title:    "The server does not serve the name the scan asked for",
			Detail:   fmt.Sprintf("Every protocol version the server speaks was refused with alert unrecognized_name: the probes sent %s. The probes' answers are listed.", sni),
			Fix:      "Scan with the name the server is configured for as the server name (SNI), or add this name to the server's virtual hosts and certificates.",
			Setting:  finding.SettingServerName,
			Evidence: ev}
	case len(spoken) > 0:
		slices.Sort(spoken)
		names := make([]string, len(spoken))
		for i, v := range spoken {
			names[i] = v.String()
		}
		f = finding.Finding{ID: finding.ProtocolNoSharedCipher, Severity: finding.Error,
			Title:    fmt.Sprintf("The server does not refuse %s as a version but accepts no ClientHello: nothing a client can offer is acceptable to it, as it is configured now", strings.Join(names, ", ")),
			Detail:   fmt.Sprintf("Every protocol version probe failed. The server refused %s with an alert other than protocol_version (the alert for a version it does not speak), after a hello that offered every cipher suite, group and signature scheme of that version; the probes' answers are listed.", strings.Join(names, ", ")),
			Fix:      diagnose.NothingUsableFix,
			Evidence: ev}
	}
	rep.Findings = append(rep.Findings, f)
}

// dialFailed returns the error of the first probe if it could not
// connect.
func (s *scanner) dialFailed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dialErr
}

// progress reports n more probes expected in phase.
func (s *scanner) progress(more int, phase string) {
	s.mu.Lock()
	s.total += more
	p := Progress{Target: s.opts.Address, Done: s.done, Total: max(s.total, s.done), Phase: phase}
	s.mu.Unlock()
	if s.opts.Progress != nil {
		s.opts.Progress(p)
	}
}

// probe makes one connection: it waits for the limiter, dials, runs the
// handshake as far as stop, and records the evidence.
func (s *scanner) probe(ctx context.Context, purpose string, spec helloSpec, stop stage, after afterHandshake, psk *pskOffer) *result {
	return s.probeOn(ctx, false, purpose, spec, stop, after, psk)
}

// probeOn is probe, on a connection alone when exclusive is set.
func (s *scanner) probeOn(ctx context.Context, exclusive bool, purpose string, spec helloSpec, stop stage, after afterHandshake, psk *pskOffer) *result {
	p := &Probe{Purpose: purpose}
	res := &result{}
	start := time.Now()
	s.mu.Lock()
	p.ID = len(s.probes) + 1
	s.probes = append(s.probes, p)
	s.mu.Unlock()
	defer func() {
		p.DurationMS = float64(time.Since(start).Microseconds()) / 1000
		s.mu.Lock()
		s.done++
		pr := Progress{Target: s.opts.Address, Done: s.done, Total: max(s.total, s.done), Phase: purpose}
		s.mu.Unlock()
		if s.opts.Progress != nil {
			s.opts.Progress(pr)
		}
	}()
	res.probe = p.ID
	// notAsked ends a probe that the silence watcher stopped: its question
	// is unanswered, and not for a failed connection.
	notAsked := func(err error) bool {
		why := s.silence.stoppedWhy()
		if why == "" || !errors.Is(err, context.Canceled) {
			return false
		}
		res.netErr, res.notAsked = err, why
		p.Answer = res.answer()
		return true
	}
	release, alone, err := s.lim.acquire(ctx, exclusive)
	if err != nil && notAsked(err) {
		return res
	}
	if err != nil {
		res.netErr = err
		p.Answer = "not run: " + err.Error()
		return res
	}
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	start = time.Now() // the connection's own time, not the wait for a slot
	cctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	c, err := s.lim.dial(cctx, func() (net.Conn, error) { return s.opts.Dial(cctx, s.opts.Address) })
	if err != nil && notAsked(err) {
		var ue *upgradeError
		if !errors.As(err, &ue) {
			s.lim.count.Add(-1) // counted when its slot was taken; no connection was made
			return res
		}
		// Connected and stopped in the upgrade: what was said is evidence.
		tr := ue.transcript()
		p.Transcript, p.Problems = tr.Events, tr.Problems
		s.mu.Lock()
		if s.stoppedUp == nil {
			s.stoppedUp = ue
		}
		s.mu.Unlock()
		return res
	}
	if err != nil {
		var de *net.DNSError
		var ae *net.AddrError
		if errors.As(err, &de) || errors.As(err, &ae) {
			s.lim.count.Add(-1) // nothing was sent: the name did not resolve, or has no address to try
		}
		res.netErr = err
		p.Answer = "connection failed: " + err.Error()
		var ue *upgradeError
		if errors.As(err, &ue) {
			p.Answer = "the in-band upgrade failed: " + err.Error()
			tr := ue.transcript()
			p.Transcript, p.Problems = tr.Events, tr.Problems
		}
		s.mu.Lock()
		if s.dialErr == nil {
			s.dialErr = err
		}
		if ue == nil {
			s.failed = append(s.failed, p.ID)
		}
		if ue != nil && s.upgradeErr == nil {
			s.upgradeErr = ue
		}
		s.mu.Unlock()
		return res
	}
	if uc, ok := c.(*upgradedConn); ok {
		s.mu.Lock()
		if s.rep.StartTLS == nil {
			up := uc.pre.up
			s.rep.StartTLS = &up
			s.upgraded = uc
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	if s.address == "" {
		s.address = c.RemoteAddr().String()
	}
	s.mu.Unlock()
	if dl, ok := cctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	// The scan's end (SIGINT) ends a read in progress at once.
	defer context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })()
	v := newConv(c)
	r := runHandshake(v, spec, stop, after, psk, s.opts.Timeout)
	r.probe = p.ID
	v.close()
	tr := v.transcript()
	p.Transcript, p.Problems = tr.Events, tr.Problems
	if r.certReq {
		s.noteCertRequest(r, stop)
	}
	if r.hello != nil {
		p.Offered = summary(r.hello)
		if spec.sslv2 {
			p.Offered = "SSL 2.0 CLIENT-HELLO, 7 SSL 2.0 cipher kinds"
		}
	}
	p.Answer = r.answer()
	if !alone && !spec.sslv2 && r.unanswered() && ctx.Err() == nil {
		// Closed before a byte of TLS while other connections were
		// open: a server (or a proxy in front of it) that limits the
		// connections of a client closes the excess ones so; a server
		// that refuses without an alert (SChannel) closes what it
		// refuses so too. Ask again alone: answered, the scan goes on
		// one connection at a time; closed again, it was a refusal, and
		// after a few of those the server is taken at its word. The
		// retries run one after the other, so that each decides with
		// what the ones before it showed.
		release()
		released = true
		s.retryMu.Lock()
		defer s.retryMu.Unlock()
		if !s.lim.alone.Load() && s.silentRefusals >= maxSilentRetries {
			return r
		}
		s.progress(1, purpose)
		rr := s.probeOn(ctx, true, fmt.Sprintf("%s (again, alone: probe %d was closed unanswered while other connections were open)", purpose, p.ID), spec, stop, after, psk)
		if rr.unanswered() {
			s.silentRefusals++
		} else {
			s.lim.alone.Store(true)
		}
		s.mu.Lock()
		s.retried = append(s.retried, retry{first: p.ID, again: rr.probe, answered: !rr.unanswered()})
		s.mu.Unlock()
		return rr
	}
	return r
}

// maxSilentRetries is how many probes closed unanswered are asked again
// alone and closed again before the scan takes such closes for what the
// server means (a refusal without an alert), and asks no more.
const maxSilentRetries = 2

// retry is a probe asked again alone after the server closed it
// unanswered.
type retry struct {
	first, again int
	answered     bool
}

// unanswered reports whether the server closed the connection before
// any TLS answer: no hello, no alert, nothing else.
func (r *result) unanswered() bool {
	return r.hello != nil && r.sh == nil && r.hrr == nil && r.sslv2 == nil && r.alert == nil && r.notTLS == "" &&
		r.netErr == nil && (r.closed == "fin" || r.closed == "rst")
}

// wasWere is "1 probe was" or "n probes were", for noun "probe".
func wasWere(n int, noun string) string {
	if n == 1 {
		return "1 " + noun + " was"
	}
	return itoa(n) + " " + noun + "s were"
}

// noteRetries says which probes were asked again alone, and what that
// showed.
func (s *scanner) noteRetries() {
	if len(s.retried) == 0 {
		return
	}
	slices.SortFunc(s.retried, func(a, b retry) int { return a.first - b.first })
	var answered, silent []string
	for _, r := range s.retried {
		if r.answered {
			answered = append(answered, fmt.Sprintf("%d (again: %d)", r.first, r.again))
		} else {
			silent = append(silent, fmt.Sprintf("%d (again: %d)", r.first, r.again))
		}
	}
	if len(answered) > 0 {
		s.problem("%s closed before the server answered, while other connections were open, and answered when asked again alone: the server (or something in front of it) limits the connections a client may have open; the scan went on one connection at a time. Probes %s",
			wasWere(len(answered), "probe"), strings.Join(answered, ", "))
	}
	if len(silent) > 0 {
		s.problem("%s closed before the server answered, and closed again when asked alone: taken as the server's refusals, which they are if it closes without an alert what it refuses; a server that limits how many connections a client may start per second closes them the same way, and a scan with a delay between connections tells the two apart. Probes %s",
			wasWere(len(silent), "probe"), strings.Join(silent, ", "))
	}
}

// noteFailures says which probes could not connect, when others could:
// what they asked is not known, and whatever rests on them may be wrong.
// (When none could, the report is about that: see unreachable.)
func (s *scanner) noteFailures() {
	if len(s.failed) == 0 || len(s.failed) == len(s.probes) {
		return
	}
	slices.Sort(s.failed)
	ids := make([]string, len(s.failed))
	for i, id := range s.failed {
		ids[i] = itoa(id)
	}
	they := "they"
	if len(s.failed) == 1 {
		they = "it"
	}
	s.problem("%s not made (%v): what %s asked is not known, so a version, suite, group or feature shown as not accepted may be accepted, and the lists may be incomplete. "+
		"A server, or a firewall in front of it, that limits how many connections a client may start per second refuses or drops the excess ones so; a scan with a delay between connections tells. Probes %s",
		wasWere(len(s.failed), "connection"), s.dialErr, they, strings.Join(ids, ", "))
}

// answer summarises what the server answered, in one line.
func (r *result) answer() string {
	var s string
	switch {
	case r.notAsked != "":
		return "not asked: " + r.notAsked
	case r.netErr != nil:
		return "connection failed: " + r.netErr.Error()
	case r.sslv2 != nil:
		return fmt.Sprintf("SSL 2.0 SERVER-HELLO with %d cipher kinds", len(r.sslv2.CipherSpecs))
	case r.sh != nil:
		s = fmt.Sprintf("ServerHello: %s, %s", r.version, r.suite)
		if r.group != 0 {
			s += ", " + r.group.String()
		}
	case r.hrr != nil:
		s = fmt.Sprintf("HelloRetryRequest: %s, %s, asks for %s", r.version, r.suite, r.group)
	}
	var more []string
	if r.hrr != nil && r.sh != nil {
		more = append(more, "after a HelloRetryRequest for "+r.group.String())
	}
	if r.resumed {
		more = append(more, "resumed the session")
	}
	if r.pskOK {
		more = append(more, "accepted the PSK")
	}
	if r.earlyOK {
		more = append(more, "accepted 0-RTT")
	}
	if r.done {
		more = append(more, "handshake completed")
	}
	if len(r.tickets13) > 0 {
		more = append(more, plural(len(r.tickets13), "ticket"))
	}
	if r.reneg != "" {
		more = append(more, "renegotiation "+r.reneg)
	}
	if r.heartbleed != "" {
		more = append(more, "heartbeat: "+r.heartbleed)
	}
	switch {
	case r.alert != nil:
		more = append(more, "alert "+r.alert.String())
	case r.notTLS != "":
		more = append(more, "not TLS: "+r.notTLS)
	case r.stopped != "":
		more = append(more, "stopped: "+r.stopped)
	case r.closed != "" && !r.done:
		more = append(more, closedWords(r.closed))
	}
	for _, m := range more {
		if s != "" {
			s += "; "
		}
		s += m
	}
	return s
}

func closedWords(how string) string {
	switch how {
	case "fin":
		return "the server closed the connection"
	case "rst":
		return "the server reset the connection"
	case "timeout":
		return "no answer before the deadline"
	}
	return "the connection ended: " + how
}

// versionOf parses a version name as Version.String prints it.
func versionOf(name string) wire.Version {
	for _, v := range append([]wire.Version{0x0002}, versionsTLS...) {
		if v.String() == name {
			return v
		}
	}
	return 0
}

// best12 returns the highest accepted version below TLS 1.3, or 0.
func best12(accepted map[wire.Version]bool) wire.Version {
	for _, v := range []wire.Version{wire.VersionTLS12, wire.VersionTLS11, wire.VersionTLS10, wire.VersionSSL30} {
		if accepted[v] {
			return v
		}
	}
	return 0
}

func itoa(n int) string { return strconv.Itoa(n) }

// hex4 formats a code point as 0x1234.
func hex4(v uint16) string { return fmt.Sprintf("0x%04x", v) }

// certRequests is what the probes showed of the server's
// CertificateRequests: the probes that got one, and, of those that went
// on with tlskit's empty Certificate, which the server refused (required)
// and which it completed (optional).
type certRequests struct {
	asked, required, optional []int
	refusal                   string // the alert of the first refusal
}

// noteCertRequest records a probe whose server flight asked for a client
// certificate.
func (s *scanner) noteCertRequest(r *result, stop stage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.certReq
	c.asked = append(c.asked, r.probe)
	if stop != toComplete {
		return
	}
	switch {
	case r.alert != nil && r.alert.Level == wire.AlertFatal:
		c.required = append(c.required, r.probe)
		if c.refusal == "" {
			c.refusal = r.alert.String()
		}
	case r.done:
		c.optional = append(c.optional, r.probe)
	}
}

// clientCertificate sums up the client certificate requests.
func (s *scanner) clientCertificate() Feature {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.certReq
	sorted := func(ids []int) []int { ids = slices.Clone(ids); slices.Sort(ids); return ids }
	switch {
	case len(c.asked) == 0:
		return Feature{State: NotSupported, Detail: "no server flight had a CertificateRequest"}
	case len(c.required) > 0:
		return Feature{State: Supported, Probes: sorted(c.required),
			Detail: "required: the server asks for a client certificate and ended the handshake when tlskit sent none (alert " + c.refusal + "); a client without one the server accepts cannot connect"}
	case len(c.optional) > 0:
		return Feature{State: Supported, Probes: sorted(c.optional),
			Detail: "optional: the server asks for a client certificate and completed the handshake when tlskit sent none"}
	}
	return Feature{State: Supported, Probes: sorted(c.asked),
		Detail: "requested: the server asks for a client certificate; no probe completed a handshake to tell whether it is required"}
}
