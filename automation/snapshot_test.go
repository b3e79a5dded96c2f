package automation_test

import (
	"slices"
	"testing"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/snapshot"
)

func TestPluginsFromSnapshot(t *testing.T) {
	var store snapshot.Store
	src := automation.PluginsFromSnapshot(&store)
	if src.Enablement() != nil {
		t.Fatal("enablement before any revision is applied")
	}
	rev := func(p plugins.Plugins) *snapshot.Snapshot {
		return &snapshot.Snapshot{Revision: "r", Config: &configset.Set{Plugins: &plugins.Config{Plugins: p}}}
	}
	store.Set(rev(plugins.Plugins{
		"acme":         {Plugins: []string{"trigger", "hold"}, ExcludedRepos: []string{"secret"}},
		"acme/widgets": {Plugins: []string{"size"}},
	}))
	tests := []struct {
		org, repo string
		want      []string
	}{
		{"acme", "widgets", []string{"hold", "size", "trigger"}},
		{"acme", "other", []string{"hold", "trigger"}},
		{"acme", "secret", nil},
		{"elsewhere", "x", nil},
	}
	for _, tc := range tests {
		if got := src.Enablement().EnabledPlugins(tc.org, tc.repo); !slices.Equal(got, tc.want) {
			t.Errorf("%s/%s: %v, want %v", tc.org, tc.repo, got, tc.want)
		}
	}
	// A new revision applies at the next event.
	store.Set(rev(plugins.Plugins{"acme": {Plugins: []string{"lgtm"}}}))
	if got := src.Enablement().EnabledPlugins("acme", "widgets"); !slices.Equal(got, []string{"lgtm"}) {
		t.Errorf("after a new revision: %v", got)
	}
}

// TestExternalPluginsFromSnapshot: external_plugins of the org and of the
// repository, the org's first, as Prow's hook merges them.
func TestExternalPluginsFromSnapshot(t *testing.T) {
	var store snapshot.Store
	cfg := &plugins.Config{ExternalPlugins: map[string][]plugins.ExternalPlugin{
		"acme":        {{Name: "needs-rebase", Endpoint: "http://needs-rebase", Events: []string{"pull_request"}}},
		"acme/rocket": {{Name: "cherrypicker", Endpoint: "http://cherrypicker"}},
	}}
	store.Set(&snapshot.Snapshot{Revision: "r", Config: &configset.Set{Plugins: cfg}})
	src := automation.PluginsFromSnapshot(&store).Enablement().(automation.ExternalPlugins)
	var got []string
	for _, ep := range src.ExternalPluginsFor("acme", "rocket") {
		got = append(got, ep.Name+"@"+ep.Endpoint)
	}
	if !slices.Equal(got, []string{"needs-rebase@http://needs-rebase", "cherrypicker@http://cherrypicker"}) {
		t.Errorf("acme/rocket: %v", got)
	}
	if eps := src.ExternalPluginsFor("acme", ""); len(eps) != 1 || eps[0].Events[0] != "pull_request" {
		t.Errorf("org events: %+v", eps)
	}
}
