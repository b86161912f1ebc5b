// Package probe connects to a TLS server, records the handshake byte for
// byte, and explains it: the live source of bytes behind `tlskit check`.
//
// The handshake runs with crypto/tls and certificate verification deferred:
// the standard verifier is replaced by an explicit [trust.Verifier.Verify]
// after the handshake, so a chain that fails is diagnosed instead of merely
// aborting the connection. The recorded bytes go through the same
// [transcript.Decoder] as a pcap, decrypted with the connection's own key log
// secrets, so TLS 1.3's encrypted messages and alerts are shown by name.
package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/internal/keysched"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/transcript"
	"github.com/tlskit/tlskit/trust"
	"github.com/tlskit/tlskit/truststore"
)

// Options describe one check. Only Address is required.
type Options struct {
	// Address is HOST:PORT to connect to.
	Address string
	// ServerName is verified and sent as SNI; empty means the host part of
	// Address. An IP address is verified against the IP SANs and sent
	// without SNI (see [trust.ServerName]).
	ServerName string
	// Verifier decides what to trust. Nil means the system roots.
	Verifier *trust.Verifier
	// Certificate is the client certificate to present, if any.
	Certificate *tls.Certificate
	// ALPN lists application protocols to offer.
	ALPN []string
	// MinVersion and MaxVersion bound the TLS versions offered (crypto/tls
	// constants; zero means crypto/tls's defaults: TLS 1.2 to 1.3).
	MinVersion, MaxVersion uint16
	// Timeout bounds connecting plus the handshake (10 s when zero).
	Timeout time.Duration
	// Deadline, when set, is when the whole check must have ended, its
	// second look included: a look is taken only while a quarter of
	// Timeout or more is left, and its timeout is cut to what is left.
	// For monitors, whose answer is of no use after the scrape's timeout.
	// Zero: each connection of the check has Timeout of its own.
	Deadline time.Time
	// Linger is how long to wait after the handshake for the server's
	// reaction to the client's Finished (TLS 1.3 reports a rejected client
	// certificate only then) and for its close (1 s when zero).
	Linger time.Duration
	// KeyLog, if set, receives the connection's secrets in NSS key log
	// format, as they are derived.
	KeyLog io.Writer
	// Insecure marks the check as run with verification turned off by the
	// user. The chain is still verified and every finding reported, and the
	// report says loudly that verification was skipped.
	Insecure bool
	// Stacks also asks which TLS stacks on this machine (Go, OpenSSL with
	// CAfile or CApath, Qt, GnuTLS…) would trust the server's chain, each
	// from the roots it really loads; the answer is in Report.Stacks.
	Stacks bool
	// StacksEnv is the environment those stacks run with (SSL_CERT_FILE…).
	StacksEnv map[string]string
	// Time gives the verification time; nil means time.Now.
	Time func() time.Time
	// Network is the network the check connects on: "tcp4" for IPv4 only,
	// "tcp6" for IPv6 only; "" or "tcp" for either (a name's addresses as
	// Go's dialer takes them, IPv6 and IPv4 raced). It is what Dialer is
	// called with.
	Network string
	// Dialer opens the TCP connection; nil means a net.Dialer. The
	// connections a check opens after its first (the second look, the
	// STARTTLS check of whether the port speaks TLS) are to the address
	// the first reached, its RemoteAddr, so that they ask the same server.
	// A Dialer that dials through a net.Dialer with the context it is
	// given tells the check of the addresses it tried in vain before one
	// connected (net.fallback), as Go's dialer reports them through the
	// context (net/http/httptrace).
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// ExpiringWithin, when positive, warns (cert.expiring-soon) about the
	// server's leaf, every certificate of the verified path and the client
	// Certificate when they expire within this long of the verification
	// time (see [diagnose.Analysis]).
	ExpiringWithin time.Duration
	// Timings, when set, receives how long each phase of the check took.
	Timings *Timings
	// Chains, when set, remembers chain verifications across checks (see
	// [diagnose.ChainCache]).
	Chains *diagnose.ChainCache
	// LingerOnlyIfAsked skips the wait after the handshake (Linger) unless
	// the server asked for a client certificate: the reaction a check
	// waits for there is a TLS 1.3 server's verdict on the client's
	// certificate. The transcript then ends with the client's close
	// instead of the server's. For monitors, where the wait costs a
	// wake-up or two per probe.
	LingerOnlyIfAsked bool
	// DecryptIfNeeded skips decrypting the recorded handshake when nothing
	// the analysis reads can be in its encrypted part, for monitors: a
	// TLS 1.3 handshake that completed, without a client certificate
	// asked for, an OCSP staple, ALPN or STARTTLS, with no wait after it,
	// the connection closed by the client, and no record of the server
	// after its Finished (tried with its application traffic key). The
	// chain is then the one crypto/tls received (the same certificates the
	// Certificate message holds), and the report's findings, verdict,
	// chains and what was negotiated are the same as with decryption (the
	// exporter's TestDecryptIfNeededLab compares both on every lab case,
	// TestDecryptIfNeededPeers on openssl s_server and gnutls-serv); its
	// transcript lists the server's encrypted records undecrypted, and
	// its problems say the key log was not used. The key log's lines are
	// parsed only when they are used.
	DecryptIfNeeded bool
	// CurvePreferences, when set, are the key exchange groups offered, as
	// crypto/tls's Config.CurvePreferences; nil means crypto/tls's
	// defaults (which lead with the hybrid X25519MLKEM768 key share). When
	// the handshake fails and the second look finds the server wants a
	// group not among them, the check is made again with the defaults.
	CurvePreferences []tls.CurveID
	// StartTLS, when set, is the protocol whose in-band upgrade runs
	// before the handshake (SMTP's STARTTLS, PostgreSQL's SSLRequest…).
	// Its messages are plaintext events of the transcript, and after the
	// handshake the protocol's first exchange inside TLS is shown too.
	// StartTLSChosenBy says how it was chosen when the user did not name
	// it ("from port 587"), for the report.
	StartTLS         starttls.Protocol
	StartTLSChosenBy string
	// XMPPDomain is the domain an XMPP stream is opened to (its 'to'),
	// which picks the virtual host; empty means the server name.
	XMPPDomain string
}

// UsePolicy sets what p decides of a check: the verifier v (made of p
// by the caller, p.Verifier, so that it can tell that error apart), the
// server name, ALPN, the versions, and the clock when p sets one.
// Everything else, the client certificate among it, is the caller's.
func (o *Options) UsePolicy(p *tlskit.Policy, v *trust.Verifier) {
	o.Verifier, o.ServerName, o.ALPN = v, p.ServerName, p.ALPN
	o.MinVersion, o.MaxVersion = p.MinVersion, p.MaxVersion
	if p.Time != nil {
		o.Time = p.Time
	}
}

// network returns the network to connect on: Network, or "tcp".
func (o Options) network() string {
	if o.Network == "" {
		return "tcp"
	}
	return o.Network
}

// CheckNetwork says whether network is one a check connects on (see
// [Options.Network]): "", "tcp", "tcp4" or "tcp6".
func CheckNetwork(network string) error {
	switch network {
	case "", "tcp", "tcp4", "tcp6":
		return nil
	}
	return fmt.Errorf("probe: network %q: want tcp, tcp4 (IPv4 only) or tcp6 (IPv6 only)", network)
}

// LookupNetwork returns the network on which to look up a name's
// addresses for a connection on network, as net.Resolver.LookupIP takes
// it: "ip4" (A records) for tcp4, "ip6" (AAAA records) for tcp6, "ip"
// (both) otherwise.
func LookupNetwork(network string) string {
	switch network {
	case "tcp4":
		return "ip4"
	case "tcp6":
		return "ip6"
	}
	return "ip"
}

// dial returns the Dialer, or a net.Dialer's when it is nil.
func (o Options) dial() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if o.Dialer != nil {
		return o.Dialer
	}
	return (&net.Dialer{}).DialContext
}

// Timings are the durations of a check's phases, for monitoring. A phase
// that did not run is zero.
type Timings struct {
	// Connect is the Dialer's call: name resolution and the TCP connect.
	Connect time.Duration
	// StartTLS is the plaintext dialogue of a STARTTLS upgrade.
	StartTLS time.Duration
	// Handshake is the TLS handshake, from the ClientHello to the
	// handshake's end or failure.
	Handshake time.Duration
	// Analysis is decoding the recorded bytes, verifying the chain and
	// deriving the findings.
	Analysis time.Duration
}

// Run checks one server and returns its report. Failures of the server or
// the network are findings in the report, not errors.
func Run(ctx context.Context, opts Options) *diagnose.Report {
	rep := run(ctx, opts)
	g := otherGroup(rep, opts.CurvePreferences)
	if g == "" {
		return rep
	}
	// The server wants a group the restricted offer left out, which
	// crypto/tls may well speak (X25519MLKEM768 alone, P-521): check
	// again offering crypto/tls's defaults, as check does, rather than
	// report a failure of the restriction.
	if !opts.Deadline.IsZero() && time.Until(opts.Deadline) < opts.Timeout/4 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the check offered only the key exchange groups %s, the server wants %s, and too little time was left to check again offering crypto/tls's defaults: the findings are those of the restricted offer", groupNames(opts.CurvePreferences), g))
		return rep
	}
	opts.CurvePreferences = nil
	return run(ctx, opts)
}

// otherGroup returns the group the second look found the server to want
// (its HelloRetryRequest's, or the one it chose) when a failed check
// offered only prefs and that group is not among them; "" otherwise.
func otherGroup(rep *diagnose.Report, prefs []tls.CurveID) string {
	if prefs == nil || rep.SecondLook == nil || rep.SecondLook.Group == "" { // a second look follows only a failed handshake
		return ""
	}
	for _, c := range prefs {
		if wire.NamedGroup(c).String() == rep.SecondLook.Group {
			return ""
		}
	}
	return rep.SecondLook.Group
}

// groupNames writes groups by their IANA names.
func groupNames(groups []tls.CurveID) string {
	names := make([]string, len(groups))
	for i, c := range groups {
		names[i] = wire.NamedGroup(c).String()
	}
	return strings.Join(names, ", ")
}

// run is Run with the groups opts offers.
func run(ctx context.Context, opts Options) *diagnose.Report {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Linger <= 0 {
		opts.Linger = time.Second
	}
	now := opts.Time
	if now == nil {
		now = time.Now
	}
	verifier := opts.Verifier
	if verifier == nil {
		verifier = &trust.Verifier{Anchors: trust.SystemAnchors()}
	}
	start := time.Now()
	an := diagnose.Analysis{
		Input:          diagnose.Input{Target: opts.Address, Timeout: opts.Timeout, MinVersion: opts.MinVersion, MaxVersion: opts.MaxVersion},
		Verifier:       verifier,
		Insecure:       opts.Insecure,
		Context:        ctx, // what --fetch fetches ends with the check
		ExpiringWithin: opts.ExpiringWithin,
		Chains:         opts.Chains,
	}
	if c := opts.Certificate; c != nil && opts.ExpiringWithin > 0 {
		an.ClientCertificate = c.Leaf
		if an.ClientCertificate == nil && len(c.Certificate) > 0 {
			an.ClientCertificate, _ = x509.ParseCertificate(c.Certificate[0])
		}
	}
	tm := opts.Timings
	if tm == nil {
		tm = &Timings{}
	}
	if opts.Stacks {
		an.Stacks = &truststore.Options{Env: opts.StacksEnv}
	}
	finish := func(address string) *diagnose.Report {
		an.Time = now()
		t0 := time.Now()
		rep := diagnose.Analyze(an)
		tm.Analysis += time.Since(t0)
		rep.Address, rep.Started = address, start
		rep.DurationMS = float64(time.Since(start).Microseconds()) / 1000
		return rep
	}
	name, err := trust.ServerName(opts.Address, opts.ServerName)
	if err != nil {
		an.DialErr = err
		return finish("")
	}
	an.ServerName = name
	if err := CheckNetwork(opts.Network); err != nil {
		an.DialErr = err
		return finish("")
	}

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	t0 := time.Now()
	dctx, failedBefore := diagnose.TraceDial(ctx, opts.Address) // a name can have several addresses
	raw, err := opts.dial()(dctx, opts.network(), opts.Address)
	tm.Connect = time.Since(t0)
	if err != nil {
		an.DialErr, an.DialFailures = err, failedBefore("")
		return finish("")
	}
	an.Address = raw.RemoteAddr().String()
	an.DialFailures = failedBefore(an.Address)
	rec := &recorder{Conn: raw}
	rec.allow(maxHandshakeBytes, "before the handshake ended")
	defer rec.Close()
	if dl, ok := ctx.Deadline(); ok {
		raw.SetDeadline(dl) // a silent server shows as a read timeout in the transcript
	}
	in := &an.Input
	var up *transcript.Upgrade
	if opts.StartTLS != "" {
		t0 := time.Now()
		u, err := preamble(ctx, rec, opts, name)
		tm.StartTLS = time.Since(t0)
		up = &u
		if dl, ok := ctx.Deadline(); ok {
			raw.SetDeadline(dl) // the preamble may have waited less
		}
		if err != nil {
			in.HandshakeErr = err
			rec.Close()
			in.Transcript = replayed(rec, nil, up)
			return finish(an.Address)
		}
	}

	keys := &secrets{tee: opts.KeyLog}
	cfg := &tls.Config{
		ServerName: trust.SNI(name), // no SNI for addresses (RFC 6066 §3)
		// Verification is deferred, never skipped: the chain is verified
		// explicitly below, so that a failure can be explained.
		InsecureSkipVerify: true,
		NextProtos:         opts.ALPN,
		MinVersion:         opts.MinVersion,
		MaxVersion:         opts.MaxVersion,
		KeyLogWriter:       keys,
		CurvePreferences:   opts.CurvePreferences,
	}
	asked := false // the server asked for a client certificate
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		asked = true
		if c := opts.Certificate; c != nil {
			return c, nil
		}
		return &tls.Certificate{}, nil // an empty Certificate message, as crypto/tls sends without one
	}
	conn := tls.Client(rec, cfg)
	t0 = time.Now()
	// The handshake's timeout is the connection's deadline (set above), not
	// ctx's: at the deadline a read then fails as a timeout, which the
	// transcript shows as the server's silence and which needs no second
	// look. With ctx's deadline crypto/tls would close the connection at
	// the same instant, and which came first decided whether a silent
	// server was taken for one that hung up on the hello (the wide hello
	// and one per version then waited for the same silence, five times
	// the timeout). parent still cancels it.
	in.HandshakeErr = conn.HandshakeContext(parent)
	tm.Handshake = time.Since(t0)
	in.HandshakeDone = in.HandshakeErr == nil
	lingered := false
	if in.HandshakeDone {
		rec.allow(maxAfterHandshake, "after the handshake")
		rec.quick = opts.StartTLS != ""
		afterTLS(ctx, conn, rec, opts, name, opts.Linger)
		if asked || !opts.LingerOnlyIfAsked || opts.StartTLS != "" {
			lingered = true
			in.AfterErr = afterHandshake(conn, rec, opts.Linger)
		}
	} else {
		rec.drain(opts.Linger / 4)
	}
	conn.Close()

	t0 = time.Now()
	var state tls.ConnectionState
	if in.HandshakeDone {
		state = conn.ConnectionState()
		an.Fallback = state.PeerCertificates
	}
	if opts.DecryptIfNeeded && in.HandshakeDone && !asked && !lingered && opts.StartTLS == "" && keylessOK(state, rec, keys) {
		in.Transcript = replayed(rec, nil, up)
	} else {
		in.Transcript = replayed(rec, keys.log(), up)
	}
	if !in.HandshakeDone && needsSecondLook(in.Transcript) {
		t := lookTarget{dial: opts.dial(), addr: sameServer(raw, opts.Address), sni: trust.SNI(name), alpn: opts.ALPN, timeout: opts.Timeout, deadline: opts.Deadline}
		if opts.StartTLS != "" {
			t.upgrade = func(ctx context.Context, r *recorder) (*transcript.Upgrade, error) {
				u, err := preamble(ctx, r, opts, name)
				return &u, err
			}
		}
		if t.left() > 0 {
			in.SecondLook = secondLook(parent, t, in.Transcript)
		}
	}
	tm.Analysis = time.Since(t0)
	return finish(an.Address)
}

// keylessOK reports whether a completed TLS 1.3 handshake's transcript can
// be decoded without its secrets and analysed to the same findings (see
// Options.DecryptIfNeeded): what its encrypted part holds that the
// analysis reads is in state (the certificates), or absent: no OCSP
// staple, no ALPN protocol, no resumption (a client certificate request
// and lingering are ruled out by the caller), no close or cut recorded
// from the server, and no server record after its Finished. That last
// one is the only encrypted part crypto/tls did not read: records that
// arrived with the server's flight (an alert, application data, a
// ticket). In TLS 1.3 they are protected with the server's application
// traffic secret, and the handshake's records are not, so a record that
// opens with it as the first (sequence number 0) is one.
func keylessOK(state tls.ConnectionState, rec *recorder, keys *secrets) bool {
	if state.Version != tls.VersionTLS13 || len(state.OCSPResponse) > 0 || state.NegotiatedProtocol != "" || state.DidResume || len(state.PeerCertificates) == 0 {
		return false
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.closed || rec.cut {
		return false
	}
	secret, ok := keys.secret(keylog.ServerTrafficSecret0)
	if !ok {
		return false
	}
	var reads [][]byte // the server's bytes, as crypto/tls read them
	for _, c := range rec.chunks {
		if c.from == transcript.Server && c.msg == nil && len(c.data) > 0 {
			reads = append(reads, c.data)
		}
	}
	after, ok := recordsAfterFinished(reads, state.CipherSuite, secret)
	return ok && !after
}

// recordsAfterFinished reports whether the server's bytes of a TLS 1.3
// connection, in the reads crypto/tls made (the last one completed its
// handshake), hold a record protected with the server's first application
// traffic secret (secret, of suite): a record that came after its
// Finished. Such a record can only start in the last read, since
// crypto/tls reads no more once it has the Finished; the first one has
// sequence number 0, and a handshake record does not open with that key.
// ok is false when it cannot be told: the bytes end inside a record, or
// no opener can be made.
func recordsAfterFinished(reads [][]byte, suite uint16, secret []byte) (after, ok bool) {
	if len(reads) == 0 {
		return false, true
	}
	total, lastAt := 0, 0
	for _, r := range reads {
		lastAt = total
		total += len(r)
	}
	last := reads[len(reads)-1]
	// at returns the byte at offset i of the server's bytes.
	at := func(i int) byte {
		for _, r := range reads {
			if i < len(r) {
				return r[i]
			}
			i -= len(r)
		}
		return 0
	}
	var open *keysched.Opener
	pos := 0
	for pos+5 <= total {
		end := pos + 5 + (int(at(pos+3))<<8 | int(at(pos+4)))
		if end > total {
			return false, false
		}
		// Every protected TLS 1.3 record is application_data outside.
		if pos >= lastAt && at(pos) == 23 {
			if open == nil {
				var err error
				if open, err = keysched.NewTLS13Opener(suite, secret); err != nil {
					return false, false
				}
			}
			if _, _, err := open.Open(last[pos-lastAt:pos-lastAt+5], last[pos-lastAt+5:end-lastAt]); err == nil {
				return true, true
			}
		}
		pos = end
	}
	return false, pos == total
}

// secrets keeps the key log lines crypto/tls writes, unparsed, and copies
// them to tee: they are parsed only when the transcript is decrypted.
type secrets struct {
	mu  sync.Mutex
	tee io.Writer
	raw []byte
}

func (s *secrets) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.raw = append(s.raw, p...)
	s.mu.Unlock()
	if s.tee != nil {
		return s.tee.Write(p)
	}
	return len(p), nil
}

// log parses the lines written so far.
func (s *secrets) log() *keylog.Log {
	c := keylog.NewCollector(nil)
	s.mu.Lock()
	c.Write(s.raw)
	s.mu.Unlock()
	return c.Log()
}

// secret returns the secret of the first line with label: the connection's
// (crypto/tls writes the lines of one connection, "LABEL RANDOM SECRET").
func (s *secrets) secret(label string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for rest := s.raw; len(rest) > 0; {
		line, more, _ := bytes.Cut(rest, []byte("\n"))
		rest = more
		if len(line) <= len(label) || string(line[:len(label)]) != label || line[len(label)] != ' ' {
			continue
		}
		hexSecret := line[bytes.LastIndexByte(line, ' ')+1:]
		secret := make([]byte, hex.DecodedLen(len(hexSecret)))
		if _, err := hex.Decode(secret, hexSecret); err != nil || len(secret) == 0 {
			return nil, false
		}
		return secret, true
	}
	return nil, false
}

// sameServer returns where to connect to reach again the server that c
// reached: c's remote TCP address, since a name's other addresses can be
// other servers (a pool behind round-robin DNS, an old server left in an
// AAAA record); addr when c has no TCP address.
func sameServer(c net.Conn, addr string) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok && a != nil {
		return a.String()
	}
	return addr
}

// replayed decodes what rec recorded into a transcript, with the in-band
// upgrade's facts when there was one.
func replayed(rec *recorder, keys *keylog.Log, up *transcript.Upgrade) *transcript.Transcript {
	dec := transcript.NewDecoder(transcript.Options{Keys: keys, MaxEvents: maxEvents, EventCap: eventCap})
	rec.replay(dec)
	if up != nil {
		dec.SetUpgrade(*up)
	}
	return dec.Transcript()
}

// afterHandshake sends close_notify and reads what the server says next,
// until it closes or linger passes. In TLS 1.3 this is where a server
// reports a missing or rejected client certificate. The error is the alert
// (or transport error) the server ended with, if any.
func afterHandshake(conn *tls.Conn, rec *recorder, linger time.Duration) error {
	deadline := time.Now().Add(linger)
	conn.SetDeadline(deadline)
	var alertErr error
	if err := conn.CloseWrite(); err != nil {
		alertErr = err
	}
	buf := make([]byte, 4096)
	for alertErr == nil {
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		if !errors.Is(err, io.EOF) && !isTimeout(err) && !errors.Is(err, errRecordLimit) {
			alertErr = err
		}
		break
	}
	// Wait for the TCP close that follows close_notify or an alert.
	rec.drain(time.Until(deadline))
	return alertErr
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Bounds on what a check keeps of what the server sends, so that a hostile
// or broken server cannot exhaust memory (peak RSS stays far below 64 MB,
// measured by cmd/tlskit's TestCheckMemoryBounded):
//
//   - maxHandshakeBytes until the handshake completes or fails. A real
//     handshake is far smaller: crypto/tls refuses a Certificate message
//     over 256 KiB and other messages over 64 KiB. Endless garbage or a
//     giant message hit this bound (or crypto/tls's) and stop the read.
//   - maxAfterHandshake more after it: enough for session tickets, a
//     KeyUpdate and the alert that rejects a client certificate; a server
//     streaming application data or random bytes is read no further.
//   - maxEvents transcript events, against endless tiny records.
//
// Reading stops at the bound; the transcript says the rest was not kept.
const (
	maxHandshakeBytes = 1 << 20
	maxAfterHandshake = 256 << 10
	maxEvents         = 1000
	maxChunks         = 4096 // reads kept apart; later ones are merged
	// eventCap is room for the events of a handshake, reserved up front:
	// a TLS 1.3 check has 11 to 17.
	eventCap = 20
)

// errRecordLimit is returned by the recorder's Read once the bound on the
// server's bytes is reached.
var errRecordLimit = errors.New("probe: the server sent more than tlskit keeps; reading stopped")

// chunk is bytes one side sent, as the recorder saw them.
type chunk struct {
	from transcript.Side
	at   time.Time
	data []byte
	how  transcript.CloseHow // set for a close
	cut  string              // set where the recorder stopped reading: why
	msg  *plainMsg           // set for a message of the plaintext preamble
}

// plainMsg is a message of an in-band upgrade's dialogue, as traced.
type plainMsg struct {
	protocol string
	m        starttls.Message
}

// recorder is a net.Conn that remembers every byte written and read, and how
// the connection ended. It keeps at most limit bytes from the server; at the
// limit it stops reading and records a cut.
type recorder struct {
	net.Conn
	mu     sync.Mutex
	chunks []chunk
	closed bool // the peer's close was recorded
	local  bool // we closed
	kept   int  // bytes kept from the server
	limit  int  // the bound on kept; see maxHandshakeBytes
	room   int  // the allowance of the current phase, for the message
	phase  string
	cut    bool // the bound was reached
	plain  bool // in a plaintext preamble: bytes are counted, messages kept
	quick  bool // acknowledge at once before each read (see quickAck)
}

// heardServer reports whether the server sent any byte yet.
func (r *recorder) heardServer() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.kept > 0
}

// setPlain starts or ends a plaintext preamble: its bytes are counted
// against the bound but not replayed as TLS; its messages are kept
// instead (note).
func (r *recorder) setPlain(on bool) {
	r.mu.Lock()
	r.plain = on
	r.mu.Unlock()
}

// note keeps a message of the plaintext preamble, or of the first exchange
// inside TLS.
func (r *recorder) note(protocol string, m starttls.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chunks = append(r.chunks, chunk{from: transcript.Side(m.From), at: m.At, msg: &plainMsg{protocol, m}})
}

// allow sets the bound on the server's bytes to n more than kept so far,
// naming the phase for the transcript ("after the handshake").
func (r *recorder) allow(n int, phase string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.limit, r.room, r.phase = r.kept+n, n, phase
}

// record appends data from a side. Once there are maxChunks chunks, data is
// merged into the last chunk of the same side (losing only its own time),
// so that a peer trickling bytes one at a time cannot make the list long.
func (r *recorder) record(from transcript.Side, at time.Time, data []byte) {
	if r.plain {
		return
	}
	if n := len(r.chunks); n > 0 {
		last := &r.chunks[n-1]
		if last.from == from && last.how == "" && last.cut == "" && last.msg == nil && n >= maxChunks {
			last.data = append(last.data, data...)
			return
		}
	}
	r.chunks = append(r.chunks, chunk{from: from, at: at, data: append([]byte(nil), data...)})
}

func (r *recorder) Read(p []byte) (int, error) {
	r.mu.Lock()
	if r.cut {
		r.mu.Unlock()
		return 0, errRecordLimit
	}
	room := r.limit - r.kept
	if room <= 0 {
		r.cut = true
		r.chunks = append(r.chunks, chunk{from: transcript.Server, at: time.Now(),
			cut: fmt.Sprintf("the server sent more than %d KiB %s; tlskit stopped reading there, and the rest was not kept", r.room>>10, r.phase)})
		r.mu.Unlock()
		return 0, errRecordLimit
	}
	quick := r.quick
	r.mu.Unlock()
	if len(p) > room {
		p = p[:room]
	}
	if quick {
		quickAck(r.Conn)
	}
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	defer r.mu.Unlock()
	if n > 0 {
		r.kept += n
		r.record(transcript.Server, time.Now(), p[:n])
	}
	if err != nil && !r.closed && !r.local {
		switch {
		case errors.Is(err, io.EOF):
			r.closed = true
			r.chunks = append(r.chunks, chunk{from: transcript.Server, at: time.Now(), how: transcript.CloseFIN})
		case errors.Is(err, syscall.ECONNRESET):
			r.closed = true
			r.chunks = append(r.chunks, chunk{from: transcript.Server, at: time.Now(), how: transcript.CloseRST})
		case isTimeout(err):
			r.chunks = append(r.chunks, chunk{from: transcript.Server, at: time.Now(), how: transcript.CloseTimeout})
			r.closed = true
		}
	}
	return n, err
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.record(transcript.Client, time.Now(), p)
	r.mu.Unlock()
	return r.Conn.Write(p)
}

func (r *recorder) Close() error {
	r.mu.Lock()
	if !r.closed && !r.local {
		r.local = true
		r.chunks = append(r.chunks, chunk{from: transcript.Client, at: time.Now(), how: transcript.CloseLocal})
	}
	r.mu.Unlock()
	return r.Conn.Close()
}

// drain reads raw bytes until the peer closes or d passes, so that the
// transcript shows a server's last words and its FIN or RST.
func (r *recorder) drain(d time.Duration) {
	r.mu.Lock()
	done := r.closed || r.local
	r.mu.Unlock()
	if done || d <= 0 {
		return
	}
	r.Conn.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		if _, err := r.Read(buf); err != nil {
			return
		}
	}
}

// replay feeds what was recorded into dec, in order.
func (r *recorder) replay(dec *transcript.Decoder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.chunks {
		if c.msg != nil {
			m := c.msg.m
			dec.Plaintext(transcript.Side(m.From), m.At, c.msg.protocol, string(m.Stage), m.Text, m.Bytes)
			continue
		}
		if c.cut != "" {
			dec.Truncate(c.from, c.at, c.cut)
			continue
		}
		if c.how != "" {
			dec.Close(c.from, c.at, c.how)
			continue
		}
		dec.Data(c.from, c.at, c.data)
	}
}

// SplitTarget parses HOST[:PORT], defaulting the port to 443, and accepts
// URLs of the schemes that speak TLS from the first byte (https://,
// ldaps://, imaps://…; see [SplitTargetPort]) and IPv6 addresses with or
// without brackets.
func SplitTarget(s string) (string, error) { return SplitTargetPort(s, 443) }

// PortFor is the port a target given without one is checked on when the
// check speaks protocol p first: the protocol's ([starttls.Protocol.Port]:
// smtp 25, imap 143…), or 443 without one (TLS from the first byte).
func PortFor(p starttls.Protocol) int {
	if n := p.Port(); n != 0 {
		return n
	}
	return 443
}

// SplitTargetPort is [SplitTarget] with defaultPort for a target without a
// port (see [PortFor]); a URL of a scheme that speaks TLS from the first
// byte without a port means that scheme's port (https:// 443, ldaps:// 636…).
func SplitTargetPort(s string, defaultPort int) (string, error) {
	s, schemePort, err := cutScheme(s)
	if err != nil {
		return "", err
	}
	if schemePort != 0 {
		defaultPort = schemePort
	}
	if s == "" {
		return "", errors.New("probe: empty target")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		// No port: all of it is the host.
		host, port = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), strconv.Itoa(defaultPort)
		if strings.Contains(host, ":") && net.ParseIP(host) == nil {
			if i := strings.LastIndexByte(host, ':'); net.ParseIP(host[:i]) != nil {
				return "", fmt.Errorf("probe: cannot read %q as HOST[:PORT]: an IPv6 address with a port is written in brackets, [%s]:%s", s, host[:i], host[i+1:])
			}
			return "", fmt.Errorf("probe: cannot read %q as HOST[:PORT]", s)
		}
	}
	if host == "" {
		return "", errors.New("probe: the target has no host name")
	}
	if strings.ContainsAny(host, "[]/ \t") {
		return "", fmt.Errorf("probe: %q is not a host name or address", host)
	}
	if net.ParseIP(host) == nil {
		// An internationalised name is looked up, sent and verified in its
		// A-labels (bücher.example: xn--bcher-kva.example).
		ascii, err := trust.ASCIIName(host)
		if err != nil {
			return "", fmt.Errorf("probe: %q is not a host name: %v", host, err)
		}
		host = ascii
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", errors.New("probe: the port must be a number from 1 to 65535, got " + strconv.Quote(port))
	}
	return net.JoinHostPort(host, port), nil
}

// InBandSchemeError is a target given as a URL of a protocol that
// upgrades to TLS in band (smtp://, imap://, postgres://…): it is checked
// as HOST[:PORT] with that protocol's upgrade first.
type InBandSchemeError struct {
	Scheme, Host string
	Protocol     starttls.Protocol
}

func (e *InBandSchemeError) Error() string {
	return fmt.Sprintf("probe: %s:// upgrades to TLS in band: check %s with the %s upgrade (STARTTLS protocol %s)", e.Scheme, e.Host, e.Protocol.Name(), e.Protocol)
}

// cutScheme takes a URL apart: the host and port of "SCHEME://[USER@]HOST[:PORT]/PATH",
// with the port of a scheme that speaks TLS from the first byte (https
// 443, ldaps 636, imaps 993, pop3s 995, smtps and submissions 465, ftps
// 990, nntps 563, ircs 6697) when it has none; the credentials of the
// URL are dropped. A scheme that upgrades to TLS in band (smtp://,
// imap://, postgres://…) is an [*InBandSchemeError]; other schemes are
// errors. A target without "://" is returned as it is, port 0.
func cutScheme(s string) (string, int, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s, 0, nil
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	scheme = strings.ToLower(scheme)
	switch scheme {
	case "https", "wss":
		return rest, 443, nil
	case "ldaps":
		return rest, 636, nil
	case "imaps":
		return rest, 993, nil
	case "pop3s":
		return rest, 995, nil
	case "smtps", "submissions":
		return rest, 465, nil
	case "ftps":
		return rest, 990, nil
	case "nntps":
		return rest, 563, nil
	case "ircs":
		return rest, 6697, nil
	case "http", "ws":
		return "", 0, fmt.Errorf("probe: %s:// is plaintext; the TLS service is https://%s (port 443 unless it says otherwise)", scheme, rest)
	}
	if p, err := starttls.ParseProtocol(scheme); err == nil {
		return "", 0, &InBandSchemeError{Scheme: scheme, Host: rest, Protocol: p}
	}
	return "", 0, fmt.Errorf("probe: unknown URL scheme %q: the target is HOST[:PORT], or an https://, ldaps://, imaps://, pop3s:// or smtps:// URL", scheme+"://")
}
