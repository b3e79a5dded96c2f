// Package prowconfig holds Prow's config.yaml: the settings of the job
// runner (plank), garbage collection (sinker), the merge pool (tide),
// branch protection, reporters, the web UI (deck) and the rest, with
// Prow's defaults and checks. Jobs that config.yaml may also hold are in
// package jobs.
//
// Field names are Prow's because users' files use them.
package prowconfig

import (
	"time"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// Config is config.yaml without its job sections.
type Config struct {
	Tide                 Tide                     `json:"tide,omitempty"`
	Plank                Plank                    `json:"plank,omitempty"`
	Sinker               Sinker                   `json:"sinker,omitempty"`
	Deck                 Deck                     `json:"deck,omitempty"`
	BranchProtection     BranchProtection         `json:"branch-protection,omitempty"`
	Gerrit               Gerrit                   `json:"gerrit,omitempty"`
	GitHubReporter       GitHubReporter           `json:"github_reporter,omitempty"`
	SlackReporterConfigs map[string]SlackReporter `json:"slack_reporter_configs,omitempty"`
	// DingTalkReporterConfigs report job results to DingTalk, keyed by "*",
	// org or org/repo like slack_reporter_configs.
	DingTalkReporterConfigs map[string]DingTalkReporter `json:"dingtalk_reporter_configs,omitempty"`
	InRepoConfig            InRepoConfig                `json:"in_repo_config,omitempty"`
	Horologium              Horologium                  `json:"horologium,omitempty"`
	ProwJobNamespace        string                      `json:"prowjob_namespace,omitempty"`
	PodNamespace            string                      `json:"pod_namespace,omitempty"`
	LogLevel                string                      `json:"log_level,omitempty"`
	PushGateway             PushGateway                 `json:"push_gateway,omitempty"`
	OwnersDirDenylist       *OwnersDirDenylist          `json:"owners_dir_denylist,omitempty"`
	PubSubSubscriptions     map[string][]string         `json:"pubsub_subscriptions,omitempty"`
	PubSubTriggers          []PubSubTrigger             `json:"pubsub_triggers,omitempty"`
	GitHubOptions           GitHubOptions               `json:"github,omitempty"`
	StatusErrorLink         string                      `json:"status_error_link,omitempty"`
	DefaultJobTimeout       *jobs.Duration              `json:"default_job_timeout,omitempty"`
	ManagedWebhooks         ManagedWebhooks             `json:"managed_webhooks,omitempty"`
	ProwJobDefaultEntries   []ProwJobDefaultEntry       `json:"prowjob_default_entries,omitempty"`
	DisabledClusters        []string                    `json:"disabled_clusters,omitempty"`
	Gangway                 Gangway                     `json:"gangway,omitempty"`
	Moonraker               Moonraker                   `json:"moonraker,omitempty"`
	Scheduler               Scheduler                   `json:"scheduler,omitempty"`
	JenkinsOperators        []JenkinsOperator           `json:"jenkins_operators,omitempty"`
	ConfigVersionSHA        string                      `json:"config_version_sha,omitempty"`

	// Pos is the start of the file.
	Pos yamlpos.Pos `json:"-"`
}

// Plank configures the job runner.
type Plank struct {
	JobURLTemplate                           string                            `json:"job_url_template,omitempty"`
	JobURLPrefixConfig                       map[string]string                 `json:"job_url_prefix_config,omitempty"`
	JobURLPrefixDisableAppendStorageProvider bool                              `json:"jobURLPrefixDisableAppendStorageProvider,omitempty"`
	ReportTemplate                           string                            `json:"report_template,omitempty"`
	ReportTemplates                          map[string]string                 `json:"report_templates,omitempty"`
	PodPendingTimeout                        *jobs.Duration                    `json:"pod_pending_timeout,omitempty"`
	PodRunningTimeout                        *jobs.Duration                    `json:"pod_running_timeout,omitempty"`
	PodUnscheduledTimeout                    *jobs.Duration                    `json:"pod_unscheduled_timeout,omitempty"`
	MaxRevivals                              *int                              `json:"max_revivals,omitempty"`
	DefaultDecorationConfigs                 map[string]*jobs.DecorationConfig `json:"default_decoration_configs,omitempty"`
	DefaultDecorationConfigEntries           []DecorationConfigEntry           `json:"default_decoration_config_entries,omitempty"`
	JobQueueCapacities                       map[string]int                    `json:"job_queue_capacities,omitempty"`
	BuildClusterStatusFile                   string                            `json:"build_cluster_status_file,omitempty"`
	// MaxConcurrency caps the jobs running at once across all jobs; 0 is
	// no cap. It must not be negative.
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// MaxGoroutines is how many jobs Prow's controller handles at once;
	// 0 means 20. It must not be negative.
	MaxGoroutines int `json:"max_goroutines,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// DecorationConfigEntry applies a decoration config to the jobs of matching
// repos and clusters. All matching entries apply, later ones winning.
type DecorationConfigEntry struct {
	// OrgRepo is "org", "org/repo", or empty or "*" for every job.
	OrgRepo string `json:"repo,omitempty"`
	// Cluster is a build cluster alias, or empty or "*" for every cluster.
	Cluster string                 `json:"cluster,omitempty"`
	Config  *jobs.DecorationConfig `json:"config,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Sinker configures garbage collection of ProwJobs and pods.
type Sinker struct {
	ResyncPeriod     *jobs.Duration `json:"resync_period,omitempty"`
	MaxProwJobAge    *jobs.Duration `json:"max_prowjob_age,omitempty"`
	MaxPodAge        *jobs.Duration `json:"max_pod_age,omitempty"`
	TerminatedPodTTL *jobs.Duration `json:"terminated_pod_ttl,omitempty"`
	ExcludeClusters  []string       `json:"exclude_clusters,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// GitHubReporter configures GitHub statuses and failure comments.
type GitHubReporter struct {
	JobTypesToReport    []string `json:"job_types_to_report,omitempty"`
	NoCommentRepos      []string `json:"no_comment_repos,omitempty"`
	SummaryCommentRepos []string `json:"summary_comment_repos,omitempty"`
}

// SlackReporter reports job results to Slack.
type SlackReporter struct {
	Host              string   `json:"host,omitempty"`
	Channel           string   `json:"channel,omitempty"`
	JobTypesToReport  []string `json:"job_types_to_report,omitempty"`
	JobStatesToReport []string `json:"job_states_to_report,omitempty"`
	ReportTemplate    string   `json:"report_template,omitempty"`
	Report            *bool    `json:"report,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// DingTalkReporter reports job results to a DingTalk group chat.
type DingTalkReporter struct {
	JobTypesToReport            []string `json:"job_types_to_report,omitempty"`
	jobs.DingTalkReporterConfig `json:",inline"`

	Pos yamlpos.Pos `json:"-"`
}

// InRepoConfig enables jobs defined in the repositories themselves.
type InRepoConfig struct {
	// Enabled is keyed by "*", org or org/repo; the narrowest key wins.
	Enabled map[string]*bool `json:"enabled,omitempty"`
	// AllowedClusters is keyed the same way; the lists add up.
	AllowedClusters map[string][]string `json:"allowed_clusters,omitempty"`
}

// Horologium configures the periodic job trigger.
type Horologium struct {
	TickInterval *jobs.Duration `json:"tick_interval,omitempty"`
}

// PushGateway is a Prometheus push gateway.
type PushGateway struct {
	Endpoint     string         `json:"endpoint,omitempty"`
	Interval     *jobs.Duration `json:"interval,omitempty"`
	ServeMetrics bool           `json:"serve_metrics,omitempty"`
}

// OwnersDirDenylist lists directories where OWNERS files are ignored.
type OwnersDirDenylist struct {
	Default                     []string            `json:"default,omitempty"`
	Repos                       map[string][]string `json:"repos,omitempty"`
	IgnorePreconfiguredDefaults bool                `json:"ignore_preconfigured_defaults,omitempty"`
}

// PubSubTrigger starts jobs from Pub/Sub messages.
type PubSubTrigger struct {
	Project                string   `json:"project"`
	Topics                 []string `json:"topics"`
	AllowedClusters        []string `json:"allowed_clusters"`
	MaxOutstandingMessages int      `json:"max_outstanding_messages"`
}

// GitHubOptions controls links to GitHub.
type GitHubOptions struct {
	LinkURLFromConfig string `json:"link_url,omitempty"`
}

// ManagedWebhooks lists repositories with their own webhook secrets.
type ManagedWebhooks struct {
	RespectLegacyGlobalToken bool                          `json:"respect_legacy_global_token,omitempty"`
	AutoAcceptInvitation     bool                          `json:"auto_accept_invitation,omitempty"`
	OrgRepoConfig            map[string]ManagedWebhookInfo `json:"org_repo_config,omitempty"`
}

// ManagedWebhookInfo is one repository's webhook secret.
type ManagedWebhookInfo struct {
	TokenCreatedAfter *time.Time `json:"token_created_after"`
}

// ProwJobDefaultEntry applies ProwJob defaults to matching repos and
// clusters.
type ProwJobDefaultEntry struct {
	OrgRepo string               `json:"repo,omitempty"`
	Cluster string               `json:"cluster,omitempty"`
	Config  *jobs.ProwJobDefault `json:"config,omitempty"`
}

// Gangway configures the job-triggering API.
type Gangway struct {
	AllowedAPIClients []AllowedAPIClient `json:"allowed_api_clients,omitempty"`
}

// AllowedAPIClient is one client of the job-triggering API.
type AllowedAPIClient struct {
	GCP                *APIClientGCP       `json:"gcp,omitempty"`
	AllowedJobsFilters []AllowedJobsFilter `json:"allowed_jobs_filters,omitempty"`
}

// APIClientGCP identifies an API client on Google Cloud.
type APIClientGCP struct {
	EndpointAPIConsumerType   string `json:"endpoint_api_consumer_type,omitempty"`
	EndpointAPIConsumerNumber string `json:"endpoint_api_consumer_number,omitempty"`
}

// AllowedJobsFilter limits the jobs an API client may start.
type AllowedJobsFilter struct {
	TenantID string `json:"tenant_id,omitempty"`
}

// Moonraker configures the in-repo config cache service.
type Moonraker struct {
	ClientTimeout *jobs.Duration `json:"client_timeout,omitempty"`
}

// Scheduler configures build-cluster scheduling.
type Scheduler struct {
	Enabled  bool                `json:"enabled,omitempty"`
	Failover *FailoverScheduling `json:"failover,omitempty"`
}

// FailoverScheduling maps clusters to the clusters that replace them.
type FailoverScheduling struct {
	ClusterMappings map[string]string `json:"mappings,omitempty"`
}

// JenkinsOperator configures one Jenkins agent.
type JenkinsOperator struct {
	JobURLTemplate  string            `json:"job_url_template,omitempty"`
	ReportTemplate  string            `json:"report_template,omitempty"`
	ReportTemplates map[string]string `json:"report_templates,omitempty"`
	LabelSelector   string            `json:"label_selector,omitempty"`
	MaxConcurrency  int               `json:"max_concurrency,omitempty"`
	MaxGoroutines   int               `json:"max_goroutines,omitempty"`
}

// Gerrit configures the Gerrit adapter.
type Gerrit struct {
	TickInterval              *jobs.Duration       `json:"tick_interval,omitempty"`
	RateLimit                 int                  `json:"ratelimit,omitempty"`
	DeckURL                   string               `json:"deck_url,omitempty"`
	AllowedPresubmitTriggerRe string               `json:"allowed_presubmit_trigger_re,omitempty"`
	OrgReposConfig            []GerritOrgRepoQuery `json:"org_repos_config,omitempty"`
}
