package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bowline-ci/bowline/bootstrap"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

func TestOperatorOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "defaults"},
		{name: "console logs", args: []string{"--log-format=console", "--log-level=debug"}},
		{name: "numeric verbosity", args: []string{"--log-level=3"}},
		{name: "bad log format", args: []string{"--log-format=xml"}, wantErr: "--log-format"},
		{name: "bad log level", args: []string{"--log-level=loud"}, wantErr: "--log-level"},
		{name: "negative verbosity", args: []string{"--log-level=-2"}, wantErr: "--log-level"},
		{name: "no probe address", args: []string{"--health-probe-bind-address="}, wantErr: "--health-probe-bind-address"},
		{name: "zero shutdown timeout", args: []string{"--shutdown-timeout=0s"}, wantErr: "--shutdown-timeout"},
		{name: "some components", args: []string{"--components=config,hook"}},
		{name: "one component", args: []string{"--components", "web"}},
		{name: "unknown component", args: []string{"--components=config,tide"}, wantErr: `unknown role "tide"`},
		{name: "all with others", args: []string{"--components=all,web"}, wantErr: "all cannot be combined"},
		{name: "no components", args: []string{"--components="}, wantErr: "--components"},
		{name: "data dir", args: []string{"--data-dir=/var/cache/bowline"}},
		{name: "no data dir", args: []string{"--data-dir="}, wantErr: "--data-dir"},
		{name: "fast leases", args: []string{"--leader-elect", "--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=1s"}},
		{name: "renew deadline past the lease", args: []string{"--leader-elect-lease-duration=5s", "--leader-elect-renew-deadline=5s"}, wantErr: "--leader-elect-lease-duration (5s) must be longer than --leader-elect-renew-deadline (5s)"},
		{name: "retries too slow to renew", args: []string{"--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=3s"}, wantErr: "--leader-elect-renew-deadline (3s) must be longer than 1.2 times --leader-elect-retry-period (3s)"},
		{name: "no retry period", args: []string{"--leader-elect-retry-period=0s"}, wantErr: "--leader-elect-retry-period must be positive"},
		{name: "deploy template", args: []string{"--deploy-template=bowline-operator", "--deploy-image-repositories=ghcr.io/bowline-ci/bowline,registry.example.com/bowline"}},
		{name: "a role's pods keep the deploy template", args: []string{"--components=hook", "--deploy-template=bowline-operator", "--deploy-image-repositories=ghcr.io/bowline-ci/bowline"}},
		{name: "deploy template without repositories", args: []string{"--deploy-template=bowline-operator"}, wantErr: "--deploy-template needs --deploy-image-repositories"},
		{name: "deploy template not a name", args: []string{"--deploy-template=Bowline_Operator", "--deploy-image-repositories=ghcr.io/bowline-ci/bowline"}, wantErr: `--deploy-template "Bowline_Operator"`},
		{name: "not an image repository", args: []string{"--deploy-template=bowline-operator", "--deploy-image-repositories=ghcr.io/Bowline"}, wantErr: `--deploy-image-repositories: "ghcr.io/Bowline" is not an image repository`},
	}
	// Every component is either set up by a role or refused by name, so
	// that --components never accepts what nothing runs.
	for _, c := range allComponents {
		if implemented(c) {
			tests = append(tests, struct {
				name    string
				args    []string
				wantErr string
			}{name: "implemented " + c, args: []string{"--components=" + c}})
			continue
		}
		tests = append(tests, struct {
			name    string
			args    []string
			wantErr string
		}{name: "not implemented " + c, args: []string{"--components=config," + c}, wantErr: c + " is not implemented yet"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &OperatorOptions{}
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := o.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// buildBowline compiles the binary the way `make build` does.
func buildBowline(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bowline")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
}

func waitHTTP(ctx context.Context, url string) (string, error) {
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b), nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s not ready: %w", url, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestOperatorProcess(t *testing.T) {
	ctrllog.SetLogger(logr.Discard()) // the test's own clients log nowhere
	env, kubeconfig := controlPlane(t)
	bin := buildBowline(t)
	metrics, probes := freePort(t), freePort(t)
	cmd := exec.Command(bin, "operator", "--kubeconfig", kubeconfig, "--data-dir", t.TempDir(), "--prowjob-namespace", "default",
		"--metrics-bind-address", metrics, "--health-probe-bind-address", probes,
		// Free ports rather than the defaults, which another bowline on
		// this machine may hold.
		"--web-addr", freePort(t), "--hook-addr", freePort(t))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	// Every line is kept, never blocking the operator: a reader that stops
	// reading would fill the pipe and stall the operator's logging, and so
	// the operator.
	var (
		mu       sync.Mutex
		lines    []string
		readDone = make(chan struct{})
	)
	go func() {
		defer close(readDone)
		s := bufio.NewScanner(stderr)
		s.Buffer(make([]byte, 64*1024), 1024*1024)
		for s.Scan() {
			mu.Lock()
			lines = append(lines, s.Text())
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		tail := lines[max(0, len(lines)-40):]
		t.Logf("the operator's last %d log lines:\n%s", len(tail), strings.Join(tail, "\n"))
	})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, path := range []string{"http://" + probes + "/healthz", "http://" + probes + "/readyz"} {
		if _, err := waitHTTP(ctx, path); err != nil {
			t.Fatal(err)
		}
	}
	// The config role reconciles a ConfigRepository.
	repo, sha := localConfigRepo(t)
	cr := &v1alpha1.ConfigRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "config"},
		Spec:       v1alpha1.ConfigRepositorySpec{URL: repo},
	}
	if err := env.Client.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	for {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(cr), cr); err != nil {
			t.Fatal(err)
		}
		if c := meta.FindStatusCondition(cr.Status.Conditions, v1alpha1.ConditionReady); c != nil && c.Status == metav1.ConditionTrue {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ConfigRepository not Ready: %+v", cr.Status.Conditions)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if want := "main@sha1:" + sha; cr.Status.LastAppliedRevision != want {
		t.Errorf("applied %q, want %q", cr.Status.LastAppliedRevision, want)
	}

	body, err := waitHTTP(ctx, "http://"+metrics+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "# TYPE") {
		t.Errorf("/metrics does not look like Prometheus exposition:\n%.300s", body)
	}
	if !strings.Contains(body, "bowline_configrepo_reconcile_duration_seconds") {
		t.Error("/metrics lacks the ConfigRepository reconciler's metrics")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("operator exited with %v after SIGTERM", err)
		}
	case <-time.After(bootstrap.TerminationGracePeriod):
		// The kubelet's limit for the Deployment bootstrap installs.
		t.Fatalf("operator still running %s after SIGTERM", bootstrap.TerminationGracePeriod)
	}

	// GitHub credentials are checked at start: a rejected token stops the
	// operator at once, saying which file holds it.
	forge := forgetest.Start(t, credentialsSeed)
	badToken := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(badToken, []byte("not-a-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "operator", "--kubeconfig", kubeconfig, "--data-dir", t.TempDir(),
		"--metrics-bind-address", "0", "--health-probe-bind-address", freePort(t),
		"--web-addr", freePort(t), "--hook-addr", freePort(t),
		"--github-token-path", badToken, "--github-endpoint", forge.URL+"/").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "GitHub rejected the token in "+badToken) || !strings.Contains(string(out), "--github-token-path") {
		t.Errorf("the operator with a rejected token: %v\n%s", err, out)
	}

	<-readDone
	var n int
	for _, line := range lines {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if entry["msg"] == nil || entry["level"] == nil || entry["ts"] == nil {
			t.Errorf("log line lacks msg, level or ts: %q", line)
		}
		n++
	}
	if n == 0 {
		t.Error("the operator wrote no log lines")
	}
}

// localConfigRepo makes a git repository with a small valid configuration
// and returns its path and head commit.
func localConfigRepo(t *testing.T) (dir, sha string) {
	t.Helper()
	dir = t.TempDir()
	files := map[string]string{
		"config/prow/config.yaml":     "prowjob_namespace: default\n",
		"config/jobs/example/ci.yaml": "periodics:\n- name: ci-periodic\n  interval: 1h\n  spec:\n    containers:\n    - image: alpine\n      command: [\"true\"]\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "--quiet", "--initial-branch=main")
	git("add", ".")
	git("commit", "--quiet", "-m", "Config")
	return dir, git("rev-parse", "HEAD")
}

// controlPlane starts a control plane of the test's own, for an operator
// process that acts on the whole cluster, and writes a kubeconfig for it.
func controlPlane(t *testing.T) (*envtest.Env, string) {
	t.Helper()
	env, err := envtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	kubeconfig, err := env.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return env, kubeconfig
}
