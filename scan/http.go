package scan

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/keysched"
	"github.com/tlskit/tlskit/internal/wire"
)

// This file makes the one HTTP request of a scan, when the service is
// HTTPS (port 443, or ALPN h2 or http/1.1): GET / in a handshake tlskit
// finishes itself, asking for compressed content, and reads the answer's
// header (the body is not read): Strict-Transport-Security (RFC 6797) and
// Content-Encoding (BREACH). It sends no cookie and no credential.

// maxHTTPHeader bounds the answer's header a scan reads.
const maxHTTPHeader = 16 << 10

// hstsMinAge is the max-age below which testssl.sh calls HSTS too short
// (180 days), as tlskit does.
const hstsMinAge = 15552000

// httpRequest is the request a probe sends.
type httpRequest struct {
	host string
}

// bytes is the request as sent.
func (q *httpRequest) bytes() []byte {
	return []byte("GET / HTTP/1.1\r\nHost: " + q.host + "\r\nUser-Agent: tlskit-scan\r\nAccept: text/html,*/*;q=0.8\r\n" +
		"Accept-Encoding: gzip, deflate, br\r\nConnection: close\r\n\r\n")
}

// httpAnswer is what came back: the header, or why there is none.
type httpAnswer struct {
	resp *http.Response
	err  string
}

// HTTPResult is what one HTTPS request showed.
type HTTPResult struct {
	// Request is the request sent and Version the TLS version it went
	// over.
	Request string `json:"request"`
	Version string `json:"version,omitempty"`
	// Status is the answer's status line ("HTTP/1.1 200 OK"); empty when
	// no answer was read, and then Note says why.
	Status string `json:"status,omitempty"`
	Note   string `json:"note,omitempty"`
	// HSTS is the answer's Strict-Transport-Security header.
	HSTS HSTS `json:"hsts"`
	// ContentEncoding is the answer's Content-Encoding, to a request that
	// accepts gzip, deflate and br: the body is compressed (BREACH).
	ContentEncoding string `json:"content_encoding,omitempty"`
	// Probe is the probe that made the request.
	Probe int `json:"probe"`
}

// HSTS is a Strict-Transport-Security header as a browser reads it (RFC
// 6797 §6.1, §8.1: only the first header counts).
type HSTS struct {
	// Present says the answer has the header; Header is its value.
	Present bool   `json:"present"`
	Header  string `json:"header,omitempty"`
	// MaxAge is max-age in seconds (0 also when absent).
	MaxAge int64 `json:"max_age_s"`
	// IncludeSubDomains and Preload are the directives.
	IncludeSubDomains bool `json:"include_subdomains"`
	Preload           bool `json:"preload"`
	// Problem says why browsers ignore the header, when they do.
	Problem string `json:"problem,omitempty"`
}

// wantHTTP says whether the service is HTTPS: port 443, or ALPN h2 or
// http/1.1 negotiated.
func (s *scanner) wantHTTP(alpn ALPNResult) bool {
	if s.opts.NoHTTP || s.opts.StartTLS != "" {
		return false
	}
	if _, port, err := net.SplitHostPort(s.opts.Address); err == nil && port == "443" {
		return true
	}
	return slices.Contains(alpn.Protocols, "h2") || slices.Contains(alpn.Protocols, "http/1.1")
}

// httpCheck makes the request over the highest version tlskit can finish.
func (s *scanner) httpCheck(ctx context.Context, accepted map[wire.Version]bool) *HTTPResult {
	host := s.name
	if _, port, err := net.SplitHostPort(s.opts.Address); err == nil && port != "443" {
		host = net.JoinHostPort(s.name, port)
	}
	q := &httpRequest{host: host}
	res := &HTTPResult{Request: "GET / HTTP/1.1 (Host: " + host + "; Accept-Encoding: gzip, deflate, br)"}
	var sp helloSpec
	switch v := best12(accepted); {
	case accepted[wire.VersionTLS13]:
		sp = s.spec13Keyed()
	case v != 0 && v != wire.VersionSSL30:
		sp = s.spec12(v)
	default:
		res.Note = "no version tlskit finishes a handshake with for a request"
		return res
	}
	s.progress(1, "HTTP")
	r := s.probe(ctx, "HTTP request: GET / (HSTS, compression)", sp, toComplete, afterHandshake{http: q}, nil)
	res.Probe = r.probe
	if r.version != 0 {
		res.Version = r.version.String()
	}
	switch {
	case r.http == nil:
		res.Note = "could not finish a handshake to send the request: " + r.answer()
		return res
	case r.http.resp == nil:
		res.Note = r.http.err
		return res
	}
	resp := r.http.resp
	res.Status = resp.Proto + " " + resp.Status
	res.ContentEncoding = strings.Join(resp.Header.Values("Content-Encoding"), ", ")
	if strings.EqualFold(res.ContentEncoding, "identity") {
		res.ContentEncoding = ""
	}
	if v := resp.Header.Values("Strict-Transport-Security"); len(v) > 0 {
		res.HSTS = parseHSTS(v[0])
	}
	return res
}

// httpExchange sends the request in the finished session and reads the
// answer's header (at most maxHTTPHeader bytes).
func (h *hsState) httpExchange(seal *keysched.Sealer) *httpAnswer {
	rec, err := seal.Seal(uint8(wire.ContentApplicationData), h.after.http.bytes())
	if err != nil {
		return &httpAnswer{err: "could not protect the request: " + err.Error()}
	}
	if err := h.v.send(rec); err != nil {
		return &httpAnswer{err: "could not send the request: " + err.Error()}
	}
	h.v.c.SetReadDeadline(time.Now().Add(h.timeout))
	var buf []byte
	for {
		if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
			return readHTTPHeader(buf[:i+4])
		}
		if len(buf) > maxHTTPHeader {
			return &httpAnswer{err: fmt.Sprintf("the answer's header is longer than %d KiB", maxHTTPHeader>>10)}
		}
		it, err := h.v.next(&h.q)
		if err != nil {
			why := map[string]string{"fin": "the server closed the connection", "rst": "the server reset the connection", "timeout": "no answer before the deadline"}[endWords(err)]
			if why == "" {
				why = err.Error()
			}
			if len(buf) > 0 {
				return &httpAnswer{err: why + " in the middle of the answer's header"}
			}
			return &httpAnswer{err: why + " instead of answering the request"}
		}
		switch it.kind {
		case itemAppData:
			if it.encrypted {
				return &httpAnswer{err: "the server's answer could not be decrypted"}
			}
			buf = append(buf, it.data...)
		case itemAlert:
			return &httpAnswer{err: "the server answered the request with alert " + it.alert.String()}
		case itemNotTLS:
			return &httpAnswer{err: "the server answered with bytes that are not TLS: " + it.note}
		}
	}
}

// readHTTPHeader parses an answer's header (status line and fields, up to
// the empty line).
func readHTTPHeader(b []byte) *httpAnswer {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		if !bytes.HasPrefix(b, []byte("HTTP/")) {
			return &httpAnswer{err: "the server's answer is not HTTP"}
		}
		return &httpAnswer{err: "the server's answer does not parse as HTTP: " + err.Error()}
	}
	resp.Body.Close()
	return &httpAnswer{resp: resp}
}

// parseHSTS reads a Strict-Transport-Security value (RFC 6797 §6.1):
// directives separated by ";", names case-insensitive, values tokens or
// quoted strings; max-age is required and each directive appears at most
// once, or browsers ignore the header.
func parseHSTS(value string) HSTS {
	h := HSTS{Present: true, Header: value}
	seen := map[string]bool{}
	hasMaxAge := false
	for _, d := range strings.Split(value, ";") {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		name, val, _ := strings.Cut(d, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if seen[name] {
			h.Problem = "the directive " + name + " appears twice, which makes the header invalid (RFC 6797 §6.1)"
			return h
		}
		seen[name] = true
		switch name {
		case "max-age":
			if val == "" || strings.TrimLeft(val, "0123456789") != "" {
				h.Problem = fmt.Sprintf("max-age=%q is not a number of seconds (RFC 6797 §6.1.1)", val)
				return h
			}
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				n = 1<<63 - 1 // digits beyond int64: still a number of seconds
			}
			h.MaxAge, hasMaxAge = n, true
		case "includesubdomains":
			h.IncludeSubDomains = true
		case "preload":
			h.Preload = true
		}
	}
	if !hasMaxAge {
		h.Problem = "the header has no max-age, which RFC 6797 §6.1.1 requires: browsers ignore it"
	}
	return h
}

// httpFindings are the HSTS and BREACH findings of an HTTP result.
func httpFindings(h *HTTPResult) []finding.Finding {
	if h == nil || h.Status == "" {
		return nil
	}
	var fs []finding.Finding
	ev := []string{fmt.Sprintf("%s: %s (probe %d)", h.Request, h.Status, h.Probe)}
	hs := h.HSTS
	switch {
	case !hs.Present:
		fs = append(fs, finding.Finding{ID: finding.ScanNoHSTS, Severity: finding.Warning, Title: "The HTTPS answer has no Strict-Transport-Security header (HSTS)",
			Detail:   "Without HSTS (RFC 6797) a browser that is sent to http:// first can be kept on plaintext HTTP by a man in the middle (SSL stripping).",
			Fix:      "Send Strict-Transport-Security: max-age=63072000; includeSubDomains (nginx: add_header Strict-Transport-Security \"max-age=63072000\" always;) once every subdomain serves HTTPS.",
			Evidence: ev})
	case hs.Problem != "":
		fs = append(fs, finding.Finding{ID: finding.ScanNoHSTS, Severity: finding.Warning, Title: "The HTTPS answer's Strict-Transport-Security header is invalid",
			Detail: hs.Problem + ".", Fix: "Send Strict-Transport-Security: max-age=63072000; includeSubDomains.",
			Evidence: append(ev, "Strict-Transport-Security: "+hs.Header)})
	case hs.MaxAge == 0:
		fs = append(fs, finding.Finding{ID: finding.ScanNoHSTS, Severity: finding.Warning, Title: "The HTTPS answer disables HSTS (max-age=0)",
			Detail: "max-age=0 tells browsers to forget the host's HSTS policy (RFC 6797 §6.1.1).", Fix: "Send Strict-Transport-Security: max-age=63072000; includeSubDomains.",
			Evidence: append(ev, "Strict-Transport-Security: "+hs.Header)})
	case hs.MaxAge < hstsMinAge:
		fs = append(fs, finding.Finding{ID: finding.ScanHSTSShort, Severity: finding.Warning, Title: fmt.Sprintf("HSTS lasts only %d days", hs.MaxAge/86400),
			Detail: fmt.Sprintf("max-age=%d s: a browser that has not visited for longer is unprotected again; testssl.sh asks for at least 180 days, Mozilla's profiles for two years.", hs.MaxAge),
			Fix:    "Raise max-age to 63072000 (two years).", Evidence: append(ev, "Strict-Transport-Security: "+hs.Header)})
	}
	if h.ContentEncoding != "" {
		fs = append(fs, finding.Finding{ID: finding.ScanBREACH, Severity: finding.Warning, Title: "The server compresses HTTPS answers (BREACH, potentially)",
			Detail:   "BREACH (CVE-2013-3587): when a compressed page holds a secret (a CSRF token) and reflects something the attacker chooses, the length of the encrypted answer reveals the secret. Only / was requested; whether it holds secrets a scan cannot tell.",
			Fix:      "Do not compress pages that carry secrets and reflect input (nginx: gzip off in those locations), or mask the secrets per request (CSRF tokens XORed with a random pad).",
			Evidence: append(ev, "Content-Encoding: "+h.ContentEncoding)})
	}
	return fs
}

// breach is BREACH's entry in the vulnerability list.
func breach(h *HTTPResult, noHTTP bool) Vulnerability {
	v := Vulnerability{Name: "BREACH (HTTP compression)", CVE: []string{"CVE-2013-3587"}, TestsslID: "BREACH"}
	switch {
	case h == nil && noHTTP:
		v.State, v.Detail = Unknown, "not tested: no HTTP request was made (asked not to)"
	case h == nil:
		v.State, v.Detail = NotApplicable, "the service does not look like HTTPS (not port 443, no ALPN h2 or http/1.1), so no HTTP request was made"
	case h.Status == "":
		v.State, v.Detail, v.Probes = Unknown, "the HTTP request got no answer: "+h.Note, []int{h.Probe}
	case h.ContentEncoding != "":
		v.State, v.Finding, v.Probes = PotentiallyVulnerable, finding.ScanBREACH, []int{h.Probe}
		v.Detail = "GET / asking for gzip, deflate and br was answered with Content-Encoding: " + h.ContentEncoding + " (only / was requested)"
	default:
		v.State, v.Probes = NotVulnerable, []int{h.Probe}
		v.Detail = "GET / asking for gzip, deflate and br was answered uncompressed (only / was requested)"
	}
	return v
}
