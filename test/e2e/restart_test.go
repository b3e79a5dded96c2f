package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/test/envtest"
)

// restartConfig is a config repository for demo/hello with one presubmit
// whose first attempt hangs and whose next one passes once the test has
// seen it running (it waits for the file attempts.release): the attempts are
// counted in a file outside bowline, as a flaky job might leave state.
func restartConfig(t *testing.T, attempts string) string {
	t.Helper()
	files := map[string]string{
		"config/prow/config.yaml": `prowjob_namespace: default
pod_namespace: default
plank:
  default_decoration_config_entries:
  - config:
      timeout: 10m
      grace_period: 5s
`,
		"config/prow/plugins.yaml": "plugins:\n  demo:\n    plugins:\n    - trigger\n",
		"config/jobs/demo/hello.yaml": `presubmits:
  demo/hello:
  - name: restarted
    always_run: true
    decorate: true
    spec:
      containers:
      - image: alpine
        command: [sh, -c, 'echo x >> ` + attempts + `; if [ "$(wc -l < ` + attempts + `)" -eq 1 ]; then setsid sleep 600 & sleep 600; fi; while [ ! -e ` + attempts + `.release ]; do sleep 0.1; done; echo passed']
`,
	}
	return gitRepo(t, files)
}

// upAt runs `bowline up` with a given data directory and addresses, so
// that a second one takes over where the first stopped.
func upAt(t *testing.T, bin, dataDir, addr, sandboxAddr string, args ...string) *upProcess {
	t.Helper()
	binDir, err := envtest.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	readyFile := filepath.Join(t.TempDir(), "ready.json")
	p := &upProcess{dataDir: dataDir, exited: make(chan error, 1), out: &strings.Builder{}}
	p.cmd = exec.Command(bin, append([]string{"up", "--data-dir", dataDir, "--ready-file", readyFile,
		"--bin-dir", binDir, "--addr", addr, "--sandbox-addr", sandboxAddr}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("bowline up said:\n%s", p.out.String())
			if b, err := os.ReadFile(filepath.Join(dataDir, "bowline.log")); err == nil {
				t.Logf("last log lines:\n%s", tail(string(b), 40))
			}
		}
	})
	p.ready = waitReady(t, readyFile, p.exited, 3*time.Minute)
	return p
}

// TestUpRestartRunsALostJobAgain stops bowline up with SIGTERM while a
// local job runs (one that also left a process in a session of its own),
// checks that nothing of the job is left running, starts bowline up again
// on the same data directory, and waits for the job to be run again and
// pass, the commit status saying it was restarted.
func TestUpRestartRunsALostJobAgain(t *testing.T) {
	bin := buildBowline(t)
	attempts := filepath.Join(t.TempDir(), "attempts")
	repo := restartConfig(t, attempts)
	dataDir := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	first := upAt(t, bin, dataDir, anyPort, anyPort, "--config-repo", repo)
	// The second bowline up listens where the first did: the sandbox's
	// repositories and webhooks name those addresses.
	addr, sandboxAddr := hostPort(t, first.ready.URL), hostPort(t, first.ready.Sandbox.URL)
	alice := first.sandboxClient(t, first.ready.Sandbox.Token)
	sha := openPullRequest(ctx, t, alice, "demo/hello", "restart", map[string]string{"NOTES.md": "restart me\n"})
	eventually(t, "the first attempt running", 2*time.Minute, func() (bool, string) {
		b, _ := os.ReadFile(attempts)
		st := statusOf(ctx, alice, sha)
		return len(b) > 0 && st["restarted"] == "pending", fmt.Sprintf("attempts %q, statuses %v", b, st)
	})
	first.stop(t)
	if b, _ := os.ReadFile(attempts); strings.Count(string(b), "x") != 1 {
		t.Fatalf("attempts before the restart = %q", b)
	}

	second := upAt(t, bin, dataDir, addr, sandboxAddr, "--config-repo", repo)
	// The second attempt waits until its pending status, which says it was
	// restarted, has been posted: a run that ended first would be reported
	// only as it ended.
	eventually(t, "the restarted run reported pending", 3*time.Minute, func() (bool, string) {
		statuses, _, err := alice.Repositories.ListStatuses(ctx, "demo", "hello", sha, &github.ListOptions{PerPage: 100})
		if err != nil {
			return false, err.Error()
		}
		for _, s := range statuses {
			if s.GetContext() == "restarted" && s.GetState() == "pending" && strings.HasPrefix(s.GetDescription(), "Job restarted: bowline restarted while it ran.") {
				return true, ""
			}
		}
		return false, fmt.Sprint(statusOf(ctx, alice, sha))
	})
	if err := os.WriteFile(attempts+".release", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the job run again and passed", 3*time.Minute, func() (bool, string) {
		st := statusOf(ctx, alice, sha)
		return st["restarted"] == "success", fmt.Sprint(st)
	})
	statuses, _, err := alice.Repositories.ListStatuses(ctx, "demo", "hello", sha, &github.ListOptions{PerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	var restarted, final string
	for _, s := range statuses {
		if s.GetContext() != "restarted" {
			continue
		}
		if s.GetState() == "success" && final == "" {
			final = s.GetDescription()
		}
		if s.GetState() == "pending" && strings.HasPrefix(s.GetDescription(), "Job restarted: bowline restarted while it ran.") {
			restarted = s.GetDescription()
		}
	}
	if restarted == "" || !strings.Contains(final, "Restarted once") {
		t.Errorf("commit statuses do not say the job was restarted: pending %q, final %q", restarted, final)
	}
	if b, _ := os.ReadFile(attempts); strings.Count(string(b), "x") != 2 {
		t.Errorf("attempts = %q, want 2", b)
	}
	second.stop(t)
}

// hostPort is the host:port of a URL that bowline up reported.
func hostPort(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		t.Fatalf("bowline up reported the URL %q", rawURL)
	}
	return u.Host
}
