package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// waitGone waits until the process has exited (a zombie counts), watching
// it through a pidfd. The minute is only there so that a process that
// never dies fails the test instead of hanging it.
func waitGone(t *testing.T, pid int) bool {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return true
	}
	if err != nil {
		t.Fatalf("pidfd_open %d: %v", pid, err)
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(time.Minute/time.Millisecond))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err == nil && n == 1
	}
}

// readPIDs reads the process IDs a job wrote into its artifacts, one per
// file name.
func (h *harness) readPIDs(t *testing.T, runPath string, names ...string) []int {
	t.Helper()
	var pids []int
	for _, n := range names {
		pid, err := strconv.Atoi(strings.TrimSpace(h.read(t, runPath+"/artifacts/"+n)))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// escapes is a job that leaves processes behind in every way a shell
// script can: in the background, in a session of its own, and in a
// session of its own with an empty environment. Each writes its process
// ID and then stays; the job itself ends at once, successfully.
const escapes = `mkdir -p $ARTIFACTS
sleep 300 & echo $! > $ARTIFACTS/background
setsid sh -c 'echo $$ > $ARTIFACTS/session; exec sleep 300' &
env -i setsid sh -c 'echo $$ > '"$ARTIFACTS"'/bare; exec sleep 300' &
while ! test -s $ARTIFACTS/session || ! test -s $ARTIFACTS/bare; do sleep 0.01; done
echo started`

func periodic(name string, command ...string) *v1alpha1.ProwJob {
	pj := presubmit(name, "", "", command...)
	pj.Spec.Type = v1alpha1.PeriodicJob
	pj.Spec.Refs = nil
	return pj
}

// TestNoProcessOutlivesItsRun: what a job leaves running, in its process
// group or out of it, dies when the run ends. With cgroups, even a process
// that cleared its environment and left its session; without, that one is
// the documented gap.
func TestNoProcessOutlivesItsRun(t *testing.T) {
	parent, cgErr := cgroupParent("")
	tests := []struct {
		name     string
		cgroups  string
		wantBare bool
	}{
		{name: "processes found by their marker", cgroups: CgroupsOff},
		{name: "processes in the run's cgroup", wantBare: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cgroups == "" && parent == "" {
				// Not a skip: the runner must then say why it has no cgroups.
				h := newHarness(t, func(o *Options) { o.CgroupParent = "" })
				if _, err := h.runner.Cgroups(); err == nil || cgErr == nil {
					t.Fatal("no cgroups, and no reason given")
				}
				return
			}
			h := newHarness(t, func(o *Options) { o.CgroupParent = tt.cgroups })
			if got, _ := h.runner.Cgroups(); (got != "") != (tt.cgroups == "") {
				t.Fatalf("Cgroups() = %q", got)
			}
			run, err := h.runner.Start(context.Background(), periodic("run-escapes-"+strconv.FormatBool(tt.wantBare), "sh", "-c", escapes))
			if err != nil {
				t.Fatal(err)
			}
			res := wait(t, run)
			if res.State != v1alpha1.SuccessState {
				t.Fatalf("result = %+v\n%s", res, h.read(t, res.RunPath+"/build-log.txt"))
			}
			pids := h.readPIDs(t, res.RunPath, "background", "session", "bare")
			for i, what := range []string{"background", "own session"} {
				if !waitGone(t, pids[i]) {
					t.Errorf("the %s process %d outlived the run", what, pids[i])
				}
			}
			if tt.wantBare {
				if !waitGone(t, pids[2]) {
					t.Errorf("the process %d with an empty environment in its own session outlived the run", pids[2])
				}
			} else {
				// The documented limit without cgroups; clean up.
				_ = unix.Kill(pids[2], unix.SIGKILL)
			}
		})
	}
}

// TestJobsDoNotSeeTheOperatorsEnvironmentOrFiles plays a job that goes
// looking for the operator's credentials: in its environment, its home
// directory, its working directory, and a credentials file whose path it
// knows.
func TestJobsDoNotSeeTheOperatorsEnvironmentOrFiles(t *testing.T) {
	operatorHome := t.TempDir()
	if err := os.WriteFile(filepath.Join(operatorHome, ".gitconfig"), []byte("[credential]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(t.TempDir(), "github-token")
	if err := os.WriteFile(secretFile, []byte("ghp_operators0wnT0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", operatorHome)
	t.Setenv("GITHUB_TOKEN", "ghp_fromTheEnvironment")
	t.Setenv("KUBECONFIG", "/admin.kubeconfig")
	h := newHarness(t, func(o *Options) {
		o.SecretFiles = []string{secretFile}
		o.Secrets = []string{"kube-admin-client-key"}
	})
	run, err := h.runner.Start(context.Background(), periodic("run-snoop", "sh", "-c",
		`env; echo "home=$HOME pwd=$(pwd) tmp=$TMPDIR"; ls -a "$HOME"; cat `+secretFile+`; echo kube-admin-client-key | base64`))
	if err != nil {
		t.Fatal(err)
	}
	res := wait(t, run)
	log := h.read(t, res.RunPath+"/build-log.txt")
	for _, leak := range []string{"ghp_fromTheEnvironment", "KUBECONFIG", "ghp_operators0wnT0ken", operatorHome, ".gitconfig",
		"a3ViZS1hZG1pbi1jbGllbnQta2V5"} {
		if strings.Contains(log, leak) {
			t.Errorf("the job saw %q:\n%s", leak, log)
		}
	}
	ws := run.Workspace()
	for _, want := range []string{"home=" + filepath.Join(ws, "home"), "pwd=" + ws, "tmp=" + filepath.Join(ws, "tmp"), RunEnv + "="} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	st, err := os.Stat(h.runner.opts.Root)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("workspace root mode = %v, %v: want 0700", st.Mode().Perm(), err)
	}
}

// TestAdmitRefusesBeforeAnythingRuns: a refused run ends in error with
// the reason, and nothing of it runs.
func TestAdmitRefusesBeforeAnythingRuns(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	var asked []string
	h := newHarness(t, func(o *Options) {
		o.Admit = TrustedAuthorsOnly(func(_ context.Context, org, repo, login string) (bool, error) {
			asked = append(asked, org+"/"+repo+"@"+login)
			if login == "flaky" {
				return false, errors.New("GitHub did not answer")
			}
			return login == "ann", nil
		})
	})
	origin, sha := gitRepo(t)
	tests := []struct {
		name, author string
		want         v1alpha1.ProwJobState
		wantErr      bool
	}{
		{name: "a member's pull request runs", author: "ann", want: v1alpha1.SuccessState},
		{name: "an outsider's does not", author: "eve", want: v1alpha1.ErrorState},
		{name: "no author: refused", author: "", want: v1alpha1.ErrorState},
		{name: "trust unknown: Start fails, to be retried", author: "flaky", wantErr: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pj := presubmit("run-admit-"+strconv.Itoa(i), origin, sha, "sh", "-c", "touch "+marker+"-"+strconv.Itoa(i))
			pj.Spec.Refs.Pulls[0].Author = tt.author
			run, err := h.runner.Start(context.Background(), pj)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Start() = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			res := wait(t, run)
			if res.State != tt.want {
				t.Fatalf("result = %+v, want %s", res, tt.want)
			}
			_, statErr := os.Stat(marker + "-" + strconv.Itoa(i))
			if ran := statErr == nil; ran != (tt.want == v1alpha1.SuccessState) {
				t.Errorf("the command ran = %v", ran)
			}
			if tt.want == v1alpha1.ErrorState && !strings.Contains(res.Description, "--allow-untrusted-pulls") {
				t.Errorf("description = %q: want the way to allow it", res.Description)
			}
		})
	}
	// Periodic and postsubmit runs test merged code: nobody to ask about.
	before := len(asked)
	run, err := h.runner.Start(context.Background(), periodic("run-admit-periodic", "true"))
	if err != nil {
		t.Fatal(err)
	}
	if res := wait(t, run); res.State != v1alpha1.SuccessState || len(asked) != before {
		t.Errorf("periodic: %+v, asked %v", res, asked[before:])
	}
}

// TestShutdownInterruptsRuns: runs stopped by a shutdown are no outcome.
func TestShutdownInterruptsRuns(t *testing.T) {
	h := newHarness(t)
	run, err := h.runner.Start(context.Background(), periodic("run-interrupted", "sleep", "300"))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.runner.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, run); !res.Interrupted || res.State != v1alpha1.AbortedState {
		t.Errorf("result = %+v, want an interrupted run", res)
	}
	aborted, err := NewRunner(h.runner.opts)
	if err != nil {
		t.Fatal(err)
	}
	run, err = aborted.Start(context.Background(), periodic("run-aborted", "sleep", "300"))
	if err != nil {
		t.Fatal(err)
	}
	run.Abort()
	if res := wait(t, run); res.Interrupted {
		t.Errorf("an aborted run counts as interrupted: %+v", res)
	}
	_ = aborted.Shutdown(context.Background())
}

// TestANewRunnerKillsWhatACrashedOneLeft: a runner that died without
// shutting down (killed, crashed) leaves its runs' processes; the next
// runner on the same root kills them before it starts anything.
func TestANewRunnerKillsWhatACrashedOneLeft(t *testing.T) {
	for _, cg := range []string{CgroupsOff, ""} {
		t.Run("cgroups "+cg, func(t *testing.T) {
			if p, _ := cgroupParent(cg); cg == "" && p == "" {
				t.Log("no cgroups here: the marker is used in both cases")
			}
			h := newHarness(t, func(o *Options) { o.CgroupParent = cg })
			run, err := h.runner.Start(context.Background(), periodic("run-orphaned", "sh", "-c", escapes+"; sleep 300"))
			if err != nil {
				t.Fatal(err)
			}
			w := &lineWriter{want: "started\n", seen: make(chan struct{})}
			tailCtx, stop := context.WithCancel(context.Background())
			defer stop()
			go func() { _, _ = h.store.Tail(tailCtx, run.RunPath(), 0, w, 10*time.Millisecond) }()
			<-w.seen
			artifacts := filepath.Join(run.Workspace(), "logs", "artifacts")
			var pids []int
			for _, n := range []string{"background", "session"} {
				b, err := os.ReadFile(filepath.Join(artifacts, n))
				if err != nil {
					t.Fatal(err)
				}
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				pids = append(pids, pid)
			}
			// The first runner is not shut down: as if it had crashed.
			next, err := NewRunner(h.runner.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, pid := range pids {
				if !waitGone(t, pid) {
					t.Errorf("process %d of the crashed runner's run is still running", pid)
				}
			}
			if _, err := os.Stat(statePath(h.runner.opts.Root, "run-orphaned")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the run's state is still there: %v", err)
			}
			_ = next.Shutdown(context.Background())
		})
	}
}

// TestOneContainerEndingLeavesTheOthersRunning: the processes of a
// container are killed when its command ends, not those of the run's
// other containers, which go on until their own commands end.
func TestOneContainerEndingLeavesTheOthersRunning(t *testing.T) {
	for _, cg := range []string{CgroupsOff, ""} {
		t.Run("cgroups "+cg, func(t *testing.T) {
			h := newHarness(t, func(o *Options) { o.CgroupParent = cg })
			ready := filepath.Join(t.TempDir(), "test-ended")
			pj := periodic("run-two-containers", "sh", "-c", "setsid sleep 300 & touch "+ready)
			pj.Spec.PodSpec.Containers[0].Name = "test"
			pj.Spec.PodSpec.Containers = append(pj.Spec.PodSpec.Containers, pj.Spec.PodSpec.Containers[0])
			pj.Spec.PodSpec.Containers[1].Name = "db"
			// The second container outlasts the first one's end and sweep.
			pj.Spec.PodSpec.Containers[1].Command = []string{"sh", "-c", "while ! test -e " + ready + "; do sleep 0.01; done; sleep 0.5; echo db-done"}
			pj.Spec.PodSpec.Containers[1].Args = nil
			run, err := h.runner.Start(context.Background(), pj)
			if err != nil {
				t.Fatal(err)
			}
			res := wait(t, run)
			if res.State != v1alpha1.SuccessState {
				t.Errorf("result = %+v: the db container was killed when the test container ended", res)
			}
			if log := h.read(t, res.RunPath+"/db-build-log.txt"); !strings.Contains(log, "db-done") {
				t.Errorf("db-build-log.txt = %q", log)
			}
		})
	}
}
