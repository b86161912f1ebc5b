package cli

import (
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/tlskit/tlskit/render"
)

// outputWidth returns the columns text output is wrapped to: $COLUMNS when
// it is a positive number, else the width of the terminal w is, else
// render.DefaultWidth (output to a file or a pipe).
func outputWidth(w io.Writer) int {
	if n, err := strconv.Atoi(strings.TrimSpace(os.Getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	if f, ok := w.(*os.File); ok {
		if n := terminalWidth(f); n > 0 {
			return n
		}
	}
	return render.DefaultWidth
}
