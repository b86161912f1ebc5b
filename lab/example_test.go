package lab_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/tlskit/tlskit/lab"
)

// ExampleStart starts the lab and prints how a client reaches one case.
func ExampleStart() {
	dir, err := os.MkdirTemp("", "tlskit-lab")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, err := lab.Start(context.Background(), lab.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	c, _ := l.Case("expired")
	fmt.Println(c.ServerName(), c.Finding, c.ExitCode)
	fmt.Println(c.Client.ServerName, c.Client.CAFile == l.Files().Root)
	// Output:
	// expired.lab.tlskit.test cert.expired 1
	// expired.lab.tlskit.test true
}

// ExampleCatalog lists the cases without starting the lab.
func ExampleCatalog() {
	for _, c := range lab.Catalog()[:4] {
		fmt.Printf("%-8s %-12s exit %d  %s\n", c.Name, c.Finding, c.ExitCode, c.Title)
	}
	// Output:
	// good                  exit 0  healthy TLS 1.3 server with a full chain
	// good-tls12              exit 0  healthy TLS 1.2 server with a full chain
	// refused  net.refused  exit 1  nothing listens on the port
	// timeout  net.timeout  exit 1  accepts the connection and never answers
}
