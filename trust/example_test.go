package trust_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/trust"
	"github.com/tlskit/tlskit/truststore"
)

// ExampleVerifier_VerifyServer trusts only a private CA: the system roots
// are not consulted because the anchors do not list "system".
func ExampleVerifier_VerifyServer() {
	roots, err := truststore.ReadCertificatesFile("testdata/badssl/test-set/ca-root.crt")
	if err != nil {
		fmt.Println(err)
		return
	}
	policy := &trust.Verifier{Anchors: trust.NewAnchors("ca-root.crt", roots...)}
	verify, err := policy.VerifyServer("badssl.com", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := &tls.Config{
		ServerName:         "badssl.com",
		InsecureSkipVerify: true, // replaced by VerifyConnection, not skipped
		VerifyConnection:   verify,
	}
	_ = cfg // tls.Dial("tcp", "badssl.com:443", cfg)

	// The same policy, on a chain whose server forgot the intermediate.
	chain, _ := truststore.ReadCertificatesFile("testdata/badssl/test-set/wildcard-incomplete-chain.pem")
	err = policy.Verify(chain, "badssl.com", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)).Err()
	var ve *trust.VerifyError
	if errors.As(err, &ve) && ve.ID == finding.ChainIncomplete {
		fmt.Println(ve.ID)
	}
	// Output: chain.incomplete
}
