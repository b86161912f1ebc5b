//go:build unix

package lab

import (
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// ReserveRefused reserves a loopback port on which connections are refused: a
// TCP socket bound to it that never listens. Holding the socket keeps other
// programs from taking the port, so "connection refused" is certain until
// release is called.
func ReserveRefused(host string) (addr string, release func(), err error) {
	ip := net.ParseIP(host)
	if ip == nil {
		return "", nil, fmt.Errorf("lab: %q is not an IP address", host)
	}
	var fd int
	var sa syscall.Sockaddr
	if ip4 := ip.To4(); ip4 != nil {
		fd, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		s := &syscall.SockaddrInet4{}
		copy(s.Addr[:], ip4)
		sa = s
	} else {
		fd, err = syscall.Socket(syscall.AF_INET6, syscall.SOCK_STREAM, 0)
		s := &syscall.SockaddrInet6{}
		copy(s.Addr[:], ip.To16())
		sa = s
	}
	if err != nil {
		return "", nil, fmt.Errorf("lab: socket for the refused case: %w", err)
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return "", nil, fmt.Errorf("lab: binding the refused case's port: %w", err)
	}
	got, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return "", nil, fmt.Errorf("lab: refused case: %w", err)
	}
	var port int
	switch s := got.(type) {
	case *syscall.SockaddrInet4:
		port = s.Port
	case *syscall.SockaddrInet6:
		port = s.Port
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), func() { syscall.Close(fd) }, nil
}
