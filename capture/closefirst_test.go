package capture

import (
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/transcript"
)

// TestLiveServerClosesBeforeClientHello records, with dumpcap, a server
// that closes the connection (FIN) as soon as it accepts it, before the
// client's ClientHello, and resets it (RST) when the ClientHello arrives
// unread: what openssl s_server with its stdin at EOF does. With s_server
// the order of its FIN and the client's ClientHello is a race, so the
// server here is an in-process fake (peertest.Serve) and the client, Go's
// crypto/tls, sends its ClientHello only once it has read the FIN: the
// order is fixed. tshark's reading of the capture is the oracle for the
// order: the server's FIN, then the Client Hello, then the server's RST.
// tlskit said the server closed the connection "after the client's
// client_hello" (the last message of the transcript, not the last one
// before the close), and the RST was not in the transcript at all.
func TestLiveServerClosesBeforeClientHello(t *testing.T) {
	if testing.Short() {
		t.Skip("live capture in -short mode")
	}
	peertest.Need(t, "dumpcap")
	peertest.Need(t, "tshark")
	got := make(chan struct{})
	addr := peertest.Serve(t, func(c net.Conn) {
		tc := c.(*net.TCPConn)
		tc.CloseWrite() // FIN, before anything is read
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		var b [1]byte
		c.Read(b[:])    // the ClientHello has arrived
		tc.SetLinger(0) // close with it unread: RST
		c.Close()       // before the client closes, which then sends nothing
		close(got)
	})
	lc := peertest.StartCapture(t, "tcp port "+port(addr))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := io.Copy(io.Discard, c); n != 0 || err != nil {
		t.Fatalf("before the FIN the server sent %d bytes (%v)", n, err)
	}
	hs := tls.Client(c, &tls.Config{ServerName: "localhost"}).Handshake()
	<-got
	c.Close()
	pcap := lc.Stop()
	if hs == nil {
		t.Fatal("the handshake completed")
	}

	// The oracle: tshark's order of the server's FIN, the ClientHello and
	// the server's RST. The port is decoded as TLS: tshark's heuristics do
	// not always take a ClientHello after the server's FIN for TLS.
	sp := port(addr)
	asTLS := []string{"-d", "tcp.port==" + sp + ",tls"}
	fin := tsharkFrames(t, pcap, "tcp.flags.fin == 1 && tcp.srcport == "+sp)
	hello := tsharkFrames(t, pcap, "tls.handshake.type == 1", asTLS...)
	rst := tsharkFrames(t, pcap, "tcp.flags.reset == 1 && tcp.srcport == "+sp)
	if len(fin) != 1 || len(hello) != 1 || len(rst) == 0 || !(fin[0] < hello[0] && hello[0] < rst[0]) {
		t.Fatalf("tshark: server FIN in frames %v, ClientHello %v, server RST %v: want that order", fin, hello, rst)
	}

	if testing.Verbose() {
		t.Log(runTshark(t, []string{"-r", pcap, "-T", "fields", "-e", "frame.number", "-e", "tcp.srcport", "-e", "tcp.flags.str", "-e", "_ws.col.Info"}))
	}
	res := analyze(t, pcap, "", Options{})
	if res.err != nil || len(res.conns) != 1 {
		t.Fatalf("%v, %d connections", res.err, len(res.conns))
	}
	conn := res.conns[0]
	if conn.ClosedBy == nil || conn.ClosedBy.By != transcript.Server || conn.ClosedBy.How != transcript.CloseFIN {
		t.Errorf("closed by %+v, want the server with FIN", conn.ClosedBy)
	}
	// The transcript, in tshark's order: FIN, ClientHello, RST.
	var order []string
	for _, e := range conn.Transcript {
		if e.Type == transcript.TypeClose || e.Type == "client_hello" {
			order = append(order, string(e.From)+" "+e.Type+" "+e.Note)
		}
	}
	want := []string{"server close TCP FIN: closed the connection", "client client_hello ", "server close TCP RST: reset the connection"}
	if strings.Join(order, "\n") != strings.Join(want, "\n") {
		t.Errorf("transcript:\n%s\nwant:\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}
	var said []string
	for _, f := range conn.Findings {
		if f.Severity != finding.Error {
			continue
		}
		said = append(said, f.ID+": "+f.Title+" "+f.Detail)
		if strings.Contains(f.Title+f.Detail, "(FIN) after the client's client_hello") {
			t.Errorf("%s says the close came after the ClientHello: %s %s", f.ID, f.Title, f.Detail)
		}
	}
	if s := strings.Join(said, "\n"); !strings.Contains(s, "(FIN) before any message was sent (before the client's client_hello)") || !strings.Contains(s, "after the client's client_hello, it reset the connection (RST)") {
		t.Errorf("no finding says the server closed before the ClientHello:\n%s", strings.Join(said, "\n"))
	}
}
