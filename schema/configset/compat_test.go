package configset

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestProwCompatibility: small configurations Prow's checkconfig accepts
// load with Prow's effective values; what it accepts but is almost
// certainly a mistake loads with a warning at the offending value (and is
// refused in strict mode); what it refuses is refused at the offending
// value, quoting it as written.
func TestProwCompatibility(t *testing.T) {
	const spec = "\n    spec: {containers: [{image: golang, command: [make]}]}"
	tests := []struct {
		name string
		// config.yaml, a job file and plugins.yaml; empty ones are absent.
		config, jobs, plugins string
		// check looks at effective values of a configuration that loads.
		check    func(t *testing.T, s *Set)
		warnings []string
		errors   []string
	}{
		{
			name: "durations in nanoseconds, wherever a duration goes",
			config: `plank:
  pod_pending_timeout: 900000000000
  default_decoration_config_entries:
  - config: {timeout: 7200000000000, grace_period: 15000000000}
sinker: {max_pod_age: 86400000000000}
`,
			jobs: "presubmits:\n  o/r:\n  - name: j\n    decorate: true\n    decoration_config: {grace_period: 30s}" + spec + "\n",
			check: func(t *testing.T, s *Set) {
				d := s.Jobs.Presubmits["o/r"][0].DecorationConfig
				got := []time.Duration{s.Config.Plank.PodPendingTimeout.Duration, d.Timeout.Duration, d.GracePeriod.Duration, s.Config.Sinker.MaxPodAge.Duration}
				if diff := cmp.Diff([]time.Duration{15 * time.Minute, 2 * time.Hour, 30 * time.Second, 24 * time.Hour}, got); diff != "" {
					t.Errorf("durations (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "decoration defaults merge in order: every entry, later ones winning, the job's own last",
			config: `plank:
  default_decoration_config_entries:
  - config: {timeout: 1h, grace_period: 10s, gcs_configuration: {bucket: "s3://all", path_strategy: explicit}}
  - {repo: o, config: {timeout: 2h}}
  - {repo: o/r, cluster: build, config: {gcs_configuration: {bucket: "s3://r"}}}
  - {repo: other, config: {timeout: 9h}}
`,
			jobs: "presubmits:\n  o/r:\n  - name: j\n    cluster: build\n    decorate: true\n    decoration_config: {grace_period: 20s}" + spec + "\n  - name: k\n    decorate: true" + spec + "\n",
			check: func(t *testing.T, s *Set) {
				j, k := s.Jobs.Presubmits["o/r"][0].DecorationConfig, s.Jobs.Presubmits["o/r"][1].DecorationConfig
				got := []string{j.Timeout.String(), j.GracePeriod.String(), j.GCSConfiguration.Bucket, j.GCSConfiguration.PathStrategy, k.GCSConfiguration.Bucket}
				if diff := cmp.Diff([]string{"2h0m0s", "20s", "s3://r", "explicit", "s3://all"}, got); diff != "" {
					t.Errorf("merged decoration (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "include and exclude together",
			config: `branch-protection:
  orgs:
    o:
      protect: true
      include: ["^release-"]
      exclude: ["^release-0\\."]
`,
			check: func(t *testing.T, s *Set) {
				if s.BranchPolicy("o", "r", "release-1.0") == nil || s.BranchPolicy("o", "r", "release-0.9") != nil {
					t.Error("a branch must match include and not exclude")
				}
			},
		},
		{
			name:   "include that the excludes empty",
			config: "branch-protection:\n  exclude: [\".*\"]\n  orgs:\n    o: {protect: true, include: [main]}\n",
			warnings: []string{
				`config.yaml:4:34: branch-protection.orgs.o: include "main" protects nothing: every branch it matches is excluded by ".*" (a branch must match include and not match exclude)`,
			},
		},
		{
			name: "a key given twice: the last value wins",
			jobs: "presubmits:\n  o/r:\n  - name: j\n    decorate: true\n    decoration_config: {timeout: 1h}\n    decoration_config: {grace_period: 5s}" + spec + "\n",
			check: func(t *testing.T, s *Set) {
				if d := s.Jobs.Presubmits["o/r"][0].DecorationConfig; d.Timeout != nil || d.GracePeriod.String() != "5s" {
					t.Errorf("decoration = %+v, want only the second value's grace_period", d)
				}
			},
			warnings: []string{`jobs/a.yaml:6:5: key "decoration_config" is given twice in this mapping (first on line 5): this later value wins, as in Prow`},
		},
		{
			name:     "a deprecated plugin",
			plugins:  "plugins:\n  o: [transfer-issue]\n",
			warnings: []string{`plugins.yaml:2:7: plugin "transfer-issue" is not supported yet: bowline has no such plugin yet, so enabling it does nothing`, `plugins.yaml:2:7: plugins[o]: plugin "transfer-issue" is deprecated: Prow merged it into "issue-management", which does what it did and more`},
		},
		{
			name:     "a field in capitals",
			jobs:     "periodics:\n- NAME: p\n  interval: 1h\n  spec: {containers: [{image: golang, command: [make]}]}\n",
			warnings: []string{`jobs/a.yaml:2:3: field "NAME" should be spelled "name" (accepted, as Prow does)`},
		},
		{
			name:   "a duration Prow refuses",
			config: "plank:\n  pod_pending_timeout: 15 minutes\n",
			errors: []string{`config.yaml:2:24: invalid duration "15 minutes": expected a duration such as 90s or 2h, or a number of nanoseconds`},
		},
		{
			name:   "a YAML mistake on line 8, reported there",
			jobs:   "presubmits:\n  o/r:\n  - name: j\n    always_run: true\n    spec:\n      containers:\n      - image: golang\n     command: [make]\n",
			errors: []string{`jobs/a.yaml:8:6: invalid YAML: value is not allowed in this context, in "command: [make]"`},
		},
		{
			name:   "a bad pattern, quoted as written",
			jobs:   "presubmits:\n  o/r:\n  - name: j\n    skip_if_only_changed: '^docs/(.*\\.md$'" + spec + "\n",
			errors: []string{"jobs/a.yaml:4:27: presubmit \"j\": skip_if_only_changed: error parsing regexp: missing closing ): `^docs/(.*\\.md$`"},
		},
		{
			name:   "a value Prow refuses, deep in a job",
			jobs:   "presubmits:\n  o/r:\n  - name: j\n    decorate: true\n    decoration_config:\n      gcs_configuration: {bucket: b, path_strategy: sideways}" + spec + "\n",
			errors: []string{`jobs/a.yaml:6:53: presubmit "j": decoration_config: path_strategy must be legacy, single or explicit, not "sideways"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			opts := Options{}
			if tt.config != "" {
				fsys["config.yaml"], opts.ConfigPath = file(tt.config), "config.yaml"
			}
			if tt.jobs != "" {
				fsys["jobs/a.yaml"], opts.JobConfigPath = file(tt.jobs), "jobs"
			}
			if tt.plugins != "" {
				fsys["plugins.yaml"], opts.PluginConfigPath = file(tt.plugins), "plugins.yaml"
			}
			set, err := Load(context.Background(), fsys, opts)
			if diff := cmp.Diff(tt.errors, messages(err)); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			var warnings []string
			for _, w := range set.Warnings {
				warnings = append(warnings, w.String())
			}
			if diff := cmp.Diff(tt.warnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, set)
			}
			// Strict mode refuses exactly the warnings.
			opts.Strict = true
			_, err = Load(context.Background(), fsys, opts)
			var strict []string
			for _, w := range tt.warnings {
				strict = append(strict, w+" (refused in strict mode)")
			}
			if diff := cmp.Diff(strict, messages(err)); diff != "" {
				t.Errorf("strict errors (-want +got):\n%s", diff)
			}
			if err == nil && len(tt.warnings) > 0 || err != nil && !strings.Contains(err.Error(), "strict") {
				t.Errorf("strict load: %v", err)
			}
		})
	}
}
