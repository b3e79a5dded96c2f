package trigger

import (
	"context"
	"slices"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/jobspec"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

const zeroSHA = "0000000000000000000000000000000000000000"

// push starts the postsubmits that apply to a pushed branch or tag and the
// files the pushed commits change.
func (h *handler) push(ctx context.Context, ev *github.PushEvent) error {
	if ev.GetDeleted() || ev.GetAfter() == "" || ev.GetAfter() == zeroSHA {
		return nil
	}
	ref := ev.GetRef()
	branch := strings.TrimPrefix(strings.TrimPrefix(ref, "refs/heads/"), "refs/tags/")
	files := pushedFiles(ev)
	h.addInRepoPostsubmits(ctx, ev.GetAfter())
	for i := range h.cfg.Postsubmits {
		ps := &h.cfg.Postsubmits[i]
		if !postsubmitRuns(ps, branch, files) {
			continue
		}
		if err := h.create(ctx, h.postsubmitRun(ps, ev, branch)); err != nil {
			return err
		}
	}
	return nil
}

// postsubmitRuns applies Prow's rules: the branch must match; always_run:
// true runs; a change matcher decides next; without one the job runs unless
// always_run is false.
func postsubmitRuns(ps *jobs.Postsubmit, branch string, files []string) bool {
	if !ps.Brancher.ShouldRun(branch) {
		return false
	}
	if ps.AlwaysRun != nil && *ps.AlwaysRun {
		return true
	}
	if run, determined := ps.RunsAgainstChanges(files); determined {
		return run
	}
	return ps.AlwaysRun == nil
}

// pushedFiles lists the files the pushed commits add, remove or modify.
func pushedFiles(ev *github.PushEvent) []string {
	var files []string
	for _, c := range ev.Commits {
		files = append(files, c.Added...)
		files = append(files, c.Removed...)
		files = append(files, c.Modified...)
	}
	slices.Sort(files)
	return slices.Compact(files)
}

func (h *handler) postsubmitRun(ps *jobs.Postsubmit, ev *github.PushEvent, branch string) *v1alpha1.ProwJob {
	repoLink := ev.GetRepo().GetHTMLURL()
	refs := v1alpha1.Refs{Org: h.org, Repo: h.repo, RepoLink: repoLink, BaseRef: branch, BaseSHA: ev.GetAfter()}
	if repoLink != "" {
		refs.BaseLink = repoLink + "/commit/" + ev.GetAfter()
	}
	spec := jobspec.Postsubmit(ps, refs)
	by := ev.GetSender().GetLogin()
	if by == "" {
		by = ev.GetPusher().GetLogin()
	}
	return newProwJob(spec, &ps.JobBase, Meta{
		Namespace: h.cfg.Namespace, TriggeredBy: by, DeliveryID: h.ev.DeliveryID,
		Name: runName(h.ev.DeliveryID, "postsubmit", ps.Name, ev.GetAfter()),
	})
}
