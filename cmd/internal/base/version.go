package base

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the line `tlskit version` prints, for the program prog: its
// name, the module version ("(devel)" when built from a work tree), the
// Go version and the platform.
func Version(prog string) string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	return fmt.Sprintf("%s %s (%s, %s/%s)", prog, v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
