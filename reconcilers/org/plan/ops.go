package plan

// Op is what applying one change does to GitHub. The applier executes each
// kind with the matching API call; every field it needs is here, so that
// a plan computed once is applied without planning again.
type Op interface{ phase() int }

// Phases order a plan: org settings and members first (team members must be
// org members), repositories before the teams and protections that name
// them, parent teams before their children, removals of teams and members
// after everything that might still refer to them, labels last.
const (
	phaseOrg = iota
	phaseMembers
	phaseRepos
	phaseCollaborators
	phaseTeams
	phaseTeamMembers
	phaseTeamRepos
	phaseTeamDeletes
	phaseMemberRemovals
	phaseProtection
	phaseLabels
)

// EditOrg changes the org's settings; only the fields set change.
type EditOrg struct {
	BillingEmail                         *string
	Company                              *string
	Email                                *string
	Name                                 *string
	Description                          *string
	Location                             *string
	HasOrganizationProjects              *bool
	HasRepositoryProjects                *bool
	DefaultRepositoryPermission          *string
	MembersCanCreateRepositories         *bool
	MembersCanCreatePublicRepositories   *bool
	MembersCanCreatePrivateRepositories  *bool
	MembersCanCreateInternalRepositories *bool
}

// SetMember makes Login an org member with Role (admin or member): a
// change of role for a member, an invitation for anyone else.
type SetMember struct{ Login, Role string }

// RemoveMember removes a member from the org, or cancels their invitation.
type RemoveMember struct{ Login string }

// CreateTeam creates a team, under Parent (a team's name in the
// configuration) when set.
type CreateTeam struct {
	Name, Description, Privacy, Parent string
}

// EditTeam changes a team; Team is its name in the configuration (its slug
// is looked up as the apply goes, since a rename changes it). Fields left
// nil stay as they are; RemoveParent makes it a top-level team.
type EditTeam struct {
	Team         string
	Name         *string
	Description  *string
	Privacy      *string
	Parent       *string
	RemoveParent bool
}

// DeleteTeam deletes the team with Slug.
type DeleteTeam struct{ Slug string }

// SetTeamMember adds Login to the team named Team with Role (member or
// maintainer), or changes their role.
type SetTeamMember struct{ Team, Login, Role string }

// RemoveTeamMember removes Login from the team named Team.
type RemoveTeamMember struct{ Team, Login string }

// SetTeamRepo grants the team named Team Permission on Repo.
type SetTeamRepo struct{ Team, Repo, Permission string }

// RemoveTeamRepo withdraws the team's access to Repo.
type RemoveTeamRepo struct{ Team, Repo string }

// RepoPatch is a repository's settings to set; nil fields stay as they are.
type RepoPatch struct {
	Name                     *string
	Description              *string
	Homepage                 *string
	Private                  *bool
	Visibility               *string
	HasIssues                *bool
	HasProjects              *bool
	HasWiki                  *bool
	AllowSquashMerge         *bool
	AllowMergeCommit         *bool
	AllowRebaseMerge         *bool
	SquashMergeCommitTitle   *string
	SquashMergeCommitMessage *string
	DefaultBranch            *string
	Archived                 *bool
}

// CreateRepo creates a repository.
type CreateRepo struct {
	Name              string
	Settings          RepoPatch
	AutoInit          bool
	GitignoreTemplate string
	LicenseTemplate   string
}

// EditRepo changes the repository now named Repo; Patch.Name renames it.
type EditRepo struct {
	Repo  string
	Patch RepoPatch
}

// SetCollaborator gives Login Permission on Repo: it updates a pending
// invitation when InvitationID is set, and adds (or invites) otherwise.
type SetCollaborator struct {
	Repo, Login, Permission string
	InvitationID            int64
}

// RemoveCollaborator removes a direct collaborator, or cancels their
// invitation when InvitationID is set.
type RemoveCollaborator struct {
	Repo, Login  string
	InvitationID int64
}

// SetProtection protects Branch of Repo as Protection says.
// SignaturesChanged says the signed-commits requirement, which GitHub sets
// through an endpoint of its own, must be set too.
type SetProtection struct {
	Repo, Branch      string
	Protection        Protection
	SignaturesChanged bool
}

// RemoveProtection removes Branch's protection.
type RemoveProtection struct{ Repo, Branch string }

// CreateLabel creates a label.
type CreateLabel struct {
	Repo  string
	Label Label
}

// EditLabel changes the label now named Name: its name, color and
// description become Label's.
type EditLabel struct {
	Repo, Name string
	Label      Label
}

// MigrateLabel moves the open issues and pull requests labelled From to
// the existing label To, then deletes From (label_sync's migration of a
// previous name whose new name exists already).
type MigrateLabel struct{ Repo, From, To string }

// DeleteLabel deletes a label.
type DeleteLabel struct{ Repo, Name string }

func (EditOrg) phase() int            { return phaseOrg }
func (SetMember) phase() int          { return phaseMembers }
func (RemoveMember) phase() int       { return phaseMemberRemovals }
func (CreateTeam) phase() int         { return phaseTeams }
func (EditTeam) phase() int           { return phaseTeams }
func (DeleteTeam) phase() int         { return phaseTeamDeletes }
func (SetTeamMember) phase() int      { return phaseTeamMembers }
func (RemoveTeamMember) phase() int   { return phaseTeamMembers }
func (SetTeamRepo) phase() int        { return phaseTeamRepos }
func (RemoveTeamRepo) phase() int     { return phaseTeamRepos }
func (CreateRepo) phase() int         { return phaseRepos }
func (EditRepo) phase() int           { return phaseRepos }
func (SetCollaborator) phase() int    { return phaseCollaborators }
func (RemoveCollaborator) phase() int { return phaseCollaborators }
func (SetProtection) phase() int      { return phaseProtection }
func (RemoveProtection) phase() int   { return phaseProtection }
func (CreateLabel) phase() int        { return phaseLabels }
func (EditLabel) phase() int          { return phaseLabels }
func (MigrateLabel) phase() int       { return phaseLabels }
func (DeleteLabel) phase() int        { return phaseLabels }
