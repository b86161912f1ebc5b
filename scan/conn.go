package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/keysched"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/transcript"
)

// This file is the connection layer: how many connections are open to the
// host at once and how fast they start (the limiter), and one probe
// connection (a conv) that records every byte each way, as check's
// recorder does, and reads the server's records as they come.

// DialFunc opens one probe connection to address (HOST:PORT) and returns
// it ready for the ClientHello. A STARTTLS dialer performs the protocol's
// upgrade before it returns; the scanner never knows the difference.
type DialFunc func(ctx context.Context, address string) (net.Conn, error)

// pin makes a scan's connections reach one server: the first goes to
// the scan's address as the dial takes it (a name resolved, Go's dialer
// racing IPv6 and IPv4), and every later one to the address that
// connection reached (its RemoteAddr, when a TCP address). A name's
// addresses can be different servers (a pool behind round-robin DNS, an
// old server left in an AAAA record), and a scan whose probes met several
// would report their mixture as one server's. Dials that start while the
// first is under way wait for it; when it fails, the next goes by the name
// again.
type pin struct {
	mu      sync.Mutex
	to      string                                        // the address reached, once a connection was made
	reached func(connected string) []diagnose.DialFailure // the trace of the dial that reached to
	failed  []diagnose.DialFailure                        // the addresses the last failed dial tried, none reached yet
}

// dial returns dial pinned.
func (p *pin) dial(dial DialFunc) DialFunc {
	return func(ctx context.Context, address string) (net.Conn, error) {
		p.mu.Lock()
		if p.to != "" {
			a := p.to
			p.mu.Unlock()
			return dial(ctx, a)
		}
		defer p.mu.Unlock()
		traced, attempts := diagnose.TraceDial(ctx, address) // a name can have several addresses
		c, err := dial(traced, address)
		if a, ok := remoteTCP(c); ok {
			p.to, p.reached = a, attempts
		} else if err != nil {
			if fs := attempts(""); len(fs) > 0 {
				p.failed = fs // a dial cut short before trying any address says less
			}
		}
		return c, err
	}
}

// failures returns the addresses tried in vain: before the one the scan
// reached, or by the last dial that failed when none was reached.
func (p *pin) failures() []diagnose.DialFailure {
	p.mu.Lock()
	to, reached, failed := p.to, p.reached, p.failed
	p.mu.Unlock()
	if reached != nil { // set with to
		return reached(to)
	}
	return failed
}

// fallback returns net.fallback when the first connection opened at
// another of target's addresses than the first.
func (p *pin) fallback(target string) []finding.Finding {
	p.mu.Lock()
	to, reached := p.to, p.reached
	p.mu.Unlock()
	if reached == nil {
		return nil // no connection was made
	}
	if fs := reached(to); len(fs) > 0 {
		return []finding.Finding{diagnose.FallbackFinding(target, to, fs)}
	}
	return nil
}

// remoteTCP returns c's remote address when c is a TCP connection.
func remoteTCP(c net.Conn) (string, bool) {
	if c == nil {
		return "", false
	}
	a, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok || a == nil {
		return "", false
	}
	return a.String(), true
}

// limiter bounds the connections open to one host at once and spaces
// their starts by a delay, and counts them.
type limiter struct {
	sem   chan struct{}
	delay time.Duration
	mu    sync.Mutex
	next  time.Time // earliest start of the next connection
	count atomic.Int64
	// solo is held shared by each connection, or exclusively once alone
	// is set: the server closed a probe unanswered while others were
	// open (a limit on connections per client), and the scan goes on one
	// connection at a time.
	solo  sync.RWMutex
	alone atomic.Bool
}

func newLimiter(n int, delay time.Duration) *limiter {
	return &limiter{sem: make(chan struct{}, n), delay: delay}
}

// acquire waits for a free slot (once alone is set, or for an exclusive
// connection, for every other connection to end), then counts the
// connection; release gives it back. It reports whether the connection
// runs alone.
func (l *limiter) acquire(ctx context.Context, exclusive bool) (release func(), alone bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err // done: no slot, even when one is free
	}
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	if exclusive || l.alone.Load() {
		l.solo.Lock()
		release = func() { l.solo.Unlock(); <-l.sem }
		alone = true
	} else {
		l.solo.RLock()
		release = func() { l.solo.RUnlock(); <-l.sem }
	}
	l.count.Add(1)
	return release, alone || cap(l.sem) == 1, nil
}

// dial runs dial as the next connection start: at least the delay after
// the previous one. With a delay, starts are serialised, and each waits
// for the previous one's dial to end plus the delay: the previous
// connection attempt happened somewhere inside its dial, and a start
// counted from the end of that dial is at least the delay after it
// however the goroutines were scheduled (counted from its beginning, a
// dial that ran late would shorten the gap). Without a delay, starts are
// not serialised.
func (l *limiter) dial(ctx context.Context, dial func() (net.Conn, error)) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if l.delay <= 0 {
		return dial()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if wait := time.Until(l.next); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err // ended while waiting for the lock
	}
	defer func() { l.next = time.Now().Add(l.delay) }()
	return dial()
}

// maxServerBytes bounds what one probe keeps of the server's bytes: a
// whole first flight with a long chain fits many times over; a server
// streaming without end is cut there (and the transcript says so).
const maxServerBytes = 512 << 10

// chunk is bytes one side sent, as recorded.
type chunk struct {
	from transcript.Side
	at   time.Time
	data []byte
	how  transcript.CloseHow // a close
	cut  string              // where reading stopped: why
}

// conv is one probe connection: it records every byte each way and hands
// the server's records to the probe logic one item at a time, opening
// protected records when it has the keys.
type conv struct {
	c      net.Conn
	chunks []chunk
	kept   int
	closed bool // the server's end (FIN, RST, timeout, cut) was recorded
	buf    []byte
	plain  wire.Assembler // plaintext handshake messages
	inner  wire.Assembler // handshake messages from protected records
	opener *keysched.Opener
	// openerTLS12 says the opener protects every record type (TLS 1.2
	// after ChangeCipherSpec), not only application_data (TLS 1.3).
	openerTLS12 bool
	keys        *keylog.Log
	sslv2ok     bool // the first server bytes may be an SSL 2.0 record
	started     bool // a TLS record was read
	readErr     error
	pre         *preamble // the in-band upgrade before TLS, if any
	// pause makes a read deadline a pause, not the end: the timeout is
	// returned but not recorded, and reading can go on.
	pause bool
}

// errCut is returned once the bound on the server's bytes was reached.
var errCut = errors.New("scan: the server sent more than a probe keeps")

func newConv(c net.Conn) *conv {
	v := &conv{c: c, keys: &keylog.Log{}}
	if uc, ok := c.(*upgradedConn); ok {
		v.pre = &uc.pre
	}
	return v
}

// setOpener protects the server's next records with o.
func (v *conv) setOpener(o *keysched.Opener, tls12 bool) { v.opener, v.openerTLS12 = o, tls12 }

// send writes b to the server, recording it.
func (v *conv) send(b []byte) error {
	v.chunks = append(v.chunks, chunk{from: transcript.Client, at: time.Now(), data: append([]byte(nil), b...)})
	_, err := v.c.Write(b)
	return err
}

// fill reads more server bytes into v.buf.
func (v *conv) fill() error {
	if v.readErr != nil {
		return v.readErr
	}
	if v.kept >= maxServerBytes {
		v.chunks = append(v.chunks, chunk{from: transcript.Server, at: time.Now(),
			cut: fmt.Sprintf("the server sent more than %d KiB; the probe stopped reading there", maxServerBytes>>10)})
		v.closed = true
		v.readErr = errCut
		return errCut
	}
	p := make([]byte, min(16<<10, maxServerBytes-v.kept))
	n, err := v.c.Read(p)
	if n > 0 {
		v.kept += n
		v.chunks = append(v.chunks, chunk{from: transcript.Server, at: time.Now(), data: p[:n]})
		v.buf = append(v.buf, p[:n]...)
	}
	if err != nil {
		var ne net.Error
		if v.pause && errors.As(err, &ne) && ne.Timeout() {
			if n > 0 {
				return nil
			}
			return err
		}
		how := transcript.CloseHow("")
		switch {
		case errors.Is(err, io.EOF):
			how = transcript.CloseFIN
		case errors.Is(err, syscall.ECONNRESET):
			how = transcript.CloseRST
		case errors.As(err, &ne) && ne.Timeout():
			how = transcript.CloseTimeout
		}
		if how != "" && !v.closed {
			v.closed = true
			v.chunks = append(v.chunks, chunk{from: transcript.Server, at: time.Now(), how: how})
		}
		v.readErr = err
		if n > 0 {
			return nil
		}
		return err
	}
	return nil
}

// itemKind says what a server item is.
type itemKind int

const (
	itemHandshake itemKind = iota + 1 // a handshake message (plaintext or opened)
	itemAlert                         // an alert (plaintext or opened)
	itemCCS                           // change_cipher_spec
	itemAppData                       // application data, or a protected record that was not opened
	itemHeartbeat                     // a heartbeat record (its payload in data)
	itemSSLv2                         // an SSL 2.0 SERVER-HELLO
	itemNotTLS                        // bytes that are not TLS
)

// item is one thing the server sent.
type item struct {
	kind      itemKind
	msg       wire.RawMessage
	alert     wire.Alert
	data      []byte
	encrypted bool
	sslv2     *wire.SSLv2ServerHello
	note      string
}

// pending holds items decoded from one record beyond the first.
type pendingItems struct{ items []item }

// next returns the next item the server sent, reading as needed. The error
// is the connection's end (io.EOF, a reset, a timeout) or errCut.
func (v *conv) next(q *pendingItems) (item, error) {
	if len(q.items) > 0 {
		it := q.items[0]
		q.items = q.items[1:]
		return it, nil
	}
	for {
		if !v.started && v.sslv2ok && len(v.buf) > 0 && v.buf[0]&0x80 != 0 {
			m, n, err := wire.ParseSSLv2ServerHello(v.buf)
			switch {
			case err == nil:
				v.buf = v.buf[n:]
				v.started = true
				return item{kind: itemSSLv2, sslv2: m}, nil
			case errors.Is(err, wire.ErrShort):
			default:
				return item{kind: itemNotTLS, note: err.Error()}, nil
			}
		} else if len(v.buf) >= wire.RecordHeaderLen {
			hdr, err := wire.ParseRecordHeader(v.buf)
			if err != nil {
				note := err.Error()
				if proto, _ := wire.Sniff(v.buf); proto != "" {
					note += fmt.Sprintf(" (looks like %s)", proto)
				}
				return item{kind: itemNotTLS, note: note}, nil
			}
			if len(v.buf) >= wire.RecordHeaderLen+hdr.Length {
				header := v.buf[:wire.RecordHeaderLen]
				payload := v.buf[wire.RecordHeaderLen : wire.RecordHeaderLen+hdr.Length]
				v.buf = v.buf[wire.RecordHeaderLen+hdr.Length:]
				v.started = true
				items, err := v.record(hdr, header, payload)
				if err != nil {
					return item{kind: itemNotTLS, note: err.Error()}, nil
				}
				if len(items) == 0 {
					continue
				}
				q.items = append(q.items, items[1:]...)
				return items[0], nil
			}
		}
		if err := v.fill(); err != nil {
			return item{}, err
		}
	}
}

// record turns one record into items.
func (v *conv) record(hdr wire.RecordHeader, header, payload []byte) ([]item, error) {
	ct, data, encrypted := hdr.Type, payload, false
	if v.opener != nil && (v.openerTLS12 && hdr.Type != wire.ContentChangeCipherSpec || hdr.Type == wire.ContentApplicationData) {
		pt, inner, err := v.opener.Open(header, payload)
		if err != nil {
			return nil, fmt.Errorf("scan: a protected %v record from the server does not open: %w", hdr.Type, err)
		}
		ct, data, encrypted = wire.ContentType(inner), append([]byte(nil), pt...), true
	}
	switch ct {
	case wire.ContentHandshake:
		asm := &v.plain
		if encrypted {
			asm = &v.inner
		}
		msgs, err := asm.Write(data)
		if err != nil {
			return nil, err
		}
		out := make([]item, len(msgs))
		for i, m := range msgs {
			out[i] = item{kind: itemHandshake, msg: m, encrypted: encrypted}
		}
		return out, nil
	case wire.ContentAlert:
		if len(data) != 2 {
			return []item{{kind: itemAppData, data: data, encrypted: true, note: "an alert the probe cannot read"}}, nil
		}
		a, _ := wire.ParseAlert(data)
		return []item{{kind: itemAlert, alert: a, encrypted: encrypted}}, nil
	case wire.ContentChangeCipherSpec:
		return []item{{kind: itemCCS}}, nil
	case wire.ContentHeartbeat:
		return []item{{kind: itemHeartbeat, data: append([]byte(nil), data...)}}, nil
	}
	return []item{{kind: itemAppData, data: data, encrypted: !encrypted && hdr.Type == wire.ContentApplicationData}}, nil
}

// close ends the connection and records that we closed it.
func (v *conv) close() {
	if !v.closed {
		v.chunks = append(v.chunks, chunk{from: transcript.Client, at: time.Now(), how: transcript.CloseLocal})
		v.closed = true
	}
	v.c.Close()
}

// transcript decodes what was recorded, with the secrets the probe derived.
func (v *conv) transcript() *transcript.Transcript {
	dec := transcript.NewDecoder(transcript.Options{Keys: v.keys, MaxEvents: 200})
	if v.pre != nil {
		decodePreamble(dec, v.pre)
	}
	for _, c := range v.chunks {
		switch {
		case c.cut != "":
			dec.Truncate(c.from, c.at, c.cut)
		case c.how != "":
			dec.Close(c.from, c.at, c.how)
		default:
			dec.Data(c.from, c.at, c.data)
		}
	}
	return dec.Transcript()
}
