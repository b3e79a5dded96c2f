package configplan

import (
	"context"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/reconcilers/merge"
	"github.com/bowline-ci/bowline/schema/prowconfig"
)

// tide lists the merge pool's queries added, removed and changed, and the
// open pull requests that the queries match after the change but not
// before, and the reverse, by the merge controller's own matching
// (merge.SearchMatches): every requirement of a query but the status
// contexts, which the change does not touch.
func (c *computation) tide(ctx context.Context) {
	bq, hq := c.base.Config.Tide.Queries, c.head.Config.Tide.Queries
	usedB := make([]bool, len(bq))
	var restH []int
	for j := range hq {
		found := false
		for i := range bq {
			if !usedB[i] && sameContent(bq[i], hq[j]) {
				usedB[i], found = true, true
				break
			}
		}
		if !found {
			restH = append(restH, j)
		}
	}
	var restB []int
	for i := range bq {
		if !usedB[i] {
			restB = append(restB, i)
		}
	}
	t := &c.plan.Tide
	for k := 0; k < max(len(restB), len(restH)); k++ {
		switch {
		case k < len(restB) && k < len(restH):
			i, j := restB[k], restH[k]
			t.Queries = append(t.Queries, QueryChange{Action: Changed, Index: j, Scope: queryScope(&hq[j]), Fields: diffFields(bq[i], hq[j])})
		case k < len(restH):
			j := restH[k]
			t.Queries = append(t.Queries, QueryChange{Action: Added, Index: j, Scope: queryScope(&hq[j]), Fields: diffValues("", map[string]any{}, jsonValue(hq[j]))})
		default:
			i := restB[k]
			t.Queries = append(t.Queries, QueryChange{Action: Removed, Index: i, Scope: queryScope(&bq[i]), Fields: diffValues("", jsonValue(bq[i]), map[string]any{})})
		}
	}
	if len(t.Queries) == 0 || c.prs.src == nil {
		return
	}
	var changed []*prowconfig.TideQuery
	for _, i := range restB {
		changed = append(changed, &bq[i])
	}
	for _, j := range restH {
		changed = append(changed, &hq[j])
	}
	repos := c.tideRepos(ctx, changed)
	t.Counted = true
	for _, full := range repos {
		if ctx.Err() != nil {
			return
		}
		org, repo, _ := strings.Cut(full, "/")
		covering := func(qs []prowconfig.TideQuery) bool {
			return slices.ContainsFunc(qs, func(q prowconfig.TideQuery) bool { return q.ReviewApprovedRequired && merge.QueryCovers(&q, org, repo) })
		}
		open, ok := c.prs.open(ctx, org, repo)
		if !ok {
			t.Counted = false
			continue
		}
		var approved map[int]bool
		if covering(bq) || covering(hq) {
			if approved, ok = c.prs.approved(ctx, org, repo); !ok {
				t.Counted = false
				continue
			}
		}
		for _, pr := range open {
			if pr.Draft {
				// Never in a pool, whatever the queries say.
				continue
			}
			mp := &merge.PR{Org: org, Repo: repo, Number: pr.Number, Author: pr.Author, Title: pr.Title, BaseRef: pr.BaseRef,
				HeadSHA: pr.HeadSHA, Labels: pr.Labels, Milestone: pr.Milestone, Approved: approved[pr.Number]}
			before, after := merge.SearchMatches(bq, mp), merge.SearchMatches(hq, mp)
			ref := PRRef{Repo: full, Number: pr.Number, Title: pr.Title, URL: pr.URL}
			switch {
			case after && !before:
				t.Entering++
				if len(t.Enter) < maxListed {
					t.Enter = append(t.Enter, ref)
				}
			case before && !after:
				t.Leaving++
				if len(t.Leave) < maxListed {
					t.Leave = append(t.Leave, ref)
				}
			}
		}
	}
}

// tideRepos lists the repositories the changed queries cover, each
// org/repo once, sorted: the repositories they name and those of their
// orgs.
func (c *computation) tideRepos(ctx context.Context, queries []*prowconfig.TideQuery) []string {
	seen := map[string]bool{}
	var out []string
	add := func(full string) {
		if k := strings.ToLower(full); !seen[k] {
			seen[k] = true
			out = append(out, full)
		}
	}
	orgs := map[string]bool{}
	for _, q := range queries {
		for _, r := range q.Repos {
			add(r)
		}
		for _, o := range q.Orgs {
			orgs[o] = true
		}
	}
	for _, o := range sortedKeys(orgs) {
		repos, ok := c.prs.orgRepos(ctx, o)
		if !ok {
			c.plan.Tide.Counted = false
			continue
		}
		for _, r := range repos {
			add(o + "/" + r)
		}
	}
	slices.Sort(out)
	return out
}

// queryScope names a query's orgs and repositories.
func queryScope(q *prowconfig.TideQuery) string {
	var parts []string
	if len(q.Orgs) > 0 {
		parts = append(parts, "orgs "+strings.Join(q.Orgs, ", "))
	}
	if len(q.Repos) > 0 {
		parts = append(parts, "repos "+strings.Join(q.Repos, ", "))
	}
	if len(q.ExcludedRepos) > 0 {
		parts = append(parts, "but not "+strings.Join(q.ExcludedRepos, ", "))
	}
	return strings.Join(parts, "; ")
}

// settings lists the other changes of config.yaml (the queries are
// Tide's), and of the job configuration's presets and decorate_all_jobs.
func (c *computation) settings() {
	strip := func(v any) any {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		if t, ok := m["tide"].(map[string]any); ok {
			delete(t, "queries")
			if len(t) == 0 {
				delete(m, "tide")
			}
		}
		return m
	}
	if !sameContent(c.base.Config, c.head.Config) {
		c.plan.Settings = append(c.plan.Settings, diffValues("", strip(jsonValue(c.base.Config)), strip(jsonValue(c.head.Config)))...)
	}
	bj, hj := c.base.Jobs, c.head.Jobs
	if !sameContent(bj.Presets, hj.Presets) {
		c.plan.Settings = append(c.plan.Settings, diffValues("presets", jsonValue(bj.Presets), jsonValue(hj.Presets))...)
	}
	if bj.DecorateAllJobs != hj.DecorateAllJobs {
		c.plan.Settings = append(c.plan.Settings, diffValues("decorate_all_jobs", bj.DecorateAllJobs, hj.DecorateAllJobs)...)
	}
}
