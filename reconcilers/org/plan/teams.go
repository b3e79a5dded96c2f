package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/orgs"
)

// configTeam is one team of the configuration, with where it sits.
type configTeam struct {
	name   string
	team   orgs.Team
	parent string
	depth  int
}

// flattenTeams lists the configuration's teams, parents before children.
func flattenTeams(teams map[string]orgs.Team) []configTeam {
	var out []configTeam
	var walk func(teams map[string]orgs.Team, parent string, depth int)
	walk = func(teams map[string]orgs.Team, parent string, depth int) {
		for _, name := range sortedKeys(teams) {
			t := teams[name]
			out = append(out, configTeam{name: name, team: t, parent: parent, depth: depth})
			walk(t.Children, name, depth+1)
		}
	}
	walk(teams, "", 0)
	slices.SortStableFunc(out, func(a, b configTeam) int { return a.depth - b.depth })
	return out
}

// teamIndex is what the configuration says about a team itself.
type teamIndex struct {
	Description *string  `json:"description,omitempty"`
	Privacy     *string  `json:"privacy,omitempty"`
	Parent      string   `json:"parent,omitempty"`
	Previously  []string `json:"previously,omitempty"`
}

// planTeams creates, renames, edits and deletes teams, then sets their
// members and repositories, as peribolos does: a configured team matches
// the existing team of its name or of one of its previous names; teams the
// configuration does not name are deleted.
func planTeams(p *Plan, d *Desired, s *State, m Parts, renames map[string]string) {
	want := flattenTeams(d.Config.Teams)
	names := map[string]string{}
	for _, t := range want {
		for _, n := range append([]string{t.name}, t.team.Previously...) {
			if prev, dup := names[lower(n)]; dup {
				p.problem("team names must be unique, previous names included: %s is used by %s and %s", n, prev, t.name)
			}
			names[lower(n)] = t.name
		}
	}

	// The teams considered: the oldest of each name (GitHub allows a name
	// once per org, but peribolos guards against duplicates all the same).
	var have []*Team
	byName := map[string]*Team{}
	bySlug := map[string]*Team{}
	for i := range s.Teams {
		t := &s.Teams[i]
		if d.Options.IgnoreSecretTeams && t.Privacy == "secret" {
			continue
		}
		have = append(have, t)
		bySlug[t.Slug] = t
		if prev, ok := byName[lower(t.Name)]; !ok || t.ID < prev.ID {
			byName[lower(t.Name)] = t
		}
	}
	matched := map[string]*Team{}
	used := map[string]bool{}
	for _, t := range want {
		for _, n := range append([]string{t.name}, t.team.Previously...) {
			if gt := byName[lower(n)]; gt != nil && !used[gt.Slug] {
				matched[t.name] = gt
				used[gt.Slug] = true
				p.TeamSlugs[t.name] = gt.Slug
				p.TeamIDs[t.name] = gt.ID
				break
			}
		}
	}
	st := &p.Stats
	st.ManagesTeams = true
	st.Teams = len(have)

	for _, t := range want {
		key := "team/" + lower(t.name)
		p.index(key, teamIndex{Description: t.team.Description, Privacy: t.team.Privacy, Parent: lower(t.parent), Previously: t.team.Previously})
		privacy := t.team.Privacy
		if privacy == nil && (t.parent != "" || len(t.team.Children) > 0) {
			// Nested teams must be closed.
			closed := "closed"
			privacy = &closed
		}
		gt := matched[t.name]
		if gt == nil {
			op := CreateTeam{Name: t.name, Parent: t.parent}
			detail := []string{}
			if t.team.Description != nil {
				op.Description = *t.team.Description
			}
			if privacy != nil {
				op.Privacy = *privacy
				detail = append(detail, *privacy)
			}
			if t.parent != "" {
				detail = append(detail, "under "+t.parent)
			}
			p.add(Change{Kind: KindTeam, Action: ActionCreate, Key: key, Object: "team " + t.name,
				Detail: strings.Join(detail, ", "), Op: op, order: t.depth})
		} else {
			planTeamEdit(p, t, gt, privacy, matched, key)
		}
		if m.TeamMembers {
			planTeamMembers(p, d, s, t, gt)
		}
		if m.TeamRepos {
			planTeamRepos(p, s, t, gt, renames)
		}
	}

	depth := func(t *Team) int {
		n := 0
		for p := t; p.Parent != "" && n < 100; n++ {
			if p = bySlug[p.Parent]; p == nil {
				break
			}
		}
		return n
	}
	for _, gt := range have {
		if used[gt.Slug] {
			continue
		}
		p.add(Change{Kind: KindTeam, Action: ActionDelete, Key: "team/" + lower(gt.Name), Object: "team " + gt.Name,
			Detail: "not in the configuration", Op: DeleteTeam{Slug: gt.Slug}, order: -depth(gt)})
	}
}

// planTeamEdit renames a team and changes its description, privacy and
// parent where the configuration says otherwise.
func planTeamEdit(p *Plan, t configTeam, gt *Team, privacy *string, matched map[string]*Team, key string) {
	op := EditTeam{Team: t.name}
	var what []string
	if gt.Name != t.name {
		op.Name = &t.name
		what = append(what, fmt.Sprintf("rename from %s", gt.Name))
	}
	if d := t.team.Description; d != nil && *d != gt.Description {
		op.Description = d
		what = append(what, fmt.Sprintf("description %q → %q", gt.Description, *d))
	}
	if privacy != nil && *privacy != gt.Privacy {
		op.Privacy = privacy
		what = append(what, fmt.Sprintf("privacy %s → %s", gt.Privacy, *privacy))
	}
	switch {
	case t.parent == "" && gt.Parent != "":
		op.RemoveParent = true
		what = append(what, "no parent (was "+gt.Parent+")")
	case t.parent != "":
		pt := matched[t.parent]
		if pt == nil || pt.Slug != gt.Parent {
			parent := t.parent
			op.Parent = &parent
			what = append(what, "parent "+t.parent)
		}
	}
	if len(what) > 0 {
		p.add(Change{Kind: KindTeam, Action: ActionUpdate, Key: key, Object: "team " + t.name,
			Detail: strings.Join(what, ", "), Op: op, order: t.depth})
	}
}

// planTeamMembers adds, promotes and removes a team's members. GitHub lists
// the members of child teams as members of the parent and cannot tell them
// apart from direct members: a listed member who is also listed by a child
// team counts as a direct member when the configuration wants one, and is
// not removed when it does not.
func planTeamMembers(p *Plan, d *Desired, s *State, t configTeam, gt *Team) {
	want := map[string]string{}
	spelled := map[string]string{}
	for _, l := range []struct {
		role  string
		users []string
	}{{"member", t.team.Members}, {"maintainer", t.team.Maintainers}} {
		for _, u := range l.users {
			want[lower(u)] = l.role
			spelled[lower(u)] = u
		}
	}
	have := map[string]string{}
	invitees := map[string]bool{}
	inherited := map[string]bool{}
	if gt != nil {
		have = gt.Members
		if !d.Options.IgnoreInvitees {
			for _, u := range gt.Invitees {
				invitees[lower(u)] = true
			}
		}
		for _, c := range s.Teams {
			if c.Parent == gt.Slug {
				for u := range c.Members {
					inherited[u] = true
				}
			}
		}
	}
	prefix := "team/" + lower(t.name) + "/member/"
	for _, u := range sortedKeys(want) {
		role := want[u]
		key := prefix + u
		p.index(key, role)
		cur, listed := have[u]
		switch {
		case listed && cur == role:
		case listed:
			p.add(Change{Kind: KindTeamMember, Action: ActionUpdate, Key: key, Object: fmt.Sprintf("team %s member %s", t.name, spelled[u]),
				Detail: fmt.Sprintf("role %s → %s", cur, role), Op: SetTeamMember{Team: t.name, Login: spelled[u], Role: role}})
		case invitees[u]:
			// Waiting for them to accept their org invitation.
		default:
			p.add(Change{Kind: KindTeamMember, Action: ActionCreate, Key: key, Object: fmt.Sprintf("team %s member %s", t.name, spelled[u]),
				Detail: "add as " + role, Op: SetTeamMember{Team: t.name, Login: spelled[u], Role: role}})
		}
	}
	removed := map[string]bool{}
	for _, u := range append(sortedKeys(have), sortedKeys(invitees)...) {
		if _, ok := want[u]; ok || removed[u] || inherited[u] {
			continue
		}
		removed[u] = true
		p.add(Change{Kind: KindTeamMember, Action: ActionDelete, Key: prefix + u, Object: fmt.Sprintf("team %s member %s", t.name, u),
			Detail: "remove from the team", Op: RemoveTeamMember{Team: t.name, Login: u}})
	}
}

// planTeamRepos sets a team's permission on the repositories the
// configuration names and withdraws it from the others.
func planTeamRepos(p *Plan, s *State, t configTeam, gt *Team, renames map[string]string) {
	want := map[string]string{}
	spelled := map[string]string{}
	for r, perm := range t.team.Repos {
		if perm = normPermission(perm); perm != "" && perm != "none" {
			want[lower(r)] = perm
			spelled[lower(r)] = r
		}
	}
	have := map[string]string{}
	if gt != nil {
		for r, perm := range gt.Repos {
			if to, ok := renames[r]; ok {
				r = lower(to)
			}
			have[r] = perm
		}
	}
	prefix := "team/" + lower(t.name) + "/repo/"
	for _, r := range sortedKeys(want) {
		key := prefix + r
		p.index(key, want[r])
		if have[r] == want[r] {
			continue
		}
		if s.Read.Repos && s.repo(r) == nil && !createdRepo(p, r) {
			p.note("team %s: repository %s does not exist; its permission is not granted", t.name, spelled[r])
			continue
		}
		action, detail := ActionCreate, "grant "+want[r]
		if cur := have[r]; cur != "" {
			action, detail = ActionUpdate, fmt.Sprintf("permission %s → %s", cur, want[r])
		}
		p.add(Change{Kind: KindTeamRepo, Action: action, Key: key, Object: fmt.Sprintf("team %s repo %s", t.name, spelled[r]),
			Detail: detail, Op: SetTeamRepo{Team: t.name, Repo: spelled[r], Permission: want[r]}})
	}
	for _, r := range sortedKeys(have) {
		if _, ok := want[r]; ok {
			continue
		}
		p.add(Change{Kind: KindTeamRepo, Action: ActionDelete, Key: prefix + r, Object: fmt.Sprintf("team %s repo %s", t.name, r),
			Detail: "withdraw " + have[r], Op: RemoveTeamRepo{Team: t.name, Repo: r}})
	}
}

// createdRepo reports whether the plan creates or renames a repository to
// name.
func createdRepo(p *Plan, name string) bool {
	for _, c := range p.Changes {
		switch op := c.Op.(type) {
		case CreateRepo:
			if strings.EqualFold(op.Name, name) {
				return true
			}
		case EditRepo:
			if op.Patch.Name != nil && strings.EqualFold(*op.Patch.Name, name) {
				return true
			}
		}
	}
	return false
}

// normPermission maps GitHub's legacy permission names to role names:
// pull is read, push is write.
func normPermission(p string) string {
	switch lower(p) {
	case "pull", "read":
		return "read"
	case "push", "write":
		return "write"
	case "triage", "maintain", "admin", "none":
		return lower(p)
	}
	return ""
}
