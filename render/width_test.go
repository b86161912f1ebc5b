package render

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/wire"
	"github.com/tlskit/tlskit/transcript"
)

// TestWrapKeepsEverything: wrap and wrapParts never write a line wider than
// asked and never lose a character (issue #10: the ladder was printed 376
// columns wide).
func TestWrapKeepsEverything(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 12)
	parts := []string{"versions TLS 1.3, TLS 1.2", "SNI " + strings.Repeat("very-long-label.", 9) + "example", "cipher suites 13: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, …", "random " + long, "→ ✓ é"}
	strip := func(s string) string {
		return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\n' || r == '·' }), "")
	}
	for _, width := range []int{40, 60, 72, 100, 140} {
		head := "     0.0ms  client → server  client_hello            1494 B"
		out := wrapParts(head, parts, width, ladderIndent)
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n")[1:] {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: a line of %d: %q", width, n, l)
			}
		}
		if got, want := strip(out), strip(head+strings.Join(parts, "")); got != want {
			t.Errorf("width %d: characters lost or added:\n%s\n%s", width, got, want)
		}
		text := strings.Join(parts, " and ")
		w := wrap(text, width)
		for _, l := range strings.Split(w, "\n") {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("wrap %d: a line of %d: %q", width, n, l)
			}
		}
		if strip(w) != strip(text) {
			t.Errorf("wrap %d lost characters", width)
		}
	}
}

// TestWrapFingerprint: a fingerprint longer than a line breaks between two
// bytes, never inside one ("…:72:1" then "0" before).
func TestWrapFingerprint(t *testing.T) {
	fp := "EA:43:BA:7F:37:E4:E2:38:75:35:6E:FD:89:D5:27:A6:B2:03:0B:3C:5F:20:69:4C:2A:16:64:80:90:77:72:10"
	for width := 20; width < len(fp); width++ {
		for _, l := range strings.Split(wrap("- "+fp, width), "\n") {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: a line of %d: %q", width, n, l)
			}
			if l != "-" && !strings.HasSuffix(l, ":") && !strings.HasSuffix(fp, l) {
				t.Errorf("width %d: a line ends inside a byte: %q", width, l)
			}
		}
	}
}

// TestReportWidth renders a report with long names, fields and findings at
// several widths: no line is wider than asked (the head line that repeats
// the target aside).
func TestReportWidth(t *testing.T) {
	r := &diagnose.Report{
		Target: "example.com:443", ServerName: "example.com", Verdict: diagnose.Failed,
		Trust: "1 certificate from /a/very/long/path/to/a/directory/that/holds/the/corporate/root/certificate/corp-root.pem; system roots not included",
		Transcript: []transcript.Event{{From: transcript.Client, Type: "client_hello", RecordLen: 1494,
			Fields: []wire.Field{{Name: "versions", Value: "TLS 1.3, TLS 1.2"}, {Name: "cipher suites", Value: strings.Repeat("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ", 8)}}}},
		Findings: []finding.Finding{{ID: finding.ProtocolVersionMismatch, Severity: finding.Error,
			Title: strings.Repeat("a long title ", 12), Detail: strings.Repeat("evidence ", 40), Fix: "lower it", Setting: finding.SettingMinVersion,
			Evidence: []string{strings.Repeat("x", 150)}}},
	}
	for _, width := range []int{60, 80, 100} {
		var b strings.Builder
		if err := Report(&b, r, Options{Width: width, Flags: map[string]string{finding.SettingMinVersion: "--min-version"}}); err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(b.String(), "\n") {
			if n := utf8.RuneCountInString(l); n > width && i > 0 {
				t.Errorf("width %d: line %d has %d characters: %q", width, i, n, l)
			}
		}
		if !strings.Contains(b.String(), "(tlskit: --min-version)") {
			t.Errorf("width %d: the fix does not name the flag", width)
		}
	}
}

// TestLadderLoneEvent: a ladder's times are offsets from its first event,
// so a lone event (a server that stayed silent until the deadline) is
// shown without one rather than at "0.0ms"; two events keep theirs.
func TestLadderLoneEvent(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	quiet := transcript.Event{From: transcript.Server, Type: transcript.TypeClose, Time: t0.Add(10 * time.Second), Note: "sent nothing more before the deadline"}
	hello := transcript.Event{From: transcript.Client, Type: "client_hello", Time: t0, RecordLen: 300}
	for _, tc := range []struct {
		evs  []transcript.Event
		want string
	}{
		{[]transcript.Event{quiet}, ""},
		{[]transcript.Event{hello, quiet}, "10000.0ms"},
	} {
		var b strings.Builder
		ladder(&b, tc.evs, Options{})
		if got := strings.Contains(b.String(), "ms "); (tc.want != "") != got || !strings.Contains(b.String(), tc.want) {
			t.Errorf("%d events: %q, want times %q", len(tc.evs), b.String(), tc.want)
		}
	}
}

// TestCompressedCertificateUnverified: a capture whose server sent its
// Certificate compressed (RFC 8879) has no chain tlskit can read; the
// report says so, not that the server authenticated with a pre-shared key
// or resumed a session. (No server on this machine compresses
// certificates: OpenSSL 3.0, this GnuTLS build and Go do not.)
func TestCompressedCertificateUnverified(t *testing.T) {
	r := &diagnose.Report{Target: "x.example:443", Verdict: diagnose.Unverified, Transcript: []transcript.Event{
		{Seq: 1, From: transcript.Client, Type: "client_hello"},
		{Seq: 2, From: transcript.Server, Type: "server_hello"},
		{Seq: 3, From: transcript.Server, Type: "compressed_certificate", Fields: []wire.Field{{Name: "algorithm", Value: "brotli"}}},
	}}
	var b strings.Builder
	if err := Report(&b, r, Options{Width: 100}); err != nil {
		t.Fatal(err)
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	if !strings.Contains(out, "the server sent it compressed (RFC 8879, brotli), which tlskit does not decompress") || strings.Contains(out, "pre-shared key") {
		t.Errorf("report:\n%s", b.String())
	}
}
