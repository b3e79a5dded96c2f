package merge

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Tide's status texts.
const (
	statusInPool      = "In merge pool."
	statusNotInPool   = "Not mergeable.%s"
	maxDescriptionLen = 140
)

// Policy is the merge configuration of one pool, resolved from the applied
// configuration (see Config.PolicyFor).
type Policy struct {
	// Queries are the tide queries that cover the repository.
	Queries []prowconfig.TideQuery
	// Presubmits are the repository's presubmits (all branches).
	Presubmits []jobs.Presubmit
	// ContextOptions is context_options merged for the branch.
	ContextOptions prowconfig.TideContextPolicy
	// Protection are the required contexts of branch protection, used with
	// from-branch-protection; RequireManual is its
	// require_manually_triggered_jobs.
	Protection    []string
	RequireManual bool
	// Method is the branch's merge method; the labels override it per pull
	// request.
	Method                               string
	SquashLabel, RebaseLabel, MergeLabel string
	// AllowedMethods are the merge methods the repository's settings allow;
	// nil when unknown.
	AllowedMethods map[string]bool
	// MergeBlocks is github_merge_blocks_policy: what a pull request GitHub
	// reports blocked (branch protection, rulesets) gets: ignore, permit
	// (merged, said in the status of those out of the pool) or block.
	MergeBlocks string
	// BatchLimit is batch_size_limit: 0 unlimited, -1 no batches.
	BatchLimit         int
	PrioritizeExisting bool
	Priority           []prowconfig.TidePriority
	DisplayAll         bool
	// SpeculativeDepth and Bisect are bowline's extensions.
	SpeculativeDepth int
	Bisect           bool
}

// Input is everything a pool decision reads.
type Input struct {
	Org, Repo, Branch string
	// BaseSHA is the branch's head.
	BaseSHA string
	// Merges are the pool's last merges, newest first (status.lastMerges).
	Merges []v1alpha1.PoolMerge
	// PRs are the open pull requests targeting the branch.
	PRs []*PR
	// Runs are the repository's presubmit and batch runs for the branch.
	Runs []Run
	// Blockers are open issues with the blocker label that hold the branch.
	Blockers []int
	Policy   *Policy
}

// Batcher finds pull requests that merge together without conflicts.
type Batcher interface {
	// Pick returns, in order, those of candidates that merge cleanly one
	// after the other onto base (the head of branch) with onto merged
	// first, at most limit of them (0 means no limit).
	Pick(ctx context.Context, org, repo, branch, base string, onto, candidates []*PR, limit int) ([]*PR, error)
}

// PRView is where one pull request stands, and the tide status that says
// so.
type PRView struct {
	State v1alpha1.PoolPullRequestState
	// GitHubState is the tide status's state: success, pending or error;
	// empty when the pull request's contexts are not known yet and the
	// status is left alone.
	GitHubState string
	// Description is the tide status's description (at most 140 bytes).
	Description string
	MissingJobs []string
}

// MergeItem is one pull request to merge and how.
type MergeItem struct {
	PR     *PR
	Method string
}

// Start is a set of runs to create: the required jobs of one pull request
// (a retest) or of several merged together (a batch).
type Start struct {
	Kind    v1alpha1.PoolBatchKind
	BaseSHA string
	// PRs are every pull request in the refs, in merge order; the first On
	// of them belong to the batches a speculative batch is stacked on.
	PRs  []*PR
	On   int
	Jobs []*jobs.Presubmit
}

// Plan is a pool decision.
type Plan struct {
	Action  v1alpha1.MergeAction
	Targets []int
	// Merge lists pull requests to merge, in order.
	Merge []MergeItem
	// Start lists runs to create; Abort names runs to abort.
	Start []Start
	Abort []string
	// PRs maps each open pull request's number to where it stands.
	PRs     map[int]*PRView
	Batches []v1alpha1.PoolBatch
	Summary v1alpha1.MergePoolSummary
	// Blockers are the blocker issues that hold the branch.
	Blockers []int
}

// prInfo is what a decision works out about one pull request.
type prInfo struct {
	pr     *PR
	method string
	inPool bool
	// jobs are the required presubmits of an in-pool pull request.
	jobs []*jobs.Presubmit
	// serial is the pull request's own result against the current base;
	// serialTested is true once any required job ran there.
	serial       outcome
	serialTested bool
	missing      []string
	view         *PRView
}

// group is a set of batch runs that tested the same pulls on the same
// base.
type group struct {
	base   string
	pulls  []v1alpha1.PoolPull
	prs    []*PR
	kind   v1alpha1.PoolBatchKind
	states map[string]outcome
	runs   map[string]string
	state  outcome
	// failedRun is true when a required job ran and failed, rather than
	// not having run.
	failedRun bool
	created   time.Time
}

// decider holds one decision's working state.
type decider struct {
	in    *Input
	cc    *contextPolicy
	ccs   map[int]*contextPolicy // of pull requests with in-repo jobs
	infos map[int]*prInfo
	pool  []*prInfo // in-pool, by number
	plan  *Plan

	// current are the batch groups valid for the current base; raw are all
	// batch groups whose pulls are all in the pool unchanged, by their own
	// base.
	current []*group
	raw     []*group
}

// Decide works out a pool's state and its next action, as Tide's sync
// does, plus bowline's speculative batches and bisection.
func Decide(ctx context.Context, in *Input, b Batcher) (*Plan, error) {
	d := &decider{in: in, infos: map[int]*prInfo{}, plan: &Plan{PRs: map[int]*PRView{}, Action: v1alpha1.MergeActionWait, Blockers: in.Blockers}}
	p := in.Policy
	d.cc = newContextPolicy(p.ContextOptions, in.Branch, p.Presubmits, p.Protection, p.RequireManual)
	d.ccs = map[int]*contextPolicy{}
	prs := slices.Clone(in.PRs)
	sort.Slice(prs, func(i, j int) bool { return prs[i].Number < prs[j].Number })
	for _, pr := range prs {
		info := d.classify(pr)
		d.infos[pr.Number] = info
		d.plan.PRs[pr.Number] = info.view
		if info.inPool {
			d.pool = append(d.pool, info)
		}
	}
	d.accumulate()
	d.groupBatches()
	d.poolStatuses()
	if err := d.act(ctx, b); err != nil {
		return d.plan, err
	}
	d.summarize()
	return d.plan, nil
}

// classify decides whether a pull request is in the pool and, if not, what
// its tide status says.
func (d *decider) classify(pr *PR) *prInfo {
	in, p := d.in, d.in.Policy
	info := &prInfo{pr: pr, method: mergeMethod(p, pr), view: &PRView{}}
	notInPool := func(state v1alpha1.PoolPullRequestState, ghState, reason string) *prInfo {
		info.view.State, info.view.GitHubState = state, ghState
		info.view.Description = describe(fmt.Sprintf(statusNotInPool, reason))
		return info
	}
	if reason := d.notAllowed(pr, info.method); reason != "" {
		return notInPool(v1alpha1.PoolPRNotMergeable, stateError, " "+reason)
	}
	if pr.Draft {
		return notInPool(v1alpha1.PoolPRNotMergeable, statePending, " PR is a draft.")
	}
	if len(in.Blockers) > 0 {
		return notInPool(v1alpha1.PoolPRBlocked, stateError, blockedReason(in.Blockers))
	}
	matched := false
	for i := range p.Queries {
		if searchMatches(pr, &p.Queries[i]) {
			matched = true
			break
		}
	}
	if matched && !pr.ChecksKnown {
		// Without its contexts nothing can be said yet; the status is
		// left as it is.
		info.view.State = v1alpha1.PoolPRNotMergeable
		return info
	}
	var unsuccessful []Context
	if pr.ContextsKnown {
		// Unmatched pull requests are judged without them when they are
		// not known: the first unmet requirement is not a job then.
		unsuccessful = d.ccFor(pr).unsuccessful(pr.Contexts)
	}
	if matched && d.contextsAllowPool(pr, unsuccessful) {
		info.inPool = true
		info.jobs = requiredPresubmits(d.presubmitsFor(pr), in.Branch, pr.Files, p.RequireManual)
		return info
	}
	return notInPool(v1alpha1.PoolPRNotMergeable, statePending, d.closestDiff(pr, unsuccessful))
}

// notAllowed is Tide's isAllowedToMerge: why GitHub would refuse the merge
// whatever its tests say, or "".
func (d *decider) notAllowed(pr *PR, method string) string {
	switch {
	case pr.Conflict:
		return "PR has a merge conflict."
	case method == "":
		return "PR has conflicting merge method override labels"
	case method == "rebase" && pr.NotRebaseable:
		return "PR can't be rebased"
	}
	if allowed := d.in.Policy.AllowedMethods; allowed != nil && !allowed[method] {
		return fmt.Sprintf("Merge type %q disallowed by repo settings", method)
	}
	if pr.MergeBlocked && d.in.Policy.MergeBlocks == "block" {
		return "PR is blocked from merging by GitHub (check branch protection, required reviews, or rulesets)"
	}
	return ""
}

// contextsAllowPool is Tide's context filter: every unsuccessful context
// must be pending and produced by one of the pull request's required
// presubmits (so that retests do not kick it out of the pool).
func (d *decider) contextsAllowPool(pr *PR, unsuccessful []Context) bool {
	if len(unsuccessful) == 0 {
		return true
	}
	required := requiredPresubmits(d.presubmitsFor(pr), d.in.Branch, pr.Files, d.in.Policy.RequireManual)
	for _, c := range unsuccessful {
		if c.State != statePending || !slices.ContainsFunc(required, func(j *jobs.Presubmit) bool { return j.Context == c.Name }) {
			return false
		}
	}
	return true
}

// closestDiff describes what keeps a pull request out of the pool, against
// the query it comes closest to meeting, or all of them with
// display_all_tide_queries_in_status.
func (d *decider) closestDiff(pr *PR, unsuccessful []Context) string {
	p := d.in.Policy
	best, bestDiff := "", -1
	for i := range p.Queries {
		desc, diff := requirementDiff(pr, &p.Queries[i], unsuccessful)
		if p.DisplayAll {
			if diff >= 2000 {
				continue
			}
			if best != "" {
				best = strings.TrimSuffix(best, ".") + " OR"
			}
			best += desc
			continue
		}
		if bestDiff < 0 || diff < bestDiff {
			best, bestDiff = desc, diff
		}
	}
	if pr.MergeBlocked && p.MergeBlocks != "ignore" && best == "" {
		best = " Blocked by GitHub (branch rulesets or protection)"
	}
	if p.DisplayAll && best == "" {
		best = " No Tide query for branch " + pr.BaseRef + " found."
	}
	return best
}

func blockedReason(blockers []int) string {
	nums := make([]string, len(blockers))
	for i, n := range blockers {
		nums[i] = strconv.Itoa(n)
	}
	s := ""
	if len(nums) > 1 {
		s = "s"
	}
	return fmt.Sprintf(" Merging is blocked by issue%s %s.", s, strings.Join(nums, ", "))
}

// mergeMethod is the pull request's merge method: the branch's, unless one
// of the method labels overrides it; "" when several labels disagree.
func mergeMethod(p *Policy, pr *PR) string {
	method := p.Method
	if method == "" {
		method = "merge"
	}
	found := 0
	for _, l := range pr.Labels {
		switch {
		case l == "":
		case p.SquashLabel != "" && l == p.SquashLabel:
			method, found = "squash", found+1
		case p.RebaseLabel != "" && l == p.RebaseLabel:
			method, found = "rebase", found+1
		case p.MergeLabel != "" && l == p.MergeLabel:
			method, found = "merge", found+1
		}
	}
	if found > 1 {
		return ""
	}
	return method
}

// accumulate works out each pooled pull request's own result against the
// current base: the best run of each required job (success over pending
// over failure), and successful statuses that name the current base in
// their description, so that results outlive their ProwJobs.
func (d *decider) accumulate() {
	base := d.in.BaseSHA
	for _, info := range d.pool {
		pr := info.pr
		best := map[string]outcome{}
		for i := range d.in.Runs {
			r := &d.in.Runs[i]
			if r.Type != v1alpha1.PresubmitJob || r.BaseSHA != base || len(r.Pulls) != 1 ||
				int(r.Pulls[0].Number) != pr.Number || r.Pulls[0].SHA != pr.HeadSHA {
				continue
			}
			if o := outcomeOf(r.State); o > best[r.Context] {
				best[r.Context] = o
			}
		}
		for _, c := range pr.Contexts {
			if c.State == stateSuccess && baseSHAFromDescription(c.Description) == base && base != "" {
				best[c.Name] = outcomeSuccess
			}
		}
		info.serial = outcomeSuccess
		for _, j := range info.jobs {
			o, ok := best[j.Context]
			if ok {
				info.serialTested = true
			}
			switch {
			case !ok || o == outcomeFailure:
				info.missing = append(info.missing, j.Context)
			case o == outcomePending && info.serial == outcomeSuccess:
				info.serial = outcomePending
			}
		}
		if len(info.missing) > 0 {
			info.serial = outcomeFailure
		}
	}
}

// baseSHAFromDescription reads the base SHA that bowline's reporter (like
// Prow's) appends to a job status's description as " BaseSHA:<sha>".
func baseSHAFromDescription(desc string) string {
	_, sha, ok := strings.Cut(desc, " BaseSHA:")
	if !ok {
		return ""
	}
	return strings.TrimSpace(sha)
}

// groupBatches collects the batch runs by what they tested: current are
// the groups valid for the current base (runs on older bases count when
// their leading pulls were merged since), raw all groups whose pulls are
// still in the pool unchanged, on whatever base.
func (d *decider) groupBatches() {
	current, raw := map[string]*group{}, map[string]*group{}
	add := func(m map[string]*group, base string, pulls []v1alpha1.PoolPull, r *Run) {
		prs := d.poolPRs(pulls)
		if prs == nil {
			return
		}
		k := pullsKey(base, pulls)
		g := m[k]
		if g == nil {
			g = &group{base: base, pulls: pulls, prs: prs, kind: r.Kind, states: map[string]outcome{}, runs: map[string]string{}}
			m[k] = g
		}
		if o := outcomeOf(r.State); o > g.states[r.Context] {
			g.states[r.Context], g.runs[r.Context] = o, r.Name
		}
		if r.Created.After(g.created) {
			g.created = r.Created
		}
	}
	for i := range d.in.Runs {
		r := &d.in.Runs[i]
		if r.Type != v1alpha1.BatchJob {
			continue
		}
		add(raw, r.BaseSHA, r.Pulls, r)
		if eff, ok := effectiveBase(r.BaseSHA, r.Pulls, d.in.BaseSHA, d.in.Merges); ok && len(eff) > 0 {
			add(current, d.in.BaseSHA, eff, r)
		}
	}
	finish := func(m map[string]*group) []*group {
		out := make([]*group, 0, len(m))
		for _, g := range m {
			g.state = d.groupState(g)
			out = append(out, g)
		}
		sort.Slice(out, func(i, j int) bool { return lessGroup(out[i], out[j]) })
		return out
	}
	d.current, d.raw = finish(current), finish(raw)
	// A batch stacked on one that failed can no longer merge.
	for _, g := range d.current {
		for _, f := range d.current {
			if g.state == outcomePending && f.state == outcomeFailure && f.failedRun && len(f.pulls) < len(g.pulls) && hasPrefix(g.pulls, f.pulls) {
				g.state = outcomeFailure
			}
		}
	}
	for _, g := range d.current {
		if g.kind == v1alpha1.PoolBatchSpeculative && g.base == d.in.BaseSHA && !d.hasRawRun(g) {
			// Its leading pulls merged: it is a plain batch now.
			g.kind = v1alpha1.PoolBatchBatch
		}
	}
}

// hasRawRun says whether a current group's runs were made on the current
// base itself.
func (d *decider) hasRawRun(g *group) bool {
	for _, r := range d.raw {
		if r.base == g.base && samePulls(r.pulls, g.pulls) {
			return true
		}
	}
	return false
}

// lessGroup orders groups: larger first, then newer.
func lessGroup(a, b *group) bool {
	if len(a.pulls) != len(b.pulls) {
		return len(a.pulls) > len(b.pulls)
	}
	if !a.created.Equal(b.created) {
		return a.created.After(b.created)
	}
	return pullsKey(a.base, a.pulls) < pullsKey(b.base, b.pulls)
}

// poolPRs maps pulls to pooled pull requests, or nil when one left the
// pool or changed its head.
func (d *decider) poolPRs(pulls []v1alpha1.PoolPull) []*PR {
	out := make([]*PR, 0, len(pulls))
	for _, p := range pulls {
		info := d.infos[int(p.Number)]
		if info == nil || !info.inPool || info.pr.HeadSHA != p.SHA {
			return nil
		}
		out = append(out, info.pr)
	}
	return out
}

// groupState is Tide's batch accumulation: every job the batch requires
// (run_before_merge ones included) must have passed; a missing job counts
// as a failure, so that a new batch is started.
func (d *decider) groupState(g *group) outcome {
	state := outcomeSuccess
	for _, j := range d.batchJobs(g.prs) {
		switch s := g.states[j.Context]; s {
		case outcomeFailure:
			g.failedRun = true
			state = outcomeFailure
		case outcomeNone:
			state = outcomeFailure
		case outcomePending:
			if state == outcomeSuccess {
				state = outcomePending
			}
		}
	}
	return state
}

// batchJobs are the jobs a batch of pull requests requires: those the
// union of their changed files makes run, and run_before_merge jobs.
func (d *decider) batchJobs(prs []*PR) []*jobs.Presubmit {
	var files []string
	presubmits := d.in.Policy.Presubmits
	for _, pr := range prs {
		files = append(files, pr.Files...)
		if len(pr.InRepo) > 0 {
			presubmits = append(slices.Clip(presubmits), pr.InRepo...)
		}
	}
	return requiredPresubmits(presubmits, d.in.Branch, files, d.in.Policy.RequireManual)
}

// presubmitsFor are the presubmits that apply to a pull request: the
// configuration's and its own in-repo ones.
func (d *decider) presubmitsFor(pr *PR) []jobs.Presubmit {
	if len(pr.InRepo) == 0 {
		return d.in.Policy.Presubmits
	}
	return append(slices.Clip(d.in.Policy.Presubmits), pr.InRepo...)
}

// ccFor is the context policy of a pull request: the pool's, with its
// in-repo jobs' contexts added when it has any.
func (d *decider) ccFor(pr *PR) *contextPolicy {
	if len(pr.InRepo) == 0 {
		return d.cc
	}
	if cc, ok := d.ccs[pr.Number]; ok {
		return cc
	}
	p := d.in.Policy
	cc := newContextPolicy(p.ContextOptions, d.in.Branch, d.presubmitsFor(pr), p.Protection, p.RequireManual)
	d.ccs[pr.Number] = cc
	return cc
}

// poolStatuses sets the tide status of pooled pull requests: success when
// every required job passed against the current base (alone or in a
// batch), else pending with the jobs still to pass.
func (d *decider) poolStatuses() {
	base := d.in.BaseSHA
	for _, info := range d.pool {
		pr := info.pr
		passing := map[string]bool{}
		for i := range d.in.Runs {
			r := &d.in.Runs[i]
			if r.State != v1alpha1.SuccessState {
				continue
			}
			pulls, ok := effectiveBase(r.BaseSHA, r.Pulls, base, d.in.Merges)
			if ok && slices.ContainsFunc(pulls, func(p v1alpha1.PoolPull) bool { return int(p.Number) == pr.Number && p.SHA == pr.HeadSHA }) {
				passing[r.Context] = true
			}
		}
		for _, c := range pr.Contexts {
			if c.State == stateSuccess && base != "" && baseSHAFromDescription(c.Description) == base {
				passing[c.Name] = true
			}
		}
		var retesting []string
		for _, j := range info.jobs {
			if !passing[j.Context] {
				retesting = append(retesting, j.Context)
			}
		}
		v := info.view
		v.MissingJobs = info.missing
		switch {
		case len(retesting) > 0:
			v.GitHubState, v.Description = statePending, retestingDescription(retesting)
		default:
			v.GitHubState, v.Description = stateSuccess, statusInPool
		}
		switch info.serial {
		case outcomeSuccess:
			v.State = v1alpha1.PoolPRSuccess
		case outcomePending:
			v.State = v1alpha1.PoolPRPending
		default:
			v.State = v1alpha1.PoolPRMissing
		}
	}
}

// retestingDescription is Tide's "Not mergeable. Retesting: a b", or the
// number of jobs when the names do not fit.
func retestingDescription(jobs []string) string {
	sort.Strings(jobs)
	all := fmt.Sprintf(statusNotInPool, " Retesting: "+strings.Join(jobs, " "))
	if len(all) <= maxDescriptionLen {
		return all
	}
	s := ""
	if len(jobs) > 1 {
		s = "s"
	}
	return fmt.Sprintf(statusNotInPool, fmt.Sprintf(" Retesting %d job%s.", len(jobs), s))
}

// describe fits a description into GitHub's 140 characters.
func describe(s string) string {
	if len(s) <= maxDescriptionLen {
		return s
	}
	cut := maxDescriptionLen - 3
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// summarize counts pull requests and lists the batches under test.
func (d *decider) summarize() {
	s := &d.plan.Summary
	for _, info := range d.infos {
		s.Open++
		switch info.view.State {
		case v1alpha1.PoolPRSuccess:
			s.Success++
		case v1alpha1.PoolPRPending:
			s.Pending++
		case v1alpha1.PoolPRMissing:
			s.Missing++
		}
	}
	s.InPool = s.Success + s.Pending + s.Missing
	for _, g := range d.current {
		if len(d.plan.Batches) == 16 {
			break
		}
		if g.state == outcomeFailure && g.base != d.in.BaseSHA {
			continue
		}
		d.plan.Batches = append(d.plan.Batches, d.batchView(g))
	}
}

func (d *decider) batchView(g *group) v1alpha1.PoolBatch {
	b := v1alpha1.PoolBatch{Kind: g.kind, BaseSHA: g.base, Pulls: g.pulls, State: g.state.batchState()}
	if b.Kind == "" {
		b.Kind = v1alpha1.PoolBatchBatch
	}
	if b.Kind == v1alpha1.PoolBatchSpeculative {
		// The batches below it are the longest prefix under test.
		for _, lower := range d.current {
			if n := len(lower.pulls); n < len(g.pulls) && n > int(b.On) && lower.state != outcomeFailure && hasPrefix(g.pulls, lower.pulls) {
				b.On = int32(n)
			}
		}
	}
	for _, j := range d.batchJobs(g.prs) {
		if len(b.Jobs) == 64 {
			break
		}
		st := g.states[j.Context]
		if st == outcomeNone {
			st = outcomePending
		}
		b.Jobs = append(b.Jobs, v1alpha1.PoolBatchJob{Context: j.Context, State: st.batchState(), ProwJob: g.runs[j.Context]})
	}
	return b
}
