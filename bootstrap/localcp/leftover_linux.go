package localcp

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// endLeftovers ends the etcd and kube-apiserver a previous start on the
// same data directory left running: when bowline up is killed (SIGKILL, an
// out-of-memory kill), its control plane, in process groups of their own,
// outlives it, and that etcd holds the data directory's lock, so a new one
// would wait for it forever. The caller holds the data directory's lock,
// so no live bowline up owns them. The API server goes first, then etcd;
// each is waited for until it is gone.
func endLeftovers(etcdDir, certDir string) error {
	for _, want := range []struct{ binary, flag string }{
		{"kube-apiserver", "--cert-dir=" + certDir},
		{"etcd", "--data-dir=" + etcdDir},
	} {
		pids, err := processesWith(want.binary, want.flag)
		if err != nil {
			return err
		}
		for _, pid := range pids {
			if err := killAndWait(pid); err != nil {
				return fmt.Errorf("end the %s left running by an earlier start (pid %d): %w", want.binary, pid, err)
			}
		}
	}
	return nil
}

// processesWith lists the processes running binary with flag among their
// arguments.
func processesWith(binary, flag string) ([]int, error) {
	paths, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue // gone, or a kernel thread
		}
		args := bytes.Split(bytes.TrimSuffix(b, []byte{0}), []byte{0})
		if filepath.Base(string(args[0])) != binary {
			continue
		}
		for _, a := range args[1:] {
			if string(a) == flag {
				if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
					pids = append(pids, pid)
				}
				break
			}
		}
	}
	return pids, nil
}

// killAndWait kills a process with SIGKILL and waits until it has ended,
// through a pidfd, which becomes readable then.
func killAndWait(pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil // ended meanwhile
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return err
	}
	for {
		_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, -1)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
