// Package e2e runs bowline the way its README says and checks what a user
// would see.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/test/envtest"
)

// ready is the part of bowline up's ready file the test reads.
type ready struct {
	URL        string `json:"url"`
	Kubeconfig string `json:"kubeconfig"`
	Sandbox    struct {
		URL        string `json:"url"`
		DemoRepo   string `json:"demoRepo"`
		ConfigRepo string `json:"configRepo"`
		Token      string `json:"token"`
	} `json:"sandbox"`
}

// anyPort lets bowline up choose its own ports, which its ready file
// reports: a port found free beforehand may be taken by the time bowline
// listens, by one of the control planes that tests running in parallel start.
const anyPort = "127.0.0.1:0"

// freeAddr is an address nothing listens on now, for a test that needs one
// it can name before any process listens there.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestUp runs `bowline up` in a fresh data directory, opens a pull request
// in the sandbox through its GitHub API, waits for the presubmit's status
// to turn success, then stops bowline with SIGTERM and checks that nothing
// it started is left running.
// upProcess is a running `bowline up`.
type upProcess struct {
	cmd     *exec.Cmd
	exited  chan error
	dataDir string
	ready   ready
	out     *strings.Builder
}

// startUp builds bowline and runs `bowline up` in a fresh data directory
// with free ports, waiting until it is ready.
func startUp(t *testing.T, args ...string) *upProcess {
	t.Helper()
	binDir, err := envtest.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bowline := filepath.Join(tmp, "bowline")
	build := exec.Command("go", "build", "-o", bowline, "../../operator")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	p := &upProcess{dataDir: filepath.Join(tmp, "data"), exited: make(chan error, 1), out: &strings.Builder{}}
	readyFile := filepath.Join(tmp, "ready.json")
	p.cmd = exec.Command(bowline, append([]string{"up", "--data-dir", p.dataDir, "--ready-file", readyFile,
		"--bin-dir", binDir, "--addr", anyPort, "--sandbox-addr", anyPort}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("bowline up said:\n%s", p.out.String())
			if b, err := os.ReadFile(filepath.Join(p.dataDir, "bowline.log")); err == nil {
				t.Logf("last log lines:\n%s", tail(string(b), 40))
			}
		}
	})
	p.ready = waitReady(t, readyFile, p.exited, 3*time.Minute)
	return p
}

// stop sends SIGTERM and checks that bowline exits cleanly, leaving no
// process behind.
func (p *upProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("bowline up exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("bowline up still running 30s after SIGTERM")
	}
	if left := processesUnder(p.dataDir); len(left) > 0 {
		t.Errorf("processes left running after bowline up stopped: %v", left)
	}
}

// sandboxClient is a go-github client of the sandbox forge.
func (p *upProcess) sandboxClient(t *testing.T, token string) *github.Client {
	t.Helper()
	base := p.ready.Sandbox.URL + "/"
	gh, err := github.NewClient(github.WithAuthToken(token), github.WithURLs(&base, &base))
	if err != nil {
		t.Fatal(err)
	}
	return gh
}

// TestUp runs `bowline up` in a fresh data directory, opens a pull request
// in the sandbox through its GitHub API, waits for the presubmit's status
// to turn success, then stops bowline with SIGTERM and checks that nothing
// it started is left running.
func TestUp(t *testing.T) {
	p := startUp(t)
	r := p.ready
	if !strings.Contains(p.out.String(), "Ready in") {
		t.Errorf("bowline up printed no ready line:\n%s", p.out.String())
	}
	exited := p.exited
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	gh := p.sandboxClient(t, r.Sandbox.Token)
	sha := openPullRequest(ctx, t, gh, r.Sandbox.DemoRepo, "greeting", map[string]string{"README.md": "# hello\n\nA friendlier README.\n"})
	owner, name, _ := strings.Cut(r.Sandbox.DemoRepo, "/")
	for {
		st, _, err := gh.Repositories.GetCombinedStatus(ctx, owner, name, sha, nil)
		state, contexts := "", []string(nil)
		if err == nil {
			state, contexts = jobsState(st)
		}
		if state == "success" {
			if !slices.Equal(contexts, []string{"pull-hello-test"}) {
				t.Errorf("status contexts %q, want pull-hello-test", contexts)
			}
			break
		}
		if state == "failure" {
			t.Fatalf("presubmit ended %s: %v", state, st.Statuses)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the presubmit's status did not turn success (last: %v, %v)", st, err)
		case err := <-exited:
			t.Fatalf("bowline up exited early: %v", err)
		case <-time.After(250 * time.Millisecond):
		}
	}

	p.stop(t)
}

func waitReady(t *testing.T, path string, exited <-chan error, timeout time.Duration) ready {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if b, err := os.ReadFile(path); err == nil {
			var r ready
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("ready file: %v", err)
			}
			if r.Sandbox.URL == "" || r.Kubeconfig == "" || r.URL == "" {
				t.Fatalf("ready file lacks addresses: %s", b)
			}
			return r
		}
		select {
		case err := <-exited:
			t.Fatalf("bowline up exited before it was ready: %v", err)
		case <-deadline:
			t.Fatal("bowline up did not write its ready file in time")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// openPullRequest pushes files to a new branch and opens a pull request
// from it, as the client's user; it returns the head commit.
func openPullRequest(ctx context.Context, t *testing.T, gh *github.Client, repo, branch string, files map[string]string) string {
	t.Helper()
	sha := pushFiles(ctx, t, gh, repo, branch, files, true)
	owner, name, _ := strings.Cut(repo, "/")
	pr, _, err := gh.PullRequests.Create(ctx, owner, name, &github.NewPullRequest{
		Title: github.Ptr("Change " + branch), Head: github.Ptr(branch), Base: github.Ptr("main"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetHead().GetSHA() != sha {
		t.Fatalf("pull request head %s, pushed %s", pr.GetHead().GetSHA(), sha)
	}
	return sha
}

// pushFiles commits files to branch (creating it from main when create is
// set) through the contents API and returns the last commit.
func pushFiles(ctx context.Context, t *testing.T, gh *github.Client, repo, branch string, files map[string]string, create bool) string {
	t.Helper()
	owner, name, _ := strings.Cut(repo, "/")
	if create {
		main, _, err := gh.Git.GetRef(ctx, owner, name, "heads/main")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := gh.Git.CreateRef(ctx, owner, name, github.CreateRef{Ref: "refs/heads/" + branch, SHA: main.GetObject().GetSHA()}); err != nil {
			t.Fatal(err)
		}
	}
	sha := ""
	for path, content := range files {
		opts := &github.RepositoryContentFileOptions{Message: github.Ptr("Change " + path), Content: []byte(content), Branch: github.Ptr(branch)}
		if cur, _, _, err := gh.Repositories.GetContents(ctx, owner, name, path, &github.RepositoryContentGetOptions{Ref: branch}); err == nil && cur != nil {
			opts.SHA = cur.SHA
		}
		res, _, err := gh.Repositories.CreateFile(ctx, owner, name, path, opts)
		if err != nil {
			t.Fatal(err)
		}
		sha = res.Commit.GetSHA()
	}
	return sha
}

// processesUnder lists processes whose command line or working directory
// is inside dir: the control plane and any job bowline started.
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
		if err != nil {
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

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
