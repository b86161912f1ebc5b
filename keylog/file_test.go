//go:build unix

package keylog

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tlskit/tlskit/internal/peertest"
)

const line = "CLIENT_RANDOM 0101010101010101010101010101010101010101010101010101010101010101 020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202\n"

// TestFileRefuses: every path a key log must never be written to is
// refused, by OpenFile up front and again by the lazy open at the first
// Write when the path is swapped in between, and nothing is created or
// changed.
func TestFileRefuses(t *testing.T) {
	otherUID := 65534 // nobody
	cases := []struct {
		name  string
		setup func(t *testing.T, dir, path string)
		want  string // in the error
	}{
		{"symlink to my own private file", func(t *testing.T, dir, path string) {
			target := filepath.Join(dir, "victim")
			must(t, os.WriteFile(target, []byte("precious\n"), 0o600))
			must(t, os.Symlink(target, path))
		}, "symbolic link"},
		{"symlink to a world-readable file", func(t *testing.T, dir, path string) {
			target := filepath.Join(dir, "victim")
			must(t, os.WriteFile(target, []byte("precious\n"), 0o644))
			must(t, os.Chmod(target, 0o644))
			must(t, os.Symlink(target, path))
		}, "symbolic link"},
		{"dangling symlink", func(t *testing.T, dir, path string) {
			must(t, os.Symlink(filepath.Join(dir, "planted"), path))
		}, "symbolic link"},
		{"named pipe", func(t *testing.T, dir, path string) {
			must(t, syscall.Mkfifo(path, 0o600))
		}, "named pipe (FIFO)"},
		{"named pipe with a reader", func(t *testing.T, dir, path string) {
			must(t, syscall.Mkfifo(path, 0o600))
			r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
			must(t, err)
			t.Cleanup(func() { r.Close() })
		}, "named pipe (FIFO)"},
		{"directory", func(t *testing.T, dir, path string) {
			must(t, os.Mkdir(path, 0o700))
		}, "directory"},
		{"group-readable file", func(t *testing.T, dir, path string) {
			must(t, os.WriteFile(path, []byte("# mine\n"), 0o640))
			must(t, os.Chmod(path, 0o640))
		}, "mode 0640"},
		{"world-readable file", func(t *testing.T, dir, path string) {
			must(t, os.WriteFile(path, []byte("# mine\n"), 0o644))
			must(t, os.Chmod(path, 0o644))
		}, "mode 0644"},
		{"another user's file", func(t *testing.T, dir, path string) {
			if os.Geteuid() != 0 {
				// Only root can give a file to another user; CI runs as root.
				peertest.Skip(t, "giving a file to another user needs root")
			}
			must(t, os.WriteFile(path, []byte("# theirs\n"), 0o600))
			must(t, os.Chown(path, otherUID, otherUID))
		}, "owned by uid 65534"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Up front: OpenFile refuses.
			dir := t.TempDir()
			path := filepath.Join(dir, "keys.log")
			c.setup(t, dir, path)
			before := snapshot(t, dir)
			_, err := OpenFile(path)
			checkRefusal(t, err, c.want)
			if after := snapshot(t, dir); after != before {
				t.Errorf("OpenFile changed the directory:\nbefore %s\nafter  %s", before, after)
			}

			// Swapped in after OpenFile: the first Write refuses, without
			// hanging on a pipe and without changing anything.
			dir = t.TempDir()
			path = filepath.Join(dir, "keys.log")
			f, err := OpenFile(path)
			must(t, err)
			c.setup(t, dir, path)
			before = snapshot(t, dir)
			done := make(chan error, 1)
			go func() { _, err := f.Write([]byte(line)); done <- err }()
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Write hung")
			}
			checkRefusal(t, err, c.want)
			if err := f.Close(); err == nil {
				t.Error("Close after a refused Write returned nil")
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("Write changed the directory:\nbefore %s\nafter  %s", before, after)
			}
			if f.Created() || f.Written() != 0 {
				t.Errorf("Created %v, Written %d after a refusal", f.Created(), f.Written())
			}
		})
	}
}

// TestFileRefusesDevice: /dev/null and /dev/stderr are not regular files.
func TestFileRefusesDevice(t *testing.T) {
	for _, p := range []string{"/dev/null", "/dev/stderr"} {
		_, err := OpenFile(p)
		if err == nil || !strings.Contains(err.Error(), "not a regular file") && !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func checkRefusal(t *testing.T, err error, want string) {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want a *FileError", err)
	}
	if !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "keylog: ") || fe.Hint() == "" {
		t.Errorf("error %q (hint %q): want %q in it, a keylog: prefix and a hint", err, fe.Hint(), want)
	}
}

// snapshot describes every entry of dir: name, type, mode, owner, size
// and content.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	ents, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Lstat(p)
		must(t, err)
		st := fi.Sys().(*syscall.Stat_t)
		b.WriteString(e.Name() + " " + fi.Mode().String() + " " + strconv.Itoa(int(st.Uid)) + " " + strconv.Itoa(int(fi.Size())))
		if fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			b.WriteString(" " + string(data))
		}
		b.WriteString("; ")
	}
	return b.String()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestFileCreatesLazily: a new key log appears only with the first secret,
// with mode 0600 whatever the umask; with no secret, no file.
func TestFileCreatesLazily(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.log")
	f, err := OpenFile(path)
	must(t, err)
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenFile created the file: %v", err)
	}
	must(t, f.Close())
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a File closed without secrets left a file: %v", err)
	}

	f, err = OpenFile(path)
	must(t, err)
	if _, err := f.Write([]byte(line)); err != nil {
		t.Fatal(err)
	}
	must(t, f.Close())
	fi, err := os.Stat(path)
	must(t, err)
	if fi.Mode().Perm() != 0o600 || !f.Created() || f.Written() != int64(len(line)) {
		t.Errorf("created mode %04o, Created %v, Written %d", fi.Mode().Perm(), f.Created(), f.Written())
	}
	if got, _ := os.ReadFile(path); string(got) != line {
		t.Errorf("content %q", got)
	}

	if _, err := OpenFile(filepath.Join(dir, "no", "such", "keys.log")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing directory: %v", err)
	}
}

// TestFileAppends: an existing private file of the user is appended to and
// its mode (0600 or stricter) stays what it was.
func TestFileAppends(t *testing.T) {
	for _, mode := range []os.FileMode{0o600, 0o200} {
		if mode == 0o200 && os.Geteuid() != 0 {
			continue // write-only for the owner: root passes the read check anyway
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "keys.log")
		must(t, os.WriteFile(path, []byte("# earlier\n"), mode))
		must(t, os.Chmod(path, mode))
		f, err := OpenFile(path)
		must(t, err)
		_, err = f.Write([]byte(line))
		must(t, err)
		must(t, f.Close())
		fi, err := os.Stat(path)
		must(t, err)
		if fi.Mode().Perm() != mode || f.Created() {
			t.Errorf("mode %04o after appending to a %04o file (Created %v)", fi.Mode().Perm(), mode, f.Created())
		}
		if got, _ := os.ReadFile(path); string(got) != "# earlier\n"+line {
			t.Errorf("content %q", got)
		}
	}
}
