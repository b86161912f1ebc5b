package cli

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tlskit/tlskit/capture"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/render"
	"github.com/tlskit/tlskit/transcript"
)

// pcapFlags are the options of `tlskit pcap`.
type pcapFlags struct {
	keylogFile string
	rsaKeys    []string
	psk        string
	jsonOut    bool
	data       bool
	hex        bool
	brief      bool
	trust      trustFlags
	filter     string
}

// newPcapCmd is `tlskit pcap`.
func newPcapCmd(stdio Stdio) *cobra.Command {
	var f pcapFlags
	cmd := &cobra.Command{
		Use:   "pcap [flags] FILE",
		Short: "Explain the TLS connections in a pcap or pcapng capture",
		Long: `pcap reads a pcap or pcapng capture (gzip-compressed or not), reassembles
every TCP connection and explains each TLS connection in it exactly as
'tlskit check' explains a live one: the handshake ladder, decrypted where
secrets are known, the server's chain, the findings, and who closed the
connection (alert, FIN or RST, from which side, and when).

Secrets come from --keylog (NSS key log format: SSLKEYLOGFILE, openssl
-keylogfile, tshark --export-tls-session-keys) and from pcapng Decryption
Secrets Blocks anywhere in the file (editcap --inject-secrets). Connections
that used RSA key exchange (TLS_RSA_WITH_… suites) can also be decrypted
with the server's private key (--rsa-key), and plain PSK suites
(TLS_PSK_WITH_…) with the pre-shared key (--psk).

Chains are verified as of the capture time of the server's Certificate
message, not now, so an old capture is not called expired; --verify-time
overrides it. The name verified is each ClientHello's SNI, or --servername;
without either the chain is verified but its names are not (name.not-checked).

` + trustHelp + `

TCP flows that carry no TLS are left out. UDP flows that start with a
DTLS 1.0 or 1.2 record are decoded as DTLS; other UDP is left out.
Each connection is printed as soon as it ends in the capture.

Exit status: 0 every TLS connection completed without an error finding;
1 a problem was found (or the file is truncated or corrupt after some
packets); 2 usage error or a file that is not a capture.`,
		Example: `  tlskit pcap --keylog keys.log capture.pcapng
  tlskit pcap capture-with-secrets.pcapng          # secrets from DSBs
  tlskit pcap --data --keylog keys.log capture.pcap
  tlskit pcap --rsa-key server.key old-rsa-kex.pcap
  tlskit pcap --psk 0a1b2c3d… dtls-psk.pcap
  tlskit pcap --json --filter :443 capture.pcap.gz
  tlskit pcap --ca-file corp-root.pem --keylog keys.log capture.pcapng`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("example: tlskit pcap --keylog keys.log capture.pcapng", "pcap takes one capture FILE, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPcap(stdio, &f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&f.keylogFile, "keylog", "", "decrypt with the secrets in `FILE` (NSS key log format)")
	fl.StringArrayVar(&f.rsaKeys, "rsa-key", nil, "decrypt RSA key exchanges with the server's private key in `FILE` (PEM or DER; repeatable)")
	fl.StringVar(&f.psk, "psk", "", "decrypt plain PSK cipher suites with this pre-shared key (`HEX`)")
	fl.BoolVar(&f.jsonOut, "json", false, "print one JSON object ({connections: [...], summary}) instead of text")
	fl.BoolVar(&f.data, "data", false, "also print decrypted application data: text in full, binary as its first bytes")
	fl.BoolVar(&f.hex, "hex", false, "with --data, dump binary application data in full, in hex")
	fl.BoolVar(&f.brief, "brief", false, "print only each connection's verdict and findings")
	f.trust.register(fl, groupTrust|groupName|groupTime, 0)
	fl.StringVar(&f.filter, "filter", "", "only connections with this endpoint: `HOST:PORT`, HOST, or :PORT")
	return cmd
}

func runPcap(stdio Stdio, f *pcapFlags, path string) error {
	pol, err := f.trust.policy(stdio.Err)
	if err != nil {
		return err
	}
	v, err := verifier(pol)
	if err != nil {
		return err
	}
	go v.Anchors.Preload() // parse the system roots on the other core while the capture is read
	opts := capture.Options{Verifier: v, ServerName: pol.ServerName, Time: pol.Time}
	if f.filter != "" {
		match, err := endpointFilter(f.filter)
		if err != nil {
			return err
		}
		opts.Filter = func(client, server string) bool { return match(client) || match(server) }
	}
	if f.keylogFile != "" {
		l, err := keylog.ParseFile(f.keylogFile)
		if l == nil {
			return usagef("--keylog takes an NSS key log file (SSLKEYLOGFILE)", "--keylog: %s", strings.TrimPrefix(err.Error(), "keylog: "))
		}
		for _, e := range lineErrors(err) {
			msg := e.Error()
			if le := (*keylog.LineError)(nil); errors.As(e, &le) {
				msg = fmt.Sprintf("line %d: %s", le.Line, le.Reason)
			}
			fmt.Fprintf(stdio.Err, "tlskit: warning: --keylog %s: %s (line ignored)\n", f.keylogFile, msg)
		}
		if l.Len() == 0 {
			fmt.Fprintf(stdio.Err, "tlskit: warning: --keylog %s holds no secrets\n", f.keylogFile)
		}
		opts.Keys = l
	}
	if len(f.rsaKeys) > 0 || f.psk != "" {
		if opts.Keys == nil {
			opts.Keys = &keylog.Log{}
		}
		for _, p := range f.rsaKeys {
			k, err := keylog.ParseRSAKeyFile(p)
			if err != nil {
				return usagef("--rsa-key takes the server's RSA private key, PEM or DER", "--rsa-key: %s", strings.TrimPrefix(err.Error(), "keylog: "))
			}
			opts.Keys.AddRSAKey(k)
		}
		if f.psk != "" {
			psk, err := hex.DecodeString(strings.TrimPrefix(f.psk, "0x"))
			if err != nil || len(psk) == 0 {
				return usagef("example: --psk ca19e028a8a372ad2d325f950fcaceed", "--psk takes the pre-shared key in hex, got %q", f.psk)
			}
			opts.Keys.SetPSK(psk)
		}
	}
	file, err := os.Open(path)
	if err != nil {
		return usagef("", "cannot read the capture: %v", err)
	}
	defer file.Close()

	var out pcapOutput
	// One buffered writer for reports and data: --data on a large capture
	// would otherwise make a system call per record.
	bw := bufio.NewWriterSize(stdio.Out, 256<<10)
	defer bw.Flush()
	out.w, out.json, out.brief = bw, f.jsonOut, f.brief
	if f.hex && !f.data {
		return usagef("add --data: tlskit pcap --data --hex FILE", "--hex goes with --data")
	}
	if f.data && f.jsonOut {
		opts.KeepData = true
	}
	opts.OnConnection = out.connection
	var pp *pipePrinter
	if f.data && !f.jsonOut {
		// Printing the data costs about as much as decrypting it: do it on
		// the other core, in order, while the capture is decoded.
		pp = newPipePrinter(&render.DataPrinter{W: bw, Hex: f.hex}, out.connection)
		opts.OnData = pp.data
		opts.OnConnection = pp.connection
	}
	sum, err := capture.Analyze(file, opts)
	if pp != nil {
		if perr := pp.close(); perr != nil && err == nil {
			err = perr
		}
	}
	if errors.Is(err, capture.ErrNotCapture) && sum.Packets == 0 {
		return usagef("give a pcap or pcapng file (tshark -w, tcpdump -w, dumpcap -w)", "%s: %s", path, strings.TrimPrefix(err.Error(), "capture: "))
	}
	if err := out.end(sum); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err != nil {
		var re *capture.ReadError
		if errors.As(err, &re) {
			fmt.Fprintf(stdio.Err, "tlskit: error: %s: %s\n", path, strings.TrimPrefix(err.Error(), "capture: "))
			if sum.Packets == 0 {
				return exitCode(ExitUsage)
			}
			return exitCode(ExitProblem)
		}
		return err
	}
	if out.problem {
		return exitCode(ExitProblem)
	}
	return nil
}

// pcapOutput prints connections as they end, as text or as the elements of
// a JSON array.
type pcapOutput struct {
	w       io.Writer
	json    bool
	brief   bool
	n       int
	problem bool
}

func (o *pcapOutput) connection(c *capture.Connection) error {
	if c.Verdict == diagnose.Failed || finding.Worst(c.Findings) == finding.Error {
		o.problem = true
	}
	o.n++
	if !o.json {
		return render.CaptureConnection(o.w, c, render.Options{Brief: o.brief, Data: true})
	}
	sep := ",\n"
	if o.n == 1 {
		sep = "{\n  \"connections\": [\n"
	}
	b, err := json.MarshalIndent(c, "    ", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.w, "%s    %s", sep, b)
	return err
}

func (o *pcapOutput) end(s *capture.Summary) error {
	if !o.json {
		return render.CaptureSummary(o.w, s)
	}
	if o.n == 0 {
		fmt.Fprintf(o.w, "{\n  \"connections\": [")
	} else {
		fmt.Fprintf(o.w, "\n  ")
	}
	b, err := json.MarshalIndent(s, "  ", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.w, "],\n  \"summary\": %s\n}\n", b)
	return err
}

// endpointFilter parses --filter: HOST:PORT, HOST, or :PORT.
func endpointFilter(s string) (func(string) bool, error) {
	if strings.HasPrefix(s, ":") {
		port := s[1:]
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return nil, usagef("example: --filter :443", "--filter %q: the port must be a number", s)
		}
		return func(ep string) bool { return strings.HasSuffix(ep, ":"+port) }, nil
	}
	if strings.Count(s, ":") == 1 || strings.HasPrefix(s, "[") {
		return func(ep string) bool { return ep == s }, nil
	}
	host := strings.Trim(s, "[]")
	return func(ep string) bool {
		h := ep
		if i := strings.LastIndex(ep, ":"); i >= 0 {
			h = strings.Trim(ep[:i], "[]")
		}
		return h == host
	}, nil
}

// lineErrors lists the per-line errors of a key log parse.
func lineErrors(err error) []error {
	if err == nil {
		return nil
	}
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		return j.Unwrap()
	}
	return []error{err}
}

// pipePrinter prints decrypted data and connection reports on a goroutine
// of its own, in the order they were decoded. Data is copied into batches
// that go over a channel and come back for reuse, so the decoder neither
// waits for output nor allocates per record.
type pipePrinter struct {
	dp      *render.DataPrinter
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

func newPipePrinter(dp *render.DataPrinter, report func(*capture.Connection) error) *pipePrinter {
	p := &pipePrinter{dp: dp, report: report, batches: make(chan *printBatch, 4), free: make(chan *printBatch, 6),
		done: make(chan struct{}), failed: make(chan struct{})}
	for range 6 {
		p.free <- &printBatch{buf: make([]byte, 0, printBatchBytes)}
	}
	p.cur = <-p.free
	go p.run(p.batches) // the channel, not the field: close sets the field to nil
	return p
}

func (p *pipePrinter) run(batches <-chan *printBatch) {
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

// data queues one record of decrypted data.
func (p *pipePrinter) data(c *capture.Conn, from transcript.Side, t time.Time, data []byte) {
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

// connection queues a connection's report. It returns the printer's error
// once it has one, which stops the analysis.
func (p *pipePrinter) connection(c *capture.Connection) error {
	select {
	case <-p.failed:
		return p.close()
	default:
	}
	p.cur.jobs = append(p.cur.jobs, printJob{report: c})
	p.flush() // reports are rare: print each without waiting for more data
	return nil
}

func (p *pipePrinter) flush() {
	if p.batches == nil { // closed after an error: drop the rest
		p.cur.buf, p.cur.jobs = p.cur.buf[:0], p.cur.jobs[:0]
		return
	}
	p.batches <- p.cur
	p.cur = <-p.free
}

// close prints what is queued and waits for the printer to finish.
func (p *pipePrinter) close() error {
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
