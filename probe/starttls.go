package probe

import (
	"context"
	"crypto/tls"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/starttls"
	"github.com/tlskit/tlskit/transcript"
)

// implicitWait bounds the wait for a greeting on a well-known implicit-TLS
// port (465, 993…), where a server waits for our ClientHello instead.
const implicitWait = 3 * time.Second

// preamble runs the in-band upgrade on rec, recording its messages as
// plaintext events. It returns the upgrade's facts and the error that
// ended it (nil when the server agreed to upgrade).
func preamble(ctx context.Context, rec *recorder, opts Options, name string) (transcript.Upgrade, error) {
	p := opts.StartTLS
	up := transcript.Upgrade{Protocol: string(p), ChosenBy: opts.StartTLSChosenBy}
	implicit, atImplicit := starttls.ImplicitTLSAddress(opts.Address)
	if atImplicit {
		up.ImplicitPort = implicit.Service
		if starttls.Greets(p) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, implicitWait)
			defer cancel()
		}
	}
	var speaksTLS atomic.Bool
	asked := func() {} // waits for the second connection's answer
	if !atImplicit && starttls.Greets(p) {
		// A server that speaks first and stays silent may be waiting for
		// a ClientHello instead (implicit TLS on a port of its own): ask
		// on a second connection rather than wait the whole timeout.
		outer := ctx
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		done := make(chan struct{})
		asked = func() {
			if !rec.heardServer() {
				// A server that serves one connection at a time (openssl
				// s_server) answers the second only once this one ends.
				rec.Close()
			}
			cancel()
			<-done
		}
		go func() {
			defer close(done)
			speaksTLS.Store(askTLS(outer, ctx, cancel, rec, opts, name))
		}()
	}
	domain := opts.XMPPDomain
	if domain == "" {
		domain = name
	}
	rec.setPlain(true)
	res, err := starttls.Negotiate(ctx, rec, starttls.Config{Protocol: p, Domain: domain,
		Trace: func(m starttls.Message) { rec.note(string(p), m) }})
	rec.setPlain(false)
	asked()
	up.SpeaksTLS = err != nil && speaksTLS.Load()
	up.Outcome = string(res.Outcome)
	up.Offered = res.Offered
	up.Capabilities = res.Capabilities
	up.Command, up.Reply = res.Command, res.Reply
	if len(res.Pipelined) > 0 {
		up.Pipelined, up.PipelinedFrom = pipelinedBytes(res), transcript.Server
		up.PipelinedText = escapeBytes(res.Pipelined)
	}
	if err != nil {
		up.Error = err.Error()
	}
	return up, err
}

// serveOneGrace is how long before the check's end a first connection that
// heard nothing is closed, when the second connection's ClientHello is
// unanswered too, so that a server that serves one connection at a time
// (openssl s_server) reaches the second.
const serveOneGrace = time.Second

// askTLS is the question the preamble asks of a silent server that should
// speak first: after diagnose.SpeaksTLSAfter without a byte on the first
// connection (whose dialogue runs under dialogue, ended by end), it sends
// a ClientHello on a second connection, and reports whether the server
// answered it with TLS while the first still heard nothing; then it ends
// the first dialogue. The second connection waits as long as the check
// (ctx); if it is still unanswered serveOneGrace before the check's end,
// the first connection is closed: a server busy with it answers then. The
// caller ends dialogue when the dialogue is over, and askTLS returns.
func askTLS(ctx, dialogue context.Context, end context.CancelFunc, rec *recorder, opts Options, name string) bool {
	t := time.NewTimer(diagnose.SpeaksTLSAfter)
	defer t.Stop()
	select {
	case <-dialogue.Done():
		return false
	case <-t.C:
	}
	if rec.heardServer() {
		return false // it speaks first after all: the first connection goes on
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	answer := make(chan bool, 1)
	go func() { answer <- answersTLS(ctx, opts, sameServer(rec.Conn, opts.Address), name) }()
	var lastCall <-chan time.Time
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) > 2*serveOneGrace {
		lc := time.NewTimer(time.Until(dl) - serveOneGrace)
		defer lc.Stop()
		lastCall = lc.C
	}
	for {
		select {
		case ok := <-answer:
			if ok && !rec.heardServer() {
				end()
				return true
			}
			return false
		case <-dialogue.Done():
			if rec.heardServer() {
				return false // the first dialogue ended with words: they decide
			}
			// The first connection ended without a word (closed below,
			// at the check's end, or by the server): a server that
			// serves one connection at a time answers the second now.
			grace := time.NewTimer(serveOneGrace)
			defer grace.Stop()
			select {
			case ok := <-answer:
				return ok && !rec.heardServer()
			case <-grace.C:
				return false
			}
		case <-lastCall:
			lastCall = nil
			if !rec.heardServer() {
				end()
			}
		}
	}
}

// answersTLS reports whether the server at addr answers a TLS
// ClientHello with TLS (a ServerHello or an alert) on a connection of its
// own, before ctx ends. Nothing is verified or sent beyond the handshake:
// the answer only says what the port speaks.
func answersTLS(ctx context.Context, opts Options, addr, name string) bool {
	c, err := opts.dial()(ctx, "tcp", addr)
	return err == nil && tlskit.AnswersTLS(ctx, c, name)
}

// pipelinedBytes returns how many bytes the server pipelined (the message
// says; the kept evidence is bounded).
func pipelinedBytes(res *starttls.Result) int {
	for _, m := range res.Messages {
		if m.Stage == starttls.StagePipelined {
			return m.Bytes
		}
	}
	return len(res.Pipelined)
}

// escapeBytes renders pipelined bytes for the report.
func escapeBytes(b []byte) string {
	q := strconv.QuoteToASCII(string(b))
	return q[1 : len(q)-1]
}

// afterTLS runs the protocol's first exchange inside TLS, for orientation,
// within at most linger.
func afterTLS(ctx context.Context, conn *tls.Conn, rec *recorder, opts Options, name string, linger time.Duration) {
	p := opts.StartTLS
	if p == "" || !starttls.HasAfterTLS(p) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, linger)
	defer cancel()
	domain := opts.XMPPDomain
	if domain == "" {
		domain = name
	}
	starttls.AfterTLS(ctx, conn, starttls.Config{Protocol: p, Domain: domain,
		Trace: func(m starttls.Message) { rec.note(string(p), m) }})
	conn.SetDeadline(time.Time{})
}
