// Package orgs holds peribolos' org configuration: org settings, members,
// admins, teams and repositories, possibly split over many files the way
// kubernetes/org splits them (an org.yaml per org and a teams.yaml per
// group), with peribolos' checks.
//
// Field names are peribolos' because users' files use them.
package orgs

import (
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// Config is a whole peribolos configuration: orgs by name.
type Config struct {
	Orgs map[string]Org `json:"orgs,omitempty"`
}

// Metadata are an org's settings; unset fields are left as they are.
type Metadata struct {
	BillingEmail                         *string `json:"billing_email,omitempty"`
	Company                              *string `json:"company,omitempty"`
	Email                                *string `json:"email,omitempty"`
	Name                                 *string `json:"name,omitempty"`
	Description                          *string `json:"description,omitempty"`
	Location                             *string `json:"location,omitempty"`
	HasOrganizationProjects              *bool   `json:"has_organization_projects,omitempty"`
	HasRepositoryProjects                *bool   `json:"has_repository_projects,omitempty"`
	DefaultRepositoryPermission          *string `json:"default_repository_permission,omitempty"`
	MembersCanCreateRepositories         *bool   `json:"members_can_create_repositories,omitempty"`
	MembersCanCreatePublicRepositories   *bool   `json:"members_can_create_public_repositories,omitempty"`
	MembersCanCreatePrivateRepositories  *bool   `json:"members_can_create_private_repositories,omitempty"`
	MembersCanCreateInternalRepositories *bool   `json:"members_can_create_internal_repositories,omitempty"`
}

// Org is one org.
type Org struct {
	Metadata `json:",inline"`

	Teams   map[string]Team `json:"teams,omitempty"`
	Members []string        `json:"members,omitempty"`
	Admins  []string        `json:"admins,omitempty"`
	Repos   map[string]Repo `json:"repos,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Team is a team and its child teams.
type Team struct {
	Description *string           `json:"description,omitempty"`
	Privacy     *string           `json:"privacy,omitempty"`
	Previously  []string          `json:"previously,omitempty"`
	Maintainers []string          `json:"maintainers,omitempty"`
	Members     []string          `json:"members,omitempty"`
	Children    map[string]Team   `json:"teams,omitempty"`
	Repos       map[string]string `json:"repos,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Repo is a repository's settings.
type Repo struct {
	Description              *string           `json:"description,omitempty"`
	HomePage                 *string           `json:"homepage,omitempty"`
	Private                  *bool             `json:"private,omitempty"`
	Visibility               *string           `json:"visibility,omitempty"`
	HasIssues                *bool             `json:"has_issues,omitempty"`
	HasProjects              *bool             `json:"has_projects,omitempty"`
	HasWiki                  *bool             `json:"has_wiki,omitempty"`
	AllowSquashMerge         *bool             `json:"allow_squash_merge,omitempty"`
	AllowMergeCommit         *bool             `json:"allow_merge_commit,omitempty"`
	AllowRebaseMerge         *bool             `json:"allow_rebase_merge,omitempty"`
	SquashMergeCommitTitle   *string           `json:"squash_merge_commit_title,omitempty"`
	SquashMergeCommitMessage *string           `json:"squash_merge_commit_message,omitempty"`
	DefaultBranch            *string           `json:"default_branch,omitempty"`
	Archived                 *bool             `json:"archived,omitempty"`
	Previously               []string          `json:"previously,omitempty"`
	Collaborators            map[string]string `json:"collaborators,omitempty"`
	OnCreate                 *RepoCreate       `json:"on_create,omitempty"`
	// ForkFrom ("owner/repo") creates the repository as a fork of another,
	// named by the key; DefaultBranchOnly forks only the default branch.
	ForkFrom          *string `json:"fork_from,omitempty"`
	DefaultBranchOnly *bool   `json:"default_branch_only,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// RepoCreate applies only when peribolos creates the repository.
type RepoCreate struct {
	AutoInit          *bool   `json:"auto_init,omitempty"`
	GitignoreTemplate *string `json:"gitignore_template,omitempty"`
	LicenseTemplate   *string `json:"license_template,omitempty"`
}

// TeamsFile is a file of teams for one org (kubernetes/org's teams.yaml).
type TeamsFile struct {
	Teams map[string]Team `json:"teams,omitempty"`
}
