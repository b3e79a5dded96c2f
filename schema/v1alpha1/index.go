package v1alpha1

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// IndexPull is the informer cache index of presubmit runs by the pull
// request they test, keyed by PullKey. The trigger plugin finds the runs
// to supersede or abort through it and the reporter the runs to summarise,
// so that neither scans every ProwJob of a busy namespace.
const IndexPull = "bowline.dev/pull"

// PullKey is an IndexPull key: "org/repo#number".
func PullKey(org, repo string, number int) string {
	return org + "/" + repo + "#" + strconv.Itoa(number)
}

// PullIndexKeys is the IndexPull indexer: a presubmit run of exactly one
// pull request has that pull request's key, other runs none.
func PullIndexKeys(o client.Object) []string {
	pj, ok := o.(*ProwJob)
	if !ok || pj.Spec.Type != PresubmitJob || pj.Spec.Refs == nil || len(pj.Spec.Refs.Pulls) != 1 {
		return nil
	}
	return []string{PullKey(pj.Spec.Refs.Org, pj.Spec.Refs.Repo, int(pj.Spec.Refs.Pulls[0].Number))}
}

// AddPullIndex registers IndexPull with a cache. Registering it again on
// the same cache is not an error, so every controller that lists by it may
// call it.
func AddPullIndex(ctx context.Context, idx client.FieldIndexer) error {
	err := idx.IndexField(ctx, &ProwJob{}, IndexPull, PullIndexKeys)
	if err != nil && !strings.Contains(err.Error(), "conflict") {
		return fmt.Errorf("index ProwJobs by pull request: %w", err)
	}
	return nil
}

// CreatedBefore orders runs by when they were created: by the created-at
// annotation where both have it (it has sub-second precision, which
// metadata.creationTimestamp lacks), else by creationTimestamp, then by
// name, so that every controller orders any two runs the same way.
func CreatedBefore(a, b *ProwJob) bool {
	ta, tb := a.CreationTimestamp.Time, b.CreationTimestamp.Time
	ca, errA := time.Parse(time.RFC3339Nano, a.Annotations[CreatedAtAnnotation])
	cb, errB := time.Parse(time.RFC3339Nano, b.Annotations[CreatedAtAnnotation])
	if errA == nil && errB == nil {
		ta, tb = ca, cb
	}
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.Name < b.Name
}

// PullRuns lists, through IndexPull, the runs in pj's namespace that test
// the same pull request as pj, pj among them; none when pj is not a
// presubmit of one pull request. r must be a cache with the index (see
// AddPullIndex). The runs are the cache's own objects: do not modify them.
func PullRuns(ctx context.Context, r client.Reader, pj *ProwJob) ([]ProwJob, error) {
	keys := PullIndexKeys(pj)
	if len(keys) == 0 {
		return nil, nil
	}
	var list ProwJobList
	if err := r.List(ctx, &list, client.InNamespace(pj.Namespace),
		client.MatchingFields{IndexPull: keys[0]}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", keys[0], err)
	}
	return list.Items, nil
}
