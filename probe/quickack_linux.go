//go:build linux

package probe

import (
	"net"
	"syscall"
)

// quickAck asks the kernel to acknowledge what the server sends next at
// once instead of delaying the ACK (TCP_QUICKACK; the kernel falls back to
// delayed ACKs as soon as we write, so it is set again before each read).
// After a TLS 1.3 handshake a server sends its session tickets; one that
// does not set TCP_NODELAY (Postfix) then holds its next reply until they
// are acknowledged, which a delayed ACK postpones by 40 ms to several
// hundred: the first reply inside TLS waited for it (measured with
// bench/starttls.sh).
func quickAck(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
