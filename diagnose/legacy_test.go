package diagnose

import (
	"strings"
	"testing"

	"github.com/tlskit/tlskit/internal/wire"
)

// TestLegacySuite: what makes a suite legacy, from the RFCs that retired it
// (RFC 7465 RC4, RFC 8996/9325 on CBC and static RSA, SWEET32 CVE-2016-2183).
func TestLegacySuite(t *testing.T) {
	for _, tc := range []struct {
		id   wire.CipherSuite
		want []string // phrases the reason must contain; none: not legacy
	}{
		{0xc02b, nil}, // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
		{0xcca8, nil}, // TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
		{0x009e, nil}, // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
		{0xccac, nil}, // TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
		{0x009c, []string{"no forward secrecy", "RSA key exchange"}},        // TLS_RSA_WITH_AES_128_GCM_SHA256
		{0x00a8, []string{"no forward secrecy", "PSK key exchange"}},        // TLS_PSK_WITH_AES_128_GCM_SHA256
		{0xc009, []string{"AES-CBC with MAC-then-encrypt"}},                 // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
		{0x002f, []string{"no forward secrecy", "AES-CBC"}},                 // TLS_RSA_WITH_AES_128_CBC_SHA
		{0x000a, []string{"no forward secrecy", "3DES-EDE-CBC", "SWEET32"}}, // TLS_RSA_WITH_3DES_EDE_CBC_SHA
		{0xc011, []string{"RC4", "RFC 7465"}},                               // TLS_ECDHE_RSA_WITH_RC4_128_SHA
		{0x0034, []string{"authenticates nobody"}},                          // TLS_DH_anon_WITH_AES_128_CBC_SHA
		{0x0002, []string{"does not encrypt"}},                              // TLS_RSA_WITH_NULL_SHA
		{0x0003, []string{"export-grade 40-bit"}},                           // TLS_RSA_EXPORT_WITH_RC4_40_MD5
	} {
		s, ok := tc.id.Info()
		if !ok {
			t.Fatalf("%#04x not in the table", uint16(tc.id))
		}
		got := legacySuite(s)
		if (got == "") != (len(tc.want) == 0) {
			t.Errorf("%s: %q, want legacy=%v", s.Name, got, len(tc.want) > 0)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", s.Name, got, w)
			}
		}
	}
}
