package assign_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugins/assign"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
)

// alice is an acme member, carol a collaborator, bob (the author of every
// pull request here) and zed outsiders.
const seed = `
users: [{login: alice}, {login: bob}, {login: carol}, {login: zed}]
orgs:
- login: acme
  members: [alice]
  teams:
  - {name: reviewers, members: [alice], repos: {widgets: read}}
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
  collaborators: {carol: write}
`

func TestAssign(t *testing.T) {
	h := plugintest.StartPlugin(t, seed, plugintest.Config(nil, nil), assign.New)
	tests := []struct {
		name         string
		pr           bool
		assigned     []string // before
		requested    []string // before
		by, body     string
		wantAssigned []string
		wantReviews  []string // users, and teams as org/team
		wantReply    string
	}{
		{name: "assign self", by: "alice", body: "/assign", wantAssigned: []string{"alice"}},
		{name: "an outsider who comments may be assigned", by: "bob", body: "/assign", wantAssigned: []string{"bob"}},
		{name: "assign a member", by: "bob", body: "/assign @alice", wantAssigned: []string{"alice"}},
		{name: "assign several", by: "bob", body: "/assign alice @carol", wantAssigned: []string{"alice", "carol"}},
		{name: "assign in any case", by: "bob", body: "/ASSIGN @carol", wantAssigned: []string{"carol"}},
		{name: "assign an outsider", by: "alice", body: "/assign @zed", wantAssigned: []string{},
			wantReply: "GitHub did not let me assign: zed."},
		{name: "assign some outsiders", by: "alice", body: "/assign @carol @zed", wantAssigned: []string{"carol"},
			wantReply: "GitHub did not let me assign: zed."},
		{name: "unassign self", assigned: []string{"alice", "carol"}, by: "alice", body: "/unassign", wantAssigned: []string{"carol"}},
		{name: "unassign others", assigned: []string{"alice", "carol"}, by: "bob", body: "/unassign @alice carol", wantAssigned: []string{}},
		{name: "the later command wins", by: "bob", body: "/assign @alice\n/unassign @alice", wantAssigned: []string{}},
		{name: "not at the start of a line", by: "bob", body: "please /assign @alice", wantAssigned: []string{}},
		{name: "assign takes no teams", by: "bob", body: "/assign @acme/reviewers", wantAssigned: []string{}},
		{name: "cc on an issue does nothing", by: "bob", body: "/cc @alice", wantAssigned: []string{}},
		{name: "cc a member", pr: true, by: "bob", body: "/cc @alice", wantAssigned: []string{}, wantReviews: []string{"alice"}},
		{name: "cc self", pr: true, by: "carol", body: "/cc", wantAssigned: []string{}, wantReviews: []string{"carol"}},
		{name: "cc the author", pr: true, by: "bob", body: "/cc", wantAssigned: []string{},
			wantReply: "GitHub did not let me ask for a review from: bob."},
		{name: "cc a team", pr: true, by: "bob", body: "/cc @acme/reviewers", wantAssigned: []string{}, wantReviews: []string{"acme/reviewers"}},
		{name: "cc another org's team", pr: true, by: "bob", body: "/cc @other/reviewers", wantAssigned: []string{},
			wantReply: "ask for a review from: other/reviewers."},
		{name: "cc some outsiders", pr: true, by: "bob", body: "/cc alice zed carol", wantAssigned: []string{},
			wantReviews: []string{"alice", "carol"}, wantReply: "ask for a review from: zed."},
		{name: "uncc", pr: true, requested: []string{"alice", "carol"}, by: "bob", body: "/uncc @alice", wantAssigned: []string{},
			wantReviews: []string{"carol"}},
		{name: "assign and cc at once", pr: true, by: "bob", body: "/assign @carol\n/cc @alice", wantAssigned: []string{"carol"},
			wantReviews: []string{"alice"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := h.Open("bob", h.Repo, tc.pr, tc.name)
			owner, repo, _ := strings.Cut(h.Repo, "/")
			if len(tc.assigned) > 0 {
				if _, _, err := h.GitHub.Issues.AddAssignees(h.Ctx, owner, repo, n, tc.assigned); err != nil {
					t.Fatal(err)
				}
			}
			if len(tc.requested) > 0 {
				if _, _, err := h.GitHub.PullRequests.RequestReviewers(h.Ctx, owner, repo, n, github.ReviewersRequest{Reviewers: tc.requested}); err != nil {
					t.Fatal(err)
				}
			}
			h.Comment(tc.by, h.Repo, n, tc.body)
			is, _, err := h.GitHub.Issues.Get(h.Ctx, owner, repo, n)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, u := range is.Assignees {
				got = append(got, u.GetLogin())
			}
			sort.Strings(got)
			if want := slices.Sorted(slices.Values(tc.wantAssigned)); !slices.Equal(got, want) {
				t.Errorf("assignees = %q, want %q", got, want)
			}
			if tc.pr {
				rv, _, err := h.GitHub.PullRequests.ListReviewers(h.Ctx, owner, repo, n)
				if err != nil {
					t.Fatal(err)
				}
				got := []string{}
				for _, u := range rv.Users {
					got = append(got, u.GetLogin())
				}
				for _, tm := range rv.Teams {
					got = append(got, owner+"/"+tm.GetSlug())
				}
				sort.Strings(got)
				if want := slices.Sorted(slices.Values(tc.wantReviews)); !slices.Equal(got, want) {
					t.Errorf("requested reviewers = %q, want %q", got, want)
				}
			}
			h.WantReply(t, h.Repo, n, tc.wantReply)
		})
	}
}
