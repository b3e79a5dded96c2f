package e2e

import (
	"bufio"
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	examples "github.com/bowline-ci/bowline/config-examples"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

// TestUpUserSession runs `bowline up --config-repo DIR` with DIR a plain
// directory holding the quickstart configuration, as the README suggests,
// and does what people then do: runs the demo command exactly as bowline
// printed it, from the repository root, and waits for the presubmit's
// status; starts a second `bowline up` on the same data directory, which
// fails at once; has eve, who is not a member of the demo org, open a pull
// request with the same command (from her fork, which bowline treats as
// untrusted until a member says /ok-to-test); and edits DIR to see the
// change applied.
func TestUpUserSession(t *testing.T) {
	dir := t.TempDir()
	fsys, err := examples.FS("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	if err := copyTree(fsys, "config", filepath.Join(dir, "config")); err != nil {
		t.Fatal(err)
	}
	p := startUp(t, "--config-repo", dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// A second bowline up on the same data directory.
	start := time.Now()
	out, err := exec.Command(p.cmd.Path, "up", "--data-dir", p.dataDir, "--addr", anyPort, "--sandbox-addr", anyPort).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is in use by another bowline up") {
		t.Errorf("a second bowline up on the same data directory: %v\n%s", err, out)
	}
	t.Logf("a second bowline up failed in %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(string(out)))

	// The demo command, as printed, from the repository root.
	demo := printedDemoCommand(t, p.out.String())
	cmd := exec.CommandContext(ctx, "sh", "-c", demo)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Opened demo/hello#") {
		t.Fatalf("the printed demo command %q: %v\n%s", demo, err, out)
	}
	gh := p.sandboxClient(t, p.ready.Sandbox.Token)
	prs, _, err := gh.PullRequests.List(ctx, "demo", "hello", nil)
	if err != nil || len(prs) != 1 {
		t.Fatalf("pull requests after the demo command: %v %v", prs, err)
	}
	waitStatus(ctx, t, gh, p, prs[0].GetHead().GetSHA(), "success")

	// eve, an outsider, opens one from her fork: it waits for /ok-to-test.
	sandbox := func(token string, args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, p.cmd.Path, append(append([]string{"sandbox"}, args...),
			"--url", p.ready.Sandbox.URL, "--token", token, "--repo", "demo/hello")...).CombinedOutput()
		if err != nil {
			t.Fatalf("bowline sandbox %s: %v\n%s", args[0], err, out)
		}
		return string(out)
	}
	out = []byte(sandbox("eve-token", "pr", "open", "--head", "from-eve", "--title", "From eve", "--file", "NOTES.md=From eve."))
	if !strings.Contains(string(out), "Forked demo/hello to eve/hello") || !strings.Contains(string(out), "(eve:from-eve → main)") {
		t.Fatalf("eve's pr open printed:\n%s", out)
	}
	var fromEve *github.PullRequest
	for fromEve == nil || !hasLabel(fromEve, "needs-ok-to-test") {
		select {
		case <-ctx.Done():
			t.Fatal("eve's pull request was not labelled needs-ok-to-test")
		case <-time.After(200 * time.Millisecond):
		}
		fromEve, _, _ = gh.PullRequests.Get(ctx, "demo", "hello", 2)
	}
	if fromEve.GetHead().GetRepo().GetFullName() != "eve/hello" {
		t.Errorf("eve's pull request comes from %s, want her fork", fromEve.GetHead().GetRepo().GetFullName())
	}
	if st, _, err := gh.Repositories.GetCombinedStatus(ctx, "demo", "hello", fromEve.GetHead().GetSHA(), nil); err != nil {
		t.Error(err)
	} else {
		for _, s := range st.Statuses {
			if s.GetContext() == "pull-hello-test" {
				t.Errorf("an untrusted pull request ran its presubmit before /ok-to-test: %s", s.GetState())
			}
		}
	}
	sandbox(p.ready.Sandbox.Token, "comment", "--number", "2", "--body", "/ok-to-test")
	waitStatus(ctx, t, gh, p, fromEve.GetHead().GetSHA(), "success")

	// An edit of the directory is applied without a restart.
	c := upClient(t, p)
	repo := &v1alpha1.ConfigRepository{}
	key := client.ObjectKey{Namespace: "default", Name: "config"}
	if err := c.Get(ctx, key, repo); err != nil {
		t.Fatal(err)
	}
	before := repo.Status.LastAppliedRevision
	job := filepath.Join(dir, "config", "jobs", "demo", "hello", "more.yaml")
	if err := os.WriteFile(job, []byte("presubmits:\n  demo/hello:\n  - name: pull-hello-more\n    always_run: true\n    spec:\n      containers:\n      - image: alpine\n        command: [\"true\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for {
		if err := c.Get(ctx, key, repo); err != nil {
			t.Fatal(err)
		}
		if s := repo.Status.Summary; repo.Status.LastAppliedRevision != before && s != nil && s.Presubmits == 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the edit was not applied: %+v", repo.Status)
		case err := <-p.exited:
			t.Fatalf("bowline up exited: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	p.stop(t)
}

// TestUpConfigRepositoryUnreachable starts bowline with a config
// repository nobody serves: it must fail as soon as the first fetch
// fails, naming the repository.
func TestUpConfigRepositoryUnreachable(t *testing.T) {
	url := "http://" + freeAddr(t) + "/acme/ci-config.git"
	out, took, err := runUpUntilExit(t, 3*time.Minute, "--config-repo", url)
	if err == nil {
		t.Fatalf("bowline up succeeded:\n%s", out)
	}
	last := lastLine(out)
	for _, want := range []string{"Error: the config repository " + url + " cannot be fetched", "check --config-repo"} {
		if !strings.Contains(last, want) {
			t.Errorf("last line %q does not say %q", last, want)
		}
	}
	t.Logf("failed %s after start (the control plane's start included): %s", took.Round(time.Millisecond), last)
}

// TestUpInterruptedWhileStarting sends SIGTERM while the control plane
// starts: bowline must stop, without a stack trace and without leaving a
// process behind.
func TestUpInterruptedWhileStarting(t *testing.T) {
	bin := buildBowline(t)
	binDir, err := envtest.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(bin, "up", "--data-dir", dataDir, "--bin-dir", binDir, "--addr", anyPort, "--sandbox-addr", anyPort)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var said strings.Builder
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		said.WriteString(lines.Text() + "\n")
		if strings.HasPrefix(lines.Text(), "Starting the local control plane") {
			break
		}
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stdout)
	said.Write(rest)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(time.Minute):
		t.Fatalf("bowline up still running a minute after SIGTERM:\n%s%s", said.String(), stderr.String())
	}
	t.Logf("stopped %s after SIGTERM (%v): %s", time.Since(sent).Round(time.Millisecond), err, strings.TrimSpace(stderr.String()))
	if strings.Contains(stderr.String(), "goroutine ") || strings.Contains(stderr.String(), "panic") {
		t.Errorf("bowline up ended in a stack trace:\n%s", stderr.String())
	}
	if left := processesUnder(dataDir); len(left) > 0 {
		t.Errorf("processes left running: %v", left)
	}
}

// runUpUntilExit runs `bowline up` with args in a fresh data directory
// and returns what it printed, how long it ran and how it ended.
func runUpUntilExit(t *testing.T, limit time.Duration, args ...string) (string, time.Duration, error) {
	t.Helper()
	bin := buildBowline(t)
	binDir, err := envtest.BinDir()
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(bin, append([]string{"up", "--data-dir", dataDir, "--bin-dir", binDir, "--addr", anyPort, "--sandbox-addr", anyPort}, args...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		t.Fatalf("bowline up still running after %s:\n%s", limit, out.String())
	}
	if left := processesUnder(dataDir); len(left) > 0 {
		t.Errorf("processes left running: %v", left)
	}
	return out.String(), time.Since(start), err
}

func buildBowline(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bowline")
	build := exec.Command("go", "build", "-o", bin, "../../operator")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

func hasLabel(pr *github.PullRequest, name string) bool {
	for _, l := range pr.Labels {
		if l.GetName() == name {
			return true
		}
	}
	return false
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// printedDemoCommand is the demo command bowline up printed, its
// continuation lines joined.
func printedDemoCommand(t *testing.T, out string) string {
	t.Helper()
	_, after, ok := strings.Cut(out, "Open a demo pull request:\n\n")
	if !ok {
		t.Fatalf("bowline up printed no demo command:\n%s", out)
	}
	block, _, _ := strings.Cut(after, "\n\n")
	return strings.TrimSpace(strings.ReplaceAll(block, "\\\n", ""))
}

// waitStatus waits until the combined status of sha's jobs is want (the
// tide status left out).
func waitStatus(ctx context.Context, t *testing.T, gh *github.Client, p *upProcess, sha, want string) {
	t.Helper()
	for {
		st, _, err := gh.Repositories.GetCombinedStatus(ctx, "demo", "hello", sha, nil)
		if err == nil {
			if state, contexts := jobsState(st); state == want && len(contexts) > 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the status of %s did not turn %s (last: %v, %v)", sha, want, st, err)
		case err := <-p.exited:
			t.Fatalf("bowline up exited: %v", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// upClient is a client of the control plane of a running bowline up.
func upClient(t *testing.T, p *upProcess) client.Client {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", p.ready.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	ctrllog.SetLogger(logr.Discard()) // the test's client has nothing to say
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// copyTree copies dir of fsys to dst.
func copyTree(fsys fs.FS, dir, dst string) error {
	return fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		target := filepath.Join(dst, filepath.FromSlash(rel))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}
