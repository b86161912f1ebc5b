package truststore_test

import (
	"fmt"
	"time"

	"github.com/tlskit/tlskit/truststore"
)

// ExampleDiscover audits an unpacked image, pinning the time for expiry.
func ExampleDiscover() {
	audit, err := truststore.Discover(truststore.Options{
		Root: "testdata/hash-vectors", // no trust locations at all
		Time: func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	existing := 0
	for _, l := range audit.Locations {
		if l.Exists {
			existing++
		}
	}
	fmt.Println(audit.Root, existing, len(audit.Findings))
	// Output: testdata/hash-vectors 0 0
}
