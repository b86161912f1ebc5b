package trust

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/dn"
	"github.com/tlskit/tlskit/truststore"
)

// Fetcher fetches what a chain points at but did not bring: a missing
// issuer from its AIA caIssuers URL (RFC 5280 §4.2.2.1) and CRLs from
// their distribution points (§4.2.1.13). Fetching is opt-in (a nil
// [Verifier.Fetch] fetches nothing) and bounded: http and https only, a
// timeout per request, a size limit, few redirects and never to another
// scheme, and a limit on the fetches of one verification. What was
// fetched, and what each URL served, is reported in [Result.Fetched].
type Fetcher struct {
	// Client makes the requests; nil means a client with Timeout.
	Client *http.Client
	// Timeout bounds each request; zero means 5 seconds.
	Timeout time.Duration
	// MaxCertBytes bounds a response of certificates; zero means 1 MiB.
	MaxCertBytes int64
	// MaxCRLBytes bounds the CRLs one verification fetches, all its
	// responses together (a parsed CRL takes up to about 30 times its
	// size in memory, most of it its entries); zero means 64 MiB.
	MaxCRLBytes int64
	// MaxFetches bounds the requests of one verification; zero means 8.
	MaxFetches int
	// CacheFor is how long what was fetched serves later verifications
	// with this Fetcher (a fleet's, a server's, a tunnel's, an
	// exporter's: many chains from the same CAs), instead of a request
	// each: issuer certificates this long, a CRL this long or until its
	// next update, whichever is first. Zero means an hour; negative,
	// nothing is kept. Only what proved itself is kept (an issuer on a
	// verified path, a CRL a certificate of that path signed), at most
	// 64 URLs and 64 MiB of responses.
	CacheFor time.Duration

	mu         sync.Mutex
	cache      map[string]*cachedFetch // by URL
	cacheBytes int64                   // the responses' sizes, together
}

// cachedFetch is a response kept for later verifications, parsed.
type cachedFetch struct {
	bytes int
	certs []*x509.Certificate // an AIA response's
	crls  []*CRL              // a distribution point's
	at    time.Time           // when it was fetched
	until time.Time           // when it is fetched again
}

// Bounds of a Fetcher's cache.
const (
	maxCachedURLs  = 64
	maxCachedBytes = maxCRLSize
)

// cacheFor is CacheFor's meaning.
func (f *Fetcher) cacheFor() time.Duration {
	if f.CacheFor == 0 {
		return time.Hour
	}
	return f.CacheFor
}

// cached is the response kept for u, if it is still to be used.
func (f *Fetcher) cached(u string, now time.Time) *cachedFetch {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cache[u]
	if c == nil {
		return nil
	}
	if !now.Before(c.until) || now.Before(c.at) {
		f.drop(u)
		return nil
	}
	return c
}

// keep keeps c, the response of u, within the cache's bounds (the entries
// due first make room).
func (f *Fetcher) keep(u string, c *cachedFetch) {
	if f.cacheFor() < 0 || !c.at.Before(c.until) || int64(c.bytes) > maxCachedBytes {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cache == nil {
		f.cache = map[string]*cachedFetch{}
	}
	f.drop(u)
	for len(f.cache) >= maxCachedURLs || f.cacheBytes+int64(c.bytes) > maxCachedBytes {
		first := ""
		for k, e := range f.cache {
			if first == "" || e.until.Before(f.cache[first].until) {
				first = k
			}
		}
		f.drop(first)
	}
	f.cache[u] = c
	f.cacheBytes += int64(c.bytes)
}

// drop forgets u's response; f.mu is held.
func (f *Fetcher) drop(u string) {
	if c := f.cache[u]; c != nil {
		f.cacheBytes -= int64(c.bytes)
		delete(f.cache, u)
	}
}

// Fetched is one URL tlskit fetched and what it served.
type Fetched struct {
	// URL is what was fetched.
	URL string `json:"url"`
	// Kind is "issuer" (AIA caIssuers) or "crl" (CRL distribution point).
	Kind string `json:"kind"`
	// For is the subject of the certificate that points at the URL.
	For string `json:"for"`
	// Bytes is the size of the response body.
	Bytes int `json:"bytes,omitempty"`
	// Got says what the URL served: the certificates' subjects, "a CRL of
	// …", or why nothing usable came ("HTTP 404", "not a certificate").
	Got string `json:"got"`
	// Used says whether what it served was used: the issuer was on the
	// verified path, or the CRL was the issuer's.
	Used bool `json:"used"`
	// CachedAt, when set, says the response was not fetched again: it
	// was kept from a fetch of an earlier verification at that time
	// (see [Fetcher.CacheFor]).
	CachedAt time.Time `json:"cached_at,omitzero"`

	certs []*x509.Certificate
	err   bool
	fresh *cachedFetch // fetched now: kept for later verifications if it proves itself
}

// DefaultFetcher returns a Fetcher with the default limits.
func DefaultFetcher() *Fetcher { return &Fetcher{} }

func (f *Fetcher) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return 5 * time.Second
}

func (f *Fetcher) maxFetches() int {
	if f.MaxFetches > 0 {
		return f.MaxFetches
	}
	return 8
}

// client returns the HTTP client: redirects only to http or https, at
// most three.
func (f *Fetcher) client() *http.Client {
	c := &http.Client{Timeout: f.timeout()}
	if f.Client != nil {
		cc := *f.Client
		c = &cc
		if c.Timeout == 0 {
			c.Timeout = f.timeout()
		}
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("more than 3 redirects")
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("a redirect to %s, not http or https", req.URL.Scheme)
		}
		return nil
	}
	return c
}

// get fetches url with a size limit.
func (f *Fetcher) get(ctx context.Context, raw string, limit int64) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("a %s URL; tlskit fetches only http and https", u.Scheme)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "tlskit")
	resp, err := f.client().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, tooLarge(limit)
	}
	return body, nil
}

// tooLarge is a response beyond the limit of get, in bytes.
type tooLarge int64

func (n tooLarge) Error() string { return fmt.Sprintf("more than %d bytes", int64(n)) }

// fetchesLeft reports whether the verification may fetch again.
func (v *verifier) fetchesLeft() bool {
	return v.p.Fetch != nil && len(v.r.Fetched) < v.p.Fetch.maxFetches()
}

// ctx returns the request's context.
func (v *verifier) ctx() context.Context {
	if v.req.Context != nil {
		return v.req.Context
	}
	return context.Background()
}

// fetchIssuers fetches the AIA caIssuers URLs of c and adds what they
// serve to the candidates; it reports whether anything was added.
func (v *verifier) fetchIssuers(c *x509.Certificate) bool {
	added := false
	for _, u := range c.IssuingCertificateURL {
		if !v.fetchesLeft() || v.fetchedURL(u) {
			continue
		}
		fe := Fetched{URL: u, Kind: "issuer", For: dn.String(c.RawSubject)}
		now := time.Now()
		var certs []*x509.Certificate
		if kept := v.p.Fetch.cached(u, now); kept != nil {
			certs, fe.Bytes, fe.CachedAt = kept.certs, kept.bytes, kept.at
		} else {
			limit := v.p.Fetch.MaxCertBytes
			if limit <= 0 {
				limit = 1 << 20
			}
			body, err := v.p.Fetch.get(v.ctx(), u, limit)
			fe.Bytes = len(body)
			if err != nil {
				v.failed(fe, err.Error())
				continue
			}
			// DER, PEM or a PKCS#7 certs-only bundle (.p7c, RFC 5280 §4.2.2.1).
			if certs, err = truststore.ParseCertificates(body, "the AIA response"); err != nil {
				v.failed(fe, "not a certificate (DER, PEM or PKCS#7)")
				continue
			}
			fe.fresh = &cachedFetch{bytes: len(body), certs: certs, at: now, until: now.Add(v.p.Fetch.cacheFor())}
		}
		var subjects []string
		for _, fc := range certs {
			subjects = append(subjects, dn.String(fc.RawSubject))
			k := string(fc.RawSubject)
			v.bySubject[k] = append(v.bySubject[k], fc)
			v.fetched = append(v.fetched, fc)
			added = true
		}
		fe.Got = strings.Join(subjects, "; ")
		fe.certs = certs
		v.r.Fetched = append(v.r.Fetched, fe)
	}
	return added
}

// failed reports a fetch that brought nothing usable, and why.
func (v *verifier) failed(fe Fetched, why string) {
	fe.Got, fe.err = why, true
	v.r.Fetched = append(v.r.Fetched, fe)
}

// fetchedURL reports whether u was fetched already.
func (v *verifier) fetchedURL(u string) bool {
	for _, f := range v.r.Fetched {
		if f.URL == u {
			return true
		}
	}
	return false
}

// fetchCRLs fetches the CRLs of c's distribution points and adds them.
func (v *verifier) fetchCRLs(c *x509.Certificate) {
	for _, u := range c.CRLDistributionPoints {
		if !v.fetchesLeft() || v.fetchedURL(u) {
			continue
		}
		fe := Fetched{URL: u, Kind: "crl", For: dn.String(c.RawSubject)}
		now := time.Now()
		if kept := v.p.Fetch.cached(u, now); kept != nil {
			fe.Bytes, fe.CachedAt = kept.bytes, kept.at
			v.addFetchedCRLs(&fe, kept.crls)
			continue
		}
		budget := v.p.Fetch.MaxCRLBytes
		if budget <= 0 {
			budget = maxCRLSize
		}
		if v.crlBytes >= budget {
			v.failed(fe, fmt.Sprintf("not fetched: the CRLs fetched for this verification reached the limit of %d bytes", budget))
			continue
		}
		body, err := v.p.Fetch.get(v.ctx(), u, budget-v.crlBytes)
		v.crlBytes += int64(len(body))
		fe.Bytes = len(body)
		if err != nil {
			why := err.Error()
			if _, ok := err.(tooLarge); ok && v.crlBytes > 0 {
				why += fmt.Sprintf(", what is left of the %d bytes the CRLs fetched for one verification may take", budget)
			}
			v.failed(fe, why)
			continue
		}
		crls, err := ParseCRLs(body, u)
		if err != nil {
			v.failed(fe, "not a CRL")
			continue
		}
		// Kept until its next update, and for at most CacheFor: a CA
		// publishes new revocations before then.
		until := now.Add(v.p.Fetch.cacheFor())
		if next := crls[0].List.NextUpdate; !next.IsZero() && next.Before(until) {
			until = next
		}
		fe.fresh = &cachedFetch{bytes: len(body), crls: crls, at: now, until: until}
		v.addFetchedCRLs(&fe, crls)
	}
}

// signedOnPath reports whether a certificate of path signed one of crls.
func signedOnPath(crls []*CRL, path []*x509.Certificate) bool {
	for _, crl := range crls {
		for _, c := range path {
			if crl.signedBy(c) == nil {
				return true
			}
		}
	}
	return false
}

// addFetchedCRLs adds the CRLs a fetch brought (or a kept one) to the
// verification's, and reports them.
func (v *verifier) addFetchedCRLs(fe *Fetched, crls []*CRL) {
	v.crls = append(v.crls, crls...)
	fe.Got = fmt.Sprintf("a CRL of %s (%d entries, next update %s)", crls[0].List.Issuer, len(crls[0].List.RevokedCertificateEntries), orNone(rfc3339(crls[0].List.NextUpdate)))
	v.r.Fetched = append(v.r.Fetched, *fe)
}

// reportFetches turns what was fetched into findings: an info listing each
// fetch, and the verdict on a missing issuer: confirmed (the chain verifies
// with it; the peer must still send it) or not (the URL serves something
// else).
func (v *verifier) reportFetches() {
	if len(v.r.Fetched) == 0 {
		return
	}
	var usedPath []*x509.Certificate
	if len(v.r.Verified) > 0 {
		usedPath = v.r.Verified[0]
	}
	var ev []string
	for i := range v.r.Fetched {
		fe := &v.r.Fetched[i]
		switch fe.Kind {
		case "issuer":
			for _, c := range fe.certs {
				for _, p := range usedPath {
					if p == c {
						fe.Used = true
					}
				}
			}
		case "crl":
			for _, crl := range v.crls {
				if crl.Source == fe.URL {
					fe.Used = fe.Used || !fe.err
				}
			}
		}
		ev = append(ev, fmt.Sprintf("%s %s (for %s): %s", fe.Kind, fe.URL, fe.For, fe.Got))
		// Kept for later verifications only what proved itself on a
		// path to an anchor: an issuer on it, or a CRL one of its
		// certificates signed. A peer's URLs can serve anything, and a
		// parsed CRL is large.
		if fe.fresh != nil && len(usedPath) > 0 && (fe.Used && fe.Kind == "issuer" || signedOnPath(fe.fresh.crls, usedPath)) {
			v.p.Fetch.keep(fe.URL, fe.fresh)
		}
		fe.fresh = nil
	}
	v.add(finding.Finding{
		ID:       finding.ChainFetched,
		Severity: finding.Info,
		Title:    fmt.Sprintf("tlskit fetched %d %s the chain points at", len(v.r.Fetched), plural(len(v.r.Fetched), "URL")),
		Detail:   "what the chain points at (AIA caIssuers, CRL distribution points) was fetched over HTTP; each URL and what it served is listed below",
		Fix:      "nothing to do; what a client cannot fetch, it cannot use",
		Evidence: ev,
	})
	// The verdict on a fetched issuer.
	for _, fe := range v.r.Fetched {
		if fe.Kind != "issuer" {
			continue
		}
		if fe.Used {
			v.add(finding.Finding{
				ID:       finding.ChainIncomplete,
				Severity: finding.Error,
				Title:    fmt.Sprintf("the %s did not send the intermediate certificate %q (confirmed: with the intermediate from %s the chain verifies)", v.peer(), fe.Got, fe.URL),
				Detail:   fmt.Sprintf("%s points at %s in its AIA caIssuers URL; tlskit fetched it (%d bytes) and the chain verifies with it. Browsers that fetch or cache intermediates work; curl, Go, OpenSSL and Python fail", fe.For, fe.URL, fe.Bytes),
				Fix:      "the " + v.peer() + " must send it: configure the full chain (leaf then intermediates, e.g. fullchain.pem rather than cert.pem)",
				Evidence: []string{fe.URL},
			})
			continue
		}
		if len(usedPath) == 0 {
			v.amendIncomplete(fe)
		}
	}
}

// amendIncomplete adds to the chain.incomplete finding what the AIA URL
// served when it did not complete the chain.
func (v *verifier) amendIncomplete(fe Fetched) {
	for i := range v.r.Findings {
		f := &v.r.Findings[i]
		if f.ID != finding.ChainIncomplete {
			continue
		}
		if fe.err {
			f.Detail += fmt.Sprintf(" tlskit fetched the AIA URL %s: %s, so the missing certificate could not be confirmed.", fe.URL, fe.Got)
			f.Title = strings.Replace(f.Title, "(fetch it from "+fe.URL+")", "(its AIA URL "+fe.URL+" fails: "+fe.Got+")", 1)
		} else {
			f.Detail += fmt.Sprintf(" tlskit fetched the AIA URL %s: it serves something else (%s), which does not complete the chain: the AIA URL is wrong or outdated too.", fe.URL, fe.Got)
			f.Title = strings.Replace(f.Title, "(fetch it from "+fe.URL+")", "(its AIA URL "+fe.URL+" serves something else)", 1)
		}
		return
	}
}
