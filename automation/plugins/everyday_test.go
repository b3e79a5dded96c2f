package plugins_test

import (
	"slices"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins"
	schema "github.com/bowline-ci/bowline/schema/plugins"
)

// Every plugin has a name plugins.yaml knows, and help with a description
// and commands documented in full, from which the plugin reference is
// generated.
func TestEveryPluginIsKnownAndDocumented(t *testing.T) {
	all := plugins.All(plugins.Deps{})
	if _, err := plugin.NewSet(all...); err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if !slices.Contains(schema.Known, p.Name()) {
			t.Errorf("%s is not a plugin name plugins.yaml accepts", p.Name())
		}
		h := p.Help()
		if h.Description == "" {
			t.Errorf("%s: no description", p.Name())
		}
		for _, c := range h.Commands {
			if c.Usage == "" || c.Description == "" || c.WhoCanUse == "" || len(c.Examples) == 0 {
				t.Errorf("%s: command %q is not fully documented: %+v", p.Name(), c.Usage, c)
			}
		}
	}
}
