package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ProwJobType says what a job tests.
// +kubebuilder:validation:Enum=presubmit;postsubmit;periodic;batch
type ProwJobType string

// Job types, as Prow's.
const (
	// PresubmitJob tests an unmerged pull request merged onto its base.
	PresubmitJob ProwJobType = "presubmit"
	// PostsubmitJob tests a pushed commit.
	PostsubmitJob ProwJobType = "postsubmit"
	// PeriodicJob runs on a schedule.
	PeriodicJob ProwJobType = "periodic"
	// BatchJob tests several pull requests merged together onto their base.
	BatchJob ProwJobType = "batch"
)

// ProwJobAgent names what runs a job.
// +kubebuilder:validation:Enum=kubernetes;local;jenkins;tekton-pipeline
type ProwJobAgent string

// Agents. bowline runs kubernetes and local; jenkins and tekton-pipeline are
// accepted so that Prow's objects round-trip, but not supported yet: the
// jobs controller ends their runs at once in state error.
const (
	// KubernetesAgent runs one Pod per run in a build cluster.
	KubernetesAgent ProwJobAgent = "kubernetes"
	// LocalAgent runs each container's command as a process on the
	// operator's host (used by `bowline up`).
	LocalAgent ProwJobAgent = "local"
	// JenkinsAgent is Prow's Jenkins operator.
	JenkinsAgent ProwJobAgent = "jenkins"
	// TektonAgent is Prow's Tekton pipeline controller.
	TektonAgent ProwJobAgent = "tekton-pipeline"
)

// ProwJobState is Prow's state of a run, kept for familiarity; the
// conditions carry the detail.
// +kubebuilder:validation:Enum=scheduling;triggered;pending;success;failure;aborted;error
type ProwJobState string

// States, as Prow's.
const (
	// SchedulingState means a build cluster is being chosen.
	SchedulingState ProwJobState = "scheduling"
	// TriggeredState means the run waits for a slot or has not started.
	TriggeredState ProwJobState = "triggered"
	// PendingState means the run is under way.
	PendingState ProwJobState = "pending"
	// SuccessState means the run passed.
	SuccessState ProwJobState = "success"
	// FailureState means the run failed.
	FailureState ProwJobState = "failure"
	// AbortedState means the run was stopped before it finished.
	AbortedState ProwJobState = "aborted"
	// ErrorState means the run could not be carried out.
	ErrorState ProwJobState = "error"
)

// ProwJob condition types.
const (
	// ConditionScheduled is True once the run has a pod or process; False
	// with a Waiting… reason while concurrency limits hold it back.
	ConditionScheduled = "Scheduled"
	// ConditionCompleted is True once the run reached a terminal state; its
	// reason is the outcome.
	ConditionCompleted = "Completed"
)

// ProwJob condition reasons.
const (
	// ReasonWaitingForConcurrency means max_concurrency holds the run back.
	ReasonWaitingForConcurrency = "WaitingForConcurrency"
	// ReasonWaitingForQueue means the job queue's capacity holds the run back.
	ReasonWaitingForQueue = "WaitingForQueue"
	// ReasonJobSucceeded means the run passed.
	ReasonJobSucceeded = "JobSucceeded"
	// ReasonJobFailed means the run failed.
	ReasonJobFailed = "JobFailed"
	// ReasonJobAborted means the run was aborted.
	ReasonJobAborted = "JobAborted"
	// ReasonJobErrored means the run could not be carried out.
	ReasonJobErrored = "JobErrored"
)

// ProwJobSpec is one run of one job, as Prow's ProwJob spec in camelCase.
// Its creator sets it whole and nobody changes it after, so the API server
// tracks it as one field (atomic) rather than field by field, which makes
// every write of a ProwJob cheaper and its managedFields short.
// +structType=atomic
// +kubebuilder:validation:XValidation:rule="self.type == 'periodic' || has(self.refs)",message="refs is required unless type is periodic"
// +kubebuilder:validation:XValidation:rule="self.type != 'presubmit' || (has(self.refs) && has(self.refs.pulls) && size(self.refs.pulls) == 1)",message="a presubmit tests exactly one pull request in refs.pulls"
// +kubebuilder:validation:XValidation:rule="self.type != 'batch' || (has(self.refs) && has(self.refs.pulls) && size(self.refs.pulls) >= 1)",message="a batch tests at least one pull request in refs.pulls"
// +kubebuilder:validation:XValidation:rule="!(self.agent == 'kubernetes' || self.agent == 'local') || has(self.podSpec)",message="podSpec is required for the kubernetes and local agents"
type ProwJobSpec struct {
	// type is presubmit, postsubmit, periodic or batch.
	// +required
	Type ProwJobType `json:"type"`

	// agent runs the job. Default kubernetes.
	// +optional
	// +kubebuilder:default=kubernetes
	Agent ProwJobAgent `json:"agent,omitempty"`

	// cluster is the alias of the build cluster to run in. Default "default",
	// the operator's own cluster.
	// +optional
	// +kubebuilder:default=default
	// +kubebuilder:validation:MaxLength=253
	Cluster string `json:"cluster,omitempty"`

	// namespace is where the job's pod runs (Prow's pod_namespace).
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`

	// job is the job's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern="^[A-Za-z0-9-._]+$"
	Job string `json:"job"`

	// refs is the code under test.
	// +optional
	Refs *Refs `json:"refs,omitempty"`

	// extraRefs are further repositories to clone.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	ExtraRefs []Refs `json:"extraRefs,omitempty"`

	// report says whether reporters report this run (false when the job
	// sets skip_report).
	// +optional
	Report bool `json:"report,omitempty"`

	// context is the GitHub status context.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Context string `json:"context,omitempty"`

	// rerunCommand is what a user comments to run the job again, for example
	// "/test unit".
	// +optional
	// +kubebuilder:validation:MaxLength=512
	RerunCommand string `json:"rerunCommand,omitempty"`

	// maxConcurrency caps the runs of this job in flight at once; 0 means
	// no cap.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MaxConcurrency int32 `json:"maxConcurrency,omitempty"`

	// jobQueueName names a queue whose capacity is set in the config's
	// plank.job_queue_capacities; the smaller of both limits applies.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	JobQueueName string `json:"jobQueueName,omitempty"`

	// errorOnEviction ends the run in error when its pod is evicted, instead
	// of re-creating the pod.
	// +optional
	ErrorOnEviction bool `json:"errorOnEviction,omitempty"`

	// podSpec is the pod the kubernetes agent runs, and whose containers'
	// commands the local agent runs.
	// +optional
	PodSpec *corev1.PodSpec `json:"podSpec,omitempty"`

	// jenkinsSpec is for Prow's Jenkins agent.
	// +optional
	JenkinsSpec *JenkinsSpec `json:"jenkinsSpec,omitempty"`

	// pipelineRunSpec is for Prow's Tekton agent, kept as given.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	PipelineRunSpec *runtime.RawExtension `json:"pipelineRunSpec,omitempty"`

	// decorationConfig configures the pod utilities that clone the code,
	// wrap the test command and upload logs and artifacts.
	// +optional
	DecorationConfig *DecorationConfig `json:"decorationConfig,omitempty"`

	// reporterConfig configures extra reporters.
	// +optional
	ReporterConfig *ReporterConfig `json:"reporterConfig,omitempty"`

	// rerunAuthConfig says who may rerun the job from the web UI.
	// +optional
	RerunAuthConfig *RerunAuthConfig `json:"rerunAuthConfig,omitempty"`

	// hidden keeps the run off the web UI's default views.
	// +optional
	Hidden bool `json:"hidden,omitempty"`

	// prowJobDefaults carries Prow's tenant and ResultStore settings.
	// +optional
	ProwJobDefaults *ProwJobDefaults `json:"prowJobDefaults,omitempty"`
}

// Refs is a repository to clone and the pull requests to merge onto it.
type Refs struct {
	// org is the organisation or owner.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Org string `json:"org"`

	// repo is the repository name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Repo string `json:"repo"`

	// repoLink is the repository's web address.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	RepoLink string `json:"repoLink,omitempty"`

	// baseRef is the branch or tag tested against, for example main.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	BaseRef string `json:"baseRef,omitempty"`

	// baseSHA is the commit of baseRef that was tested.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	BaseSHA string `json:"baseSHA,omitempty"`

	// baseLink is the web address of the base commit.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	BaseLink string `json:"baseLink,omitempty"`

	// pulls are the pull requests merged onto the base, in order.
	// +optional
	// +kubebuilder:validation:MaxItems=100
	Pulls []Pull `json:"pulls,omitempty"`

	// pathAlias clones into $GOPATH/src/<pathAlias> instead of
	// $GOPATH/src/github.com/<org>/<repo>.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	PathAlias string `json:"pathAlias,omitempty"`

	// workDir makes this repository the job's working directory.
	// +optional
	WorkDir bool `json:"workDir,omitempty"`

	// cloneURI overrides the address to clone from.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	CloneURI string `json:"cloneURI,omitempty"`

	// skipSubmodules skips submodule initialisation.
	// +optional
	SkipSubmodules bool `json:"skipSubmodules,omitempty"`

	// cloneDepth makes a shallow clone of that many commits; 0 clones all.
	// +optional
	// +kubebuilder:validation:Minimum=0
	CloneDepth int32 `json:"cloneDepth,omitempty"`

	// skipFetchHead skips fetching the base ref's head.
	// +optional
	SkipFetchHead bool `json:"skipFetchHead,omitempty"`

	// bloblessFetch fetches without blobs until they are needed.
	// +optional
	BloblessFetch bool `json:"bloblessFetch,omitempty"`

	// sparseCheckoutFiles checks out only these paths.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	SparseCheckoutFiles []string `json:"sparseCheckoutFiles,omitempty"`
}

// Pull is one pull request under test.
type Pull struct {
	// number of the pull request.
	// +required
	// +kubebuilder:validation:Minimum=1
	Number int32 `json:"number"`

	// author is the login of the pull request's author.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Author string `json:"author,omitempty"`

	// sha is the head commit tested.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	SHA string `json:"sha,omitempty"`

	// title of the pull request.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Title string `json:"title,omitempty"`

	// ref is the git ref to fetch the pull request from, when not GitHub's
	// refs/pull/<number>/head.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Ref string `json:"ref,omitempty"`

	// headRef is the name of the pull request's source branch.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	HeadRef string `json:"headRef,omitempty"`

	// link is the pull request's web address.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Link string `json:"link,omitempty"`

	// commitLink is the head commit's web address.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	CommitLink string `json:"commitLink,omitempty"`

	// authorLink is the author's web address.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	AuthorLink string `json:"authorLink,omitempty"`
}

// JenkinsSpec holds the Jenkins agent's settings.
type JenkinsSpec struct {
	// githubBranchSourceJob marks a job built by Jenkins' GitHub Branch
	// Source plugin.
	// +optional
	GitHubBranchSourceJob bool `json:"githubBranchSourceJob,omitempty"`
}

// DecorationConfig configures the pod utilities, as Prow's
// decoration_config.
type DecorationConfig struct {
	// timeout is how long the test command may run before it is
	// interrupted, as a Go duration. Default 2h.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// gracePeriod is how long an interrupted test command has to exit
	// before it is killed. Default 15s.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"
	GracePeriod *metav1.Duration `json:"gracePeriod,omitempty"`

	// utilityImages are the images that run the pod utilities, each a
	// bowline image (the utilities are subcommands of its binary, at
	// /usr/local/bin/bowline); unset, the operator's --utility-image. Prow's
	// own utility images are not compatible, and job configuration never
	// sets these: its utility_images are not carried over.
	// +optional
	UtilityImages *UtilityImages `json:"utilityImages,omitempty"`

	// resources are the resource requirements of the pod utilities.
	// +optional
	Resources *UtilityResources `json:"resources,omitempty"`

	// gcsConfiguration says where logs and artifacts are uploaded.
	// +optional
	GCSConfiguration *GCSConfiguration `json:"gcsConfiguration,omitempty"`

	// gcsCredentialsSecret names the Secret with GCS credentials.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	GCSCredentialsSecret string `json:"gcsCredentialsSecret,omitempty"`

	// s3CredentialsSecret names the Secret with S3 credentials.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	S3CredentialsSecret string `json:"s3CredentialsSecret,omitempty"`

	// defaultServiceAccountName is the pod's service account when the pod
	// spec names none.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	DefaultServiceAccountName string `json:"defaultServiceAccountName,omitempty"`

	// sshKeySecrets name Secrets with SSH keys for cloning.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	SSHKeySecrets []string `json:"sshKeySecrets,omitempty"`

	// sshHostFingerprints are known_hosts lines for cloning over SSH.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	SSHHostFingerprints []string `json:"sshHostFingerprints,omitempty"`

	// bloblessFetch fetches without blobs until they are needed.
	// +optional
	BloblessFetch *bool `json:"bloblessFetch,omitempty"`

	// skipCloning skips the clone step.
	// +optional
	SkipCloning *bool `json:"skipCloning,omitempty"`

	// cookiefileSecret names the Secret with a git cookie file.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	CookiefileSecret string `json:"cookiefileSecret,omitempty"`

	// oauthTokenSecret is the Secret key with a token for cloning private
	// repositories.
	// +optional
	OAuthTokenSecret *SecretKeySelector `json:"oauthTokenSecret,omitempty"`

	// githubAPIEndpoints are the GitHub API addresses clonerefs may use.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	GitHubAPIEndpoints []string `json:"githubAPIEndpoints,omitempty"`

	// githubAppID is the GitHub App used for cloning.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	GitHubAppID string `json:"githubAppID,omitempty"`

	// githubAppPrivateKeySecret is the Secret key with the GitHub App's
	// private key.
	// +optional
	GitHubAppPrivateKeySecret *SecretKeySelector `json:"githubAppPrivateKeySecret,omitempty"`

	// censorSecrets replaces the values of mounted Secrets in logs and
	// artifacts before upload.
	// +optional
	CensorSecrets *bool `json:"censorSecrets,omitempty"`

	// censoringOptions tunes censoring.
	// +optional
	CensoringOptions *CensoringOptions `json:"censoringOptions,omitempty"`

	// uploadIgnoresInterrupts lets the upload finish when the pod is
	// interrupted.
	// +optional
	UploadIgnoresInterrupts *bool `json:"uploadIgnoresInterrupts,omitempty"`

	// setLimitEqualsMemoryRequest sets each container's memory limit to its
	// request.
	// +optional
	SetLimitEqualsMemoryRequest *bool `json:"setLimitEqualsMemoryRequest,omitempty"`

	// defaultMemoryRequest is the memory request of containers that set
	// none.
	// +optional
	DefaultMemoryRequest *resource.Quantity `json:"defaultMemoryRequest,omitempty"`

	// schedulingOptions adds affinity and tolerations to the pod.
	// +optional
	SchedulingOptions *SchedulingOptions `json:"schedulingOptions,omitempty"`

	// podPendingTimeout ends a run in error when its pod stays pending
	// longer, as a Go duration. Default 10m.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"
	PodPendingTimeout *metav1.Duration `json:"podPendingTimeout,omitempty"`

	// podRunningTimeout aborts a run whose pod runs longer, as a Go
	// duration. Default 48h.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"
	PodRunningTimeout *metav1.Duration `json:"podRunningTimeout,omitempty"`

	// podUnscheduledTimeout ends a run in error when its pod stays
	// unscheduled longer, as a Go duration. Default 5m.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern="^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"
	PodUnscheduledTimeout *metav1.Duration `json:"podUnscheduledTimeout,omitempty"`

	// runAsUser is the user the pod utilities run as.
	// +optional
	RunAsUser *int64 `json:"runAsUser,omitempty"`

	// runAsGroup is the group the pod utilities run as.
	// +optional
	RunAsGroup *int64 `json:"runAsGroup,omitempty"`

	// fsGroup is the pod's filesystem group.
	// +optional
	FSGroup *int64 `json:"fsGroup,omitempty"`
}

// UtilityImages are the bowline images that run the pod utilities.
type UtilityImages struct {
	// cloneRefs is the clonerefs image.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	CloneRefs string `json:"clonerefs,omitempty"`
	// initUpload is the initupload image.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	InitUpload string `json:"initupload,omitempty"`
	// entrypoint is the entrypoint image.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Entrypoint string `json:"entrypoint,omitempty"`
	// sidecar is the sidecar image.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Sidecar string `json:"sidecar,omitempty"`
}

// UtilityResources are the resource requirements of the pod utilities.
type UtilityResources struct {
	// cloneRefs is for the clonerefs container.
	// +optional
	CloneRefs *corev1.ResourceRequirements `json:"clonerefs,omitempty"`
	// initUpload is for the initupload container.
	// +optional
	InitUpload *corev1.ResourceRequirements `json:"initupload,omitempty"`
	// placeEntrypoint is for the container that places the entrypoint.
	// +optional
	PlaceEntrypoint *corev1.ResourceRequirements `json:"placeEntrypoint,omitempty"`
	// sidecar is for the sidecar container.
	// +optional
	Sidecar *corev1.ResourceRequirements `json:"sidecar,omitempty"`
}

// GCSConfiguration says where logs and artifacts are uploaded.
type GCSConfiguration struct {
	// bucket is a bucket name or a URL: gs://, s3:// or file://.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Bucket string `json:"bucket,omitempty"`
	// pathPrefix is prepended to every upload path.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	PathPrefix string `json:"pathPrefix,omitempty"`
	// pathStrategy is legacy, single or explicit, as Prow's.
	// +optional
	// +kubebuilder:validation:Enum=legacy;single;explicit
	PathStrategy string `json:"pathStrategy,omitempty"`
	// defaultOrg is the org left out of paths under the legacy and single
	// strategies.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	DefaultOrg string `json:"defaultOrg,omitempty"`
	// defaultRepo is the repository left out of paths under the legacy and
	// single strategies.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	DefaultRepo string `json:"defaultRepo,omitempty"`
	// mediaTypes maps file extensions to media types for uploads.
	// +optional
	MediaTypes map[string]string `json:"mediaTypes,omitempty"`
	// jobURLPrefix is the prefix of links to a run's page.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	JobURLPrefix string `json:"jobURLPrefix,omitempty"`
	// localOutputDir writes uploads to this directory instead.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	LocalOutputDir string `json:"localOutputDir,omitempty"`
	// compressFileTypes are extensions compressed with gzip before upload.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	CompressFileTypes []string `json:"compressFileTypes,omitempty"`
}

// SecretKeySelector is one key of a Secret in the job's namespace.
type SecretKeySelector struct {
	// name of the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// key in the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// CensoringOptions tunes secret censoring.
type CensoringOptions struct {
	// censoringConcurrency is how many files are censored at once. Default 10.
	// +optional
	// +kubebuilder:validation:Minimum=1
	CensoringConcurrency *int64 `json:"censoringConcurrency,omitempty"`
	// censoringBufferSize is the censoring buffer in bytes. Default 10 MiB.
	// +optional
	// +kubebuilder:validation:Minimum=1
	CensoringBufferSize *int64 `json:"censoringBufferSize,omitempty"`
	// includeDirectories are globs of artifact directories to censor.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	IncludeDirectories []string `json:"includeDirectories,omitempty"`
	// excludeDirectories are globs of artifact directories not to censor.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	ExcludeDirectories []string `json:"excludeDirectories,omitempty"`
	// minimumSecretLength is the shortest secret value censored.
	// +optional
	// +kubebuilder:validation:Minimum=0
	MinimumSecretLength *int64 `json:"minimumSecretLength,omitempty"`
}

// SchedulingOptions adds affinity and tolerations to job pods.
type SchedulingOptions struct {
	// affinity of the pod.
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// tolerations of the pod.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
}

// ReporterConfig configures extra reporters.
type ReporterConfig struct {
	// slack reports to a Slack channel.
	// +optional
	Slack *SlackReporterConfig `json:"slack,omitempty"`
}

// SlackReporterConfig reports a run to Slack.
type SlackReporterConfig struct {
	// host is the Slack workspace.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Host string `json:"host,omitempty"`
	// channel to post to.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Channel string `json:"channel,omitempty"`
	// jobStatesToReport are the states that are reported.
	// +optional
	// +kubebuilder:validation:MaxItems=7
	JobStatesToReport []ProwJobState `json:"jobStatesToReport,omitempty"`
	// reportTemplate is a Go template for the message.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	ReportTemplate string `json:"reportTemplate,omitempty"`
	// report turns reporting off when false.
	// +optional
	Report *bool `json:"report,omitempty"`
}

// RerunAuthConfig says who may rerun a job from the web UI.
// +kubebuilder:validation:XValidation:rule="!(has(self.allowAnyone) && self.allowAnyone) || (!has(self.githubUsers) && !has(self.githubTeamIDs) && !has(self.githubTeamSlugs) && !has(self.githubOrgs))",message="allowAnyone cannot be combined with an allow list"
type RerunAuthConfig struct {
	// allowAnyone lets any signed-in user rerun the job.
	// +optional
	AllowAnyone *bool `json:"allowAnyone,omitempty"`
	// githubUsers may rerun the job.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	GitHubUsers []string `json:"githubUsers,omitempty"`
	// githubTeamIDs are teams whose members may rerun the job.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	GitHubTeamIDs []int64 `json:"githubTeamIDs,omitempty"`
	// githubTeamSlugs are teams whose members may rerun the job.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	GitHubTeamSlugs []TeamSlug `json:"githubTeamSlugs,omitempty"`
	// githubOrgs are orgs whose members may rerun the job.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	GitHubOrgs []string `json:"githubOrgs,omitempty"`
}

// TeamSlug names a team within an org.
type TeamSlug struct {
	// org of the team.
	// +required
	// +kubebuilder:validation:MaxLength=255
	Org string `json:"org"`
	// slug of the team.
	// +required
	// +kubebuilder:validation:MaxLength=255
	Slug string `json:"slug"`
}

// ProwJobDefaults carries Prow's tenant and ResultStore settings.
type ProwJobDefaults struct {
	// tenantID groups runs for multi-tenant web UIs.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	TenantID string `json:"tenantID,omitempty"`
	// resultStoreProjectID is the ResultStore project.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	ResultStoreProjectID string `json:"resultStoreProjectID,omitempty"`
}

// ProwJobStatus is the observed state of a run. It is tracked as one field
// (atomic), like the spec: clients patch it with merge patches, not
// server-side apply, so per-field ownership would only cost every write.
// +structType=atomic
type ProwJobStatus struct {
	// conditions: Scheduled and Completed.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// state is Prow's state of the run.
	// +optional
	State ProwJobState `json:"state,omitempty"`

	// description says why the run is in its state.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Description string `json:"description,omitempty"`

	// startTime is when the run was created.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// pendingTime is when the run's pod or process was started.
	// +optional
	PendingTime *metav1.Time `json:"pendingTime,omitempty"`

	// completionTime is when the run reached a terminal state.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// url is the run's page.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	URL string `json:"url,omitempty"`

	// podName is the run's pod.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	PodName string `json:"podName,omitempty"`

	// buildID is the run's build number, unique per job.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	BuildID string `json:"buildID,omitempty"`

	// podRevivalCount is how often the pod was re-created after eviction,
	// or a local run started again after bowline restarted.
	// +optional
	PodRevivalCount int32 `json:"podRevivalCount,omitempty"`

	// reports is what each reporter last reported, so that nothing is
	// reported twice, even across restarts.
	// +optional
	// +listType=map
	// +listMapKey=reporter
	// +kubebuilder:validation:MaxItems=16
	Reports []ReportState `json:"reports,omitempty"`
}

// ReportState is what one reporter last reported.
type ReportState struct {
	// reporter is the reporter's name, for example github.
	// +required
	// +kubebuilder:validation:MaxLength=64
	Reporter string `json:"reporter"`
	// state is the run state last reported.
	// +required
	State ProwJobState `json:"state"`
	// reportedAt is when it was reported.
	// +optional
	ReportedAt *metav1.Time `json:"reportedAt,omitempty"`
}

// ProwJob is one run of one job.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pj,categories=bowline
// +kubebuilder:printcolumn:name="Job",type=string,JSONPath=`.spec.job`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Org",type=string,JSONPath=`.spec.refs.org`
// +kubebuilder:printcolumn:name="Repo",type=string,JSONPath=`.spec.refs.repo`
// +kubebuilder:printcolumn:name="Pulls",type=string,JSONPath=`.spec.refs.pulls[*].number`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.description`,priority=1
// +kubebuilder:printcolumn:name="BuildID",type=string,JSONPath=`.status.buildID`,priority=1
// +kubebuilder:printcolumn:name="Started",type=date,JSONPath=`.status.startTime`
// +kubebuilder:printcolumn:name="Completed",type=date,JSONPath=`.status.completionTime`
type ProwJob struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the run to carry out.
	// +required
	Spec ProwJobSpec `json:"spec"`

	// status is what happened.
	// +optional
	Status ProwJobStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (j *ProwJob) GetConditions() []metav1.Condition { return j.Status.Conditions }

// SetConditions replaces the status conditions.
func (j *ProwJob) SetConditions(c []metav1.Condition) { j.Status.Conditions = c }

// Complete reports whether the run reached a terminal state.
func (j *ProwJob) Complete() bool { return j.Status.CompletionTime != nil }

// ProwJobList is a list of ProwJobs.
//
// +kubebuilder:object:root=true
type ProwJobList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProwJob `json:"items"`
}
