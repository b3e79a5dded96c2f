package merge

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Bounds of the lists in a MergePool's status.
const (
	maxStatusPRs    = 200
	maxLastMerges   = 10
	maxStatusTitle  = 200
	maxStatusBlocks = 20
)

// stateRank orders pull requests in the status: the pool's members first.
var stateRank = map[v1alpha1.PoolPullRequestState]int{
	v1alpha1.PoolPRSuccess: 0, v1alpha1.PoolPRPending: 1, v1alpha1.PoolPRMissing: 2,
	v1alpha1.PoolPRBlocked: 3, v1alpha1.PoolPRNotMergeable: 4,
}

// applyResult writes what a pool sync saw and did into the status; err is
// the sync's failure, if any.
func applyResult(st *v1alpha1.MergePoolStatus, gen int64, res *PoolResult, err error, now metav1.Time) {
	if res != nil && res.Merge != nil {
		st.Merging = nil
		if res.Merge.CompletionTime == nil {
			// Interrupted by an error: what merged so far stays recorded
			// as in progress, and the next sync resumes it.
			st.Merging = res.Merge
		} else {
			st.LastMerges = append([]v1alpha1.PoolMerge{*res.Merge}, st.LastMerges...)
			if len(st.LastMerges) > maxLastMerges {
				st.LastMerges = st.LastMerges[:maxLastMerges]
			}
		}
	}
	if res != nil && res.Plan != nil {
		p := res.Plan
		st.BaseSHA = res.BaseSHA
		st.Action = p.Action
		st.Targets = nil
		for _, n := range p.Targets {
			if len(st.Targets) == 100 {
				break
			}
			st.Targets = append(st.Targets, int32(n))
		}
		st.Summary = p.Summary
		st.Batches = p.Batches
		st.PullRequests = prEntries(p, res.PRs)
		st.Blockers = nil
		for _, n := range p.Blockers {
			if len(st.Blockers) < maxStatusBlocks {
				st.Blockers = append(st.Blockers, int32(n))
			}
		}
	}
	setConditions(st, gen, err, now)
}

// prEntries lists the pull requests for the status, members first, bounded.
func prEntries(p *Plan, prs map[int]*PR) []v1alpha1.PoolPullRequest {
	out := make([]v1alpha1.PoolPullRequest, 0, len(p.PRs))
	for n, v := range p.PRs {
		e := v1alpha1.PoolPullRequest{Number: int32(n), State: v.State, Reason: v.Description, TideState: v.GitHubState}
		if pr := prs[n]; pr != nil {
			e.Author, e.Title, e.HeadSHA = pr.Author, truncate(pr.Title, maxStatusTitle), pr.HeadSHA
		}
		for _, j := range v.MissingJobs {
			if len(e.MissingJobs) < 32 {
				e.MissingJobs = append(e.MissingJobs, truncate(j, 255))
			}
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := stateRank[out[i].State], stateRank[out[j].State]
		if ri != rj {
			return ri < rj
		}
		return out[i].Number < out[j].Number
	})
	if len(out) > maxStatusPRs {
		out = out[:maxStatusPRs]
	}
	return out
}

// setConditions sets Ready (and Reconciling while a failure is retried)
// from a sync's outcome.
func setConditions(st *v1alpha1.MergePoolStatus, gen int64, err error, now metav1.Time) {
	set := func(typ string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: typ, Status: status, Reason: reason,
			Message: truncate(msg, 32768), ObservedGeneration: gen, LastTransitionTime: now})
	}
	switch {
	case err != nil:
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonGitHubFailed, err.Error())
		set(v1alpha1.ConditionReconciling, metav1.ConditionTrue, "ProgressingWithRetry", "Retrying after: "+err.Error())
		return
	case len(st.LastMerges) > 0 && st.LastMerges[0].Error != "" && st.Action != "" && isMergeAction(st.Action):
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonMergeFailed, st.LastMerges[0].Error)
	case st.Action == v1alpha1.MergeActionBlocked:
		set(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonBlocked, summary(st))
	default:
		set(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, summary(st))
	}
	meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionReconciling)
}

func isMergeAction(a v1alpha1.MergeAction) bool {
	return a == v1alpha1.MergeActionMerge || a == v1alpha1.MergeActionMergeBatch
}

// summary is the Ready message: the pool's size and what it does.
func summary(st *v1alpha1.MergePoolStatus) string {
	s := st.Summary
	msg := fmt.Sprintf("%d of %d open pull requests in the pool", s.InPool, s.Open)
	var targets []int
	for _, n := range st.Targets {
		targets = append(targets, int(n))
	}
	switch st.Action {
	case v1alpha1.MergeActionMerge, v1alpha1.MergeActionMergeBatch:
		msg += "; merged " + joinNumbers(targets)
	case v1alpha1.MergeActionTrigger, v1alpha1.MergeActionTriggerBatch:
		msg += "; testing " + joinNumbers(targets)
	case v1alpha1.MergeActionBlocked:
		var b []int
		for _, n := range st.Blockers {
			b = append(b, int(n))
		}
		msg += "; blocked by " + joinNumbers(b)
	default:
		for _, bt := range st.Batches {
			if bt.State == v1alpha1.PoolBatchPending {
				var ns []int
				for _, p := range bt.Pulls[bt.On:] {
					ns = append(ns, int(p.Number))
				}
				return msg + "; testing " + joinNumbers(ns)
			}
		}
		msg += "; waiting"
	}
	return msg
}
