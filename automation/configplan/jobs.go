package configplan

import (
	"cmp"
	"context"
	"path"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// jobKey identifies a job across revisions: its type, repository and name.
// Prow allows one name twice in a repository for different branches;
// those are paired by branches (pairJobs).
type jobKey struct{ typ, repo, name string }

// jobRef is one job of one revision.
type jobRef struct {
	key  jobKey
	pre  *jobs.Presubmit
	post *jobs.Postsubmit
	per  *jobs.Periodic
}

func (j jobRef) base() *jobs.JobBase {
	switch {
	case j.pre != nil:
		return &j.pre.JobBase
	case j.post != nil:
		return &j.post.JobBase
	}
	return &j.per.JobBase
}

func (j jobRef) brancher() jobs.Brancher {
	switch {
	case j.pre != nil:
		return j.pre.Brancher
	case j.post != nil:
		return j.post.Brancher
	}
	return jobs.Brancher{}
}

// value is the job for comparison: a copy without its position, so that
// a job whose lines moved compares equal.
func (j jobRef) value() any {
	switch {
	case j.pre != nil:
		v := *j.pre
		v.Pos = yamlpos.Pos{}
		return v
	case j.post != nil:
		v := *j.post
		v.Pos = yamlpos.Pos{}
		return v
	}
	v := *j.per
	v.Pos = yamlpos.Pos{}
	return v
}

// indexJobs lists a configuration's jobs by key.
func indexJobs(c *jobs.Config) map[jobKey][]jobRef {
	out := map[jobKey][]jobRef{}
	add := func(r jobRef) { out[r.key] = append(out[r.key], r) }
	for repo, list := range c.Presubmits {
		for i := range list {
			add(jobRef{key: jobKey{jobs.TypePresubmit, repo, list[i].Name}, pre: &list[i]})
		}
	}
	for repo, list := range c.Postsubmits {
		for i := range list {
			add(jobRef{key: jobKey{jobs.TypePostsubmit, repo, list[i].Name}, post: &list[i]})
		}
	}
	for i := range c.Periodics {
		p := &c.Periodics[i]
		add(jobRef{key: jobKey{jobs.TypePeriodic, "", p.Name}, per: p})
	}
	return out
}

// jobPair is a job in one revision or both.
type jobPair struct{ before, after *jobRef }

func (p jobPair) post() *jobs.Postsubmit {
	for _, r := range []*jobRef{p.after, p.before} {
		if r != nil && r.post != nil {
			return r.post
		}
	}
	return nil
}

// pairJobs pairs the variants of one key: those with the same branches
// first, the rest in order.
func pairJobs(before, after []jobRef) []jobPair {
	var out []jobPair
	usedB, usedA := make([]bool, len(before)), make([]bool, len(after))
	for i := range before {
		for j := range after {
			if !usedA[j] && sameContent(before[i].brancher(), after[j].brancher()) {
				usedB[i], usedA[j] = true, true
				out = append(out, jobPair{&before[i], &after[j]})
				break
			}
		}
	}
	j := 0
	for i := range before {
		if usedB[i] {
			continue
		}
		for j < len(after) && usedA[j] {
			j++
		}
		if j < len(after) {
			usedA[j] = true
			out = append(out, jobPair{&before[i], &after[j]})
			continue
		}
		out = append(out, jobPair{before: &before[i]})
	}
	for j := range after {
		if !usedA[j] {
			out = append(out, jobPair{after: &after[j]})
		}
	}
	return out
}

// jobs lists the jobs added, removed and changed, with what they mean for
// the open pull requests of their repositories.
func (c *computation) jobs(ctx context.Context) {
	before, after := indexJobs(c.base.Jobs), indexJobs(c.head.Jobs)
	keys := make([]jobKey, 0, len(before)+len(after))
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	var changes []JobChange
	var pairs []jobPair
	quick := c.onlyJobFilesChanged()
	for _, k := range keys {
		for _, pr := range pairJobs(before[k], after[k]) {
			if quick && pr.before != nil && pr.after != nil {
				// Comparing all of Kubernetes' jobs costs a tenth of a
				// second; a job whose file did not change, when nothing
				// every job depends on did either, is the same job.
				bf, af := pr.before.base().Pos.File, pr.after.base().Pos.File
				if bf == af && !c.in.Changed[af] {
					continue
				}
			}
			ch, ok := c.jobChange(pr)
			if ok {
				changes = append(changes, ch)
				pairs = append(pairs, pr)
			}
		}
	}
	order := make([]int, len(changes))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		x, y := changes[a], changes[b]
		return cmp.Or(cmp.Compare(typeOrder(x.Type), typeOrder(y.Type)), strings.Compare(x.Repo, y.Repo),
			strings.Compare(x.Name, y.Name), strings.Compare(x.Action, y.Action), strings.Compare(x.Branches, y.Branches))
	})
	for _, i := range order {
		ch := changes[i]
		if ctx.Err() == nil {
			ch.PullRequests = c.jobImpact(ctx, ch, pairs[i])
		}
		c.plan.Jobs = append(c.plan.Jobs, ch)
	}
}

// onlyJobFilesChanged reports whether nothing every job depends on is
// known to have changed: config.yaml (its defaults, and the jobs it may
// hold), the presets and decorate_all_jobs. Then a job can only have
// changed with its file.
func (c *computation) onlyJobFilesChanged() bool {
	if c.in.Changed == nil || c.in.ConfigPath == "" || c.in.Changed[strings.Trim(path.Clean("/"+c.in.ConfigPath), "/")] {
		return false
	}
	bj, hj := c.base.Jobs, c.head.Jobs
	return bj.DecorateAllJobs == hj.DecorateAllJobs && sameContent(bj.Presets, hj.Presets)
}

func typeOrder(t string) int {
	switch t {
	case jobs.TypePresubmit:
		return 0
	case jobs.TypePostsubmit:
		return 1
	}
	return 2
}

// jobChange describes one pair, or says it did not change.
func (c *computation) jobChange(p jobPair) (JobChange, bool) {
	ref := p.after
	if ref == nil {
		ref = p.before
	}
	ch := JobChange{Type: ref.key.typ, Name: ref.key.name, Repo: ref.key.repo, Branches: describeBranches(ref.brancher(), ref.key.typ)}
	if ref.per != nil {
		var repos []string
		for _, r := range ref.per.ExtraRefs {
			repos = append(repos, r.Org+"/"+r.Repo)
		}
		ch.Repo = strings.Join(repos, ", ")
	}
	pos := ref.base().Pos
	ch.File, ch.Line = pos.File, pos.Line
	switch {
	case p.before == nil:
		ch.Action, ch.URL = Added, link(c.in.Links.Head, pos.File, pos.Line)
	case p.after == nil:
		ch.Action, ch.URL = Removed, link(c.in.Links.Base, pos.File, pos.Line)
	default:
		b, a := p.before.value(), p.after.value()
		if sameContent(b, a) {
			return ch, false
		}
		ch.Fields = diffFields(b, a)
		if len(ch.Fields) == 0 {
			return ch, false
		}
		ch.Action, ch.URL = Changed, link(c.in.Links.Head, pos.File, pos.Line)
	}
	return ch, true
}

// describeBranches says which branches a job runs for.
func describeBranches(b jobs.Brancher, typ string) string {
	if typ == jobs.TypePeriodic {
		return ""
	}
	switch {
	case len(b.Branches) > 0 && len(b.SkipBranches) > 0:
		return "branches " + strings.Join(b.Branches, ", ") + " but not " + strings.Join(b.SkipBranches, ", ")
	case len(b.Branches) > 0:
		return "branches " + strings.Join(b.Branches, ", ")
	case len(b.SkipBranches) > 0:
		return "all branches but " + strings.Join(b.SkipBranches, ", ")
	}
	return "all branches"
}

// jobImpact counts the open pull requests of the job's repository that it
// runs on before and after the change: for a presubmit those the trigger
// starts it on by itself (trigger.RunsOnPullRequest), for a postsubmit
// those whose merge starts it (trigger.PostsubmitRuns). One listing of
// open pull requests per repository; changed files are read only for jobs
// with a change matcher, once per pull request.
func (c *computation) jobImpact(ctx context.Context, ch JobChange, p jobPair) *PRImpact {
	if ch.Type == jobs.TypePeriodic {
		return nil
	}
	org, repo, ok := strings.Cut(ch.Repo, "/")
	if !ok {
		return nil
	}
	open, ok := c.prs.open(ctx, org, repo)
	if !ok {
		return nil
	}
	im := &PRImpact{Open: len(open), OnMerge: p.post() != nil}
	runs := func(ref *jobRef, pr PullRequest, files func() ([]string, error)) (bool, error) {
		switch {
		case ref == nil:
			return false, nil
		case ref.pre != nil:
			return trigger.RunsOnPullRequest(ref.pre, pr.BaseRef, files)
		}
		ps := ref.post
		if ps.RunIfChanged == "" && ps.SkipIfOnlyChanged == "" {
			return trigger.PostsubmitRuns(ps, pr.BaseRef, nil), nil
		}
		if !ps.ShouldRun(pr.BaseRef) {
			return false, nil
		}
		changed, err := files()
		if err != nil {
			return false, err
		}
		return trigger.PostsubmitRuns(ps, pr.BaseRef, changed), nil
	}
	for _, pr := range open {
		files := func() ([]string, error) { return c.prs.files(ctx, org, repo, pr.Number) }
		before, errB := runs(p.before, pr, files)
		after, errA := runs(p.after, pr, files)
		if errB != nil || errA != nil {
			im.Uncounted++
			continue
		}
		if before {
			im.Before++
		}
		if after {
			im.After++
		}
		ref := PRRef{Repo: org + "/" + repo, Number: pr.Number, Title: pr.Title, URL: pr.URL}
		switch {
		case after && !before:
			im.Starts++
			if len(im.Start) < maxListed {
				im.Start = append(im.Start, ref)
			}
		case before && !after:
			im.Stops++
			if len(im.Stop) < maxListed {
				im.Stop = append(im.Stop, ref)
			}
		}
	}
	return im
}
