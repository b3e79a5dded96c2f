package prowconfig

import (
	"regexp"
	"slices"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// Policy is a branch protection policy at one level: the top, an org, a repo
// or a branch. Unset fields inherit from the level above.
type Policy struct {
	Unmanaged                    *bool          `json:"unmanaged,omitempty"`
	Protect                      *bool          `json:"protect,omitempty"`
	RequiredStatusChecks         *ContextPolicy `json:"required_status_checks,omitempty"`
	Admins                       *bool          `json:"enforce_admins,omitempty"`
	Restrictions                 *Restrictions  `json:"restrictions,omitempty"`
	RequiredPullRequestReviews   *ReviewPolicy  `json:"required_pull_request_reviews,omitempty"`
	RequiredLinearHistory        *bool          `json:"required_linear_history,omitempty"`
	AllowForcePushes             *bool          `json:"allow_force_pushes,omitempty"`
	AllowDeletions               *bool          `json:"allow_deletions,omitempty"`
	RequireSignedCommits         *bool          `json:"require_signed_commits,omitempty"`
	RequireManuallyTriggeredJobs *bool          `json:"require_manually_triggered_jobs,omitempty"`
	Exclude                      []string       `json:"exclude,omitempty"`
	Include                      []string       `json:"include,omitempty"`

	// Pos is where the policy is written (empty for computed policies).
	Pos yamlpos.Pos `json:"-"`
}

// ContextPolicy lists required status contexts.
type ContextPolicy struct {
	Contexts []string `json:"contexts,omitempty"`
	Strict   *bool    `json:"strict,omitempty"`
}

// Restrictions limit who may push.
type Restrictions struct {
	Apps  []string `json:"apps,omitempty"`
	Users []string `json:"users,omitempty"`
	Teams []string `json:"teams,omitempty"`
}

// ReviewPolicy configures required reviews.
type ReviewPolicy struct {
	DismissalRestrictions *DismissalRestrictions `json:"dismissal_restrictions,omitempty"`
	DismissStale          *bool                  `json:"dismiss_stale_reviews,omitempty"`
	RequireOwners         *bool                  `json:"require_code_owner_reviews,omitempty"`
	Approvals             *int                   `json:"required_approving_review_count,omitempty"`
	BypassRestrictions    *BypassRestrictions    `json:"bypass_pull_request_allowances,omitempty"`
}

// DismissalRestrictions say who may dismiss reviews.
type DismissalRestrictions struct {
	Users []string `json:"users,omitempty"`
	Teams []string `json:"teams,omitempty"`
}

// BypassRestrictions say who may merge without the required reviews.
type BypassRestrictions struct {
	Users []string `json:"users,omitempty"`
	Teams []string `json:"teams,omitempty"`
}

// BranchProtection is the branch-protection section: a policy per org,
// repo and branch, inheriting downwards.
type BranchProtection struct {
	Policy `json:",inline"`

	ProtectTested                *bool          `json:"protect-tested-repos,omitempty"`
	Orgs                         map[string]Org `json:"orgs,omitempty"`
	AllowDisabledPolicies        *bool          `json:"allow_disabled_policies,omitempty"`
	AllowDisabledJobPolicies     *bool          `json:"allow_disabled_job_policies,omitempty"`
	ProtectReposWithOptionalJobs *bool          `json:"protect_repos_with_optional_jobs,omitempty"`
}

// Org is an org's policy and its repos'.
type Org struct {
	Policy `json:",inline"`
	Repos  map[string]Repo `json:"repos,omitempty"`
}

// Repo is a repo's policy and its branches'.
type Repo struct {
	Policy   `json:",inline"`
	Branches map[string]Branch `json:"branches,omitempty"`
}

// Branch is one branch's policy.
type Branch struct {
	Policy `json:",inline"`
}

// Apply returns the policy that results from child inheriting from p:
// child's scalars win, lists are the union of both, nested settings merge
// the same way.
func (p Policy) Apply(child Policy) Policy {
	return Policy{
		Unmanaged:                    pick(child.Unmanaged, p.Unmanaged),
		Protect:                      pick(child.Protect, p.Protect),
		RequiredStatusChecks:         mergeContexts(p.RequiredStatusChecks, child.RequiredStatusChecks),
		Admins:                       pick(child.Admins, p.Admins),
		Restrictions:                 mergeRestrictions(p.Restrictions, child.Restrictions),
		RequiredPullRequestReviews:   mergeReviews(p.RequiredPullRequestReviews, child.RequiredPullRequestReviews),
		RequiredLinearHistory:        pick(child.RequiredLinearHistory, p.RequiredLinearHistory),
		AllowForcePushes:             pick(child.AllowForcePushes, p.AllowForcePushes),
		AllowDeletions:               pick(child.AllowDeletions, p.AllowDeletions),
		RequireSignedCommits:         pick(child.RequireSignedCommits, p.RequireSignedCommits),
		RequireManuallyTriggeredJobs: pick(child.RequireManuallyTriggeredJobs, p.RequireManuallyTriggeredJobs),
		Exclude:                      union(p.Exclude, child.Exclude),
		Include:                      union(p.Include, child.Include),
	}
}

func pick[T any](child, parent *T) *T {
	if child != nil {
		return child
	}
	return parent
}

func union(a, b []string) []string {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := append(append([]string(nil), a...), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

func mergeContexts(p, c *ContextPolicy) *ContextPolicy {
	if p == nil || c == nil {
		return pick(c, p)
	}
	return &ContextPolicy{Contexts: union(p.Contexts, c.Contexts), Strict: pick(c.Strict, p.Strict)}
}

func mergeRestrictions(p, c *Restrictions) *Restrictions {
	if p == nil || c == nil {
		return pick(c, p)
	}
	return &Restrictions{Apps: union(p.Apps, c.Apps), Users: union(p.Users, c.Users), Teams: union(p.Teams, c.Teams)}
}

func mergeReviews(p, c *ReviewPolicy) *ReviewPolicy {
	if p == nil || c == nil {
		return pick(c, p)
	}
	out := &ReviewPolicy{
		DismissStale:  pick(c.DismissStale, p.DismissStale),
		RequireOwners: pick(c.RequireOwners, p.RequireOwners),
		Approvals:     pick(c.Approvals, p.Approvals),
	}
	switch {
	case p.DismissalRestrictions == nil || c.DismissalRestrictions == nil:
		out.DismissalRestrictions = pick(c.DismissalRestrictions, p.DismissalRestrictions)
	default:
		out.DismissalRestrictions = &DismissalRestrictions{
			Users: union(p.DismissalRestrictions.Users, c.DismissalRestrictions.Users),
			Teams: union(p.DismissalRestrictions.Teams, c.DismissalRestrictions.Teams),
		}
	}
	switch {
	case p.BypassRestrictions == nil || c.BypassRestrictions == nil:
		out.BypassRestrictions = pick(c.BypassRestrictions, p.BypassRestrictions)
	default:
		out.BypassRestrictions = &BypassRestrictions{
			Users: union(p.BypassRestrictions.Users, c.BypassRestrictions.Users),
			Teams: union(p.BypassRestrictions.Teams, c.BypassRestrictions.Teams),
		}
	}
	return out
}

// JobContexts gives what branch protection needs to know about the jobs of
// one branch: the contexts of jobs that must pass and of those that report
// but are optional or only run when asked.
type JobContexts struct {
	// Required are contexts of reporting, non-optional jobs that always run.
	Required []string
	// Manual are contexts of reporting, non-optional jobs that run only on
	// request; they become required with require_manually_triggered_jobs.
	Manual []string
	// Optional counts reporting jobs that are optional or conditional.
	Optional int
}

// GetPolicy computes the effective policy of a branch: the top-level policy,
// then the org's, the repo's and the branch's, with the required contexts of
// the branch's jobs added. It returns nil when the branch is not protected
// or not managed.
func (bp *BranchProtection) GetPolicy(org, repo, branch string, jc JobContexts) *Policy {
	p := bp.Policy
	o, hasOrg := bp.Orgs[org]
	r, hasRepo := o.Repos[repo]
	b, hasBranch := r.Branches[branch]
	if hasOrg {
		p = p.Apply(o.Policy)
	}
	if hasRepo {
		p = p.Apply(r.Policy)
	}
	if hasBranch {
		p = p.Apply(b.Policy)
	}
	if isTrue(p.Unmanaged) {
		return nil
	}
	if !hasBranch && !branchIncluded(p, branch) {
		return nil
	}
	required := append([]string(nil), jc.Required...)
	if isTrue(p.RequireManuallyTriggeredJobs) {
		required = append(required, jc.Manual...)
	}
	if len(required) > 0 {
		p = p.Apply(Policy{RequiredStatusChecks: &ContextPolicy{Contexts: required}})
	}
	tested := len(jc.Required) > 0 || len(jc.Manual) > 0 ||
		(jc.Optional > 0 && isTrue(bp.ProtectReposWithOptionalJobs))
	if p.Protect == nil && isTrue(bp.ProtectTested) && tested {
		yes := true
		p.Protect = &yes
	}
	if p.Protect == nil {
		return nil
	}
	return &p
}

func isTrue(b *bool) bool { return b != nil && *b }

func branchIncluded(p Policy, branch string) bool {
	for _, e := range p.Exclude {
		if re, err := regexp.Compile(e); err == nil && re.MatchString(branch) {
			return false
		}
	}
	if len(p.Include) == 0 {
		return true
	}
	for _, i := range p.Include {
		if re, err := regexp.Compile(i); err == nil && re.MatchString(branch) {
			return true
		}
	}
	return false
}

// JobContextsFor sorts the presubmits that run on a branch by what branch
// protection makes of them, as Prow's branchprotector does: reporting,
// non-optional jobs that always run are required; those that only run when
// asked (no change matcher; run_before_merge jobs among them, which only the
// merge pool starts) are manual; other reporting jobs are optional.
func JobContextsFor(presubmits []jobs.Presubmit, branch string) JobContexts {
	var out JobContexts
	for i := range presubmits {
		p := &presubmits[i]
		if p.SkipReport || !p.ShouldRun(branch) {
			continue
		}
		switch {
		case p.Optional:
			out.Optional++
		case p.AlwaysRun:
			out.Required = append(out.Required, p.Context)
		case p.RunIfChanged == "" && p.SkipIfOnlyChanged == "":
			out.Manual = append(out.Manual, p.Context)
		default:
			out.Optional++
		}
	}
	slices.Sort(out.Required)
	slices.Sort(out.Manual)
	return out
}
