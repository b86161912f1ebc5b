package keylog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// File is a key log file that tlskit appends secrets to. It is opened
// lazily, on the first Write, so that a run with no secrets to write (the
// connection failed before any key was derived) leaves no file behind.
//
// The file is never reached through a symbolic link (O_NOFOLLOW on its last
// component, and O_EXCL when creating it), must be a regular file owned by
// the user tlskit runs as, and must not be readable or writable by anyone
// else (mode 0600 or stricter): a file that is, is refused rather than
// changed, since its mode is its owner's choice and secrets appended to it
// would leak. A file tlskit creates gets mode 0600. Named pipes, devices
// and sockets are refused too (/dev/stderr included): the secrets decrypt
// the traffic, and tlskit cannot tell who reads them there.
//
// A File is safe for concurrent use.
type File struct {
	path string

	mu      sync.Mutex
	f       *os.File
	created bool
	written int64
	err     error
}

// FileError is a key log path tlskit refuses to write to, with the reason
// and a hint to fix it.
type FileError struct {
	// Path is the key log path as given.
	Path string
	// Reason says what is wrong with it.
	Reason string
	// Err is the underlying error, if any.
	Err error

	hint string // what to do instead
}

// Hint says what to do instead, in words that name no command-line flag.
func (e *FileError) Hint() string { return e.hint }

// Error implements error.
func (e *FileError) Error() string {
	s := fmt.Sprintf("keylog: %s: %s", e.Path, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

// OpenFile checks that path may receive key log secrets and returns a File
// that opens it at the first Write. Checking now reports a bad path before
// any connection is made; the checks are made again on the opened file
// descriptor, so that a path swapped in between is still refused.
//
// An existing path must be a regular file owned by the current user with
// no permissions for group or others; a missing one must have an existing
// parent directory. Nothing is created or changed here.
func OpenFile(path string) (*File, error) {
	if path == "" {
		return nil, &FileError{Path: path, Reason: "empty path", hint: "name a file, e.g. keys.log"}
	}
	fi, err := os.Lstat(path)
	switch {
	case err == nil:
		if err := checkExisting(path, fi); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(path)
		if di, err := os.Stat(dir); err != nil || !di.IsDir() {
			return nil, &FileError{Path: path, Reason: fmt.Sprintf("the directory %s does not exist", dir), hint: "create the directory first, or name a file in an existing one"}
		}
	default:
		return nil, &FileError{Path: path, Reason: "cannot inspect it", Err: err, hint: "name a file you can write"}
	}
	return &File{path: path}, nil
}

// checkExisting refuses an existing key log path that is not a private
// regular file of the current user.
func checkExisting(path string, fi fs.FileInfo) error {
	mode := fi.Mode()
	switch {
	case mode&fs.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return &FileError{Path: path, Reason: fmt.Sprintf("it is a symbolic link (to %s); tlskit never writes secrets through a link, which whoever planted it could point anywhere", target),
			hint: "name the real file, or a new file in a directory only you can write to"}
	case !mode.IsRegular():
		return &FileError{Path: path, Reason: fmt.Sprintf("it is not a regular file but a %s; tlskit writes secrets only to a regular file", kind(mode)),
			hint: "name a new file, e.g. keys.log, and read it from there"}
	}
	if uid, ok := fileOwner(fi); ok && uid != os.Geteuid() {
		return &FileError{Path: path, Reason: fmt.Sprintf("it is owned by uid %d, not by you (uid %d); tlskit does not append secrets to another user's file", uid, os.Geteuid()),
			hint: "name a new file of your own"}
	}
	if perm := mode.Perm(); perm&0o077 != 0 {
		return &FileError{Path: path, Reason: fmt.Sprintf("its mode %04o lets others read or write it; tlskit does not change the mode of a file it did not create, and will not put secrets in it", perm),
			hint: fmt.Sprintf("restrict it yourself (chmod 600 %s) or name a new file, which tlskit creates with mode 0600", path)}
	}
	return nil
}

// kind names a file type for messages.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m.IsDir():
		return "directory"
	}
	return "special file"
}

// Write appends p to the file, opening (or creating, with mode 0600) it on
// the first call. After a failure every later Write fails the same way.
func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	if f.f == nil {
		if len(p) == 0 {
			return 0, nil
		}
		if f.err = f.open(); f.err != nil {
			return 0, f.err
		}
	}
	n, err := f.f.Write(p)
	f.written += int64(n)
	if err != nil {
		f.err = &FileError{Path: f.path, Reason: "writing failed", Err: err, hint: "check the disk"}
		return n, f.err
	}
	return n, nil
}

// open opens the existing file without following a link, or creates it
// exclusively, and checks what it opened.
func (f *File) open() error {
	for range 3 {
		fd, err := openNoFollow(f.path, false)
		if errors.Is(err, fs.ErrNotExist) {
			fd, err = openNoFollow(f.path, true)
			if errors.Is(err, fs.ErrExist) {
				continue // created (or linked) by someone else in between: look again
			}
			if err == nil {
				f.f, f.created = fd, true
				return nil
			}
		}
		if err != nil {
			if fi, lerr := os.Lstat(f.path); lerr == nil {
				if cerr := checkExisting(f.path, fi); cerr != nil {
					return cerr
				}
			}
			return &FileError{Path: f.path, Reason: "cannot open it", Err: err, hint: "name a file you can write"}
		}
		fi, err := fd.Stat()
		if err == nil {
			err = checkExisting(f.path, fi)
		}
		if err != nil {
			fd.Close()
			return err
		}
		f.f = fd
		return nil
	}
	return &FileError{Path: f.path, Reason: "it keeps appearing and disappearing while tlskit opens it", hint: "name a file in a directory only you can write to"}
}

// Close closes the file if it was opened. It returns the first write error,
// if any, so that a caller learns the secrets were not all saved.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f != nil {
		if err := f.f.Close(); err != nil && f.err == nil {
			f.err = &FileError{Path: f.path, Reason: "closing failed", Err: err}
		}
		f.f = nil
	}
	return f.err
}

// Path returns the path given to [OpenFile].
func (f *File) Path() string { return f.path }

// Written returns the number of bytes written so far.
func (f *File) Written() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.written
}

// Created reports whether tlskit created the file (rather than appending to
// an existing one).
func (f *File) Created() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.created
}

// Err returns the error that stopped writing, if any.
func (f *File) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
