package peertest

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// TestListensOn: the listener of a port is found in the process that holds
// it (and its ancestors' families), not in another process.
func TestListensOn(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		Skip(t, "no /proc/net/tcp: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if !listensOn(os.Getpid(), port) {
		t.Errorf("this process listens on %d, listensOn says it does not", port)
	}
	other := exec.Command(Need(t, "sleep"), "10")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { other.Process.Kill(); other.Wait() }()
	if listensOn(other.Process.Pid, port) {
		t.Errorf("sleep does not listen on %d, listensOn says it does", port)
	}
	ln.Close()
	if listensOn(os.Getpid(), port) {
		t.Errorf("nothing listens on %d any more, listensOn says this process does", port)
	}
	// A real server started by Start: its listener is found in it.
	s := Start(t, "socat", "TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", "SYSTEM:true")
	_, p, _ := net.SplitHostPort(s.Addr)
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	if !listensOn(s.cmd.Process.Pid, n) {
		t.Errorf("socat listens on %s, listensOn says it does not", s.Addr)
	}
}
