package merge

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// poolKey names a pool: org/repo:branch, as Tide does.
type poolKey struct{ org, repo, branch string }

func (k poolKey) String() string { return k.org + "/" + k.repo + ":" + k.branch }

// tideStatus is the tide status of one head commit.
type tideStatus struct {
	sha, state, description, url string
}

// repoInfo is what the merge controller keeps of a repository's settings.
type repoInfo struct {
	allowed  map[string]bool
	cloneURL string
	htmlURL  string
	read     time.Time
}

// store is the merge controller's picture of GitHub: the open pull requests
// in the queries' scope, kept current by searches and webhooks, the heads
// of their base branches and the tide status each head commit carries. It
// is the leader's memory; after a restart a full search rebuilds it, and
// what must survive a restart lives in the API server (MergePool status and
// ProwJobs).
type store struct {
	mu     sync.Mutex
	prs    map[string]*PR // by "org/repo#number"
	bases  map[poolKey]string
	tide   map[string]tideStatus // by pull request key
	repos  map[string]*repoInfo  // by "org/repo"
	protec map[poolKey][]string  // required contexts on GitHub
	// watermark is, per search shard, the newest updated_at seen.
	watermark map[string]time.Time
	lastFull  time.Time
	// stale marks pools whose pull requests' details must be read again
	// (a base branch moved, a request came from another process).
	stale map[poolKey]bool
	// mergeable records, by pull request, the head whose mergeability was
	// read.
	mergeable map[string]string
}

func newStore() *store {
	return &store{
		prs: map[string]*PR{}, bases: map[poolKey]string{}, tide: map[string]tideStatus{},
		repos: map[string]*repoInfo{}, protec: map[poolKey][]string{}, watermark: map[string]time.Time{},
		stale: map[poolKey]bool{}, mergeable: map[string]string{},
	}
}

func keyOf(org, repo string, n int) string { return (&PR{Org: org, Repo: repo, Number: n}).key() }

// clonePR copies a pull request so that a pool decision reads a snapshot
// while webhooks keep changing the store.
func clonePR(p *PR) *PR {
	c := *p
	c.Labels = slices.Clone(p.Labels)
	c.Contexts = slices.Clone(p.Contexts)
	c.Files = slices.Clone(p.Files)
	c.InRepo = slices.Clone(p.InRepo)
	return &c
}

// poolPRs returns copies of the open pull requests targeting a branch.
func (s *store) poolPRs(k poolKey) []*PR {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*PR
	for _, p := range s.prs {
		if p.Org == k.org && p.Repo == k.repo && p.BaseRef == k.branch && p.HeadSHA != "" {
			out = append(out, clonePR(p))
		}
	}
	return out
}

// pools lists the pools that have open pull requests.
func (s *store) pools() []poolKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[poolKey]bool{}
	var out []poolKey
	for _, p := range s.prs {
		k := poolKey{p.Org, p.Repo, p.BaseRef}
		if p.BaseRef != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// update applies fn to the pull request (creating it when create is set)
// and returns the pools it was in before and is in after.
func (s *store) update(org, repo string, n int, create bool, fn func(*PR)) (before, after poolKey, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := keyOf(org, repo, n)
	p := s.prs[k]
	if p == nil {
		if !create {
			return poolKey{}, poolKey{}, false
		}
		p = &PR{Org: org, Repo: repo, Number: n}
		s.prs[k] = p
	}
	before = poolKey{p.Org, p.Repo, p.BaseRef}
	head := p.HeadSHA
	fn(p)
	if p.HeadSHA != head {
		// A new head has its own statuses, files and mergeability.
		p.Contexts, p.ContextsKnown, p.ChecksKnown, p.Files, p.FilesKnown, p.Conflict, p.NotRebaseable = nil, false, false, nil, false, false, false
		p.MergeBlocked = false
		p.InRepo, p.InRepoBase = nil, ""
	}
	return before, poolKey{p.Org, p.Repo, p.BaseRef}, true
}

// remove forgets a pull request that closed or left the scope.
func (s *store) remove(org, repo string, n int) (poolKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := keyOf(org, repo, n)
	p, ok := s.prs[k]
	if !ok {
		return poolKey{}, false
	}
	delete(s.prs, k)
	delete(s.tide, k)
	return poolKey{p.Org, p.Repo, p.BaseRef}, true
}

// get returns a copy of a pull request.
func (s *store) get(org, repo string, n int) (*PR, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.prs[keyOf(org, repo, n)]
	if !ok {
		return nil, false
	}
	return clonePR(p), true
}

// list returns copies of the pull requests match accepts.
func (s *store) list(match func(*PR) bool) []*PR {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*PR
	for _, p := range s.prs {
		if match(p) {
			out = append(out, clonePR(p))
		}
	}
	return out
}

// setContext records a status (or check run) on a commit, for every pull
// request with that head whose contexts are known, and returns their
// pools. A pull request whose contexts were never read keeps them unknown:
// they are read whole when needed.
func (s *store) setContext(org, repo, sha string, c Context, checkRun bool) []poolKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []poolKey
	for k, p := range s.prs {
		if !strings.EqualFold(p.Org, org) || !strings.EqualFold(p.Repo, repo) || p.HeadSHA != sha {
			continue
		}
		out = append(out, poolKey{p.Org, p.Repo, p.BaseRef})
		if c.Name == statusContext && !checkRun {
			s.tide[k] = tideStatus{sha: sha, state: c.State, description: c.Description}
		}
		if !p.ContextsKnown {
			continue
		}
		i := slices.IndexFunc(p.Contexts, func(x Context) bool { return x.Name == c.Name })
		switch {
		case i < 0:
			p.Contexts = append(p.Contexts, c)
		case checkRun && !betterState(p.Contexts[i].State, c.State) && p.Contexts[i].State != statePending:
			// Several check runs of one name: the best counts.
		default:
			p.Contexts[i] = c
		}
	}
	return out
}

// setContexts replaces a pull request's contexts if its head is still sha;
// checks says whether they include the check runs.
func (s *store) setContexts(org, repo string, n int, sha string, cs []Context, checks bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := keyOf(org, repo, n)
	p := s.prs[k]
	if p == nil || p.HeadSHA != sha {
		return
	}
	p.Contexts, p.ContextsKnown, p.ChecksKnown = cs, true, checks
	for _, c := range cs {
		if c.Name == statusContext {
			s.tide[k] = tideStatus{sha: sha, state: c.State, description: c.Description}
		}
	}
	if _, ok := s.tide[k]; !ok || s.tide[k].sha != sha {
		s.tide[k] = tideStatus{sha: sha}
	}
}

// lastTide is the tide status a pull request's head carries, as far as the
// store knows; ok is false when it does not know.
func (s *store) lastTide(org, repo string, n int, sha string) (tideStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tide[keyOf(org, repo, n)]
	return t, ok && t.sha == sha
}

// setTide records a tide status written.
func (s *store) setTide(org, repo string, n int, t tideStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tide[keyOf(org, repo, n)] = t
}

func (s *store) base(k poolKey) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sha, ok := s.bases[k]
	return sha, ok
}

// setBase records a branch head; it returns whether it moved.
func (s *store) setBase(k poolKey, sha string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.bases[k]
	s.bases[k] = sha
	if ok && old != sha {
		s.stale[k] = true
		return true
	}
	return !ok
}

// takeStale reports and clears whether a pool's details must be read again.
func (s *store) takeStale(k poolKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.stale[k]
	delete(s.stale, k)
	return v
}

func (s *store) markStale(k poolKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stale[k] = true
}

func (s *store) repo(org, repo string) *repoInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repos[org+"/"+repo]
}

func (s *store) setRepo(org, repo string, ri *repoInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[org+"/"+repo] = ri
}

func (s *store) protection(k poolKey) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.protec[k]
	return p, ok
}

func (s *store) setProtection(k poolKey, contexts []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.protec[k] = contexts
}

// forgetReads drops what a full resync reads again: branch heads,
// repository settings and protection.
func (s *store) forgetReads() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bases = map[poolKey]string{}
	s.repos = map[string]*repoInfo{}
	s.protec = map[poolKey][]string{}
}
