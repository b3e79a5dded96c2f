package repoowners

import (
	"context"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/configset"
)

func TestSettingsFor(t *testing.T) {
	fsys := fstest.MapFS{
		"config.yaml": {Data: []byte(`
owners_dir_denylist:
  default: [docs]
  repos:
    acme: [third_party]
    acme/widgets: [generated]
`)},
		"plugins.yaml": {Data: []byte(`
owners:
  skip_collaborators: [acme/widgets]
  mdyamlrepos: [acme]
  filenames:
    acme: {owners: OWNERS.yaml}
    acme/special: {owners: MAINTAINERS, owners_aliases: TEAMS}
`)},
	}
	set, err := configset.Load(context.Background(), fsys, configset.Options{ConfigPath: "config.yaml", PluginConfigPath: "plugins.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	preset := []string{`\.git$`, `_output$`, `vendor/.*/.*`}
	tests := []struct {
		org, repo string
		want      Settings
	}{
		{"acme", "widgets", Settings{Filenames: Filenames{"OWNERS.yaml", "OWNERS_ALIASES"}, SkipCollaborators: true, MDYAML: true,
			DirDenylist: append([]string{"docs", "third_party", "generated"}, preset...)}},
		{"acme", "special", Settings{Filenames: Filenames{"MAINTAINERS", "TEAMS"}, MDYAML: true,
			DirDenylist: append([]string{"docs", "third_party"}, preset...)}},
		{"other", "repo", Settings{Filenames: DefaultFilenames, DirDenylist: append([]string{"docs"}, preset...)}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, SettingsFor(set, tc.org, tc.repo)); diff != "" {
			t.Errorf("%s/%s (-want +got):\n%s", tc.org, tc.repo, diff)
		}
	}
	// ignore_preconfigured_defaults drops the preset list.
	fsys["config.yaml"] = &fstest.MapFile{Data: []byte("owners_dir_denylist:\n  ignore_preconfigured_defaults: true\n")}
	if set, err = configset.Load(context.Background(), fsys, configset.Options{ConfigPath: "config.yaml"}); err != nil {
		t.Fatal(err)
	}
	if got := SettingsFor(set, "acme", "widgets").DirDenylist; len(got) != 0 {
		t.Errorf("denylist %q, want none", got)
	}
}

// TestCustomFilenames reads OWNERS under other names.
func TestCustomFilenames(t *testing.T) {
	t.Parallel()
	fx := startForge(t, map[string]string{
		"MAINTAINERS":     "approvers: [team]\n",
		"sub/MAINTAINERS": "approvers: [bob]\n",
		"sub/OWNERS":      "approvers: [maggie]\n",
		"TEAMS":           "aliases:\n  team: [alice, carl]\n",
	})
	s := Settings{Filenames: Filenames{Owners: "MAINTAINERS", OwnersAliases: "TEAMS"}}
	o, err := NewClient().Load(context.Background(), fx.gh, "org", "repo", "main", s)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Approvers("sub/x").Set(); !slices.Equal(got, []string{"alice", "bob", "carl"}) {
		t.Errorf("approvers %q", got)
	}
	if o.Filenames() != s.Filenames {
		t.Errorf("filenames %+v", o.Filenames())
	}
}
