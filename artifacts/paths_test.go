package artifacts

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestRunPath(t *testing.T) {
	pr := func(org, repo string, n int32) *v1alpha1.Refs {
		return &v1alpha1.Refs{Org: org, Repo: repo, BaseRef: "main", Pulls: []v1alpha1.Pull{{Number: n, SHA: "abc"}}}
	}
	tests := []struct {
		name    string
		cfg     Config
		typ     v1alpha1.ProwJobType
		refs    *v1alpha1.Refs
		build   string
		want    string
		wantErr bool
	}{
		{name: "presubmit explicit", typ: v1alpha1.PresubmitJob, refs: pr("kubernetes", "test-infra", 42), build: "7",
			want: "pr-logs/pull/kubernetes_test-infra/42/unit/7"},
		{name: "presubmit explicit with prefix", cfg: Config{PathPrefix: "ci/"}, typ: v1alpha1.PresubmitJob, refs: pr("o", "r", 1), build: "9",
			want: "ci/pr-logs/pull/o_r/1/unit/9"},
		{name: "batch", typ: v1alpha1.BatchJob, refs: pr("o", "r", 1), build: "3",
			want: "pr-logs/pull/batch/unit/3"},
		{name: "postsubmit", typ: v1alpha1.PostsubmitJob, refs: &v1alpha1.Refs{Org: "o", Repo: "r", BaseRef: "main"}, build: "5",
			want: "logs/unit/5"},
		{name: "periodic without refs", typ: v1alpha1.PeriodicJob, build: "11",
			want: "logs/unit/11"},
		{name: "legacy default org and repo", cfg: Config{PathStrategy: StrategyLegacy, DefaultOrg: "k", DefaultRepo: "k"},
			typ: v1alpha1.PresubmitJob, refs: pr("k", "k", 8), build: "1", want: "pr-logs/pull/8/unit/1"},
		{name: "legacy default org", cfg: Config{PathStrategy: StrategyLegacy, DefaultOrg: "k", DefaultRepo: "k"},
			typ: v1alpha1.PresubmitJob, refs: pr("k", "other", 8), build: "1", want: "pr-logs/pull/other/8/unit/1"},
		{name: "legacy other org", cfg: Config{PathStrategy: StrategyLegacy, DefaultOrg: "k", DefaultRepo: "k"},
			typ: v1alpha1.PresubmitJob, refs: pr("x", "k", 8), build: "1", want: "pr-logs/pull/x_k/8/unit/1"},
		{name: "single default", cfg: Config{PathStrategy: StrategySingle, DefaultOrg: "k", DefaultRepo: "k"},
			typ: v1alpha1.PresubmitJob, refs: pr("k", "k", 8), build: "1", want: "pr-logs/pull/8/unit/1"},
		{name: "single default org only", cfg: Config{PathStrategy: StrategySingle, DefaultOrg: "k", DefaultRepo: "k"},
			typ: v1alpha1.PresubmitJob, refs: pr("k", "other", 8), build: "1", want: "pr-logs/pull/k_other/8/unit/1"},
		{name: "no build ID", typ: v1alpha1.PostsubmitJob, refs: pr("o", "r", 1), wantErr: true},
		{name: "presubmit without pulls", typ: v1alpha1.PresubmitJob, refs: &v1alpha1.Refs{Org: "o", Repo: "r"}, build: "1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pj := &v1alpha1.ProwJob{
				ObjectMeta: metav1.ObjectMeta{Name: "pj-1"},
				Spec:       v1alpha1.ProwJobSpec{Type: tt.typ, Job: "unit", Refs: tt.refs},
				Status:     v1alpha1.ProwJobStatus{BuildID: tt.build},
			}
			got, err := tt.cfg.RunPathFor(pj)
			if (err != nil) != tt.wantErr {
				t.Fatalf("RunPathFor() error = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("RunPathFor() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{name: "explicit", cfg: Config{Bucket: "/tmp/x"}},
		{name: "no bucket", cfg: Config{}, wantErr: true},
		{name: "legacy without defaults", cfg: Config{Bucket: "gs://b", PathStrategy: StrategyLegacy}, wantErr: true},
		{name: "legacy with defaults", cfg: Config{Bucket: "gs://b", PathStrategy: StrategyLegacy, DefaultOrg: "o", DefaultRepo: "r"}},
		{name: "unknown strategy", cfg: Config{Bucket: "gs://b", PathStrategy: "nested"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestConfigFor(t *testing.T) {
	pj := &v1alpha1.ProwJob{Spec: v1alpha1.ProwJobSpec{DecorationConfig: &v1alpha1.DecorationConfig{
		GCSConfiguration: &v1alpha1.GCSConfiguration{Bucket: "s3://logs", PathPrefix: "p", PathStrategy: "explicit"},
	}}}
	got := ConfigFor(pj, "/var/lib/bowline")
	if got.Bucket != "s3://logs" || got.PathPrefix != "p" {
		t.Errorf("ConfigFor() = %+v", got)
	}
	if got := ConfigFor(&v1alpha1.ProwJob{}, "/var/lib/bowline"); got.Bucket != "/var/lib/bowline" {
		t.Errorf("ConfigFor() without decoration = %+v", got)
	}
}
