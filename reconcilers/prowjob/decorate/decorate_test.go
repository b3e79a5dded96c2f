package decorate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/bowline-ci/bowline/podutils/entrypoint"
	"github.com/bowline-ci/bowline/podutils/sidecar"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// prowJob builds a test ProwJob; options change it.
func prowJob(opts ...func(*v1alpha1.ProwJob)) *v1alpha1.ProwJob {
	pj := &v1alpha1.ProwJob{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "8d6a1f2e-0000-4000-8000-000000000001",
			Labels:      map[string]string{"preset-service-account": "true"},
			Annotations: map[string]string{"testgrid-dashboards": "acme"},
		},
		Spec: v1alpha1.ProwJobSpec{
			Type:      v1alpha1.PresubmitJob,
			Agent:     v1alpha1.KubernetesAgent,
			Namespace: "test-pods",
			Job:       "pull-widgets-unit",
			Context:   "pull-widgets-unit",
			Refs: &v1alpha1.Refs{
				Org: "acme", Repo: "widgets", BaseRef: "main", BaseSHA: "1111111111111111111111111111111111111111",
				Pulls: []v1alpha1.Pull{{Number: 42, Author: "ann", SHA: "2222222222222222222222222222222222222222", Title: "Fix the frobnicator", HeadRef: "fix-frob"}},
			},
			PodSpec: &corev1.PodSpec{Containers: []corev1.Container{{
				Name:    "test",
				Image:   "golang:1.26",
				Command: []string{"make"},
				Args:    []string{"test"},
				Env:     []corev1.EnvVar{{Name: "GOFLAGS", Value: "-mod=readonly"}, {Name: "CI", Value: "false"}},
			}}},
			DecorationConfig: &v1alpha1.DecorationConfig{
				Timeout: &metav1.Duration{Duration: time.Hour},
			},
		},
		Status: v1alpha1.ProwJobStatus{BuildID: "1730000000000000001"},
	}
	for _, o := range opts {
		o(pj)
	}
	return pj
}

func defaults() Options {
	mem := resource.MustParse("1Gi")
	return Options{
		Image: "ghcr.io/bowline-ci/bowline:v0.1.0",
		Defaults: &v1alpha1.DecorationConfig{
			Timeout:     &metav1.Duration{Duration: 2 * time.Hour},
			GracePeriod: &metav1.Duration{Duration: 30 * time.Second},
			GCSConfiguration: &v1alpha1.GCSConfiguration{
				Bucket: "gs://acme-ci-logs", PathStrategy: "explicit",
			},
			GCSCredentialsSecret: "gcs-credentials",
			DefaultMemoryRequest: &mem,
			UtilityImages:        &v1alpha1.UtilityImages{Sidecar: "ghcr.io/bowline-ci/bowline:v0.1.0-sidecar"},
		},
	}
}

func TestPodGolden(t *testing.T) {
	yes := true
	tests := []struct {
		name string
		pj   *v1alpha1.ProwJob
		opts Options
	}{
		{name: "presubmit", pj: prowJob(), opts: defaults()},
		{name: "presubmit-extra-refs-secrets", opts: defaults(), pj: prowJob(func(pj *v1alpha1.ProwJob) {
			pj.Spec.Refs.PathAlias = "acme.dev/widgets"
			pj.Spec.ExtraRefs = []v1alpha1.Refs{{Org: "acme", Repo: "test-infra", BaseRef: "main", WorkDir: true}}
			pj.Spec.DecorationConfig.OAuthTokenSecret = &v1alpha1.SecretKeySelector{Name: "github-token", Key: "token"}
			pj.Spec.DecorationConfig.SSHKeySecrets = []string{"ssh-deploy-key"}
			pj.Spec.DecorationConfig.CensorSecrets = &yes
			pj.Spec.PodSpec.Volumes = []corev1.Volume{{Name: "service-account", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "sa"}}}}
			pj.Spec.PodSpec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "service-account", MountPath: "/etc/sa"}}
		})},
		{name: "periodic-two-containers-s3", opts: Options{Image: "bowline:dev"}, pj: prowJob(func(pj *v1alpha1.ProwJob) {
			pj.Spec.Type = v1alpha1.PeriodicJob
			pj.Spec.Job = "periodic-widgets-soak"
			pj.Spec.Refs = nil
			pj.Spec.DecorationConfig = &v1alpha1.DecorationConfig{
				GCSConfiguration:            &v1alpha1.GCSConfiguration{Bucket: "s3://ci-logs?region=eu-west-1", PathPrefix: "bowline"},
				S3CredentialsSecret:         "s3-credentials",
				SetLimitEqualsMemoryRequest: &yes,
				SchedulingOptions:           &v1alpha1.SchedulingOptions{Tolerations: []corev1.Toleration{{Key: "ci", Operator: corev1.TolerationOpExists}}},
				DefaultServiceAccountName:   "prowjob",
			}
			pj.Spec.PodSpec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("2Gi")}
			pj.Spec.PodSpec.Containers = append(pj.Spec.PodSpec.Containers, corev1.Container{
				Name: "db", Image: "postgres:17", Command: []string{"docker-entrypoint.sh", "postgres"},
			})
		})},
		{name: "postsubmit-undecorated", opts: defaults(), pj: prowJob(func(pj *v1alpha1.ProwJob) {
			pj.Spec.Type = v1alpha1.PostsubmitJob
			pj.Spec.Job = "post-widgets-push-images-with-a-rather-long-name-that-goes-past-63-characters"
			pj.Spec.Refs.Pulls = nil
			pj.Spec.DecorationConfig = nil
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod, err := Pod(tt.pj, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := yaml.Marshal(pod)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".yaml")
			if os.Getenv("UPDATE") != "" {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with UPDATE=1 to write it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("pod differs from %s (-want +got; UPDATE=1 rewrites):\n%s", golden, diff)
			}
			// Deterministic: the same input gives the same pod.
			again, _ := Pod(tt.pj, tt.opts)
			if diff := cmp.Diff(pod, again); diff != "" {
				t.Errorf("second Pod() differs:\n%s", diff)
			}
		})
	}
}

func envOf(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		if _, dup := m[e.Name]; dup {
			m[e.Name] = "DUPLICATE"
			continue
		}
		m[e.Name] = e.Value
	}
	return m
}

func TestDecoratedPodContract(t *testing.T) {
	pj := prowJob()
	pod, err := Pod(pj, defaults())
	if err != nil {
		t.Fatal(err)
	}
	if pod.Name != pj.Name || pod.Namespace != "test-pods" || pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("pod %s/%s restart %s", pod.Namespace, pod.Name, pod.Spec.RestartPolicy)
	}
	var inits []string
	for _, c := range pod.Spec.InitContainers {
		inits = append(inits, c.Name)
	}
	if got := strings.Join(inits, ","); got != "place-entrypoint,clonerefs,initupload" {
		t.Errorf("init containers = %s", got)
	}
	if len(pod.Spec.Containers) != 2 || pod.Spec.Containers[1].Name != "sidecar" {
		t.Fatalf("containers = %+v", pod.Spec.Containers)
	}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		env := envOf(c)
		for k, v := range map[string]string{
			"CI": "true", "JOB_NAME": "pull-widgets-unit", "JOB_TYPE": "presubmit", "BUILD_ID": "1730000000000000001",
			"PROW_JOB_ID": pj.Name, "REPO_OWNER": "acme", "REPO_NAME": "widgets", "PULL_BASE_REF": "main",
			"PULL_NUMBER": "42", "PULL_TITLE": "Fix the frobnicator", "PULL_HEAD_REF": "fix-frob", "ARTIFACTS": "/logs/artifacts",
			"PULL_REFS": "main:1111111111111111111111111111111111111111,42:2222222222222222222222222222222222222222",
		} {
			if env[k] != v {
				t.Errorf("container %s: %s = %q, want %q", c.Name, k, env[k], v)
			}
		}
		if env["JOB_SPEC"] == "" {
			t.Errorf("container %s has no JOB_SPEC", c.Name)
		}
	}
	test := pod.Spec.Containers[0]
	if env := envOf(test); env["GOFLAGS"] != "-mod=readonly" {
		t.Errorf("the job's own env was lost: %v", env)
	}
	// Prow's decorated test containers also get GOPATH, the clone root.
	if env := envOf(test); env["GOPATH"] != "/home/prow/go" {
		t.Errorf("GOPATH = %q, want /home/prow/go as in Prow", env["GOPATH"])
	}
	if last := test.Env[len(test.Env)-1].Name; last != entrypoint.OptionsEnv {
		t.Errorf("last env var = %s: the entrypoint options must come last so that $(VAR) in the command expands", last)
	}
	if got := strings.Join(test.Command, " "); got != "/tools/bowline entrypoint" || len(test.Args) != 0 {
		t.Errorf("test command = %q %q", got, test.Args)
	}
	if test.WorkingDir != "/home/prow/go/src/github.com/acme/widgets" {
		t.Errorf("working dir = %s", test.WorkingDir)
	}
	var eopts entrypoint.Options
	if err := json.Unmarshal([]byte(envOf(test)[entrypoint.OptionsEnv]), &eopts); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(eopts.Args, " "); got != "make test" || eopts.Timeout.Duration != time.Hour || eopts.GracePeriod.Duration != 30*time.Second {
		t.Errorf("entrypoint options = %+v: want the job's timeout and the default grace period", eopts)
	}
	var sopts sidecar.Options
	if err := json.Unmarshal([]byte(envOf(pod.Spec.Containers[1])[sidecar.OptionsEnv]), &sopts); err != nil {
		t.Fatal(err)
	}
	if sopts.Storage.Bucket != "gs://acme-ci-logs" || len(sopts.Entries) != 1 || sopts.Entries[0].MarkerFile != eopts.MarkerFile {
		t.Errorf("sidecar options = %+v", sopts)
	}
	if pod.Labels[v1alpha1.PullLabel] != "42" || pod.Labels[v1alpha1.CreatedByLabel] != "true" || pod.Labels["preset-service-account"] != "true" {
		t.Errorf("labels = %v", pod.Labels)
	}
}

func TestPodErrors(t *testing.T) {
	tests := []struct {
		name string
		pj   *v1alpha1.ProwJob
		opts Options
		want string
	}{
		{name: "no build ID", pj: prowJob(func(pj *v1alpha1.ProwJob) { pj.Status.BuildID = "" }), opts: defaults(), want: "build ID"},
		{name: "no pod spec", pj: prowJob(func(pj *v1alpha1.ProwJob) { pj.Spec.PodSpec = nil }), opts: defaults(), want: "pod spec"},
		{name: "no bucket", pj: prowJob(), opts: Options{Image: "x"}, want: "bucket"},
		{name: "neither command nor args", pj: prowJob(func(pj *v1alpha1.ProwJob) {
			pj.Spec.PodSpec.Containers[0].Command, pj.Spec.PodSpec.Containers[0].Args = nil, nil
		}), opts: defaults(), want: "command or args"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Pod(tt.pj, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Pod() error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestMergeDecorationConfig(t *testing.T) {
	yes, no := true, false
	def := &v1alpha1.DecorationConfig{
		Timeout:          &metav1.Duration{Duration: 2 * time.Hour},
		GracePeriod:      &metav1.Duration{Duration: 15 * time.Second},
		UtilityImages:    &v1alpha1.UtilityImages{CloneRefs: "c:1", Sidecar: "s:1"},
		GCSConfiguration: &v1alpha1.GCSConfiguration{Bucket: "gs://default", PathStrategy: "explicit"},
		SSHKeySecrets:    []string{"a", "b"},
		CensorSecrets:    &yes,
	}
	tests := []struct {
		name string
		job  *v1alpha1.DecorationConfig
		want *v1alpha1.DecorationConfig
	}{
		{name: "job sets nothing", job: &v1alpha1.DecorationConfig{}, want: def},
		{name: "nil job", job: nil, want: def},
		{
			name: "job wins field by field",
			job: &v1alpha1.DecorationConfig{
				Timeout:          &metav1.Duration{Duration: time.Hour},
				UtilityImages:    &v1alpha1.UtilityImages{Sidecar: "s:2"},
				GCSConfiguration: &v1alpha1.GCSConfiguration{PathPrefix: "team"},
				SSHKeySecrets:    []string{"c"},
				CensorSecrets:    &no,
			},
			want: &v1alpha1.DecorationConfig{
				Timeout:          &metav1.Duration{Duration: time.Hour},
				GracePeriod:      &metav1.Duration{Duration: 15 * time.Second},
				UtilityImages:    &v1alpha1.UtilityImages{CloneRefs: "c:1", Sidecar: "s:2"},
				GCSConfiguration: &v1alpha1.GCSConfiguration{Bucket: "gs://default", PathStrategy: "explicit", PathPrefix: "team"},
				SSHKeySecrets:    []string{"c"},
				CensorSecrets:    &no,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := def.DeepCopy()
			got := MergeDecorationConfig(tt.job, def)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("MergeDecorationConfig() (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, def); diff != "" {
				t.Errorf("defaults were changed:\n%s", diff)
			}
		})
	}
	if got := MergeDecorationConfig(&v1alpha1.DecorationConfig{CensorSecrets: &yes}, nil); got == nil || !*got.CensorSecrets {
		t.Errorf("nil defaults: %+v", got)
	}
}
