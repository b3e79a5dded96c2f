package org

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/reconcilers/org/plan"
)

// Applier makes a plan's changes on GitHub, one request at a time: GitHub
// asks integrations to send writes serially to stay clear of its secondary
// rate limits.
type Applier struct {
	gh  *github.Client
	org string
	// slugs and ids map configured team names to GitHub's slugs and IDs,
	// as the plan found them and as creations and renames change them.
	slugs map[string]string
	ids   map[string]int64
}

// NewApplier prepares to apply p through gh.
func NewApplier(gh *github.Client, p *plan.Plan) *Applier {
	a := &Applier{gh: gh, org: p.Org, slugs: map[string]string{}, ids: map[string]int64{}}
	for k, v := range p.TeamSlugs {
		a.slugs[k] = v
	}
	for k, v := range p.TeamIDs {
		a.ids[k] = v
	}
	return a
}

// Apply makes the changes in order and calls done after each with its
// outcome. A failed change does not stop the others; the errors are
// returned together.
func (a *Applier) Apply(ctx context.Context, changes []plan.Change, done func(plan.Change, error)) error {
	var errs []error
	for _, c := range changes {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		err := a.apply(ctx, c.Op)
		if err != nil {
			err = fmt.Errorf("%s: %w", c.Object, err)
			errs = append(errs, err)
		}
		if done != nil {
			done(c, err)
		}
	}
	return errors.Join(errs...)
}

func (a *Applier) apply(ctx context.Context, op plan.Op) error {
	gh, org := a.gh, a.org
	switch op := op.(type) {
	case plan.EditOrg:
		_, _, err := gh.Organizations.Edit(ctx, org, &github.Organization{
			BillingEmail: op.BillingEmail, Company: op.Company, Email: op.Email, Name: op.Name, Description: op.Description,
			Location: op.Location, HasOrganizationProjects: op.HasOrganizationProjects, HasRepositoryProjects: op.HasRepositoryProjects,
			DefaultRepoPermission: op.DefaultRepositoryPermission, MembersCanCreateRepos: op.MembersCanCreateRepositories,
			MembersCanCreatePublicRepos: op.MembersCanCreatePublicRepositories, MembersCanCreatePrivateRepos: op.MembersCanCreatePrivateRepositories,
			MembersCanCreateInternalRepos: op.MembersCanCreateInternalRepositories,
		})
		return err
	case plan.SetMember:
		_, _, err := gh.Organizations.EditOrgMembership(ctx, op.Login, org, &github.Membership{Role: github.Ptr(op.Role)})
		return err
	case plan.RemoveMember:
		return gone(gh.Organizations.RemoveOrgMembership(ctx, op.Login, org))
	case plan.CreateTeam:
		return a.createTeam(ctx, op)
	case plan.EditTeam:
		return a.editTeam(ctx, op)
	case plan.DeleteTeam:
		return gone(gh.Teams.DeleteTeamBySlug(ctx, org, op.Slug))
	case plan.SetTeamMember:
		slug, err := a.slug(op.Team)
		if err != nil {
			return err
		}
		_, _, err = gh.Teams.AddTeamMembershipBySlug(ctx, org, slug, op.Login, &github.TeamAddTeamMembershipOptions{Role: op.Role})
		return err
	case plan.RemoveTeamMember:
		slug, err := a.slug(op.Team)
		if err != nil {
			return err
		}
		return gone(gh.Teams.RemoveTeamMembershipBySlug(ctx, org, slug, op.Login))
	case plan.SetTeamRepo:
		slug, err := a.slug(op.Team)
		if err != nil {
			return err
		}
		_, err = gh.Teams.AddTeamRepoBySlug(ctx, org, slug, org, op.Repo, &github.TeamAddTeamRepoOptions{Permission: legacyPermission(op.Permission)})
		return err
	case plan.RemoveTeamRepo:
		slug, err := a.slug(op.Team)
		if err != nil {
			return err
		}
		return gone(gh.Teams.RemoveTeamRepoBySlug(ctx, org, slug, org, op.Repo))
	case plan.CreateRepo:
		r := repository(op.Settings)
		r.Name = github.Ptr(op.Name)
		r.AutoInit = github.Ptr(op.AutoInit)
		if op.GitignoreTemplate != "" {
			r.GitignoreTemplate = github.Ptr(op.GitignoreTemplate)
		}
		if op.LicenseTemplate != "" {
			r.LicenseTemplate = github.Ptr(op.LicenseTemplate)
		}
		// GitHub sets no default branch at creation: the next sync does.
		r.DefaultBranch = nil
		_, _, err := gh.Repositories.Create(ctx, org, r)
		return err
	case plan.EditRepo:
		_, _, err := gh.Repositories.Edit(ctx, org, op.Repo, repository(op.Patch))
		return err
	case plan.SetCollaborator:
		if op.InvitationID != 0 {
			_, _, err := gh.Repositories.UpdateInvitation(ctx, org, op.Repo, op.InvitationID, op.Permission)
			return err
		}
		_, _, err := gh.Repositories.AddCollaborator(ctx, org, op.Repo, op.Login, &github.RepositoryAddCollaboratorOptions{Permission: legacyPermission(op.Permission)})
		return err
	case plan.RemoveCollaborator:
		if op.InvitationID != 0 {
			return gone(gh.Repositories.DeleteInvitation(ctx, org, op.Repo, op.InvitationID))
		}
		return gone(gh.Repositories.RemoveCollaborator(ctx, org, op.Repo, op.Login))
	case plan.SetProtection:
		return a.protect(ctx, op)
	case plan.RemoveProtection:
		return gone(gh.Repositories.RemoveBranchProtection(ctx, org, op.Repo, op.Branch))
	case plan.CreateLabel:
		_, _, err := gh.Issues.CreateLabel(ctx, org, op.Repo, &github.Label{Name: github.Ptr(op.Label.Name),
			Color: github.Ptr(op.Label.Color), Description: github.Ptr(op.Label.Description)})
		return err
	case plan.EditLabel:
		return a.editLabel(ctx, op)
	case plan.MigrateLabel:
		return a.migrateLabel(ctx, op)
	case plan.DeleteLabel:
		return gone(gh.Issues.DeleteLabel(ctx, org, op.Repo, op.Name))
	}
	return fmt.Errorf("no way to apply %T", op)
}

func (a *Applier) slug(team string) (string, error) {
	if s := a.slugs[team]; s != "" {
		return s, nil
	}
	return "", fmt.Errorf("team %s does not exist: creating it failed", team)
}

func (a *Applier) createTeam(ctx context.Context, op plan.CreateTeam) error {
	nt := github.NewTeam{Name: op.Name}
	if op.Description != "" {
		nt.Description = github.Ptr(op.Description)
	}
	if op.Privacy != "" {
		nt.Privacy = github.Ptr(op.Privacy)
	}
	if op.Parent != "" {
		id := a.ids[op.Parent]
		if id == 0 {
			return fmt.Errorf("parent team %s does not exist: creating it failed", op.Parent)
		}
		nt.ParentTeamID = github.Ptr(id)
	}
	t, _, err := a.gh.Teams.CreateTeam(ctx, a.org, nt)
	if err != nil {
		return err
	}
	a.slugs[op.Name], a.ids[op.Name] = t.GetSlug(), t.GetID()
	return nil
}

func (a *Applier) editTeam(ctx context.Context, op plan.EditTeam) error {
	slug, err := a.slug(op.Team)
	if err != nil {
		return err
	}
	nt := github.NewTeam{Name: op.Team, Description: op.Description, Privacy: op.Privacy}
	if op.Parent != nil {
		id := a.ids[*op.Parent]
		if id == 0 {
			return fmt.Errorf("parent team %s does not exist: creating it failed", *op.Parent)
		}
		nt.ParentTeamID = github.Ptr(id)
	}
	t, _, err := a.gh.Teams.EditTeamBySlug(ctx, a.org, slug, nt, op.RemoveParent)
	if err != nil {
		return err
	}
	a.slugs[op.Team] = t.GetSlug()
	return nil
}

// repository is a patch in go-github's terms; nil fields are not sent.
func repository(p plan.RepoPatch) *github.Repository {
	return &github.Repository{
		Name: p.Name, Description: p.Description, Homepage: p.Homepage, Private: p.Private, Visibility: p.Visibility,
		HasIssues: p.HasIssues, HasProjects: p.HasProjects, HasWiki: p.HasWiki,
		AllowSquashMerge: p.AllowSquashMerge, AllowMergeCommit: p.AllowMergeCommit, AllowRebaseMerge: p.AllowRebaseMerge,
		SquashMergeCommitTitle: p.SquashMergeCommitTitle, SquashMergeCommitMessage: p.SquashMergeCommitMessage,
		DefaultBranch: p.DefaultBranch, Archived: p.Archived,
	}
}

// protect puts a branch's protection, then its signed-commits requirement,
// which GitHub keeps apart.
func (a *Applier) protect(ctx context.Context, op plan.SetProtection) error {
	p := op.Protection
	req := &github.ProtectionRequest{
		EnforceAdmins:        p.EnforceAdmins,
		RequireLinearHistory: github.Ptr(p.RequiredLinearHistory),
		AllowForcePushes:     github.Ptr(p.AllowForcePushes),
		AllowDeletions:       github.Ptr(p.AllowDeletions),
	}
	if c := p.RequiredStatusChecks; c != nil {
		contexts := append([]string{}, c.Contexts...)
		req.RequiredStatusChecks = &github.RequiredStatusChecks{Strict: c.Strict, Contexts: &contexts}
	}
	if rv := p.RequiredReviews; rv != nil {
		r := &github.PullRequestReviewsEnforcementRequest{DismissStaleReviews: rv.DismissStaleReviews,
			RequireCodeOwnerReviews: rv.RequireCodeOwnerReviews, RequiredApprovingReviewCount: rv.Approvals}
		if d := rv.DismissalRestrictions; d != nil {
			users, teams := nonNil(d.Users), nonNil(d.Teams)
			r.DismissalRestrictionsRequest = &github.DismissalRestrictionsRequest{Users: &users, Teams: &teams}
		}
		if b := rv.BypassAllowances; b != nil {
			r.BypassPullRequestAllowancesRequest = &github.BypassPullRequestAllowancesRequest{Users: nonNil(b.Users), Teams: nonNil(b.Teams), Apps: []string{}}
		}
		req.RequiredPullRequestReviews = r
	}
	if rs := p.Restrictions; rs != nil {
		req.Restrictions = &github.BranchRestrictionsRequest{Users: nonNil(rs.Users), Teams: nonNil(rs.Teams), Apps: nonNil(rs.Apps)}
	}
	if _, _, err := a.gh.Repositories.UpdateBranchProtection(ctx, a.org, op.Repo, op.Branch, req); err != nil {
		return err
	}
	if !op.SignaturesChanged {
		return nil
	}
	if p.RequireSignedCommits {
		_, _, err := a.gh.Repositories.RequireSignaturesOnProtectedBranch(ctx, a.org, op.Repo, op.Branch)
		return err
	}
	_, err := a.gh.Repositories.OptionalSignaturesOnProtectedBranch(ctx, a.org, op.Repo, op.Branch)
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// editLabel renames and recolors a label. GitHub's API takes the new name
// as new_name, which go-github's EditLabel does not send.
func (a *Applier) editLabel(ctx context.Context, op plan.EditLabel) error {
	u := fmt.Sprintf("repos/%s/%s/labels/%s", url.PathEscape(a.org), url.PathEscape(op.Repo), url.PathEscape(op.Name))
	body := map[string]string{"new_name": op.Label.Name, "color": op.Label.Color, "description": op.Label.Description}
	req, err := a.gh.NewRequest(ctx, http.MethodPatch, u, body)
	if err != nil {
		return err
	}
	_, err = a.gh.Do(req, nil)
	return err
}

// migrateLabel moves the open issues and pull requests labelled From to
// To, then deletes From, as label_sync migrates a previous name whose new
// name exists already.
func (a *Applier) migrateLabel(ctx context.Context, op plan.MigrateLabel) error {
	opts := &github.IssueListByRepoOptions{State: "open", Labels: []string{op.From}, ListOptions: github.ListOptions{PerPage: 100}}
	var numbers []int
	for i, err := range a.gh.Issues.ListByRepoIter(ctx, a.org, op.Repo, opts) {
		if err != nil {
			return fmt.Errorf("list the issues labelled %s: %w", op.From, err)
		}
		numbers = append(numbers, i.GetNumber())
	}
	for _, n := range numbers {
		if _, _, err := a.gh.Issues.AddLabelsToIssue(ctx, a.org, op.Repo, n, []string{op.To}); err != nil {
			return fmt.Errorf("label #%d %s: %w", n, op.To, err)
		}
		if err := gone(a.gh.Issues.RemoveLabelForIssue(ctx, a.org, op.Repo, n, op.From)); err != nil {
			return fmt.Errorf("unlabel #%d %s: %w", n, op.From, err)
		}
	}
	return gone(a.gh.Issues.DeleteLabel(ctx, a.org, op.Repo, op.From))
}

// legacyPermission is the permission name GitHub's collaborator and team
// repository endpoints take.
func legacyPermission(role string) string {
	switch role {
	case "read":
		return "pull"
	case "write":
		return "push"
	}
	return role
}

// gone ignores 404 Not Found: what was to be removed is gone already.
func gone(resp *github.Response, err error) error {
	if err != nil && resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil
	}
	return err
}
