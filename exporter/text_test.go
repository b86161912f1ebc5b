package exporter

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/diagnose"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/lab"
	"github.com/tlskit/tlskit/trust"
)

// caseModule is a module that reaches a lab case as its Client says: the
// lab's root, its pins, CRLs, fetching, client certificate, timeout and
// STARTTLS protocol.
func caseModule(c lab.Case) *Module {
	cl := c.Client
	return &Module{Policy: &tlskit.Policy{Trust: []string{"file:" + cl.CAFile}, Pins: cl.Pins, AllowSinglePin: len(cl.Pins) == 1,
		CRLFiles: cl.CRLFiles, Fetch: cl.Fetch, CertFile: cl.CertFile, KeyFile: cl.KeyFile, ServerName: cl.ServerName},
		StartTLS: cl.StartTLS, Timeout: cl.Timeout, ExpiringWithin: DefaultExpiringWithin}
}

// caseExporter returns an exporter with one module per lab case, named as
// the case.
func caseExporter(t *testing.T) *Exporter {
	t.Helper()
	mods := map[string]*Module{}
	for _, c := range theLab.Cases() {
		mods[c.Name] = caseModule(c)
	}
	ex, err := New(&Config{Modules: mods}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// acceptHeaders are Accept headers scrapers send: none, Prometheus 2's
// default, Prometheus 3's (UTF-8 names allowed), the plain text format,
// and protobuf (answered by the registry both ways).
var acceptHeaders = []string{
	"",
	"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
	"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,*/*;q=0.1",
	"text/plain;version=0.0.4;escaping=underscores",
	"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3",
}

// sameAnswer checks that the direct text answer of c is the answer of a
// registry holding c, through promhttp, for each Accept header.
func sameAnswer(t *testing.T, e *Exporter, c *resultCollector) {
	t.Helper()
	for _, accept := range acceptHeaders {
		r := httptest.NewRequest("GET", "/probe?target=x", nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		direct, reg := httptest.NewRecorder(), httptest.NewRecorder()
		e.answer(direct, r, c)
		e.answerRegistry(reg, r, c)
		if reg.Code != 200 {
			t.Fatalf("Accept %q: the registry answered %d: %s", accept, reg.Code, reg.Body)
		}
		if direct.Code != reg.Code || direct.Body.String() != reg.Body.String() {
			t.Errorf("Accept %q: the direct answer (%d):\n%s\ndiffers from the registry's (%d):\n%s", accept, direct.Code, direct.Body, reg.Code, reg.Body)
		}
		if text := !strings.Contains(accept, "protobuf"); text != (direct.Header().Get("Content-Length") != "") {
			t.Errorf("Accept %q: answered directly: %v, want %v", accept, !text, text)
		}
		for _, h := range []string{"Content-Type", "Vary", "Content-Encoding"} {
			if d, g := direct.Header().Values(h), reg.Header().Values(h); len(d) != len(g) || len(d) > 0 && d[0] != g[0] {
				t.Errorf("Accept %q: header %s %q, the registry's %q", accept, h, d, g)
			}
		}
	}
}

// TestTextMatchesRegistry: /probe's answer, written directly in the text
// format, is byte for byte what client_golang's registry and promhttp
// write for the same result, for every lab case and the Accept headers
// scrapers send.
func TestTextMatchesRegistry(t *testing.T) {
	e := caseExporter(t)
	for _, c := range theLab.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			res, err := e.Probe(context.Background(), c.Addr, c.Name, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			sameAnswer(t, e, &resultCollector{d: e.probeD, res: res})
			sameAnswer(t, e, &resultCollector{d: e.staticD, res: res, extra: []string{c.Addr, c.Name}})
		})
	}
}

// TestTextEscapesAndSorts: label values that need escaping (quotes,
// backslashes, newlines), UTF-8, positions past 9 (sorted as strings),
// findings counted, and what client_golang refuses (invalid UTF-8, the
// same series twice: left to the registry, which refuses them as before).
func TestTextEscapesAndSorts(t *testing.T) {
	e := caseExporter(t)
	var chain []trust.CertInfo
	for i := range 12 {
		chain = append(chain, trust.CertInfo{Subject: `CN=a "quoted" \ name` + "\nline", Issuer: "CN=Zürich ✓", Serial: "0" + string(rune('A'+i)),
			SHA256: "AB:CD", NotBefore: "2026-01-02T03:04:05Z", NotAfter: "2027-01-02T03:04:05Z"})
	}
	rep := &diagnose.Report{Verdict: diagnose.Untrusted, Version: "TLS 1.2", CipherSuite: "TLS_ECDHE", ALPN: `h"2`, Chain: chain, VerifiedPath: chain[:3],
		Findings: []finding.Finding{{ID: "cert.expired", Severity: finding.Error}, {ID: "b.x", Severity: finding.Warning}, {ID: "cert.expired", Severity: finding.Error}, {ID: "a.y", Severity: finding.Info}}}
	res := &Result{Report: rep, DNS: time.Millisecond, Connect: 1234567 * time.Nanosecond, Handshake: time.Second, Total: 3 * time.Second, upgrades: true,
		client: chain[:2]}
	sameAnswer(t, e, &resultCollector{d: e.probeD, res: res})
	sameAnswer(t, e, &resultCollector{d: e.staticD, res: res, extra: []string{"h\\ost:1", "m\"od"}})

	// A label value that is not UTF-8 (none of tlskit's can be: names,
	// ids and certificate descriptions are Go strings built from parsed,
	// valid text) is the registry's error, an HTTP 500, both ways.
	bad := *rep
	bad.ALPN = "\xff"
	for _, answer := range []func(http.ResponseWriter, *http.Request, *resultCollector){e.answer, e.answerRegistry} {
		w := httptest.NewRecorder()
		answer(w, httptest.NewRequest("GET", "/probe?target=x", nil), &resultCollector{d: e.probeD, res: &Result{Report: &bad}})
		if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "not valid UTF-8") {
			t.Errorf("a label value that is not UTF-8: %d %s, want 500", w.Code, w.Body)
		}
	}
}
