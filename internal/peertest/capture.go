package peertest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Capture is dumpcap recording loopback for a test ([StartCapture]). Its
// start and end are observed, not guessed: a UDP datagram to a socket of
// the test's own, inside the capture filter, carries a marker line, and
// the test waits until that line is in the file (a datagram takes no
// tcp.stream number from the connections under test, and pcap reports it
// as no connection). Loopback packets reach dumpcap's socket in the order
// they were sent, so the end marker in the file means every packet before
// it is there too: libpcap hands packets over in blocks retired every few
// hundred milliseconds, more under load, and a fixed sleep before SIGINT
// lost the last packets of a busy run.
type Capture struct {
	t      testing.TB
	path   string
	cmd    *exec.Cmd
	stderr SyncBuffer
	mark   net.PacketConn
	marks  int
}

// markerWait bounds the wait for a marker to reach the file: far beyond
// libpcap's block timeout, so only a broken dumpcap reaches it.
const markerWait = 60 * time.Second

// StartCapture starts dumpcap ([Need]s it) on loopback with filter (plus
// the marker's UDP port), writing a pcapng file in a temporary directory,
// and returns once a marker sent after the start is in the file.
func StartCapture(t testing.TB, filter string) *Capture {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	c := &Capture{t: t, path: filepath.Join(t.TempDir(), "live.pcapng"), mark: pc}
	f := fmt.Sprintf("(%s) or udp dst port %d", filter, pc.LocalAddr().(*net.UDPAddr).Port)
	c.cmd = exec.Command(Need(t, "dumpcap"), "-q", "-i", "lo", "-f", f, "-w", c.path)
	c.cmd.Stderr = &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	// The first markers may be sent before dumpcap's socket exists: send
	// one every half second until one arrives.
	c.waitMarker("start", 500*time.Millisecond)
	return c
}

// Stop waits until everything sent so far is in the file, stops dumpcap
// and returns the file's path.
func (c *Capture) Stop() string {
	c.t.Helper()
	c.waitMarker("end", markerWait)
	c.cmd.Process.Signal(syscall.SIGINT)
	c.cmd.Wait()
	return c.path
}

// waitMarker sends a marker line (again every resend) until the file
// holds it.
func (c *Capture) waitMarker(what string, resend time.Duration) {
	c.t.Helper()
	c.marks++
	line := []byte(fmt.Sprintf("MARK tlskit-%s-%d-%d\n", what, c.marks, time.Now().UnixNano()))
	deadline := time.Now().Add(markerWait)
	var sent time.Time
	for time.Now().Before(deadline) {
		if time.Since(sent) >= resend {
			if u, err := net.Dial("udp", c.mark.LocalAddr().String()); err == nil {
				u.Write(line)
				u.Close()
			}
			sent = time.Now()
		}
		if b, err := os.ReadFile(c.path); err == nil && bytes.Contains(b, line) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("dumpcap: the %s marker never reached %s in %v: %s", what, c.path, markerWait, c.stderr.String())
}
