package configset

import (
	"context"
	"errors"
	"os"
	"testing"
	"testing/fstest"
)

// fuzzLoad loads one file given as data and checks that the result is a
// Set or a list of positioned errors, never a panic or another error.
func fuzzLoad(t *testing.T, name string, data []byte, opts Options) {
	fsys := fstest.MapFS{name: &fstest.MapFile{Data: data}}
	set, err := Load(context.Background(), fsys, opts)
	if err != nil {
		var errs *Errors
		if !errors.As(err, &errs) || errs.Len() == 0 {
			t.Fatalf("Load returned %T %v, want *Errors", err, err)
		}
		for _, e := range errs.List {
			if e.File != name || e.Line < 0 || e.Column < 0 || e.Message == "" {
				t.Fatalf("malformed error %+v", e)
			}
		}
		return
	}
	_ = set.Summary()
}

// seed adds a file of the Kubernetes test data to a fuzz corpus, when the
// test data is there.
func seed(f *testing.F, path string) {
	if data, err := os.ReadFile(testdata + "/" + path); err == nil {
		f.Add(data)
	}
}

func FuzzLoadJobConfig(f *testing.F) {
	f.Add([]byte("presubmits:\n  org/repo:\n  - name: a\n    always_run: true" + podSpec + "\n"))
	f.Add([]byte("periodics:\n- name: p\n  cron: '0 * * * *'\n  decorate: true\n  extra_refs: [{org: o, repo: r}]" + periodicSpec + "\n"))
	f.Add([]byte("postsubmits:\n  org/repo:\n  - name: &n a\n    branches: [main]\n    run_if_changed: x\n    spec: {containers: [{image: x, resources: {requests: {cpu: 1}}}]}\n"))
	f.Add([]byte("presets:\n- labels: {a: b}\n  env: [{name: X}]\n  volumes: [{name: v, emptyDir: {}}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	seed(f, "kubernetes-prow/jobs/kubernetes/sig-testing/kubernetes-kind.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoad(t, "jobs/job.yaml", data, Options{JobConfigPath: "jobs"})
	})
}

func FuzzLoadConfig(f *testing.F) {
	f.Add([]byte("plank:\n  default_decoration_config_entries:\n  - config: {timeout: 2h}\ntide:\n  queries: [{repos: [a/b]}]\n"))
	f.Add([]byte("branch-protection:\n  orgs:\n    o:\n      repos:\n        r:\n          branches:\n            main: {protect: true}\n"))
	f.Add([]byte("deck:\n  spyglass:\n    lenses: [{lens: {name: x, config: {a: 1}}, required_files: ['(']}]\n"))
	seed(f, "kubernetes-prow/config.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoad(t, "config.yaml", data, Options{ConfigPath: "config.yaml"})
	})
}

func FuzzLoadPlugins(f *testing.F) {
	f.Add([]byte("plugins:\n  org: [lgtm]\n  org/repo:\n    plugins: [hold]\n"))
	f.Add([]byte("external_plugins:\n  org: [{name: x, events: [push]}]\nsize: {s: 1, m: 2, l: 3, xl: 4, xxl: 5}\n"))
	seed(f, "kubernetes-prow/plugins.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoad(t, "plugins.yaml", data, Options{PluginConfigPath: "plugins.yaml"})
	})
}

func FuzzLoadOrgs(f *testing.F) {
	f.Add([]byte("orgs:\n  o:\n    admins: [a]\n    teams:\n      t: {members: [b], teams: {c: {}}}\n"))
	f.Add([]byte("orgs:\n  o:\n    repos:\n      r: {visibility: private, collaborators: {x: admin}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoad(t, "orgs.yaml", data, Options{OrgConfigPaths: []string{"orgs.yaml"}})
	})
}

func FuzzLoadLabels(f *testing.F) {
	f.Add([]byte("default:\n  labels:\n  - {name: a, color: 000000, previously: [{name: b}]}\n"))
	seed(f, "kubernetes-labels.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzLoad(t, "labels.yaml", data, Options{LabelsPath: "labels.yaml"})
	})
}
