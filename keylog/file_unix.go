//go:build unix

package keylog

import (
	"io/fs"
	"os"
	"syscall"
)

// openNoFollow opens path for appending without following a symbolic link
// in its last component, and without blocking on a named pipe that has no
// reader. With create it creates the file, mode 0600, and fails if anything
// (a file, a link, even a dangling one) is already there.
func openNoFollow(path string, create bool) (*os.File, error) {
	flag := os.O_WRONLY | os.O_APPEND | syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	if create {
		flag |= os.O_CREATE | os.O_EXCL
	}
	return os.OpenFile(path, flag, 0o600)
}

// fileOwner returns the uid that owns the file.
func fileOwner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
