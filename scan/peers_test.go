package scan

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/internal/peertest"
)

// The proof of the scanner: real servers (openssl s_server with many
// option combinations, gnutls-serv with priority strings, nginx with
// Mozilla's intermediate and old configurations) scanned by tlskit, by
// sslscan (run here) and by testssl.sh (recorded, see oracles_test.go).
// The accepted versions, the suites of each version (and their order when
// the server has one) and the groups must be what the oracles report.
// Where they differ, the difference is settled by a real client
// (openssl s_client, gnutls-cli) offering only the value in question, and
// the test says which tool was right; any other difference fails.

// peerCase is one server configuration.
type peerCase struct {
	name  string
	start func(t *testing.T, p *testPKI) string
	// profile, if set, is checked too; compliant is the expected outcome.
	profile   string
	compliant bool
	// check makes the case's own assertions: findings, features.
	check func(t *testing.T, rep *Report)
	// problems are what the scan may say it could not settle, and why.
	problems []string
	// vulns are the differences from testssl.sh's vulnerability verdicts
	// that are understood, by testssl.sh's id, with why.
	vulns map[string]string
}

// opensslCase starts openssl s_server with args.
func opensslCase(args func(p *testPKI) []string) func(*testing.T, *testPKI) string {
	return func(t *testing.T, p *testPKI) string {
		// peertest.OpenSSL passes -naccept 100; a full scan makes more
		// connections, and the last -naccept wins.
		return peertest.OpenSSL(t, append(args(p), "-naccept", "100000")...).Addr
	}
}

// gnutlsCase starts gnutls-serv with args.
func gnutlsCase(args func(p *testPKI) []string) func(*testing.T, *testPKI) string {
	return func(t *testing.T, p *testPKI) string {
		return peertest.Start(t, "gnutls-serv", append([]string{"-p", "{port}"}, args(p)...)...).Addr
	}
}

// nginxCase starts nginx with the server block's TLS directives, with
// HTTP/2 or without.
func nginxCase(directives func(t *testing.T, p *testPKI) string, http2 bool) func(*testing.T, *testPKI) string {
	return func(t *testing.T, p *testPKI) string {
		h2 := ""
		if http2 {
			h2 = " http2"
		}
		return peertest.Nginx(t, func(dir string, port int) string {
			return fmt.Sprintf(`http {
  access_log off;
  client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server {
    listen 127.0.0.1:%[2]d ssl%[4]s;
    server_name localhost;
    %[3]s
    location / { return 200 "ok\n"; }
  }
}
`, dir, port, directives(t, p), h2)
		})
	}
}

// goCase starts a crypto/tls server (Go's TLS stack, another real
// implementation: its hybrid post-quantum groups are what neither
// sslscan 2.0.7 nor testssl.sh 3.0.8 knows) with the ECDSA certificate and
// Go's defaults; it completes each handshake and closes.
func goCase(t *testing.T, p *testPKI) string {
	cert, err := tls.LoadX509KeyPair(p.ecCert, p.ecKey)
	if err != nil {
		t.Fatal(err)
	}
	return serveGo(t, &tls.Config{Certificates: []tls.Certificate{cert}})
}

// serveGo serves crypto/tls configured by cfg on loopback until the test
// ends: it completes each handshake and waits (5 s at most) for the client
// to leave.
func serveGo(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	return peertest.ServeTLS(t, cfg, func(c *tls.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Handshake()
		c.Read(make([]byte, 1))
	})
}

// Mozilla's configurations for nginx 1.22 with OpenSSL 3.0, as
// ssl-config.mozilla.org generates them (intermediate from guidelines
// 6.0, whose X25519MLKEM768 OpenSSL 3.0 does not have; old from 5.8).
const (
	nginxIntermediate = `ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;
    ssl_session_timeout 1d;
    ssl_session_cache shared:MozSSL:10m;
    ssl_session_tickets off;
    add_header Strict-Transport-Security "max-age=63072000" always;`
	nginxOld = `ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256:AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:DES-CBC3-SHA:@SECLEVEL=0;
    ssl_prefer_server_ciphers on;
    ssl_session_timeout 1d;
    ssl_session_cache shared:MozSSL:10m;
    ssl_session_tickets off;`
)

// dhParams writes DH parameters of an OpenSSL group to a file.
func dhParams(t *testing.T, dir, group string) string {
	t.Helper()
	out, err := exec.Command(peertest.Need(t, "openssl"), "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:"+group).Output()
	if err != nil {
		t.Fatalf("dh params %s: %v", group, err)
	}
	path := filepath.Join(dir, group+".pem")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantFindings checks that fs has every id of want and none of not.
func wantFindings(t *testing.T, rep *Report, want, not []string) {
	t.Helper()
	for _, id := range want {
		if !finding.Has(rep.Findings, id) {
			t.Errorf("finding %s missing; have %v", id, ids(rep.Findings))
		}
	}
	for _, id := range not {
		if finding.Has(rep.Findings, id) {
			t.Errorf("finding %s should not be there", id)
		}
	}
}

func ids(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func wantState(t *testing.T, what string, f Feature, state string) {
	t.Helper()
	if f.State != state {
		t.Errorf("%s: %s (%s), want %s", what, f.State, f.Detail, state)
	}
}

var peerCases = []peerCase{
	{name: "openssl-default", // two certificates, client order, OpenSSL 3.0's defaults
		start: opensslCase(func(p *testPKI) []string {
			return []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-dcert", p.ecCert, "-dkey", p.ecKey}
		}),
		check: func(t *testing.T, rep *Report) {
			wantFindings(t, rep, []string{finding.ScanNoForwardSecrecy, finding.ScanNoPQ}, []string{finding.ScanTLS10, finding.ScanCBCOnly})
			if len(rep.Certificates) != 2 || rep.Certificates[0].KeyType != "RSA" || rep.Certificates[1].KeyType != "ECDSA" {
				t.Errorf("certificates: %+v", rep.Certificates)
			}
			for _, c := range rep.Certificates {
				if !c.Trusted || !c.WithSNI || !c.WithoutSNI {
					t.Errorf("%s certificate: trusted %v, with SNI %v, without %v: %v", c.KeyType, c.Trusted, c.WithSNI, c.WithoutSNI, ids(c.Findings))
				}
			}
			s := rep.Session
			wantState(t, "session id resumption", s.ResumptionID, Supported)
			wantState(t, "ticket resumption", s.ResumptionTicket, Supported)
			wantState(t, "TLS 1.3 PSK", s.PSK13, Supported)
			wantState(t, "0-RTT", s.EarlyData, NotSupported)
			wantState(t, "EMS", s.ExtendedMasterSec, Supported)
			wantState(t, "ETM", s.EncryptThenMAC, Supported)
			wantState(t, "RFC 5746", s.SecureRenegotiation, Supported)
			wantState(t, "client renegotiation", s.ClientRenegotiation, NotSupported) // OpenSSL 3 refuses it by default
			wantState(t, "fallback SCSV", s.FallbackSCSV, Supported)
			wantState(t, "compression", s.Compression, NotSupported)
			wantState(t, "heartbeat", s.Heartbeat, NotSupported)
			if rep.Session.TicketLifetime != 7200 {
				t.Errorf("ticket lifetime %d, OpenSSL's default is 7200", rep.Session.TicketLifetime)
			}
			for _, c := range rep.Clients {
				if !c.Connects {
					t.Errorf("client %s does not connect: %s", c.Client, c.Reason)
				}
				if c.TrustStore != "" && (c.Trusted == nil || *c.Trusted) {
					t.Errorf("client %s: the test CA is in no trust store of this machine, yet trusted=%v (%s)", c.Client, c.Trusted, c.TrustDetail)
				}
			}
		}},
	{name: "openssl-tls12-serverorder", // TLS 1.2 only, server order, restricted suites, groups and schemes, RSA only
		start: opensslCase(func(p *testPKI) []string {
			return []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-no_tls1_3", "-serverpref",
				"-cipher", "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:AES128-SHA:ECDHE-RSA-AES128-SHA256",
				"-groups", "secp384r1:X25519", "-sigalgs", "rsa_pss_rsae_sha256:rsa_pkcs1_sha384"}
		}),
		check: func(t *testing.T, rep *Report) {
			wantFindings(t, rep, []string{finding.ScanNoTLS13, finding.ScanNoForwardSecrecy}, []string{finding.ScanNoPQ})
			if rep.PreferredGroup != "secp384r1" || rep.GroupOrder != "server" {
				t.Errorf("group order %s, preferred %q; -groups secp384r1:X25519 with -serverpref", rep.GroupOrder, rep.PreferredGroup)
			}
			var sigs []string
			for _, s := range rep.SignatureAlgorithms {
				sigs = append(sigs, s.Name)
			}
			if !slices.Equal(sigs, []string{"rsa_pss_rsae_sha256", "rsa_pkcs1_sha384"}) {
				t.Errorf("signature schemes %v, the server was given -sigalgs rsa_pss_rsae_sha256:rsa_pkcs1_sha384", sigs)
			}
			wantState(t, "fallback SCSV", rep.Session.FallbackSCSV, NotApplicable)
		}},
	{name: "openssl-tls13-only", // TLS 1.3 only, two suites, server order, three groups, ECDSA
		start: opensslCase(func(p *testPKI) []string {
			return []string{"-cert", p.ecCert, "-key", p.ecKey, "-tls1_3", "-serverpref",
				"-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384", "-groups", "P-384:X25519:P-256"}
		}),
		profile: "modern", compliant: true,
		check: func(t *testing.T, rep *Report) {
			if rep.PreferredGroup != "secp384r1" {
				t.Errorf("preferred group %q, want secp384r1", rep.PreferredGroup)
			}
			if len(rep.Versions) != 1 || !rep.Versions[0].ServerOrder || rep.Versions[0].Suites[0] != "TLS_CHACHA20_POLY1305_SHA256" {
				t.Errorf("versions %+v", rep.Versions)
			}
			s := rep.Session
			wantState(t, "session id resumption", s.ResumptionID, NotApplicable)
			wantState(t, "TLS 1.3 PSK", s.PSK13, Supported)
			if len(rep.Certificates) != 1 || rep.Certificates[0].Version != "TLS 1.3" || !rep.Certificates[0].Trusted {
				t.Errorf("certificates read with TLS 1.3: %+v", rep.Certificates)
			}
			if rep.ALPN.Note == "" {
				t.Error("ALPN over TLS 1.3 says nothing")
			}
		}},
	{name: "openssl-legacy", // TLS 1.0 to 1.3, SECLEVEL 0: every suite OpenSSL 3.0 has, 1024-bit DH
		start: func(t *testing.T, p *testPKI) string {
			dh := dhParams(t, t.TempDir(), "dh_1024_160")
			return opensslCase(func(p *testPKI) []string {
				return []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-min_protocol", "TLSv1", "-cipher", "ALL:@SECLEVEL=0", "-dhparam", dh}
			})(t, p)
		},
		profile: "intermediate", compliant: false,
		check: func(t *testing.T, rep *Report) {
			wantFindings(t, rep, []string{finding.ScanTLS10, finding.ScanTLS11, finding.ScanAnonCipher, finding.ScanWeakDH,
				finding.ScanNoForwardSecrecy, finding.ProfileVersion, finding.ProfileSuite, finding.ProfileDHSize}, nil)
		}},
	{name: "gnutls-normal", // GnuTLS 3.7's NORMAL with two certificates
		start: gnutlsCase(func(p *testPKI) []string {
			return []string{"--x509certfile", p.rsaCert, "--x509keyfile", p.rsaKey, "--x509certfile", p.ecCert, "--x509keyfile", p.ecKey, "--priority", "NORMAL"}
		}),
		check: func(t *testing.T, rep *Report) {
			wantState(t, "TLS 1.3 PSK", rep.Session.PSK13, Supported)
			wantState(t, "heartbeat", rep.Session.Heartbeat, NotSupported)
		}},
	{name: "gnutls-legacy-serverorder", // GnuTLS with TLS 1.0/1.1, 3DES, RC4, RSA key exchange, server order, heartbeats
		start: gnutlsCase(func(p *testPKI) []string {
			return []string{"--x509certfile", p.rsaCert, "--x509keyfile", p.rsaKey, "--heartbeat",
				"--priority", "NORMAL:+VERS-TLS1.0:+VERS-TLS1.1:+3DES-CBC:+ARCFOUR-128:+RSA:%SERVER_PRECEDENCE"}
		}),
		check: func(t *testing.T, rep *Report) {
			wantFindings(t, rep, []string{finding.ScanTLS10, finding.ScanTLS11, finding.ScanRC4, finding.ScanSweet32,
				finding.ScanClientRenegotiation}, []string{finding.ScanHeartbleed})
			s := rep.Session
			wantState(t, "heartbeat", s.Heartbeat, Supported)
			// A real server that answers heartbeats and is not
			// vulnerable: GnuTLS refuses the over-long one.
			wantState(t, "heartbleed", s.Heartbleed, NotSupported)
			wantState(t, "client renegotiation", s.ClientRenegotiation, Supported)
			for _, v := range rep.Versions {
				if v.Order != "server" {
					t.Errorf("%s: order %s, the server has %%SERVER_PRECEDENCE", v.Version, v.Order)
				}
			}
		}},
	{name: "go-crypto-tls", // Go's crypto/tls server: the three hybrid post-quantum groups
		start: goCase,
		// Go's server keeps its own order, except that it puts
		// ChaCha20-Poly1305 first for a client that prefers it (its
		// aesgcmPreferred rule): the accepted suites offered in reverse
		// (ChaCha20 first) are answered with ChaCha20, which is neither.
		problems: []string{"offered the accepted suites in reverse, the server picked TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
		check: func(t *testing.T, rep *Report) {
			if rep.PreferredGroup != "X25519MLKEM768" {
				t.Errorf("preferred group %q, Go prefers X25519MLKEM768", rep.PreferredGroup)
			}
			wantFindings(t, rep, nil, []string{finding.ScanNoPQ})
			wantState(t, "TLS 1.3 PSK", rep.Session.PSK13, Supported)
		}},
	{name: "nginx-intermediate", // Mozilla intermediate, two certificates
		start: nginxCase(func(t *testing.T, p *testPKI) string {
			return fmt.Sprintf("ssl_certificate %s; ssl_certificate_key %s; ssl_certificate %s; ssl_certificate_key %s;\n    %s",
				p.ecCert, p.ecKey, p.rsaCert, p.rsaKey, nginxIntermediate)
		}, true),
		profile: "intermediate", compliant: true,
		check: func(t *testing.T, rep *Report) {
			wantFindings(t, rep, []string{finding.ProfileOCSP}, []string{finding.ScanNoForwardSecrecy, finding.ScanTLS10})
			// listen … http2: nginx prefers h2, then http/1.1, and also
			// takes http/1.0 and http/0.9 (ngx_http_ssl_alpn_select).
			// openssl s_client agrees: offering them in the opposite
			// order it gets h2, and offering each alone it gets that one.
			want := []string{"h2", "http/1.1", "http/1.0", "http/0.9"}
			if !slices.Equal(rep.ALPN.Protocols, want) {
				t.Errorf("ALPN %v, want %v", rep.ALPN.Protocols, want)
			}
			for _, offer := range []string{"http/0.9,http/1.0,http/1.1,h2", "http/1.0", "http/0.9"} {
				out, _ := exec.Command(peertest.Need(t, "openssl"), "s_client", "-connect", rep.Target, "-alpn", offer).CombinedOutput()
				first := offer
				if strings.Contains(offer, ",") {
					first = "h2"
				}
				if !strings.Contains(string(out), "ALPN protocol: "+first+"\n") {
					t.Errorf("s_client -alpn %s did not get %s", offer, first)
				}
			}
			wantState(t, "ticket resumption", rep.Session.ResumptionTicket, NotSupported) // ssl_session_tickets off
			wantState(t, "session id resumption", rep.Session.ResumptionID, Supported)    // ssl_session_cache
		}},
	{name: "nginx-old", // Mozilla old, RSA certificate, server order
		start: nginxCase(func(t *testing.T, p *testPKI) string {
			dh := dhParams(t, t.TempDir(), "ffdhe2048")
			// Not Mozilla's: a one-day HSTS and gzip, for the HTTP checks.
			return fmt.Sprintf("ssl_certificate %s; ssl_certificate_key %s; ssl_dhparam %s;\n    %s\n    %s", p.rsaCert, p.rsaKey, dh, nginxOld,
				`add_header Strict-Transport-Security "max-age=86400; includeSubDomains; preload" always; gzip on; gzip_types text/plain; gzip_min_length 1;`)
		}, true),
		profile: "old", compliant: true,
		check: func(t *testing.T, rep *Report) {
			wantFindings(t, rep, []string{finding.ScanTLS10, finding.ScanTLS11, finding.ScanNoForwardSecrecy,
				finding.ScanHSTSShort, finding.ScanBREACH, finding.ProfileHSTS, finding.ScanBEAST, finding.ScanLucky13}, []string{finding.ScanNoHSTS, finding.ScanROBOT})
			h := rep.HTTP
			if h == nil || h.Status != "HTTP/1.1 200 OK" || h.ContentEncoding != "gzip" {
				t.Fatalf("HTTP %+v: nginx with gzip on answers GET / compressed", h)
			}
			if hs := h.HSTS; hs.MaxAge != 86400 || !hs.IncludeSubDomains || !hs.Preload || hs.Problem != "" {
				t.Errorf("HSTS %+v, the server sends max-age=86400; includeSubDomains; preload", hs)
			}
			wantVuln(t, rep, "BREACH (HTTP compression)", PotentiallyVulnerable)
			wantVuln(t, rep, "ROBOT", NotVulnerable) // AES128-GCM-SHA256 and others with an RSA key exchange
		}},
	{name: "nginx-plain", // nginx 1.22's defaults, no HTTP/2: HTTP/1.1 by ALPN, no HSTS
		start: nginxCase(func(t *testing.T, p *testPKI) string {
			return fmt.Sprintf("ssl_certificate %s; ssl_certificate_key %s;", p.rsaCert, p.rsaKey)
		}, false),
		check: func(t *testing.T, rep *Report) {
			wantFindings(t, rep, []string{finding.ScanNoHSTS}, []string{finding.ScanBREACH, finding.ScanHSTSShort})
			if rep.HTTP == nil || rep.HTTP.HSTS.Present || rep.HTTP.Status != "HTTP/1.1 200 OK" {
				t.Errorf("HTTP %+v: a 200 without HSTS", rep.HTTP)
			}
			wantVuln(t, rep, "BREACH (HTTP compression)", NotVulnerable)
		}},
}

func TestAgainstPeers(t *testing.T) {
	p := newTestPKI(t)
	for _, c := range peerCases {
		t.Run(c.name, func(t *testing.T) {
			if os.Getenv("TLSKIT_REGEN_TESTSSL") != "1" {
				t.Parallel()
			}
			addr := c.start(t, p)
			opts := Options{Address: addr, ServerName: "localhost", Verifier: p.verifier}
			if c.profile != "" {
				prof, err := LoadProfile(c.profile)
				if err != nil {
					t.Fatal(err)
				}
				opts.Profile = prof
			}
			rep, err := Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("tlskit: %d connections in %.0f ms", rep.Connections, rep.DurationMS)
			for _, pr := range rep.Problems {
				if !slices.ContainsFunc(c.problems, func(p string) bool { return strings.Contains(pr, p) }) {
					t.Errorf("scan problem: %s", pr)
				}
			}
			ss := sslscan(t, addr)
			compare(t, rep, ss, addr)
			ts := testssl(t, c.name, addr)
			compare(t, rep, ts, addr)
			compareVulns(t, rep, ts, c.vulns)
			// Real servers: none of them has the bugs probed here, and
			// each probe must come to a verdict.
			for _, name := range []string{"Heartbleed", "CCS injection", "Ticketbleed", "ROBOT"} {
				if v := vulnOf(t, rep, name); v.State == Vulnerable || v.State == Unknown {
					t.Errorf("%s: %s (%s)", name, v.State, v.Detail)
				}
			}
			if c.profile != "" {
				if rep.Profile == nil || rep.Profile.Compliant != c.compliant {
					var devs []string
					for _, f := range rep.Findings {
						if strings.HasPrefix(f.ID, "profile.") && f.Severity == finding.Error {
							devs = append(devs, f.Title+" "+strings.Join(f.Evidence, ", "))
						}
					}
					t.Errorf("profile %s: compliant %v, want %v; deviations: %v", c.profile, rep.Profile != nil && rep.Profile.Compliant, c.compliant, devs)
				}
			}
			if c.check != nil {
				c.check(t, rep)
			}
		})
	}
}

// compare checks the report against one oracle.
func compare(t *testing.T, rep *Report, o *oracle, addr string) {
	t.Helper()
	accepted := map[string]VersionSupport{}
	for _, v := range rep.Versions {
		accepted[v.Version] = v
	}
	for _, v := range []string{"SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"} {
		_, mine := accepted[v]
		if theirs, ok := o.versions[v]; ok && theirs != mine {
			t.Errorf("%s: %s accepted %v, %s says %v", v, "tlskit", mine, o.name, theirs)
		}
	}
	for v, vs := range accepted {
		theirs := o.suites[v]
		if !sameSet(vs.Suites, theirs) {
			t.Errorf("%s suites:\n tlskit %s\n %s %s\n only tlskit: %v\n only %s: %v", v, list(vs.Suites), o.name, list(theirs),
				minus(vs.Suites, theirs), o.name, minus(theirs, vs.Suites))
			continue
		}
		if so := o.serverOrder[v]; so != nil && *so != vs.ServerOrder && len(vs.Suites) > 1 && v != "TLS 1.3" {
			t.Errorf("%s: tlskit says server order %v, %s %v", v, vs.ServerOrder, o.name, *so)
		}
		if order, ok := o.suites[v+" order"]; ok && vs.ServerOrder && !slices.Equal(order, vs.Suites) {
			t.Errorf("%s server order:\n tlskit %s\n %s %s", v, list(vs.Suites), o.name, list(order))
		}
		// sslscan lists a server-order server's suites in the order the
		// server picks them from its full list: the preference order. But
		// it finds the suites its OpenSSL lacks (3DES and RC4 here) in a
		// second pass of raw hellos and appends them, so its order is the
		// server's only among the suites its OpenSSL has; the order of the
		// others is checked against testssl.sh, which uses raw hellos for
		// every suite.
		if o.name == "sslscan" && vs.ServerOrder {
			mine := slices.DeleteFunc(slices.Clone(vs.Suites), func(s string) bool { return !o.knows[s] })
			theirs := slices.DeleteFunc(slices.Clone(theirs), func(s string) bool { return !o.knows[s] })
			if !slices.Equal(theirs, mine) {
				t.Errorf("%s server order (the suites sslscan's OpenSSL has):\n tlskit %s\n sslscan %s", v, list(mine), list(theirs))
			}
		}
	}
	groups := map[string][]string{}
	var all []string
	for _, g := range rep.Groups {
		for _, v := range g.Versions {
			groups[v] = append(groups[v], g.Name)
		}
		all = append(all, g.Name)
	}
	for v, theirs := range o.groups {
		mine := groups[v]
		if v == "any" {
			mine = all
		}
		for _, g := range minus(mine, theirs) {
			// The hybrid post-quantum groups are known to neither
			// sslscan 2.0.7 nor testssl.sh 3.0.8; Go's crypto/tls client
			// settles them.
			if strings.Contains(g, "MLKEM") {
				if hybridWorks(t, addr, g) {
					t.Logf("%s: tlskit is right about %s, which %s does not test: crypto/tls's client negotiates it offering only that group", o.name, g, o.name)
					continue
				}
			}
			// FFDHE in TLS 1.2 (RFC 7919) is tested by neither sslscan
			// nor testssl.sh; gnutls-cli settles it.
			if strings.HasPrefix(g, "ffdhe") && (v == "TLS 1.2" || v == "any" && !slices.Contains(groups["TLS 1.3"], g)) {
				if ffdhe12Works(t, addr, g) {
					t.Logf("%s: tlskit is right about %s in TLS 1.2, which %s does not test: gnutls-cli negotiates it offering only that group", o.name, g, o.name)
					continue
				}
			}
			t.Errorf("%s groups: tlskit has %s, %s does not (%s: %v)", v, g, o.name, o.name, theirs)
		}
		for _, g := range minus(theirs, mine) {
			t.Errorf("%s groups: %s has %s, tlskit does not (tlskit: %v)", v, o.name, g, mine)
		}
	}
	if o.dhPrime != "" {
		var kx []string
		for _, v := range rep.Versions {
			for _, d := range v.Details {
				if strings.HasPrefix(d.KeyExchange, "DH ") && !slices.Contains(kx, d.KeyExchange) {
					kx = append(kx, d.KeyExchange)
				}
			}
		}
		if len(kx) != 1 || !strings.Contains(kx[0], "("+o.dhPrime+")") {
			t.Errorf("DHE prime: %s names %s, tlskit %v", o.name, o.dhPrime, kx)
		}
	}
	sigs := map[string][]string{}
	for _, s := range rep.SignatureAlgorithms {
		for _, v := range s.Versions {
			sigs[v] = append(sigs[v], s.Name)
		}
	}
	for v, theirs := range o.sigalgs {
		mine := sigs[v]
		for _, s := range minus(mine, theirs) {
			if sigalgWorks(t, addr, v, s) {
				t.Logf("%s signature schemes: tlskit is right about %s, which %s misses: openssl s_client completes a handshake offering only it", v, s, o.name)
				continue
			}
			t.Errorf("%s signature schemes: tlskit has %s, %s does not, and s_client cannot connect with it alone", v, s, o.name)
		}
		for _, s := range minus(theirs, mine) {
			if !sigalgWorks(t, addr, v, s) {
				t.Logf("%s signature schemes: %s lists %s, but openssl s_client cannot complete a handshake offering only it: tlskit is right", v, o.name, s)
				continue
			}
			t.Errorf("%s signature schemes: %s has %s, tlskit does not (tlskit: %v)", v, o.name, s, mine)
		}
	}
}

func sameSet(a, b []string) bool { return len(minus(a, b)) == 0 && len(minus(b, a)) == 0 }

// minus returns the elements of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestEarlyDataRealServer: openssl s_server -early_data issues tickets that
// allow early data and accepts 0-RTT; the scan says so (the default server
// of openssl-default issues tickets without it, and is reported not
// supporting it).
func TestEarlyDataRealServer(t *testing.T) {
	p := newTestPKI(t)
	addr := opensslCase(func(p *testPKI) []string {
		return []string{"-cert", p.ecCert, "-key", p.ecKey, "-tls1_3", "-early_data"}
	})(t, p)
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, "TLS 1.3 PSK", rep.Session.PSK13, Supported)
	wantState(t, "0-RTT", rep.Session.EarlyData, Supported)
	t.Log(rep.Session.EarlyData.Detail)
	// Replayable: the 0-RTT note, by name.
	wantFindings(t, rep, []string{finding.ScanEarlyData}, nil)
	wantVuln(t, rep, "0-RTT replay (TLS 1.3 early data)", PotentiallyVulnerable)
}

// TestOCSPStaplingRealServer: openssl s_server -status_file staples an
// OCSP response (made by openssl ocsp, signed by the test CA); the scan
// reports the stapling and which certificate it came with.
func TestOCSPStaplingRealServer(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	p := newTestPKI(t)
	dir := t.TempDir()
	// The leaf alone (the chain file holds its CA too), and a CA database
	// that lists it as valid.
	leaf, err := os.ReadFile(p.ecCert)
	if err != nil {
		t.Fatal(err)
	}
	leafFile := filepath.Join(dir, "leaf.pem")
	os.WriteFile(leafFile, leaf[:strings.Index(string(leaf), "-----END CERTIFICATE-----")+len("-----END CERTIFICATE-----\n")], 0o644)
	serial, err := exec.Command(openssl, "x509", "-in", leafFile, "-noout", "-serial").Output()
	if err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(dir, "index.txt")
	os.WriteFile(index, []byte("V\t300101000000Z\t\t"+strings.TrimPrefix(strings.TrimSpace(string(serial)), "serial=")+"\tunknown\t/CN=localhost\n"), 0o644)
	resp := filepath.Join(dir, "ocsp.der")
	if out, err := exec.Command(openssl, "ocsp", "-index", index, "-rsigner", p.ecCAFile, "-rkey", p.ecCAKey, "-CA", p.ecCAFile,
		"-issuer", p.ecCAFile, "-cert", leafFile, "-respout", resp, "-ndays", "1").CombinedOutput(); err != nil {
		t.Fatalf("openssl ocsp: %v\n%s", err, out)
	}
	addr := opensslCase(func(p *testPKI) []string {
		return []string{"-cert", p.ecCert, "-key", p.ecKey, "-status_file", resp}
	})(t, p)
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, "OCSP stapling", rep.Session.OCSPStapling, Supported)
	if len(rep.Certificates) != 1 || !rep.Certificates[0].OCSPStapled {
		t.Errorf("certificates %+v: the ECDSA chain came with the staple", rep.Certificates)
	}
	// TLS 1.3 only, with the staple and without: the staple travels in
	// the encrypted Certificate (RFC 8446 §4.4.2.1). The scan left the
	// state empty, having asked only in TLS 1.2; openssl s_client -status
	// is the oracle.
	for _, staple := range []bool{true, false} {
		args := []string{"-cert", p.ecCert, "-key", p.ecKey, "-tls1_3"}
		if staple {
			args = append(args, "-status_file", resp)
		}
		addr := opensslCase(func(p *testPKI) []string { return args })(t, p)
		out, _ := exec.Command(openssl, "s_client", "-connect", addr, "-tls1_3", "-status").CombinedOutput()
		if got := strings.Contains(string(out), "OCSP Response Status: successful"); got != staple {
			t.Fatalf("s_client -status: stapled %v, want %v\n%s", got, staple, out)
		}
		rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, NoClients: true})
		if err != nil {
			t.Fatal(err)
		}
		want := NotSupported
		if staple {
			want = Supported
		}
		wantState(t, "TLS 1.3 OCSP stapling", rep.Session.OCSPStapling, want)
	}
}

// TestCertificatesRealServer: an Ed25519 certificate beside an RSA one
// (openssl s_server -dcert) is found as the EdDSA chain; a server that
// answers SNI "localhost" with another certificate (-servername -cert2)
// shows which chain is served with SNI and which without.
func TestCertificatesRealServer(t *testing.T) {
	peertest.Need(t, "openssl")
	p := newTestPKI(t)
	edCert, edKey := peertest.SelfSigned(t, "/CN=localhost", "DNS:localhost", "-newkey", "ed25519")
	scanOf := func(args []string) *Report {
		addr := opensslCase(func(*testPKI) []string { return args })(t, p)
		rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, NoClients: true})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := scanOf([]string{"-cert", p.rsaCert, "-key", p.rsaKey, "-dcert", edCert, "-dkey", edKey})
	var types []string
	for _, c := range rep.Certificates {
		types = append(types, c.KeyType+" "+c.Key)
	}
	if !slices.Equal(types, []string{"RSA RSA 2048", "EdDSA Ed25519"}) {
		t.Errorf("certificates %v, want the RSA and the Ed25519 one", types)
	}
	rep = scanOf([]string{"-cert", p.rsaCert, "-key", p.rsaKey, "-servername", "localhost", "-cert2", p.ecCert, "-key2", p.ecKey})
	var served []string
	for _, c := range rep.Certificates {
		served = append(served, fmt.Sprintf("%s sni=%v nosni=%v", c.KeyType, c.WithSNI, c.WithoutSNI))
	}
	if !slices.Equal(served, []string{"RSA sni=false nosni=true", "ECDSA sni=true nosni=false"}) {
		t.Errorf("served %v: without SNI the RSA chain, with SNI localhost the ECDSA one", served)
	}
}

// TestNothingUsableRealServer: a TLS 1.2 server whose one suite is for
// ECDSA certificates and whose certificate has an RSA key refuses every
// hello, the TLS 1.2 ones with handshake_failure and the other versions
// with protocol_version (openssl s_server). The scan said "the server
// accepted no SSL or TLS version" (protocol.version-mismatch); it speaks
// TLS 1.2 and can use none of it.
func TestNothingUsableRealServer(t *testing.T) {
	p := newTestPKI(t)
	addr := opensslCase(func(p *testPKI) []string {
		return []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"}
	})(t, p)
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range rep.Protocols {
		if pr.Accepted {
			t.Errorf("%s accepted: %s", pr.Version, pr.Answer)
		}
	}
	wantFindings(t, rep, []string{finding.ProtocolNoSharedCipher}, []string{finding.ProtocolVersionMismatch})
	for _, f := range rep.Findings {
		if f.ID == finding.ProtocolNoSharedCipher && !strings.Contains(f.Title, "does not refuse TLS 1.2 as a version but accepts no ClientHello") {
			t.Errorf("the finding does not say the server speaks TLS 1.2: %s", f.Title)
		}
	}
}

// TestOneServerRealServers: a name whose addresses are different servers
// (round-robin DNS, the dialer handing the two out in turn, as a resolver
// that rotates its answers does): openssl s_server speaking TLS 1.2 only,
// and one speaking TLS 1.3 only. Every connection of the scan must go to
// the server the first reached, so that the report is that server's (TLS
// 1.2 accepted, 1.3 refused, as openssl s_client finds), not a mixture
// of both.
func TestOneServerRealServers(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	p := newTestPKI(t)
	only12 := opensslCase(func(p *testPKI) []string { return []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-tls1_2"} })(t, p)
	only13 := opensslCase(func(p *testPKI) []string { return []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-tls1_3"} })(t, p)
	for v, want := range map[string]bool{"-tls1_2": true, "-tls1_3": false} {
		out, _ := exec.Command(openssl, "s_client", "-connect", only12, v).CombinedOutput()
		if got := strings.Contains(string(out), "Cipher is ") && !strings.Contains(string(out), "Cipher is (NONE)"); got != want {
			t.Fatalf("s_client %s: connected %v, want %v\n%s", v, got, want, out)
		}
	}
	var mu sync.Mutex
	var asked []string
	next := 0
	var d net.Dialer
	rep, err := Run(context.Background(), Options{Address: "pool.scan.test:443", ServerName: "localhost", Verifier: p.verifier, NoClients: true,
		Dial: func(ctx context.Context, addr string) (net.Conn, error) {
			mu.Lock()
			asked = append(asked, addr)
			if addr == "pool.scan.test:443" {
				addr = []string{only12, only13}[next%2]
				next++
			}
			mu.Unlock()
			return d.DialContext(ctx, "tcp", addr)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Address != only12 {
		t.Errorf("report address %s, want %s", rep.Address, only12)
	}
	for _, pr := range rep.Protocols {
		if want := pr.Version == "TLS 1.2"; pr.Accepted != want {
			t.Errorf("%s accepted %v, want %v (the TLS 1.2 server's answer): %s", pr.Version, pr.Accepted, want, pr.Answer)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) < 10 || asked[0] != "pool.scan.test:443" {
		t.Fatalf("connections asked for %q, want the name and then many more", asked)
	}
	for i, a := range asked[1:] {
		if a != only12 {
			t.Fatalf("connection %d asked for %s, want %s (where the first went)", i+2, a, only12)
		}
	}
}

// TestFallbackRealServer: a name with an AAAA and an A record (dnsmasq)
// whose IPv6 address refuses (nothing listens on [::1]:PORT) and whose
// IPv4 address is openssl s_server: the scan is of the IPv4 server, and
// says with net.fallback that the first address did not connect.
func TestFallbackRealServer(t *testing.T) {
	p := newTestPKI(t)
	addr := opensslCase(func(p *testPKI) []string { return []string{"-cert", p.rsaCert, "-key", p.rsaKey} })(t, p)
	_, port, _ := net.SplitHostPort(addr)
	dns := peertest.DNS(t, "scan.test", "down.test", map[string]string{"fb.scan.test": "127.0.0.1 ::1"})
	d := &net.Dialer{Resolver: peertest.Resolver(dns.Addr)}
	rep, err := Run(context.Background(), Options{Address: "fb.scan.test:" + port, ServerName: "localhost", Verifier: p.verifier, NoClients: true,
		Dial: func(ctx context.Context, a string) (net.Conn, error) { return d.DialContext(ctx, "tcp", a) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Address != addr {
		t.Errorf("scanned %s, want %s", rep.Address, addr)
	}
	wantFindings(t, rep, []string{finding.NetFallback}, nil)
	for _, f := range rep.Findings {
		if f.ID == finding.NetFallback && !strings.Contains(f.Detail, "[::1]:"+port+" refused the connection") {
			t.Errorf("net.fallback does not say [::1]:%s refused: %s", port, f.Detail)
		}
	}
}

// TestViaRealServer: a scan of a name at one of its addresses (Via, as
// --each-address makes them) connects there for every probe, names the
// name and verifies it, and reports the address, connected (openssl
// s_server: the scan sees its TLS 1.2 and 1.3) or refused.
func TestViaRealServer(t *testing.T) {
	p := newTestPKI(t)
	addr := opensslCase(func(p *testPKI) []string { return []string{"-cert", p.rsaCert, "-key", p.rsaKey} })(t, p)
	for _, tc := range []struct {
		via      string
		accepted []string
	}{{addr, []string{"TLS 1.2", "TLS 1.3"}}, {"127.0.0.1:1", nil}} {
		rep, err := Run(context.Background(), Options{Address: "localhost:443", Via: tc.via, Verifier: p.verifier, NoClients: true})
		if err != nil {
			t.Fatal(err)
		}
		var accepted []string
		for _, pr := range rep.Protocols {
			if pr.Accepted {
				accepted = append(accepted, pr.Version)
			}
		}
		if rep.Target != "localhost:443" || rep.ServerName != "localhost" || rep.Address != tc.via || !slices.Equal(accepted, tc.accepted) {
			t.Errorf("via %s: %s (%s) at %s, accepted %q; want localhost:443 at %s, accepted %q", tc.via, rep.Target, rep.ServerName, rep.Address, accepted, tc.via, tc.accepted)
		}
	}
}

// TestUnrecognizedNameRealServer: openssl s_server -servername localhost
// -servername_fatal refuses every hello whose SNI is another name with
// unrecognized_name, in every version it speaks (openssl s_client
// -servername other.example gets alert 112; -servername localhost
// connects). The scan of other.example called that "speaks TLS … but
// accepts no ClientHello" (protocol.no-shared-cipher), which blames the
// server's suites; it is the name.
func TestUnrecognizedNameRealServer(t *testing.T) {
	p := newTestPKI(t)
	addr := opensslCase(func(p *testPKI) []string {
		return []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-servername", "localhost", "-cert2", p.ecCert, "-key2", p.ecKey, "-servername_fatal"}
	})(t, p)
	// The oracle: s_client is refused for the other name, not for
	// localhost, nor without a name.
	for _, args := range [][]string{{"-servername", "other.example"}, {"-noservername"}, {"-servername", "localhost"}} {
		want := ""
		if args[len(args)-1] == "other.example" {
			want = "112"
		}
		if got := sClientRefused(t, addr, args...); got != want {
			t.Fatalf("s_client %q: alert %q, want %q", args, got, want)
		}
	}
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "other.example", Verifier: p.verifier, NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	// Without a name s_server answers, so the scan ends there.
	wantStoppedForName(t, rep, "other.example", "unrecognized_name")
}

// sClientRefused runs openssl s_client against addr with args and reports
// the alert number it was refused with ("" when it connected).
func sClientRefused(t *testing.T, addr string, args ...string) string {
	t.Helper()
	cmd := exec.Command(peertest.Need(t, "openssl"), append([]string{"s_client", "-connect", addr}, args...)...)
	out, _ := cmd.CombinedOutput()
	if _, after, ok := strings.Cut(string(out), "SSL alert number "); ok {
		n, _, _ := strings.Cut(after, "\n")
		return strings.TrimSpace(n)
	}
	if !strings.Contains(string(out), "Cipher is ") || strings.Contains(string(out), "Cipher is (NONE)") {
		t.Fatalf("s_client %q: neither refused nor connected\n%s", args, out)
	}
	return ""
}

// wantStoppedForName asserts a scan that ended at the server's refusal
// of the name: sni.unrecognized-name alone, naming the name, and every
// version row refused with the alert marked not known.
func wantStoppedForName(t *testing.T, rep *Report, name, alert string) {
	t.Helper()
	if got := ids(rep.Findings); !slices.Equal(got, []string{finding.SNIUnrecognizedName}) {
		t.Errorf("findings %q, want sni.unrecognized-name alone (not name.mismatch, protocol.no-shared-cipher, scan.clients-refused)", got)
	}
	for _, f := range rep.Findings {
		if !strings.Contains(f.Detail, `"`+name+`"`) || !strings.Contains(f.Detail, "without a server name (SNI) was answered") {
			t.Errorf("the finding does not name %q and the hello without it: %s", name, f.Detail)
		}
	}
	if rep.Stopped == "" || len(rep.Versions) != 0 || len(rep.Certificates) != 0 {
		t.Errorf("the scan went on past the refusal: stopped %q, %d versions, %d certificates", rep.Stopped, len(rep.Versions), len(rep.Certificates))
	}
	for _, pr := range rep.Protocols {
		if strings.Contains(pr.Answer, alert) && !strings.Contains(pr.Answer, "with that key share") && (pr.Accepted || !pr.Unknown) {
			t.Errorf("%s refused with %s is %s, want not known: %s", pr.Version, alert, map[bool]string{true: "accepted", false: "refused"}[pr.Accepted], pr.Answer)
		}
	}
}

// TestNameRefusedGoServer: a server written in Go, as Caddy and Traefik
// are, with a certificate for localhost whose GetCertificate fails for any
// other name. crypto/tls ends those handshakes with internal_error (openssl
// s_client -servername other.example: alert 80; -noservername and
// -servername localhost connect). The scan of other.example called TLS 1.2
// "no", and, when the server also refused TLS 1.3 at once (X25519 and
// P-256 only, no HelloRetryRequest), said it speaks TLS but accepts no
// ClientHello (protocol.no-shared-cipher), which blames the suites; with
// Go's default groups it went on to list suites and groups, a chain it
// got only without the name as name.mismatch, and every client as
// refused. It is the name, and the scan of localhost is a full one.
func TestNameRefusedGoServer(t *testing.T) {
	p := newTestPKI(t)
	cert, err := tls.LoadX509KeyPair(p.ecCert, p.ecKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		curves    []tls.CurveID
		hrr       bool
		namedOnly bool // no certificate for a hello without a name either
	}{
		{"default groups", nil, true, false},
		{"X25519 and P-256", []tls.CurveID{tls.X25519, tls.CurveP256}, false, false},
		{"named sites only", nil, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := serveGo(t, &tls.Config{CurvePreferences: tc.curves, GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
				if h.ServerName == "" && !tc.namedOnly || h.ServerName == "localhost" {
					return &cert, nil
				}
				return nil, fmt.Errorf("no certificate for %q", h.ServerName)
			}})
			// The oracle.
			for _, args := range [][]string{{"-servername", "other.example"}, {"-noservername"}, {"-servername", "localhost"}} {
				want := ""
				if args[len(args)-1] == "other.example" || args[0] == "-noservername" && tc.namedOnly {
					want = "80"
				}
				if got := sClientRefused(t, addr, args...); got != want {
					t.Fatalf("s_client %q: alert %q, want %q", args, got, want)
				}
			}
			rep, err := Run(context.Background(), Options{Address: addr, ServerName: "other.example", Verifier: p.verifier, NoClients: true})
			if err != nil {
				t.Fatal(err)
			}
			if tc.namedOnly {
				// Refused without the name too: the name cannot be told
				// apart, and internal_error is no refusal of a version.
				if got := ids(rep.Findings); !slices.Equal(got, []string{finding.ProtocolAlert}) || rep.Stopped == "" {
					t.Errorf("findings %q, stopped %q; want protocol.alert alone and a stop", got, rep.Stopped)
				}
				for _, pr := range rep.Protocols {
					if pr.Version == "TLS 1.2" && (pr.Accepted || !pr.Unknown) {
						t.Errorf("TLS 1.2 refused with internal_error is not unknown: %s", pr.Answer)
					}
				}
				return
			}
			wantStoppedForName(t, rep, "other.example", "internal_error")
			// The highest version refused is asked again without the name.
			looked := map[bool]string{true: "TLS 1.2", false: "TLS 1.3"}[tc.hrr]
			for _, pr := range rep.Protocols {
				if pr.Version == "TLS 1.3" && pr.Accepted != tc.hrr {
					t.Errorf("TLS 1.3 accepted %v, want %v (a HelloRetryRequest shows the version): %s", pr.Accepted, tc.hrr, pr.Answer)
				}
				if pr.Version == looked && !strings.Contains(pr.Answer, "without a server name: ServerHello: "+looked) {
					t.Errorf("the %s row does not say what the hello without the name got: %s", looked, pr.Answer)
				}
			}
			rep, err = Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, NoClients: true})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Stopped != "" || len(rep.Versions) != 2 || slices.Contains(ids(rep.Findings), finding.SNIUnrecognizedName) {
				t.Errorf("localhost: stopped %q, %d versions, findings %q; want a full scan of TLS 1.2 and 1.3", rep.Stopped, len(rep.Versions), ids(rep.Findings))
			}
		})
	}
}

// TestNameRejectedNginx: nginx with ssl_reject_handshake in its default
// server and a site for localhost refuses every hello that names another
// site, and every hello that names none, with unrecognized_name (openssl
// s_client: alert 112 for -servername other.example and -noservername;
// -servername localhost connects). The scan says it is the name.
func TestNameRejectedNginx(t *testing.T) {
	p := newTestPKI(t)
	addr := peertest.Nginx(t, func(dir string, port int) string {
		return fmt.Sprintf(`http {
  access_log off;
  client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s; uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server {
    listen 127.0.0.1:%[2]d ssl default_server;
    ssl_reject_handshake on;
  }
  server {
    listen 127.0.0.1:%[2]d ssl;
    server_name localhost;
    ssl_certificate %[3]s;
    ssl_certificate_key %[4]s;
    location / { return 200 "ok\n"; }
  }
}
`, dir, port, p.rsaCert, p.rsaKey)
	})
	for _, args := range [][]string{{"-servername", "other.example"}, {"-noservername"}, {"-servername", "localhost"}} {
		want := "112"
		if args[len(args)-1] == "localhost" {
			want = ""
		}
		if got := sClientRefused(t, addr, args...); got != want {
			t.Fatalf("s_client %q: alert %q, want %q", args, got, want)
		}
	}
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "other.example", Verifier: p.verifier, NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	wantFindings(t, rep, []string{finding.SNIUnrecognizedName}, []string{finding.ProtocolNoSharedCipher, finding.ProtocolVersionMismatch})
}

// TestNameWarningRealServer: openssl s_server -servername localhost
// without -servername_fatal answers another name with a warning
// unrecognized_name in TLS 1.2 and goes on with its default certificate
// (openssl s_client -servername other.example connects). The scan says
// so as a warning, naming the probe, and scans the server as it answers;
// for localhost there is no warning.
func TestNameWarningRealServer(t *testing.T) {
	p := newTestPKI(t)
	addr := opensslCase(func(p *testPKI) []string {
		return []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-servername", "localhost", "-cert2", p.ecCert, "-key2", p.ecKey}
	})(t, p)
	if got := sClientRefused(t, addr, "-servername", "other.example", "-tls1_2"); got != "" {
		t.Fatalf("s_client -servername other.example: alert %s, want a connection", got)
	}
	for _, name := range []string{"other.example", "localhost"} {
		rep, err := Run(context.Background(), Options{Address: addr, ServerName: name, Verifier: p.verifier, NoClients: true})
		if err != nil {
			t.Fatal(err)
		}
		var warned *finding.Finding
		for i, f := range rep.Findings {
			if f.ID == finding.SNIUnrecognizedName {
				warned = &rep.Findings[i]
			}
		}
		switch {
		case name == "localhost" && warned != nil:
			t.Errorf("localhost: %s: %s", warned.ID, warned.Detail)
		case name == "other.example" && (warned == nil || warned.Severity != finding.Warning || len(warned.Evidence) == 0):
			t.Errorf("other.example: %+v, want a warning naming the probes", warned)
		}
		if rep.Stopped != "" || len(rep.Versions) != 2 {
			t.Errorf("%s: stopped %q, %d versions; want TLS 1.2 and 1.3 scanned", name, rep.Stopped, len(rep.Versions))
		}
	}
}

// TestClientCertRequiredRealServer: openssl s_server -Verify (TLS 1.3)
// requires a client certificate. tlskit has none: its handshake ends with
// alert certificate_required and no ticket. The scan called TLS 1.3 PSK
// resumption and 0-RTT "not supported: the server sent no
// NewSessionTicket"; openssl s_client with a certificate gets a ticket
// and resumes with it (Reused, TLSv1.3). tlskit cannot tell, and says so.
func TestClientCertRequiredRealServer(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	p := newTestPKI(t)
	addr := opensslCase(func(p *testPKI) []string {
		return []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-tls1_3", "-Verify", "1", "-CAfile", p.ecCAFile}
	})(t, p)
	// The oracle: a client with a certificate resumes.
	sess := filepath.Join(t.TempDir(), "sess.pem")
	sClient := func(args ...string) string {
		cmd := exec.Command(openssl, append([]string{"s_client", "-connect", addr, "-cert", p.ecCert, "-key", p.ecKey}, args...)...)
		// Stdin open a moment: s_client reads the tickets after the handshake.
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = r
		time.AfterFunc(500*time.Millisecond, func() { w.Close() })
		out, _ := cmd.CombinedOutput()
		r.Close()
		return string(out)
	}
	if out := sClient("-sess_out", sess); !strings.Contains(out, "New, TLSv1.3") {
		t.Fatalf("s_client with a certificate did not connect:\n%s", out)
	}
	if out := sClient("-sess_in", sess); !strings.Contains(out, "Reused, TLSv1.3") {
		t.Fatalf("s_client did not resume with the server's ticket:\n%s", out)
	}
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	for what, f := range map[string]Feature{"TLS 1.3 PSK": rep.Session.PSK13, "0-RTT": rep.Session.EarlyData} {
		wantState(t, what, f, Unknown)
		if !strings.Contains(f.Detail, "client certificate") {
			t.Errorf("%s: %q does not say the server requires a client certificate", what, f.Detail)
		}
	}
}

// TestConnectionLimitRealServer: nginx's stream module with limit_conn 2
// in front of openssl s_server closes every connection beyond the second
// one a client has open, before a byte of TLS. sslscan, which connects
// one at a time, sees TLS 1.2 and 1.3. The scan (four connections at
// once) took those closes as the server's refusals: TLS 1.2 not
// accepted, no groups, no certificate, or "speaks TLS 1.0 but accepts no
// ClientHello", with no word that anything was amiss. Now it asks such a
// probe again alone, goes on one connection at a time, says so, and sees
// what sslscan sees.
func TestConnectionLimitRealServer(t *testing.T) {
	peertest.Need(t, "nginx")
	module := "/usr/lib/nginx/modules/ngx_stream_module.so" // Debian's libnginx-mod-stream
	if _, err := os.Stat(module); err != nil {
		peertest.Skip(t, "nginx's stream module (%s, Debian's libnginx-mod-stream) is not installed", module)
	}
	p := newTestPKI(t)
	backend := opensslCase(func(p *testPKI) []string { return []string{"-cert", p.rsaCert, "-key", p.rsaKey} })(t, p)
	addr := peertest.Nginx(t, func(dir string, port int) string {
		return fmt.Sprintf(`load_module %s;
stream {
  limit_conn_zone $binary_remote_addr zone=perip:1m;
  server { listen 127.0.0.1:%d; limit_conn perip 2; proxy_pass %s; }
}
`, module, port, backend)
	})
	time.Sleep(100 * time.Millisecond) // the probe connection above has left nginx's count
	ss := sslscan(t, addr)
	if !ss.versions["TLS 1.2"] || !ss.versions["TLS 1.3"] {
		t.Fatalf("sslscan through the limit: %v, want TLS 1.2 and 1.3", ss.versions)
	}
	const note = "closed before the server answered"
	for _, conns := range []int{4, 1} {
		rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, NoClients: true, MaxConns: conns})
		if err != nil {
			t.Fatal(err)
		}
		noted := slices.ContainsFunc(rep.Problems, func(s string) bool { return strings.Contains(s, note) })
		t.Logf("%d connections at once: %d probes, problems %q", conns, rep.Connections, rep.Problems)
		// Four connections at once to a server that serves one at a
		// time are over the limit; one is not.
		if noted != (conns > 2) {
			t.Errorf("%d connections at once: problems %q; a note that probes were %s: %v, want %v", conns, rep.Problems, note, noted, conns > 2)
		}
		compare(t, rep, ss, addr)
	}
}

// TestSilentRefusals: a server that refuses what it does not speak by
// closing the connection without an alert (Windows' SChannel does, for a
// version it has disabled; here an in-process crypto/tls server that
// closes on TLS 1.0, 1.1 and SSL 3.0 hellos: no server installed here
// refuses so). Such closes are asked again alone at most twice, closed
// again, and taken as refusals: the scan keeps its parallel connections
// (it went one at a time for the rest of the scan after the first).
func TestSilentRefusals(t *testing.T) {
	p := newTestPKI(t)
	cert, err := tls.LoadX509KeyPair(p.ecCert, p.ecKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			if !slices.ContainsFunc(h.SupportedVersions, func(v uint16) bool { return v >= tls.VersionTLS12 }) {
				h.Conn.Close() // no alert: the connection just ends
				return nil, errors.New("silently refused")
			}
			return nil, nil
		}}
	addr := peertest.ServeTLS(t, cfg, func(c *tls.Conn) { c.Handshake() })
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, NoClients: true, NoHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range rep.Protocols {
		if want := pr.Version == "TLS 1.2" || pr.Version == "TLS 1.3"; pr.Accepted != want {
			t.Errorf("%s accepted %v, want %v (%s)", pr.Version, pr.Accepted, want, pr.Answer)
		}
	}
	again := 0
	for _, pr := range rep.Probes {
		if strings.Contains(pr.Purpose, "(again, alone") {
			again++
		}
	}
	if again == 0 || again > maxSilentRetries {
		t.Errorf("%d probes asked again alone, want 1 to %d", again, maxSilentRetries)
	}
	for _, pr := range rep.Problems {
		if strings.Contains(pr, "one connection at a time") {
			t.Errorf("a server that refuses silently made the scan go one connection at a time: %s", pr)
		}
	}
	if !slices.ContainsFunc(rep.Problems, func(s string) bool { return strings.Contains(s, "closed again when asked alone") }) {
		t.Errorf("no note of the probes closed again: %v", rep.Problems)
	}
}

// TestClientCertificateRealServer: the scan says whether the server asks
// for a client certificate and whether it insists, as openssl s_server is
// configured (-Verify: required, -verify: optional) and as openssl
// s_client without a certificate finds it (refused, or connected); each
// simulated client that meets the request says so. Before, nothing in a
// scan's report said a certificate was asked for, and every simulated
// client "connected".
func TestClientCertificateRealServer(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	p := newTestPKI(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"tls13-required", []string{"-tls1_3", "-Verify", "1"}, "required:"},
		{"tls12-required", []string{"-tls1_2", "-Verify", "1"}, "required:"},
		{"optional", []string{"-verify", "1"}, "optional:"},
		{"none", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := opensslCase(func(p *testPKI) []string {
				return append([]string{"-cert", p.rsaCert, "-key", p.rsaKey, "-CAfile", p.ecCAFile}, tc.args...)
			})(t, p)
			// The oracle: openssl s_client without a certificate.
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(openssl, "s_client", "-connect", addr)
			cmd.Stdin = r
			time.AfterFunc(500*time.Millisecond, func() { w.Close() })
			out, _ := cmd.CombinedOutput()
			r.Close()
			refused := strings.Contains(string(out), "alert")
			if refused != (tc.want == "required:") {
				t.Fatalf("openssl s_client without a certificate: refused %v, want %v:\n%s", refused, tc.want == "required:", out)
			}
			rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier,
				Clients: DefaultClients()[:2], NoHTTP: true})
			if err != nil {
				t.Fatal(err)
			}
			f := rep.Session.ClientCertificate
			if tc.want == "" {
				wantState(t, "client certificate", f, NotSupported)
				return
			}
			wantState(t, "client certificate", f, Supported)
			if !strings.HasPrefix(f.Detail, tc.want) {
				t.Errorf("client certificate: %q, want it to start with %q", f.Detail, tc.want)
			}
			for _, c := range rep.Clients {
				if c.Connects && !strings.Contains(c.Reason, "asks for a client certificate") {
					t.Errorf("%s: %q does not say the server asks for a client certificate", c.Client, c.Reason)
				}
			}
		})
	}
}

// TestMalformedRecordServer: a server that answers every hello with a
// record header whose length no TLS record has (an in-process fake: no
// real server sends one) is not TLS, and nothing in the report claims it
// "looks like" a protocol that was not recognised ("(looks like )").
func TestMalformedRecordServer(t *testing.T) {
	addr := peertest.Serve(t, func(c net.Conn) {
		c.Read(make([]byte, 4096))
		c.Write([]byte{0x16, 0x03, 0x03, 0xff, 0xff, 0x02})
		time.Sleep(50 * time.Millisecond)
		c.Close()
	})
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", NoClients: true, NoHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	wantFindings(t, rep, []string{finding.ProtocolNotTLS}, nil)
	for _, f := range rep.Findings {
		text := f.Title + " " + f.Detail + " " + strings.Join(f.Evidence, " ")
		if strings.Contains(text, "(looks like )") || strings.Contains(text, "another protocol") {
			t.Errorf("%s: %s", f.ID, text)
		}
		if f.ID == finding.ProtocolNotTLS && !strings.Contains(f.Title, "answers with bytes that are not TLS records") {
			t.Errorf("title %q", f.Title)
		}
	}
}

// TestVersionToleranceRealServer: a server whose highest version is TLS
// 1.2 must answer a hello offering TLS 1.2 and 1.3 (every current client's)
// with TLS 1.2. openssl s_server with a 512-bit RSA key does not: it takes
// TLS 1.3 and cannot sign for it (RSA-PSS with SHA-256 needs 528 bits), so
// openssl s_client, which offers both, gets handshake_failure, while with
// -tls1_2 it connects. The scan listed TLS 1.2 accepted and TLS 1.3 not,
// and said nothing of the clients this turns away; it is
// scan.version-intolerance. The same server with a 2048-bit key and TLS
// 1.2 only answers the hello with TLS 1.2 (as s_client shows): tolerant.
func TestVersionToleranceRealServer(t *testing.T) {
	openssl := peertest.Need(t, "openssl")
	p := newTestPKI(t)
	weakCert, weakKey := peertest.SelfSigned(t, "/CN=localhost", "DNS:localhost", "-newkey", "rsa:512")
	for _, tc := range []struct {
		name    string
		args    []string
		sClient string // what openssl s_client, offering TLS 1.2 and 1.3, gets
		state   string
	}{
		{"rsa512", []string{"-cert", weakCert, "-key", weakKey, "-cipher", "DEFAULT:@SECLEVEL=0"}, "alert handshake failure", NotSupported},
		{"tls12-only", []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-tls1_2"}, "New, TLSv1.2, ", Supported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := tc.args
			addr := opensslCase(func(*testPKI) []string { return args })(t, p)
			out, _ := exec.Command(openssl, "s_client", "-connect", addr, "-cipher", "ALL:@SECLEVEL=0").CombinedOutput()
			if !strings.Contains(string(out), tc.sClient) {
				t.Fatalf("openssl s_client: no %q:\n%s", tc.sClient, out)
			}
			out, _ = exec.Command(openssl, "s_client", "-connect", addr, "-tls1_2", "-cipher", "ALL:@SECLEVEL=0").CombinedOutput()
			if !strings.Contains(string(out), "New, TLSv1.2, ") {
				t.Fatalf("openssl s_client -tls1_2 did not connect:\n%s", out)
			}
			rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, NoClients: true})
			if err != nil {
				t.Fatal(err)
			}
			wantState(t, "version tolerance", rep.Session.VersionTolerance, tc.state)
			if tc.state == NotSupported {
				wantFindings(t, rep, []string{finding.ScanVersionIntolerance}, nil)
			} else {
				wantFindings(t, rep, nil, []string{finding.ScanVersionIntolerance})
			}
		})
	}
}
