package merge

import (
	"testing"

	"github.com/bowline-ci/bowline/schema/prowconfig"
)

func TestSearchMatches(t *testing.T) {
	queries := []prowconfig.TideQuery{
		{Orgs: []string{"acme"}, ExcludedRepos: []string{"acme/legacy"}, Labels: []string{"lgtm", "approved"}, MissingLabels: []string{"do-not-merge/hold"}},
		{Repos: []string{"other/widgets"}, Labels: []string{"lgtm"}, IncludedBranches: []string{"main"}},
	}
	tests := []struct {
		name string
		pr   PR
		want bool
	}{
		{name: "org query", pr: PR{Org: "acme", Repo: "w", BaseRef: "main", Labels: []string{"lgtm", "approved"}}, want: true},
		{name: "label missing", pr: PR{Org: "acme", Repo: "w", BaseRef: "main", Labels: []string{"lgtm"}}},
		{name: "held", pr: PR{Org: "acme", Repo: "w", BaseRef: "main", Labels: []string{"lgtm", "approved", "do-not-merge/hold"}}},
		{name: "excluded repo", pr: PR{Org: "acme", Repo: "legacy", BaseRef: "main", Labels: []string{"lgtm", "approved"}}},
		{name: "repo query", pr: PR{Org: "other", Repo: "widgets", BaseRef: "main", Labels: []string{"LGTM"}}, want: true},
		{name: "branch not included", pr: PR{Org: "other", Repo: "widgets", BaseRef: "dev", Labels: []string{"lgtm"}}},
		{name: "not covered", pr: PR{Org: "else", Repo: "w", BaseRef: "main", Labels: []string{"lgtm", "approved"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SearchMatches(queries, &tt.pr); got != tt.want {
				t.Errorf("SearchMatches = %t, want %t", got, tt.want)
			}
		})
	}
}
