package merge

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/google/go-github/v89/github"
	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Syncer is the merge controller's work against GitHub, apart from the API
// server: it keeps the store current, reads what a pool decision needs,
// decides, and carries the decision out through an Actuator (runs, merge
// records) and GitHub (merges, tide statuses). It is safe for concurrent
// use by pools.
type Syncer struct {
	// GitHub returns the client for an org's repositories.
	GitHub func(org string) (*github.Client, error)
	// Batcher checks which pull requests merge together cleanly.
	Batcher Batcher
	// InRepo gives the presubmits pull requests define themselves (Prow's
	// in-repo config); nil when bowline does not read it.
	InRepo InRepo
	// StatusBaseURL is the default base of the tide status link, the web
	// role's /pr; pr_status_base_urls overrides it.
	StatusBaseURL string
	// MergeDelay is the pause between the merges of a batch, which lets
	// GitHub recompute mergeability (Tide: 5s).
	MergeDelay time.Duration
	// RetryDelay is the first pause after GitHub answers "base branch was
	// modified"; it doubles for the next of up to three attempts (Tide:
	// 4s).
	RetryDelay time.Duration
	// Now and Sleep let tests control time; nil means the real ones.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	store *store
	once  sync.Once

	blockMu  sync.Mutex
	blockers map[string][]blocker // by org/repo
}

// InRepo gives the presubmits a pull request's own in-repo config adds;
// automation/inrepo's Loader is one.
type InRepo interface {
	// Enabled reports whether in_repo_config enables it for org/repo.
	Enabled(org, repo string) bool
	// Presubmits are those of a pull request's head merged into baseSHA.
	Presubmits(ctx context.Context, org, repo, baseSHA, headSHA string) ([]jobs.Presubmit, error)
}

// Actuator carries out what a pool decision asks of the API server.
type Actuator interface {
	// StartRuns creates the runs of s.
	StartRuns(ctx context.Context, cfg *Config, k poolKey, s Start) error
	// AbortRun marks a run aborted.
	AbortRun(ctx context.Context, name string) error
	// RecordMerge persists a merge in progress (status.merging) before the
	// first pull request merges and after each one, so that a restart
	// resumes it.
	RecordMerge(ctx context.Context, k poolKey, m *v1alpha1.PoolMerge) error
}

// PoolResult is what a pool sync saw and did.
type PoolResult struct {
	Plan    *Plan
	BaseSHA string
	// Merge is the merge carried out (or resumed), if any.
	Merge *v1alpha1.PoolMerge
	// PRs are the pull requests the decision saw, by number.
	PRs map[int]*PR
}

func (s *Syncer) init() {
	s.once.Do(func() {
		s.store = newStore()
		s.blockers = map[string][]blocker{}
		if s.Now == nil {
			s.Now = time.Now
		}
		if s.Sleep == nil {
			s.Sleep = sleep
		}
	})
}

func (s *Syncer) now() time.Time {
	s.init()
	return s.Now()
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pools lists the pools that have open pull requests.
func (s *Syncer) Pools() []poolKey {
	s.init()
	return s.store.pools()
}

// SyncPool reads what the pool's decision needs, decides and acts: it
// finishes an interrupted merge first, then merges, starts runs or waits,
// and brings every open pull request's tide status up to date.
func (s *Syncer) SyncPool(ctx context.Context, cfg *Config, k poolKey, st *v1alpha1.MergePoolStatus, runs []Run, act Actuator) (*PoolResult, error) {
	s.init()
	if st.Merging != nil {
		// Finish what a previous leader (or an interrupted sync) started;
		// the next sync decides against the base it leaves.
		m, err := s.resumeMerge(ctx, cfg, k, st.Merging, act)
		return &PoolResult{PRs: map[int]*PR{}, Merge: m}, err
	}
	// A push between reading the branch and acting makes the decision
	// stale: decide again, a few times at most.
	for attempt := 1; ; attempt++ {
		res, moved, err := s.syncPool(ctx, cfg, k, st, runs, act)
		if !moved || attempt == 3 {
			return res, err
		}
		logFrom(ctx).Info("Base branch moved; deciding again", "pool", k.String())
	}
}

// syncPool is one attempt of SyncPool; moved says that the branch moved
// before it acted, and nothing was done.
func (s *Syncer) syncPool(ctx context.Context, cfg *Config, k poolKey, st *v1alpha1.MergePoolStatus, runs []Run, act Actuator) (*PoolResult, bool, error) {
	res := &PoolResult{PRs: map[int]*PR{}}
	base, ok := s.store.base(k)
	if !ok {
		var err error
		if base, err = s.readBase(ctx, k); err != nil {
			return res, false, err
		}
	}
	res.BaseSHA = base
	policy, err := s.policy(ctx, cfg, k)
	if err != nil {
		return res, false, err
	}
	prs, err := s.readPool(ctx, cfg, k, base, policy, st.PullRequests)
	if err != nil {
		return res, false, err
	}
	for _, pr := range prs {
		res.PRs[pr.Number] = pr
	}
	in := &Input{Org: k.org, Repo: k.repo, Branch: k.branch, BaseSHA: base, Merges: st.LastMerges, PRs: prs, Runs: runs,
		Blockers: s.blockersFor(k), Policy: policy}
	plan, err := Decide(ctx, in, s.batcher())
	res.Plan = plan
	if err != nil {
		return res, false, fmt.Errorf("decide: %w", err)
	}
	for _, name := range plan.Abort {
		if err := act.AbortRun(ctx, name); err != nil {
			return res, false, err
		}
	}
	if len(plan.Merge) > 0 || len(plan.Start) > 0 {
		// Act only on the current base: a push since the last read makes
		// every result stale.
		now, err := s.readBase(ctx, k)
		if err != nil {
			return res, false, err
		}
		if now != base {
			return res, true, nil
		}
	}
	for _, start := range plan.Start {
		if err := act.StartRuns(ctx, cfg, k, start); err != nil {
			return res, false, err
		}
	}
	if len(plan.Merge) > 0 {
		// The statuses of the other pull requests are settled by the next
		// sync, against the base this merge makes.
		m, err := s.merge(ctx, cfg, k, base, plan, policy, act)
		res.Merge = m
		return res, false, err
	}
	return res, false, s.writeStatuses(ctx, cfg, k, plan, prs)
}

// policy resolves the pool's configuration, reading the repository's
// allowed merge methods and, with from-branch-protection, the branch's
// protection on GitHub.
func (s *Syncer) policy(ctx context.Context, cfg *Config, k poolKey) (*Policy, error) {
	ri, err := s.readRepo(ctx, k.org, k.repo)
	if err != nil {
		return nil, err
	}
	p := cfg.PolicyFor(k.org, k.repo, k.branch, nil, ri.allowed)
	if isTrue(p.ContextOptions.FromBranchProtection) {
		prot, err := s.readProtection(ctx, k)
		if err != nil {
			return nil, err
		}
		p = cfg.PolicyFor(k.org, k.repo, k.branch, prot, ri.allowed)
	}
	return p, nil
}

// readPool returns the pool's pull requests with what the decision needs
// read. For those a query matches: their statuses and check runs,
// GitHub's mergeability when the base moved or it was never read, and the
// files when conditional jobs depend on them. For the others, only what
// their tide status is: from the MergePool's last status (prev) when it
// knows the same head, which spares a restarted controller a read per pull
// request, else from their statuses.
func (s *Syncer) readPool(ctx context.Context, cfg *Config, k poolKey, base string, policy *Policy, prev []v1alpha1.PoolPullRequest) ([]*PR, error) {
	stale := s.store.takeStale(k)
	prs := s.store.poolPRs(k)
	inRepo := s.InRepo != nil && s.InRepo.Enabled(k.org, k.repo)
	known := map[int]v1alpha1.PoolPullRequest{}
	for _, e := range prev {
		known[int(e.Number)] = e
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.MaxGoroutines)
	for _, pr := range prs {
		matched := slices.ContainsFunc(policy.Queries, func(q prowconfig.TideQuery) bool { return searchMatches(pr, &q) })
		g.Go(func() error {
			if !matched {
				return s.readTideOnly(gctx, pr, known[pr.Number])
			}
			if stale || !s.mergeabilityRead(pr) {
				if _, _, err := s.readPull(gctx, pr.Org, pr.Repo, pr.Number); err != nil {
					return err
				}
				s.noteMergeabilityRead(pr)
			}
			cur, ok := s.store.get(pr.Org, pr.Repo, pr.Number)
			if !ok {
				return nil
			}
			if !cur.ChecksKnown {
				cs, err := s.readContexts(gctx, cur.Org, cur.Repo, cur.HeadSHA, false)
				if err != nil {
					return err
				}
				s.store.setContexts(cur.Org, cur.Repo, cur.Number, cur.HeadSHA, cs, true)
			}
			if inRepo && cur.InRepoBase != base {
				// A load that fails leaves the configuration's jobs: the
				// loader's own status on the pull request says why.
				extra, err := s.InRepo.Presubmits(gctx, cur.Org, cur.Repo, base, cur.HeadSHA)
				if err != nil {
					logFrom(gctx).Info("In-repo config does not load", "pr", cur.key(), "error", err.Error())
				}
				s.store.update(cur.Org, cur.Repo, cur.Number, false, func(p *PR) {
					if p.HeadSHA == cur.HeadSHA {
						p.InRepo, p.InRepoBase = extra, base
					}
				})
				cur.InRepo = extra
			}
			if needsFiles(append(slices.Clip(policy.Presubmits), cur.InRepo...), k.branch) && !cur.FilesKnown {
				fs, err := s.readFiles(gctx, cur.Org, cur.Repo, cur.Number)
				if err != nil {
					return err
				}
				s.store.update(cur.Org, cur.Repo, cur.Number, false, func(p *PR) {
					if p.HeadSHA == cur.HeadSHA {
						p.Files, p.FilesKnown = fs, true
					}
				})
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if stale {
			s.store.markStale(k)
		}
		return nil, err
	}
	return s.store.poolPRs(k), nil
}

// readTideOnly learns the tide status of a pull request no query matches:
// its decision does not depend on its contexts, only on whether its status
// must be written.
func (s *Syncer) readTideOnly(ctx context.Context, pr *PR, prev v1alpha1.PoolPullRequest) error {
	if _, ok := s.store.lastTide(pr.Org, pr.Repo, pr.Number, pr.HeadSHA); ok || pr.ContextsKnown {
		return nil
	}
	if prev.HeadSHA == pr.HeadSHA && prev.TideState != "" {
		s.store.setTide(pr.Org, pr.Repo, pr.Number, tideStatus{sha: pr.HeadSHA, state: prev.TideState, description: prev.Reason})
		return nil
	}
	cs, err := s.readContexts(ctx, pr.Org, pr.Repo, pr.HeadSHA, true)
	if err != nil {
		return err
	}
	s.store.setContexts(pr.Org, pr.Repo, pr.Number, pr.HeadSHA, cs, false)
	return nil
}

// mergeabilityRead says whether GitHub's mergeability of the pull request's
// current head was read.
func (s *Syncer) mergeabilityRead(pr *PR) bool {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	return s.store.mergeable[pr.key()] == pr.HeadSHA
}

func (s *Syncer) noteMergeabilityRead(pr *PR) {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	if p := s.store.prs[pr.key()]; p != nil {
		s.store.mergeable[pr.key()] = p.HeadSHA
	}
}

// writeStatuses brings every pull request's tide status to what the
// decision says, writing only where it differs from what the head carries.
func (s *Syncer) writeStatuses(ctx context.Context, cfg *Config, k poolKey, plan *Plan, prs []*PR) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.MaxGoroutines)
	for _, pr := range prs {
		v := plan.PRs[pr.Number]
		if v == nil || v.GitHubState == "" {
			continue
		}
		want := tideStatus{sha: pr.HeadSHA, state: v.GitHubState, description: v.Description,
			url: cfg.statusURL(pr.Org, pr.Repo, pr.Number, s.StatusBaseURL)}
		if have, ok := s.store.lastTide(pr.Org, pr.Repo, pr.Number, pr.HeadSHA); ok && have.state == want.state && have.description == want.description {
			continue
		}
		g.Go(func() error { return s.setTide(gctx, pr, want) })
	}
	return g.Wait()
}

// setTide writes a tide status.
func (s *Syncer) setTide(ctx context.Context, pr *PR, want tideStatus) error {
	gh, err := s.GitHub(pr.Org)
	if err != nil {
		return err
	}
	st := &github.RepoStatus{State: github.Ptr(want.state), Context: github.Ptr(statusContext), Description: github.Ptr(want.description)}
	if want.url != "" {
		st.TargetURL = github.Ptr(want.url)
	}
	if _, _, err := gh.Repositories.CreateStatus(ctx, pr.Org, pr.Repo, want.sha, *st); err != nil {
		return fmt.Errorf("set the tide status of %s: %w", pr.key(), err)
	}
	s.store.setTide(pr.Org, pr.Repo, pr.Number, want)
	logFrom(ctx).V(1).Info("Set the tide status", "pr", pr.key(), "state", want.state, "description", want.description)
	return nil
}

// blocker is an open issue with the blocker label: it holds the branches
// its title names (branch:<name>), or every branch.
type blocker struct {
	number   int
	branches []string
}

var branchToken = regexp.MustCompile(`\bbranch:\s*([\w.\-/]+)`)

// SearchBlockers finds the open issues with the blocker label in the
// queries' scope (one search a shard, as Tide); nothing when no blocker
// label is configured.
func (s *Syncer) SearchBlockers(ctx context.Context, cfg *Config) error {
	s.init()
	label := cfg.Tide.BlockerLabel
	found := map[string][]blocker{}
	if label == "" {
		s.blockMu.Lock()
		s.blockers = found
		s.blockMu.Unlock()
		return nil
	}
	for _, sh := range cfg.shards() {
		gh, err := s.GitHub(sh.org)
		if err != nil {
			return err
		}
		issues, err := s.searchAll(ctx, gh, fmt.Sprintf("is:issue state:open label:%q %s", label, sh.query), githubEpoch, s.now().Add(time.Hour))
		if err != nil {
			return err
		}
		for _, is := range issues {
			org, repo, ok := repoOf(is)
			if !ok {
				continue
			}
			b := blocker{number: is.GetNumber()}
			for _, m := range branchToken.FindAllStringSubmatch(is.GetTitle(), -1) {
				b.branches = append(b.branches, m[1])
			}
			found[org+"/"+repo] = append(found[org+"/"+repo], b)
		}
	}
	s.blockMu.Lock()
	s.blockers = found
	s.blockMu.Unlock()
	return nil
}

// blockersFor lists the blocker issues that hold a pool's branch.
func (s *Syncer) blockersFor(k poolKey) []int {
	s.blockMu.Lock()
	defer s.blockMu.Unlock()
	var out []int
	for _, b := range s.blockers[k.org+"/"+k.repo] {
		if len(b.branches) == 0 || slices.Contains(b.branches, k.branch) {
			out = append(out, b.number)
		}
	}
	slices.Sort(out)
	return out
}

// batcher is the configured Batcher, or one that trusts GitHub's
// mergeability alone.
func (s *Syncer) batcher() Batcher {
	if s.Batcher != nil {
		return s.Batcher
	}
	return trustingBatcher{}
}

// trustingBatcher takes candidates in order without checking that they
// merge together: a batch with conflicting pull requests fails its jobs,
// and bisection finds the culprit.
type trustingBatcher struct{}

func (trustingBatcher) Pick(_ context.Context, _, _, _, _ string, _, cands []*PR, limit int) ([]*PR, error) {
	if limit > 0 && len(cands) > limit {
		cands = cands[:limit]
	}
	return cands, nil
}

// metaNow is the current time for API objects.
func (s *Syncer) metaNow() metav1.Time { return metav1.NewTime(s.now()) }

// CloneURL is where a repository is fetched from, as GitHub reported it
// (empty until the repository was read).
func (s *Syncer) CloneURL(org, repo string) string {
	s.init()
	if ri := s.store.repo(org, repo); ri != nil {
		return ri.cloneURL
	}
	return ""
}
