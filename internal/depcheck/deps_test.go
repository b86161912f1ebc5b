// Package depcheck enforces the one-way flow of data described in
// ARCHITECTURE.md: bytes → facts → findings → views → process. A package
// may import only the in-module packages listed for it here, and library
// packages may not import the CLI or flag parsing.
package depcheck

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const mod = "github.com/tlskit/tlskit"

// allowed lists, for each package, the in-module packages it may import
// (directly or not). A package missing here fails the test: add it
// deliberately, with its place in the flow.
var allowed = map[string][]string{
	"finding":                 {},
	"internal/wire":           {},
	"internal/keysched":       {"internal/wire"},
	"keylog":                  {},
	"starttls":                {},                        // the bytes layer: probe, capture and tunnel speak it
	"trust":                   {"finding", "truststore"}, // truststore owns the search paths
	"truststore":              {"finding"},
	"transcript":              {"internal/wire", "internal/keysched", "keylog"},
	"diagnose":                {"finding", "internal/wire", "internal/keysched", "keylog", "transcript", "trust", "truststore", "starttls"},
	"probe":                   {"finding", "internal/wire", "internal/keysched", "keylog", "transcript", "trust", "truststore", "starttls", "diagnose"},
	"capture":                 {"finding", "internal/wire", "internal/keysched", "keylog", "transcript", "trust", "truststore", "starttls", "diagnose"},
	"render":                  {"finding", "internal/wire", "internal/keysched", "keylog", "transcript", "trust", "truststore", "diagnose", "starttls", "capture"},
	"lab":                     {"finding"},
	"tunnel":                  {"finding", "trust", "truststore", "starttls"}, // finding ids of refused peers; starttls for in-band upgrades
	"":                        {"finding", "trust", "truststore", "keylog"},   // the public tlskit package
	"internal/peertest":       {},
	"internal/servertest":     {"finding", "lab"}, // real servers for tests, certificates from the lab PKI
	"internal/depcheck":       {},
	"cmd/tlskit/internal/cli": {"*"},
	"cmd/tlskit":              {"*"},
	"bench/tunnelbench":       {"*"}, // a load generator, not part of the product
}

type pkg struct {
	ImportPath string
	Deps       []string
	Imports    []string
}

func TestDependencyFlow(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", mod+"/...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")
		rule, ok := allowed[name]
		if !ok {
			t.Errorf("package %q has no place in the dependency rules; add it to allowed with what it may import", name)
			continue
		}
		if slices.Contains(rule, "*") {
			continue
		}
		for _, d := range p.Imports {
			// Direct imports only: gopacket's reassembly registers flags of
			// its own, which no tlskit code parses. peertest imports testing.
			if (d == "flag" && name != "internal/peertest") || strings.HasPrefix(d, "github.com/spf13/") {
				t.Errorf("library package %q imports %s: only cmd/tlskit/internal/cli parses flags", name, d)
			}
		}
		for _, d := range p.Deps {
			if !strings.HasPrefix(d, mod) || d == p.ImportPath {
				continue
			}
			dep := strings.TrimPrefix(strings.TrimPrefix(d, mod), "/")
			if !slices.Contains(rule, dep) {
				t.Errorf("%q imports %q, against the flow in ARCHITECTURE.md", name, dep)
			}
		}
	}
}
