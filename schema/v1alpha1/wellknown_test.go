package v1alpha1_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestLabelValue(t *testing.T) {
	long := strings.Repeat("a", 70)
	tests := []struct {
		name, in, want string
	}{
		{"a valid value is kept, as in Prow", "pull-kubernetes-e2e", "pull-kubernetes-e2e"},
		{"a branch with a slash becomes its last element, as Prow's basename rule", "release/1.0", "1.0"},
		{"nested branch, as Prow's basename rule", "feature/team/login", "login"},
		{"a long job name is cut to 63, as Prow truncates job names", long, strings.Repeat("a", 63)},
		{"cut value ends with an alphanumeric, as Prow trims ._-", strings.Repeat("a", 62) + "-b", strings.Repeat("a", 62)},
		{"no valid basename: Prow drops the label, bowline keeps a shortened value", "release/" + long, "release-" + strings.Repeat("a", 55)},
		{"spaces and other characters become -", "fix it: now", "fix-it--now"},
		{"leading and trailing punctuation is trimmed", "-x-", "x"},
		{"a trailing slash", "release/", "release"},
		{"nothing usable", "//", ""},
		{"empty", "", ""},
		{"unicode", "bräne", "br--ne"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := v1alpha1.LabelValue(tt.in)
			if got != tt.want {
				t.Errorf("LabelValue(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if errs := validation.IsValidLabelValue(got); len(errs) > 0 {
				t.Errorf("LabelValue(%q) = %q is not a valid label value: %v", tt.in, got, errs)
			}
		})
	}
}

// FuzzLabelValue checks that every input gives a valid label value.
func FuzzLabelValue(f *testing.F) {
	for _, s := range []string{"release/1.0", "a b", strings.Repeat("x/", 50), "-", "ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := v1alpha1.LabelValue(s); len(validation.IsValidLabelValue(got)) > 0 {
			t.Fatalf("LabelValue(%q) = %q is not a valid label value", s, got)
		}
	})
}

func TestRunLabels(t *testing.T) {
	presubmit := v1alpha1.ProwJobSpec{
		Type: v1alpha1.PresubmitJob, Job: "pull-widgets-unit", Context: "ci/unit",
		Refs: &v1alpha1.Refs{Org: "acme", Repo: "widgets", BaseRef: "release/1.0", Pulls: []v1alpha1.Pull{{Number: 7}}},
	}
	periodic := v1alpha1.ProwJobSpec{
		Type: v1alpha1.PeriodicJob, Job: "ci-widgets-nightly",
		ExtraRefs: []v1alpha1.Refs{{Org: "acme", Repo: "widgets", BaseRef: "main"}, {Org: "acme", Repo: "tools", BaseRef: "dev"}},
	}
	longJob := v1alpha1.ProwJobSpec{Type: v1alpha1.PostsubmitJob, Job: strings.Repeat("j", 80)}
	tests := []struct {
		name           string
		spec           v1alpha1.ProwJobSpec
		extraL, extraA map[string]string
		wantL, wantA   map[string]string
	}{{
		name: "presubmit: Prow's labels, the branch's basename and the full values in annotations",
		spec: presubmit,
		wantL: map[string]string{
			"created-by-prow": "true", "prow.k8s.io/type": "presubmit", "prow.k8s.io/job": "pull-widgets-unit",
			"prow.k8s.io/context": "unit", "prow.k8s.io/refs.org": "acme", "prow.k8s.io/refs.repo": "widgets",
			"prow.k8s.io/refs.base_ref": "1.0", "prow.k8s.io/refs.pull": "7",
		},
		wantA: map[string]string{"prow.k8s.io/job": "pull-widgets-unit", "prow.k8s.io/context": "ci/unit", "bowline.dev/refs.base_ref": "release/1.0"},
	}, {
		name: "periodic: the refs labels come from the first extra refs, as in Prow",
		spec: periodic,
		wantL: map[string]string{
			"created-by-prow": "true", "prow.k8s.io/type": "periodic", "prow.k8s.io/job": "ci-widgets-nightly",
			"prow.k8s.io/refs.org": "acme", "prow.k8s.io/refs.repo": "widgets", "prow.k8s.io/refs.base_ref": "main",
		},
		wantA: map[string]string{"prow.k8s.io/job": "ci-widgets-nightly", "bowline.dev/refs.base_ref": "main"},
	}, {
		name:   "the job's own labels and annotations win, as Prow's extra labels",
		spec:   periodic,
		extraL: map[string]string{"preset-dind-enabled": "true", "prow.k8s.io/type": "custom"},
		extraA: map[string]string{"testgrid-dashboards": "sig-testing", "prow.k8s.io/job": "renamed"},
		wantL: map[string]string{
			"created-by-prow": "true", "prow.k8s.io/type": "custom", "prow.k8s.io/job": "ci-widgets-nightly",
			"prow.k8s.io/refs.org": "acme", "prow.k8s.io/refs.repo": "widgets", "prow.k8s.io/refs.base_ref": "main",
			"preset-dind-enabled": "true",
		},
		wantA: map[string]string{"prow.k8s.io/job": "renamed", "bowline.dev/refs.base_ref": "main", "testgrid-dashboards": "sig-testing"},
	}, {
		name:  "a job name over 63 characters is cut in the label and kept whole in the annotation, as Prow",
		spec:  longJob,
		wantL: map[string]string{"created-by-prow": "true", "prow.k8s.io/type": "postsubmit", "prow.k8s.io/job": strings.Repeat("j", 63)},
		wantA: map[string]string{"prow.k8s.io/job": strings.Repeat("j", 80)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, a := v1alpha1.RunLabels(&tt.spec, tt.extraL, tt.extraA)
			if d := cmp.Diff(tt.wantL, l); d != "" {
				t.Errorf("labels (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantA, a); d != "" {
				t.Errorf("annotations (-want +got):\n%s", d)
			}
		})
	}
}

func TestPodLabels(t *testing.T) {
	pj := &v1alpha1.ProwJob{}
	pj.Name, pj.Namespace = "0f3a", "ci"
	pj.Labels = map[string]string{"created-by-prow": "true", "prow.k8s.io/retest": "true"}
	pj.Annotations = map[string]string{"bowline.dev/delivery": "d-1"}
	pj.Spec = v1alpha1.ProwJobSpec{Type: v1alpha1.PostsubmitJob, Job: "post-widgets", Refs: &v1alpha1.Refs{Org: "acme", Repo: "widgets", BaseRef: "main"}}
	pj.Status.BuildID = "1234"
	l, a := v1alpha1.PodLabels(pj)
	wantL := map[string]string{
		"created-by-prow": "true", "prow.k8s.io/type": "postsubmit", "prow.k8s.io/job": "post-widgets",
		"prow.k8s.io/refs.org": "acme", "prow.k8s.io/refs.repo": "widgets", "prow.k8s.io/refs.base_ref": "main",
		"prow.k8s.io/retest": "true", "prow.k8s.io/id": "0f3a", "prow.k8s.io/build-id": "1234",
		"bowline.dev/prowjob-namespace": "ci",
	}
	if d := cmp.Diff(wantL, l); d != "" {
		t.Errorf("labels (-want +got):\n%s", d)
	}
	wantA := map[string]string{"prow.k8s.io/job": "post-widgets", "bowline.dev/refs.base_ref": "main", "bowline.dev/delivery": "d-1"}
	if d := cmp.Diff(wantA, a); d != "" {
		t.Errorf("annotations (-want +got):\n%s", d)
	}
}
