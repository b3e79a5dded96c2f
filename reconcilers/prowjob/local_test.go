package prowjob

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/reconcilers/prowjob/local"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// startLocal runs the reconciler with the real local runner.
func startLocal(t *testing.T) *harness {
	t.Helper()
	return start(t, Config{}, func(r *Reconciler) {
		runner, err := local.NewRunner(local.Options{Root: t.TempDir(), Bucket: t.TempDir(), Notify: r.NotifyLocal})
		if err != nil {
			t.Fatal(err)
		}
		r.Local = LocalProcesses{Runner: runner}
		t.Cleanup(func() { _ = runner.Shutdown(t.Context()) })
	})
}

func shell(script string) func(*v1alpha1.ProwJob) {
	return func(pj *v1alpha1.ProwJob) {
		pj.Spec.Agent = v1alpha1.LocalAgent
		pj.Spec.PodSpec = &corev1.PodSpec{Containers: []corev1.Container{{Name: "test", Image: "unused", Command: []string{"sh", "-c", script}}}}
	}
}

func TestLocalRuns(t *testing.T) {
	h := startLocal(t)
	h.create(h.job("passes", shell("echo hello")))
	h.create(h.job("fails", shell("exit 3")))
	h.create(h.job("hangs", shell("sleep 60")))
	pj := h.waitState("passes", v1alpha1.SuccessState)
	if pj.Status.BuildID == "" || pj.Status.PendingTime == nil || pj.Status.PodName != "" {
		t.Errorf("local run status = %+v", pj.Status)
	}
	h.waitState("fails", v1alpha1.FailureState)

	pj = h.waitState("hangs", v1alpha1.PendingState)
	patch := pj.DeepCopy()
	pj.Status.State = v1alpha1.AbortedState
	if err := h.c.Status().Patch(t.Context(), pj, clientMergeFrom(patch)); err != nil {
		t.Fatal(err)
	}
	pj = h.waitState("hangs", v1alpha1.AbortedState)
	eventually(t, "aborted local run completed", func() error {
		pj = h.waitState("hangs", v1alpha1.AbortedState)
		if pj.Status.CompletionTime == nil {
			return errNotYet
		}
		return nil
	})
}
