package configset

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
)

// listBomb defines anchors a0…a8, each a list of ten of the one before:
// *a8 stands for 10^9 scalars, in a few hundred bytes.
func listBomb(indent string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%sa0: &a0 [x, x, x, x, x, x, x, x, x, x]\n", indent)
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&b, "%sa%d: &a%d [%s]\n", indent, i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	return b.String()
}

// mergeBomb defines anchors m0…m8, each a mapping that merges ten of the
// one before, and merges *m8 into the document's own mapping: resolving
// its keys visits 10^8 mappings.
func mergeBomb() string {
	var b strings.Builder
	b.WriteString("m0: &m0 {x: 1}\n")
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&b, "m%d: &m%d {<<: [%s]}\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*m%d, ", i-1), 10), ", "))
	}
	b.WriteString("<<: *m8\n")
	return b.String()
}

// TestAliasBombs: every file the loader reads is refused, within bounded
// memory, when aliases would expand it past the limit — including
// plugins.yaml entries, which decode in more than one shape, and the
// supplemental files merged into config.yaml and plugins.yaml.
func TestAliasBombs(t *testing.T) {
	tests := []struct {
		name, file string
		opts       Options
		text       string
	}{
		{"config.yaml, a free-form field", "config.yaml", Options{ConfigPath: "config.yaml"}, listBomb("") + "prow_ignored: *a8\n"},
		{"config.yaml, merge keys", "config.yaml", Options{ConfigPath: "config.yaml"}, mergeBomb()},
		{"job config, a Tekton spec", "jobs/a.yaml", Options{JobConfigPath: "jobs"}, listBomb("") + "periodics:\n- name: p\n  interval: 1h\n  pipeline_run_spec: *a8\n"},
		{"job config, merge keys into a job", "jobs/a.yaml", Options{JobConfigPath: "jobs"}, "x:\n" + indent(mergeBomb(), "  ") + "periodics:\n- <<: *m8\n  name: p\n"},
		{"plugins.yaml, a plugin's free-form section", "plugins.yaml", Options{PluginConfigPath: "plugins.yaml"}, listBomb("") + "release_note: *a8\n"},
		{"plugins.yaml, many entries merging a bomb", "plugins.yaml", Options{PluginConfigPath: "plugins.yaml"}, "x:\n" + indent(mergeBomb(), "  ") + "plugins:\n" + entries(200, "  org%d: {<<: *m8}\n")},
		{"plugins.yaml, entries as lists of lists", "plugins.yaml", Options{PluginConfigPath: "plugins.yaml"}, listBomb("") + "plugins:\n" + entries(200, "  org%d: *a8\n")},
		{"supplemental config", "supp/x_prowconfig.yaml", Options{SupplementalProwConfigDirs: []string{"supp"}}, listBomb("") + "deck: {spyglass: {lenses: [{lens: {name: x, config: *a8}}]}}\n"},
		{"supplemental plugin config", "psupp/x_pluginconfig.yaml", Options{SupplementalPluginConfigDirs: []string{"psupp"}}, listBomb("") + "release_note: *a8\n"},
		{"org.yaml", "orgs/o/org.yaml", Options{OrgConfigPaths: []string{"orgs"}}, mergeBomb()},
		{"teams.yaml", "orgs/o/teams.yaml", Options{OrgConfigPaths: []string{"orgs"}}, mergeBomb()},
		{"labels.yaml", "labels.yaml", Options{LabelsPath: "labels.yaml"}, mergeBomb()},
		{"OWNERS", "owners/OWNERS", Options{OwnersDir: "owners"}, mergeBomb()},
		{"OWNERS_ALIASES", "owners/OWNERS_ALIASES", Options{OwnersDir: "owners"}, mergeBomb()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{tt.file: file(tt.text)}
			if strings.HasPrefix(tt.file, "orgs/o/teams") {
				fsys["orgs/o/org.yaml"] = file("members: [a]\n")
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Load(context.Background(), fsys, tt.opts)
			runtime.ReadMemStats(&after)
			found := false
			for _, m := range messages(err) {
				found = found || strings.Contains(m, "expands too much through aliases") || strings.Contains(m, "too many problems in this file")
			}
			if !found {
				t.Fatalf("%d bytes of YAML were not refused for expanding; errors: %.2000q", len(tt.text), messages(err))
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("refusing %d bytes of YAML allocated %d MiB", len(tt.text), alloc>>20)
			}
		})
	}
}

func indent(s, by string) string {
	return by + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+by) + "\n"
}

func entries(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}
