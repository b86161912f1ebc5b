package truststore

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
)

// mxOpt describes one certificate of the stack matrix.
type mxOpt struct {
	cn       string
	dns      []string
	ca       bool
	key      string // "rsa1024", "rsa2048", "p384"; default P-256
	nb, na   time.Time
	eku      []x509.ExtKeyUsage
	noEKU    bool
	ku       x509.KeyUsage
	sha1     bool
	critical bool
	notCA    bool // an issuer without basicConstraints CA:TRUE
	pc       bool // critical policy constraints (requireExplicitPolicy 5: no policy needed on the matrix's paths)
}

// mxIssue issues a certificate (self-signed when parent is nil).
func mxIssue(t testing.TB, now time.Time, o mxOpt, parent *ca) *ca {
	t.Helper()
	var key crypto.Signer
	var err error
	switch o.key {
	case "rsa1024":
		key, err = rsa.GenerateKey(rand.Reader, 1024)
	case "rsa2048":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "p384":
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	if o.nb.IsZero() {
		o.nb = now.Add(-24 * time.Hour)
	}
	if o.na.IsZero() {
		o.na = now.Add(300 * 24 * time.Hour)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: o.cn, Organization: []string{"tlskit stack matrix"}},
		NotBefore: o.nb, NotAfter: o.na, BasicConstraintsValid: !o.notCA, IsCA: o.ca && !o.notCA, DNSNames: o.dns}
	if o.ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := key.(*rsa.PrivateKey); ok {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	if o.ku != 0 {
		tmpl.KeyUsage = o.ku
	}
	if o.eku != nil {
		tmpl.ExtKeyUsage = o.eku
	}
	if o.noEKU {
		tmpl.ExtKeyUsage = nil
	}
	if o.critical {
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}}}
	}
	if o.pc {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 36}, Critical: true, Value: []byte{0x30, 0x03, 0x80, 0x01, 0x05}})
	}
	signer, issuer := key, tmpl
	if parent != nil {
		signer, issuer = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	if o.sha1 {
		der = resignSHA1(t, der, signer.(*rsa.PrivateKey))
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &ca{cert: c, key: key}
}

// resignSHA1 replaces a certificate's signature with sha1WithRSAEncryption
// (crypto/x509 no longer creates SHA-1 signatures).
func resignSHA1(t testing.TB, der []byte, key *rsa.PrivateKey) []byte {
	t.Helper()
	var cert struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &cert); err != nil {
		t.Fatal(err)
	}
	algSHA1, err := asn1.Marshal(struct {
		OID  asn1.ObjectIdentifier
		Null asn1.RawValue
	}{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, asn1.RawValue{Tag: asn1.TagNull}})
	if err != nil {
		t.Fatal(err)
	}
	// TBSCertificate: version [0], serialNumber, signature, the rest.
	body := cert.TBS.Bytes
	var parts [][]byte
	for len(body) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(body, &v)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, v.FullBytes)
		body = rest
	}
	parts[2] = algSHA1
	tbs, err := asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: bytesJoin(parts)})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(tbs)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	out, err := asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, asn1.RawValue{FullBytes: algSHA1}, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func bytesJoin(parts [][]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// mxCase is one row of the matrix: a chain as the server sends it, the
// roots every stack's store holds, the name to verify, and the rule the
// case is about (the model's Rule for a stack that refuses).
type mxCase struct {
	name    string
	sn      string
	leaf    *ca
	chain   []*x509.Certificate
	anchors []*x509.Certificate
	rule    string
}

// stackMatrix builds the certificate matrix: every property one stack
// judges differently from another.
func stackMatrix(t testing.TB, now time.Time) []mxCase {
	root := mxIssue(t, now, mxOpt{cn: "Matrix Root", ca: true, key: "rsa2048"}, nil)
	inter := mxIssue(t, now, mxOpt{cn: "Matrix Intermediate", ca: true, key: "rsa2048"}, root)
	leafCase := func(name, rule string, o mxOpt) mxCase {
		sn := name + ".mx.test"
		if o.cn == "" {
			o.cn = sn
		}
		if o.dns == nil {
			o.dns = []string{sn}
		}
		l := mxIssue(t, now, o, inter)
		return mxCase{name: name, sn: sn, leaf: l, chain: []*x509.Certificate{l.cert, inter.cert}, anchors: []*x509.Certificate{root.cert}, rule: rule}
	}
	interCase := func(name, rule string, io mxOpt, rootOpt *mxOpt) mxCase {
		r := root
		if rootOpt != nil {
			r = mxIssue(t, now, *rootOpt, nil)
		}
		io.ca = true
		i := mxIssue(t, now, io, r)
		sn := name + ".mx.test"
		l := mxIssue(t, now, mxOpt{cn: sn, dns: []string{sn}}, i)
		return mxCase{name: name, sn: sn, leaf: l, chain: []*x509.Certificate{l.cert, i.cert}, anchors: []*x509.Certificate{r.cert}, rule: rule}
	}
	long := now.Add(-1000 * 24 * time.Hour)
	cases := []mxCase{
		leafCase("good", "", mxOpt{}),
		leafCase("cn-only", RuleName, mxOpt{dns: []string{}}),
		leafCase("cn-and-other-san", RuleName, mxOpt{dns: []string{"other.mx.test"}}),
		leafCase("rsa1024-leaf", RuleKeySize, mxOpt{key: "rsa1024"}),
		leafCase("sha1-leaf", RuleSignature, mxOpt{sha1: true}),
		leafCase("eku-clientauth", RulePurpose, mxOpt{eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}),
		leafCase("no-eku", "", mxOpt{noEKU: true}),
		leafCase("ku-certsign-only", RuleKeyUsage, mxOpt{ku: x509.KeyUsageCertSign}),
		leafCase("critical-ext", RuleCritical, mxOpt{critical: true}),
		leafCase("expired-leaf", RuleValidity, mxOpt{nb: long, na: now.Add(-24 * time.Hour)}),
		leafCase("not-yet-valid", RuleValidity, mxOpt{nb: now.Add(24 * time.Hour), na: now.Add(100 * 24 * time.Hour)}),
		leafCase("p384-leaf", "", mxOpt{key: "p384"}),
		interCase("rsa1024-intermediate", RuleKeySize, mxOpt{cn: "Matrix Weak Intermediate", key: "rsa1024"}, nil),
		interCase("rsa1024-root", RuleKeySize, mxOpt{cn: "Matrix Intermediate under a weak root", key: "rsa2048"}, &mxOpt{cn: "Matrix Weak Root", ca: true, key: "rsa1024"}),
		interCase("sha1-intermediate", RuleSignature, mxOpt{cn: "Matrix SHA-1 Intermediate", key: "rsa2048", sha1: true}, nil),
		interCase("sha1-root", "", mxOpt{cn: "Matrix Intermediate under a SHA-1 root", key: "rsa2048"}, &mxOpt{cn: "Matrix SHA-1 Root", ca: true, key: "rsa2048", sha1: true}),
		interCase("expired-root", RuleValidity, mxOpt{cn: "Matrix Intermediate under an expired root", key: "rsa2048"}, &mxOpt{cn: "Matrix Expired Root", ca: true, key: "rsa2048", nb: long, na: now.Add(-24 * time.Hour)}),
		interCase("expired-intermediate", RuleValidity, mxOpt{cn: "Matrix Expired Intermediate", key: "rsa2048", nb: long, na: now.Add(-24 * time.Hour)}, nil),
		interCase("intermediate-eku-clientauth", RulePurpose, mxOpt{cn: "Matrix clientAuth Intermediate", key: "rsa2048", eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, nil),
		interCase("intermediate-not-ca", RuleCA, mxOpt{cn: "Matrix Intermediate without CA:TRUE", key: "rsa2048", notCA: true}, nil),
		interCase("intermediate-policy-constraints", RuleCritical, mxOpt{cn: "Matrix Intermediate with policy constraints", key: "rsa2048", pc: true}, nil),
	}
	wp := leafCase("wildcard-partial", RuleName, mxOpt{cn: "wildcard partial", dns: []string{"f*.mx.test"}})
	wp.sn = "foo.mx.test"
	wt := leafCase("wildcard-one-label", RuleName, mxOpt{cn: "wildcard one label", dns: []string{"*.test"}})
	wt.sn = "wildcard-one-label.test"
	partial := leafCase("partial-chain", RulePartialChain, mxOpt{})
	partial.anchors = []*x509.Certificate{inter.cert}
	return append(cases, wp, wt, partial)
}

// serveBySNI serves each case's chain by its server name.
func serveBySNI(t testing.TB, cases []mxCase) string {
	t.Helper()
	certs := map[string]*tls.Certificate{}
	for _, c := range cases {
		tc := &tls.Certificate{PrivateKey: c.leaf.key}
		for _, x := range c.chain {
			tc.Certificate = append(tc.Certificate, x.Raw)
		}
		certs[c.sn] = tc
	}
	cfg := &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if c, ok := certs[h.ServerName]; ok {
			return c, nil
		}
		return nil, fmt.Errorf("no case for %q", h.ServerName)
	}}
	return peertest.ServeTLS(t, cfg, func(c *tls.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if c.Handshake() != nil {
			return
		}
		buf := make([]byte, 1024)
		if n, _ := c.Read(buf); strings.HasPrefix(string(buf[:n]), "GET ") {
			c.Write([]byte("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n"))
		}
	})
}

// realClient runs one real client against addr for the case and reports
// whether it accepted the chain, with what it said when it did not.
type realClient struct {
	stack string
	run   func(t testing.TB, addr string, c mxCase, tr *tree) (bool, string)
}

func runClient(name string, env []string, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// lines keeps the lines of out that mention any of keys.
func lines(out string, keys ...string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		for _, k := range keys {
			if strings.Contains(l, k) {
				keep = append(keep, strings.TrimSpace(l))
				break
			}
		}
	}
	return strings.Join(keep, " | ")
}

func realClients() []realClient {
	bundle := "/etc/ssl/certs/ca-certificates.crt"
	sclient := func(trust ...string) func(testing.TB, string, mxCase, *tree) (bool, string) {
		return func(t testing.TB, addr string, c mxCase, tr *tree) (bool, string) {
			args := []string{"s_client", "-connect", addr, "-servername", c.sn, "-verify_hostname", c.sn, "-verify_return_error"}
			for _, a := range trust {
				if strings.HasPrefix(a, "/") {
					a = tr.host(a)
				}
				args = append(args, a)
			}
			out, _ := runClient("openssl", nil, "", args...)
			return strings.Contains(out, "Verify return code: 0 (ok)"), lines(out, "Verify return code", "verify error")
		}
	}
	return []realClient{
		{"go", func(t testing.TB, addr string, c mxCase, tr *tree) (bool, string) {
			pool := x509.NewCertPool()
			data, err := os.ReadFile(tr.host(bundle))
			if err != nil {
				t.Fatal(err)
			}
			pool.AppendCertsFromPEM(data)
			d := tls.Dialer{Config: &tls.Config{RootCAs: pool, ServerName: c.sn}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return false, err.Error()
			}
			conn.Close()
			return true, ""
		}},
		{"openssl-cafile", sclient("-CAfile", bundle, "-no-CApath", "-no-CAstore")},
		{"openssl-capath", sclient("-CApath", "/etc/ssl/certs", "-no-CAfile", "-no-CAstore")},
		{"gnutls", func(t testing.TB, addr string, c mxCase, tr *tree) (bool, string) {
			_, port, _ := net.SplitHostPort(addr)
			out, err := runClient("gnutls-cli", nil, "", "--x509cafile", tr.host(bundle), "-p", port, "--sni-hostname", c.sn, "--verify-hostname", c.sn, "127.0.0.1")
			return err == nil, lines(out, "Status:", "violation", "Fatal")
		}},
		{"curl", func(t testing.TB, addr string, c mxCase, tr *tree) (bool, string) {
			_, port, _ := net.SplitHostPort(addr)
			out, err := runClient("curl", nil, "", "-sS", "-o", "/dev/null", "--cacert", tr.host(bundle), "--capath", tr.host("/etc/ssl/certs"),
				"--resolve", fmt.Sprintf("%s:%s:127.0.0.1", c.sn, port), fmt.Sprintf("https://%s:%s/", c.sn, port))
			return err == nil, lines(out, "curl:")
		}},
	}
}

// pythonVerdicts runs Python's ssl.create_default_context against every
// case in one interpreter.
func pythonVerdicts(t testing.TB, addr string, cases []mxCase, trees []*tree) []result {
	host, port, _ := net.SplitHostPort(addr)
	var input strings.Builder
	for k, c := range cases {
		fmt.Fprintf(&input, "%s\t%s\t%s\n", c.sn, trees[k].host("/etc/ssl/certs/ca-certificates.crt"), trees[k].host("/etc/ssl/certs"))
	}
	script := fmt.Sprintf(`import os, socket, ssl, sys
for line in sys.stdin:
    sn, cafile, capath = line.rstrip("\n").split("\t")
    os.environ["SSL_CERT_FILE"], os.environ["SSL_CERT_DIR"] = cafile, capath
    ctx = ssl.create_default_context()
    s = socket.create_connection((%q, %s))
    try:
        ctx.wrap_socket(s, server_hostname=sn).close()
        print("ok")
    except ssl.SSLError as e:
        print("refused:", str(e).replace("\n", " "))
    finally:
        s.close()
`, host, port)
	out, err := runClient("python3", nil, input.String(), "-c", script)
	got := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(got) != len(cases) {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	res := make([]result, len(cases))
	for k, l := range got {
		res[k] = result{ok: l == "ok", out: l}
	}
	return res
}

// javaVerdicts runs Java's JSSE against every case in one JVM
// (testdata/JavaProbe.java), each case trusting the keystore keytool made
// of its anchors, which is also the java stack's keystore in the case's
// tree. The model takes every root of the JDK's keystore for a JDK CA, as
// it is on a machine (the JDK's jdkCA constraint reads that file): the
// real JDK here is told the same of the test's roots by a
// jdk.certpath.disabledAlgorithms without "jdkCA" (SHA-1 refused for a TLS
// server whatever the root), the rest of the JDK's default unchanged.
func javaVerdicts(t testing.TB, addr string, cases []mxCase, trees []*tree) []result {
	host, port, _ := net.SplitHostPort(addr)
	var input strings.Builder
	for k, c := range cases {
		fmt.Fprintf(&input, "%s\t%s\n", c.sn, trees[k].host("/etc/ssl/certs/java/cacerts"))
	}
	props := filepath.Join(t.TempDir(), "java.security")
	if err := os.WriteFile(props, []byte("jdk.certpath.disabledAlgorithms=MD2, MD5, SHA1 usage TLSServer, RSA keySize < 1024, DSA keySize < 1024, EC keySize < 224, SHA1 usage SignedJAR & denyAfter 2019-01-01\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := filepath.Abs("testdata/JavaProbe.java")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "java", "-Djava.security.properties="+props, src, host, port)
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(input.String())
	outb, err := cmd.CombinedOutput()
	out := string(outb)
	got := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(got) != len(cases) {
		t.Fatalf("java: %v\n%s", err, out)
	}
	res := make([]result, len(cases))
	for k, l := range got {
		res[k] = result{ok: l == "ok", out: l}
	}
	return res
}

// result is what a real client did with a case.
type result struct {
	ok  bool
	out string
}

// TestStacksAgainstRealClients is the oracle for WhoTrusts' per-stack
// rules: for every property of the matrix (names and the Common Name,
// wildcards, key sizes, SHA-1, extended and plain key usage, critical
// extensions, CA flags, partial chains, validity), each stack's verdict
// must equal what the real client on this machine does with the same roots:
// crypto/tls for go, `openssl s_client -verify_hostname` with the CAfile and
// with the CApath, gnutls-cli, curl and Python's ssl module. Qt has no
// client here; its verdicts are checked against its source in
// TestStackRulesQt. Each refusal must also name the rule the case is about.
func TestStacksAgainstRealClients(t *testing.T) {
	for _, p := range []string{"openssl", "gnutls-cli", "curl", "python3", "java", "keytool"} {
		peertest.Need(t, p)
	}
	now := time.Now()
	cases := stackMatrix(t, now)
	addr := serveBySNI(t, cases)
	clients := realClients()
	// The clients are processes waiting on the network: run eight cases
	// at a time, whatever GOMAXPROCS is, then report case by case.
	type outcome struct {
		vs   map[string]StackVerdict
		real []result
	}
	outcomes := make([]outcome, len(cases))
	trees := make([]*tree, len(cases))
	sem := make(chan struct{}, 8)
	var all sync.WaitGroup
	for k, c := range cases {
		roots := map[string]*x509.Certificate{}
		for i, a := range c.anchors {
			roots[fmt.Sprintf("Matrix_Anchor_%d", i)] = a
		}
		tr := debian(t, roots)
		tr.write("/etc/ssl/certs/java/cacerts", keytoolStore(t, "JKS", c.anchors...))
		trees[k] = tr
		outcomes[k].vs = verdicts(t, tr, nil, c.chain, c.sn, func(o *Options) { o.Time = at(now) })
		outcomes[k].real = make([]result, len(clients))
		for i, cl := range clients {
			all.Add(1)
			go func() {
				defer all.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				ok, out := cl.run(t, addr, c, tr)
				outcomes[k].real[i] = result{ok, out}
			}()
		}
	}
	all.Wait()
	// Python starts slowly: one interpreter judges every case, each with
	// its own SSL_CERT_FILE and SSL_CERT_DIR, read by
	// create_default_context as OpenSSL's default paths.
	clients = append(clients, realClient{stack: "python"}, realClient{stack: "java"})
	py := pythonVerdicts(t, addr, cases, trees)
	java := javaVerdicts(t, addr, cases, trees)
	for k := range cases {
		outcomes[k].real = append(outcomes[k].real, py[k], java[k])
	}
	for k, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs, real := outcomes[k].vs, outcomes[k].real
			for i, cl := range clients {
				v := vs[cl.stack]
				if v.Trusted != real[i].ok {
					t.Errorf("%s: model says trusted=%v (%s), the real client says %v: %s", cl.stack, v.Trusted, v.Reason, real[i].ok, real[i].out)
					continue
				}
				if !v.Trusted && c.rule != "" && v.Rule != c.rule {
					t.Errorf("%s: refused for rule %q (%s), the case is about %q; the real client said: %s", cl.stack, v.Rule, v.Reason, c.rule, real[i].out)
				}
				if !v.Trusted && (v.Reason == "" || v.Fix == "") {
					t.Errorf("%s: a refusal without reason or fix: %+v", cl.stack, v)
				}
				t.Logf("%-15s trusted=%-5v %s%s", cl.stack, v.Trusted, v.Reason, strings.Join(v.Lenient, "; "))
			}
		})
	}
}

// TestStackRulesQt checks the Qt verdicts against Qt's source, there being
// no Qt client here: qtbase src/network/ssl/qsslsocket.cpp
// isMatchingHostname matches every subject CN first and then the DNS
// subjectAltNames (so a CN matches even beside other SANs), and a wildcard
// that ends the left-most label with a prefix ("f*.example.com") in a name
// of three labels or more; the chain itself is OpenSSL's, at the system's
// security level.
func TestStackRulesQt(t *testing.T) {
	now := time.Now()
	want := map[string]bool{
		"good": true, "cn-only": true, "cn-and-other-san": true, "wildcard-partial": true,
		"wildcard-one-label": false, "rsa1024-leaf": false, "sha1-leaf": false, "partial-chain": false,
		"intermediate-policy-constraints": true, // OpenSSL's chain: it knows policy constraints
	}
	for _, c := range stackMatrix(t, now) {
		w, ok := want[c.name]
		if !ok {
			continue
		}
		tr := debian(t, map[string]*x509.Certificate{"Matrix_Anchor": c.anchors[0]})
		vs := verdicts(t, tr, nil, c.chain, c.sn, func(o *Options) { o.Time = at(now) })
		for _, s := range []string{"qt5", "qt6"} {
			if v := vs[s]; v.Trusted != w {
				t.Errorf("%s %s: trusted=%v (%s), want %v", c.name, s, v.Trusted, v.Reason, w)
			}
		}
	}
}

// TestOpenSSLSecurityLevel: the level comes from the caller, then
// @SECLEVEL in OPENSSLDIR/openssl.cnf, then the distribution's default;
// at level 1 a 1024-bit key passes and SHA-1 still does not, as the real
// `openssl verify -auth_level 1` says.
func TestOpenSSLSecurityLevel(t *testing.T) {
	peertest.Need(t, "openssl")
	now := time.Now()
	var weak, sha1Leaf mxCase
	for _, c := range stackMatrix(t, now) {
		switch c.name {
		case "rsa1024-leaf":
			weak = c
		case "sha1-leaf":
			sha1Leaf = c
		}
	}
	tr := debian(t, map[string]*x509.Certificate{"Matrix_Anchor": weak.anchors[0]})
	level := func(o *Options) { o.Time = at(now) }
	if v := verdicts(t, tr, nil, weak.chain, weak.sn, level)["openssl-cafile"]; v.Trusted || !strings.Contains(v.Reason, "security level 2 (Debian's build default)") {
		t.Errorf("Debian, no openssl.cnf level: %+v", v)
	}
	tr.write("/usr/lib/ssl/openssl.cnf", []byte("[system_default_sect]\n# CipherString = DEFAULT@SECLEVEL=4\nCipherString = DEFAULT@SECLEVEL=1\n"))
	if v := verdicts(t, tr, nil, weak.chain, weak.sn, level)["openssl-cafile"]; !v.Trusted {
		t.Errorf("@SECLEVEL=1 in openssl.cnf: %+v", v)
	}
	one := func(o *Options) { o.Time, o.OpenSSLSecLevel = at(now), 1 }
	vs := verdicts(t, tr, nil, sha1Leaf.chain, sha1Leaf.sn, one)
	if v := vs["openssl-cafile"]; v.Trusted || v.Rule != RuleSignature {
		t.Errorf("SHA-1 at level 1: %+v", v)
	}
	if v := vs["python"]; v.Trusted || !strings.Contains(v.Reason, "@SECLEVEL=2") {
		t.Errorf("python sets its own level 2: %+v", v)
	}
	// The real OpenSSL at level 1.
	dir := t.TempDir()
	write := func(name string, cs ...*x509.Certificate) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, pemOf(cs...), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := write("ca.pem", weak.anchors[0])
	for _, c := range []struct {
		mx   mxCase
		want bool
	}{{weak, true}, {sha1Leaf, false}} {
		out, err := runClient("openssl", nil, "", "verify", "-auth_level", "1", "-purpose", "sslserver", "-verify_hostname", c.mx.sn,
			"-CAfile", ca, "-untrusted", write(c.mx.name+"-inter.pem", c.mx.chain[1:]...), write(c.mx.name+".pem", c.mx.chain[0]))
		if (err == nil) != c.want {
			t.Errorf("openssl verify -auth_level 1 %s: %v\n%s", c.mx.name, err, out)
		}
	}
}
