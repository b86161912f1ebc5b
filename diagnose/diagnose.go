// Package diagnose explains a TLS connection: from what happened on the wire
// (a [transcript.Transcript]), how the TCP connection fared, and how the
// certificate chain verified (a [trust.Result]), it derives the findings a
// person needs, each with a stable id, the evidence and the fix.
//
// It never looks at the network itself: `tlskit check` and `tlskit pcap`
// feed it the same facts from two different sources of bytes.
//
// # Telling look-alike failures apart
//
// Several failures end in the same alert. A TLS 1.2 server that requires a
// client certificate and a server that shares no cipher suite with the
// client both send alert 40 (handshake_failure) with most stacks. The
// transcript tells them apart: a CertificateRequest followed by an empty
// client Certificate means the first, an alert right after ClientHello
// means the second. In TLS 1.3 a missing client certificate shows only
// after the client's Finished, as a certificate_required alert the client
// reads later; the decoder decrypts it.
package diagnose

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"net/http/httptrace"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/dn"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/transcript"
	"github.com/tlskit/tlskit/trust"
)

// Verdict is the one-word outcome of a check.
type Verdict string

// The verdicts.
const (
	// Trusted: the handshake completed and the chain satisfied the policy.
	Trusted Verdict = "trusted"
	// Untrusted: the handshake completed but the peer must not be trusted.
	Untrusted Verdict = "untrusted"
	// Failed: no TLS session was established.
	Failed Verdict = "failed"
	// Unverified: the handshake completed, nothing is wrong with it, but
	// no server certificate was seen to verify: the handshake authenticated
	// with a pre-shared key (PSK suites, TLS 1.3 and TLS 1.2 session
	// resumption), or a capture's TLS 1.3 Certificate stayed encrypted.
	Unverified Verdict = "unverified"
	// Unknown: the connection was read from a capture that holds no end
	// of it (no FIN, RST or closing alert) and stops, or holds nothing
	// more of it, before the handshake completed, and nothing in it says
	// the handshake failed: whether a TLS session was established is not
	// in the capture ([Input.Unended]).
	Unknown Verdict = "unknown"
)

// Input is everything known about one connection attempt.
type Input struct {
	// Target is what the user asked for, e.g. "example.com:443".
	Target string
	// Transcript is the decoded conversation; it may be empty.
	Transcript *transcript.Transcript
	// DialErr is the TCP connect error, if the connection never opened.
	DialErr error
	// DialFailures are the addresses of the target's name the connection
	// was tried to in vain, in order: before the one that opened
	// ([net.fallback]), or each one tried when none did (DialErr, Go's
	// error, is the first one's alone).
	DialFailures []DialFailure
	// Address is the address the connection reached, when it opened.
	Address string
	// HandshakeErr is the TLS stack's handshake error, if any.
	HandshakeErr error
	// AfterErr is an error seen after the handshake (TLS 1.3 alerts for the
	// client's certificate arrive then).
	AfterErr error
	// Timeout is the deadline that applied, for messages.
	Timeout time.Duration
	// Verify is the chain verification result; nil when no chain was seen.
	Verify *trust.Result
	// HandshakeDone says the TLS handshake completed.
	HandshakeDone bool
	// MinVersion and MaxVersion are the TLS versions the user restricted
	// the client to (crypto/tls constants); zero means not restricted
	// (tlskit's default, TLS 1.2 to 1.3). Version findings say when the
	// user's restriction, not the server, is what failed.
	MinVersion, MaxVersion uint16
	// SecondLook is what ClientHellos of the probe's own learned after the
	// client's was refused; nil when none was sent (see [SecondLook]).
	SecondLook *SecondLook
	// Unended says the connection was read from a capture that holds no
	// end of it: no FIN, RST or closing alert of either side. The capture
	// stopped, or held no more packets of it, while it was still open.
	// A handshake not complete by then has no outcome in the capture.
	Unended bool
	// Quiet is how long the capture went on after the connection's last
	// packet, for an Unended connection (zero when the capture ends with
	// it).
	Quiet time.Duration
}

// Findings derives the findings for in, most serious first.
func Findings(in Input) []finding.Finding {
	var fs []finding.Finding
	tr := in.Transcript
	if tr == nil {
		tr = &transcript.Transcript{}
	}
	if in.DialErr != nil {
		fs = append(fs, dialFinding(in))
		return fs
	}
	if len(in.DialFailures) > 0 {
		fs = append(fs, fallbackFinding(in))
	}
	if tr.StartTLS != nil {
		sf, stop := startTLSFindings(in, tr)
		fs = append(fs, sf...)
		if stop {
			return fs
		}
	}
	fs = append(fs, protocolFindings(in, tr)...)
	if in.Verify != nil {
		fs = append(fs, in.Verify.Findings...)
	}
	finding.Sort(fs)
	return fs
}

// VerdictOf sums up findings.
func VerdictOf(in Input, fs []finding.Finding) Verdict {
	if !in.HandshakeDone && outcomeNotCaptured(in) && !hasProtocolError(fs) {
		return Unknown
	}
	if !in.HandshakeDone || in.AfterErr != nil && hasProtocolError(fs) {
		return Failed
	}
	if in.Verify == nil && finding.Worst(fs) != finding.Error {
		return Unverified
	}
	if finding.Worst(fs) == finding.Error || in.Verify == nil || !in.Verify.Trusted {
		return Untrusted
	}
	return Trusted
}

func hasProtocolError(fs []finding.Finding) bool {
	for _, f := range fs {
		if f.Severity == finding.Error && (strings.HasPrefix(f.ID, "client-cert.") || strings.HasPrefix(f.ID, "protocol.") || strings.HasPrefix(f.ID, "net.")) {
			return true
		}
	}
	return false
}

// dialFinding explains a TCP connect failure. When the target's name has
// several addresses and each was tried, Go's error is the first one's
// alone: the detail lists what became of every one.
func dialFinding(in Input) finding.Finding {
	f := connectFinding(in)
	if len(in.DialFailures) > 1 {
		f.Detail += fmt.Sprintf(" Each of the name's addresses was tried, and none took the connection: %s.", DescribeAttempts(in.DialFailures))
		first, _ := attemptOutcome(in.DialFailures[0].Err)
		for _, a := range in.DialFailures[1:] {
			if o, _ := attemptOutcome(a.Err); o != first {
				// The id is the first address's; the title must not say
				// the others failed as it did.
				f.Title = fmt.Sprintf("No address of %s took the connection, and not all failed alike", in.Target)
				break
			}
		}
	}
	return f
}

// connectFinding explains in.DialErr, Go's error for the dial.
func connectFinding(in Input) finding.Finding {
	err := in.DialErr
	var dnsErr *net.DNSError
	var nameErr *trust.ServerNameError
	switch {
	case errors.As(err, &nameErr):
		return finding.Finding{ID: finding.NameNotChecked, Severity: finding.Error,
			Title:   fmt.Sprintf("The server name %q cannot be checked: it is not a host name or an IP address", nameErr.Name),
			Detail:  fmt.Sprintf("Nothing was sent to %s: a certificate can only be verified against a host name or an IP address, and the name would go out as the server name (SNI) as it is (%v).", in.Target, err),
			Fix:     "Give the host name the certificate should be issued to (or the IP address).",
			Setting: finding.SettingServerName}
	case errors.Is(err, syscall.ECONNREFUSED):
		return finding.Finding{ID: finding.NetRefused, Severity: finding.Error,
			Title:  fmt.Sprintf("Nothing accepts connections on %s", in.Target),
			Detail: fmt.Sprintf("The TCP connection was refused (%v): the host answered with a reset, so no service listens on that port, or a firewall rejects it.", err),
			Fix:    "Check the port number and that the service is running and listening on this address (`ss -ltnp` on the server); check firewalls that reject connections."}
	case noAddressOfFamily(err) != "":
		return familyFinding(in.Target, noAddressOfFamily(err), err)
	case errors.As(err, &dnsErr):
		return dnsFinding(dnsErr, err)
	case isTimeout(err):
		return finding.Finding{ID: finding.NetTimeout, Severity: finding.Error,
			Title:   fmt.Sprintf("No TCP answer from %s within %v", in.Target, in.Timeout),
			Detail:  fmt.Sprintf("The TCP connection did not open in time (%v): packets are dropped on the way, or the host is down.", err),
			Fix:     "Check the address, that the host is up, and firewalls that silently drop packets; on a slow link, allow a longer timeout.",
			Setting: finding.SettingTimeout}
	case errors.Is(err, syscall.ECONNRESET):
		return finding.Finding{ID: finding.NetReset, Severity: finding.Error,
			Title:  fmt.Sprintf("%s reset the TCP connection", in.Target),
			Detail: err.Error(),
			Fix:    "Something on the path or the server itself resets connections; check firewalls and the server's logs."}
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return finding.Finding{ID: finding.NetUnreachable, Severity: finding.Error,
			Title:  fmt.Sprintf("%s cannot be reached", in.Target),
			Detail: err.Error(),
			Fix:    "Check the address and the routing table; the host or network is unreachable from here."}
	}
	return finding.Finding{ID: finding.NetUnreachable, Severity: finding.Error,
		Title:  fmt.Sprintf("Could not connect to %s", in.Target),
		Detail: err.Error(),
		Fix:    "Check the address and the network path."}
}

// DialFailure is one address a connection was tried to in vain.
type DialFailure struct {
	// Address is the IP address and port.
	Address string
	// Err is what the attempt ended with: a refusal, a timeout, or
	// context.Canceled when another address connected first.
	Err error
}

// TraceDial returns ctx with a trace of the connection attempts a dial
// of address made with it makes (Go's net.Dialer reports each address it
// tries, one after the other or racing IPv6 against IPv4, through the
// context: net/http/httptrace's ConnectStart and ConnectDone), and a func
// that returns, once the dial connected to connected, the attempts to
// other addresses: each failed, or had not connected when connected did
// (context.Canceled). Once the dial failed, connected is "" and the
// attempts are every one it made, each with its error. That is
// [Input.DialFailures]. An attempt that lost a race may end after the
// dial returned; the func may be called then. An address whose host is
// an IP address has one address to try: ctx is returned as it is, and
// the func returns nil (a trace costs allocations on every dial).
func TraceDial(ctx context.Context, address string) (context.Context, func(connected string) []DialFailure) {
	if host, _, err := net.SplitHostPort(address); err != nil || net.ParseIP(host) != nil {
		return ctx, func(string) []DialFailure { return nil }
	}
	type attempt struct {
		addr string
		done bool
		err  error
	}
	var mu sync.Mutex
	var list []attempt
	trace := &httptrace.ClientTrace{
		ConnectStart: func(_, addr string) {
			mu.Lock()
			list = append(list, attempt{addr: addr})
			mu.Unlock()
		},
		ConnectDone: func(_, addr string, err error) {
			mu.Lock()
			defer mu.Unlock()
			for i := len(list) - 1; i >= 0; i-- {
				if list[i].addr == addr && !list[i].done {
					list[i].done, list[i].err = true, err
					return
				}
			}
		},
	}
	return httptrace.WithClientTrace(ctx, trace), func(connected string) []DialFailure {
		mu.Lock()
		defer mu.Unlock()
		var out []DialFailure
		for _, t := range list {
			if t.addr == connected {
				continue
			}
			err := t.err
			if !t.done || err == nil {
				err = context.Canceled
			}
			out = append(out, DialFailure{Address: t.addr, Err: err})
		}
		return out
	}
}

// FallbackFinding is net.fallback for a connection to target that opened
// at address after failures (see [TraceDial]), for a caller that makes
// findings of its own (scan): check's come from [Findings].
func FallbackFinding(target, address string, failures []DialFailure) finding.Finding {
	return fallbackFinding(Input{Target: target, Address: address, DialFailures: failures})
}

// fallbackFinding says that the connection opened at another of the
// name's addresses than the first: the ones before it did not connect.
func fallbackFinding(in Input) finding.Finding {
	first := in.DialFailures[0].Address
	return finding.Finding{ID: finding.NetFallback, Severity: finding.Warning,
		Title: fmt.Sprintf("%s did not connect at %s; tlskit connected to %s instead", in.Target, first, in.Address),
		Detail: fmt.Sprintf("The name has several addresses and the first did not take the connection: %s. "+
			"tlskit went on to the next address, as Go's dialer does (racing IPv4 against IPv6 after 300 ms); a client that tries the addresses in turn waits there first, or fails.",
			DescribeAttempts(in.DialFailures)),
		Fix:     fmt.Sprintf("Make %s serve again, or take it out of DNS (an AAAA or A record left for a server that is gone, or an IPv6 route that is broken); a check over one IP version alone tests each.", first),
		Setting: finding.SettingIPVersion}
}

// DescribeAttempts says what became of each attempt, "ADDRESS WORDS; …"
// ("[::1]:443 refused the connection; 192.0.2.1:443 did not answer in
// time"), the first five of them (a name can have hundreds of
// addresses), in the words of the findings.
func DescribeAttempts(fs []DialFailure) string {
	var tried []string
	const shown = 5
	for i, f := range fs {
		if i == shown {
			tried = append(tried, fmt.Sprintf("and %d more", len(fs)-shown))
			break
		}
		_, words := attemptOutcome(f.Err)
		tried = append(tried, f.Address+" "+words)
	}
	return strings.Join(tried, "; ")
}

// attemptOutcome says how a connection attempt to one address ended: in
// a word ([Attempt]'s Outcome) and in the words of the findings.
func attemptOutcome(err error) (outcome, words string) {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused", "refused the connection"
	case errors.Is(err, context.Canceled):
		return "superseded", "had not connected when the next address, tried 300 ms after it (Happy Eyeballs), did"
	case isTimeout(err):
		return "timeout", "did not answer in time"
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		return "unreachable", "cannot be reached (no route)"
	}
	return "failed", fmt.Sprintf("failed (%v)", err)
}

// noAddressOfFamily returns "IPv4" or "IPv6" when err is a dial's on
// tcp4 or tcp6 that found no address of that version to connect to: Go's
// "no suitable address found" (an address of the other version, or a
// name whose addresses are all of it), or a lookup of the name's A or
// AAAA records alone that found none ("no such host"). "" otherwise.
func noAddressOfFamily(err error) string {
	var op *net.OpError
	var ae *net.AddrError
	var de *net.DNSError
	switch {
	case !errors.As(err, &op):
		return ""
	case errors.As(err, &ae) && ae.Err == "no suitable address found":
	case errors.As(err, &de) && de.IsNotFound:
	default:
		return ""
	}
	switch op.Net {
	case "tcp4":
		return "IPv4"
	case "tcp6":
		return "IPv6"
	}
	return ""
}

// familyFinding explains a connection asked for over one IP version only
// (family) when the target has no address of that version: an address of
// the other version, or a name without such an address (no A or AAAA
// record).
func familyFinding(target, family string, err error) finding.Finding {
	other := map[string]string{"IPv4": "IPv6", "IPv6": "IPv4"}[family]
	record := map[string]string{"IPv4": "A", "IPv6": "AAAA"}[family]
	var ae *net.AddrError
	var de *net.DNSError
	name, answer := "", ""
	switch {
	case errors.As(err, &ae):
		name = ae.Addr
		answer = fmt.Sprintf("its addresses are %s addresses", other)
	case errors.As(err, &de):
		name = de.Name
		answer = fmt.Sprintf("DNS has no %s record for it: it may have %s addresses only, or none", record, other)
	}
	if net.ParseIP(name) != nil {
		return finding.Finding{ID: finding.NetUnreachable, Severity: finding.Error,
			Title:   fmt.Sprintf("%s is an %s address, and only %s was asked for", name, other, family),
			Detail:  fmt.Sprintf("Nothing was sent to %s: the connection was to be made over %s only (%v).", target, family, err),
			Fix:     fmt.Sprintf("Connect over %s (or either version), or give an %s address.", other, family),
			Setting: finding.SettingIPVersion}
	}
	return finding.Finding{ID: finding.NetDNS, Severity: finding.Error,
		Title:   fmt.Sprintf("The name %q has no %s address", name, family),
		Detail:  fmt.Sprintf("The connection was to be made over %s only, and %s (%v); nothing was sent.", family, answer, err),
		Fix:     fmt.Sprintf("Connect over %s (or either version) if the server is meant to be reached that way; if it should be reachable over %s, give the name an %s record (`dig %s %s` shows what DNS answers).", other, family, record, record, name),
		Setting: finding.SettingIPVersion}
}

// dnsFinding explains a name that did not resolve. Go's resolver reports
// three cases apart, and each has its own fix: the name has no address
// (NXDOMAIN, or no A/AAAA record: "no such host"), the DNS servers did not
// answer in time, or a server answered with an error (SERVFAIL or
// REFUSED: "server misbehaving").
func dnsFinding(dnsErr *net.DNSError, err error) finding.Finding {
	f := finding.Finding{ID: finding.NetDNS, Severity: finding.Error, Detail: err.Error()}
	switch {
	case dnsErr.IsNotFound:
		f.Title = fmt.Sprintf("The name %q does not resolve: DNS has no address for it", dnsErr.Name)
		f.Fix = "Check the spelling of the host name and its DNS records (A, AAAA); a name known only here belongs in /etc/hosts or the local DNS server (/etc/resolv.conf)."
	case dnsErr.IsTimeout:
		f.Title = fmt.Sprintf("The DNS lookup of %q timed out", dnsErr.Name)
		f.Detail += ": no DNS server answered in time (a server that forwards the question waits for the name's own servers, which may be down)"
		f.Fix = "Check that the DNS servers in /etc/resolv.conf are reachable (UDP and TCP port 53) and answer; `dig NAME` shows which server fails."
	default:
		f.Title = fmt.Sprintf("The DNS lookup of %q failed", dnsErr.Name)
		f.Detail += ": the DNS server answered with an error (Go says \"server misbehaving\" for SERVFAIL and REFUSED)"
		f.Fix = "Check the DNS server's logs: REFUSED means it does not serve this name to this host; SERVFAIL often means DNSSEC validation failed or the name's servers are broken (`dig NAME +cd` tells the two apart)."
	}
	return f
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// facts are the landmarks of a transcript that the rules below look at.
type facts struct {
	tr            *transcript.Transcript
	clientHello   *wire.ClientHello
	serverHello   *transcript.Event
	certRequest   *transcript.Event
	clientCert    *transcript.Event // the client's Certificate message, if sent
	serverAlert   *transcript.Event // first fatal alert from the server (or warning unrecognized_name the handshake did not go past)
	clientAlert   *transcript.Event // first fatal alert from the client
	nameWarning   *transcript.Event // a warning unrecognized_name after which the server went on
	serverNotTLS  *transcript.Event
	malformed     *transcript.Event // the first record header that cannot be TLS, after valid records
	undecrypted   *transcript.Event // the first alert we could not read
	closedEarlyBy *transcript.Closure
	gap           map[transcript.Side]*transcript.Event // the first bytes each side lost from a capture
}

func gather(tr *transcript.Transcript) facts {
	f := facts{tr: tr}
	if e := tr.First(transcript.Client, "client_hello"); e != nil {
		f.clientHello, _ = e.Message.(*wire.ClientHello)
	}
	f.serverHello = tr.First(transcript.Server, "server_hello")
	f.certRequest = tr.First(transcript.Server, "certificate_request")
	f.clientCert = tr.First(transcript.Client, "certificate")
	f.serverNotTLS = tr.First(transcript.Server, transcript.TypeNotTLS)
	for i := range tr.Events {
		if e := &tr.Events[i]; e.Type == transcript.TypeMalformed {
			f.malformed = e
			break
		}
	}
	for _, a := range tr.Alerts() {
		if a.Description == "" {
			if f.undecrypted == nil {
				f.undecrypted = a
			}
			continue
		}
		if a.Level != "fatal" {
			// unrecognized_name may come as a warning (RFC 6066 §3): the
			// handshake's end when the server went no further, else a
			// warning of its own (clients differ on it).
			if a.AlertCode == 112 && a.From == transcript.Server && f.serverAlert == nil && f.nameWarning == nil {
				if serverWentOn(tr, a) {
					f.nameWarning = a
				} else {
					f.serverAlert = a
				}
			}
			continue
		}
		if a.From == transcript.Server && f.serverAlert == nil {
			f.serverAlert = a
		}
		if a.From == transcript.Client && f.clientAlert == nil {
			f.clientAlert = a
		}
	}
	f.closedEarlyBy = tr.Closed
	for i := range tr.Events {
		if e := &tr.Events[i]; e.Type == transcript.TypeGap && f.gap[e.From] == nil {
			if f.gap == nil {
				f.gap = map[transcript.Side]*transcript.Event{}
			}
			f.gap[e.From] = e
		}
	}
	return f
}

// incompleteCapture says which bytes of the connection the capture lost,
// between which messages of their sender, without guessing what they held.
func incompleteCapture(f facts) (finding.Finding, bool) {
	var parts []string
	total := 0
	for i := range f.tr.Events {
		e := &f.tr.Events[i]
		if e.Type != transcript.TypeGap {
			continue
		}
		total += e.Bytes
		where := fmt.Sprintf("%d bytes the %s sent", e.Bytes, e.From)
		if prev := f.sideEvent(e.From, i, -1); prev != nil {
			where += " after its " + prev.Type
		} else {
			where += " at its start"
		}
		if next := f.sideEvent(e.From, i, +1); next != nil {
			where += " and before its " + next.Type
		}
		parts = append(parts, where)
	}
	if total == 0 {
		return finding.Finding{}, false
	}
	return finding.Finding{ID: finding.CaptureIncomplete, Severity: finding.Warning,
		Title: fmt.Sprintf("The capture is missing %d bytes of this connection", total),
		Detail: "Not captured: " + strings.Join(parts, "; ") + ". What they held is not known: the findings rest on the records the capture holds " +
			"(a record that could not be decrypted because the bytes before it are missing is the capture's loss, not the key log's).",
		Fix: "Capture again with a larger buffer or closer to the endpoints (dumpcap -B, a capture filter), and check the capture tool's drop count."}, true
}

// outcomeNotCaptured reports whether the connection comes from a capture
// that holds no end of it: nobody closed it in the capture, so a handshake
// not complete when the capture stops may still have completed after.
func outcomeNotCaptured(in Input) bool {
	return in.Unended && (in.Transcript == nil || in.Transcript.Closed == nil)
}

// captureEndsEarly says that the capture stops before the handshake did:
// its outcome is not in the capture, and tlskit does not guess it.
func captureEndsEarly(in Input, f facts) finding.Finding {
	last := "The capture holds no record of this connection"
	if e := lastMessage(f.tr); e != nil {
		last = fmt.Sprintf("The last record the capture holds of this connection is the %s's %s", e.From, e.Type)
	}
	title := "The capture ends before the handshake did: its outcome is not in the capture"
	after := "The capture ends there"
	if in.Quiet >= time.Second {
		title = "The capture holds no more of this connection before the handshake completed: its outcome is not in the capture"
		after = fmt.Sprintf("The capture goes on for %v without another packet of this connection", in.Quiet.Round(time.Second))
	}
	return finding.Finding{ID: finding.CaptureIncomplete, Severity: finding.Warning,
		Title: title,
		Detail: fmt.Sprintf("%s, and it holds no close of either side (no FIN or RST, no close_notify or fatal alert). "+
			"%s, with the handshake not complete: whether it completed or failed after that is not in the capture, so it is not judged a failure.", last, after),
		Fix: "Capture the whole connection: start the capture before the client connects and stop it after the connection closes."}
}

// sideEvent returns the nearest event of side before (dir -1) or after
// (dir +1) index i that is a record it sent, or nil.
func (f facts) sideEvent(side transcript.Side, i, dir int) *transcript.Event {
	for j := i + dir; j >= 0 && j < len(f.tr.Events); j += dir {
		if e := &f.tr.Events[j]; e.From == side && e.Record > 0 {
			return e
		}
	}
	return nil
}

// truncatedClose warns about a connection whose side that closed it first
// sent application data and then closed the TCP connection (FIN) without a
// close_notify, while the data was still flowing (the peer had not sent a
// close_notify before that data): its peer cannot tell a complete transfer
// from one cut short (RFC 8446 §6.1, RFC 5246 §7.2.1). OpenSSL 3 (curl,
// s_client) reports "unexpected eof while reading"; a reader that relies on
// the connection's end (HTTP without a length) takes cut data as complete.
func truncatedClose(in Input, f facts) (finding.Finding, bool) {
	c := f.tr.Closed
	if !in.HandshakeDone || c == nil || c.How != transcript.CloseFIN {
		return finding.Finding{}, false
	}
	// data: the closer sent application data the peer had not answered
	// with its own close_notify (it was still reading).
	data := false
	for i := range f.tr.Events {
		e := &f.tr.Events[i]
		switch {
		case e.Type == transcript.TypeTruncated || e.Type == transcript.TypeGap:
			return finding.Finding{}, false // what followed is not known
		case e.Type == transcript.TypeAlert && e.From == c.By:
			return finding.Finding{}, false // a close_notify, a fatal alert, or one that may be either
		case e.Type == transcript.TypeAlert && e.Description == "close_notify":
			data = false // the peer was done with what came before
		case e.Type == transcript.TypeApplicationData && e.From == c.By:
			data = true
		case e.Type == transcript.TypeClose && e.From == c.By:
			if !data {
				return finding.Finding{}, false
			}
			return finding.Finding{ID: finding.ProtocolTruncated, Severity: finding.Warning,
				Title: fmt.Sprintf("The %s closed the connection without close_notify after sending data", c.By),
				Detail: fmt.Sprintf("The %s sent application data, then closed the TCP connection (FIN) without a TLS close_notify alert. "+
					"The %s cannot tell whether it received everything or the transfer was cut short (truncation, RFC 8446 §6.1): OpenSSL 3 (curl, s_client) reports \"unexpected eof while reading\", "+
					"and a reader that relies on the connection's end (HTTP without Content-Length) may take cut data as complete.", c.By, c.By.Other()),
				Fix: fmt.Sprintf("Have the %s shut TLS down before closing the socket (SSL_shutdown, tls.Conn.Close, an orderly close in its TLS library).", c.By)}, true
		}
	}
	return finding.Finding{}, false
}

// clientSentCertificates reports whether the client's Certificate message
// carried at least one certificate.
func (f facts) clientSentCertificates() bool {
	if f.clientCert == nil {
		return false
	}
	m, ok := f.clientCert.Message.(*wire.Certificate)
	return ok && len(m.Certificates()) > 0
}

// offeredVersions lists the versions the ClientHello offered, best first.
func (f facts) offeredVersions() []string {
	if f.clientHello == nil {
		return nil
	}
	var out []string
	for _, v := range f.clientHello.OfferedVersions() {
		out = append(out, v.String())
	}
	return out
}

// acceptableCAs renders the CA names of the server's CertificateRequest.
func (f facts) acceptableCAs() []string {
	if f.certRequest == nil {
		return nil
	}
	m, ok := f.certRequest.Message.(*wire.CertificateRequest)
	if !ok {
		return nil
	}
	var out []string
	for _, der := range m.CANames() {
		var rdn pkix.RDNSequence
		if rest, err := asn1.Unmarshal(der, &rdn); err != nil || len(rest) > 0 {
			out = append(out, fmt.Sprintf("(unparsable name of %d bytes)", len(der)))
			continue
		}
		var n pkix.Name
		n.FillFromRDNSequence(&rdn)
		out = append(out, n.String())
	}
	return out
}

// clientCertSummary names the client certificate that was sent.
func (f facts) clientCertSummary() string {
	if f.clientCert == nil {
		return ""
	}
	m, ok := f.clientCert.Message.(*wire.Certificate)
	if !ok || len(m.Certificates()) == 0 {
		return ""
	}
	c, err := x509.ParseCertificate(m.Certificates()[0])
	if err != nil {
		return "an unparsable certificate"
	}
	return fmt.Sprintf("%q issued by %q", dn.String(c.RawSubject), dn.String(c.RawIssuer))
}

func protocolFindings(in Input, tr *transcript.Transcript) []finding.Finding {
	f := gather(tr)
	var out []finding.Finding

	if e := f.serverNotTLS; e != nil {
		out = append(out, notTLS(in, e))
		return out
	}

	if e := f.malformed; e != nil && (f.serverAlert == nil || f.tr.Index(f.serverAlert) > f.tr.Index(e)) {
		// The alerts that follow (the client's protocol_version or
		// record_overflow) are about this record, not about versions.
		out = append(out, malformedRecord(in, f, e))
	} else if a := f.serverAlert; a != nil {
		if x, ok := serverAlertFinding(in, f, a); ok {
			out = append(out, x)
		}
	} else if a := f.clientAlert; a != nil && !in.HandshakeDone {
		out = append(out, clientAlertFinding(in, f, a))
	} else if !in.HandshakeDone && outcomeNotCaptured(in) {
		out = append(out, captureEndsEarly(in, f))
	} else if !in.HandshakeDone {
		out = append(out, silentFailure(in, f))
	}

	if f.certRequest != nil && in.HandshakeDone && in.AfterErr == nil && f.serverAlert == nil {
		cas := f.acceptableCAs()
		if !f.clientSentCertificates() && (f.clientCert != nil || f.gap[transcript.Client] == nil) {
			out = append(out, finding.Finding{ID: finding.ClientCertRequested, Severity: finding.Info,
				Title:    "The server asked for a client certificate but did not insist",
				Detail:   "The server sent a CertificateRequest; the client sent no certificate and the server carried on." + caSentence(cas),
				Fix:      "Nothing to fix unless you expected mutual TLS; to present one, configure a client certificate and its key.",
				Setting:  finding.SettingClientCert,
				Evidence: cas})
		}
	}
	if a := f.nameWarning; a != nil && f.serverAlert == nil {
		out = append(out, nameWarning(f, a))
	}
	if x, ok := incompleteCapture(f); ok {
		out = append(out, x)
	}
	if x, ok := truncatedClose(in, f); ok {
		out = append(out, x)
	}
	if a := f.undecrypted; a != nil && len(out) == 0 {
		out = append(out, unreadAlert(a))
	}
	return append(out, legacyFindings(in, tr)...)
}

// serverWentOn reports whether the server sent a handshake message after
// alert a.
func serverWentOn(tr *transcript.Transcript, a *transcript.Event) bool {
	for i := tr.Index(a) + 1; i >= 1 && i < len(tr.Events); i++ {
		if e := &tr.Events[i]; e.From == transcript.Server && e.Message != nil {
			return true
		}
	}
	return false
}

// nameWarning is a warning unrecognized_name after which the server went
// on with its handshake: what OpenSSL's SNI callback sends when it
// returns SSL_TLSEXT_ERR_ALERT_WARNING (s_server -servername without
// -servername_fatal). The server has no site for the name and answered
// from another; RFC 6066 §3 recommends against sending the alert, as
// clients react to it unpredictably: OpenSSL, GnuTLS, Go and browsers
// go on, Java's JSSE has aborted on it ("handshake alert:
// unrecognized_name").
func nameWarning(f facts, a *transcript.Event) finding.Finding {
	name := ""
	if f.clientHello != nil {
		name = f.clientHello.ServerName()
	}
	return NameWarning(name, alertPosition(f, a))
}

// NameWarning is the warning for a server that sent a warning
// unrecognized_name (112) where (as alertPosition words it: "right after
// the client's client_hello") and went on with the handshake; name is the
// server name the client sent ("" for none). Check and scan both give it.
func NameWarning(name, where string) finding.Finding {
	sni := "no server name (SNI)"
	if name != "" {
		sni = fmt.Sprintf("the server name %q", name)
	}
	return finding.Finding{ID: finding.SNIUnrecognizedName, Severity: finding.Warning,
		Title: "The server warned that it does not recognize the name the client asked for, and went on",
		Detail: fmt.Sprintf("The server sent alert warning unrecognized_name (112) %s, then went on with the handshake: it has no site configured for %s and answered as another (its default), with that site's certificate. "+
			"RFC 6066 §3 recommends against sending this warning because clients react to it unpredictably: OpenSSL, GnuTLS, Go and browsers go on, Java's JSSE has aborted the handshake on it (\"handshake alert: unrecognized_name\").",
			where, sni),
		Fix:     "Configure the name as one of the server's sites (virtual hosts), with a certificate for it; or, if the client should use another name, send that one as the server name (SNI).",
		Setting: finding.SettingServerName}
}

// unreadAlert says that an alert stayed encrypted, and why, as the decoder
// found it: no key log, a capture without the hellos a key log entry is
// found and used by, or a key log without this connection's secret.
func unreadAlert(a *transcript.Event) finding.Finding {
	why := a.Note
	if err := a.Unread(); err != nil {
		why = err.Error()
	}
	why = strings.TrimPrefix(why, "encrypted; ")
	fd := finding.Finding{ID: finding.ProtocolAlert, Severity: finding.Warning,
		Title:  "An encrypted alert could not be read",
		Detail: fmt.Sprintf("The %s sent an alert after encryption started; it stayed encrypted: %s.", a.From, strings.TrimSuffix(why, ".")),
	}
	err := a.Unread()
	switch {
	case errors.Is(err, transcript.ErrNoKeyLog):
		fd.Fix = "Give tlskit the key log of this connection (the client's SSLKEYLOGFILE) so that it can decrypt it."
		fd.Setting = finding.SettingKeyLog
	case errors.Is(err, transcript.ErrNoClientHello), errors.Is(err, transcript.ErrNoServerHello):
		fd.Fix = "No key log can open it from this capture: capture the connection from its start (before the client connects), so that its hellos are in the capture, with the client's key log."
	default:
		fd.Fix = "Give tlskit the key log written by this connection's client (its SSLKEYLOGFILE), which holds the secret the detail names."
		fd.Setting = finding.SettingKeyLog
	}
	return fd
}

func caSentence(cas []string) string {
	if len(cas) == 0 {
		return " It named no acceptable CAs (any issuer may do)."
	}
	return fmt.Sprintf(" It accepts certificates issued by: %s.", strings.Join(cas, "; "))
}

func notTLS(in Input, e *transcript.Event) finding.Finding {
	proto, _ := e.Field("protocol")
	excerpt, _ := e.Field("excerpt")
	what := "something that is not TLS"
	fix := "Check the port: it does not serve TLS. Use the TLS port of the service."
	switch proto {
	case "HTTP":
		what = "plain HTTP"
		fix = "This port serves plain HTTP. Use the HTTPS port (usually 443), or http:// instead of https://."
	case "SSH":
		what = "SSH"
		fix = "This port is an SSH server (usually 22). Use the TLS port of the service you meant."
	case "SMTP", "POP3", "IMAP", "FTP":
		what = proto + " in plaintext"
		fix = fmt.Sprintf("This port speaks %s in plaintext and upgrades with STARTTLS, or you want the implicit-TLS port (465 for SMTP, 993 IMAP, 995 POP3, 990 FTP).", proto)
	case "POP3 or Redis":
		what = "a plaintext \"-ERR\" reply (POP3 or Redis: both answer so)"
		fix = "This port speaks POP3 or Redis in plaintext. For POP3 use STARTTLS (STLS) or the implicit-TLS port 995; for Redis the TLS port configured with tls-port."
	case "":
	default:
		what = proto
	}
	setting := ""
	if hint := startTLSPortHint(in.Target); hint != "" && in.Transcript != nil && in.Transcript.StartTLS == nil {
		fix, setting = hint, finding.SettingStartTLS
	}
	if hint := implicitPortHint(in.Target, what); hint != "" && in.Transcript != nil && in.Transcript.StartTLS == nil {
		fix, setting = hint, finding.SettingStartTLS
	}
	detail := fmt.Sprintf("After our ClientHello the server answered with %s.", what)
	if excerpt != "" {
		detail += fmt.Sprintf(" It sent: %q", excerpt)
	}
	return finding.Finding{ID: finding.ProtocolNotTLS, Severity: finding.Error,
		Title:  fmt.Sprintf("%s does not speak TLS: it answered with %s", in.Target, what),
		Detail: detail, Fix: fix, Setting: setting}
}

// serverAlertFinding interprets the server's fatal alert in context.
func serverAlertFinding(in Input, f facts, a *transcript.Event) (finding.Finding, bool) {
	where := alertPosition(f, a)
	enc := ""
	if a.Encrypted {
		enc = " (encrypted; decrypted with the connection's secrets)"
	}
	evidence := fmt.Sprintf("The server sent alert %s %s (%d)%s %s.", a.Level, a.Description, a.AlertCode, enc, where)
	if aboutClientCert(f, a) {
		// The transcript proves it, whatever the alert: the server asked
		// for a certificate, saw the client's answer, and ended the
		// handshake. Stacks differ in the alert they send for this.
		if f.clientSentCertificates() {
			return clientCertRejected(f, evidence, a), true
		}
		return clientCertRequired(f, evidence), true
	}
	if a.AlertCode != 112 && a.AlertCode != 120 && f.certRequest == nil && !in.HandshakeDone {
		x, ok, note := secondLookFinding(in, f, evidence)
		if ok {
			return x, true
		}
		evidence += note
	}
	if f.tr != nil && FailedAfterHello(f.tr) {
		evidence += " The server had accepted the client's hello (it answered with a ServerHello) and the client had sent nothing since: the server failed on its own side, not on anything the client offered."
	}
	switch a.AlertCode {
	case 70: // protocol_version
		return versionMismatch(in, f, evidence, in.SecondLook.choice()), true
	case 112: // unrecognized_name
		sni := "no server name (SNI)"
		if f.clientHello != nil && f.clientHello.ServerName() != "" {
			sni = fmt.Sprintf("the server name %q", f.clientHello.ServerName())
		}
		return finding.Finding{ID: finding.SNIUnrecognizedName, Severity: finding.Error,
			Title:   "The server does not serve the name the client asked for",
			Detail:  fmt.Sprintf("%s The client sent %s.", evidence, sni),
			Fix:     "Send the name the server is configured for as the server name (SNI), or add this name to the server's virtual hosts and certificates.",
			Setting: finding.SettingServerName}, true
	case 116: // certificate_required
		return clientCertRequired(f, evidence), true
	case 40, 71, 42, 43, 44, 45, 46, 48, 49: // handshake_failure, insufficient_security, certificate problems, access_denied
		if f.certRequest != nil {
			if f.clientSentCertificates() {
				return clientCertRejected(f, evidence, a), true
			}
			if f.clientCert != nil || a.AlertCode == 40 || a.AlertCode == 42 {
				return clientCertRequired(f, evidence), true
			}
		}
		if f.serverHello == nil && (a.AlertCode == 40 || a.AlertCode == 71) {
			fd := noSharedCipher(f, evidence)
			if c := in.SecondLook.choice(); in.SecondLook != nil && in.SecondLook.Transcript != nil && !c.answered && c.alert != nil &&
				!slices.ContainsFunc(in.SecondLook.Versions, func(v VersionTry) bool { return v.Accepted }) {
				// The widest hello was refused too: not a suite this
				// client lacks, but nothing the server can use at all.
				fd.Title = "The server refuses every ClientHello: nothing a client can offer is acceptable to it, as it is configured now"
				fd.Fix = NothingUsableFix
				noName(f, &fd)
			}
			if in.SecondLook == nil && f.clientHello != nil && f.clientHello.HasKeyShare(wire.GroupX25519MLKEM768) {
				// A capture, or no time for a second look: the hello's
				// size is the other usual suspect, and nothing here can
				// tell which.
				fd.Detail += fmt.Sprintf(" The client's hello is %d bytes, with a hybrid post-quantum key share (X25519MLKEM768): servers and middleboxes that mishandle large hellos (tldr.fail) refuse it the same way; a live `tlskit check` of the server tells the two apart.", f.clientHello.Len())
			}
			return fd, true
		}
	}
	if a.AlertCode == 120 && f.clientHello != nil {
		if alpn := f.clientHello.ALPN(); len(alpn) > 0 {
			evidence += fmt.Sprintf(" The client offered %s.", strings.Join(alpn, ", "))
		} else {
			evidence += " The client offered no application protocol: the server requires one (RFC 7301)."
		}
	}
	fd := finding.Finding{ID: finding.ProtocolAlert, Severity: finding.Error,
		Title:   fmt.Sprintf("The server ended the handshake with alert %s", a.Description),
		Detail:  evidence + errSentence(in.HandshakeErr),
		Fix:     alertFix(a.AlertCode),
		Setting: alertSetting(a.AlertCode)}
	if a.AlertCode == 80 && (in.SecondLook == nil || in.SecondLook.Padded != nil && !in.SecondLook.Padded.Answered) {
		noName(f, &fd) // every hello refused, or only the client's seen
	}
	return fd, true
}

// noName adds to a refusal of every hello, when the client sent no server
// name (SNI, as for an IP address), that a server hosting names refuses a
// hello without one, and points its fix at the name.
func noName(f facts, fd *finding.Finding) {
	if f.clientHello == nil || f.clientHello.ServerName() != "" {
		return
	}
	fd.Detail += " The client sent no server name (SNI), as for an IP address: a server that hosts names (virtual hosts, a CDN; Go servers such as Caddy and Traefik) refuses a hello without one."
	fd.Fix = "If the server hosts names, connect with the name its certificate is for as the server name (SNI). " + fd.Fix
	fd.Setting = finding.SettingServerName
}

func orNone(s string) string {
	if s == "" {
		return "nothing readable"
	}
	return s
}

func errSentence(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprintf(" The TLS stack said: %v.", err)
}

// alertPosition says after which message an alert came, e.g. "right after
// the ClientHello".
func alertPosition(f facts, a *transcript.Event) string {
	i := f.tr.Index(a)
	for j := i - 1; j >= 0; j-- {
		e := f.tr.Events[j]
		if e.Type == transcript.TypeClose || e.Type == transcript.TypeChangeCipherSpec ||
			e.Type == transcript.TypeAlert && e.Description == "close_notify" {
			continue // not what the alert answers
		}
		if e.From == a.From {
			return fmt.Sprintf("after its own %s", e.Type)
		}
		return fmt.Sprintf("right after the %s's %s", e.From, e.Type)
	}
	return "before anything else"
}

// aboutClientCert reports whether the server's fatal alert a answers the
// client's certificate: the server sent a CertificateRequest, the client
// answered with its Certificate message (empty or not), and the alert came
// after it. Alerts about records, versions, names and ALPN are not.
func aboutClientCert(f facts, a *transcript.Event) bool {
	if f.certRequest == nil || f.clientCert == nil || f.tr.Index(a) < f.tr.Index(f.clientCert) {
		return false
	}
	switch a.AlertCode {
	case 0, 20, 21, 22, 70, 90, 100, 112, 120: // close_notify, bad_record_mac, decryption_failed, record_overflow, protocol_version, user_canceled, no_renegotiation, unrecognized_name, no_application_protocol
		return false
	}
	return true
}

// alertVaries says, for an alert that is not the usual one, that what
// proves a client-certificate failure is the transcript, not the alert.
func alertVaries(a *transcript.Event) string {
	switch a.AlertCode {
	case 40, 42, 116:
		return ""
	}
	return fmt.Sprintf(" This server reports it with %s; stacks differ (for a missing certificate OpenSSL and Go send handshake_failure in TLS 1.2, GnuTLS decode_error, and all three certificate_required in TLS 1.3): the CertificateRequest and the client's answer before the alert are what show the cause.", a.Description)
}

func clientCertRequired(f facts, evidence string) finding.Finding {
	cas := f.acceptableCAs()
	sent := "The client sent an empty Certificate message: it had no certificate to give."
	switch {
	case f.clientCert == nil && f.gap[transcript.Client] != nil:
		// Never say what lost bytes would have said.
		sent = fmt.Sprintf("The client's Certificate message is not in the capture (%d bytes from the client are missing), so whether it sent one is not known.", f.gap[transcript.Client].Bytes)
	case f.clientCert == nil:
		sent = "The client sent no certificate."
	}
	if a := f.serverAlert; a != nil && aboutClientCert(f, a) {
		evidence += alertVaries(a)
	}
	detail := fmt.Sprintf("The server asked for a client certificate (CertificateRequest). %s %s%s", sent, evidence, caSentence(cas))
	return finding.Finding{ID: finding.ClientCertRequired, Severity: finding.Error,
		Title:    "The server requires a client certificate and none was sent",
		Detail:   detail,
		Fix:      "Present a client certificate issued by one of the acceptable CAs, with its key (in Go code: tls.Config.Certificates or GetClientCertificate).",
		Setting:  finding.SettingClientCert,
		Evidence: cas}
}

func clientCertRejected(f facts, evidence string, a *transcript.Event) finding.Finding {
	cas := f.acceptableCAs()
	detail := fmt.Sprintf("The server asked for a client certificate (CertificateRequest) and the client sent %s. %s%s%s", f.clientCertSummary(), evidence, alertVaries(a), caSentence(cas))
	fix := "Use a client certificate issued by a CA the server trusts (see the acceptable CAs), valid now, with the clientAuth extended key usage, and its full chain."
	if a.AlertCode == 45 {
		fix = "The client certificate has expired: renew it."
	}
	return finding.Finding{ID: finding.ClientCertRejected, Severity: finding.Error,
		Title:    "The server rejected the client certificate",
		Detail:   detail,
		Fix:      fix,
		Evidence: cas}
}

// FailedAfterHello reports whether the server accepted the client's hello
// (a ServerHello, not a HelloRetryRequest) and then sent a fatal alert
// before the client said anything more: the server failed on its own side
// (OpenSSL sends internal_error when its CertificateRequest's CA list is
// too long for one message), and nothing in the client's offer explains
// it.
func FailedAfterHello(tr *transcript.Transcript) bool {
	accepted := false
	for i := range tr.Events {
		e := &tr.Events[i]
		switch {
		case e.From == transcript.Server && e.Type == "server_hello":
			accepted = true
		case !accepted:
		case e.From == transcript.Client && e.Type != transcript.TypeClose:
			return false
		case e.From == transcript.Server && e.Type == transcript.TypeAlert && e.Level == "fatal":
			return true
		}
	}
	return false
}

// NothingUsableFix is the fix of protocol.no-shared-cipher when the server
// refuses even a hello that offers every suite, group and signature
// scheme: the server, not the client, lacks something to negotiate with.
const NothingUsableFix = "The server has nothing it can negotiate with: its cipher list, signature algorithms or security level exclude its own certificate (an RSA certificate with only ECDSA suites, or the reverse), or it has no certificate for this name. Its logs say which (OpenSSL logs \"no shared cipher\"); `openssl ciphers -v` on the server lists the suites it allows."

func noSharedCipher(f facts, evidence string) finding.Finding {
	detail := evidence + " The server answered the ClientHello with an alert and no ServerHello, so it found nothing acceptable in it: usually no common cipher suite (or no common group or signature algorithm)."
	var ev []string
	if ch := f.clientHello; ch != nil {
		var names []string
		for _, s := range ch.CipherSuites {
			if !s.IsGREASE() {
				names = append(names, s.String())
			}
		}
		detail += fmt.Sprintf(" The client offered %d cipher suites.", len(names))
		ev = names
	}
	return finding.Finding{ID: finding.ProtocolNoSharedCipher, Severity: finding.Error,
		Title:    "The server found nothing acceptable in the client's hello: usually no cipher suite in common",
		Detail:   detail,
		Fix:      "Enable modern suites on the server (TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305, and TLS 1.3). `openssl ciphers -v` on the server lists what it allows.",
		Evidence: ev}
}

// alertSetting is the client setting an alert's fix is about, if any.
func alertSetting(code int) string {
	if code == 120 {
		return finding.SettingALPN
	}
	return ""
}

func alertFix(code int) string {
	switch code {
	case 47, 50, 51:
		return "The server could not process the handshake; check its logs for the exact cause."
	case 80:
		return "The server hit an internal error; its logs say why (often a missing or unreadable certificate or key for this name; for a server that asks for client certificates, a list of accepted client CAs too long for its CertificateRequest, which holds at most 64 KiB of names: OpenSSL fails with internal_error)."
	case 120:
		return "The server supports none of the offered application protocols (ALPN); offer one it speaks (`tlskit scan` lists those it selects)."
	}
	return "Check the server's logs for why it sent this alert."
}

// malformedRecord explains a record header that cannot be TLS where it
// came, naming its bytes.
func malformedRecord(in Input, f facts, e *transcript.Event) finding.Finding {
	header, _ := e.Field("header")
	why, _ := e.Field("reason")
	where := "before any valid record"
	for j := f.tr.Index(e) - 1; j >= 0; j-- {
		if p := f.tr.Events[j]; p.From == e.From && p.Type != transcript.TypeClose {
			where = fmt.Sprintf("after its %s", p.Type)
			break
		}
	}
	detail := fmt.Sprintf("%s, the %s sent a record whose header is %s: %s.", finding.Capitalize(where), e.From, header, why)
	if a := f.clientAlert; a != nil && e.From == transcript.Server && f.tr.Index(a) > f.tr.Index(e) {
		detail += fmt.Sprintf(" The client then stopped with alert %s (%d): that alert is about this record", a.Description, a.AlertCode)
		if a.AlertCode == 70 {
			detail += fmt.Sprintf(", not about the versions offered (the client offered %s", orNone(strings.Join(f.offeredVersions(), ", ")))
			if sh := serverHello(f); sh != nil {
				detail += fmt.Sprintf("; the server chose %s", sh.SelectedVersion())
			}
			detail += ")"
		}
		detail += "."
	}
	detail += errSentence(in.HandshakeErr)
	return finding.Finding{ID: finding.ProtocolMalformed, Severity: finding.Error,
		Title:  fmt.Sprintf("The %s sent a record that cannot be TLS %s (header %s)", e.From, where, header),
		Detail: detail,
		Fix:    fmt.Sprintf("The %s's TLS stream is corrupted after valid records: check its TLS library, and anything on the path that rewrites the connection (a proxy, load balancer or middlebox); a capture (tlskit pcap) shows the bytes.", e.From)}
}

// serverHello returns the parsed ServerHello, if one was seen.
func serverHello(f facts) *wire.ServerHello {
	if f.serverHello == nil {
		return nil
	}
	sh, _ := f.serverHello.Message.(*wire.ServerHello)
	return sh
}

// clientAlertFinding explains a handshake the client (tlskit's TLS stack)
// aborted.
func clientAlertFinding(in Input, f facts, a *transcript.Event) finding.Finding {
	evidence := fmt.Sprintf("The client sent alert %s %s (%d) %s.%s", a.Level, a.Description, a.AlertCode, alertPosition(f, a), errSentence(in.HandshakeErr))
	if f.certRequest == nil {
		x, ok, note := secondLookFinding(in, f, evidence)
		if ok {
			return x
		}
		evidence += note
	}
	if a.AlertCode == 70 {
		chosen := ""
		if sh := serverHello(f); sh != nil {
			chosen = sh.SelectedVersion().String()
			if slices.Contains(f.offeredVersions(), chosen) {
				// The server chose a version the client offered: the
				// client's protocol_version is about a later record.
				return finding.Finding{ID: finding.ProtocolMalformed, Severity: finding.Error,
					Title:  "The client refused a record from the server after a ServerHello it accepted",
					Detail: fmt.Sprintf("%s The server chose %s, which the client offered (%s), so this is not a version mismatch: a later record carried a version the client does not accept.", evidence, chosen, strings.Join(f.offeredVersions(), ", ")),
					Fix:    "The server's TLS stream is corrupted after its ServerHello: check its TLS library and anything on the path that rewrites the connection; a capture (tlskit pcap) shows the bytes."}
			}
		}
		c := in.SecondLook.choice()
		if !c.answered {
			if sh := serverHello(f); sh != nil {
				c = choice{answered: true, version: sh.SelectedVersion()}
			}
		}
		x := versionMismatch(in, f, evidence, c)
		x.Title = fmt.Sprintf("The server chose %s, which the client does not accept", orNone(chosen))
		return x
	}
	if a.AlertCode == 40 && f.serverHello != nil {
		if sh, ok := f.serverHello.Message.(*wire.ServerHello); ok && f.clientHello != nil && !f.clientHello.OffersCipherSuite(sh.CipherSuite) {
			return noSharedCipher(f, evidence)
		}
	}
	return finding.Finding{ID: finding.ProtocolAlert, Severity: finding.Error,
		Title:  fmt.Sprintf("The client aborted the handshake with alert %s", a.Description),
		Detail: evidence,
		Fix:    "The server sent something the client cannot accept; the detail says what."}
}

// silentFailure explains a handshake that ended without any alert: the peer
// closed, reset or went quiet.
func silentFailure(in Input, f facts) finding.Finding {
	err := in.HandshakeErr
	c := f.closedEarlyBy
	stage, first := closeStage(f)
	note := ""
	if f.certRequest == nil && f.serverHello == nil && c != nil && (c.How == transcript.CloseFIN || c.How == transcript.CloseRST) {
		how := map[transcript.CloseHow]string{transcript.CloseFIN: "closed the connection (FIN)", transcript.CloseRST: "reset the connection"}[c.How]
		evidence := fmt.Sprintf("The server %s %s without an alert.%s", how, stage, errSentence(err))
		x, ok, n := secondLookFinding(in, f, evidence)
		if ok {
			return x
		}
		note = n
	}
	switch {
	case c != nil && c.How == transcript.CloseRST, err != nil && errors.Is(err, syscall.ECONNRESET):
		return finding.Finding{ID: finding.NetReset, Severity: finding.Error,
			Title:  "The server reset the connection during the handshake",
			Detail: fmt.Sprintf("The TCP connection was reset %s%s, without a TLS alert.%s%s", stage, midRecord(f), errSentence(err), note),
			Fix:    "A firewall or the server drops this handshake; check the server's logs, its TLS configuration for this name (SNI), and middleboxes on the path."}
	case c != nil && c.How == transcript.CloseTimeout, err != nil && isTimeout(err):
		if u := unfinishedRecord(f, transcript.Server); u != nil && u.RecordLen > 0 {
			return stalledMidRecord(in, f, u, stage)
		}
		return finding.Finding{ID: finding.NetTimeout, Severity: finding.Error,
			Title:   fmt.Sprintf("The server did not answer the handshake within %v", in.Timeout),
			Detail:  fmt.Sprintf("The TCP connection opened, but the server sent nothing %s.%s", stage, errSentence(err)),
			Fix:     "The service on this port accepts connections but does not answer TLS: check that it is a TLS port and that the server is not overloaded, or allow a longer timeout.",
			Setting: finding.SettingTimeout}
	case c != nil && c.How == transcript.CloseFIN && c.By == transcript.Server && first:
		// It closed before reading anything: not an answer to the
		// ClientHello, whatever came after.
		return finding.Finding{ID: finding.ProtocolAlert, Severity: finding.Error,
			Title:  "The server closed the connection before the handshake began, without saying why",
			Detail: fmt.Sprintf("The server closed the TCP connection (FIN) before any message was sent (%s), and sent no alert%s.%s%s", stage, afterClose(f), errSentence(err), note),
			Fix:    "The server closes connections as soon as it accepts them, so nothing the client sends is the cause: check the server's logs; common causes are a connection limit or an access rule, or a server whose TLS setup failed (its certificate or key could not be loaded) or that is stopping."}
	case c != nil && c.How == transcript.CloseFIN && c.By == transcript.Server:
		return finding.Finding{ID: finding.ProtocolAlert, Severity: finding.Error,
			Title:  "The server closed the connection during the handshake without saying why",
			Detail: fmt.Sprintf("The server closed the TCP connection (FIN) %s%s and sent no alert%s.%s%s", stage, midRecord(f), afterClose(f), errSentence(err), note),
			Fix:    "Check the server's logs; common causes are an unknown server name (SNI), no common protocol version, or a server that expects another protocol on this port."}
	}
	detail := "The handshake did not complete."
	if err != nil {
		detail = fmt.Sprintf("The handshake did not complete: %v.", err)
	}
	return finding.Finding{ID: finding.ProtocolMalformed, Severity: finding.Error,
		Title: "The handshake failed", Detail: detail,
		Fix: "See the transcript for the last message exchanged."}
}

// closeStage says where the first close of the connection came among the
// messages: "after the client's client_hello", or, when it came before
// any, "before the client's client_hello" (the messages sent after it are
// not what it answers). first reports the second case. Without a close it
// is after the last message.
func closeStage(f facts) (stage string, first bool) {
	at := len(f.tr.Events)
	if c := f.closedEarlyBy; c != nil {
		for i := range f.tr.Events {
			if e := &f.tr.Events[i]; e.Type == transcript.TypeClose && e.From == c.By {
				at = i
				break
			}
		}
	}
	for j := at - 1; j >= 0; j-- {
		if e := &f.tr.Events[j]; e.Type != transcript.TypeClose && e.Type != transcript.TypeUnfinished {
			return fmt.Sprintf("after the %s's %s", e.From, e.Type), false
		}
	}
	for j := at + 1; j < len(f.tr.Events); j++ {
		if e := &f.tr.Events[j]; e.Type != transcript.TypeClose {
			return fmt.Sprintf("before the %s's %s", e.From, e.Type), true
		}
	}
	return "before any message", true
}

// unfinishedRecord is the record side began and did not finish before
// the connection ended, if any.
func unfinishedRecord(f facts, side transcript.Side) *transcript.Event {
	for i := range f.tr.Events {
		if e := &f.tr.Events[i]; e.Type == transcript.TypeUnfinished && e.From == side {
			return e
		}
	}
	return nil
}

// midRecord says that the server's bytes stopped inside a record: " in
// the middle of a record (1034 of its 1345 bytes had come)".
func midRecord(f facts) string {
	u := unfinishedRecord(f, transcript.Server)
	if u == nil || u.RecordLen == 0 {
		return ""
	}
	return fmt.Sprintf(" in the middle of a record (%d of its %d bytes had come)", u.Bytes, u.RecordLen)
}

// stalledMidRecord is net.timeout for a server whose flight stopped inside
// a record: the first bytes of a large record came and the rest did not,
// which is what a path that drops large packets shows (a path MTU black
// hole), not a server that does not answer.
func stalledMidRecord(in Input, f facts, u *transcript.Event, stage string) finding.Finding {
	what := ""
	if ct, ok := u.Field("content_type"); ok {
		what = " (" + ct + ")"
	}
	return finding.Finding{ID: finding.NetTimeout, Severity: finding.Error,
		Title: fmt.Sprintf("The server's handshake stopped in the middle of a record: %d of its %d bytes came, the rest not within %v", u.Bytes, u.RecordLen, in.Timeout),
		Detail: fmt.Sprintf("%s, the server began a record of %d bytes%s, of which %d came; nothing more came before the deadline.%s "+
			"A handshake that stops inside a record, after the first small messages came, is what a path that drops large packets does: the server's certificates fill full-size TCP segments, and a link with a smaller MTU (a VPN, a tunnel, an overlay network) drops them when the ICMP \"fragmentation needed\" messages that would make the server send smaller ones are blocked (a path MTU black hole). A server, or a proxy in front of it, that stalled while writing looks the same from here.",
			finding.Capitalize(stage), u.RecordLen, what, u.Bytes, errSentence(in.HandshakeErr)),
		Fix: "Find the path's MTU (ping -M do -s 1472 HOST, lowering the size until replies come: the MTU is the size plus 28) and lower the MTU of the tunnel's interface, or clamp the TCP MSS where the path narrows (iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu). From a host on the server's own network the handshake completes if the path is the cause; a capture at both ends (tlskit pcap) shows where the bytes stop."}
}

// afterClose says what the closer did after its FIN, among the messages
// that followed: "; then, after the client's client_hello, it reset the
// connection (RST)".
func afterClose(f facts) string {
	c := f.closedEarlyBy
	if c == nil || c.How != transcript.CloseFIN {
		return ""
	}
	seen := false
	for i := range f.tr.Events {
		e := &f.tr.Events[i]
		if e.Type != transcript.TypeClose || e.From != c.By {
			continue
		}
		if !seen {
			seen = true
			continue
		}
		if e.How() != transcript.CloseRST {
			continue
		}
		for j := i - 1; j >= 0; j-- {
			if p := &f.tr.Events[j]; p.Type != transcript.TypeClose {
				if p.From == c.By {
					return fmt.Sprintf("; then, after its own %s, it reset the connection (RST)", p.Type)
				}
				return fmt.Sprintf("; then, after the %s's %s, it reset the connection (RST)", p.From, p.Type)
			}
		}
		return "; then it reset the connection (RST)"
	}
	return ""
}

func lastMessage(tr *transcript.Transcript) *transcript.Event {
	for i := len(tr.Events) - 1; i >= 0; i-- {
		if e := &tr.Events[i]; e.Type != transcript.TypeClose {
			return e
		}
	}
	return nil
}
