package plugins_test

import (
	"testing"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins"
	"github.com/bowline-ci/bowline/schema/configset"
	schema "github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/snapshot"
)

type fixed struct{ set *configset.Set }

func (f fixed) Current() *snapshot.Snapshot { return &snapshot.Snapshot{Config: f.set} }

// The plugins describe their settings for a repository, for the plugin
// help, from the applied configuration.
func TestDescribeConfig(t *testing.T) {
	release := "^release-"
	cfg := &schema.Config{
		Size:                 schema.Size{S: 5, M: 10, L: 20, Xl: 40, Xxl: 80},
		Label:                schema.Label{AdditionalLabels: []string{"api-review"}, RestrictedLabels: map[string][]schema.RestrictedLabel{"acme": {{Label: "tide/squash"}}}},
		RepoMilestone:        map[string]schema.Milestone{"": {MaintainersTeam: "release-team"}},
		Dco:                  map[string]*schema.Dco{"acme": {SkipDCOCheckForCollaborators: true, TrustedApps: []string{"bot"}}},
		Override:             schema.Override{AllowTopLevelOwners: true},
		Retitle:              schema.Retitle{AllowClosedIssues: true},
		Blockades:            []schema.Blockade{{Repos: []string{"acme"}, BranchRegexp: &release, BlockRegexps: []string{"^VERSION$"}}},
		Welcome:              []schema.Welcome{{Repos: []string{"acme"}, MessageTemplate: "Hi {{.AuthorLogin}}"}},
		RequireMatchingLabel: []schema.RequireMatchingLabel{{Org: "acme", PRs: true, Issues: true, Branch: "main", Regexp: "^kind/", MissingLabel: "needs-kind"}},
	}
	all := plugins.All(plugins.Deps{Config: fixed{&configset.Set{Plugins: cfg}}})
	want := map[string]string{
		"size":                   "size/XS: 0-4, size/S: 5-9, size/M: 10-19, size/L: 20-39, size/XL: 40-79, size/XXL: 80 or more changed lines.",
		"label":                  "/label takes api-review; restricted labels: tide/squash.",
		"milestone":              "The milestone maintainers team is acme/release-team.",
		"milestonestatus":        "The milestone maintainers team is acme/release-team.",
		"dco":                    "Commits by members of acme are not checked, nor by collaborators, nor by the apps bot.",
		"override":               "May be used by: Repository admins, approvers in the top-level OWNERS file.",
		"retitle":                "Closed issues and pull requests may be retitled too.",
		"blockade":               `Blockades: on branches matching "^release-", files matching ["^VERSION$"] but not [] are blocked (Files are protected).`,
		"welcome":                "New contributors are greeted with: Hi {{.AuthorLogin}}",
		"require-matching-label": `issues and pull requests into main without a label matching "^kind/" get "needs-kind".`,
	}
	seen := map[string]bool{}
	for _, p := range all {
		w, ok := want[p.Name()]
		if !ok {
			continue
		}
		seen[p.Name()] = true
		d, ok := p.(plugin.ConfigDescriber)
		if !ok {
			t.Errorf("%s does not describe its settings", p.Name())
			continue
		}
		if got := d.DescribeConfig("acme", "widgets"); got != w {
			t.Errorf("%s: DescribeConfig = %q, want %q", p.Name(), got, w)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s is not in plugins.All", name)
		}
	}
}
