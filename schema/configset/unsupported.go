package configset

// This file is the one list of what bowline reads but does not act on yet.
// Every entry makes `bowline check` (and the ConfigRepository's status)
// warn, once, where a configuration first sets it, and marks the field "not
// supported yet" in docs/config/fields.md. Accepting a field silently and
// ignoring it would be worse than refusing it: users would believe it works.
//
// Whoever makes a component honour one of these removes its entry in the
// same change (and regenerates docs/config/fields.md with
// `UPDATE=1 go test ./schema/configset -run TestFieldReferenceIsCurrent`).
// A field of a type used at several places (every job's fields, a decoration
// config in jobs and in plank's defaults) is listed once, under one of its
// paths, and covers all of them.

// Inputs, as the entries name them.
const (
	inConfig  = "config.yaml"
	inJobs    = "job config"
	inPlugins = "plugins.yaml"
	inOrgs    = "org config"
)

// notSupported lists fields: In names the input, Path the field as
// docs/config/fields.md writes it, and Needs what would act on it (a noun
// phrase, then any hint after a semicolon).
var notSupported = []unsupported{
	// Jobs.
	{inJobs, "presubmits.<key>[].pipeline_run_spec", "the tekton-pipeline agent"},
	{inJobs, "presubmits.<key>[].tekton_pipeline_run_spec", "the tekton-pipeline agent"},
	{inJobs, "presubmits.<key>[].jenkins_spec", "the jenkins agent"},
	{inJobs, "postsubmits.<key>[].jenkins_spec", "the jenkins agent"},
	{inJobs, "presubmits.<key>[].prowjob_defaults", "ResultStore uploads and tenant-scoped job APIs"},
	{inJobs, "presubmits.<key>[].extra_refs[].auxiliary", "a periodic's working repository chosen past auxiliary refs; the first extra ref is used"},
	{inJobs, "presubmits.<key>[].reporter_config.dingtalk", "a DingTalk reporter"},
	// Decoration (in jobs and in plank's defaults).
	{inJobs, "presubmits.<key>[].decoration_config.gcs_configuration.mediaTypes", "media types for uploaded artifacts"},
	{inJobs, "presubmits.<key>[].decoration_config.gcs_configuration.compress_file_types", "compressed uploads"},
	{inJobs, "presubmits.<key>[].decoration_config.sparse_checkout_files", "sparse checkouts set for every repository of a job; extra_refs[].sparse_checkout_files works"},
	{inJobs, "presubmits.<key>[].decoration_config.github_api_endpoints", "cloning with GitHub App credentials"},
	{inJobs, "presubmits.<key>[].decoration_config.github_app_id", "cloning with GitHub App credentials"},
	{inJobs, "presubmits.<key>[].decoration_config.github_app_private_key_secret", "cloning with GitHub App credentials"},
	{inJobs, "presubmits.<key>[].decoration_config.censoring_options", "tuning of secret censoring; censor_secrets works"},

	// config.yaml.
	{inConfig, "tide.gerrit", "merging on Gerrit"},
	{inConfig, "deck.spyglass", "Deck's artifact viewers; the web API serves artifacts as files"},
	{inConfig, "deck.tide_update_period", "Deck's merge pool page; the web role serves /pr pages from MergePools"},
	{inConfig, "deck.external_agent_logs", "logs of runs of external agents"},
	{inConfig, "deck.branding", "a web UI with Prow's Deck settings"},
	{inConfig, "deck.google_analytics", "a web UI with Prow's Deck settings"},
	{inConfig, "deck.skip_storage_path_validation", "Deck's artifact viewers"},
	{inConfig, "deck.additional_allowed_buckets", "Deck's artifact viewers"},
	{inConfig, "gerrit", "Gerrit support"},
	{inConfig, "github_reporter.summary_comment_repos", "summary comments on pull requests"},
	{inConfig, "plank.report_template", "a custom failure comment"},
	{inConfig, "plank.report_templates", "a custom failure comment"},
	{inConfig, "plank.build_cluster_status_file", "a build cluster status report"},
	{inConfig, "plank.max_concurrency", "a cap on all runs at once; max_concurrency per job and job_queue_capacities work"},
	{inConfig, "plank.max_goroutines", "Prow's controller concurrency; the operator's flags set bowline's"},
	{inConfig, "dingtalk_reporter_configs", "a DingTalk reporter"},
	{inConfig, "log_level", "the operator's log level from the configuration; use the operator's flags"},
	{inConfig, "push_gateway", "pushing metrics; the operator serves them"},
	{inConfig, "pubsub_subscriptions", "jobs started from Pub/Sub"},
	{inConfig, "pubsub_triggers", "jobs started from Pub/Sub"},
	{inConfig, "status_error_link", "a link on error statuses"},
	{inConfig, "default_job_timeout", "a default timeout for undecorated jobs"},
	{inConfig, "managed_webhooks", "webhook secret management"},
	{inConfig, "prowjob_default_entries", "ResultStore uploads and tenant-scoped job APIs"},
	{inConfig, "disabled_clusters", "disabling build clusters"},
	{inConfig, "gangway", "the gRPC job API"},
	{inConfig, "moonraker", "an in-repo config cache service; bowline caches in-repo config itself"},
	{inConfig, "scheduler", "scheduling runs onto build clusters"},
	{inConfig, "jenkins_operators", "the jenkins agent"},
	{inConfig, "config_version_sha", "showing the configuration's revision; ConfigRepository status shows it"},

	// plugins.yaml: the sections of plugins bowline does not have (see
	// unsupportedPlugins), and the rest.
	{inPlugins, "blunderbuss.use_status_availability", "skipping reviewers GitHub shows as busy"},
	{inPlugins, "blunderbuss.wait_for_status", "requesting reviews once a status context passes; blunderbuss requests them when the pull request opens"},
	{inPlugins, "bugzilla", "the bugzilla plugin"},
	{inPlugins, "branch_cleaner", "the branchcleaner plugin"},
	{inPlugins, "cat", "the cat plugin"},
	{inPlugins, "cherry_pick_approved", "the cherry-pick-approved plugin"},
	{inPlugins, "cherry_pick_unapproved", "the cherry-pick-unapproved plugin"},
	{inPlugins, "config_updater", "the config-updater plugin; bowline applies its config repository itself"},
	{inPlugins, "golint", "the golint plugin"},
	{inPlugins, "goose", "the goose plugin"},
	{inPlugins, "heart", "the heart plugin"},
	{inPlugins, "jira", "the jira plugin"},
	{inPlugins, "milestone_applier", "the milestoneapplier plugin"},
	{inPlugins, "project_config", "the project plugin"},
	{inPlugins, "project_manager", "the project-manager plugin"},
	{inPlugins, "sigmention", "the sigmention plugin"},
	{inPlugins, "slack", "the slackevents plugin"},
	{inPlugins, "release_note", "the release-note plugin"},
	{inPlugins, "triggers[].trigger_github_workflows", "re-running GitHub Actions workflows from /retest"},
	{inPlugins, "assign", "restricting /assign on issues to org members"},
	{inPlugins, "label.restricted_labels.<key>[].allow_approvers_from_owners", "OWNERS approvers changing restricted labels"},
	{inPlugins, "label.restricted_labels.<key>[].remove_on_new_commits", "removing restricted labels on new commits"},
	{inPlugins, "delete_spam_issue", "the delete-spam-issue plugin"},
	{inPlugins, "fix_commit_msg", "the fixcommitmsg plugin"},

	// Org config.
	{inOrgs, "repos.<key>.fork_from", "creating repositories as forks"},
	{inOrgs, "repos.<key>.default_branch_only", "creating repositories as forks"},
}

// unsupportedPlugins are Prow plugin names that plugins.yaml may enable but
// that bowline does not run yet; enabling one is a warning. Whoever adds a
// plugin to automation/plugins removes its name here (a test checks).
var unsupportedPlugins = []string{
	"branchcleaner", "bugzilla", "buildifier", "cat",
	"cherry-pick-approved", "cherry-pick-unapproved", "cla", "config-updater", "delete-spam-issue",
	"dog", "fixcommitmsg", "golint", "goose", "heart", "issue-management", "jira",
	"merge-method-comment", "mergecommitblocker", "milestoneapplier",
	"pony", "project", "project-manager", "release-note", "require-sig", "shrug",
	"sigmention", "slackevents", "stage", "testfreeze", "transfer-issue",
	"trick-or-treat", "yuks",
}
