package trust

import (
	"crypto/x509"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	tlslab "github.com/tlskit/tlskit/lab"
)

// TestFetchFromLab runs --fetch against the lab's PKI server (never the
// internet): a missing intermediate fetched from the leaf's AIA URL is
// confirmed, an AIA URL that serves another CA is said to, and a CRL
// fetched from the leaf's distribution point revokes it.
func TestFetchFromLab(t *testing.T) {
	l, err := tlslab.Start(t.Context(), tlslab.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	anchors, err := LoadAnchors([]string{"file:" + l.Files().Root}, "")
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, fetch bool) *Result {
		c, ok := l.Case(name)
		if !ok {
			t.Fatalf("no lab case %s", name)
		}
		ders, err := ReadChainFile(c.ChainFile)
		if err != nil {
			t.Fatal(err)
		}
		v := &Verifier{Anchors: anchors}
		if fetch {
			v.Fetch = DefaultFetcher()
		}
		return v.Check(Request{DER: ders, Name: c.ServerName(), Context: t.Context()})
	}

	r := check("aia-fetch", true)
	f := find(t, r, finding.ChainIncomplete)
	if r.Trusted || !strings.Contains(f.Title, "confirmed: with the intermediate from "+l.PKIURL()+tlslab.PathIntermediate+" the chain verifies") {
		t.Errorf("aia-fetch:\n%s", dump(r))
	}
	if len(r.Fetched) != 1 || !r.Fetched[0].Used || r.Fetched[0].Kind != "issuer" || len(r.Verified) != 1 || len(r.Verified[0]) != 3 {
		t.Errorf("fetched %+v, verified %d paths", r.Fetched, len(r.Verified))
	}
	find(t, r, finding.ChainFetched)
	// Without --fetch nothing is fetched: the plain finding.
	r = check("aia-fetch", false)
	if f := find(t, r, finding.ChainIncomplete); len(r.Fetched) != 0 || strings.Contains(f.Title, "confirmed") {
		t.Errorf("no --fetch:\n%s", dump(r))
	}

	r = check("aia-wrong", true)
	f = find(t, r, finding.ChainIncomplete)
	if !strings.Contains(f.Title, "serves something else") || !strings.Contains(f.Detail, "tlskit Lab Other Root CA") || r.Fetched[0].Used {
		t.Errorf("aia-wrong:\n%s", dump(r))
	}

	r = check("revoked", true)
	if r.Trusted || r.Err().(*VerifyError).ID != finding.CertRevoked || len(r.Fetched) != 1 || r.Fetched[0].Kind != "crl" || !r.Fetched[0].Used {
		t.Errorf("revoked, CRL fetched from the distribution point:\n%s\n%+v", dump(r), r.Fetched)
	}
	if r := check("revoked", false); !r.Trusted {
		t.Errorf("revoked without --crl or --fetch is trusted: nothing says otherwise:\n%s", dump(r))
	}
}

// TestFetchLimits covers what no server of the lab does: a redirect to
// another scheme, a body beyond the limit, an error status, a server that
// does not answer in time, and the limit on the number of fetches. An
// in-process HTTP server plays those, as a fake only for failure modes.
func TestFetchLimits(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://pki.example/x.crt", http.StatusFound)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 2<<20))
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f := &Fetcher{Timeout: 500 * time.Millisecond}
	for _, tc := range []struct{ path, want string }{
		{"/redirect", "a redirect to ftp"},
		{"/huge", "more than 1048576 bytes"},
		{"/missing", "HTTP 404"},
		{"/slow", "deadline exceeded"},
	} {
		_, err := f.get(t.Context(), srv.URL+tc.path, 1<<20)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.path, err, tc.want)
		}
	}
	if _, err := f.get(t.Context(), "ldap://ldap.example/cn=CA", 1<<20); err == nil || !strings.Contains(err.Error(), "only http and https") {
		t.Errorf("ldap: %v", err)
	}

	// A leaf with many AIA URLs: at most MaxFetches requests.
	l := newLab(t)
	var urls []string
	for range 5 {
		urls = append(urls, srv.URL+"/missing")
	}
	leaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, aia: urls}, l.inter)
	p := l.policy()
	p.Fetch = &Fetcher{MaxFetches: 2, Timeout: time.Second}
	r := p.Check(Request{Chain: certs(leaf), Name: "www.lab.example", Time: t0})
	if len(r.Fetched) != 1 { // the same URL is fetched once
		t.Errorf("fetched %d URLs, want 1: %+v", len(r.Fetched), r.Fetched)
	}
	for i := range urls {
		urls[i] += "?" + string(rune('a'+i))
	}
	leaf = issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, aia: urls}, l.inter)
	r = p.Check(Request{Chain: certs(leaf), Name: "www.lab.example", Time: t0})
	if len(r.Fetched) != 2 {
		t.Errorf("fetched %d URLs, want MaxFetches 2", len(r.Fetched))
	}
	f2 := find(t, r, finding.ChainIncomplete)
	if !strings.Contains(f2.Detail, "HTTP 404") {
		t.Errorf("chain.incomplete does not say what the AIA URL answered:\n%s", dump(r))
	}
}

// TestFetchCRLBudget: the CRLs one verification fetches are bounded all
// together (MaxCRLBytes), not each: a peer's certificates name the URLs,
// and a parsed CRL takes many times its size in memory. The CRL that would
// pass the limit is refused with the reason, and once the limit is
// reached nothing more is fetched. The CA's web server is nginx.
func TestFetchCRLBudget(t *testing.T) {
	l := newLab(t)
	srv := peertest.Files(t)
	inter := issue(t, spec{cn: "Lab Intermediate 2", ca: true, crldp: []string{srv.URL + "/root.crl"}}, l.root)
	leaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, crldp: []string{srv.URL + "/inter.crl"}}, inter)
	serials := make([]*big.Int, 200)
	for i := range serials {
		serials[i] = big.NewInt(int64(i) + 1<<40) // not a serial issue() gives
	}
	crls := map[string][]byte{"/inter.crl": crlOf(t, inter, nil, serials...).List.Raw, "/root.crl": crlOf(t, l.root, nil).List.Raw}
	for path, der := range crls {
		srv.Write(t, path, der)
	}
	total := int64(len(crls["/inter.crl"]) + len(crls["/root.crl"]))
	for _, tc := range []struct {
		budget int64
		want   string // what the CRL fetched second got; "" both fetched
	}{
		{total, ""},
		{total - 1, ", what is left of the " + fmt.Sprint(total-1) + " bytes the CRLs fetched for one verification may take"},
	} {
		p := l.policy()
		p.Fetch = &Fetcher{MaxCRLBytes: tc.budget, Timeout: time.Second}
		r := p.Check(Request{Chain: certs(leaf, inter), Name: "www.lab.example", Time: t0})
		var got []string
		var sum int64
		for _, f := range r.Fetched {
			got = append(got, f.Got)
			sum += int64(f.Bytes)
		}
		if len(r.Fetched) != 2 || sum > tc.budget {
			t.Fatalf("budget %d: fetched %d bytes: %q\n%s", tc.budget, sum, got, dump(r))
		}
		switch {
		case tc.budget == total && !r.Trusted:
			t.Errorf("budget %d: not trusted with both CRLs:\n%s", tc.budget, dump(r))
		case tc.want != "" && !strings.HasSuffix(got[1], tc.want):
			t.Errorf("budget %d: the second CRL got %q, want it to end %q", tc.budget, got[1], tc.want)
		case tc.budget < total && tc.want == "" && !strings.Contains(got[1], "what is left") && !strings.Contains(got[1], "reached the limit"):
			t.Errorf("budget %d: the second CRL got %q", tc.budget, got[1])
		}
	}
	// Spent exactly: the next is not fetched at all.
	p := l.policy()
	p.Fetch = &Fetcher{MaxCRLBytes: int64(len(crls["/inter.crl"])), Timeout: time.Second}
	r := p.Check(Request{Chain: certs(leaf, inter), Name: "www.lab.example", Time: t0})
	if len(r.Fetched) != 2 || r.Fetched[1].Bytes != 0 || !strings.HasPrefix(r.Fetched[1].Got, "not fetched: the CRLs fetched for this verification reached the limit of ") {
		t.Errorf("spent budget: %+v", r.Fetched)
	}
}

// TestFetchCache: a Fetcher serving many verifications (a fleet's, a
// server's, an exporter's) fetches an issuer and a CRL once, and later
// verifications use what it kept, and say so; a CRL is kept until its
// next update at most, and CacheFor < 0 keeps nothing. The cache's bounds
// hold whatever is fetched. The CA's web server is nginx, whose access log
// counts the requests.
func TestFetchCache(t *testing.T) {
	l := newLab(t)
	srv := peertest.Files(t)
	next := time.Now().Add(30 * time.Minute).Truncate(time.Second) // the CRL is current now, and at t0; due before CacheFor (an hour) ends
	current := func(c *x509.RevocationList) { c.NextUpdate = next }
	crl := crlOf(t, l.inter, current).List.Raw
	other := issue(t, spec{cn: "Lab Intermediate", ca: true}, l.root) // same name, another key
	forged := crlOf(t, other, current).List.Raw
	for path, body := range map[string][]byte{"/inter.crt": l.inter.cert.Raw, "/inter.crl": crl, "/forged.crl": forged} {
		srv.Write(t, path, body)
	}
	leaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, aia: []string{srv.URL + "/inter.crt"}, crldp: []string{srv.URL + "/inter.crl"}}, l.inter)
	verify := func(f *Fetcher) *Result {
		p := l.policy()
		p.Fetch = f
		r := p.Check(Request{Chain: certs(leaf), Name: "www.lab.example", Time: t0})
		// The missing intermediate confirmed by the fetch (still an error:
		// the server must send it), and the leaf checked against the CRL.
		if f := find(t, r, finding.ChainIncomplete); !strings.Contains(f.Title, "confirmed") || len(r.Fetched) != 2 || !r.Fetched[0].Used || !r.Fetched[1].Used {
			t.Fatalf("what was fetched was not used:\n%s", dump(r))
		}
		return r
	}
	f := &Fetcher{Timeout: time.Second}
	for i := range 3 {
		r := verify(f)
		for _, fe := range r.Fetched {
			if kept := !fe.CachedAt.IsZero(); kept != (i > 0) {
				t.Errorf("verification %d: %s kept: %v", i+1, fe.URL, kept)
			}
		}
	}
	if requests := srv.Requests(t); requests["/inter.crt"] != 1 || requests["/inter.crl"] != 1 {
		t.Errorf("requests %v, want one each", requests)
	}
	if got := f.cache[srv.URL+"/inter.crl"].until; !got.Equal(next) {
		t.Errorf("the CRL is kept until %v, want its next update %v", got, next)
	}
	// A CRL no certificate of the verified path signed is not kept: a
	// peer's URLs can serve anything.
	forgedLeaf := issue(t, spec{cn: "www.lab.example", dns: []string{"www.lab.example"}, crldp: []string{srv.URL + "/forged.crl"}}, l.inter)
	p := l.policy()
	p.Fetch = f
	if r := p.Check(Request{Chain: certs(forgedLeaf, l.inter), Name: "www.lab.example", Time: t0}); len(r.Fetched) != 1 || f.cache[srv.URL+"/forged.crl"] != nil {
		t.Errorf("a CRL of another key was kept:\n%s", dump(r))
	}
	// Nothing kept.
	before := srv.Requests(t)
	none := &Fetcher{Timeout: time.Second, CacheFor: -1}
	verify(none)
	verify(none)
	if requests := srv.Requests(t); requests["/inter.crt"]-before["/inter.crt"] != 2 || requests["/inter.crl"]-before["/inter.crl"] != 2 || len(none.cache) != 0 {
		t.Errorf("CacheFor -1: requests %v (before: %v), %d kept", requests, before, len(none.cache))
	}
	// The bounds: URLs and bytes.
	now := time.Now()
	for i := range maxCachedURLs + 10 {
		f.keep(fmt.Sprintf("http://pki.example/%d", i), &cachedFetch{bytes: 1 << 20, at: now, until: now.Add(time.Hour)})
	}
	if len(f.cache) > maxCachedURLs || f.cacheBytes > maxCachedBytes {
		t.Errorf("%d URLs and %d bytes kept, bounds %d and %d", len(f.cache), f.cacheBytes, maxCachedURLs, maxCachedBytes)
	}
}
