package forge

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-github/v89/github"
)

// Branch protection: the rules bowline's branchprotector manages and the
// merge checks they imply.

func (c *call) protectionFor(s *state) (*repo, string, error) {
	r, err := c.repoFor(s, permAdmin)
	if err != nil {
		return nil, "", err
	}
	branch := c.param("branch")
	if _, err := c.f.git.ResolveRef(c.r.Context(), r.Owner, r.Name, "refs/heads/"+branch); err != nil {
		return nil, "", errStatus(http.StatusNotFound, "Branch not found")
	}
	return r, branch, nil
}

func (f *Forge) protectionJSON(s *state, r *repo, branch string, p *protection) *github.Protection {
	base := f.repoAPI(r, "branches", branch, "protection")
	out := &github.Protection{URL: github.Ptr(base),
		EnforceAdmins:                  &github.AdminEnforcement{URL: github.Ptr(base + "/enforce_admins"), Enabled: p.EnforceAdmins},
		RequireLinearHistory:           &github.RequireLinearHistory{Enabled: p.LinearHistory},
		AllowForcePushes:               &github.AllowForcePushes{Enabled: p.AllowForcePushes},
		AllowDeletions:                 &github.AllowDeletions{Enabled: p.AllowDeletions},
		RequiredConversationResolution: &github.RequiredConversationResolution{Enabled: p.ConversationResolution},
		RequiredSignatures:             &github.SignaturesProtectedBranch{URL: github.Ptr(base + "/required_signatures"), Enabled: github.Ptr(p.Signatures)},
	}
	if p.HasStatusChecks {
		out.RequiredStatusChecks = f.statusChecksJSON(r, branch, p)
	}
	o := s.org(r.Owner)
	if p.HasReviews {
		rv := &github.PullRequestReviewsEnforcement{DismissStaleReviews: p.DismissStale,
			RequireCodeOwnerReviews: p.CodeOwners, RequiredApprovingReviewCount: p.RequiredReviews, RequireLastPushApproval: p.LastPushApproval}
		// GitHub leaves out restrictions that name nobody.
		if p.HasDismissal && len(p.DismissalUsers)+len(p.DismissalTeams) > 0 {
			rv.DismissalRestrictions = &github.DismissalRestrictions{Users: f.principalUsers(s, p.DismissalUsers), Teams: f.principalTeams(o, p.DismissalTeams)}
		}
		if p.HasBypass && len(p.BypassUsers)+len(p.BypassTeams)+len(p.BypassApps) > 0 {
			rv.BypassPullRequestAllowances = &github.BypassPullRequestAllowances{Users: f.principalUsers(s, p.BypassUsers),
				Teams: f.principalTeams(o, p.BypassTeams), Apps: f.principalApps(s, p.BypassApps)}
		}
		out.RequiredPullRequestReviews = rv
	}
	if p.HasRestrictions {
		out.Restrictions = &github.BranchRestrictions{Users: f.principalUsers(s, p.RestrictUsers),
			Teams: f.principalTeams(o, p.RestrictTeams), Apps: f.principalApps(s, p.RestrictApps)}
	}
	return out
}

func (f *Forge) principalUsers(s *state, logins []string) []*github.User {
	out := []*github.User{}
	for _, l := range logins {
		out = append(out, f.userJSON(s, s.accountLogin(l)))
	}
	return out
}

func (f *Forge) principalTeams(o *org, slugs []string) []*github.Team {
	out := []*github.Team{}
	for _, slug := range slugs {
		if o == nil || o.Teams[slug] == nil {
			continue
		}
		tm := o.Teams[slug]
		out = append(out, &github.Team{ID: github.Ptr(tm.ID), Name: github.Ptr(tm.Name), Slug: github.Ptr(tm.Slug)})
	}
	return out
}

func (f *Forge) principalApps(s *state, slugs []string) []*github.App {
	out := []*github.App{}
	for _, slug := range slugs {
		for _, a := range s.Apps {
			if a.Slug == slug {
				out = append(out, &github.App{ID: github.Ptr(a.ID), Slug: github.Ptr(a.Slug), Name: github.Ptr(a.Name)})
			}
		}
	}
	return out
}

func (f *Forge) statusChecksJSON(r *repo, branch string, p *protection) *github.RequiredStatusChecks {
	base := f.repoAPI(r, "branches", branch, "protection", "required_status_checks")
	contexts := append([]string{}, p.Contexts...)
	checks := []*github.RequiredStatusCheck{}
	for _, c := range p.Contexts {
		checks = append(checks, &github.RequiredStatusCheck{Context: c})
	}
	return &github.RequiredStatusChecks{Strict: p.Strict, Contexts: &contexts, Checks: &checks,
		URL: github.Ptr(base), ContextsURL: github.Ptr(base + "/contexts")}
}

func (f *Forge) getProtection(c *call) error {
	var out *github.Protection
	err := f.read(func(s *state) error {
		r, branch, err := c.protectionFor(s)
		if err != nil {
			return err
		}
		p := r.Protections[branch]
		if p == nil {
			return errStatus(http.StatusNotFound, "Branch not protected")
		}
		out = f.protectionJSON(s, r, branch, p)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func statusContexts(rsc *github.RequiredStatusChecks) []string {
	var out []string
	if rsc.Contexts != nil {
		out = append(out, *rsc.Contexts...)
	}
	if rsc.Checks != nil {
		for _, ch := range *rsc.Checks {
			if !contains(out, ch.Context) {
				out = append(out, ch.Context)
			}
		}
	}
	return out
}

func (f *Forge) putProtection(c *call) error {
	var req github.ProtectionRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.Protection
	err := f.write(func(t *tx) error {
		r, branch, err := c.protectionFor(t.state)
		if err != nil {
			return err
		}
		p := &protection{EnforceAdmins: req.EnforceAdmins}
		if old := r.Protections[branch]; old != nil {
			// Required signatures are a resource of their own: a PUT
			// does not name them and leaves them as they are.
			p.Signatures = old.Signatures
		}
		if rsc := req.RequiredStatusChecks; rsc != nil {
			p.HasStatusChecks, p.Strict, p.Contexts = true, rsc.Strict, statusContexts(rsc)
		}
		if rv := req.RequiredPullRequestReviews; rv != nil {
			if rv.RequiredApprovingReviewCount < 0 || rv.RequiredApprovingReviewCount > 6 {
				return errInvalid("Protection", "required_approving_review_count", "invalid")
			}
			p.HasReviews, p.DismissStale, p.CodeOwners, p.RequiredReviews =
				true, rv.DismissStaleReviews, rv.RequireCodeOwnerReviews, rv.RequiredApprovingReviewCount
			p.LastPushApproval = deref(rv.RequireLastPushApproval)
			if dr := rv.DismissalRestrictionsRequest; dr != nil {
				p.HasDismissal = true
				if dr.Users != nil {
					p.DismissalUsers = *dr.Users
				}
				if dr.Teams != nil {
					p.DismissalTeams = *dr.Teams
				}
			}
			if br := rv.BypassPullRequestAllowancesRequest; br != nil {
				p.HasBypass, p.BypassUsers, p.BypassTeams, p.BypassApps = true, br.Users, br.Teams, br.Apps
			}
		}
		if rs := req.Restrictions; rs != nil {
			p.HasRestrictions, p.RestrictUsers, p.RestrictTeams, p.RestrictApps = true, rs.Users, rs.Teams, rs.Apps
		}
		p.LinearHistory = deref(req.RequireLinearHistory)
		p.AllowForcePushes = deref(req.AllowForcePushes)
		p.AllowDeletions = deref(req.AllowDeletions)
		p.ConversationResolution = deref(req.RequiredConversationResolution)
		if err := t.checkPrincipals(r, p); err != nil {
			return err
		}
		r.Protections[branch] = p
		out = f.protectionJSON(t.state, r, branch, p)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// checkPrincipals refuses, as GitHub does, users, teams and apps that do
// not exist, and restrictions by user or team on a repository that no org
// owns. Logins and slugs are stored as GitHub spells them.
func (t *tx) checkPrincipals(r *repo, p *protection) error {
	o := t.org(r.Owner)
	users := [][]string{p.RestrictUsers, p.DismissalUsers, p.BypassUsers}
	teams := [][]string{p.RestrictTeams, p.DismissalTeams, p.BypassTeams}
	for _, list := range append(users, teams...) {
		if len(list) > 0 && o == nil {
			return errInvalidMsg("Only organization repositories can have users and team restrictions")
		}
	}
	for _, list := range users {
		for i, l := range list {
			u := t.user(l)
			if u == nil {
				return errInvalid("Protection", "users", "invalid")
			}
			list[i] = u.Login
		}
	}
	for _, list := range teams {
		for i, slug := range list {
			if o.Teams[key(slug)] == nil {
				return errInvalid("Protection", "teams", "invalid")
			}
			list[i] = key(slug)
		}
	}
	for _, list := range [][]string{p.RestrictApps, p.BypassApps} {
		for _, slug := range list {
			found := false
			for _, a := range t.Apps {
				found = found || a.Slug == slug
			}
			if !found {
				return errInvalid("Protection", "apps", "invalid")
			}
		}
	}
	return nil
}

func (f *Forge) deleteProtection(c *call) error {
	err := f.write(func(t *tx) error {
		r, branch, err := c.protectionFor(t.state)
		if err != nil {
			return err
		}
		if r.Protections[branch] == nil {
			return errStatus(http.StatusNotFound, "Branch not protected")
		}
		delete(r.Protections, branch)
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

func (f *Forge) getRequiredChecks(c *call) error {
	var out *github.RequiredStatusChecks
	err := f.read(func(s *state) error {
		r, branch, err := c.protectionFor(s)
		if err != nil {
			return err
		}
		p := r.Protections[branch]
		if p == nil || !p.HasStatusChecks {
			return errStatus(http.StatusNotFound, "Required status checks not enabled")
		}
		out = f.statusChecksJSON(r, branch, p)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) updateRequiredChecks(c *call) error {
	var req github.RequiredStatusChecksRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.RequiredStatusChecks
	err := f.write(func(t *tx) error {
		r, branch, err := c.protectionFor(t.state)
		if err != nil {
			return err
		}
		p := r.Protections[branch]
		if p == nil || !p.HasStatusChecks {
			return errStatus(http.StatusNotFound, "Required status checks not enabled")
		}
		if req.Strict != nil {
			p.Strict = *req.Strict
		}
		if req.Contexts != nil || req.Checks != nil {
			contexts := append([]string{}, req.Contexts...)
			for _, ch := range req.Checks {
				if !contains(contexts, ch.Context) {
					contexts = append(contexts, ch.Context)
				}
			}
			p.Contexts = contexts
		}
		out = f.statusChecksJSON(r, branch, p)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// contextState is a required context's state on sha, from commit statuses
// or check runs of that name: success, pending, failure or "" (missing).
func (s *state) contextState(r *repo, sha, context string) string {
	st := ""
	for _, x := range r.Statuses[sha] {
		if x.Context == context {
			st = x.State
		}
	}
	if st == "error" {
		st = "failure"
	}
	var latest *checkRun
	for _, cr := range r.CheckRuns {
		if cr.HeadSHA == sha && cr.Name == context && (latest == nil || cr.ID > latest.ID) {
			latest = cr
		}
	}
	if latest != nil {
		switch {
		case latest.Status != "completed":
			st = "pending"
		case latest.Conclusion == "success" || latest.Conclusion == "neutral" || latest.Conclusion == "skipped":
			st = "success"
		default:
			st = "failure"
		}
	}
	return st
}

// protectionBlocks says why the base branch's protection forbids merging,
// or "" when it does not. Admins bypass it unless it is enforced for them.
func (t *tx) protectionBlocks(ctx context.Context, r *repo, i *issue, admin bool) string {
	p := r.Protections[i.PR.Base]
	if p == nil || (admin && !p.EnforceAdmins) {
		return ""
	}
	if p.HasStatusChecks {
		if p.Strict && !t.f.upToDate(ctx, r, i) {
			return "Head branch is out of date. Review and try the merge again."
		}
		for _, c := range p.Contexts {
			switch t.contextState(r, i.PR.HeadSHA, c) {
			case "success":
			case "":
				return fmt.Sprintf("Required status check %q is expected.", c)
			case "pending":
				return fmt.Sprintf("Required status check %q is pending.", c)
			default:
				return fmt.Sprintf("Required status check %q is failing.", c)
			}
		}
	}
	if p.HasReviews {
		decision, approvals := t.reviewDecision(r, i)
		if decision == "changes_requested" {
			return "Changes have been requested."
		}
		if approvals < p.RequiredReviews {
			return fmt.Sprintf("At least %d approving review is required by reviewers with write access.", p.RequiredReviews)
		}
	}
	return ""
}
