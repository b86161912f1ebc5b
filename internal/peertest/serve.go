package peertest

import (
	"crypto/tls"
	"net"
	"testing"
)

// Serve starts an in-process TCP server on a free port of 127.0.0.1 for
// the failure modes no real peer can be made to show, and returns its
// address. It accepts connections until the test ends, when it closes the
// listener, and calls handle on each one in a goroutine of its own,
// closing the connection when handle returns. Deadlines are handle's to
// set.
func Serve(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, ln, handle)
}

// ServeTLS is [Serve] with a crypto/tls server configured by cfg: handle
// gets each connection before its handshake (which it runs, explicitly or
// by its first read or write).
func ServeTLS(t testing.TB, cfg *tls.Config, handle func(*tls.Conn)) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, ln, func(c net.Conn) { handle(c.(*tls.Conn)) })
}

func serve(t testing.TB, ln net.Listener, handle func(net.Conn)) string {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}
