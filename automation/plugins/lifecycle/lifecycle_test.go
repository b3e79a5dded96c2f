package lifecycle_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/lifecycle"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
)

// bob writes every issue and pull request; carol collaborates; zed is an
// outsider.
const seed = `
users: [{login: bob}, {login: carol}, {login: zed}]
orgs: [{login: acme}]
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
  collaborators: {carol: write}
`

func TestLifecycle(t *testing.T) {
	h := plugintest.StartPlugin(t, seed, plugintest.Config(nil, nil), lifecycle.New)
	tests := []struct {
		name       string
		pr         bool
		labels     []string
		closed     bool
		merged     bool
		by, body   string
		wantState  string // open, closed
		wantReason string // the issue's state_reason, when closed
		wantLabels []string
		wantReply  string
	}{
		{name: "author closes", by: "bob", body: "/close", wantState: "closed", wantReason: "completed", wantReply: "Closing this issue."},
		{name: "author closes as not planned", by: "bob", body: "/close not-planned", wantState: "closed", wantReason: "not_planned",
			wantReply: "Closing this issue as not planned."},
		{name: "collaborator closes", by: "carol", body: "/close", wantState: "closed", wantReason: "completed", wantReply: "Closing this issue."},
		{name: "close in any case", by: "carol", body: "/CLOSE", wantState: "closed", wantReason: "completed", wantReply: "Closing this issue."},
		{name: "outsider closes", by: "zed", body: "/close", wantState: "open",
			wantReply: "You can't close an active issue or pull request unless you authored it or you are a collaborator."},
		{name: "outsider closes a stale issue", labels: []string{lifecycle.Stale}, by: "zed", body: "/close", wantState: "closed",
			wantReason: "completed", wantLabels: []string{lifecycle.Stale}, wantReply: "Closing this issue."},
		{name: "outsider closes a rotten issue", labels: []string{lifecycle.Rotten}, by: "zed", body: "/close", wantState: "closed",
			wantReason: "completed", wantLabels: []string{lifecycle.Rotten}, wantReply: "Closing this issue."},
		{name: "close with words after it", by: "bob", body: "/close this please", wantState: "open"},
		{name: "author closes a pull request", pr: true, by: "bob", body: "/close", wantState: "closed", wantReply: "Closed this pull request."},
		{name: "pull request not planned", pr: true, by: "bob", body: "/close not-planned", wantState: "open",
			wantReply: "Pull requests cannot be closed as not planned."},
		{name: "outsider closes a pull request", pr: true, by: "zed", body: "/close", wantState: "open", wantReply: "You can't close"},
		{name: "author reopens", closed: true, by: "bob", body: "/reopen", wantState: "open", wantReply: "Reopened this issue."},
		{name: "collaborator reopens a pull request", pr: true, closed: true, by: "carol", body: "/reopen", wantState: "open",
			wantReply: "Reopened this pull request."},
		{name: "outsider reopens", closed: true, by: "zed", body: "/reopen", wantState: "closed", wantReason: "completed",
			wantReply: "You can't reopen an issue or pull request unless you authored it or you are a collaborator."},
		{name: "reopen a merged pull request", pr: true, merged: true, by: "bob", body: "/reopen", wantState: "closed",
			wantReply: "Failed to reopen this pull request"},
		{name: "reopen an open issue", by: "bob", body: "/reopen", wantState: "open"},
		{name: "close a closed issue", closed: true, by: "bob", body: "/close", wantState: "closed", wantReason: "completed"},
		{name: "freeze", by: "zed", body: "/lifecycle frozen", wantState: "open", wantLabels: []string{lifecycle.Frozen}},
		{name: "mark in any case", by: "zed", body: "/lifecycle STALE", wantState: "open", wantLabels: []string{lifecycle.Stale}},
		{name: "one lifecycle label at a time", labels: []string{lifecycle.Frozen, lifecycle.Active}, by: "zed", body: "/lifecycle rotten",
			wantState: "open", wantLabels: []string{lifecycle.Rotten}},
		{name: "remove", labels: []string{lifecycle.Stale}, by: "zed", body: "/remove-lifecycle stale", wantState: "open", wantLabels: []string{}},
		{name: "remove another", labels: []string{lifecycle.Stale}, by: "zed", body: "/remove-lifecycle rotten", wantState: "open",
			wantLabels: []string{lifecycle.Stale}},
		{name: "unknown state", by: "zed", body: "/lifecycle dormant", wantState: "open"},
		{name: "pull requests are not frozen", pr: true, by: "bob", body: "/lifecycle frozen", wantState: "open",
			wantReply: "The `lifecycle/frozen` label cannot be applied to pull requests."},
		{name: "pull requests may be unfrozen", pr: true, labels: []string{lifecycle.Frozen}, by: "bob", body: "/remove-lifecycle frozen",
			wantState: "open", wantLabels: []string{}},
		{name: "pull requests may go stale", pr: true, by: "zed", body: "/lifecycle stale", wantState: "open", wantLabels: []string{lifecycle.Stale}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := h.Open("bob", h.Repo, tc.pr, tc.name)
			bot := h.Forge.As(plugintest.BotLogin)
			if len(tc.labels) > 0 {
				if err := bot.Label(h.Ctx, h.Repo, n, tc.labels...); err != nil {
					t.Fatal(err)
				}
			}
			if tc.closed {
				if err := bot.Close(h.Ctx, h.Repo, n); err != nil {
					t.Fatal(err)
				}
			}
			if tc.merged {
				if _, err := bot.Merge(h.Ctx, h.Repo, n, "merge"); err != nil {
					t.Fatal(err)
				}
			}
			h.Comment(tc.by, h.Repo, n, tc.body)
			owner, repo, _ := strings.Cut(h.Repo, "/")
			is, _, err := h.GitHub.Issues.Get(h.Ctx, owner, repo, n)
			if err != nil {
				t.Fatal(err)
			}
			if is.GetState() != tc.wantState {
				t.Errorf("state = %s, want %s", is.GetState(), tc.wantState)
			}
			if !tc.pr && tc.wantState == "closed" && is.GetStateReason() != tc.wantReason {
				t.Errorf("state reason = %q, want %q", is.GetStateReason(), tc.wantReason)
			}
			if tc.wantLabels != nil {
				if got, want := h.Labels(h.Repo, n), slices.Sorted(slices.Values(tc.wantLabels)); !slices.Equal(got, want) {
					t.Errorf("labels = %q, want %q", got, want)
				}
			}
			h.WantReply(t, h.Repo, n, tc.wantReply)
		})
	}
}
