package trigger

import (
	"context"
	"fmt"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/schema/jobs"
)

// maxListedFiles is where GitHub stops listing a pull request's files.
const maxListedFiles = 3000

// changedFiles lists the files a pull request changes, once per event.
func (h *handler) changedFiles(ctx context.Context, number int) ([]string, error) {
	if h.files != nil {
		return h.files, nil
	}
	files := []string{}
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := h.gh.PullRequests.ListFiles(ctx, h.org, h.repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list files of #%d: %w", number, err)
		}
		for _, f := range page {
			files = append(files, f.GetFilename())
			// A rename changes both paths.
			if prev := f.GetPreviousFilename(); prev != "" {
				files = append(files, prev)
			}
		}
		if resp == nil || resp.NextPage == 0 || len(files) >= maxListedFiles {
			break
		}
		opts.Page = resp.NextPage
	}
	h.files = files
	return files, nil
}

// presubmitsFor lists the presubmits that apply to a base branch.
func (h *handler) presubmitsFor(branch string) []*jobs.Presubmit {
	var out []*jobs.Presubmit
	for i := range h.cfg.Presubmits {
		if ps := &h.cfg.Presubmits[i]; ps.Brancher.ShouldRun(branch) {
			out = append(out, ps)
		}
	}
	return out
}

// runsAutomatically reports whether a presubmit starts by itself on a pull
// request (RunsByItself).
func (h *handler) runsAutomatically(ctx context.Context, ps *jobs.Presubmit, number int) (bool, error) {
	return RunsByItself(ps, func() ([]string, error) { return h.changedFiles(ctx, number) })
}

// automatic lists the presubmits that start by themselves on a pull
// request.
func (h *handler) automatic(ctx context.Context, pr *github.PullRequest) ([]*jobs.Presubmit, error) {
	var out []*jobs.Presubmit
	for _, ps := range h.presubmitsFor(pr.GetBase().GetRef()) {
		run, err := h.runsAutomatically(ctx, ps, pr.GetNumber())
		if err != nil {
			return nil, err
		}
		if run {
			out = append(out, ps)
		}
	}
	return out, nil
}

// runAutomatic starts the presubmits that apply to a pull request by
// themselves.
func (h *handler) runAutomatic(ctx context.Context, pr *github.PullRequest, triggeredBy string, retest bool) error {
	if err := h.addInRepo(ctx, pr); err != nil {
		return err
	}
	list, err := h.automatic(ctx, pr)
	if err != nil {
		return err
	}
	return h.start(ctx, pr, list, triggeredBy, retest)
}

// start creates one run of each presubmit for a pull request's head,
// tested against the current tip of its base branch, read now: the
// event's base SHA is where the pull request branched off, possibly long
// ago, and Prow too tests against the tip. So a /retest after a fix landed
// on the base branch tests with the fix. The jobs controller aborts the
// older runs of the same jobs, as Prow's plank does.
func (h *handler) start(ctx context.Context, pr *github.PullRequest, list []*jobs.Presubmit, triggeredBy string, retest bool) error {
	if len(list) == 0 {
		return nil
	}
	base, err := h.baseSHA(ctx, pr.GetBase().GetRef())
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, ps := range list {
		if seen[ps.Name] {
			continue
		}
		seen[ps.Name] = true
		if err := h.create(ctx, h.presubmitRun(ps, pr, base, triggeredBy, retest)); err != nil {
			return err
		}
	}
	return nil
}

// baseSHA reads the commit a branch points to, once per event.
func (h *handler) baseSHA(ctx context.Context, branch string) (string, error) {
	if h.base != "" {
		return h.base, nil
	}
	ref, _, err := h.gh.Git.GetRef(ctx, h.org, h.repo, "heads/"+branch)
	if err != nil {
		return "", fmt.Errorf("read the tip of %s/%s branch %s: %w", h.org, h.repo, branch, err)
	}
	if ref.GetObject().GetSHA() == "" {
		return "", fmt.Errorf("read the tip of %s/%s branch %s: no commit", h.org, h.repo, branch)
	}
	h.base = ref.GetObject().GetSHA()
	return h.base, nil
}
