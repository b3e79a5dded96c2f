//go:build !linux

package local

import (
	"errors"
	"os/exec"
)

// Without Linux's cgroups and /proc, a run's processes are its process
// group: the entrypoint kills the group, and a process that left it is not
// found.

func cgroupParent(given string) (string, error) {
	if given == "" || given == CgroupsOff {
		return "", nil
	}
	return "", errors.New("cgroups are only used on Linux")
}

func createCgroup(string) (int, error) { return -1, errors.New("no cgroups on this system") }
func intoCgroup(*exec.Cmd, int)        {}
func closeFD(int)                      {}
func killCgroup(string)                {}
func removeCgroup(string) error        { return nil }
func sweep([]byte)                     {}
