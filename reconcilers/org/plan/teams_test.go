package plan

import "testing"

func TestTeams(t *testing.T) {
	t.Parallel()
	members := map[string]string{"alice": "admin", "bob": "member", "carol": "member", "dave": "member"}
	tests := []struct {
		name  string
		org   string
		teams []Team
		repos []Repo
		opts  Options
		want  []string
	}{{
		name: "nested teams are created parents first, closed, with members and repositories",
		org: `
teams:
  sig-foo:
    description: Foo.
    maintainers: [alice]
    members: [bob]
    repos: {widgets: push}
    teams:
      sig-foo-leads:
        members: [alice]
`,
		repos: []Repo{{Name: "widgets"}},
		want: []string{
			"+ team sig-foo: closed",
			"+ team sig-foo-leads: closed, under sig-foo",
			"+ team sig-foo-leads member alice: add as member",
			"+ team sig-foo member alice: add as maintainer",
			"+ team sig-foo member bob: add as member",
			"+ team sig-foo repo widgets: grant write",
		},
	}, {
		name: "a team found under a previous name is renamed",
		org: `
teams:
  new-name:
    previously: [Old Name]
    description: Same.
    privacy: secret
`,
		teams: []Team{{ID: 1, Slug: "old-name", Name: "Old Name", Description: "Same.", Privacy: "secret"}},
		want:  []string{"~ team new-name: rename from Old Name"},
	}, {
		name: "description, privacy and parent are corrected; unset ones are left alone",
		org: `
teams:
  parent:
    teams:
      child:
        description: Child.
  other:
    privacy: secret
`,
		teams: []Team{
			{ID: 1, Slug: "parent", Name: "parent", Privacy: "closed"},
			{ID: 2, Slug: "child", Name: "child", Privacy: "secret", Description: "Old."},
			{ID: 3, Slug: "other", Name: "other", Privacy: "closed", Description: "Kept.", Parent: "parent"},
		},
		want: []string{
			`~ team other: privacy closed → secret, no parent (was parent)`,
			`~ team child: description "Old." → "Child.", privacy secret → closed, parent parent`,
		},
	}, {
		name: "teams the config does not name are deleted, children first",
		org:  "teams:\n  keep: {}\n",
		teams: []Team{
			{ID: 1, Slug: "keep", Name: "keep", Privacy: "secret"},
			{ID: 2, Slug: "gone", Name: "gone", Privacy: "closed"},
			{ID: 3, Slug: "gone-child", Name: "gone-child", Privacy: "closed", Parent: "gone"},
		},
		want: []string{
			"- team gone-child: not in the configuration",
			"- team gone: not in the configuration",
		},
	}, {
		name: "secret teams can be ignored",
		org:  "teams: {}\n",
		teams: []Team{
			{ID: 1, Slug: "hidden", Name: "hidden", Privacy: "secret"},
		},
		opts: Options{IgnoreSecretTeams: true},
	}, {
		name: "members: roles, additions, removals and invitees",
		org: `
teams:
  t:
    maintainers: [alice]
    members: [bob, carol]
`,
		teams: []Team{{ID: 1, Slug: "t", Name: "t", Privacy: "secret",
			Members: map[string]string{"alice": "member", "dave": "member"}, Invitees: []string{"carol"}}},
		want: []string{
			"~ team t member alice: role member → maintainer",
			"+ team t member bob: add as member",
			"- team t member dave: remove from the team",
		},
	}, {
		name: "members of a child team are listed by the parent and not removed from it",
		org: `
teams:
  parent:
    members: [alice]
    teams:
      child:
        members: [bob]
`,
		teams: []Team{
			{ID: 1, Slug: "parent", Name: "parent", Privacy: "closed", Members: map[string]string{"alice": "member", "bob": "member"}},
			{ID: 2, Slug: "child", Name: "child", Privacy: "closed", Parent: "parent", Members: map[string]string{"bob": "member"}},
		},
	}, {
		name: "repositories: permissions compared by role, renamed repositories followed, others withdrawn",
		org: `
teams:
  t:
    repos:
      widgets: pull
      gadgets: maintain
      renamed: admin
repos:
  renamed:
    previously: [old]
`,
		teams: []Team{{ID: 1, Slug: "t", Name: "t", Privacy: "secret",
			Repos: map[string]string{"widgets": "read", "gadgets": "write", "old": "admin", "legacy": "read"}}},
		repos: []Repo{{Name: "widgets"}, {Name: "gadgets"}, {Name: "old"}, {Name: "legacy"}},
		want: []string{
			"~ repo renamed: rename from old",
			"~ team t repo gadgets: permission write → maintain",
			"- team t repo legacy: withdraw read",
		},
	}, {
		name:  "a repository that does not exist is not granted",
		org:   "teams:\n  t:\n    repos: {nowhere: read}\n",
		teams: []Team{{ID: 1, Slug: "t", Name: "t", Privacy: "secret"}},
	}, {
		name:  "team members unmanaged",
		org:   "teams:\n  t:\n    members: [bob]\n",
		teams: []Team{{ID: 1, Slug: "t", Name: "t", Privacy: "secret", Members: map[string]string{"dave": "member"}}},
		opts:  Options{Unmanaged: Parts{TeamMembers: true}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := desired(t, map[string]string{"orgs/acme/org.yaml": "admins: [alice]\nmembers: [bob, carol, dave]\n" + tt.org}, tt.opts)
			s := &State{Org: "acme", Read: AllParts, Members: members, Teams: tt.teams, Repos: tt.repos}
			diffLines(t, Compute(d, s), tt.want)
		})
	}
}

func TestTeamPlanMapsNamesToSlugs(t *testing.T) {
	t.Parallel()
	d := desired(t, map[string]string{"orgs/acme/org.yaml": "teams:\n  New Name:\n    previously: [old]\n  fresh: {}\n"}, Options{Unmanaged: Parts{Members: true}})
	p := Compute(d, &State{Org: "acme", Teams: []Team{{ID: 7, Slug: "old", Name: "old", Privacy: "secret"}}})
	if p.TeamSlugs["New Name"] != "old" || p.TeamIDs["New Name"] != 7 || p.TeamSlugs["fresh"] != "" {
		t.Fatalf("slugs %v, IDs %v", p.TeamSlugs, p.TeamIDs)
	}
}
