package milestonestatus_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/milestonestatus"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/schema/plugins"
)

const seed = `
users: [{login: alice}, {login: bob}]
orgs:
- login: acme
  members: [alice, bob]
  teams:
  - {name: release-team, members: [alice]}
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
`

func TestStatus(t *testing.T) {
	cfg := &plugins.Config{RepoMilestone: map[string]plugins.Milestone{"": {MaintainersTeam: "release-team"}}}
	h := plugintest.Start(t, plugintest.Options{
		Seed:      seed,
		ConfigSet: plugintest.Config(cfg, nil),
		EnableAll: true,
		Plugins: func(d plugintest.Deps) []plugin.Plugin {
			return []plugin.Plugin{milestonestatus.New(d.Base)}
		},
	})
	tests := []struct {
		name, by, body string
		want           []string
		wantReply      string
	}{
		{"approved", "alice", "/status approved-for-milestone", []string{"status/approved-for-milestone"}, ""},
		{"two", "alice", "/status in-progress\n/status in-review", []string{"status/in-progress", "status/in-review"}, ""},
		{"unknown status", "alice", "/status done\n/status in-review", []string{"status/in-review"}, ""},
		{"not in the team", "bob", "/status in-review", []string{}, "You must be a member of the acme/release-team GitHub team to add status labels."},
		{"case matters", "alice", "/STATUS in-review", []string{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := h.OpenIssue("bob", h.Repo, tc.name, "")
			h.Comment(tc.by, h.Repo, n, tc.body)
			if got := h.Labels(h.Repo, n); !slices.Equal(got, tc.want) {
				t.Errorf("labels = %q, want %q", got, tc.want)
			}
			replies := h.BotComments(h.Repo, n)
			switch {
			case tc.wantReply == "" && len(replies) > 0:
				t.Errorf("unexpected replies: %q", replies)
			case tc.wantReply != "" && (len(replies) != 1 || !strings.Contains(replies[0], tc.wantReply)):
				t.Errorf("replies = %q, want one containing %q", replies, tc.wantReply)
			}
		})
	}
}
