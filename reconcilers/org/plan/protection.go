package plan

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/bowline-ci/bowline/schema/prowconfig"
)

// securityForkName matches the private forks GitHub makes for security
// advisories, which cannot be protected (Prow skips them too).
var securityForkName = regexp.MustCompile(`^[\w.-]+-ghsa-[\w-]+$`)

// planProtection protects branches as branchprotector does: every branch
// of the repositories branch-protection covers gets the policy inherited
// from the top level, its org, repository and branch, with the contexts of
// the required presubmits added; protect: false removes protection, and so
// does an exclude pattern matching a protected branch. Archived
// repositories and security forks are skipped.
func planProtection(p *Plan, d *Desired, s *State) {
	bp := d.BranchProtection
	orgKey, org, orgPolicy := d.orgProtection()
	var names []string
	for _, r := range s.Repos {
		names = append(names, r.Name)
	}
	for _, name := range d.ProtectionRepos(names) {
		r := s.repo(name)
		if r == nil {
			if s.Read.Repos {
				p.note("branch protection: repository %s/%s does not exist", d.Org, name)
			}
			continue
		}
		if r.Settings.Archived || (r.Settings.Private && securityForkName.MatchString(r.Name)) {
			continue
		}
		repoKey, _ := findKey(org.Repos, r.Name)
		if repoKey == "" {
			repoKey = r.Name
		}
		repoPolicy := orgPolicy.Apply(org.Repos[repoKey].Policy)
		if isTrue(repoPolicy.Unmanaged) && len(org.Repos[repoKey].Branches) == 0 {
			continue
		}
		for _, b := range r.Branches {
			planBranch(p, d, bp, orgKey, repoKey, r, b, repoPolicy)
		}
	}
}

// orgProtection is the org's entry in branch-protection (by the key the
// configuration spells it with) and the policy its repositories inherit.
func (d *Desired) orgProtection() (string, prowconfig.Org, prowconfig.Policy) {
	bp := d.BranchProtection
	orgKey, ok := findKey(bp.Orgs, d.Org)
	if !ok {
		return d.Org, prowconfig.Org{}, bp.Policy
	}
	org := bp.Orgs[orgKey]
	return orgKey, org, bp.Policy.Apply(org.Policy)
}

// ProtectionRepos lists, lower-cased and sorted, the repositories whose
// branches branch protection covers, as branchprotector picks them: every
// repository of the org (of repos, its repositories) when the org's policy
// says whether to protect, otherwise those the configuration names; and,
// with protect-tested-repos, those with presubmits.
func (d *Desired) ProtectionRepos(repos []string) []string {
	bp := d.BranchProtection
	if bp == nil {
		return nil
	}
	_, hasOrg := findKey(bp.Orgs, d.Org)
	_, org, orgPolicy := d.orgProtection()
	out := map[string]bool{}
	switch {
	case hasOrg && orgPolicy.Protect != nil:
		for _, r := range repos {
			out[lower(r)] = true
		}
	case hasOrg:
		for r := range org.Repos {
			out[lower(r)] = true
		}
	}
	if isTrue(bp.ProtectTested) {
		for r := range d.Presubmits {
			out[lower(r)] = true
		}
	}
	return sortedKeys(out)
}

func planBranch(p *Plan, d *Desired, bp *prowconfig.BranchProtection, orgKey, repoKey string, r *Repo, b Branch, repoPolicy prowconfig.Policy) {
	key := "protection/" + lower(r.Name) + "/" + b.Name
	object := fmt.Sprintf("branch protection %s/%s", r.Name, b.Name)
	jc := prowconfig.JobContextsFor(d.Presubmits[lower(r.Name)], b.Name)
	pol := bp.GetPolicy(orgKey, repoKey, b.Name, jc)
	_, listed := bp.Orgs[orgKey].Repos[repoKey].Branches[b.Name]
	if pol == nil {
		if b.Protected && !listed && !isTrue(repoPolicy.Unmanaged) && excluded(repoPolicy, b.Name) {
			p.index(key, "excluded")
			p.add(Change{Kind: KindBranchProtection, Action: ActionDelete, Key: key, Object: object,
				Detail: "unprotect: excluded", Op: RemoveProtection{Repo: r.Name, Branch: b.Name}})
		}
		return
	}
	if !*pol.Protect {
		p.index(key, "unprotected")
		if b.Protected {
			p.add(Change{Kind: KindBranchProtection, Action: ActionDelete, Key: key, Object: object,
				Detail: "unprotect: protect is false", Op: RemoveProtection{Repo: r.Name, Branch: b.Name}})
		}
		return
	}
	want := protectionFrom(pol)
	p.index(key, want)
	if pol.RequiredPullRequestReviews != nil && pol.RequiredPullRequestReviews.Approvals == nil {
		p.note("%s: required_pull_request_reviews sets no required_approving_review_count, so reviews are not required (as in branchprotector)", object)
	}
	var have Protection
	if b.Protection != nil {
		have = *b.Protection
		have.normalize()
	}
	if b.Protected && reflect.DeepEqual(have, want) {
		return
	}
	op := SetProtection{Repo: r.Name, Branch: b.Name, Protection: want, SignaturesChanged: want.RequireSignedCommits != have.RequireSignedCommits}
	if !b.Protected {
		p.add(Change{Kind: KindBranchProtection, Action: ActionCreate, Key: key, Object: object, Detail: "protect: " + describeProtection(want), Op: op})
		return
	}
	p.add(Change{Kind: KindBranchProtection, Action: ActionUpdate, Key: key, Object: object,
		Detail: strings.Join(diffProtection(have, want), ", "), Op: op})
}

// excluded reports whether an exclude pattern of the policy matches branch.
func excluded(p prowconfig.Policy, branch string) bool {
	for _, e := range p.Exclude {
		if re, err := regexp.Compile(e); err == nil && re.MatchString(branch) {
			return true
		}
	}
	return false
}

// protectionFrom is the protection a policy asks of GitHub, as
// branchprotector renders it: enforce_admins false unless set, reviews only
// with a required approval count, lists sorted and deduplicated.
func protectionFrom(pol *prowconfig.Policy) Protection {
	out := Protection{
		EnforceAdmins:         isTrue(pol.Admins),
		RequiredLinearHistory: isTrue(pol.RequiredLinearHistory),
		AllowForcePushes:      isTrue(pol.AllowForcePushes),
		AllowDeletions:        isTrue(pol.AllowDeletions),
		RequireSignedCommits:  isTrue(pol.RequireSignedCommits),
	}
	if c := pol.RequiredStatusChecks; c != nil {
		out.RequiredStatusChecks = &StatusChecks{Strict: isTrue(c.Strict), Contexts: c.Contexts}
	}
	if rv := pol.RequiredPullRequestReviews; rv != nil && rv.Approvals != nil {
		r := &Reviews{DismissStaleReviews: isTrue(rv.DismissStale), RequireCodeOwnerReviews: isTrue(rv.RequireOwners), Approvals: *rv.Approvals}
		if dr := rv.DismissalRestrictions; dr != nil {
			r.DismissalRestrictions = &Principals{Users: dr.Users, Teams: dr.Teams}
		}
		if br := rv.BypassRestrictions; br != nil {
			r.BypassAllowances = &Principals{Users: br.Users, Teams: br.Teams}
		}
		out.RequiredReviews = r
	}
	if rs := pol.Restrictions; rs != nil {
		out.Restrictions = &Restrictions{Users: rs.Users, Teams: rs.Teams, Apps: rs.Apps}
	}
	out.normalize()
	return out
}

// describeProtection summarises a protection in a few words.
func describeProtection(p Protection) string {
	var parts []string
	if c := p.RequiredStatusChecks; c != nil {
		parts = append(parts, plural(len(c.Contexts), "required context", "required contexts"))
		if c.Strict {
			parts = append(parts, "up to date before merging")
		}
	}
	if r := p.RequiredReviews; r != nil {
		parts = append(parts, plural(r.Approvals, "approving review", "approving reviews"))
	}
	if p.Restrictions != nil {
		parts = append(parts, "push restricted")
	}
	for _, f := range []struct {
		on   bool
		what string
	}{{p.EnforceAdmins, "enforced for admins"}, {p.RequiredLinearHistory, "linear history"}, {p.AllowForcePushes, "force pushes allowed"},
		{p.AllowDeletions, "deletion allowed"}, {p.RequireSignedCommits, "signed commits"}} {
		if f.on {
			parts = append(parts, f.what)
		}
	}
	if len(parts) == 0 {
		return "no requirements"
	}
	return strings.Join(parts, ", ")
}

// diffProtection says what differs between two protections.
func diffProtection(have, want Protection) []string {
	var out []string
	hc, wc := have.RequiredStatusChecks, want.RequiredStatusChecks
	switch {
	case hc == nil && wc != nil:
		out = append(out, "require contexts"+signed(wc.Contexts, nil))
	case hc != nil && wc == nil:
		out = append(out, "no required contexts")
	case hc != nil:
		if add, del := setDiff(hc.Contexts, wc.Contexts); len(add)+len(del) > 0 {
			out = append(out, "contexts"+signed(add, del))
		}
		if hc.Strict != wc.Strict {
			out = append(out, fmt.Sprintf("strict %t → %t", hc.Strict, wc.Strict))
		}
	}
	if !reflect.DeepEqual(have.RequiredReviews, want.RequiredReviews) {
		out = append(out, "required reviews")
	}
	if !reflect.DeepEqual(have.Restrictions, want.Restrictions) {
		out = append(out, "push restrictions")
	}
	for _, f := range []struct {
		name       string
		have, want bool
	}{{"enforce_admins", have.EnforceAdmins, want.EnforceAdmins}, {"required_linear_history", have.RequiredLinearHistory, want.RequiredLinearHistory},
		{"allow_force_pushes", have.AllowForcePushes, want.AllowForcePushes}, {"allow_deletions", have.AllowDeletions, want.AllowDeletions},
		{"require_signed_commits", have.RequireSignedCommits, want.RequireSignedCommits}} {
		if f.have != f.want {
			out = append(out, fmt.Sprintf("%s %t → %t", f.name, f.have, f.want))
		}
	}
	return out
}

// setDiff lists what want adds to have and what it drops.
func setDiff(have, want []string) (add, del []string) {
	in := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	for _, w := range want {
		if !in(have, w) {
			add = append(add, w)
		}
	}
	for _, h := range have {
		if !in(want, h) {
			del = append(del, h)
		}
	}
	return add, del
}

func signed(add, del []string) string {
	var b strings.Builder
	for _, a := range add {
		b.WriteString(" +" + a)
	}
	for _, d := range del {
		b.WriteString(" -" + d)
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
