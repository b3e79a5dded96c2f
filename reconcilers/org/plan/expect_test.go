package plan

import (
	"strings"
	"testing"
)

// expectFiles is a configuration that touches every part the planner
// manages.
var expectFiles = map[string]string{
	"orgs/acme/org.yaml": `
name: Acme
description: Widgets and gadgets
admins: [alice, bot]
members: [bob, carol, dave]
repos:
  widgets:
    description: Widgets
    has_wiki: false
    collaborators: {erin: read}
  gadgets:
    previously: [old-gadgets]
    allow_merge_commit: false
  tools:
    private: true
teams:
  Maintainers:
    description: People who merge
    privacy: closed
    maintainers: [alice]
    members: [bob]
    repos: {widgets: write, gadgets: admin}
    teams:
      Reviewers:
        members: [carol]
        repos: {widgets: triage}
  Release Team:
    previously: [releasers]
    members: [dave]
`,
	"config.yaml": `
branch-protection:
  orgs:
    acme:
      protect: true
      required_status_checks: {contexts: [cla]}
      repos:
        gadgets:
          branches:
            legacy: {protect: false}
`,
	"labels.yaml": `
default:
  labels:
  - {name: lgtm, color: 15dd18, description: Looks good}
  - name: kind/bug
    color: e11d21
    previously: [{name: bug, color: e11d21}]
  - {name: stale-label, color: "000000", deleteAfter: 2020-01-01T00:00:00Z}
`,
	"jobs/jobs.yaml": `
presubmits:
  acme/widgets:
  - name: unit
    always_run: true
    spec: {containers: [{image: alpine}]}
`,
}

// TestConverged: once the plan is applied to a state, as Expected says,
// planning the same configuration again changes nothing (blocked changes
// aside): Expected makes each change as the applier would.
func TestConverged(t *testing.T) {
	t.Parallel()
	d := desired(t, expectFiles, Options{})
	states := map[string]*State{
		"an empty org": {Org: "acme", Read: AllParts},
		"an org that drifted": {Org: "acme", Read: AllParts,
			Settings:    OrgSettings{Name: "ACME", DefaultRepositoryPermission: "read"},
			Members:     map[string]string{"alice": "member", "bot": "admin", "mallory": "admin"},
			Invitations: map[string]string{"carol": "member", "trent": "member"},
			Teams: []Team{
				{ID: 1, Slug: "maintainers", Name: "Maintainers", Privacy: "secret", Members: map[string]string{"mallory": "member"}, Repos: map[string]string{"tools": "admin"}},
				{ID: 2, Slug: "releasers", Name: "releasers", Privacy: "closed", Members: map[string]string{"dave": "maintainer"}},
				{ID: 3, Slug: "old", Name: "Old", Privacy: "closed"},
				{ID: 4, Slug: "old-child", Name: "Old Child", Privacy: "closed", Parent: "old"},
			},
			Repos: []Repo{
				{Name: "widgets", Settings: RepoSettings{HasWiki: true, Visibility: "public"}, Collaborators: map[string]string{"zed": "admin"},
					Branches: []Branch{{Name: "main"}, {Name: "dev", Protected: true, Protection: &Protection{EnforceAdmins: true}}},
					Labels:   []Label{{Name: "bug", Color: "e11d21"}, {Name: "lgtm", Color: "ffffff"}, {Name: "stale-label", Color: "000000"}, {Name: "mine", Color: "abcdef"}}},
				{Name: "old-gadgets", Settings: RepoSettings{AllowMergeCommit: true},
					Branches: []Branch{{Name: "main"}, {Name: "legacy", Protected: true, Protection: &Protection{}}}},
				{Name: "tools", Settings: RepoSettings{Private: false, Visibility: "public"}},
			}},
	}
	for name, s := range states {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			first := Compute(d, s)
			if first.Counts().Total() == 0 {
				t.Fatal("nothing to plan: the test proves nothing")
			}
			before := Compute(d, s).Format()
			end := Converged(d, s)
			if after := Compute(d, s).Format(); after != before {
				t.Fatalf("Converged changed its input:\n%s\n%s", before, after)
			}
			p := Compute(d, end)
			for _, c := range p.Changes {
				if c.Blocked == "" {
					t.Errorf("still planned once converged: %s", c)
				}
			}
			if t.Failed() {
				t.Logf("first plan:\n%s\nconverged:\n%s", first.Format(), p.Format())
			}
		})
	}
}

// TestExpectedDiffsConfigurations: planning a new configuration against
// what the old one leaves is the change between them.
func TestExpectedDiffsConfigurations(t *testing.T) {
	t.Parallel()
	base := desired(t, expectFiles, Options{})
	files := map[string]string{}
	for k, v := range expectFiles {
		files[k] = v
	}
	files["orgs/acme/org.yaml"] = strings.NewReplacer(
		"members: [bob, carol, dave]", "members: [bob, carol, dave, frank]",
		"    members: [dave]\n", "    members: [dave, frank]\n",
		"has_wiki: false", "has_wiki: true",
	).Replace(files["orgs/acme/org.yaml"])
	files["labels.yaml"] += "  - {name: needs-rebase, color: ededed}\n"
	head := desired(t, files, Options{})
	s := &State{Org: "acme", Read: AllParts, Repos: []Repo{{Name: "widgets", Branches: []Branch{{Name: "main"}}}}}
	p := Compute(head, Converged(base, s))
	diffLines(t, p, []string{
		"+ member frank: invite as member",
		"~ repo widgets: has_wiki false → true",
		"+ team Release Team member frank: add as member",
		"+ label needs-rebase in gadgets: create #ededed",
		"+ label needs-rebase in tools: create #ededed",
		"+ label needs-rebase in widgets: create #ededed",
	})
}

func TestEquivalent(t *testing.T) {
	t.Parallel()
	base := desired(t, expectFiles, Options{})
	with := func(name, from, to string) *Desired {
		files := map[string]string{}
		for k, v := range expectFiles {
			files[k] = v
		}
		if !strings.Contains(files[name], from) {
			t.Fatalf("%s lacks %q", name, from)
		}
		files[name] = strings.Replace(files[name], from, to, 1)
		return desired(t, files, Options{})
	}
	tests := []struct {
		name string
		d    *Desired
		want bool
	}{
		{name: "the same", d: desired(t, expectFiles, Options{}), want: true},
		{name: "lines moved", d: with("orgs/acme/org.yaml", "name: Acme", "\n\nname: Acme"), want: true},
		{name: "a job's image", d: with("jobs/jobs.yaml", "image: alpine", "image: golang"), want: true},
		{name: "a job made optional", d: with("jobs/jobs.yaml", "always_run: true", "always_run: true\n    optional: true")},
		{name: "a job that does not report", d: with("jobs/jobs.yaml", "always_run: true", "always_run: true\n    skip_report: true")},
		{name: "a job made manual", d: with("jobs/jobs.yaml", "always_run: true", "always_run: false")},
		{name: "a job's context", d: with("jobs/jobs.yaml", "name: unit", "name: unit\n    context: ci/unit")},
		{name: "a member", d: with("orgs/acme/org.yaml", "members: [bob, carol, dave]", "members: [bob, carol]")},
		{name: "protection", d: with("config.yaml", "contexts: [cla]", "contexts: [cla, dco]")},
		{name: "another org's protection", d: with("config.yaml", "branch-protection:\n  orgs:\n", "branch-protection:\n  orgs:\n    other: {protect: true}\n"), want: true},
		{name: "another org's labels", d: with("labels.yaml", "default:\n", "repos:\n  other/repo:\n    labels: [{name: x, color: ffffff}]\ndefault:\n"), want: true},
		{name: "a repository's labels", d: with("labels.yaml", "default:\n", "repos:\n  acme/widgets:\n    labels: [{name: x, color: ffffff}]\ndefault:\n")},
		{name: "a label", d: with("labels.yaml", "color: 15dd18", "color: 15dd19")},
		{name: "other options", d: desired(t, expectFiles, Options{DeleteUnlistedLabels: true})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := base.Equivalent(tt.d); got != tt.want {
				t.Errorf("Equivalent = %t, want %t", got, tt.want)
			}
		})
	}
}
