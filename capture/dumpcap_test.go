package capture

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

// liveCapture is dumpcap recording loopback for a test. Its start and end
// are observed, not guessed: a marker connection to a listener of the
// test's own, inside the capture filter, sends a line and the test waits
// until that line is in the file (a UDP datagram: it takes no tcp.stream
// number from the connections under test, and is reported as no
// connection). Loopback packets reach dumpcap's socket
// in the order they were sent, so the end marker in the file means every
// packet before it is there too (libpcap hands packets over in blocks
// retired every few hundred milliseconds, more under load: a fixed sleep
// before SIGINT lost the last packets of a busy run).
type liveCapture struct {
	t      *testing.T
	path   string
	cmd    *exec.Cmd
	stderr bytes.Buffer
	mark   net.PacketConn
	marks  int
}

// markerWait bounds the wait for a marker to reach the file: far beyond
// libpcap's block timeout, so only a broken dumpcap reaches it.
const markerWait = 60 * time.Second

// startCapture starts dumpcap on loopback with filter (plus the marker's
// UDP port) writing a pcapng file in a temporary directory, and returns once a
// marker sent after the start is in the file.
func startCapture(t *testing.T, dumpcap, filter string) *liveCapture {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	lc := &liveCapture{t: t, path: filepath.Join(t.TempDir(), "live.pcapng"), mark: pc}
	f := fmt.Sprintf("(%s) or udp dst port %d", filter, pc.LocalAddr().(*net.UDPAddr).Port)
	lc.cmd = exec.Command(dumpcap, "-q", "-i", "lo", "-f", f, "-w", lc.path)
	lc.cmd.Stderr = &lc.stderr
	if err := lc.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if lc.cmd.ProcessState == nil {
			lc.cmd.Process.Kill()
			lc.cmd.Wait()
		}
	})
	// The first markers may be sent before dumpcap's socket exists: send
	// one every half second until one arrives.
	lc.waitMarker("start", 500*time.Millisecond)
	return lc
}

// stop waits until everything sent so far is in the file, stops dumpcap
// and returns the file's path.
func (lc *liveCapture) stop() string {
	lc.t.Helper()
	lc.waitMarker("end", markerWait)
	lc.cmd.Process.Signal(syscall.SIGINT)
	lc.cmd.Wait()
	return lc.path
}

// waitMarker sends a marker line (again every resend) until the file
// holds it.
func (lc *liveCapture) waitMarker(what string, resend time.Duration) {
	lc.t.Helper()
	lc.marks++
	line := []byte(fmt.Sprintf("MARK tlskit-%s-%d-%d\n", what, lc.marks, time.Now().UnixNano()))
	deadline := time.Now().Add(markerWait)
	var sent time.Time
	for time.Now().Before(deadline) {
		if time.Since(sent) >= resend {
			if c, err := net.Dial("udp", lc.mark.LocalAddr().String()); err == nil {
				c.Write(line)
				c.Close()
			}
			sent = time.Now()
		}
		if b, err := os.ReadFile(lc.path); err == nil && bytes.Contains(b, line) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	lc.t.Fatalf("dumpcap: the %s marker never reached %s in %v: %s", what, lc.path, markerWait, lc.stderr.String())
}
