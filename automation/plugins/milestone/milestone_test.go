package milestone_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugins/milestone"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// alice is in release-team, carol in widgets-maintainers, bob in neither.
const seed = `
users: [{login: alice}, {login: bob}, {login: carol}]
orgs:
- login: acme
  members: [alice, bob, carol]
  teams:
  - {name: release-team, members: [alice]}
  - {name: widgets-maintainers, members: [carol]}
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
  milestones: [v1.0, v1.1]
`

func defaultTeam() *plugins.Config {
	return &plugins.Config{RepoMilestone: map[string]plugins.Milestone{
		"": {MaintainersTeam: "release-team", MaintainersFriendlyName: "release managers"}}}
}

func milestoneOf(t *testing.T, h *plugintest.Env, n int) string {
	t.Helper()
	owner, repo, _ := strings.Cut(h.Repo, "/")
	is, _, err := h.GitHub.Issues.Get(h.Ctx, owner, repo, n)
	if err != nil {
		t.Fatal(err)
	}
	return is.GetMilestone().GetTitle()
}

func TestMilestone(t *testing.T) {
	h := plugintest.StartPlugin(t, seed, plugintest.Config(defaultTeam(), nil), milestone.New)
	tests := []struct {
		name      string
		before    int // milestone number set first, 0 for none
		by, body  string
		want      string
		wantReply string
	}{
		{name: "set", by: "alice", body: "/milestone v1.0", want: "v1.0"},
		{name: "change", before: 1, by: "alice", body: "/milestone v1.1", want: "v1.1"},
		{name: "clear", before: 1, by: "alice", body: "/milestone clear", want: ""},
		{name: "unknown milestone", by: "alice", body: "/milestone v2", want: "",
			wantReply: "The milestone `v2` is not one of this repository's. Its milestones are: `v1.0`, `v1.1`.\n\nUse `/milestone clear` to clear the milestone."},
		{name: "not in the team", by: "bob", body: "/milestone v1.0", want: "",
			wantReply: "You must be a member of the acme/release-team GitHub team to set the milestone. If you should be able to use /milestone, ask the release managers to add you to the team."},
		{name: "case matters", by: "alice", body: "/MILESTONE v1.0", want: ""},
		{name: "needs a title", by: "alice", body: "/milestone", want: ""},
		{name: "title with trailing space", by: "alice", body: "/milestone v1.1  \nthanks", want: "v1.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := h.OpenIssue("bob", h.Repo, tc.name, "")
			if tc.before != 0 {
				owner, repo, _ := strings.Cut(h.Repo, "/")
				if _, _, err := h.GitHub.Issues.Edit(h.Ctx, owner, repo, n, &github.IssueRequest{Milestone: github.Ptr(tc.before)}); err != nil {
					t.Fatal(err)
				}
			}
			h.Comment(tc.by, h.Repo, n, tc.body)
			if got := milestoneOf(t, h, n); got != tc.want {
				t.Errorf("milestone = %q, want %q", got, tc.want)
			}
			h.WantReply(t, h.Repo, n, tc.wantReply)
		})
	}
}

func TestMilestoneTeams(t *testing.T) {
	h := plugintest.StartPlugin(t, seed, plugintest.Config(defaultTeam(), nil), milestone.New)
	try := func(config *plugins.Config, by, want string, wantReply string) {
		t.Helper()
		h.SetConfigSet(plugintest.Config(config, nil))
		n := h.OpenIssue("bob", h.Repo, "issue", "")
		h.Comment(by, h.Repo, n, "/milestone v1.0")
		if got := milestoneOf(t, h, n); got != want {
			t.Errorf("%s: milestone = %q, want %q", by, got, want)
		}
		if replies := h.BotComments(h.Repo, n); (wantReply == "") != (len(replies) == 0) || (wantReply != "" && !strings.Contains(replies[0], wantReply)) {
			t.Errorf("%s: replies = %q, want %q", by, replies, wantReply)
		}
	}
	// The repository's own entry wins over the default.
	own := defaultTeam()
	own.RepoMilestone["acme/widgets"] = plugins.Milestone{MaintainersTeam: "widgets-maintainers"}
	try(own, "carol", "v1.0", "")
	try(own, "alice", "", "acme/widgets-maintainers")

	// A team by ID.
	team, _, err := h.GitHub.Teams.GetTeamBySlug(h.Ctx, "acme", "widgets-maintainers")
	if err != nil {
		t.Fatal(err)
	}
	byID := &plugins.Config{RepoMilestone: map[string]plugins.Milestone{"acme/widgets": {MaintainersID: int(team.GetID())}}}
	try(byID, "carol", "v1.0", "")
	try(byID, "alice", "", fmt.Sprintf("acme team %d", team.GetID()))

	// No team at all.
	try(&plugins.Config{}, "alice", "", milestone.NoMaintainers)
}
