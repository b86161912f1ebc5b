package cli

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/tlskit/tlskit/capture"
	"github.com/tlskit/tlskit/cmd/internal/base"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/termsafe"
	"github.com/tlskit/tlskit/keylog"
	"github.com/tlskit/tlskit/render"
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
	trust      base.TrustFlags
	filter     string
}

// newPcapCmd is `tlskit pcap`.
func newPcapCmd(stdio base.Stdio) *cobra.Command {
	var f pcapFlags
	cmd := &cobra.Command{
		Use:   "pcap [flags] FILE|-",
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
overrides it. The name verified is --servername, else each ClientHello's
SNI, else the server's address (a client that connects to an IP address
sends no SNI; the findings say so); when the capture holds no ClientHello,
the chain is verified but its names are not (name.not-checked).

` + base.TrustHelp + `

TCP flows that carry no TLS are left out. UDP flows that start with a
DTLS 1.0 or 1.2 record are decoded as DTLS; other UDP is left out.
Each connection is printed as soon as it ends in the capture. FILE '-'
reads the capture from the standard input (tcpdump -w - | tlskit pcap -).
Reading a file of 64 MiB or more with the report going to a file or a
pipe, a progress bar shows on standard error when it is a terminal.

Exit status: 0 every TLS connection completed without an error finding;
1 a problem was found (or the file is truncated or corrupt after some
packets, or the output cannot be written); 2 usage error or a file that
is not a capture.`,
		Example: `  tlskit pcap --keylog keys.log capture.pcapng
  tlskit pcap capture-with-secrets.pcapng          # secrets from DSBs
  tlskit pcap --data --keylog keys.log capture.pcap
  tlskit pcap --rsa-key server.key old-rsa-kex.pcap
  tlskit pcap --psk 0a1b2c3d… dtls-psk.pcap
  tlskit pcap --json --filter :443 capture.pcap.gz
  tlskit pcap --ca-file corp-root.pem --keylog keys.log capture.pcapng
  tcpdump -i any -w - port 443 | tlskit pcap --keylog keys.log -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return base.Usagef("example: tlskit pcap --keylog keys.log capture.pcapng", "pcap takes one capture FILE, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPcap(cmd.Context(), stdio, &f, args[0])
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
	f.trust.Register(fl, base.GroupTrust|base.GroupName|base.GroupTime, 0)
	fl.StringVar(&f.filter, "filter", "", "only connections with this endpoint: `HOST:PORT`, HOST, or :PORT")
	return cmd
}

func runPcap(ctx context.Context, stdio base.Stdio, f *pcapFlags, path string) error {
	pol, err := f.trust.Policy(stdio.Err)
	if err != nil {
		return err
	}
	v, err := base.Verifier(pol)
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
			return base.Usage(err, "--keylog takes an NSS key log file (SSLKEYLOGFILE)")
		}
		for _, e := range lineErrors(err) {
			msg := strings.TrimPrefix(e.Error(), "keylog: ")
			if le := (*keylog.LineError)(nil); errors.As(e, &le) {
				msg = fmt.Sprintf("line %d: %s (line ignored)", le.Line, le.Reason)
			}
			fmt.Fprintf(stdio.Err, "tlskit: warning: --keylog %s: %s\n", f.keylogFile, termsafe.String(msg))
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
				return base.Usage(err, "--rsa-key takes the server's RSA private key, PEM or DER")
			}
			opts.Keys.AddRSAKey(k)
		}
		if f.psk != "" {
			psk, err := hex.DecodeString(strings.TrimPrefix(f.psk, "0x"))
			if err != nil || len(psk) == 0 {
				return base.Usagef("example: --psk ca19e028a8a372ad2d325f950fcaceed", "--psk takes the pre-shared key in hex, got %q", f.psk)
			}
			opts.Keys.SetPSK(psk)
		}
	}
	var file io.ReadCloser
	if path == "-" {
		// tcpdump -w - | tlskit pcap -: the standard input, as tshark -r -.
		path = "standard input"
		file = io.NopCloser(stdio.In)
		if in, ok := stdio.In.(*os.File); ok {
			file = in // closed on interrupt, which ends a read in progress
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return base.Usagef("", "cannot read the capture: %v", err)
		}
		file = f
		if st, err := f.Stat(); err == nil && st.IsDir() {
			f.Close()
			return base.Usagef("give a pcap or pcapng file (tshark -w, tcpdump -w, dumpcap -w)", "%s is a directory, not a capture file", path)
		}
	}
	defer file.Close()

	if f.hex && !f.data {
		return base.Usagef("add --data: tlskit pcap --data --hex FILE", "--hex goes with --data")
	}
	// One buffered writer for reports and data: --data on a large capture
	// would otherwise make a system call per record.
	bw := bufio.NewWriterSize(stdio.Out, 256<<10)
	defer bw.Flush()
	out := &render.CapturePrinter{W: bw, JSON: f.jsonOut, Brief: f.brief, Width: outputWidth(stdio.Out), Flags: f.trust.SettingFlags(map[string]string{finding.SettingKeyLog: "--keylog", finding.SettingServerKey: "--rsa-key"})}
	problem := false
	opts.OnConnection = func(c *capture.Connection) error {
		if c.Verdict == diagnose.Failed || finding.Worst(c.Findings) == finding.Error {
			problem = true
		}
		return out.Connection(c)
	}
	if f.data && f.jsonOut {
		opts.KeepData = true
	}
	var pipe *render.Pipe
	if f.data && !f.jsonOut {
		// Printing the data costs about as much as decrypting it: do it on
		// the other core, in order, while the capture is decoded.
		pipe = render.NewPipe(&render.DataPrinter{W: bw, Hex: f.hex}, opts.OnConnection)
		opts.OnData = pipe.Data
		opts.OnConnection = pipe.Connection
	}
	// Interrupted (SIGINT), the read in progress ends (a pipe too), and the
	// connections still open are not reported: their ends were not read.
	defer context.AfterFunc(ctx, func() { file.Close() })()
	report := opts.OnConnection
	opts.OnConnection = func(c *capture.Connection) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return report(c)
	}
	in := io.Reader(file)
	bar := newReadProgress(stdio, file)
	if bar != nil {
		in = bar
	}
	sum, err := capture.Analyze(in, opts)
	bar.done()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s: interrupted before the capture was read to its end (the summary counts what was read): %w", path, ctx.Err())
	}
	if pipe != nil {
		if perr := pipe.Close(); perr != nil && err == nil {
			err = perr
		}
	}
	if errors.Is(err, capture.ErrNotCapture) && sum.Packets == 0 {
		return base.Usage(fmt.Errorf("%s: %w", path, err), "give a pcap or pcapng file (tshark -w, tcpdump -w, dumpcap -w)")
	}
	if err := out.Summary(sum); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err != nil {
		var re *capture.ReadError
		if errors.As(err, &re) {
			err = fmt.Errorf("%s: %w", path, err)
			if sum.Packets == 0 { // not a capture after all: bad input
				return base.Usage(err, "")
			}
		}
		return err // what was read is analysed above; the rest failed
	}
	if problem {
		return base.ExitCode(base.ExitProblem)
	}
	return nil
}

// endpointFilter parses --filter: HOST:PORT, HOST, or :PORT.
func endpointFilter(s string) (func(string) bool, error) {
	if strings.HasPrefix(s, ":") {
		port := s[1:]
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return nil, base.Usagef("example: --filter :443", "--filter %q: the port must be a number", s)
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

// readProgress shows how much of a large capture file was read, on
// standard error when it is a terminal and standard output is not (the
// report goes to a file or a pipe: on a terminal, the connections printed
// as they end show the progress themselves).
type readProgress struct {
	r    io.Reader
	p    *mpb.Progress
	bar  *mpb.Bar
	read int64
}

// minProgressFile is the smallest capture file worth a progress bar: a
// second's reading or more.
const minProgressFile = 64 << 20

func newReadProgress(stdio base.Stdio, r io.Reader) *readProgress {
	f, ok := r.(*os.File)
	if !ok || isTerminal(stdio.Out) || !isTerminal(stdio.Err) {
		return nil
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() < minProgressFile {
		return nil
	}
	p := mpb.New(mpb.WithOutput(stdio.Err), mpb.WithWidth(40), mpb.WithRefreshRate(200*time.Millisecond), mpb.WithAutoRefresh())
	bar := p.AddBar(st.Size(),
		mpb.PrependDecorators(decor.Name("reading "), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
		mpb.AppendDecorators(decor.Percentage(), decor.Name(" "), decor.AverageETA(decor.ET_STYLE_GO)),
		mpb.BarRemoveOnComplete())
	return &readProgress{r: r, p: p, bar: bar}
}

func (p *readProgress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read += int64(n)
	p.bar.SetCurrent(p.read)
	return n, err
}

// done ends the bar: complete when the file was read to its end, else
// taken away.
func (p *readProgress) done() {
	if p == nil {
		return
	}
	if !p.bar.Completed() {
		p.bar.Abort(true)
	}
	p.p.Wait()
}
