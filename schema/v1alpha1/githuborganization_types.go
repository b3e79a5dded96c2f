package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConditionDrifted is True while a GitHubOrganization's org differs from
// what bowline last applied in ways its configuration did not ask for:
// someone changed it by hand, and the drift policy reports it rather than
// reverting it (or reverting it failed).
const ConditionDrifted = "Drifted"

// GitHubOrganization condition reasons, beyond the shared ones.
const (
	// ReasonInSync means the org matches its configuration.
	ReasonInSync = "InSync"
	// ReasonApplied means the last sync applied changes and the org now
	// matches its configuration.
	ReasonApplied = "Applied"
	// ReasonAwaitingConfirmation means changes are planned but spec.confirm
	// is false: bowline only plans, as peribolos without --confirm.
	ReasonAwaitingConfirmation = "AwaitingConfirmation"
	// ReasonSafetyLimitExceeded means the plan breaks a safety limit (too
	// many removals, too few admins, a configuration that contradicts
	// itself); nothing was applied.
	ReasonSafetyLimitExceeded = "SafetyLimitExceeded"
	// ReasonChangesBlocked means some changes are not allowed (archiving or
	// publishing a repository, unarchiving one); the others were applied.
	ReasonChangesBlocked = "ChangesBlocked"
	// ReasonApplyFailed means GitHub refused some changes; they are retried
	// with backoff.
	ReasonApplyFailed = "ApplyFailed"
	// ReasonNotInConfig means the applied configuration says nothing about
	// the org.
	ReasonNotInConfig = "NotInConfig"
	// ReasonDriftDetected means the org was changed by hand; the message
	// names what.
	ReasonDriftDetected = "DriftDetected"
	// ReasonDriftReverted means drift was found and undone.
	ReasonDriftReverted = "DriftReverted"
	// ReasonNoDrift means the org is as bowline last left it.
	ReasonNoDrift = "NoDrift"
)

// ManagedByLabel marks the GitHubOrganizations the orgs role creates from
// the configuration, with the name of their ConfigRepository.
const ManagedByLabel = "bowline.dev/config-repository"

// DriftPolicy says what bowline does with changes made on GitHub by hand.
// +kubebuilder:validation:Enum=Report;Revert
type DriftPolicy string

// Drift policies.
const (
	// DriftReport reports drift in the Drifted condition, an Event and a
	// metric, and leaves it.
	DriftReport DriftPolicy = "Report"
	// DriftRevert reports drift and undoes it, within the safety limits.
	DriftRevert DriftPolicy = "Revert"
)

// OrgPart is a part of an org's administration.
// +kubebuilder:validation:Enum=OrgSettings;Members;Teams;TeamMembers;TeamRepos;Repos;Collaborators;BranchProtection;Labels
type OrgPart string

// Parts of an org's administration.
const (
	OrgPartSettings         OrgPart = "OrgSettings"
	OrgPartMembers          OrgPart = "Members"
	OrgPartTeams            OrgPart = "Teams"
	OrgPartTeamMembers      OrgPart = "TeamMembers"
	OrgPartTeamRepos        OrgPart = "TeamRepos"
	OrgPartRepos            OrgPart = "Repos"
	OrgPartCollaborators    OrgPart = "Collaborators"
	OrgPartBranchProtection OrgPart = "BranchProtection"
	OrgPartLabels           OrgPart = "Labels"
)

// GitHubOrganizationSpec says which org to administer from which
// configuration, and within which limits. The configuration (peribolos'
// org files, branch-protection in config.yaml, labels.yaml) says what the
// org should look like; this spec, which only people with access to the
// cluster can change, says how far bowline may go to get there.
// +kubebuilder:validation:XValidation:rule="self.org == oldSelf.org",message="org cannot change; create another GitHubOrganization"
type GitHubOrganizationSpec struct {
	// org is the GitHub organization's login.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=39
	// +kubebuilder:validation:Pattern="^[A-Za-z0-9][A-Za-z0-9-]*$"
	Org string `json:"org"`

	// configRepositoryRef names the ConfigRepository, in the same
	// namespace, whose configuration describes the org.
	// +required
	ConfigRepositoryRef LocalObjectReference `json:"configRepositoryRef"`

	// confirm lets bowline change the org. While false (the default)
	// bowline only plans, and the status shows what it would change, as
	// peribolos does without --confirm.
	// +optional
	Confirm bool `json:"confirm,omitempty"`

	// driftPolicy says what to do with changes made on GitHub by hand:
	// Report (the default) reports them, Revert undoes them.
	// +optional
	// +kubebuilder:default=Report
	DriftPolicy DriftPolicy `json:"driftPolicy,omitempty"`

	// interval is how often the org is synced (and drift looked for) when
	// nothing else asks for it, as a Go duration. Default 15m.
	// +optional
	// +kubebuilder:default="15m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') || duration(self) >= duration('10s')",message="interval must be at least 10s"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// unmanaged lists the parts of the org bowline leaves alone, as
	// peribolos leaves what its --fix-… flags do not name. Team members
	// and team repositories need teams.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=9
	Unmanaged []OrgPart `json:"unmanaged,omitempty"`

	// safety are the limits a plan must keep to be applied.
	// +optional
	Safety OrgSafety `json:"safety,omitempty"`

	// ignoreSecretTeams leaves secret teams alone (peribolos'
	// --ignore-secret-teams).
	// +optional
	IgnoreSecretTeams bool `json:"ignoreSecretTeams,omitempty"`

	// ignoreInvitees does not count pending invitations as members
	// (peribolos' --ignore-invitees, for GitHub Enterprise Server).
	// +optional
	IgnoreInvitees bool `json:"ignoreInvitees,omitempty"`

	// deleteUnlistedLabels deletes the labels labels.yaml does not list.
	// By default only labels past their deleteAfter are deleted.
	// +optional
	DeleteUnlistedLabels bool `json:"deleteUnlistedLabels,omitempty"`

	// suspend stops syncing; the org is left as it is.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// OrgSafety are peribolos' safety limits, and the way past them for one
// plan.
type OrgSafety struct {
	// maxRemovalPercent is the largest share of the org's members, and of
	// its teams, one plan may remove (peribolos' --maximum-removal-delta).
	// Default 25.
	// +optional
	// +kubebuilder:default=25
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	MaxRemovalPercent *int32 `json:"maxRemovalPercent,omitempty"`

	// minAdmins is the fewest admins the configuration may name (peribolos'
	// --min-admins, whose default is 5). Default 2.
	// +optional
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=1
	MinAdmins *int32 `json:"minAdmins,omitempty"`

	// requiredAdmins must be admins in the configuration (peribolos'
	// --required-admins).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:items:MaxLength=39
	RequiredAdmins []string `json:"requiredAdmins,omitempty"`

	// requireSelf makes the account bowline acts as an admin in the
	// configuration, so that bowline cannot lock itself out (peribolos'
	// --require-self). It does not apply to a GitHub App. Default true.
	// +optional
	// +kubebuilder:default=true
	RequireSelf *bool `json:"requireSelf,omitempty"`

	// allowRepoArchival lets bowline archive repositories (peribolos'
	// --allow-repo-archival).
	// +optional
	AllowRepoArchival bool `json:"allowRepoArchival,omitempty"`

	// allowRepoPublish lets bowline make private repositories public
	// (peribolos' --allow-repo-publish).
	// +optional
	AllowRepoPublish bool `json:"allowRepoPublish,omitempty"`

	// approvedPlan applies the plan with this ID (status.plan.id) even
	// though it breaks the limits above. It approves that plan only: any
	// other plan is held to the limits again.
	// +optional
	// +kubebuilder:validation:Pattern="^[0-9a-f]{16}$"
	ApprovedPlan string `json:"approvedPlan,omitempty"`
}

// GitHubOrganizationStatus is what the last sync saw and did.
type GitHubOrganizationStatus struct {
	// conditions: Ready, Reconciling, Stalled and Drifted.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation of the spec last synced.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// lastAppliedRevision is the configuration revision the org last
	// matched, as "<ref>@sha1:<sha>".
	// +optional
	// +kubebuilder:validation:MaxLength=512
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`

	// lastAttemptedRevision is the configuration revision last planned.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// lastSyncTime is when the last sync finished.
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`

	// plan is the last plan: what bowline would change, or changed.
	// +optional
	Plan *OrgPlanStatus `json:"plan,omitempty"`

	// lastApply is the last time changes were applied.
	// +optional
	LastApply *OrgApplyStatus `json:"lastApply,omitempty"`

	// drift is what was found changed by hand at the last sync.
	// +optional
	Drift *OrgDriftStatus `json:"drift,omitempty"`

	// api is what the last sync cost in GitHub API requests.
	// +optional
	API *OrgAPIUsage `json:"api,omitempty"`

	// safety are the limits the last sync was held to, so that a change
	// of them shows (and is recorded as an Event).
	// +optional
	Safety *OrgSafety `json:"safety,omitempty"`
}

// OrgPlanStatus summarises a plan.
type OrgPlanStatus struct {
	// id names the plan by its changes; spec.safety.approvedPlan takes it.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	ID string `json:"id,omitempty"`

	// revision is the configuration revision planned.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Revision string `json:"revision,omitempty"`

	// total is the number of changes.
	// +optional
	Total int32 `json:"total"`

	// create, update and delete count changes by action.
	// +optional
	Create int32 `json:"create"`
	// +optional
	Update int32 `json:"update"`
	// +optional
	Delete int32 `json:"delete"`

	// blocked counts changes that are not allowed.
	// +optional
	Blocked int32 `json:"blocked,omitempty"`

	// drifted counts changes that would undo drift.
	// +optional
	Drifted int32 `json:"drifted,omitempty"`

	// byKind counts changes by kind of object.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	ByKind map[string]int32 `json:"byKind,omitempty"`

	// changes are the first changes, one a line: "+" creates, "~" updates,
	// "-" deletes; bounded to 50 (total counts them all).
	// +optional
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:items:MaxLength=512
	Changes []string `json:"changes,omitempty"`

	// violations are the safety limits the plan breaks.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=1024
	Violations []string `json:"violations,omitempty"`

	// notes are things worth knowing that change nothing (a repository a
	// team names that does not exist).
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=1024
	Notes []string `json:"notes,omitempty"`
}

// OrgApplyStatus records one application of a plan.
type OrgApplyStatus struct {
	// planID is the plan applied.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	PlanID string `json:"planID,omitempty"`

	// revision is the configuration revision applied.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Revision string `json:"revision,omitempty"`

	// time the application finished.
	// +required
	Time metav1.Time `json:"time"`

	// applied counts the changes made.
	// +optional
	Applied int32 `json:"applied"`

	// failed counts the changes GitHub refused.
	// +optional
	Failed int32 `json:"failed,omitempty"`

	// errors are the first failures; bounded to 10.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:MaxLength=1024
	Errors []string `json:"errors,omitempty"`
}

// OrgDriftStatus is what was found changed by hand.
type OrgDriftStatus struct {
	// objects counts the objects that drifted.
	// +optional
	Objects int32 `json:"objects"`

	// reverted counts those undone by the last sync.
	// +optional
	Reverted int32 `json:"reverted,omitempty"`

	// since is when drift was first seen; unset when there is none.
	// +optional
	Since *metav1.Time `json:"since,omitempty"`

	// changes are the first changes that would undo it; bounded to 20.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=512
	Changes []string `json:"changes,omitempty"`
}

// OrgAPIUsage is what one sync cost in GitHub API requests.
type OrgAPIUsage struct {
	// requests counts every request sent.
	// +optional
	Requests int64 `json:"requests"`

	// notModified counts reads GitHub answered 304 Not Modified, which it
	// does not count against the rate limit.
	// +optional
	NotModified int64 `json:"notModified"`

	// writes counts requests that changed something.
	// +optional
	Writes int64 `json:"writes"`

	// rateLimitRemaining is the rate limit left when the sync finished; -1
	// when GitHub did not say.
	// +optional
	RateLimitRemaining int64 `json:"rateLimitRemaining"`

	// duration of the sync, as a Go duration.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Duration string `json:"duration,omitempty"`
}

// GitHubOrganization administers one GitHub org from the configuration:
// peribolos' org settings, members, teams, repositories and collaborators,
// branchprotector's branch protection and label_sync's labels. bowline
// plans first, applies only within the safety limits of the spec, and
// reports drift.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ghorg,categories=bowline
// +kubebuilder:printcolumn:name="Org",type=string,JSONPath=`.spec.org`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Changes",type=integer,JSONPath=`.status.plan.total`
// +kubebuilder:printcolumn:name="Drift",type=integer,JSONPath=`.status.drift.objects`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.lastAppliedRevision`,priority=1
type GitHubOrganization struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state.
	// +required
	Spec GitHubOrganizationSpec `json:"spec"`

	// status is the observed state.
	// +optional
	Status GitHubOrganizationStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (o *GitHubOrganization) GetConditions() []metav1.Condition { return o.Status.Conditions }

// SetConditions replaces the status conditions.
func (o *GitHubOrganization) SetConditions(c []metav1.Condition) { o.Status.Conditions = c }

// GitHubOrganizationList is a list of GitHubOrganizations.
//
// +kubebuilder:object:root=true
type GitHubOrganizationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GitHubOrganization `json:"items"`
}
