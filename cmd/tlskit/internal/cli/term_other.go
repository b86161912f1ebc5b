//go:build !linux

package cli

import "os"

// terminalWidth is 0 where tlskit does not ask the terminal: text is then
// wrapped to $COLUMNS or the default width.
func terminalWidth(*os.File) int { return 0 }
