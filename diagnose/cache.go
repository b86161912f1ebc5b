package diagnose

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tlskit/tlskit/trust"
)

// ChainCache remembers chain verifications and certificate descriptions
// across analyses, for a monitor that sees the same chains again and again
// (the exporter probes every target every scrape). An entry is used only
// for the same verifier, chain and name, and only while the verification
// time stays where the verification cannot change: before the next
// not-before or not-after of any certificate of the chain or of the
// verified path, before the pins expire, and within the TTL. Its findings
// are those of the first verification: their words ("expires in 10 days")
// can be up to the TTL old, their ids and severities are exact. Safe for
// concurrent use; nil caches nothing.
type ChainCache struct {
	ttl  time.Duration
	max  int
	mu   sync.Mutex
	res  map[[32]byte]cachedResult
	desc map[[32]byte]trust.CertInfo
}

type cachedResult struct {
	r            *trust.Result
	from, before time.Time
}

// NewChainCache returns a cache of at most max verifications and max
// descriptions, each used for at most ttl.
func NewChainCache(max int, ttl time.Duration) *ChainCache {
	return &ChainCache{ttl: ttl, max: max, res: map[[32]byte]cachedResult{}, desc: map[[32]byte]trust.CertInfo{}}
}

// check is v.Check(req), remembered. Requests whose result can change
// with more than the certificates' validity are not remembered: with a
// stapled OCSP response (its own validity), with CRLs, or with fetching.
func (c *ChainCache) check(v *trust.Verifier, req trust.Request) *trust.Result {
	at := req.Time
	if c == nil || at.IsZero() || len(req.OCSP) > 0 || len(v.CRLs) > 0 || v.Fetch != nil {
		return v.Check(req)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%p\x00%s\x00%v\x00", v, req.Name, req.Stapling)
	for _, cert := range req.Chain {
		sum := sha256.Sum256(cert.Raw)
		h.Write(sum[:])
	}
	for _, der := range req.DER {
		sum := sha256.Sum256(der)
		h.Write(sum[:])
	}
	var key [32]byte
	h.Sum(key[:0])
	c.mu.Lock()
	e, ok := c.res[key]
	c.mu.Unlock()
	if ok && !at.Before(e.from) && at.Before(e.before) {
		return copyResult(e.r)
	}
	r := v.Check(req)
	before := at.Add(c.ttl)
	from := at
	bound := func(certs []*x509.Certificate) {
		for _, cert := range certs {
			for _, t := range []time.Time{cert.NotBefore, cert.NotAfter.Add(time.Second)} {
				if t.After(at) && t.Before(before) {
					before = t
				}
			}
		}
	}
	bound(r.Sent)
	for _, p := range r.Verified {
		bound(p)
	}
	if !v.PinsExpire.IsZero() && v.PinsExpire.After(at) && v.PinsExpire.Before(before) {
		before = v.PinsExpire
	}
	c.mu.Lock()
	if len(c.res) >= c.max {
		clear(c.res)
	}
	c.res[key] = cachedResult{r: r, from: from, before: before}
	c.mu.Unlock()
	return copyResult(r)
}

// copyResult copies what an analysis may change of a shared result.
func copyResult(r *trust.Result) *trust.Result {
	cp := *r
	cp.Findings = slices.Clone(r.Findings)
	return &cp
}

// describe is trust.Describe(cert), remembered.
func (c *ChainCache) describe(cert *x509.Certificate) trust.CertInfo {
	if c == nil {
		return trust.Describe(cert)
	}
	key := sha256.Sum256(cert.Raw)
	c.mu.Lock()
	d, ok := c.desc[key]
	c.mu.Unlock()
	if ok {
		return d
	}
	d = trust.Describe(cert)
	c.mu.Lock()
	if len(c.desc) >= c.max {
		clear(c.desc)
	}
	c.desc[key] = d
	c.mu.Unlock()
	return d
}
