package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/test/envtest"
)

// upJobs is a presubmit of demo/hello that runs one at a time: its first
// attempt hangs (leaving a process in a session of its own, as a job
// might), the others pass. Attempts are counted in a file outside bowline.
func upJobs(attempts string) string {
	return `presubmits:
  demo/hello:
  - name: killed
    always_run: true
    decorate: true
    max_concurrency: 1
    spec:
      containers:
      - image: alpine
        command: [sh, -c, 'echo x >> ` + attempts + `; if [ "$(wc -l < ` + attempts + `)" -eq 1 ]; then setsid sleep 600 & sleep 600; fi; echo passed']
`
}

// upProwConfig decorates jobs, with a short grace period.
const upProwConfig = `prowjob_namespace: default
pod_namespace: default
plank:
  default_decoration_config_entries:
  - config:
      timeout: 10m
      grace_period: 5s
`

// up is a `bowline up` process.
type up struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error
	out     *syncBuffer
	dataDir string
	ready   struct {
		Sandbox struct {
			URL   string `json:"url"`
			Token string `json:"token"`
		} `json:"sandbox"`
	}
}

// startUp runs `bowline up` on dataDir and waits for its ready file.
func startUp(t *testing.T, dataDir, addr, sandboxAddr, configRepo string) *up {
	t.Helper()
	binDir, err := envtest.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	readyFile := filepath.Join(t.TempDir(), "ready.json")
	p := &up{dataDir: dataDir, exited: make(chan struct{}), out: &syncBuffer{}}
	p.cmd = exec.Command(bowline, "up", "--data-dir", dataDir, "--ready-file", readyFile, "--bin-dir", binDir,
		"--addr", addr, "--sandbox-addr", sandboxAddr, "--config-repo", configRepo)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("bowline up said:\n%s", tail(p.out.String(), 40))
			if b, err := os.ReadFile(filepath.Join(dataDir, "bowline.log")); err == nil {
				t.Logf("its last log lines:\n%s", tail(string(b), 60))
			}
		}
	})
	eventually(t, "bowline up ready", 3*time.Minute, func() (bool, string) {
		select {
		case <-p.exited:
			t.Fatalf("bowline up exited before it was ready: %v\n%s", p.err, tail(p.out.String(), 40))
		default:
		}
		b, err := os.ReadFile(readyFile)
		if err != nil {
			return false, err.Error()
		}
		return json.Unmarshal(b, &p.ready) == nil, string(b)
	})
	return p
}

// gh is a go-github client of the sandbox forge of bowline up.
func (p *up) gh(t *testing.T) *github.Client {
	t.Helper()
	base := p.ready.Sandbox.URL + "/"
	gh, err := github.NewClient(github.WithAuthToken(p.ready.Sandbox.Token), github.WithURLs(&base, &base))
	if err != nil {
		t.Fatal(err)
	}
	return gh
}

// openPR pushes a file to a new branch of demo/hello and opens a pull
// request from it; it returns the head commit.
func (p *up) openPR(ctx context.Context, t *testing.T, branch string) string {
	t.Helper()
	gh := p.gh(t)
	main, _, err := gh.Git.GetRef(ctx, "demo", "hello", "heads/main")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Git.CreateRef(ctx, "demo", "hello", github.CreateRef{Ref: "refs/heads/" + branch, SHA: main.GetObject().GetSHA()}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Repositories.CreateFile(ctx, "demo", "hello", branch+".md", &github.RepositoryContentFileOptions{
		Message: github.Ptr("Add " + branch), Content: []byte(branch + "\n"), Branch: github.Ptr(branch)}); err != nil {
		t.Fatal(err)
	}
	pr, _, err := gh.PullRequests.Create(ctx, "demo", "hello", &github.NewPullRequest{
		Title: github.Ptr("Change " + branch), Head: github.Ptr(branch), Base: github.Ptr("main")})
	if err != nil {
		t.Fatal(err)
	}
	return pr.GetHead().GetSHA()
}

// statuses lists the statuses posted on a commit of demo/hello, oldest
// first, as "state: description".
func (p *up) statuses(ctx context.Context, t *testing.T, sha string) []string {
	t.Helper()
	list, _, err := p.gh(t).Repositories.ListStatuses(ctx, "demo", "hello", sha, &github.ListOptions{PerPage: 100})
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for i := len(list) - 1; i >= 0; i-- {
		out = append(out, list[i].GetState()+": "+list[i].GetDescription())
	}
	return out
}

// TestUpKilledResumes kills `bowline up` with SIGKILL while one run of a
// presubmit runs and another waits for it (max_concurrency: 1), and starts
// it again on the same data directory: what the killed one left running is
// ended, the running job is run again, the queued one runs, both pass and
// are reported once, and once stopped nothing is left running.
func TestUpKilledResumes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	attempts := filepath.Join(t.TempDir(), "attempts")
	repo := gitRepo(t, map[string]string{
		"config/prow/config.yaml":     upProwConfig,
		"config/prow/plugins.yaml":    "plugins:\n  demo:\n    plugins: [trigger]\n",
		"config/jobs/demo/hello.yaml": upJobs(attempts),
	})
	dataDir := filepath.Join(t.TempDir(), "data")
	addr, sandboxAddr := freeAddr(t), freeAddr(t)

	first := startUp(t, dataDir, addr, sandboxAddr, repo)
	running := first.openPR(ctx, t, "running")
	eventually(t, "the first run running", 2*time.Minute, func() (bool, string) {
		b, _ := os.ReadFile(attempts)
		st := first.statuses(ctx, t, running)
		return len(b) > 0 && len(st) > 0 && strings.HasPrefix(st[len(st)-1], "pending"), fmt.Sprintf("attempts %q, statuses %v", b, st)
	})
	queued := first.openPR(ctx, t, "queued")
	eventually(t, "the second run waiting", 2*time.Minute, func() (bool, string) {
		st := first.statuses(ctx, t, queued)
		return len(st) > 0 && strings.HasPrefix(st[len(st)-1], "pending"), fmt.Sprint(st)
	})
	if b, _ := os.ReadFile(attempts); strings.Count(string(b), "x") != 1 {
		t.Fatalf("attempts before the kill = %q, want 1 (the second run waits for the first)", b)
	}

	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.exited
	killed := time.Now()
	second := startUp(t, dataDir, addr, sandboxAddr, repo)
	t.Logf("bowline up ready again %s after SIGKILL", time.Since(killed).Round(100*time.Millisecond))
	for _, sha := range []string{running, queued} {
		eventually(t, "the presubmit passed on "+sha[:7], 3*time.Minute, func() (bool, string) {
			st := second.statuses(ctx, t, sha)
			return len(st) > 0 && strings.HasPrefix(st[len(st)-1], "success"), fmt.Sprint(st)
		})
	}
	t.Logf("both runs passed %s after SIGKILL", time.Since(killed).Round(100*time.Millisecond))
	for _, sha := range []string{running, queued} {
		st := second.statuses(ctx, t, sha)
		successes := 0
		for _, s := range st {
			if strings.HasPrefix(s, "success") {
				successes++
			}
		}
		if successes != 1 {
			t.Errorf("statuses on %s: %v, want one success", sha[:7], st)
		}
	}
	if st := second.statuses(ctx, t, running); !strings.Contains(st[len(st)-1], "Restarted once") {
		t.Errorf("the result of the killed run does not say it was restarted: %v", st)
	}
	if b, _ := os.ReadFile(attempts); strings.Count(string(b), "x") != 3 {
		t.Errorf("attempts = %q, want 3 (the killed run again, and the queued one)", b)
	}

	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-second.exited
	if second.err != nil {
		t.Errorf("bowline up exited with %v after SIGTERM", second.err)
	}
	if left := append(processesUnder(dataDir), processesUnder(filepath.Dir(attempts))...); len(left) > 0 {
		t.Errorf("processes left running after bowline up stopped: %v", left)
	}
}

// processesUnder lists processes whose command line or working directory
// is inside dir: the control plane and any job bowline up started.
func processesUnder(dir string) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []string{fmt.Sprintf("cannot read /proc: %v", err)}
	}
	var out []string
	for _, e := range entries {
		pid := e.Name()
		if pid[0] < '0' || pid[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		cwd, _ := os.Readlink(filepath.Join("/proc", pid, "cwd"))
		args := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if strings.Contains(args, dir) || strings.HasPrefix(cwd, dir) {
			out = append(out, pid+": "+args)
		}
	}
	return out
}
