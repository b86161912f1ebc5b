package trust

import (
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlskit/tlskit/internal/peertest"
)

// opensslLimbo are the limbo classes run through `openssl verify` too: the
// CRL cases (-crl_check with the case's CRLs) and those on path length and
// depth, where a second implementation's verdict is worth having next to
// the suite's.
var opensslLimbo = []string{"crl::", "pathlen::", "rfc5280::nc::", "pathological::intermediate-cycle"}

// opensslDisagrees lists the cases of those classes where OpenSSL 3.0's
// verdict differs from the suite's expected result (tlskit meets the
// suite's in every one: TestLimbo asserts that, and this test again). The
// test fails when OpenSSL's verdict changes, so the list stays true.
var opensslDisagrees = map[string]string{
	"crl::crlnumber-missing":                       "accepts a CRL without a CRL number",
	"pathlen::validation-ignores-pathlen-in-leaf":  "applies pathlen to a CA certificate in the leaf position",
	"pathlen::max-chain-depth-1-self-issued":       "counts a self-issued certificate against -verify_depth",
	"rfc5280::nc::permitted-dns-match-noncritical": "does not require name constraints to be critical",
	"rfc5280::nc::invalid-dnsname-leading-period":  "takes a leading period in a DNS constraint",
	"rfc5280::nc::not-allowed-in-ee-noncritical":   "ignores name constraints in a leaf",
	"rfc5280::nc::not-allowed-in-ee-critical":      "ignores name constraints in a leaf",
	"rfc5280::nc::nc-permits-invalid-dns-san":      "checks a malformed SAN (.example.com) as a name",
	"rfc5280::nc::nc-forbids-alternate-chain-ica":  "does not backtrack to the other intermediate",
	"rfc5280::nc::nc-forbids-same-chain-ica":       "does not backtrack to the other intermediate",
	"rfc5280::nc::nc-forbids-dnsname-wildcard-san": "takes *.example.com under an excluded bar.example.com",
}

// TestLimboWithOpenSSL runs limbo cases through `openssl verify` (a real
// peer) and tlskit, and shows each where they part: tlskit must meet the
// suite's expectation, and OpenSSL's disagreements are listed.
func TestLimboWithOpenSSL(t *testing.T) {
	peertest.Need(t, "openssl")
	dir := t.TempDir()
	n := 0
	var disagree []string
	for _, tc := range loadLimbo(t) {
		if !hasAnyPrefix(tc.ID, opensslLimbo) || tc.ValidationKind != "SERVER" {
			continue
		}
		n++
		name := strings.NewReplacer(":", "_", "/", "_").Replace(tc.ID)
		write := func(suffix string, pems []string) string {
			p := filepath.Join(dir, name+suffix)
			if err := os.WriteFile(p, []byte(strings.Join(pems, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}
		args := []string{"verify", "-purpose", "sslserver", "-CAfile", write("-roots.pem", tc.TrustedCerts)}
		r := tc.prepare()
		if r.err != nil {
			continue
		}
		args = append(args, "-attime", fmt.Sprint(r.req.Time.Unix()))
		if len(tc.Intermediates) > 0 {
			args = append(args, "-untrusted", write("-inters.pem", tc.Intermediates))
		}
		if len(tc.CRLs) > 0 {
			args = append(args, "-crl_check", "-CRLfile", write("-crls.pem", tc.CRLs))
		}
		if d := tc.MaxChainDepth; d != nil {
			args = append(args, "-verify_depth", fmt.Sprint(*d))
		}
		if n := tc.ExpectedPeerName; n != nil {
			if n.Kind == "IP" {
				args = append(args, "-verify_ip", n.Value)
			} else {
				args = append(args, "-verify_hostname", n.Value)
			}
		}
		leaf := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pemDER(tc.Peer)})
		out, err := exec.Command("openssl", append(args, write("-leaf.pem", []string{string(leaf)}))...).CombinedOutput()
		opensslOK := err == nil
		ours, _ := r.trusted()
		want := tc.ExpectedResult == "SUCCESS"
		if ours != want {
			t.Errorf("%s: tlskit trusted=%v, the suite expects %s", tc.ID, ours, tc.ExpectedResult)
		}
		if opensslOK != want {
			disagree = append(disagree, tc.ID)
			if opensslDisagrees[tc.ID] == "" {
				t.Errorf("%s: openssl verify says %v, the suite expects %s; if that is OpenSSL's known behaviour, list it in opensslDisagrees\n%s", tc.ID, opensslOK, tc.ExpectedResult, out)
			}
		} else if opensslDisagrees[tc.ID] != "" {
			t.Errorf("%s: listed in opensslDisagrees, but openssl verify now meets the suite's expectation", tc.ID)
		}
	}
	t.Logf("%d limbo cases through openssl verify; OpenSSL differs from the suite on %d: %v (tlskit on none)", n, len(disagree), disagree)
	if n < 60 {
		t.Errorf("only %d cases ran", n)
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
