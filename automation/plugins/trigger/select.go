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
// request: always_run, or a change matcher that the changed files satisfy.
// Jobs that only the merge pool runs (run_before_merge) and manual jobs do
// not.
func (h *handler) runsAutomatically(ctx context.Context, ps *jobs.Presubmit, number int) (bool, error) {
	if ps.RunBeforeMerge {
		return false, nil
	}
	if ps.AlwaysRun {
		return true, nil
	}
	if ps.RunIfChanged == "" && ps.SkipIfOnlyChanged == "" {
		return false, nil
	}
	files, err := h.changedFiles(ctx, number)
	if err != nil {
		return false, err
	}
	run, _ := ps.RunsAgainstChanges(files)
	return run, nil
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
	list, err := h.automatic(ctx, pr)
	if err != nil {
		return err
	}
	return h.start(ctx, pr, list, triggeredBy, retest)
}

// start creates one run of each presubmit for a pull request's head. The
// jobs controller aborts the older runs of the same jobs, as Prow's plank
// does.
func (h *handler) start(ctx context.Context, pr *github.PullRequest, list []*jobs.Presubmit, triggeredBy string, retest bool) error {
	seen := map[string]bool{}
	for _, ps := range list {
		if seen[ps.Name] {
			continue
		}
		seen[ps.Name] = true
		if err := h.create(ctx, h.presubmitRun(ps, pr, triggeredBy, retest)); err != nil {
			return err
		}
	}
	return nil
}
