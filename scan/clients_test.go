package scan

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
	"github.com/tlskit/tlskit/trust"
)

// realNegotiation is what a real client on this machine negotiates with
// the server: its version and suite, as the client itself prints them.
type realNegotiation func(t *testing.T, addr string) (version, suite string)

var realClients = map[string]realNegotiation{
	"openssl s_client": func(t *testing.T, addr string) (string, string) {
		out, _ := exec.Command(peertest.Need(t, "openssl"), "s_client", "-connect", addr, "-servername", "localhost").CombinedOutput()
		m := regexp.MustCompile(`New, (TLSv1\.\d), Cipher is (\S+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("s_client: %s", out)
		}
		return string(m[1]), string(m[2])
	},
	"curl": func(t *testing.T, addr string) (string, string) {
		_, port, _ := strings.Cut(addr, ":")
		out, _ := exec.Command(peertest.Need(t, "curl"), "-skv", "--max-time", "5", "--resolve", "localhost:"+port+":127.0.0.1", "https://localhost:"+port+"/").CombinedOutput()
		m := regexp.MustCompile(`SSL connection using (TLSv1\.\d) / (\S+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("curl: %s", out)
		}
		return string(m[1]), string(m[2])
	},
	"python3 ssl": func(t *testing.T, addr string) (string, string) {
		host, port, _ := strings.Cut(addr, ":")
		out, err := exec.Command(peertest.Need(t, "python3"), "-c", `import socket,ssl
c=ssl.create_default_context(); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE
s=c.wrap_socket(socket.create_connection(("`+host+`",`+port+`)),server_hostname="localhost"); print(s.version(), s.cipher()[0])`).CombinedOutput()
		f := strings.Fields(string(out))
		if err != nil || len(f) != 2 {
			t.Fatalf("python3: %v %s", err, out)
		}
		return f[0], f[1]
	},
	"Go": func(t *testing.T, addr string) (string, string) {
		c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost", InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		st := c.ConnectionState()
		return "TLSv1." + map[uint16]string{tls.VersionTLS12: "2", tls.VersionTLS13: "3"}[st.Version], tls.CipherSuiteName(st.CipherSuite)
	},
}

// opensslName maps an IANA suite name to OpenSSL's, for the clients that
// print OpenSSL names.
func opensslName(t *testing.T, iana string) string {
	t.Helper()
	if strings.HasPrefix(iana, "TLS_AES") || strings.HasPrefix(iana, "TLS_CHACHA20") {
		return iana // TLS 1.3 suites keep their names
	}
	out, err := exec.Command(peertest.Need(t, "openssl"), "ciphers", "-stdname", "ALL:@SECLEVEL=0").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == iana {
			return f[2]
		}
	}
	return iana
}

// TestLocalClients records the ClientHellos of the clients installed on
// this machine and simulates each against a real server; where the client
// can say what it negotiated (openssl s_client, curl, python3's ssl, Go's
// crypto/tls), the simulation must agree with it: the oracle is the real
// client connecting to the same server.
func TestLocalClients(t *testing.T) {
	p := newTestPKI(t)
	profiles, notes := RecordLocalClients(context.Background(), 20*time.Second)
	for _, n := range notes {
		t.Log(n)
	}
	for _, srv := range []struct {
		name string
		args []string
	}{
		{"TLS 1.2 and 1.3, two certificates", []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-dcert", p.ecCert, "-dkey", p.ecKey}},
		// Client order among suites each client ranks differently.
		{"TLS 1.2 only, three suites, client order", []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-dcert", p.ecCert, "-dkey", p.ecKey,
			"-no_tls1_3", "-cipher", "AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-SHA384"}},
	} {
		t.Run(srv.name, func(t *testing.T) {
			addr := opensslCase(func(*testPKI) []string { return srv.args })(t, p)
			checkLocalClients(t, addr, p, profiles)
		})
	}
}

func checkLocalClients(t *testing.T, addr string, p *testPKI, profiles []ClientProfile) {
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, Clients: profiles})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range rep.Clients {
		t.Logf("%-28s connects=%v %s %s %s (%s)", c.Client, c.Connects, c.Version, c.Suite, c.Group, c.Source)
		if !c.Connects {
			t.Errorf("%s does not connect: %s", c.Client, c.Reason)
			continue
		}
		for name, real := range realClients {
			if !strings.HasPrefix(c.Client, name) {
				continue
			}
			seen[name] = true
			v, s := real(t, addr)
			wantV := strings.Replace(c.Version, "TLS ", "TLSv", 1)
			wantS := c.Suite
			if name != "Go" {
				wantS = opensslName(t, c.Suite)
			}
			if v != wantV || s != wantS {
				t.Errorf("%s: tlskit's simulation says %s %s, the real client negotiated %s %s", c.Client, wantV, wantS, v, s)
			}
		}
	}
	for _, name := range []string{"openssl s_client", "curl", "python3 ssl", "Go"} {
		if !seen[name] {
			t.Errorf("no recorded %s among the local clients", name)
		}
	}
}

// TestDocumentedClientsAgreeWithLocal compares the documented profiles
// with the same clients installed here, recorded: the documentation
// transcribed must be what the client really sends. Chromium is newer
// than the documented Chrome and adds ML-DSA signature schemes; the rest
// must agree (GREASE values and the renegotiation SCSV aside).
func TestDocumentedClientsAgreeWithLocal(t *testing.T) {
	local, notes := RecordLocalClients(context.Background(), 20*time.Second)
	for _, n := range notes {
		t.Log(n)
	}
	find := func(prefix string) *ClientProfile {
		for i := range local {
			if strings.HasPrefix(local[i].Name, prefix) {
				return &local[i]
			}
		}
		return nil
	}
	clean := func(vs []string) []string {
		var out []string
		for _, v := range vs {
			if !strings.HasPrefix(v, "GREASE") && v != "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" {
				out = append(out, v)
			}
		}
		return out
	}
	pairs := []struct{ doc, local string }{
		{"curl 7.88 / OpenSSL 3.0", "curl 7.88"},
		{"GnuTLS 3.7 (NORMAL)", "gnutls-cli 3.7"},
		{"Python 3.11 ssl (OpenSSL 3.0)", "python3 ssl 3.11"},
		{"Java 17", "java (JSSE) 17"},
		{"Go 1.26 crypto/tls", "Go 1.26"},
		{"Chrome 131+", "chromium"},
	}
	for _, p := range pairs {
		var doc *ClientProfile
		for _, d := range DefaultClients() {
			if d.Name == p.doc {
				doc = &d
			}
		}
		rec := find(p.local)
		if doc == nil || rec == nil {
			if p.local == "java (JSSE) 17" || p.local == "chromium" {
				t.Logf("%s is not installed here; %s not compared", p.local, p.doc)
				continue
			}
			t.Errorf("%s: documented %v, recorded %v", p.doc, doc != nil, rec != nil)
			continue
		}
		for _, c := range []struct {
			what      string
			doc, real []string
		}{
			{"versions", names(doc.Versions), names(rec.Versions)},
			{"suites", names(doc.Suites), names(rec.Suites)},
			{"groups", names(doc.Groups), names(rec.Groups)},
			{"key shares", names(doc.KeyShares), names(rec.KeyShares)},
			{"signature schemes", names(doc.SigAlgs), names(rec.SigAlgs)},
		} {
			d, r := clean(c.doc), clean(c.real)
			if p.local == "chromium" && c.what == "signature schemes" {
				r = slices.DeleteFunc(r, func(s string) bool { return strings.HasPrefix(s, "mldsa") })
			}
			if !slices.Equal(d, r) {
				t.Errorf("%s %s:\n documented %v\n %s sends %v", p.doc, c.what, d, rec.Name, r)
			}
		}
	}
}

// TestClientsRefused: scan.clients-refused names the current clients the
// server turns away, never an old one alone (turning Java 8 away can be a
// choice), and names the hybrid post-quantum key share only when every
// refused client sends one and no client that connects does.
func TestClientsRefused(t *testing.T) {
	chrome := ClientResult{Client: "Chrome 131+", Current: true, Reason: "the server reset the connection", hybridShare: true}
	safari := ClientResult{Client: "Safari 18", Current: true, Reason: "the server reset the connection"}
	java8 := ClientResult{Client: "Java 8u291+", Reason: "the server chose TLS 1.3, which the client does not offer"}
	connects := func(c ClientResult) ClientResult { c.Connects, c.Reason = true, ""; return c }
	for _, tc := range []struct {
		name    string
		clients []ClientResult
		title   string // "" for no finding
		pq      bool
	}{
		{"none", []ClientResult{connects(chrome), connects(safari)}, "", false},
		{"old-only", []ClientResult{connects(chrome), java8}, "", false},
		{"pq", []ClientResult{chrome, connects(safari), java8}, "Current clients cannot connect: Chrome 131+", true},
		{"pq-and-not", []ClientResult{chrome, safari}, "Current clients cannot connect: Chrome 131+ and Safari 18", false},
		{"pq-connects-too", []ClientResult{chrome, connects(ClientResult{Client: "Firefox 132+", Current: true, hybridShare: true})}, "Current clients cannot connect: Chrome 131+", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := clientsRefused(tc.clients)
			if tc.title == "" {
				if len(fs) != 0 {
					t.Errorf("findings %+v, want none", fs)
				}
				return
			}
			if len(fs) != 1 || fs[0].ID != finding.ScanClientsRefused || fs[0].Title != tc.title || fs[0].Severity != finding.Error {
				t.Fatalf("findings %+v, want %q", fs, tc.title)
			}
			if pq := strings.Contains(fs[0].Detail, "hybrid post-quantum key share"); pq != tc.pq {
				t.Errorf("names the hybrid key share: %v, want %v\n%s", pq, tc.pq, fs[0].Detail)
			}
		})
	}
}

// TestClientsRSAKeySize: the client simulation judges the server's RSA key
// by each client's minimum, against openssl s_server serving a 768-bit and
// a 1024-bit key (security level 0). It called every client ✓ with a
// 768-bit key. The oracles are the real clients on this machine, each
// verifying the chain with the certificate as its root: Go's crypto/tls
// (refuses under 1024 bits), curl and Python (Debian's OpenSSL 3 at
// security level 2, and Python's @SECLEVEL=2: under 2048), gnutls-cli
// (its default profile: under 1024).
func TestClientsRSAKeySize(t *testing.T) {
	type connects func(t *testing.T, addr, ca string) bool
	real := map[string]connects{
		"Go 1.26 crypto/tls": func(t *testing.T, addr, ca string) bool {
			pool := x509.NewCertPool()
			data, err := os.ReadFile(ca)
			if err != nil || !pool.AppendCertsFromPEM(data) {
				t.Fatalf("%s: %v", ca, err)
			}
			c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost", RootCAs: pool})
			if err == nil {
				c.Close()
			}
			return err == nil
		},
		"curl 7.88 / OpenSSL 3.0": func(t *testing.T, addr, ca string) bool {
			_, port, _ := strings.Cut(addr, ":")
			return exec.Command(peertest.Need(t, "curl"), "-sS", "-o", "/dev/null", "--max-time", "5", "--cacert", ca,
				"--resolve", "localhost:"+port+":127.0.0.1", "https://localhost:"+port+"/").Run() == nil
		},
		"Python 3.11 ssl (OpenSSL 3.0)": func(t *testing.T, addr, ca string) bool {
			host, port, _ := strings.Cut(addr, ":")
			return exec.Command(peertest.Need(t, "python3"), "-c", `import socket,ssl
c=ssl.create_default_context(cafile="`+ca+`")
c.wrap_socket(socket.create_connection(("`+host+`",`+port+`)),server_hostname="localhost").close()`).Run() == nil
		},
		"GnuTLS 3.7 (NORMAL)": func(t *testing.T, addr, ca string) bool {
			host, port, _ := strings.Cut(addr, ":")
			cmd := exec.Command(peertest.Need(t, "gnutls-cli"), "--x509cafile", ca, "-p", port, host, "--sni-hostname", "localhost", "--verify-hostname", "localhost")
			cmd.Stdin = strings.NewReader("")
			return cmd.Run() == nil
		},
	}
	for _, bits := range []string{"768", "1024"} {
		t.Run(bits, func(t *testing.T) {
			cert, key := peertest.SelfSigned(t, "/CN=localhost", "DNS:localhost", "-newkey", "rsa:"+bits)
			addr := peertest.OpenSSL(t, "-cert", cert, "-key", key, "-www", "-cipher", "DEFAULT@SECLEVEL=0", "-naccept", "100000").Addr
			rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: verifierFor(t, cert)})
			if err != nil {
				t.Fatal(err)
			}
			asked := 0
			defer func() {
				if asked != len(real) {
					t.Errorf("%d of the %d real clients compared: a profile was renamed", asked, len(real))
				}
			}()
			for _, c := range rep.Clients {
				oracle, ok := real[c.Client]
				if !ok {
					continue
				}
				asked++
				if want := oracle(t, addr, cert); c.Connects != want {
					t.Errorf("%s with a %s-bit RSA key: simulated %v (%s), the real client %v", c.Client, bits, c.Connects, c.Reason, want)
				}
			}
			if bits == "768" && !slices.Contains(ids(rep.Findings), finding.ScanClientsRefused) {
				t.Errorf("no %s: %q", finding.ScanClientsRefused, ids(rep.Findings))
			}
		})
	}
}

// verifierFor is a verifier that trusts the certificates in a PEM file, as
// a policy's "file:" trust source reads them.
func verifierFor(t *testing.T, file string) *trust.Verifier {
	t.Helper()
	v, err := (&tlskit.Policy{Trust: []string{"file:" + file}}).Verifier()
	if err != nil {
		t.Fatal(err)
	}
	return v
}
