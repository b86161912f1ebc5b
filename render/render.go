// Package render turns tlskit's results into what a person reads (text) or a
// program reads (JSON). It holds no logic about TLS: every fact it shows was
// decided by the packages before it.
package render

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/termsafe"
	"github.com/tlskit/tlskit/transcript"
	"github.com/tlskit/tlskit/trust"
)

// JSON writes v as indented JSON followed by a newline.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Options tune the text output.
type Options struct {
	// Time returns the time certificates were verified as of, which
	// validity periods are phrased against ("EXPIRED 3 days ago"): the
	// check's --verify-time. Nil means now for a check, and the capture
	// time of the server's Certificate message for a captured connection.
	Time func() time.Time
	// Brief prints only the verdict and findings.
	Brief bool
	// Data prints decrypted application data, when the transcript kept it.
	Data bool
	// Width is the number of columns lines are wrapped to (the terminal's
	// width); 0 means DefaultWidth. The ladder, findings and stacks are
	// wrapped, hex and data dumps are not.
	Width int
	// Flags maps a finding's setting (finding.Setting…) to the flag that
	// changes it, given by the program that has flags; findings print it
	// beside their fix and carry it in their Flag field.
	Flags map[string]string
}

// DefaultWidth is the width of text output that does not go to a terminal.
const DefaultWidth = 100

// width returns the columns to wrap to, never fewer than 40.
func (o Options) width() int {
	switch {
	case o.Width <= 0:
		return DefaultWidth
	case o.Width < 40:
		return 40
	}
	return o.Width
}

// AddFlags sets each finding's Flag from its Setting, as flags maps them:
// what a command line does before it prints findings (text or JSON).
func AddFlags(fs []finding.Finding, flags map[string]string) {
	for i := range fs {
		if f, ok := flags[fs[i].Setting]; ok && fs[i].Setting != "" {
			fs[i].Flag = f
		}
	}
}

// Report writes a check report for a person.
func Report(w io.Writer, r *diagnose.Report, o Options) error {
	p := &printer{w: w}
	now := time.Now()
	if o.Time != nil {
		now = o.Time()
	}
	head := r.Target
	if r.Address != "" && r.Address != r.Target {
		head += " (" + r.Address + ")"
	}
	head += nameHead(r.ServerName)
	if r.StartTLS != nil {
		head += ", " + upgradeHead(r.StartTLS)
	}
	AddFlags(r.Findings, o.Flags)
	p.f("tlskit check %s\n", head)
	if r.Insecure {
		p.f("\n!!! INSECURE: certificate verification was turned off (--insecure). Nothing below proves who the server is. !!!\n")
	}
	if !o.Brief {
		Transcript(w, r.Transcript, o)
		if r.Closed != nil {
			p.f("%s", indent(wrap(Closure(r.Closed), o.width()-2), "  "))
		}
		for _, pr := range r.Problems {
			p.f("%s", indent(wrap("note: "+pr, o.width()-2), "  "))
		}
		chain(w, r.Chain, r.VerifiedPath, now, o.width())
		OCSP(w, r.OCSP)
		Fetched(w, r.Fetched)
		SecondLook(w, r.SecondLook, o)
	}
	if len(r.Stacks) > 0 && p.err == nil {
		leaf := ""
		if len(r.Chain) > 0 {
			leaf = r.Chain[0].Subject
		}
		p.err = Stacks(w, r.ServerName, leaf, r.Stacks, o)
	}
	verdictLine(p, r, o.width())
	FindingsWidth(w, r.Findings, o.width())
	return p.err
}

// verdictLine writes the verdict and what the handshake negotiated.
func verdictLine(p *printer, r *diagnose.Report, width int) {
	p.f("\nVERDICT  %s", strings.ToUpper(string(r.Verdict)))
	var nego []string
	for _, s := range []string{r.Version, r.CipherSuite} {
		if s != "" {
			nego = append(nego, s)
		}
	}
	if r.ALPN != "" {
		nego = append(nego, "ALPN "+r.ALPN)
	}
	if len(nego) > 0 {
		p.f("  (%s)", strings.Join(nego, ", "))
	}
	p.f("\n")
	if r.Trust != "" {
		p.f("%s", indent(wrap("trust: "+r.Trust, width-2), "  "))
	}
	if r.Profile != "" {
		p.f("  profile: %s\n", r.Profile)
	}
	switch {
	case r.Verdict == diagnose.Unknown:
		p.f("%s", indent(wrap("the capture stops before the handshake did, and nothing in it says the handshake failed: "+
			"whether a TLS session was established is not in the capture (see capture.incomplete)", width-2), "  "))
	case r.Verdict == diagnose.Unverified && !hasHello(r.Transcript):
		p.f("%s", indent(wrap("no server certificate in the capture, so nothing to verify: the handshake is not in the capture "+
			"(it starts after the handshake), so how the server authenticated is not known", width-2), "  "))
	case r.Verdict == diagnose.Unverified && finding.Has(r.Findings, finding.CaptureIncomplete):
		p.f("%s", indent(wrap("no server certificate in the capture, so nothing to verify: bytes of the connection are "+
			"missing from it (see capture.incomplete), and the certificate may have been among them", width-2), "  "))
	case r.Verdict == diagnose.Unverified && compressedCertificate(r.Transcript) != "":
		p.f("%s", indent(wrap("no server certificate readable in this handshake, so nothing to verify: the server sent it "+
			"compressed (RFC 8879, "+compressedCertificate(r.Transcript)+"), which tlskit does not decompress", width-2), "  "))
	case r.Verdict == diagnose.Unverified:
		p.f("%s", indent(wrap("no server certificate in this handshake, so nothing to verify: it authenticated with a "+
			"pre-shared key or resumed an earlier session (or its TLS 1.3 Certificate stayed encrypted)", width-2), "  "))
	}
}

// compressedCertificate names the algorithm of the server's
// CompressedCertificate in a transcript, "" when it sent none.
func compressedCertificate(evs []transcript.Event) string {
	for _, e := range evs {
		if e.Type != "compressed_certificate" || e.From != transcript.Server {
			continue
		}
		for _, f := range e.Fields {
			if f.Name == "algorithm" {
				return f.Value
			}
		}
		return "algorithm not known"
	}
	return ""
}

// hasHello reports whether a transcript holds a ClientHello or a
// ServerHello: without either, no handshake was seen.
func hasHello(evs []transcript.Event) bool {
	for _, e := range evs {
		if e.Type == "client_hello" || e.Type == "server_hello" {
			return true
		}
	}
	return false
}

// Closure says in words who ended a connection and how.
func Closure(c *transcript.Closure) string {
	how := map[transcript.CloseHow]string{
		transcript.CloseFIN:     "closed the connection (TCP FIN)",
		transcript.CloseRST:     "reset the connection (TCP RST)",
		transcript.CloseTimeout: "went quiet until the deadline",
		transcript.CloseLocal:   "closed the connection",
		transcript.CloseAlert:   "ended the connection with an alert",
	}[c.How]
	s := fmt.Sprintf("the %s %s first", c.By, how)
	if c.AfterAlert != "" {
		s += ", after sending alert " + c.AfterAlert
	}
	return s
}

// SecondLook writes what the second look learned: its ladder, what the
// server chose, and the versions it accepted alone. Nothing for nil.
func SecondLook(w io.Writer, l *diagnose.LookSummary, o Options) {
	if l == nil {
		return
	}
	p := &printer{w: w}
	p.f("\nSECOND LOOK (a ClientHello of tlskit's own, offering every version, suite, group and signature scheme)\n")
	if l.Error != "" {
		p.f("  %s\n", l.Error)
		return
	}
	ladder(w, l.Transcript, o)
	var chose []string
	for _, s := range []string{l.Version, l.CipherSuite, l.Group, l.SignatureScheme} {
		if s != "" {
			chose = append(chose, s)
		}
	}
	if l.CertificateKey != "" {
		chose = append(chose, "certificate key "+l.CertificateKey)
	}
	switch {
	case len(chose) > 0:
		p.f("  the server chose: %s\n", strings.Join(chose, ", "))
	case l.Refused != "":
		p.f("  the server refused it too: %s\n", l.Refused)
	}
	if len(l.ServerVersions) > 0 || len(l.RefusedVersions) > 0 || len(l.UnknownVersions) > 0 {
		line := fmt.Sprintf("each version offered alone: accepted %s; refused %s", orDash(strings.Join(l.ServerVersions, ", ")), orDash(strings.Join(l.RefusedVersions, ", ")))
		// Versions neither accepted nor refused, each run of one reason
		// followed by it: "TLS 1.2, TLS 1.1: could not be offered alone (…)".
		var runs []string
		for i, u := range l.UnknownVersions {
			if i > 0 && u.Why == l.UnknownVersions[i-1].Why {
				runs[len(runs)-1] = strings.TrimSuffix(runs[len(runs)-1], ": "+u.Why) + ", " + u.Version + ": " + u.Why
				continue
			}
			runs = append(runs, u.Version+": "+u.Why)
		}
		if len(runs) > 0 {
			line += "; not known " + strings.Join(runs, "; ")
		}
		p.f("%s", indent(wrap(line, o.width()-2), "  "))
	}
	if d := l.Padded; d != nil {
		var parts []string
		if d.SharesOnly {
			got := "answered"
			switch {
			case d.Answered:
			case d.Refused != "":
				got = "refused (" + d.Refused + ")"
			default:
				got = "not known (" + d.Unknown + ")"
			}
			parts = append(parts, "offering only the groups of its key shares: "+got)
		}
		if d.NameRefused {
			parts = append(parts, "the same without a server name: answered")
		}
		if d.Size > 0 {
			got := "answered"
			switch {
			case d.Unknown != "":
				got = "not known (" + d.Unknown + ")"
			case !d.Accepted:
				got = "refused (" + d.Refused + ")"
			}
			parts = append(parts, fmt.Sprintf("padded from %d to the client's %d bytes: %s", d.WideSize, d.Size, got))
		}
		if len(parts) > 0 {
			p.f("%s", indent(wrap("further hellos: "+strings.Join(parts, "; "), o.width()-2), "  "))
		}
	}
}

// Transcript writes the handshake ladder.
func Transcript(w io.Writer, evs []transcript.Event, o Options) {
	p := &printer{w: w}
	p.f("\nHANDSHAKE\n")
	ladder(w, evs, o)
}

// ladder writes one line per event.
func ladder(w io.Writer, evs []transcript.Event, o Options) {
	p := &printer{w: w}
	if len(evs) == 0 {
		p.f("  (nothing was exchanged)\n")
		return
	}
	var t0 time.Time
	for _, e := range evs {
		if !e.Time.IsZero() {
			t0 = e.Time
			break
		}
	}
	if len(evs) == 1 {
		// Times are offsets from the first event: a lone event's would
		// read 0.0ms, however long the connection waited for it.
		t0 = time.Time{}
	}
	for _, e := range evs {
		at := "        "
		if !e.Time.IsZero() && !t0.IsZero() {
			at = fmt.Sprintf("%6.1fms", float64(e.Time.Sub(t0).Microseconds())/1000)
		}
		if e.Type == transcript.TypePlaintext {
			plaintextLine(p, at, e)
			continue
		}
		size := ""
		if e.RecordLen > 0 {
			size = fmt.Sprintf("%d B", e.RecordLen)
		}
		lock := ""
		switch {
		case e.Decrypted:
			lock = " [decrypted]"
		case e.Encrypted:
			lock = " [encrypted]"
		}
		head := fmt.Sprintf("  %s  %s  %-22s %7s%s", at, e.From.Arrow(), eventName(e), size, lock)
		p.f("%s", wrapParts(head, eventParts(e), o.width(), ladderIndent))
		if o.Data && len(e.Data) > 0 {
			p.f("%s", appendData(nil, e.Data, "      | "))
		}
	}
}

func eventName(e transcript.Event) string {
	if e.Type == transcript.TypeApplicationData && e.Records > 1 {
		return fmt.Sprintf("application_data ×%d", e.Records)
	}
	return e.Type
}

// ladderIndent starts the continuation lines of a ladder event.
const ladderIndent = "            "

// wrapParts writes head followed by parts separated by " · ", breaking
// lines before width columns at a separator (the next line starts with
// "· "), and inside a part that is longer than a line as wrap does.
// Continuation lines start with indent.
func wrapParts(head string, parts []string, width int, indent string) string {
	var b strings.Builder
	b.WriteString(head)
	line := utf8.RuneCountInString(head)
	ind := utf8.RuneCountInString(indent)
	for i, part := range parts {
		sep := "  "
		if i > 0 {
			sep = " · "
		}
		n := utf8.RuneCountInString(part)
		if line+utf8.RuneCountInString(sep)+n <= width {
			b.WriteString(sep + part)
			line += utf8.RuneCountInString(sep) + n
			continue
		}
		lead := ""
		if i > 0 {
			lead = "· "
		}
		for _, l := range strings.Split(wrap(lead+part, width-ind), "\n") {
			b.WriteString("\n" + indent + l)
			line = ind + utf8.RuneCountInString(l)
		}
	}
	b.WriteByte('\n')
	return b.String()
}

// eventDetail is the detail of a ladder line, on one line.
func eventDetail(e transcript.Event) string {
	return strings.Join(eventParts(e), " · ")
}

// eventParts are the pieces of a ladder line's detail.
func eventParts(e transcript.Event) []string {
	var parts []string
	switch e.Type {
	case transcript.TypeAlert:
		if e.Description != "" {
			parts = append(parts, e.Level+" "+e.Description)
		}
	case transcript.TypeApplicationData:
		parts = append(parts, fmt.Sprintf("%d bytes", e.Bytes))
	}
	for _, f := range e.Fields {
		if f.Value == "" {
			continue
		}
		parts = append(parts, f.Name+" "+f.Value)
	}
	if e.Note != "" {
		parts = append(parts, "("+e.Note+")")
	}
	return parts
}

// Chain writes the certificates as sent and the verified path.
func Chain(w io.Writer, sent, verified []trust.CertInfo, now time.Time) {
	chain(w, sent, verified, now, DefaultWidth)
}

// chain writes the chain wrapped to width columns.
func chain(w io.Writer, sent, verified []trust.CertInfo, now time.Time, width int) {
	p := &printer{w: w}
	p.f("\nCERTIFICATE CHAIN (as sent by the server)\n")
	if len(sent) == 0 {
		p.f("  (none received)\n")
		return
	}
	for i, c := range sent {
		cert(w, i, c, now, width)
	}
	p.f("\nVERIFIED PATH")
	if len(verified) == 0 {
		p.f("  none\n")
		return
	}
	p.f("\n")
	for i, c := range verified {
		p.f("%s", hang(fmt.Sprintf("  %d ", i), c.Subject, width))
	}
}

// Cert writes one certificate's description.
func Cert(w io.Writer, i int, c trust.CertInfo, now time.Time) {
	cert(w, i, c, now, DefaultWidth)
}

// cert writes one certificate wrapped to width columns.
func cert(w io.Writer, i int, c trust.CertInfo, now time.Time, width int) {
	p := &printer{w: w}
	p.f("%s", hang(fmt.Sprintf("  %d ", i), c.Subject, width))
	p.f("%s", hang("      issuer    ", c.Issuer, width))
	p.f("%s", hang("      valid     ", fmt.Sprintf("%s → %s%s", day(c.NotBefore), day(c.NotAfter), validity(c, now)), width))
	p.f("%s", hang("      key       ", fmt.Sprintf("%s, signed with %s", c.Key, c.SignatureAlgorithm), width))
	if names := sanList(c.SANs); len(names) > 0 {
		p.f("%s", hang("      names     ", strings.Join(names, ", "), width))
	}
	if len(c.CAIssuers) > 0 {
		p.f("%s", hang("      AIA       ", strings.Join(c.CAIssuers, ", "), width))
	}
	p.f("%s", hang("      pin       ", c.Pin, width))
}

// hang writes label followed by text wrapped to width, continuation lines
// indented to where text starts.
func hang(label, text string, width int) string {
	n := utf8.RuneCountInString(label)
	return label + strings.TrimPrefix(indent(wrap(text, width-n), strings.Repeat(" ", n)), strings.Repeat(" ", n))
}

func sanList(s trust.SANs) []string {
	out := append([]string{}, s.DNS...)
	out = append(out, s.IP...)
	out = append(out, s.Email...)
	return append(out, s.URI...)
}

// day shortens an RFC 3339 time to minutes.
func day(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func validity(c trust.CertInfo, now time.Time) string {
	nb, err1 := time.Parse(time.RFC3339, c.NotBefore)
	na, err2 := time.Parse(time.RFC3339, c.NotAfter)
	switch {
	case err1 != nil || err2 != nil:
		return ""
	case now.After(na):
		return fmt.Sprintf("  (EXPIRED %s ago)", span(now.Sub(na)))
	case now.Before(nb):
		return fmt.Sprintf("  (NOT YET VALID, starts in %s)", span(nb.Sub(now)))
	}
	return fmt.Sprintf("  (%s left)", span(na.Sub(now)))
}

func span(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return d.Round(time.Second).String()
}

// Findings writes findings, most serious first, each with its evidence and
// fix, wrapped to DefaultWidth.
func Findings(w io.Writer, fs []finding.Finding) {
	FindingsWidth(w, fs, DefaultWidth)
}

// FindingsWidth writes findings wrapped to width columns. A fix whose
// setting has a flag (Finding.Flag) names it.
func FindingsWidth(w io.Writer, fs []finding.Finding, width int) {
	p := &printer{w: w}
	if len(fs) == 0 {
		p.f("  no problems found\n")
		return
	}
	text := max(width, 40) - 4
	for _, f := range fs {
		mark := map[finding.Severity]string{finding.Error: "✗ error  ", finding.Warning: "! warning", finding.Info: "i info   "}[f.Severity]
		p.f("\n  %s %s\n", mark, f.ID)
		p.f("%s", indent(wrap(f.Title, text), "    "))
		if f.Detail != "" {
			p.f("%s", indent(wrap(f.Detail, text), "    "))
		}
		for _, e := range f.Evidence {
			p.f("%s", indent(wrap("- "+e, text-2), "      "))
		}
		if f.Fix != "" {
			fix := "fix: " + f.Fix
			if f.Flag != "" {
				fix += " (tlskit: " + f.Flag + ")"
			}
			p.f("%s", indent(wrap(fix, text), "    "))
		}
	}
}

// wrap breaks s into lines of at most width runes, at spaces; a word
// longer than a line is broken after its last ':' or '/' that fits (a
// fingerprint between two bytes, a path between two names), else anywhere.
func wrap(s string, width int) string {
	var b strings.Builder
	line := 0
	for _, word := range strings.Fields(s) {
		r := []rune(word)
		for {
			if line > 0 && line+1+len(r) <= width {
				b.WriteByte(' ')
				b.WriteString(string(r))
				line += 1 + len(r)
				break
			}
			if line > 0 {
				b.WriteByte('\n')
				line = 0
			}
			if width <= 0 || len(r) <= width {
				b.WriteString(string(r))
				line = len(r)
				break
			}
			cut := width
			if i := lastIndexAny(r[:width], ":/"); i >= width/2 {
				cut = i + 1
			}
			b.WriteString(string(r[:cut]))
			r = r[cut:]
			line = cut
		}
	}
	return b.String()
}

// lastIndexAny returns the index of the last rune of r that is in chars,
// or -1.
func lastIndexAny(r []rune, chars string) int {
	for i := len(r) - 1; i >= 0; i-- {
		if strings.ContainsRune(chars, r[i]) {
			return i
		}
	}
	return -1
}

func indent(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) + "\n"
}

// appendData appends data for a person to dst, every line starting with
// prefix: as text when it looks like text (CRLF shown as LF, any control
// character shown as '.'), else as a hex dump of 16 bytes a line. It
// allocates nothing beyond dst's growth, because pcap --data runs it over
// every decrypted record of a capture.
func appendData(dst []byte, data []byte, prefix string) []byte {
	if !looksLikeText(data) {
		return appendHex(dst, data, prefix)
	}
	return appendText(dst, data, prefix)
}

// appendText appends data as lines of text, CRLF shown as LF and control
// characters other than tab as '.': the C0 controls, DEL, and, encoded in
// UTF-8, the C1 controls and the bidirectional formatting characters,
// which a terminal would obey as termsafe says (this path writes
// decrypted data straight to the output, not through the printer).
func appendText(dst []byte, data []byte, prefix string) []byte {
	dst = slices.Grow(dst, len(data)+(bytes.Count(data, []byte{'\n'})+1)*(len(prefix)+1))
	dst = append(dst, prefix...)
	j, jn := indexC1Bidi(data) // the next C1 or bidi control, if any
	for len(data) > 0 {
		i := indexControl(data)
		if j >= 0 && (i < 0 || j < i) {
			dst = append(dst, data[:j]...)
			dst = append(dst, '.')
			data = data[j+jn:]
			j, jn = indexC1Bidi(data)
			continue
		}
		if i < 0 {
			dst = append(dst, data...)
			break
		}
		dst = append(dst, data[:i]...)
		switch c := data[i]; {
		case c == '\n':
			if i+1 < len(data) {
				dst = append(dst, '\n')
				dst = append(dst, prefix...)
			}
		case c == '\r' && i+1 < len(data) && data[i+1] == '\n':
		case c == '\r' && i+1 == len(data):
		default:
			dst = append(dst, '.')
		}
		data = data[i+1:]
		if j >= 0 {
			j -= i + 1
		}
	}
	return append(dst, '\n')
}

// looksLikeText decides text or hex from valid UTF-8 and a sample: at most
// one byte in twenty of the first KiB may be a control character.
func looksLikeText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	sample := data[:min(len(data), 1024)]
	n := 0
	for _, c := range sample {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			n++
		}
	}
	return n*20 <= len(sample)
}

// indexControl returns the index of the first control character in b other
// than tab, or -1. It skips 8 bytes at a time
// where no byte is below 0x20 or equal to 0x7f.
func indexControl(b []byte) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		y := x ^ lo*0x7f
		if (x-lo*0x20)&^x&hi != 0 || (y-lo)&^y&hi != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return i
		}
	}
	return -1
}

// indexC1Bidi returns the index and length of the first character beyond
// ASCII that a terminal would obey (termsafe.Obeyed: a C1 control or a
// bidirectional formatting character) in the UTF-8 of b, or -1 and 0. It
// looks only where their first bytes are (0xC2, 0xD8, 0xE2, found with
// bytes.IndexByte), so ASCII text costs three fast scans.
func indexC1Bidi(b []byte) (int, int) {
	best, bestN := -1, 0
	for _, lead := range [...]byte{0xc2, 0xd8, 0xe2} {
		for off := 0; ; {
			k := bytes.IndexByte(b[off:], lead)
			if k < 0 || best >= 0 && off+k >= best {
				break
			}
			k += off
			if r, n := utf8.DecodeRune(b[k:]); r != utf8.RuneError && termsafe.Obeyed(r) {
				best, bestN = k, n
				break
			}
			off = k + 1
		}
	}
	return best, bestN
}

// hexPairs holds the two hex digits of every byte value, in order.
const hexPairs = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"

// appendHex appends a hex dump of data, 16 bytes a line.
func appendHex(dst []byte, data []byte, prefix string) []byte {
	var line [5 + 16*3 + 1]byte // offset and space, 16 × " xx", newline
	line[4] = ' '
	for k := 0; k < 16; k++ {
		line[5+3*k] = ' '
	}
	for off := 0; off < len(data); off += 16 {
		copy(line[0:2], hexPairs[2*(off>>8&0xff):])
		copy(line[2:4], hexPairs[2*(off&0xff):])
		chunk := data[off:min(off+16, len(data))]
		for k, c := range chunk {
			copy(line[6+3*k:8+3*k], hexPairs[2*int(c):])
		}
		n := 5 + 3*len(chunk)
		line[n] = '\n'
		dst = append(dst, prefix...)
		dst = append(dst, line[:n+1]...)
		line[n] = ' '
	}
	return dst
}

type printer struct {
	w   io.Writer
	err error
}

// f writes a line of the report. What a peer chose (a certificate's
// names, a server's banner, an alert's text) reaches every report through
// here, so control characters are escaped here, once (termsafe.String): a
// subject holding ESC sequences must not recolour or rewrite the terminal.
func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = io.WriteString(p.w, termsafe.String(fmt.Sprintf(format, args...)))
	}
}

// nameHead is the part of a report's first line that says which name is
// verified: an address is verified against the IP subjectAltNames and
// never sent as SNI (RFC 6066 §3).
func nameHead(name string) string {
	switch {
	case net.ParseIP(name) != nil:
		return ", no SNI: verified for the address " + name
	case name != "":
		return ", server name " + name
	}
	return ""
}
