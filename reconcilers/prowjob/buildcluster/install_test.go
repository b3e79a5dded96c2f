package buildcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestInstallRoundTrip: what the cluster install stores for each build
// cluster (a Secret with one context named after the alias) and mounts
// into the operator (a file per cluster in the --kubeconfig-dir) is what
// the operator reads back as that alias.
func TestInstallRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "admin.kubeconfig")
	kubeconfig(t, src, map[string]string{"gke_project_zone_prow-build": "https://gke.example", "eks": "https://eks.example"})

	gke, err := ClusterKubeconfig("k8s-infra-prow-build", src, "gke_project_zone_prow-build")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(gke), "eks.example") {
		t.Error("the Secret holds another cluster's context")
	}
	if _, err := ClusterKubeconfig("eks", src, "nope"); err == nil || !strings.Contains(err.Error(), `no context "nope"`) {
		t.Errorf("a missing context: %v", err)
	}
	if _, err := ClusterKubeconfig("Not_An_Alias", src, ""); err == nil {
		t.Error("an alias that cannot name a Secret was accepted")
	}
	eks, err := ClusterKubeconfig("eks-prow-build-cluster", src, "eks")
	if err != nil {
		t.Fatal(err)
	}

	secrets := Secrets("bowline-system", map[string][]byte{"k8s-infra-prow-build": gke, "eks-prow-build-cluster": eks}, nil)
	if len(secrets) != 2 || secrets[0].Name != "bowline-build-cluster-eks-prow-build-cluster" || secrets[0].Namespace != "bowline-system" {
		t.Fatalf("secrets = %+v", secrets)
	}
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "operator", Args: []string{"operator"}}}}
	Mount(spec, 0, []string{"k8s-infra-prow-build", "eks-prow-build-cluster"})
	c := spec.Containers[0]
	if got := strings.Join(c.Args, " "); got != "operator --kubeconfig-dir="+MountDir {
		t.Errorf("args = %s", got)
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != MountDir || !c.VolumeMounts[0].ReadOnly {
		t.Errorf("mounts = %+v", c.VolumeMounts)
	}

	// Lay the projected volume out as the kubelet would, and load it.
	mount := filepath.Join(dir, "mount")
	if err := os.MkdirAll(mount, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, src := range spec.Volumes[0].Projected.Sources {
		var data []byte
		for _, s := range secrets {
			if s.Name == src.Secret.Name {
				data = s.Data[src.Secret.Items[0].Key]
			}
		}
		if err := os.WriteFile(filepath.Join(mount, src.Secret.Items[0].Path), data, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Options{KubeconfigDir: mount}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["k8s-infra-prow-build"].Host != "https://gke.example" || got["eks-prow-build-cluster"].Host != "https://eks.example" {
		t.Errorf("the operator reads %v", got)
	}
	if got["eks-prow-build-cluster"].BearerToken != "t-eks" {
		t.Error("the credentials did not make the round trip")
	}

	none := &corev1.PodSpec{Containers: []corev1.Container{{Name: "operator"}}}
	Mount(none, 0, nil)
	if len(none.Volumes) != 0 || len(none.Containers[0].Args) != 0 {
		t.Errorf("no build cluster changed the pod: %+v", none)
	}
}
