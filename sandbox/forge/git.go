package forge

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/gitstore"
)

type pusherKey struct{}

// gitHandler serves smart HTTP at /{owner}/{repo}.git. Credentials are
// GitHub's: a token as the Basic password (or an Authorization header).
func (f *Forge) gitHandler() http.Handler {
	auth := func(r *http.Request, owner, name string, write bool) bool {
		p, _ := r.Context().Value(pusherKey{}).(principal)
		f.mu.RLock()
		defer f.mu.RUnlock()
		rp := f.st.repo(owner, name)
		if rp == nil {
			return true // the store answers 404
		}
		have := f.st.perm(p, rp)
		if write {
			return !p.anonymous() && atLeast(have, permWrite) && !rp.Archived
		}
		return have != permNone
	}
	onPush := func(ctx context.Context, owner, name string, updates []gitstore.RefUpdate) {
		p, _ := ctx.Value(pusherKey{}).(principal)
		f.pushed(ctx, owner, name, updates, p.login)
	}
	h := f.git.Store.Handler(auth, onPush)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := f.authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="bowline sandbox"`)
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), pusherKey{}, p)))
	})
}

// pushed records ref updates made outside the API (a git push, or an
// Actor's commit) and sends the events GitHub would.
func (f *Forge) pushed(ctx context.Context, owner, name string, updates []gitstore.RefUpdate, pusher string) {
	f.git.invalidate(owner, name)
	_ = f.write(func(t *tx) error {
		r := t.repo(owner, name)
		if r == nil {
			return nil
		}
		if pusher == "" {
			pusher = r.Owner
		}
		t.refsUpdated(ctx, r, updates, pusher)
		return nil
	})
}

// refsUpdated is GitHub's reaction to moved refs: a push event per ref,
// synchronize for pull requests whose head moved (closed when the head
// branch is deleted), and pull requests whose head reached their base
// marked merged.
func (t *tx) refsUpdated(ctx context.Context, r *repo, updates []gitstore.RefUpdate, pusher string) {
	for _, u := range updates {
		if strings.HasPrefix(u.Ref, "refs/pull/") {
			continue
		}
		r.Pushed = t.now
		t.pushEvent(ctx, r, u, pusher)
		branch, ok := strings.CutPrefix(u.Ref, "refs/heads/")
		if !ok {
			continue
		}
		for _, i := range r.openPullsWith(func(p *pull) bool { return p.HeadRepo == "" && p.Head == branch }) {
			if u.New == "" {
				_ = t.setState(ctx, r, i, "closed", "", pusher)
				continue
			}
			if i.PR.HeadSHA == u.New {
				continue
			}
			t.synchronize(ctx, r, i, u.New, pusher)
		}
		if r.Parent != "" {
			t.forkPullsUpdated(ctx, r, branch, u.New, pusher)
		}
		if u.New == "" {
			continue
		}
		for _, i := range r.openPullsWith(func(p *pull) bool { return p.Base == branch }) {
			if mb, err := t.f.git.MergeBase(ctx, r.Owner, r.Name, i.PR.HeadSHA, u.New); err == nil && mb == i.PR.HeadSHA {
				t.markMerged(r, i, pusher, u.New)
				t.pullEvent(ctx, r, i, "closed", pusher, nil)
			}
		}
	}
}

// synchronize moves a pull request's head to sha (already in r's object
// store) and sends "synchronize".
func (t *tx) synchronize(ctx context.Context, r *repo, i *issue, sha, pusher string) {
	before := i.PR.HeadSHA
	i.PR.HeadSHA, i.Updated = sha, t.now
	_ = t.f.git.SetRef(ctx, r.Owner, r.Name, pullRef(i.Number), sha, true)
	if p := r.Protections[i.PR.Base]; p != nil && p.DismissStale {
		for _, rv := range i.PR.Reviews {
			if rv.State == "APPROVED" {
				rv.State = "DISMISSED"
			}
		}
	}
	t.pullEvent(ctx, r, i, "synchronize", pusher, func(ev *github.PullRequestEvent) {
		ev.Before, ev.After = github.Ptr(before), github.Ptr(sha)
	})
}

// Git references API.

func (f *Forge) refJSON(r *repo, ref, sha string) *github.Reference {
	return &github.Reference{Ref: github.Ptr(ref), NodeID: github.Ptr("REF_" + ref),
		URL: github.Ptr(f.repoAPI(r, "git", ref)),
		Object: &github.GitObject{Type: github.Ptr("commit"), SHA: github.Ptr(sha),
			URL: github.Ptr(f.repoAPI(r, "git", "commits", sha))}}
}

func (f *Forge) refsWithPrefix(ctx context.Context, r *repo, prefix string) ([]*github.Reference, error) {
	refs, err := f.git.ListRefs(ctx, r.Owner, r.Name, prefix)
	if err != nil {
		return nil, gitErr(err, "Not Found")
	}
	names := make([]string, 0, len(refs))
	for n := range refs {
		if n != "HEAD" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := []*github.Reference{}
	for _, n := range names {
		out = append(out, f.refJSON(r, n, refs[n]))
	}
	return out, nil
}

func (f *Forge) getRef(c *call) error {
	var out *github.Reference
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		full := "refs/" + strings.TrimPrefix(c.param("ref"), "refs/")
		if strings.HasPrefix(full, "refs/heads/") {
			// Branches come from the cache of branch heads: clients ask for
			// them at every event (the base branch of a pull request).
			sha, err := f.git.ResolveRef(c.r.Context(), r.Owner, r.Name, full)
			if err != nil {
				return gitErr(err, "Not Found")
			}
			out = f.refJSON(r, full, sha)
			return nil
		}
		refs, err := f.git.ListRefs(c.r.Context(), r.Owner, r.Name, full)
		if err != nil {
			return gitErr(err, "Not Found")
		}
		sha, ok := refs[full]
		if !ok {
			return errNotFound()
		}
		out = f.refJSON(r, full, sha)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) matchingRefs(c *call) error {
	var out []*github.Reference
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		prefix := "refs/"
		if p := c.param("ref"); p != "" {
			prefix += strings.TrimPrefix(p, "refs/")
		}
		out, err = f.refsWithPrefix(c.r.Context(), r, prefix)
		return err
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

// listRefs is the legacy GET /git/refs[/{ref}]: one object for an exact
// match, otherwise the list of refs under it.
func (f *Forge) listRefs(c *call) error {
	var out []*github.Reference
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		prefix := "refs/"
		if p := c.param("ref"); p != "" {
			prefix += strings.TrimPrefix(p, "refs/")
		}
		out, err = f.refsWithPrefix(c.r.Context(), r, prefix)
		return err
	})
	if err != nil {
		return err
	}
	if len(out) == 1 && *out[0].Ref == "refs/"+strings.TrimPrefix(c.param("ref"), "refs/") {
		return c.ok(out[0])
	}
	if len(out) == 0 && c.param("ref") != "" {
		return errNotFound()
	}
	return c.ok(paginate(c, out))
}

type refRequest struct {
	Ref   string `json:"ref"`
	SHA   string `json:"sha"`
	Force bool   `json:"force"`
}

func (f *Forge) createRef(c *call) error {
	var req refRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if !strings.HasPrefix(req.Ref, "refs/") || strings.Count(req.Ref, "/") < 2 {
		return errInvalidMsg("Reference name must start with 'refs/' and have at least two slashes.")
	}
	var out *github.Reference
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permWrite)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		if refs, _ := f.git.ListRefs(ctx, r.Owner, r.Name, req.Ref); refs[req.Ref] != "" {
			return errInvalidMsg("Reference already exists")
		}
		if err := f.git.SetRef(ctx, r.Owner, r.Name, req.Ref, req.SHA, false); err != nil {
			if errors.Is(err, gitstore.ErrNotFound) || errors.Is(err, gitstore.ErrInvalid) {
				return errInvalidMsg("Object does not exist")
			}
			return gitErr(err, "Not Found")
		}
		t.refsUpdated(ctx, r, []gitstore.RefUpdate{{Ref: req.Ref, New: req.SHA}}, c.who.login)
		out = f.refJSON(r, req.Ref, req.SHA)
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}

func (f *Forge) updateRef(c *call) error {
	var req refRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.SHA == "" {
		return errInvalid("Reference", "sha", "missing_field")
	}
	full := "refs/" + strings.TrimPrefix(c.param("ref"), "refs/")
	var out *github.Reference
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permWrite)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		refs, _ := f.git.ListRefs(ctx, r.Owner, r.Name, full)
		old, ok := refs[full]
		if !ok {
			return errInvalidMsg("Reference does not exist")
		}
		if branch, isBranch := strings.CutPrefix(full, "refs/heads/"); isBranch && req.Force {
			if p := r.Protections[branch]; p != nil && !p.AllowForcePushes {
				return errInvalidMsg("Cannot force-push to this branch")
			}
		}
		if err := f.git.SetRef(ctx, r.Owner, r.Name, full, req.SHA, req.Force); err != nil {
			if errors.Is(err, gitstore.ErrNotFound) || errors.Is(err, gitstore.ErrInvalid) {
				return errInvalidMsg("Object does not exist")
			}
			return gitErr(err, "Not Found")
		}
		if old != req.SHA {
			t.refsUpdated(ctx, r, []gitstore.RefUpdate{{Ref: full, Old: old, New: req.SHA}}, c.who.login)
		}
		out = f.refJSON(r, full, req.SHA)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) deleteRef(c *call) error {
	full := "refs/" + strings.TrimPrefix(c.param("ref"), "refs/")
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permWrite)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		refs, _ := f.git.ListRefs(ctx, r.Owner, r.Name, full)
		old, ok := refs[full]
		if !ok {
			return errInvalidMsg("Reference does not exist")
		}
		if branch, isBranch := strings.CutPrefix(full, "refs/heads/"); isBranch {
			if branch == r.DefaultBranch {
				return errInvalidMsg("Cannot delete the default branch")
			}
			if p := r.Protections[branch]; p != nil && !p.AllowDeletions {
				return errInvalidMsg("Cannot delete this protected branch")
			}
		}
		if err := f.git.DeleteRef(ctx, r.Owner, r.Name, full); err != nil {
			return gitErr(err, "Reference does not exist")
		}
		t.refsUpdated(ctx, r, []gitstore.RefUpdate{{Ref: full, Old: old}}, c.who.login)
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

func (f *Forge) getGitCommit(c *call) error {
	var out *github.Commit
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		cm, err := f.git.GetCommit(c.r.Context(), r.Owner, r.Name, c.param("sha"))
		if err != nil {
			return gitErr(err, "Not Found")
		}
		out = f.gitCommitJSON(r, cm)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// Branches.

func (f *Forge) listBranches(c *call) error {
	var out []*github.Branch
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		refs, err := f.git.ListRefs(c.r.Context(), r.Owner, r.Name, "refs/heads/")
		if err != nil {
			return gitErr(err, "Not Found")
		}
		var names []string
		for n := range refs {
			names = append(names, strings.TrimPrefix(n, "refs/heads/"))
		}
		sort.Strings(names)
		out = []*github.Branch{}
		for _, n := range names {
			_, protected := r.Protections[n]
			if c.query("protected") == "true" && !protected {
				continue
			}
			sha := refs["refs/heads/"+n]
			out = append(out, &github.Branch{Name: github.Ptr(n), Protected: github.Ptr(protected),
				Commit: &github.RepositoryCommit{SHA: github.Ptr(sha), URL: github.Ptr(f.repoAPI(r, "commits", sha))}})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) getBranch(c *call) error {
	var out *github.Branch
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		name := c.param("branch")
		sha, err := f.git.ResolveRef(ctx, r.Owner, r.Name, "refs/heads/"+name)
		if err != nil {
			return errStatus(http.StatusNotFound, "Branch not found")
		}
		cm, err := f.git.GetCommit(ctx, r.Owner, r.Name, sha)
		if err != nil {
			return gitErr(err, "Branch not found")
		}
		p, protected := r.Protections[name]
		out = &github.Branch{Name: github.Ptr(name), Protected: github.Ptr(protected),
			Commit: f.commitJSON(ctx, s, r, cm, false)}
		if protected {
			out.Protection = f.protectionJSON(s, r, name, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}
