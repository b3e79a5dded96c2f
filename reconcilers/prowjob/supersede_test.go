package prowjob

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// presubmitOf makes a run a presubmit of job on pull request number of
// acme/rocket, created at the given offset from base (the created-at
// annotation, as the trigger plugin sets it).
func presubmitOf(job string, number int32, base time.Time, offset time.Duration) func(*v1alpha1.ProwJob) {
	return func(pj *v1alpha1.ProwJob) {
		pj.Spec.Type = v1alpha1.PresubmitJob
		pj.Spec.Job = job
		pj.Spec.Refs = &v1alpha1.Refs{Org: "acme", Repo: "rocket", BaseRef: "main", BaseSHA: "abc", Pulls: []v1alpha1.Pull{{Number: number, SHA: "def"}}}
		pj.Annotations = map[string]string{v1alpha1.CreatedAtAnnotation: base.Add(offset).UTC().Format(time.RFC3339Nano)}
	}
}

func TestNewerRunSupersedesRunningOne(t *testing.T) {
	h := start(t, Config{})
	base := time.Now()
	// Names sort against creation order: only the annotation orders them.
	h.create(h.job("z-old", presubmitOf("unit", 1, base, 0)))
	h.waitState("z-old", v1alpha1.PendingState)
	h.pod("z-old")
	// Bystanders: another job on the same pull request and the same job
	// on another pull request.
	h.create(h.job("lint", presubmitOf("lint", 1, base, 0)))
	h.create(h.job("other-pr", presubmitOf("unit", 2, base, 0)))
	h.waitState("lint", v1alpha1.PendingState)
	h.waitState("other-pr", v1alpha1.PendingState)

	h.create(h.job("a-new", presubmitOf("unit", 1, base, 500*time.Millisecond)))
	old := h.waitState("z-old", v1alpha1.AbortedState)
	if old.Status.Description != descSuperseded || old.Status.CompletionTime == nil {
		t.Errorf("superseded run: %q, completion %v", old.Status.Description, old.Status.CompletionTime)
	}
	h.podGone("z-old")
	h.waitState("a-new", v1alpha1.PendingState)
	for _, name := range []string{"lint", "other-pr"} {
		if pj := h.get(name); pj.Status.State != v1alpha1.PendingState {
			t.Errorf("%s is %s (%s), want it left pending", name, pj.Status.State, pj.Status.Description)
		}
	}
}

func TestSupersededRunNeverStarts(t *testing.T) {
	h := start(t, Config{})
	base := time.Now()
	// Both exist before either is reconciled, as when two pushes arrive
	// together: whichever the controller sees first, only the newer starts.
	ctx := context.Background()
	runs := []*v1alpha1.ProwJob{
		h.job("first", presubmitOf("unit", 3, base, 0)),
		h.job("second", presubmitOf("unit", 3, base, time.Millisecond)),
	}
	for _, pj := range runs {
		if err := h.c.Create(ctx, pj); err != nil {
			t.Fatal(err)
		}
	}
	first := h.waitState("first", v1alpha1.AbortedState)
	if first.Status.PodName != "" || first.Status.Description != descSuperseded {
		t.Errorf("superseded run got pod %q, description %q", first.Status.PodName, first.Status.Description)
	}
	h.waitState("second", v1alpha1.PendingState)
}

func TestSupersedeLeavesOtherTypesAlone(t *testing.T) {
	h := start(t, Config{})
	// Postsubmits and periodics of the same job run side by side.
	h.create(h.job("p1", withJob("build")))
	h.create(h.job("p2", withJob("build")))
	h.waitState("p1", v1alpha1.PendingState)
	h.waitState("p2", v1alpha1.PendingState)
}

func (h *harness) get(name string) *v1alpha1.ProwJob {
	h.t.Helper()
	pj := &v1alpha1.ProwJob{}
	if err := h.c.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: name}, pj); err != nil {
		h.t.Fatal(err)
	}
	return pj
}
