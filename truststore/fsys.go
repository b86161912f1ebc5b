package truststore

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Limits that keep an audit of a hostile or broken tree bounded.
const (
	// maxFileSize is the largest trust-store file read; the biggest real
	// bundles are under 1 MiB.
	maxFileSize = 16 << 20
	// maxLinkHops is how many symlinks one path may traverse (Linux's
	// MAXSYMLINKS is 40).
	maxLinkHops = 40
	// maxDirEntries caps how many entries of one directory are examined.
	maxDirEntries = 100000
)

// resolveKind classifies why a path could not be resolved.
type resolveKind int

const (
	resolveMissing resolveKind = iota + 1 // ENOENT somewhere on the way: a dangling link
	resolveLoop                           // too many symlinks: a loop
	resolveOther                          // permission denied, ENOTDIR, I/O errors
)

// resolveError says why a virtual path could not be resolved inside the root.
type resolveError struct {
	kind resolveKind
	path string // the virtual path that was asked for
	err  error
}

func (e *resolveError) Error() string {
	switch e.kind {
	case resolveMissing:
		return e.path + " does not exist"
	case resolveLoop:
		return fmt.Sprintf("%s: more than %d symlinks followed (a symlink loop)", e.path, maxLinkHops)
	}
	return fmt.Sprintf("%s: %v", e.path, e.err)
}

func (e *resolveError) Unwrap() error { return e.err }

// lstatResult is one memoised lstat (plus readlink for a symlink).
type lstatResult struct {
	info   fs.FileInfo
	target string
	err    error
}

// rootFS resolves virtual absolute paths inside a root directory the way a
// chroot would: absolute symlink targets restart at the root and ".." never
// climbs above it. It memoises lstat and readlink for one audit.
type rootFS struct {
	root string // host directory standing for "/"
	memo map[string]lstatResult
}

func newRootFS(root string) *rootFS {
	if root == "" {
		root = "/"
	}
	return &rootFS{root: filepath.Clean(root), memo: make(map[string]lstatResult)}
}

// host turns a resolved virtual path into a host path.
func (r *rootFS) host(vpath string) string {
	if r.root == "/" {
		return vpath
	}
	return filepath.Join(r.root, filepath.FromSlash(vpath))
}

func (r *rootFS) lstat(vpath string) lstatResult {
	if res, ok := r.memo[vpath]; ok {
		return res
	}
	var res lstatResult
	res.info, res.err = os.Lstat(r.host(vpath))
	if res.err == nil && res.info.Mode()&fs.ModeSymlink != 0 {
		res.target, res.err = os.Readlink(r.host(vpath))
	}
	r.memo[vpath] = res
	return res
}

// resolve follows every symlink in vpath inside the root and returns the
// resolved virtual path and the (non-symlink) file info of what it names.
func (r *rootFS) resolve(vpath string) (string, fs.FileInfo, error) {
	todo := splitPath(vpath)
	var cur []string
	hops := 0
	var info fs.FileInfo
	if len(todo) == 0 {
		res := r.lstat("/")
		if res.err != nil {
			return "", nil, &resolveError{kind: resolveOther, path: vpath, err: res.err}
		}
		return "/", res.info, nil
	}
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) > 0 {
				cur = cur[:len(cur)-1]
			}
			info = nil
			continue
		}
		p := "/" + path.Join(append(slices.Clone(cur), c)...)
		res := r.lstat(p)
		if res.err != nil {
			kind := resolveOther
			if errors.Is(res.err, fs.ErrNotExist) {
				kind = resolveMissing
			}
			return "", nil, &resolveError{kind: kind, path: vpath, err: res.err}
		}
		if res.info.Mode()&fs.ModeSymlink != 0 {
			hops++
			if hops > maxLinkHops {
				return "", nil, &resolveError{kind: resolveLoop, path: vpath}
			}
			if strings.HasPrefix(res.target, "/") {
				cur = cur[:0]
			}
			todo = append(splitPath(res.target), todo...)
			continue
		}
		if len(todo) > 0 && !res.info.IsDir() {
			// ENOTDIR; count it as missing, as stat(2) callers see it.
			return "", nil, &resolveError{kind: resolveMissing, path: vpath, err: fmt.Errorf("%s is not a directory", p)}
		}
		cur = append(cur, c)
		info = res.info
	}
	if info == nil { // the path ended in ".." or resolved to "/"
		p := "/" + path.Join(cur...)
		res := r.lstat(p)
		if res.err != nil {
			return "", nil, &resolveError{kind: resolveOther, path: vpath, err: res.err}
		}
		return p, res.info, nil
	}
	return "/" + path.Join(cur...), info, nil
}

func splitPath(p string) []string {
	return strings.Split(filepath.ToSlash(p), "/")
}

// readRegular reads a resolved regular file, at most maxFileSize bytes. It
// opens with O_NONBLOCK and re-checks the type, so a FIFO swapped in after
// the lstat can never block the audit.
func (r *rootFS) readRegular(vpath string) ([]byte, error) {
	f, err := os.OpenFile(r.host(vpath), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is a %s, not a regular file", vpath, describeMode(st.Mode()))
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("%s is %d bytes, over the %d MiB limit for a trust-store file", vpath, st.Size(), maxFileSize>>20)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s grew past the %d MiB limit while being read", vpath, maxFileSize>>20)
	}
	return data, nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	case m.IsDir():
		return "directory"
	}
	return "special file"
}

// fileState says what came of opening one trust-store path.
type fileState int

const (
	fileMissing    fileState = iota + 1 // the path itself does not exist
	fileBroken                          // a symlink on the way dangles or loops
	fileUnreadable                      // exists but cannot be read (special file, too big, EACCES)
	fileDir                             // a directory
	fileRead                            // read; certs and parseErr say what it held
)

// file is one trust-store file as the audit saw it.
type file struct {
	path     string // virtual path as asked
	resolved string // virtual path after symlinks ("" unless state >= fileUnreadable)
	isLink   bool   // path itself is a symlink
	target   string // the link's target as written
	state    fileState
	loop     bool   // state is fileBroken because of a symlink loop
	problem  string // why state is not fileRead
	content  *content
}

// content is what a resolved file held, shared by every path leading to it.
type content struct {
	certs   []*x509.Certificate
	skipped []string
	noCerts string // why the file holds no certificate; "" when it holds some
}

// dir is one directory listing.
type dir struct {
	path     string
	resolved string
	exists   bool
	problem  string
	names    []string
}
