package inrepo

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/schema/configset"
)

// Limits on what one revision's in-repo config may hold, so that a
// repository cannot make the hook read without bound.
const (
	maxFiles     = 200
	maxFileBytes = 1 << 20
)

// GitHub is the part of GitHub's API the loader reads repositories with; a
// *github.Client's services give it (FromClient).
type GitHub interface {
	GetContents(ctx context.Context, owner, repo, path string, opts *github.RepositoryContentGetOptions) (*github.RepositoryContent, []*github.RepositoryContent, *github.Response, error)
	GetTree(ctx context.Context, owner, repo, sha string, recursive bool) (*github.Tree, *github.Response, error)
	ReadBlob(ctx context.Context, owner, repo, sha string) ([]byte, *github.Response, error)
	MergeBase(ctx context.Context, owner, repo, base, head string) (string, error)
	CreateStatus(ctx context.Context, owner, repo, ref string, status github.RepoStatus) (*github.RepoStatus, *github.Response, error)
}

// FromClient is the GitHub view of a go-github client.
func FromClient(c *github.Client) GitHub { return client{c} }

type client struct{ c *github.Client }

func (c client) GetContents(ctx context.Context, owner, repo, path string, opts *github.RepositoryContentGetOptions) (*github.RepositoryContent, []*github.RepositoryContent, *github.Response, error) {
	return c.c.Repositories.GetContents(ctx, owner, repo, path, opts)
}

func (c client) GetTree(ctx context.Context, owner, repo, sha string, recursive bool) (*github.Tree, *github.Response, error) {
	return c.c.Git.GetTree(ctx, owner, repo, sha, recursive)
}

func (c client) ReadBlob(ctx context.Context, owner, repo, sha string) ([]byte, *github.Response, error) {
	b, resp, err := c.c.Git.GetBlob(ctx, owner, repo, sha)
	if err != nil {
		return nil, resp, err
	}
	if b.GetEncoding() != "base64" {
		return []byte(b.GetContent()), resp, nil
	}
	data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(b.GetContent(), "\n", ""))
	return data, resp, err
}

func (c client) MergeBase(ctx context.Context, owner, repo, base, head string) (string, error) {
	cmp, _, err := c.c.Repositories.CompareCommits(ctx, owner, repo, base, head, &github.ListOptions{PerPage: 1})
	if err != nil {
		return "", err
	}
	if sha := cmp.GetMergeBaseCommit().GetSHA(); sha != "" {
		return sha, nil
	}
	return "", fmt.Errorf("compare %s...%s: no merge base", base, head)
}

func (c client) CreateStatus(ctx context.Context, owner, repo, ref string, status github.RepoStatus) (*github.RepoStatus, *github.Response, error) {
	return c.c.Repositories.CreateStatus(ctx, owner, repo, ref, status)
}

// listing is the in-repo config files of one revision: path (relative to
// the repository's root) to blob SHA. Symbolic links and submodules are
// left out, as Prow leaves out links out of .prow.
type listing map[string]string

func notFound(resp *github.Response, err error) bool {
	var e *github.ErrorResponse
	return err != nil && (resp != nil && resp.StatusCode == http.StatusNotFound || errors.As(err, &e) && e.Response != nil && e.Response.StatusCode == http.StatusNotFound)
}

// list reads which in-repo config files a revision has: two requests at
// most, the root directory and the .prow tree.
func list(ctx context.Context, gh GitHub, org, repo, sha string) (listing, error) {
	_, root, resp, err := gh.GetContents(ctx, org, repo, "", &github.RepositoryContentGetOptions{Ref: sha})
	if notFound(resp, err) {
		return listing{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s/%s at %s: %w", org, repo, sha, err)
	}
	out := listing{}
	var tree string
	for _, e := range root {
		switch {
		case e.GetType() == "file" && (e.GetName() == FileName || e.GetName() == configset.ProwIgnoreFileName):
			out[e.GetName()] = e.GetSHA()
		case e.GetType() == "dir" && e.GetName() == DirName:
			tree = e.GetSHA()
		}
	}
	if tree == "" {
		return out, nil
	}
	t, _, err := gh.GetTree(ctx, org, repo, tree, true)
	if err != nil {
		return nil, fmt.Errorf("list %s/%s %s at %s: %w", org, repo, DirName, sha, err)
	}
	if t.GetTruncated() {
		return nil, &invalidError{fmt.Errorf("%s of %s/%s at %s has too many files", DirName, org, repo, sha)}
	}
	for _, e := range t.Entries {
		// Mode 120000 is a symbolic link, 160000 a submodule.
		if e.GetType() != "blob" || e.GetMode() == "120000" {
			continue
		}
		out[DirName+"/"+e.GetPath()] = e.GetSHA()
	}
	if len(out) > maxFiles {
		return nil, &invalidError{fmt.Errorf("%s/%s at %s has %d in-repo config files, more than %d", org, repo, sha, len(out), maxFiles)}
	}
	return out, nil
}

// merged is the in-repo config a pull request's head would have once merged
// into its base, file by file: a file the pull request did not change (the
// same blob as at the merge base) is the base's; one the base did not
// change since the merge base is the head's. A file both changed
// differently is a conflict, which Prow's merge might resolve line by line
// but bowline reports: rebasing the pull request settles it.
func merged(mergeBase, base, head listing) (map[string]string, error) {
	out := map[string]string{}
	var conflicts []string
	paths := map[string]bool{}
	for _, l := range []listing{mergeBase, base, head} {
		for p := range l {
			paths[p] = true
		}
	}
	for p := range paths {
		m, b, h := mergeBase[p], base[p], head[p]
		var sha string
		switch {
		case h == m:
			sha = b
		case b == m, b == h:
			sha = h
		default:
			conflicts = append(conflicts, p)
			continue
		}
		if sha != "" {
			out[p] = sha
		}
	}
	if len(conflicts) > 0 {
		slices.Sort(conflicts)
		return nil, fmt.Errorf("%s changed both on the base branch and in the pull request since it branched off: rebase the pull request", strings.Join(conflicts, ", "))
	}
	return out, nil
}
