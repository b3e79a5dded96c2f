package retitle_test

import (
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/automation/plugins/retitle"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// alice is an acme member, carol a collaborator, zed an outsider; helper
// is a trusted app's bot.
const seed = `
users: [{login: alice}, {login: bob}, {login: carol}, {login: zed}, {login: "helper[bot]", bot: true}]
orgs: [{login: acme, members: [alice]}]
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
  collaborators: {carol: write}
`

func titleOf(t *testing.T, h *plugintest.Env, n int) string {
	t.Helper()
	owner, repo, _ := strings.Cut(h.Repo, "/")
	is, _, err := h.GitHub.Issues.Get(h.Ctx, owner, repo, n)
	if err != nil {
		t.Fatal(err)
	}
	return is.GetTitle()
}

func TestRetitle(t *testing.T) {
	cfg := &plugins.Config{Triggers: []plugins.Trigger{{Repos: []string{"acme"}, TrustedApps: []string{"helper"}}}}
	h := plugintest.StartPlugin(t, seed, plugintest.Config(cfg, nil), retitle.New)
	tests := []struct {
		name      string
		pr        bool
		closed    bool
		by, body  string
		want      string // the title afterwards; "old" when unchanged
		wantReply string
	}{
		{name: "member", by: "alice", body: "/retitle Crash on start", want: "Crash on start"},
		{name: "collaborator on a pull request", pr: true, by: "carol", body: "/retitle Fix the crash", want: "Fix the crash"},
		{name: "trusted app", by: "helper[bot]", body: "/retitle From the app", want: "From the app"},
		{name: "any case", by: "alice", body: "/RETITLE Loud", want: "Loud"},
		{name: "outsider", by: "zed", body: "/retitle Mine now", want: "old",
			wantReply: "Only trusted users, such as collaborators of the repository, may ask for a new title."},
		{name: "empty", by: "alice", body: "/retitle   ", want: "old", wantReply: "Titles may not be empty."},
		{name: "closing keyword", by: "alice", body: "/retitle Fixes #3", want: "old", wantReply: "Titles may not contain @mentions"},
		{name: "mention", by: "alice", body: "/retitle Ask @bob", want: "old", wantReply: "Titles may not contain @mentions"},
		{name: "closed", closed: true, by: "alice", body: "/retitle Too late", want: "old"},
		{name: "not at the start of a line", by: "alice", body: "maybe /retitle Other", want: "old"},
		{name: "a longer word is no command", by: "alice", body: "/retitled Other", want: "old"},
		{name: "a title on its own line only", by: "alice", body: "/retitle\nNew title", want: "old", wantReply: "Titles may not be empty."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := h.Open("bob", h.Repo, tc.pr, "old")
			if tc.closed {
				if err := h.Forge.As(plugintest.BotLogin).Close(h.Ctx, h.Repo, n); err != nil {
					t.Fatal(err)
				}
			}
			h.Comment(tc.by, h.Repo, n, tc.body)
			if got := titleOf(t, h, n); got != tc.want {
				t.Errorf("title = %q, want %q", got, tc.want)
			}
			h.WantReply(t, h.Repo, n, tc.wantReply)
		})
	}
}

func TestRetitleRules(t *testing.T) {
	h := plugintest.StartPlugin(t, seed, plugintest.Config(nil, nil), retitle.New)
	// allow_closed_issues lets closed ones be retitled.
	h.SetConfigSet(plugintest.Config(&plugins.Config{Retitle: plugins.Retitle{AllowClosedIssues: true}}, nil))
	n := h.OpenIssue("bob", h.Repo, "old", "")
	if err := h.Forge.As(plugintest.BotLogin).Close(h.Ctx, h.Repo, n); err != nil {
		t.Fatal(err)
	}
	h.Comment("alice", h.Repo, n, "/retitle Closed but clear")
	if got := titleOf(t, h, n); got != "Closed but clear" {
		t.Errorf("closed issue's title = %q", got)
	}
	// only_org_members: collaborators are not trusted.
	h.SetConfigSet(plugintest.Config(&plugins.Config{Triggers: []plugins.Trigger{{Repos: []string{"acme/widgets"}, OnlyOrgMembers: true}}}, nil))
	n = h.OpenIssue("bob", h.Repo, "old", "")
	h.Comment("carol", h.Repo, n, "/retitle Collaborator")
	if got := titleOf(t, h, n); got != "old" {
		t.Errorf("title = %q, want it unchanged", got)
	}
	if got := h.BotComments(h.Repo, n); len(got) != 1 {
		t.Errorf("replies = %q, want one", got)
	}
}
