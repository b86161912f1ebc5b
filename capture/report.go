package capture

import (
	"fmt"
	"net"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/transcript"
)

// analysed is a connection's report and whether secrets matched it.
type analysed struct {
	*Connection
	keyed bool
}

// isTLS reports whether any TLS record was decoded from either side, or
// the client asked for an in-band upgrade to TLS (STARTTLS).
func isTLS(tr *transcript.Transcript) bool {
	if tr.StartTLS != nil {
		return true
	}
	for i := range tr.Events {
		if tr.Events[i].Record > 0 {
			return true
		}
	}
	return false
}

// analyse runs the findings engine over an ended connection, exactly as
// `tlskit check` does for a live one.
func (c *conn) analyse(a *analyzer, tr *transcript.Transcript) analysed {
	tr.Problems = append(tr.Problems, c.problems...)
	if (c.halves[0].midstream || c.halves[1].midstream) && tr.First(transcript.Client, "client_hello") == nil {
		tr.Problems = append(tr.Problems, "the capture does not hold the start of this connection (no SYN, no ClientHello): the handshake, chain and secrets lookup are not available")
	}
	in := diagnose.Input{Target: c.id.Server, Transcript: tr, HandshakeDone: handshakeDone(tr)}
	if tr.Closed == nil {
		// Nobody closed it in the capture: it stops, or holds no more of
		// the connection, while the connection is open.
		in.Unended, in.Quiet = true, a.now.Sub(c.last)
	}
	if in.HandshakeDone {
		if e := tr.FirstFatalAlert(transcript.Server); e != nil {
			in.AfterErr = fmt.Errorf("the server sent alert %s %s after the handshake", e.Level, e.Description)
		}
	}
	at := c.first
	if e := tr.First(transcript.Server, "certificate"); e != nil && !e.Time.IsZero() {
		at = e.Time
	}
	if a.opts.Time != nil {
		at = a.opts.Time()
	}
	// The name the client verified: its SNI, or, without one, the address
	// it connected to (clients send SNI for every host name; one that
	// connects to an IP address sends none), as trust.ServerName decides
	// for a live check. --servername overrides both.
	name, nameNote := tr.ServerName, ""
	switch {
	case a.opts.ServerName != "":
		name = a.opts.ServerName
	case name == "" && tr.First(transcript.Client, "client_hello") != nil:
		if host, _, err := net.SplitHostPort(c.id.Server); err == nil {
			name = host
			nameNote = fmt.Sprintf("The ClientHello carried no SNI, so the client is taken to have connected to the address %s (give the server name it used, if it used another).", host)
		}
	}
	transport := "tcp"
	if c.udp {
		transport = "udp"
	}
	rep := &Connection{Index: c.id.Index, Transport: transport, Client: c.id.Client, Server: c.id.Server, First: c.first, Last: c.last, ClosedBy: tr.Closed}
	rep.Report = *diagnose.Analyze(diagnose.Analysis{Input: in, Verifier: a.opts.Verifier, ServerName: name, NameNote: nameNote, Time: at})
	rep.Address, rep.Started = c.id.Server, c.first
	rep.DurationMS = float64(c.last.Sub(c.first).Microseconds()) / 1000
	if len(rep.Chain) > 0 {
		rep.VerifiedAt = at
	}
	keyed := false
	if tr.ClientRandom != nil && len(a.keys.Labels(tr.ClientRandom)) > 0 {
		keyed = true
	}
	for i := range tr.Events {
		if tr.Events[i].Decrypted {
			keyed = true
			break
		}
	}
	return analysed{Connection: rep, keyed: keyed}
}

// handshakeDone judges from the transcript whether the handshake completed:
// both Finished messages were seen, or, when they stayed encrypted, both
// sides went on to send protected records after their key change.
func handshakeDone(tr *transcript.Transcript) bool {
	if tr.First(transcript.Client, "finished") != nil && tr.First(transcript.Server, "finished") != nil {
		return true
	}
	// protectedAfter reports whether side sent a protected record after
	// the event at index from.
	protectedAfter := func(side transcript.Side, from int) int {
		for i := from + 1; i < len(tr.Events); i++ {
			e := &tr.Events[i]
			if e.From == side && (e.Type == transcript.TypeEncrypted || e.Type == transcript.TypeApplicationData) {
				return i
			}
		}
		return -1
	}
	sh := tr.First(transcript.Server, "server_hello")
	ch := tr.First(transcript.Client, "client_hello")
	if tr.First(transcript.Client, transcript.TypeGap) != nil || tr.First(transcript.Server, transcript.TypeGap) != nil {
		// The capture lost bytes: messages the rules below look for may
		// be among them. Judge by what each side did that only a
		// completed handshake allows.
		return proceeded(tr, transcript.Client) && proceeded(tr, transcript.Server)
	}
	switch {
	case sh == nil && ch == nil:
		// Picked up mid-stream: the handshake happened before the capture
		// began, and nothing says it failed. Not after a plaintext
		// preamble: the capture holds the start, and no hello followed
		// (the upgrade was refused, or the connection ended first).
		return tr.StartTLS == nil
	case sh == nil:
		return false
	case tr.Version == wire.VersionTLS13 || tr.Version>>8 == 0x7f:
		// Without secrets: the client's first protected record is its
		// Finished; a server record after it means the server carried on.
		c := protectedAfter(transcript.Client, tr.Index(sh))
		return c >= 0 && protectedAfter(transcript.Server, c) >= 0
	}
	cc := tr.First(transcript.Client, transcript.TypeChangeCipherSpec)
	sc := tr.First(transcript.Server, transcript.TypeChangeCipherSpec)
	return cc != nil && sc != nil && protectedAfter(transcript.Client, tr.Index(cc)) >= 0 && protectedAfter(transcript.Server, tr.Index(sc)) >= 0
}

// proceeded reports whether side did what only a completed handshake
// allows: it sent its Finished, application data, or protected records
// after its ChangeCipherSpec.
func proceeded(tr *transcript.Transcript, side transcript.Side) bool {
	if tr.First(side, "finished") != nil || tr.First(side, transcript.TypeApplicationData) != nil {
		return true
	}
	if ccs := tr.First(side, transcript.TypeChangeCipherSpec); ccs != nil && tr.Version != wire.VersionTLS13 {
		for i := tr.Index(ccs) + 1; i < len(tr.Events); i++ {
			if e := &tr.Events[i]; e.From == side && e.Encrypted {
				return true
			}
		}
	}
	return false
}
