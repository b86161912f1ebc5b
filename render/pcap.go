package render

import (
	"fmt"
	"io"
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
	if o.Now.IsZero() {
		o.Now = c.VerifiedAt
	}
	if o.Now.IsZero() {
		o.Now = c.First
	}
	p.f("━━ %s  client %s → server %s  %s", c.Stream(), c.Client, c.Server, stamp(c.First))
	if c.ServerName != "" {
		p.f(", server name %s", c.ServerName)
	}
	p.f("\n")
	if !o.Brief {
		Transcript(w, c.Transcript, o)
		p.f("  %s\n", ClosedBy(c.ClosedBy))
		for _, pr := range c.Problems {
			p.f("%s", indent(wrap("note: "+pr, 92), "  "))
		}
		Chain(w, c.Chain, c.VerifiedPath, o.Now)
		if !c.VerifiedAt.IsZero() {
			p.f("  (verified as of %s, the capture time of the server's Certificate message)\n", stamp(c.VerifiedAt))
		}
	}
	verdictLine(p, &c.Report)
	Findings(w, c.Findings)
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

// CaptureData writes one run of decrypted application data as it is
// decoded (pcap --data): a header line, then the bytes as text when they
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
	p.f("%s: %d packets, %d TLS connections", s.Format, s.Packets, s.Connections)
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
