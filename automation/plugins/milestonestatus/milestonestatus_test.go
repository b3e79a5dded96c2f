package milestonestatus_test

import (
	"slices"
	"testing"

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
	h := plugintest.StartPlugin(t, seed, plugintest.Config(cfg, nil), milestonestatus.New)
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
			h.WantReply(t, h.Repo, n, tc.wantReply)
		})
	}
}
