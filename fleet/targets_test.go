package fleet

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadTargets(t *testing.T) {
	in := "# a comment\n" +
		"example.com\n" +
		"  \n" +
		"example.org:8443 www.example.org\r\n" +
		"10.0.0.7:6380\tredis.internal\n" +
		"[2001:db8::1]:443 - \n" +
		"https://api.example.net/health\n" +
		"mail.example.com:25 - SMTP\n" +
		"2001:db8::2"
	got, err := ReadTargets(strings.NewReader(in), "t.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{
		{Address: "example.com:443", Source: "t.txt:2"},
		{Address: "example.org:8443", ServerName: "www.example.org", Source: "t.txt:4"},
		{Address: "10.0.0.7:6380", ServerName: "redis.internal", Source: "t.txt:5"},
		{Address: "[2001:db8::1]:443", Source: "t.txt:6"},
		{Address: "api.example.net:443", Source: "t.txt:7"},
		{Address: "mail.example.com:25", StartTLS: "smtp", Source: "t.txt:8"},
		{Address: "[2001:db8::2]:443", Source: "t.txt:9"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadTargets (-want +got):\n%s", diff)
	}
	if err := Validate(got); err != nil {
		t.Errorf("Validate = %v", err)
	}
}

// TestReadTargetsPort: a target without a port is on the port of the
// protocol its STARTTLS column names, 443 with none, and otherwise on the
// run's default (--starttls smtp: 25); a port given is kept.
func TestReadTargetsPort(t *testing.T) {
	in := "mx.example.com\n" +
		"imap.example.com - imap\n" +
		"db.example.com - postgresql\n" +
		"www.example.com - none\n" +
		"submit.example.com:587 - smtp\n" +
		"https://api.example.net/\n" +
		"odd.example.com - gopher\n"
	got, err := ReadTargetsPort(strings.NewReader(in), "t.txt", 25)
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{
		{Address: "mx.example.com:25", Source: "t.txt:1"},
		{Address: "imap.example.com:143", StartTLS: "imap", Source: "t.txt:2"},
		{Address: "db.example.com:5432", StartTLS: "postgresql", Source: "t.txt:3"},
		{Address: "www.example.com:443", StartTLS: "none", Source: "t.txt:4"},
		{Address: "submit.example.com:587", StartTLS: "smtp", Source: "t.txt:5"},
		{Address: "api.example.net:443", Source: "t.txt:6"},
		{Address: "odd.example.com:25", StartTLS: "gopher", Source: "t.txt:7"}, // Validate refuses it
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadTargetsPort (-want +got):\n%s", diff)
	}
	if tg, err := ParseTargetPort("mail.example.com", "argument 1", 25); err != nil || tg.Address != "mail.example.com:25" {
		t.Errorf("ParseTargetPort = %+v, %v", tg, err)
	}
}

func TestReadTargetsErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"example.com:http\n", `fleet: f:1: probe: the port must be a number from 1 to 65535, got "http"`},
		{"ok.example\na b c d\n", "fleet: f:2: want HOST[:PORT] [SERVERNAME|-] [STARTTLS], got 4 fields"},
		{"example.com x/y\n", `fleet: f:1: "x/y" is not a server name`},
		{"example.com - sm\x01tp\n", "fleet: f:1: the line has control characters or is not UTF-8"},
		{"example.com - smtp!\n", `fleet: f:1: "smtp!" is not a STARTTLS protocol name`},
		{"\xff\xfe\n", "fleet: f:1: the line has control characters or is not UTF-8"},
		{strings.Repeat("a", MaxLineLength+1) + "\n", "fleet: f:1: the line is longer than 4096 bytes"},
		{"x\n" + strings.Repeat("a", 100000), "fleet: f:2: the line is longer than 4096 bytes"},
	}
	for _, tc := range tests {
		_, err := ReadTargets(strings.NewReader(tc.in), "f")
		if err == nil || err.Error() != tc.want {
			t.Errorf("ReadTargets(%.40q) = %v, want %s", tc.in, err, tc.want)
		}
	}
}

// FuzzReadTargets: any input is a list of targets or a TargetError, never
// a panic; every target read is a valid address.
func FuzzReadTargets(f *testing.F) {
	for _, s := range []string{
		"example.com\n", "example.org:8443 www.example.org\n", "[::1]:443 - smtp\n",
		"# c\n\n10.0.0.1\tname\r\n", "https://x.example/p?q#f", "a b c d", "\xff", "host:0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ts, err := ReadTargets(strings.NewReader(in), "fuzz")
		if err != nil {
			var te *TargetError
			if !errors.As(err, &te) {
				t.Fatalf("error %v is not a TargetError", err)
			}
			return
		}
		for _, tg := range ts {
			if _, err := ParseTarget(tg.Address, "again"); err != nil {
				t.Fatalf("target %q read from %q does not parse again: %v", tg.Address, in, err)
			}
		}
	})
}
