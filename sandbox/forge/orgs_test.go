package forge_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"
)

func logins(us []*github.User) string {
	var out []string
	for _, u := range us {
		out = append(out, u.GetLogin())
	}
	return strings.Join(out, ",")
}

func TestUsers(t *testing.T) {
	fx := setup(t)
	me := must[*github.User](t)(fx.client(t, "alice-token").Users.Get(fx.ctx, ""))
	if me.GetLogin() != "alice" || me.GetName() != "Alice" || me.GetEmail() != "alice@example.com" {
		t.Fatalf("/user = %+v", me)
	}
	org := must[*github.User](t)(fx.client(t, "").Users.Get(fx.ctx, "acme"))
	if org.GetType() != "Organization" {
		t.Fatalf("/users/acme type %s", org.GetType())
	}
	_, resp, err := fx.client(t, "").Users.Get(fx.ctx, "")
	if got := status(t, resp, err); got != http.StatusUnauthorized {
		t.Fatalf("anonymous /user = %d, want 401", got)
	}
	orgs := must[[]*github.Organization](t)(fx.client(t, "bob-token").Organizations.List(fx.ctx, "", nil))
	if len(orgs) != 1 || orgs[0].GetLogin() != "acme" {
		t.Fatalf("bob's orgs %v", orgs)
	}
	tests := []struct{ login, want string }{
		{"bob", "acme/secret,acme/widgets"},
		{"carol", "acme/widgets"},
		{"dave", ""},
	}
	for _, tt := range tests {
		repos := must[[]*github.Repository](t)(fx.client(t, tt.login+"-token").Repositories.ListByAuthenticatedUser(fx.ctx, nil))
		var names []string
		for _, r := range repos {
			names = append(names, r.GetFullName())
		}
		if got := strings.Join(names, ","); got != tt.want {
			t.Errorf("/user/repos for %s = %s, want %s", tt.login, got, tt.want)
		}
	}
}

func TestOrgMembership(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	if got := logins(must[[]*github.User](t)(alice.Organizations.ListMembers(fx.ctx, "acme", &github.ListMembersOptions{Role: "admin"}))); got != "alice" {
		t.Fatalf("admins %s", got)
	}
	if got := logins(must[[]*github.User](t)(alice.Organizations.ListMembers(fx.ctx, "acme", nil))); got != "alice,bob" {
		t.Fatalf("members %s", got)
	}
	if !must[bool](t)(alice.Organizations.IsMember(fx.ctx, "acme", "bob")) || must[bool](t)(alice.Organizations.IsMember(fx.ctx, "acme", "dave")) {
		t.Fatal("IsMember wrong")
	}
	_, resp, err := fx.client(t, "bob-token").Organizations.EditOrgMembership(fx.ctx, "dave", "acme", &github.Membership{Role: github.Ptr("member")})
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("member invites = %d, want 403", got)
	}
	// Inviting makes a pending membership that the invitee accepts.
	m := must[*github.Membership](t)(alice.Organizations.EditOrgMembership(fx.ctx, "dave", "acme", &github.Membership{Role: github.Ptr("member")}))
	if m.GetState() != "pending" {
		t.Fatalf("invited membership %s", m.GetState())
	}
	invs := must[[]*github.Invitation](t)(alice.Organizations.ListPendingOrgInvitations(fx.ctx, "acme", nil))
	if len(invs) != 1 || invs[0].GetLogin() != "dave" {
		t.Fatalf("invitations %v", invs)
	}
	dave := fx.client(t, "dave-token")
	m = must[*github.Membership](t)(dave.Organizations.GetOrgMembership(fx.ctx, "", "acme"))
	if m.GetState() != "pending" {
		t.Fatalf("dave sees %s", m.GetState())
	}
	m = must[*github.Membership](t)(dave.Organizations.EditOrgMembership(fx.ctx, "", "acme", &github.Membership{State: github.Ptr("active")}))
	if m.GetState() != "active" || m.GetRole() != "member" {
		t.Fatalf("accepted %s/%s", m.GetState(), m.GetRole())
	}
	m = must[*github.Membership](t)(alice.Organizations.EditOrgMembership(fx.ctx, "dave", "acme", &github.Membership{Role: github.Ptr("admin")}))
	if m.GetRole() != "admin" || m.GetState() != "active" {
		t.Fatalf("promoted %s/%s", m.GetState(), m.GetRole())
	}
	if _, err := alice.Organizations.RemoveOrgMembership(fx.ctx, "dave", "acme"); err != nil {
		t.Fatal(err)
	}
	_, resp, err = alice.Organizations.GetOrgMembership(fx.ctx, "dave", "acme")
	if got := status(t, resp, err); got != http.StatusNotFound {
		t.Fatalf("membership after removal = %d, want 404", got)
	}
	o := must[*github.Organization](t)(alice.Organizations.Edit(fx.ctx, "acme", &github.Organization{Description: github.Ptr("Widgets, Inc.")}))
	if o.GetDescription() != "Widgets, Inc." {
		t.Fatalf("edited org %+v", o)
	}
}

func TestTeams(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	_, resp, err := fx.client(t, "dave-token").Teams.ListTeams(fx.ctx, "acme", nil)
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("outsider lists teams = %d, want 403", got)
	}
	team := must[*github.Team](t)(alice.Teams.CreateTeam(fx.ctx, "acme", github.NewTeam{Name: "Release Managers", Privacy: github.Ptr("closed")}))
	if team.GetSlug() != "release-managers" {
		t.Fatalf("slug %s", team.GetSlug())
	}
	m := must[*github.Membership](t)(alice.Teams.AddTeamMembershipBySlug(fx.ctx, "acme", "release-managers", "bob", &github.TeamAddTeamMembershipOptions{Role: "maintainer"}))
	if m.GetRole() != "maintainer" || m.GetState() != "active" {
		t.Fatalf("membership %+v", m)
	}
	if _, err := alice.Teams.AddTeamRepoBySlug(fx.ctx, "acme", "release-managers", "acme", "secret", &github.TeamAddTeamRepoOptions{Permission: "maintain"}); err != nil {
		t.Fatal(err)
	}
	r := must[*github.Repository](t)(alice.Teams.IsTeamRepoBySlug(fx.ctx, "acme", "release-managers", "acme", "secret"))
	if r.GetRoleName() != "maintain" || !r.GetPermissions().GetMaintain() || r.GetPermissions().GetAdmin() {
		t.Fatalf("team repo %s %+v", r.GetRoleName(), r.GetPermissions())
	}
	// The team grant is what bob may now do on the private repository.
	p := must[*github.RepositoryPermissionLevel](t)(alice.Repositories.GetPermissionLevel(fx.ctx, "acme", "secret", "bob"))
	if p.GetRoleName() != "maintain" || p.GetPermission() != "write" {
		t.Fatalf("bob on secret %s/%s", p.GetRoleName(), p.GetPermission())
	}
	// Adding a non-member to a team invites them to the org.
	m = must[*github.Membership](t)(alice.Teams.AddTeamMembershipBySlug(fx.ctx, "acme", "release-managers", "dave", nil))
	invs := must[[]*github.Invitation](t)(alice.Teams.ListPendingTeamInvitationsBySlug(fx.ctx, "acme", "release-managers", nil))
	if m.GetState() != "pending" || len(invs) != 1 || invs[0].GetLogin() != "dave" {
		t.Fatalf("team invitation: state %s, invitations %v", m.GetState(), invs)
	}
	must[*github.Membership](t)(fx.client(t, "dave-token").Organizations.EditOrgMembership(fx.ctx, "", "acme", &github.Membership{State: github.Ptr("active")}))
	if _, err := alice.Teams.RemoveTeamMembershipBySlug(fx.ctx, "acme", "release-managers", "dave"); err != nil {
		t.Fatal(err)
	}
	outside := must[[]*github.User](t)(alice.Organizations.ListOutsideCollaborators(fx.ctx, "acme", nil))
	if logins(outside) != "carol" {
		t.Fatalf("outside collaborators %s", logins(outside))
	}
	// A team maintainer manages the team.
	bob := fx.client(t, "bob-token")
	must[*github.Membership](t)(bob.Teams.AddTeamMembershipBySlug(fx.ctx, "acme", "release-managers", "alice", nil))
	if got := logins(must[[]*github.User](t)(alice.Teams.ListTeamMembersBySlug(fx.ctx, "acme", "release-managers", nil))); got != "alice,bob" {
		t.Fatalf("members %s", got)
	}
	if got := logins(must[[]*github.User](t)(alice.Teams.ListTeamMembersBySlug(fx.ctx, "acme", "release-managers", &github.TeamListTeamMembersOptions{Role: "maintainer"}))); got != "bob" {
		t.Fatalf("maintainers %s", got)
	}
	repos := must[[]*github.Repository](t)(alice.Teams.ListTeamReposBySlug(fx.ctx, "acme", "release-managers", nil))
	if len(repos) != 1 || repos[0].GetName() != "secret" {
		t.Fatalf("team repos %v", repos)
	}
	parent := must[*github.Team](t)(alice.Teams.GetTeamBySlug(fx.ctx, "acme", "maintainers"))
	edited := must[*github.Team](t)(alice.Teams.EditTeamBySlug(fx.ctx, "acme", "release-managers",
		github.NewTeam{Name: "Releasers", ParentTeamID: github.Ptr(parent.GetID())}, false))
	if edited.GetSlug() != "releasers" || edited.GetParent().GetSlug() != "maintainers" {
		t.Fatalf("edited team %+v", edited)
	}
	teams := must[[]*github.Team](t)(bob.Teams.ListTeams(fx.ctx, "acme", nil))
	if len(teams) != 2 {
		t.Fatalf("teams %v", teams)
	}
	if _, err := alice.Teams.RemoveTeamRepoBySlug(fx.ctx, "acme", "releasers", "acme", "secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Teams.RemoveTeamMembershipBySlug(fx.ctx, "acme", "releasers", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Teams.DeleteTeamBySlug(fx.ctx, "acme", "releasers"); err != nil {
		t.Fatal(err)
	}
	_, resp, err = alice.Teams.GetTeamBySlug(fx.ctx, "acme", "releasers")
	if got := status(t, resp, err); got != http.StatusNotFound {
		t.Fatalf("deleted team = %d, want 404", got)
	}
}

func TestTeamsByID(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	org := must[*github.Organization](t)(alice.Organizations.Get(fx.ctx, "acme"))
	team := must[*github.Team](t)(alice.Teams.GetTeamBySlug(fx.ctx, "acme", "maintainers"))
	got := must[*github.Team](t)(alice.Teams.GetTeamByID(fx.ctx, org.GetID(), team.GetID()))
	if got.GetSlug() != "maintainers" {
		t.Fatalf("by ID: %+v", got)
	}
	must[*github.Membership](t)(alice.Teams.AddTeamMembershipByID(fx.ctx, org.GetID(), team.GetID(), "alice", nil))
	if got := logins(must[[]*github.User](t)(alice.Teams.ListTeamMembersByID(fx.ctx, org.GetID(), team.GetID(), nil))); got != "alice,bob" {
		t.Fatalf("members by ID %s", got)
	}
	_, resp, err := alice.Teams.GetTeamByID(fx.ctx, org.GetID(), 1)
	if got := status(t, resp, err); got != http.StatusNotFound {
		t.Fatalf("unknown team ID = %d, want 404", got)
	}
}
