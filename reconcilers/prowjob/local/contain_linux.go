package local

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupParent is where the runner creates the cgroups of its runs: the
// directory given, or the runner's own cgroup v2 directory when the host
// lets it create cgroups there (it runs as root, or in a delegated
// subtree). It returns "" when cgroups cannot be used, and why.
func cgroupParent(given string) (string, error) {
	if given == CgroupsOff {
		return "", nil
	}
	dir := given
	if dir == "" {
		own, err := ownCgroup()
		if err != nil {
			return "", err
		}
		dir = own
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return "", fmt.Errorf("cgroup %s: %w", dir, err)
	}
	if fs.Type != unix.CGROUP2_SUPER_MAGIC {
		return "", fmt.Errorf("%s is not a cgroup v2 directory", dir)
	}
	if err := probeCgroup(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// ownCgroup is the cgroup v2 directory of this process.
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	rel := ""
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			rel = p
		}
	}
	if rel == "" {
		return "", errors.New("this process is in no cgroup v2")
	}
	mount, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	return filepath.Join(mount, rel), nil
}

// cgroup2Mount is where the cgroup v2 hierarchy is mounted.
func cgroup2Mount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source super
		fields := strings.Fields(sc.Text())
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
				return fields[4], nil
			}
		}
	}
	return "", errors.New("no cgroup v2 hierarchy is mounted")
}

// probeCgroup creates a cgroup under dir and starts a process in it, as
// runs will be started.
func probeCgroup(dir string) error {
	probe := filepath.Join(dir, fmt.Sprintf("bowline-probe-%d", os.Getpid()))
	fd, err := createCgroup(probe)
	if err != nil {
		return fmt.Errorf("cannot create cgroups under %s: %w", dir, err)
	}
	defer func() {
		closeFD(fd)
		_ = removeCgroup(probe)
	}()
	// Any program does: it is started in the cgroup, as a run's commands
	// will be, and ends at once.
	prog, err := exec.LookPath("true")
	if err != nil {
		// Nothing harmless to start: the first run will tell.
		return nil
	}
	cmd := exec.Command(prog)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	intoCgroup(cmd, fd)
	cmd.Env = []string{}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cannot start processes in cgroups under %s: %w", dir, err)
	}
	return nil
}

func createCgroup(dir string) (int, error) {
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return -1, err
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		_ = os.Remove(dir)
		return -1, err
	}
	return fd, nil
}

func intoCgroup(cmd *exec.Cmd, fd int) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.UseCgroupFD = true
	cmd.SysProcAttr.CgroupFD = fd
}

func closeFD(fd int) { _ = unix.Close(fd) }

// killCgroup kills every process of a cgroup and of the cgroups below it:
// at once through cgroup.kill where the kernel has it (5.14), else frozen
// and killed one by one.
func killCgroup(dir string) {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0); err == nil {
		return
	}
	frozen := os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("1"), 0) == nil
	for range 100 {
		if killProcs(dir) == 0 {
			break
		}
	}
	if frozen {
		_ = os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0)
	}
}

// killProcs sends SIGKILL to every process of dir and its child cgroups and
// returns how many there were.
func killProcs(dir string) int {
	n := 0
	if b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err == nil {
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && syscall.Kill(pid, syscall.SIGKILL) == nil {
				n++
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			n += killProcs(filepath.Join(dir, e.Name()))
		}
	}
	return n
}

// removeCgroup removes a cgroup and those below it once their killed
// processes are gone (a cgroup with processes cannot be removed).
func removeCgroup(dir string) error {
	entries, _ := os.ReadDir(dir)
	var errs []error
	for _, e := range entries {
		if e.IsDir() {
			errs = append(errs, removeCgroup(filepath.Join(dir, e.Name())))
		}
	}
	var err error
	for wait := time.Millisecond; wait < 2*time.Second; wait *= 2 {
		if err = os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return errors.Join(errs...)
		}
		killCgroup(dir)
		time.Sleep(wait)
	}
	return errors.Join(append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))...)
}

// sweep kills every process whose environment holds needle, until none is
// left: a process may fork while the others are killed.
func sweep(needle []byte) {
	self := os.Getpid()
	for range 20 {
		found := false
		entries, err := os.ReadDir("/proc")
		if err != nil {
			return
		}
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == self {
				continue
			}
			env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
			if err != nil || !bytes.Contains(env, needle) {
				continue
			}
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				found = true
			}
		}
		if !found {
			return
		}
	}
}
