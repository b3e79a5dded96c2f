package jobspec

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestBase(t *testing.T) {
	yes := true
	ns := "test-pods"
	pod := &corev1.PodSpec{Containers: []corev1.Container{{Image: "alpine", Command: []string{"true"}}}}
	tests := []struct {
		name string
		job  jobs.JobBase
		want v1alpha1.ProwJobSpec
	}{
		{
			name: "defaults",
			job:  jobs.JobBase{Name: "unit", Spec: pod},
			want: v1alpha1.ProwJobSpec{
				Type: v1alpha1.PresubmitJob, Agent: v1alpha1.KubernetesAgent, Cluster: jobs.DefaultCluster,
				Job: "unit", Context: "ctx", Report: true, PodSpec: pod,
			},
		},
		{
			name: "everything the job sets",
			job: jobs.JobBase{
				Name: "e2e", Agent: "local", Cluster: "build", Namespace: &ns, MaxConcurrency: 2,
				JobQueueName: "e2e", ErrorOnEviction: true, Hidden: true, Spec: pod,
				UtilityConfig: jobs.UtilityConfig{
					Decorate: &yes,
					DecorationConfig: &jobs.DecorationConfig{
						Timeout:       &jobs.Duration{Duration: time.Hour},
						UtilityImages: &jobs.UtilityImages{Sidecar: "bowline"},
					},
					ExtraRefs: []jobs.Refs{{Org: "acme", Repo: "tools", BaseRef: "main", Pulls: []jobs.Pull{{Number: 3, SHA: "abc"}}}},
				},
				RerunAuthConfig: &jobs.RerunAuthConfig{GitHubUsers: []string{"alice"}, GitHubTeamIDs: []int{7}},
			},
			want: v1alpha1.ProwJobSpec{
				Type: v1alpha1.PresubmitJob, Agent: v1alpha1.LocalAgent, Cluster: "build", Namespace: "test-pods",
				Job: "e2e", Context: "ctx", Report: true, MaxConcurrency: 2, JobQueueName: "e2e",
				ErrorOnEviction: true, Hidden: true, PodSpec: pod,
				ExtraRefs: []v1alpha1.Refs{{Org: "acme", Repo: "tools", BaseRef: "main", Pulls: []v1alpha1.Pull{{Number: 3, SHA: "abc"}}}},
				// Prow's utility images are not carried over: the bowline
				// image runs the utilities.
				DecorationConfig: &v1alpha1.DecorationConfig{
					Timeout: &metav1.Duration{Duration: time.Hour},
				},
				RerunAuthConfig: &v1alpha1.RerunAuthConfig{GitHubUsers: []string{"alice"}, GitHubTeamIDs: []int64{7}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Base(v1alpha1.PresubmitJob, &tt.job, "ctx", true)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Base (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPeriodic(t *testing.T) {
	p := &jobs.Periodic{JobBase: jobs.JobBase{Name: "nightly", UtilityConfig: jobs.UtilityConfig{
		ExtraRefs: []jobs.Refs{{Org: "demo", Repo: "hello", BaseRef: "main"}},
	}}, Interval: "1h"}
	got := Periodic(p)
	if got.Type != v1alpha1.PeriodicJob || got.Job != "nightly" || got.Context != "nightly" || !got.Report {
		t.Errorf("spec %+v", got)
	}
	if got.Refs != nil || len(got.ExtraRefs) != 1 || got.ExtraRefs[0].Repo != "hello" {
		t.Errorf("refs %+v, extra refs %+v: want the repository as an extra ref, as Prow", got.Refs, got.ExtraRefs)
	}
}

func TestWithUtility(t *testing.T) {
	r := &v1alpha1.Refs{Org: "acme", Repo: "widgets"}
	WithUtility(r, jobs.UtilityConfig{PathAlias: "acme.dev/widgets", CloneURI: "https://example.com/w.git", SkipSubmodules: true, CloneDepth: 5, SkipFetchHead: true})
	want := &v1alpha1.Refs{Org: "acme", Repo: "widgets", PathAlias: "acme.dev/widgets", CloneURI: "https://example.com/w.git", SkipSubmodules: true, CloneDepth: 5, SkipFetchHead: true}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestProwDecorationRoundTrip: a decoration config in Prow's format comes
// back the same from a ProwJob, as prowjob.json gives it to Prow's tools.
func TestProwDecorationRoundTrip(t *testing.T) {
	yes := true
	uid := int64(1000)
	secs := int64(10 << 20)
	mem := resource.MustParse("2Gi")
	prow := &jobs.DecorationConfig{
		Timeout: &jobs.Duration{Duration: time.Hour}, GracePeriod: &jobs.Duration{Duration: 15 * time.Second},
		GCSConfiguration:    &jobs.GCSConfiguration{Bucket: "s3://logs", PathStrategy: "explicit", DefaultOrg: "acme"},
		S3CredentialsSecret: ptrTo("s3"), DefaultServiceAccountName: ptrTo("prowjob-default-sa"),
		SSHKeySecrets: []string{"ssh"}, CensorSecrets: &yes, OauthTokenSecret: &jobs.SecretKey{Name: "gh", Key: "token"},
		CensoringOptions:     &jobs.CensoringOptions{CensoringBufferSize: ptrTo(int(secs))},
		DefaultMemoryRequest: &mem, RunAsUser: &uid, PodPendingTimeout: &jobs.Duration{Duration: time.Minute},
		Resources: &jobs.Resources{Sidecar: &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}},
	}
	got := ProwDecoration(Decoration(prow))
	if d := cmp.Diff(prow, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	if ProwDecoration(nil) != nil {
		t.Error("nil decoration")
	}
}

func ptrTo[T any](v T) *T { return &v }
