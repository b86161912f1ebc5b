package scan

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/transcript"
)

// This file scans servers that upgrade to TLS in band (SMTP's STARTTLS,
// PostgreSQL's SSLRequest…): every probe connection speaks the protocol's
// upgrade with starttls.Negotiate before its ClientHello, and the
// preamble is the start of the probe's transcript, as in check.

// implicitWait bounds the wait for a greeting on a well-known implicit-TLS
// port, where STARTTLS cannot work (the server waits for a ClientHello).
const implicitWait = 3 * time.Second

// preamble is what an in-band upgrade said.
type preamble struct {
	protocol string
	msgs     []starttls.Message
	up       transcript.Upgrade
}

// upgradedConn is a probe connection positioned after its upgrade.
type upgradedConn struct {
	net.Conn
	pre preamble
}

// upgradeError is an upgrade that did not happen, with what was said.
type upgradeError struct {
	err error
	pre preamble
}

func (e *upgradeError) Error() string { return e.err.Error() }
func (e *upgradeError) Unwrap() error { return e.err }

// startTLSDial wraps dial with the in-band upgrade of p for the server
// named name; heard is set once the server says anything in one.
func startTLSDial(dial DialFunc, p starttls.Protocol, chosenBy, domain string, heard *atomic.Bool) DialFunc {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		pre := preamble{protocol: string(p), up: transcript.Upgrade{Protocol: string(p), ChosenBy: chosenBy}}
		_, port, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(port)
		nctx := ctx
		if implicit, ok := starttls.ImplicitTLSPort(n); ok {
			pre.up.ImplicitPort = implicit.Service
			if starttls.Greets(p) {
				var cancel context.CancelFunc
				nctx, cancel = context.WithTimeout(ctx, implicitWait)
				defer cancel()
			}
		}
		var mu sync.Mutex
		res, err := starttls.Negotiate(nctx, c, starttls.Config{Protocol: p, Domain: domain,
			Trace: func(m starttls.Message) {
				if m.From == starttls.Server {
					heard.Store(true)
				}
				mu.Lock()
				pre.msgs = append(pre.msgs, m)
				mu.Unlock()
			}})
		up := &pre.up
		up.Outcome = string(res.Outcome)
		up.Offered = res.Offered
		up.Capabilities = res.Capabilities
		up.Command, up.Reply = res.Command, res.Reply
		if len(res.Pipelined) > 0 {
			up.Pipelined, up.PipelinedFrom = len(res.Pipelined), transcript.Server
			q := strconv.QuoteToASCII(string(res.Pipelined))
			up.PipelinedText = q[1 : len(q)-1]
		}
		if err != nil {
			up.Error = err.Error()
			c.Close()
			return nil, &upgradeError{err: err, pre: pre}
		}
		if dl, ok := ctx.Deadline(); ok {
			c.SetDeadline(dl) // the upgrade may have set a shorter one
		}
		return &upgradedConn{Conn: c, pre: pre}, nil
	}
}

// watchSilence asks, as check does, whether a server that should greet
// first and has said nothing in any probe's upgrade for
// diagnose.SpeaksTLSAfter speaks TLS from the first byte: one ClientHello
// on a connection without the upgrade. If it answers with TLS (and still
// has said nothing) the probes cannot succeed: stop ends them, and the
// failed upgrade's finding is starttls.implicit-tls. It returns when ctx
// ends. A server that serves one connection at a time cannot answer while
// the probes hold theirs: askImplicitTLS asks again at the end.
func (s *scanner) watchSilence(ctx context.Context, stop context.CancelFunc) {
	if !s.asksImplicitTLS() {
		return
	}
	t := time.NewTimer(diagnose.SpeaksTLSAfter)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	if s.heard.Load() {
		return
	}
	c, err := s.plainDial(ctx, s.opts.Address)
	if err == nil && tlskit.AnswersTLS(ctx, c, s.name) && !s.heard.Load() {
		s.speaksTLS.Store(true)
		stop()
	}
}

// asksImplicitTLS reports whether the implicit-TLS question applies: an
// upgrade whose server speaks first, on a port not known for implicit TLS
// (there the finding says so without asking).
func (s *scanner) asksImplicitTLS() bool {
	_, port, _ := net.SplitHostPort(s.opts.Address)
	n, _ := strconv.Atoi(port)
	_, implicit := starttls.ImplicitTLSPort(n)
	return s.opts.StartTLS != "" && starttls.Greets(s.opts.StartTLS) && !implicit
}

// askImplicitTLS puts the implicit-TLS answer into the failed upgrade's
// facts, for its finding, and reports it: watchSilence's, or, when every
// probe's upgrade timed out without a word from the server, the answer to
// a ClientHello asked now that every probe connection is closed (a server
// that serves one connection at a time can answer now).
func (s *scanner) askImplicitTLS(ctx context.Context) bool {
	ue := s.upgradeErr
	if ue == nil || !s.asksImplicitTLS() || s.heard.Load() {
		return false
	}
	if !s.speaksTLS.Load() {
		var ne net.Error
		if !errors.As(ue.err, &ne) || !ne.Timeout() {
			return false
		}
		ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		defer cancel()
		c, err := s.plainDial(ctx, s.opts.Address)
		if err != nil || !tlskit.AnswersTLS(ctx, c, s.name) {
			return false
		}
	}
	ue.pre.up.SpeaksTLS = true
	return true
}

// decodePreamble feeds an upgrade's messages to dec.
func decodePreamble(dec *transcript.Decoder, pre *preamble) {
	for _, m := range pre.msgs {
		dec.Plaintext(transcript.Side(m.From), m.At, pre.protocol, string(m.Stage), m.Text, m.Bytes)
	}
	dec.SetUpgrade(pre.up)
}

// transcript is the failed upgrade's conversation.
func (e *upgradeError) transcript() *transcript.Transcript {
	dec := transcript.NewDecoder(transcript.Options{})
	decodePreamble(dec, &e.pre)
	return dec.Transcript()
}
