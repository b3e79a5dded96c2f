package pluginbase

import (
	"context"
	"fmt"

	"github.com/google/go-github/v89/github"

	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// MaxListedFiles is where GitHub stops listing a pull request's files.
const MaxListedFiles = 3000

// PullRequest reads a pull request.
func (e *Env) PullRequest(ctx context.Context, number int) (*github.PullRequest, error) {
	pr, _, err := e.GitHub.PullRequests.Get(ctx, e.Org, e.Repo, number)
	if err != nil {
		return nil, fmt.Errorf("get pull request %s#%d: %w", e.FullName(), number, err)
	}
	return pr, nil
}

// PullFiles lists the files a pull request changes, with their added and
// deleted lines, as far as GitHub lists them.
func (e *Env) PullFiles(ctx context.Context, number int) ([]*github.CommitFile, error) {
	var out []*github.CommitFile
	opts := &github.ListOptions{PerPage: perPage}
	for {
		page, resp, err := e.GitHub.PullRequests.ListFiles(ctx, e.Org, e.Repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list files of %s#%d: %w", e.FullName(), number, err)
		}
		out = append(out, page...)
		if resp == nil || resp.NextPage == 0 || len(out) >= MaxListedFiles {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// PullCommits lists a pull request's commits, oldest first, as far as
// GitHub lists them (250).
func (e *Env) PullCommits(ctx context.Context, number int) ([]*github.RepositoryCommit, error) {
	var out []*github.RepositoryCommit
	opts := &github.ListOptions{PerPage: perPage}
	for {
		page, resp, err := e.GitHub.PullRequests.ListCommits(ctx, e.Org, e.Repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list commits of %s#%d: %w", e.FullName(), number, err)
		}
		out = append(out, page...)
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// File reads a file of the repository at ref (a branch, tag or SHA);
// found is false when there is no such file.
func (e *Env) File(ctx context.Context, path, ref string) (data []byte, found bool, err error) {
	fc, _, _, err := e.GitHub.Repositories.GetContents(ctx, e.Org, e.Repo, path, &github.RepositoryContentGetOptions{Ref: ref})
	if ghclient.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s of %s at %s: %w", path, e.FullName(), ref, err)
	}
	if fc == nil {
		// A directory.
		return nil, false, nil
	}
	s, err := fc.GetContent()
	if err != nil {
		return nil, false, fmt.Errorf("decode %s of %s at %s: %w", path, e.FullName(), ref, err)
	}
	return []byte(s), true, nil
}
