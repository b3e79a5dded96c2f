package v1alpha1_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) { envtest.Main(m, &env) }

func validConfigRepository(ns string, mutate ...func(*v1alpha1.ConfigRepository)) *v1alpha1.ConfigRepository {
	r := &v1alpha1.ConfigRepository{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "cfg-", Namespace: ns},
		Spec: v1alpha1.ConfigRepositorySpec{
			URL:       "https://github.com/example/config.git",
			Ref:       &v1alpha1.GitRef{Branch: "main"},
			SecretRef: &v1alpha1.LocalObjectReference{Name: "github-token"},
		},
	}
	for _, m := range mutate {
		m(r)
	}
	return r
}

func validProwJob(ns string, mutate ...func(*v1alpha1.ProwJob)) *v1alpha1.ProwJob {
	j := &v1alpha1.ProwJob{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "pj-", Namespace: ns},
		Spec: v1alpha1.ProwJobSpec{
			Type: v1alpha1.PresubmitJob,
			Job:  "pull-bowline-unit",
			Refs: &v1alpha1.Refs{
				Org: "bowline-ci", Repo: "bowline", BaseRef: "main", BaseSHA: "0123456789abcdef0123456789abcdef01234567",
				Pulls: []v1alpha1.Pull{{Number: 7, Author: "alice", SHA: "89abcdef0123456789abcdef0123456789abcdef"}},
			},
			Context:      "pull-bowline-unit",
			RerunCommand: "/test unit",
			Report:       true,
			PodSpec: &corev1.PodSpec{Containers: []corev1.Container{{
				Image: "golang:1.26", Command: []string{"make", "test"},
			}}},
			DecorationConfig: &v1alpha1.DecorationConfig{
				Timeout: &metav1.Duration{Duration: 2 * time.Hour},
			},
		},
	}
	for _, m := range mutate {
		m(j)
	}
	return j
}

// badDuration builds an object whose duration field holds a string that is
// not a Go duration; typed objects cannot express that.
func badDuration(ns, kind string, field []string, value string) client.Object {
	var typed client.Object
	if kind == "ProwJob" {
		typed = validProwJob(ns)
	} else {
		typed = validConfigRepository(ns)
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(typed)
	if err != nil {
		panic(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(v1alpha1.GroupVersion.String())
	u.SetKind(kind)
	if err := unstructured.SetNestedField(u.Object, value, field...); err != nil {
		panic(err)
	}
	return u
}

func TestCRDsAcceptValidObjects(t *testing.T) {
	ns := env.Namespace(t)
	ctx := context.Background()
	objs := []client.Object{
		validConfigRepository(ns),
		validConfigRepository(ns, func(r *v1alpha1.ConfigRepository) {
			r.Spec.URL = "file:///srv/config"
			r.Spec.SecretRef = nil
			r.Spec.Ref = &v1alpha1.GitRef{Commit: "0123456789abcdef0123456789abcdef01234567"}
		}),
		validConfigRepository(ns, func(r *v1alpha1.ConfigRepository) { r.Spec.URL = "git@github.com:example/config.git" }),
		validProwJob(ns),
		validProwJob(ns, func(j *v1alpha1.ProwJob) {
			j.Spec.Type = v1alpha1.PeriodicJob
			j.Spec.Refs = nil
		}),
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatalf("create %T: %v", o, err)
		}
	}
	// Defaults come from the schema.
	got := &v1alpha1.ProwJob{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(objs[3]), got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Agent != v1alpha1.KubernetesAgent || got.Spec.Cluster != "default" {
		t.Errorf("defaults: agent %q cluster %q, want kubernetes and default", got.Spec.Agent, got.Spec.Cluster)
	}
	repo := &v1alpha1.ConfigRepository{}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(objs[0]), repo); err != nil {
		t.Fatal(err)
	}
	if repo.Spec.Interval == nil || repo.Spec.Interval.Duration != time.Minute {
		t.Errorf("default interval %v, want 1m", repo.Spec.Interval)
	}
}

func TestCRDsRejectInvalidObjects(t *testing.T) {
	ns := env.Namespace(t)
	long := strings.Repeat("a", 300)
	tests := []struct {
		name string
		obj  client.Object
		// field must appear in the API server's message.
		field string
	}{
		{"configrepository missing url", validConfigRepository(ns, func(r *v1alpha1.ConfigRepository) { r.Spec.URL = "" }), "spec.url"},
		{"configrepository bad url scheme", validConfigRepository(ns, func(r *v1alpha1.ConfigRepository) { r.Spec.URL = "ftp://example.com/config" }), "spec.url"},
		{"configrepository two refs", validConfigRepository(ns, func(r *v1alpha1.ConfigRepository) {
			r.Spec.Ref = &v1alpha1.GitRef{Branch: "main", Tag: "v1"}
		}), "spec.ref"},
		{"configrepository bad commit", validConfigRepository(ns, func(r *v1alpha1.ConfigRepository) {
			r.Spec.Ref = &v1alpha1.GitRef{Commit: "main"}
		}), "spec.ref.commit"},
		{"configrepository secret with file url", validConfigRepository(ns, func(r *v1alpha1.ConfigRepository) { r.Spec.URL = "file:///srv/config" }), "secretRef"},
		{"configrepository over-long branch", validConfigRepository(ns, func(r *v1alpha1.ConfigRepository) {
			r.Spec.Ref = &v1alpha1.GitRef{Branch: long}
		}), "spec.ref.branch"},
		{"prowjob bad type", validProwJob(ns, func(j *v1alpha1.ProwJob) { j.Spec.Type = "nightly" }), "spec.type"},
		{"prowjob bad agent", validProwJob(ns, func(j *v1alpha1.ProwJob) { j.Spec.Agent = "jenkins-x" }), "spec.agent"},
		{"prowjob missing job", validProwJob(ns, func(j *v1alpha1.ProwJob) { j.Spec.Job = "" }), "spec.job"},
		{"prowjob bad job name", validProwJob(ns, func(j *v1alpha1.ProwJob) { j.Spec.Job = "unit tests" }), "spec.job"},
		{"prowjob over-long job name", validProwJob(ns, func(j *v1alpha1.ProwJob) { j.Spec.Job = long }), "spec.job"},
		{"configrepository zero interval", validConfigRepository(ns, func(r *v1alpha1.ConfigRepository) {
			r.Spec.Interval = &metav1.Duration{}
		}), "interval must be at least 1s"},
		{"configrepository bad interval", badDuration(ns, "ConfigRepository", []string{"spec", "interval"}, "soon"), "spec.interval"},
		{"prowjob bad decoration timeout", badDuration(ns, "ProwJob", []string{"spec", "decorationConfig", "timeout"}, "2 hours"), "spec.decorationConfig.timeout"},
		{"prowjob presubmit without pull", validProwJob(ns, func(j *v1alpha1.ProwJob) { j.Spec.Refs.Pulls = nil }), "spec"},
		{"prowjob postsubmit without refs", validProwJob(ns, func(j *v1alpha1.ProwJob) {
			j.Spec.Type = v1alpha1.PostsubmitJob
			j.Spec.Refs = nil
		}), "refs is required"},
		{"prowjob kubernetes agent without pod spec", validProwJob(ns, func(j *v1alpha1.ProwJob) { j.Spec.PodSpec = nil }), "podSpec"},
		{"prowjob negative max concurrency", validProwJob(ns, func(j *v1alpha1.ProwJob) { j.Spec.MaxConcurrency = -1 }), "spec.maxConcurrency"},
		{"prowjob allow anyone with allow list", validProwJob(ns, func(j *v1alpha1.ProwJob) {
			yes := true
			j.Spec.RerunAuthConfig = &v1alpha1.RerunAuthConfig{AllowAnyone: &yes, GitHubUsers: []string{"alice"}}
		}), "spec.rerunAuthConfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := env.Client.Create(context.Background(), tt.obj)
			if err == nil {
				t.Fatal("the API server accepted an invalid object")
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error does not name %q: %v", tt.field, err)
			}
		})
	}
}
