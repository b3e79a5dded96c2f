package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReconcileRequestedAnnotation asks for a reconcile now. Its value is any
// string that differs from the last one handled (a timestamp, by
// convention); the controller echoes the value it handled in
// status.lastHandledReconcileAt.
const ReconcileRequestedAnnotation = "bowline.dev/reconcile-requested-at"

// ConfigRepository condition types, beyond Ready, Reconciling and Stalled.
const (
	// ConditionJobsReady is True when the job configuration of the applied
	// revision is valid and in effect.
	ConditionJobsReady = "JobsReady"
	// ConditionPluginsReady is True when the plugin configuration of the
	// applied revision is valid and in effect.
	ConditionPluginsReady = "PluginsReady"
	// ConditionOrgsSynced is True when the org, team and label settings of
	// the applied revision are in effect on GitHub; False with reason
	// NotImplemented while bowline does not apply them yet.
	ConditionOrgsSynced = "OrgsSynced"
	// ConditionDeploymentReady is True when bowline's own deployment
	// (paths.deploy) of the applied revision is in effect, every role it
	// deploys rolled out and healthy; False with reason Progressing during a
	// rollout, RolledBack after a failed one (the last healthy deployment
	// keeps running), TemplateNotFound without the operator's own
	// Deployment, and NotImplemented where this operator does not apply
	// the file (started without --deploy-template).
	ConditionDeploymentReady = "DeploymentReady"
)

// ConfigRepository condition reasons.
const (
	// ReasonFetchFailed means the repository could not be fetched; it is
	// retried with backoff and never sets Stalled.
	ReasonFetchFailed = "FetchFailed"
	// ReasonValidationFailed means the newest revision is invalid; the last
	// good revision stays applied.
	ReasonValidationFailed = "ValidationFailed"
	// ReasonPublishFailed means a valid revision could not be published.
	ReasonPublishFailed = "PublishFailed"
	// ReasonAuthenticationFailed means the referenced Secret is missing or
	// lacks the keys the URL's scheme needs.
	ReasonAuthenticationFailed = "AuthenticationFailed"
	// ReasonNotImplemented means the applied revision asks for something
	// bowline does not do yet (a plugin, org administration, its own
	// deployment); the message names it.
	ReasonNotImplemented = "NotImplemented"
	// ReasonRolledBack means a role's rollout failed and the role was
	// returned to its last healthy deployment; the message says why.
	ReasonRolledBack = "RolledBack"
	// ReasonTemplateNotFound means the operator's own Deployment, which
	// the roles' Deployments are made from, is missing.
	ReasonTemplateNotFound = "TemplateNotFound"
)

// States of a role deployed from the config repository.
const (
	// RoleProgressing: the role's Deployment is rolling out or being
	// checked.
	RoleProgressing = "Progressing"
	// RoleReady: the role runs the applied revision's settings, healthy.
	RoleReady = "Ready"
	// RoleRolledBack: the applied revision's settings failed; the role
	// runs its last healthy settings, or in the operator's own Deployment
	// when it never had any.
	RoleRolledBack = "RolledBack"
	// RoleHeld: an earlier role of the rollout failed, so this one keeps
	// what it runs until a new revision.
	RoleHeld = "Held"
	// RoleRemoving: the role left the file and returns to the operator's
	// own Deployment.
	RoleRemoving = "Removing"
)

// ConfigRepositorySpec says where bowline's configuration lives and how it is
// applied.
// +kubebuilder:validation:XValidation:rule="!(self.url.startsWith('file://') || self.url.startsWith('/')) || !has(self.secretRef)",message="secretRef is not used with file:// URLs or local paths"
type ConfigRepositorySpec struct {
	// url is the repository's location: https://, http://, ssh://, the scp
	// form user@host:path, file:// or an absolute local path.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^(https?://|ssh://|file://|/|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:)')",message="url must use https://, http://, ssh://, file://, user@host:path or an absolute path"
	URL string `json:"url"`

	// ref selects the revision to apply; the default is the branch main.
	// +optional
	Ref *GitRef `json:"ref,omitempty"`

	// interval is how often the repository is polled for new revisions, as a
	// Go duration (for example 1m or 30s). A push webhook triggers a
	// reconcile sooner. Default 1m.
	// +optional
	// +kubebuilder:default="1m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') || duration(self) >= duration('1s')",message="interval must be at least 1s"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// timeout bounds one fetch and validation, as a Go duration. Default 2m.
	// +optional
	// +kubebuilder:default="2m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// secretRef names a Secret in the same namespace with credentials: for
	// https, the key "token" (or "username" and "password"); for ssh, the
	// keys "identity" (a private key) and "known_hosts".
	// +optional
	SecretRef *LocalObjectReference `json:"secretRef,omitempty"`

	// paths locates each kind of configuration inside the repository. The
	// defaults are the layout of Prow's own config repositories.
	// +optional
	Paths ConfigPaths `json:"paths,omitempty"`

	// suspend stops reconciling; the applied revision keeps serving.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// strict refuses a revision with warnings, as `bowline check --strict`
	// does: what Prow accepts but is almost certainly a mistake (a key given
	// twice, a deprecated plugin name) and what bowline reads but does not
	// act on yet. By default warnings do not stop a revision from applying.
	// +optional
	Strict bool `json:"strict,omitempty"`
}

// GitRef selects a revision: at most one of branch, tag and commit.
// +kubebuilder:validation:XValidation:rule="(has(self.branch) ? 1 : 0) + (has(self.tag) ? 1 : 0) + (has(self.commit) ? 1 : 0) <= 1",message="set at most one of branch, tag and commit"
type GitRef struct {
	// branch to follow, for example main.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Branch string `json:"branch,omitempty"`

	// tag to apply, for example v1.2.0.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Tag string `json:"tag,omitempty"`

	// commit is a full 40-character SHA-1 to apply.
	// +optional
	// +kubebuilder:validation:Pattern="^[0-9a-f]{40}$"
	Commit string `json:"commit,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	// name of the object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// ConfigPaths locates each kind of configuration in the repository, relative
// to its root. An empty field takes its default; a path that does not exist
// in the repository means that kind of configuration is absent.
type ConfigPaths struct {
	// config is Prow's config.yaml. Default config/prow/config.yaml.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Config string `json:"config,omitempty"`

	// jobs is the job configuration directory. Default config/jobs.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Jobs string `json:"jobs,omitempty"`

	// plugins is Prow's plugins.yaml. Default config/prow/plugins.yaml.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Plugins string `json:"plugins,omitempty"`

	// orgs is the directory of peribolos org.yaml files. Default config/orgs.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Orgs string `json:"orgs,omitempty"`

	// labels is label_sync's labels.yaml. Default config/labels.yaml.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Labels string `json:"labels,omitempty"`

	// deploy is the directory of bowline's own deployment file,
	// deployment.yaml (docs/deploy.md). Default config/bowline.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Deploy string `json:"deploy,omitempty"`
}

// ConfigRepositoryStatus is what the controller last saw and did.
type ConfigRepositoryStatus struct {
	// conditions: Ready, Reconciling, Stalled, JobsReady, PluginsReady,
	// OrgsSynced and DeploymentReady.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// lastAppliedRevision is the revision in effect, as "<ref>@sha1:<sha>".
	// +optional
	LastAppliedRevision string `json:"lastAppliedRevision,omitempty"`

	// lastAttemptedRevision is the newest revision fetched, valid or not.
	// +optional
	LastAttemptedRevision string `json:"lastAttemptedRevision,omitempty"`

	// lastHandledReconcileAt is the value of the
	// bowline.dev/reconcile-requested-at annotation last acted upon.
	// +optional
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`

	// snapshot locates the published configuration of the applied revision.
	// +optional
	Snapshot *SnapshotReference `json:"snapshot,omitempty"`

	// summary counts what the applied revision configures.
	// +optional
	Summary *ConfigSummary `json:"summary,omitempty"`

	// validationErrors lists the problems of the last attempted revision,
	// each as file:line:column: message, bounded to the first 50.
	// +optional
	// +kubebuilder:validation:MaxItems=50
	ValidationErrors []string `json:"validationErrors,omitempty"`

	// warnings lists what the loader warned about in the last revision it
	// validated, each as file:line:column: message, bounded to the first
	// 50: what Prow accepts but is almost certainly a mistake, and what
	// bowline reads but does not act on yet ("not supported yet").
	// spec.strict refuses a revision that has any.
	// +optional
	// +kubebuilder:validation:MaxItems=50
	Warnings []string `json:"warnings,omitempty"`

	// warningCount is the number of warnings of that revision, those past
	// the first 50 included.
	// +optional
	WarningCount int32 `json:"warningCount,omitempty"`

	// history holds the last five reconciles, newest first.
	// +optional
	// +kubebuilder:validation:MaxItems=5
	History []ReconcileRecord `json:"history,omitempty"`

	// deployment is bowline's own deployment from paths.deploy, as the
	// operator last saw it; absent where the operator does not apply it.
	// +optional
	Deployment *DeploymentStatus `json:"deployment,omitempty"`
}

// DeploymentStatus is bowline's own deployment from the config repository.
type DeploymentStatus struct {
	// revision is the config revision whose deployment file is wholly in
	// effect; empty while a rollout is under way or after one failed.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Revision string `json:"revision,omitempty"`

	// roles are the roles that run, or ran, in Deployments of their own,
	// in rollout order. A role absent here runs in the operator's own
	// Deployment.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=8
	Roles []DeployedRole `json:"roles,omitempty"`
}

// DeployedRole is one role deployed from the config repository.
type DeployedRole struct {
	// name of the role.
	// +required
	// +kubebuilder:validation:Enum=jobs;reporter;periodic;merge;orgs;hook;web
	Name string `json:"name"`

	// deployment is the role's Deployment, in the ConfigRepository's
	// namespace.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Deployment string `json:"deployment"`

	// separate is true when the role runs in its Deployment alone: the
	// operator installed by bowline bootstrap leaves it to it (a role that
	// acts alone: its lease; hook and web: the Services bowline-hook and
	// bowline-web send it the traffic).
	// +optional
	Separate bool `json:"separate,omitempty"`

	// state is Progressing, Ready, RolledBack, Held or Removing.
	// +required
	// +kubebuilder:validation:Enum=Progressing;Ready;RolledBack;Held;Removing
	State string `json:"state"`

	// revision is the config revision of the settings the role runs
	// healthy; empty before its first healthy rollout.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Revision string `json:"revision,omitempty"`

	// image the role's Deployment runs.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Image string `json:"image,omitempty"`

	// replicas the Deployment asks for.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// availableReplicas is how many are available.
	// +optional
	AvailableReplicas int32 `json:"availableReplicas,omitempty"`

	// message says what the role waits for, or why it was rolled back.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}

// SnapshotReference locates a published configuration snapshot.
type SnapshotReference struct {
	// revision the snapshot was built from.
	// +required
	Revision string `json:"revision"`

	// digest of the snapshot's content, as sha256:<hex>.
	// +required
	Digest string `json:"digest"`

	// size of the uncompressed content in bytes.
	// +optional
	Size int64 `json:"size,omitempty"`

	// chunks is the number of objects the content is stored in.
	// +optional
	Chunks int32 `json:"chunks,omitempty"`

	// publishedAt is when the snapshot was published.
	// +optional
	PublishedAt *metav1.Time `json:"publishedAt,omitempty"`
}

// ConfigSummary counts what a revision configures.
type ConfigSummary struct {
	// presubmits is the number of presubmit jobs.
	Presubmits int32 `json:"presubmits"`
	// postsubmits is the number of postsubmit jobs.
	Postsubmits int32 `json:"postsubmits"`
	// periodics is the number of periodic jobs.
	Periodics int32 `json:"periodics"`
	// repositories is the number of repositories with jobs or plugins.
	Repositories int32 `json:"repositories"`
	// plugins is the number of distinct plugins enabled anywhere.
	Plugins int32 `json:"plugins"`
}

// ReconcileRecord is one reconcile in the history.
type ReconcileRecord struct {
	// revision that was reconciled.
	// +optional
	Revision string `json:"revision,omitempty"`
	// time the reconcile finished.
	// +required
	Time metav1.Time `json:"time"`
	// duration of the reconcile, as a Go duration.
	// +optional
	Duration string `json:"duration,omitempty"`
	// result is Applied, Unchanged or the failure reason.
	// +required
	Result string `json:"result"`
}

// ConfigRepository names a git repository holding bowline's configuration;
// the operator keeps the running configuration equal to the newest valid
// revision in it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=cfgrepo,categories=bowline
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.lastAppliedRevision`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`,priority=1
type ConfigRepository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired state.
	// +required
	Spec ConfigRepositorySpec `json:"spec"`

	// status is the observed state.
	// +optional
	Status ConfigRepositoryStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (r *ConfigRepository) GetConditions() []metav1.Condition { return r.Status.Conditions }

// SetConditions replaces the status conditions.
func (r *ConfigRepository) SetConditions(c []metav1.Condition) { r.Status.Conditions = c }

// ConfigRepositoryList is a list of ConfigRepositories.
//
// +kubebuilder:object:root=true
type ConfigRepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ConfigRepository `json:"items"`
}
