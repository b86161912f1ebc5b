package scan

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
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
