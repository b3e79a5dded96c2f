package trigger_test

import (
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestRunsForBranchesWithSlashes opens a pull request onto release/1.0 and
// pushes to it: both start their runs, whose base-branch label is the
// branch's last element (Prow's rule for values that cannot be labels)
// and whose annotation keeps the whole name.
func TestRunsForBranchesWithSlashes(t *testing.T) {
	const branch = "release/1.0"
	h := start(t, []jobs.Presubmit{presubmit("unit", always)}, []jobs.Postsubmit{postsubmit("post", func(p *jobs.Postsubmit) { p.Branches = []string{`release/.*`} })}, trigger.Config{}.Trigger)
	if _, err := h.Forge.As("alice").Push(h.Ctx, repo, branch, map[string][]byte{"VERSION": []byte("1.0\n")}, "branch"); err != nil {
		t.Fatal(err)
	}
	h.Wait(repo, "push", pushTo("refs/heads/"+branch))
	pr, err := h.Forge.As("alice").OpenPR(h.Ctx, repo, forge.PullRequest{Title: "Backport", Head: "backport", Base: branch,
		Files: map[string][]byte{"fix.go": []byte("package fix\n")}})
	if err != nil {
		t.Fatal(err)
	}
	h.Wait(repo, "PR opened", plugintest.PRAction(pr.GetNumber(), "opened"))
	pjs := h.prowJobs()
	if len(pjs) != 2 {
		t.Fatalf("got %d runs, want the postsubmit and the presubmit", len(pjs))
	}
	for _, pj := range pjs {
		if got := pj.Labels[v1alpha1.BaseRefLabel]; got != "1.0" {
			t.Errorf("%s: base_ref label = %q, want 1.0", pj.Spec.Job, got)
		}
		if got := pj.Annotations[v1alpha1.BaseRefAnnotation]; got != branch {
			t.Errorf("%s: base ref annotation = %q, want %s", pj.Spec.Job, got, branch)
		}
		if pj.Spec.Refs.BaseRef != branch {
			t.Errorf("%s: refs.baseRef = %q", pj.Spec.Job, pj.Spec.Refs.BaseRef)
		}
	}
}
