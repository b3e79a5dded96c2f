package merge

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// maxPulls is the most pull requests one run tests (a ProwJob's
// refs.pulls bound).
const maxPulls = 100

// act picks the pool's action, in Tide's order, first match wins:
//  1. a batch whose jobs passed against the current base merges;
//  2. else, unless a batch is being tested, the highest-priority pull
//     request whose jobs passed merges;
//  3. else, with no required jobs at all, wait;
//  4. else, with several pull requests and no batch under test, a batch is
//     started (bowline first bisects a failed batch);
//  5. else, when no pull request is tested or passed, the highest-priority
//     one is retested;
//  6. else wait.
//
// A blocked pool does nothing. On top of Tide, batches are stacked
// speculatively on the batch under test, and runs stacked on a failed batch
// are aborted.
func (d *decider) act(ctx context.Context, b Batcher) error {
	plan := d.plan
	d.abortStackedOnFailures()
	if len(d.in.Blockers) > 0 {
		plan.Action = v1alpha1.MergeActionBlocked
		return nil
	}
	if g := d.successBatch(); g != nil {
		plan.Action = v1alpha1.MergeActionMergeBatch
		for _, pr := range g.prs {
			plan.Merge = append(plan.Merge, MergeItem{PR: pr, Method: d.infos[pr.Number].method})
		}
		plan.Targets = numbers(g.prs)
		return nil
	}
	var successes, pendings, missings []*prInfo
	for _, info := range d.pool {
		switch info.serial {
		case outcomeSuccess:
			successes = append(successes, info)
		case outcomePending:
			pendings = append(pendings, info)
		default:
			missings = append(missings, info)
		}
	}
	pendingBatch := d.pendingBatch()
	if len(successes) > 0 && pendingBatch == nil {
		if info := d.highestPriority(successes, d.passingTests); info != nil {
			plan.Action = v1alpha1.MergeActionMerge
			plan.Merge = []MergeItem{{PR: info.pr, Method: info.method}}
			plan.Targets = []int{info.pr.Number}
			return nil
		}
	}
	if !slices.ContainsFunc(d.pool, func(i *prInfo) bool { return len(i.jobs) > 0 }) {
		return nil
	}
	excluded := map[int]bool{}
	if d.in.Policy.Bisect {
		d.bisect(excluded)
	}
	if len(d.pool) > 1 && pendingBatch == nil {
		if err := d.startBatch(ctx, b, excluded); err != nil {
			return err
		}
	}
	if err := d.speculate(ctx, b, d.bottomBatch(), excluded); err != nil {
		return err
	}
	if len(plan.Start) > 0 {
		plan.Action = v1alpha1.MergeActionTrigger
		if slices.ContainsFunc(plan.Start, func(s Start) bool { return len(s.PRs) > 1 }) {
			plan.Action = v1alpha1.MergeActionTriggerBatch
		}
		return nil
	}
	if len(missings) > 0 && len(pendings) == 0 && len(successes) == 0 {
		if info := d.highestPriority(missings, d.retestEligible); info != nil {
			d.startRetest(info, v1alpha1.PoolBatchRetest)
			if len(plan.Start) > 0 {
				plan.Action = v1alpha1.MergeActionTrigger
			}
		}
	}
	return nil
}

// successBatch is the batch to merge: the largest whose jobs all passed
// against the current base.
func (d *decider) successBatch() *group {
	for _, g := range d.current {
		if g.state == outcomeSuccess {
			return g
		}
	}
	return nil
}

// pendingBatch is the batch under test against the current base, if any.
// Bisection halves do not count: they test for a culprit, not for merging
// next, so they hold back neither merges nor new batches.
func (d *decider) pendingBatch() *group {
	for _, g := range d.current {
		if g.state == outcomePending && g.kind != v1alpha1.PoolBatchBisection {
			return g
		}
	}
	return nil
}

// bottomBatch is the batch that merges next: the smallest one under test
// against the current base, or the one this decision starts.
func (d *decider) bottomBatch() *group {
	var bottom *group
	for _, g := range d.current {
		if g.state == outcomePending && g.kind != v1alpha1.PoolBatchBisection && (bottom == nil || len(g.pulls) < len(bottom.pulls)) {
			bottom = g
		}
	}
	if bottom != nil {
		return bottom
	}
	return d.startedBatch()
}

// startedBatch is the batch this decision starts, as a group, so that
// speculative batches can stack on it.
func (d *decider) startedBatch() *group {
	for _, s := range d.plan.Start {
		if s.Kind == v1alpha1.PoolBatchBatch {
			pulls := make([]v1alpha1.PoolPull, len(s.PRs))
			for i, pr := range s.PRs {
				pulls[i] = pr.pull()
			}
			return &group{base: s.BaseSHA, pulls: pulls, prs: s.PRs, state: outcomePending, kind: s.Kind}
		}
	}
	return nil
}

// passingTests is Tide's isPassingTests: no context on GitHub keeps the
// pull request from merging.
func (d *decider) passingTests(info *prInfo) bool {
	return len(d.ccFor(info.pr).unsuccessful(info.pr.Contexts)) == 0
}

// retestEligible is Tide's isRetestEligible: every required context is on
// GitHub, and each one that is not successful is pending for a run the
// merge controller started for the same head.
func (d *decider) retestEligible(info *prInfo) bool {
	pr := info.pr
	for _, c := range d.ccFor(pr).unsuccessful(pr.Contexts) {
		if c.State != statePending || !d.mergeRunFor(pr, c.Name) {
			return false
		}
	}
	return true
}

// mergeRunFor says whether the merge controller started a presubmit run of
// a context for the pull request's head.
func (d *decider) mergeRunFor(pr *PR, context string) bool {
	for i := range d.in.Runs {
		r := &d.in.Runs[i]
		if r.ByMerge && r.Type == v1alpha1.PresubmitJob && r.Context == context && len(r.Pulls) == 1 &&
			int(r.Pulls[0].Number) == pr.Number && r.Pulls[0].SHA == pr.HeadSHA {
			return true
		}
	}
	return false
}

// highestPriority is Tide's pickHighestPriorityPR: the lowest-numbered pull
// request that passes ok among those with every label of the first
// priority set that has any, then among all.
func (d *decider) highestPriority(infos []*prInfo, ok func(*prInfo) bool) *prInfo {
	sets := append(slices.Clone(d.in.Policy.Priority), prowconfig.TidePriority{})
	for _, set := range sets {
		var best *prInfo
		for _, info := range infos {
			if !hasAllLabels(info.pr.Labels, set.Labels) || (best != nil && info.pr.Number >= best.pr.Number) || !ok(info) {
				continue
			}
			best = info
		}
		if best != nil {
			return best
		}
	}
	return nil
}

func hasAllLabels(labels, want []string) bool {
	for _, w := range want {
		if !hasLabel(labels, w) {
			return false
		}
	}
	return true
}

// candidates are the pooled pull requests a batch may take, oldest first:
// retest-eligible and not excluded.
func (d *decider) candidates(excluded map[int]bool) []*PR {
	var out []*PR
	for _, info := range d.pool {
		if !excluded[info.pr.Number] && d.retestEligible(info) {
			out = append(out, info.pr)
		}
	}
	return out
}

// batchLimit is batch_size_limit bounded by what a run can hold.
func (d *decider) batchLimit() int {
	l := d.in.Policy.BatchLimit
	if l == 0 || l > maxPulls {
		return maxPulls
	}
	return l
}

// startBatch is Tide's pickBatch: reuse the batch with the most passed (or
// else running) jobs when prioritize_existing_batches allows, otherwise
// take the oldest candidates that merge cleanly together, up to
// batch_size_limit. At least two pull requests make a batch.
func (d *decider) startBatch(ctx context.Context, b Batcher, excluded map[int]bool) error {
	if d.in.Policy.BatchLimit < 0 {
		return nil
	}
	cands := d.candidates(excluded)
	if len(cands) < 2 {
		return nil
	}
	var batch []*PR
	if d.in.Policy.PrioritizeExisting {
		batch = d.existingBatch(cands)
	}
	if len(batch) == 0 {
		var err error
		if batch, err = b.Pick(ctx, d.in.Org, d.in.Repo, d.in.Branch, d.in.BaseSHA, nil, cands, d.batchLimit()); err != nil {
			return err
		}
	}
	if len(batch) < 2 {
		return nil
	}
	d.startBatchRuns(v1alpha1.PoolBatchBatch, batch, 0)
	return nil
}

// existingBatch is Tide's pickBatchWithPreexistingTests: among batches
// tested against the current base whose pull requests are all candidates,
// the one with the most successful runs, else the most pending ones.
func (d *decider) existingBatch(cands []*PR) []*PR {
	isCand := map[string]bool{}
	for _, pr := range cands {
		isCand[pr.key()+"@"+pr.HeadSHA] = true
	}
	limit := d.batchLimit()
	var best *group
	bestSucc, bestPend := 0, 0
	for _, g := range d.current {
		if len(g.pulls) > limit || len(g.pulls) < 2 || g.kind == v1alpha1.PoolBatchBisection {
			continue
		}
		all := true
		for _, pr := range g.prs {
			all = all && isCand[pr.key()+"@"+pr.HeadSHA]
		}
		if !all {
			continue
		}
		succ, pend := 0, 0
		for _, o := range g.states {
			switch o {
			case outcomeSuccess:
				succ++
			case outcomePending:
				pend++
			}
		}
		if succ > bestSucc || (bestSucc == 0 && succ == 0 && pend > bestPend) {
			best, bestSucc, bestPend = g, succ, pend
		}
	}
	if best == nil {
		return nil
	}
	return best.prs
}

// startBatchRuns plans the runs of a batch: every job it requires that has
// no run in progress or passed for exactly these refs.
func (d *decider) startBatchRuns(kind v1alpha1.PoolBatchKind, prs []*PR, on int) {
	need := d.batchJobs(prs)
	pulls := make([]v1alpha1.PoolPull, len(prs))
	for i, pr := range prs {
		pulls[i] = pr.pull()
	}
	var jobs []*jobs.Presubmit
	for _, j := range need {
		if !d.hasLiveRun(v1alpha1.BatchJob, d.in.BaseSHA, pulls, j.Context) {
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == 0 {
		return
	}
	d.plan.Start = append(d.plan.Start, Start{Kind: kind, BaseSHA: d.in.BaseSHA, PRs: prs, On: on, Jobs: jobs})
	for _, pr := range prs[on:] {
		d.plan.Targets = appendUnique(d.plan.Targets, pr.Number)
	}
}

// startRetest plans the runs of one pull request's jobs that have not
// passed against the current base.
func (d *decider) startRetest(info *prInfo, kind v1alpha1.PoolBatchKind) {
	var jobs []*jobs.Presubmit
	for _, j := range info.jobs {
		if slices.Contains(info.missing, j.Context) && !d.hasLiveRun(v1alpha1.PresubmitJob, d.in.BaseSHA, []v1alpha1.PoolPull{info.pr.pull()}, j.Context) {
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == 0 {
		return
	}
	d.plan.Start = append(d.plan.Start, Start{Kind: kind, BaseSHA: d.in.BaseSHA, PRs: []*PR{info.pr}, Jobs: jobs})
	d.plan.Targets = appendUnique(d.plan.Targets, info.pr.Number)
}

// hasLiveRun says whether a run of a context for exactly these refs is in
// progress or passed.
func (d *decider) hasLiveRun(typ v1alpha1.ProwJobType, base string, pulls []v1alpha1.PoolPull, context string) bool {
	for i := range d.in.Runs {
		r := &d.in.Runs[i]
		if r.Type == typ && r.Context == context && r.BaseSHA == base && samePulls(r.Pulls, pulls) && outcomeOf(r.State) != outcomeFailure {
			return true
		}
	}
	return false
}

// speculate stacks a batch on top of the batch under test (and the
// speculative batches already on it), testing the next candidates as if
// those below had merged, up to speculative_depth levels.
func (d *decider) speculate(ctx context.Context, b Batcher, bottom *group, excluded map[int]bool) error {
	depth := d.in.Policy.SpeculativeDepth
	if depth <= 0 || bottom == nil || d.in.Policy.BatchLimit < 0 {
		return nil
	}
	top, levels := bottom, 0
	for {
		var next *group
		for _, g := range d.current {
			if g.state != outcomeFailure && len(g.pulls) > len(top.pulls) && hasPrefix(g.pulls, top.pulls) &&
				(next == nil || len(g.pulls) < len(next.pulls)) {
				next = g
			}
		}
		if next == nil {
			break
		}
		top, levels = next, levels+1
	}
	if levels >= depth {
		return nil
	}
	inStack := map[int]bool{}
	for _, p := range top.pulls {
		inStack[int(p.Number)] = true
	}
	var cands []*PR
	for _, pr := range d.candidates(excluded) {
		if !inStack[pr.Number] {
			cands = append(cands, pr)
		}
	}
	room := min(d.batchLimit(), maxPulls-len(top.pulls))
	if len(cands) == 0 || room <= 0 {
		return nil
	}
	picked, err := b.Pick(ctx, d.in.Org, d.in.Repo, d.in.Branch, d.in.BaseSHA, top.prs, cands, room)
	if err != nil || len(picked) == 0 {
		return err
	}
	d.startBatchRuns(v1alpha1.PoolBatchSpeculative, slices.Concat(top.prs, picked), len(top.prs))
	return nil
}

// abortStackedOnFailures aborts unfinished speculative runs stacked on a
// batch that failed: what they test can no longer merge.
func (d *decider) abortStackedOnFailures() {
	for i := range d.in.Runs {
		r := &d.in.Runs[i]
		if !r.ByMerge || r.Kind != v1alpha1.PoolBatchSpeculative || outcomeOf(r.State) != outcomePending {
			continue
		}
		for _, g := range d.raw {
			if g.state == outcomeFailure && g.failedRun && g.base == r.BaseSHA && len(g.pulls) < len(r.Pulls) && hasPrefix(r.Pulls, g.pulls) {
				d.plan.Abort = append(d.plan.Abort, r.Name)
				break
			}
		}
	}
}

// bisect looks for the pull request that broke a failed batch instead of
// testing the same batch again: the two halves of the smallest failed
// batch still in the pool are tested (a half of one pull request by its
// own jobs), then the halves of a failing half, and so on. A pull request
// whose own jobs fail leaves the pool (its status says which job), and the
// rest merge. When both halves pass, the failure came from the two halves
// together (or a flake): the second half is kept out of the next batch so
// the first can merge alone. Pull requests under bisection are excluded
// from new batches.
func (d *decider) bisect(excluded map[int]bool) {
	var failed []*group
	for _, g := range d.raw {
		if g.state == outcomeFailure && g.failedRun {
			failed = append(failed, g)
		}
	}
	sort.SliceStable(failed, func(i, j int) bool { return len(failed[i].pulls) < len(failed[j].pulls) })
	for _, f := range failed {
		if slices.ContainsFunc(f.prs, func(pr *PR) bool { return excluded[pr.Number] }) {
			continue
		}
		if len(f.prs) == 1 {
			info := d.infos[f.prs[0].Number]
			if !info.serialTested {
				d.startRetest(info, v1alpha1.PoolBatchBisection)
			}
			if info.serial != outcomeSuccess {
				excluded[info.pr.Number] = true
			}
			continue
		}
		half := (len(f.prs) + 1) / 2
		halves := [][]*PR{f.prs[:half], f.prs[half:]}
		results := make([]outcome, 2)
		for i, h := range halves {
			results[i] = d.resultOf(h)
			if results[i] == outcomeNone {
				if len(h) == 1 {
					d.startRetest(d.infos[h[0].Number], v1alpha1.PoolBatchBisection)
				} else {
					d.startBatchRuns(v1alpha1.PoolBatchBisection, h, 0)
				}
				results[i] = outcomePending
			}
		}
		switch {
		case results[0] == outcomePending || results[1] == outcomePending:
			for _, pr := range f.prs {
				excluded[pr.Number] = true
			}
		case results[0] == outcomeSuccess && results[1] == outcomeSuccess:
			for _, pr := range halves[1] {
				excluded[pr.Number] = true
			}
		default:
			for i, h := range halves {
				if results[i] == outcomeFailure {
					for _, pr := range h {
						excluded[pr.Number] = true
					}
				}
			}
		}
	}
}

// resultOf is what is known of a set of pull requests tested together, on
// any base: a batch's outcome, or for one pull request its own jobs'
// outcome against the current base.
func (d *decider) resultOf(prs []*PR) outcome {
	if len(prs) == 1 {
		info := d.infos[prs[0].Number]
		if !info.serialTested {
			return outcomeNone
		}
		return info.serial
	}
	pulls := make([]v1alpha1.PoolPull, len(prs))
	for i, pr := range prs {
		pulls[i] = pr.pull()
	}
	best := outcomeNone
	for _, g := range d.raw {
		if samePulls(g.pulls, pulls) && g.state > best {
			best = g.state
		}
	}
	return best
}

func numbers(prs []*PR) []int {
	out := make([]int, len(prs))
	for i, pr := range prs {
		out[i] = pr.Number
	}
	return out
}

func appendUnique(list []int, n int) []int {
	if slices.Contains(list, n) {
		return list
	}
	return append(list, n)
}

// joinNumbers prints pull request numbers for logs and messages.
func joinNumbers(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = "#" + strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
