package plugins_test

import (
	"slices"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins"
	"github.com/bowline-ci/bowline/schema/configset"
)

// TestRunningPluginsAreSupported: a plugin bowline runs is not listed as
// not supported yet. Whoever adds a plugin removes its name from
// schema/configset/unsupported.go.
func TestRunningPluginsAreSupported(t *testing.T) {
	unsupported := configset.NotSupportedPlugins()
	for _, p := range plugins.All(plugins.Deps{}) {
		if slices.Contains(unsupported, p.Name()) {
			t.Errorf("plugin %q runs, but schema/configset/unsupported.go lists it as not supported yet", p.Name())
		}
	}
}
