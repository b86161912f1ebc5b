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
// named name, noting in q what the server says or leaves unsaid.
func startTLSDial(dial DialFunc, p starttls.Protocol, chosenBy, domain string, q *silence) DialFunc {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		pre := preamble{protocol: string(p), up: transcript.Upgrade{Protocol: string(p), ChosenBy: chosenBy}}
		nctx := ctx
		if implicit, ok := starttls.ImplicitTLSAddress(addr); ok {
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
					q.heard.Store(true)
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
			q.upgradeFailed(err)
			return nil, &upgradeError{err: err, pre: pre}
		}
		if dl, ok := ctx.Deadline(); ok {
			c.SetDeadline(dl) // the upgrade may have set a shorter one
		}
		return &upgradedConn{Conn: c, pre: pre}, nil
	}
}

// silence is what a scan through an in-band upgrade knows of a server
// that says nothing: whether any upgrade heard it, and the implicit-TLS
// question asked of it; and how to stop the version probes while they run.
type silence struct {
	heard    atomic.Bool   // the server said something in an upgrade
	answered chan struct{} // closed when the question has its answer; nil until asked
	speaks   atomic.Bool   // the answer: the port answered a ClientHello with TLS
	stopped  atomic.Value  // string: why the version probes were stopped

	mu   sync.Mutex
	halt context.CancelFunc // ends the version probes while they run; nil otherwise
}

// stop ends the version probes (cancel), saying why (for their answers);
// the first reason given is kept.
func (q *silence) stop(cancel context.CancelFunc, why string) {
	q.stopped.CompareAndSwap(nil, why)
	cancel()
}

// stoppedWhy says why the version probes were stopped, "" when they were
// not.
func (q *silence) stoppedWhy() string {
	why, _ := q.stopped.Load().(string)
	return why
}

// arm makes upgradeFailed able to stop the version probes with halt while
// they run; arm(nil) ends that.
func (q *silence) arm(halt context.CancelFunc) {
	q.mu.Lock()
	q.halt = halt
	q.mu.Unlock()
}

// upgradeFailed notes a failed upgrade. One that timed out while the
// server had said nothing in any stops the version probes (the others
// would time out too), here, before this probe gives its connection slot
// back: no probe waiting for a slot connects after it.
func (q *silence) upgradeFailed(err error) {
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || q.heard.Load() {
		return
	}
	q.mu.Lock()
	halt := q.halt
	q.mu.Unlock()
	if halt != nil {
		q.stop(halt, "the server said nothing in any upgrade, and one timed out: this one would have too")
	}
}

// watchSilence follows the version probes' upgrades (ctx ends with them;
// stop ends them early; scanCtx is the whole scan's). After
// diagnose.SpeaksTLSAfter without a word from a server that should greet
// first it asks, as check does, whether the port speaks TLS from the
// first byte: one ClientHello on a connection without the upgrade,
// waiting up to the probe timeout, beyond the versions if need be (a
// server that serves one connection at a time answers once the probes let
// go of theirs). An answer with TLS stops the probes: none can succeed.
// (An upgrade that timed out while the server had said nothing in any
// stops them too: see upgradeFailed.)
func (s *scanner) watchSilence(scanCtx, ctx context.Context, stop context.CancelFunc) {
	q := s.silence
	if s.opts.StartTLS == "" {
		return
	}
	var ask <-chan time.Time
	if s.asksImplicitTLS() {
		t := time.NewTimer(diagnose.SpeaksTLSAfter)
		defer t.Stop()
		ask = t.C
	}
	var answered chan struct{} // nil until asked: that case waits
	for {
		select {
		case <-ctx.Done():
			return
		case <-ask:
			ask = nil
			if q.heard.Load() {
				continue
			}
			answered = make(chan struct{})
			q.answered = answered
			go func() {
				defer close(answered)
				q.speaks.Store(s.answersTLS(scanCtx))
			}()
		case <-answered:
			if q.speaks.Load() && !q.heard.Load() {
				q.stop(stop, "the port speaks TLS from the first byte: no upgrade can work")
				return
			}
			answered = nil
		}
	}
}

// answersTLS asks the implicit-TLS question on a connection without the
// upgrade, waiting up to the probe timeout: does the port answer a
// ClientHello with TLS?
func (s *scanner) answersTLS(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	c, err := s.plainDial(ctx, s.opts.Address)
	if err != nil {
		return false
	}
	s.lim.count.Add(1) // a connection made, beside the probes' limit
	return tlskit.AnswersTLS(ctx, c, s.name)
}

// asksImplicitTLS reports whether the implicit-TLS question applies: an
// upgrade whose server speaks first, on a port not known for implicit TLS
// (there the finding says so without asking).
func (s *scanner) asksImplicitTLS() bool {
	_, implicit := starttls.ImplicitTLSAddress(s.opts.Address)
	return s.opts.StartTLS != "" && starttls.Greets(s.opts.StartTLS) && !implicit
}

// askImplicitTLS puts the answer to watchSilence's question into the failed
// upgrade's facts, for its finding, and reports it. It waits for the
// answer when the question is still open (up to the probe timeout after it
// was asked), and asks now when the versions ended before it was asked and
// every upgrade had timed out without a word.
func (s *scanner) askImplicitTLS(ctx context.Context) bool {
	q := s.silence
	ue := s.failedUpgrade()
	if ue == nil || !s.asksImplicitTLS() || q.heard.Load() {
		return false
	}
	var ok bool
	if q.answered != nil {
		<-q.answered
		ok = q.speaks.Load()
	} else {
		var ne net.Error
		if !errors.As(ue.err, &ne) || !ne.Timeout() {
			return false
		}
		ok = s.answersTLS(ctx)
	}
	if !ok || q.heard.Load() {
		return false
	}
	ue.pre.up.SpeaksTLS = true
	return true
}

// failedUpgrade is the first in-band upgrade that failed, or, when every
// one was stopped (the port speaks TLS from the first byte), the first
// stopped: the one whose facts explain why no version was accepted.
func (s *scanner) failedUpgrade() *upgradeError {
	if s.upgradeErr != nil {
		return s.upgradeErr
	}
	return s.stoppedUp
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
