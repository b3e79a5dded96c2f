package help_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/help"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/plugins"
)

const seed = `
users: [{login: bob}, {login: zed}]
orgs: [{login: acme}]
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
  labels: [{name: help wanted}, {name: good first issue}]
`

func start(t *testing.T, cfg *plugins.Config) *plugintest.Env {
	return plugintest.StartPlugin(t, seed, plugintest.Config(cfg, nil), help.New)
}

// state checks the labels and bowline's comments: each comment contains
// every one of its substrings.
func state(t *testing.T, h *plugintest.Env, n int, labels []string, comments ...[]string) {
	t.Helper()
	if got := h.Labels(h.Repo, n); !slices.Equal(got, labels) {
		t.Errorf("labels = %q, want %q", got, labels)
	}
	got := h.BotComments(h.Repo, n)
	if len(got) != len(comments) {
		t.Fatalf("comments = %q, want %d", got, len(comments))
	}
	for i, subs := range comments {
		for _, c := range subs {
			if !strings.Contains(got[i], c) {
				t.Errorf("comment %d = %q, want it to contain %q", i, got[i], c)
			}
		}
	}
}

func TestHelpFlow(t *testing.T) {
	h := start(t, nil)
	n := h.OpenIssue("bob", h.Repo, "needs hands", "")
	h.Comment("zed", h.Repo, n, "/help")
	state(t, h, n, []string{"help wanted"}, []string{"@zed: This issue is marked as needing help from a contributor.", help.DefaultGuidelinesURL + ")", "`/remove-help`"})
	h.Comment("zed", h.Repo, n, "/HELP")
	state(t, h, n, []string{"help wanted"}, []string{"needing help"})

	h.Comment("zed", h.Repo, n, "/good-first-issue")
	state(t, h, n, []string{"good first issue", "help wanted"}, []string{"needing help"}, []string{"suitable for new contributors"})
	if c := h.BotComments(h.Repo, n)[1]; !strings.Contains(c, help.DefaultGuidelinesURL+"#good-first-issue") || !strings.Contains(c, "/remove-good-first-issue") {
		t.Errorf("good first issue comment = %q", c)
	}

	h.Comment("zed", h.Repo, n, "/remove-good-first-issue")
	state(t, h, n, []string{"help wanted"}, []string{"needing help"})

	h.Comment("zed", h.Repo, n, "/good-first-issue")
	h.Comment("zed", h.Repo, n, "/remove-help")
	state(t, h, n, []string{})
}

func TestHelpIgnores(t *testing.T) {
	h := start(t, nil)
	pr := h.OpenPR("bob", h.Repo, forge.PullRequest{Title: "x", Head: "x", Files: map[string][]byte{"x": []byte("x")}})
	h.Comment("zed", h.Repo, pr.GetNumber(), "/help")
	state(t, h, pr.GetNumber(), []string{})

	n := h.OpenIssue("bob", h.Repo, "closed", "")
	if err := h.Forge.As(plugintest.BotLogin).Close(h.Ctx, h.Repo, n); err != nil {
		t.Fatal(err)
	}
	h.Comment("zed", h.Repo, n, "/help")
	state(t, h, n, []string{})

	n = h.OpenIssue("bob", h.Repo, "nothing to remove", "")
	h.Comment("zed", h.Repo, n, "/remove-help")
	state(t, h, n, []string{})
}

func TestHelpGuidelines(t *testing.T) {
	h := start(t, &plugins.Config{Help: plugins.Help{HelpGuidelinesURL: "https://example.com/help.md", HelpGuidelinesSummary: "- a clear task\n- no deep knowledge needed"}})
	n := h.OpenIssue("bob", h.Repo, "needs hands", "")
	h.Comment("zed", h.Repo, n, "/help")
	state(t, h, n, []string{"help wanted"}, []string{"### Guidelines\n- a clear task\n- no deep knowledge needed", "(https://example.com/help.md)"})
}
