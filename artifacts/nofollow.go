package artifacts

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// errLink refuses a path that goes through a symbolic link, or names
// something else than a regular file or directory. It reads as "does not
// exist" (os.IsNotExist holds), so that a planted link is served as a
// missing object.
func errLink(name string) error {
	return &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// openNoFollow opens dir/rel without following a symbolic link in any
// component of rel: each directory is opened relative to the one before
// with O_NOFOLLOW, so that a link swapped in meanwhile is refused rather
// than followed. The result is a regular file or a directory; anything else
// (a link, a FIFO, a device) is refused. dir itself is trusted.
func openNoFollow(dir, rel string) (*os.File, error) {
	parts := strings.Split(filepath.ToSlash(rel), "/")
	fd, err := openat(unix.AT_FDCWD, dir, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	for i, p := range parts {
		if p == "" || p == "." {
			continue
		}
		if p == ".." {
			unix.Close(fd)
			return nil, errLink(rel)
		}
		flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK
		if i < len(parts)-1 {
			flags |= unix.O_DIRECTORY
		}
		next, err := openat(fd, p, flags)
		unix.Close(fd)
		switch {
		case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.EMLINK):
			return nil, errLink(rel)
		case err != nil:
			return nil, &fs.PathError{Op: "open", Path: filepath.Join(dir, rel), Err: err}
		}
		fd = next
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stat %s: %w", rel, err)
	}
	if mode := st.Mode & unix.S_IFMT; mode != unix.S_IFREG && mode != unix.S_IFDIR {
		unix.Close(fd)
		return nil, errLink(rel)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("open %s: %w", rel, err)
	}
	return os.NewFile(uintptr(fd), filepath.Join(dir, rel)), nil
}

func openat(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags|unix.O_CLOEXEC, 0)
		if !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
}
