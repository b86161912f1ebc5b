package trust_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/tlskit/tlskit/finding"
	"github.com/tlskit/tlskit/trust"
)

// ExamplePolicy_VerifyConnection trusts only a private CA: the system roots
// are not consulted because System is false.
func ExamplePolicy_VerifyConnection() {
	roots, err := trust.LoadCertificatesFile("testdata/badssl/test-set/ca-root.crt")
	if err != nil {
		fmt.Println(err)
		return
	}
	policy := &trust.Policy{Roots: roots, RootSources: []string{"ca-root.crt"}}
	cfg := &tls.Config{
		ServerName:         "badssl.com",
		InsecureSkipVerify: true, // replaced by VerifyConnection, not skipped
		VerifyConnection:   policy.VerifyConnection(nil),
	}
	_ = cfg // tls.Dial("tcp", "badssl.com:443", cfg)

	// The same policy, on a chain whose server forgot the intermediate.
	chain, _ := trust.LoadCertificatesFile("testdata/badssl/test-set/wildcard-incomplete-chain.pem")
	err = policy.Verify(chain, "badssl.com", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)).Err()
	var ve *trust.VerifyError
	if errors.As(err, &ve) && ve.ID == finding.ChainIncomplete {
		fmt.Println(ve.ID)
	}
	// Output: chain.incomplete
}
