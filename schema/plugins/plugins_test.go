package plugins

import (
	"testing"

	"github.com/google/go-cmp/cmp"

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
	errs.Sort()
	var out []string
	for _, e := range errs.List {
		out = append(out, e.String())
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
`,
			want: []string{
				`plugins.yaml: external_plugins[org]: cherrypicker: unknown event "comment"`,
				`plugins.yaml:3:5: plugins[org]: plugin "lgtm" is listed twice`,
				`plugins.yaml:3:5: plugins[org]: unknown plugin "lgmt"`,
				`plugins.yaml:5:5: plugins[org/repo]: excluded_repos only applies to orgs`,
				`plugins.yaml:5:5: plugins[org/repo]: plugin "lgtm" is already enabled for org org`,
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
`,
			want: []string{
				"plugins.yaml: heart.commentregexp: error parsing regexp: missing closing ): `(`",
				`plugins.yaml: size: thresholds must be positive and increasing (s < m < l < xl < xxl)`,
				`plugins.yaml: triggers[1]: org is configured twice`,
				`plugins.yaml:4:3: require_matching_label[0]: applies to neither prs nor issues`,
			},
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
