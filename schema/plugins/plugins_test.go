package plugins

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

func load(t *testing.T, text string) (*Config, []string) {
	t.Helper()
	var c Config
	var errs yamlpos.Errors
	yamlpos.NewDecoder().Decode("plugins.yaml", []byte(text), &c, &errs)
	c.SetDefaults()
	if errs.Len() == 0 {
		c.Validate("plugins.yaml", &errs)
	}
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

func TestEnabledFor(t *testing.T) {
	c, errs := load(t, `plugins:
  org:
    plugins: [lgtm, approve]
    excluded_repos: [legacy]
  org/repo:
    plugins: [trigger]
  org/legacy: [hold]
`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	tests := []struct {
		org, repo string
		want      []string
	}{
		{"org", "repo", []string{"approve", "lgtm", "trigger"}},
		{"org", "legacy", []string{"hold"}},
		{"org", "other", []string{"approve", "lgtm"}},
		{"x", "y", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, c.EnabledFor(tt.org, tt.repo)); diff != "" {
			t.Errorf("EnabledFor(%s/%s) (-want +got):\n%s", tt.org, tt.repo, diff)
		}
	}
	if diff := cmp.Diff([]string{"approve", "hold", "lgtm", "trigger"}, c.PluginNames()); diff != "" {
		t.Errorf("PluginNames (-want +got):\n%s", diff)
	}
}

func TestDefaultsAndLookups(t *testing.T) {
	c, errs := load(t, `external_plugins:
  org: [{name: needs-rebase, events: [pull_request]}]
approve:
- repos: [org]
  require_self_approval: false
- repos: [org/special]
  lgtm_acts_as_approve: true
`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := c.ExternalPlugins["org"][0].Endpoint; got != "http://needs-rebase" {
		t.Errorf("endpoint = %q", got)
	}
	if c.Size != (Size{S: 10, M: 30, L: 100, Xl: 500, Xxl: 1000}) || *c.Blunderbuss.ReviewerCount != 2 {
		t.Errorf("size %+v, request_count %d", c.Size, *c.Blunderbuss.ReviewerCount)
	}
	if a := c.ApproveFor("org", "special"); a == nil || !a.LgtmActsAsApprove {
		t.Errorf("ApproveFor(org/special) = %+v", a)
	}
	if a := c.ApproveFor("org", "other"); a == nil || a.LgtmActsAsApprove {
		t.Errorf("ApproveFor(org/other) = %+v", a)
	}
	if a := c.ApproveFor("x", "y"); a != nil {
		t.Errorf("ApproveFor(x/y) = %+v", a)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{name: "valid", yaml: "plugins:\n  org: [lgtm]\n"},
		{
			name: "plugin names",
			yaml: `plugins:
  org:
    plugins: [lgtm, lgmt, lgtm]
  org/repo:
    plugins: [lgtm]
    excluded_repos: [x]
external_plugins:
  org: [{name: cherrypicker, events: [comment]}]
  org/repo: [{name: cherrypicker}, {name: needs-rebase}, {name: needs-rebase}]
`,
			want: []string{
				`plugins.yaml:3:21: plugins[org]: unknown plugin "lgmt"`,
				`plugins.yaml:5:15: plugins[org/repo]: plugin "lgtm" is already enabled for org org`,
				`plugins.yaml:9:21: external_plugins[org/repo]: "cherrypicker" is already enabled for org org`,
				`warning duplicate-value: plugins.yaml:3:27: plugins[org]: plugin "lgtm" is listed twice`,
				`warning ignored-value: plugins.yaml:6:21: plugins[org/repo]: excluded_repos only applies to orgs; here it does nothing`,
				`warning unknown-value: plugins.yaml:8:39: external_plugins[org]: cherrypicker: unknown event "comment": GitHub sends no such event`,
				`warning duplicate-value: plugins.yaml:9:65: external_plugins[org/repo]: "needs-rebase" is listed twice`,
			},
		},
		{
			name: "plugin sections",
			yaml: `size: {s: 5, m: 3, l: 10, xl: 20, xxl: 30}
heart: {commentregexp: "("}
require_matching_label:
- org: o
  regexp: "^kind/"
triggers:
- repos: [org]
- repos: [org]
welcome:
- repos: [org]
- repos: [org]
assign: {org: {restrict: {action: scold}}, "*": {restrict: {exempt_labels: [good first issue]}}}
blunderbuss: {request_count: 0, max_request_count: -1, wait_for_status: {description: "("}}
blockades: [{blockregexps: ["("]}]
config_updater:
  maps:
    a.yaml: {name: a, partitioned_names: [a1, a2]}
    b.yaml: {}
`,
			want: []string{
				`plugins.yaml:1:7: size: thresholds must not decrease (s <= m <= l <= xl <= xxl), not 5, 3, 10, 20, 30`,
				"plugins.yaml:2:24: heart.commentregexp: error parsing regexp: missing closing ): `(`",
				`plugins.yaml:4:3: require_matching_label[0]: applies to neither prs nor issues`,
				`plugins.yaml:4:3: require_matching_label[0]: missing_label is required`,
				`plugins.yaml:11:11: welcome[1]: org is configured twice`,
				`plugins.yaml:12:35: assign[org].restrict.action must be warn or block, not "scold"`,
				`plugins.yaml:13:30: blunderbuss: request_count must be positive, not 0`,
				"plugins.yaml:13:87: blunderbuss.wait_for_status.description: error parsing regexp: missing closing ): `(`",
				`plugins.yaml:17:42: config_updater.maps[a.yaml]: name and partitioned_names are mutually exclusive`,
				`plugins.yaml:18:13: config_updater.maps[b.yaml]: name (or partitioned_names) is required`,
				`warning duplicate-value: plugins.yaml:8:11: triggers[1]: org is configured twice; the first entry applies`,
				`warning out-of-range: plugins.yaml:13:52: blunderbuss: max_request_count is -1: it should not be negative (0 is no cap)`,
				`warning missing-value: plugins.yaml:14:13: blockades[0]: without repos the blockade applies nowhere`,
				"warning bad-pattern: plugins.yaml:14:29: blockades[0].blockregexps: error parsing regexp: missing closing ): `(`: the blockade cannot apply",
			},
		},
		{
			name: "the older list form and aliases",
			yaml: "plugins:\n  org: &list [lgtm, nonesuch]\n  other: *list\n",
			want: []string{
				`plugins.yaml:2:21: plugins[org]: unknown plugin "nonesuch"`,
				`plugins.yaml:2:21: plugins[other]: unknown plugin "nonesuch"`,
			},
		},
		{
			name: "invalidcommitmsg checks, as Prow's objects",
			yaml: `invalid_commit_msg:
- repos: [org]
  checks:
  - name: fixupPrefix
  - name: issueClosingKeywords
    disabled: true
  - name: fixup
`,
			want: []string{`plugins.yaml:7:11: invalid_commit_msg[0]: unknown check "fixup" (known: issueClosingKeywords, fixupPrefix)`},
		},
		{
			name: "unknown field",
			yaml: "lgtm:\n- repos: [org]\n  stick_lgtm: true\n",
			want: []string{`plugins.yaml:3:3: unknown field "stick_lgtm"`},
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

// TestDeprecatedPlugin: a plugin Prow replaced loads, with a warning at its
// name that says what replaces it.
func TestDeprecatedPlugin(t *testing.T) {
	const text = "plugins:\n  org:\n    plugins: [hold, transfer-issue]\n"
	var c Config
	var errs yamlpos.Errors
	yamlpos.NewDecoder().Decode("plugins.yaml", []byte(text), &c, &errs)
	c.SetDefaults()
	c.Validate("plugins.yaml", &errs)
	errs.Resolve(func(string) ([]byte, bool) { return []byte(text), true })
	if errs.Len() > 0 {
		t.Fatalf("errors: %v", errs.Error())
	}
	want := []yamlpos.Error{{File: "plugins.yaml", Line: 3, Column: 21, Code: "deprecated-plugin",
		Message: `plugins[org]: plugin "transfer-issue" is deprecated: Prow merged it into "issue-management", which does what it did and more`}}
	if diff := cmp.Diff(want, errs.Warnings, cmpopts.IgnoreUnexported(yamlpos.Error{})); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
