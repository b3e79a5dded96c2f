package orgs

import (
	"slices"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

var (
	repoPermissions = []string{"none", "read", "write", "admin"}
	teamPermissions = []string{"pull", "triage", "push", "maintain", "admin", "read", "write"}
	privacies       = []string{"closed", "secret"}
	visibilities    = []string{"public", "private", "internal"}
)

// Validate runs peribolos' checks and adds every problem to errs: a user is
// a member or an admin, not both; a team maintainer is not also a member;
// permissions, privacy and visibility are known values. A user listed twice
// in one list, and a secret team with child teams, are warnings: peribolos
// accepts them. User names compare case-insensitively, as on GitHub.
func (c *Config) Validate(errs *yamlpos.Errors) {
	for _, name := range sortedKeys(c.Orgs) {
		o := c.Orgs[name]
		seen := map[string]string{}
		for _, list := range []struct {
			role  string
			users []string
		}{{"admins", o.Admins}, {"members", o.Members}} {
			for i, u := range list.users {
				switch prev, dup := seen[lower(u)]; {
				case dup && prev == list.role:
					errs.WarnAt(o.Pos, yamlpos.At(list.role).Index(i), "duplicate-value", "org %s: %s is listed twice in %s", name, u, prev)
				case dup:
					errs.AddAt(o.Pos, yamlpos.At(list.role).Index(i), "org %s: %s is listed in %s and %s", name, u, prev, list.role)
				}
				seen[lower(u)] = list.role
			}
		}
		if p := o.DefaultRepositoryPermission; p != nil && !slices.Contains(repoPermissions, *p) {
			errs.AddAt(o.Pos, yamlpos.At("default_repository_permission"), "org %s: default_repository_permission must be none, read, write or admin, not %q", name, *p)
		}
		validateTeams(name, o.Teams, errs)
		for _, rname := range sortedKeys(o.Repos) {
			r := o.Repos[rname]
			if r.Visibility != nil && !slices.Contains(visibilities, *r.Visibility) {
				errs.AddAt(r.Pos, yamlpos.At("visibility"), "org %s: repo %s: visibility must be public, private or internal, not %q", name, rname, *r.Visibility)
			}
			if r.Visibility != nil && r.Private != nil && (*r.Visibility == "private") != *r.Private {
				errs.AddAt(r.Pos, yamlpos.At("private"), "org %s: repo %s: private and visibility disagree", name, rname)
			}
			for _, u := range sortedKeys(r.Collaborators) {
				if !slices.Contains(teamPermissions, r.Collaborators[u]) && r.Collaborators[u] != "none" {
					errs.AddAt(r.Pos, yamlpos.At("collaborators", u), "org %s: repo %s: collaborator %s: unknown permission %q", name, rname, u, r.Collaborators[u])
				}
			}
		}
	}
}

func validateTeams(org string, teams map[string]Team, errs *yamlpos.Errors) {
	for _, tname := range sortedKeys(teams) {
		t := teams[tname]
		if t.Privacy != nil && !slices.Contains(privacies, *t.Privacy) {
			errs.AddAt(t.Pos, yamlpos.At("privacy"), "org %s: team %s: privacy must be closed or secret, not %q", org, tname, *t.Privacy)
		}
		if len(t.Children) > 0 && t.Privacy != nil && *t.Privacy == "secret" {
			// peribolos loads this and GitHub refuses it when applied.
			errs.WarnAt(t.Pos, yamlpos.At("privacy"), "unknown-value", "org %s: team %s: a secret team cannot have child teams; GitHub will refuse it", org, tname)
		}
		seen := map[string]string{}
		for _, list := range []struct {
			role  string
			users []string
		}{{"maintainers", t.Maintainers}, {"members", t.Members}} {
			for i, u := range list.users {
				switch prev, dup := seen[lower(u)]; {
				case dup && prev == list.role:
					errs.WarnAt(t.Pos, yamlpos.At(list.role).Index(i), "duplicate-value", "org %s: team %s: %s is listed twice in %s", org, tname, u, prev)
				case dup:
					errs.AddAt(t.Pos, yamlpos.At(list.role).Index(i), "org %s: team %s: %s is listed in %s and %s", org, tname, u, prev, list.role)
				}
				seen[lower(u)] = list.role
			}
		}
		for _, r := range sortedKeys(t.Repos) {
			if !slices.Contains(teamPermissions, t.Repos[r]) && t.Repos[r] != "none" {
				errs.AddAt(t.Pos, yamlpos.At("repos", r), "org %s: team %s: repo %s: unknown permission %q", org, tname, r, t.Repos[r])
			}
		}
		validateTeams(org, t.Children, errs)
	}
}

// Counts summarises an org.
type Counts struct {
	Members, Admins, Teams, Repos int
}

// Count counts users, teams (with children) and repos of an org.
func (o *Org) Count() Counts {
	return Counts{Members: len(o.Members), Admins: len(o.Admins), Teams: len(teamNames(o.Teams)), Repos: len(o.Repos)}
}
