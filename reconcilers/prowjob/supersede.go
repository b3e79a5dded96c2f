package prowjob

import (
	"context"

	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// descSuperseded describes a run aborted because a newer run of the same
// job was started on the same pull request.
const descSuperseded = "Aborted: superseded by a newer run of the same job."

// Superseding is Prow's "terminateDupes": of the runs of one presubmit on
// one pull request, only the newest goes on. A push, /test or /retest
// creates the new run; the older ones are aborted here, where every run
// passes, rather than by the webhook handler, so that a run the handler's
// cache did not show yet is still found, and a run superseded before it
// started never gets a pod. Runs are ordered by v1alpha1.CreatedBefore.

// newerRun returns the name of a run of the same presubmit on the same
// pull request created after pj, or "" when there is none. Any newer run
// counts, finished or not: an older run's result must never land after a
// newer one's.
func (r *Reconciler) newerRun(ctx context.Context, pj *v1alpha1.ProwJob) (string, error) {
	runs, err := v1alpha1.PullRuns(ctx, r.Client, pj)
	if err != nil {
		return "", err
	}
	for i := range runs {
		o := &runs[i]
		if o.UID != pj.UID && o.Spec.Job == pj.Spec.Job && v1alpha1.CreatedBefore(pj, o) {
			return o.Name, nil
		}
	}
	return "", nil
}

// supersedeOnCreate wakes the older unfinished runs of a new presubmit run
// of the same job and pull request, so that they are aborted.
func (r *Reconciler) supersedeOnCreate(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	pj, ok := e.Object.(*v1alpha1.ProwJob)
	if !ok || pj.Complete() {
		return
	}
	runs, err := v1alpha1.PullRuns(ctx, r.Client, pj)
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Cannot list the runs a new run supersedes", "prowJob", pj.Name)
		return
	}
	for i := range runs {
		o := &runs[i]
		if o.UID != pj.UID && o.Spec.Job == pj.Spec.Job && !o.Complete() && r.handles(o) && v1alpha1.CreatedBefore(o, pj) {
			q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
		}
	}
}
