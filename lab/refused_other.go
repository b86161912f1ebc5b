//go:build !unix

package lab

import "net"

// ReserveRefused finds a port on which connections are refused by listening on
// port 0 and closing the listener; another program may take the port in
// between (on Unix a bound, non-listening socket holds it instead).
func ReserveRefused(host string) (addr string, release func(), err error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", nil, err
	}
	addr = ln.Addr().String()
	ln.Close()
	return addr, func() {}, nil
}
