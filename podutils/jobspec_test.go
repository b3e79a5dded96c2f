package podutils

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestEnvironment(t *testing.T) {
	refs := &v1alpha1.Refs{Org: "acme", Repo: "widgets", BaseRef: "main", BaseSHA: "b0",
		Pulls: []v1alpha1.Pull{{Number: 7, SHA: "p7", Title: "Fix it", HeadRef: "fix", Author: "ann"}}}
	tests := []struct {
		name string
		typ  v1alpha1.ProwJobType
		refs *v1alpha1.Refs
		want map[string]string
		none []string
	}{
		{
			name: "presubmit", typ: v1alpha1.PresubmitJob, refs: refs,
			want: map[string]string{
				"CI": "true", "ARTIFACTS": "/logs/artifacts", "JOB_NAME": "unit", "JOB_TYPE": "presubmit",
				"BUILD_ID": "12", "BUILD_NUMBER": "12", "PROW_JOB_ID": "pj-1",
				"REPO_OWNER": "acme", "REPO_NAME": "widgets", "PULL_BASE_REF": "main", "PULL_BASE_SHA": "b0",
				"PULL_REFS": "main:b0,7:p7", "PULL_NUMBER": "7", "PULL_PULL_SHA": "p7",
				"PULL_HEAD_REF": "fix", "PULL_TITLE": "Fix it",
			},
		},
		{
			name: "postsubmit", typ: v1alpha1.PostsubmitJob, refs: &v1alpha1.Refs{Org: "acme", Repo: "widgets", BaseRef: "main", BaseSHA: "b0"},
			want: map[string]string{"JOB_TYPE": "postsubmit", "REPO_OWNER": "acme", "PULL_REFS": "main:b0"},
			none: []string{"PULL_NUMBER", "PULL_PULL_SHA"},
		},
		{
			name: "periodic", typ: v1alpha1.PeriodicJob,
			want: map[string]string{"JOB_TYPE": "periodic", "CI": "true"},
			none: []string{"REPO_OWNER", "PULL_REFS", "PULL_NUMBER"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pj := &v1alpha1.ProwJob{
				ObjectMeta: metav1.ObjectMeta{Name: "pj-1"},
				Spec:       v1alpha1.ProwJobSpec{Type: tt.typ, Job: "unit", Refs: tt.refs},
			}
			env, err := Environment(JobSpecFor(pj, "12"), "/logs/artifacts")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, e := range env {
				got[e.Name] = e.Value
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			for _, k := range tt.none {
				if _, ok := got[k]; ok {
					t.Errorf("%s set for a %s", k, tt.typ)
				}
			}
			var spec JobSpec
			if err := json.Unmarshal([]byte(got["JOB_SPEC"]), &spec); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(JobSpecFor(pj, "12"), spec); diff != "" {
				t.Errorf("JOB_SPEC round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJobSpecJSONUsesProwFieldNames(t *testing.T) {
	pj := &v1alpha1.ProwJob{
		ObjectMeta: metav1.ObjectMeta{Name: "pj-1"},
		Spec: v1alpha1.ProwJobSpec{Type: v1alpha1.PresubmitJob, Job: "unit",
			Refs: &v1alpha1.Refs{Org: "o", Repo: "r", BaseRef: "main", PathAlias: "x.io/r",
				Pulls: []v1alpha1.Pull{{Number: 1, SHA: "s", HeadRef: "h"}}}},
	}
	b, err := json.Marshal(JobSpecFor(pj, "3"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"buildid":"3"`, `"prowjobid":"pj-1"`, `"base_ref":"main"`, `"path_alias":"x.io/r"`, `"head_ref":"h"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JOB_SPEC %s lacks %s", b, want)
		}
	}
}

func TestWorkDirRefsAndPath(t *testing.T) {
	spec := JobSpec{
		Refs:      &Refs{Org: "o", Repo: "main"},
		ExtraRefs: []Refs{{Org: "o", Repo: "tools", WorkDir: true, PathAlias: "k8s.io/tools"}},
	}
	r, ok := spec.WorkDirRefs()
	if !ok || r.Repo != "tools" || r.Path() != "src/k8s.io/tools" {
		t.Errorf("WorkDirRefs() = %+v (%s)", r, r.Path())
	}
	spec.ExtraRefs[0].WorkDir = false
	if r, _ := spec.WorkDirRefs(); r.Path() != "src/github.com/o/main" {
		t.Errorf("default work dir = %s", r.Path())
	}
	if _, ok := (JobSpec{}).WorkDirRefs(); ok {
		t.Error("a job without refs has a work dir")
	}
}

func TestDurationJSON(t *testing.T) {
	var d struct{ D Duration }
	for in, want := range map[string]string{`{"D":"90s"}`: "1m30s", `{"D":1000000000}`: "1s"} {
		if err := json.Unmarshal([]byte(in), &d); err != nil || d.D.String() != want {
			t.Errorf("%s → %s, %v; want %s", in, d.D, err, want)
		}
	}
	if err := json.Unmarshal([]byte(`{"D":"soon"}`), &d); err == nil {
		t.Error("parsed an invalid duration")
	}
	if b, _ := json.Marshal(Duration{Duration: 2e9}); string(b) != `"2s"` {
		t.Errorf("marshal = %s", b)
	}
}
