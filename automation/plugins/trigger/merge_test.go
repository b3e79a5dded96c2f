package trigger_test

import (
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestRunBeforeMerge: Prow's Tide runs the run_before_merge presubmits
// whose branches match, right before merging; nothing else does.
func TestRunBeforeMerge(t *testing.T) {
	all := []jobs.Presubmit{
		presubmit("unit", always),
		presubmit("scale", beforeMerge),
		presubmit("scale-release", beforeMerge, onBranches(`^release-`)),
		presubmit("e2e"),
	}
	tests := []struct {
		branch string
		want   []string
	}{
		{"main", []string{"scale"}},
		{"release-1.34", []string{"scale", "scale-release"}},
	}
	for _, tt := range tests {
		t.Run(tt.branch, func(t *testing.T) {
			var got []string
			for _, ps := range trigger.RunBeforeMerge(all, tt.branch) {
				got = append(got, ps.Name)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && (got[0] != tt.want[0] || got[len(got)-1] != tt.want[len(tt.want)-1])) {
				t.Errorf("RunBeforeMerge(%s) = %q, want %q", tt.branch, got, tt.want)
			}
		})
	}
}

// TestPresubmitRun: the merge controller builds its runs as the trigger
// does; refs with several pull requests make a batch run (whose pull label
// names the first pull request, as Prow labels batch ProwJobs).
func TestPresubmitRun(t *testing.T) {
	ps := presubmit("scale", beforeMerge, optional)
	ps.Context = "ci/scale"
	pull := func(n int32) v1alpha1.Pull { return v1alpha1.Pull{Number: n, SHA: "head", Author: "alice"} }
	refs := v1alpha1.Refs{Org: "acme", Repo: "widgets", BaseRef: "main", BaseSHA: "tip", Pulls: []v1alpha1.Pull{pull(7)}}

	one := trigger.PresubmitRun(&ps, refs, trigger.Meta{Namespace: "ci", Name: "run-1", CreatedByMerge: true})
	if one.Spec.Type != v1alpha1.PresubmitJob || one.Spec.Context != "ci/scale" || one.Spec.RerunCommand != "/test scale" ||
		one.Labels[v1alpha1.PullLabel] != "7" || one.Labels[v1alpha1.CreatedByMergeLabel] != "true" ||
		one.Labels[v1alpha1.IsOptionalLabel] != "true" || one.Namespace != "ci" || one.Name != "run-1" {
		t.Errorf("presubmit run: %+v %+v", one.ObjectMeta, one.Spec)
	}
	refs.Pulls = append(refs.Pulls, pull(8))
	batch := trigger.PresubmitRun(&ps, refs, trigger.Meta{Namespace: "ci", CreatedByMerge: true})
	if batch.Spec.Type != v1alpha1.BatchJob || batch.Labels[v1alpha1.PullLabel] != "7" || len(batch.Spec.Refs.Pulls) != 2 || batch.Name == "" {
		t.Errorf("batch run: %+v %+v", batch.ObjectMeta, batch.Spec)
	}
	if refs.Pulls[0].Number != 7 || &refs.Pulls[0] == &batch.Spec.Refs.Pulls[0] {
		t.Error("the run shares the caller's refs")
	}
}
