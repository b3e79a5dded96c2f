package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lockFileName is the file in the data directory whose lock says a
// `bowline up` is using it. It holds that process's id, for the message
// another one prints.
const lockFileName = "bowline.lock"

// errDataDirInUse is returned when another process holds the data
// directory's lock.
var errDataDirInUse = errors.New("data directory in use")

// dataDirLock is the held lock of a data directory; Release gives it up.
// The kernel releases it too when the process ends, however it ends, so a
// crash never leaves a stale lock behind.
type dataDirLock struct{ f *os.File }

// lockDataDir takes the data directory's lock without waiting. When another
// process holds it, the error names that process and says what to do.
func lockDataDir(dir string) (*dataDirLock, error) {
	p := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the lock file %s: %w", p, err)
	}
	if err := tryLock(f); err != nil {
		holder := ""
		if b, rerr := os.ReadFile(p); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				holder = fmt.Sprintf(" (process %d)", pid)
			}
		}
		_ = f.Close()
		if errors.Is(err, errDataDirInUse) {
			return nil, fmt.Errorf("the data directory %s is in use by another bowline up%s: stop that one first, or pass --data-dir with another directory", dir, holder)
		}
		return nil, fmt.Errorf("lock the data directory %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dataDirLock{f: f}, nil
}

// Release gives the lock up.
func (l *dataDirLock) Release() {
	if l != nil && l.f != nil {
		_ = l.f.Close()
	}
}
