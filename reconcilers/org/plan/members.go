package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/orgs"
)

// planSettings updates the org settings the configuration sets; the others
// are left as they are.
func planSettings(p *Plan, d *Desired, s *State) {
	want, have := d.Config.Metadata, s.Settings
	op := EditOrg{}
	var what []string
	str := func(name string, want *string, have string, dst **string) {
		if want != nil && *want != have {
			*dst = want
			what = append(what, fmt.Sprintf("%s %q → %q", name, have, *want))
		}
	}
	flag := func(name string, want *bool, have bool, dst **bool) {
		if want != nil && *want != have {
			*dst = want
			what = append(what, fmt.Sprintf("%s %t → %t", name, have, *want))
		}
	}
	str("billing_email", want.BillingEmail, have.BillingEmail, &op.BillingEmail)
	str("company", want.Company, have.Company, &op.Company)
	str("email", want.Email, have.Email, &op.Email)
	str("name", want.Name, have.Name, &op.Name)
	str("description", want.Description, have.Description, &op.Description)
	str("location", want.Location, have.Location, &op.Location)
	flag("has_organization_projects", want.HasOrganizationProjects, have.HasOrganizationProjects, &op.HasOrganizationProjects)
	flag("has_repository_projects", want.HasRepositoryProjects, have.HasRepositoryProjects, &op.HasRepositoryProjects)
	str("default_repository_permission", want.DefaultRepositoryPermission, have.DefaultRepositoryPermission, &op.DefaultRepositoryPermission)
	flag("members_can_create_repositories", want.MembersCanCreateRepositories, have.MembersCanCreateRepositories, &op.MembersCanCreateRepositories)
	flag("members_can_create_public_repositories", want.MembersCanCreatePublicRepositories, have.MembersCanCreatePublicRepositories, &op.MembersCanCreatePublicRepositories)
	flag("members_can_create_private_repositories", want.MembersCanCreatePrivateRepositories, have.MembersCanCreatePrivateRepositories, &op.MembersCanCreatePrivateRepositories)
	flag("members_can_create_internal_repositories", want.MembersCanCreateInternalRepositories, have.MembersCanCreateInternalRepositories, &op.MembersCanCreateInternalRepositories)
	p.index("org", want)
	if len(what) > 0 {
		p.add(Change{Kind: KindOrgSettings, Action: ActionUpdate, Key: "org", Object: "org " + d.Org,
			Detail: strings.Join(what, ", "), Op: op})
	}
}

// planMembers invites and promotes the members and admins the
// configuration names and removes everyone else, pending invitations
// included, as peribolos does. An invitation waiting to be accepted is
// left alone even when its role differs: changing it would send another.
func planMembers(p *Plan, d *Desired, s *State) {
	want := map[string]string{} // lower login → role
	spelled := map[string]string{}
	for _, l := range []struct {
		role  string
		users []string
	}{{"member", d.Config.Members}, {"admin", d.Config.Admins}} {
		for _, u := range l.users {
			want[lower(u)] = l.role
			spelled[lower(u)] = u
		}
	}
	invitees := s.Invitations
	if d.Options.IgnoreInvitees {
		invitees = nil
	}
	st := &p.Stats
	st.ManagesMembers = true
	st.Members = len(s.Members)
	for u := range invitees {
		if _, member := s.Members[u]; !member {
			st.Members++
		}
	}
	for u, role := range want {
		if role == "admin" {
			st.Admins = append(st.Admins, u)
		}
	}
	slices.Sort(st.Admins)
	for _, u := range sortedKeys(want) {
		role := want[u]
		key := "member/" + u
		p.index(key, role)
		have, member := s.Members[u]
		switch {
		case member && have == role:
		case member:
			p.add(Change{Kind: KindMember, Action: ActionUpdate, Key: key, Object: "member " + spelled[u],
				Detail: fmt.Sprintf("role %s → %s", have, role), Op: SetMember{Login: spelled[u], Role: role}})
		case invitees[u] != "":
			// Waiting for them to accept.
		default:
			p.add(Change{Kind: KindMember, Action: ActionCreate, Key: key, Object: "member " + spelled[u],
				Detail: "invite as " + role, Op: SetMember{Login: spelled[u], Role: role}})
		}
	}
	removed := map[string]bool{}
	for _, group := range []struct {
		users  map[string]string
		detail string
	}{{s.Members, "remove from the org (%s)"}, {invitees, "cancel the invitation (%s)"}} {
		for _, u := range sortedKeys(group.users) {
			if _, ok := want[u]; ok || removed[u] {
				continue
			}
			removed[u] = true
			p.add(Change{Kind: KindMember, Action: ActionDelete, Key: "member/" + u, Object: "member " + u,
				Detail: fmt.Sprintf(group.detail, group.users[u]), Op: RemoveMember{Login: u}})
		}
	}
	checkTeamMembersAreMembers(p, d.Config, want)
}

// checkTeamMembersAreMembers reports team members the org config does not
// name as members or admins: peribolos refuses such a configuration, since
// adding them to the team would invite them to the org behind its back.
func checkTeamMembersAreMembers(p *Plan, o *orgs.Org, want map[string]string) {
	outside := map[string]bool{}
	var walk func(teams map[string]orgs.Team)
	walk = func(teams map[string]orgs.Team) {
		for _, t := range teams {
			for _, u := range append(append([]string(nil), t.Maintainers...), t.Members...) {
				if _, ok := want[lower(u)]; !ok {
					outside[u] = true
				}
			}
			walk(t.Children)
		}
	}
	walk(o.Teams)
	if len(outside) > 0 {
		p.problem("team members must be org members or admins too: %s", strings.Join(sortedKeys(outside), ", "))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
