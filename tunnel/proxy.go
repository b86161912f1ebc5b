package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
)

// DefaultHandshakeTimeout bounds the handshake and the target dial when
// [Proxy.HandshakeTimeout] is zero.
const DefaultHandshakeTimeout = 10 * time.Second

// DefaultFirstByteTimeout is how long a client may stay silent before its
// handshake starts when [Proxy.FirstByteTimeout] is zero.
const DefaultFirstByteTimeout = 3 * time.Second

// Proxy forwards each connection accepted on a listener to a target. Set
// its fields, then call [Proxy.Serve]; do not change or copy it afterwards.
type Proxy struct {
	// Name names the service in logs and metrics.
	Name string
	// Handshake, when set, runs on each accepted connection before the
	// target is dialled and returns the connection to use instead, such
	// as a *tls.Conn after a server handshake. Its error refuses the
	// client.
	Handshake func(ctx context.Context, c net.Conn) (net.Conn, error)
	// Dial connects to the target for the client connection in (the one
	// Handshake returned). A client-side TLS handshake belongs here: its
	// error refuses the connection and is logged with its finding id.
	Dial func(ctx context.Context, in net.Conn) (net.Conn, error)
	// HandshakeTimeout bounds Handshake plus Dial; zero means
	// [DefaultHandshakeTimeout].
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection when no data moved either way for
	// that long; zero means never.
	IdleTimeout time.Duration
	// FirstByteTimeout, when Handshake is set, is how long a client may
	// take to send its first byte (a TLS client speaks first: its
	// ClientHello); a client silent that long is closed and refused with
	// [finding.LimitFirstByte], so that silent connections hold a slot
	// for seconds, not for the whole HandshakeTimeout. Zero means
	// [DefaultFirstByteTimeout]; a negative value turns it off.
	FirstByteTimeout time.Duration
	// MaxConns is the limit of concurrent connections; zero means none.
	// A connection accepted beyond it is closed at once, logged and
	// counted as refused with [finding.LimitMaxConns], rather than left
	// waiting unanswered in the listen backlog.
	MaxConns int
	// ProxyProtocol sends a PROXY protocol v2 header to the target.
	ProxyProtocol bool
	// Logger receives the logs; nil discards them.
	Logger *slog.Logger
	// Metrics counts connections, bytes, handshakes and refusals; nil
	// counts nothing.
	Metrics *Metrics

	initOnce  sync.Once
	m         *serviceMetrics
	sem       chan struct{}
	done      chan struct{} // closed by Shutdown
	closing   atomic.Bool
	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup

	limitMu    sync.Mutex
	limitLast  time.Time // when the last limit.max-conns line was logged
	limitQuiet int       // refusals not logged since
}

// init prepares the internal state.
func (p *Proxy) init() {
	p.initOnce.Do(func() {
		mt := p.Metrics
		if mt == nil {
			mt = &Metrics{}
		}
		p.m = mt.service(p.Name)
		if p.MaxConns > 0 {
			p.sem = make(chan struct{}, p.MaxConns)
		}
		p.done = make(chan struct{})
		p.listeners = map[net.Listener]struct{}{}
		p.conns = map[net.Conn]struct{}{}
		if p.Logger == nil {
			p.Logger = slog.New(slog.DiscardHandler)
		}
	})
}

// ErrProxyClosed is returned by [Proxy.Serve] after [Proxy.Shutdown] or
// [Proxy.Close].
var ErrProxyClosed = errors.New("tunnel: proxy closed")

// Serve accepts connections on ln and forwards them until ln fails or the
// proxy is shut down; it then returns [ErrProxyClosed]. Serve closes ln.
func (p *Proxy) Serve(ln net.Listener) error {
	p.init()
	if p.Dial == nil {
		return errors.New("tunnel: Proxy.Dial is nil: nothing says where to forward")
	}
	p.mu.Lock()
	if p.closing.Load() {
		p.mu.Unlock()
		ln.Close()
		return ErrProxyClosed
	}
	p.listeners[ln] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.listeners, ln)
		p.mu.Unlock()
		ln.Close()
	}()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if p.closing.Load() {
				return ErrProxyClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && !errors.Is(err, net.ErrClosed) {
				// EMFILE and friends: back off instead of spinning.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				p.Logger.Warn("accept failed", "service", p.Name, "error", err, "retry_in", backoff)
				select {
				case <-time.After(backoff):
				case <-p.done:
					return ErrProxyClosed
				}
				continue
			}
			return err
		}
		backoff = 0
		if p.sem != nil {
			select {
			case p.sem <- struct{}{}:
			default:
				p.refuseOverLimit(c)
				continue
			}
		}
		if !p.track(c) {
			c.Close()
			if p.sem != nil {
				<-p.sem
			}
			return ErrProxyClosed
		}
		p.wg.Add(1)
		go p.handle(c)
	}
}

// refuseOverLimit closes a connection accepted beyond MaxConns at once,
// counts it, and logs it: every refusal, or under a flood of them one line
// a second with the number not logged since.
func (p *Proxy) refuseOverLimit(c net.Conn) {
	remote := c.RemoteAddr().String()
	c.Close()
	p.m.refuse(finding.LimitMaxConns)
	p.limitMu.Lock()
	now := time.Now()
	if now.Sub(p.limitLast) < time.Second {
		p.limitQuiet++
		p.limitMu.Unlock()
		return
	}
	quiet := p.limitQuiet
	p.limitLast, p.limitQuiet = now, 0
	p.limitMu.Unlock()
	args := []any{"service", p.Name, "remote", remote, "side", "client", "finding", finding.LimitMaxConns,
		"error", fmt.Sprintf("%d connections are open, the limit (max-conns): closed at once", p.MaxConns)}
	if quiet > 0 {
		args = append(args, "not_logged_since", quiet)
	}
	p.Logger.Warn("refused", args...)
}

// track registers a connection; it returns false when the proxy is
// closing.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing.Load() {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// untrack forgets a connection.
func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// Shutdown stops accepting, waits for the open connections to end until
// ctx is done, then closes the rest. It returns ctx.Err() when it had to
// close connections.
func (p *Proxy) Shutdown(ctx context.Context) error {
	p.init()
	p.mu.Lock()
	if !p.closing.Swap(true) {
		close(p.done)
	}
	for ln := range p.listeners {
		ln.Close()
	}
	p.mu.Unlock()
	finished := make(chan struct{})
	go func() { p.wg.Wait(); close(finished) }()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	<-finished
	return ctx.Err()
}

// Close closes the listeners and every connection at once.
func (p *Proxy) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p.Shutdown(ctx)
	return nil
}

// handle serves one accepted connection. The handshake and the dial run
// on this goroutine, whose stack the handshake grows; the copying runs on
// fresh goroutines with small stacks, since a connection may then stay
// idle for hours.
func (p *Proxy) handle(raw net.Conn) {
	p.m.accepted.Inc()
	p.m.active.Inc()
	start := time.Now()
	in, out := p.connect(raw, start)
	if out == nil {
		p.release(raw)
		return
	}
	go p.transfer(raw, in, out, start)
}

// release ends the client connection's life in the proxy.
func (p *Proxy) release(raw net.Conn) {
	raw.Close()
	p.untrack(raw)
	p.m.active.Dec()
	if p.sem != nil {
		<-p.sem
	}
	p.wg.Done()
}

// connect runs the handshake and the dial within the handshake timeout,
// and sends the PROXY header. It returns the connection to the client
// (the one Handshake returned) and to the target, or a nil target
// connection after logging why.
func (p *Proxy) connect(raw net.Conn, start time.Time) (in, out net.Conn) {
	hto := p.HandshakeTimeout
	if hto <= 0 {
		hto = DefaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), hto)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) }) // wake blocked handshakes
	defer stop()
	raw.SetDeadline(start.Add(hto))
	in = raw
	if p.Handshake != nil {
		hc, fb := raw, (*firstByteConn)(nil)
		if fbt := p.FirstByteTimeout; fbt >= 0 {
			if fbt == 0 {
				fbt = DefaultFirstByteTimeout
			}
			if fbt < hto {
				fb = &firstByteConn{Conn: raw, deadline: start.Add(hto)}
				raw.SetReadDeadline(start.Add(fbt))
				hc = fb
			}
		}
		c, err := p.Handshake(ctx, hc)
		if err != nil {
			if fb != nil && !fb.seen.Load() && isTimeout(err) && ctx.Err() == nil {
				err = fmt.Errorf("tunnel: the client sent nothing within %v of connecting: %w", p.firstByte(), err)
				p.refuseAs(raw, "client", finding.LimitFirstByte, err)
				return nil, nil
			}
			p.refuse(raw, "client", err)
			return nil, nil
		}
		in = c
	}
	out, err := p.Dial(ctx, in)
	if err != nil {
		p.refuse(raw, "target", err)
		return nil, nil
	}
	if !p.track(out) {
		out.Close()
		return nil, nil
	}
	fail := func() (net.Conn, net.Conn) {
		out.Close()
		p.untrack(out)
		return nil, nil
	}
	if !stop() {
		p.refuse(raw, "client", os.ErrDeadlineExceeded)
		return fail()
	}
	cancel() // free the timer now: the connection may stay open for hours
	raw.SetDeadline(time.Time{})
	out.SetDeadline(time.Time{})
	p.m.handshake(time.Since(start))

	if p.ProxyProtocol {
		hdr, err := proxyHeader(raw, in).AppendBinary(nil)
		if err == nil {
			out.SetWriteDeadline(time.Now().Add(hto))
			_, err = out.Write(hdr)
			out.SetWriteDeadline(time.Time{})
		}
		if err != nil {
			p.Logger.Warn("PROXY header not sent", "service", p.Name, "remote", raw.RemoteAddr().String(), "error", err)
			return fail()
		}
	}
	return in, out
}

// transfer copies both ways until both ended, then closes and logs.
func (p *Proxy) transfer(raw, in, out net.Conn, start time.Time) {
	up, down := p.pipe(raw, in, out)
	out.Close()
	p.untrack(out)
	p.Logger.Debug("closed", "service", p.Name, "remote", raw.RemoteAddr().String(), "bytes_from_client", up, "bytes_to_client", down, "duration", time.Since(start))
	p.release(raw)
}

// refuse logs and counts a refused connection.
func (p *Proxy) refuse(raw net.Conn, side string, err error) {
	id := Classify(err)
	var te *targetError
	switch {
	case errors.As(err, &te): // a STARTTLS server mode's target failed to greet
		side = "target"
	case side == "client" && p.Handshake != nil:
		id = ClassifyServer(err) // the proxy is the TLS server facing this client
	}
	p.refuseAs(raw, side, id, err)
}

// alerted logs a connection the peer on side ended with a TLS alert after
// the handshake: a refusal, counted as one, when the peer had sent no data
// yet (a TLS 1.3 server refusing the client certificate), else a failure.
func (p *Proxy) alerted(raw net.Conn, side string, received int64, err error) {
	if received == 0 {
		p.refuse(raw, side, err)
		return
	}
	id := Classify(err)
	if side == "client" && p.Handshake != nil {
		id = ClassifyServer(err)
	}
	p.Logger.Warn("closed by an alert", "service", p.Name, "remote", raw.RemoteAddr().String(), "side", side, "finding", id, "error", err.Error())
}

// refuseAs logs and counts a refused connection with a known finding id.
func (p *Proxy) refuseAs(raw net.Conn, side, id string, err error) {
	p.m.refuse(id)
	p.Logger.Warn("refused", "service", p.Name, "remote", raw.RemoteAddr().String(), "side", side, "finding", id, "error", err.Error())
}

// firstByte returns the effective first-byte timeout.
func (p *Proxy) firstByte() time.Duration {
	if p.FirstByteTimeout == 0 {
		return DefaultFirstByteTimeout
	}
	return p.FirstByteTimeout
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// firstByteConn is the client connection during the handshake: once the
// first byte arrived, the short first-byte read deadline gives way to the
// handshake's.
type firstByteConn struct {
	net.Conn
	deadline time.Time
	seen     atomic.Bool
}

func (c *firstByteConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.seen.Load() {
		c.seen.Store(true)
		c.Conn.SetReadDeadline(c.deadline)
	}
	return n, err
}

// proxyHeader describes the client connection for the target.
func proxyHeader(raw, in net.Conn) *ProxyHeader {
	h := &ProxyHeader{}
	if a, ok := raw.RemoteAddr().(*net.TCPAddr); ok {
		h.Source = a.AddrPort()
	}
	if a, ok := raw.LocalAddr().(*net.TCPAddr); ok {
		h.Destination = a.AddrPort()
	}
	if !h.Source.IsValid() || !h.Destination.IsValid() {
		h.Source, h.Destination = netip.AddrPort{}, netip.AddrPort{}
	}
	if tc, ok := in.(interface{ ConnectionState() tls.ConnectionState }); ok { // *tls.Conn, also after STARTTLS
		cs := tc.ConnectionState()
		h.ALPN, h.Authority = cs.NegotiatedProtocol, cs.ServerName
		h.TLS = &ProxyTLS{
			Version:    tlsVersionName(cs.Version),
			Cipher:     tls.CipherSuiteName(cs.CipherSuite),
			ClientCert: len(cs.PeerCertificates) > 0,
			Verified:   len(cs.PeerCertificates) > 0, // VerifyConnection accepted it
		}
		if len(cs.PeerCertificates) > 0 {
			h.TLS.CommonName = cs.PeerCertificates[0].Subject.CommonName
		}
	}
	return h
}

// tlsVersionName names a version the way OpenSSL does (PP2_SUBTYPE_SSL_VERSION).
func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS10:
		return "TLSv1"
	}
	return ""
}

// closeWriter is a connection that can half-close.
type closeWriter interface{ CloseWrite() error }

// pipe copies both ways until both directions ended, propagating
// half-closes, and returns the byte counts. raw is the accepted
// connection, for the log.
func (p *Proxy) pipe(raw, in, out net.Conn) (up, down int64) {
	var last atomic.Int64 // unix nanoseconds of the last data, either way
	last.Store(time.Now().UnixNano())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		down = p.copy(in, out, &last, p.m.bytesOut, raw, "target")
	}()
	up = p.copy(out, in, &last, p.m.bytesIn, raw, "client")
	wg.Wait()
	return up, down
}

// copy copies src to dst, then half-closes dst. A plain TCP source is
// read through its raw descriptor, so an idle one holds no buffer at all;
// other sources (TLS) are read with a small buffer, and a read that fills
// it switches to a pooled 32 KiB buffer, given back once reads are small
// again, so idle connections stay small. A TLS alert read from src (side
// says whose) is logged with its finding id: in TLS 1.3 a server refuses
// a client certificate only after the client's handshake is over.
func (p *Proxy) copy(dst, src net.Conn, last *atomic.Int64, count prometheus.Counter, raw net.Conn, side string) int64 {
	var read readFunc
	if rc := rawReader(src); rc != nil {
		read = rc.read
	} else {
		read = p.bufferedReader(src)
	}
	var total int64
	idle := p.IdleTimeout
	for {
		if idle > 0 {
			src.SetReadDeadline(time.Now().Add(idle))
		}
		err := read(func(b []byte) error {
			last.Store(time.Now().UnixNano())
			if _, err := dst.Write(b); err != nil {
				return err
			}
			total += int64(len(b))
			count.Add(float64(len(b)))
			return nil
		})
		if err != nil {
			var we *writeError
			if errors.As(err, &we) {
				src.Close()
				dst.Close()
				return total
			}
			if errors.Is(err, os.ErrDeadlineExceeded) && idle > 0 && !p.closing.Load() {
				if time.Since(time.Unix(0, last.Load())) < idle {
					continue // the other direction is busy
				}
			}
			if _, ok := tlskit.PeerAlert(err); ok {
				p.alerted(raw, side, total, err)
			}
			if err == io.EOF {
				if cw, ok := dst.(closeWriter); ok {
					if cw.CloseWrite() == nil {
						return total
					}
				}
			}
			// An error, an idle timeout, or no half-close: end both ways.
			src.Close()
			dst.Close()
			return total
		}
	}
}

// writeError marks a failed write to the destination, to tell it from a
// read error.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// readFunc reads once from a source and hands the data, if any, to
// deliver before returning. It returns io.EOF at the end of the stream,
// deliver's error as a *writeError, or the read error.
type readFunc func(deliver func([]byte) error) error

// bufferedReader reads src with a small buffer that grows to a pooled
// one while reads fill it.
func (p *Proxy) bufferedReader(src net.Conn) readFunc {
	small := make([]byte, smallBufSize)
	var big *[]byte
	return func(deliver func([]byte) error) error {
		buf := small
		if big != nil {
			buf = *big
		}
		n, err := src.Read(buf)
		if n > 0 {
			if werr := deliver(buf[:n]); werr != nil {
				if big != nil {
					bufPool.Put(big)
					big = nil
				}
				return &writeError{werr}
			}
			switch {
			case big == nil && n == len(small):
				big = bufPool.Get().(*[]byte)
			case big != nil && n < len(small):
				bufPool.Put(big)
				big = nil
			}
		}
		if err != nil && big != nil {
			bufPool.Put(big)
			big = nil
		}
		return err
	}
}

// rawConn reads a plain socket straight from its descriptor.
type rawConn struct{ rc syscall.RawConn }

// rawReader returns a reader for a plain TCP or Unix socket, or nil for
// anything else (TLS, or a wrapper that may hold buffered bytes).
func rawReader(c net.Conn) *rawConn {
	var sc syscall.Conn
	switch c := c.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return &rawConn{rc}
}

// read waits until the socket is readable without holding a buffer, then
// reads into a pooled one and delivers the data.
func (r *rawConn) read(deliver func([]byte) error) error {
	var n int
	var rerr error
	var buf *[]byte
	err := r.rc.Read(func(fd uintptr) bool {
		if buf == nil {
			buf = bufPool.Get().(*[]byte)
		}
		for {
			n, rerr = syscall.Read(int(fd), *buf)
			if rerr != syscall.EINTR {
				break
			}
		}
		if rerr == syscall.EAGAIN {
			bufPool.Put(buf) // wait for data holding nothing
			buf = nil
			return false
		}
		return true
	})
	if buf != nil {
		defer bufPool.Put(buf)
	}
	if err != nil {
		return err
	}
	if rerr != nil {
		return os.NewSyscallError("read", rerr)
	}
	if n <= 0 {
		return io.EOF
	}
	if werr := deliver((*buf)[:n]); werr != nil {
		return &writeError{werr}
	}
	return nil
}
