package jobs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// load decodes a job config, defaults it with d and validates it.
func load(t *testing.T, text string, d Defaults) (*Config, []string) {
	t.Helper()
	var c Config
	var errs yamlpos.Errors
	yamlpos.NewDecoder().Decode("jobs.yaml", []byte(text), &c, &errs)
	if errs.Len() > 0 {
		t.Fatalf("decode: %v", errs.Error())
	}
	c.SetDefaults(d)
	c.ApplyPresets(&errs)
	c.Validate(ValidateOptions{JobQueueCapacities: map[string]int{"q": 1}}, &errs)
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

const spec = `
    spec:
      containers:
      - image: golang`

const pspec = `
  spec:
    containers:
    - image: golang`

var defaultDecoration = &DecorationConfig{
	UtilityImages:    &UtilityImages{CloneRefs: "c", InitUpload: "i", Entrypoint: "e", Sidecar: "s"},
	GCSConfiguration: &GCSConfiguration{Bucket: "b", PathStrategy: PathStrategyExplicit},
	Timeout:          &Duration{Duration: 7200e9},
}

func TestDefaults(t *testing.T) {
	d := Defaults{
		PodNamespace: "test-pods",
		Decoration: func(repo, cluster string) *DecorationConfig {
			if repo == "org/repo" {
				return defaultDecoration
			}
			return nil
		},
	}
	c, errs := load(t, `
presubmits:
  org/repo:
  - name: unit
    decorate: true
    decoration_config:
      timeout: 1h`+spec+`
postsubmits:
  org/repo:
  - name: push
    context: custom`+spec+`
periodics:
- name: nightly
  cron: "0 1 * * *"
  cluster: other
  spec:
    containers:
    - image: golang
`, d)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	p := c.Presubmits["org/repo"][0]
	want := struct {
		Agent, Cluster, Namespace, Context, Trigger, Rerun string
		Timeout                                            string
		Images                                             *UtilityImages
	}{AgentKubernetes, DefaultCluster, "test-pods", "unit", DefaultTriggerFor("unit"), "/test unit", "1h0m0s", defaultDecoration.UtilityImages}
	got := want
	got.Agent, got.Cluster, got.Namespace, got.Context, got.Trigger, got.Rerun = p.Agent, p.Cluster, *p.Namespace, p.Context, p.Trigger, p.RerunCommand
	got.Timeout, got.Images = p.DecorationConfig.Timeout.String(), p.DecorationConfig.UtilityImages
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("presubmit defaults (-want +got):\n%s", diff)
	}
	if defaultDecoration.Timeout.String() != "2h0m0s" {
		t.Error("defaulting changed the default decoration config")
	}
	if ps := c.Postsubmits["org/repo"][0]; ps.Context != "custom" || ps.DecorationConfig != nil {
		t.Errorf("postsubmit: context %q, decoration %v", ps.Context, ps.DecorationConfig)
	}
	if per := c.Periodics[0]; per.Cluster != "other" || per.Repo() != "" {
		t.Errorf("periodic: cluster %q, repo %q", per.Cluster, per.Repo())
	}
}

func TestTriggers(t *testing.T) {
	p := Presubmit{JobBase: JobBase{Name: "pull-unit"}}
	p.Trigger = DefaultTriggerFor(p.Name)
	tests := []struct {
		comment string
		want    bool
	}{
		{"/test pull-unit", true},
		{"/test pull-e2e pull-unit", true},
		{"/test pull-unit pull-e2e", true},
		{"looks good\n/test pull-unit\nthanks", true},
		{"/test pull-unit-extra", false},
		{"/test pull-unit2", false},
		{"please /test pull-unit", false},
		{"/retest", false},
	}
	for _, tt := range tests {
		if got := p.TriggerMatches(tt.comment); got != tt.want {
			t.Errorf("TriggerMatches(%q) = %v, want %v", tt.comment, got, tt.want)
		}
	}
}

func TestBrancher(t *testing.T) {
	tests := []struct {
		name   string
		b      Brancher
		branch string
		want   bool
	}{
		// Prow joins each list with "|" into one unanchored expression
		// (config.Brancher.ShouldRun): a pattern matches anywhere.
		{"no filter", Brancher{}, "main", true},
		{"listed", Brancher{Branches: []string{"main", `release-\d+`}}, "release-1", true},
		{"unanchored, as Prow: main also selects main-2", Brancher{Branches: []string{"main"}}, "main-2", true},
		{"unanchored, as Prow: main also selects not-main", Brancher{Branches: []string{"main"}}, "not-main", true},
		{"anchored by the user", Brancher{Branches: []string{"^main$"}}, "main-2", false},
		{"Kubernetes' ^release-* selects release branches", Brancher{Branches: []string{"^main$", "^release-*"}}, "release-1.34", true},
		{"Kubernetes' ^release-* leaves other branches", Brancher{Branches: []string{"^main$", "^release-*"}}, "feature-x", false},
		{"Kubernetes' ^dependabot skips dependabot branches", Brancher{SkipBranches: []string{"^dependabot"}}, "dependabot/go_modules/x", false},
		{"Kubernetes' ^dependabot keeps main", Brancher{SkipBranches: []string{"^dependabot"}}, "main", true},
		{"skip wins", Brancher{Branches: []string{".*"}, SkipBranches: []string{"gh-pages"}}, "gh-pages", false},
		{"skip only", Brancher{SkipBranches: []string{`release-\d+\.\d+`}}, "release-1.34", false},
		{"flags in one pattern reach the next, as in Prow's joined expression", Brancher{Branches: []string{"(?i)x", "MAIN"}}, "main", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.ShouldRun(tt.branch); got != tt.want {
				t.Errorf("ShouldRun(%q) = %v, want %v", tt.branch, got, tt.want)
			}
		})
	}
}

func TestRunsAgainstChanges(t *testing.T) {
	tests := []struct {
		name            string
		m               RegexpChangeMatcher
		files           []string
		run, determined bool
	}{
		{"no matcher", RegexpChangeMatcher{}, []string{"a.go"}, false, false},
		{"run_if_changed hit", RegexpChangeMatcher{RunIfChanged: `^docs/`}, []string{"main.go", "docs/x.md"}, true, true},
		{"run_if_changed miss", RegexpChangeMatcher{RunIfChanged: `^docs/`}, []string{"main.go"}, false, true},
		{"skip_if_only_changed all match", RegexpChangeMatcher{SkipIfOnlyChanged: `\.md$`}, []string{"a.md", "b.md"}, false, true},
		{"skip_if_only_changed other file", RegexpChangeMatcher{SkipIfOnlyChanged: `\.md$`}, []string{"a.md", "b.go"}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, det := tt.m.RunsAgainstChanges(tt.files)
			if run != tt.run || det != tt.determined {
				t.Errorf("RunsAgainstChanges = %v, %v; want %v, %v", run, det, tt.run, tt.determined)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "valid",
			yaml: "presubmits:\n  org/repo:\n  - name: a\n    always_run: true" + spec + "\n",
		},
		{
			name: "job name rules and exclusive fields",
			yaml: `presubmits:
  org/repo:
  - name: "bad name"
    always_run: true
    run_if_changed: x
    skip_if_only_changed: y` + spec + `
  - name: b
    trigger: "/b"` + spec + `
  - name: c
    trigger: "(?m)^/c$"
    rerun_command: "/see"` + spec + `
  - name: d
    run_if_changed: "("
    branches: ["[z"]
    max_concurrency: -1
    job_queue_name: nope` + spec + `
`,
			want: []string{
				`jobs.yaml:3:11: presubmit "bad name": name must match ^[A-Za-z0-9-._]+$`,
				`jobs.yaml:4:17: presubmit "bad name": always_run cannot be combined with run_if_changed or skip_if_only_changed`,
				`jobs.yaml:6:27: presubmit "bad name": run_if_changed and skip_if_only_changed are mutually exclusive`,
				`jobs.yaml:11:14: presubmit "b": trigger and rerun_command must be set together`,
				`jobs.yaml:17:20: presubmit "c": rerun_command "/see" does not match trigger "(?m)^/c$"`,
				"jobs.yaml:22:21: presubmit \"d\": run_if_changed: error parsing regexp: missing closing ): `(`",
				"jobs.yaml:23:16: presubmit \"d\": branches: error parsing regexp: missing closing ]: `[z`",
				`jobs.yaml:24:22: presubmit "d": max_concurrency must not be negative`,
				`jobs.yaml:25:21: presubmit "d": job_queue_name "nope" is not in plank.job_queue_capacities`,
			},
		},
		{
			name: "duplicate names on the same branch, not on different ones",
			yaml: `presubmits:
  org/repo:
  - name: a
    branches: [main]` + spec + `
  - name: a
    branches: [release-1]` + spec + `
  - name: a` + spec + `
periodics:
- name: p
  interval: 1h` + pspec + `
- name: p
  cron: "0 * * * *"` + pspec + `
`,
			want: []string{
				`jobs.yaml:13:11: presubmit "a": duplicate job name for org/repo (also at jobs.yaml:3:5)`,
				`jobs.yaml:23:9: periodic "p": duplicate job name (also at jobs.yaml:18:3)`,
			},
		},
		{
			name: "periodic schedules",
			yaml: `periodics:
- name: none` + pspec + `
- name: two
  cron: "@daily"
  interval: 1h` + pspec + `
- name: badcron
  cron: "61 * * * *"` + pspec + `
- name: badinterval
  minimum_interval: soon` + pspec + `
`,
			want: []string{
				`jobs.yaml:2:3: periodic "none": exactly one of cron, interval and minimum_interval must be set`,
				`jobs.yaml:8:13: periodic "two": exactly one of cron, interval and minimum_interval must be set`,
				`jobs.yaml:13:9: periodic "badcron": invalid cron "61 * * * *": end of range (61) above maximum (59): 61`,
				`jobs.yaml:18:21: periodic "badinterval": minimum_interval "soon" is not a duration`,
			},
		},
		{
			name: "pod spec and decoration",
			yaml: `postsubmits:
  org/repo:
  - name: nospec
  - name: env
    decorate: true
    spec:
      containers:
      - image: a
        env: [{name: PULL_BASE_SHA, value: x}]
      - image: b
periodics:
- name: env-ok
  interval: 1h
  spec:
    containers:
    - image: a
      env: [{name: PULL_BASE_SHA, value: x}]
`,
			want: []string{
				`jobs.yaml:3:5: postsubmit "nospec": a kubernetes job needs a spec`,
				`jobs.yaml:5:15: postsubmit "env": decorated, but no decoration_config here or in plank's defaults`,
				`jobs.yaml:8:9: postsubmit "env": spec.containers[0] needs a name when there are several`,
				`jobs.yaml:9:22: postsubmit "env": spec.containers[0]: env PULL_BASE_SHA is set by bowline`,
				`jobs.yaml:10:9: postsubmit "env": spec.containers[1] needs a name when there are several`,
			},
		},
		{
			name: "preset conflicts",
			yaml: `presets:
- labels: {preset-x: "true"}
  env: [{name: X, value: "1"}]
presubmits:
  org/repo:
  - name: a
    labels: {preset-x: "true"}
    spec:
      containers:
      - image: a
        env: [{name: X, value: "2"}]
`,
			want: []string{`jobs.yaml:7:13: presubmit "a": preset at jobs.yaml:2:3 (labels map[preset-x:true]): env X is already set in container ""`},
		},
		{
			name: "what Prow accepts: six-field crons, and values that are almost certainly mistakes",
			yaml: `periodics:
- name: seconds
  cron: "30 0 * * * *"` + pspec + `
- name: zero
  interval: 0s` + pspec + `
  retry: {attempts: -1, interval: 1m}
- name: elsewhere
  interval: 1h
  agent: knative-build
  reporter_config:
    slack: {job_states_to_report: [done]}
    dingtalk: {token: t, job_states_to_report: [failure, lost]}
  extra_refs: [{org: o}]
`,
			want: []string{
				`warning out-of-range: jobs.yaml:8:13: periodic "zero": interval is 0s: it should be positive`,
				`warning out-of-range: jobs.yaml:12:21: periodic "zero": retry.attempts is -1: it should not be negative (0 retries nothing)`,
				`warning unsupported-agent: jobs.yaml:15:10: periodic "elsewhere": unknown agent "knative-build" (kubernetes, jenkins or tekton-pipeline): nothing in bowline runs it, so its runs end at once in state error`,
				`warning unknown-value: jobs.yaml:17:36: periodic "elsewhere": reporter_config.slack: unknown job state "done": no run will match it`,
				`warning unknown-value: jobs.yaml:18:58: periodic "elsewhere": reporter_config.dingtalk: unknown job state "lost": no run will match it`,
				`warning missing-value: jobs.yaml:19:16: periodic "elsewhere": extra_refs[0]: without org and repo there is nothing to clone`,
			},
		},
		{
			name: "not an org/repo",
			yaml: "presubmits:\n  justorg:\n  - name: a" + spec + "\n",
			want: []string{`jobs.yaml:3:5: "justorg" is not an org/repo`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := load(t, tt.yaml, Defaults{PodNamespace: "default"})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
				for _, g := range got {
					t.Logf("GOT %q", g)
				}
			}
		})
	}
}

func TestApplyPresets(t *testing.T) {
	c, errs := load(t, `presets:
- labels: {preset-x: "true"}
  env: [{name: X, value: "1"}]
  volumes: [{name: v, emptyDir: {}}]
  volumeMounts: [{name: v, mountPath: /v}]
- env: [{name: ALL, value: "1"}]
- labels: {other: "true"}
  env: [{name: NO, value: "1"}]
presubmits:
  org/repo:
  - name: a
    labels: {preset-x: "true"}`+spec+`
`, Defaults{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ps := c.Presubmits["org/repo"][0].Spec
	var names []string
	for _, e := range ps.Containers[0].Env {
		names = append(names, e.Name)
	}
	if diff := cmp.Diff([]string{"X", "ALL"}, names); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]corev1.VolumeMount{{Name: "v", MountPath: "/v"}}, ps.Containers[0].VolumeMounts); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}
	if len(ps.Volumes) != 1 || ps.Volumes[0].EmptyDir == nil {
		t.Errorf("volumes = %+v", ps.Volumes)
	}
}

func TestApplyDefault(t *testing.T) {
	job := &DecorationConfig{GCSConfiguration: &GCSConfiguration{PathPrefix: "p"}, SSHKeySecrets: []string{"k"}}
	got := job.ApplyDefault(defaultDecoration)
	if got.GCSConfiguration.Bucket != "b" || got.GCSConfiguration.PathPrefix != "p" || got.Timeout.String() != "2h0m0s" {
		t.Errorf("merged = %+v / %+v", got, got.GCSConfiguration)
	}
	if defaultDecoration.GCSConfiguration.PathPrefix != "" || job.GCSConfiguration.Bucket != "" {
		t.Error("ApplyDefault changed its inputs")
	}
	if !strings.Contains(strings.Join(got.SSHKeySecrets, ","), "k") {
		t.Errorf("ssh secrets = %v", got.SSHKeySecrets)
	}
	if (*DecorationConfig)(nil).ApplyDefault(nil) != nil {
		t.Error("nil.ApplyDefault(nil) is not nil")
	}
}

func TestDecorationChecks(t *testing.T) {
	tests := []struct {
		name string
		dc   string
		want []string
	}{
		{name: "bowline's own images", dc: "{gcs_configuration: {bucket: file://artifacts, path_strategy: explicit}}"},
		{
			name: "some images",
			dc:   "{utility_images: {clonerefs: c}, gcs_configuration: {bucket: b, path_strategy: explicit}}",
			want: []string{
				`jobs.yaml:5:41: presubmit "a": decoration_config: utility_images needs clonerefs, initupload, entrypoint and sidecar`,
				"warning utility-images: jobs.yaml:5:41: utility_images: Prow's pod utility images are not run; bowline runs clonerefs, initupload, entrypoint and sidecar from its own image (the operator's --utility-image)",
			},
		},
		{
			name: "upload location",
			dc:   "{gcs_configuration: {path_strategy: legacy}}",
			want: []string{
				`jobs.yaml:5:60: presubmit "a": decoration_config: path_strategy legacy needs default_org and default_repo`,
				`warning missing-value: jobs.yaml:5:44: presubmit "a": decoration_config: gcs_configuration has no bucket or local_output_dir: logs and artifacts have nowhere to go`,
			},
		},
		{
			name: "a negative timeout, in nanoseconds as Prow allows",
			dc:   "{timeout: -7200000000000}",
			want: []string{`warning out-of-range: jobs.yaml:5:34: presubmit "a": decoration_config: timeout is -2h0m0s: it should not be negative`},
		},
		{
			name: "no upload configuration: the operator's default location",
			dc:   "{timeout: 1h}",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := load(t, "presubmits:\n  org/repo:\n  - name: a\n    decorate: true\n    decoration_config: "+tt.dc+spec+"\n", Defaults{})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
