package peertest

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"testing"
)

// Serve starts an in-process TCP server on a free port of 127.0.0.1, for
// the failure modes no real peer can be made to show, and returns its
// address. It accepts connections until the test ends, when it closes the
// listener, and calls handle on each one in a goroutine of its own,
// closing the connection when handle returns. Deadlines are handle's to
// set.
func Serve(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	return serve(loopback(t), handle)
}

// ServeTLS is [Serve] with a crypto/tls server configured by cfg: handle
// gets each connection before its handshake, which it runs (explicitly,
// or by its first read or write); closing it after handle sends
// close_notify when the handshake completed.
func ServeTLS(t testing.TB, cfg *tls.Config, handle func(*tls.Conn)) string {
	t.Helper()
	return serve(tls.NewListener(loopback(t), cfg), func(c net.Conn) { handle(c.(*tls.Conn)) })
}

// ServeOne is [Serve] for one connection: it accepts only the first, and
// a later one is never served.
func ServeOne(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln := loopback(t)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		serveConn(c, handle)
	}()
	return ln.Addr().String()
}

// loopback listens on a free port of 127.0.0.1 until the test ends.
func loopback(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// serve accepts connections on ln until it is closed and serves each with
// handle in a goroutine of its own.
func serve(ln net.Listener, handle func(net.Conn)) string {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveConn(c, handle)
		}
	}()
	return ln.Addr().String()
}

// serveConn calls handle on c and closes c.
func serveConn(c net.Conn, handle func(net.Conn)) {
	defer c.Close()
	handle(c)
}

// Replay returns c with read put back in front of it: its reads return
// read first, then c's. An in-process fake that looked at a ClientHello
// hands the connection on to a crypto/tls server so.
func Replay(c net.Conn, read []byte) net.Conn {
	return &replayConn{Conn: c, r: io.MultiReader(bytes.NewReader(read), c)}
}

type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(b []byte) (int, error) { return c.r.Read(b) }
