package decorate

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/podutils/clonerefs"
	"github.com/bowline-ci/bowline/podutils/entrypoint"
	"github.com/bowline-ci/bowline/podutils/initupload"
	"github.com/bowline-ci/bowline/podutils/sidecar"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// kubelet plays the part of the kubelet for a decorated pod: it runs each
// utility from the options the pod gives it, with the pod's absolute paths
// moved under a temporary root, so that the test shows the containers'
// options fit together (the same markers, logs, clone records and bucket).
type kubelet struct {
	t    *testing.T
	root string
}

func (k *kubelet) options(c corev1.Container, name string, into any) {
	k.t.Helper()
	raw := ""
	for _, e := range c.Env {
		if e.Name == name {
			raw = e.Value
		}
	}
	if raw == "" {
		k.t.Fatalf("container %s has no %s", c.Name, name)
	}
	for _, dir := range []string{LogsMount, ToolsMount, CodeMount} {
		raw = strings.ReplaceAll(raw, `"`+dir, `"`+filepath.Join(k.root, dir))
	}
	if err := json.Unmarshal([]byte(raw), into); err != nil {
		k.t.Fatal(err)
	}
}

func TestDecoratedPodRunsEndToEnd(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	origin := filepath.Join(t.TempDir(), "origin")
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = origin
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if err := os.MkdirAll(origin, 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "--quiet", "-b", "main")
	git("commit", "--quiet", "--allow-empty", "-m", "base")
	base := git("rev-parse", "HEAD")
	git("checkout", "--quiet", "-b", "pr")
	if err := os.WriteFile(filepath.Join(origin, "fix.txt"), []byte("fixed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	git("commit", "--quiet", "-m", "fix")
	head := git("rev-parse", "HEAD")
	git("update-ref", "refs/pull/42/head", head)

	bucket := filepath.Join(t.TempDir(), "bucket")
	pj := prowJob(func(pj *v1alpha1.ProwJob) {
		pj.Spec.Refs.CloneURI = origin
		pj.Spec.Refs.BaseSHA = base
		pj.Spec.Refs.Pulls[0].SHA = head
		pj.Spec.PodSpec.Containers[0].Command = []string{"sh", "-c"}
		pj.Spec.PodSpec.Containers[0].Args = []string{`cat fix.txt; echo "$PULL_NUMBER"; mkdir -p $ARTIFACTS; echo ok > $ARTIFACTS/result.txt`}
		pj.Spec.DecorationConfig.GCSConfiguration = &v1alpha1.GCSConfiguration{Bucket: "file://" + bucket}
		pj.Spec.DecorationConfig.GracePeriod = &metav1.Duration{Duration: time.Second}
	})
	pod, err := Pod(pj, Options{Image: "bowline:test"})
	if err != nil {
		t.Fatal(err)
	}
	k := &kubelet{t: t, root: t.TempDir()}
	ctx := context.Background()
	var spec podutils.JobSpec
	for _, e := range pod.Spec.InitContainers[0].Env {
		if e.Name == "JOB_SPEC" {
			if err := json.Unmarshal([]byte(e.Value), &spec); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Init containers, in order.
	if err := entrypoint.CopySelf(filepath.Join(k.root, ToolsMount, "bowline")); err != nil {
		t.Fatal(err)
	}
	var copts clonerefs.Options
	k.options(pod.Spec.InitContainers[1], clonerefs.OptionsEnv, &copts)
	if _, err := clonerefs.Run(ctx, copts); err != nil {
		t.Fatal(err)
	}
	var iopts initupload.Options
	k.options(pod.Spec.InitContainers[2], initupload.OptionsEnv, &iopts)
	if err := initupload.Run(ctx, iopts, spec); err != nil {
		t.Fatal(err)
	}

	// The test container and the sidecar, side by side.
	var sopts sidecar.Options
	k.options(pod.Spec.Containers[1], sidecar.OptionsEnv, &sopts)
	sopts.MarkerPollInterval = podutils.Duration{Duration: 5 * time.Millisecond}
	done := make(chan sidecar.Result, 1)
	go func() {
		res, err := sidecar.Run(ctx, sopts, spec)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	test := pod.Spec.Containers[0]
	var eopts entrypoint.Options
	k.options(test, entrypoint.OptionsEnv, &eopts)
	eopts.Dir = filepath.Join(k.root, test.WorkingDir)
	for _, e := range test.Env {
		eopts.Env = append(eopts.Env, e.Name+"="+e.Value)
	}
	eopts.Env = append(eopts.Env, "PATH="+os.Getenv("PATH"), "ARTIFACTS="+filepath.Join(k.root, ArtifactsDir))
	res, err := entrypoint.Run(ctx, eopts)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("test container: %+v, %v\n%s", res, err, readOrEmpty(eopts.ProcessLog))
	}
	if got := <-done; got.Result != podutils.ResultSuccess {
		t.Errorf("sidecar = %+v", got)
	}

	store, err := artifacts.Open(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	run := "pr-logs/pull/acme_widgets/42/pull-widgets-unit/1730000000000000001"
	objs, err := store.List(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.Name)
	}
	if got, want := strings.Join(names, ","), "artifacts/result.txt,build-log.txt,clone-log.txt,clone-records.json,finished.json,started.json"; got != want {
		t.Errorf("run files = %s, want %s", got, want)
	}
	if b, _ := store.ReadFile(ctx, run+"/build-log.txt"); string(b) != "fixed\n42\n" {
		t.Errorf("build-log.txt = %q: want the merged file and the PR number", b)
	}
}

func readOrEmpty(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}
