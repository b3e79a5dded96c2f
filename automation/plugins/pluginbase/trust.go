package pluginbase

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/trust"
	"github.com/bowline-ci/bowline/schema/plugins"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// IsMember reports whether user is a member of org. The answer may be up
// to trust.TTL old (see automation/trust).
func (e *Env) IsMember(ctx context.Context, org, user string) (bool, error) {
	return e.trustFor(user).IsMember(ctx, trust.FromClient(e.GitHub), org, user)
}

// IsCollaborator reports whether user collaborates on the repository
// (directly, through a team or as an org member with access), as GitHub's
// collaborator check answers. The answer may be up to trust.TTL old.
func (e *Env) IsCollaborator(ctx context.Context, user string) (bool, error) {
	return e.trustFor(user).IsCollaborator(ctx, trust.FromClient(e.GitHub), e.Org, e.Repo, user)
}

// Permission levels GitHub reports for a user on a repository, weakest
// first.
const (
	PermissionNone  = "none"
	PermissionRead  = "read"
	PermissionWrite = "write"
	PermissionAdmin = "admin"
)

// Permission is GitHub's permission of user on the repository: "admin",
// "write", "read" or "none".
func (e *Env) Permission(ctx context.Context, user string) (string, error) {
	if user == "" {
		return PermissionNone, nil
	}
	lvl, _, err := e.GitHub.Repositories.GetPermissionLevel(ctx, e.Org, e.Repo, user)
	if ghclient.IsNotFound(err) {
		return PermissionNone, nil
	}
	if err != nil {
		return "", fmt.Errorf("permission of %s on %s: %w", user, e.FullName(), err)
	}
	return lvl.GetPermission(), nil
}

// TeamHasMember reports whether user is an active member of the team slug
// of org (members of child teams count, as GitHub answers).
func (e *Env) TeamHasMember(ctx context.Context, org, slug, user string) (bool, error) {
	if user == "" {
		return false, nil
	}
	m, _, err := e.GitHub.Teams.GetTeamMembershipBySlug(ctx, org, slug, user)
	if ghclient.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("membership of %s in team %s/%s: %w", user, org, slug, err)
	}
	return m.GetState() == "active", nil
}

// TeamMembers lists the logins of a team's members, by the team's slug.
func (e *Env) TeamMembers(ctx context.Context, org, slug string) ([]string, error) {
	var out []string
	opts := &github.TeamListTeamMembersOptions{ListOptions: github.ListOptions{PerPage: perPage}}
	for {
		page, resp, err := e.GitHub.Teams.ListTeamMembersBySlug(ctx, org, slug, opts)
		if err != nil {
			return nil, fmt.Errorf("list members of team %s/%s: %w", org, slug, err)
		}
		for _, u := range page {
			out = append(out, u.GetLogin())
		}
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// TeamMembersByID lists the logins of a team's members, by the team's ID.
func (e *Env) TeamMembersByID(ctx context.Context, org string, id int64) ([]string, error) {
	o, _, err := e.GitHub.Organizations.Get(ctx, org)
	if err != nil {
		return nil, fmt.Errorf("look up org %s: %w", org, err)
	}
	var out []string
	opts := &github.TeamListTeamMembersOptions{ListOptions: github.ListOptions{PerPage: perPage}}
	for {
		page, resp, err := e.GitHub.Teams.ListTeamMembersByID(ctx, o.GetID(), id, opts)
		if err != nil {
			return nil, fmt.Errorf("list members of team %d of %s: %w", id, org, err)
		}
		for _, u := range page {
			out = append(out, u.GetLogin())
		}
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// Trusted reports whether user is trusted by the trigger plugin's rules for
// the repository (its entry of plugins.yaml's triggers): a trusted app, a
// member of the repository's org or of trusted_org, or, unless
// only_org_members, a collaborator. Prow's retitle and welcome plugins use
// these rules too.
func (e *Env) Trusted(ctx context.Context, user string) (bool, error) {
	return e.TrustedBy(ctx, e.TrustRules(), user)
}

// TrustRules are the repository's entry of plugins.yaml's triggers, or
// the zero value.
func (e *Env) TrustRules() plugins.Trigger {
	if t := e.Plugins.TriggerFor(e.Org, e.Repo); t != nil {
		return *t
	}
	return plugins.Trigger{}
}

// TrustedBy is Trusted with the rules given (only_org_members,
// trusted_apps, trusted_org), which the dco plugin takes from its own
// settings.
func (e *Env) TrustedBy(ctx context.Context, rules plugins.Trigger, user string) (bool, error) {
	return e.trustFor(user).Trusted(ctx, trust.FromClient(e.GitHub), rules, e.Org, e.Repo, user)
}

// Recheck makes the Env's questions about trust ask GitHub again, once per
// user, rather than believe remembered answers: for commands whose point
// is to look again (/verify-owners, /check-dco), e.g. after someone joined
// the org. The fresh answers are remembered for every plugin.
func (e *Env) Recheck() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rechecked = map[string]bool{}
}

// trustFor is the cache to ask about user: after Recheck, the user's
// remembered answers are dropped first, the first time.
func (e *Env) trustFor(user string) *trust.Cache {
	e.mu.Lock()
	defer e.mu.Unlock()
	if k := strings.ToLower(user); e.rechecked != nil && !e.rechecked[k] {
		e.rechecked[k] = true
		e.trust.Forget(user)
	}
	return e.trust
}
