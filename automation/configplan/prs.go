package configplan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Bounds on what one plan reads of GitHub, so that a change touching many
// repositories costs a bounded number of requests: the open pull requests
// of at most maxRepos repositories, and the changed files of at most
// maxFileLists pull requests (only for jobs with a change matcher).
const (
	maxRepos     = 50
	maxFileLists = 200
)

// errNotRead says a pull request's files were not read: over the bound.
var errNotRead = errors.New("not read: over the bound of file listings for one plan")

// prCache reads each repository's open pull requests, each pull request's
// files and each repository's approvals once per plan, within the bounds,
// and remembers what failed for the plan's notes.
type prCache struct {
	src       PullRequests
	openPRs   map[string][]PullRequest
	fileLists map[string][]string
	fileErrs  map[string]error
	approvals map[string]map[int]bool
	repos     map[string][]string
	failures  []string
	skipped   []string
	unread    int
}

func newPRCache(src PullRequests) *prCache {
	return &prCache{src: src, openPRs: map[string][]PullRequest{}, fileLists: map[string][]string{},
		fileErrs: map[string]error{}, approvals: map[string]map[int]bool{}, repos: map[string][]string{}}
}

func (c *prCache) fail(what string, err error) {
	msg := fmt.Sprintf("could not read %s: %v", what, err)
	if !slices.Contains(c.failures, msg) {
		c.failures = append(c.failures, msg)
	}
}

// open lists the open pull requests of org/repo, by number; false when
// they are not known (no GitHub, over the bound, or a failure).
func (c *prCache) open(ctx context.Context, org, repo string) ([]PullRequest, bool) {
	if c.src == nil {
		return nil, false
	}
	key := org + "/" + repo
	if prs, ok := c.openPRs[key]; ok {
		return prs, prs != nil
	}
	if len(c.openPRs) >= maxRepos {
		if !slices.Contains(c.skipped, key) {
			c.skipped = append(c.skipped, key)
		}
		return nil, false
	}
	prs, err := c.src.Open(ctx, org, repo)
	if err != nil {
		c.fail("the open pull requests of "+key, err)
		c.openPRs[key] = nil
		return nil, false
	}
	if prs == nil {
		prs = []PullRequest{}
	}
	slices.SortFunc(prs, func(a, b PullRequest) int { return a.Number - b.Number })
	c.openPRs[key] = prs
	return prs, true
}

// files lists the files of one pull request.
func (c *prCache) files(ctx context.Context, org, repo string, number int) ([]string, error) {
	key := fmt.Sprintf("%s/%s#%d", org, repo, number)
	if f, ok := c.fileLists[key]; ok {
		return f, nil
	}
	if err, ok := c.fileErrs[key]; ok {
		return nil, err
	}
	if len(c.fileLists)+len(c.fileErrs) >= maxFileLists {
		c.unread++
		c.fileErrs[key] = errNotRead
		return nil, errNotRead
	}
	f, err := c.src.Files(ctx, org, repo, number)
	if err != nil {
		c.fail("the files of "+key, err)
		c.fileErrs[key] = err
		return nil, err
	}
	c.fileLists[key] = f
	return f, nil
}

// approved says which pull requests of org/repo are approved by review.
func (c *prCache) approved(ctx context.Context, org, repo string) (map[int]bool, bool) {
	key := org + "/" + repo
	if a, ok := c.approvals[key]; ok {
		return a, a != nil
	}
	a, err := c.src.Approved(ctx, org, repo)
	if err != nil {
		c.fail("the approvals of "+key, err)
		c.approvals[key] = nil
		return nil, false
	}
	if a == nil {
		a = map[int]bool{}
	}
	c.approvals[key] = a
	return a, true
}

// orgRepos lists the repositories of an org.
func (c *prCache) orgRepos(ctx context.Context, org string) ([]string, bool) {
	if r, ok := c.repos[org]; ok {
		return r, r != nil
	}
	r, err := c.src.Repos(ctx, org)
	if err != nil {
		c.fail("the repositories of "+org, err)
		c.repos[org] = nil
		return nil, false
	}
	if r == nil {
		r = []string{}
	}
	slices.Sort(r)
	c.repos[org] = r
	return r, true
}

// notes say what was not read.
func (c *prCache) notes() []string {
	out := slices.Clone(c.failures)
	if len(c.skipped) > 0 {
		out = append(out, fmt.Sprintf("the open pull requests of %d more repositories were not counted (at most %d a plan): %s",
			len(c.skipped), maxRepos, strings.Join(c.skipped, ", ")))
	}
	if c.unread > 0 {
		out = append(out, fmt.Sprintf("%d pull requests were not counted for jobs with run_if_changed or skip_if_only_changed: their files were not read (at most %d a plan)",
			c.unread, maxFileLists))
	}
	return out
}
