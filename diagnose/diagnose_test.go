package diagnose

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/transcript"
)

// TestDialFindings maps TCP connect errors, as the net package returns
// them, to finding ids.
func TestDialFindings(t *testing.T) {
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{opErr(syscall.ECONNREFUSED), finding.NetRefused},
		{opErr(syscall.ECONNRESET), finding.NetReset},
		{opErr(syscall.EHOSTUNREACH), finding.NetUnreachable},
		{&net.DNSError{Err: "no such host", Name: "nope.invalid", IsNotFound: true}, finding.NetDNS},
		// A DNS timeout is a timeout of the lookup, not of the target.
		{&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "i/o timeout", Name: "slow.test", IsTimeout: true}}, finding.NetDNS},
		{&net.DNSError{Err: "server misbehaving", Name: "refused.test"}, finding.NetDNS},
		{context.DeadlineExceeded, finding.NetTimeout},
		{opErr(os.ErrDeadlineExceeded), finding.NetTimeout},
		{errors.New("something else"), finding.NetUnreachable},
	} {
		fs := Findings(Input{Target: "x:443", DialErr: tc.err, Timeout: time.Second})
		if len(fs) != 1 || fs[0].ID != tc.want || fs[0].Severity != finding.Error || fs[0].Fix == "" {
			t.Errorf("%v: got %+v, want one %s error with a fix", tc.err, fs, tc.want)
		}
		if v := VerdictOf(Input{DialErr: tc.err}, fs); v != Failed {
			t.Errorf("%v: verdict %s, want failed", tc.err, v)
		}
	}
}

// TestFallbackWords: each way an address can fail before another connects
// is said in words (the real refusal and the lost race are tested against
// openssl s_server in probe's TestFallback; the others are errors as the
// net package returns them), and a name with many addresses lists five.
func TestFallbackWords(t *testing.T) {
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	var fails []DialFailure
	for i, err := range []error{opErr(syscall.ECONNREFUSED), context.Canceled, opErr(os.ErrDeadlineExceeded), opErr(syscall.ENETUNREACH), errors.New("odd"), opErr(syscall.ECONNREFUSED), opErr(syscall.ECONNREFUSED)} {
		fails = append(fails, DialFailure{Address: "[2001:db8::" + string(rune('1'+i)) + "]:443", Err: err})
	}
	fs := Findings(Input{Target: "x.test:443", Address: "192.0.2.1:443", DialFailures: fails, HandshakeDone: true})
	if len(fs) != 1 || fs[0].ID != finding.NetFallback || fs[0].Severity != finding.Warning {
		t.Fatalf("findings %+v, want one net.fallback warning", fs)
	}
	for _, s := range []string{
		"[2001:db8::1]:443 refused the connection", "[2001:db8::2]:443 had not connected when the next address",
		"[2001:db8::3]:443 did not answer in time", "[2001:db8::4]:443 cannot be reached (no route)",
		"[2001:db8::5]:443 failed (odd)", "and 2 more",
	} {
		if !strings.Contains(fs[0].Detail, s) {
			t.Errorf("the detail does not say %q:\n%s", s, fs[0].Detail)
		}
	}
	if strings.Contains(fs[0].Detail, "::6") || fs[0].Title != "x.test:443 did not connect at [2001:db8::1]:443; tlskit connected to 192.0.2.1:443 instead" {
		t.Errorf("%q\n%q", fs[0].Title, fs[0].Detail)
	}
}

// TestEveryAddressFailedWords: a dial of a name none of whose addresses
// connected keeps the first address's finding (Go's error is that one's),
// lists each address in the detail, and says in the title that they
// failed differently when they did; the report's dial_failures has each
// with its outcome word (probe's TestEveryAddressFails has the refusal
// and the black hole of real loopback addresses; no route and an odd
// error are errors as the net package returns them).
func TestEveryAddressFailedWords(t *testing.T) {
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	refused, unreachable, odd := opErr(syscall.ECONNREFUSED), opErr(syscall.EHOSTUNREACH), errors.New("odd")
	for _, tc := range []struct {
		errs     []error
		id       string
		mixed    bool
		outcomes []string
	}{
		{[]error{refused, refused}, finding.NetRefused, false, []string{"refused", "refused"}},
		{[]error{unreachable, refused, odd}, finding.NetUnreachable, true, []string{"unreachable", "refused", "failed"}},
		{[]error{opErr(os.ErrDeadlineExceeded), refused}, finding.NetTimeout, true, []string{"timeout", "refused"}},
	} {
		var fails []DialFailure
		for i, err := range tc.errs {
			fails = append(fails, DialFailure{Address: "[2001:db8::" + string(rune('1'+i)) + "]:443", Err: err})
		}
		in := Input{Target: "x.test:443", DialErr: tc.errs[0], DialFailures: fails, Timeout: time.Second}
		fs := Findings(in)
		if len(fs) != 1 || fs[0].ID != tc.id {
			t.Fatalf("%v: findings %+v, want one %s", tc.errs, fs, tc.id)
		}
		if mixed := strings.Contains(fs[0].Title, "not all failed alike"); mixed != tc.mixed {
			t.Errorf("%v: title %q (mixed: %v)", tc.errs, fs[0].Title, tc.mixed)
		}
		if !strings.Contains(fs[0].Detail, "none took the connection: [2001:db8::1]:443 ") {
			t.Errorf("%v: detail %q lists no address", tc.errs, fs[0].Detail)
		}
		rep := Analyze(Analysis{Input: in})
		for i, a := range rep.DialFailures {
			if a.Outcome != tc.outcomes[i] || a.Address != fails[i].Address || a.Error != tc.errs[i].Error() {
				t.Errorf("%v: dial_failures[%d] = %+v, want %s", tc.errs, i, a, tc.outcomes[i])
			}
		}
		if len(rep.DialFailures) != len(tc.outcomes) {
			t.Errorf("%v: dial_failures %+v", tc.errs, rep.DialFailures)
		}
	}
	// One address: the finding as it was, nothing added.
	fs := Findings(Input{Target: "x.test:443", DialErr: refused, DialFailures: []DialFailure{{Address: "192.0.2.1:443", Err: refused}}})
	if strings.Contains(fs[0].Detail, "none took") || fs[0].Title != "Nothing accepts connections on x.test:443" {
		t.Errorf("one address: %+v", fs[0])
	}
}

// TestSilentFailures: a handshake that ends without any alert is explained
// by how the TCP connection ended.
func TestSilentFailures(t *testing.T) {
	for _, tc := range []struct {
		how  transcript.CloseHow
		want string
	}{
		{transcript.CloseRST, finding.NetReset},
		{transcript.CloseTimeout, finding.NetTimeout},
		{transcript.CloseFIN, finding.ProtocolAlert},
	} {
		tr := &transcript.Transcript{Closed: &transcript.Closure{By: transcript.Server, How: tc.how}}
		fs := Findings(Input{Target: "x:443", Transcript: tr, HandshakeErr: errors.New("EOF")})
		if !finding.Has(fs, tc.want) {
			t.Errorf("close by %s: findings %+v, want %s", tc.how, fs, tc.want)
		}
	}
}

// TestVerdictWithoutChain: a completed handshake that showed no certificate
// (PSK, resumption) is unverified, not untrusted, unless a finding is an
// error; one with a chain is judged by its verification.
func TestVerdictWithoutChain(t *testing.T) {
	done := Input{HandshakeDone: true}
	if v := VerdictOf(done, nil); v != Unverified {
		t.Errorf("no chain, no findings: %s, want unverified", v)
	}
	bad := []finding.Finding{{ID: finding.ProtocolVersionMismatch, Severity: finding.Error}}
	if v := VerdictOf(done, bad); v != Untrusted {
		t.Errorf("no chain, an error finding: %s, want untrusted", v)
	}
	if v := VerdictOf(Input{}, nil); v != Failed {
		t.Errorf("handshake not done: %s, want failed", v)
	}
}

// refusedHello is a transcript of a crypto/tls ClientHello answered with
// alert fatal handshake_failure and a close.
func refusedHello(t *testing.T) *transcript.Transcript {
	t.Helper()
	c, s := net.Pipe()
	go tls.Client(c, &tls.Config{ServerName: "x.test"}).Handshake()
	s.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := s.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	d := transcript.NewDecoder(transcript.Options{})
	now := time.Now()
	d.Data(transcript.Client, now, buf[:n])
	d.Data(transcript.Server, now, []byte{21, 3, 3, 0, 2, 2, 40})
	d.Close(transcript.Server, now, transcript.CloseFIN)
	return d.Transcript()
}

// TestRefusedWideButVersionAccepted: when the second look's wide hello is
// refused but a version offered alone is accepted, the server does not
// "refuse every ClientHello" (the words of a server that accepts nothing).
func TestRefusedWideButVersionAccepted(t *testing.T) {
	first, wide := refusedHello(t), refusedHello(t)
	for _, tc := range []struct {
		versions []VersionTry
		every    bool
	}{
		{[]VersionTry{{Version: 0x0304, AlertCode: 40}, {Version: 0x0303, AlertCode: 40}}, true},
		{[]VersionTry{{Version: 0x0304, AlertCode: 40}, {Version: 0x0303, Accepted: true}}, false},
	} {
		fs := Findings(Input{Target: "x:443", Transcript: first, HandshakeErr: errors.New("remote error: tls: handshake failure"),
			SecondLook: &SecondLook{Transcript: wide, Versions: tc.versions}})
		every := false
		for _, f := range fs {
			every = every || strings.Contains(f.Title, "refuses every ClientHello")
		}
		if every != tc.every {
			t.Errorf("versions %+v: 'refuses every ClientHello' %v, want %v: %+v", tc.versions, every, tc.every, fs)
		}
	}
}

// TestVersionsNotKnown: a version the second look could not offer alone
// (the connection was refused, the time ran out) or that went unanswered
// is neither accepted nor refused, and no conclusion rests on it. A server
// that refused the wide hello with handshake_failure and TLS 1.3 alone
// with protocol_version, its other versions not known, was called one that
// speaks none of TLS 1.0 to 1.3 (protocol.version-mismatch); it is a
// server that refuses every hello, and the detail says which versions are
// not known and why. Refused alone, all four, it is a version mismatch.
func TestVersionsNotKnown(t *testing.T) {
	first, wide := refusedHello(t), refusedHello(t)
	const why = "could not be offered alone (the second look could not connect: connection refused)"
	notKnown := []VersionTry{{Version: 0x0304, AlertCode: 70}, {Version: 0x0303, Unknown: why}, {Version: 0x0302, Unknown: why}, {Version: 0x0301, Unknown: why}}
	allRefused := []VersionTry{{Version: 0x0304, AlertCode: 70}, {Version: 0x0303, AlertCode: 70}, {Version: 0x0302, AlertCode: 70}, {Version: 0x0301, AlertCode: 70}}
	for _, tc := range []struct {
		name     string
		versions []VersionTry
		id       string
		says     []string
	}{
		{"not-known", notKnown, finding.ProtocolNoSharedCipher, []string{
			"refused TLS 1.3 with protocol_version.",
			"Whether the server speaks each version is not known: TLS 1.0, 1.1 and 1.2 " + why + "."}},
		{"all-refused", allRefused, finding.ProtocolVersionMismatch, []string{"the server speaks none of them"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &SecondLook{Transcript: wide, Versions: tc.versions}
			fs := Findings(Input{Target: "x:443", Transcript: first, HandshakeErr: errors.New("remote error: tls: handshake failure"), SecondLook: l})
			if len(fs) == 0 || fs[0].ID != tc.id {
				t.Fatalf("findings %+v, want %s first", fs, tc.id)
			}
			for _, s := range tc.says {
				if !strings.Contains(fs[0].Title+" "+fs[0].Detail, s) {
					t.Errorf("the finding does not say %q:\n%s\n%s", s, fs[0].Title, fs[0].Detail)
				}
			}
			sum := l.Summary()
			if tc.name == "not-known" {
				want := []UnknownVersion{{"TLS 1.2", why}, {"TLS 1.1", why}, {"TLS 1.0", why}}
				if !slices.Equal(sum.UnknownVersions, want) || !slices.Equal(sum.RefusedVersions, []string{"TLS 1.3"}) {
					t.Errorf("summary refused %v, not known %+v", sum.RefusedVersions, sum.UnknownVersions)
				}
			}
		})
	}
}

// TestVersionIntoleranceWords: a wide hello refused while a version the
// client offered is answered alone is protocol.version-intolerance, with
// the words of each kind (a version taken and not completed, with the key
// that explains it or not; a hello refused for offering more; one refused
// for offering less) and the setting that gets a client past it. A
// version answered alone that the client did not offer is a version
// mismatch, whose fix does not say no version was accepted.
func TestVersionIntoleranceWords(t *testing.T) {
	first, wide := refusedHello(t), refusedHello(t)
	for _, tc := range []struct {
		name     string
		versions []VersionTry
		id       string
		setting  string
		says     []string
	}{
		{"taken-small-key", []VersionTry{{Version: 0x0304, AlertCode: 40}, {Version: 0x0303, Accepted: true, Key: "RSA 512"}, {Version: 0x0302, Accepted: true}, {Version: 0x0301, Accepted: true}},
			finding.ProtocolVersionIntolerance, finding.SettingMaxVersion, []string{
				"offers TLS 1.3, though it speaks TLS 1.2",
				"Offered alone, it refused TLS 1.3 with handshake_failure, not protocol_version",
				"RSA 512 (as it sent it for TLS 1.2), is too small",
				"Replace the server's certificate"}},
		{"taken", []VersionTry{{Version: 0x0304, AlertCode: 80}, {Version: 0x0303, Accepted: true, Key: "ECDSA P-256"}},
			finding.ProtocolVersionIntolerance, finding.SettingMaxVersion, []string{
				"refused TLS 1.3 with internal_error",
				"the server's log says what failed",
				"Fix TLS 1.3 on the server, or disable it there"}},
		{"closes", []VersionTry{{Version: 0x0304}, {Version: 0x0303, Accepted: true}},
			finding.ProtocolVersionIntolerance, finding.SettingMaxVersion, []string{
				"version intolerance, in the server or a device in front of it",
				"a client limited to TLS 1.2 gets past the hello"}},
		{"refuses-lower", []VersionTry{{Version: 0x0304, Accepted: true}, {Version: 0x0303, AlertCode: 70}},
			finding.ProtocolVersionIntolerance, finding.SettingMinVersion, []string{
				"also offers TLS 1.2, though it answers TLS 1.3 offered alone",
				"minimum version is TLS 1.3"}},
		{"mismatch", []VersionTry{{Version: 0x0304, AlertCode: 70}, {Version: 0x0303, AlertCode: 70}, {Version: 0x0302, AlertCode: 70}, {Version: 0x0301, Accepted: true}},
			finding.ProtocolVersionMismatch, finding.SettingMinVersion, []string{"the server speaks TLS 1.0 only", "lower the client's minimum version to TLS 1.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := Findings(Input{Target: "x:443", Transcript: first, HandshakeErr: errors.New("remote error: tls: handshake failure"),
				SecondLook: &SecondLook{Transcript: wide, Versions: tc.versions}})
			if len(fs) == 0 || fs[0].ID != tc.id {
				t.Fatalf("findings %+v, want %s first", fs, tc.id)
			}
			f := fs[0]
			for _, s := range tc.says {
				if !strings.Contains(f.Title+" "+f.Detail+" "+f.Fix, s) {
					t.Errorf("the finding does not say %q:\n%s\n%s\n%s", s, f.Title, f.Detail, f.Fix)
				}
			}
			if f.Setting != tc.setting {
				t.Errorf("setting %q, want %q", f.Setting, tc.setting)
			}
			if strings.Contains(f.Fix, "accepted no version") {
				t.Errorf("the fix says no version was accepted: %s", f.Fix)
			}
		})
	}
}

// TestRefusedLargeHelloNoLook: with only the alert to go on (a capture, or
// no time for a second look), a refused hello that carries the hybrid
// post-quantum key share (Go's, here) gets no-shared-cipher's guess and
// the other usual suspect, its size; with a second look, the looks decide
// and the sentence is not added.
func TestRefusedLargeHelloNoLook(t *testing.T) {
	first := refusedHello(t)
	fs := Findings(Input{Target: "x:443", Transcript: first, HandshakeErr: errors.New("remote error: tls: handshake failure")})
	if len(fs) == 0 || fs[0].ID != finding.ProtocolNoSharedCipher {
		t.Fatalf("findings %+v", fs)
	}
	if !strings.Contains(fs[0].Title, "usually no cipher suite in common") || !strings.Contains(fs[0].Detail, "with a hybrid post-quantum key share (X25519MLKEM768)") {
		t.Errorf("title %q, detail %q", fs[0].Title, fs[0].Detail)
	}
	fs = Findings(Input{Target: "x:443", Transcript: first, HandshakeErr: errors.New("remote error: tls: handshake failure"),
		SecondLook: &SecondLook{Transcript: refusedHello(t)}})
	if len(fs) == 0 || strings.Contains(fs[0].Detail, "tldr.fail") {
		t.Errorf("with a second look: %+v", fs)
	}
}
