package local

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// RunEnv is set in the environment of every process of a local run to a
// token of its own, so that the processes of a run can be found again,
// those that left their process group and session included.
const RunEnv = "BOWLINE_LOCAL_RUN"

// CgroupsOff turns the runner's use of cgroups off (Options.CgroupParent).
const CgroupsOff = "none"

// containment finds and kills every process of one run: the commands'
// process groups (the entrypoint kills them), the run's cgroup where the
// host lets the runner create one (nothing escapes it), and otherwise
// every process whose environment carries the run's token. Each container
// has a part of its own (a cgroup under the run's, a token under the
// run's), so that when one container's command ends, what it leaves is
// killed without touching the other containers.
type containment struct {
	Token string `json:"token"`
	// Cgroup is the run's cgroup v2 directory; empty without cgroups.
	// Container i's processes are in its child c<i>.
	Cgroup string `json:"cgroup,omitempty"`

	cgroupFDs []int
}

var tokenPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// newContainment makes the containment of a new run of n containers, with
// cgroups under parent when parent is set.
func newContainment(parent string, n int) (*containment, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	c := &containment{Token: hex.EncodeToString(b)}
	if parent == "" {
		return c, nil
	}
	c.Cgroup = filepath.Join(parent, "bowline-run-"+c.Token)
	fd, err := createCgroup(c.Cgroup)
	if err != nil {
		return nil, fmt.Errorf("create the run's cgroup: %w", err)
	}
	closeFD(fd)
	for i := range n {
		fd, err := createCgroup(c.leaf(i))
		if err != nil {
			_ = c.release()
			return nil, fmt.Errorf("create the run's cgroup: %w", err)
		}
		c.cgroupFDs = append(c.cgroupFDs, fd)
	}
	return c, nil
}

func (c *containment) leaf(i int) string { return filepath.Join(c.Cgroup, fmt.Sprintf("c%d", i)) }

// env is the variable that marks container i's processes.
func (c *containment) env(i int) string { return fmt.Sprintf("%s=%s/%d", RunEnv, c.Token, i) }

// prepare starts container i's command inside its cgroup.
func (c *containment) prepare(i int) func(*exec.Cmd) {
	return func(cmd *exec.Cmd) {
		if i < len(c.cgroupFDs) {
			intoCgroup(cmd, c.cgroupFDs[i])
		}
	}
}

// killContainer kills what container i's command left running.
func (c *containment) killContainer(i int) func() {
	return func() {
		if i < len(c.cgroupFDs) {
			killCgroup(c.leaf(i))
		}
		sweep([]byte(c.env(i) + "\x00"))
	}
}

// kill kills every process of the run.
func (c *containment) kill() {
	if c.Cgroup != "" {
		killCgroup(c.Cgroup)
	}
	sweep([]byte(RunEnv + "=" + c.Token + "/"))
}

// release kills what is left and frees the cgroups.
func (c *containment) release() error {
	c.kill()
	for _, fd := range c.cgroupFDs {
		closeFD(fd)
	}
	c.cgroupFDs = nil
	if c.Cgroup != "" {
		return removeCgroup(c.Cgroup)
	}
	return nil
}

// The state of each run is kept beside the workspaces, under
// <root>/.runs, so that a runner started after a crash can kill what the
// previous one left running.
const stateDir = ".runs"

func statePath(root, name string) string { return filepath.Join(root, stateDir, name+".json") }

func (c *containment) save(root, name string) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(root, stateDir), 0o700); err != nil {
		return err
	}
	return os.WriteFile(statePath(root, name), b, 0o600)
}

// reapStale kills the processes of every run a previous runner left
// behind under root and removes their state; the workspaces go too unless
// keep is set. parent is the cgroup parent of this runner: a state file
// naming a cgroup elsewhere is not trusted with it.
func reapStale(root, parent string, keep bool) error {
	entries, err := os.ReadDir(filepath.Join(root, stateDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the state of earlier runs: %w", err)
	}
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || len(validation.IsDNS1123Subdomain(name)) > 0 {
			continue
		}
		p := filepath.Join(root, stateDir, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c := &containment{}
		if json.Unmarshal(b, c) != nil || !tokenPattern.MatchString(c.Token) {
			errs = append(errs, fmt.Errorf("state of run %s is unreadable; its processes, if any, were not looked for", name))
			os.Remove(p)
			continue
		}
		if c.Cgroup != "" && (parent == "" || filepath.Dir(c.Cgroup) != parent || filepath.Base(c.Cgroup) != "bowline-run-"+c.Token) {
			c.Cgroup = ""
		}
		if err := c.release(); err != nil {
			errs = append(errs, err)
		}
		os.Remove(p)
		if !keep {
			os.RemoveAll(filepath.Join(root, name))
		}
	}
	return errors.Join(errs...)
}
