package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/gitstore"
)

// Forks, as GitHub has them: anyone who can read a repository can fork it
// into their account (or an org they may create repositories in), push
// there, and open a pull request from "user:branch" against the original.
// The pull request's commits are copied into the original repository
// (GitHub shares a fork network's objects), so that its pull request ref,
// merge checks and merges work there as for any other pull request.

type forkRequest struct {
	Organization      *string `json:"organization"`
	Name              *string `json:"name"`
	DefaultBranchOnly *bool   `json:"default_branch_only"`
}

// createFork is POST /repos/{owner}/{repo}/forks. GitHub answers 202: the
// fork is made in the background there, at once here. Forking again
// returns the existing fork.
func (f *Forge) createFork(c *call) error {
	if err := c.needUser(); err != nil {
		return err
	}
	var req forkRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.Repository
	err := f.write(func(t *tx) error {
		src, err := c.repoFor(t.state, permRead)
		if err != nil {
			return err
		}
		owner := c.who.login
		if req.Organization != nil && *req.Organization != "" {
			o := t.org(*req.Organization)
			if o == nil {
				return errInvalid("Fork", "organization", "invalid")
			}
			if o.Members[key(c.who.login)] != "admin" {
				return errForbidden("You do not have permission to create repositories in this organization")
			}
			owner = o.Login
		}
		if key(owner) == key(src.Owner) {
			return errInvalidMsg("A repository cannot be forked into its own account")
		}
		if existing := t.forkOf(src, owner); existing != nil {
			out = f.repoJSON(t.state, existing, c.who)
			return nil
		}
		name := src.Name
		if req.Name != nil && *req.Name != "" {
			name = *req.Name
		}
		name = t.freeName(owner, name)
		fork, err := t.fork(c.r.Context(), src, owner, name, c.who.login)
		if err != nil {
			return err
		}
		out = f.repoJSON(t.state, fork, c.who)
		return nil
	})
	if err != nil {
		return err
	}
	return c.json(http.StatusAccepted, out)
}

// fork records owner/name as a fork of src and copies its git repository.
func (t *tx) fork(ctx context.Context, src *repo, owner, name, who string) (*repo, error) {
	if !validRepoName.MatchString(name) {
		return nil, errInvalid("Repository", "name", "invalid")
	}
	r := newRepo(t, t.accountLogin(owner), name)
	r.Parent = src.fullName()
	r.Description, r.Homepage, r.DefaultBranch = src.Description, src.Homepage, src.DefaultBranch
	r.Private = src.Private
	if err := t.f.git.Fork(ctx, src.Owner, src.Name, r.Owner, r.Name); err != nil {
		return nil, gitErr(err, "Not Found")
	}
	r.Pushed = src.Pushed
	t.Repos[key(r.fullName())] = r
	t.forkEvent(src, r, who)
	return r, nil
}

// freeName is name, or name-1, name-2… when owner has a repository of
// that name already, as GitHub names a fork.
func (s *state) freeName(owner, name string) string {
	candidate := name
	for n := 1; s.repo(owner, candidate) != nil; n++ {
		candidate = fmt.Sprintf("%s-%d", name, n)
	}
	return candidate
}

// root is the repository at the top of r's fork network.
func (s *state) root(r *repo) *repo {
	for seen := 0; r.Parent != "" && seen < 100; seen++ {
		p := s.Repos[key(r.Parent)]
		if p == nil {
			break
		}
		r = p
	}
	return r
}

// forkOf finds owner's repository in r's fork network: r itself when owner
// owns it, or one of the network's forks.
func (s *state) forkOf(r *repo, owner string) *repo {
	if key(r.Owner) == key(owner) {
		return r
	}
	root := s.root(r)
	var found []*repo
	for _, other := range s.Repos {
		if key(other.Owner) == key(owner) && other.Parent != "" && s.root(other) == root {
			found = append(found, other)
		}
	}
	if len(found) == 0 {
		return nil
	}
	sort.Slice(found, func(a, b int) bool { return found[a].ID < found[b].ID })
	return found[0]
}

// headRepo is the repository a pull request's head branch lives in.
func (s *state) headRepo(r *repo, p *pull) *repo {
	if p.HeadRepo == "" {
		return r
	}
	return s.Repos[key(p.HeadRepo)]
}

// headOwner is the owner of a pull request's head repository, as GitHub's
// head label names it.
func (p *pull) headOwner(r *repo) string {
	if p.HeadRepo == "" {
		return r.Owner
	}
	owner, _, _ := strings.Cut(p.HeadRepo, "/")
	return owner
}

// listForks is GET /repos/{owner}/{repo}/forks: the direct forks, newest
// first (GitHub's default sort).
func (f *Forge) listForks(c *call) error {
	var out []*github.Repository
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		var forks []*repo
		for _, other := range s.Repos {
			if key(other.Parent) == key(r.fullName()) && s.perm(c.who, other) != permNone {
				forks = append(forks, other)
			}
		}
		sort.Slice(forks, func(a, b int) bool { return forks[a].ID > forks[b].ID })
		for _, fr := range forks {
			out = append(out, f.repoJSON(s, fr, c.who))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

// fetchHead copies a fork's head commit into the base repository, so that
// the pull request's ref and every comparison there can use it.
func (t *tx) fetchHead(ctx context.Context, base, head *repo, branch string) error {
	if head == base {
		return nil
	}
	if err := t.f.git.FetchObjects(ctx, base.Owner, base.Name, head.Owner, head.Name, "refs/heads/"+branch); err != nil {
		if errors.Is(err, gitstore.ErrNotFound) {
			return errInvalid("PullRequest", "head", "invalid")
		}
		return err
	}
	return nil
}

// forkPullsUpdated reacts to a push to a fork: the pull requests opened
// from the pushed branch, in every repository of the network, follow it
// (synchronize), or close when the branch is deleted.
func (t *tx) forkPullsUpdated(ctx context.Context, fork *repo, branch, sha, pusher string) {
	for _, base := range t.Repos {
		if base == fork {
			continue
		}
		for _, i := range base.openPullsWith(func(p *pull) bool { return key(p.HeadRepo) == key(fork.fullName()) && p.Head == branch }) {
			if sha == "" {
				_ = t.setState(ctx, base, i, "closed", "", pusher)
				continue
			}
			if i.PR.HeadSHA == sha || t.fetchHead(ctx, base, fork, branch) != nil {
				continue
			}
			t.synchronize(ctx, base, i, sha, pusher)
		}
	}
}

// forkEvent tells the forked repository's hooks about the new fork.
func (t *tx) forkEvent(src, fork *repo, sender string) {
	if !t.hasHooks(src) {
		return
	}
	e := t.envelope(src, sender)
	t.emit("fork", "", src, "", &github.ForkEvent{Forkee: t.f.repoJSON(t.state, fork, principal{}), Repo: e.repo,
		Sender: e.sender, Installation: e.inst})
}
