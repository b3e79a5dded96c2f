package override_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/override"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/automation/repoowners"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// ada administers the repository, alice is in the overriders team, olivia
// approves in the top-level OWNERS file, carol may only write.
const seed = `
users: [{login: ada}, {login: alice}, {login: bob}, {login: carol}, {login: olivia}]
orgs:
- login: acme
  members: [alice]
  teams:
  - {name: overriders, members: [alice]}
repos:
- name: acme/widgets
  files:
    README.md: "# widgets\n"
    OWNERS: "approvers: [olivia]\n"
  collaborators: {ada: admin, carol: write, olivia: write}
  protection:
    main: {requiredStatusChecks: [required-ctx]}
`

func config(o plugins.Override) *plugins.Config { return &plugins.Config{Override: o} }

func jobConfig() *jobs.Config {
	return &jobs.Config{Presubmits: map[string][]jobs.Presubmit{"acme/widgets": {
		{JobBase: jobs.JobBase{Name: "unit"}, Reporter: jobs.Reporter{Context: "ci/unit"}},
	}}}
}

func start(t *testing.T, o plugins.Override) *plugintest.Env {
	return plugintest.StartPlugin(t, seed, plugintest.Config(config(o), jobConfig()), func(b pluginbase.Base) *override.Plugin {
		return override.New(b, repoowners.NewClient())
	})
}

// statuses sets the head's statuses and returns a function reading one.
func prWithStatuses(t *testing.T, h *plugintest.Env, branch string, states map[string]string) (int, func(string) (string, string)) {
	t.Helper()
	pr := h.OpenPR("bob", h.Repo, forge.PullRequest{Title: branch, Head: branch, Files: map[string][]byte{branch: []byte("x")}})
	sha := pr.GetHead().GetSHA()
	for ctx, st := range states {
		if err := h.Forge.As(plugintest.BotLogin).SetStatus(h.Ctx, h.Repo, sha, ctx, st, "ran"); err != nil {
			t.Fatal(err)
		}
	}
	return pr.GetNumber(), func(context string) (string, string) {
		t.Helper()
		owner, repo, _ := strings.Cut(h.Repo, "/")
		cs, _, err := h.GitHub.Repositories.GetCombinedStatus(h.Ctx, owner, repo, sha, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range cs.Statuses {
			if s.GetContext() == context {
				return s.GetState(), s.GetDescription()
			}
		}
		return "", ""
	}
}

func TestOverride(t *testing.T) {
	h := start(t, plugins.Override{AllowTopLevelOwners: true, AllowedGitHubTeams: map[string][]string{"acme/widgets": {"overriders"}}})
	tests := []struct {
		name      string
		by, body  string
		want      map[string]string // context: state afterwards
		wantReply string
	}{
		{name: "admin overrides a failure", by: "ada", body: "/override lint",
			want: map[string]string{"lint": "success", "ci/unit": "failure"}, wantReply: "Overrode these contexts on behalf of ada: lint"},
		{name: "by job name", by: "ada", body: "/override unit",
			want: map[string]string{"ci/unit": "success", "lint": "failure"}, wantReply: "on behalf of ada: ci/unit"},
		{name: "a missing required context", by: "ada", body: "/override required-ctx",
			want: map[string]string{"required-ctx": "success"}, wantReply: "on behalf of ada: required-ctx"},
		{name: "several, quoted", by: "ada", body: `/override lint "test / Unit Tests"`,
			want: map[string]string{"lint": "success", "test / Unit Tests": "success"}, wantReply: "lint, test / Unit Tests"},
		{name: "any case", by: "ada", body: "/OVERRIDE lint", want: map[string]string{"lint": "success"}},
		{name: "team member", by: "alice", body: "/override lint", want: map[string]string{"lint": "success"}},
		{name: "top-level approver", by: "olivia", body: "/override lint", want: map[string]string{"lint": "success"}},
		{name: "writer", by: "carol", body: "/override lint", want: map[string]string{"lint": "failure"},
			wantReply: "/override is restricted to repository admins, approvers in the top-level OWNERS file, and members of these GitHub teams: acme/widgets: overriders."},
		{name: "unknown context", by: "ada", body: "/override nope",
			want:      map[string]string{"lint": "failure"},
			wantReply: "These are not among them:\n - `nope`\n\nThese are:\n - `ci/unit`\n - `lint`\n - `required-ctx`\n - `test / Unit Tests`\n - `unit`"},
		{name: "a context that passed", by: "ada", body: "/override fine", want: map[string]string{"fine": "success"}, wantReply: "These are not among them:\n - `fine`"},
		{name: "nothing named", by: "ada", body: "/override", wantReply: "/override needs the failed status contexts to override, but none was given."},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, state := prWithStatuses(t, h, fmt.Sprintf("b%d", i),
				map[string]string{"lint": "failure", "ci/unit": "failure", "fine": "success", "test / Unit Tests": "pending"})
			h.Comment(tc.by, h.Repo, n, tc.body)
			for ctx, want := range tc.want {
				got, desc := state(ctx)
				if got != want {
					t.Errorf("%s = %s, want %s", ctx, got, want)
				}
				if want == "success" && ctx != "fine" && (!strings.HasPrefix(desc, "Overridden by "+tc.by+" BaseSHA:") || len(desc) > 140) {
					t.Errorf("%s description = %q", ctx, desc)
				}
			}
			replies := h.BotComments(h.Repo, n)
			switch {
			case tc.wantReply == "" && len(replies) != 1 && tc.want["lint"] == "success":
				t.Errorf("replies = %q, want the audit comment", replies)
			case tc.wantReply != "" && (len(replies) != 1 || !strings.Contains(replies[0], tc.wantReply)):
				t.Errorf("replies = %q, want one containing %q", replies, tc.wantReply)
			}
		})
	}
}

func TestOverrideNeedsConfigForOwnersAndTeams(t *testing.T) {
	h := start(t, plugins.Override{})
	for _, who := range []string{"olivia", "alice"} {
		n, state := prWithStatuses(t, h, "b-"+who, map[string]string{"lint": "failure"})
		h.Comment(who, h.Repo, n, "/override lint")
		if got, _ := state("lint"); got != "failure" {
			t.Errorf("%s overrode without being allowed: %s", who, got)
		}
		if r := h.BotComments(h.Repo, n); len(r) != 1 || !strings.Contains(r[0], "/override is restricted to repository admins.") {
			t.Errorf("replies = %q", r)
		}
	}
}

func TestOverrideCancel(t *testing.T) {
	h := start(t, plugins.Override{})
	n, state := prWithStatuses(t, h, "cancel", map[string]string{"lint": "failure", "e2e": "failure"})
	h.Comment("ada", h.Repo, n, "/override lint e2e")
	if a, b := stateOf(state, "lint"), stateOf(state, "e2e"); a != "success" || b != "success" {
		t.Fatalf("after override: lint %s, e2e %s", a, b)
	}
	h.Comment("ada", h.Repo, n, "/override-cancel lint")
	if got, desc := state("lint"); got != "failure" || desc != "Override cancelled by ada" {
		t.Errorf("lint after cancel = %s %q", got, desc)
	}
	if got := stateOf(state, "e2e"); got != "success" {
		t.Errorf("e2e after cancelling lint = %s", got)
	}
	h.Comment("carol", h.Repo, n, "/override-cancel")
	if got := stateOf(state, "e2e"); got != "success" {
		t.Errorf("e2e after an unauthorized cancel = %s", got)
	}
	h.Comment("ada", h.Repo, n, "/override-cancel")
	if got := stateOf(state, "e2e"); got != "failure" {
		t.Errorf("e2e after cancelling all = %s", got)
	}
	h.Comment("ada", h.Repo, n, "/override-cancel")
	replies := h.BotComments(h.Repo, n)
	if last := replies[len(replies)-1]; !strings.Contains(last, "There is no override to cancel.") {
		t.Errorf("last reply = %q", last)
	}
	if !strings.Contains(replies[2], "/override-cancel is restricted to repository admins.") {
		t.Errorf("reply to carol = %q", replies[2])
	}
}

func stateOf(state func(string) (string, string), ctx string) string {
	s, _ := state(ctx)
	return s
}

func TestOverrideIgnoresIssues(t *testing.T) {
	h := start(t, plugins.Override{})
	n := h.OpenIssue("bob", h.Repo, "issue", "")
	h.Comment("ada", h.Repo, n, "/override lint")
	if r := h.BotComments(h.Repo, n); len(r) != 0 {
		t.Errorf("replies on an issue = %q", r)
	}
}
