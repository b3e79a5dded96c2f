package bootstrap_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/bootstrap"
	"github.com/bowline-ci/bowline/reconcilers/prowjob/buildcluster"
)

// TestBuildClusterSecrets: each build cluster given to bootstrap becomes a
// Secret in the operator's namespace, and the operator's Deployment mounts
// them and reads them with --kubeconfig-dir; the API server accepts both.
func TestBuildClusterSecrets(t *testing.T) {
	kc, err := env.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	gke, err := buildcluster.ClusterKubeconfig("gke-build", kc, "")
	if err != nil {
		t.Fatal(err)
	}
	ns := env.Namespace(t)
	s := settings()
	s.Namespace = ns
	s.BuildClusters = map[string][]byte{"gke-build": gke}
	objs, err := bootstrap.Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	var secret *corev1.Secret
	var deploy *appsv1.Deployment
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Secret:
			secret = o
		case *appsv1.Deployment:
			deploy = o
		}
	}
	if secret == nil || secret.Name != "bowline-build-cluster-gke-build" || secret.Namespace != ns {
		t.Fatalf("secret = %+v", secret)
	}
	if deploy == nil || !slices.Contains(deploy.Spec.Template.Spec.Containers[0].Args, "--kubeconfig-dir="+buildcluster.MountDir) {
		t.Fatalf("the operator does not read the build clusters: %+v", deploy)
	}
	for _, o := range []client.Object{secret, deploy} {
		if err := env.Client.Create(context.Background(), o.DeepCopyObject().(client.Object), client.DryRunAll); err != nil {
			t.Errorf("%s: %v", o.GetName(), err)
		}
	}
	// The file the operator reads back holds the cluster under its alias.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gke-build.kubeconfig"), secret.Data[buildcluster.SecretKey], 0o400); err != nil {
		t.Fatal(err)
	}
	got, err := buildcluster.Options{KubeconfigDir: dir}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c := got["gke-build"]; c == nil || strings.TrimSuffix(c.Host, "/") != strings.TrimSuffix(env.Config.Host, "/") || len(c.KeyData) == 0 {
		t.Errorf("read back %d clusters; gke-build is not the API server with its credentials (host %q, want %q)", len(got), c.Host, env.Config.Host)
	}
}
