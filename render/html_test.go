package render

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/scan"
	"github.com/tlskit/tlskit/transcript"
	"github.com/tlskit/tlskit/trust"
)

// TestHTMLRunHostile: everything a page shows of a target comes from the
// network or the user (names, certificate fields a server chose, alert
// texts, findings quoting them), so it is text in the page, never markup:
// the page of a run over a server whose certificate is made of HTML has
// none of it as elements or attributes.
func TestHTMLRunHostile(t *testing.T) {
	const evil = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cert := trust.CertInfo{Subject: "CN=" + evil, Issuer: "O=" + evil, Serial: "01",
		NotBefore: "2026-01-01T00:00:00Z", NotAfter: "2027-01-01T00:00:00Z", Key: "ECDSA P-256",
		SANs: trust.SANs{DNS: []string{evil}, URI: []string{"javascript:alert(3)"}}}
	rep := &diagnose.Report{Target: evil + ":443", ServerName: evil, Verdict: diagnose.Untrusted,
		Chain: []trust.CertInfo{cert}, VerifiedPath: []trust.CertInfo{},
		Transcript: []transcript.Event{{Seq: 1, From: transcript.Server, Type: transcript.TypeAlert, Level: "fatal", Description: evil}},
		Findings:   []finding.Finding{{ID: "chain.untrusted-root", Severity: finding.Error, Title: evil, Detail: evil, Fix: evil, Evidence: []string{evil}}}}
	var b bytes.Buffer
	run := NewHTMLRun(&b, HTMLPage{Title: evil, Subtitle: evil}, now)
	if err := run.Add(rep); err != nil {
		t.Fatal(err)
	}
	if err := run.Close(diagnose.Summary{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script>alert", "<img", `href="javascript`, `src="javascript`} {
		if strings.Contains(page, bad) {
			i := strings.Index(page, bad)
			t.Errorf("the page holds %q as markup: …%s…", bad, page[max(0, i-80):min(len(page), i+80)])
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the hostile text is not shown escaped")
	}
	if n := strings.Count(page, "<script>"); n != 1 {
		t.Errorf("%d <script> elements, want the page's own one", n)
	}
}

// TestScanHTMLHostile: the same for a scan's page, with what a server
// controls there: its certificates, its HTTP status line, and findings.
func TestScanHTMLHostile(t *testing.T) {
	const evil = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	cert := trust.CertInfo{Subject: "CN=" + evil, Issuer: "O=" + evil, Serial: "01",
		NotBefore: "2026-01-01T00:00:00Z", NotAfter: "2027-01-01T00:00:00Z", Key: "ECDSA P-256",
		SANs: trust.SANs{DNS: []string{evil}}}
	rep := &scan.Report{Target: evil + ":443", ServerName: evil, Trust: evil,
		Certificates: []scan.CertificateResult{{KeyType: "ECDSA", Key: evil, Version: "TLS 1.3", Chain: []trust.CertInfo{cert},
			Findings: []finding.Finding{{ID: "chain.untrusted-root", Severity: finding.Error, Title: evil, Detail: evil}}}},
		HTTP:     &scan.HTTPResult{Request: "GET / HTTP/1.1", Status: evil, Note: evil},
		Findings: []finding.Finding{{ID: "scan.no-forward-secrecy", Severity: finding.Warning, Title: evil, Detail: evil, Fix: evil}}}
	var b bytes.Buffer
	if err := ScanHTML(&b, []*scan.Report{rep}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script>alert", "<img"} {
		if i := strings.Index(page, bad); i >= 0 {
			t.Errorf("the page holds %q as markup: …%s…", bad, page[max(0, i-80):min(len(page), i+80)])
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the hostile text is not shown escaped")
	}
}

// TestScanStopped: a scan that ended at the server's refusal of the name
// says so in text and on its page, and a version row it could not settle
// reads "?" and "not known", not "no".
func TestScanStopped(t *testing.T) {
	const stopped = "The scan stopped after the protocol versions: the server refuses the server name \"other.example\" (see the findings)."
	rep := &scan.Report{Target: "127.0.0.1:443", ServerName: "other.example", Stopped: stopped,
		Protocols: []scan.ProtocolResult{
			{Version: "TLS 1.2", Unknown: true, Answer: "not known for this name: alert internal_error", Probe: 6},
			{Version: "TLS 1.3", Accepted: true, Answer: "HelloRetryRequest", Probe: 3}}}
	var text, page bytes.Buffer
	if err := Scan(&text, rep, ScanOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := ScanHTML(&page, []*scan.Report{rep}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TLS 1.2  ?    not known", "The scan stopped after the protocol versions"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text without %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "CERTIFICATES") {
		t.Errorf("text goes on past the stop:\n%s", text.String())
	}
	for _, want := range []string{"<td class=\"no\">not known</td>", "The scan stopped after the protocol versions"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("page without %q", want)
		}
	}
	if strings.Contains(page.String(), "<h2>Cipher suites</h2>") {
		t.Errorf("the page shows the empty tables past the stop")
	}
}
