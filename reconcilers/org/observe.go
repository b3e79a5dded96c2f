package org

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-github/v89/github"
	"golang.org/x/sync/errgroup"

	"github.com/bowline-ci/bowline/reconcilers/org/plan"
)

// readers bounds the reads in flight for one org: GitHub serves a token's
// concurrent reads well, and most of a resync's reads are 304s.
const readers = 8

// Observe reads what the plan for d needs from GitHub: the parts d
// manages, and for repositories only what branch protection and labels
// look at. Every read goes through gh's ETag cache, so an org that did not
// change costs 304s only.
func Observe(ctx context.Context, gh *github.Client, d *plan.Desired) (*plan.State, error) {
	m := d.Manage()
	s := &plan.State{Org: d.Org}
	g, gctx := errgroup.WithContext(ctx)
	o := &observer{gh: gh, org: d.Org, s: s, g: g, sem: make(chan struct{}, readers)}
	if m.Settings {
		o.read(gctx, func() error { return o.settings(gctx) })
		s.Read.Settings = true
	}
	if m.Members {
		o.read(gctx, func() error { return o.members(gctx) })
		o.read(gctx, func() error { return o.bot(gctx) })
		s.Read.Members = true
	}
	if m.Teams {
		s.Read.Teams, s.Read.TeamMembers, s.Read.TeamRepos = true, m.TeamMembers, m.TeamRepos
		o.read(gctx, func() error { return o.teams(gctx, m) })
	}
	needRepos := m.Teams || m.Repos || m.Collaborators || m.BranchProtection || m.Labels
	if needRepos {
		s.Read.Repos = true
		s.Read.Collaborators, s.Read.BranchProtection, s.Read.Labels = m.Collaborators, m.BranchProtection, m.Labels
		o.read(gctx, func() error { return o.repos(gctx, d, m) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	s.Normalize()
	return s, nil
}

type observer struct {
	gh  *github.Client
	org string
	g   *errgroup.Group
	// sem bounds the reads in flight; spawning a read never waits for it.
	sem chan struct{}
	mu  sync.Mutex // guards s
	s   *plan.State
}

// read runs fn on the group once a reader is free.
func (o *observer) read(ctx context.Context, fn func() error) {
	o.g.Go(func() error {
		select {
		case o.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-o.sem }()
		return fn()
	})
}

func (o *observer) settings(ctx context.Context) error {
	org, _, err := o.gh.Organizations.Get(ctx, o.org)
	if err != nil {
		return fmt.Errorf("read org %s: %w", o.org, err)
	}
	st := plan.OrgSettings{
		BillingEmail: org.GetBillingEmail(), Company: org.GetCompany(), Email: org.GetEmail(), Name: org.GetName(),
		Description: org.GetDescription(), Location: org.GetLocation(),
		HasOrganizationProjects: org.GetHasOrganizationProjects(), HasRepositoryProjects: org.GetHasRepositoryProjects(),
		DefaultRepositoryPermission:          org.GetDefaultRepoPermission(),
		MembersCanCreateRepositories:         org.GetMembersCanCreateRepos(),
		MembersCanCreatePublicRepositories:   org.GetMembersCanCreatePublicRepos(),
		MembersCanCreatePrivateRepositories:  org.GetMembersCanCreatePrivateRepos(),
		MembersCanCreateInternalRepositories: org.GetMembersCanCreateInternalRepos(),
	}
	o.mu.Lock()
	o.s.Settings = st
	o.mu.Unlock()
	return nil
}

// bot finds the login bowline acts as; a GitHub App's installation token
// has none, and GitHub refuses it /user.
func (o *observer) bot(ctx context.Context) error {
	u, resp, err := o.gh.Users.Get(ctx, "")
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized) {
			return nil
		}
		return fmt.Errorf("read the authenticated user: %w", err)
	}
	o.mu.Lock()
	o.s.Bot = u.GetLogin()
	o.mu.Unlock()
	return nil
}

func (o *observer) members(ctx context.Context) error {
	members := map[string]string{}
	for _, role := range []string{"admin", "member"} {
		opts := &github.ListMembersOptions{Role: role, ListOptions: github.ListOptions{PerPage: 100}}
		for u, err := range o.gh.Organizations.ListMembersIter(ctx, o.org, opts) {
			if err != nil {
				return fmt.Errorf("list %s's %ss: %w", o.org, role, err)
			}
			members[strings.ToLower(u.GetLogin())] = role
		}
	}
	invitations := map[string]string{}
	for inv, err := range o.gh.Organizations.ListPendingOrgInvitationsIter(ctx, o.org, &github.ListOptions{PerPage: 100}) {
		if err != nil {
			return fmt.Errorf("list %s's invitations: %w", o.org, err)
		}
		if inv.GetLogin() == "" {
			continue // an invitation by email names no account
		}
		role := "member"
		if inv.GetRole() == "admin" {
			role = "admin"
		}
		invitations[strings.ToLower(inv.GetLogin())] = role
	}
	o.mu.Lock()
	o.s.Members, o.s.Invitations = members, invitations
	o.mu.Unlock()
	return nil
}

// teams lists the teams, then reads each team's members and repositories.
func (o *observer) teams(ctx context.Context, m plan.Parts) error {
	var teams []plan.Team
	for t, err := range o.gh.Teams.ListTeamsIter(ctx, o.org, &github.ListOptions{PerPage: 100}) {
		if err != nil {
			return fmt.Errorf("list %s's teams: %w", o.org, err)
		}
		pt := plan.Team{ID: t.GetID(), Slug: t.GetSlug(), Name: t.GetName(), Description: t.GetDescription(), Privacy: t.GetPrivacy()}
		if t.Parent != nil {
			pt.Parent = t.GetParent().GetSlug()
		}
		teams = append(teams, pt)
	}
	o.mu.Lock()
	o.s.Teams = teams
	o.mu.Unlock()
	for i := range teams {
		if m.TeamMembers {
			o.read(ctx, func() error { return o.teamMembers(ctx, &teams[i]) })
		}
		if m.TeamRepos {
			o.read(ctx, func() error { return o.teamRepos(ctx, &teams[i]) })
		}
	}
	return nil
}

func (o *observer) teamMembers(ctx context.Context, t *plan.Team) error {
	members := map[string]string{}
	for _, role := range []string{"maintainer", "member"} {
		opts := &github.TeamListTeamMembersOptions{Role: role, ListOptions: github.ListOptions{PerPage: 100}}
		for u, err := range o.gh.Teams.ListTeamMembersBySlugIter(ctx, o.org, t.Slug, opts) {
			if err != nil {
				return fmt.Errorf("list the %ss of team %s: %w", role, t.Slug, err)
			}
			if _, seen := members[strings.ToLower(u.GetLogin())]; !seen {
				members[strings.ToLower(u.GetLogin())] = role
			}
		}
	}
	var invitees []string
	for inv, err := range o.gh.Teams.ListPendingTeamInvitationsBySlugIter(ctx, o.org, t.Slug, &github.ListOptions{PerPage: 100}) {
		if err != nil {
			return fmt.Errorf("list the invitations of team %s: %w", t.Slug, err)
		}
		if inv.GetLogin() != "" {
			invitees = append(invitees, strings.ToLower(inv.GetLogin()))
		}
	}
	o.mu.Lock()
	t.Members, t.Invitees = members, invitees
	o.mu.Unlock()
	return nil
}

func (o *observer) teamRepos(ctx context.Context, t *plan.Team) error {
	repos := map[string]string{}
	for r, err := range o.gh.Teams.ListTeamReposBySlugIter(ctx, o.org, t.Slug, &github.ListOptions{PerPage: 100}) {
		if err != nil {
			return fmt.Errorf("list the repositories of team %s: %w", t.Slug, err)
		}
		if !strings.EqualFold(r.GetOwner().GetLogin(), o.org) {
			continue
		}
		repos[strings.ToLower(r.GetName())] = permissionOf(r.GetRoleName(), r.GetPermissions())
	}
	o.mu.Lock()
	t.Repos = repos
	o.mu.Unlock()
	return nil
}

// permissionOf is a role name, from GitHub's role_name or, lacking one,
// from the permissions it lists.
func permissionOf(role string, p *github.RepositoryPermissions) string {
	switch role {
	case "read", "triage", "write", "maintain", "admin":
		return role
	case "pull":
		return "read"
	case "push":
		return "write"
	}
	switch {
	case p.GetAdmin():
		return "admin"
	case p.GetMaintain():
		return "maintain"
	case p.GetPush():
		return "write"
	case p.GetTriage():
		return "triage"
	}
	return "read"
}

// repos lists the org's repositories, then reads what the plan looks at in
// each: settings and collaborators of the
// configured ones, branches and their protection where branch protection
// applies, and labels.
func (o *observer) repos(ctx context.Context, d *plan.Desired, m plan.Parts) error {
	var repos []plan.Repo
	for r, err := range o.gh.Repositories.ListByOrgIter(ctx, o.org, &github.RepositoryListByOrgOptions{Type: "all", ListOptions: github.ListOptions{PerPage: 100}}) {
		if err != nil {
			return fmt.Errorf("list %s's repositories: %w", o.org, err)
		}
		repos = append(repos, plan.Repo{Name: r.GetName(), Settings: repoSettings(r)})
	}
	o.mu.Lock()
	o.s.Repos = repos
	o.mu.Unlock()
	configured := map[string]bool{}
	if d.Config != nil {
		for name, r := range d.Config.Repos {
			configured[strings.ToLower(name)] = true
			for _, p := range r.Previously {
				configured[strings.ToLower(p)] = true
			}
		}
	}
	protected := map[string]bool{}
	if m.BranchProtection {
		names := make([]string, len(repos))
		for i, r := range repos {
			names[i] = r.Name
		}
		for _, name := range d.ProtectionRepos(names) {
			protected[name] = true
		}
	}
	for i := range repos {
		r := &repos[i]
		low, archived := strings.ToLower(r.Name), r.Settings.Archived
		if m.Repos && configured[low] {
			o.read(ctx, func() error { return o.repoDetails(ctx, r) })
		}
		if m.Collaborators && configured[low] {
			o.read(ctx, func() error { return o.collaborators(ctx, r) })
		}
		if archived {
			continue
		}
		if protected[low] {
			o.read(ctx, func() error { return o.branches(ctx, r) })
		}
		if m.Labels {
			o.read(ctx, func() error { return o.labels(ctx, r) })
		}
	}
	return nil
}

func repoSettings(r *github.Repository) plan.RepoSettings {
	return plan.RepoSettings{
		Description: r.GetDescription(), Homepage: r.GetHomepage(), Private: r.GetPrivate(), Visibility: r.GetVisibility(),
		HasIssues: r.GetHasIssues(), HasProjects: r.GetHasProjects(), HasWiki: r.GetHasWiki(),
		AllowSquashMerge: r.GetAllowSquashMerge(), AllowMergeCommit: r.GetAllowMergeCommit(), AllowRebaseMerge: r.GetAllowRebaseMerge(),
		SquashMergeCommitTitle: r.GetSquashMergeCommitTitle(), SquashMergeCommitMessage: r.GetSquashMergeCommitMessage(),
		DefaultBranch: r.GetDefaultBranch(), Archived: r.GetArchived(),
	}
}

// repoDetails reads a repository itself: GitHub lists repositories
// without their merge settings.
func (o *observer) repoDetails(ctx context.Context, r *plan.Repo) error {
	full, _, err := o.gh.Repositories.Get(ctx, o.org, r.Name)
	if err != nil {
		return fmt.Errorf("read repository %s: %w", r.Name, err)
	}
	o.mu.Lock()
	r.Settings, r.Detailed = repoSettings(full), true
	o.mu.Unlock()
	return nil
}

func (o *observer) collaborators(ctx context.Context, r *plan.Repo) error {
	direct := map[string]string{}
	opts := &github.ListCollaboratorsOptions{Affiliation: "direct", ListOptions: github.ListOptions{PerPage: 100}}
	for u, err := range o.gh.Repositories.ListCollaboratorsIter(ctx, o.org, r.Name, opts) {
		if err != nil {
			return fmt.Errorf("list the collaborators of %s: %w", r.Name, err)
		}
		direct[strings.ToLower(u.GetLogin())] = permissionOf(u.GetRoleName(), u.GetPermissions())
	}
	invitations := map[string]plan.RepoInvitation{}
	for inv, err := range o.gh.Repositories.ListInvitationsIter(ctx, o.org, r.Name, &github.ListOptions{PerPage: 100}) {
		if err != nil {
			return fmt.Errorf("list the invitations of %s: %w", r.Name, err)
		}
		invitations[strings.ToLower(inv.GetInvitee().GetLogin())] = plan.RepoInvitation{ID: inv.GetID(), Permission: permissionOf(inv.GetPermissions(), nil)}
	}
	o.mu.Lock()
	r.Collaborators, r.Invitations = direct, invitations
	o.mu.Unlock()
	return nil
}

// branches lists a repository's branches, then reads the protection of the
// protected ones: GitHub lists no protections, one request per branch.
func (o *observer) branches(ctx context.Context, r *plan.Repo) error {
	var branches []plan.Branch
	for b, err := range o.gh.Repositories.ListBranchesIter(ctx, o.org, r.Name, &github.BranchListOptions{ListOptions: github.ListOptions{PerPage: 100}}) {
		if err != nil {
			return fmt.Errorf("list the branches of %s: %w", r.Name, err)
		}
		branches = append(branches, plan.Branch{Name: b.GetName(), Protected: b.GetProtected()})
	}
	o.mu.Lock()
	r.Branches = branches
	o.mu.Unlock()
	for i := range branches {
		if !branches[i].Protected {
			continue
		}
		b := &branches[i]
		o.read(ctx, func() error {
			p, resp, err := o.gh.Repositories.GetBranchProtection(ctx, o.org, r.Name, b.Name)
			if err != nil {
				var ge *github.ErrorResponse
				if resp != nil && resp.StatusCode == http.StatusNotFound && errors.As(err, &ge) {
					// Unprotected since it was listed.
					o.mu.Lock()
					b.Protected = false
					o.mu.Unlock()
					return nil
				}
				return fmt.Errorf("read the protection of %s/%s: %w", r.Name, b.Name, err)
			}
			pp := protectionOf(p)
			o.mu.Lock()
			b.Protection = &pp
			o.mu.Unlock()
			return nil
		})
	}
	return nil
}

func protectionOf(p *github.Protection) plan.Protection {
	out := plan.Protection{
		EnforceAdmins:         p.GetEnforceAdmins().Enabled,
		RequiredLinearHistory: p.GetRequireLinearHistory().Enabled,
		AllowForcePushes:      p.GetAllowForcePushes().Enabled,
		AllowDeletions:        p.GetAllowDeletions().Enabled,
		RequireSignedCommits:  p.GetRequiredSignatures().GetEnabled(),
	}
	if c := p.RequiredStatusChecks; c != nil {
		sc := &plan.StatusChecks{Strict: c.Strict}
		if c.Contexts != nil {
			sc.Contexts = append(sc.Contexts, *c.Contexts...)
		}
		if c.Checks != nil {
			for _, ch := range *c.Checks {
				sc.Contexts = append(sc.Contexts, ch.Context)
			}
		}
		out.RequiredStatusChecks = sc
	}
	if rv := p.RequiredPullRequestReviews; rv != nil {
		r := &plan.Reviews{DismissStaleReviews: rv.DismissStaleReviews, RequireCodeOwnerReviews: rv.RequireCodeOwnerReviews,
			Approvals: rv.RequiredApprovingReviewCount}
		if dr := rv.DismissalRestrictions; dr != nil {
			r.DismissalRestrictions = &plan.Principals{Users: userLogins(dr.Users), Teams: teamSlugs(dr.Teams)}
		}
		if br := rv.BypassPullRequestAllowances; br != nil {
			r.BypassAllowances = &plan.Principals{Users: userLogins(br.Users), Teams: teamSlugs(br.Teams)}
		}
		out.RequiredReviews = r
	}
	if rs := p.Restrictions; rs != nil {
		out.Restrictions = &plan.Restrictions{Users: userLogins(rs.Users), Teams: teamSlugs(rs.Teams)}
		for _, a := range rs.Apps {
			out.Restrictions.Apps = append(out.Restrictions.Apps, a.GetSlug())
		}
	}
	return out
}

func userLogins(us []*github.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.GetLogin())
	}
	return out
}

func teamSlugs(ts []*github.Team) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.GetSlug())
	}
	return out
}

func (o *observer) labels(ctx context.Context, r *plan.Repo) error {
	labels := []plan.Label{}
	for l, err := range o.gh.Issues.ListLabelsIter(ctx, o.org, r.Name, &github.ListOptions{PerPage: 100}) {
		if err != nil {
			return fmt.Errorf("list the labels of %s: %w", r.Name, err)
		}
		labels = append(labels, plan.Label{Name: l.GetName(), Color: strings.ToLower(l.GetColor()), Description: l.GetDescription()})
	}
	o.mu.Lock()
	r.Labels = labels
	o.mu.Unlock()
	return nil
}
