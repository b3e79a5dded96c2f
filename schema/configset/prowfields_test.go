package configset

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	yaml "go.yaml.in/yaml/v3"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/labels"
	"github.com/bowline-ci/bowline/schema/orgs"
	"github.com/bowline-ci/bowline/schema/owners"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/prowconfig"
)

// The examples below set every field of Prow's configuration files, in
// configurations Prow's checkconfig accepts. Pieces that several places
// share are written once here.
const (
	decorationExample = `timeout: 2h
grace_period: 15000000000
utility_images: {clonerefs: clonerefs:v1, initupload: initupload:v1, entrypoint: entrypoint:v1, sidecar: sidecar:v1}
resources:
  clonerefs: {requests: {cpu: 100m}}
  initupload: {requests: {cpu: 100m}}
  place_entrypoint: {requests: {cpu: 100m}}
  sidecar: {limits: {memory: 1Gi}}
gcs_configuration:
  bucket: s3://artifacts
  path_prefix: logs
  path_strategy: explicit
  default_org: acme
  default_repo: widgets
  mediaTypes: {log: text/plain}
  job_url_prefix: https://prow.example.com/view/
  local_output_dir: /tmp/out
  compress_file_types: [txt]
gcs_credentials_secret: gcs-credentials
s3_credentials_secret: s3-credentials
default_service_account_name: prowjob
ssh_key_secrets: [ssh-key]
ssh_host_fingerprints: ["github.com ssh-ed25519 AAAAC3Nza"]
blobless_fetch: true
sparse_checkout_files: [docs]
skip_cloning: false
cookiefile_secret: cookies
github_api_endpoints: ["https://api.github.com"]
github_app_id: "1234"
github_app_private_key_secret: {name: app, key: private-key}
censor_secrets: true
censoring_options: {censoring_concurrency: 2, censoring_buffer_size: 1048576, include_directories: [a], exclude_directories: [b], minimum_secret_length: 6}
upload_ignores_interrupts: true
set_limit_equals_memory_request: true
default_memory_request: 1Gi
scheduling_options: {affinity: {}, tolerations: [{key: dedicated, operator: Exists}]}
pod_pending_timeout: 10m
pod_running_timeout: 6h
pod_unscheduled_timeout: 5m
run_as_user: 1000
run_as_group: 1000
fs_group: 2000
`
	// A decoration config may not name both an OAuth token and SSH keys.
	oauthExample = "oauth_token_secret: {name: oauth, key: token}\n"

	contextPolicyExample = `required-contexts: [unit]
required-if-present-contexts: [e2e]
optional-contexts: [lint]
optional-regex-contexts: ["^experimental/"]
skip-unknown-contexts: true
from-branch-protection: true
overwrite-pending-contexts: true
`

	policyExample = `unmanaged: false
protect: true
required_status_checks: {contexts: [unit], strict: true}
enforce_admins: true
restrictions: {apps: [bot], users: [alice], teams: [admins]}
required_pull_request_reviews:
  dismissal_restrictions: {users: [alice], teams: [admins]}
  dismiss_stale_reviews: true
  require_code_owner_reviews: true
  required_approving_review_count: 1
  bypass_pull_request_allowances: {users: [bob], teams: [release]}
required_linear_history: true
allow_force_pushes: false
allow_deletions: false
require_signed_commits: true
require_manually_triggered_jobs: true
exclude: ["^wip-"]
include: ["^main$", "^release-"]
`

	jobBaseExample = `labels: {preset-service-account: "true"}
max_concurrency: 2
cluster: default
annotations: {testgrid-dashboards: acme}
reporter_config:
  slack: {host: hooks.slack.com, channel: ci, job_states_to_report: [failure], report_template: "{{.Spec.Job}}", report: true}
  dingtalk: {token: t, job_states_to_report: [failure, error], report_template: "{{.Spec.Job}}", report: true}
rerun_auth_config:
  allow_anyone: false
  github_users: [alice]
  github_team_ids: [42]
  github_team_slugs: [{org: acme, slug: maintainers}]
  github_orgs: [acme]
hidden: true
prowjob_defaults: {tenant_id: acme, resultstore_config: {project_id: acme-ci}}
job_queue_name: heavy
path_alias: example.com/widgets
clone_uri: https://github.com/acme/widgets.git
skip_submodules: true
clone_depth: 1
skip_fetch_head: true
extra_refs:
- org: acme
  repo: tools
  repo_link: https://github.com/acme/tools
  base_ref: main
  base_sha: 0123456789abcdef0123456789abcdef01234567
  base_link: https://github.com/acme/tools/commit/0123456
  pulls: [{number: 1, author: alice, sha: 0123456789abcdef0123456789abcdef01234567, title: t, ref: pull/1/head, head_ref: fix, link: l, commit_link: c, author_link: a}]
  path_alias: example.com/tools
  workdir: false
  auxiliary: true
  clone_uri: https://github.com/acme/tools.git
  skip_submodules: true
  clone_depth: 1
  skip_fetch_head: true
  blobless_fetch: true
  sparse_checkout_files: [cmd]
decorate: true
namespace: test-pods
error_on_eviction: true
spec:
  containers:
  - image: golang:1.26
    command: [make, test]
decoration_config:
`

	// A Tekton job: the pipeline specs need agent tekton-pipeline, and
	// only such a job may run outside pod_namespace.
	tektonExample = `agent: tekton-pipeline
namespace: tekton-jobs
pipeline_run_spec: {pipelineRef: {name: build}}
tekton_pipeline_run_spec: {v1beta1: {pipelineRef: {name: build}}}
`
)

// indentBy indents every line of text by n spaces.
func indentBy(text string, n int) string {
	pad := strings.Repeat(" ", n)
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		if l != "" && l != "\n" {
			b.WriteString(pad)
		}
		b.WriteString(l)
	}
	return b.String()
}

// item makes text a list item, indented by n.
func item(text string, n int) string {
	s := indentBy(text, n+2)
	return strings.Repeat(" ", n) + "- " + s[n+2:]
}

// oauthJobExample is a decorated job that clones with an OAuth token.
func oauthJobExample(name string) string {
	return "name: " + name + "\ndecorate: true\nspec: {containers: [{image: golang:1.26, command: [make]}]}\ndecoration_config:\n" +
		indentBy(oauthExample+"utility_images: {clonerefs: c, initupload: i, entrypoint: e, sidecar: s}\ngcs_configuration: {bucket: s3://b, path_strategy: explicit}\n", 2)
}

// prowFieldExamples are configurations that set every field bowline reads,
// one table per kind of file. Each loads strictly with no error.
var prowFieldExamples = []struct {
	name  string
	files map[string]string
}{
	{"config.yaml with the map forms", map[string]string{"config.yaml": `tide:
  sync_period: 1m
  status_update_period: 1m
  queries:
  - orgs: [acme]
    excludedRepos: [acme/legacy]
    author: bot
    labels: [lgtm, approved]
    missingLabels: [do-not-merge/hold]
    includedBranches: [main]
    milestone: v1
    reviewApprovedRequired: true
  - repos: [other/widgets]
    excludedBranches: [gh-pages]
  merge_method:
    acme: squash
    other:
      widgets: rebase
      tools: {"^release-": merge}
    acme/widgets@main: rebase
  merge_commit_template: {acme/widgets: {title: "{{.Title}}", body: "{{.Body}}"}}
  target_url: https://prow.example.com/tide
  pr_status_base_url: https://prow.example.com/pr
  blocker_label: merge-blocker
  squash_label: tide/squash
  rebase_label: tide/rebase
  merge_label: tide/merge
  max_goroutines: 20
  max_query_concurrency: 4
  github_merge_blocks_policy: {"*": permit}
  batch_size_limit: {"*": 5, acme/widgets: -1}
  priority: [{labels: [priority/critical]}]
  prioritize_existing_batches: {acme: false}
  display_all_tide_queries_in_status: true
  context_options:
` + indentBy(contextPolicyExample, 4) + `    orgs:
      acme:
` + indentBy(contextPolicyExample, 8) + `        repos:
          widgets:
` + indentBy(contextPolicyExample, 12) + `            branches:
              main:
` + indentBy(contextPolicyExample, 16) + `  gerrit:
    queries: [{org: "https://gerrit.example.com", repos: [a], opt_out_help: true, filters: {branches: [main], excluded_branches: [old], opt_in_by_default: true}}]
    ratelimit: 5
  bowline: {speculative_depth: 1, bisect: true, full_resync_period: 10m}
plank:
  job_url_template: "https://prow.example.com/view/{{.Spec.Job}}"
  job_url_prefix_config: {"*": "https://prow.example.com/view/"}
  jobURLPrefixDisableAppendStorageProvider: true
  report_template: "{{.Spec.Job}} failed"
  pod_pending_timeout: 15m
  pod_running_timeout: 48h
  pod_unscheduled_timeout: 5m
  max_revivals: 3
  default_decoration_configs:
    "*":
` + indentBy(decorationExample+oauthExample, 6) + `  job_queue_capacities: {heavy: 2}
  build_cluster_status_file: gs://bucket/status.json
  max_concurrency: 100
  max_goroutines: 20
sinker: {resync_period: 1h, max_prowjob_age: 168h, max_pod_age: 24h, terminated_pod_ttl: 12h, exclude_clusters: [trusted]}
deck:
  spyglass:
    viewers: {"started.json": [metadata]}
    lenses:
    - required_files: [build-log.txt]
      optional_files: [junit.xml]
      lens: {name: buildlog, config: {highlight_regexes: [error]}}
      remote_config: {endpoint: "http://lenses/buildlog", static_root: /static, title: Build log, priority: 1, hide_title: false}
    size_limit: 100000000
    gcs_browser_prefix: https://gcsweb.example.com/gcs/
    gcs_browser_prefixes: {acme: https://gcsweb.example.com/acme/}
    gcs_browser_prefixes_by_bucket: {artifacts: https://gcsweb.example.com/artifacts/}
    testgrid_config: gs://testgrid/config
    testgrid_root: https://testgrid.example.com/
    hide_pr_history_link: false
    pr_history_link_template: "/pr-history?org={{.Org}}"
    bucket_aliases: {old: artifacts}
    announcement: Maintenance tonight
  tide_update_period: 10s
  hidden_repos: [acme/secret]
  external_agent_logs: [{agent: jenkins, selector: "master=jenkins", url_template: "https://jenkins/{{.Spec.Job}}"}]
  branding: {logo: /logo.png, favicon: /favicon.ico, background_color: "#fff", header_color: "#000"}
  google_analytics: UA-1
  rerun_auth_configs:
    "*": {allow_anyone: false, github_users: [alice], github_team_ids: [42], github_team_slugs: [{org: acme, slug: maintainers}], github_orgs: [acme]}
  skip_storage_path_validation: false
  additional_allowed_buckets: [extra]
branch-protection:
` + indentBy(policyExample, 2) + `  protect-tested-repos: true
  allow_disabled_policies: false
  allow_disabled_job_policies: false
  protect_repos_with_optional_jobs: true
  orgs:
    acme:
` + indentBy(policyExample, 6) + `      repos:
        widgets:
` + indentBy(policyExample, 10) + `          branches:
            main:
` + indentBy(policyExample, 14) + `gerrit:
  tick_interval: 1m
  ratelimit: 5
  deck_url: https://prow.example.com
  allowed_presubmit_trigger_re: "^/test "
  org_repos_config: [{org: "https://gerrit.example.com", repos: [a], opt_out_help: true, filters: {branches: [main], excluded_branches: [old], opt_in_by_default: true}}]
github_reporter: {job_types_to_report: [presubmit, postsubmit], no_comment_repos: [acme/quiet], summary_comment_repos: [acme/widgets]}
slack_reporter_configs:
  "*": {host: hooks.slack.com, channel: ci, job_types_to_report: [periodic], job_states_to_report: [failure], report_template: "{{.Spec.Job}}", report: true}
dingtalk_reporter_configs:
  "*": {job_types_to_report: [periodic], token: t, job_states_to_report: [failure], report_template: "{{.Spec.Job}}", report: true}
in_repo_config: {enabled: {acme: true}, allowed_clusters: {acme: [default]}}
horologium: {tick_interval: 1m}
prowjob_namespace: prow
pod_namespace: test-pods
log_level: debug
push_gateway: {endpoint: "http://pushgateway", interval: 1m, serve_metrics: true}
owners_dir_denylist: {default: ["^vendor/"], repos: {acme/widgets: ["^third_party/"]}, ignore_preconfigured_defaults: false}
pubsub_subscriptions: {acme-project: [prow-jobs]}
github: {link_url: https://github.com}
status_error_link: https://example.com/issues
default_job_timeout: 24h
managed_webhooks:
  respect_legacy_global_token: true
  auto_accept_invitation: true
  org_repo_config: {acme: {token_created_after: "2024-01-01T00:00:00Z"}}
prowjob_default_entries: [{repo: acme, cluster: default, config: {tenant_id: acme, resultstore_config: {project_id: acme-ci}}}]
disabled_clusters: [old]
gangway:
  allowed_api_clients: [{gcp: {endpoint_api_consumer_type: PROJECT, endpoint_api_consumer_number: "123"}, allowed_jobs_filters: [{tenant_id: acme}]}]
moonraker: {client_timeout: 10m}
scheduler: {enabled: true, failover: {mappings: {old: new}}}
jenkins_operators:
- {job_url_template: "https://jenkins/{{.Spec.Job}}", report_template: "{{.Spec.Job}}", label_selector: "master=a", max_concurrency: 5, max_goroutines: 20}
- {report_templates: {"*": "{{.Spec.Job}}"}, label_selector: "master=b"}
config_version_sha: 0123456789abcdef
decorate_all_jobs: true
prow_ignored: {anchors: here}
`}},
	{"config.yaml with the list forms", map[string]string{"config.yaml": `tide:
  target_urls: {"*": https://prow.example.com/tide}
  pr_status_base_urls: {"*": https://prow.example.com/pr}
plank:
  report_templates: {"*": "{{.Spec.Job}} failed"}
  default_decoration_config_entries:
  - repo: acme
    cluster: default
    config:
` + indentBy(decorationExample+oauthExample, 6) + `deck:
  default_rerun_auth_configs:
  - repo: acme
    cluster: default
    rerun_auth_configs: {allow_anyone: false, github_users: [alice], github_team_ids: [42], github_team_slugs: [{org: acme, slug: maintainers}], github_orgs: [acme]}
  skip_storage_path_validation: true
pubsub_triggers: [{project: acme-project, topics: [prow-jobs], allowed_clusters: [default], max_outstanding_messages: 10}]
`}},
	{"job config", map[string]string{
		"config.yaml": "plank: {job_queue_capacities: {heavy: 2}}\npod_namespace: test-pods\n",
		"jobs/acme.yaml": `presets:
- labels: {preset-service-account: "true"}
  env: [{name: GOOGLE_APPLICATION_CREDENTIALS, value: /etc/sa/key.json}]
  volumes: [{name: sa, secret: {secretName: sa}}]
  volumeMounts: [{name: sa, mountPath: /etc/sa}]
  tolerations: [{key: dedicated, operator: Exists}]
presubmits:
  acme/widgets:
` + item("name: pull-widgets-unit\n"+jobBaseExample+indentBy(decorationExample, 2)+`always_run: false
optional: true
trigger: "(?m)^/test unit"
rerun_command: /test unit
run_before_merge: true
branches: [main]
skip_branches: [wip]
run_if_changed: "\\.go$"
context: unit
skip_report: false
`, 2) + item("name: pull-widgets-docs\nskip_if_only_changed: \"^docs/\"\nspec: {containers: [{image: golang:1.26, command: [make]}]}\n", 2) +
			item("name: pull-widgets-tekton\n"+tektonExample, 2) + item(oauthJobExample("pull-widgets-oauth"), 2) +
			item("name: pull-widgets-jenkins\nagent: jenkins\njenkins_spec: {github_branch_source_job: true}\n", 2) + `postsubmits:
  acme/widgets:
` + item("name: post-widgets-unit\n"+jobBaseExample+indentBy(decorationExample, 2)+`always_run: true
branches: [main]
skip_branches: [wip]
context: post-unit
skip_report: true
`, 2) + item("name: post-widgets-docs\nrun_if_changed: \"^docs/\"\nspec: {containers: [{image: golang:1.26, command: [make]}]}\n", 2) +
			item("name: post-widgets-more\nskip_if_only_changed: \"^docs/\"\nspec: {containers: [{image: golang:1.26, command: [make]}]}\n", 2) +
			item("name: post-widgets-tekton\n"+tektonExample, 2) + item(oauthJobExample("post-widgets-oauth"), 2) +
			item("name: post-widgets-jenkins\nagent: jenkins\njenkins_spec: {github_branch_source_job: true}\n", 2) + `periodics:
` + item("name: ci-widgets-unit\n"+jobBaseExample+indentBy(decorationExample, 2)+`cron: "30 0 2 * * *"
tags: [nightly]
retry: {attempts: 2, interval: 10m, run_all: false}
`, 0) + item("name: ci-widgets-hourly\ninterval: 1h\nspec: {containers: [{image: golang:1.26, command: [make]}]}\n", 0) +
			item("name: ci-widgets-loop\nminimum_interval: 30m\nspec: {containers: [{image: golang:1.26, command: [make]}]}\n", 0) +
			item("name: ci-widgets-tekton\ninterval: 1h\n"+tektonExample, 0) + item(oauthJobExample("ci-widgets-oauth")+"interval: 1h\n", 0) +
			"prow_ignored: {anchors: here}\n",
	}},
	{"plugins.yaml", map[string]string{"plugins.yaml": `plugins:
  acme: {plugins: [approve, lgtm, delete-spam-issue, fixcommitmsg], excluded_repos: [legacy]}
  acme/widgets: [hold]
external_plugins:
  acme: [{name: needs-rebase, endpoint: "http://needs-rebase", events: [pull_request]}]
owners:
  mdyamlrepos: [acme/docs]
  skip_collaborators: [acme/widgets]
  labels_denylist: [approved, lgtm]
  filenames: {acme/widgets: {owners: OWNERS.md, owners_aliases: ALIASES}}
approve: [{repos: [acme], issue_required: false, require_self_approval: true, lgtm_acts_as_approve: false, ignore_review_state: false, commandHelpLink: "https://example.com/commands", pr_process_link: "https://example.com/review"}]
assign:
  acme: {restrict: {action: block, exempt_labels: [good first issue]}}
blockades: [{repos: [acme/widgets], branchregexp: "^release-", blockregexps: ["^api/"], exceptionregexps: ["^api/docs/"], explanation: The API is frozen.}]
blunderbuss:
  request_count: 2
  max_request_count: 4
  exclude_approvers: true
  use_status_availability: true
  ignore_drafts: true
  ignore_authors: [bot]
  wait_for_status: {context: tide, description: "Needs lgtm", state: pending}
bugzilla:
  default:
    "*": &bz
      exclude_defaults: false
      enable_backporting: true
      validate_by_default: true
      is_open: true
      target_release: "4.16"
      statuses: [NEW]
      valid_states: [{status: NEW, resolution: ""}]
      dependent_bug_statuses: [VERIFIED]
      dependent_bug_states: [{status: VERIFIED, resolution: DONE}]
      dependent_bug_target_releases: ["4.17"]
      dependent_bug_target_release: "4.17"
      status_after_validation: POST
      state_after_validation: {status: POST, resolution: ""}
      add_external_link: true
      status_after_merge: MODIFIED
      state_after_merge: {status: MODIFIED, resolution: ""}
      state_after_close: {status: NEW, resolution: ""}
      allowed_groups: [security]
  orgs:
    acme:
      default: {"*": *bz}
      repos: {widgets: {branches: {main: *bz}}}
branch_cleaner: {preserved_branches: {acme: [main, "^release-"]}}
cat: {key_path: /etc/cat/key}
cherry_pick_approved: [{org: acme, repo: widgets, branchregexp: "^release-", approvers: [alice], allow_missing_approved_label: true, allow_missing_lgtm_label: true}]
cherry_pick_unapproved: {branchregexp: "^release-", comment: Needs approval.}
config_updater:
  maps:
    config/prow/config.yaml: {name: config, key: config.yaml, gzip: false, clusters: {default: [prow]}, use_full_path_as_key: false}
    config/jobs/**/*.yaml: {partitioned_names: [job-config-1, job-config-2], cluster_groups: [build]}
  cluster_groups: {build: {clusters: [default], namespaces: [test-pods]}}
  gzip: true
dco: {acme: {skip_dco_check_for_members: true, trusted_apps: [bot], trusted_org: acme, skip_dco_check_for_collaborators: true, contributing_repo: acme/community, contributing_branch: main, contributing_path: CONTRIBUTING.md}}
delete_spam_issue: {allowed_teams: [spam-fighters], allowed_users: [alice]}
fix_commit_msg: {maintainer_team: maintainers}
golint: {minimum_confidence: 0.8}
goose: {key_path: /etc/goose/key}
heart: {adorees: [alice], commentregexp: "thanks"}
help: {help_guidelines_url: "https://example.com/help", help_guidelines_summary: Read this first.}
jira: {disabled_jira_projects: [enterprise]}
label:
  additional_labels: [api-review]
  restricted_labels:
    acme:
    - label: release-blocker
      allowed_teams: [release]
      allowed_users: [alice]
      assign_on: [{label: critical}]
      allow_approvers_from_owners: true
      remove_on_new_commits: true
lgtm: [{repos: [acme], review_acts_as_lgtm: true, store_tree_hash: true, trusted_team_for_sticky_lgtm: maintainers}]
milestone_applier: {acme/widgets: {main: v2.0}}
override: {allow_top_level_owners: true, allowed_github_teams: {acme: [release]}}
project_config:
  project_org_configs:
    acme:
      org_maintainers_team_id: 1
      org_default_column_map: {Roadmap: To do}
      project_repo_configs: {widgets: {repo_maintainers_team_id: 2, repo_default_column_map: {Roadmap: Backlog}}}
project_manager:
  orgsRepos:
    acme: {projects: {Roadmap: {columns: [{id: 1, name: To do, state: open, labels: [kind/feature], org: acme}]}}}
repo_milestone: {acme/widgets: {maintainers_id: 1, maintainers_team: milestone-maintainers, maintainers_friendly_name: Release team}}
require_matching_label: [{org: acme, repo: widgets, branch: main, prs: true, issues: true, regexp: "^kind/", missing_label: needs-kind, missing_comment: Add a kind label., grace_period: 5s}]
retitle: {allow_closed_issues: true}
sigmention: {regexp: "(?m)@acme/sig-([\\w-]*)"}
size: {s: 10, m: 30, l: 100, xl: 500, xxl: 1000}
slack:
  mentionchannels: [sig-testing]
  mergewarnings: [{repos: [acme/widgets], channels: [ci], exempt_users: [bot], exempt_branches: {acme/widgets: [gh-pages]}}]
triggers: [{repos: [acme], trusted_apps: [bot], trusted_org: acme, join_org_url: "https://example.com/join", only_org_members: true, ignore_ok_to_test: false, trigger_github_workflows: true}]
welcome: [{repos: [acme], message_template: "Welcome {{.AuthorLogin}}", always_post: true}]
invalid_commit_msg: [{repos: [acme], checks: [{name: fixupPrefix, disabled: false}]}]
release_note: {free: form}
`}},
	{"org config", map[string]string{"orgs/acme/org.yaml": `billing_email: billing@example.com
company: Acme
email: admin@example.com
name: Acme
description: Widgets
location: Earth
has_organization_projects: true
has_repository_projects: true
default_repository_permission: read
members_can_create_repositories: false
members_can_create_public_repositories: false
members_can_create_private_repositories: false
members_can_create_internal_repositories: false
admins: [alice]
members: [bob]
teams:
  maintainers:
    description: Maintainers
    privacy: closed
    previously: [maintainer]
    maintainers: [alice]
    members: [bob]
    teams: {release: {}}
    repos: {widgets: admin}
repos:
  widgets:
    description: Widgets
    homepage: https://example.com
    private: false
    visibility: public
    has_issues: true
    has_projects: false
    has_wiki: false
    allow_squash_merge: true
    allow_merge_commit: false
    allow_rebase_merge: true
    squash_merge_commit_title: PR_TITLE
    squash_merge_commit_message: PR_BODY
    default_branch: main
    archived: false
    previously: [gadgets]
    collaborators: {carol: write}
    on_create: {auto_init: true, gitignore_template: Go, license_template: apache-2.0}
  widgets-fork:
    fork_from: upstream/widgets
    default_branch_only: true
`}},
	{"labels.yaml", map[string]string{"labels.yaml": `default:
  labels: &labels
  - name: lgtm
    color: 15dd18
    description: Looks good to me.
    target: prs
    prowPlugin: lgtm
    isExternalPlugin: false
    addedBy: prow
    previously: [{name: looks-good, color: 15dd18}]
  - name: old
    color: ffffff
    deleteAfter: 2030-01-01T00:00:00Z
orgs:
  acme:
    labels:
    - {name: acme, color: "000000", description: d, target: both, prowPlugin: label, isExternalPlugin: false, addedBy: humans, previously: [{name: acme-old}]}
    - {name: acme-retired, color: "000000", deleteAfter: 2030-01-01T00:00:00Z}
repos:
  acme/widgets:
    labels:
    - {name: widgets, color: "000000", description: d, target: issues, prowPlugin: needs-rebase, isExternalPlugin: true, addedBy: humans, previously: [{name: widgets-old}]}
    - {name: widgets-retired, color: "000000", deleteAfter: 2030-01-01T00:00:00Z}
`}},
	{"OWNERS", map[string]string{
		"owners/OWNERS":         "approvers: [alice]\nreviewers: [bob]\nrequired_reviewers: [carol]\nlabels: [area/widgets]\nemeritus_approvers: [dave]\nemeritus_reviewers: [erin]\noptions: {no_parent_owners: true, auto_approve_unowned_subfolders: true}\n",
		"owners/sub/OWNERS":     "filters:\n  \"\\\\.go$\": {approvers: [alice], reviewers: [bob], required_reviewers: [carol], labels: [lang/go], emeritus_approvers: [dave], emeritus_reviewers: [erin]}\n",
		"owners/OWNERS_ALIASES": "aliases:\n  maintainers: [alice, bob]\n",
	}},
}

// exampleOptions says which loader input each example file is.
func exampleOptions(files map[string]string) Options {
	var o Options
	for name := range files {
		switch {
		case name == "config.yaml":
			o.ConfigPath = name
		case strings.HasPrefix(name, "jobs/"):
			o.JobConfigPath = "jobs"
		case name == "plugins.yaml":
			o.PluginConfigPath = name
		case strings.HasPrefix(name, "orgs/"):
			o.OrgConfigPaths = []string{"orgs"}
		case name == "labels.yaml":
			o.LabelsPath = name
		case strings.HasPrefix(name, "owners/"):
			o.OwnersDir = "owners"
		}
	}
	return o
}

// exampleRoot is the type a file of an example decodes into, and the
// kind of file that its field paths are counted under (config.yaml and job
// files share one: config.yaml may hold jobs).
func exampleRoot(name string) (reflect.Type, string) {
	switch {
	case name == "config.yaml":
		return reflect.TypeFor[configFile](), "config"
	case strings.HasPrefix(name, "jobs/"):
		return reflect.TypeFor[jobs.Config](), "config"
	case name == "plugins.yaml":
		return reflect.TypeFor[plugins.Config](), "plugins"
	case strings.HasPrefix(name, "orgs/"):
		return reflect.TypeFor[orgs.Org](), "orgs"
	case name == "labels.yaml":
		return reflect.TypeFor[labels.Config](), "labels"
	case strings.HasSuffix(name, "OWNERS_ALIASES"):
		return reflect.TypeFor[owners.Aliases](), "aliases"
	}
	return reflect.TypeFor[owners.File](), "owners"
}

// TestEveryProwFieldLoads: an example of every kind of file that sets
// every field bowline reads (Prow's, as current Prow accepts them, plus
// bowline's own tide.bowline) loads strictly without an error; its only
// warnings are that some fields are not supported yet (and that Prow's
// utility images are not run), and it warns about every field the
// not-supported registry lists. The examples must set exactly the fields
// of docs/config/fields.md, so that a field added to the types without an
// example, or an example of a field the types lack, fails here.
func TestEveryProwFieldLoads(t *testing.T) {
	set := map[string]bool{}
	var warnings []Error
	for _, ex := range prowFieldExamples {
		t.Run(ex.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, text := range ex.files {
				fsys[name] = file(text)
				root, err := yamlRoot(text)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				typ, kind := exampleRoot(name)
				paths := map[string]bool{}
				examplePaths(root, typ, "", paths)
				for p := range paths {
					set[kind+": "+p] = true
				}
			}
			s, err := Load(context.Background(), fsys, exampleOptions(ex.files))
			if err != nil {
				t.Fatalf("Prow accepts this configuration; bowline refused it:\n%v", err)
			}
			for _, w := range s.Warnings {
				if w.Code != CodeNotSupported && w.Code != "utility-images" && w.Code != "unsupported-agent" {
					t.Errorf("unexpected warning: %s (%s)", w, w.Code)
				}
			}
			warnings = append(warnings, s.Warnings...)
		})
	}

	want := map[string]bool{}
	for _, root := range []struct {
		kind string
		typ  reflect.Type
	}{
		{"config", reflect.TypeFor[prowconfig.Config]()}, {"config", reflect.TypeFor[jobs.Config]()},
		{"plugins", reflect.TypeFor[plugins.Config]()}, {"orgs", reflect.TypeFor[orgs.Org]()},
		{"labels", reflect.TypeFor[labels.Config]()}, {"owners", reflect.TypeFor[owners.File]()},
		{"aliases", reflect.TypeFor[owners.Aliases]()},
	} {
		var buf bytes.Buffer
		walkFields(&buf, "", root.typ, map[reflect.Type]bool{})
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			p, _, _ := strings.Cut(l, ":")
			want[root.kind+": "+p] = true
		}
	}
	var missing, extra []string
	for p := range want {
		if !set[p] {
			missing = append(missing, p)
		}
	}
	for p := range set {
		if !want[p] {
			extra = append(extra, p)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("fields no example sets (%d):\n%s", len(missing), strings.Join(missing, "\n"))
	}
	if len(extra) > 0 {
		t.Errorf("example fields the reference does not list (%d):\n%s", len(extra), strings.Join(extra, "\n"))
	}

	for _, e := range notSupported {
		prefix := displayName(&e) + " is not supported yet"
		if !slices.ContainsFunc(warnings, func(w Error) bool { return strings.HasPrefix(w.Message, prefix) }) {
			t.Errorf("no warning %q: the examples set the field, so check must warn", prefix)
		}
	}
	for _, name := range []string{"delete-spam-issue", "fixcommitmsg"} {
		msg := fmt.Sprintf("plugin %q is not supported yet", name)
		if !slices.ContainsFunc(warnings, func(w Error) bool { return strings.HasPrefix(w.Message, msg) }) {
			t.Errorf("no warning %q", msg)
		}
	}
}

func yamlRoot(text string) (*yaml.Node, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// examplePaths adds to out the field path, as docs/config/fields.md writes
// it, of every key that n sets, where n decodes into t. Aliases and merge
// keys are followed; values of Kubernetes' types, free-form values and
// values that decode themselves from a scalar are not looked into.
func examplePaths(n *yaml.Node, t reflect.Type, path string, out map[string]bool) {
	examplePathsIn(n, t, path, out, map[reflect.Type]bool{})
}

// examplePathsIn is examplePaths; like walkFields, it does not look into a
// struct type inside itself (a team's child teams, a label's previous
// names), whose fields the reference lists once.
func examplePathsIn(n *yaml.Node, t reflect.Type, path string, out map[string]bool, open map[reflect.Type]bool) {
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			examplePathsIn(c, t, path, out, open)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		examplePathsIn(n.Alias, t, path, out, open)
		return
	}
	t = deref(t)
	switch t.Kind() {
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 1; i < len(n.Content); i += 2 {
				examplePathsIn(n.Content[i], t.Elem(), path+".<key>", out, open)
			}
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for _, c := range n.Content {
				examplePathsIn(c, t.Elem(), path+"[]", out, open)
			}
		}
	case reflect.Struct:
		if n.Kind != yaml.MappingNode || !strings.HasPrefix(t.PkgPath(), "github.com/bowline-ci/bowline/") || open[t] {
			return
		}
		open[t] = true
		defer delete(open, t)
		var pairs func(m *yaml.Node)
		pairs = func(m *yaml.Node) {
			if m.Kind == yaml.AliasNode {
				m = m.Alias
			}
			if m.Kind == yaml.SequenceNode { // <<: [*a, *b]
				for _, c := range m.Content {
					pairs(c)
				}
				return
			}
			for i := 0; i+1 < len(m.Content); i += 2 {
				k, v := m.Content[i], m.Content[i+1]
				if k.Tag == "!!merge" {
					pairs(v)
					continue
				}
				_, f, ok := fieldByJSONName(t, k.Value)
				if !ok {
					continue // a value that decodes itself
				}
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				out[p] = true
				examplePathsIn(v, f.Type, p, out, open)
			}
		}
		pairs(n)
	}
}
