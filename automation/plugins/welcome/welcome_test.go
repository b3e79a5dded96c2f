package welcome_test

import (
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/automation/plugins/welcome"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/plugins"
)

const seed = `
users: [{login: alice}, {login: bob}, {login: carol}, {login: "helper[bot]", bot: true}]
orgs: [{login: acme, members: [alice]}]
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
- name: acme/always
  files: {README.md: "# always\n"}
- name: acme/plain
  files: {README.md: "# plain\n"}
`

func start(t *testing.T, cfg *plugins.Config) *plugintest.Env {
	return plugintest.StartPlugin(t, seed, plugintest.Config(cfg, nil), welcome.New)
}

func open(h *plugintest.Env, repo, author, branch string) int {
	h.Repo = repo
	return h.OpenPR(author, h.Repo, forge.PullRequest{Title: branch, Head: branch, Files: map[string][]byte{branch: []byte("x")}}).GetNumber()
}

func TestWelcome(t *testing.T) {
	h := start(t, &plugins.Config{Welcome: []plugins.Welcome{
		{Repos: []string{"acme"}, MessageTemplate: "Hello {{.AuthorLogin}}, welcome to {{.Org}}/{{.Repo}}!"},
		{Repos: []string{"acme/always"}, AlwaysPost: true},
	}})
	comments := func(repo string, n int) []string {
		h.Repo = repo
		return h.BotComments(h.Repo, n)
	}
	// An outsider's first pull request, with the org's template.
	n := open(h, "acme/widgets", "bob", "first")
	if got := comments("acme/widgets", n); len(got) != 1 || got[0] != "Hello bob, welcome to acme/widgets!" {
		t.Errorf("first pull request: %q", got)
	}
	// Not the second.
	n = open(h, "acme/widgets", "bob", "second")
	if got := comments("acme/widgets", n); len(got) != 0 {
		t.Errorf("second pull request: %q", got)
	}
	// Members are not greeted.
	n = open(h, "acme/widgets", "alice", "member")
	if got := comments("acme/widgets", n); len(got) != 0 {
		t.Errorf("member's pull request: %q", got)
	}
	// Nor bots.
	n = open(h, "acme/widgets", "helper[bot]", "bot")
	if got := comments("acme/widgets", n); len(got) != 0 {
		t.Errorf("bot's pull request: %q", got)
	}
	// always_post greets everyone, every time, with the default message.
	for _, branch := range []string{"a1", "a2"} {
		n = open(h, "acme/always", "alice", branch)
		got := comments("acme/always", n)
		if len(got) != 1 || !strings.HasPrefix(got[0], "Welcome @alice! This looks like your first pull request to acme/always.") {
			t.Errorf("always_post %s: %q", branch, got)
		}
	}
	// The first pull request in another repository counts as a first.
	n = open(h, "acme/plain", "bob", "elsewhere")
	if got := comments("acme/plain", n); len(got) != 1 || got[0] != "Hello bob, welcome to acme/plain!" {
		t.Errorf("first pull request in another repository: %q", got)
	}
}

func TestWelcomeTemplateEscapes(t *testing.T) {
	h := start(t, &plugins.Config{Welcome: []plugins.Welcome{{Repos: []string{"acme"}, MessageTemplate: "<b>{{.AuthorLogin}}</b> & {{.Repo}}"}}})
	n := open(h, "acme/widgets", "bob", "x")
	if got := h.BotComments(h.Repo, n); len(got) != 1 || got[0] != "<b>bob</b> & widgets" {
		t.Errorf("comment = %q", got)
	}
}

func TestWelcomeBadTemplate(t *testing.T) {
	h := start(t, &plugins.Config{Welcome: []plugins.Welcome{{Repos: []string{"acme"}, MessageTemplate: "{{.Nope"}}})
	h.Repo = "acme/widgets"
	pr, err := h.Forge.As("bob").OpenPR(h.Ctx, h.Repo, forge.PullRequest{Title: "x", Head: "x", Files: map[string][]byte{"x": []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	err = h.WaitErr(h.Repo, "opened", plugintest.PRAction(pr.GetNumber(), "opened"))
	if !strings.Contains(err.Error(), "message_template") || plugin.Retryable(err) {
		t.Errorf("error = %v (retryable %v), want a permanent message_template error", err, plugin.Retryable(err))
	}
	if got := h.BotComments(h.Repo, pr.GetNumber()); len(got) != 0 {
		t.Errorf("comments = %q", got)
	}
}
