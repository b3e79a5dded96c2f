package configset

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

const podSpec = `
    spec:
      containers:
      - image: golang`

const periodicSpec = `
  spec:
    containers:
    - image: golang`

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func messages(err error) []string {
	var errs *Errors
	if !errors.As(err, &errs) {
		return nil
	}
	var out []string
	for _, e := range errs.List {
		out = append(out, e.String())
	}
	return out
}

func TestJobDiscovery(t *testing.T) {
	fsys := fstest.MapFS{
		"prow/config.yaml":               file("presubmits:\n  org/repo:\n  - name: from-config\n    always_run: true" + podSpec + "\n"),
		"jobs/a.yaml":                    file("presubmits:\n  org/repo:\n  - name: a" + podSpec + "\n"),
		"jobs/sub/b.yml":                 file("postsubmits:\n  org/other:\n  - name: b" + podSpec + "\n"),
		"jobs/sub/deeper/c.yaml":         file("periodics:\n- name: c\n  interval: 1h\n  spec:\n    containers:\n    - image: x\n"),
		"jobs/sub/OWNERS":                file("approvers: [x]\n"),
		"jobs/README.md":                 file("# not yaml: at all: ["),
		"jobs/ignored/.prowignore":       file("# comment\nskip-*.yaml\n"),
		"jobs/ignored/skip-me.yaml":      file("this is: [not valid"),
		"jobs/ignored/kept.yaml":         file("periodics:\n- name: kept\n  cron: '@daily'\n  spec:\n    containers:\n    - image: x\n"),
		"jobs/.prowignore":               file("/sub/deeper/dropped/\n"),
		"jobs/sub/deeper/dropped/d.yaml": file("garbage: ["),
		"jobs/..2026_01_01/a.yaml":       file("garbage: ["),
		"jobs/..data":                    file("not a job file"),
	}
	set, err := Load(context.Background(), fsys, Options{ConfigPath: "prow/config.yaml", JobConfigPath: "jobs"})
	if err != nil {
		t.Fatal(err)
	}
	got := set.Summary()
	want := Summary{Presubmits: 2, Postsubmits: 1, Periodics: 2, Repositories: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summary (-want +got):\n%s", diff)
	}
	wantFiles := []string{
		"jobs/.prowignore", "jobs/a.yaml", "jobs/ignored/.prowignore", "jobs/ignored/kept.yaml",
		"jobs/sub/b.yml", "jobs/sub/deeper/c.yaml", "prow/config.yaml",
	}
	if diff := cmp.Diff(wantFiles, set.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	if ns := *set.Jobs.Presubmits["org/repo"][0].Namespace; ns != "default" {
		t.Errorf("namespace = %q, want the pod_namespace default", ns)
	}
}

func TestErrorsAcrossFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"config.yaml":         file("plank:\n  pod_pending_timeout: 1x\n"),
		"jobs/z.yaml":         file("presubmits:\n  org/repo:\n  - name: a\n    alwyas_run: true" + podSpec + "\n"),
		"jobs/a.yaml":         file("periodics:\n- name: p\n  cron: 'nope'" + periodicSpec + "\n"),
		"jobs/dup/z.yaml":     file("periodics: []\n"),
		"plugins.yaml":        file("plugins:\n  org: [lgtm, nonesuch]\n"),
		"labels.yaml":         file("default:\n  labels:\n  - {name: x, color: 000000}\n  - {name: X, color: 000000}\n"),
		"orgs/myorg/org.yaml": file("members: [a]\nadmins: [a]\n"),
	}
	_, err := Load(context.Background(), fsys, Options{
		ConfigPath: "config.yaml", JobConfigPath: "jobs", PluginConfigPath: "plugins.yaml",
		LabelsPath: "labels.yaml", OrgConfigPaths: []string{"orgs"}, OwnersDir: "missing",
	})
	want := []string{
		`config.yaml:2:24: invalid duration "1x": expected a duration such as 90s or 2h, or a number of nanoseconds`,
		`jobs/a.yaml:3:9: periodic "p": invalid cron "nope": expected 5 to 6 fields, found 1: [nope]`,
		`jobs/z.yaml: job config file name z.yaml is also used by jobs/dup/z.yaml; names must be unique`,
		`labels.yaml:4:12: default: label "X" is already defined (default at labels.yaml:3:5)`,
		`missing: open: file does not exist`,
		`orgs/myorg/org.yaml:1:11: org myorg: a is listed in admins and members`,
		`plugins.yaml:2:15: plugins[org]: unknown plugin "nonesuch"`,
	}
	if diff := cmp.Diff(want, messages(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	var errs *Errors
	if !errors.As(err, &errs) || len(errs.First(2)) != 2 {
		t.Errorf("errors.As or First failed on %T", err)
	}
}

func TestTrusted(t *testing.T) {
	fsys := fstest.MapFS{
		"jobs/a.yaml": file("periodics:\n- name: p\n  cron: 'nope'" + periodicSpec + "\n"),
	}
	if _, err := Load(context.Background(), fsys, Options{JobConfigPath: "jobs"}); err == nil {
		t.Fatal("strict load accepted an invalid cron")
	}
	set, err := Load(context.Background(), fsys, Options{JobConfigPath: "jobs", Trusted: true})
	if err != nil {
		t.Fatalf("trusted load: %v", err)
	}
	if set.Jobs.Periodics[0].Cluster != "default" {
		t.Error("trusted load did not apply defaults")
	}
	fsys["jobs/a.yaml"] = file("periodics:\n- name: p\n  crn: x\n")
	if _, err := Load(context.Background(), fsys, Options{JobConfigPath: "jobs", Trusted: true}); err == nil {
		t.Fatal("trusted load accepted an unknown field")
	}
}

func TestSupplemental(t *testing.T) {
	fsys := fstest.MapFS{
		"config.yaml": file(`branch-protection:
  orgs:
    org:
      protect: true
tide:
  queries: [{orgs: [org], labels: [lgtm]}]
`),
		"plugins.yaml":                       file("plugins:\n  org: [lgtm]\n"),
		"supp/team_prowconfig.yaml":          file("branch-protection:\n  orgs:\n    org:\n      repos:\n        r: {protect: false}\n    new: {protect: true}\ntide:\n  queries: [{repos: [new/x]}]\n"),
		"supp/ignored.yaml":                  file("not: [read"),
		"supp/bad_prowconfig.yaml":           file("sinker: {max_pod_age: 1h}\n"),
		"supp/period_prowconfig.yaml":        file("tide:\n  sync_period: 5m\n"),
		"psupp/team_pluginconfig.yaml":       file("plugins:\n  new: [hold]\nlabel:\n  restricted_labels:\n    new: [{label: tide/merge-blocker, allowed_teams: [admins]}]\nbugzilla:\n  orgs:\n    new: {default: {'*': {is_open: true}}}\n"),
		"psupp/clash_pluginconfig.yaml":      file("plugins:\n  org: [approve]\n"),
		"psupp/disallowed_pluginconfig.yaml": file("size: {s: 1, m: 2, l: 3, xl: 4, xxl: 5}\n"),
	}
	_, err := Load(context.Background(), fsys, Options{
		ConfigPath: "config.yaml", PluginConfigPath: "plugins.yaml",
		SupplementalProwConfigDirs: []string{"supp"}, SupplementalPluginConfigDirs: []string{"psupp"},
	})
	want := []string{
		`psupp/clash_pluginconfig.yaml:2:8: plugins[org] is already set`,
		`psupp/disallowed_pluginconfig.yaml: a supplemental plugin config may only set plugins, external_plugins, approve, lgtm, triggers, welcome, bugzilla and label.restricted_labels`,
		`supp/bad_prowconfig.yaml: a supplemental config may only set branch-protection, tide and slack_reporter_configs`,
		`supp/period_prowconfig.yaml:2:3: tide: a supplemental config may only set queries, merge_method, merge_commit_template and context_options.orgs`,
	}
	if diff := cmp.Diff(want, messages(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}

	delete(fsys, "supp/bad_prowconfig.yaml")
	delete(fsys, "supp/period_prowconfig.yaml")
	delete(fsys, "psupp/clash_pluginconfig.yaml")
	delete(fsys, "psupp/disallowed_pluginconfig.yaml")
	set, err := Load(context.Background(), fsys, Options{
		ConfigPath: "config.yaml", PluginConfigPath: "plugins.yaml",
		SupplementalProwConfigDirs: []string{"supp"}, SupplementalPluginConfigDirs: []string{"psupp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := set.Config.BranchProtection.Orgs["org"].Repos["r"]; !ok {
		t.Error("repo r from the supplemental config is missing")
	}
	if _, ok := set.Config.BranchProtection.Orgs["new"]; !ok {
		t.Error("org new from the supplemental config is missing")
	}
	if len(set.Config.Tide.Queries) != 2 {
		t.Errorf("tide queries = %d, want 2", len(set.Config.Tide.Queries))
	}
	if diff := cmp.Diff([]string{"hold"}, set.Plugins.EnabledFor("new", "x")); diff != "" {
		t.Errorf("plugins of new/x (-want +got):\n%s", diff)
	}
	if rl := set.Plugins.Label.RestrictedLabels["new"]; len(rl) != 1 || rl[0].Label != "tide/merge-blocker" {
		t.Errorf("restricted labels of new = %+v, want the supplemental file's", rl)
	}
	if o := set.Plugins.Bugzilla.Orgs["new"].Default["*"]; o.IsOpen == nil || !*o.IsOpen {
		t.Errorf("bugzilla of new = %+v, want the supplemental file's", o)
	}
}

func TestOrgsAndOwners(t *testing.T) {
	fsys := fstest.MapFS{
		"config/k/org.yaml":        file("admins: [a]\nteams:\n  root: {}\n"),
		"config/k/sig/teams.yaml":  file("teams:\n  sig: {members: [b]}\n"),
		"config/k/sig/OWNERS":      file("approvers: [b]\n"),
		"config/OWNERS":            file("approvers: [lead]\n"),
		"config/OWNERS_ALIASES":    file("aliases:\n  lead: [a]\n"),
		"config/restrictions.yaml": file("restrictions: []\n"),
		"config/.git/OWNERS":       file("not: [yaml"),
	}
	set, err := Load(context.Background(), fsys, Options{OrgConfigPaths: []string{"config"}, OwnersDir: "config"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(set.Orgs.Orgs["k"].Teams); n != 2 {
		t.Errorf("teams of k = %d, want 2", n)
	}
	if diff := cmp.Diff([]string{"a", "b"}, set.Owners.ApproversOf("k/sig/x.yaml")); diff != "" {
		t.Errorf("approvers (-want +got):\n%s", diff)
	}
	if s := set.Summary(); s.Orgs != 1 || s.Teams != 2 || s.OwnersFiles != 2 {
		t.Errorf("Summary = %+v", s)
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fsys := fstest.MapFS{"jobs/a.yaml": file("periodics: []\n")}
	if _, err := Load(ctx, fsys, Options{JobConfigPath: "jobs"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Load = %v, want context.Canceled", err)
	}
}

func TestLoadDirPaths(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadDir(context.Background(), dir, Options{ConfigPath: "nope.yaml"}); err == nil {
		t.Fatal("a missing config.yaml was accepted")
	} else if diff := cmp.Diff([]string{"nope.yaml: open: no such file or directory"}, messages(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestBranchPolicy(t *testing.T) {
	fsys := fstest.MapFS{
		"config.yaml": file(`branch-protection:
  orgs:
    org:
      protect: true
      required_status_checks: {contexts: [cla]}
      repos:
        repo:
          require_manually_triggered_jobs: true
presubmits:
  org/repo:
  - {name: unit, always_run: true` + inlineSpec + `}
  - {name: manual` + inlineSpec + `}
  - {name: docs, run_if_changed: '^docs/'` + inlineSpec + `}
  - {name: opt, always_run: true, optional: true` + inlineSpec + `}
  - {name: silent, always_run: true, skip_report: true` + inlineSpec + `}
  - {name: release-only, always_run: true, branches: [release]` + inlineSpec + `}
  org/other:
  - {name: lint, always_run: true, context: ci/lint` + inlineSpec + `}
`),
	}
	set, err := Load(context.Background(), fsys, Options{ConfigPath: "config.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		org, repo, branch string
		want              []string
	}{
		{"org", "repo", "main", []string{"cla", "manual", "unit"}},
		{"org", "repo", "release", []string{"cla", "manual", "release-only", "unit"}},
		{"org", "other", "main", []string{"ci/lint", "cla"}},
	}
	for _, tt := range tests {
		p := set.BranchPolicy(tt.org, tt.repo, tt.branch)
		if p == nil || p.RequiredStatusChecks == nil {
			t.Fatalf("%s/%s@%s: no policy", tt.org, tt.repo, tt.branch)
		}
		if diff := cmp.Diff(tt.want, p.RequiredStatusChecks.Contexts); diff != "" {
			t.Errorf("%s/%s@%s contexts (-want +got):\n%s", tt.org, tt.repo, tt.branch, diff)
		}
	}
	if p := set.BranchPolicy("elsewhere", "x", "main"); p != nil {
		t.Errorf("unconfigured org has a policy: %+v", p)
	}
}

const inlineSpec = `, spec: {containers: [{image: x}]}`

func TestDeployFile(t *testing.T) {
	ok := "image: ghcr.io/bowline-ci/bowline:v1\nroles:\n  hook: {replicas: 3}\n"
	tests := []struct {
		name   string
		fsys   fstest.MapFS
		dir    string
		roles  []string
		errors []string
	}{
		{
			name:  "the file in its directory, a README beside it",
			fsys:  fstest.MapFS{"config/bowline/deployment.yaml": file(ok), "config/bowline/README.md": file("# bowline: [")},
			dir:   "config/bowline",
			roles: []string{"hook"},
		},
		{
			name:  "the .yml spelling",
			fsys:  fstest.MapFS{"config/bowline/deployment.yml": file(ok)},
			dir:   "config/bowline",
			roles: []string{"hook"},
		},
		{
			name:  "the file named directly",
			fsys:  fstest.MapFS{"elsewhere/bowline.yaml": file(ok)},
			dir:   "elsewhere/bowline.yaml",
			roles: []string{"hook"},
		},
		{
			name: "an empty directory",
			fsys: fstest.MapFS{"config/bowline/README.md": file("nothing")},
			dir:  "config/bowline",
		},
		{
			name: "a misnamed file is not taken for settings",
			fsys: fstest.MapFS{"config/bowline/values.yaml": file("replicas: 2\n"), "config/bowline/sub/deployment.yaml": file(ok)},
			dir:  "config/bowline",
			errors: []string{
				"config/bowline/sub/deployment.yaml: only config/bowline/deployment.yaml is read here: bowline's deployment is one file (docs/deploy.md); rename this one or move it out of config/bowline",
				"config/bowline/values.yaml: only config/bowline/deployment.yaml is read here: bowline's deployment is one file (docs/deploy.md); rename this one or move it out of config/bowline",
			},
		},
		{
			name:   "both spellings",
			fsys:   fstest.MapFS{"config/bowline/deployment.yaml": file(ok), "config/bowline/deployment.yml": file(ok)},
			dir:    "config/bowline",
			errors: []string{"config/bowline/deployment.yml: deployment.yml is also given as config/bowline/deployment.yaml: keep one"},
		},
		{
			name:   "an invalid file",
			fsys:   fstest.MapFS{"config/bowline/deployment.yaml": file("image: bowline\nroles:\n  hook: {}\n")},
			dir:    "config/bowline",
			errors: []string{`config/bowline/deployment.yaml:1:8: image: "bowline" names no tag or digest: name the version to run (bowline:v1.2.3), not whatever :latest is at the time`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Load(context.Background(), tt.fsys, Options{DeployDir: tt.dir})
			if diff := cmp.Diff(tt.errors, messages(err)); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			var roles []string
			if set.Deploy != nil {
				roles = set.Deploy.Names()
			}
			if diff := cmp.Diff(tt.roles, roles); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
			if set.Deploy != nil && len(set.Files) != 1 {
				t.Errorf("Files = %v, want the deployment file alone (published with the snapshot)", set.Files)
			}
		})
	}
}
