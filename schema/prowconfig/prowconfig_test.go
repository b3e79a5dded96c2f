package prowconfig

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

func load(t *testing.T, text string) (*Config, []string) {
	t.Helper()
	var c Config
	var errs yamlpos.Errors
	yamlpos.NewDecoder().Decode("config.yaml", []byte(text), &c, &errs)
	if errs.Len() > 0 {
		t.Fatalf("decode: %v", errs.Error())
	}
	c.SetDefaults()
	c.Validate(&errs)
	errs.Resolve(func(string) ([]byte, bool) { return []byte(text), true })
	errs.Sort()
	var out []string
	for _, e := range errs.List {
		out = append(out, e.String())
	}
	// Warnings follow the errors, marked with their code.
	for _, w := range errs.Warnings {
		out = append(out, "warning "+w.Code+": "+w.String())
	}
	return &c, out
}

func TestDefaults(t *testing.T) {
	c, errs := load(t, "sinker:\n  max_pod_age: 2h\n")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := map[string]string{
		"prowjob_namespace":     c.ProwJobNamespace,
		"pod_namespace":         c.PodNamespace,
		"pod_pending_timeout":   c.Plank.PodPendingTimeout.String(),
		"pod_running_timeout":   c.Plank.PodRunningTimeout.String(),
		"pod_unscheduled":       c.Plank.PodUnscheduledTimeout.String(),
		"terminated_pod_ttl":    c.Sinker.TerminatedPodTTL.String(),
		"max_prowjob_age":       c.Sinker.MaxProwJobAge.String(),
		"tide.sync_period":      c.Tide.SyncPeriod.String(),
		"tide.status_update":    c.Tide.StatusUpdatePeriod.String(),
		"deck.tide_update":      c.Deck.TideUpdatePeriod.String(),
		"horologium.tick":       c.Horologium.TickInterval.String(),
		"default_job_timeout":   c.DefaultJobTimeout.String(),
		"github_reporter.types": c.GitHubReporter.JobTypesToReport[0] + "," + c.GitHubReporter.JobTypesToReport[1],
	}
	want := map[string]string{
		"prowjob_namespace": "default", "pod_namespace": "default",
		"pod_pending_timeout": "10m0s", "pod_running_timeout": "48h0m0s", "pod_unscheduled": "5m0s",
		"terminated_pod_ttl": "2h0m0s", "max_prowjob_age": "168h0m0s",
		"tide.sync_period": "1m0s", "tide.status_update": "1m0s", "deck.tide_update": "10s",
		"horologium.tick": "1m0s", "default_job_timeout": "24h0m0s", "github_reporter.types": "presubmit,postsubmit",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestDecorationFor(t *testing.T) {
	tests := []struct {
		name          string
		yaml          string
		repo, cluster string
		wantBucket    string
		wantTimeout   string
	}{
		{
			name: "entries merge in order, later wins",
			yaml: `plank:
  default_decoration_config_entries:
  - config: {timeout: 2h, gcs_configuration: {bucket: all}}
  - repo: org
    config: {gcs_configuration: {bucket: org}}
  - cluster: other
    config: {timeout: 3h}
`,
			repo: "org/repo", cluster: "default", wantBucket: "org", wantTimeout: "2h0m0s",
		},
		{
			name: "cluster filter",
			yaml: `plank:
  default_decoration_config_entries:
  - config: {timeout: 2h, gcs_configuration: {bucket: all}}
  - cluster: other
    config: {timeout: 3h}
`,
			repo: "x/y", cluster: "other", wantBucket: "all", wantTimeout: "3h0m0s",
		},
		{
			name: "map form: repo beats org beats *",
			yaml: `plank:
  default_decoration_configs:
    '*': {timeout: 1h, gcs_configuration: {bucket: all}}
    org: {gcs_configuration: {bucket: org}}
    org/repo: {gcs_configuration: {bucket: repo}}
`,
			repo: "org/repo", cluster: "default", wantBucket: "repo", wantTimeout: "1h0m0s",
		},
		{
			name: "map form, other org",
			yaml: `plank:
  default_decoration_configs:
    '*': {timeout: 1h, gcs_configuration: {bucket: all}}
    org: {gcs_configuration: {bucket: org}}
`,
			repo: "other/repo", cluster: "default", wantBucket: "all", wantTimeout: "1h0m0s",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, errs := load(t, tt.yaml)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			d := c.DecorationFor(tt.repo, tt.cluster)
			if d == nil || d.GCSConfiguration.Bucket != tt.wantBucket || d.Timeout.String() != tt.wantTimeout {
				t.Fatalf("DecorationFor = %+v", d)
			}
		})
	}
}

func TestBranchProtection(t *testing.T) {
	c, errs := load(t, `branch-protection:
  protect: false
  allow_disabled_policies: true
  required_status_checks: {contexts: [cla]}
  orgs:
    org:
      protect: true
      restrictions: {teams: [admins]}
      repos:
        repo:
          required_status_checks: {contexts: [lint], strict: true}
          restrictions: {teams: [maintainers]}
          branches:
            release:
              enforce_admins: true
        unmanaged:
          unmanaged: true
        skipped:
          exclude: ["^dev-"]
`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	yes := true
	bp := &c.BranchProtection
	jobsCtx := JobContexts{Required: []string{"unit"}, Manual: []string{"e2e"}}

	got := bp.GetPolicy("org", "repo", "release", jobsCtx)
	want := &Policy{
		Protect:              &yes,
		Admins:               &yes,
		RequiredStatusChecks: &ContextPolicy{Contexts: []string{"cla", "lint", "unit"}, Strict: &yes},
		Restrictions:         &Restrictions{Teams: []string{"admins", "maintainers"}},
	}
	if diff := cmp.Diff(want, got, cmpPolicy); diff != "" {
		t.Errorf("org/repo@release (-want +got):\n%s", diff)
	}
	if p := bp.GetPolicy("org", "unmanaged", "main", jobsCtx); p != nil {
		t.Errorf("unmanaged repo has a policy: %+v", p)
	}
	if p := bp.GetPolicy("org", "skipped", "dev-1", jobsCtx); p != nil {
		t.Errorf("excluded branch has a policy: %+v", p)
	}
	if p := bp.GetPolicy("other", "repo", "main", jobsCtx); p == nil || *p.Protect {
		t.Errorf("other org: %+v, want protect: false", p)
	}
}

var cmpPolicy = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Pos" }, cmp.Ignore())

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{name: "valid", yaml: "tide:\n  queries:\n  - repos: [org/repo]\n    labels: [lgtm]\n"},
		{
			name: "plank",
			yaml: `plank:
  job_url_template: "{{.Bad"
  default_decoration_configs: {'*': {}}
  default_decoration_config_entries: [{config: {}}]
log_level: loud
`,
			want: []string{
				`config.yaml:2:21: plank.job_url_template: template: plank.job_url_template:1: unclosed action`,
				`config.yaml:4:38: plank: default_decoration_configs and default_decoration_config_entries are mutually exclusive`,
				`config.yaml:5:12: log_level must be one of trace, debug, info, warn, warning, error, fatal, panic, not "loud"`,
			},
		},
		{
			name: "tide",
			yaml: `tide:
  merge_method: {org/repo: fast-forward}
  batch_size_limit: {'*': -2}
  queries:
  - labels: [a]
    missingLabels: [a]
  - repos: [bad]
    includedBranches: [main]
    excludedBranches: [dev]
`,
			want: []string{
				`config.yaml:2:28: tide.merge_method[org/repo]: must be one of merge, squash, rebase, ifNecessary, not "fast-forward"`,
				`config.yaml:5:5: tide.queries[0]: needs orgs or repos`,
				`config.yaml:6:21: tide.queries[0]: label "a" is both required and forbidden`,
				`config.yaml:7:13: tide.queries[1]: repo "bad" is not org/repo`,
				`config.yaml:9:23: tide.queries[1]: includedBranches and excludedBranches are mutually exclusive`,
				`warning out-of-range: config.yaml:3:27: tide.batch_size_limit[*] is -2: -1 turns batches off, 0 leaves them unlimited; any negative number turns them off`,
			},
		},
		{
			name: "tide bowline extensions",
			yaml: `tide:
  sync_period: 2m
  bowline:
    speculative_depth: 11
    bisect: false
    full_resync_period: 1m
`,
			want: []string{
				`config.yaml:4:5: tide.bowline.full_resync_period (1m0s) must not be shorter than tide.sync_period (2m0s)`,
				`config.yaml:4:5: tide.bowline.speculative_depth must be between 0 and 10, not 11`,
			},
		},
		{name: "tide bowline extensions valid", yaml: "tide:\n  bowline:\n    speculative_depth: 0\n    full_resync_period: 30m\n"},
		{
			name: "merge methods by org, repo and branch pattern",
			yaml: `tide:
  merge_method:
    org:
      r: {"(": squash, main: sideways}
      s: merge
      t: fast
`,
			want: []string{
				"config.yaml:4:11: tide.merge_method[org/r]: branch pattern: error parsing regexp: missing closing ): `(`",
				`config.yaml:4:30: tide.merge_method[org/r@main]: must be one of merge, squash, rebase, ifNecessary, not "sideways"`,
				`config.yaml:6:10: tide.merge_method[org/t]: must be one of merge, squash, rebase, ifNecessary, not "fast"`,
			},
		},
		{
			name: "values Prow takes that are almost certainly mistakes",
			yaml: `plank: {pod_pending_timeout: 0s, max_revivals: -1, max_concurrency: -1, report_template: a, report_templates: {'*': b}}
tide:
  sync_period: 0s
  github_merge_blocks_policy: {'*': sometimes}
  context_options: {orgs: {o: {optional-regex-contexts: ["("]}}}
deck: {spyglass: {lenses: [{lens: {}, required_files: [x]}]}}
`,
			want: []string{
				`config.yaml:1:69: plank.max_concurrency must not be negative, not -1`,
				`config.yaml:1:111: plank: report_template and report_templates are mutually exclusive`,
				"config.yaml:5:58: tide.context_options.orgs.o: optional-regex-contexts: error parsing regexp: missing closing ): `(`",
				`warning out-of-range: config.yaml:1:30: plank.pod_pending_timeout is 0s: a timeout should be positive`,
				`warning out-of-range: config.yaml:1:48: plank.max_revivals is -1: it should not be negative (0 revives no pod)`,
				`warning out-of-range: config.yaml:3:16: tide.sync_period is 0s: it should be positive`,
				`warning unknown-value: config.yaml:4:37: tide.github_merge_blocks_policy[*]: unknown policy "sometimes" (ignore, permit, block)`,
				`warning missing-value: config.yaml:6:35: deck.spyglass.lenses[0]: lens.name is not set: the lens shows nothing`,
			},
		},
		{
			name: "branch protection",
			yaml: `branch-protection:
  orgs:
    org:
      include: [main]
      exclude: ["("]
      repos:
        r:
          protect: false
          required_status_checks: {contexts: [x]}
          required_pull_request_reviews: {required_approving_review_count: 7}
`,
			want: []string{
				"config.yaml:5:17: branch-protection.orgs.org: exclude: error parsing regexp: missing closing ): `(`",
				`config.yaml:8:20: branch-protection.orgs.org.repos.r: protect is false but the policy has settings (set allow_disabled_policies to allow this)`,
				`warning out-of-range: config.yaml:10:76: branch-protection.orgs.org.repos.r: required_approving_review_count is 7: GitHub takes 0 to 6 and will refuse it`,
			},
		},
		{
			name: "reporters and sinker",
			yaml: `github_reporter: {job_types_to_report: [presubmit, nightly]}
slack_reporter_configs:
  '*': {job_states_to_report: [done], job_types_to_report: [nightly]}
  org: {channel: c}
sinker: {max_pod_age: 1h, terminated_pod_ttl: 2h}
`,
			want: []string{
				`config.yaml:1:52: github_reporter: unknown job type "nightly"`,
				`config.yaml:3:8: slack_reporter_configs[*]: channel must be set`,
				`warning unknown-value: config.yaml:3:32: slack_reporter_configs[*]: unknown job state "done": no run will match it`,
				`warning unknown-value: config.yaml:3:61: slack_reporter_configs[*]: unknown job type "nightly": no job will match it`,
				`warning out-of-range: config.yaml:5:47: sinker.terminated_pod_ttl (2h0m0s) exceeds max_pod_age (1h0m0s), which removes pods first`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := load(t, tt.yaml)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTideLookups(t *testing.T) {
	c, _ := load(t, "tide:\n  batch_size_limit: {'*': 5, org: 2, org/repo: -1}\n  merge_method: {org: squash}\nin_repo_config:\n  enabled: {'*': true, org/off: false}\n")
	tests := []struct {
		org, repo string
		batch     int
		method    string
		inRepo    bool
	}{
		{"org", "repo", -1, "squash", true},
		{"org", "off", 2, "squash", false},
		{"x", "y", 5, "merge", true},
	}
	for _, tt := range tests {
		got := []any{c.Tide.BatchSizeLimit(tt.org, tt.repo), c.Tide.MergeMethod(tt.org, tt.repo), c.InRepoConfigEnabled(tt.org, tt.repo)}
		if diff := cmp.Diff([]any{tt.batch, tt.method, tt.inRepo}, got); diff != "" {
			t.Errorf("%s/%s (-want +got):\n%s", tt.org, tt.repo, diff)
		}
	}
}

// TestMergeMethodFor follows Prow's order (OrgRepoBranchMergeMethod): the
// org/repo@branch key, the org's branch patterns for the repo (or "*"),
// the org/repo key, the org's repo-wide method, the org's, then merge.
func TestMergeMethodFor(t *testing.T) {
	c, errs := load(t, `tide:
  merge_method:
    kubernetes:
      test-infra:
        "ma(ster|in)": rebase
        release: squash
      "*": {dev: squash}
      website: merge
    kubernetes/test-infra@release-1.0: merge
    kubernetes/website: rebase
    other: squash
    other/kept: rebase
`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	tests := []struct {
		org, repo, branch, want string
	}{
		{"kubernetes", "test-infra", "release-1.0", "merge"},
		{"kubernetes", "test-infra", "main", "rebase"},
		{"kubernetes", "test-infra", "release-2.0", "squash"},
		{"kubernetes", "test-infra", "feature", "merge"},
		{"kubernetes", "community", "dev", "squash"},
		{"kubernetes", "website", "main", "rebase"},
		{"other", "any", "main", "squash"},
		{"other", "kept", "main", "rebase"},
		{"unknown", "r", "main", "merge"},
	}
	for _, tt := range tests {
		if got := c.Tide.MergeMethodFor(tt.org, tt.repo, tt.branch); got != tt.want {
			t.Errorf("%s/%s@%s = %s, want %s", tt.org, tt.repo, tt.branch, got, tt.want)
		}
	}
}

// TestIncludeAndExclude: Prow accepts include and exclude together, and a
// branch is then protected when it matches include and not exclude. An
// include that the excludes empty is accepted with a warning.
func TestIncludeAndExclude(t *testing.T) {
	const text = `branch-protection:
  exclude: ["^release-0\\."]
  orgs:
    org:
      protect: true
      include: ["^release-", "^main$"]
      repos:
        shadowed:
          include: ["^dev$"]
          exclude: ["^dev$"]
        everything:
          include: ["^feature-"]
          exclude: [".*"]
`
	var c Config
	var errs yamlpos.Errors
	yamlpos.NewDecoder().Decode("config.yaml", []byte(text), &c, &errs)
	c.SetDefaults()
	c.Validate(&errs)
	errs.Resolve(func(string) ([]byte, bool) { return []byte(text), true })
	errs.Sort()
	if errs.Len() > 0 {
		t.Fatalf("include with exclude refused: %v", errs.Error())
	}
	var warnings []string
	for _, w := range errs.Warnings {
		warnings = append(warnings, w.String()+" ["+w.Code+"]")
	}
	wantWarnings := []string{
		`config.yaml:9:21: branch-protection.orgs.org.repos.shadowed: include "^dev$" protects nothing: every branch it matches is excluded by "^dev$" (a branch must match include and not match exclude) [include-excluded]`,
		`config.yaml:12:21: branch-protection.orgs.org.repos.everything: include "^feature-" protects nothing: every branch it matches is excluded by ".*" (a branch must match include and not match exclude) [include-excluded]`,
	}
	if diff := cmp.Diff(wantWarnings, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	tests := []struct {
		repo, branch string
		protected    bool
	}{
		{"any", "main", true},
		{"any", "release-1.30", true},
		{"any", "release-0.9", false}, // included, but excluded at the top
		{"any", "dev", false},         // not included
		{"shadowed", "dev", false},
		{"everything", "feature-x", false},
	}
	for _, tt := range tests {
		got := c.BranchProtection.GetPolicy("org", tt.repo, tt.branch, JobContexts{}) != nil
		if got != tt.protected {
			t.Errorf("org/%s branch %s protected = %v, want %v", tt.repo, tt.branch, got, tt.protected)
		}
	}
}
