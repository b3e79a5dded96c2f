package forge

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/gitstore"
)

// userByEmail maps a commit's author to an account, as GitHub links
// commits to users by email.
func (s *state) userByEmail(email string) string {
	for _, u := range s.Users {
		if u.Email != "" && strings.EqualFold(u.Email, email) {
			return u.Login
		}
	}
	if login, ok := strings.CutSuffix(email, "@users.noreply.sandbox"); ok && s.user(login) != nil {
		return s.user(login).Login
	}
	return ""
}

func (f *Forge) gitCommitJSON(r *repo, c *gitstore.Commit) *github.Commit {
	out := &github.Commit{
		SHA: github.Ptr(c.SHA), Message: github.Ptr(c.Message),
		Author: &github.CommitAuthor{Name: github.Ptr(c.Author.Name), Email: github.Ptr(c.Author.Email),
			Date: ts(c.Author.When)},
		Committer: &github.CommitAuthor{Name: github.Ptr(c.Committer.Name), Email: github.Ptr(c.Committer.Email),
			Date: ts(c.Committer.When)},
		Tree:         &github.Tree{SHA: github.Ptr(c.Tree)},
		URL:          github.Ptr(f.repoAPI(r, "git", "commits", c.SHA)),
		HTMLURL:      github.Ptr(f.repoHTML(r, "commit", c.SHA)),
		Verification: &github.SignatureVerification{Verified: github.Ptr(false), Reason: github.Ptr("unsigned")},
		CommentCount: github.Ptr(0),
	}
	for _, p := range c.Parents {
		out.Parents = append(out.Parents, &github.Commit{SHA: github.Ptr(p), URL: github.Ptr(f.repoAPI(r, "git", "commits", p))})
	}
	return out
}

func (f *Forge) commitJSON(ctx context.Context, s *state, r *repo, c *gitstore.Commit, withFiles bool) *github.RepositoryCommit {
	out := &github.RepositoryCommit{
		NodeID: github.Ptr("C_" + c.SHA), SHA: github.Ptr(c.SHA), Commit: f.gitCommitJSON(r, c),
		URL:         github.Ptr(f.repoAPI(r, "commits", c.SHA)),
		HTMLURL:     github.Ptr(f.repoHTML(r, "commit", c.SHA)),
		CommentsURL: github.Ptr(f.repoAPI(r, "commits", c.SHA, "comments")),
	}
	if login := s.userByEmail(c.Author.Email); login != "" {
		out.Author = f.userJSON(s, login)
	}
	if login := s.userByEmail(c.Committer.Email); login != "" {
		out.Committer = f.userJSON(s, login)
	}
	for _, p := range c.Parents {
		out.Parents = append(out.Parents, &github.Commit{SHA: github.Ptr(p), URL: github.Ptr(f.repoAPI(r, "commits", p)),
			HTMLURL: github.Ptr(f.repoHTML(r, "commit", p))})
	}
	if withFiles {
		parent := ""
		if len(c.Parents) > 0 {
			parent = c.Parents[0]
		}
		if changes, err := f.git.Diff(ctx, r.Owner, r.Name, parent, c.SHA); err == nil {
			out.Files = f.filesJSON(r, c.SHA, changes)
			add, del := 0, 0
			for _, fc := range changes {
				add += fc.Additions
				del += fc.Deletions
			}
			out.Stats = &github.CommitStats{Additions: github.Ptr(add), Deletions: github.Ptr(del), Total: github.Ptr(add + del)}
		}
	}
	return out
}

func (f *Forge) filesJSON(r *repo, ref string, changes []gitstore.FileChange) []*github.CommitFile {
	out := []*github.CommitFile{}
	for _, fc := range changes {
		cf := &github.CommitFile{SHA: github.Ptr(fc.SHA), Filename: github.Ptr(fc.Filename), Status: github.Ptr(fc.Status),
			Additions: github.Ptr(fc.Additions), Deletions: github.Ptr(fc.Deletions), Changes: github.Ptr(fc.Additions + fc.Deletions),
			BlobURL:     github.Ptr(f.repoHTML(r, "blob", ref, fc.Filename)),
			RawURL:      github.Ptr(f.repoHTML(r, "raw", ref, fc.Filename)),
			ContentsURL: github.Ptr(f.repoAPI(r, "contents", fc.Filename) + "?ref=" + ref)}
		if fc.Patch != "" {
			cf.Patch = github.Ptr(fc.Patch)
		}
		if fc.PreviousFilename != "" {
			cf.PreviousFilename = github.Ptr(fc.PreviousFilename)
		}
		out = append(out, cf)
	}
	return out
}

// gitErr maps the store's errors to GitHub's answers.
func gitErr(err error, notFound string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gitstore.ErrNotFound):
		return &apiError{Status: 404, Message: notFound}
	case errors.Is(err, gitstore.ErrConflict):
		return &apiError{Status: 409, Message: "Conflict"}
	case errors.Is(err, gitstore.ErrNotFastForward):
		return errInvalidMsg("Update is not a fast forward")
	}
	return err
}

// resolve turns a branch, tag or SHA into a commit SHA.
func (f *Forge) resolve(ctx context.Context, r *repo, ref string) (string, error) {
	sha, err := f.git.ResolveRef(ctx, r.Owner, r.Name, ref)
	if err != nil {
		return "", gitErr(err, "No commit found for SHA: "+ref)
	}
	return sha, nil
}

func (f *Forge) getCommit(c *call) error {
	var out *github.RepositoryCommit
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		sha, err := f.resolve(ctx, r, c.param("ref"))
		if err != nil {
			return errInvalidMsg("No commit found for SHA: " + c.param("ref"))
		}
		cm, err := f.git.GetCommit(ctx, r.Owner, r.Name, sha)
		if err != nil {
			return gitErr(err, "Not Found")
		}
		out = f.commitJSON(ctx, s, r, cm, true)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// listCommits is newest first from sha (default branch if empty), as
// GitHub lists them.
func (f *Forge) listCommits(c *call) error {
	var out []*github.RepositoryCommit
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		ref := c.query("sha")
		if ref == "" {
			ref = r.DefaultBranch
		}
		sha, err := f.resolve(ctx, r, ref)
		if err != nil {
			return err
		}
		commits, err := f.git.Log(ctx, r.Owner, r.Name, "", sha, 1000)
		if err != nil {
			return gitErr(err, "Not Found")
		}
		out = []*github.RepositoryCommit{}
		for n := len(commits) - 1; n >= 0; n-- {
			out = append(out, f.commitJSON(ctx, s, r, &commits[n], false))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

// compare is GET /repos/{o}/{r}/compare/{base}...{head}.
func (f *Forge) compare(c *call) error {
	spec := c.param("basehead")
	base, head, ok := strings.Cut(spec, "...")
	if !ok {
		if base, head, ok = strings.Cut(spec, ".."); !ok {
			return errNotFound()
		}
	}
	var out *github.CommitsComparison
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		baseSHA, err := f.resolve(ctx, r, base)
		if err != nil {
			return err
		}
		headSHA, err := f.resolve(ctx, r, head)
		if err != nil {
			return err
		}
		out, err = f.comparison(ctx, s, r, baseSHA, headSHA)
		return err
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) comparison(ctx context.Context, s *state, r *repo, baseSHA, headSHA string) (*github.CommitsComparison, error) {
	mb, err := f.git.MergeBase(ctx, r.Owner, r.Name, baseSHA, headSHA)
	if err != nil {
		return nil, gitErr(err, "No common ancestor between "+baseSHA+" and "+headSHA+".")
	}
	ahead, err := f.git.Log(ctx, r.Owner, r.Name, baseSHA, headSHA, 250)
	if err != nil {
		return nil, gitErr(err, "Not Found")
	}
	behind, err := f.git.Log(ctx, r.Owner, r.Name, headSHA, baseSHA, 10000)
	if err != nil {
		return nil, gitErr(err, "Not Found")
	}
	files, err := f.git.Diff(ctx, r.Owner, r.Name, baseSHA, headSHA)
	if err != nil {
		return nil, gitErr(err, "Not Found")
	}
	st := "identical"
	switch {
	case len(ahead) > 0 && len(behind) > 0:
		st = "diverged"
	case len(ahead) > 0:
		st = "ahead"
	case len(behind) > 0:
		st = "behind"
	}
	out := &github.CommitsComparison{
		Status: github.Ptr(st), AheadBy: github.Ptr(len(ahead)), BehindBy: github.Ptr(len(behind)),
		TotalCommits: github.Ptr(len(ahead)), Files: f.filesJSON(r, headSHA, files),
		HTMLURL: github.Ptr(f.repoHTML(r, "compare", baseSHA+"..."+headSHA)),
		URL:     github.Ptr(f.repoAPI(r, "compare", baseSHA+"..."+headSHA)),
	}
	for n := range ahead {
		out.Commits = append(out.Commits, f.commitJSON(ctx, s, r, &ahead[n], false))
	}
	if cm, err := f.git.GetCommit(ctx, r.Owner, r.Name, baseSHA); err == nil {
		out.BaseCommit = f.commitJSON(ctx, s, r, cm, false)
	}
	if cm, err := f.git.GetCommit(ctx, r.Owner, r.Name, mb); err == nil {
		out.MergeBaseCommit = f.commitJSON(ctx, s, r, cm, false)
	}
	return out, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
