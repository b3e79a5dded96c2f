package merge

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

var v1alpha1MetaNow = metav1.Now()

const (
	baseA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	baseB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// testPR is an approved pull request (lgtm and approved) whose unit job
// passed on GitHub.
func testPR(n int, opts ...func(*PR)) *PR {
	pr := &PR{
		Org: "o", Repo: "r", Number: n, Author: "alice", Title: fmt.Sprintf("Change %d", n),
		BaseRef: "main", HeadRef: fmt.Sprintf("change-%d", n), HeadSHA: headSHA(n),
		Labels:        []string{"lgtm", "approved"},
		Contexts:      []Context{{Name: "unit", State: stateSuccess}},
		ContextsKnown: true,
		ChecksKnown:   true,
	}
	for _, o := range opts {
		o(pr)
	}
	return pr
}

func headSHA(n int) string { return fmt.Sprintf("%040d", n) }

func labels(l ...string) func(*PR) { return func(p *PR) { p.Labels = l } }

func contexts(c ...Context) func(*PR) { return func(p *PR) { p.Contexts = c } }

func ctx(name, state string) Context { return Context{Name: name, State: state} }

// testRun is a run of the unit job (or job) for pulls on base.
func testRun(name string, typ v1alpha1.ProwJobType, state v1alpha1.ProwJobState, base string, pulls ...int) Run {
	r := Run{Name: name, Job: "unit", Context: "unit", Type: typ, State: state, BaseSHA: base, Created: time.Unix(int64(len(name)), 0)}
	for _, n := range pulls {
		r.Pulls = append(r.Pulls, v1alpha1.PoolPull{Number: int32(n), SHA: headSHA(n)})
	}
	return r
}

func withJob(r Run, job string) Run {
	r.Job, r.Context = job, job
	return r
}

func byMerge(r Run, kind v1alpha1.PoolBatchKind) Run {
	r.ByMerge, r.Kind = true, kind
	return r
}

func presubmit(name string, mut ...func(*jobs.Presubmit)) jobs.Presubmit {
	ps := jobs.Presubmit{JobBase: jobs.JobBase{Name: name}, AlwaysRun: true, Reporter: jobs.Reporter{Context: name}}
	for _, m := range mut {
		m(&ps)
	}
	return ps
}

// testPolicy is the quickstart's: lgtm and approved, no hold; one
// required job, unit; batches unlimited; no speculation or bisection
// unless a test turns them on.
func testPolicy() *Policy {
	return &Policy{
		Queries: []prowconfig.TideQuery{{Repos: []string{"o/r"}, Labels: []string{"lgtm", "approved"},
			MissingLabels: []string{"do-not-merge/hold"}}},
		Presubmits: []jobs.Presubmit{presubmit("unit")},
		Method:     "merge",
	}
}

// fakeBatcher takes candidates in order, skipping any that conflicts with
// one already taken (or in onto).
type fakeBatcher struct{ conflicts [][2]int }

func (f fakeBatcher) Pick(_ context.Context, _, _, _, _ string, onto, cands []*PR, limit int) ([]*PR, error) {
	taken := slices.Clone(onto)
	var out []*PR
	for _, c := range cands {
		if limit > 0 && len(out) >= limit {
			break
		}
		clean := true
		for _, t := range taken {
			for _, pair := range f.conflicts {
				if (pair[0] == c.Number && pair[1] == t.Number) || (pair[1] == c.Number && pair[0] == t.Number) {
					clean = false
				}
			}
		}
		if clean {
			taken = append(taken, c)
			out = append(out, c)
		}
	}
	return out, nil
}

type wantStart struct {
	Kind  v1alpha1.PoolBatchKind
	Pulls []int
	On    int
	Jobs  []string
}

func startsOf(p *Plan) []wantStart {
	var out []wantStart
	for _, s := range p.Start {
		w := wantStart{Kind: s.Kind, Pulls: numbers(s.PRs), On: s.On}
		for _, j := range s.Jobs {
			w.Jobs = append(w.Jobs, j.Context)
		}
		out = append(out, w)
	}
	return out
}

func mergesOf(p *Plan) []string {
	var out []string
	for _, m := range p.Merge {
		out = append(out, fmt.Sprintf("%d:%s", m.PR.Number, m.Method))
	}
	return out
}

// TestDecide is the pool's decision table: Prow's documented cases, then
// bowline's speculative batches and bisection.
func TestDecide(t *testing.T) {
	merged := func(base, to string, pulls ...int) v1alpha1.PoolMerge {
		m := v1alpha1.PoolMerge{Action: v1alpha1.MergeActionMergeBatch, BaseSHA: base, CompletionTime: &v1alpha1MetaNow}
		for i, n := range pulls {
			p := v1alpha1.PoolPull{Number: int32(n), SHA: headSHA(n)}
			if i == len(pulls)-1 {
				p.MergeSHA = to
			}
			m.Pulls = append(m.Pulls, p)
		}
		return m
	}
	tests := []struct {
		name     string
		prs      []*PR
		runs     []Run
		merges   []v1alpha1.PoolMerge
		blockers []int
		policy   func(*Policy)
		batcher  fakeBatcher

		action  v1alpha1.MergeAction
		targets []int
		merge   []string
		starts  []wantStart
		abort   []string
		// states and descs are checked for the pull requests they name.
		states map[int]v1alpha1.PoolPullRequestState
		descs  map[int]string
		gh     map[int]string
		// batches lists the status's batches as kind:pulls/on:state.
		batches []string
	}{
		{
			name:    "a pull request whose jobs passed against the current base merges",
			prs:     []*PR{testPR(1)},
			runs:    []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			action:  v1alpha1.MergeActionMerge,
			targets: []int{1},
			merge:   []string{"1:merge"},
			states:  map[int]v1alpha1.PoolPullRequestState{1: v1alpha1.PoolPRSuccess},
			descs:   map[int]string{1: "In merge pool."},
			gh:      map[int]string{1: "success"},
		},
		{
			name:   "a missing label keeps a pull request out and the status says which",
			prs:    []*PR{testPR(1, labels("lgtm"))},
			runs:   []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			states: map[int]v1alpha1.PoolPullRequestState{1: v1alpha1.PoolPRNotMergeable},
			descs:  map[int]string{1: "Not mergeable. Needs approved label."},
			gh:     map[int]string{1: "pending"},
			action: v1alpha1.MergeActionWait,
		},
		{
			name:   "labels, then jobs: the first unmet requirement is named",
			prs:    []*PR{testPR(1, labels("do-not-merge/hold"), contexts(ctx("unit", stateFailure)))},
			descs:  map[int]string{1: "Not mergeable. Needs approved, lgtm labels."},
			action: v1alpha1.MergeActionWait,
		},
		{
			name:   "a held pull request",
			prs:    []*PR{testPR(1, labels("lgtm", "approved", "do-not-merge/hold"))},
			descs:  map[int]string{1: "Not mergeable. Should not have do-not-merge/hold label."},
			action: v1alpha1.MergeActionWait,
		},
		{
			name:   "a missing required context keeps a pull request out",
			prs:    []*PR{testPR(1, contexts())},
			descs:  map[int]string{1: "Not mergeable. Job unit has not succeeded."},
			states: map[int]v1alpha1.PoolPullRequestState{1: v1alpha1.PoolPRNotMergeable},
			action: v1alpha1.MergeActionWait,
		},
		{
			name: "a failing job keeps a pull request out",
			prs:  []*PR{testPR(1, contexts(ctx("unit", stateFailure), ctx("e2e", stateFailure)))},
			policy: func(p *Policy) {
				p.Presubmits = append(p.Presubmits, presubmit("e2e"))
			},
			descs:  map[int]string{1: "Not mergeable. Jobs e2e, unit have not succeeded."},
			action: v1alpha1.MergeActionWait,
		},
		{
			name: "an optional job may fail",
			prs:  []*PR{testPR(1, contexts(ctx("unit", stateSuccess), ctx("lint", stateFailure)))},
			runs: []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			policy: func(p *Policy) {
				p.Presubmits = append(p.Presubmits, presubmit("lint", func(ps *jobs.Presubmit) { ps.Optional = true }))
			},
			action: v1alpha1.MergeActionMerge,
			merge:  []string{"1:merge"},
		},
		{
			name:   "an unknown failing context blocks",
			prs:    []*PR{testPR(1, contexts(ctx("unit", stateSuccess), ctx("cla", stateFailure)))},
			runs:   []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			descs:  map[int]string{1: "Not mergeable. Job cla has not succeeded."},
			action: v1alpha1.MergeActionWait,
		},
		{
			name: "skip-unknown-contexts lets an unknown context fail",
			prs:  []*PR{testPR(1, contexts(ctx("unit", stateSuccess), ctx("cla", stateFailure)))},
			runs: []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			policy: func(p *Policy) {
				yes := true
				p.ContextOptions.SkipUnknownContexts = &yes
			},
			action: v1alpha1.MergeActionMerge,
			merge:  []string{"1:merge"},
		},
		{
			name: "required-contexts from context_options must be present",
			prs:  []*PR{testPR(1)},
			runs: []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			policy: func(p *Policy) {
				p.ContextOptions.RequiredContexts = []string{"cla"}
			},
			descs:  map[int]string{1: "Not mergeable. Job cla has not succeeded."},
			action: v1alpha1.MergeActionWait,
		},
		{
			name: "from-branch-protection adds the protected branch's contexts",
			prs:  []*PR{testPR(1)},
			runs: []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			policy: func(p *Policy) {
				yes := true
				p.ContextOptions.FromBranchProtection = &yes
				p.Protection = []string{"security/scan"}
			},
			descs:  map[int]string{1: "Not mergeable. Job security/scan has not succeeded."},
			action: v1alpha1.MergeActionWait,
		},
		{
			name:   "a pending job keeps a pull request in the pool",
			prs:    []*PR{testPR(1, contexts(ctx("unit", statePending)))},
			runs:   []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.PendingState, baseB, 1)},
			states: map[int]v1alpha1.PoolPullRequestState{1: v1alpha1.PoolPRPending},
			descs:  map[int]string{1: "Not mergeable. Retesting: unit"},
			gh:     map[int]string{1: "pending"},
			action: v1alpha1.MergeActionWait,
		},
		{
			name:   "a pending context no job produces keeps a pull request out",
			prs:    []*PR{testPR(1, contexts(ctx("unit", stateSuccess), ctx("cla", statePending)))},
			descs:  map[int]string{1: "Not mergeable. Job cla has not succeeded."},
			action: v1alpha1.MergeActionWait,
		},
		{
			name:     "a blocker issue holds the branch",
			prs:      []*PR{testPR(1)},
			runs:     []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			blockers: []int{7, 9},
			action:   v1alpha1.MergeActionBlocked,
			states:   map[int]v1alpha1.PoolPullRequestState{1: v1alpha1.PoolPRBlocked},
			descs:    map[int]string{1: "Not mergeable. Merging is blocked by issues 7, 9."},
			gh:       map[int]string{1: "error"},
		},
		{
			name:   "a conflicting pull request is not mergeable",
			prs:    []*PR{testPR(1, func(p *PR) { p.Conflict = true })},
			runs:   []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			descs:  map[int]string{1: "Not mergeable. PR has a merge conflict."},
			gh:     map[int]string{1: "error"},
			action: v1alpha1.MergeActionWait,
		},
		{
			name: "conflicting merge method labels",
			prs:  []*PR{testPR(1, labels("lgtm", "approved", "tide/merge-method-squash", "tide/merge-method-rebase"))},
			policy: func(p *Policy) {
				p.SquashLabel, p.RebaseLabel = "tide/merge-method-squash", "tide/merge-method-rebase"
			},
			descs:  map[int]string{1: "Not mergeable. PR has conflicting merge method override labels"},
			gh:     map[int]string{1: "error"},
			action: v1alpha1.MergeActionWait,
		},
		{
			name: "a method label picks the merge method",
			prs:  []*PR{testPR(1, labels("lgtm", "approved", "tide/merge-method-squash"))},
			runs: []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			policy: func(p *Policy) {
				p.SquashLabel = "tide/merge-method-squash"
			},
			action: v1alpha1.MergeActionMerge,
			merge:  []string{"1:squash"},
		},
		{
			name: "github_merge_blocks_policy block keeps a pull request GitHub blocks out",
			prs:  []*PR{testPR(1, func(p *PR) { p.MergeBlocked = true })},
			runs: []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			policy: func(p *Policy) {
				p.MergeBlocks = "block"
			},
			descs:  map[int]string{1: "Not mergeable. PR is blocked from merging by GitHub (check branch protection, required reviews, or rulesets)"},
			gh:     map[int]string{1: "error"},
			action: v1alpha1.MergeActionWait,
		},
		{
			name: "github_merge_blocks_policy permit merges a pull request GitHub blocks",
			prs:  []*PR{testPR(1, func(p *PR) { p.MergeBlocked = true })},
			runs: []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			policy: func(p *Policy) {
				p.MergeBlocks = "permit"
			},
			action: v1alpha1.MergeActionMerge,
			merge:  []string{"1:merge"},
		},
		{
			name: "optional-regex-contexts make matching contexts optional",
			prs:  []*PR{testPR(1, contexts(ctx("unit", stateSuccess), ctx("ci/optional-lint", stateFailure)))},
			runs: []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			policy: func(p *Policy) {
				p.ContextOptions.OptionalRegexContexts = []string{"^ci/optional-"}
			},
			action: v1alpha1.MergeActionMerge,
			merge:  []string{"1:merge"},
		},
		{
			name: "a method the repository does not allow",
			prs:  []*PR{testPR(1)},
			policy: func(p *Policy) {
				p.Method = "rebase"
				p.AllowedMethods = map[string]bool{"merge": true, "squash": true}
			},
			descs:  map[int]string{1: `Not mergeable. Merge type "rebase" disallowed by repo settings`},
			action: v1alpha1.MergeActionWait,
		},
		{
			name:   "a draft is not mergeable",
			prs:    []*PR{testPR(1, func(p *PR) { p.Draft = true })},
			descs:  map[int]string{1: "Not mergeable. PR is a draft."},
			action: v1alpha1.MergeActionWait,
		},
		{
			name:   "unknown contexts leave the status alone",
			prs:    []*PR{testPR(1, func(p *PR) { p.ContextsKnown, p.ChecksKnown = false, false })},
			gh:     map[int]string{1: ""},
			action: v1alpha1.MergeActionWait,
		},
		{
			name:   "a pull request no query matches is judged without its contexts when they are unknown",
			prs:    []*PR{testPR(1, labels("lgtm"), func(p *PR) { p.ContextsKnown, p.ChecksKnown, p.Contexts = false, false, nil })},
			descs:  map[int]string{1: "Not mergeable. Needs approved label."},
			gh:     map[int]string{1: "pending"},
			action: v1alpha1.MergeActionWait,
		},
		{
			name: "reviewApprovedRequired needs GitHub's approval",
			prs:  []*PR{testPR(1)},
			policy: func(p *Policy) {
				p.Queries[0].ReviewApprovedRequired = true
			},
			descs:  map[int]string{1: "Not mergeable. PullRequest is missing sufficient approving GitHub review(s)"},
			action: v1alpha1.MergeActionWait,
		},
		{
			name:    "results from an older base are stale: the pull request is retested",
			prs:     []*PR{testPR(1)},
			runs:    []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseA, 1)},
			action:  v1alpha1.MergeActionTrigger,
			targets: []int{1},
			starts:  []wantStart{{Kind: v1alpha1.PoolBatchRetest, Pulls: []int{1}, Jobs: []string{"unit"}}},
			states:  map[int]v1alpha1.PoolPullRequestState{1: v1alpha1.PoolPRMissing},
			descs:   map[int]string{1: "Not mergeable. Retesting: unit"},
		},
		{
			name:   "a status naming the current base counts as a passed run",
			prs:    []*PR{testPR(1, contexts(Context{Name: "unit", State: stateSuccess, Description: "Job succeeded. BaseSHA:" + baseB}))},
			action: v1alpha1.MergeActionMerge,
			merge:  []string{"1:merge"},
		},
		{
			name:    "several stale pull requests are tested as a batch",
			prs:     []*PR{testPR(1), testPR(2), testPR(3, labels("lgtm"))},
			action:  v1alpha1.MergeActionTriggerBatch,
			targets: []int{1, 2},
			starts:  []wantStart{{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{1, 2}, Jobs: []string{"unit"}}},
		},
		{
			name:    "conflicting pull requests are not batched together",
			prs:     []*PR{testPR(1), testPR(2), testPR(3)},
			batcher: fakeBatcher{conflicts: [][2]int{{1, 2}}},
			action:  v1alpha1.MergeActionTriggerBatch,
			starts:  []wantStart{{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{1, 3}, Jobs: []string{"unit"}}},
		},
		{
			name: "batch_size_limit bounds a batch",
			prs:  []*PR{testPR(1), testPR(2), testPR(3)},
			policy: func(p *Policy) {
				p.BatchLimit = 2
			},
			action: v1alpha1.MergeActionTriggerBatch,
			starts: []wantStart{{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{1, 2}, Jobs: []string{"unit"}}},
		},
		{
			name: "batch_size_limit -1 turns batches off: one pull request is retested",
			prs:  []*PR{testPR(1), testPR(2)},
			policy: func(p *Policy) {
				p.BatchLimit = -1
			},
			action: v1alpha1.MergeActionTrigger,
			starts: []wantStart{{Kind: v1alpha1.PoolBatchRetest, Pulls: []int{1}, Jobs: []string{"unit"}}},
		},
		{
			name:   "a pull request whose required job failed on GitHub is not a batch candidate",
			prs:    []*PR{testPR(1), testPR(2), testPR(3, contexts(ctx("unit", statePending)))},
			runs:   []Run{testRun("u3", v1alpha1.PresubmitJob, v1alpha1.PendingState, baseB, 3)},
			action: v1alpha1.MergeActionTriggerBatch,
			starts: []wantStart{{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{1, 2}, Jobs: []string{"unit"}}},
		},
		{
			name: "a batch under test holds back a single merge",
			prs:  []*PR{testPR(1), testPR(2)},
			runs: []Run{
				testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1),
				byMerge(testRun("b12", v1alpha1.BatchJob, v1alpha1.PendingState, baseB, 1, 2), v1alpha1.PoolBatchBatch),
			},
			action: v1alpha1.MergeActionWait,
			states: map[int]v1alpha1.PoolPullRequestState{1: v1alpha1.PoolPRSuccess, 2: v1alpha1.PoolPRMissing},
		},
		{
			name: "a batch whose jobs passed merges",
			prs:  []*PR{testPR(1), testPR(2), testPR(3)},
			runs: []Run{
				byMerge(testRun("b12", v1alpha1.BatchJob, v1alpha1.SuccessState, baseB, 1, 2), v1alpha1.PoolBatchBatch),
				testRun("u3", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 3),
			},
			action:  v1alpha1.MergeActionMergeBatch,
			targets: []int{1, 2},
			merge:   []string{"1:merge", "2:merge"},
			descs:   map[int]string{1: "In merge pool.", 2: "In merge pool."},
		},
		{
			name: "a batch needs its run_before_merge jobs",
			prs:  []*PR{testPR(1), testPR(2)},
			runs: []Run{byMerge(testRun("b12", v1alpha1.BatchJob, v1alpha1.SuccessState, baseB, 1, 2), v1alpha1.PoolBatchBatch)},
			policy: func(p *Policy) {
				p.Presubmits = append(p.Presubmits, presubmit("slow-e2e", func(ps *jobs.Presubmit) {
					ps.AlwaysRun, ps.RunBeforeMerge = false, true
				}))
			},
			action: v1alpha1.MergeActionTriggerBatch,
			starts: []wantStart{{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{1, 2}, Jobs: []string{"slow-e2e"}}},
		},
		{
			name:   "the base moved mid-batch: the batch is stale and a new one starts",
			prs:    []*PR{testPR(1), testPR(2)},
			runs:   []Run{byMerge(testRun("b12", v1alpha1.BatchJob, v1alpha1.SuccessState, baseA, 1, 2), v1alpha1.PoolBatchBatch)},
			action: v1alpha1.MergeActionTriggerBatch,
			starts: []wantStart{{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{1, 2}, Jobs: []string{"unit"}}},
		},
		{
			name:   "a pull request that changed its head invalidates the batch",
			prs:    []*PR{testPR(1), testPR(2, func(p *PR) { p.HeadSHA = strings.Repeat("e", 40) })},
			runs:   []Run{byMerge(testRun("b12", v1alpha1.BatchJob, v1alpha1.SuccessState, baseB, 1, 2), v1alpha1.PoolBatchBatch)},
			action: v1alpha1.MergeActionTriggerBatch,
			starts: []wantStart{{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{1, 2}, Jobs: []string{"unit"}}},
		},
		{
			name: "priority labels merge first",
			prs:  []*PR{testPR(1), testPR(2, labels("lgtm", "approved", "priority/critical-urgent"))},
			runs: []Run{
				testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1),
				testRun("u2", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 2),
			},
			policy: func(p *Policy) {
				p.Priority = []prowconfig.TidePriority{{Labels: []string{"priority/critical-urgent"}}}
			},
			action: v1alpha1.MergeActionMerge,
			merge:  []string{"2:merge"},
		},
		{
			name:   "a failed batch is retested whole without bisection (Prow)",
			prs:    []*PR{testPR(1), testPR(2)},
			runs:   []Run{byMerge(testRun("b12", v1alpha1.BatchJob, v1alpha1.FailureState, baseB, 1, 2), v1alpha1.PoolBatchBatch)},
			action: v1alpha1.MergeActionTriggerBatch,
			starts: []wantStart{{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{1, 2}, Jobs: []string{"unit"}}},
		},
		{
			name: "a failed batch is bisected",
			prs:  []*PR{testPR(1), testPR(2), testPR(3), testPR(4), testPR(5)},
			runs: []Run{byMerge(testRun("b1234", v1alpha1.BatchJob, v1alpha1.FailureState, baseB, 1, 2, 3, 4), v1alpha1.PoolBatchBatch)},
			policy: func(p *Policy) {
				p.Bisect = true
			},
			action: v1alpha1.MergeActionTriggerBatch,
			starts: []wantStart{
				{Kind: v1alpha1.PoolBatchBisection, Pulls: []int{1, 2}, Jobs: []string{"unit"}},
				{Kind: v1alpha1.PoolBatchBisection, Pulls: []int{3, 4}, Jobs: []string{"unit"}},
			},
			targets: []int{1, 2, 3, 4},
		},
		{
			name: "a failing half is bisected again, down to a pull request's own jobs",
			prs:  []*PR{testPR(1), testPR(2), testPR(3), testPR(4)},
			runs: []Run{
				byMerge(testRun("b1234", v1alpha1.BatchJob, v1alpha1.FailureState, baseB, 1, 2, 3, 4), v1alpha1.PoolBatchBatch),
				byMerge(testRun("b12", v1alpha1.BatchJob, v1alpha1.SuccessState, baseA, 1, 2), v1alpha1.PoolBatchBisection),
				byMerge(testRun("b34", v1alpha1.BatchJob, v1alpha1.FailureState, baseB, 3, 4), v1alpha1.PoolBatchBisection),
			},
			policy: func(p *Policy) {
				p.Bisect = true
			},
			action: v1alpha1.MergeActionTriggerBatch,
			starts: []wantStart{
				{Kind: v1alpha1.PoolBatchBisection, Pulls: []int{3}, Jobs: []string{"unit"}},
				{Kind: v1alpha1.PoolBatchBisection, Pulls: []int{4}, Jobs: []string{"unit"}},
				{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{1, 2}, Jobs: []string{"unit"}},
			},
		},
		{
			name: "a passing half merges while the other half is bisected",
			prs:  []*PR{testPR(1), testPR(2), testPR(3), testPR(4)},
			runs: []Run{
				byMerge(testRun("b1234", v1alpha1.BatchJob, v1alpha1.FailureState, baseB, 1, 2, 3, 4), v1alpha1.PoolBatchBatch),
				byMerge(testRun("b12", v1alpha1.BatchJob, v1alpha1.SuccessState, baseB, 1, 2), v1alpha1.PoolBatchBisection),
				byMerge(testRun("b34", v1alpha1.BatchJob, v1alpha1.PendingState, baseB, 3, 4), v1alpha1.PoolBatchBisection),
			},
			policy: func(p *Policy) {
				p.Bisect = true
			},
			action: v1alpha1.MergeActionMergeBatch,
			merge:  []string{"1:merge", "2:merge"},
		},
		{
			name: "when both halves pass, the second waits for the first to merge",
			prs:  []*PR{testPR(1), testPR(2), testPR(3), testPR(4)},
			runs: []Run{
				byMerge(testRun("b1234", v1alpha1.BatchJob, v1alpha1.FailureState, baseA, 1, 2, 3, 4), v1alpha1.PoolBatchBatch),
				byMerge(testRun("b12", v1alpha1.BatchJob, v1alpha1.SuccessState, baseA, 1, 2), v1alpha1.PoolBatchBisection),
				byMerge(testRun("b34", v1alpha1.BatchJob, v1alpha1.SuccessState, baseA, 3, 4), v1alpha1.PoolBatchBisection),
			},
			policy: func(p *Policy) {
				p.Bisect = true
			},
			action: v1alpha1.MergeActionTriggerBatch,
			starts: []wantStart{{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{1, 2}, Jobs: []string{"unit"}}},
		},
		{
			name: "a batch is stacked speculatively on the batch under test",
			prs:  []*PR{testPR(1), testPR(2), testPR(3), testPR(4)},
			runs: []Run{byMerge(testRun("b12", v1alpha1.BatchJob, v1alpha1.PendingState, baseB, 1, 2), v1alpha1.PoolBatchBatch)},
			policy: func(p *Policy) {
				p.SpeculativeDepth = 1
			},
			action:  v1alpha1.MergeActionTriggerBatch,
			targets: []int{3, 4},
			starts:  []wantStart{{Kind: v1alpha1.PoolBatchSpeculative, Pulls: []int{1, 2, 3, 4}, On: 2, Jobs: []string{"unit"}}},
		},
		{
			name: "a new batch and a speculative batch on it start together",
			prs:  []*PR{testPR(1), testPR(2), testPR(3), testPR(4)},
			policy: func(p *Policy) {
				p.BatchLimit, p.SpeculativeDepth = 2, 1
			},
			action: v1alpha1.MergeActionTriggerBatch,
			starts: []wantStart{
				{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{1, 2}, Jobs: []string{"unit"}},
				{Kind: v1alpha1.PoolBatchSpeculative, Pulls: []int{1, 2, 3, 4}, On: 2, Jobs: []string{"unit"}},
			},
		},
		{
			// Tide also retests the oldest pull request on its own while no
			// pull request has results against the current base.
			name:    "speculation stops at its depth",
			batches: []string{"Speculative:[1 2 3]/2:Pending", "Batch:[1 2]/0:Pending"},
			prs:     []*PR{testPR(1), testPR(2), testPR(3), testPR(4)},
			runs: []Run{
				byMerge(testRun("b12", v1alpha1.BatchJob, v1alpha1.PendingState, baseB, 1, 2), v1alpha1.PoolBatchBatch),
				byMerge(testRun("b123", v1alpha1.BatchJob, v1alpha1.PendingState, baseB, 1, 2, 3), v1alpha1.PoolBatchSpeculative),
			},
			policy: func(p *Policy) {
				p.SpeculativeDepth = 1
			},
			action: v1alpha1.MergeActionTrigger,
			starts: []wantStart{{Kind: v1alpha1.PoolBatchRetest, Pulls: []int{1}, Jobs: []string{"unit"}}},
		},
		{
			name: "runs stacked on a failed batch are aborted",
			prs:  []*PR{testPR(1), testPR(2), testPR(3)},
			runs: []Run{
				byMerge(testRun("b12", v1alpha1.BatchJob, v1alpha1.FailureState, baseB, 1, 2), v1alpha1.PoolBatchBatch),
				byMerge(testRun("b123", v1alpha1.BatchJob, v1alpha1.PendingState, baseB, 1, 2, 3), v1alpha1.PoolBatchSpeculative),
			},
			policy: func(p *Policy) {
				p.SpeculativeDepth, p.Bisect = 1, true
			},
			abort:  []string{"b123"},
			action: v1alpha1.MergeActionTrigger,
			starts: []wantStart{
				{Kind: v1alpha1.PoolBatchBisection, Pulls: []int{1}, Jobs: []string{"unit"}},
				{Kind: v1alpha1.PoolBatchBisection, Pulls: []int{2}, Jobs: []string{"unit"}},
			},
		},
		{
			name: "a speculative batch counts for the base its lower batch produced",
			prs:  []*PR{testPR(3), testPR(4)},
			runs: []Run{
				byMerge(testRun("b1234", v1alpha1.BatchJob, v1alpha1.SuccessState, baseA, 1, 2, 3, 4), v1alpha1.PoolBatchSpeculative),
			},
			merges:  []v1alpha1.PoolMerge{merged(baseA, baseB, 1, 2)},
			action:  v1alpha1.MergeActionMergeBatch,
			merge:   []string{"3:merge", "4:merge"},
			descs:   map[int]string{3: "In merge pool."},
			targets: []int{3, 4},
		},
		{
			name: "a speculative batch does not count when someone else pushed in between",
			prs:  []*PR{testPR(3), testPR(4)},
			runs: []Run{
				byMerge(testRun("b1234", v1alpha1.BatchJob, v1alpha1.SuccessState, baseA, 1, 2, 3, 4), v1alpha1.PoolBatchSpeculative),
			},
			merges: []v1alpha1.PoolMerge{merged(baseA, strings.Repeat("c", 40), 1, 2)},
			action: v1alpha1.MergeActionTriggerBatch,
			starts: []wantStart{{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{3, 4}, Jobs: []string{"unit"}}},
		},
		{
			name: "prioritize_existing_batches reuses a batch that has passed jobs",
			prs: []*PR{
				testPR(1, contexts(ctx("unit", stateSuccess), ctx("e2e", stateSuccess))),
				testPR(2, contexts(ctx("unit", stateSuccess), ctx("e2e", stateSuccess))),
				testPR(3, contexts(ctx("unit", stateSuccess), ctx("e2e", stateSuccess))),
			},
			runs: []Run{
				byMerge(withJob(testRun("e23", v1alpha1.BatchJob, v1alpha1.SuccessState, baseB, 2, 3), "e2e"), v1alpha1.PoolBatchBatch),
			},
			policy: func(p *Policy) {
				p.PrioritizeExisting = true
				p.Presubmits = append(p.Presubmits, presubmit("e2e"))
			},
			action: v1alpha1.MergeActionTriggerBatch,
			starts: []wantStart{{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{2, 3}, Jobs: []string{"unit"}}},
		},
		{
			name:   "no required jobs: a pull request in the pool merges at once",
			prs:    []*PR{testPR(1, contexts())},
			policy: func(p *Policy) { p.Presubmits = nil },
			action: v1alpha1.MergeActionMerge,
			merge:  []string{"1:merge"},
		},
		{
			name: "run_if_changed jobs are required only when their files change",
			prs: []*PR{
				testPR(1, func(p *PR) { p.Files, p.FilesKnown = []string{"docs/a.md"}, true }),
			},
			runs: []Run{testRun("u1", v1alpha1.PresubmitJob, v1alpha1.SuccessState, baseB, 1)},
			policy: func(p *Policy) {
				p.Presubmits = append(p.Presubmits, presubmit("go", func(ps *jobs.Presubmit) {
					ps.AlwaysRun, ps.RunIfChanged = false, `\.go$`
				}))
			},
			action: v1alpha1.MergeActionMerge,
			merge:  []string{"1:merge"},
		},
		{
			name: "a pull request's in-repo jobs are required of it, and of the batches it is in",
			prs: []*PR{
				testPR(1, func(p *PR) { p.InRepo = []jobs.Presubmit{presubmit("integration")} }),
				testPR(2, func(p *PR) {
					p.InRepo = []jobs.Presubmit{presubmit("integration")}
					p.Contexts = []Context{ctx("unit", stateSuccess), ctx("integration", stateSuccess)}
				}),
				testPR(3),
			},
			descs:  map[int]string{1: "Not mergeable. Job integration has not succeeded.", 2: "Not mergeable. Retesting: integration unit"},
			action: v1alpha1.MergeActionTriggerBatch,
			starts: []wantStart{{Kind: v1alpha1.PoolBatchBatch, Pulls: []int{2, 3}, Jobs: []string{"unit", "integration"}}},
		},
		{
			name: "display_all_tide_queries_in_status lists every query",
			prs:  []*PR{testPR(1, labels())},
			policy: func(p *Policy) {
				p.DisplayAll = true
				p.Queries = append(p.Queries, prowconfig.TideQuery{Repos: []string{"o/r"}, Labels: []string{"merge-now"}})
			},
			descs:  map[int]string{1: "Not mergeable. Needs approved, lgtm labels OR Needs merge-now label."},
			action: v1alpha1.MergeActionWait,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := testPolicy()
			if tt.policy != nil {
				tt.policy(p)
			}
			in := &Input{Org: "o", Repo: "r", Branch: "main", BaseSHA: baseB, PRs: tt.prs, Runs: tt.runs,
				Merges: tt.merges, Blockers: tt.blockers, Policy: p}
			plan, err := Decide(context.Background(), in, tt.batcher)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Action != tt.action {
				t.Errorf("action = %s, want %s", plan.Action, tt.action)
			}
			if tt.targets != nil && !slices.Equal(plan.Targets, tt.targets) {
				t.Errorf("targets = %v, want %v", plan.Targets, tt.targets)
			}
			if tt.merge != nil || plan.Merge != nil {
				if diff := cmp.Diff(tt.merge, mergesOf(plan)); diff != "" {
					t.Errorf("merges (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tt.starts, startsOf(plan)); diff != "" {
				t.Errorf("starts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.abort, plan.Abort); diff != "" {
				t.Errorf("aborts (-want +got):\n%s", diff)
			}
			for n, want := range tt.states {
				if got := plan.PRs[n].State; got != want {
					t.Errorf("#%d state = %s, want %s", n, got, want)
				}
			}
			for n, want := range tt.descs {
				if got := plan.PRs[n].Description; got != want {
					t.Errorf("#%d description = %q, want %q", n, got, want)
				}
			}
			if tt.batches != nil {
				var got []string
				for _, b := range plan.Batches {
					var ns []int
					for _, p := range b.Pulls {
						ns = append(ns, int(p.Number))
					}
					got = append(got, fmt.Sprintf("%s:%v/%d:%s", b.Kind, ns, b.On, b.State))
				}
				if diff := cmp.Diff(tt.batches, got); diff != "" {
					t.Errorf("batches (-want +got):\n%s", diff)
				}
			}
			for n, want := range tt.gh {
				if got := plan.PRs[n].GitHubState; got != want {
					t.Errorf("#%d status state = %q, want %q", n, got, want)
				}
			}
		})
	}
}
