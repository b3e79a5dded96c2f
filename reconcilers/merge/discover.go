package merge

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	"golang.org/x/sync/errgroup"
)

// GitHub's search returns at most this many results for one query.
const searchCap = 1000

// searchSlack is how far before the newest update seen an incremental
// search starts again, because GitHub's search index lags behind (Tide
// uses the same 30 seconds).
const searchSlack = 30 * time.Second

// searchTimeFormat is how GitHub's search qualifiers take a time.
const searchTimeFormat = "2006-01-02T15:04:05Z"

// githubEpoch is before any pull request, the lower end of split searches.
var githubEpoch = time.Date(2007, 10, 1, 0, 0, 0, 0, time.UTC)

// Discover brings the store up to date with GitHub and returns the pools
// whose pull requests changed. Between full resyncs it searches only for
// pull requests updated since the newest update it saw, so a sync in which
// nothing changed costs one search per shard; every full_resync_period it
// searches for every open pull request again, dropping those it no longer
// finds. It reads the head and base of new and updated pull requests, in
// one listing per repository where many changed.
func (s *Syncer) Discover(ctx context.Context, cfg *Config) ([]poolKey, error) {
	now := s.now()
	full := s.store.lastFull.IsZero() || now.Sub(s.store.lastFull) >= cfg.FullResyncPeriod
	if full {
		s.store.forgetReads()
	}
	var (
		mu      sync.Mutex
		changed = map[poolKey]bool{}
		details = map[string][]int{} // org/repo -> numbers
	)
	g, gctx := errgroup.WithContext(ctx)
	if cfg.MaxQueryConcurrency > 0 {
		g.SetLimit(cfg.MaxQueryConcurrency)
	}
	for _, sh := range cfg.shards() {
		g.Go(func() error {
			res, err := s.searchShard(gctx, sh, full)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			s.applySearch(cfg, sh, res, full, changed, details)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return keys(changed), err
	}
	if full {
		// Repositories no query covers any more (the configuration
		// changed) leave with their pull requests.
		for _, p := range s.store.list(func(p *PR) bool { return !cfg.Covers(p.Org, p.Repo) }) {
			if k, ok := s.store.remove(p.Org, p.Repo, p.Number); ok {
				changed[k] = true
			}
		}
	}
	if err := s.readDetails(ctx, cfg, details, changed); err != nil {
		return keys(changed), err
	}
	if full {
		s.store.lastFull = now
	}
	return keys(changed), nil
}

func keys(m map[poolKey]bool) []poolKey {
	out := make([]poolKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// searchResult is one shard's search: the pull requests found, and which of
// them GitHub counts as approved (when a query needs it).
type searchResult struct {
	issues   []*github.Issue
	approved map[string]bool
	since    time.Time
}

// searchShard searches one shard: everything open (full), or everything
// updated since its watermark, closed pull requests included so that they
// leave the pool.
func (s *Syncer) searchShard(ctx context.Context, sh shard, full bool) (*searchResult, error) {
	gh, err := s.GitHub(sh.org)
	if err != nil {
		return nil, err
	}
	q := "is:pr archived:false " + sh.query
	res := &searchResult{}
	s.store.mu.Lock()
	mark := s.store.watermark[sh.query]
	s.store.mu.Unlock()
	if full || mark.IsZero() {
		q += " state:open"
		full = true
	} else {
		res.since = mark.Add(-searchSlack)
		q += " updated:>=" + res.since.UTC().Format(searchTimeFormat)
	}
	if res.issues, err = s.searchAll(ctx, gh, q, githubEpoch, s.now().Add(time.Hour)); err != nil {
		return nil, err
	}
	if sh.reviews {
		approved, err := s.searchAll(ctx, gh, q+" review:approved", githubEpoch, s.now().Add(time.Hour))
		if err != nil {
			return nil, err
		}
		res.approved = map[string]bool{}
		for _, is := range approved {
			if org, repo, ok := repoOf(is); ok {
				res.approved[keyOf(org, repo, is.GetNumber())] = true
			}
		}
	}
	return res, nil
}

// searchAll pages through a search. GitHub stops at 1,000 results, so a
// search that finds more is split by creation time until each part fits
// (Tide does not, and loses pull requests on big repositories).
func (s *Syncer) searchAll(ctx context.Context, gh *github.Client, q string, from, to time.Time) ([]*github.Issue, error) {
	var out []*github.Issue
	opts := &github.SearchOptions{Sort: "updated", Order: "asc", ListOptions: github.ListOptions{PerPage: 100}}
	query := q
	if !from.Equal(githubEpoch) || !to.After(s.now()) {
		query = fmt.Sprintf("%s created:%s..%s", q, from.UTC().Format(searchTimeFormat), to.UTC().Format(searchTimeFormat))
	}
	for {
		res, resp, err := gh.Search.Issues(ctx, query, opts)
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", query, err)
		}
		if res.GetTotal() > searchCap && to.Sub(from) > time.Second {
			mid := from.Add(to.Sub(from) / 2).Truncate(time.Second)
			a, err := s.searchAll(ctx, gh, q, from, mid)
			if err != nil {
				return nil, err
			}
			b, err := s.searchAll(ctx, gh, q, mid.Add(time.Second), to)
			if err != nil {
				return nil, err
			}
			return append(a, b...), nil
		}
		out = append(out, res.Issues...)
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// repoOf reads the org and repo from an issue's repository_url.
func repoOf(is *github.Issue) (string, string, bool) {
	u, err := url.Parse(is.GetRepositoryURL())
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 3 || parts[len(parts)-3] != "repos" {
		return "", "", false
	}
	return parts[len(parts)-2], parts[len(parts)-1], true
}

// applySearch records what a search found; details collects the pull
// requests whose head and base must be read.
func (s *Syncer) applySearch(cfg *Config, sh shard, res *searchResult, full bool, changed map[poolKey]bool, details map[string][]int) {
	seen := map[string]bool{}
	newest := time.Time{}
	for _, is := range res.issues {
		org, repo, ok := repoOf(is)
		if !ok || is.GetPullRequestLinks() == nil || !cfg.Covers(org, repo) {
			continue
		}
		n := is.GetNumber()
		if t := is.GetUpdatedAt().Time; t.After(newest) {
			newest = t
		}
		if is.GetState() != "open" {
			if k, ok := s.store.remove(org, repo, n); ok {
				changed[k] = true
			}
			continue
		}
		seen[keyOf(org, repo, n)] = true
		var needDetails bool
		before, after, _ := s.store.update(org, repo, n, true, func(p *PR) {
			updated := is.GetUpdatedAt().Time
			if updated.Before(p.UpdatedAt) {
				// The search index lags behind what a webhook already
				// said: keep the newer picture.
				return
			}
			needDetails = p.HeadSHA == "" || !updated.Equal(p.UpdatedAt)
			p.Title, p.Author, p.Draft, p.UpdatedAt = is.GetTitle(), is.GetUser().GetLogin(), is.GetDraft(), updated
			p.Labels = p.Labels[:0]
			for _, l := range is.Labels {
				p.Labels = append(p.Labels, l.GetName())
			}
			p.Milestone = is.GetMilestone().GetTitle()
			if sh.reviews {
				p.Approved = res.approved[keyOf(org, repo, n)]
			}
		})
		if needDetails {
			details[org+"/"+repo] = append(details[org+"/"+repo], n)
		}
		if before.branch != "" {
			changed[before] = true
		}
		if after.branch != "" {
			changed[after] = true
		}
	}
	s.store.mu.Lock()
	if newest.After(s.store.watermark[sh.query]) {
		s.store.watermark[sh.query] = newest
	}
	s.store.mu.Unlock()
	if !full {
		return
	}
	// A full search found every open pull request of the shard: the others
	// closed or left the scope.
	// (Each org is in exactly one shard.)
	for _, p := range s.store.list(func(p *PR) bool { return strings.EqualFold(p.Org, sh.org) && !seen[p.key()] }) {
		if pk, ok := s.store.remove(p.Org, p.Repo, p.Number); ok {
			changed[pk] = true
		}
	}
}

// detailsListThreshold is how many changed pull requests of one repository
// make listing its open pull requests cheaper than reading each one.
const detailsListThreshold = 5

// readDetails reads the head, base and draft state of pull requests the
// search found new or updated: one request each, or one listing of the
// repository's open pull requests (100 a page) when many changed.
func (s *Syncer) readDetails(ctx context.Context, cfg *Config, details map[string][]int, changed map[poolKey]bool) error {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.MaxGoroutines)
	for fullName, numbers := range details {
		org, repo, _ := strings.Cut(fullName, "/")
		if len(numbers) >= detailsListThreshold {
			g.Go(func() error {
				return s.listPulls(gctx, org, repo, numbers, func(before, after poolKey) {
					mu.Lock()
					defer mu.Unlock()
					changed[before], changed[after] = true, true
				})
			})
			continue
		}
		for _, n := range numbers {
			g.Go(func() error {
				before, after, err := s.readPull(gctx, org, repo, n)
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				if before.branch != "" {
					changed[before] = true
				}
				if after.branch != "" {
					changed[after] = true
				}
				return nil
			})
		}
	}
	err := g.Wait()
	delete(changed, poolKey{})
	return err
}

// listPulls reads the repository's open pull requests, most recently
// updated first, until it has seen every wanted one.
func (s *Syncer) listPulls(ctx context.Context, org, repo string, wanted []int, note func(before, after poolKey)) error {
	gh, err := s.GitHub(org)
	if err != nil {
		return err
	}
	left := map[int]bool{}
	for _, n := range wanted {
		left[n] = true
	}
	opts := &github.PullRequestListOptions{State: "open", Sort: "updated", Direction: "desc", ListOptions: github.ListOptions{PerPage: 100}}
	for len(left) > 0 {
		page, resp, err := gh.PullRequests.List(ctx, org, repo, opts)
		if err != nil {
			return fmt.Errorf("list pull requests of %s/%s: %w", org, repo, err)
		}
		for _, pr := range page {
			delete(left, pr.GetNumber())
			if before, after, ok := s.store.update(org, repo, pr.GetNumber(), false, applyPull(pr, false)); ok {
				note(before, after)
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	// Those not listed closed since the search.
	for n := range left {
		if k, ok := s.store.remove(org, repo, n); ok {
			note(k, k)
		}
	}
	return nil
}

// readPull reads one pull request, including whether it merges cleanly.
func (s *Syncer) readPull(ctx context.Context, org, repo string, n int) (before, after poolKey, err error) {
	gh, err := s.GitHub(org)
	if err != nil {
		return poolKey{}, poolKey{}, err
	}
	pr, _, err := gh.PullRequests.Get(ctx, org, repo, n)
	if err != nil {
		var ge *github.ErrorResponse
		if errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == 404 {
			k, _ := s.store.remove(org, repo, n)
			return k, k, nil
		}
		return poolKey{}, poolKey{}, fmt.Errorf("read %s/%s#%d: %w", org, repo, n, err)
	}
	if pr.GetState() != "open" {
		k, _ := s.store.remove(org, repo, n)
		return k, k, nil
	}
	before, after, _ = s.store.update(org, repo, n, false, applyPull(pr, true))
	return before, after, nil
}

// applyPull copies a pull request's fields into the store; withMergeable
// says whether GitHub's answer includes mergeability (a single read does,
// a listing does not).
func applyPull(pr *github.PullRequest, withMergeable bool) func(*PR) {
	return func(p *PR) {
		if pr.UpdatedAt != nil && pr.GetUpdatedAt().Before(p.UpdatedAt) {
			// An older picture (a late delivery): keep the newer one.
			return
		}
		p.HeadSHA, p.HeadRef, p.BaseRef = pr.GetHead().GetSHA(), pr.GetHead().GetRef(), pr.GetBase().GetRef()
		p.Draft, p.Title = pr.GetDraft(), pr.GetTitle()
		if u := pr.GetUser().GetLogin(); u != "" {
			p.Author = u
		}
		if pr.UpdatedAt != nil && pr.GetUpdatedAt().After(p.UpdatedAt) {
			p.UpdatedAt = pr.GetUpdatedAt().Time
		}
		if pr.Labels != nil {
			p.Labels = p.Labels[:0]
			for _, l := range pr.Labels {
				p.Labels = append(p.Labels, l.GetName())
			}
		}
		if pr.Milestone != nil || withMergeable {
			p.Milestone = pr.GetMilestone().GetTitle()
		}
		if withMergeable {
			// Unknown (GitHub still computing) counts as mergeable.
			p.Conflict = pr.Mergeable != nil && !pr.GetMergeable()
			p.NotRebaseable = pr.Rebaseable != nil && !pr.GetRebaseable()
			p.MergeBlocked = pr.GetMergeableState() == "blocked"
		}
	}
}

// readContexts reads a head commit's statuses and, unless statusesOnly,
// its check runs.
func (s *Syncer) readContexts(ctx context.Context, org, repo, sha string, statusesOnly bool) ([]Context, error) {
	gh, err := s.GitHub(org)
	if err != nil {
		return nil, err
	}
	var out []Context
	opts := &github.ListOptions{PerPage: 100}
	for {
		st, resp, err := gh.Repositories.GetCombinedStatus(ctx, org, repo, sha, opts)
		if err != nil {
			return nil, fmt.Errorf("read statuses of %s/%s@%s: %w", org, repo, sha, err)
		}
		for _, rs := range st.Statuses {
			out = append(out, Context{Name: rs.GetContext(), State: rs.GetState(), Description: rs.GetDescription()})
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if statusesOnly {
		return out, nil
	}
	runs := map[string]int{}
	copts := &github.ListCheckRunsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		res, resp, err := gh.Checks.ListCheckRunsForRef(ctx, org, repo, sha, copts)
		if err != nil {
			return nil, fmt.Errorf("read check runs of %s/%s@%s: %w", org, repo, sha, err)
		}
		for _, cr := range res.CheckRuns {
			c := Context{Name: cr.GetName(), State: checkRunState(cr.GetStatus(), cr.GetConclusion())}
			if i, ok := runs[c.Name]; ok {
				if betterState(out[i].State, c.State) {
					out[i] = c
				}
				continue
			}
			runs[c.Name] = len(out)
			out = append(out, c)
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		copts.Page = resp.NextPage
	}
	return out, nil
}

// readFiles lists the files a pull request changes (at most 3,000, as
// GitHub).
func (s *Syncer) readFiles(ctx context.Context, org, repo string, n int) ([]string, error) {
	gh, err := s.GitHub(org)
	if err != nil {
		return nil, err
	}
	var files []string
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := gh.PullRequests.ListFiles(ctx, org, repo, n, opts)
		if err != nil {
			return nil, fmt.Errorf("list files of %s/%s#%d: %w", org, repo, n, err)
		}
		for _, f := range page {
			files = append(files, f.GetFilename())
			if prev := f.GetPreviousFilename(); prev != "" {
				files = append(files, prev)
			}
		}
		if resp == nil || resp.NextPage == 0 || len(files) >= 3000 {
			return files, nil
		}
		opts.Page = resp.NextPage
	}
}

// readBase reads a branch's head.
func (s *Syncer) readBase(ctx context.Context, k poolKey) (string, error) {
	gh, err := s.GitHub(k.org)
	if err != nil {
		return "", err
	}
	ref, _, err := gh.Git.GetRef(ctx, k.org, k.repo, "heads/"+k.branch)
	if err != nil {
		return "", fmt.Errorf("read the head of %s: %w", k, err)
	}
	sha := ref.GetObject().GetSHA()
	s.store.setBase(k, sha)
	return sha, nil
}

// readRepo reads the merge methods a repository allows and its clone URL,
// at most once an hour (as Tide).
func (s *Syncer) readRepo(ctx context.Context, org, repo string) (*repoInfo, error) {
	if ri := s.store.repo(org, repo); ri != nil && s.now().Sub(ri.read) < time.Hour {
		return ri, nil
	}
	gh, err := s.GitHub(org)
	if err != nil {
		return nil, err
	}
	r, _, err := gh.Repositories.Get(ctx, org, repo)
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", org, repo, err)
	}
	ri := &repoInfo{read: s.now(), cloneURL: r.GetCloneURL(), htmlURL: r.GetHTMLURL()}
	if r.AllowMergeCommit != nil || r.AllowSquashMerge != nil || r.AllowRebaseMerge != nil {
		ri.allowed = map[string]bool{"merge": r.GetAllowMergeCommit(), "squash": r.GetAllowSquashMerge(), "rebase": r.GetAllowRebaseMerge()}
	}
	s.store.setRepo(org, repo, ri)
	return ri, nil
}

// readProtection reads the required status contexts of a branch's
// protection on GitHub, as a reader may see them.
func (s *Syncer) readProtection(ctx context.Context, k poolKey) ([]string, error) {
	if p, ok := s.store.protection(k); ok {
		return p, nil
	}
	gh, err := s.GitHub(k.org)
	if err != nil {
		return nil, err
	}
	b, _, err := gh.Repositories.GetBranch(ctx, k.org, k.repo, k.branch, 1)
	if err != nil {
		return nil, fmt.Errorf("read branch %s: %w", k, err)
	}
	var contexts []string
	if rsc := b.GetProtection().GetRequiredStatusChecks(); rsc != nil && rsc.Contexts != nil {
		contexts = *rsc.Contexts
	}
	s.store.setProtection(k, contexts)
	return contexts, nil
}

// logFrom is the logger of a context.
func logFrom(ctx context.Context) logr.Logger { return logr.FromContextOrDiscard(ctx) }
