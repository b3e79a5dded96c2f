package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MergeKindAnnotation is set on the runs the merge controller creates: why
// it tests their pull requests (a PoolBatchKind: Batch, Speculative,
// Bisection or Retest).
const MergeKindAnnotation = "bowline.dev/merge-kind"

// MergePool condition reasons, beyond the shared ones.
const (
	// ReasonWaitingForConfig means no applied configuration has a merge
	// query covering the pool's repository and branch.
	ReasonWaitingForConfig = "WaitingForConfig"
	// ReasonGitHubFailed means reading from or writing to GitHub failed; it
	// is retried with backoff.
	ReasonGitHubFailed = "GitHubFailed"
	// ReasonMergeFailed means GitHub refused a merge the pool decided on;
	// the message says why (often a mismatch between the merge requirements
	// and the repository's settings).
	ReasonMergeFailed = "MergeFailed"
	// ReasonBlocked means an issue with the blocker label holds the branch.
	ReasonBlocked = "Blocked"
)

// MergeAction is what the merge controller did in a pool's last sync, with
// Prow's Tide names.
// +kubebuilder:validation:Enum=Wait;Trigger;TriggerBatch;Merge;MergeBatch;Blocked
type MergeAction string

// Merge actions.
const (
	// MergeActionWait means nothing was ready to merge or to test.
	MergeActionWait MergeAction = "Wait"
	// MergeActionTrigger means the required jobs of one pull request were
	// started against the current base.
	MergeActionTrigger MergeAction = "Trigger"
	// MergeActionTriggerBatch means batch jobs were started for several pull
	// requests merged together (including speculative and bisection batches).
	MergeActionTriggerBatch MergeAction = "TriggerBatch"
	// MergeActionMerge means one pull request was merged.
	MergeActionMerge MergeAction = "Merge"
	// MergeActionMergeBatch means a batch whose jobs passed was merged.
	MergeActionMergeBatch MergeAction = "MergeBatch"
	// MergeActionBlocked means a blocker issue holds the branch.
	MergeActionBlocked MergeAction = "Blocked"
)

// PoolPullRequestState is where a pull request stands in its pool.
// +kubebuilder:validation:Enum=Success;Pending;Missing;NotMergeable;Blocked
type PoolPullRequestState string

// Pull request states in a pool.
const (
	// PoolPRSuccess means the required jobs passed against the current base:
	// the pull request merges next.
	PoolPRSuccess PoolPullRequestState = "Success"
	// PoolPRPending means the pull request is in the pool and its required
	// jobs are running.
	PoolPRPending PoolPullRequestState = "Pending"
	// PoolPRMissing means the pull request is in the pool but its required
	// jobs have not passed against the current base; they will be (re)run.
	PoolPRMissing PoolPullRequestState = "Missing"
	// PoolPRNotMergeable means the pull request is not in the pool; reason
	// says what it lacks (a label, a passing job, …).
	PoolPRNotMergeable PoolPullRequestState = "NotMergeable"
	// PoolPRBlocked means an issue with the blocker label holds the branch.
	PoolPRBlocked PoolPullRequestState = "Blocked"
)

// PoolBatchKind says why a set of pull requests is tested together.
// +kubebuilder:validation:Enum=Batch;Speculative;Bisection;Retest
type PoolBatchKind string

// Batch kinds.
const (
	// PoolBatchBatch is Prow's batch: several pull requests merged onto the
	// current base.
	PoolBatchBatch PoolBatchKind = "Batch"
	// PoolBatchSpeculative is tested on top of the batches before it, as if
	// they had merged, so that it can merge right after them.
	PoolBatchSpeculative PoolBatchKind = "Speculative"
	// PoolBatchBisection is half of a batch that failed, tested to find the
	// pull request that broke it.
	PoolBatchBisection PoolBatchKind = "Bisection"
	// PoolBatchRetest is one pull request's required jobs run again against
	// the current base.
	PoolBatchRetest PoolBatchKind = "Retest"
)

// PoolBatchState is the combined state of a batch's required jobs.
// +kubebuilder:validation:Enum=Pending;Success;Failure
type PoolBatchState string

// Batch states.
const (
	// PoolBatchPending means some required jobs are still running.
	PoolBatchPending PoolBatchState = "Pending"
	// PoolBatchSuccess means every required job passed.
	PoolBatchSuccess PoolBatchState = "Success"
	// PoolBatchFailure means a required job failed.
	PoolBatchFailure PoolBatchState = "Failure"
)

// MergePoolSpec names a pool: the open pull requests of one repository that
// target one branch. The merge controller creates MergePools itself.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a MergePool's org, repo and branch cannot change"
type MergePoolSpec struct {
	// org is the GitHub organization or user that owns the repository.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	Org string `json:"org"`

	// repo is the repository's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	Repo string `json:"repo"`

	// branch is the base branch the pool's pull requests target.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Branch string `json:"branch"`
}

// MergePoolStatus is the pool as the merge controller last saw it.
type MergePoolStatus struct {
	// conditions: Ready (the last sync succeeded), Reconciling and Stalled.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation of the spec last synced.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// lastHandledReconcileAt is the value of the
	// bowline.dev/reconcile-requested-at annotation last acted upon; the
	// webhook server sets the annotation when it runs apart from the merge
	// controller.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	LastHandledReconcileAt string `json:"lastHandledReconcileAt,omitempty"`

	// baseSHA is the branch's head commit at the last sync.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	BaseSHA string `json:"baseSHA,omitempty"`

	// action is what the last sync did.
	// +optional
	Action MergeAction `json:"action,omitempty"`

	// targets are the pull requests the last action concerned.
	// +optional
	// +kubebuilder:validation:MaxItems=100
	Targets []int32 `json:"targets,omitempty"`

	// summary counts the pool's pull requests by state.
	// +optional
	Summary MergePoolSummary `json:"summary,omitempty"`

	// pullRequests are the open pull requests targeting the branch, each
	// with where it stands and why: the pool's members first (success,
	// pending, missing), then the others, lowest number first within each
	// state; bounded to 200 (summary counts them all).
	// +optional
	// +listType=map
	// +listMapKey=number
	// +kubebuilder:validation:MaxItems=200
	PullRequests []PoolPullRequest `json:"pullRequests,omitempty"`

	// batches are the sets of pull requests under test: Prow's batch, the
	// speculative batches stacked on it, bisection halves of a failed
	// batch, and retests of single pull requests.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	Batches []PoolBatch `json:"batches,omitempty"`

	// merging records a merge in progress, written before the first pull
	// request is merged, so that a controller that restarts midway finishes
	// it instead of merging anything twice or losing the batch.
	// +optional
	Merging *PoolMerge `json:"merging,omitempty"`

	// lastMerges are the newest merges, newest first, bounded to 10. They
	// also let results of jobs that tested a batch on top of an older base
	// count for the base that merging that batch produced.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	LastMerges []PoolMerge `json:"lastMerges,omitempty"`

	// blockers are the open issues with the blocker label that hold the
	// branch.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	Blockers []int32 `json:"blockers,omitempty"`
}

// MergePoolSummary counts pull requests by their state in the pool.
type MergePoolSummary struct {
	// open is the number of open pull requests targeting the branch.
	// +optional
	Open int32 `json:"open,omitempty"`
	// inPool is the number of them that meet every merge requirement
	// (success, pending and missing together).
	// +optional
	InPool int32 `json:"inPool,omitempty"`
	// success is the number ready to merge.
	// +optional
	Success int32 `json:"success,omitempty"`
	// pending is the number with required jobs running.
	// +optional
	Pending int32 `json:"pending,omitempty"`
	// missing is the number waiting for their required jobs to run against
	// the current base.
	// +optional
	Missing int32 `json:"missing,omitempty"`
}

// PoolPullRequest is one open pull request and where it stands.
type PoolPullRequest struct {
	// number of the pull request.
	// +required
	// +kubebuilder:validation:Minimum=1
	Number int32 `json:"number"`

	// author is the pull request's author.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Author string `json:"author,omitempty"`

	// title is the pull request's title, shortened to 200 characters.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Title string `json:"title,omitempty"`

	// headSHA is the pull request's head commit.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	HeadSHA string `json:"headSHA,omitempty"`

	// state is where the pull request stands.
	// +required
	State PoolPullRequestState `json:"state"`

	// reason says why it is not merging yet; it is the description of the
	// tide status on the pull request.
	// +optional
	// +kubebuilder:validation:MaxLength=140
	Reason string `json:"reason,omitempty"`

	// tideState is the state of the tide status on the pull request:
	// success, pending or error.
	// +optional
	// +kubebuilder:validation:Enum=success;pending;error
	TideState string `json:"tideState,omitempty"`

	// missingJobs are the required jobs that have not passed against the
	// current base.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=255
	MissingJobs []string `json:"missingJobs,omitempty"`
}

// PoolPull is one pull request at one head commit.
type PoolPull struct {
	// number of the pull request.
	// +required
	// +kubebuilder:validation:Minimum=1
	Number int32 `json:"number"`

	// sha is the head commit.
	// +required
	// +kubebuilder:validation:MaxLength=64
	SHA string `json:"sha"`

	// method is the merge method: merge, squash or rebase (merges only).
	// +optional
	// +kubebuilder:validation:MaxLength=16
	Method string `json:"method,omitempty"`

	// mergeSHA is the commit the merge produced, once merged (merges only).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	MergeSHA string `json:"mergeSHA,omitempty"`
}

// PoolBatch is a set of pull requests tested together.
type PoolBatch struct {
	// kind says why the set is tested.
	// +required
	Kind PoolBatchKind `json:"kind"`

	// baseSHA is the base commit the pull requests are merged onto.
	// +required
	// +kubebuilder:validation:MaxLength=64
	BaseSHA string `json:"baseSHA"`

	// pulls are the pull requests under test, in merge order. A
	// speculative batch lists the pull requests of the batches below it
	// first.
	// +required
	// +kubebuilder:validation:MaxItems=100
	Pulls []PoolPull `json:"pulls"`

	// on counts the leading pulls that belong to the batches below a
	// speculative batch.
	// +optional
	// +kubebuilder:validation:Minimum=0
	On int32 `json:"on,omitempty"`

	// state is the combined state of the required jobs.
	// +required
	State PoolBatchState `json:"state"`

	// jobs are the required jobs and their states.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Jobs []PoolBatchJob `json:"jobs,omitempty"`
}

// PoolBatchJob is one required job of a batch.
type PoolBatchJob struct {
	// context is the job's status context.
	// +required
	// +kubebuilder:validation:MaxLength=255
	Context string `json:"context"`

	// state is the best state among its runs.
	// +required
	State PoolBatchState `json:"state"`

	// prowJob names the run the state comes from.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ProwJob string `json:"prowJob,omitempty"`
}

// PoolMerge is one merge of one or more pull requests.
type PoolMerge struct {
	// action is Merge or MergeBatch.
	// +required
	Action MergeAction `json:"action"`

	// baseSHA is the branch's head before the merge.
	// +required
	// +kubebuilder:validation:MaxLength=64
	BaseSHA string `json:"baseSHA"`

	// pulls are the pull requests merged, in order, each with the commit
	// its merge produced once merged.
	// +required
	// +kubebuilder:validation:MaxItems=100
	Pulls []PoolPull `json:"pulls"`

	// startTime is when the merge began.
	// +required
	StartTime metav1.Time `json:"startTime"`

	// completionTime is when the last pull request was merged or the merge
	// given up.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// error says why some pull requests were not merged.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Error string `json:"error,omitempty"`
}

// MergePool is the merge queue of one repository's branch, as Prow's Tide
// keeps it: the open pull requests targeting the branch, which of them meet
// the merge requirements, the batch under test and the last merges. The merge
// controller creates one per org/repo/branch and writes its status.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mp,categories=bowline
// +kubebuilder:printcolumn:name="Org",type=string,JSONPath=`.spec.org`,priority=1
// +kubebuilder:printcolumn:name="Repo",type=string,JSONPath=`.spec.repo`
// +kubebuilder:printcolumn:name="Branch",type=string,JSONPath=`.spec.branch`
// +kubebuilder:printcolumn:name="In Pool",type=integer,JSONPath=`.status.summary.inPool`
// +kubebuilder:printcolumn:name="Open",type=integer,JSONPath=`.status.summary.open`,priority=1
// +kubebuilder:printcolumn:name="Action",type=string,JSONPath=`.status.action`
// +kubebuilder:printcolumn:name="Targets",type=string,JSONPath=`.status.targets`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type MergePool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec names the pool.
	// +required
	Spec MergePoolSpec `json:"spec"`

	// status is the pool as last synced.
	// +optional
	Status MergePoolStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (p *MergePool) GetConditions() []metav1.Condition { return p.Status.Conditions }

// SetConditions replaces the status conditions.
func (p *MergePool) SetConditions(c []metav1.Condition) { p.Status.Conditions = c }

// MergePoolList is a list of MergePools.
//
// +kubebuilder:object:root=true
type MergePoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MergePool `json:"items"`
}
