package reporter

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// takeoverMargin widens the time before this replica's election during
// which a run's state may have been reached, and reported, under the
// previous leader: it covers clock skew between nodes and the moment the
// previous leader's record of a report takes to reach the API server.
const takeoverMargin = time.Minute

// inherited reports whether the run reached its state before this
// reporter could have reported it: before it was elected (or when that is
// not known yet). The previous leader may have posted the status and died
// before recording it in status.reports.
func (r *Reconciler) inherited(pj *v1alpha1.ProwJob) bool {
	since := r.elected.Load()
	if since == 0 {
		return true
	}
	at := stateSince(pj)
	return at.IsZero() || at.Before(time.Unix(0, since).Add(takeoverMargin))
}

// stateSince is when the run reached its current state, zero when unknown.
func stateSince(pj *v1alpha1.ProwJob) time.Time {
	st := pj.Status
	switch {
	case st.CompletionTime != nil:
		return st.CompletionTime.Time
	case st.State == v1alpha1.PendingState && st.PendingTime != nil:
		return st.PendingTime.Time
	case st.State == v1alpha1.TriggeredState && st.StartTime != nil:
		return st.StartTime.Time
	}
	return time.Time{}
}

// onGitHub reports whether GitHub's newest status of the run's context on
// its commit is already the one the run would report.
func onGitHub(ctx context.Context, gh *github.Client, pj *v1alpha1.ProwJob) (bool, error) {
	refs, sha, name := pj.Spec.Refs, statusSHA(pj), statusContext(pj)
	opts := &github.ListOptions{PerPage: 100}
	for {
		combined, resp, err := gh.Repositories.GetCombinedStatus(ctx, refs.Org, refs.Repo, sha, opts)
		if gone(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read the statuses of %s/%s@%s: %w", refs.Org, refs.Repo, sha, err)
		}
		for _, s := range combined.Statuses {
			if s.GetContext() == name {
				return s.GetState() == githubState(pj.Status.State) && s.GetDescription() == description(pj) &&
					s.GetTargetURL() == pj.Status.URL, nil
			}
		}
		if resp.NextPage == 0 {
			return false, nil
		}
		opts.Page = resp.NextPage
	}
}
