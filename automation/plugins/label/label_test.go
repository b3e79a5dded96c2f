package label_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/label"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// alice is an acme member, bob an outsider, carol in the label-admins
// team, dave and erin collaborators.
const seed = `
users: [{login: alice}, {login: bob}, {login: carol}, {login: dave}, {login: erin}]
orgs:
- login: acme
  members: [alice]
  teams:
  - {name: label-admins, members: [carol]}
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
  collaborators: {dave: write, erin: write}
  labels:
  - {name: kind/bug}
  - {name: kind/feature}
  - {name: area/docs}
  - {name: sig/testing}
  - {name: sig/node}
  - {name: priority/important-soon}
  - {name: triage/accepted}
  - {name: language/zh}
  - {name: committee/steering}
  - {name: wg/batch}
  - {name: needs-kind}
  - {name: needs-sig}
  - {name: api-review}
  - {name: restricted-label}
  - {name: users-only}
  - {name: other-label}
`

func config() *plugins.Config {
	return &plugins.Config{Label: plugins.Label{
		AdditionalLabels: []string{"api-review", "not-in-repo"},
		RestrictedLabels: map[string][]plugins.RestrictedLabel{
			"*": {{Label: "restricted-label", AllowedTeams: []string{"label-admins"},
				AssignOn: []plugins.AssignOnLabel{{Label: "other-label"}}, AllowedUsers: []string{"dave"}}},
			"acme/widgets": {{Label: "users-only", AllowedUsers: []string{"erin", "dave"}}},
		},
	}}
}

func start(t *testing.T) *plugintest.Env {
	return plugintest.StartPlugin(t, seed, plugintest.Config(config(), nil), label.New)
}

func TestLabelCommands(t *testing.T) {
	h := start(t)
	tests := []struct {
		name       string
		pr         bool
		has        []string
		by, body   string
		want       []string
		wantReply  string // a substring of bowline's one reply; none when empty
		wantAssign []string
	}{
		{name: "kind", by: "bob", body: "/kind bug", want: []string{"kind/bug"}},
		{name: "several values", by: "bob", body: "/kind bug feature", want: []string{"kind/bug", "kind/feature"}},
		{name: "values are lower-cased", by: "bob", body: "/kind BUG", want: []string{"kind/bug"}},
		{name: "several commands", by: "bob", body: "/sig testing\n/area docs\n/priority important-soon",
			want: []string{"area/docs", "priority/important-soon", "sig/testing"}},
		{name: "language, committee, wg", by: "bob", body: "/language zh\n/committee steering\n/wg batch",
			want: []string{"committee/steering", "language/zh", "wg/batch"}},
		{name: "on a pull request", pr: true, by: "bob", body: "/kind feature", want: []string{"kind/feature"}},
		{name: "command case matters", by: "bob", body: "/KIND bug", want: []string{}},
		{name: "not at the start of a line", by: "bob", body: "try /kind bug", want: []string{}},
		{name: "a longer word is no command", by: "bob", body: "/kinda bug\n/labels api-review\n/remove-labels x", want: []string{}},
		{name: "inside an HTML comment", by: "bob", body: "<!--\n/kind bug\n-->", want: []string{}},
		{name: "already there", has: []string{"kind/bug"}, by: "bob", body: "/kind bug", want: []string{"kind/bug"}},
		{name: "not in the repository", by: "bob", body: "/kind nonsense", want: []string{},
			wantReply: "The label(s) `kind/nonsense` cannot be applied: the repository does not have them."},
		{name: "some in the repository", by: "bob", body: "/kind bug nonsense", want: []string{"kind/bug"},
			wantReply: "`kind/nonsense` cannot be applied"},
		{name: "remove", has: []string{"area/docs"}, by: "bob", body: "/remove-area docs", want: []string{}},
		{name: "remove what is not there", by: "bob", body: "/remove-area docs", want: []string{},
			wantReply: "These labels are not set here, so there is nothing to remove: `area/docs`."},
		{name: "removing the last kind asks for one", has: []string{"kind/bug"}, by: "bob", body: "/remove-kind bug",
			want: []string{"needs-kind"}},
		{name: "removing one of two kinds", has: []string{"kind/bug", "kind/feature"}, by: "bob", body: "/remove-kind bug",
			want: []string{"kind/feature"}},
		{name: "replacing the kind", has: []string{"kind/bug"}, by: "bob", body: "/remove-kind bug\n/kind feature",
			want: []string{"kind/feature"}},
		{name: "removing the last sig", has: []string{"sig/node"}, by: "bob", body: "/remove-sig node",
			want: []string{"needs-sig"}},
		{name: "no needs label in the repository", has: []string{"priority/important-soon"}, by: "bob",
			body: "/remove-priority important-soon", want: []string{}},
		{name: "triage accepted by a member", by: "alice", body: "/triage accepted", want: []string{"triage/accepted"}},
		{name: "triage accepted by an outsider", by: "bob", body: "/triage accepted", want: []string{},
			wantReply: "only members of the acme organization may add it"},
		{name: "additional label", by: "bob", body: "/label api-review", want: []string{"api-review"}},
		{name: "remove additional label", has: []string{"api-review"}, by: "bob", body: "/remove-label api-review", want: []string{}},
		{name: "label not allowed", by: "bob", body: "/label kind/bug", want: []string{},
			wantReply: "`kind/bug` cannot be applied with `/label`, which takes only these labels: `api-review`, `not-in-repo`, `restricted-label`, `users-only`"},
		{name: "allowed label the repository lacks", by: "bob", body: "/label not-in-repo", want: []string{},
			wantReply: "the repository does not have them"},
		{name: "label takes one label", by: "bob", body: "/label api-review kind/bug", want: []string{}},
		{name: "restricted label by a team member", by: "carol", body: "/label restricted-label", want: []string{"restricted-label"}},
		{name: "restricted label by an allowed user", by: "dave", body: "/label restricted-label", want: []string{"restricted-label"}},
		{name: "restricted label by someone else", by: "alice", body: "/label restricted-label", want: []string{},
			wantReply: "The label `restricted-label` can only be applied or removed by its allowed users and members of its allowed teams. The teams are: label-admins."},
		{name: "restricted label removed by someone else", has: []string{"restricted-label"}, by: "bob",
			body: "/remove-label restricted-label", want: []string{"restricted-label"}, wantReply: "can only be applied or removed"},
		{name: "repository's restricted label", by: "alice", body: "/label users-only", want: []string{},
			wantReply: "You could ask one of them: dave, erin."},
		{name: "repository's restricted label by an allowed user", by: "erin", body: "/label users-only", want: []string{"users-only"}},
		{name: "a denied label does not stop the others", by: "alice", body: "/label users-only\n/kind bug",
			want: []string{"kind/bug"}, wantReply: "can only be applied or removed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := h.Open("bob", h.Repo, tc.pr, tc.name)
			if len(tc.has) > 0 {
				if err := h.Forge.As(plugintest.BotLogin).Label(h.Ctx, h.Repo, n, tc.has...); err != nil {
					t.Fatal(err)
				}
			}
			h.Comment(tc.by, h.Repo, n, tc.body)
			want := slices.Sorted(slices.Values(tc.want))
			if got := h.Labels(h.Repo, n); !slices.Equal(got, want) {
				t.Errorf("labels = %q, want %q", got, want)
			}
			if replies := h.WantReply(t, h.Repo, n, tc.wantReply); tc.wantReply != "" && len(replies) == 1 {
				if !strings.HasPrefix(replies[0], "@"+tc.by+": ") {
					t.Errorf("reply %q does not address %s", replies[0], tc.by)
				}
				if !strings.Contains(replies[0], "\n>"+strings.Split(tc.body, "\n")[0]) {
					t.Errorf("reply %q does not quote the command", replies[0])
				}
			}
		})
	}
}

func TestAssignOn(t *testing.T) {
	h := start(t)
	pr := h.OpenPR("bob", h.Repo, forge.PullRequest{Title: "change", Head: "change", Files: map[string][]byte{"f": []byte("x")}})
	n := pr.GetNumber()
	if err := h.Forge.As("dave").Label(h.Ctx, h.Repo, n, "other-label"); err != nil {
		t.Fatal(err)
	}
	h.Wait(h.Repo, "labeled", plugintest.PRLabeled(n, "labeled", "other-label"))
	got, err := h.Forge.As("alice").PR(h.Ctx, h.Repo, n)
	if err != nil {
		t.Fatal(err)
	}
	var assignees []string
	for _, u := range got.Assignees {
		assignees = append(assignees, u.GetLogin())
	}
	if !slices.Equal(assignees, []string{"dave"}) {
		t.Errorf("assignees = %q, want [dave]", assignees)
	}
	// Another label assigns nobody.
	if err := h.Forge.As("dave").Label(h.Ctx, h.Repo, n, "kind/bug"); err != nil {
		t.Fatal(err)
	}
	h.Wait(h.Repo, "labeled", plugintest.PRLabeled(n, "labeled", "kind/bug"))
	if got, _ := h.Forge.As("alice").PR(h.Ctx, h.Repo, n); len(got.Assignees) != 1 {
		t.Errorf("assignees after kind/bug: %d, want 1", len(got.Assignees))
	}
}
