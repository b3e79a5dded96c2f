package prowjob

import (
	"context"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Field indexes on ProwJobs, registered by IndexFields.
const (
	// IndexJob indexes runs by spec.job.
	IndexJob = "spec.job"
	// IndexJobQueue indexes runs by spec.jobQueueName.
	IndexJobQueue = "spec.jobQueueName"
	// IndexState indexes runs by status.state; a run without a state yet is
	// indexed as triggered, which is what it is about to become.
	IndexState = "status.state"
)

// IndexFields registers the ProwJob field indexes the reconciler and other
// controllers list by. Registering them twice on one manager is not an
// error, so every controller that needs them may call it.
func IndexFields(ctx context.Context, idx client.FieldIndexer) error {
	fields := map[string]client.IndexerFunc{
		IndexJob: func(o client.Object) []string { return []string{o.(*v1alpha1.ProwJob).Spec.Job} },
		IndexJobQueue: func(o client.Object) []string {
			if q := o.(*v1alpha1.ProwJob).Spec.JobQueueName; q != "" {
				return []string{q}
			}
			return nil
		},
		IndexState: func(o client.Object) []string { return []string{string(indexedState(o.(*v1alpha1.ProwJob)))} },
	}
	for _, name := range []string{IndexJob, IndexJobQueue, IndexState} {
		if err := idx.IndexField(ctx, &v1alpha1.ProwJob{}, name, fields[name]); err != nil && !strings.Contains(err.Error(), "conflict") {
			return fmt.Errorf("index ProwJobs by %s: %w", name, err)
		}
	}
	return v1alpha1.AddPullIndex(ctx, idx)
}

func indexedState(pj *v1alpha1.ProwJob) v1alpha1.ProwJobState {
	if pj.Status.State == "" {
		return v1alpha1.TriggeredState
	}
	return pj.Status.State
}

// checkLimits decides whether a triggered run may start now. Limits are
// enforced oldest first from the cluster's state: a run counts every run of
// the same job (or queue) that is pending, and every triggered one created
// before it, so that two reconciles looking at the same cache agree on who
// goes next without a lock. Runs are counted within the ProwJob's namespace
// (Prow's prowjob_namespace).
func (r *Reconciler) checkLimits(ctx context.Context, pj *v1alpha1.ProwJob, cfg Config) (*blocked, error) {
	if max := int(pj.Spec.MaxConcurrency); max > 0 {
		n, err := r.countAhead(ctx, pj, IndexJob, pj.Spec.Job)
		if err != nil {
			return nil, err
		}
		if n >= max {
			return &blocked{v1alpha1.ReasonWaitingForConcurrency, fmt.Sprintf("Waiting: %d of max_concurrency %d runs of %s in flight or ahead.", n, max, pj.Spec.Job)}, nil
		}
	}
	if q := pj.Spec.JobQueueName; q != "" {
		capacity, ok := cfg.JobQueueCapacities[q]
		switch {
		case !ok || capacity < 0:
		case capacity == 0:
			return &blocked{v1alpha1.ReasonWaitingForQueue, fmt.Sprintf("Waiting: job queue %s has capacity 0.", q)}, nil
		default:
			n, err := r.countAhead(ctx, pj, IndexJobQueue, q)
			if err != nil {
				return nil, err
			}
			if n >= capacity {
				return &blocked{v1alpha1.ReasonWaitingForQueue, fmt.Sprintf("Waiting: %d of capacity %d runs of job queue %s in flight or ahead.", n, capacity, q)}, nil
			}
		}
	}
	return nil, nil
}

// countAhead counts the pending runs sharing a key with pj and the
// triggered ones older than pj.
func (r *Reconciler) countAhead(ctx context.Context, pj *v1alpha1.ProwJob, index, key string) (int, error) {
	n := 0
	for _, state := range []v1alpha1.ProwJobState{v1alpha1.PendingState, v1alpha1.TriggeredState} {
		var list v1alpha1.ProwJobList
		if err := r.Client.List(ctx, &list, client.InNamespace(pj.Namespace),
			client.MatchingFields{index: key, IndexState: string(state)}, client.UnsafeDisableDeepCopy); err != nil {
			return 0, fmt.Errorf("list %s runs of %s: %w", state, key, err)
		}
		for i := range list.Items {
			o := &list.Items[i]
			if o.UID == pj.UID || o.Complete() {
				continue
			}
			if state == v1alpha1.PendingState || v1alpha1.CreatedBefore(o, pj) {
				n++
			}
		}
	}
	return n, nil
}
