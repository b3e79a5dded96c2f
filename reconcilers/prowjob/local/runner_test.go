package local

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// gitRepo makes a repository with main and refs/pull/1/head, returning its
// directory and the pull request's head.
func gitRepo(t *testing.T) (string, string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	dir := filepath.Join(t.TempDir(), "origin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "--quiet", "-b", "main")
	write("README", "widgets\n")
	git("add", ".")
	git("commit", "--quiet", "-m", "base")
	git("checkout", "--quiet", "-b", "pr")
	write("feature.txt", "new\n")
	git("add", ".")
	git("commit", "--quiet", "-m", "feature")
	sha := git("rev-parse", "HEAD")
	git("update-ref", "refs/pull/1/head", sha)
	git("checkout", "--quiet", "main")
	return dir, sha
}

type harness struct {
	runner *Runner
	store  *artifacts.Store
	// notified receives each notification, "namespace/name".
	notified chan string
}

func newHarness(t *testing.T, edits ...func(*Options)) *harness {
	t.Helper()
	bucket := filepath.Join(t.TempDir(), "bucket")
	h := &harness{notified: make(chan string, 64)}
	opts := Options{
		Root:              filepath.Join(t.TempDir(), "ws"),
		Bucket:            bucket,
		Env:               []string{"EXTRA=from-runner"},
		LogUploadInterval: 20 * time.Millisecond,
		Notify: func(ns, name string) {
			select {
			case h.notified <- ns + "/" + name:
			default:
			}
		},
	}
	for _, edit := range edits {
		edit(&opts)
	}
	r, err := NewRunner(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	h.runner = r
	h.store, err = artifacts.Open(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.store.Close() })
	return h
}

func presubmit(name, origin, sha string, command ...string) *v1alpha1.ProwJob {
	return &v1alpha1.ProwJob{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ci"},
		Spec: v1alpha1.ProwJobSpec{
			Type:  v1alpha1.PresubmitJob,
			Agent: v1alpha1.LocalAgent,
			Job:   "unit",
			Refs: &v1alpha1.Refs{Org: "acme", Repo: "widgets", BaseRef: "main", CloneURI: origin,
				Pulls: []v1alpha1.Pull{{Number: 1, SHA: sha}}},
			PodSpec: &corev1.PodSpec{Containers: []corev1.Container{{
				Name: "test", Image: "ignored", Command: command[:1], Args: command[1:],
				Env: []corev1.EnvVar{{Name: "GREETING", Value: "hello $(EXTRA)"}},
			}}},
			DecorationConfig: &v1alpha1.DecorationConfig{GracePeriod: &metav1.Duration{Duration: 5 * time.Second}},
		},
		Status: v1alpha1.ProwJobStatus{BuildID: "1001"},
	}
}

func (h *harness) read(t *testing.T, key string) string {
	t.Helper()
	b, err := h.store.ReadFile(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wait(t *testing.T, run *Run) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestFailingJobLeavesLogAndArtifacts(t *testing.T) {
	h := newHarness(t)
	origin, sha := gitRepo(t)
	pj := presubmit("run-fail", origin, sha, "sh", "-c",
		`echo hi; echo "$JOB_NAME $PULL_NUMBER $GREETING"; echo "$0"; test -f feature.txt && echo merged; mkdir -p $ARTIFACTS; echo x > $ARTIFACTS/a.txt; exit 1`,
		"--job=$(JOB_NAME)")
	run, err := h.runner.Start(context.Background(), pj)
	if err != nil {
		t.Fatal(err)
	}
	res := wait(t, run)
	if res.State != v1alpha1.FailureState || res.ExitCode != 1 || res.Description != "Job failed." {
		t.Errorf("result = %+v, want failure with exit code 1", res)
	}
	dir := "pr-logs/pull/acme_widgets/1/unit/1001"
	if res.RunPath != dir {
		t.Errorf("run path = %s", res.RunPath)
	}
	log := h.read(t, dir+"/build-log.txt")
	for _, want := range []string{"hi\n", "unit 1 hello from-runner\n", "--job=unit\n", "merged\n"} {
		if !strings.Contains(log, want) {
			t.Errorf("build-log.txt lacks %q:\n%s", want, log)
		}
	}
	if got := h.read(t, dir+"/artifacts/a.txt"); got != "x\n" {
		t.Errorf("artifact a.txt = %q", got)
	}
	var fin podutils.Finished
	if err := json.Unmarshal([]byte(h.read(t, dir+"/finished.json")), &fin); err != nil {
		t.Fatal(err)
	}
	if fin.Passed == nil || *fin.Passed || fin.Result != "FAILURE" || fin.Revision != sha {
		t.Errorf("finished.json = %+v", fin)
	}
	if started := h.read(t, dir+"/started.json"); !strings.Contains(started, `"pull": "1"`) {
		t.Errorf("started.json = %s", started)
	}
	if recs := h.read(t, dir+"/clone-records.json"); !strings.Contains(recs, `"failed": false`) {
		t.Errorf("clone-records.json = %s", recs)
	}
	if st := run.Status(); st.Phase != PhaseFinished || st.Result == nil || st.Result.State != v1alpha1.FailureState {
		t.Errorf("status = %+v", st)
	}
	if _, err := os.Stat(run.Workspace()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("workspace left behind: %v", err)
	}
	// One notification when the command started, one when the run ended.
	for range 2 {
		select {
		case got := <-h.notified:
			if got != "ci/run-fail" {
				t.Errorf("notified %s", got)
			}
		case <-time.After(time.Minute):
			t.Fatal("missing notification: want one per phase change")
		}
	}
}

func TestPassingJobAndStartIsIdempotent(t *testing.T) {
	h := newHarness(t)
	origin, sha := gitRepo(t)
	pj := presubmit("run-pass", origin, sha, "sh", "-c", `test "$CI" = true && test -z "$GITHUB_TOKEN"`)
	t.Setenv("GITHUB_TOKEN", "operator-secret")
	run, err := h.runner.Start(context.Background(), pj)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.runner.Start(context.Background(), pj)
	if err != nil || again != run {
		t.Errorf("second Start() = %p, %v; want the same run %p", again, err, run)
	}
	if res := wait(t, run); res.State != v1alpha1.SuccessState {
		t.Errorf("result = %+v (the operator's environment must not leak into jobs)", res)
	}
	if got, ok := h.runner.Get("ci", "run-pass"); !ok || got != run {
		t.Error("Get() did not find the run")
	}
	h.runner.Forget("ci", "run-pass")
	if _, ok := h.runner.Get("ci", "run-pass"); ok {
		t.Error("Forget() kept the run")
	}
}

// lineWriter signals when a line has been written.
type lineWriter struct {
	mu   sync.Mutex
	buf  strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(stat))
	return len(f) > 2 && f[2] != "Z"
}

func TestAbortWhileRunningKillsTheProcessGroup(t *testing.T) {
	h := newHarness(t)
	origin, sha := gitRepo(t)
	pj := presubmit("run-abort", origin, sha, "sh", "-c",
		`mkdir -p $ARTIFACTS; sleep 300 & echo $! > $ARTIFACTS/child.pid; echo started; wait`)
	run, err := h.runner.Start(context.Background(), pj)
	if err != nil {
		t.Fatal(err)
	}
	// Follow the log from the bucket while the job runs.
	w := &lineWriter{want: "started\n", seen: make(chan struct{})}
	tailCtx, stopTail := context.WithCancel(context.Background())
	defer stopTail()
	tailed := make(chan error, 1)
	go func() {
		_, err := h.store.Tail(tailCtx, run.RunPath(), 0, w, 10*time.Millisecond)
		tailed <- err
	}()
	select {
	case <-w.seen:
	case <-run.Done():
		t.Fatalf("run ended before its log was seen: %+v", run.Status().Result)
	}
	if st := run.Status(); st.Phase != PhaseRunning {
		t.Errorf("phase while the log grows = %s", st.Phase)
	}
	raw, err := os.ReadFile(filepath.Join(run.Workspace(), "logs", "artifacts", "child.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || !alive(pid) {
		t.Fatalf("child %q not running before the abort", raw)
	}

	run.Abort()
	res := wait(t, run)
	if res.State != v1alpha1.AbortedState || res.Description != "Job aborted." {
		t.Errorf("result = %+v, want aborted", res)
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if alive(pid) {
		t.Errorf("child %d outlived the abort", pid)
	}
	if err := <-tailed; err != nil {
		t.Errorf("tail: %v", err)
	}
	if fin := h.read(t, res.RunPath+"/finished.json"); !strings.Contains(fin, `"ABORTED"`) {
		t.Errorf("finished.json = %s", fin)
	}
	if got := h.read(t, res.RunPath+"/artifacts/child.pid"); strings.TrimSpace(got) != strconv.Itoa(pid) {
		t.Errorf("artifacts not uploaded after the abort: %q", got)
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"JOB_NAME": "unit", "A": "x"}
	tests := map[string]string{
		"--job=$(JOB_NAME)":   "--job=unit",
		"$(A)$(A)-$(MISSING)": "xx-$(MISSING)",
		"$$(A) stays":         "$(A) stays",
		"plain $A":            "plain $A",
	}
	for in, want := range tests {
		if got := expand(in, vars); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTimeout(t *testing.T) {
	h := newHarness(t)
	pj := presubmit("run-timeout", "", "", "sleep", "300")
	pj.Spec.Type = v1alpha1.PeriodicJob
	pj.Spec.Refs = nil
	pj.Spec.DecorationConfig = &v1alpha1.DecorationConfig{
		Timeout:     &metav1.Duration{Duration: 100 * time.Millisecond},
		GracePeriod: &metav1.Duration{Duration: 100 * time.Millisecond},
	}
	run, err := h.runner.Start(context.Background(), pj)
	if err != nil {
		t.Fatal(err)
	}
	res := wait(t, run)
	if res.State != v1alpha1.FailureState || !res.TimedOut || res.Description != "Job timed out." {
		t.Errorf("result = %+v, want a timed-out failure", res)
	}
	if log := h.read(t, "logs/unit/1001/build-log.txt"); !strings.Contains(log, "timeout") {
		t.Errorf("build-log.txt = %q", log)
	}
}

func TestStartRejectsJobsThatCannotRunHere(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name string
		edit func(*v1alpha1.ProwJob)
		want string
	}{
		{name: "missing command", edit: func(pj *v1alpha1.ProwJob) {
			pj.Spec.PodSpec.Containers[0].Command = []string{"bowline-no-such-tool"}
		}, want: "not available on this host"},
		{name: "no command", edit: func(pj *v1alpha1.ProwJob) { pj.Spec.PodSpec.Containers[0].Command = nil }, want: "explicit command"},
		{name: "no build ID", edit: func(pj *v1alpha1.ProwJob) { pj.Status.BuildID = "" }, want: "build ID"},
		{name: "secret env", edit: func(pj *v1alpha1.ProwJob) {
			pj.Spec.PodSpec.Containers[0].Env = []corev1.EnvVar{{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}}}
		}, want: "cannot resolve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pj := presubmit("run-bad", "/nowhere", "", "sh", "-c", "true")
			tt.edit(pj)
			_, err := h.runner.Start(context.Background(), pj)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start() error = %v, want one mentioning %q", err, tt.want)
			}
			if _, ok := h.runner.Get("ci", "run-bad"); ok {
				t.Error("a rejected job was registered")
			}
		})
	}
}

func TestCloneFailureFailsTheRun(t *testing.T) {
	h := newHarness(t)
	pj := presubmit("run-noclone", filepath.Join(t.TempDir(), "missing"), "", "sh", "-c", "echo should not run")
	run, err := h.runner.Start(context.Background(), pj)
	if err != nil {
		t.Fatal(err)
	}
	res := wait(t, run)
	if res.State != v1alpha1.FailureState || !strings.Contains(res.Description, "cloned") {
		t.Errorf("result = %+v", res)
	}
	if log := h.read(t, res.RunPath+"/clone-log.txt"); !strings.Contains(log, "# FAILED") {
		t.Errorf("clone-log.txt = %s", log)
	}
	if ok, _ := h.store.Exists(context.Background(), res.RunPath+"/build-log.txt"); ok {
		t.Error("the test command ran after a failed clone")
	}
}

func TestShutdownAbortsRuns(t *testing.T) {
	h := newHarness(t)
	pj := presubmit("run-shutdown", "", "", "sleep", "300")
	pj.Spec.Type = v1alpha1.PeriodicJob
	pj.Spec.Refs = nil
	run, err := h.runner.Start(context.Background(), pj)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.runner.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-run.Done():
	default:
		t.Fatal("Shutdown() returned before the run ended")
	}
	if st := run.Status(); st.Result.State != v1alpha1.AbortedState {
		t.Errorf("result = %+v", st.Result)
	}
	late := presubmit("run-late", "", "", "true")
	late.Spec.Type = v1alpha1.PeriodicJob
	late.Spec.Refs = nil
	if _, err := h.runner.Start(context.Background(), late); !errors.Is(err, ErrShutDown) {
		t.Errorf("Start() after Shutdown = %v, want ErrShutDown", err)
	}
}
