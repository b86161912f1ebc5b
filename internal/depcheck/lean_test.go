package depcheck

import (
	"slices"
	"strings"
	"testing"
)

// leanForbidden are the packages tlskit-exporter must not link, by import
// path or path prefix (a trailing "/..."): what the all-in-one tlskit links
// for its other commands. Issue #15: the exporter's memory is mostly the
// binary's own text and data, and these made tlskit's exporter larger than
// blackbox_exporter (gopacket's protocol tables alone are 5 MiB of
// pointerful globals the garbage collector scans).
var leanForbidden = []string{
	"github.com/gopacket/gopacket/...", // the fork go.mod requires
	"github.com/google/gopacket/...",   // and the original, should it come back
	"github.com/vbauerster/mpb/...",
	mod + "/capture/...",
	mod + "/render", // render/exporterconfig is allowed: it imports the exporter only
	mod + "/scan/...",
	mod + "/lab/...",
	mod + "/cmd/tlskit/...",
}

// forbidden returns the rule among rules that path breaks, "" if none.
func forbidden(path string, rules []string) string {
	for _, r := range rules {
		if base, tree := strings.CutSuffix(r, "/..."); tree {
			if path == base || strings.HasPrefix(path, base+"/") {
				return r
			}
		} else if path == r {
			return r
		}
	}
	return ""
}

// TestLeanExporter: `go list -deps ./cmd/tlskit-exporter` holds none of
// leanForbidden. The dependency list is the contract that keeps the binary
// small; its size is not asserted (it varies with the Go version).
func TestLeanExporter(t *testing.T) {
	root := moduleRoot(t)
	deps := strings.Fields(string(goList(t, root, "-deps", "./cmd/tlskit-exporter")))
	// The list is the real one: the exporter and its command are in it.
	for _, want := range []string{mod + "/exporter", mod + "/cmd/internal/exportercmd", mod + "/render/exporterconfig", mod + "/cmd/tlskit-exporter"} {
		if !slices.Contains(deps, want) {
			t.Errorf("go list -deps ./cmd/tlskit-exporter lacks %s: not the list of the exporter binary", want)
		}
	}
	for _, d := range deps {
		if r := forbidden(d, leanForbidden); r != "" {
			t.Errorf("tlskit-exporter links %s (forbidden: %s); find the import that brings it (go list -deps -f '{{.ImportPath}}: {{.Imports}}' ./cmd/tlskit-exporter) and keep the exporter's command off it", d, r)
		}
	}
}

// TestForbidden checks the matcher, and that it would catch what
// tlskit links: the rules are not vacuous.
func TestForbidden(t *testing.T) {
	for _, tc := range []struct {
		path, want string
	}{
		{"github.com/gopacket/gopacket", "github.com/gopacket/gopacket/..."},
		{"github.com/gopacket/gopacket/layers", "github.com/gopacket/gopacket/..."},
		{"github.com/google/gopacket/reassembly", "github.com/google/gopacket/..."},
		{"github.com/gopacket/gopacketx", ""},
		{mod + "/render", mod + "/render"},
		{mod + "/render/exporterconfig", ""},
		{mod + "/capture", mod + "/capture/..."},
		{mod + "/scan", mod + "/scan/..."},
		{"internal/runtime/gc/scan", ""},
		{mod + "/exporter", ""},
		{"github.com/vbauerster/mpb/v8/decor", "github.com/vbauerster/mpb/..."},
	} {
		if got := forbidden(tc.path, leanForbidden); got != tc.want {
			t.Errorf("forbidden(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

// TestLeanBase: what every command shares links no command's weight: not
// the exporter nor Prometheus' client, nor what the exporter binary may not
// link, so that another small binary could be built on it.
func TestLeanBase(t *testing.T) {
	root := moduleRoot(t)
	deps := strings.Fields(string(goList(t, root, "-deps", "./cmd/internal/base")))
	if !slices.Contains(deps, mod+"/cmd/internal/base") {
		t.Fatalf("go list -deps ./cmd/internal/base lacks the package itself: not its list")
	}
	rules := append([]string{mod + "/exporter", mod + "/cmd/internal/exportercmd", "github.com/prometheus/..."}, leanForbidden...)
	for _, d := range deps {
		if r := forbidden(d, rules); r != "" {
			t.Errorf("cmd/internal/base links %s (forbidden: %s); find the import that brings it (go list -deps -f '{{.ImportPath}}: {{.Imports}}' ./cmd/internal/base)", d, r)
		}
	}
}
