package forge_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
)

func TestSearchIssues(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	// #1 dave: lgtm+approved; #2 bob: lgtm+hold; #3 bob, approved review, merged;
	// #4 an issue; #5 dave, to release-1 branch. acme/secret #1 private.
	for i, spec := range []struct {
		author, branch string
		labels         []string
	}{
		{"dave", "a", []string{"lgtm", "approved"}},
		{"bob", "b", []string{"lgtm", "do-not-merge/hold"}},
		{"bob", "c", nil},
	} {
		pr := fx.openPR(t, spec.author, spec.branch, map[string]string{spec.branch + ".txt": fmt.Sprint(i)})
		if len(spec.labels) > 0 {
			must[[]*github.Label](t)(alice.Issues.AddLabelsToIssue(fx.ctx, "acme", "widgets", pr.GetNumber(), spec.labels))
		}
	}
	if _, err := fx.env.As("alice").Review(fx.ctx, "acme/widgets", 3, "APPROVE", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.env.As("alice").Merge(fx.ctx, "acme/widgets", 3, "merge"); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.env.As("dave").CreateIssue(fx.ctx, "acme/widgets", "A bug about widgets", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.env.As("alice").Push(fx.ctx, "acme/widgets", "release-1", nil, "Branch off"); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.env.As("dave").OpenPR(fx.ctx, "acme/widgets", forge.PullRequest{Title: "Backport", Head: "d", Base: "release-1",
		Files: map[string][]byte{"d.txt": []byte("d")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.env.As("alice").OpenPR(fx.ctx, "acme/secret", forge.PullRequest{Title: "Secret", Head: "s",
		Files: map[string][]byte{"s.txt": []byte("s")}}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		query, token, sort, order string
		want                      string // numbers in order
	}{
		{"is:pr state:open repo:acme/widgets", "alice-token", "created", "asc", "1,2,5"},
		{"is:pr is:open archived:false org:acme", "alice-token", "created", "asc", "1,2,5,1"},
		{"is:pr is:open org:acme", "dave-token", "created", "asc", "1,2,5"},
		{"is:pr state:open repo:acme/widgets label:lgtm -label:do-not-merge/hold", "alice-token", "", "", "1"},
		{`is:pr state:open label:"lgtm" label:approved`, "alice-token", "", "", "1"},
		{"is:pr state:open repo:acme/widgets label:approved,do-not-merge/hold", "alice-token", "created", "asc", "1,2"},
		{"is:pr state:open repo:acme/widgets base:main", "alice-token", "created", "asc", "1,2"},
		{"is:pr state:open repo:acme/widgets -base:main", "alice-token", "", "", "5"},
		{"is:pr repo:acme/widgets author:bob", "alice-token", "created", "desc", "3,2"},
		{"is:pr repo:acme/widgets is:merged", "alice-token", "", "", "3"},
		{"is:pr repo:acme/widgets review:approved", "alice-token", "", "", "3"},
		{"is:pr state:closed repo:acme/widgets", "alice-token", "", "", "3"},
		{"is:issue repo:acme/widgets", "alice-token", "", "", "4"},
		{"repo:acme/widgets widgets bug", "alice-token", "", "", "4"},
		{"repo:acme/widgets bug nowhere", "alice-token", "", "", ""},
		{"repo:acme/widgets bug", "alice-token", "", "", "4"},
		{"is:pr is:open -repo:acme/widgets", "alice-token", "", "", "1"},
		{"is:pr is:open -repo:acme/widgets", "", "", "", ""},
		{"is:pr milestone:v1", "alice-token", "", "", ""},
	}
	for _, tt := range tests {
		who := strings.TrimSuffix(tt.token, "-token")
		if who == "" {
			who = "anonymous"
		}
		t.Run(tt.query+" as "+who, func(t *testing.T) {
			res := must[*github.IssuesSearchResult](t)(fx.client(t, tt.token).Search.Issues(fx.ctx, tt.query,
				&github.SearchOptions{Sort: tt.sort, Order: tt.order}))
			var got []string
			for _, i := range res.Issues {
				got = append(got, fmt.Sprint(i.GetNumber()))
			}
			if strings.Join(got, ",") != tt.want || res.GetTotal() != len(got) || res.GetIncompleteResults() {
				t.Fatalf("got %v (total %d), want %s", got, res.GetTotal(), tt.want)
			}
		})
	}
	t.Run("paging", func(t *testing.T) {
		var got []string
		opts := &github.SearchOptions{Sort: "created", Order: "asc", ListOptions: github.ListOptions{PerPage: 2}}
		for {
			res, resp, err := alice.Search.Issues(fx.ctx, "repo:acme/widgets", opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.GetTotal() != 5 {
				t.Fatalf("total %d, want 5", res.GetTotal())
			}
			for _, i := range res.Issues {
				got = append(got, fmt.Sprint(i.GetNumber()))
			}
			if resp.NextPage == 0 {
				break
			}
			opts.Page = resp.NextPage
		}
		if strings.Join(got, ",") != "1,2,3,4,5" {
			t.Fatalf("paged results %v", got)
		}
	})
	t.Run("pull request links", func(t *testing.T) {
		res := must[*github.IssuesSearchResult](t)(alice.Search.Issues(fx.ctx, "is:pr repo:acme/widgets is:merged", nil))
		if !res.Issues[0].IsPullRequest() || res.Issues[0].GetPullRequestLinks().GetMergedAt().IsZero() {
			t.Fatalf("pull request links %+v", res.Issues[0].GetPullRequestLinks())
		}
	})
	t.Run("empty query", func(t *testing.T) {
		_, resp, err := alice.Search.Issues(fx.ctx, "", nil)
		if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
			t.Fatalf("status = %d, want 422", got)
		}
	})
	t.Run("search rate limit resource", func(t *testing.T) {
		_, resp, err := alice.Search.Issues(fx.ctx, "is:pr", nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("X-RateLimit-Resource") != "search" || resp.Rate.Limit != 30 {
			t.Fatalf("rate %s %+v", resp.Header.Get("X-RateLimit-Resource"), resp.Rate)
		}
	})
}

// TestSearchCountsBeyondTheCap: like GitHub, the search counts every match
// but serves only the first 1,000, so that clients know to narrow it.
func TestSearchCountsBeyondTheCap(t *testing.T) {
	fx := setup(t)
	dave := fx.env.As("dave")
	for i := range 1003 {
		if _, err := dave.CreateIssue(fx.ctx, "acme/widgets", fmt.Sprintf("Issue %d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	alice := fx.client(t, "alice-token")
	served := 0
	opts := &github.SearchOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		res, resp, err := alice.Search.Issues(fx.ctx, "is:issue repo:acme/widgets", opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.GetTotal() != 1003 {
			t.Fatalf("total_count = %d, want 1003", res.GetTotal())
		}
		served += len(res.Issues)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if served != 1000 {
		t.Errorf("served %d results, want 1000", served)
	}
}
