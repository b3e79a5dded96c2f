package forge

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/bowline-ci/bowline/sandbox/gitstore"
)

// cachedGit puts a cache in front of the git store for what API reads ask
// again and again: branch heads, and merge checks, logs and diffs between
// two commits. Each git call starts processes; a controller polling a pull
// request should not. Results between two commit SHAs never change, so
// they are kept (in a bounded map); branch heads are reloaded after every
// write the forge makes and every push it is told about.
type cachedGit struct {
	*gitstore.Store

	mu    sync.Mutex
	heads map[string]*headSet // repo key -> branch heads
	gen   map[string]uint64   // repo key -> invalidation count
	fixed map[string]any      // results keyed by commit SHAs
}

type headSet struct{ refs map[string]string }

// maxFixed bounds the SHA-keyed results; the map starts over when full.
const maxFixed = 4096

func newCachedGit(s *gitstore.Store) *cachedGit {
	return &cachedGit{Store: s, heads: map[string]*headSet{}, gen: map[string]uint64{}, fixed: map[string]any{}}
}

func repoKey(owner, repo string) string { return key(owner + "/" + repo) }

// invalidate forgets owner/repo's branch heads.
func (g *cachedGit) invalidate(owner, repo string) {
	k := repoKey(owner, repo)
	g.mu.Lock()
	delete(g.heads, k)
	g.gen[k]++
	g.mu.Unlock()
}

func isSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (g *cachedGit) branchHeads(ctx context.Context, owner, repo string) (map[string]string, error) {
	k := repoKey(owner, repo)
	g.mu.Lock()
	if hs := g.heads[k]; hs != nil {
		g.mu.Unlock()
		return hs.refs, nil
	}
	gen := g.gen[k]
	g.mu.Unlock()
	refs, err := g.Store.ListRefs(ctx, owner, repo, "refs/heads/")
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	if g.gen[k] == gen {
		g.heads[k] = &headSet{refs: refs}
	}
	g.mu.Unlock()
	return refs, nil
}

// ResolveRef answers branches from the cache and anything else from git.
func (g *cachedGit) ResolveRef(ctx context.Context, owner, repo, ref string) (string, error) {
	if branch, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		heads, err := g.branchHeads(ctx, owner, repo)
		if err != nil {
			return "", err
		}
		if sha, ok := heads["refs/heads/"+branch]; ok {
			return sha, nil
		}
		return "", fmt.Errorf("branch %s of %s/%s: %w", branch, owner, repo, gitstore.ErrNotFound)
	}
	return g.Store.ResolveRef(ctx, owner, repo, ref)
}

// remember runs fn once per key while the key is cacheable.
func remember[T any](g *cachedGit, cacheable bool, k string, fn func() (T, error)) (T, error) {
	if !cacheable {
		return fn()
	}
	g.mu.Lock()
	if v, ok := g.fixed[k]; ok {
		g.mu.Unlock()
		return v.(T), nil
	}
	g.mu.Unlock()
	v, err := fn()
	if err != nil {
		var zero T
		return zero, err
	}
	g.mu.Lock()
	if len(g.fixed) >= maxFixed {
		g.fixed = map[string]any{}
	}
	g.fixed[k] = v
	g.mu.Unlock()
	return v, nil
}

func (g *cachedGit) Log(ctx context.Context, owner, repo, base, head string, limit int) ([]gitstore.Commit, error) {
	ok := (base == "" || isSHA(base)) && isSHA(head)
	return remember(g, ok, fmt.Sprintf("log|%s|%s|%s|%d", repoKey(owner, repo), base, head, limit), func() ([]gitstore.Commit, error) {
		return g.Store.Log(ctx, owner, repo, base, head, limit)
	})
}

func (g *cachedGit) Diff(ctx context.Context, owner, repo, base, head string) ([]gitstore.FileChange, error) {
	ok := (base == "" || isSHA(base)) && isSHA(head)
	return remember(g, ok, fmt.Sprintf("diff|%s|%s|%s", repoKey(owner, repo), base, head), func() ([]gitstore.FileChange, error) {
		return g.Store.Diff(ctx, owner, repo, base, head)
	})
}

func (g *cachedGit) MergeBase(ctx context.Context, owner, repo, a, b string) (string, error) {
	return remember(g, isSHA(a) && isSHA(b), fmt.Sprintf("mb|%s|%s|%s", repoKey(owner, repo), a, b), func() (string, error) {
		return g.Store.MergeBase(ctx, owner, repo, a, b)
	})
}

func (g *cachedGit) GetCommit(ctx context.Context, owner, repo, sha string) (*gitstore.Commit, error) {
	return remember(g, isSHA(sha), fmt.Sprintf("commit|%s|%s", repoKey(owner, repo), sha), func() (*gitstore.Commit, error) {
		return g.Store.GetCommit(ctx, owner, repo, sha)
	})
}

// Mergeable is cached by the base branch's current head and the head SHA.
func (g *cachedGit) Mergeable(ctx context.Context, owner, repo, baseBranch, headSHA string) (bool, error) {
	base, err := g.ResolveRef(ctx, owner, repo, "refs/heads/"+baseBranch)
	if err != nil {
		return false, err
	}
	return remember(g, isSHA(headSHA), fmt.Sprintf("mergeable|%s|%s|%s", repoKey(owner, repo), base, headSHA), func() (bool, error) {
		return g.Store.Mergeable(ctx, owner, repo, baseBranch, headSHA)
	})
}

// Writes drop the repository's cached heads.

func (g *cachedGit) SetRef(ctx context.Context, owner, repo, ref, sha string, force bool) error {
	defer g.invalidate(owner, repo)
	return g.Store.SetRef(ctx, owner, repo, ref, sha, force)
}

func (g *cachedGit) DeleteRef(ctx context.Context, owner, repo, ref string) error {
	defer g.invalidate(owner, repo)
	return g.Store.DeleteRef(ctx, owner, repo, ref)
}

func (g *cachedGit) CommitFiles(ctx context.Context, owner, repo, branch, parent string, files map[string][]byte, msg string, author gitstore.Signature) (string, error) {
	defer g.invalidate(owner, repo)
	return g.Store.CommitFiles(ctx, owner, repo, branch, parent, files, msg, author)
}

func (g *cachedGit) Merge(ctx context.Context, owner, repo, baseBranch, headSHA, method, title, message string, committer gitstore.Signature) (string, error) {
	defer g.invalidate(owner, repo)
	return g.Store.Merge(ctx, owner, repo, baseBranch, headSHA, method, title, message, committer)
}

func (g *cachedGit) Fork(ctx context.Context, srcOwner, srcName, owner, name string) error {
	defer g.invalidate(owner, name)
	return g.Store.Fork(ctx, srcOwner, srcName, owner, name)
}

func (g *cachedGit) Create(ctx context.Context, owner, name, defaultBranch string, files map[string][]byte, msg string, author gitstore.Signature) (string, error) {
	defer g.invalidate(owner, name)
	return g.Store.Create(ctx, owner, name, defaultBranch, files, msg, author)
}

func (g *cachedGit) Delete(ctx context.Context, owner, name string) error {
	defer g.invalidate(owner, name)
	return g.Store.Delete(ctx, owner, name)
}

func (g *cachedGit) Rename(ctx context.Context, owner, oldName, newName string) error {
	defer g.invalidate(owner, oldName)
	defer g.invalidate(owner, newName)
	return g.Store.Rename(ctx, owner, oldName, newName)
}
