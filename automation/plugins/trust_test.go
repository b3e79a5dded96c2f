package plugins_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
)

// Every plugin asks who is trusted through the trigger's cache, and an
// organization webhook that the trigger handles makes all of them forget
// at once: here retitle, which trusts as the trigger does.
func TestPluginsShareTheTriggersTrustAnswers(t *testing.T) {
	e := plugintest.Start(t, plugintest.Options{
		Seed: `
users: [{login: alice}, {login: bob}]
orgs: [{login: acme, members: [alice]}]
repos: [{name: acme/widgets, files: {README.md: "widgets\n"}}]
`,
		Config: map[string]string{"plugins.yaml": "plugins:\n  acme:\n    plugins: [trigger, retitle]\n"},
		Plugins: func(d plugintest.Deps) []plugin.Plugin {
			return plugins.All(plugins.Deps{Config: d.Config, GitHub: d.GitHub, BotLogin: plugintest.BotLogin})
		},
	})
	const repo = "acme/widgets"
	is, err := e.Forge.As("bob").CreateIssue(e.Ctx, repo, "Crash", "")
	if err != nil {
		t.Fatal(err)
	}
	n := is.GetNumber()
	wantTitle := func(want string) {
		t.Helper()
		got, _, err := e.GitHub.Issues.Get(e.Ctx, "acme", "widgets", n)
		if err != nil {
			t.Fatal(err)
		}
		if got.GetTitle() != want {
			t.Fatalf("title %q, want %q; bot said %q", got.GetTitle(), want, e.BotComments(repo, n))
		}
	}

	e.Comment("alice", repo, n, "/retitle Crash on start")
	wantTitle("Crash on start")

	// alice leaves the org. Within the minute the answer is kept, retitle
	// still trusts her: it asked the trigger's cache, not GitHub.
	if _, err := e.GitHub.Organizations.RemoveMember(e.Ctx, "acme", "alice"); err != nil {
		t.Fatal(err)
	}
	e.Comment("alice", repo, n, "/retitle Crash on start-up")
	wantTitle("Crash on start-up")

	// GitHub's organization webhook about her reaches the trigger, which
	// forgets her answers: retitle no longer trusts her.
	payload, err := json.Marshal(&github.OrganizationEvent{Action: github.Ptr("member_removed"),
		Membership:   &github.Membership{User: &github.User{Login: github.Ptr("alice")}},
		Organization: &github.Organization{Login: github.Ptr("acme")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Deliver(http.DefaultClient, "organization", "alice-removed", payload); err != nil {
		t.Fatal(err)
	}
	e.Wait("acme", "alice removed", plugintest.Delivery("organization", "alice-removed"))
	e.Comment("alice", repo, n, "/retitle Anything")
	wantTitle("Crash on start-up")
}
