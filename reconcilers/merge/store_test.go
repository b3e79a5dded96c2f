package merge

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/schema/prowconfig"
)

// TestOlderPicturesDoNotWin: GitHub's search index lags behind webhooks,
// and deliveries may arrive late; neither may undo a newer change (the
// tide status would flap).
func TestOlderPicturesDoNotWin(t *testing.T) {
	s := &Syncer{}
	s.init()
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	pull := func(updated time.Time, labels ...string) *github.PullRequest {
		pr := &github.PullRequest{Number: github.Ptr(1), State: github.Ptr("open"), UpdatedAt: &github.Timestamp{Time: updated},
			Head: &github.PullRequestBranch{SHA: github.Ptr("h"), Ref: github.Ptr("b")}, Base: &github.PullRequestBranch{Ref: github.Ptr("main")}}
		for _, l := range labels {
			pr.Labels = append(pr.Labels, &github.Label{Name: github.Ptr(l)})
		}
		return pr
	}
	issue := func(updated time.Time, labels ...string) *github.Issue {
		is := &github.Issue{Number: github.Ptr(1), State: github.Ptr("open"), UpdatedAt: &github.Timestamp{Time: updated},
			RepositoryURL: github.Ptr("https://api.example/repos/acme/widgets"), PullRequestLinks: &github.PullRequestLinks{}}
		for _, l := range labels {
			is.Labels = append(is.Labels, &github.Label{Name: github.Ptr(l)})
		}
		return is
	}
	labelsNow := func() []string {
		p, _ := s.store.get("acme", "widgets", 1)
		return p.Labels
	}
	// A webhook: approved at t0+2s.
	s.store.update("acme", "widgets", 1, true, applyPull(pull(t0.Add(2*time.Second), "lgtm", "approved"), false))
	// A late delivery from t0+1s.
	s.store.update("acme", "widgets", 1, true, applyPull(pull(t0.Add(time.Second), "lgtm"), false))
	if got := labelsNow(); !slices.Equal(got, []string{"lgtm", "approved"}) {
		t.Fatalf("after a late delivery: %v", got)
	}
	// A search whose index has not seen the approval yet.
	cfg := &Config{Tide: &prowconfig.Tide{Queries: []prowconfig.TideQuery{{Repos: []string{"acme/widgets"}}}}}
	s.applySearch(cfg, shard{org: "acme"}, &searchResult{issues: []*github.Issue{issue(t0, "lgtm")}}, false, map[poolKey]bool{}, map[string][]int{})
	if got := labelsNow(); !slices.Equal(got, []string{"lgtm", "approved"}) {
		t.Fatalf("after a lagging search: %v", got)
	}
	// A newer search result wins.
	s.applySearch(cfg, shard{org: "acme"}, &searchResult{issues: []*github.Issue{issue(t0.Add(3 * time.Second))}}, false, map[poolKey]bool{}, map[string][]int{})
	if got := labelsNow(); len(got) != 0 {
		t.Fatalf("after a newer search: %v", got)
	}
}
