package envtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// KillAPIServer kills the API server of a control plane from
// StartRestartable with SIGKILL, as a crash or the loss of its node does:
// no request is drained, no connection closed cleanly. etcd, and the
// objects in it, stay. StartAPIServer starts it again.
func (e *Env) KillAPIServer() error {
	if e.certDir == "" {
		return errors.New("the API server of this control plane cannot be restarted: use StartRestartable")
	}
	// The API server is the process started with this control plane's
	// certificate directory.
	flag := []byte("--cert-dir=" + e.certDir + "\x00")
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		return err
	}
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, flag) || !bytes.Contains(b, []byte("kube-apiserver")) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		// Watch the process through a pidfd, which becomes readable when
		// it ends, so that this returns once it is gone.
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			return fmt.Errorf("watch the API server: %w", err)
		}
		defer unix.Close(fd)
		if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil {
			return fmt.Errorf("kill the API server: %w", err)
		}
		for {
			_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1)
			if err != unix.EINTR {
				return err
			}
		}
	}
	return errors.New("the API server's process was not found")
}
