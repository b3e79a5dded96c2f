package forge_test

import (
	"net/http"
	"testing"

	"github.com/google/go-github/v89/github"
)

func TestOrgSettings(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	o := must[*github.Organization](t)(alice.Organizations.Get(fx.ctx, "acme"))
	if !o.GetHasOrganizationProjects() || !o.GetMembersCanCreateRepos() || o.GetDefaultRepoPermission() != "read" {
		t.Fatalf("a new org's settings: %+v", o)
	}
	o = must[*github.Organization](t)(alice.Organizations.Edit(fx.ctx, "acme", &github.Organization{
		BillingEmail: github.Ptr("billing@acme.example"), Company: github.Ptr("ACME"), Location: github.Ptr("Earth"),
		HasRepositoryProjects: github.Ptr(false), MembersCanCreateRepos: github.Ptr(false), DefaultRepoPermission: github.Ptr("none"),
	}))
	if o.GetBillingEmail() != "billing@acme.example" || o.GetCompany() != "ACME" || o.GetLocation() != "Earth" ||
		o.GetHasRepositoryProjects() || !o.GetHasOrganizationProjects() || o.GetMembersCanCreateRepos() ||
		o.GetMembersCanCreatePrivateRepos() || o.GetDefaultRepoPermission() != "none" {
		t.Fatalf("edited settings: %+v", o)
	}
	_, resp, err := fx.client(t, "bob-token").Organizations.Edit(fx.ctx, "acme", &github.Organization{Company: github.Ptr("x")})
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("a member edits the org: %d, want 403", got)
	}
}

func TestOrgInvitationCancel(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	m := must[*github.Membership](t)(alice.Organizations.EditOrgMembership(fx.ctx, "dave", "acme", &github.Membership{Role: github.Ptr("admin")}))
	if m.GetState() != "pending" || m.GetRole() != "admin" {
		t.Fatalf("membership %+v", m)
	}
	invs := must[[]*github.Invitation](t)(alice.Organizations.ListPendingOrgInvitations(fx.ctx, "acme", nil))
	if len(invs) != 1 || invs[0].GetLogin() != "dave" || invs[0].GetRole() != "admin" {
		t.Fatalf("invitations %v", invs)
	}
	if _, err := alice.Organizations.CancelInvite(fx.ctx, "acme", invs[0].GetID()); err != nil {
		t.Fatal(err)
	}
	if invs := must[[]*github.Invitation](t)(alice.Organizations.ListPendingOrgInvitations(fx.ctx, "acme", nil)); len(invs) != 0 {
		t.Fatalf("invitations after cancelling %v", invs)
	}
}

func TestNestedTeams(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	parent := must[*github.Team](t)(alice.Teams.GetTeamBySlug(fx.ctx, "acme", "maintainers"))
	// A secret team cannot be nested; a child team is closed by default.
	_, resp, err := alice.Teams.CreateTeam(fx.ctx, "acme", github.NewTeam{Name: "Hidden", Privacy: github.Ptr("secret"), ParentTeamID: github.Ptr(parent.GetID())})
	if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
		t.Fatalf("secret child team: %d, want 422", got)
	}
	child := must[*github.Team](t)(alice.Teams.CreateTeam(fx.ctx, "acme", github.NewTeam{Name: "Leads", ParentTeamID: github.Ptr(parent.GetID())}))
	if child.GetPrivacy() != "closed" || child.GetParent().GetSlug() != "maintainers" {
		t.Fatalf("child team %+v", child)
	}
	top := must[*github.Team](t)(alice.Teams.CreateTeam(fx.ctx, "acme", github.NewTeam{Name: "Top"}))
	if top.GetPrivacy() != "secret" {
		t.Fatalf("a top-level team's privacy defaults to %s, want secret", top.GetPrivacy())
	}
	children := must[[]*github.Team](t)(alice.Teams.ListChildTeamsByParentSlug(fx.ctx, "acme", "maintainers", nil))
	if len(children) != 1 || children[0].GetSlug() != "leads" {
		t.Fatalf("child teams %v", children)
	}
	// A parent's members include its children's, with their role there;
	// members whose org invitation is pending are not listed.
	must[*github.Membership](t)(alice.Teams.AddTeamMembershipBySlug(fx.ctx, "acme", "leads", "alice", &github.TeamAddTeamMembershipOptions{Role: "maintainer"}))
	pending := must[*github.Membership](t)(alice.Teams.AddTeamMembershipBySlug(fx.ctx, "acme", "leads", "dave", nil))
	if pending.GetState() != "pending" {
		t.Fatalf("a non-member's team membership: %+v", pending)
	}
	if got := logins(must[[]*github.User](t)(alice.Teams.ListTeamMembersBySlug(fx.ctx, "acme", "maintainers", nil))); got != "alice,bob" {
		t.Fatalf("parent's members %s", got)
	}
	if got := logins(must[[]*github.User](t)(alice.Teams.ListTeamMembersBySlug(fx.ctx, "acme", "maintainers", &github.TeamListTeamMembersOptions{Role: "member"}))); got != "" {
		t.Fatalf("parent's members in the member role: %s", got)
	}
	invs := must[[]*github.Invitation](t)(alice.Teams.ListPendingTeamInvitationsBySlug(fx.ctx, "acme", "leads", nil))
	if len(invs) != 1 || invs[0].GetLogin() != "dave" {
		t.Fatalf("team invitations %v", invs)
	}
	m := must[*github.Membership](t)(alice.Teams.GetTeamMembershipBySlug(fx.ctx, "acme", "maintainers", "alice"))
	if m.GetRole() != "maintainer" || m.GetState() != "active" {
		t.Fatalf("membership through a child team %+v", m)
	}
	// A parent cannot become secret, nor a team its own descendant's child.
	_, resp, err = alice.Teams.EditTeamBySlug(fx.ctx, "acme", "maintainers", github.NewTeam{Name: "Maintainers", Privacy: github.Ptr("secret")}, false)
	if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
		t.Fatalf("secret parent: %d, want 422", got)
	}
	_, resp, err = alice.Teams.EditTeamBySlug(fx.ctx, "acme", "maintainers", github.NewTeam{Name: "Maintainers", ParentTeamID: github.Ptr(child.GetID())}, false)
	if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
		t.Fatalf("a cycle: %d, want 422", got)
	}
	// parent_team_id null makes a team top-level again.
	moved := must[*github.Team](t)(alice.Teams.EditTeamBySlug(fx.ctx, "acme", "leads", github.NewTeam{Name: "Leads"}, true))
	if moved.Parent != nil {
		t.Fatalf("parent after removing it: %+v", moved.GetParent())
	}
}

func TestRepositorySettings(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	r := must[*github.Repository](t)(alice.Repositories.Edit(fx.ctx, "acme", "secret", &github.Repository{
		Visibility: github.Ptr("internal"), SquashMergeCommitTitle: github.Ptr("PR_TITLE"), SquashMergeCommitMessage: github.Ptr("PR_BODY")}))
	if r.GetVisibility() != "internal" || !r.GetPrivate() || r.GetSquashMergeCommitTitle() != "PR_TITLE" || r.GetSquashMergeCommitMessage() != "PR_BODY" {
		t.Fatalf("edited %+v", r)
	}
	_, resp, err := alice.Repositories.Edit(fx.ctx, "acme", "secret", &github.Repository{SquashMergeCommitTitle: github.Ptr("WHATEVER")})
	if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
		t.Fatalf("unknown squash title: %d, want 422", got)
	}
	must[*github.Repository](t)(alice.Repositories.Edit(fx.ctx, "acme", "secret", &github.Repository{Archived: github.Ptr(true)}))
	_, resp, err = alice.Repositories.Edit(fx.ctx, "acme", "secret", &github.Repository{Description: github.Ptr("x")})
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("editing an archived repository: %d, want 403", got)
	}
	if r := must[*github.Repository](t)(alice.Repositories.Edit(fx.ctx, "acme", "secret", &github.Repository{Archived: github.Ptr(false)})); r.GetArchived() {
		t.Fatal("still archived")
	}
}

func TestRepositoryInvitations(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	// bob is an org member: added at once.
	inv, resp, err := alice.Repositories.AddCollaborator(fx.ctx, "acme", "secret", "bob", &github.RepositoryAddCollaboratorOptions{Permission: "push"})
	if err != nil || resp.StatusCode != http.StatusNoContent || inv != nil {
		t.Fatalf("adding a member: %d %v %v", resp.StatusCode, inv, err)
	}
	inv = must[*github.CollaboratorInvitation](t)(alice.Repositories.AddCollaborator(fx.ctx, "acme", "secret", "dave", &github.RepositoryAddCollaboratorOptions{Permission: "pull"}))
	list := must[[]*github.RepositoryInvitation](t)(alice.Repositories.ListInvitations(fx.ctx, "acme", "secret", nil))
	if len(list) != 1 || list[0].GetInvitee().GetLogin() != "dave" || list[0].GetPermissions() != "read" {
		t.Fatalf("invitations %v", list)
	}
	if got := must[*github.RepositoryInvitation](t)(alice.Repositories.UpdateInvitation(fx.ctx, "acme", "secret", inv.GetID(), "maintain")); got.GetPermissions() != "maintain" {
		t.Fatalf("updated invitation %+v", got)
	}
	if _, err := alice.Repositories.DeleteInvitation(fx.ctx, "acme", "secret", inv.GetID()); err != nil {
		t.Fatal(err)
	}
	if list := must[[]*github.RepositoryInvitation](t)(alice.Repositories.ListInvitations(fx.ctx, "acme", "secret", nil)); len(list) != 0 {
		t.Fatalf("invitations after deleting %v", list)
	}
	direct := must[[]*github.User](t)(alice.Repositories.ListCollaborators(fx.ctx, "acme", "secret", &github.ListCollaboratorsOptions{Affiliation: "direct"}))
	if logins(direct) != "bob" || direct[0].GetRoleName() != "write" {
		t.Fatalf("direct collaborators %v", direct)
	}
}

func TestFullBranchProtection(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	req := &github.ProtectionRequest{
		RequiredStatusChecks: &github.RequiredStatusChecks{Strict: true, Contexts: &[]string{"unit"}},
		RequiredPullRequestReviews: &github.PullRequestReviewsEnforcementRequest{RequiredApprovingReviewCount: 2, DismissStaleReviews: true,
			DismissalRestrictionsRequest:       &github.DismissalRestrictionsRequest{Users: &[]string{"Alice"}, Teams: &[]string{"maintainers"}},
			BypassPullRequestAllowancesRequest: &github.BypassPullRequestAllowancesRequest{Users: []string{"bob"}, Teams: []string{}, Apps: []string{}}},
		EnforceAdmins:        true,
		Restrictions:         &github.BranchRestrictionsRequest{Users: []string{"alice"}, Teams: []string{"maintainers"}, Apps: []string{}},
		RequireLinearHistory: github.Ptr(true),
		AllowDeletions:       github.Ptr(false),
	}
	must[*github.Protection](t)(alice.Repositories.UpdateBranchProtection(fx.ctx, "acme", "widgets", "main", req))
	must[*github.SignaturesProtectedBranch](t)(alice.Repositories.RequireSignaturesOnProtectedBranch(fx.ctx, "acme", "widgets", "main"))
	p := must[*github.Protection](t)(alice.Repositories.GetBranchProtection(fx.ctx, "acme", "widgets", "main"))
	rv := p.GetRequiredPullRequestReviews()
	if rv.RequiredApprovingReviewCount != 2 || !rv.DismissStaleReviews || logins(rv.DismissalRestrictions.Users) != "alice" ||
		rv.DismissalRestrictions.Teams[0].GetSlug() != "maintainers" || logins(rv.BypassPullRequestAllowances.Users) != "bob" {
		t.Fatalf("reviews %+v", rv)
	}
	if !p.GetEnforceAdmins().Enabled || !p.GetRequireLinearHistory().Enabled || !p.GetRequiredSignatures().GetEnabled() ||
		logins(p.GetRestrictions().Users) != "alice" || p.GetRestrictions().Teams[0].GetSlug() != "maintainers" {
		t.Fatalf("protection %+v", p)
	}
	// A PUT leaves the signature requirement alone.
	must[*github.Protection](t)(alice.Repositories.UpdateBranchProtection(fx.ctx, "acme", "widgets", "main", &github.ProtectionRequest{}))
	if !must[*github.SignaturesProtectedBranch](t)(alice.Repositories.GetSignaturesProtectedBranch(fx.ctx, "acme", "widgets", "main")).GetEnabled() {
		t.Fatal("signatures no longer required after a PUT")
	}
	if _, err := alice.Repositories.OptionalSignaturesOnProtectedBranch(fx.ctx, "acme", "widgets", "main"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []*github.ProtectionRequest{
		{Restrictions: &github.BranchRestrictionsRequest{Users: []string{"nobody"}}},
		{Restrictions: &github.BranchRestrictionsRequest{Teams: []string{"no-such-team"}}},
		{Restrictions: &github.BranchRestrictionsRequest{Apps: []string{"no-such-app"}}},
	} {
		_, resp, err := alice.Repositories.UpdateBranchProtection(fx.ctx, "acme", "widgets", "main", bad)
		if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
			t.Fatalf("protection naming %+v: %d, want 422", bad.Restrictions, got)
		}
	}
}
