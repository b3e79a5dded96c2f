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

// pullRef is the ref GitHub keeps at every pull request's head.
func pullRef(n int) string { return fmt.Sprintf("refs/pull/%d/head", n) }

// pullFor finds pull request {number}; issues are 404 here, as on GitHub.
func (c *call) pullFor(s *state, want string) (*repo, *issue, error) {
	r, i, err := c.issueFor(s, want)
	if err != nil {
		return nil, nil, err
	}
	if i.PR == nil {
		return nil, nil, errNotFound()
	}
	return r, i, nil
}

type pullRequest struct {
	Title               *string `json:"title"`
	Head                *string `json:"head"`
	Base                *string `json:"base"`
	Body                *string `json:"body"`
	State               *string `json:"state"`
	Draft               *bool   `json:"draft"`
	MaintainerCanModify *bool   `json:"maintainer_can_modify"`
	Issue               *int    `json:"issue"`
}

// headBranch splits "branch" or "owner:branch" into the owner of the
// head's repository (the base repository's owner when none is named) and
// the branch.
func headBranch(r *repo, head string) (owner, branch string) {
	if owner, branch, ok := strings.Cut(head, ":"); ok {
		return owner, branch
	}
	return r.Owner, head
}

func (f *Forge) createPull(c *call) error {
	if err := c.needLogin(); err != nil {
		return err
	}
	var req pullRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Head == nil || *req.Head == "" {
		return errInvalid("PullRequest", "head", "missing_field")
	}
	if req.Base == nil || *req.Base == "" {
		return errInvalid("PullRequest", "base", "missing_field")
	}
	if req.Issue == nil && (req.Title == nil || strings.TrimSpace(*req.Title) == "") {
		return errInvalid("PullRequest", "title", "missing_field")
	}
	var out *github.PullRequest
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permRead)
		if err != nil {
			return err
		}
		headOwner, head := headBranch(r, *req.Head)
		// A head in another account is a branch of that account's fork.
		headRepo := t.forkOf(r, headOwner)
		if headRepo == nil {
			return errInvalid("PullRequest", "head", "invalid")
		}
		opts := openOptions{Head: head, HeadRepo: headRepo, Base: *req.Base, Body: deref(req.Body), Draft: deref(req.Draft),
			MaintainerCanModify: deref(req.MaintainerCanModify)}
		if req.Title != nil {
			opts.Title = *req.Title
		}
		if req.Issue != nil {
			i := r.issue(*req.Issue)
			if i == nil || i.PR != nil {
				return errInvalid("PullRequest", "issue", "invalid")
			}
			opts.fromIssue = i
		}
		i, err := t.openPull(c.r.Context(), r, c.who.login, opts)
		if err != nil {
			return err
		}
		out = f.pullJSON(c.r.Context(), t.state, r, i, true)
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

type openOptions struct {
	Title, Head, Base, Body string
	// HeadRepo holds the head branch: the base repository, or a fork of
	// its network (nil means the base repository).
	HeadRepo                   *repo
	Draft, MaintainerCanModify bool
	fromIssue                  *issue
}

// openPull validates and records a new pull request and sends "opened".
func (t *tx) openPull(ctx context.Context, r *repo, who string, o openOptions) (*issue, error) {
	hr := o.HeadRepo
	if hr == nil {
		hr = r
	}
	headSHA, err := t.f.git.ResolveRef(ctx, hr.Owner, hr.Name, "refs/heads/"+o.Head)
	if err != nil {
		return nil, errInvalid("PullRequest", "head", "invalid")
	}
	if err := t.fetchHead(ctx, r, hr, o.Head); err != nil {
		return nil, err
	}
	headRepo := ""
	if hr != r {
		headRepo = hr.fullName()
	}
	baseSHA, err := t.f.git.ResolveRef(ctx, r.Owner, r.Name, "refs/heads/"+o.Base)
	if err != nil {
		return nil, errInvalid("PullRequest", "base", "invalid")
	}
	for _, other := range r.Issues {
		if other.PR != nil && other.State == "open" && other.PR.Head == o.Head && key(other.PR.HeadRepo) == key(headRepo) && other.PR.Base == o.Base {
			return nil, &apiError{Status: http.StatusUnprocessableEntity, Message: "Validation Failed",
				Errors: []fieldError{{Resource: "PullRequest", Code: "custom",
					Message: fmt.Sprintf("A pull request already exists for %s:%s.", hr.Owner, o.Head)}}}
		}
	}
	ahead, err := t.f.git.Log(ctx, r.Owner, r.Name, baseSHA, headSHA, 1)
	if err != nil || len(ahead) == 0 {
		return nil, &apiError{Status: http.StatusUnprocessableEntity, Message: "Validation Failed",
			Errors: []fieldError{{Resource: "PullRequest", Code: "custom",
				Message: fmt.Sprintf("No commits between %s and %s", o.Base, o.Head)}}}
	}
	i := o.fromIssue
	if i == nil {
		i = t.newIssue(r, o.Title, who)
		i.Body = o.Body
	}
	i.Updated = t.now
	i.PR = &pull{Head: o.Head, HeadRepo: headRepo, HeadSHA: headSHA, Base: o.Base, Draft: o.Draft, MaintainerCanModify: o.MaintainerCanModify}
	if err := t.f.git.SetRef(ctx, r.Owner, r.Name, pullRef(i.Number), headSHA, true); err != nil {
		return nil, err
	}
	t.pullEvent(ctx, r, i, "opened", who, nil)
	return i, nil
}

func (f *Forge) getPull(c *call) error {
	var out *github.PullRequest
	err := f.read(func(s *state) error {
		r, i, err := c.pullFor(s, permRead)
		if err != nil {
			return err
		}
		out = f.pullJSON(c.r.Context(), s, r, i, true)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) listPulls(c *call) error {
	var out []*github.PullRequest
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		q := c.r.URL.Query()
		st := q.Get("state")
		if st == "" {
			st = "open"
		}
		var list []*issue
		for _, i := range r.Issues {
			if i.PR == nil || (st != "all" && i.State != st) {
				continue
			}
			if v := q.Get("base"); v != "" && v != i.PR.Base {
				continue
			}
			if v := q.Get("head"); v != "" {
				if owner, b := headBranch(r, v); key(owner) != key(i.PR.headOwner(r)) || b != i.PR.Head {
					continue
				}
			}
			list = append(list, i)
		}
		by := q.Get("sort")
		if by == "popularity" {
			by = "comments"
		}
		dir := q.Get("direction")
		if by == "long-running" {
			by, dir = "created", "asc"
		}
		sortIssues(r, list, by, dir)
		out = []*github.PullRequest{}
		for _, i := range list {
			out = append(out, f.pullJSON(c.r.Context(), s, r, i, false))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) editPull(c *call) error {
	if err := c.needLogin(); err != nil {
		return err
	}
	var req pullRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.PullRequest
	err := f.write(func(t *tx) error {
		r, i, err := c.pullFor(t.state, permRead)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		writer := atLeast(t.perm(c.who, r), permWrite)
		if !writer && key(i.User) != key(c.who.login) {
			return errForbidden("Must have write access to edit this pull request")
		}
		if req.Base != nil && *req.Base != i.PR.Base {
			if _, err := f.git.ResolveRef(ctx, r.Owner, r.Name, "refs/heads/"+*req.Base); err != nil {
				return errInvalid("PullRequest", "base", "invalid")
			}
			from := i.PR.Base
			i.PR.Base = *req.Base
			t.pullEvent(ctx, r, i, "edited", c.who.login, func(ev *github.PullRequestEvent) {
				ev.Changes = &github.EditChange{Base: &github.EditBase{Ref: &github.EditRef{From: github.Ptr(from)}}}
			})
		}
		if req.MaintainerCanModify != nil {
			i.PR.MaintainerCanModify = *req.MaintainerCanModify
		}
		if req.Draft != nil {
			t.setDraft(ctx, r, i, *req.Draft, c.who.login)
		}
		ir := issueRequest{Title: req.Title, Body: req.Body, State: req.State}
		if err := t.editIssue(ctx, c, r, i, ir); err != nil {
			return err
		}
		out = f.pullJSON(ctx, t.state, r, i, true)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// setDraft is GitHub's "mark ready for review" and "convert to draft",
// which GitHub offers through GraphQL; the sandbox also takes "draft" in
// PATCH /pulls/{number}.
func (t *tx) setDraft(ctx context.Context, r *repo, i *issue, draft bool, who string) {
	if i.PR.Draft == draft {
		return
	}
	i.PR.Draft, i.Updated = draft, t.now
	action := "ready_for_review"
	if draft {
		action = "converted_to_draft"
	}
	t.pullEvent(ctx, r, i, action, who, nil)
}

func (f *Forge) listPullFiles(c *call) error {
	var out []*github.CommitFile
	err := f.read(func(s *state) error {
		r, i, err := c.pullFor(s, permRead)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		base, err := f.pullBase(ctx, r, i)
		if err != nil {
			return err
		}
		changes, err := f.git.Diff(ctx, r.Owner, r.Name, base, i.PR.HeadSHA)
		if err != nil {
			return gitErr(err, "Not Found")
		}
		out = f.filesJSON(r, i.PR.HeadSHA, changes)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

// pullBase is what a pull request is compared with: the base branch, or
// for a merged one the merge commit's first parent.
func (f *Forge) pullBase(ctx context.Context, r *repo, i *issue) (string, error) {
	if i.PR.Merged && i.PR.MergeCommitSHA != "" {
		if cm, err := f.git.GetCommit(ctx, r.Owner, r.Name, i.PR.MergeCommitSHA); err == nil && len(cm.Parents) > 0 {
			return cm.Parents[0], nil
		}
	}
	sha, err := f.git.ResolveRef(ctx, r.Owner, r.Name, "refs/heads/"+i.PR.Base)
	if err != nil {
		return "", gitErr(err, "Base branch not found")
	}
	return sha, nil
}

func (f *Forge) listPullCommits(c *call) error {
	var out []*github.RepositoryCommit
	err := f.read(func(s *state) error {
		r, i, err := c.pullFor(s, permRead)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		base, err := f.pullBase(ctx, r, i)
		if err != nil {
			return err
		}
		commits, err := f.git.Log(ctx, r.Owner, r.Name, base, i.PR.HeadSHA, 250)
		if err != nil {
			return gitErr(err, "Not Found")
		}
		out = []*github.RepositoryCommit{}
		for n := range commits {
			out = append(out, f.commitJSON(ctx, s, r, &commits[n], false))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) isMerged(c *call) error {
	err := f.read(func(s *state) error {
		_, i, err := c.pullFor(s, permRead)
		if err != nil {
			return err
		}
		if !i.PR.Merged {
			return errNotFound()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

type mergeRequest struct {
	CommitTitle   string `json:"commit_title"`
	CommitMessage string `json:"commit_message"`
	SHA           string `json:"sha"`
	MergeMethod   string `json:"merge_method"`
}

func errNotMergeable(msg string) error { return errStatus(http.StatusMethodNotAllowed, msg) }

func (f *Forge) mergePull(c *call) error {
	var req mergeRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.PullRequestMergeResult
	err := f.write(func(t *tx) error {
		r, i, err := c.pullFor(t.state, permWrite)
		if err != nil {
			return err
		}
		sha, err := t.merge(c.r.Context(), r, i, c.who, req)
		if err != nil {
			return err
		}
		out = &github.PullRequestMergeResult{SHA: github.Ptr(sha), Merged: github.Ptr(true),
			Message: github.Ptr("Pull Request successfully merged")}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// merge checks everything GitHub checks before merging, in GitHub's order,
// then merges, closes the pull request and sends push and closed events.
func (t *tx) merge(ctx context.Context, r *repo, i *issue, who principal, req mergeRequest) (string, error) {
	method := req.MergeMethod
	if method == "" {
		method = "merge"
	}
	allowed := map[string]bool{"merge": r.AllowMerge, "squash": r.AllowSquash, "rebase": r.AllowRebase}
	ok, known := allowed[method]
	if !known {
		return "", errInvalid("PullRequest", "merge_method", "invalid")
	}
	if !ok {
		return "", errNotMergeable(map[string]string{"merge": "Merge commits", "squash": "Squash merges",
			"rebase": "Rebase merges"}[method] + " are not allowed on this repository.")
	}
	if i.PR.Merged || i.State != "open" {
		return "", errNotMergeable("Pull Request is not mergeable")
	}
	if i.PR.Draft {
		return "", errNotMergeable("Pull Request is still a draft")
	}
	if req.SHA != "" && req.SHA != i.PR.HeadSHA {
		return "", errStatus(http.StatusConflict, "Head branch was modified. Review and try the merge again.")
	}
	admin := atLeast(t.perm(who, r), permAdmin)
	if msg := t.protectionBlocks(ctx, r, i, admin); msg != "" {
		return "", errNotMergeable(msg)
	}
	before, err := t.f.git.ResolveRef(ctx, r.Owner, r.Name, "refs/heads/"+i.PR.Base)
	if err != nil {
		return "", gitErr(err, "Base branch not found")
	}
	title, message := req.CommitTitle, req.CommitMessage
	if title == "" {
		if method == "squash" {
			title = fmt.Sprintf("%s (#%d)", i.Title, i.Number)
		} else {
			title = fmt.Sprintf("Merge pull request #%d from %s/%s", i.Number, i.PR.headOwner(r), i.PR.Head)
			if message == "" {
				message = i.Title
			}
		}
	}
	sha, err := t.f.git.Merge(ctx, r.Owner, r.Name, i.PR.Base, i.PR.HeadSHA, method, title, message, t.signature(who.login))
	if errors.Is(err, gitstore.ErrConflict) {
		return "", errNotMergeable("Pull Request is not mergeable")
	}
	if errors.Is(err, gitstore.ErrNotFastForward) {
		return "", errNotMergeable("Base branch was modified. Review and try the merge again.")
	}
	if err != nil {
		return "", err
	}
	t.markMerged(r, i, who.login, sha)
	t.refsUpdated(ctx, r, []gitstore.RefUpdate{{Ref: "refs/heads/" + i.PR.Base, Old: before, New: sha}}, who.login)
	t.pullEvent(ctx, r, i, "closed", who.login, nil)
	return sha, nil
}

func (t *tx) markMerged(r *repo, i *issue, who, sha string) {
	now := t.now
	i.PR.Merged, i.PR.MergedAt, i.PR.MergedBy, i.PR.MergeCommitSHA = true, &now, t.accountLogin(who), sha
	i.State, i.Closed, i.ClosedBy, i.Updated = "closed", &now, t.accountLogin(who), now
	r.Updated = now
}

// mergeability is GitHub's mergeable and mergeable_state for an open pull
// request.
func (f *Forge) mergeability(ctx context.Context, s *state, r *repo, i *issue) (bool, string) {
	ok, err := f.git.Mergeable(ctx, r.Owner, r.Name, i.PR.Base, i.PR.HeadSHA)
	if err != nil || !ok {
		return false, "dirty"
	}
	if i.PR.Draft {
		return true, "draft"
	}
	t := &tx{state: s, f: f}
	if msg := t.protectionBlocks(ctx, r, i, false); msg != "" {
		if p := r.Protections[i.PR.Base]; p != nil && p.Strict && !f.upToDate(ctx, r, i) {
			return true, "behind"
		}
		return true, "blocked"
	}
	combined := combinedState(latestStatuses(r.Statuses[i.PR.HeadSHA]))
	if combined == "failure" || combined == "error" || (combined == "pending" && len(r.Statuses[i.PR.HeadSHA]) > 0) {
		return true, "unstable"
	}
	return true, "clean"
}

// upToDate reports whether the head contains the base branch.
func (f *Forge) upToDate(ctx context.Context, r *repo, i *issue) bool {
	base, err := f.git.ResolveRef(ctx, r.Owner, r.Name, "refs/heads/"+i.PR.Base)
	if err != nil {
		return false
	}
	mb, err := f.git.MergeBase(ctx, r.Owner, r.Name, base, i.PR.HeadSHA)
	return err == nil && mb == base
}

// openPullsByHead lists open pull requests whose head is branch.
func (r *repo) openPullsWith(match func(p *pull) bool) []*issue {
	var out []*issue
	for _, i := range r.Issues {
		if i.PR != nil && i.State == "open" && match(i.PR) {
			out = append(out, i)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Number < out[b].Number })
	return out
}
