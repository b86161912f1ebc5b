package render

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/tlskit/tlskit/capture"
	"github.com/tlskit/tlskit/transcript"
)

// stamp formats a capture timestamp to the millisecond, in UTC.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "(no time)"
	}
	return t.UTC().Format("2006-01-02 15:04:05.000Z")
}

// CaptureConnection writes the report on one connection of a capture: who
// talked to whom and when, then the same ladder, chain, verdict and
// findings as `tlskit check`, and who closed the connection.
func CaptureConnection(w io.Writer, c *capture.Connection, o Options) error {
	p := &printer{w: w}
	now := c.VerifiedAt
	if o.Time != nil {
		now = o.Time()
	}
	if now.IsZero() {
		now = c.First
	}
	p.f("━━ %s  client %s → server %s  %s", c.Stream(), c.Client, c.Server, stamp(c.First))
	if host, _, err := net.SplitHostPort(c.Server); c.ServerName != "" && err == nil && c.ServerName == host && !sentSNI(c.Transcript) {
		// No SNI: the client is taken to have connected to the address
		// (the findings say so); no name was sent.
		p.f(", no SNI: verified for the address")
	} else if c.ServerName != "" {
		p.f(", server name %s", c.ServerName)
	}
	p.f("\n")
	if !o.Brief {
		Transcript(w, c.Transcript, o)
		p.f("  %s\n", ClosedBy(c.ClosedBy))
		for _, pr := range c.Problems {
			p.f("%s", indent(wrap("note: "+pr, o.width()-2), "  "))
		}
		chain(w, c.Chain, c.VerifiedPath, now, o.width())
		if !c.VerifiedAt.IsZero() {
			p.f("  (verified as of %s, the capture time of the server's Certificate message)\n", stamp(c.VerifiedAt))
		}
	}
	verdictLine(p, &c.Report, o.width())
	AddFlags(c.Findings, o.Flags)
	FindingsWidth(w, c.Findings, o.width())
	p.f("\n")
	return p.err
}

// ClosedBy says who closed a captured connection, how and when, e.g.
// "closed by the server with FIN at 2016-…Z, after alert fatal
// certificate_required".
func ClosedBy(c *transcript.Closure) string {
	if c == nil {
		return "still open when the capture ended"
	}
	how := map[transcript.CloseHow]string{
		transcript.CloseFIN: "FIN",
		transcript.CloseRST: "RST (reset)",
	}[c.How]
	if how == "" {
		how = string(c.How)
	}
	s := fmt.Sprintf("closed by the %s with %s at %s", c.By, how, stamp(c.Time))
	if c.AfterAlert != "" {
		s += ", after alert " + c.AfterAlert
	}
	return s
}

// DataPrinter writes decrypted application data (pcap --data) for people:
// a header per record, then the data as text when it is printable, else as
// a hex dump. It reuses one buffer, so printing a capture's worth of data
// allocates almost nothing. The zero value with W set is ready to use.
type DataPrinter struct {
	W io.Writer
	// Hex dumps binary data in full; otherwise a binary record shows its
	// first 32 bytes and its size (a full dump of a download helps nobody
	// reading a terminal, and costs three bytes of output per byte).
	Hex bool
	buf []byte
	h2  map[connKey]*h2Conn // HTTP/2 decoding per connection, nil when not HTTP/2
}

// Print writes one record's data sent by from on connection c at t.
func (d *DataPrinter) Print(c *capture.Conn, from transcript.Side, t time.Time, data []byte) error {
	field := "tcp.stream"
	if c.UDP {
		field = "udp.stream"
	}
	if h := d.h2State(c, from, data); h != nil {
		// HTTP/2: the frames this record completes, decoded.
		head := func(b []byte, what string) []byte {
			if what == "" {
				return fmt.Appendf(b, "%s %d %s %s  %d bytes\n", field, c.Index, stamp(t), from.Arrow(), len(data))
			}
			return h2Heading(b, c, t, from, what)
		}
		d.buf = d.h2Data(d.buf[:0], head, h, from, data)
		_, err := d.W.Write(d.buf)
		return err
	}
	b := fmt.Appendf(d.buf[:0], "%s %d %s %s  %d bytes\n", field, c.Index, stamp(t), from.Arrow(), len(data))
	switch {
	case looksLikeText(data):
		b = appendText(b, data, "  | ")
	case d.Hex || len(data) <= 32:
		b = appendHex(b, data, "  | ")
	default:
		b = appendHex(b, data[:32], "  | ")
		b = fmt.Appendf(b, "  | … %d more bytes of binary data (--hex shows them all)\n", len(data)-32)
	}
	d.buf = b
	_, err := d.W.Write(b)
	return err
}

// CaptureSummary writes the closing lines about the whole capture.
func CaptureSummary(w io.Writer, s *capture.Summary) error {
	p := &printer{w: w}
	format := s.Format
	if format == "" {
		format = "capture (its header was not read)"
	}
	p.f("%s: %d packets, %d TLS connections", format, s.Packets, s.Connections)
	if s.Ignored > 0 {
		p.f(", %d non-TLS TCP connections ignored", s.Ignored)
	}
	if s.Filtered > 0 {
		p.f(", %d left out by --filter", s.Filtered)
	}
	if s.SecretsBlocks > 0 {
		p.f(", %d decryption secrets blocks", s.SecretsBlocks)
	}
	p.f("\n")
	for _, pr := range s.Problems {
		p.f("%s", indent(wrap("problem: "+pr, 96), ""))
	}
	return p.err
}

// CapturePrinter prints a capture's connections as they end and its summary
// at the end (`tlskit pcap`): as text, or as one JSON object,
// {"connections": [...], "summary": {...}}, streamed an element at a time
// so that a large capture is never held in memory. Set its fields, then
// call Connection for each connection and Summary once.
type CapturePrinter struct {
	// W receives the output.
	W io.Writer
	// JSON prints the JSON object instead of text.
	JSON bool
	// Brief prints only each connection's verdict and findings (text).
	Brief bool
	// Width and Flags are as in Options.
	Width int
	Flags map[string]string
	n     int
}

// Connection prints one connection.
func (o *CapturePrinter) Connection(c *capture.Connection) error {
	o.n++
	if !o.JSON {
		return CaptureConnection(o.W, c, Options{Brief: o.Brief, Data: true, Width: o.Width, Flags: o.Flags})
	}
	AddFlags(c.Findings, o.Flags)
	sep := ",\n"
	if o.n == 1 {
		sep = "{\n  \"connections\": [\n"
	}
	b, err := json.MarshalIndent(c, "    ", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.W, "%s    %s", sep, b)
	return err
}

// Summary prints the summary and ends the JSON object.
func (o *CapturePrinter) Summary(s *capture.Summary) error {
	if !o.JSON {
		return CaptureSummary(o.W, s)
	}
	if s.Problems == nil {
		s.Problems = []string{} // always present, as documented
	}
	if o.n == 0 {
		fmt.Fprintf(o.W, "{\n  \"connections\": [")
	} else {
		fmt.Fprintf(o.W, "\n  ")
	}
	b, err := json.MarshalIndent(s, "  ", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.W, "],\n  \"summary\": %s\n}\n", b)
	return err
}

// Pipe prints decrypted data and connection reports on a goroutine of its
// own, in the order they were decoded (pcap --data): printing the data
// costs about as much as decrypting it, so it runs on another core. Data is
// copied into batches that go over a channel and come back for reuse, so
// the decoder neither waits for output nor allocates per record. Its Data
// and Connection methods are capture.Options' OnData and OnConnection;
// call Close when the analysis ends.
type Pipe struct {
	dp      *DataPrinter
	report  func(*capture.Connection) error
	batches chan *printBatch
	free    chan *printBatch
	cur     *printBatch
	done    chan struct{}
	err     error // the printer's first error, read after done
	failed  chan struct{}
}

// printBatch is a run of things to print.
type printBatch struct {
	buf  []byte
	jobs []printJob
}

// printJob is one record of data (buf[off:end]) or one connection report.
type printJob struct {
	conn     *capture.Conn
	from     transcript.Side
	t        time.Time
	off, end int
	report   *capture.Connection
}

const printBatchBytes = 256 << 10

// NewPipe starts a pipe that prints data with dp and each connection's
// report with report, on a goroutine of its own.
func NewPipe(dp *DataPrinter, report func(*capture.Connection) error) *Pipe {
	p := &Pipe{dp: dp, report: report, batches: make(chan *printBatch, 4), free: make(chan *printBatch, 6),
		done: make(chan struct{}), failed: make(chan struct{})}
	for range 6 {
		p.free <- &printBatch{buf: make([]byte, 0, printBatchBytes)}
	}
	p.cur = <-p.free
	go p.run(p.batches) // the channel, not the field: close sets the field to nil
	return p
}

func (p *Pipe) run(batches <-chan *printBatch) {
	defer close(p.done)
	for b := range batches {
		for _, j := range b.jobs {
			if p.err != nil {
				break
			}
			if j.report != nil {
				p.err = p.report(j.report)
				p.dp.End(j.report) // its data is all printed
			} else {
				p.err = p.dp.Print(j.conn, j.from, j.t, b.buf[j.off:j.end])
			}
			if p.err != nil {
				close(p.failed)
			}
		}
		b.buf, b.jobs = b.buf[:0], b.jobs[:0]
		p.free <- b
	}
}

// Data queues one record of decrypted data.
func (p *Pipe) Data(c *capture.Conn, from transcript.Side, t time.Time, data []byte) {
	if len(data) == 0 {
		return // TLS 1.0 CBC clients send empty records against BEAST
	}
	b := p.cur
	if len(b.buf)+len(data) > cap(b.buf) && len(b.jobs) > 0 {
		p.flush()
		b = p.cur
	}
	off := len(b.buf)
	b.buf = append(b.buf, data...)
	b.jobs = append(b.jobs, printJob{conn: c, from: from, t: t, off: off, end: len(b.buf)})
}

// Connection queues a connection's report. It returns the printer's error
// once it has one, which stops the analysis.
func (p *Pipe) Connection(c *capture.Connection) error {
	select {
	case <-p.failed:
		return p.Close()
	default:
	}
	p.cur.jobs = append(p.cur.jobs, printJob{report: c})
	p.flush() // reports are rare: print each without waiting for more data
	return nil
}

func (p *Pipe) flush() {
	if p.batches == nil { // closed after an error: drop the rest
		p.cur.buf, p.cur.jobs = p.cur.buf[:0], p.cur.jobs[:0]
		return
	}
	p.batches <- p.cur
	p.cur = <-p.free
}

// Close prints what is queued and waits for the printer to finish; it
// returns the printer's first error.
func (p *Pipe) Close() error {
	if p.batches != nil {
		if len(p.cur.jobs) > 0 {
			p.batches <- p.cur
		}
		close(p.batches)
		p.batches = nil
	}
	<-p.done
	return p.err
}

// sentSNI reports whether the transcript's ClientHello carried a server
// name.
func sentSNI(events []transcript.Event) bool {
	for _, e := range events {
		if e.From == transcript.Client && e.Type == "client_hello" {
			_, ok := e.Field("SNI")
			return ok
		}
	}
	return false
}
