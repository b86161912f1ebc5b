package cli

import (
	"os"
	"syscall"
	"unsafe"
)

// terminalWidth returns the columns of the terminal f is, or 0 when f is
// not a terminal (the TIOCGWINSZ ioctl fails).
func terminalWidth(f *os.File) int {
	var ws struct{ Row, Col, X, Y uint16 }
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), uintptr(syscall.TIOCGWINSZ), uintptr(unsafe.Pointer(&ws))); errno != 0 {
		return 0
	}
	return int(ws.Col)
}
