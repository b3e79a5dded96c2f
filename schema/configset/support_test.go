package configset

import (
	"context"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/plugins"
)

// TestRegistryResolves: every entry of the list of what is not supported
// yet names a field that exists, once.
func TestRegistryResolves(t *testing.T) {
	r, err := supportRegistry()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.fields) != len(notSupported) {
		t.Errorf("%d entries name %d fields: an entry is listed twice", len(notSupported), len(r.fields))
	}
	for _, name := range unsupportedPlugins {
		if !slices.Contains(plugins.Known, name) {
			t.Errorf("unsupportedPlugins: %q is not a plugin name bowline knows", name)
		}
	}
}

// TestNotSupportedWarnings: a field, plugin or input that nothing
// acts on yet is one warning, at its first use, with code not-supported;
// a field set to its zero value (deck: {}) is not.
func TestNotSupportedWarnings(t *testing.T) {
	fsys := fstest.MapFS{
		"config.yaml": file("tide:\n  sync_period: 1m\n  gerrit: {queries: [{org: o}]}\ndeck: {}\nlog_level: debug\n"),
		"jobs/b.yaml": file(`periodics:
- name: b
  interval: 1h
  retry: {attempts: 2}
  reporter_config: {slack: {channel: c}}` + periodicSpec + `
`),
		"jobs/a.yaml": file(`presubmits:
  org/repo:
  - name: a
    prowjob_defaults:
      tenant_id: x` + podSpec + `
`),
		"plugins.yaml":        file("plugins:\n  org: [trigger, cat]\n  other: [cat]\ncat:\n  key_path: /etc/cat\n"),
		"labels.yaml":         file("default:\n  labels: [{name: x, color: '000000'}]\n"),
		"orgs/myorg/org.yaml": file("members: [a]\n"),
		"owners/OWNERS":       file("approvers: [a]\n"),
	}
	set, err := Load(context.Background(), fsys, Options{
		ConfigPath: "config.yaml", JobConfigPath: "jobs", PluginConfigPath: "plugins.yaml",
		LabelsPath: "labels.yaml", OrgConfigPaths: []string{"orgs"}, OwnersDir: "owners",
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range set.Warnings {
		if w.Code != CodeNotSupported {
			t.Errorf("unexpected warning %s", w)
		}
		got = append(got, w.String())
	}
	want := []string{
		`config.yaml:3:3: tide.gerrit is not supported yet: nothing in bowline acts on it; it needs merging on Gerrit`,
		`config.yaml:5:1: log_level is not supported yet: nothing in bowline acts on it; it needs the operator's log level from the configuration; use the operator's flags`,
		`jobs/a.yaml:4:5: prowjob_defaults is not supported yet: nothing in bowline acts on it; it needs ResultStore uploads and tenant-scoped job APIs`,
		`plugins.yaml:2:18: plugin "cat" is not supported yet: bowline has no such plugin yet, so enabling it does nothing`,
		`plugins.yaml:4:1: cat is not supported yet: nothing in bowline acts on it; it needs the cat plugin`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}

	_, err = Load(context.Background(), fsys, Options{ConfigPath: "config.yaml", Strict: true})
	if diff := cmp.Diff([]string{
		`config.yaml:3:3: tide.gerrit is not supported yet: nothing in bowline acts on it; it needs merging on Gerrit (refused in strict mode)`,
		`config.yaml:5:1: log_level is not supported yet: nothing in bowline acts on it; it needs the operator's log level from the configuration; use the operator's flags (refused in strict mode)`,
	}, messages(err)); diff != "" {
		t.Errorf("strict errors (-want +got):\n%s", diff)
	}
}
