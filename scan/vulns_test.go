package scan

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/finding"
)

func vulnOf(t *testing.T, rep *Report, name string) Vulnerability {
	t.Helper()
	for _, v := range rep.Vulnerabilities {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no %s entry in %+v", name, rep.Vulnerabilities)
	return Vulnerability{}
}

func wantVuln(t *testing.T, rep *Report, name, state string) Vulnerability {
	t.Helper()
	v := vulnOf(t, rep, name)
	if v.State != state {
		t.Errorf("%s: %s (%s), want %s", name, v.State, v.Detail, state)
	}
	return v
}

// TestFakeCCSInjection: an in-process server that takes an early
// ChangeCipherSpec (as OpenSSL before 1.0.1h did; no real server on this
// machine does) is reported vulnerable from its bad_record_mac on the
// second one; the same fake, fixed, refuses with unexpected_message.
func TestFakeCCSInjection(t *testing.T) {
	addr := startFake(t, &fakeServer{earlyCCS: true})
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	v := wantVuln(t, rep, "CCS injection", Vulnerable)
	if !strings.Contains(v.Detail, "bad_record_mac") || v.Finding != finding.ScanCCSInjection {
		t.Errorf("detail %q, finding %q", v.Detail, v.Finding)
	}
	wantFindings(t, rep, []string{finding.ScanCCSInjection}, nil)

	addr = startFake(t, &fakeServer{})
	rep, err = Run(context.Background(), Options{Address: addr, ServerName: "localhost", NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	v = wantVuln(t, rep, "CCS injection", NotVulnerable)
	if !strings.Contains(v.Detail, "unexpected_message") {
		t.Errorf("detail %q", v.Detail)
	}
	wantFindings(t, rep, nil, []string{finding.ScanCCSInjection})
}

// TestFakeTicketbleed: an in-process server that pads the session id of a
// ticket resumption with its memory (F5's bug; no real server here has
// it) is reported vulnerable, and the memory is in neither the report
// nor the transcripts; the same fake, fixed, echoes the 1-byte id.
func TestFakeTicketbleed(t *testing.T) {
	memory := []byte("SECRET-MEMORY-OF-ANOTHER-CONNECTION-0123456789")
	addr := startFake(t, &fakeServer{tickets: true, ticketbleed: true, memory: memory})
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, "ticket resumption", rep.Session.ResumptionTicket, Supported)
	v := wantVuln(t, rep, "Ticketbleed", Vulnerable)
	if !strings.Contains(v.Detail, "echoed 32 bytes: 31 bytes of its memory") {
		t.Errorf("detail %q", v.Detail)
	}
	wantFindings(t, rep, []string{finding.ScanTicketbleed}, nil)
	// Not as text, not in hex (session ids are hex in the JSON).
	b, _ := json.Marshal(rep)
	for _, leak := range [][]byte{memory[:8], []byte(hex.EncodeToString(memory[:8]))} {
		if bytes.Contains(b, leak) {
			t.Errorf("the JSON report holds bytes the server leaked (%s)", leak)
		}
	}

	addr = startFake(t, &fakeServer{tickets: true, memory: memory})
	rep, err = Run(context.Background(), Options{Address: addr, ServerName: "localhost", NoClients: true})
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, "ticket resumption", rep.Session.ResumptionTicket, Supported)
	v = wantVuln(t, rep, "Ticketbleed", NotVulnerable)
	if !strings.Contains(v.Detail, "echoed exactly that id") {
		t.Errorf("detail %q", v.Detail)
	}
}

// TestVulnsRealServers: the not-vulnerable side of the probes against
// real servers (openssl s_server, Go's crypto/tls, gnutls-serv) that
// accept only an RSA key exchange (where ROBOT is
// tested: ten connections, the five blocks answered alike), with and
// without session tickets (Ticketbleed: the 1-byte session id echoed as
// sent; not applicable without tickets).
func TestVulnsRealServers(t *testing.T) {
	p := newTestPKI(t)
	for _, c := range []struct {
		name        string
		start       func(*testing.T, *testPKI) string
		ticketbleed string
	}{
		{"openssl s_server, RSA key exchange only", opensslCase(func(p *testPKI) []string {
			return []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-no_tls1_3", "-cipher", "AES128-GCM-SHA256:AES256-SHA"}
		}), NotVulnerable},
		{"openssl s_server -no_ticket", opensslCase(func(p *testPKI) []string {
			return []string{"-cert", p.rsaCert, "-key", p.rsaKey, "-no_tls1_3", "-no_ticket", "-cipher", "AES128-SHA"}
		}), NotApplicable},
		{"Go's crypto/tls, RSA key exchange only", goRSACase, NotVulnerable},
		{"gnutls-serv, RSA key exchange only", gnutlsCase(func(p *testPKI) []string {
			return []string{"--x509certfile", p.rsaCert, "--x509keyfile", p.rsaKey, "--priority", "NORMAL:-VERS-TLS1.3:-KX-ALL:+RSA"}
		}), NotVulnerable},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			addr := c.start(t, p)
			rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, NoClients: true})
			if err != nil {
				t.Fatal(err)
			}
			v := wantVuln(t, rep, "ROBOT", NotVulnerable)
			if len(v.Probes) != 10 || len(v.Evidence) != 10 {
				t.Errorf("ROBOT: %d probes, %d answers; want ten of each", len(v.Probes), len(v.Evidence))
			}
			t.Logf("ROBOT: %s", v.Detail)
			wantVuln(t, rep, "CCS injection", NotVulnerable)
			tb := wantVuln(t, rep, "Ticketbleed", c.ticketbleed)
			t.Logf("Ticketbleed: %s", tb.Detail)
			wantFindings(t, rep, []string{finding.ScanNoForwardSecrecy}, []string{finding.ScanROBOT, finding.ScanCCSInjection, finding.ScanTicketbleed})
		})
	}
}

// goRSACase starts a crypto/tls server with the RSA certificate that
// offers only TLS_RSA_WITH_AES_128_GCM_SHA256 in TLS 1.2 (its RSA key
// exchange decrypts in constant time and goes on with a random secret).
func goRSACase(t *testing.T, p *testPKI) string {
	cert, err := tls.LoadX509KeyPair(p.rsaCert, p.rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	return serveGo(t, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}})
}

// TestNoHTTP: with NoHTTP the scan of an HTTPS service (a real nginx,
// ALPN http/1.1) makes no request: no HTTP result, BREACH not tested, and
// the profile's HSTS not checked.
func TestNoHTTP(t *testing.T) {
	p := newTestPKI(t)
	addr := nginxCase(func(t *testing.T, p *testPKI) string {
		return fmt.Sprintf("ssl_certificate %s; ssl_certificate_key %s;", p.rsaCert, p.rsaKey)
	}, false)(t, p)
	prof, err := LoadProfile("intermediate")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Options{Address: addr, ServerName: "localhost", Verifier: p.verifier, NoClients: true, NoHTTP: true, Profile: prof})
	if err != nil {
		t.Fatal(err)
	}
	if rep.HTTP != nil {
		t.Errorf("an HTTP request was made: %+v", rep.HTTP)
	}
	for _, pr := range rep.Probes {
		if strings.HasPrefix(pr.Purpose, "HTTP") {
			t.Errorf("probe %d: %s", pr.ID, pr.Purpose)
		}
	}
	v := wantVuln(t, rep, "BREACH (HTTP compression)", Unknown)
	if !strings.Contains(v.Detail, "not tested") {
		t.Errorf("BREACH: %s", v.Detail)
	}
	wantFindings(t, rep, []string{finding.ProfileNotChecked}, []string{finding.ScanNoHSTS, finding.ProfileHSTS})
}
