package exporter

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/internal/peertest"
)

// TestLabelsAsOpenSSL: a certificate's labels read as OpenSSL prints the
// same certificate, the oracle: subject and issuer as `openssl x509
// -nameopt RFC2253,-esc_msb` (the certificate's own order, emailAddress
// and DC by name, a multi-valued RDN, escapes, UTF-8), serial as
// `-serial`, sha256 as `-fingerprint -sha256`. The certificate is made by
// openssl req and served by openssl s_server.
func TestLabelsAsOpenSSL(t *testing.T) {
	t.Parallel()
	cert, key := peertest.SelfSigned(t,
		`/DC=test/DC=example/C=DE/ST=Baden-Württemberg/O=Ü, Inc. "q" <x>;/OU=b+OU=a/CN=#lead \+plus\/slash\\back =eq /emailAddress=ops@example.test`,
		"DNS:localhost", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-utf8", "-multivalue-rdn")
	srv := peertest.OpenSSL(t, "-cert", cert, "-key", key)
	ex := serveConfig(t, []byte(`{"modules": {"m": {"trust": ["file:`+cert+`"], "server_name": "localhost"}}}`))

	out, err := exec.Command(peertest.Need(t, "openssl"), "x509", "-in", cert, "-noout", "-subject", "-issuer", "-serial",
		"-fingerprint", "-sha256", "-nameopt", "RFC2253,-esc_msb").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch strings.ToLower(k) {
		case "subject", "issuer", "serial":
			want[strings.ToLower(k)] = v
		case "sha256 fingerprint":
			want["sha256"] = v
		}
	}
	if len(want) != 4 {
		t.Fatalf("openssl printed %q", out)
	}

	ss := scrape(t, ex.URL+"/probe?module=m&target="+srv.Addr)
	for _, chain := range []string{"sent", "verified"} {
		got := find(ss, MetricNotAfter, map[string]string{"chain": chain, "position": "0"})
		if len(got) != 1 {
			t.Fatalf("%d series of the %s leaf", len(got), chain)
		}
		for k, v := range want {
			if got[0].labels[k] != v {
				t.Errorf("%s leaf: %s=%q, openssl says %q", chain, k, got[0].labels[k], v)
			}
		}
	}
}
