// Package configplan says what a change to a config repository would do,
// before it is applied: whether the operator would accept the new revision
// (its errors and warnings with their files and lines), and what changes
// when it is applied — jobs added, removed and changed field by field with
// the open pull requests they would start or stop running on, plugins per
// org and repository, the merge pool's queries with the pull requests that
// enter or leave it, org, team, membership, branch protection and label
// changes from the org planner with its safety limits' verdict, the other
// settings, and the files of bowline's own deployment.
//
// One model (Plan), computed by Compute from two loaded revisions, and
// three renderings: Markdown for the comment on a pull request, text for
// the terminal (`bowline plan`) and JSON (the Plan itself). The review of
// pull requests (automation/configreview) and `bowline plan` share all of
// it.
package configplan

import (
	"fmt"

	"github.com/bowline-ci/bowline/schema/configset"
)

// Plan is what a change from one revision of a configuration to another
// would do.
type Plan struct {
	// Base is the revision compared with; Head the one planned.
	Base Revision `json:"base"`
	Head Revision `json:"head"`
	// Valid says whether the operator would apply Head.
	Valid bool `json:"valid"`
	// Errors make Head invalid; Warnings do not.
	Errors   []Problem `json:"errors"`
	Warnings []Problem `json:"warnings"`
	// Summary counts what each revision holds (Head's only when valid).
	Summary Summaries `json:"summary"`
	// Jobs are the jobs added, removed and changed.
	Jobs []JobChange `json:"jobs"`
	// Plugins are the plugins enabled or disabled per org and repository,
	// and the changes of the plugins' own settings.
	Plugins PluginChanges `json:"plugins"`
	// Tide is the change of the merge pool's queries.
	Tide TideChanges `json:"tide"`
	// Settings are the other changes of config.yaml, field by field.
	Settings []FieldChange `json:"settings"`
	// Orgs are the changes to GitHub orgs, from the org planner.
	Orgs []OrgPlan `json:"orgs"`
	// Deploy are the changed files of bowline's own deployment.
	Deploy DeployChanges `json:"deploy"`
	// Notes say what the plan could not find out, and why.
	Notes []string `json:"notes,omitempty"`
}

// Revision names one side of the plan.
type Revision struct {
	// Name is the revision as the ConfigRepository names it
	// (main@sha1:…) or as given (a branch, tag or commit).
	Name string `json:"name"`
	// Commit is its commit, when known.
	Commit string `json:"commit,omitempty"`
}

// Problem is an error or warning of the head revision.
type Problem struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
	// Code names the kind of a warning.
	Code string `json:"code,omitempty"`
	// URL links to the line, when the plan knows where the files are
	// shown.
	URL string `json:"url,omitempty"`
	// Existing says the base revision has the same warning (in the same
	// file, whatever its line): the change did not bring it.
	Existing bool `json:"existing,omitempty"`
}

// Location is file:line:col, as much of it as is known; empty without a
// file.
func (p Problem) Location() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	case p.Column == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// String is file:line:col: message.
func (p Problem) String() string {
	return configset.Error{File: p.File, Line: p.Line, Column: p.Column, Message: p.Message}.String()
}

// NewWarnings are the warnings the change brings.
func (p *Plan) NewWarnings() []Problem {
	var out []Problem
	for _, w := range p.Warnings {
		if !w.Existing {
			out = append(out, w)
		}
	}
	return out
}

// Summaries count what each revision holds.
type Summaries struct {
	Base configset.Summary  `json:"base"`
	Head *configset.Summary `json:"head,omitempty"`
}

// Actions of a change.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// FieldChange is one changed field: its path (JSON field names, as in the
// files: spec.containers[0].image) and its values before and after, as
// compact JSON; empty where the field is absent.
type FieldChange struct {
	Path   string `json:"path"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// JobChange is one job added, removed or changed.
type JobChange struct {
	// Action is added, removed or changed.
	Action string `json:"action"`
	// Type is presubmit, postsubmit or periodic.
	Type string `json:"type"`
	Name string `json:"name"`
	// Repo is org/repo of a presubmit or postsubmit; the repositories a
	// periodic clones (its extra_refs), comma-separated.
	Repo string `json:"repo,omitempty"`
	// Branches says which branches it runs for.
	Branches string `json:"branches,omitempty"`
	// File and Line are where the job is defined (in the base revision for
	// a removed job); URL links there when known.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	URL  string `json:"url,omitempty"`
	// Fields are the changed fields of a changed job.
	Fields []FieldChange `json:"fields,omitempty"`
	// PullRequests say what the change means for the repository's open
	// pull requests; nil when not counted (periodics, or no GitHub).
	PullRequests *PRImpact `json:"pullRequests,omitempty"`
}

// PRImpact counts the open pull requests a job runs on, before and after
// the change: for a presubmit, those the trigger starts it on by itself;
// for a postsubmit, those whose merge would start it.
type PRImpact struct {
	// OnMerge says the job runs when a pull request merges (a
	// postsubmit), not on the pull request itself.
	OnMerge bool `json:"onMerge,omitempty"`
	// Open is how many open pull requests the repository has.
	Open int `json:"open"`
	// Before and After count those the job runs on.
	Before int `json:"before"`
	After  int `json:"after"`
	// Start and Stop are the pull requests it would start or stop running
	// on (at most maxListed each).
	Start []PRRef `json:"start,omitempty"`
	Stop  []PRRef `json:"stop,omitempty"`
	// Starts and Stops count them all.
	Starts int `json:"starts"`
	Stops  int `json:"stops"`
	// Uncounted is how many could not be judged (their changed files
	// were not read).
	Uncounted int `json:"uncounted,omitempty"`
}

// PRRef names one pull request.
type PRRef struct {
	Repo   string `json:"repo"`
	Number int    `json:"number"`
	Title  string `json:"title,omitempty"`
	URL    string `json:"url,omitempty"`
}

// PluginChanges are the changes of plugins.yaml.
type PluginChanges struct {
	// Enabled are the plugins enabled and disabled per org or org/repo.
	Enabled []PluginEnablement `json:"enabled"`
	// Settings are the changes of the plugins' own sections, field by
	// field.
	Settings []FieldChange `json:"settings"`
	// NotImplemented are plugins newly enabled that bowline does not
	// implement (they do nothing).
	NotImplemented []string `json:"notImplemented,omitempty"`
}

// PluginEnablement is the change of one org's or repository's plugins.
type PluginEnablement struct {
	// Scope is the org or org/repo.
	Scope    string   `json:"scope"`
	Enabled  []string `json:"enabled,omitempty"`
	Disabled []string `json:"disabled,omitempty"`
	// External plugins added, removed or changed.
	ExternalAdded   []string `json:"externalAdded,omitempty"`
	ExternalRemoved []string `json:"externalRemoved,omitempty"`
	ExternalChanged []string `json:"externalChanged,omitempty"`
	// ExcludedRepos added (+) or removed (-) from an org's plugins.
	Excluded []string `json:"excluded,omitempty"`
}

// TideChanges are the changes of the merge pool's queries.
type TideChanges struct {
	Queries []QueryChange `json:"queries"`
	// Enter and Leave are the open pull requests that the queries match
	// after the change and did not before, and the reverse (at most
	// maxListed each); Entering and Leaving count them all.
	Enter    []PRRef `json:"enter,omitempty"`
	Leave    []PRRef `json:"leave,omitempty"`
	Entering int     `json:"entering"`
	Leaving  int     `json:"leaving"`
	// Counted says the open pull requests were looked at.
	Counted bool `json:"counted"`
}

// QueryChange is one query added, removed or changed.
type QueryChange struct {
	Action string `json:"action"`
	// Index is the query's place in tide.queries (the head's, the base's
	// for a removed one), from 0.
	Index int `json:"index"`
	// Scope lists its orgs and repositories.
	Scope string `json:"scope"`
	// Fields are the changed fields of a changed query, or every field of
	// an added or removed one.
	Fields []FieldChange `json:"fields,omitempty"`
}

// OrgPlan is what the change does to one GitHub org, as the orgs role
// would apply it.
type OrgPlan struct {
	Org string `json:"org"`
	// Against says what the configurations were compared against: the
	// org as GitHub holds it, or the configuration alone.
	Against string `json:"against"`
	// ID names the plan of the change (as GitHubOrganization.status and
	// spec.safety.approvedPlan name plans).
	ID string `json:"id,omitempty"`
	// Create, Update and Delete count the changes.
	Create  int         `json:"create"`
	Update  int         `json:"update"`
	Delete  int         `json:"delete"`
	Changes []OrgChange `json:"changes"`
	// Problems are contradictions in the new configuration.
	Problems []string `json:"problems,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	// Violations are the safety limits that applying the new
	// configuration would break: the orgs role then waits for a person to
	// approve the plan. Empty: within the limits.
	Violations []string `json:"violations,omitempty"`
	// Pending counts the changes GitHub still lacks of the current
	// configuration (drift, or changes not yet applied); -1 when unknown.
	Pending int `json:"pending"`
	// Managed says whether a GitHubOrganization follows the org, and
	// Applies whether it is confirmed (spec.confirm), so that the orgs role
	// applies plans rather than only making them; nil when not known
	// (`bowline plan` without a cluster).
	Managed *bool `json:"managed,omitempty"`
	Applies *bool `json:"applies,omitempty"`
}

// OrgChange is one change to one object of an org.
type OrgChange struct {
	Kind    string `json:"kind"`
	Action  string `json:"action"`
	Object  string `json:"object"`
	Detail  string `json:"detail,omitempty"`
	Blocked string `json:"blocked,omitempty"`
	// Line is the change as `bowline check --plan-orgs` prints it.
	Line string `json:"line"`
}

// DeployChanges are the changes under the configured deploy path.
type DeployChanges struct {
	// Path is the deploy path.
	Path  string         `json:"path"`
	Files []DeployChange `json:"files"`
	// Settings are the changes of the deployment file as loaded
	// (deploy.Config), field by field.
	Settings []FieldChange `json:"settings,omitempty"`
	// Roles are the roles whose Deployment the change creates, deletes or
	// rolls out.
	Roles []DeployRoleChange `json:"roles,omitempty"`
	// Applied says whether this bowline applies these files: an install
	// by bowline bootstrap does, bowline up does not.
	Applied bool `json:"applied"`
}

// DeployRoleChange is what the change does to one role's place: added,
// it moves from the operator's own Deployment to one of its own; removed,
// it moves back; changed, its Deployment is rolled out (its settings or
// the image changed).
type DeployRoleChange struct {
	Role   string `json:"role"`
	Action string `json:"action"`
	// Before and After are its replicas in a Deployment of its own, the
	// default applied; 0 on the side where it has none.
	Before int32 `json:"before"`
	After  int32 `json:"after"`
}

// DeployChange is one changed file.
type DeployChange struct {
	Path string `json:"path"`
	// Action is added, removed or changed.
	Action string `json:"action"`
	// Diff is the unified diff of a text file (bounded).
	Diff string `json:"diff,omitempty"`
}

// Empty reports whether the plan changes nothing (a valid revision with
// no change in any section).
func (p *Plan) Empty() bool {
	return p.Valid && len(p.Jobs) == 0 && len(p.Plugins.Enabled) == 0 && len(p.Plugins.Settings) == 0 &&
		len(p.Tide.Queries) == 0 && len(p.Settings) == 0 && len(p.Orgs) == 0 && len(p.Deploy.Files) == 0 && len(p.Deploy.Settings) == 0 && len(p.Deploy.Roles) == 0
}

// JobCounts counts the job changes by action.
func (p *Plan) JobCounts() (added, changed, removed int) {
	for _, j := range p.Jobs {
		switch j.Action {
		case Added:
			added++
		case Changed:
			changed++
		case Removed:
			removed++
		}
	}
	return added, changed, removed
}
