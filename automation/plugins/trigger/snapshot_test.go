package trigger_test

import (
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/snapshot"
)

func TestFromSnapshot(t *testing.T) {
	var store snapshot.Store
	set := &configset.Set{
		Config: &prowconfig.Config{ProwJobNamespace: "prow-jobs"},
		Jobs: &jobs.Config{
			Presubmits:  map[string][]jobs.Presubmit{repo: {presubmit("unit", always)}},
			Postsubmits: map[string][]jobs.Postsubmit{repo: {postsubmit("deploy", nil)}},
		},
		Plugins: &plugins.Config{Triggers: []plugins.Trigger{{Repos: []string{"acme"}, OnlyOrgMembers: true}}},
	}
	if trigger.FromSnapshot(&store, "").TriggerConfig("acme", "widgets") != nil {
		t.Fatal("config before any revision is applied")
	}
	store.Set(&snapshot.Snapshot{Config: set})
	cfg := trigger.FromSnapshot(&store, "").TriggerConfig("acme", "widgets")
	if cfg == nil || len(cfg.Presubmits) != 1 || len(cfg.Postsubmits) != 1 || !cfg.Trigger.OnlyOrgMembers || cfg.Namespace != "prow-jobs" {
		t.Errorf("config %+v", cfg)
	}
	if cfg := trigger.FromSnapshot(&store, "override").TriggerConfig("acme", "widgets"); cfg.Namespace != "override" {
		t.Errorf("namespace %q", cfg.Namespace)
	}
	if cfg := trigger.FromSnapshot(&store, "").TriggerConfig("other", "repo"); len(cfg.Presubmits) != 0 || cfg.Trigger.OnlyOrgMembers {
		t.Errorf("other repo %+v", cfg)
	}
}
