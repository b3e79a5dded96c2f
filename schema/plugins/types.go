// Package plugins holds Prow's plugins.yaml: which plugins are enabled for
// which orgs and repositories, external plugins, and each plugin's own
// section, with Prow's merge rules and checks.
//
// Field names are Prow's because users' files use them.
package plugins

import (
	"fmt"

	yaml "go.yaml.in/yaml/v3"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// Config is plugins.yaml.
type Config struct {
	Plugins              Plugins                      `json:"plugins,omitempty"`
	ExternalPlugins      map[string][]ExternalPlugin  `json:"external_plugins,omitempty"`
	Owners               Owners                       `json:"owners,omitempty"`
	Approve              []Approve                    `json:"approve,omitempty"`
	Assign               map[string]*Assign           `json:"assign,omitempty"`
	Blockades            []Blockade                   `json:"blockades,omitempty"`
	Blunderbuss          Blunderbuss                  `json:"blunderbuss,omitempty"`
	Bugzilla             Bugzilla                     `json:"bugzilla,omitempty"`
	BranchCleaner        BranchCleaner                `json:"branch_cleaner,omitempty"`
	Cat                  KeyPath                      `json:"cat,omitempty"`
	CherryPickApproved   []CherryPickApproved         `json:"cherry_pick_approved,omitempty"`
	CherryPickUnapproved CherryPickUnapproved         `json:"cherry_pick_unapproved,omitempty"`
	ConfigUpdater        ConfigUpdater                `json:"config_updater,omitempty"`
	Dco                  map[string]*Dco              `json:"dco,omitempty"`
	DeleteSpamIssue      DeleteSpamIssue              `json:"delete_spam_issue,omitempty"`
	FixCommitMsg         FixCommitMsg                 `json:"fix_commit_msg,omitempty"`
	Golint               Golint                       `json:"golint,omitempty"`
	Goose                KeyPath                      `json:"goose,omitempty"`
	Heart                Heart                        `json:"heart,omitempty"`
	Help                 Help                         `json:"help,omitempty"`
	Jira                 *Jira                        `json:"jira,omitempty"`
	Label                Label                        `json:"label,omitempty"`
	Lgtm                 []Lgtm                       `json:"lgtm,omitempty"`
	MilestoneApplier     map[string]map[string]string `json:"milestone_applier,omitempty"`
	Override             Override                     `json:"override,omitempty"`
	ProjectConfig        ProjectConfig                `json:"project_config,omitempty"`
	ProjectManager       ProjectManager               `json:"project_manager,omitempty"`
	RepoMilestone        map[string]Milestone         `json:"repo_milestone,omitempty"`
	RequireMatchingLabel []RequireMatchingLabel       `json:"require_matching_label,omitempty"`
	Retitle              Retitle                      `json:"retitle,omitempty"`
	SigMention           SigMention                   `json:"sigmention,omitempty"`
	Size                 Size                         `json:"size,omitempty"`
	Slack                Slack                        `json:"slack,omitempty"`
	Triggers             []Trigger                    `json:"triggers,omitempty"`
	Welcome              []Welcome                    `json:"welcome,omitempty"`
	InvalidCommitMsg     []InvalidCommitMsg           `json:"invalid_commit_msg,omitempty"`
	ReleaseNote          any                          `json:"release_note,omitempty"`

	// Pos is the start of the file.
	Pos yamlpos.Pos `json:"-"`
}

// Plugins maps an org or "org/repo" to the plugins enabled there. A repo
// gets its org's plugins plus its own.
type Plugins map[string]OrgPlugins

// OrgPlugins are the plugins of one org or repo.
type OrgPlugins struct {
	// Plugins are enabled here.
	Plugins []string `json:"plugins,omitempty"`
	// ExcludedRepos (on an org) do not get the org's plugins.
	ExcludedRepos []string `json:"excluded_repos,omitempty"`

	Pos yamlpos.Pos `json:"-"`
	// names are where each plugin name is written (File left empty), for
	// messages; shorter than Plugins when some are merged in with "<<".
	names []yamlpos.Pos
}

// PluginPos is where the i-th plugin name of the entry is written, or the
// entry itself when that is not known.
func (o *OrgPlugins) PluginPos(i int) yamlpos.Pos {
	if i < len(o.names) {
		p := o.names[i]
		p.File = o.Pos.File
		return p
	}
	return o.Pos
}

// orgPluginsFields lets OrgPlugins decode strictly while also accepting
// Prow's older form, a plain list of plugin names.
type orgPluginsFields struct {
	Plugins       []string `json:"plugins,omitempty"`
	ExcludedRepos []string `json:"excluded_repos,omitempty"`
}

// DecodeYAMLNode accepts a list of plugin names or a mapping with plugins
// and excluded_repos. Both are decoded by the document's own decoder, so
// that their problems are reported where they are and aliases in them
// count against the document's expansion limit.
func (o *OrgPlugins) DecodeYAMLNode(n *yaml.Node, decode func(*yaml.Node, any)) error {
	o.Pos = yamlpos.Pos{Line: n.Line, Column: n.Column}
	switch n.Kind {
	case yaml.SequenceNode:
		decode(n, &o.Plugins)
		o.names = itemPositions(n)
		return nil
	case yaml.MappingNode:
		var f orgPluginsFields
		decode(n, &f)
		o.Plugins, o.ExcludedRepos = f.Plugins, f.ExcludedRepos
		for i := len(n.Content) - 2; i >= 0; i -= 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "plugins" {
				if v := n.Content[i+1]; v.Kind == yaml.SequenceNode {
					o.names = itemPositions(v)
				}
				break
			}
		}
		return nil
	}
	return fmt.Errorf("expected a list of plugins or a mapping with plugins and excluded_repos")
}

func itemPositions(n *yaml.Node) []yamlpos.Pos {
	out := make([]yamlpos.Pos, len(n.Content))
	for i, c := range n.Content {
		out[i] = yamlpos.Pos{Line: c.Line, Column: c.Column}
	}
	return out
}

// ExternalPlugin is a plugin served over HTTP.
type ExternalPlugin struct {
	Name     string   `json:"name"`
	Endpoint string   `json:"endpoint,omitempty"`
	Events   []string `json:"events,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Owners configures how OWNERS files are read.
type Owners struct {
	MDYAMLRepos       []string                   `json:"mdyamlrepos,omitempty"`
	SkipCollaborators []string                   `json:"skip_collaborators,omitempty"`
	LabelsDenyList    []string                   `json:"labels_denylist,omitempty"`
	Filenames         map[string]OwnersFilenames `json:"filenames,omitempty"`
}

// OwnersFilenames rename OWNERS and OWNERS_ALIASES for an org or repo.
type OwnersFilenames struct {
	Owners        string `json:"owners,omitempty"`
	OwnersAliases string `json:"owners_aliases,omitempty"`
}

// Approve configures the approve plugin for some repos.
type Approve struct {
	Repos               []string `json:"repos,omitempty"`
	IssueRequired       bool     `json:"issue_required,omitempty"`
	RequireSelfApproval *bool    `json:"require_self_approval,omitempty"`
	LgtmActsAsApprove   bool     `json:"lgtm_acts_as_approve,omitempty"`
	IgnoreReviewState   *bool    `json:"ignore_review_state,omitempty"`
	CommandHelpLink     string   `json:"commandHelpLink,omitempty"`
	PrProcessLink       string   `json:"pr_process_link,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Blockade blocks pull requests that touch some paths.
type Blockade struct {
	Repos            []string `json:"repos,omitempty"`
	BranchRegexp     *string  `json:"branchregexp,omitempty"`
	BlockRegexps     []string `json:"blockregexps,omitempty"`
	ExceptionRegexps []string `json:"exceptionregexps,omitempty"`
	Explanation      string   `json:"explanation,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Blunderbuss requests reviews from OWNERS reviewers.
type Blunderbuss struct {
	ReviewerCount         *int     `json:"request_count,omitempty"`
	MaxReviewerCount      int      `json:"max_request_count,omitempty"`
	ExcludeApprovers      bool     `json:"exclude_approvers,omitempty"`
	UseStatusAvailability bool     `json:"use_status_availability,omitempty"`
	IgnoreDrafts          bool     `json:"ignore_drafts,omitempty"`
	IgnoreAuthors         []string `json:"ignore_authors,omitempty"`
	// WaitForStatus delays review requests until a status context is in
	// a state with a description matching a pattern.
	WaitForStatus *ContextMatch `json:"wait_for_status,omitempty"`
}

// ContextMatch selects a status context by name, state and description.
type ContextMatch struct {
	// Context defaults to tide.
	Context string `json:"context,omitempty"`
	// Description is a regular expression over the context's description.
	Description string `json:"description,omitempty"`
	// State defaults to pending.
	State string `json:"state,omitempty"`
}

// BranchCleaner deletes merged branches except preserved ones.
type BranchCleaner struct {
	PreservedBranches map[string][]string `json:"preserved_branches,omitempty"`
}

// KeyPath points at an API key file.
type KeyPath struct {
	KeyPath string `json:"key_path,omitempty"`
}

// CherryPickApproved lets approvers approve cherry-picks.
type CherryPickApproved struct {
	Org                       string   `json:"org"`
	Repo                      string   `json:"repo"`
	BranchRegexp              string   `json:"branchregexp,omitempty"`
	Approvers                 []string `json:"approvers,omitempty"`
	AllowMissingApprovedLabel bool     `json:"allow_missing_approved_label,omitempty"`
	AllowMissingLGTMLabel     bool     `json:"allow_missing_lgtm_label,omitempty"`
}

// CherryPickUnapproved comments on unapproved cherry-picks.
type CherryPickUnapproved struct {
	BranchRegexp string `json:"branchregexp,omitempty"`
	Comment      string `json:"comment,omitempty"`
}

// ConfigUpdater writes files to ConfigMaps when they change on merge.
type ConfigUpdater struct {
	Maps          map[string]ConfigMapSpec `json:"maps,omitempty"`
	ClusterGroups map[string]ClusterGroup  `json:"cluster_groups,omitempty"`
	GZIP          bool                     `json:"gzip,omitempty"`
}

// ConfigMapSpec is one ConfigMap fed from a file or glob.
type ConfigMapSpec struct {
	Name string `json:"name,omitempty"`
	// PartitionedNames spread the files over several ConfigMaps instead
	// of the one Name gives; the two are mutually exclusive.
	PartitionedNames []string            `json:"partitioned_names,omitempty"`
	Key              string              `json:"key,omitempty"`
	GZIP             *bool               `json:"gzip,omitempty"`
	Clusters         map[string][]string `json:"clusters,omitempty"`
	ClusterGroups    []string            `json:"cluster_groups,omitempty"`
	UseFullPathAsKey bool                `json:"use_full_path_as_key,omitempty"`
}

// ClusterGroup names clusters and namespaces together.
type ClusterGroup struct {
	Clusters   []string `json:"clusters,omitempty"`
	Namespaces []string `json:"namespaces,omitempty"`
}

// Dco configures the DCO sign-off check.
type Dco struct {
	SkipDCOCheckForMembers       bool     `json:"skip_dco_check_for_members,omitempty"`
	TrustedApps                  []string `json:"trusted_apps,omitempty"`
	TrustedOrg                   string   `json:"trusted_org,omitempty"`
	SkipDCOCheckForCollaborators bool     `json:"skip_dco_check_for_collaborators,omitempty"`
	ContributingRepo             string   `json:"contributing_repo,omitempty"`
	ContributingBranch           string   `json:"contributing_branch,omitempty"`
	ContributingPath             string   `json:"contributing_path,omitempty"`
}

// Golint configures the golint plugin.
type Golint struct {
	MinimumConfidence *float64 `json:"minimum_confidence,omitempty"`
}

// Heart configures the heart plugin.
type Heart struct {
	Adorees       []string `json:"adorees,omitempty"`
	CommentRegexp string   `json:"commentregexp,omitempty"`
}

// Help configures the help plugin.
type Help struct {
	HelpGuidelinesURL     string `json:"help_guidelines_url,omitempty"`
	HelpGuidelinesSummary string `json:"help_guidelines_summary,omitempty"`
}

// Label configures the label plugin.
type Label struct {
	AdditionalLabels []string                     `json:"additional_labels,omitempty"`
	RestrictedLabels map[string][]RestrictedLabel `json:"restricted_labels,omitempty"`
}

// RestrictedLabel may only be applied by some teams or users.
type RestrictedLabel struct {
	Label        string          `json:"label"`
	AllowedTeams []string        `json:"allowed_teams,omitempty"`
	AllowedUsers []string        `json:"allowed_users,omitempty"`
	AssignOn     []AssignOnLabel `json:"assign_on,omitempty"`
	// AllowApproversFromOwners lets a user who may approve every file a
	// pull request changes (by OWNERS) change the label on it too.
	AllowApproversFromOwners bool `json:"allow_approvers_from_owners,omitempty"`
	// RemoveOnNewCommits removes the label when new commits are pushed to
	// the pull request.
	RemoveOnNewCommits bool `json:"remove_on_new_commits,omitempty"`
}

// AssignOnLabel is a label whose addition assigns a restricted label's
// allowed users.
type AssignOnLabel struct {
	Label string `json:"label"`
}

// Lgtm configures the lgtm plugin for some repos.
type Lgtm struct {
	Repos            []string `json:"repos,omitempty"`
	ReviewActsAsLgtm bool     `json:"review_acts_as_lgtm,omitempty"`
	StoreTreeHash    bool     `json:"store_tree_hash,omitempty"`
	StickyLgtmTeam   string   `json:"trusted_team_for_sticky_lgtm,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Override configures who may override status contexts.
type Override struct {
	AllowTopLevelOwners bool                `json:"allow_top_level_owners,omitempty"`
	AllowedGitHubTeams  map[string][]string `json:"allowed_github_teams,omitempty"`
}

// ProjectConfig maps orgs and repos to GitHub projects.
type ProjectConfig struct {
	Orgs map[string]ProjectOrgConfig `json:"project_org_configs,omitempty"`
}

// ProjectOrgConfig is an org's project settings.
type ProjectOrgConfig struct {
	MaintainerTeamID int                          `json:"org_maintainers_team_id,omitempty"`
	ProjectColumnMap map[string]string            `json:"org_default_column_map,omitempty"`
	Repos            map[string]ProjectRepoConfig `json:"project_repo_configs,omitempty"`
}

// ProjectRepoConfig is a repo's project settings.
type ProjectRepoConfig struct {
	MaintainerTeamID int               `json:"repo_maintainers_team_id,omitempty"`
	ProjectColumnMap map[string]string `json:"repo_default_column_map,omitempty"`
}

// Milestone says who maintains a repo's milestones.
type Milestone struct {
	MaintainersID           int    `json:"maintainers_id,omitempty"`
	MaintainersTeam         string `json:"maintainers_team,omitempty"`
	MaintainersFriendlyName string `json:"maintainers_friendly_name,omitempty"`
}

// RequireMatchingLabel asks for a label matching a pattern.
type RequireMatchingLabel struct {
	Org            string `json:"org,omitempty"`
	Repo           string `json:"repo,omitempty"`
	Branch         string `json:"branch,omitempty"`
	PRs            bool   `json:"prs,omitempty"`
	Issues         bool   `json:"issues,omitempty"`
	Regexp         string `json:"regexp,omitempty"`
	MissingLabel   string `json:"missing_label,omitempty"`
	MissingComment string `json:"missing_comment,omitempty"`
	GracePeriod    string `json:"grace_period,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Retitle configures the retitle plugin.
type Retitle struct {
	AllowClosedIssues bool `json:"allow_closed_issues,omitempty"`
}

// SigMention configures the sigmention plugin.
type SigMention struct {
	Regexp string `json:"regexp,omitempty"`
}

// Size holds the line-count thresholds of the size labels.
type Size struct {
	S   int `json:"s"`
	M   int `json:"m"`
	L   int `json:"l"`
	Xl  int `json:"xl"`
	Xxl int `json:"xxl"`
}

// Slack configures Slack notifications.
type Slack struct {
	MentionChannels []string       `json:"mentionchannels,omitempty"`
	MergeWarnings   []MergeWarning `json:"mergewarnings,omitempty"`
}

// MergeWarning warns channels about manual merges.
type MergeWarning struct {
	Repos          []string            `json:"repos,omitempty"`
	Channels       []string            `json:"channels,omitempty"`
	ExemptUsers    []string            `json:"exempt_users,omitempty"`
	ExemptBranches map[string][]string `json:"exempt_branches,omitempty"`
}

// Trigger configures the trigger plugin for some repos.
type Trigger struct {
	Repos                  []string `json:"repos,omitempty"`
	TrustedApps            []string `json:"trusted_apps,omitempty"`
	TrustedOrg             string   `json:"trusted_org,omitempty"`
	JoinOrgURL             string   `json:"join_org_url,omitempty"`
	OnlyOrgMembers         bool     `json:"only_org_members,omitempty"`
	IgnoreOkToTest         bool     `json:"ignore_ok_to_test,omitempty"`
	TriggerGitHubWorkflows bool     `json:"trigger_github_workflows,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Welcome greets first-time contributors.
type Welcome struct {
	Repos           []string `json:"repos,omitempty"`
	MessageTemplate string   `json:"message_template,omitempty"`
	AlwaysPost      bool     `json:"always_post,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// InvalidCommitMsg configures the invalidcommitmsg plugin.
type InvalidCommitMsg struct {
	Repos  []string                `json:"repos,omitempty"`
	Checks []InvalidCommitMsgCheck `json:"checks,omitempty"`
}

// InvalidCommitMsgCheck turns one check of the invalidcommitmsg plugin on
// or off: issueClosingKeywords (on unless disabled) or fixupPrefix (off
// unless listed and not disabled).
type InvalidCommitMsgCheck struct {
	Name     string `json:"name"`
	Disabled bool   `json:"disabled,omitempty"`
}

// Checks of the invalidcommitmsg plugin.
const (
	CheckIssueClosingKeywords = "issueClosingKeywords"
	CheckFixupPrefix          = "fixupPrefix"
)

// Assign configures the assign plugin for an org, "org/repo" or "*".
type Assign struct {
	// Restrict limits /assign on issues to members of the org.
	Restrict *AssignRestrict `json:"restrict,omitempty"`
}

// AssignRestrict limits /assign on issues: commenters who are not members
// of the org are warned (assigned anyway, with a note) or blocked.
type AssignRestrict struct {
	// Action is warn (the default) or block.
	Action string `json:"action,omitempty"`
	// ExemptLabels are labels under which anyone may use /assign.
	ExemptLabels []string `json:"exempt_labels,omitempty"`
}

// Actions of assign.restrict.
const (
	AssignActionWarn  = "warn"
	AssignActionBlock = "block"
)

// DeleteSpamIssue says who may delete an issue with /delete-spam-issue.
type DeleteSpamIssue struct {
	AllowedTeams []string `json:"allowed_teams,omitempty"`
	AllowedUsers []string `json:"allowed_users,omitempty"`
}

// FixCommitMsg configures the fixcommitmsg plugin.
type FixCommitMsg struct {
	// MaintainerTeam may run /fix-commit-messages; anyone may when unset.
	MaintainerTeam string `json:"maintainer_team,omitempty"`
}

// Jira configures the jira plugin.
type Jira struct {
	DisabledJiraProjects []string `json:"disabled_jira_projects,omitempty"`
}

// ProjectManager configures the project-manager plugin: for each org or
// "org/repo", projects and their columns.
type ProjectManager struct {
	OrgRepos map[string]ManagedOrgRepo `json:"orgsRepos,omitempty"`
}

// ManagedOrgRepo holds an org's or repository's managed projects.
type ManagedOrgRepo struct {
	Projects map[string]ManagedProject `json:"projects,omitempty"`
}

// ManagedProject holds a project's columns.
type ManagedProject struct {
	Columns []ManagedColumn `json:"columns,omitempty"`
}

// ManagedColumn says which issues and pull requests go into a column.
type ManagedColumn struct {
	ID     *int     `json:"id,omitempty"`
	Name   string   `json:"name,omitempty"`
	State  string   `json:"state,omitempty"`
	Labels []string `json:"labels,omitempty"`
	Org    string   `json:"org,omitempty"`
}

// Bugzilla configures the bugzilla plugin: options by branch, for every
// repository, an org's repositories, or a repository.
type Bugzilla struct {
	Default map[string]BugzillaBranchOptions `json:"default,omitempty"`
	Orgs    map[string]BugzillaOrgOptions    `json:"orgs,omitempty"`
}

// BugzillaOrgOptions are an org's Bugzilla options.
type BugzillaOrgOptions struct {
	Default map[string]BugzillaBranchOptions `json:"default,omitempty"`
	Repos   map[string]BugzillaRepoOptions   `json:"repos,omitempty"`
}

// BugzillaRepoOptions are a repository's Bugzilla options by branch.
type BugzillaRepoOptions struct {
	Branches map[string]BugzillaBranchOptions `json:"branches,omitempty"`
}

// BugzillaBugState is a bug's status and resolution.
type BugzillaBugState struct {
	Status     string `json:"status,omitempty"`
	Resolution string `json:"resolution,omitempty"`
}

// BugzillaBranchOptions say when a referenced bug is valid and what happens
// to it.
type BugzillaBranchOptions struct {
	ExcludeDefaults                     *bool               `json:"exclude_defaults,omitempty"`
	EnableBackporting                   *bool               `json:"enable_backporting,omitempty"`
	ValidateByDefault                   *bool               `json:"validate_by_default,omitempty"`
	IsOpen                              *bool               `json:"is_open,omitempty"`
	TargetRelease                       *string             `json:"target_release,omitempty"`
	Statuses                            *[]string           `json:"statuses,omitempty"`
	ValidStates                         *[]BugzillaBugState `json:"valid_states,omitempty"`
	DependentBugStatuses                *[]string           `json:"dependent_bug_statuses,omitempty"`
	DependentBugStates                  *[]BugzillaBugState `json:"dependent_bug_states,omitempty"`
	DependentBugTargetReleases          *[]string           `json:"dependent_bug_target_releases,omitempty"`
	DeprecatedDependentBugTargetRelease *string             `json:"dependent_bug_target_release,omitempty"`
	StatusAfterValidation               *string             `json:"status_after_validation,omitempty"`
	StateAfterValidation                *BugzillaBugState   `json:"state_after_validation,omitempty"`
	AddExternalLink                     *bool               `json:"add_external_link,omitempty"`
	StatusAfterMerge                    *string             `json:"status_after_merge,omitempty"`
	StateAfterMerge                     *BugzillaBugState   `json:"state_after_merge,omitempty"`
	StateAfterClose                     *BugzillaBugState   `json:"state_after_close,omitempty"`
	AllowedGroups                       []string            `json:"allowed_groups,omitempty"`
}
