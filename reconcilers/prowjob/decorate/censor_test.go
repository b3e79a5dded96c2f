package decorate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/podutils/entrypoint"
	"github.com/bowline-ci/bowline/podutils/sidecar"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestSecretsGivenAsEnvAreCensored: a job that takes a token from a
// Secret through its environment and prints it. With censorSecrets, the
// sidecar gets that Secret too (as the kubelet would mount it, here under
// a temporary root), and the token is not in the uploaded log.
func TestSecretsGivenAsEnvAreCensored(t *testing.T) {
	yes := true
	bucket := filepath.Join(t.TempDir(), "bucket")
	pj := prowJob(func(pj *v1alpha1.ProwJob) {
		pj.Spec.DecorationConfig.CensorSecrets = &yes
		pj.Spec.DecorationConfig.GCSConfiguration = &v1alpha1.GCSConfiguration{Bucket: "file://" + bucket}
		c := &pj.Spec.PodSpec.Containers[0]
		c.Env = append(c.Env,
			corev1.EnvVar{Name: "DEPLOY_TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "deploy-token"}, Key: "token"}}},
			corev1.EnvVar{Name: "MAYBE", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "maybe"}, Key: "k", Optional: &yes}}})
		c.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "registry"}}}}
	})
	pod, err := Pod(pj, Options{Image: "bowline:test"})
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]map[string]string{
		"deploy-token": {"token": "dpl-7f3a9c2e51b4"},
		"registry":     {"REGISTRY_PASSWORD": "reg-pass-0b1c2d"},
	}
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		vols[v.Name] = v
	}
	k := &kubelet{t: t, root: t.TempDir()}
	sc := pod.Spec.Containers[len(pod.Spec.Containers)-1]
	optional := map[string]bool{}
	for _, m := range sc.VolumeMounts {
		v := vols[m.Name]
		if v.Secret == nil {
			continue
		}
		optional[v.Secret.SecretName] = v.Secret.Optional != nil && *v.Secret.Optional
		for key, value := range secrets[v.Secret.SecretName] {
			p := filepath.Join(k.root, m.MountPath, key)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(value), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range []string{"deploy-token", "registry", "maybe"} {
		if _, ok := optional[name]; !ok {
			t.Errorf("the sidecar does not mount Secret %s", name)
		}
	}
	if optional["deploy-token"] || !optional["maybe"] {
		t.Errorf("optional Secrets = %v: only maybe is optional", optional)
	}

	var sopts sidecar.Options
	k.options(sc, sidecar.OptionsEnv, &sopts)
	for i := range sopts.SecretDirs {
		sopts.SecretDirs[i] = filepath.Join(k.root, sopts.SecretDirs[i])
	}
	e := sopts.Entries[0]
	if err := os.MkdirAll(filepath.Dir(e.ProcessLog), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(sopts.ArtifactDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.ProcessLog, []byte("deploying with dpl-7f3a9c2e51b4\nlogin reg-pass-0b1c2d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := entrypoint.WriteMarker(e.MarkerFile, 0); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	spec := jobSpecOf(t, pod)
	if _, err := sidecar.Run(ctx, sopts, spec); err != nil {
		t.Fatal(err)
	}
	store, err := artifacts.Open(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	log, err := store.ReadFile(ctx, "pr-logs/pull/acme_widgets/42/pull-widgets-unit/1730000000000000001/build-log.txt")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(log), "dpl-7f3a9c2e51b4") || strings.Contains(string(log), "reg-pass-0b1c2d") || !strings.Contains(string(log), "deploying with") {
		t.Errorf("build-log.txt = %q: want the log with both secrets censored", log)
	}
}

func jobSpecOf(t *testing.T, pod *corev1.Pod) (spec podutils.JobSpec) {
	t.Helper()
	for _, e := range pod.Spec.InitContainers[0].Env {
		if e.Name == "JOB_SPEC" {
			if err := json.Unmarshal([]byte(e.Value), &spec); err != nil {
				t.Fatal(err)
			}
			return spec
		}
	}
	t.Fatal("no JOB_SPEC")
	return spec
}
