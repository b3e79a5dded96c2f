package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/reconcilers/prowjob/buildcluster"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestOperatorBuildClusters runs the operator binary with a kubeconfig set
// in --kubeconfig-dir, as Prow's components take one: the clusters' health
// shows as conditions of the ConfigRepository, and a job naming a cluster
// outside the set fails its revision at load.
func TestOperatorBuildClusters(t *testing.T) {
	env, kubeconfig := controlPlane(t)
	// The set: "gke-build" reaches the API server, "down" nothing.
	dir := t.TempDir()
	gke, err := buildcluster.ClusterKubeconfig("gke-build", kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gke-build.kubeconfig"), gke, 0o600); err != nil {
		t.Fatal(err)
	}
	down, err := clientcmd.Load(gke)
	if err != nil {
		t.Fatal(err)
	}
	down.Clusters["down"], down.AuthInfos["down"] = down.Clusters["gke-build"], down.AuthInfos["gke-build"]
	down.Clusters["down"].Server = "https://127.0.0.1:1"
	down.Contexts["down"] = down.Contexts["gke-build"]
	down.Contexts["down"].Cluster, down.Contexts["down"].AuthInfo = "down", "down"
	delete(down.Contexts, "gke-build")
	delete(down.Clusters, "gke-build")
	delete(down.AuthInfos, "gke-build")
	down.CurrentContext = "down"
	if err := clientcmd.WriteToFile(*down, filepath.Join(dir, "down.kubeconfig")); err != nil {
		t.Fatal(err)
	}

	repo, _ := localConfigRepo(t)
	bin := buildBowline(t)
	probes := freePort(t)
	cmd := exec.Command(bin, "operator", "--kubeconfig", kubeconfig, "--kubeconfig-dir", dir, "--data-dir", t.TempDir(),
		"--config-repository", "default/config", "--prowjob-namespace", "default", "--metrics-bind-address", "0",
		"--health-probe-bind-address", probes, "--web-addr", freePort(t), "--hook-addr", freePort(t))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := waitHTTP(ctx, "http://"+probes+"/readyz"); err != nil {
		t.Fatal(err)
	}
	cr := &v1alpha1.ConfigRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "config"},
		Spec:       v1alpha1.ConfigRepositorySpec{URL: repo, Interval: &metav1.Duration{Duration: time.Second}},
	}
	if err := env.Client.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	// The contexts of --kubeconfig count too: envtest's is "envtest".
	want := map[string]string{"default": "Ready", "gke-build": "Ready", "envtest": "Ready", "down": "Unreachable"}
	waitFor(ctx, t, "build cluster conditions", func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(cr), cr); err != nil {
			return err
		}
		for alias, reason := range want {
			c := meta.FindStatusCondition(cr.Status.Conditions, buildcluster.ConditionType(alias))
			if c == nil || c.Reason != reason {
				return fmt.Errorf("%s: %+v", alias, c)
			}
		}
		return nil
	})

	// A job in a cluster outside the set fails the next revision.
	commit(t, repo, "config/jobs/example/ci.yaml", "periodics:\n- name: ci-eks\n  cluster: eks\n  interval: 1h\n  spec:\n    containers:\n    - image: alpine\n      command: [\"true\"]\n")
	waitFor(ctx, t, "an unknown cluster refused", func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(cr), cr); err != nil {
			return err
		}
		if len(cr.Status.ValidationErrors) == 0 || !strings.Contains(cr.Status.ValidationErrors[0], `cluster "eks" is not a known build cluster (known: default, down, envtest, gke-build)`) {
			return fmt.Errorf("validation errors %q", cr.Status.ValidationErrors)
		}
		return nil
	})
}

func waitFor(ctx context.Context, t *testing.T, what string, fn func() error) {
	t.Helper()
	for {
		err := fn()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// commit writes a file into the repository at dir and commits it.
func commit(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"add", "-A"}, {"commit", "-q", "-m", "change"}} {
		c := exec.Command("git", args...)
		c.Dir = dir
		c.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}
