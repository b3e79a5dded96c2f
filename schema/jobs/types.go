// Package jobs holds Prow's job configuration: presubmits, postsubmits,
// periodics and presets, as written in config.yaml and in job config
// directories, with Prow's defaults and checks.
//
// Field names are Prow's (snake_case) because users' files use them.
package jobs

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// Config is the job part of a configuration: what a job config file holds,
// and what config.yaml may hold besides its other sections.
type Config struct {
	// Presets add env, volumes and tolerations to jobs whose labels match.
	Presets []Preset `json:"presets,omitempty"`
	// Presubmits run on pull requests, keyed by "org/repo".
	Presubmits map[string][]Presubmit `json:"presubmits,omitempty"`
	// Postsubmits run on pushes, keyed by "org/repo".
	Postsubmits map[string][]Postsubmit `json:"postsubmits,omitempty"`
	// Periodics run on a schedule.
	Periodics []Periodic `json:"periodics,omitempty"`
	// DecorateAllJobs makes decoration the default for every job.
	DecorateAllJobs bool `json:"decorate_all_jobs,omitempty"`
	// ProwIgnored is free-form: a place for YAML anchors that no job uses
	// directly.
	ProwIgnored any `json:"prow_ignored,omitempty"`
}

// Preset is a set of env, volumes, volume mounts and tolerations merged into
// every container of every job whose labels include all of Labels.
type Preset struct {
	Labels       map[string]string    `json:"labels"`
	Env          []corev1.EnvVar      `json:"env,omitempty"`
	Volumes      []corev1.Volume      `json:"volumes,omitempty"`
	VolumeMounts []corev1.VolumeMount `json:"volumeMounts,omitempty"`
	Tolerations  []corev1.Toleration  `json:"tolerations,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// JobBase holds what every job type has.
type JobBase struct {
	// Name identifies the job; it must match [A-Za-z0-9-._]+.
	Name string `json:"name"`
	// Labels are copied to the ProwJob and its pod, and select presets.
	Labels map[string]string `json:"labels,omitempty"`
	// MaxConcurrency caps parallel runs of this job; 0 means no cap.
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// Agent runs the job: kubernetes (the default), jenkins, tekton-pipeline.
	Agent string `json:"agent,omitempty"`
	// Cluster is the build cluster's alias; default "default".
	Cluster string `json:"cluster,omitempty"`
	// Namespace is where the pod runs; default pod_namespace.
	Namespace *string `json:"namespace,omitempty"`
	// ErrorOnEviction makes an evicted pod end the job in error instead of
	// being re-created.
	ErrorOnEviction bool `json:"error_on_eviction,omitempty"`
	// Spec is the pod of a kubernetes-agent job.
	Spec *corev1.PodSpec `json:"spec,omitempty"`
	// PipelineRunSpec and TektonPipelineRunSpec are Tekton specs, kept as
	// they are written.
	PipelineRunSpec       any `json:"pipeline_run_spec,omitempty"`
	TektonPipelineRunSpec any `json:"tekton_pipeline_run_spec,omitempty"`
	// Annotations are free-form, for other tools (TestGrid, for one).
	Annotations map[string]string `json:"annotations,omitempty"`
	// ReporterConfig adds reporters such as Slack.
	ReporterConfig *ReporterConfig `json:"reporter_config,omitempty"`
	// RerunAuthConfig says who may rerun the job from the web UI.
	RerunAuthConfig *RerunAuthConfig `json:"rerun_auth_config,omitempty"`
	// Hidden keeps the job off the default web UI.
	Hidden bool `json:"hidden,omitempty"`
	// ProwJobDefault sets defaults of the ProwJob spec.
	ProwJobDefault *ProwJobDefault `json:"prowjob_defaults,omitempty"`
	// JobQueueName puts the job in a queue whose capacity is
	// plank.job_queue_capacities[name].
	JobQueueName string `json:"job_queue_name,omitempty"`

	UtilityConfig `json:",inline"`

	// Pos is where the job is defined.
	Pos yamlpos.Pos `json:"-"`
}

// UtilityConfig configures the pod utilities (decoration) of a job.
type UtilityConfig struct {
	// Decorate wraps the job's pod with the pod utilities; nil means the
	// default (decorate_all_jobs).
	Decorate *bool `json:"decorate,omitempty"`
	// PathAlias is the Go import path the repository is cloned under.
	PathAlias string `json:"path_alias,omitempty"`
	// CloneURI overrides where the repository is cloned from.
	CloneURI string `json:"clone_uri,omitempty"`
	// SkipSubmodules skips git submodules when cloning.
	SkipSubmodules bool `json:"skip_submodules,omitempty"`
	// CloneDepth makes a shallow clone of this many commits.
	CloneDepth int `json:"clone_depth,omitempty"`
	// SkipFetchHead skips fetching HEAD before fetching the base ref.
	SkipFetchHead bool `json:"skip_fetch_head,omitempty"`
	// ExtraRefs are further repositories to clone.
	ExtraRefs []Refs `json:"extra_refs,omitempty"`
	// DecorationConfig overrides the default decoration settings.
	DecorationConfig *DecorationConfig `json:"decoration_config,omitempty"`
}

// Refs is a repository to clone and the revisions to check out.
type Refs struct {
	Org                 string   `json:"org"`
	Repo                string   `json:"repo"`
	RepoLink            string   `json:"repo_link,omitempty"`
	BaseRef             string   `json:"base_ref,omitempty"`
	BaseSHA             string   `json:"base_sha,omitempty"`
	BaseLink            string   `json:"base_link,omitempty"`
	Pulls               []Pull   `json:"pulls,omitempty"`
	PathAlias           string   `json:"path_alias,omitempty"`
	WorkDir             bool     `json:"workdir,omitempty"`
	Auxiliary           bool     `json:"auxiliary,omitempty"`
	CloneURI            string   `json:"clone_uri,omitempty"`
	SkipSubmodules      bool     `json:"skip_submodules,omitempty"`
	CloneDepth          int      `json:"clone_depth,omitempty"`
	SkipFetchHead       bool     `json:"skip_fetch_head,omitempty"`
	BloblessFetch       *bool    `json:"blobless_fetch,omitempty"`
	SparseCheckoutFiles []string `json:"sparse_checkout_files,omitempty"`
}

// Pull is one pull request of Refs.
type Pull struct {
	Number     int    `json:"number"`
	Author     string `json:"author"`
	SHA        string `json:"sha"`
	Title      string `json:"title,omitempty"`
	Ref        string `json:"ref,omitempty"`
	HeadRef    string `json:"head_ref,omitempty"`
	Link       string `json:"link,omitempty"`
	CommitLink string `json:"commit_link,omitempty"`
	AuthorLink string `json:"author_link,omitempty"`
}

// Brancher selects the base branches a job runs for. Both lists hold
// regular expressions that, as in Prow, may match anywhere in the branch
// name (ShouldRun).
type Brancher struct {
	// SkipBranches wins over Branches.
	SkipBranches []string `json:"skip_branches,omitempty"`
	Branches     []string `json:"branches,omitempty"`
}

// RegexpChangeMatcher runs a job only for some changed files. The two fields
// are mutually exclusive.
type RegexpChangeMatcher struct {
	// RunIfChanged runs the job when any changed file matches.
	RunIfChanged string `json:"run_if_changed,omitempty"`
	// SkipIfOnlyChanged skips the job when every changed file matches.
	SkipIfOnlyChanged string `json:"skip_if_only_changed,omitempty"`
}

// Reporter configures the GitHub status of a job.
type Reporter struct {
	// Context is the status context; default the job's name.
	Context string `json:"context,omitempty"`
	// SkipReport leaves the job out of GitHub statuses.
	SkipReport bool `json:"skip_report,omitempty"`
}

// JenkinsSpec holds Jenkins-only settings.
type JenkinsSpec struct {
	GitHubBranchSourceJob bool `json:"github_branch_source_job,omitempty"`
}

// Presubmit runs on pull requests.
type Presubmit struct {
	JobBase `json:",inline"`

	// AlwaysRun runs the job on every pull request.
	AlwaysRun bool `json:"always_run"`
	// Optional jobs are not required for merging.
	Optional bool `json:"optional,omitempty"`
	// Trigger is the regular expression of comments that run the job;
	// default "/test <name>" (or /test all). Set it together with
	// RerunCommand.
	Trigger string `json:"trigger,omitempty"`
	// RerunCommand is what users type to run the job again; default
	// "/test <name>".
	RerunCommand string `json:"rerun_command,omitempty"`
	// RunBeforeMerge jobs are run by the merge pool only, right before
	// merging.
	RunBeforeMerge bool `json:"run_before_merge,omitempty"`

	Brancher            `json:",inline"`
	RegexpChangeMatcher `json:",inline"`
	Reporter            `json:",inline"`

	JenkinsSpec *JenkinsSpec `json:"jenkins_spec,omitempty"`
}

// Postsubmit runs on pushes to branches.
type Postsubmit struct {
	JobBase `json:",inline"`

	// AlwaysRun, when set, decides whether the job runs on every push; when
	// nil it runs unless a change matcher says otherwise.
	AlwaysRun *bool `json:"always_run,omitempty"`

	Brancher            `json:",inline"`
	RegexpChangeMatcher `json:",inline"`
	Reporter            `json:",inline"`

	JenkinsSpec *JenkinsSpec `json:"jenkins_spec,omitempty"`
}

// Periodic runs on a schedule: exactly one of Cron, Interval and
// MinimumInterval.
type Periodic struct {
	JobBase `json:",inline"`

	// Cron is a five-field cron expression, in UTC.
	Cron string `json:"cron,omitempty"`
	// Interval is a Go duration between starts.
	Interval string `json:"interval,omitempty"`
	// MinimumInterval is a Go duration from the end of one run to the start
	// of the next.
	MinimumInterval string `json:"minimum_interval,omitempty"`
	// Tags are free-form, for the web UI.
	Tags []string `json:"tags,omitempty"`
	// Retry reruns failed runs.
	Retry *Retry `json:"retry,omitempty"`
}

// Retry says how often and how soon a failed periodic is run again.
type Retry struct {
	Attempts int    `json:"attempts,omitempty"`
	Interval string `json:"interval,omitempty"`
	RunAll   bool   `json:"run_all,omitempty"`
}

// ReporterConfig configures reporters beyond GitHub.
type ReporterConfig struct {
	Slack    *SlackReporterConfig    `json:"slack,omitempty"`
	DingTalk *DingTalkReporterConfig `json:"dingtalk,omitempty"`
}

// SlackReporterConfig sends job results to a Slack channel.
type SlackReporterConfig struct {
	Host              string   `json:"host,omitempty"`
	Channel           string   `json:"channel,omitempty"`
	JobStatesToReport []string `json:"job_states_to_report,omitempty"`
	ReportTemplate    string   `json:"report_template,omitempty"`
	Report            *bool    `json:"report,omitempty"`
}

// DingTalkReporterConfig sends job results to a DingTalk group chat.
type DingTalkReporterConfig struct {
	Token             string   `json:"token,omitempty"`
	JobStatesToReport []string `json:"job_states_to_report,omitempty"`
	ReportTemplate    string   `json:"report_template,omitempty"`
	Report            *bool    `json:"report,omitempty"`
}

// RerunAuthConfig says who may rerun a job.
type RerunAuthConfig struct {
	AllowAnyone     bool             `json:"allow_anyone,omitempty"`
	GitHubUsers     []string         `json:"github_users,omitempty"`
	GitHubTeamIDs   []int            `json:"github_team_ids,omitempty"`
	GitHubTeamSlugs []GitHubTeamSlug `json:"github_team_slugs,omitempty"`
	GitHubOrgs      []string         `json:"github_orgs,omitempty"`
}

// GitHubTeamSlug names a team by org and slug.
type GitHubTeamSlug struct {
	Org  string `json:"org"`
	Slug string `json:"slug"`
}

// ProwJobDefault sets defaults of the ProwJob spec.
type ProwJobDefault struct {
	TenantID          string             `json:"tenant_id,omitempty"`
	ResultStoreConfig *ResultStoreConfig `json:"resultstore_config,omitempty"`
}

// ResultStoreConfig configures uploads to ResultStore.
type ResultStoreConfig struct {
	ProjectID string `json:"project_id,omitempty"`
}
