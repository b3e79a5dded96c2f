package plan

import (
	"slices"
	"strings"
)

// State is a GitHub org as bowline observed it: what it manages and nothing
// more. Logins, team names and repository and label names are compared
// case-insensitively, as GitHub compares them; maps are keyed by the
// lower-cased name. A State is plain data, so that one read from GitHub can
// be dumped as JSON and planned against offline.
type State struct {
	// Org is the org's login.
	Org string `json:"org"`
	// Bot is the login bowline acts as; empty for a GitHub App, which is
	// not a member of the org.
	Bot string `json:"bot,omitempty"`
	// Read says which parts were read. A part that was not read counts as
	// empty: planning against a State read from nothing plans to create
	// everything.
	Read Parts `json:"read"`
	// Settings are the org's settings.
	Settings OrgSettings `json:"settings"`
	// Members are the org's members by lower-cased login: admin or member.
	Members map[string]string `json:"members,omitempty"`
	// Invitations are the pending org invitations by lower-cased login:
	// admin or member. Peribolos counts them as members.
	Invitations map[string]string `json:"invitations,omitempty"`
	// Teams are the org's teams.
	Teams []Team `json:"teams,omitempty"`
	// Repos are the org's repositories.
	Repos []Repo `json:"repos,omitempty"`
}

// Parts name what a State holds or a plan manages.
type Parts struct {
	Settings         bool `json:"settings,omitempty"`
	Members          bool `json:"members,omitempty"`
	Teams            bool `json:"teams,omitempty"`
	TeamMembers      bool `json:"teamMembers,omitempty"`
	TeamRepos        bool `json:"teamRepos,omitempty"`
	Repos            bool `json:"repos,omitempty"`
	Collaborators    bool `json:"collaborators,omitempty"`
	BranchProtection bool `json:"branchProtection,omitempty"`
	Labels           bool `json:"labels,omitempty"`
}

// AllParts manages everything.
var AllParts = Parts{true, true, true, true, true, true, true, true, true}

// OrgSettings are peribolos' org metadata.
type OrgSettings struct {
	BillingEmail                         string `json:"billingEmail,omitempty"`
	Company                              string `json:"company,omitempty"`
	Email                                string `json:"email,omitempty"`
	Name                                 string `json:"name,omitempty"`
	Description                          string `json:"description,omitempty"`
	Location                             string `json:"location,omitempty"`
	HasOrganizationProjects              bool   `json:"hasOrganizationProjects,omitempty"`
	HasRepositoryProjects                bool   `json:"hasRepositoryProjects,omitempty"`
	DefaultRepositoryPermission          string `json:"defaultRepositoryPermission,omitempty"`
	MembersCanCreateRepositories         bool   `json:"membersCanCreateRepositories,omitempty"`
	MembersCanCreatePublicRepositories   bool   `json:"membersCanCreatePublicRepositories,omitempty"`
	MembersCanCreatePrivateRepositories  bool   `json:"membersCanCreatePrivateRepositories,omitempty"`
	MembersCanCreateInternalRepositories bool   `json:"membersCanCreateInternalRepositories,omitempty"`
}

// Team is one team.
type Team struct {
	ID          int64  `json:"id"`
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Privacy is closed or secret.
	Privacy string `json:"privacy"`
	// Parent is the parent team's slug; empty for a top-level team.
	Parent string `json:"parent,omitempty"`
	// Members are the team's members by lower-cased login, member or
	// maintainer, as GitHub lists them: members of child teams included.
	Members map[string]string `json:"members,omitempty"`
	// Invitees have been added but have not accepted their org invitation
	// yet; GitHub lists them apart and does not say their role.
	Invitees []string `json:"invitees,omitempty"`
	// Repos are the team's repositories by lower-cased name and the
	// permission it grants: read, triage, write, maintain or admin.
	Repos map[string]string `json:"repos,omitempty"`
}

// Repo is one repository.
type Repo struct {
	Name     string       `json:"name"`
	Settings RepoSettings `json:"settings"`
	// Detailed says Settings were read from the repository itself: GitHub
	// lists repositories without their merge settings.
	Detailed bool `json:"detailed,omitempty"`
	// Collaborators are the direct collaborators by lower-cased login and
	// their permission; nil when not read.
	Collaborators map[string]string `json:"collaborators,omitempty"`
	// Invitations are pending collaborator invitations by lower-cased
	// login.
	Invitations map[string]RepoInvitation `json:"invitations,omitempty"`
	// Branches are the repository's branches; nil when not read.
	Branches []Branch `json:"branches,omitempty"`
	// Labels are the repository's labels; nil when not read.
	Labels []Label `json:"labels,omitempty"`
}

// RepoInvitation is a pending collaborator invitation.
type RepoInvitation struct {
	ID         int64  `json:"id"`
	Permission string `json:"permission"`
}

// RepoSettings are peribolos' repository settings.
type RepoSettings struct {
	Description              string `json:"description,omitempty"`
	Homepage                 string `json:"homepage,omitempty"`
	Private                  bool   `json:"private,omitempty"`
	Visibility               string `json:"visibility,omitempty"`
	HasIssues                bool   `json:"hasIssues,omitempty"`
	HasProjects              bool   `json:"hasProjects,omitempty"`
	HasWiki                  bool   `json:"hasWiki,omitempty"`
	AllowSquashMerge         bool   `json:"allowSquashMerge,omitempty"`
	AllowMergeCommit         bool   `json:"allowMergeCommit,omitempty"`
	AllowRebaseMerge         bool   `json:"allowRebaseMerge,omitempty"`
	SquashMergeCommitTitle   string `json:"squashMergeCommitTitle,omitempty"`
	SquashMergeCommitMessage string `json:"squashMergeCommitMessage,omitempty"`
	DefaultBranch            string `json:"defaultBranch,omitempty"`
	Archived                 bool   `json:"archived,omitempty"`
}

// Branch is one branch and its protection.
type Branch struct {
	Name      string `json:"name"`
	Protected bool   `json:"protected,omitempty"`
	// Protection is set for a protected branch.
	Protection *Protection `json:"protection,omitempty"`
}

// Protection is a branch's protection in the terms of GitHub's API,
// normalised: lists sorted, logins lower-cased.
type Protection struct {
	EnforceAdmins         bool          `json:"enforceAdmins,omitempty"`
	RequiredStatusChecks  *StatusChecks `json:"requiredStatusChecks,omitempty"`
	RequiredReviews       *Reviews      `json:"requiredReviews,omitempty"`
	Restrictions          *Restrictions `json:"restrictions,omitempty"`
	RequiredLinearHistory bool          `json:"requiredLinearHistory,omitempty"`
	AllowForcePushes      bool          `json:"allowForcePushes,omitempty"`
	AllowDeletions        bool          `json:"allowDeletions,omitempty"`
	RequireSignedCommits  bool          `json:"requireSignedCommits,omitempty"`
}

// StatusChecks are the required status checks.
type StatusChecks struct {
	Strict   bool     `json:"strict,omitempty"`
	Contexts []string `json:"contexts,omitempty"`
}

// Reviews are the required pull request reviews.
type Reviews struct {
	DismissStaleReviews     bool `json:"dismissStaleReviews,omitempty"`
	RequireCodeOwnerReviews bool `json:"requireCodeOwnerReviews,omitempty"`
	Approvals               int  `json:"approvals"`
	// DismissalRestrictions, when set, say who may dismiss reviews.
	DismissalRestrictions *Principals `json:"dismissalRestrictions,omitempty"`
	// BypassAllowances, when set, say who may merge without them.
	BypassAllowances *Principals `json:"bypassAllowances,omitempty"`
}

// Principals are users and teams (by slug).
type Principals struct {
	Users []string `json:"users,omitempty"`
	Teams []string `json:"teams,omitempty"`
}

// Restrictions say who may push.
type Restrictions struct {
	Users []string `json:"users,omitempty"`
	Teams []string `json:"teams,omitempty"`
	Apps  []string `json:"apps,omitempty"`
}

// Label is one label.
type Label struct {
	Name        string `json:"name"`
	Color       string `json:"color"`
	Description string `json:"description,omitempty"`
}

// repo finds a repository by name.
func (s *State) repo(name string) *Repo {
	for i := range s.Repos {
		if strings.EqualFold(s.Repos[i].Name, name) {
			return &s.Repos[i]
		}
	}
	return nil
}

// Normalize sorts and lower-cases what compares case-insensitively, so that
// States read at different times compare equal when GitHub did not change.
func (s *State) Normalize() {
	slices.SortFunc(s.Teams, func(a, b Team) int { return strings.Compare(a.Slug, b.Slug) })
	for i := range s.Teams {
		slices.Sort(s.Teams[i].Invitees)
	}
	slices.SortFunc(s.Repos, func(a, b Repo) int { return strings.Compare(lower(a.Name), lower(b.Name)) })
	for i := range s.Repos {
		r := &s.Repos[i]
		slices.SortFunc(r.Branches, func(a, b Branch) int { return strings.Compare(a.Name, b.Name) })
		for j := range r.Branches {
			if p := r.Branches[j].Protection; p != nil {
				p.normalize()
			}
		}
		slices.SortFunc(r.Labels, func(a, b Label) int { return strings.Compare(lower(a.Name), lower(b.Name)) })
	}
}

func (p *Protection) normalize() {
	if c := p.RequiredStatusChecks; c != nil {
		c.Contexts = sortedSet(c.Contexts, false)
	}
	if r := p.RequiredReviews; r != nil {
		r.DismissalRestrictions = r.DismissalRestrictions.normalize()
		r.BypassAllowances = r.BypassAllowances.normalize()
	}
	if r := p.Restrictions; r != nil {
		r.Users = sortedSet(r.Users, true)
		r.Teams = sortedSet(r.Teams, true)
		r.Apps = sortedSet(r.Apps, true)
	}
}

// normalize returns nil for principals that name nobody: GitHub omits them.
func (p *Principals) normalize() *Principals {
	if p == nil || len(p.Users)+len(p.Teams) == 0 {
		return nil
	}
	return &Principals{Users: sortedSet(p.Users, true), Teams: sortedSet(p.Teams, true)}
}

// sortedSet sorts and deduplicates, lower-casing first when fold is set.
func sortedSet(in []string, fold bool) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		if fold {
			s = lower(s)
		}
		out[i] = s
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func lower(s string) string { return strings.ToLower(s) }
