package tlskit_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/tlskit/tlskit"
	"github.com/tlskit/tlskit/lab"
)

// ExampleDial trusts only the lab's CA and dials two lab servers: a
// healthy one, and one whose certificate has expired, refused with the
// finding id `tlskit check` would print.
func ExampleDial() {
	dir, err := os.MkdirTemp("", "tlskit-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, err := lab.Start(context.Background(), lab.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	for _, name := range []string{"good", "expired"} {
		c, _ := l.Case(name)
		p := &tlskit.Policy{
			Trust:      []string{"file:" + l.Files().Root}, // this CA only, not the system roots
			ServerName: c.ServerName(),
		}
		conn, err := tlskit.Dial("tcp", c.Addr, p)
		var ve *tlskit.VerifyError
		switch {
		case errors.As(err, &ve):
			fmt.Printf("%s: refused: %s\n", name, ve.ID)
		case err != nil:
			fmt.Printf("%s: %v\n", name, err)
		default:
			fmt.Printf("%s: verified\n", name)
			conn.Close()
		}
	}
	// Output:
	// good: verified
	// expired: refused: cert.expired
}

// ExampleParsePolicy shows that a misspelt key is an error, not a policy
// silently weaker than intended.
func ExampleParsePolicy() {
	_, err := tlskit.ParsePolicy("policy.json", []byte(`{
  "version": 1,
  "trust": ["system"],
  "pin": {"keys": ["sha256/…"]}
}`))
	fmt.Println(err)
	// Output:
	// policy.json:4: unknown key "pin" (a misspelt key could weaken the policy; the keys are version, trust, pins (keys, expires, allow_single), max_intermediates, profile, cert_policies (acceptable, require_explicit, inhibit_mapping, inhibit_any), crl, fetch, names, server_name, cert, key, alpn, min_tls, max_tls, legacy, clients (require, trust, allow))
}

// ExamplePolicy_ClientConfig shows that an empty trust set is refused
// rather than replaced by the system roots.
func ExamplePolicy_ClientConfig() {
	p := &tlskit.Policy{ServerName: "api.internal"}
	_, err := p.ClientConfig("")
	fmt.Println(err)
	// Output:
	// trust: no trust sources: an empty set trusts nothing; list "system" for the system roots, or your CA with "file:PATH"
}
